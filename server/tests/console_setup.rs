//! The console's setup stepper, organization page and live status over real HTTP on both
//! databases: resuming where an admin left off, AWS details checked and saved, stepper forms
//! coming back to their step (and nowhere else), relabelling, the restricted-projects column,
//! and server-sent events scoped to what the viewer may see.

mod common;

use std::time::Duration;

use app::backend::ConsoleBackend;
use app::domain::{Label, OrgId, Plan, RegionId, Role, VpcEndpointId};
use common::{spawn_app, TestApp, TestDb};
use enclave::services::Caller;
use reqwest::{header, StatusCode};

const PASSWORD: &str = "correct horse battery staple";
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

async fn session(app: &TestApp, email: &str) -> String {
    app.services
        .create_user(&Caller::operator_cli(), email, Some(PASSWORD), false)
        .await
        .unwrap();
    app.services
        .sign_in(email, PASSWORD, "test", None)
        .await
        .unwrap()
        .token
}

async fn world(db: TestDb) -> World {
    let app = spawn_app(&db).await;
    let cli = Caller::operator_cli();
    let org = app
        .services
        .create_organization(&cli, "Acme", Plan::Scale)
        .await
        .unwrap();
    let admin = session(&app, "admin@acme.test").await;
    let member = session(&app, "member@acme.test").await;
    let outsider = session(&app, "outsider@other.test").await;
    let org_id = OrgId::parse(&org.id).unwrap();
    app.services
        .add_member(&cli, &org_id, "admin@acme.test", Role::Admin)
        .await
        .unwrap();
    app.services
        .add_member(&cli, &org_id, "member@acme.test", Role::Member)
        .await
        .unwrap();
    let project = app
        .services
        .create_project(
            &cli,
            &org_id,
            "checkout",
            &RegionId::parse("aws-us-east-2").unwrap(),
        )
        .await
        .unwrap();
    World {
        app,
        _db: db,
        org: org.id,
        project: project.id,
        admin,
        member,
        outsider,
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

    async fn post(&self, session: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut form = form.to_vec();
        form.push(("csrf_token", CSRF));
        self.app
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookies(session))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The flash message a redirect carries, decoded.
fn flash(res: &reqwest::Response) -> String {
    let raw = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("enclave_flash="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&raw[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
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

    // Rendering step 3 for the admin saves it as the place to come back to.
    let res = w.get(&w.admin, &format!("{resume}/3")).await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Setup step 3 of 6"), "{html}");
    assert_eq!(
        location(&w.get(&w.admin, &resume).await),
        format!("{resume}/3")
    );

    // A member may look at any step, but does not move the saved place.
    let res = w.get(&w.member, &format!("{resume}/5")).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("only the organization"));
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
    let save = format!("/projects/{}/setup/aws", w.project);
    let step2 = format!("/projects/{}/setup/2", w.project);

    // A VPC endpoint id where the VPC id belongs: refused, nothing saved.
    let res = w
        .post(
            &w.admin,
            &save,
            &[
                ("vpc_id", "vpce-0123456789abcdef0"),
                ("subnet_ids", "subnet-0123456789abcdef0"),
                ("security_group_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), step2);
    assert!(flash(&res).contains("vpc_id"), "{}", flash(&res));
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
            &save,
            &[
                ("vpc_id", "vpc-0123456789abcdef0"),
                (
                    "subnet_ids",
                    "subnet-0123456789abcdef0, subnet-0123456789abcdef1",
                ),
                ("security_group_id", "sg-0123456789abcdef0"),
            ],
        )
        .await;
    assert!(flash(&res).starts_with("ok|Saved"), "{}", flash(&res));
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
            &save,
            &[
                ("vpc_id", "vpc-12345678"),
                ("subnet_ids", "subnet-12345678"),
            ],
        )
        .await;
    assert!(
        flash(&res).starts_with("error|Only admins"),
        "{}",
        flash(&res)
    );
    let progress = w
        .app
        .services
        .setup_progress(&caller, &w.project)
        .await
        .unwrap();
    assert_eq!(progress.vpc_id, "vpc-0123456789abcdef0");
}

async fn stepper_forms_come_back_to_their_step_only(db: TestDb) {
    let w = world(db).await;
    let assign = format!("/orgs/{}/endpoints/assign", w.org);
    let step3 = format!("/projects/{}/setup/3", w.project);
    let res = w
        .post(
            &w.admin,
            &assign,
            &[
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("label", "app vpc"),
                ("return_to", &step3),
            ],
        )
        .await;
    assert_eq!(location(&res), step3);
    assert!(flash(&res).contains("is assigned in aws-us-east-2"));

    // Anywhere else falls back to the organization page.
    let res = w
        .post(
            &w.admin,
            &assign,
            &[
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef1"),
                ("return_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&res), format!("/orgs/{}", w.org));

    // Relabelling says so.
    let res = w
        .post(
            &w.admin,
            &assign,
            &[
                ("region_id", "aws-us-east-2"),
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("label", "payments vpc"),
            ],
        )
        .await;
    assert!(
        flash(&res).contains("now labelled \"payments vpc\""),
        "{}",
        flash(&res)
    );

    // Restricting from step 6 comes back to step 6; the organization page then names the
    // project next to the endpoint.
    let step6 = format!("/projects/{}/setup/6", w.project);
    let res = w
        .post(
            &w.admin,
            &format!("/projects/{}/restrictions/add", w.project),
            &[
                ("vpc_endpoint_id", "vpce-0123456789abcdef0"),
                ("return_to", &step6),
            ],
        )
        .await;
    assert_eq!(location(&res), step6);
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

on_both_backends!(
    setup_resumes_where_the_admin_left_off,
    aws_details_are_checked_saved_and_filled_in,
    stepper_forms_come_back_to_their_step_only,
    live_updates_follow_changes_for_those_who_may_see_them,
);
