//! The console's setup stepper, organization page and live status over real HTTP on both
//! databases: resuming where an admin left off (recorded by a POST, never by reading a step),
//! AWS details checked and saved, change forms posted without JavaScript coming back to their
//! step (and nowhere else) with the outcome sealed to the session, the same server functions
//! called as the wasm calls them, relabelling, the restricted-projects column, and
//! server-sent events scoped to what the viewer may see.

use crate::common;

use std::time::Duration;

use app::backend::ConsoleBackend;
use app::domain::{Label, OrgId, Plan, RegionId, Role, VpcEndpointId};
use common::{spawn_app, TestApp, TestDb};
use reqwest::{header, StatusCode};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct World {
    app: TestApp,
    /// Kept alive for the test: dropping it deletes the database.
    _db: TestDb,
    org: String,
    project: String,
    admin: String,
    member: String,
    outsider: String,
}

async fn world(db: TestDb) -> World {
    let app = spawn_app(&db).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "admin@acme.test", Role::Admin).await;
    let member = given.member(&org, "member@acme.test", Role::Member).await;
    let outsider = given.person("outsider@other.test").await;
    let project = given.project(&org, "checkout", "aws-us-east-2").await;
    let (admin, member, outsider) = (
        given.session(&admin).await,
        given.session(&member).await,
        given.session(&outsider).await,
    );
    World {
        _db: db,
        org: org.to_string(),
        project: project.id,
        admin,
        member,
        outsider,
        app,
    }
}

impl World {
    fn cookies(&self, session: &str) -> String {
        format!("enclave_csrf={CSRF}; enclave_session={session}")
    }

    async fn get(&self, session: &str, path: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .header(header::COOKIE, self.cookies(session))
            .send()
            .await
            .unwrap()
    }

    /// A change form posted as a browser without JavaScript posts it: to the server
    /// function, asking for a page.
    async fn post(&self, session: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(session, path, form, "text/html,application/xhtml+xml")
            .await
    }

    /// The same call as the wasm makes it: the outcome comes back as JSON.
    async fn call(&self, session: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(session, path, form, "application/json").await
    }

    async fn send(
        &self,
        session: &str,
        path: &str,
        form: &[(&str, &str)],
        accept: &str,
    ) -> reqwest::Response {
        let mut form = form.to_vec();
        // Signed in, the forms carry the session's own token.
        let csrf = enclave::http::console::csrf::session_bound_token(session);
        form.push(("csrf_token", &csrf));
        self.app
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookies(session))
            .header(header::ACCEPT, accept)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// The outcome a redirect after a plain form post carries (`ok|…` or `error|…`), opened
    /// with the session that posted it.
    fn flash(&self, session: &str, res: &reqwest::Response) -> String {
        let location = location(res);
        let sealed = location
            .split_once("outcome=")
            .map(|(_, sealed)| sealed)
            .unwrap_or_default();
        match self.app.services.open_outcome(session, sealed) {
            Some(f) => format!("{}|{}", if f.ok { "ok" } else { "error" }, f.message),
            None => String::new(),
        }
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The page a redirect leads to, without the sealed outcome.
fn page_of(res: &reqwest::Response) -> String {
    let location = location(res);
    location
        .split_once("?outcome=")
        .map(|(page, _)| page.to_string())
        .unwrap_or(location)
}

async fn setup_resumes_where_the_admin_left_off(db: TestDb) {
    let w = world(db).await;
    let resume = format!("/projects/{}/setup", w.project);

    let res = w.get(&w.admin, &resume).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("{resume}/1"),
        "a new setup starts at step 1"
    );

    // Reading a step changes nothing…
    let res = w.get(&w.admin, &format!("{resume}/4")).await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Setup step 4 of 6"), "{html}");
    assert_eq!(
        location(&w.get(&w.admin, &resume).await),
        format!("{resume}/1")
    );

    // …moving to step 3 with its button saves it as the place to come back to.
    let res = w
        .post(
            &w.admin,
            "/fn/go_to_setup_step",
            &[("project_id", &w.project), ("step", "3")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(page_of(&res), format!("{resume}/3"));
    assert_eq!(
        location(&w.get(&w.admin, &resume).await),
        format!("{resume}/3")
    );

    // A member may look at and move through any step, but does not move the saved place.
    let res = w.get(&w.member, &format!("{resume}/5")).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("only the organization"));
    w.post(
        &w.member,
        "/fn/go_to_setup_step",
        &[("project_id", &w.project), ("step", "5")],
    )
    .await;
    assert_eq!(
        location(&w.get(&w.admin, &resume).await),
        format!("{resume}/3")
    );

    // Outsiders learn nothing; steps that do not exist are not pages.
    let res = w.get(&w.outsider, &format!("{resume}/3")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = w.get(&w.admin, &format!("{resume}/7")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn aws_details_are_checked_saved_and_filled_in(db: TestDb) {
    let w = world(db).await;
    let save = "/fn/save_aws_details";
    let step2 = format!("/projects/{}/setup/2", w.project);

    // A VPC endpoint id where the VPC id belongs: refused, nothing saved.
    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &w.project),
                ("vpc_id", "vpce-0123456789abcdef0"),
                ("subnet_ids", "subnet-0123456789abcdef0"),
                ("security_group_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(page_of(&res), step2);
    let outcome = w.flash(&w.admin, &res);
    assert!(
        outcome.starts_with("error|") && outcome.contains("vpc_id"),
        "{outcome}"
    );
    // The sealed outcome is the admin's: anyone else's session cannot open it.
    assert_eq!(w.flash(&w.member, &res), "");
    let caller = w.app.services.session_caller(&w.admin).await.unwrap();
    let progress = w
        .app
        .services
        .setup_progress(&caller, &w.project)
        .await
        .unwrap();
    assert_eq!(progress.vpc_id, "");

    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &w.project),
                ("vpc_id", "vpc-0123456789abcdef0"),
                (
                    "subnet_ids",
                    "subnet-0123456789abcdef0, subnet-0123456789abcdef1",
                ),
                ("security_group_id", "sg-0123456789abcdef0"),
            ],
        )
        .await;
    let outcome = w.flash(&w.admin, &res);
    assert!(outcome.starts_with("ok|Saved"), "{outcome}");
    // The page the browser is sent back to shows it.
    let html = w.get(&w.admin, &location(&res)).await.text().await.unwrap();
    assert!(html.contains("Saved. The commands below"), "{html}");
    let html = w.get(&w.admin, &step2).await.text().await.unwrap();
    // One command per us-east-2 service name, filled in, private DNS left off.
    assert_eq!(
        html.matches("aws ec2 create-vpc-endpoint --region us-east-2")
            .count(),
        2,
        "{html}"
    );
    assert!(html.contains("--vpc-id vpc-0123456789abcdef0"));
    assert!(html.contains("--subnet-ids subnet-0123456789abcdef0 subnet-0123456789abcdef1"));
    assert!(html.contains("--security-group-ids sg-0123456789abcdef0"));
    assert!(html.contains("--no-private-dns-enabled"));
    assert!(html.contains("--port 5432"));

    // Members cannot change the saved details.
    let res = w
        .post(
            &w.member,
            save,
            &[
                ("project_id", &w.project),
                ("vpc_id", "vpc-12345678"),
                ("subnet_ids", "subnet-12345678"),
            ],
        )
        .await;
    let outcome = w.flash(&w.member, &res);
    assert!(
        outcome.starts_with(
            "error|You are a member of this organization, so ask an admin: Only admins"
        ),
        "{outcome}"
    );
    // Called as the wasm calls it, the same refusal is typed: the code tells the page what
    // to say.
    let res = w
        .call(
            &w.member,
            save,
            &[("project_id", &w.project), ("vpc_id", "vpc-12345678")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let error: app::domain::ConsoleError = res.json().await.unwrap();
    assert_eq!(error.code, app::domain::ErrorCode::PermissionDenied);
    let progress = w
        .app
        .services
        .setup_progress(&caller, &w.project)
        .await
        .unwrap();
    assert_eq!(progress.vpc_id, "vpc-0123456789abcdef0");
}

/// On Google Cloud and Azure, step 2 asks for that cloud's network: checked for the project's
/// cloud, saved, and filled into that cloud's commands; the AWS form is refused there and the
/// cloud form on an AWS project.
async fn gcp_and_azure_networks_are_checked_saved_and_filled_in(db: TestDb) {
    let w = world(db).await;
    let given = common::given(&w.app);
    let org = OrgId::parse(&w.org).unwrap();
    let gcp = given.project(&org, "gcp-app", "gcp-us-central1").await.id;
    let azure = given.project(&org, "azure-app", "azure-eastus2").await.id;
    let save = "/fn/save_consumer_network";
    let caller = w.app.services.session_caller(&w.admin).await.unwrap();
    let saved = |project: String| {
        let (services, caller) = (w.app.services.clone(), caller.clone());
        async move {
            services
                .setup_progress(&caller, &project)
                .await
                .unwrap()
                .consumer_network
        }
    };

    // A project number where the project id belongs: refused with its hint, nothing saved.
    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &gcp),
                ("network_owner", "123456789012"),
                ("network_name", "app-network"),
                ("subnet_name", "app-subnet"),
            ],
        )
        .await;
    let outcome = w.flash(&w.admin, &res);
    assert!(
        outcome.starts_with("error|") && outcome.contains("is a project number"),
        "{outcome}"
    );
    assert_eq!(saved(gcp.clone()).await.owner, "");
    // The AWS form on a GCP project, and the cloud form on an AWS project: refused.
    let res = w
        .post(
            &w.admin,
            "/fn/save_aws_details",
            &[
                ("project_id", &gcp),
                ("vpc_id", "vpc-0123456789abcdef0"),
                ("subnet_ids", "subnet-0123456789abcdef0"),
            ],
        )
        .await;
    assert!(w.flash(&w.admin, &res).contains("does not run on AWS"));
    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &w.project),
                ("network_owner", "my-app-prod"),
                ("network_name", "app-network"),
                ("subnet_name", "app-subnet"),
            ],
        )
        .await;
    assert!(w.flash(&w.admin, &res).contains("runs on AWS"));

    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &gcp),
                ("network_owner", "my-app-prod"),
                ("network_name", "app-network"),
                ("subnet_name", "app-subnet"),
            ],
        )
        .await;
    assert!(w.flash(&w.admin, &res).starts_with("ok|Saved"));
    assert_eq!(saved(gcp.clone()).await.network, "app-network");
    let html = w
        .get(&w.admin, &format!("/projects/{gcp}/setup/2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Create the endpoint in Google Cloud"),
        "{html}"
    );
    assert!(html.contains("gcloud compute forwarding-rules create enclave-psc-1"));
    assert!(html.contains("--project=my-app-prod --region=us-central1"));
    assert!(html.contains("google_compute_forwarding_rule"));

    // Members cannot change it.
    let res = w
        .post(
            &w.member,
            save,
            &[
                ("project_id", &azure),
                ("network_owner", "app-rg"),
                ("network_name", "app-vnet"),
                ("subnet_name", "app-subnet"),
            ],
        )
        .await;
    assert!(w
        .flash(&w.member, &res)
        .starts_with("error|You are a member"));
    assert_eq!(saved(azure.clone()).await.owner, "");
    let res = w
        .post(
            &w.admin,
            save,
            &[
                ("project_id", &azure),
                ("network_owner", "app-rg"),
                ("network_name", "app-vnet"),
                ("subnet_name", "app-subnet"),
            ],
        )
        .await;
    assert!(w.flash(&w.admin, &res).starts_with("ok|Saved"));
    let html = w
        .get(&w.admin, &format!("/projects/{azure}/setup/2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("az network private-endpoint create"),
        "{html}"
    );
    assert!(html.contains("--vnet-name app-vnet"));
    assert!(html.contains("--manual-request true"));
    assert!(html.contains("azurerm_private_endpoint"));
    // The GCP project's details are its own.
    assert_eq!(saved(gcp).await.owner, "my-app-prod");
}

async fn stepper_forms_come_back_to_their_step_only(db: TestDb) {
    let w = world(db).await;
    let assign = "/fn/assign_endpoint";
    let step3 = format!("/projects/{}/setup/3", w.project);
    let res = w
        .post(
            &w.admin,
            assign,
            &[
                ("org_id", &w.org),
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("label", "app vpc"),
                ("return_to", &step3),
            ],
        )
        .await;
    assert_eq!(page_of(&res), step3);
    assert!(w
        .flash(&w.admin, &res)
        .contains("is assigned in aws-us-east-2"));

    // Anywhere else falls back to the organization page.
    let res = w
        .post(
            &w.admin,
            assign,
            &[
                ("org_id", &w.org),
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef1"),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(page_of(&res), format!("/orgs/{}", w.org));

    // Relabelling says so.
    let res = w
        .post(
            &w.admin,
            assign,
            &[
                ("org_id", &w.org),
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("label", "payments vpc"),
            ],
        )
        .await;
    let outcome = w.flash(&w.admin, &res);
    assert!(
        outcome.contains("now labelled \"payments vpc\""),
        "{outcome}"
    );

    // Restricting from step 6 comes back to step 6; the organization page then names the
    // project next to the endpoint.
    let step6 = format!("/projects/{}/setup/6", w.project);
    let res = w
        .post(
            &w.admin,
            "/fn/restrict_project",
            &[
                ("project_id", &w.project),
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("return_to", &step6),
            ],
        )
        .await;
    assert_eq!(page_of(&res), step6);
    let view = w.app.services.org_page(&w.admin, &w.org).await.unwrap();
    let endpoint = view
        .endpoints
        .iter()
        .find(|e| e.vpc_endpoint_id == "vpce-0123456789abcdef0")
        .unwrap();
    assert_eq!(
        endpoint.restricted_projects,
        vec![format!("checkout ({})", w.project)]
    );
    assert_eq!(endpoint.label, "payments vpc");
}

/// Reads server-sent events until one `change` event arrives; returns its data.
async fn next_change(res: &mut reqwest::Response, buffer: &mut String) -> String {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.contains("event: change") {
                return event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap()
                    .to_string();
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

async fn live_updates_follow_changes_for_those_who_may_see_them(db: TestDb) {
    let w = world(db).await;
    let events = format!("/events/projects/{}", w.project);

    // Nobody signed in, or not a member: refused.
    let res = w.app.client.get(w.app.url(&events)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = w.get(&w.outsider, &events).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = w.get(&w.outsider, &format!("/events/orgs/{}", w.org)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A member's stream opens with the digest of what their page shows…
    let mut res = w.get(&w.member, &events).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut buffer = String::new();
    let first = next_change(&mut res, &mut buffer).await;
    let page = w
        .app
        .services
        .project_page(&w.member, &w.project)
        .await
        .unwrap();
    assert_eq!(first, page.live_version);

    // …and carries a new one when an admin changes something (here through the API's
    // service layer, as any entry point would).
    let admin = w.app.services.session_caller(&w.admin).await.unwrap();
    w.app
        .services
        .assign_endpoint(
            &admin,
            &OrgId::parse(&w.org).unwrap(),
            &RegionId::parse("aws-us-east-2").unwrap(),
            &VpcEndpointId::parse("vpce-0123456789abcdef0").unwrap(),
            &Label::parse("app").unwrap(),
        )
        .await
        .unwrap();
    let second = next_change(&mut res, &mut buffer).await;
    assert_ne!(second, first);
    let page = w
        .app
        .services
        .project_page(&w.member, &w.project)
        .await
        .unwrap();
    assert_eq!(second, page.live_version);

    // A reconnecting browser catches up: its first event is the current digest.
    let mut again = w.get(&w.member, &events).await;
    let mut buffer = String::new();
    assert_eq!(next_change(&mut again, &mut buffer).await, second);

    // Signing out ends the stream.
    w.app.services.sign_out(&w.member).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends once the session does");
}

/// Each console change's confirmation is a parameter of the service call, checked where the
/// change is written: without it nothing changes, and the refusal's code says why.
async fn console_changes_check_their_confirmations(db: TestDb) {
    use app::backend::ConsoleChange;
    use app::domain::{ErrorCode, IpAllowEntry, ProjectId};
    let w = world(db).await;
    let services = &w.app.services;
    let project = ProjectId::parse(&w.project).unwrap();
    let blocked = || async {
        services
            .project_page(&w.admin, &w.project)
            .await
            .unwrap()
            .block_public_connections
    };
    let block = |confirmed, acknowledge_lockout| ConsoleChange::SetPublicAccess {
        project: project.clone(),
        block: true,
        confirmed,
        acknowledge_lockout,
    };

    // Not from the confirmation form: refused, nothing blocked.
    let e = services
        .change(&w.admin, None, block(false, false))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotConfirmed);
    assert!(!blocked().await);
    // Confirmed, but nothing can reach the project privately: the lockout needs its box.
    let e = services
        .change(&w.admin, None, block(true, false))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AcknowledgementRequired, "{e:?}");
    assert!(e.message.contains("Tick the box"), "{}", e.message);
    assert!(!blocked().await);
    // A member cannot, whatever they tick.
    let e = services
        .change(&w.member, None, block(true, true))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied);
    assert!(!blocked().await);
    let done = services
        .change(&w.admin, None, block(true, true))
        .await
        .unwrap();
    assert!(done.message.contains("being blocked"), "{}", done.message);
    assert!(blocked().await);

    // Lifting the last restriction needs `confirm_open`.
    let endpoint = VpcEndpointId::parse("vpce-0123456789abcdef0").unwrap();
    services
        .change(
            &w.admin,
            None,
            ConsoleChange::AssignEndpoint {
                org: OrgId::parse(&w.org).unwrap(),
                region: RegionId::parse("aws-us-east-2").unwrap(),
                endpoint: endpoint.clone(),
                label: Label::parse("app").unwrap(),
            },
        )
        .await
        .unwrap();
    services
        .change(
            &w.admin,
            None,
            ConsoleChange::Restrict {
                project: project.clone(),
                endpoint: endpoint.clone(),
                acknowledge: false,
            },
        )
        .await
        .unwrap();
    let lift = |confirm_open| ConsoleChange::Unrestrict {
        project: project.clone(),
        endpoint: endpoint.clone(),
        confirm_open,
        acknowledge: false,
    };
    let e = services
        .change(&w.admin, None, lift(false))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfirmationRequired);
    assert!(e.message.contains("The restriction stays"), "{}", e.message);
    let done = services.change(&w.admin, None, lift(true)).await.unwrap();
    assert!(
        done.message.contains("The last restriction is removed"),
        "{}",
        done.message
    );

    // Two admins adding to the IP allow list at once never lose an entry: each add either
    // lands or is told the list changed meanwhile.
    let add = |entry: &str| ConsoleChange::AddAllowedIp {
        project: project.clone(),
        entry: IpAllowEntry::parse(entry).unwrap(),
        note: Label::default(),
        expires_in_days: None,
        acknowledge: true,
    };
    for round in 0..5 {
        let (a, b) = (format!("198.51.100.{round}"), format!("203.0.113.{round}"));
        let (ra, rb) = tokio::join!(
            services.change(&w.admin, None, add(&a)),
            services.change(&w.admin, None, add(&b))
        );
        let list: Vec<String> = services
            .project_page(&w.admin, &w.project)
            .await
            .unwrap()
            .allowed_ips
            .into_iter()
            .map(|e| e.entry)
            .collect();
        for (entry, result) in [(&a, ra), (&b, rb)] {
            match result {
                Ok(_) => assert!(
                    list.contains(entry),
                    "round {round}: {entry} lost: {list:?}"
                ),
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::ChangedMeanwhile, "{e:?}");
                    assert!(!list.contains(entry));
                }
            }
        }
    }
}

on_both_backends!(
    console_changes_check_their_confirmations,
    setup_resumes_where_the_admin_left_off,
    aws_details_are_checked_saved_and_filled_in,
    gcp_and_azure_networks_are_checked_saved_and_filled_in,
    stepper_forms_come_back_to_their_step_only,
    live_updates_follow_changes_for_those_who_may_see_them,
);
