//! Private endpoints on Google Cloud (PSC connection ids) and Azure (Private Link LinkIDs)
//! through the same REST routes, simulator and access decision as AWS, with a catalog that
//! lists a region of each cloud.

use crate::common;

use app::domain::{Plan, Role};
use common::{spawn_app_with, TestApp, TestDb};
use enclave::{
    reconciler::{reconcile_once, Provider, Review, ReviewRequest, Simulator},
    services::Clock,
};
use serde_json::{json, Value};

const CATALOG: &str = r#"{"regions":[
  {"id":"aws-us-east-2","cloud":"aws","display_name":"US East (Ohio)","private_networking":true,
   "service_names":["com.amazonaws.vpce.us-east-2.vpce-svc-010736480bcef5824"]},
  {"id":"gcp-us-central1","cloud":"gcp","display_name":"Iowa (us-central1)","private_networking":true,
   "service_names":["projects/enclave-prod/regions/us-central1/serviceAttachments/db-cell-1"]},
  {"id":"azure-eastus2","cloud":"azure","display_name":"East US 2","private_networking":true,
   "service_names":["enclave-db.0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.eastus2.azure.privatelinkservice"]}
]}"#;

struct Cloud {
    region: &'static str,
    /// What a person types (the bare number), and how Enclave keeps it.
    typed: &'static str,
    stored: &'static str,
    /// An endpoint the simulator refuses, and the cloud's wording of the refusal.
    refused: &'static str,
    refusal: &'static str,
    /// How the cloud explains an endpoint that made no connection (id 55555).
    missing: &'static str,
    /// A wrong paste and the hint it gets.
    mistake: &'static str,
    hint: &'static str,
}

const GCP: Cloud = Cloud {
    region: "gcp-us-central1",
    typed: "12345678901234567",
    stored: "psc-12345678901234567",
    refused: "99999",
    refusal: "Private Service Connect connection is REJECTED",
    missing: "no Private Service Connect connection with id 55555: it was CLOSED",
    mistake: "psc-orders-endpoint",
    hint: "forwarding rule's name",
};

const AZURE: Cloud = Cloud {
    region: "azure-eastus2",
    typed: "536870913",
    stored: "linkid-536870913",
    refused: "99999",
    refusal: "private endpoint connection is Rejected",
    missing: "no private endpoint connection with LinkID 55555: it is Disconnected",
    mistake:
        "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
    hint: "private endpoint's resource id",
};

async fn call(
    app: &TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/v2{path}")))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn access(app: &TestApp, project: &str, endpoint: Option<&str>) -> Value {
    let mut query = format!("project_id={project}");
    if let Some(e) = endpoint {
        query.push_str(&format!("&vpc_endpoint_id={e}"));
    }
    app.client
        .get(app.url(&format!("/api/internal/v1/access?{query}")))
        .bearer_auth("dp-secret-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn a_cloud_works_end_to_end(db: &TestDb, cloud: &Cloud) {
    let dir = std::env::temp_dir().join(format!("enclave-clouds-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("regions.json");
    std::fs::write(&catalog, CATALOG).unwrap();
    // The server's own reconciler runs the same simulator as the pass this test runs by hand,
    // so whichever settles an endpoint first, it ends the same way.
    let refused_pattern = format!("*-{}", cloud.refused);
    let app = spawn_app_with(
        db,
        &[
            "--regions-file",
            catalog.to_str().unwrap(),
            "--data-plane-token",
            "dp-secret-token",
            "--simulator-accept-delay-ms",
            "0",
            "--simulator-reject-pattern",
            &refused_pattern,
            "--simulator-reject-reason",
            "Ask the platform team.",
            "--simulator-missing-pattern",
            "*-55555",
        ],
        Clock::system(),
    )
    .await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given
        .member(&org, "ada@acme.test", Role::Admin)
        .await
        .api_key;
    let project = given.project(&org, "web", cloud.region).await.id;
    let endpoints = format!(
        "/organizations/{org}/vpc/region/{}/vpc_endpoints",
        cloud.region
    );
    use reqwest::Method;

    // A wrong paste gets this cloud's hint; another cloud's id is refused; nothing changes.
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("{endpoints}/{}", urlencode(cloud.mistake)),
        Some(json!({"label": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains(cloud.hint),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("{endpoints}/vpce-1234567890abcdef0"),
        Some(json!({"label": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("AWS VPC endpoint id"),
        "{body}"
    );
    let aws_region = format!(
        "/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/{}",
        cloud.stored
    );
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &aws_region,
        Some(json!({"label": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("AWS region"),
        "{body}"
    );

    // Assigned by the number the cloud shows, kept in the stored form.
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("{endpoints}/{}", cloud.typed),
        Some(json!({"label": "orders"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("{endpoints}/{}", cloud.refused),
        Some(json!({"label": "refused"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("{endpoints}/55555"),
        Some(json!({"label": "never created"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = call(&app, &admin, Method::GET, &endpoints, None).await;
    let ids: Vec<&str> = listed["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["vpc_endpoint_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&cloud.stored), "{listed}");

    // The simulator accepts one and refuses the other in the cloud's words.
    let simulator = Simulator {
        accept_delay_ms: 0,
        reject_pattern: format!("*-{}", cloud.refused),
        reject_reason: "Ask the platform team.".into(),
        missing_pattern: "*-55555".into(),
        allowed_accounts: Default::default(),
    };
    reconcile_once(&app.services, &simulator).await.unwrap();
    let (_, detail) = call(
        &app,
        &admin,
        Method::GET,
        &format!("{endpoints}/{}", cloud.typed),
        None,
    )
    .await;
    assert_eq!(detail["state"], "accepted", "{detail}");
    let (_, refused) = call(
        &app,
        &admin,
        Method::GET,
        &format!("{endpoints}/{}", cloud.refused),
        None,
    )
    .await;
    assert_eq!(refused["state"], "rejected", "{refused}");
    assert!(refused.to_string().contains(cloud.refusal), "{refused}");
    // One that never made a connection waits, with the cloud's explanation.
    let (_, waiting) = call(
        &app,
        &admin,
        Method::GET,
        &format!("{endpoints}/55555"),
        None,
    )
    .await;
    assert_eq!(waiting["state"], "new", "{waiting}");
    assert!(waiting.to_string().contains(cloud.missing), "{waiting}");

    // Restrict to the accepted endpoint and block the public internet.
    let (status, body) = call(
        &app,
        &admin,
        Method::POST,
        &format!("/projects/{project}/vpc_endpoints/{}", cloud.stored),
        Some(json!({"label": "orders"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        &admin,
        Method::PATCH,
        &format!("/projects/{project}"),
        Some(json!({"project": {"settings": {"block_public_connections": true}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The data plane's decision, as the proxy asks it with the id read from the cloud's TLV.
    let allowed = access(&app, &project, Some(cloud.stored)).await;
    assert_eq!(allowed["allow"], true, "{allowed}");
    let other = access(
        &app,
        &project,
        Some(&format!(
            "{}{}",
            &cloud.stored[..cloud.stored.find('-').unwrap() + 1],
            cloud.refused
        )),
    )
    .await;
    assert_eq!(other["allow"], false, "{other}");
    let public = access(&app, &project, None).await;
    assert_eq!(public["allow"], false, "{public}");
    assert_eq!(public["reason"], "public_connections_blocked", "{public}");
    let _ = std::fs::remove_dir_all(dir);
}

fn urlencode(s: &str) -> String {
    s.replace('/', "%2F")
}

async fn google_cloud_endpoints_are_assigned_accepted_and_enforced(db: TestDb) {
    a_cloud_works_end_to_end(&db, &GCP).await;
}

async fn azure_endpoints_are_assigned_accepted_and_enforced(db: TestDb) {
    a_cloud_works_end_to_end(&db, &AZURE).await;
}

/// A cloud that accepts every endpoint and says who is on the other side, as Google Cloud's
/// service attachment and Azure's Private Link service do.
struct ReportsConsumers;

#[async_trait::async_trait]
impl Provider for ReportsConsumers {
    fn name(&self) -> &'static str {
        "reports-consumers"
    }

    async fn review_endpoint(&self, request: &ReviewRequest<'_>) -> anyhow::Result<Review> {
        let consumer = match request.endpoint.cloud() {
            app::domain::Cloud::Gcp => {
                "projects/my-app-prod/regions/us-central1/forwardingRules/enclave-psc-1"
            }
            app::domain::Cloud::Azure => {
                "/subscriptions/0000/resourceGroups/app-rg/providers/Microsoft.Network/privateEndpoints/enclave-pe-1"
            }
            app::domain::Cloud::Aws => "999999999999",
        };
        Ok(Review::Accept {
            service_name: request.region.service_names[0].clone(),
            owner_account: Some(consumer.to_string()),
        })
    }

    async fn sync_allowed_accounts(&self, _accounts: &[String]) -> anyhow::Result<()> {
        Ok(())
    }
}

/// What the cloud reports of the consumer is shown beside the endpoint; on Google Cloud and
/// Azure it is not an AWS account the organization must allow.
async fn the_consumer_a_cloud_reports_is_shown(db: TestDb) {
    let dir = std::env::temp_dir().join(format!("enclave-clouds-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("regions.json");
    std::fs::write(&catalog, CATALOG).unwrap();
    // The server's own reconciler leaves every endpoint waiting (it would accept without a
    // consumer after its delay); the pass below, with the provider that reports consumers,
    // is the one that accepts.
    let app = spawn_app_with(
        &db,
        &[
            "--regions-file",
            catalog.to_str().unwrap(),
            "--simulator-missing-pattern",
            "*",
        ],
        Clock::system(),
    )
    .await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let session = given.session(&admin).await;
    for (cloud, shown) in [
        (
            &GCP,
            "forwarding rule projects/my-app-prod/regions/us-central1/forwardingRules/enclave-psc-1 (project my-app-prod)",
        ),
        (
            &AZURE,
            "private endpoint /subscriptions/0000/resourceGroups/app-rg/providers/Microsoft.Network/privateEndpoints/enclave-pe-1",
        ),
    ] {
        let project = given.project(&org, cloud.region, cloud.region).await.id;
        let (status, body) = call(
            &app,
            &admin.api_key,
            reqwest::Method::POST,
            &format!(
                "/organizations/{org}/vpc/region/{}/vpc_endpoints/{}",
                cloud.region, cloud.typed
            ),
            Some(json!({"label": "orders"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        reconcile_once(&app.services, &ReportsConsumers).await.unwrap();
        let html = app
            .client
            .get(app.url(&format!("/projects/{project}/setup/4")))
            .header("cookie", format!("enclave_session={session}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "data-testid=\"state-{}\" class=\"badge state-accepted\"",
                cloud.stored
            )),
            "{html}"
        );
        assert!(html.contains(shown), "{html}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

on_both_backends!(
    google_cloud_endpoints_are_assigned_accepted_and_enforced,
    azure_endpoints_are_assigned_accepted_and_enforced,
    the_consumer_a_cloud_reports_is_shown,
);
