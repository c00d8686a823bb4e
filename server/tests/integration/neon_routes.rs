//! The Neon routes tooling calls around private networking, over real HTTP on both
//! databases: listing projects with a personal key (Neon's "org_id is required", which
//! neonctl recognises) and with an organization key, the shared-projects list neonctl asks
//! for next, and renaming a project with `PATCH /projects/{id}` — checked before anything is
//! written, admins only, audited; and API keys managed by number, personal and
//! organization, as neonctl's `api-keys` commands do.

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

async fn api_keys_are_managed_by_number(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app(&db).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let member = given.member(&org, "max@acme.test", Role::Member).await;
    let org_key = given.org_key(&org, "automation").await;
    let works = |key: String| {
        let app = &app;
        async move {
            call(
                app,
                Some(&key),
                Method::GET,
                "/users/me/organizations",
                None,
            )
            .await
            .0 == 200
        }
    };

    // A person mints a personal key with their own key (as `neonctl api-keys create`).
    let (status, made) = call(
        &app,
        Some(&admin.api_key),
        Method::POST,
        "/api_keys",
        Some(json!({"key_name": "ci"})),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let number = made["id"].as_i64().unwrap();
    assert!(number > 0 && number <= 1 << 53, "{made}");
    assert_eq!(made["name"], "ci");
    assert_eq!(made["created_by"], admin.user_id.as_str());
    let secret = made["key"].as_str().unwrap().to_string();
    assert!(works(secret.clone()).await);

    // Listed by number, with who made it and where it was last used from.
    let (status, list) = call(&app, Some(&secret), Method::GET, "/api_keys", None).await;
    assert_eq!(status, 200, "{list}");
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == number)
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(listed["created_by"]["id"], admin.user_id.as_str(), "{list}");
    assert_eq!(listed["created_by"]["name"], "ada@acme.test", "{list}");
    assert_eq!(listed["last_used_from_addr"], "127.0.0.1", "{list}");
    assert!(
        listed.get("key").is_none(),
        "secrets are never listed: {list}"
    );

    // A key made with a short-lived key lives no longer than it.
    let soon = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, short) = call(
        &app,
        Some(&admin.api_key),
        Method::POST,
        "/api_keys",
        Some(json!({"key_name": "short", "expires_at": soon})),
    )
    .await;
    assert_eq!(status, 200, "{short}");
    let short_secret = short["key"].as_str().unwrap();
    let (status, child) = call(
        &app,
        Some(short_secret),
        Method::POST,
        "/api_keys",
        Some(json!({"key_name": "child"})),
    )
    .await;
    assert_eq!(status, 200, "{child}");
    assert_eq!(child["expires_at"], short["expires_at"], "{child}");
    let later = (chrono::Utc::now() + chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, body) = call(
        &app,
        Some(short_secret),
        Method::POST,
        "/api_keys",
        Some(json!({"key_name": "longer", "expires_at": later})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("cannot outlive"),
        "{body}"
    );

    // Bad input names the field and changes nothing.
    for (body, field) in [
        (json!({"key_name": ""}), "key_name"),
        (
            json!({"key_name": "x", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (json!({"key_name": "x", "pg_version": 17}), "pg_version"),
    ] {
        let (status, answer) = call(
            &app,
            Some(&admin.api_key),
            Method::POST,
            "/api_keys",
            Some(body),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::DELETE,
        "/api_keys/key-abc",
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("number"),
        "{body}"
    );

    // Revoked at once; a second revoke says so; the key no longer works.
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::DELETE,
        &format!("/api_keys/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], number);
    assert_eq!(body["revoked"], true);
    assert!(!works(secret).await);
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::DELETE,
        &format!("/api_keys/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Organization keys: admins and the organization's own keys; no project scopes.
    let (status, body) = call(
        &app,
        Some(&org_key),
        Method::POST,
        &format!("/organizations/{org}/api_keys"),
        Some(json!({"key_name": "deploy", "project_id": "some-project"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("project_id"),
        "{body}"
    );
    let (status, made) = call(
        &app,
        Some(&org_key),
        Method::POST,
        &format!("/organizations/{org}/api_keys"),
        Some(json!({"key_name": "deploy"})),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let org_number = made["id"].as_i64().unwrap();
    assert!(made.get("project_id").is_none(), "{made}");
    let (status, body) = call(
        &app,
        Some(&member.api_key),
        Method::POST,
        &format!("/organizations/{org}/api_keys"),
        Some(json!({"key_name": "mine"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(
        &app,
        Some(&member.api_key),
        Method::GET,
        &format!("/organizations/{org}/api_keys"),
        None,
    )
    .await;
    assert_eq!(
        status, 404,
        "members learn nothing about the organization's keys"
    );
    let (status, list) = call(
        &app,
        Some(&admin.api_key),
        Method::GET,
        &format!("/organizations/{org}/api_keys"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == org_number),
        "{list}"
    );
    // An organization key has no personal keys; each route finds only its own kind.
    let (status, body) = call(&app, Some(&org_key), Method::GET, "/api_keys", None).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::DELETE,
        &format!("/api_keys/{org_number}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/organizations/"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        Some(&admin.api_key),
        Method::DELETE,
        &format!("/organizations/{org}/api_keys/{org_number}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], true);

    // At most 100 live keys per owner, counted under the owner's lock.
    let mut made = Vec::new();
    loop {
        let (status, body) = call(
            &app,
            Some(&org_key),
            Method::POST,
            &format!("/organizations/{org}/api_keys"),
            Some(json!({"key_name": format!("bulk-{}", made.len())})),
        )
        .await;
        if status != 200 {
            assert_eq!(status, 422, "{body}");
            assert_eq!(body["code"], "too_many_api_keys", "{body}");
            break;
        }
        made.push(body["id"].as_i64().unwrap());
        assert!(made.len() < 100, "the limit was never reached");
    }
    // `automation` and the bulk keys make 100 live ones.
    assert_eq!(made.len(), 99);
    let (status, _) = call(
        &app,
        Some(&org_key),
        Method::DELETE,
        &format!("/organizations/{org}/api_keys/{}", made[0]),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &app,
        Some(&org_key),
        Method::POST,
        &format!("/organizations/{org}/api_keys"),
        Some(json!({"key_name": "after a revoke"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

on_both_backends!(
    projects_are_listed_as_neon_tooling_expects,
    a_project_is_renamed_by_patch,
    api_keys_are_managed_by_number,
);
