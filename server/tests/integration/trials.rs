//! Trials on both databases: one open request per organization, only admins request and only
//! operators review, an approved trial entitles, and an ended trial (by the clock, no job)
//! keeps everything configured while refusing new assignments — in the service layer and on
//! the REST API.

use crate::common;

use app::domain::{Label, OrgId, Plan, ProjectId, RegionId, Role, VpcEndpointId};
use common::{spawn_app_with, TestApp, TestDb};
use enclave::services::{
    Caller, Clock, ProjectRef, TrialApplication, TrialStatus, DEFAULT_TRIAL_DAYS,
};
use enclave::store::SettingsChange;

const START_MS: i64 = 1_800_000_000_000;
const DAY_MS: i64 = 86_400_000;
const E1: &str = "vpce-0123456789abcdef0";
const E2: &str = "vpce-0123456789abcdef1";

struct World {
    app: TestApp,
    _db: TestDb,
    clock: Clock,
    org: String,
    project: String,
    admin: Caller,
    member: Caller,
    operator: Caller,
    admin_key: String,
}

async fn world(db: TestDb) -> World {
    let clock = Clock::manual(START_MS);
    let app = spawn_app_with(&db, &[], clock.clone()).await;
    let given = common::given(&app);
    let org = given.org("Freeloaders", Plan::Free).await;
    let admin = given.member(&org, "fay@free.test", Role::Admin).await;
    let member = given.member(&org, "max@free.test", Role::Member).await;
    let operator = given.operator("olga@enclave.test").await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    let admin_key = given.org_key(&org, "ci").await;
    let (admin, member, operator) = (
        given.caller(&admin).await,
        given.caller(&member).await,
        given.caller(&operator).await,
    );
    World {
        _db: db,
        clock,
        org: org.to_string(),
        project,
        admin,
        member,
        operator,
        admin_key,
        app,
    }
}

fn application() -> TrialApplication {
    TrialApplication {
        use_case: "Reach the orders database from our EKS cluster".into(),
        regions: vec!["aws-us-east-2".into()],
        expected_endpoints: "2".into(),
    }
}

impl World {
    async fn assign(&self, endpoint: &str) -> Result<(), enclave::services::ServiceError> {
        self.app
            .services
            .assign_endpoint(
                &self.admin,
                &OrgId::parse(&self.org).unwrap(),
                &RegionId::parse("aws-us-east-2").unwrap(),
                &VpcEndpointId::parse(endpoint).unwrap(),
                &Label::default(),
            )
            .await
            .map(|_| ())
    }
}

async fn one_open_request_per_organization(db: TestDb) {
    let w = world(db).await;
    let s = &w.app.services;
    let first = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
    assert_eq!(first.status, "pending");
    let again = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap_err();
    assert_eq!(again.code, "trial_request_pending");
    assert!(again.message.contains("fay@free.test"), "{}", again.message);
    assert!(matches!(
        s.trial_status(&w.member, &w.org).await.unwrap(),
        TrialStatus::Pending(r) if r.id == first.id
    ));

    // Members may look but not ask; a use case is required; regions must exist.
    let member = s
        .request_trial(&w.member, &w.org, &application())
        .await
        .unwrap_err();
    assert_eq!(member.code, "permission_denied");
    let empty = TrialApplication {
        use_case: "  ".into(),
        ..application()
    };
    let w2 = s
        .decline_trial(&w.operator, &first.id, "Tell us more")
        .await
        .unwrap();
    assert_eq!(w2.decline_reason.as_deref(), Some("Tell us more"));
    let err = s.request_trial(&w.admin, &w.org, &empty).await.unwrap_err();
    assert!(err.message.contains("use_case"), "{}", err.message);
    let bad_region = TrialApplication {
        regions: vec!["aws-mars-1".into()],
        ..application()
    };
    let err = s
        .request_trial(&w.admin, &w.org, &bad_region)
        .await
        .unwrap_err();
    assert_eq!(err.code, "region_not_supported");
    // After a decline, a new request may be sent.
    s.request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();

    // Organizations whose plan has the feature need no trial.
    let scale = s
        .create_organization(&Caller::operator_cli(), "Scaled", Plan::Scale)
        .await
        .unwrap();
    let err = s
        .request_trial(&Caller::operator_cli(), &scale.id, &application())
        .await
        .unwrap_err();
    assert_eq!(err.code, "trial_not_needed");
}

async fn only_operators_review(db: TestDb) {
    let w = world(db).await;
    let s = &w.app.services;
    let request = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
    for who in [&w.admin, &w.member] {
        assert_eq!(
            s.approve_trial(who, &request.id, None)
                .await
                .unwrap_err()
                .code,
            "permission_denied"
        );
        assert_eq!(
            s.decline_trial(who, &request.id, "no")
                .await
                .unwrap_err()
                .code,
            "permission_denied"
        );
        assert_eq!(
            s.list_trial_requests(who, None).await.unwrap_err().code,
            "permission_denied"
        );
    }
    assert_eq!(
        s.decline_trial(&w.operator, &request.id, " ")
            .await
            .unwrap_err()
            .code,
        "invalid_input"
    );
    assert_eq!(
        s.approve_trial(&w.operator, &request.id, Some(START_MS - 1))
            .await
            .unwrap_err()
            .code,
        "invalid_input"
    );
    let pending = s
        .list_trial_requests(&w.operator, Some("pending"))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].org_name, "Freeloaders");

    let approved = s
        .approve_trial(&w.operator, &request.id, None)
        .await
        .unwrap();
    assert_eq!(
        approved.trial_ends_at,
        Some(START_MS + DEFAULT_TRIAL_DAYS * DAY_MS)
    );
    // Reviewed once only.
    assert_eq!(
        s.decline_trial(&w.operator, &request.id, "late")
            .await
            .unwrap_err()
            .code,
        "trial_request_not_pending"
    );
    // Every action is in the audit log.
    let actions: Vec<String> = w
        .app
        .store
        .audit_of_org(&w.org, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"trial.request".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"trial.approve".to_string()),
        "{actions:?}"
    );
    // The trial entitles the organization now.
    w.assign(E1).await.unwrap();
}

async fn an_ended_trial_keeps_configuration_and_refuses_new_assignments(db: TestDb) {
    let w = world(db).await;
    let s = &w.app.services;
    assert_eq!(
        w.assign(E1).await.unwrap_err().code,
        "feature_not_available"
    );
    let request = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
    s.approve_trial(&w.operator, &request.id, Some(START_MS + 3 * DAY_MS))
        .await
        .unwrap();
    assert!(matches!(
        s.trial_status(&w.admin, &w.org).await.unwrap(),
        TrialStatus::Active(_)
    ));

    // Configure during the trial: an endpoint, a restriction, public access blocked.
    w.assign(E1).await.unwrap();
    let project = ProjectId::parse(&w.project).unwrap();
    let e1 = VpcEndpointId::parse(E1).unwrap();
    s.restrict_project(
        &w.admin,
        &project,
        &e1,
        &Label::default(),
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();
    s.update_project_settings(
        &w.admin,
        &project,
        &SettingsChange {
            block_public_connections: Some(true),
            block_vpc_connections: None,
            public_block_report_only: None,
            allowed_ips: None,
        },
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();

    // Time passes; no job runs. The trial is over by the clock alone.
    w.clock.advance(3 * DAY_MS + 1);
    assert!(matches!(
        s.trial_status(&w.admin, &w.org).await.unwrap(),
        TrialStatus::Expired(_)
    ));
    let err = w.assign(E2).await.unwrap_err();
    assert_eq!(err.code, "feature_not_available");
    assert!(err.message.contains("trial has ended"), "{}", err.message);

    // Nothing configured was loosened.
    let org_id = OrgId::parse(&w.org).unwrap();
    let endpoints = s.list_org_endpoints(&w.admin, &org_id, None).await.unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        s.project_restrictions(&w.admin, &project)
            .await
            .unwrap()
            .len(),
        1
    );
    let row = s.get_project(&w.admin, &project).await.unwrap();
    assert!(row.block_public_connections);
    let public = s
        .access_decision(&Caller::system(), ProjectRef::Id(&project), None, None)
        .await
        .unwrap();
    assert!(!public.allow, "public access stays blocked");
    // Loosening is a change too, and is refused like any other.
    let err = s
        .update_project_settings(
            &w.admin,
            &project,
            &SettingsChange {
                block_public_connections: Some(false),
                block_vpc_connections: None,
                public_block_report_only: None,
                allowed_ips: None,
            },
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "feature_not_available");

    // The REST API says the same, with the code tooling can act on.
    let res = w
        .app
        .client
        .post(w.app.url(&format!(
            "/api/v2/organizations/{}/vpc/region/aws-us-east-2/vpc_endpoints/{E2}",
            w.org
        )))
        .bearer_auth(&w.admin_key)
        .json(&serde_json::json!({"label": "late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "feature_not_available");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Request a trial"));

    // A new request may be sent once the trial has ended.
    s.request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
}

/// After a trial ends, admins may still tighten — block, restrict an unrestricted project,
/// lift one of several restrictions, remove an endpoint — while everything that lets more
/// in (a new assignment, another restriction on a restricted project, lifting the last one,
/// unblocking) is refused with `feature_not_available`. An operator's lift of the freeze
/// (audited, operators only) allows loosening again until it ends.
async fn without_the_entitlement_tightening_stays_allowed(db: TestDb) {
    const E3: &str = "vpce-0123456789abcdef2";
    let w = world(db).await;
    let s = &w.app.services;
    let request = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
    s.approve_trial(&w.operator, &request.id, Some(START_MS + DAY_MS))
        .await
        .unwrap();
    w.assign(E1).await.unwrap();
    w.assign(E2).await.unwrap();
    w.assign(E3).await.unwrap();
    w.clock.advance(DAY_MS + 1);

    let project = ProjectId::parse(&w.project).unwrap();
    let org_id = OrgId::parse(&w.org).unwrap();
    let region = RegionId::parse("aws-us-east-2").unwrap();
    let [e1, e2, e3] = [E1, E2, E3].map(|e| VpcEndpointId::parse(e).unwrap());
    let refused = |r: Result<(), enclave::services::ServiceError>| {
        let err = r.unwrap_err();
        assert_eq!(err.code, "feature_not_available", "{}", err.message);
        assert!(err
            .message
            .contains("Blocking, restricting and removing stay allowed"));
    };
    let settings = |public: Option<bool>, vpc: Option<bool>| SettingsChange {
        block_public_connections: public,
        block_vpc_connections: vpc,
        public_block_report_only: None,
        allowed_ips: None,
    };

    // Tightening.
    s.restrict_project(
        &w.admin,
        &project,
        &e1,
        &Label::default(),
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();
    s.update_project_settings(
        &w.admin,
        &project,
        &settings(Some(true), Some(true)),
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();
    s.remove_endpoint(
        &w.admin,
        &org_id,
        &region,
        &e3,
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();

    // Loosening.
    refused(w.assign(E3).await);
    refused(
        s.restrict_project(
            &w.admin,
            &project,
            &e2,
            &Label::default(),
            enclave::services::Acknowledgement::NotAsked,
        )
        .await,
    );
    refused(
        s.unrestrict_project(
            &w.admin,
            &project,
            &e1,
            true,
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .map(|_| ()),
    );
    refused(
        s.update_project_settings(
            &w.admin,
            &project,
            &settings(None, Some(false)),
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .map(|_| ()),
    );
    // Nothing loosened.
    let row = s.get_project(&w.admin, &project).await.unwrap();
    assert!(row.block_public_connections && row.block_vpc_connections);
    let restricted: Vec<String> = s
        .project_restrictions(&w.admin, &project)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.vpc_endpoint_id)
        .collect();
    assert_eq!(restricted, vec![E1.to_string()]);

    // Lifting one of two restrictions narrows access too: allowed. (E2 was added while the
    // freeze was lifted below.)
    assert_eq!(
        s.lift_freeze(&w.admin, &org_id, Some(7))
            .await
            .unwrap_err()
            .code,
        "permission_denied"
    );
    let until = s.lift_freeze(&w.operator, &org_id, Some(7)).await.unwrap();
    assert_eq!(until, Some(START_MS + DAY_MS + 1 + 7 * DAY_MS));
    s.restrict_project(
        &w.admin,
        &project,
        &e2,
        &Label::default(),
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();
    s.lift_freeze(&w.operator, &org_id, None).await.unwrap();
    s.unrestrict_project(
        &w.admin,
        &project,
        &e2,
        true,
        enclave::services::Acknowledgement::NotAsked,
    )
    .await
    .unwrap();
    refused(
        s.unrestrict_project(
            &w.admin,
            &project,
            &e1,
            true,
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .map(|_| ()),
    );
    let actions: Vec<String> = w
        .app
        .store
        .audit_of_org(&w.org, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "org.freeze_lift").count(),
        2,
        "{actions:?}"
    );
}

/// Two admins lifting the last two restrictions at once: whichever comes second finds it is
/// lifting the last one, and without confirming that, it is refused — the project stays
/// restricted. With the confirmation it opens.
async fn concurrent_lifts_never_open_a_project_unconfirmed(db: TestDb) {
    let w = world(db).await;
    let s = &w.app.services;
    let request = s
        .request_trial(&w.admin, &w.org, &application())
        .await
        .unwrap();
    s.approve_trial(&w.operator, &request.id, None)
        .await
        .unwrap();
    let project = ProjectId::parse(&w.project).unwrap();
    let [e1, e2] = [E1, E2].map(|e| VpcEndpointId::parse(e).unwrap());
    for _ in 0..5 {
        for e in [&e1, &e2] {
            w.assign(e.as_str()).await.unwrap();
            s.restrict_project(
                &w.admin,
                &project,
                e,
                &Label::default(),
                enclave::services::Acknowledgement::NotAsked,
            )
            .await
            .unwrap();
        }
        let (a, b) = tokio::join!(
            s.unrestrict_project(
                &w.admin,
                &project,
                &e1,
                false,
                enclave::services::Acknowledgement::NotAsked
            ),
            s.unrestrict_project(
                &w.admin,
                &project,
                &e2,
                false,
                enclave::services::Acknowledgement::NotAsked
            ),
        );
        let refused: Vec<_> = [&a, &b]
            .into_iter()
            .filter_map(|r| r.as_ref().err())
            .collect();
        assert_eq!(refused.len(), 1, "{a:?} {b:?}");
        assert_eq!(refused[0].code, "confirmation_required");
        let left = s.project_restrictions(&w.admin, &project).await.unwrap();
        assert_eq!(left.len(), 1, "the project stays restricted");
        let last = VpcEndpointId::parse(&left[0].vpc_endpoint_id).unwrap();
        s.unrestrict_project(
            &w.admin,
            &project,
            &last,
            true,
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap();
        assert!(s
            .project_restrictions(&w.admin, &project)
            .await
            .unwrap()
            .is_empty());
    }
}

on_both_backends!(
    concurrent_lifts_never_open_a_project_unconfirmed,
    without_the_entitlement_tightening_stays_allowed,
    one_open_request_per_organization,
    only_operators_review,
    an_ended_trial_keeps_configuration_and_refuses_new_assignments,
);
