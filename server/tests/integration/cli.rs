//! The operator CLI as a script would use it: the real `enclave` binary, `--output json`,
//! exit codes, and a created key working against the API, on both databases.

use crate::common;

use std::{
    io::Write,
    process::{Command, Stdio},
};

use common::{spawn_app, TestDb};
use serde_json::{json, Value};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn enclave(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enclave"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("ENCLAVE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run enclave");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `enclave migrate`: the explicit step before operator commands on a new database.
fn migrated(db: &TestDb) {
    let run = enclave(db, &["migrate"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn json(run: &Run) -> Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|_| panic!("not JSON: {}", run.stdout))
}

async fn an_operator_sets_up_an_organization_from_a_script(db: TestDb) {
    migrated(&db);
    let org = json(&enclave(
        &db,
        &[
            "org", "create", "--name", "Acme", "--plan", "scale", "--output", "json",
        ],
        None,
    ));
    let org_id = org["id"].as_str().unwrap().to_string();
    assert!(org_id.starts_with("org-"), "{org_id}");
    assert_eq!(org["plan"], "scale");

    let user = json(&enclave(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Ada@Acme.test",
            "--output",
            "json",
        ],
        Some("correct horse battery staple\n"),
    ));
    assert_eq!(user["email"], "ada@acme.test");
    json(&enclave(
        &db,
        &[
            "org",
            "add-member",
            "--org",
            &org_id,
            "--email",
            "ada@acme.test",
            "--role",
            "admin",
            "--output",
            "json",
        ],
        None,
    ));
    let project = json(&enclave(
        &db,
        &[
            "project",
            "create",
            "--org",
            &org_id,
            "--name",
            "web",
            "--region",
            "aws-us-east-2",
            "--output",
            "json",
        ],
        None,
    ));
    assert!(project["hostname"]
        .as_str()
        .unwrap()
        .contains(".us-east-2.aws."));

    // Text output is just the key, once.
    let key = enclave(
        &db,
        &[
            "api-key",
            "create",
            "--user",
            "ada@acme.test",
            "--name",
            "laptop",
        ],
        None,
    );
    assert_eq!(key.code, 0, "{}", key.stderr);
    let token = key.stdout.trim().to_string();
    assert!(token.starts_with("enclave_"));

    let app = spawn_app(&db).await;
    let res = app
        .client
        .get(app.url("/api/v2/users/me/organizations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["organizations"][0]["id"], org_id.as_str());
    assert_eq!(body["organizations"][0]["role"], "admin");
    // The key is never stored in clear.
    assert!(app.store.api_key_by_hash(&token).await.unwrap().is_none());

    // Listing shows the key without its secret; revoking refuses it from the next request.
    let keys = json(&enclave(
        &db,
        &[
            "api-key",
            "list",
            "--user",
            "ada@acme.test",
            "--output",
            "json",
        ],
        None,
    ));
    let listed = &keys["api_keys"][0];
    assert_eq!(listed["name"], "laptop");
    assert!(!keys.to_string().contains(&token));
    let id = listed["id"].as_str().unwrap();
    json(&enclave(
        &db,
        &["api-key", "revoke", "--id", id, "--output", "json"],
        None,
    ));
    let res = app
        .client
        .get(app.url("/api/v2/users/me/organizations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let again = enclave(&db, &["api-key", "revoke", "--id", id], None);
    assert_eq!(again.code, 4, "{}", again.stderr);
}

async fn failures_exit_with_codes_scripts_can_tell_apart(db: TestDb) {
    migrated(&db);
    let usage = enclave(
        &db,
        &["org", "create", "--name", "Acme", "--plan", "gold"],
        None,
    );
    assert_eq!(usage.code, 2);
    assert!(
        usage
            .stderr
            .contains("must be one of free, launch, scale, business, enterprise"),
        "{}",
        usage.stderr
    );

    let missing = enclave(
        &db,
        &[
            "org",
            "add-member",
            "--org",
            "org-none-00000000",
            "--email",
            "a@b.test",
            "--role",
            "admin",
        ],
        None,
    );
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    assert!(missing.stderr.contains("was not found"));

    let org = json(&enclave(
        &db,
        &[
            "org", "create", "--name", "Acme", "--plan", "free", "--output", "json",
        ],
        None,
    ));
    let org_id = org["id"].as_str().unwrap();
    let region = enclave(
        &db,
        &[
            "project",
            "create",
            "--org",
            org_id,
            "--name",
            "web",
            "--region",
            "aws-mars-1",
        ],
        None,
    );
    assert_eq!(region.code, 2, "{}", region.stderr);
    assert!(region.stderr.contains("not offered in region aws-mars-1"));

    let no_password = enclave(&db, &["user", "create", "--email", "a@b.test"], Some(""));
    assert_eq!(no_password.code, 2);
    assert!(no_password.stderr.contains("--no-password"));
    let short = enclave(
        &db,
        &["user", "create", "--email", "a@b.test"],
        Some("short\n"),
    );
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("at least 12 characters"));
    assert_eq!(
        enclave(
            &db,
            &["user", "create", "--email", "a@b.test", "--no-password"],
            None
        )
        .code,
        0
    );
    let twice = enclave(
        &db,
        &["user", "create", "--email", "A@b.test", "--no-password"],
        None,
    );
    assert_eq!(twice.code, 4, "{}", twice.stderr);
    assert!(twice.stderr.contains("already exists"));

    let grant = json(&enclave(
        &db,
        &[
            "user",
            "set-operator",
            "--email",
            "a@b.test",
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(grant["is_operator"], true);
    let store = db.store().await;
    assert!(
        store
            .user_by_email("a@b.test")
            .await
            .unwrap()
            .unwrap()
            .is_operator
    );
    enclave(
        &db,
        &["user", "set-operator", "--email", "a@b.test", "--revoke"],
        None,
    );
    assert!(
        !store
            .user_by_email("a@b.test")
            .await
            .unwrap()
            .unwrap()
            .is_operator
    );
    let nobody = enclave(
        &db,
        &["user", "set-operator", "--email", "nobody@b.test"],
        None,
    );
    assert_eq!(nobody.code, 3);
}

/// `enclave trial list|approve|decline` against requests an admin filed.
async fn operators_review_trials_from_the_cli(db: TestDb) {
    use app::domain::Plan;
    use enclave::services::{Caller, TrialApplication};
    let app = spawn_app(&db).await;
    let cli = Caller::operator_cli();
    let s = &app.services;
    let application = TrialApplication {
        use_case: "orders".into(),
        regions: vec!["aws-us-east-2".into()],
        expected_endpoints: "1".into(),
    };
    let mut ids = Vec::new();
    for name in ["Free one", "Free two"] {
        let org = s.create_organization(&cli, name, Plan::Free).await.unwrap();
        ids.push(
            s.request_trial(&cli, &org.id, &application)
                .await
                .unwrap()
                .id,
        );
    }
    let list = json(&enclave(&db, &["trial", "list", "--output", "json"], None));
    assert_eq!(list["trial_requests"].as_array().unwrap().len(), 2);
    assert_eq!(list["trial_requests"][0]["status"], "pending");

    let last_day = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let approved = json(&enclave(
        &db,
        &[
            "trial",
            "approve",
            &ids[0],
            "--ends-on",
            &last_day,
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["trial_ends_at"], format!("{last_day} 23:59 UTC"));

    // A decline needs a reason; clap says so before anything changes.
    let no_reason = enclave(&db, &["trial", "decline", &ids[1]], None);
    assert_eq!(no_reason.code, 2, "{}", no_reason.stderr);
    let declined = json(&enclave(
        &db,
        &[
            "trial",
            "decline",
            &ids[1],
            "--reason",
            "Which account?",
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(declined["decline_reason"], "Which account?");
    // Reviewed requests are settled: a second decision is a conflict (exit code 4).
    let again = enclave(&db, &["trial", "approve", &ids[1]], None);
    assert_eq!(again.code, 4, "{}", again.stderr);
    assert!(
        again.stderr.contains("already declined"),
        "{}",
        again.stderr
    );
    let pending = json(&enclave(&db, &["trial", "list", "--output", "json"], None));
    assert!(pending["trial_requests"].as_array().unwrap().is_empty());
    let all = json(&enclave(
        &db,
        &["trial", "list", "--status", "all", "--output", "json"],
        None,
    ));
    assert_eq!(all["trial_requests"].as_array().unwrap().len(), 2);
}

async fn operators_manage_allowed_aws_accounts(db: TestDb) {
    migrated(&db);
    let org = json(&enclave(
        &db,
        &[
            "org", "create", "--name", "Acme", "--plan", "scale", "--output", "json",
        ],
        None,
    ));
    let org_id = org["id"].as_str().unwrap();
    let added = json(&enclave(
        &db,
        &[
            "org",
            "allow-aws-account",
            "--org",
            org_id,
            "--account",
            "arn:aws:iam::123456789012:root",
            "--note",
            "prod",
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(added["aws_account_id"], "123456789012");
    let listed = json(&enclave(
        &db,
        &["org", "aws-accounts", "--org", org_id, "--output", "json"],
        None,
    ));
    assert_eq!(listed["accounts"][0]["account_id"], "123456789012");
    assert_eq!(listed["accounts"][0]["note"], "prod");
    // A bad id is a usage error naming the problem; an unknown one is "not found" (3).
    let bad = enclave(
        &db,
        &[
            "org",
            "allow-aws-account",
            "--org",
            org_id,
            "--account",
            "AKIAIOSFODNN7EXAMPLE",
        ],
        None,
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("access key"), "{}", bad.stderr);
    let removed = enclave(
        &db,
        &[
            "org",
            "disallow-aws-account",
            "--org",
            org_id,
            "--account",
            "123456789012",
        ],
        None,
    );
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let again = enclave(
        &db,
        &[
            "org",
            "disallow-aws-account",
            "--org",
            org_id,
            "--account",
            "123456789012",
        ],
        None,
    );
    assert_eq!(again.code, 3, "{}", again.stderr);
}

/// `enclave provider status` prints what the running servers recorded: failing provider
/// calls and connection requests nobody assigned.
async fn operators_see_provider_health_from_the_cli(db: TestDb) {
    migrated(&db);
    let healthy = enclave(&db, &["provider", "status"], None);
    assert_eq!(healthy.code, 0, "{}", healthy.stderr);
    assert!(healthy.stdout.contains("healthy"), "{}", healthy.stdout);

    let store = db.store().await;
    store
        .replace_provider_problems(&[enclave::store::ProviderProblemRow {
            call: "DescribeVpcEndpointConnections".into(),
            region: "us-east-1".into(),
            message: "UnauthorizedOperation: not authorized".into(),
            since: 1_800_000_000_000,
            last_seen: 1_800_000_060_000,
        }])
        .await
        .unwrap();
    store
        .record_unassigned_requests(
            "aws-us-east-1",
            &[enclave::store::ConnectionRequestRow {
                vpc_endpoint_id: "vpce-0123456789abcdef0".into(),
                region_id: "aws-us-east-1".into(),
                service_id: "vpce-svc-0de57c578b0e614a9".into(),
                owner_account: "444455556666".into(),
                state: "pendingAcceptance".into(),
                first_seen: 0,
                last_seen: 0,
            }],
            1_800_000_000_000,
        )
        .await
        .unwrap();
    let text = enclave(&db, &["provider", "status"], None);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("failing\tDescribeVpcEndpointConnections\tus-east-1")
            && text.stdout.contains("UnauthorizedOperation")
            && text.stdout.contains("unassigned\tvpce-0123456789abcdef0"),
        "{}",
        text.stdout
    );
    let status = json(&enclave(
        &db,
        &["provider", "status", "--output", "json"],
        None,
    ));
    assert_eq!(status["problems"][0]["region"], "us-east-1");
    assert_eq!(status["unassigned"][0]["owner_account"], "444455556666");
}

async fn scale_seed_builds_a_data_set_the_api_serves(db: TestDb) {
    migrated(&db);
    let report = json(&enclave(
        &db,
        &[
            "scale-seed",
            "--organizations",
            "30",
            "--projects-per-org",
            "3",
            "--endpoints-per-org",
            "2",
            "--samples",
            "3",
        ],
        None,
    ));
    assert_eq!(
        (
            &report["organizations"],
            &report["projects"],
            &report["endpoints"]
        ),
        (&json!(30), &json!(90), &json!(60))
    );
    let samples = report["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    let app = spawn_app(&db).await;
    for sample in samples {
        let get = |path: String| {
            let app = &app;
            let key = sample["api_key"].as_str().unwrap().to_string();
            async move {
                let res = app
                    .client
                    .get(app.url(&format!("/api/v2{path}")))
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{path}");
                res.json::<Value>().await.unwrap()
            }
        };
        let org = sample["org_id"].as_str().unwrap();
        let endpoints = get(format!("/organizations/{org}/vpc/vpc_endpoints")).await;
        let endpoints = endpoints["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.len(), 2);
        assert!(endpoints.iter().all(|e| e["state"] == "accepted"));
        let projects = get(format!("/projects?org_id={org}")).await;
        assert_eq!(projects["projects"].as_array().unwrap().len(), 3);
        let project = sample["project_id"].as_str().unwrap();
        assert_eq!(
            get(format!("/projects/{project}")).await["project"]["id"],
            project
        );
        // Written as the product writes: each row has its audit entry.
        let activity = get(format!("/organizations/{org}/activity")).await;
        // The organization, its projects and endpoints, and the benchmark key made for it.
        assert_eq!(
            activity["activity"].as_array().unwrap().len(),
            1 + 3 + 2 + 1,
            "{activity}"
        );
    }
    // The admins sign in with the published password.
    let email = samples[0]["email"].as_str().unwrap();
    app.services
        .sign_in(email, report["password"].as_str().unwrap(), "test", None)
        .await
        .unwrap();
    // Never into a database that has people in it.
    let again = enclave(&db, &["scale-seed", "--organizations", "1"], None);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("only fills an empty database"),
        "{}",
        again.stderr
    );
}

async fn demo_data_goes_only_into_a_database_without_users(db: TestDb) {
    let app = spawn_app(&db).await;
    // Someone's real deployment: one person, no organization yet.
    common::given(&app).person("admin@real.example").await;
    assert!(!enclave::demo::seed(&app.services).await.unwrap());
    assert!(app
        .store
        .user_by_email("operator@enclave.example")
        .await
        .unwrap()
        .is_none());
    // A fresh database gets the demo.
    let fresh = TestDb::sqlite().await;
    let fresh = spawn_app(&fresh).await;
    assert!(enclave::demo::seed(&fresh.services).await.unwrap());
    assert!(fresh
        .store
        .user_by_email("operator@enclave.example")
        .await
        .unwrap()
        .is_some());
}

async fn operators_manage_webhooks_from_the_cli(db: TestDb) {
    migrated(&db);
    let org = json(&enclave(
        &db,
        &[
            "org", "create", "--name", "Acme", "--plan", "scale", "--output", "json",
        ],
        None,
    ));
    let org_id = org["id"].as_str().unwrap();
    let created = json(&enclave(
        &db,
        &[
            "webhook",
            "create",
            "--org",
            org_id,
            "--url",
            "https://hooks.example.com/enclave",
            "--events",
            "endpoint.accepted,trial.ended",
            "--output",
            "json",
        ],
        None,
    ));
    let id = created["id"].as_str().unwrap();
    assert!(
        created["secret"].as_str().unwrap().starts_with("whsec_"),
        "{created}"
    );
    assert_eq!(
        created["events"],
        json!(["endpoint.accepted", "trial.ended"])
    );

    // Internal receivers and unknown events are refused as bad input (exit 2), by name.
    let private = enclave(
        &db,
        &[
            "webhook",
            "create",
            "--org",
            org_id,
            "--url",
            "https://169.254.169.254/x",
            "--events",
            "trial.ended",
        ],
        None,
    );
    assert_eq!(private.code, 2, "{}", private.stderr);
    assert!(
        private.stderr.contains("not a public address"),
        "{}",
        private.stderr
    );
    let unknown = enclave(
        &db,
        &[
            "webhook",
            "create",
            "--org",
            org_id,
            "--url",
            "https://hooks.example.com/x",
            "--events",
            "trial.over",
        ],
        None,
    );
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("trial.ended"), "{}", unknown.stderr);

    let listed = json(&enclave(
        &db,
        &["webhook", "list", "--org", org_id, "--output", "json"],
        None,
    ));
    assert_eq!(listed["webhooks"][0]["id"], id);
    assert!(listed["webhooks"][0].get("secret").is_none(), "{listed}");
    let log = json(&enclave(
        &db,
        &[
            "webhook",
            "deliveries",
            "--org",
            org_id,
            "--id",
            id,
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(log["deliveries"], json!([]));
    let missing = enclave(
        &db,
        &[
            "webhook",
            "redeliver",
            "--org",
            org_id,
            "--delivery",
            "msg_1_nope",
        ],
        None,
    );
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    let deleted = enclave(
        &db,
        &["webhook", "delete", "--org", org_id, "--id", id],
        None,
    );
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let listed = json(&enclave(
        &db,
        &["webhook", "list", "--org", org_id, "--output", "json"],
        None,
    ));
    assert_eq!(listed["webhooks"], json!([]));
}

on_both_backends!(
    scale_seed_builds_a_data_set_the_api_serves,
    demo_data_goes_only_into_a_database_without_users,
    operators_see_provider_health_from_the_cli,
    operators_manage_allowed_aws_accounts,
    an_operator_sets_up_an_organization_from_a_script,
    failures_exit_with_codes_scripts_can_tell_apart,
    operators_review_trials_from_the_cli,
    operators_manage_webhooks_from_the_cli,
);
