//! Rolling upgrades: migrating is an explicit step, a binary refuses a schema behind it, and
//! a binary one release older keeps serving a schema one migration newer. The real binary,
//! both databases.

use crate::common;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use app::domain::Plan;
use common::{given, spawn_app, ServerProcess, TestDb};
use serde_json::{json, Value};

struct Exit {
    code: i32,
    stderr: String,
}

/// Runs `enclave <args>` on the test's database; a command still running after 30 s fails
/// the test (a `serve` that should have refused to start, say).
fn enclave(db: &TestDb, args: &[&str]) -> Exit {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enclave"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("ENCLAVE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run enclave");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return Exit {
                code: out.status.code().unwrap_or(-1),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("`enclave {}` was still running after 30 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn a_schema_behind_the_binary_is_refused_until_migrated(db: TestDb) {
    // A database nothing has migrated: serving and operator commands refuse, naming the step.
    let serve = enclave(&db, &["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(serve.code, 1, "{}", serve.stderr);
    assert!(
        serve.stderr.contains("behind this binary") && serve.stderr.contains("enclave migrate"),
        "{}",
        serve.stderr
    );
    let list = enclave(&db, &["provider", "status"]);
    assert_eq!(list.code, 1, "{}", list.stderr);
    assert!(list.stderr.contains("enclave migrate"), "{}", list.stderr);

    // The explicit step, twice (the second has nothing to do).
    for _ in 0..2 {
        let migrate = enclave(&db, &["migrate"]);
        assert_eq!(migrate.code, 0, "{}", migrate.stderr);
    }
    assert_eq!(enclave(&db, &["provider", "status"]).code, 0);
    drop(ServerProcess::start(&db, &[]).await);

    // A migration applied with other contents than this binary's is not served.
    let tamper = if db.is_postgres() {
        "UPDATE _sqlx_migrations SET checksum = decode('00', 'hex') WHERE version = 1"
    } else {
        "UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 1"
    };
    db.execute(tamper).await;
    let list = enclave(&db, &["provider", "status"]);
    assert_eq!(list.code, 1, "{}", list.stderr);
    assert!(
        list.stderr.contains("different contents"),
        "{}",
        list.stderr
    );
}

/// What the next release's migration might do: a defaulted column on a table this binary
/// writes, and a table it does not know.
async fn apply_a_newer_migration(db: &TestDb) -> i64 {
    let newest = db
        .count("SELECT MAX(version) FROM _sqlx_migrations", &[])
        .await;
    let next = newest + 1;
    let checksum = if db.is_postgres() {
        "decode('00', 'hex')"
    } else {
        "X'00'"
    };
    db.execute(&format!(
        "ALTER TABLE vpc_endpoint_assignments ADD COLUMN future_note TEXT NOT NULL DEFAULT 'n/a'; \
         CREATE TABLE future_things (id TEXT PRIMARY KEY); \
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({next}, 'from the next release', TRUE, {checksum}, 0)"
    ))
    .await;
    next
}

async fn an_older_binary_serves_a_schema_one_migration_newer(db: TestDb) {
    let app = spawn_app(&db).await;
    let g = given(&app);
    let org = g.org("Rolling", Plan::Scale).await;
    let key = g.org_key(&org, "upgrade").await;
    let project = g.project(&org, "web", "aws-us-east-2").await.id;
    let newer = apply_a_newer_migration(&db).await;

    // This binary's `migrate` leaves the newer schema alone instead of failing.
    let migrate = enclave(&db, &["migrate"]);
    assert_eq!(migrate.code, 0, "{}", migrate.stderr);
    assert_eq!(
        db.count("SELECT MAX(version) FROM _sqlx_migrations", &[])
            .await,
        newer
    );
    assert!(matches!(
        app.store.check_schema().await.unwrap(),
        enclave::store::SchemaCheck::Ahead { version, .. } if version == newer
    ));

    // It serves (with and without --migrate), reads and writes.
    for flags in [&[][..], &["--migrate"][..]] {
        let server = ServerProcess::start(&db, flags).await;
        let client = reqwest::Client::new();
        let call = |method: reqwest::Method, path: String, body: Option<Value>| {
            let request = client
                .request(method, format!("{}/api/v2{path}", server.base))
                .bearer_auth(&key);
            let request = match body {
                Some(body) => request.json(&body),
                None => request,
            };
            async move {
                let answer = request.send().await.unwrap();
                let status = answer.status();
                let text = answer.text().await.unwrap();
                assert_eq!(status, 200, "{path}: {text}");
                serde_json::from_str::<Value>(&text).unwrap()
            }
        };
        let endpoint = if flags.is_empty() {
            "vpce-0123456789abcdef0"
        } else {
            "vpce-0123456789abcdef1"
        };
        call(
            reqwest::Method::POST,
            format!("/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/{endpoint}"),
            Some(json!({"label": "after the upgrade"})),
        )
        .await;
        call(
            reqwest::Method::PATCH,
            format!("/projects/{project}"),
            Some(json!({"project": {"settings": {"block_vpc_connections": false}}})),
        )
        .await;
        let listed = call(
            reqwest::Method::GET,
            format!("/organizations/{org}/vpc/vpc_endpoints"),
            None,
        )
        .await;
        assert!(listed.to_string().contains(endpoint), "{listed}");
        let page = client
            .get(format!("{}/sign-in", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(enclave(&db, &["provider", "status"]).code, 0);
    }
    // The newer release's column got its default for the rows this binary wrote.
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM vpc_endpoint_assignments WHERE future_note = 'n/a'",
            &[]
        )
        .await,
        2
    );
}

on_both_backends!(
    a_schema_behind_the_binary_is_refused_until_migrated,
    an_older_binary_serves_a_schema_one_migration_newer,
);
