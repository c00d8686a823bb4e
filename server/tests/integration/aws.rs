//! The AWS provider against an AWS stand-in, through the real AWS SDK, on SQLite and
//! PostgreSQL: moto in server mode on loopback with `scripts/aws_mock.py`'s
//! endpoint-connection calls (started per test, state of its own). Accepting what AWS shows,
//! waiting for what it does not, rejecting owners not allowed, keeping the services' allowed
//! principals in step, disconnecting on removal, retrying throttling, showing missing
//! credentials as provider health, never accepting what nobody assigned, and refusing to
//! start on a catalog AWS contradicts.

use crate::common;

use std::{
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};

use app::domain::{Plan, Role};
use common::{serve_config, spawn_app_with, TestApp, TestDb};
use enclave::{
    aws::{AwsProvider, AwsSettings},
    reconciler::survey_connection_requests,
    services::{Caller, Clock},
    startup::Application,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The account the stand-in's platform services belong to (moto's default).
const PLATFORM_ACCOUNT: &str = "123456789012";
/// A customer's account.
const CUSTOMER: &str = "444455556666";

static AWS_ENV: Once = Once::new();

/// Credentials for the stand-in come from a profile in a shared credentials file written
/// here; nothing from the developer's own AWS setup leaks in, and instance metadata is off
/// (so a missing profile fails at once instead of after IMDS timeouts).
fn aws_test_env() {
    AWS_ENV.call_once(|| {
        let dir = std::env::temp_dir().join(format!("enclave-aws-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let credentials = dir.join("credentials");
        std::fs::write(
            &credentials,
            "[enclave-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        )
        .unwrap();
        let config = dir.join("config");
        std::fs::write(&config, "[profile enclave-test]\n").unwrap();
        // Every test calls this before any SDK code runs; `Once` holds the others back
        // until the environment is settled, and nothing changes it afterwards.
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_EC2",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            std::env::remove_var(name);
        }
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &credentials);
        std::env::set_var("AWS_CONFIG_FILE", &config);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    });
}

/// A running stand-in: moto plus the endpoint-connection calls, seeded with two regions'
/// platform services.
struct AwsMock {
    child: Child,
    endpoint_url: String,
    catalog: Value,
    loose: Value,
    catalog_file: PathBuf,
    http: reqwest::Client,
}

impl Drop for AwsMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.catalog_file);
    }
}

fn mock_python() -> PathBuf {
    if let Some(path) = std::env::var_os("ENCLAVE_AWS_MOCK_PYTHON") {
        return path.into();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/aws-mock-venv/bin/python");
    assert!(
        path.exists(),
        "the AWS stand-in is not installed: run `make aws-mock-deps` (or set ENCLAVE_AWS_MOCK_PYTHON)"
    );
    path
}

impl AwsMock {
    async fn start() -> Self {
        aws_test_env();
        let ready =
            std::env::temp_dir().join(format!("enclave-aws-mock-{}.json", uuid::Uuid::new_v4()));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/aws_mock.py");
        let child = Command::new(mock_python())
            .arg(script)
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the AWS stand-in");
        let deadline = Instant::now() + Duration::from_secs(60);
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "the AWS stand-in did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let _ = std::fs::remove_file(&ready);
        let ready: Value = serde_json::from_str(&text).unwrap();
        let catalog_file =
            std::env::temp_dir().join(format!("enclave-aws-catalog-{}.json", uuid::Uuid::new_v4()));
        std::fs::File::create(&catalog_file)
            .unwrap()
            .write_all(ready["catalog"].to_string().as_bytes())
            .unwrap();
        Self {
            child,
            endpoint_url: ready["endpoint_url"].as_str().unwrap().to_string(),
            catalog: ready["catalog"].clone(),
            loose: ready["loose_services"].clone(),
            catalog_file,
            http: reqwest::Client::new(),
        }
    }

    /// The platform's service names in a cloud region (`us-east-1`).
    fn service_names(&self, cloud_region: &str) -> Vec<String> {
        self.catalog["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == format!("aws-{cloud_region}"))
            .unwrap()["service_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    }

    /// `enclave serve` flags for the AWS provider against this stand-in.
    fn flags<'a>(&'a self, profile: &'a str) -> Vec<&'a str> {
        vec![
            "--provider",
            "aws",
            "--aws-endpoint-url",
            self.endpoint_url.as_str(),
            "--aws-profile",
            profile,
            "--regions-file",
            self.catalog_file.to_str().unwrap(),
            "--reconcile-interval-ms",
            "100",
        ]
    }

    /// A customer creates an interface endpoint in AWS; `Err` when AWS refuses (the
    /// account is not an allowed principal of the service).
    async fn create_endpoint(
        &self,
        account: &str,
        cloud_region: &str,
        service_name: &str,
    ) -> Result<String, String> {
        let res = self
            .http
            .post(format!("{}/_enclave/endpoints", self.endpoint_url))
            .json(
                &json!({"account": account, "region": cloud_region, "service_name": service_name}),
            )
            .send()
            .await
            .unwrap();
        let ok = res.status().is_success();
        let body: Value = res.json().await.unwrap();
        if ok {
            Ok(body["vpc_endpoint_id"].as_str().unwrap().to_string())
        } else {
            Err(body["error"].to_string())
        }
    }

    async fn control(&self, path: &str, body: Value) {
        let res = self
            .http
            .post(format!("{}/_enclave/{path}", self.endpoint_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "{path}: {}",
            res.text().await.unwrap()
        );
    }

    async fn calls(&self, action: &str) -> i64 {
        let calls: Value = self
            .http
            .get(format!("{}/_enclave/calls", self.endpoint_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        calls[action].as_i64().unwrap_or(0)
    }

    /// The platform account's view, through the SDK like any AWS client.
    async fn ec2(&self, cloud_region: &str) -> aws_sdk_ec2::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .profile_name("enclave-test")
            .endpoint_url(&self.endpoint_url)
            .region(aws_config::Region::new(cloud_region.to_string()))
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .load()
            .await;
        aws_sdk_ec2::Client::new(&config)
    }

    /// The connection's state in AWS, if AWS has one.
    async fn connection_state(&self, cloud_region: &str, endpoint: &str) -> Option<String> {
        let out = self
            .ec2(cloud_region)
            .await
            .describe_vpc_endpoint_connections()
            .send()
            .await
            .unwrap();
        out.vpc_endpoint_connections()
            .iter()
            .find(|c| c.vpc_endpoint_id() == Some(endpoint))
            .and_then(|c| c.vpc_endpoint_state().map(|s| s.as_str().to_string()))
    }

    /// Every platform service's allowed principals in a region, sorted, per service.
    async fn principals(&self, cloud_region: &str) -> Vec<Vec<String>> {
        let ec2 = self.ec2(cloud_region).await;
        let mut all = Vec::new();
        for name in self.service_names(cloud_region) {
            let id = name.rsplit('.').next().unwrap().to_string();
            let out = ec2
                .describe_vpc_endpoint_service_permissions()
                .service_id(id)
                .send()
                .await
                .unwrap();
            let mut principals: Vec<String> = out
                .allowed_principals()
                .iter()
                .filter_map(|p| p.principal().map(str::to_string))
                .collect();
            principals.sort();
            all.push(principals);
        }
        all
    }
}

/// An organization with private networking, its admin's API key, and the app.
struct Tenant {
    app: TestApp,
    org: String,
    admin: String,
}

impl Tenant {
    async fn new(db: &TestDb, flags: &[&str]) -> Self {
        let app = spawn_app_with(db, flags, Clock::system()).await;
        let given = common::given(&app);
        let org = given.org("Acme", Plan::Scale).await;
        let admin = given
            .member(&org, "ada@acme.test", Role::Admin)
            .await
            .api_key;
        let org = org.to_string();
        Self { app, org, admin }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(&format!("/api/v2{path}")))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn allow(&self, account: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                &format!(
                    "/organizations/{}/vpc/allowed_aws_accounts/{account}",
                    self.org
                ),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn assign(&self, region: &str, endpoint: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                &format!(
                    "/organizations/{}/vpc/region/{region}/vpc_endpoints/{endpoint}",
                    self.org
                ),
                Some(json!({"label": "app"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Waits (up to 20 s) until the assignment satisfies `done`; returns it.
    async fn wait_for(
        &self,
        endpoint: &str,
        what: &str,
        done: impl Fn(&enclave::store::AssignmentRow) -> bool,
    ) -> enclave::store::AssignmentRow {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let row = self.app.store.assignment(endpoint).await.unwrap().unwrap();
            if done(&row) {
                return row;
            }
            assert!(
                Instant::now() < deadline,
                "{endpoint} never became {what}: {row:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An endpoint created in AWS from an allowed account becomes `accepted` once AWS accepts
/// it, with the service name and owner AWS reports; allowing the account put it on every
/// service's principals first; removing the endpoint disconnects it in AWS; disallowing
/// the account takes it off the principals again.
async fn an_endpoint_created_in_aws_is_accepted_and_removal_disconnects_it(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-test")).await;
    let names = aws.service_names("us-east-1");
    // Not allowed yet: AWS refuses the customer's endpoint.
    assert!(aws
        .create_endpoint(CUSTOMER, "us-east-1", &names[1])
        .await
        .is_err());

    t.allow(CUSTOMER).await;
    let principal = format!("arn:aws:iam::{CUSTOMER}:root");
    eventually(
        "the account is on every service's allowed principals",
        || async {
            aws.principals("us-east-1")
                .await
                .iter()
                .all(|p| p == &vec![principal.clone()])
                && aws
                    .principals("us-east-2")
                    .await
                    .iter()
                    .all(|p| p == &vec![principal.clone()])
        },
    )
    .await;
    let endpoint = aws
        .create_endpoint(CUSTOMER, "us-east-1", &names[1])
        .await
        .unwrap();
    t.assign("aws-us-east-1", &endpoint).await;
    let row = t
        .wait_for(&endpoint, "accepted", |r| r.state == "accepted")
        .await;
    assert_eq!(row.service_name.as_deref(), Some(names[1].as_str()));
    assert_eq!(row.owner_account.as_deref(), Some(CUSTOMER));
    assert_eq!(row.state_reason, None);
    assert!(aws.calls("AcceptVpcEndpointConnections").await >= 1);
    assert_eq!(
        aws.connection_state("us-east-1", &endpoint)
            .await
            .as_deref(),
        Some("available")
    );
    let (status, body) = t
        .call(
            Method::DELETE,
            &format!(
                "/organizations/{}/vpc/region/aws-us-east-1/vpc_endpoints/{endpoint}",
                t.org
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("the removed endpoint is disconnected in AWS", || async {
        aws.connection_state("us-east-1", &endpoint)
            .await
            .as_deref()
            == Some("rejected")
    })
    .await;

    let (status, body) = t
        .call(
            Method::DELETE,
            &format!(
                "/organizations/{}/vpc/allowed_aws_accounts/{CUSTOMER}",
                t.org
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("the account is off every service's principals", || async {
        aws.principals("us-east-1")
            .await
            .iter()
            .all(|p| p.is_empty())
    })
    .await;
}

/// An endpoint AWS has no request from stays `new` with a reason the admin can act on
/// (naming the service name to use): never created, or created on another region's
/// service. One AWS reports expired is rejected with that reason.
async fn endpoints_aws_does_not_show_stay_new_with_the_reason(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-test")).await;
    t.allow(CUSTOMER).await;
    let east1 = aws.service_names("us-east-1");
    let east2 = aws.service_names("us-east-2");

    let never_created = "vpce-0123456789abcdef0";
    t.assign("aws-us-east-1", never_created).await;
    let row = t
        .wait_for(never_created, "given a reason", |r| {
            r.state_reason.is_some()
        })
        .await;
    let reason = row.state_reason.unwrap();
    assert_eq!(row.state, "new");
    assert!(
        reason.contains(&format!("No connection request from {never_created} yet"))
            && reason.contains(&east1[0])
            && reason.contains("us-east-1"),
        "{reason}"
    );

    // Created, but on a service of us-east-2 while assigned in us-east-1.
    eventually("the account may create endpoints in us-east-2", || async {
        aws.principals("us-east-2")
            .await
            .iter()
            .all(|p| !p.is_empty())
    })
    .await;
    let elsewhere = aws
        .create_endpoint(CUSTOMER, "us-east-2", &east2[0])
        .await
        .unwrap();
    t.assign("aws-us-east-1", &elsewhere).await;
    let row = t
        .wait_for(&elsewhere, "given a reason", |r| r.state_reason.is_some())
        .await;
    assert_eq!(row.state, "new");
    assert!(row.state_reason.unwrap().contains("No connection request"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for endpoint in [never_created, elsewhere.as_str()] {
        let row = t.app.store.assignment(endpoint).await.unwrap().unwrap();
        assert_eq!(row.state, "new", "{endpoint}");
    }
    assert_eq!(aws.calls("AcceptVpcEndpointConnections").await, 0);
    // Waiting is with backoff, not one look per pass (a pass is every 100 ms).
    let looks = aws.calls("DescribeVpcEndpointConnections").await;
    assert!(looks < 20, "{looks} looks in about two seconds");

    // AWS lets a request expire: rejected, saying so.
    let expired = aws
        .create_endpoint(CUSTOMER, "us-east-1", &east1[0])
        .await
        .unwrap();
    aws.control(
        "state",
        json!({"region": "us-east-1", "vpc_endpoint_id": expired, "state": "expired"}),
    )
    .await;
    t.assign("aws-us-east-1", &expired).await;
    let row = t
        .wait_for(&expired, "rejected", |r| r.state == "rejected")
        .await;
    assert!(row.state_reason.unwrap().contains("expired"));
}

/// An endpoint owned by an account the organization has not allowed is rejected with that
/// reason, in Enclave and in AWS (it does not stay pending there).
async fn an_owner_the_organization_has_not_allowed_is_rejected(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-test")).await;
    let names = aws.service_names("us-east-1");
    // The platform's own account can always create endpoints to its services.
    let endpoint = aws
        .create_endpoint(PLATFORM_ACCOUNT, "us-east-1", &names[0])
        .await
        .unwrap();
    t.assign("aws-us-east-1", &endpoint).await;
    let row = t
        .wait_for(&endpoint, "rejected", |r| r.state == "rejected")
        .await;
    let reason = row.state_reason.unwrap();
    assert!(
        reason.contains(PLATFORM_ACCOUNT) && reason.contains("has not allowed"),
        "{reason}"
    );
    assert_eq!(
        aws.connection_state("us-east-1", &endpoint)
            .await
            .as_deref(),
        Some("rejected")
    );
    assert_eq!(aws.calls("AcceptVpcEndpointConnections").await, 0);
}

/// Throttling and 5xx answers are retried with backoff: the endpoint is accepted anyway and
/// no provider problem is left behind.
async fn throttling_is_retried(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-test")).await;
    t.allow(CUSTOMER).await;
    let names = aws.service_names("us-east-1");
    eventually("the account is allowed in AWS", || async {
        aws.principals("us-east-1")
            .await
            .iter()
            .all(|p| !p.is_empty())
    })
    .await;
    let endpoint = aws
        .create_endpoint(CUSTOMER, "us-east-1", &names[0])
        .await
        .unwrap();
    aws.control(
        "faults",
        json!({"action": "AcceptVpcEndpointConnections", "count": 2, "code": "RequestLimitExceeded", "status": "503 Service Unavailable"}),
    )
    .await;
    aws.control(
        "faults",
        json!({"action": "DescribeVpcEndpointConnections", "count": 2, "code": "InternalError", "status": "500 Internal Server Error"}),
    )
    .await;
    t.assign("aws-us-east-1", &endpoint).await;
    t.wait_for(&endpoint, "accepted", |r| r.state == "accepted")
        .await;
    assert!(aws.calls("AcceptVpcEndpointConnections").await >= 3);
    assert!(t.app.store.provider_problems().await.unwrap().is_empty());
}

/// Without usable credentials Enclave still starts; the failing call shows as provider
/// health (which call, which region, since when) for operators, and the tenant's endpoint
/// stays `new` without any raw AWS error.
async fn missing_credentials_show_as_provider_health(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-missing")).await;
    t.assign("aws-us-east-1", "vpce-0123456789abcdef0").await;
    eventually("provider health records the failing call", || async {
        !t.app.store.provider_problems().await.unwrap().is_empty()
    })
    .await;
    let problems = t.app.store.provider_problems().await.unwrap();
    let problem = problems
        .iter()
        .find(|p| p.call == "DescribeVpcEndpointServiceConfigurations")
        .unwrap_or_else(|| panic!("{problems:?}"));
    assert!(["us-east-1", "us-east-2"].contains(&problem.region.as_str()));
    assert!(problem.since > 0 && problem.last_seen >= problem.since);
    assert!(
        problem.message.to_lowercase().contains("credential"),
        "{}",
        problem.message
    );

    // Operators see it; the tenant does not.
    let status = t
        .app
        .services
        .provider_status(&Caller::operator_cli())
        .await
        .unwrap();
    assert_eq!(status.provider, "aws");
    assert!(status.problems.iter().any(|p| p.call == problem.call));
    let row = t
        .app
        .store
        .assignment("vpce-0123456789abcdef0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "new");
    assert_eq!(row.state_reason, None);
    assert!(t
        .app
        .services
        .provider_status(&Caller::system())
        .await
        .is_err_and(|e| e.code == "permission_denied"));
    assert_eq!(aws.calls("AcceptVpcEndpointConnections").await, 0);
}

/// A connection request nobody assigned is listed for operators and never accepted.
async fn an_unassigned_request_is_listed_never_accepted(db: TestDb) {
    let aws = AwsMock::start().await;
    let t = Tenant::new(&db, &aws.flags("enclave-test")).await;
    t.allow(CUSTOMER).await;
    eventually("the account is allowed in AWS", || async {
        aws.principals("us-east-1")
            .await
            .iter()
            .all(|p| !p.is_empty())
    })
    .await;
    let names = aws.service_names("us-east-1");
    let stray = aws
        .create_endpoint(CUSTOMER, "us-east-1", &names[0])
        .await
        .unwrap();
    let provider = AwsProvider::connect(
        t.app.services.catalog(),
        &AwsSettings {
            endpoint_url: Some(aws.endpoint_url.clone()),
            profile: Some("enclave-test".into()),
            max_attempts: 3,
        },
    )
    .await
    .unwrap();
    survey_connection_requests(&t.app.services, &provider)
        .await
        .unwrap();
    let listed = t.app.store.unassigned_requests(10).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].vpc_endpoint_id, stray);
    assert_eq!(listed[0].owner_account, CUSTOMER);
    assert_eq!(listed[0].region_id, "aws-us-east-1");
    let status = t
        .app
        .services
        .provider_status(&Caller::operator_cli())
        .await
        .unwrap();
    assert!(status.unassigned.iter().any(|r| r.vpc_endpoint_id == stray));
    // Several reconciler passes later it is still waiting in AWS.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        aws.connection_state("us-east-1", &stray).await.as_deref(),
        Some("pendingAcceptance")
    );
    assert_eq!(aws.calls("AcceptVpcEndpointConnections").await, 0);
}

/// A catalog entry AWS contradicts stops the start, naming the entry: a service that does
/// not require acceptance, and one that does not exist.
async fn a_catalog_aws_contradicts_stops_the_start(db: TestDb) {
    let aws = AwsMock::start().await;
    let loose = aws.loose["us-east-1"].as_str().unwrap().to_string();
    for (name, expected) in [
        (loose.clone(), "acceptance"),
        (
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123dead".to_string(),
            "does not exist",
        ),
    ] {
        let catalog = json!({"regions": [{"id": "aws-us-east-1", "cloud": "aws",
            "display_name": "Test", "private_networking": true, "service_names": [name]}]});
        let file =
            std::env::temp_dir().join(format!("enclave-bad-catalog-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, catalog.to_string()).unwrap();
        let mut flags = aws.flags("enclave-test");
        let at = flags.iter().position(|f| *f == "--regions-file").unwrap();
        flags[at + 1] = file.to_str().unwrap();
        let config = serve_config(&db, &flags);
        let err = match Application::build_with_store(&config, db.store().await).await {
            Ok(_) => panic!("started with {name}"),
            Err(e) => e.to_string(),
        };
        let id = name.rsplit('.').next().unwrap();
        assert!(err.contains(id) && err.contains(expected), "{err}");
        std::fs::remove_file(file).unwrap();
    }
}

on_both_backends!(
    an_endpoint_created_in_aws_is_accepted_and_removal_disconnects_it,
    endpoints_aws_does_not_show_stay_new_with_the_reason,
    an_owner_the_organization_has_not_allowed_is_rejected,
    throttling_is_retried,
    missing_credentials_show_as_provider_health,
    an_unassigned_request_is_listed_never_accepted,
    a_catalog_aws_contradicts_stops_the_start,
);
