//! An organization's activity on both databases: the REST extension (filters, pages, before →
//! after, the request id of the call that made each change, refusals naming the field), the
//! console's Activity page and its CSV export, and console changes carrying their request id.

use crate::common;

use app::domain::{Plan, Role};
use common::{spawn_app, TestDb};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const E1: &str = "vpce-0123456789abcdef0";
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn get_json(app: &common::TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

/// A console address, fetched as a browser signed in with `session` would.
async fn signed_in_get(app: &common::TestApp, session: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header::COOKIE, format!("enclave_session={session}"))
        .send()
        .await
        .unwrap()
}

async fn an_organizations_changes_are_listed_filtered_and_exported(db: TestDb) {
    let app = spawn_app(&db).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let member = given.member(&org, "max@acme.test", Role::Member).await;
    let outsider = given.person("eve@other.test").await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    let other_project = given.project(&org, "batch", "aws-us-east-2").await.id;

    // Three changes through the API, each with a request id of the caller's choosing.
    let send = |req: reqwest::RequestBuilder, id: &str| {
        req.bearer_auth(&admin.api_key)
            .header("x-request-id", id)
            .send()
    };
    let res = send(
        app.client
            .post(app.url(&format!(
                "/api/v2/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"
            )))
            .json(&json!({"label": "eks"})),
        "req-assign-1",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = send(
        app.client
            .patch(app.url(&format!("/api/v2/projects/{project}")))
            .json(&json!({"project": {"settings": {"block_public_connections": true}}})),
        "req-block-2",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = send(
        app.client
            .patch(app.url(&format!("/api/v2/projects/{other_project}")))
            .json(&json!({"project": {"settings": {"allowed_ips": {"ips": ["203.0.113.0/24"]}}}})),
        "req-ips-3",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);

    // Newest first, with actor, before → after and the request id.
    let base = format!("/api/v2/organizations/{org}/activity");
    let (status, body) = get_json(&app, &member.api_key, &base).await;
    assert_eq!(status, 200, "{body}");
    let entries = body["activity"].as_array().unwrap();
    let block = entries
        .iter()
        .find(|e| e["request_id"] == "req-block-2")
        .expect("the block is listed");
    assert_eq!(block["action"], "project.settings");
    assert_eq!(block["actor"], "personal key of ada@acme.test");
    assert_eq!(block["actor_kind"], "api_key");
    assert_eq!(block["project_id"], project.as_str());
    assert_eq!(block["before"]["block_public_connections"], false);
    assert_eq!(block["after"]["block_public_connections"], true);
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // Filters: by project, by endpoint, by actor.
    let (_, by_project) = get_json(
        &app,
        &admin.api_key,
        &format!("{base}?project_id={project}"),
    )
    .await;
    let by_project = by_project["activity"].as_array().unwrap();
    assert!(!by_project.is_empty());
    assert!(by_project
        .iter()
        .all(|e| e["project_id"] == project.as_str()));
    assert!(!by_project.iter().any(|e| e["request_id"] == "req-ips-3"));
    let (_, by_endpoint) = get_json(
        &app,
        &admin.api_key,
        &format!("{base}?vpc_endpoint_id={E1}"),
    )
    .await;
    let actions: Vec<&str> = by_endpoint["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["vpc_endpoint.assign"]);
    let (_, by_actor) = get_json(
        &app,
        &admin.api_key,
        &format!("{base}?actor=nobody@acme.test"),
    )
    .await;
    assert_eq!(by_actor["activity"], json!([]));
    let (_, by_ada) = get_json(&app, &admin.api_key, &format!("{base}?actor=ada@acme.test")).await;
    assert_eq!(by_ada["activity"].as_array().unwrap().len(), 3);

    // Pages: one at a time, each continuing below the last.
    let (_, first) = get_json(&app, &admin.api_key, &format!("{base}?limit=1")).await;
    let cursor = first["pagination"]["cursor"].as_i64().expect("a next page");
    let (_, second) = get_json(
        &app,
        &admin.api_key,
        &format!("{base}?limit=1&cursor={cursor}"),
    )
    .await;
    assert!(second["activity"][0]["id"].as_i64().unwrap() < cursor + 1);
    assert_ne!(first["activity"][0]["id"], second["activity"][0]["id"]);

    // Refusals name the field and change nothing; outsiders learn nothing.
    for (query, field) in [
        ("vpc_endpoint_id=nope", "vpc_endpoint_id"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("cursor=x", "cursor"),
        ("project_id=BAD%20ID", "project_id"),
    ] {
        let (status, body) = get_json(&app, &admin.api_key, &format!("{base}?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let (status, _) = get_json(&app, &outsider.api_key, &base).await;
    assert_eq!(status, 404);

    // The console: a change made there carries its request id too.
    let session = given.session(&admin).await;
    let cookies = format!("enclave_csrf={CSRF}; enclave_session={session}");
    let csrf = enclave::http::console::csrf::session_bound_token(&session);
    let res = app
        .client
        .post(app.url("/fn/set_public_access"))
        .header(header::COOKIE, &cookies)
        .header(header::ACCEPT, "application/json")
        .header("x-request-id", "req-console-4")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("project_id", project.as_str()),
            ("block", "false"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    let (_, latest) = get_json(&app, &admin.api_key, &format!("{base}?limit=1")).await;
    assert_eq!(
        latest["activity"][0]["request_id"], "req-console-4",
        "{latest}"
    );
    assert_eq!(
        latest["activity"][0]["after"]["block_public_connections"],
        false
    );

    // The Activity page, as a member sees it, filtered by project.
    let member_session = given.session(&member).await;
    let page = signed_in_get(
        &app,
        &member_session,
        &format!("/orgs/{org}/activity?project_id={project}"),
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("req-block-2"), "the page lists the block");
    assert!(html.contains("req-console-4"));
    assert!(
        !html.contains("req-ips-3"),
        "another project's change is filtered out"
    );

    // The CSV export: the same filter, every column, as a download.
    let csv = signed_in_get(
        &app,
        &member_session,
        &format!("/orgs/{org}/activity.csv?vpc_endpoint_id={E1}"),
    )
    .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], app::domain::activity::ACTIVITY_CSV_HEADER);
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains("vpc_endpoint.assign") && lines[1].contains("req-assign-1"));

    // Outsiders and bad filters get clear refusals; nobody signed in is sent to sign in.
    let outsider_session = given.session(&outsider).await;
    let refused = signed_in_get(
        &app,
        &outsider_session,
        &format!("/orgs/{org}/activity.csv"),
    )
    .await;
    assert_eq!(refused.status(), 404);
    let bad = signed_in_get(
        &app,
        &member_session,
        &format!("/orgs/{org}/activity.csv?vpc_endpoint_id=nope"),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("vpc_endpoint_id"));
    let anonymous = app
        .client
        .get(app.url(&format!("/orgs/{org}/activity.csv")))
        .send()
        .await
        .unwrap();
    assert!(anonymous.status().is_redirection());
    let page = signed_in_get(&app, &outsider_session, &format!("/orgs/{org}/activity")).await;
    assert_eq!(page.status(), 404);
}

on_both_backends!(an_organizations_changes_are_listed_filtered_and_exported);
