//! The HTTP surface over real sockets: probes, request ids, the SSR console and its server
//! function, on both databases.

use crate::common;

use common::{spawn_app, TestDb};
use enclave::store::NewOrganization;

async fn healthz_answers_without_the_database(db: TestDb) {
    let app = spawn_app(&db).await;
    app.store.close().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn readyz_reflects_the_database(db: TestDb) {
    let app = spawn_app(&db).await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["database"],
        serde_json::to_value(app.store.backend()).unwrap()
    );

    // With the pool closed the database is unreachable: not ready, and no detail leaked.
    app.store.close().await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
}

async fn every_response_carries_a_request_id(db: TestDb) {
    let app = spawn_app(&db).await;
    for path in ["/healthz", "/", "/nowhere"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
    }
    // A well-formed id from the caller is kept, so a request can be followed across hops.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a.42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a.42");
    // Anything odd is replaced rather than trusted into the logs.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

async fn overview_page_renders_store_data(db: TestDb) {
    let app = spawn_app(&db).await;
    app.store
        .insert_organization(
            &NewOrganization {
                id: "org-bold-bonus-12345678",
                name: "Acme",
                plan: "scale",
            },
            &common::audit(),
        )
        .await
        .unwrap();
    // An operator's page: the store's data, rendered in place.
    let operator = common::given(&app).operator("op@enclave.test").await;
    let operator = common::given(&app).session(&operator).await;
    let res = app
        .client
        .get(app.url("/"))
        .header("cookie", format!("enclave_session={operator}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("<title>Overview · Enclave</title>"), "{html}");
    assert!(html.contains(app.store.backend().display_name()), "{html}");
    assert!(
        html.contains(r#"<dd data-testid="organizations">1</dd>"#),
        "{html}"
    );
    // Complete HTML without JavaScript: the data is in place, not a loading placeholder.
    assert!(!html.contains("Reading status…"), "{html}");
    // The hydration script for the wasm bundle is referenced.
    assert!(html.contains("/pkg/enclave.js"), "{html}");
    // A stranger's page says the control plane answers, and nothing about its insides.
    let html = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("The control plane and its database are answering."),
        "{html}"
    );
    assert!(!html.contains(app.store.backend().display_name()), "{html}");
    assert!(!html.contains(r#"data-testid="organizations""#), "{html}");
}

async fn server_function_returns_fresh_status(db: TestDb) {
    let app = spawn_app(&db).await;
    let operator = common::given(&app).operator("op@enclave.test").await;
    let operator = common::given(&app).session(&operator).await;
    let call = |session: Option<String>| {
        let app = &app;
        async move {
            // A read: a GET, which needs no CSRF token.
            let request = app
                .client
                .get(app.url("/fn/system_status"))
                .header("accept", "application/json");
            let request = match session {
                Some(s) => request.header("cookie", format!("enclave_session={s}")),
                None => request,
            };
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(
        call(Some(operator.clone())).await["detail"]["organizations"],
        0
    );
    app.store
        .insert_organization(
            &NewOrganization {
                id: "org-calm-river-87654321",
                name: "Beta",
                plan: "free",
            },
            &common::audit(),
        )
        .await
        .unwrap();
    assert_eq!(
        call(Some(operator.clone())).await["detail"]["organizations"],
        1
    );
    // Anyone else learns only that it answers: no engine, schema, counts or version.
    let anonymous = call(None).await;
    assert_eq!(
        anonymous,
        serde_json::json!({"database_reachable": true, "detail": null})
    );
    let person = common::given(&app).person("ada@acme.test").await;
    let person = common::given(&app).session(&person).await;
    assert_eq!(call(Some(person)).await, anonymous);
}

async fn unknown_pages_are_404(db: TestDb) {
    let app = spawn_app(&db).await;
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}

async fn every_response_has_strict_security_headers(db: TestDb) {
    let app = spawn_app(&db).await;
    for path in [
        "/",
        "/healthz",
        "/api/v2/users/me/organizations",
        "/nowhere",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        if path.starts_with("/api/") {
            // JSON loads and runs nothing.
            assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{path}");
        } else {
            assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        }
    }
    // The page's inline hydration script carries this response's nonce, and only it.
    let res = app.client.get(app.url("/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let html = res.text().await.unwrap();
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        inline_scripts,
        "{html}"
    );
    let again = app.client.get(app.url("/")).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

/// The bundle under /pkg: the precompressed copy for a browser that accepts it, the file
/// itself otherwise, revalidated (the names of a test build carry no hashes), never a cookie.
async fn the_bundle_is_served_precompressed_without_cookies(db: TestDb) {
    let site = std::env::temp_dir().join(format!("enclave-site-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/enclave.css"), "body { color: black }").unwrap();
    std::fs::write(site.join("pkg/enclave.css.br"), b"brotli bytes").unwrap();
    std::fs::write(site.join("pkg/enclave.css.gz"), b"gzip bytes").unwrap();
    let mut config = common::serve_config(&db, &[]);
    config.site_root = site.to_str().unwrap().to_string();
    let app = common::spawn_app_configured(&db, config, enclave::services::Clock::system()).await;
    let get = |encoding: Option<&'static str>| {
        let mut req = app.client.get(app.url("/pkg/enclave.css"));
        if let Some(e) = encoding {
            req = req.header(reqwest::header::ACCEPT_ENCODING, e);
        }
        req.send()
    };
    for (accept, encoding, body) in [
        (Some("br, gzip"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "body { color: black }"),
    ] {
        let res = get(accept).await.unwrap();
        assert_eq!(res.status(), 200);
        let h = res.headers();
        assert_eq!(
            h.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(h["content-type"], "text/css");
        assert_eq!(h["cache-control"], "no-cache");
        assert!(
            h.get("set-cookie").is_none(),
            "a cacheable file carries no cookie"
        );
        assert_eq!(res.bytes().await.unwrap(), body.as_bytes());
    }
    let missing = app
        .client
        .get(app.url("/pkg/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let _ = std::fs::remove_dir_all(site);
}

on_both_backends!(
    the_bundle_is_served_precompressed_without_cookies,
    every_response_has_strict_security_headers,
    healthz_answers_without_the_database,
    readyz_reflects_the_database,
    every_response_carries_a_request_id,
    overview_page_renders_store_data,
    server_function_returns_fresh_status,
    unknown_pages_are_404,
);
