//! The Neon routes tooling calls around private networking, over real HTTP on both
//! databases: listing projects with a personal key (Neon's "org_id is required", which
//! neonctl recognises) and with an organization key, the shared-projects list neonctl asks
//! for next, and renaming a project with `PATCH /projects/{id}` — checked before anything is
//! written, admins only, audited.

use crate::common;

use app::domain::{Plan, Role};
use common::{spawn_app, TestApp, TestDb};
use serde_json::{json, Value};

async fn call(
    app: &TestApp,
    key: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/v2{path}")));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn projects_are_listed_as_neon_tooling_expects(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app(&db).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let org_key = given.org_key(&org, "automation").await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;

    // A personal key may be in several organizations: Neon's words, which neonctl knows.
    let (status, body) = call(&app, Some(&admin.api_key), Method::GET, "/projects", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("org_id is required"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::GET,
        &format!("/projects?org_id={org}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["projects"][0]["id"], project.as_str(), "{body}");
    // An organization key needs none.
    let (status, body) = call(&app, Some(&org_key), Method::GET, "/projects", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["projects"].as_array().unwrap().len(), 1, "{body}");

    // Nothing is shared outside organizations; the list is there, empty, for any key.
    for key in [&admin.api_key, &org_key] {
        let (status, body) = call(
            &app,
            Some(key),
            Method::GET,
            "/projects/shared?limit=400",
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"projects": []}));
    }
    let (status, body) = call(
        &app,
        Some(&org_key),
        Method::GET,
        "/projects/shared?limit=0",
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("limit"),
        "{body}"
    );
    let (status, _) = call(&app, None, Method::GET, "/projects/shared", None).await;
    assert_eq!(status, 401);
}

async fn a_project_is_renamed_by_patch(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app(&db).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let member = given.member(&org, "max@acme.test", Role::Member).await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    let path = format!("/projects/{project}");
    async fn get(app: &TestApp, key: &str, path: &str) -> Value {
        call(app, Some(key), reqwest::Method::GET, path, None)
            .await
            .1
    }

    // A bad name changes nothing, not even the settings sent with it.
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::PATCH,
        &path,
        Some(json!({"project": {"name": "  ", "settings": {"block_public_connections": true}}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("project.name"),
        "{body}"
    );
    let now = get(&app, &admin.api_key, &path).await;
    assert_eq!(now["project"]["name"], "web");
    assert_eq!(
        now["project"]["settings"]["block_public_connections"],
        false
    );
    // Settings Enclave does not keep are refused by name.
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::PATCH,
        &path,
        Some(json!({"project": {"pg_version": 17}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("pg_version"),
        "{body}"
    );
    // Members may not rename.
    let (status, body) = call(
        &app,
        Some(&member.api_key),
        Method::PATCH,
        &path,
        Some(json!({"project": {"name": "mine"}})),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::PATCH,
        &path,
        Some(json!({"project": {"name": "storefront"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["project"]["name"], "storefront", "{body}");
    assert_eq!(
        get(&app, &admin.api_key, &path).await["project"]["name"],
        "storefront"
    );
    // Name and settings together.
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::PATCH,
        &path,
        Some(json!({"project": {"name": "storefront-eu", "settings": {"block_vpc_connections": false}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["project"]["name"], "storefront-eu", "{body}");

    // Audited with before and after.
    let (_, activity) = call(
        &app,
        Some(&admin.api_key),
        Method::GET,
        &format!("/organizations/{org}/activity?project_id={project}"),
        None,
    )
    .await;
    let renames: Vec<&Value> = activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "project.rename")
        .collect();
    assert_eq!(renames.len(), 2, "{activity}");
    assert_eq!(renames[1]["before"]["name"], "web", "{activity}");
    assert_eq!(renames[1]["after"]["name"], "storefront", "{activity}");
}

on_both_backends!(
    projects_are_listed_as_neon_tooling_expects,
    a_project_is_renamed_by_patch,
);
