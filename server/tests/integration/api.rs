//! The REST API over real HTTP, on SQLite and PostgreSQL: every route for every kind of
//! caller, the private-networking rules (each refusal checked for status, code, message and
//! that nothing changed), the limit under concurrency, entitlement and the reconciler.

use crate::common;

use app::domain::{OrgId, Plan, Role};
use common::{spawn_app_with, TestApp, TestDb};
use enclave::{
    reconciler::{reconcile_once, Simulator},
    services::{Caller, Clock, KeyOwner},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const E1: &str = "vpce-1111111111111111a";
const E2: &str = "vpce-2222222222222222b";
const E3: &str = "vpce-3333333333333333c";
const START_MS: i64 = 1_800_000_000_000;

/// Two scale organizations and a free one, with people and keys of every kind.
struct World {
    app: TestApp,
    clock: Clock,
    org_a: String,
    org_b: String,
    org_free: String,
    project_a: String,
    project_a_east1: String,
    project_b: String,
    admin_a: String,
    member_a: String,
    admin_b: String,
    org_key_a: String,
    admin_free: String,
}

async fn world(db: &TestDb) -> World {
    world_with(db, &[]).await
}

async fn world_with(db: &TestDb, flags: &[&str]) -> World {
    let clock = Clock::manual(START_MS);
    let app = spawn_app_with(db, flags, clock.clone()).await;
    let given = common::given(&app);
    let org_a = given.org("Acme", Plan::Scale).await;
    let org_b = given.org("Borealis", Plan::Business).await;
    let org_free = given.org("Freeloaders", Plan::Free).await;
    let admin_a = given.member(&org_a, "ada@acme.test", Role::Admin).await;
    let member_a = given.member(&org_a, "max@acme.test", Role::Member).await;
    let admin_b = given.member(&org_b, "bo@borealis.test", Role::Admin).await;
    let admin_free = given.member(&org_free, "fay@free.test", Role::Admin).await;
    let org_key_a = given.org_key(&org_a, "ci").await;
    let project_a = given.project(&org_a, "web", "aws-us-east-2").await.id;
    let project_a_east1 = given.project(&org_a, "web", "aws-us-east-1").await.id;
    let project_b = given.project(&org_b, "web", "aws-us-east-2").await.id;
    World {
        org_a: org_a.to_string(),
        org_b: org_b.to_string(),
        org_free: org_free.to_string(),
        project_a,
        project_a_east1,
        project_b,
        admin_a: admin_a.api_key,
        member_a: member_a.api_key,
        admin_b: admin_b.api_key,
        org_key_a,
        admin_free: admin_free.api_key,
        app,
        clock,
    }
}

struct Answer {
    status: StatusCode,
    request_id: String,
    body: Value,
}

impl World {
    async fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(&format!("/api/v2{path}")));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        Answer {
            status,
            request_id,
            body,
        }
    }

    async fn get(&self, key: &str, path: &str) -> Answer {
        self.call(Some(key), Method::GET, path, None).await
    }

    async fn assign(&self, key: &str, org: &str, region: &str, endpoint: &str) -> Answer {
        self.call(
            Some(key),
            Method::POST,
            &format!("/organizations/{org}/vpc/region/{region}/vpc_endpoints/{endpoint}"),
            Some(json!({"label": "test"})),
        )
        .await
    }

    async fn endpoint_ids(&self, org: &str) -> Vec<String> {
        let answer = self
            .get(
                &self.admin_a_or_b(org),
                &format!("/organizations/{org}/vpc/vpc_endpoints"),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["vpc_endpoint_id"].as_str().unwrap().to_string())
            .collect()
    }

    fn admin_a_or_b(&self, org: &str) -> String {
        if org == self.org_b {
            self.admin_b.clone()
        } else if org == self.org_free {
            self.admin_free.clone()
        } else {
            self.admin_a.clone()
        }
    }

    async fn audit_count(&self, org: &str) -> usize {
        self.app
            .store
            .audit_of_org(org, 10_000)
            .await
            .unwrap()
            .len()
    }
}

/// Asserts an error answer: status, code, a message fragment, and the request id in the body.
fn assert_error(answer: &Answer, status: u16, code: &str, message_part: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    let message = answer.body["message"].as_str().unwrap();
    assert!(
        message.contains(message_part),
        "message {message:?} lacks {message_part:?}"
    );
    assert_eq!(answer.body["request_id"], answer.request_id.as_str());
}

// ---- every route, every principal ---------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    BadKey,
    Member,
    Admin,
    OtherOrgAdmin,
    OrgKey,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::BadKey,
    Who::Member,
    Who::Admin,
    Who::OtherOrgAdmin,
    Who::OrgKey,
];

impl World {
    fn key(&self, who: Who) -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::BadKey => Some("enclave_notARealKey000000000000000000000000".into()),
            Who::Member => Some(self.member_a.clone()),
            Who::Admin => Some(self.admin_a.clone()),
            Who::OtherOrgAdmin => Some(self.admin_b.clone()),
            Who::OrgKey => Some(self.org_key_a.clone()),
        }
    }
}

/// The status a read of org A's data gets, and a write.
fn expected(who: Who, write: bool) -> u16 {
    match who {
        Who::Anonymous | Who::BadKey => 401,
        Who::OtherOrgAdmin => 404,
        Who::Member if write => 403,
        _ => 200,
    }
}

async fn every_route_answers_every_principal(db: TestDb) {
    let w = world(&db).await;
    let (a, p) = (w.org_a.clone(), w.project_a.clone());
    let region = "aws-us-east-2";
    // A fixture endpoint to read and to restrict to.
    assert_eq!(w.assign(&w.admin_a, &a, region, E1).await.status, 200);

    for who in EVERYONE {
        let key = w.key(who);
        let key = key.as_deref();
        let reads = [
            format!("/organizations/{a}/vpc/vpc_endpoints"),
            format!("/organizations/{a}/vpc/region/{region}/vpc_endpoints"),
            format!("/organizations/{a}/vpc/region/{region}/vpc_endpoints/{E1}"),
            format!("/projects/{p}/vpc_endpoints"),
            format!("/projects/{p}"),
            format!("/projects?org_id={a}&limit=5"),
        ];
        for path in &reads {
            let answer = w.call(key, Method::GET, path, None).await;
            assert_eq!(
                answer.status.as_u16(),
                expected(who, false),
                "{who:?} GET {path}: {}",
                answer.body
            );
            if answer.status != 200 {
                assert!(answer.body["code"].is_string() && answer.body["message"].is_string());
                assert_eq!(answer.body["request_id"], answer.request_id.as_str());
            }
        }

        // Writes: each principal works on its own endpoint so successes do not collide.
        let endpoint = format!("vpce-{:017x}", 0xabc00 + who as u64);
        let writes = [
            (
                Method::POST,
                format!("/organizations/{a}/vpc/region/{region}/vpc_endpoints/{endpoint}"),
                Some(json!({"label": "x"})),
            ),
            (
                Method::POST,
                format!("/projects/{p}/vpc_endpoints/{endpoint}"),
                Some(json!({"label": "x"})),
            ),
            (
                Method::PATCH,
                format!("/projects/{p}"),
                Some(json!({"project": {"settings": {"block_vpc_connections": false}}})),
            ),
            (
                Method::PATCH,
                format!("/projects/{p}"),
                Some(json!({"project": {"settings": {"block_public_connections": true}}})),
            ),
            (
                Method::PATCH,
                format!("/projects/{p}"),
                Some(json!({"project": {"settings": {"block_public_connections": false}}})),
            ),
            (
                Method::DELETE,
                format!("/projects/{p}/vpc_endpoints/{endpoint}"),
                None,
            ),
            (
                Method::DELETE,
                format!("/organizations/{a}/vpc/region/{region}/vpc_endpoints/{endpoint}"),
                None,
            ),
        ];
        for (method, path, body) in writes {
            let answer = w.call(key, method.clone(), &path, body).await;
            assert_eq!(
                answer.status.as_u16(),
                expected(who, true),
                "{who:?} {method} {path}: {}",
                answer.body
            );
            if answer.status == 200 && method != Method::PATCH {
                assert_eq!(answer.body, json!({}), "{method} {path}");
            }
        }

        let orgs = w
            .call(key, Method::GET, "/users/me/organizations", None)
            .await;
        match who {
            Who::Anonymous | Who::BadKey => assert_eq!(orgs.status, 401),
            Who::OtherOrgAdmin => assert_eq!(orgs.body["organizations"][0]["id"], w.org_b.as_str()),
            Who::Member => {
                assert_eq!(orgs.body["organizations"][0]["id"], a.as_str());
                assert_eq!(orgs.body["organizations"][0]["role"], "member");
            }
            Who::Admin | Who::OrgKey => {
                assert_eq!(orgs.body["organizations"].as_array().unwrap().len(), 1);
                assert_eq!(orgs.body["organizations"][0]["role"], "admin");
            }
        }
    }
    // Only the fixture endpoint is left: every successful write above was undone in order.
    assert_eq!(w.endpoint_ids(&a).await, vec![E1.to_string()]);
}

async fn answers_have_the_neon_shapes(db: TestDb) {
    let w = world(&db).await;
    let (a, p) = (w.org_a.clone(), w.project_a.clone());
    // Neon's examples send no body when assigning: the label is then empty.
    let answer = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"),
            None,
        )
        .await;
    assert_eq!(
        (answer.status.as_u16(), answer.body.clone()),
        (200, json!({}))
    );
    // Re-posting relabels.
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    let restrict = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/projects/{p}/vpc_endpoints/{E1}"),
            Some(json!({"label": "my_vpc"})),
        )
        .await;
    assert_eq!(restrict.status, 200);

    let details = w
        .get(
            &w.member_a,
            &format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"),
        )
        .await;
    assert_eq!(details.body["vpc_endpoint_id"], E1);
    assert_eq!(details.body["label"], "test");
    assert_eq!(details.body["state"], "new");
    assert_eq!(details.body["num_restricted_projects"], 1);
    assert_eq!(details.body["example_restricted_projects"], json!([p]));

    let all = w
        .get(
            &w.member_a,
            &format!("/organizations/{a}/vpc/vpc_endpoints"),
        )
        .await;
    assert_eq!(all.body["endpoints"][0]["region_id"], "aws-us-east-2");
    let restrictions = w
        .get(&w.member_a, &format!("/projects/{p}/vpc_endpoints"))
        .await;
    assert_eq!(
        restrictions.body,
        json!({"endpoints": [{"vpc_endpoint_id": E1, "label": "my_vpc"}]})
    );

    let patched = w
        .call(
            Some(&w.org_key_a),
            Method::PATCH,
            &format!("/projects/{p}"),
            Some(json!({"project": {"settings": {"block_public_connections": true}}})),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["operations"], json!([]));
    assert_eq!(
        patched.body["project"]["settings"]["block_public_connections"],
        true
    );
    // No data-plane proxy runs in this test: nothing claims the change is in force.
    assert_eq!(
        patched.body["project"]["network_settings_state"]["block_public_connections"],
        "no_data_plane"
    );
    assert_eq!(
        patched.body["project"]["settings"]["public_block_report_only"],
        false
    );
    // The Enclave extension: report-only blocking, set like the other settings.
    let watching = w
        .call(
            Some(&w.org_key_a),
            Method::PATCH,
            &format!("/projects/{p}"),
            Some(json!({"project": {"settings": {"public_block_report_only": true}}})),
        )
        .await;
    assert_eq!(watching.status, 200, "{}", watching.body);
    assert_eq!(
        watching.body["project"]["settings"],
        json!({"block_public_connections": true, "block_vpc_connections": false, "public_block_report_only": true,
               "allowed_ips": {"ips": [], "protected_branches_only": false}})
    );
    let project = w.get(&w.member_a, &format!("/projects/{p}")).await;
    assert_eq!(
        project.body["project"]["settings"]["public_block_report_only"],
        true
    );
    assert_eq!(project.body["project"]["id"], p.as_str());
    assert_eq!(project.body["project"]["region_id"], "aws-us-east-2");

    let page1 = w
        .get(&w.admin_a, &format!("/projects?org_id={a}&limit=1"))
        .await;
    assert_eq!(page1.body["projects"].as_array().unwrap().len(), 1);
    let cursor = page1.body["pagination"]["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let page2 = w
        .get(
            &w.admin_a,
            &format!("/projects?org_id={a}&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(page2.body["projects"].as_array().unwrap().len(), 1);
    assert!(page2.body.get("pagination").is_none());
    assert_ne!(
        page1.body["projects"][0]["id"],
        page2.body["projects"][0]["id"]
    );
}

// ---- rules: each refusal changes nothing ---------------------------------------------------

async fn a_removed_endpoint_can_never_be_added_back(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    let removed = w
        .call(
            Some(&w.admin_a),
            Method::DELETE,
            &format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 200);
    let audit_before = w.audit_count(&a).await;

    let again = w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await;
    assert_error(
        &again,
        409,
        "vpc_endpoint_removed",
        "can never be added back. Create a new VPC endpoint in AWS",
    );
    assert!(w.endpoint_ids(&a).await.is_empty());
    assert_eq!(w.audit_count(&a).await, audit_before);
    // Another organization may use it: it is no longer held by anyone.
    assert_eq!(
        w.assign(&w.admin_b, &w.org_b, "aws-us-east-2", E1)
            .await
            .status,
        200
    );
}

async fn the_region_limit_is_enforced(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    for i in 0..10 {
        let answer = w
            .assign(&w.admin_a, &a, "aws-us-east-2", &format!("vpce-{i:017x}"))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let audit_before = w.audit_count(&a).await;
    let over = w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await;
    assert_error(
        &over,
        409,
        "vpc_endpoint_limit_reached",
        "already has 10 of 10 VPC endpoints in region aws-us-east-2",
    );
    assert_eq!(w.endpoint_ids(&a).await.len(), 10);
    assert_eq!(w.audit_count(&a).await, audit_before);
    // The limit is per region.
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-1", E1).await.status,
        200
    );
}

async fn sixty_four_concurrent_assigns_end_with_ten(db: TestDb) {
    let w = world(&db).await;
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let client = w.app.client.clone();
        let url = w.app.url(&format!(
            "/api/v2/organizations/{}/vpc/region/aws-us-east-2/vpc_endpoints/vpce-{:017x}",
            w.org_a,
            0x5000 + i
        ));
        let key = w.admin_a.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"label": ""}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body["code"].as_str().unwrap_or("").to_string())
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            (200, _) => accepted += 1,
            (409, code) => assert_eq!(code, "vpc_endpoint_limit_reached"),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(accepted, 10);
    assert_eq!(w.endpoint_ids(&w.org_a).await.len(), 10);
}

async fn restricting_needs_an_assigned_endpoint_in_the_region(db: TestDb) {
    let w = world(&db).await;
    let (a, p) = (w.org_a.clone(), w.project_a.clone());
    // Assigned, but in another region than the project's.
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-1", E2).await.status,
        200
    );
    let audit_before = w.audit_count(&a).await;
    for endpoint in [E1, E2] {
        let answer = w
            .call(
                Some(&w.admin_a),
                Method::POST,
                &format!("/projects/{p}/vpc_endpoints/{endpoint}"),
                Some(json!({"label": "x"})),
            )
            .await;
        assert_error(
            &answer,
            422,
            "vpc_endpoint_not_assigned",
            "Assign the endpoint to the organization in that region first",
        );
    }
    let restrictions = w
        .get(&w.admin_a, &format!("/projects/{p}/vpc_endpoints"))
        .await;
    assert_eq!(restrictions.body["endpoints"], json!([]));
    assert_eq!(w.audit_count(&a).await, audit_before);
    // Another organization's endpoint is no better.
    assert_eq!(
        w.assign(&w.admin_b, &w.org_b, "aws-us-east-2", E3)
            .await
            .status,
        200
    );
    let answer = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/projects/{p}/vpc_endpoints/{E3}"),
            None,
        )
        .await;
    assert_error(&answer, 422, "vpc_endpoint_not_assigned", E3);
}

async fn an_endpoint_that_restricts_projects_cannot_be_removed(db: TestDb) {
    let w = world(&db).await;
    let (a, p) = (w.org_a.clone(), w.project_a.clone());
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    let restrict = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/projects/{p}/vpc_endpoints/{E1}"),
            Some(json!({"label": ""})),
        )
        .await;
    assert_eq!(restrict.status, 200);
    let audit_before = w.audit_count(&a).await;
    let path = format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}");
    let refused = w.call(Some(&w.admin_a), Method::DELETE, &path, None).await;
    assert_error(
        &refused,
        409,
        "vpc_endpoint_restricts_projects",
        &format!("still restricts 1 project(s): {p}"),
    );
    assert_eq!(w.endpoint_ids(&a).await, vec![E1.to_string()]);
    assert_eq!(w.audit_count(&a).await, audit_before);
    // Lifting the restriction first makes removal possible.
    let lift = w
        .call(
            Some(&w.admin_a),
            Method::DELETE,
            &format!("/projects/{p}/vpc_endpoints/{E1}"),
            None,
        )
        .await;
    assert_eq!(lift.status, 200);
    assert_eq!(
        w.call(Some(&w.admin_a), Method::DELETE, &path, None)
            .await
            .status,
        200
    );
}

async fn endpoints_belong_to_one_organization_and_region(db: TestDb) {
    let w = world(&db).await;
    assert_eq!(
        w.assign(&w.admin_a, &w.org_a, "aws-us-east-2", E1)
            .await
            .status,
        200
    );
    let other_org = w.assign(&w.admin_b, &w.org_b, "aws-us-east-2", E1).await;
    assert_error(
        &other_org,
        409,
        "vpc_endpoint_in_use",
        "already assigned to another organization",
    );
    let other_region = w.assign(&w.admin_a, &w.org_a, "aws-us-east-1", E1).await;
    assert_error(
        &other_region,
        409,
        "vpc_endpoint_in_other_region",
        "aws-us-east-2",
    );
    assert!(w.endpoint_ids(&w.org_b).await.is_empty());
}

async fn bad_input_names_the_field_and_the_fix(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    let vpc_id = w
        .assign(&w.admin_a, &a, "aws-us-east-2", "vpc-0abc1234def567890")
        .await;
    assert_error(
        &vpc_id,
        400,
        "invalid_input",
        "this is a VPC id; enter the VPC endpoint id (vpce-…)",
    );
    let short = w.assign(&w.admin_a, &a, "aws-us-east-2", "vpce-123").await;
    assert_error(&short, 400, "invalid_input", "has 3 hexadecimal digits");
    let region = w.assign(&w.admin_a, &a, "aws-mars-1", E1).await;
    assert_error(&region, 422, "region_not_supported", "aws-us-east-2");
    let label = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"),
            Some(json!({"label": "x".repeat(65)})),
        )
        .await;
    assert_error(&label, 400, "invalid_input", "Invalid label");
    let json = w
        .app
        .client
        .post(w.app.url(&format!(
            "/api/v2/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{E1}"
        )))
        .bearer_auth(&w.admin_a)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let unknown = w
        .call(
            Some(&w.admin_a),
            Method::PATCH,
            &format!("/projects/{}", w.project_a),
            Some(json!({"project": {"pg_version": 17}})),
        )
        .await;
    assert_error(&unknown, 400, "invalid_input", "unknown field `pg_version`");
    let limit = w
        .get(&w.admin_a, &format!("/projects?org_id={a}&limit=0"))
        .await;
    assert_error(&limit, 400, "invalid_input", "Invalid limit");
    assert!(w.endpoint_ids(&a).await.is_empty());
    let unknown_path = w.get(&w.admin_a, "/nothing/here").await;
    assert_error(&unknown_path, 404, "not_found", "openapi.json");
    // A path segment that cannot be decoded is refused in the same JSON shape (not axum's
    // plain text), with the request id.
    let undecodable = w.get(&w.admin_a, "/projects/%FF%FE").await;
    assert_error(&undecodable, 400, "invalid_input", "could not be read");
    assert_eq!(
        undecodable.body["request_id"],
        undecodable.request_id.as_str()
    );
}

async fn without_the_feature_changes_are_refused(db: TestDb) {
    let w = world(&db).await;
    let answer = w
        .assign(&w.admin_free, &w.org_free, "aws-us-east-2", E1)
        .await;
    assert_error(&answer, 403, "feature_not_available", "Request a trial");
    assert!(w.endpoint_ids(&w.org_free).await.is_empty());
    // Reading is allowed.
    let list = w
        .get(
            &w.admin_free,
            &format!("/organizations/{}/vpc/vpc_endpoints", w.org_free),
        )
        .await;
    assert_eq!(list.status, 200);
}

async fn revoked_and_expired_keys_are_refused(db: TestDb) {
    let w = world(&db).await;
    let op = Caller::operator_cli();
    let org = OrgId::parse(&w.org_a).unwrap();
    let key = w
        .app
        .services
        .create_api_key(
            &op,
            &KeyOwner::Org(org.clone()),
            "short",
            Some(START_MS + 1_000),
        )
        .await
        .unwrap();
    let path = "/users/me/organizations";
    assert_eq!(w.get(&key.token, path).await.status, 200);
    w.clock.advance(1_000);
    assert_error(
        &w.get(&key.token, path).await,
        401,
        "unauthorized",
        "expired or revoked",
    );

    let key = w
        .app
        .services
        .create_api_key(&op, &KeyOwner::Org(org), "revoked", None)
        .await
        .unwrap();
    assert_eq!(w.get(&key.token, path).await.status, 200);
    w.app.services.revoke_api_key(&op, &key.id).await.unwrap();
    assert_error(
        &w.get(&key.token, path).await,
        401,
        "unauthorized",
        "expired or revoked",
    );
}

/// Each instance caches what nearly every call reads (the key, the project, its organization,
/// its network version), yet a change committed by another instance — or, on SQLite, by
/// another process on the same file, which sends no notification — is seen by the very next
/// request here: the cache is checked against the feed head, read after the request arrived.
async fn a_change_made_elsewhere_is_seen_by_the_next_request(db: TestDb) {
    let w = world(&db).await;
    let elsewhere = common::spawn_app(&db).await;
    let op = Caller::operator_cli();
    let key = w
        .app
        .services
        .create_api_key(
            &op,
            &KeyOwner::Org(OrgId::parse(&w.org_a).unwrap()),
            "cached",
            None,
        )
        .await
        .unwrap();
    let path = format!("/projects/{}", w.project_a);
    for _ in 0..3 {
        let read = w.get(&key.token, &path).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(
            read.body["project"]["settings"]["block_public_connections"],
            false
        );
    }

    let patched = elsewhere
        .client
        .patch(elsewhere.url(&format!("/api/v2{path}")))
        .bearer_auth(&w.admin_a)
        .json(&json!({"project": {"settings": {"block_public_connections": true}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    let read = w.get(&key.token, &path).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["project"]["settings"]["block_public_connections"], true,
        "the other instance's change is seen at once: {}",
        read.body
    );

    elsewhere
        .services
        .revoke_api_key(&op, &key.id)
        .await
        .unwrap();
    assert_error(
        &w.get(&key.token, &path).await,
        401,
        "unauthorized",
        "expired or revoked",
    );
}

// ---- reconciler, audit, access decision ----------------------------------------------------

async fn the_simulator_accepts_and_rejects(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    let bad = "vpce-0bad0000000000001";
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", bad).await.status,
        200
    );
    let simulator = Simulator {
        accept_delay_ms: 3_000,
        reject_pattern: "vpce-0bad*".into(),
        reject_reason: "not allowed".into(),
        missing_pattern: String::new(),
        allowed_accounts: Default::default(),
    };
    let state = |id: &'static str| {
        let w = &w;
        let a = a.clone();
        async move {
            w.get(
                &w.admin_a,
                &format!("/organizations/{a}/vpc/region/aws-us-east-2/vpc_endpoints/{id}"),
            )
            .await
            .body
        }
    };
    reconcile_once(&w.app.services, &simulator).await.unwrap();
    assert_eq!(state(E1).await["state"], "new");
    let rejected = state(bad).await;
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["rejection_reason"], "not allowed");
    w.clock.advance(3_000);
    reconcile_once(&w.app.services, &simulator).await.unwrap();
    assert_eq!(state(E1).await["state"], "accepted");
    // The provider says which of the region's service names the endpoint connected to;
    // a rejected endpoint connected to none.
    let accepted = w.app.store.assignment(E1).await.unwrap().unwrap();
    let region = w
        .app
        .services
        .catalog()
        .get(&app::domain::RegionId::parse("aws-us-east-2").unwrap())
        .unwrap()
        .clone();
    let service = accepted.service_name.expect("a service name once accepted");
    assert!(region.service_names.contains(&service), "{service}");
    let rejected_row = w.app.store.assignment(bad).await.unwrap().unwrap();
    assert_eq!(rejected_row.service_name, None);

    // Settings are not the reconciler's to apply: without a proxy they stay unconfirmed
    // (tests/proxy.rs shows them applied by proxies).
    let p = w.project_a.clone();
    w.call(
        Some(&w.admin_a),
        Method::PATCH,
        &format!("/projects/{p}"),
        Some(json!({"project": {"settings": {"block_public_connections": true}}})),
    )
    .await;
    reconcile_once(&w.app.services, &simulator).await.unwrap();
    let project = w.get(&w.admin_a, &format!("/projects/{p}")).await;
    assert_eq!(
        project.body["project"]["network_settings_state"]["block_public_connections"],
        "no_data_plane"
    );

    // Every change is in the audit log, with who did it.
    let audit = w.app.store.audit_of_org(&a, 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"vpc_endpoint.assign"));
    assert!(actions.contains(&"vpc_endpoint.state"));
    assert!(actions.contains(&"project.settings"));
    let settings = audit
        .iter()
        .find(|e| e.action == "project.settings")
        .unwrap();
    assert_eq!(settings.actor_kind, "api_key");
    assert!(settings.actor_name.contains("ada@acme.test"));
    assert!(settings.request_id.is_some());
    assert!(settings
        .before_value
        .as_deref()
        .unwrap()
        .contains("\"block_public_connections\":false"));
}

async fn the_data_plane_gets_access_decisions(db: TestDb) {
    let w = world_with(&db, &["--data-plane-token", "dp-secret-token"]).await;
    let (a, p) = (w.org_a.clone(), w.project_a.clone());
    let ask = |query: String, token: Option<&'static str>| {
        let w = &w;
        async move {
            let mut req = w
                .app
                .client
                .get(w.app.url(&format!("/api/internal/v1/access?{query}")));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let q = |endpoint: &str| format!("project_id={p}&vpc_endpoint_id={endpoint}");
    assert_eq!(ask(q(E1), None).await.0, 401);
    assert_eq!(ask(q(E1), Some("wrong")).await.0, 401);
    // An API key is not a data-plane token.
    let mut req = w
        .app
        .client
        .get(w.app.url(&format!("/api/internal/v1/access?{}", q(E1))));
    req = req.bearer_auth(&w.admin_a);
    assert_eq!(req.send().await.unwrap().status(), 401);

    let (status, public) = ask(format!("project_id={p}"), Some("dp-secret-token")).await;
    assert_eq!(
        (status, public["allow"].clone(), public["reason"].clone()),
        (200, json!(true), json!("public_allowed"))
    );
    let (_, unassigned) = ask(q(E1), Some("dp-secret-token")).await;
    assert_eq!(unassigned["reason"], "vpc_endpoint_not_assigned");
    // An empty endpoint id is not "public": the call fails closed.
    let (status, empty) = ask(q(""), Some("dp-secret-token")).await;
    assert_eq!(status, 400, "{empty}");
    assert!(empty.get("allow").is_none(), "{empty}");
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    let (_, pending) = ask(q(E1), Some("dp-secret-token")).await;
    assert_eq!(pending["reason"], "vpc_endpoint_not_accepted");
    let simulator = Simulator {
        accept_delay_ms: 0,
        reject_pattern: "none".into(),
        reject_reason: String::new(),
        missing_pattern: String::new(),
        allowed_accounts: Default::default(),
    };
    reconcile_once(&w.app.services, &simulator).await.unwrap();
    let (_, allowed) = ask(q(E1), Some("dp-secret-token")).await;
    assert_eq!(allowed["allow"], true);

    // By hostname, with public access blocked.
    let host = w.get(&w.admin_a, &format!("/projects/{p}")).await.body["project"]["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    w.call(
        Some(&w.admin_a),
        Method::PATCH,
        &format!("/projects/{p}"),
        Some(json!({"project": {"settings": {"block_public_connections": true}}})),
    )
    .await;
    let (_, blocked) = ask(format!("hostname={host}"), Some("dp-secret-token")).await;
    assert_eq!(blocked["allow"], false);
    assert_eq!(blocked["reason"], "public_connections_blocked");
    assert!(blocked["message"].as_str().unwrap().contains("not allowed"));

    // Restricted to another endpoint: denied.
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E2).await.status,
        200
    );
    w.call(
        Some(&w.admin_a),
        Method::POST,
        &format!("/projects/{p}/vpc_endpoints/{E2}"),
        None,
    )
    .await;
    let (_, excluded) = ask(q(E1), Some("dp-secret-token")).await;
    assert_eq!(excluded["reason"], "vpc_endpoint_not_in_restrictions");
    let (_, unknown) = ask("hostname=ep-nope.example".into(), Some("dp-secret-token")).await;
    assert_eq!(unknown["reason"], "project_not_found");
    let _ = (&w.project_a_east1, &w.project_b);
}

async fn the_openapi_document_describes_every_operation(db: TestDb) {
    let w = world(&db).await;
    // Served without a key, so tools can discover the API.
    let res = w
        .app
        .client
        .get(w.app.url("/api/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(operations, 28, "{:?}", paths.keys().collect::<Vec<_>>());
    assert_eq!(
        paths["/projects/shared"]["get"]["operationId"],
        "listSharedProjects"
    );
    // The API-key operations under Neon's names (neonctl and the api-client call these).
    for (path, method, id) in [
        ("/api_keys", "get", "listApiKeys"),
        ("/api_keys", "post", "createApiKey"),
        ("/api_keys/{key_id}", "delete", "revokeApiKey"),
        ("/organizations/{org_id}/api_keys", "get", "listOrgApiKeys"),
        (
            "/organizations/{org_id}/api_keys",
            "post",
            "createOrgApiKey",
        ),
        (
            "/organizations/{org_id}/api_keys/{key_id}",
            "delete",
            "revokeOrgApiKey",
        ),
    ] {
        assert_eq!(paths[path][method]["operationId"], id, "{path} {method}");
    }
    let update = &paths["/projects/{project_id}"]["patch"]["requestBody"];
    assert!(
        update.to_string().contains("ProjectUpdateRequest"),
        "{update}"
    );
    let activity = &paths["/organizations/{org_id}/activity"]["get"];
    assert_eq!(activity["operationId"], "listOrganizationActivity");
    let params: Vec<&str> = activity["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["project_id", "vpc_endpoint_id", "actor", "cursor", "limit"] {
        assert!(params.contains(&name), "{params:?}");
    }
    assert_eq!(
        paths["/organizations/{org_id}/vpc/allowed_aws_accounts/{aws_account_id}"]["post"]
            ["operationId"],
        "allowAwsAccount"
    );
    let assign = &paths
        ["/organizations/{org_id}/vpc/region/{region_id}/vpc_endpoints/{vpc_endpoint_id}"]["post"];
    assert_eq!(assign["operationId"], "assignOrganizationVPCEndpoint");
    assert!(assign["responses"]["409"].is_object());
    assert!(
        doc["components"]["schemas"]["VpcEndpointDetails"]["properties"]["num_restricted_projects"]
            .is_object()
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

async fn two_organizations_racing_for_one_endpoint_leave_it_with_one(db: TestDb) {
    let w = world(&db).await;
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        for (org, key) in [(&w.org_a, &w.admin_a), (&w.org_b, &w.admin_b)] {
            let client = w.app.client.clone();
            let url = w.app.url(&format!(
                "/api/v2/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/vpce-{:017x}",
                0x7000 + i
            ));
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let res = client.post(url).bearer_auth(key).send().await.unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap();
                (status, body["code"].as_str().unwrap_or("").to_string())
            }));
        }
    }
    for task in tasks {
        match task.await.unwrap() {
            (200, _) => {}
            (409, code) => assert_eq!(code, "vpc_endpoint_in_use"),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let mut a = w.endpoint_ids(&w.org_a).await;
    let b = w.endpoint_ids(&w.org_b).await;
    assert_eq!(
        a.len() + b.len(),
        8,
        "every endpoint went to exactly one organization"
    );
    a.retain(|id| b.contains(id));
    assert!(a.is_empty());
}

/// Allowed AWS accounts: members read, admins change, the id is checked with a specific
/// message, removing tightens (allowed without the feature) and adding loosens (not).
async fn allowed_aws_accounts_are_managed_by_admins(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    let path = format!("/organizations/{a}/vpc/allowed_aws_accounts");
    let added = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("{path}/123456789012"),
            Some(json!({"note": "prod account"})),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["aws_account_id"], "123456789012");
    let listed = w.get(&w.member_a, &path).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["accounts"][0]["note"], "prod account");
    // A member may not change the list; another organization cannot see it.
    let refused = w
        .call(
            Some(&w.member_a),
            Method::POST,
            &format!("{path}/210987654321"),
            None,
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(w.get(&w.admin_b, &path).await.status, 404);
    // A bad id says which field and why.
    let bad = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("{path}/12345"),
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["message"]
        .as_str()
        .unwrap()
        .contains("aws_account_id"));
    assert!(bad.body["message"].as_str().unwrap().contains("12"));
    // Removing, then removing again.
    let removed = w
        .call(
            Some(&w.admin_a),
            Method::DELETE,
            &format!("{path}/123456789012"),
            None,
        )
        .await;
    assert_eq!(
        (removed.status, removed.body.clone()),
        (StatusCode::OK, json!({}))
    );
    let again = w
        .call(
            Some(&w.admin_a),
            Method::DELETE,
            &format!("{path}/123456789012"),
            None,
        )
        .await;
    assert_eq!(again.status, 404);
    // Without the feature, adding is refused.
    let free = w.org_free.clone();
    let refused = w
        .call(
            Some(&w.admin_free),
            Method::POST,
            &format!("/organizations/{free}/vpc/allowed_aws_accounts/123456789012"),
            None,
        )
        .await;
    assert_eq!(refused.body["code"], "feature_not_available");
    // Every change is audited.
    let audit = w.app.store.audit_of_org(&a, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "aws_account.allow"));
    assert!(audit.iter().any(|e| e.action == "aws_account.disallow"));
}

/// A provider that reports each endpoint's owner account, as AWS does.
struct OwnerReporting {
    owner: String,
    synced: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl enclave::reconciler::Provider for OwnerReporting {
    fn name(&self) -> &'static str {
        "owner-reporting"
    }

    async fn review_endpoint(
        &self,
        request: &enclave::reconciler::ReviewRequest<'_>,
    ) -> anyhow::Result<enclave::reconciler::Review> {
        Ok(enclave::reconciler::Review::Accept {
            service_name: request.region.service_names[0].clone(),
            owner_account: Some(self.owner.clone()),
        })
    }

    async fn sync_allowed_accounts(&self, accounts: &[String]) -> anyhow::Result<()> {
        *self.synced.lock().unwrap() = accounts.to_vec();
        Ok(())
    }
}

/// An endpoint owned by an account its organization has not allowed is rejected with that
/// reason; once allowed, a new endpoint from it is accepted. The services' allowed
/// principals follow the union of every organization's list.
async fn endpoints_from_accounts_not_allowed_are_rejected(db: TestDb) {
    let w = world(&db).await;
    let a = w.org_a.clone();
    let provider = OwnerReporting {
        owner: "111122223333".into(),
        synced: Default::default(),
    };
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E1).await.status,
        200
    );
    reconcile_once(&w.app.services, &provider).await.unwrap();
    let row = w.app.store.assignment(E1).await.unwrap().unwrap();
    assert_eq!(row.state, "rejected");
    let reason = row.state_reason.unwrap();
    assert!(
        reason.contains("111122223333") && reason.contains("has not allowed"),
        "{reason}"
    );
    assert!(provider.synced.lock().unwrap().is_empty());

    let allowed = w
        .call(
            Some(&w.admin_a),
            Method::POST,
            &format!("/organizations/{a}/vpc/allowed_aws_accounts/111122223333"),
            None,
        )
        .await;
    assert_eq!(allowed.status, 200);
    assert_eq!(
        w.assign(&w.admin_a, &a, "aws-us-east-2", E2).await.status,
        200
    );
    reconcile_once(&w.app.services, &provider).await.unwrap();
    let row = w.app.store.assignment(E2).await.unwrap().unwrap();
    assert_eq!(row.state, "accepted");
    assert_eq!(row.owner_account.as_deref(), Some("111122223333"));
    assert_eq!(
        *provider.synced.lock().unwrap(),
        vec!["111122223333".to_string()]
    );
}

on_both_backends!(
    allowed_aws_accounts_are_managed_by_admins,
    endpoints_from_accounts_not_allowed_are_rejected,
    two_organizations_racing_for_one_endpoint_leave_it_with_one,
    the_openapi_document_describes_every_operation,
    every_route_answers_every_principal,
    answers_have_the_neon_shapes,
    a_removed_endpoint_can_never_be_added_back,
    the_region_limit_is_enforced,
    sixty_four_concurrent_assigns_end_with_ten,
    restricting_needs_an_assigned_endpoint_in_the_region,
    an_endpoint_that_restricts_projects_cannot_be_removed,
    endpoints_belong_to_one_organization_and_region,
    bad_input_names_the_field_and_the_fix,
    without_the_feature_changes_are_refused,
    revoked_and_expired_keys_are_refused,
    a_change_made_elsewhere_is_seen_by_the_next_request,
    the_simulator_accepts_and_rejects,
    the_data_plane_gets_access_decisions,
);
