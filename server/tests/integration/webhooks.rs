//! Webhooks end to end on both databases: a receiver on loopback gets every event, signed the
//! Standard Webhooks way (checked here with the receiver's own HMAC), in order; failed
//! attempts are retried with backoff and logged with their status codes; "send again" works;
//! a server killed mid-retry delivers after its restart; the retry window gives up; private
//! receivers are refused unless the operator allows them.

use crate::common;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::domain::{Plan, Role};
use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use base64::Engine;
use common::{given, spawn_app_with, ServerProcess, TestApp, TestDb};
use enclave::services::{Clock, TrialApplication};
use serde_json::{json, Value};

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

/// A receiver on loopback: answers from `script` in turn, then `then` (changeable).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    then: Arc<Mutex<u16>>,
}

impl Receiver {
    async fn start(script: &[u16], then: u16) -> Self {
        let receiver = Receiver {
            url: String::new(),
            got: Default::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            then: Arc::new(Mutex::new(then)),
        };
        let state = receiver.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let answer = state
                        .script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or(*state.then.lock().unwrap());
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    state.got.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered: answer,
                    });
                    axum::http::StatusCode::from_u16(answer).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            ..receiver
        }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done(requests)` holds, at most `limit`.
    async fn wait_for(&self, limit: Duration, what: &str, done: impl Fn(&[Received]) -> bool) {
        let started = std::time::Instant::now();
        while !done(&self.got()) {
            assert!(
                started.elapsed() < limit,
                "timed out waiting for {what}; received: {:#?}",
                self.got()
                    .iter()
                    .map(|r| (
                        r.id.clone(),
                        r.answered,
                        r.body.chars().take(120).collect::<String>()
                    ))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The receiver's side of Standard Webhooks: HMAC-SHA256 over `id.timestamp.body` with the
/// base64-decoded secret, compared with each `v1,` signature sent.
fn verified(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    r.signature.split(' ').any(|sig| {
        sig.strip_prefix("v1,")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .is_some_and(|tag| ring::hmac::verify(&key, signed.as_bytes(), &tag).is_ok())
    })
}

fn event_type(r: &Received) -> String {
    serde_json::from_str::<Value>(&r.body).unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A receiver's delivery log through the REST API: its status and body.
async fn delivery_log(
    app_base: &str,
    key: &str,
    org: impl std::fmt::Display,
    webhook: &str,
) -> (u16, Value) {
    call(
        app_base,
        key,
        reqwest::Method::GET,
        &format!("/organizations/{org}/webhooks/{webhook}/deliveries"),
        None,
    )
    .await
}

async fn call(
    app_base: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{app_base}/api/v2{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

const FLAGS: &[&str] = &[
    "--webhooks-allow-private-addresses",
    "--webhook-retry-base-ms",
    "100",
    "--reconcile-interval-ms",
    "50",
    "--simulator-accept-delay-ms",
    "0",
    "--simulator-reject-pattern",
    "vpce-0bad*",
    "--data-plane-token",
    "dp-token",
];

async fn register(
    app: &TestApp,
    key: &str,
    org: &str,
    url: &str,
    events: &[&str],
    threshold: i64,
) -> String {
    let (status, body) = call(
        &app.base,
        key,
        reqwest::Method::POST,
        &format!("/organizations/{org}/webhooks"),
        Some(json!({"url": url, "events": events, "refusal_threshold": threshold})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let secret = body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{body}");
    secret
}

async fn every_event_reaches_the_receiver_signed_and_in_order(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app_with(&db, FLAGS, Clock::system()).await;
    let given = given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    let receiver = Receiver::start(&[], 200).await;
    let all: Vec<&str> = app::domain::WebhookEvent::ALL
        .iter()
        .map(|e| e.as_str())
        .collect();
    let secret = register(&app, &admin.api_key, org.as_str(), &receiver.url, &all, 3).await;
    let key = admin.api_key.as_str();
    let region = "/vpc/region/aws-us-east-2/vpc_endpoints";

    // Endpoints: one accepted, one rejected; a restriction added and removed; one removed.
    let good = "vpce-0123456789abcdef0";
    let bad = "vpce-0bad56789abcdef01";
    for id in [good, bad] {
        let (status, body) = call(
            &app.base,
            key,
            Method::POST,
            &format!("/organizations/{org}{region}/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    receiver
        .wait_for(Duration::from_secs(30), "the endpoints settling", |got| {
            let types: Vec<String> = got.iter().map(event_type).collect();
            types.contains(&"endpoint.accepted".into())
                && types.contains(&"endpoint.rejected".into())
        })
        .await;
    let (status, body) = call(
        &app.base,
        key,
        Method::POST,
        &format!("/projects/{project}/vpc_endpoints/{good}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A settings change, applied once the (only) proxy acknowledges the feed's head.
    let (status, body) = call(
        &app.base,
        key,
        Method::PATCH,
        &format!("/projects/{project}"),
        Some(json!({"project": {"settings": {"block_vpc_connections": false, "public_block_report_only": true}}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let head = app.store.feed_head().await.unwrap();
    let internal = reqwest::Client::new();
    let answer = internal
        .post(app.url("/api/internal/v1/heartbeat"))
        .bearer_auth("dp-token")
        .json(
            &json!({"proxy_id": "proxy-test", "version": head, "started_at_ms": 0,
                      "counters": {"accepted": 0, "refused": 0, "active_relays": 0, "revoked": 0}}),
        )
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.text().await);

    // Refusals past the receiver's threshold (3 an hour): one event, not one per report.
    for _ in 0..2 {
        let now = chrono::Utc::now().timestamp_millis();
        let answer = internal
            .post(app.url("/api/internal/v1/evidence"))
            .bearer_auth("dp-token")
            .json(&json!({"proxy_id": "proxy-test", "items": [{
                "project_id": project.as_str(), "vpc_endpoint_id": null, "allowed": false,
                "reason": "public_blocked", "client_network": "203.0.113.0/24", "count": 2,
                "first_seen_ms": now, "last_seen_ms": now}]}))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{:?}", answer.text().await);
    }

    let (status, _) = call(
        &app.base,
        key,
        Method::DELETE,
        &format!("/projects/{project}/vpc_endpoints/{good}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app.base,
        key,
        Method::DELETE,
        &format!("/organizations/{org}{region}/{good}"),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Trials, in an organization whose plan lacks the feature: declined, then approved to
    // end within three days (the notice comes from the background pass), then ended.
    let free = given.org("Freebie", Plan::Free).await;
    let fay = given.member(&free, "fay@free.test", Role::Admin).await;
    let trial_receiver = Receiver::start(&[], 200).await;
    let trial_secret = register(
        &app,
        &fay.api_key,
        free.as_str(),
        &trial_receiver.url,
        &[
            "trial.approved",
            "trial.declined",
            "trial.ending",
            "trial.ended",
        ],
        100,
    )
    .await;
    let services = app.services.clone();
    let fay_caller = given.caller(&fay).await;
    let operator = enclave::services::Caller::operator_cli();
    let application = TrialApplication {
        use_case: "PrivateLink for the payments VPC".into(),
        regions: vec!["aws-us-east-2".into()],
        expected_endpoints: "2".into(),
    };
    let first = services
        .request_trial(&fay_caller, free.as_str(), &application)
        .await
        .unwrap();
    services
        .decline_trial(&operator, &first.id, "Tell us more")
        .await
        .unwrap();
    let second = services
        .request_trial(&fay_caller, free.as_str(), &application)
        .await
        .unwrap();
    let ends = chrono::Utc::now().timestamp_millis() + 2 * 86_400_000;
    services
        .approve_trial(&operator, &second.id, Some(ends))
        .await
        .unwrap();
    trial_receiver
        .wait_for(Duration::from_secs(30), "trial.ending", |got| {
            got.iter().any(|r| event_type(r) == "trial.ending")
        })
        .await;
    // The clock passes the end (moved here in the row, as time would).
    db.execute(&format!(
        "UPDATE trial_requests SET trial_ends_at = 1 WHERE id = '{}'; UPDATE organizations SET trial_ends_at = 1 WHERE id = '{}'",
        second.id, free
    ))
    .await;
    trial_receiver
        .wait_for(Duration::from_secs(30), "trial.ended", |got| {
            got.iter().any(|r| event_type(r) == "trial.ended")
        })
        .await;
    let trial_types: Vec<String> = trial_receiver.got().iter().map(event_type).collect();
    assert_eq!(
        trial_types,
        [
            "trial.declined",
            "trial.approved",
            "trial.ending",
            "trial.ended"
        ]
    );
    assert!(trial_receiver
        .got()
        .iter()
        .all(|r| verified(&trial_secret, r)));

    // The Acme receiver: every event it asked for that happened, each signed, in order.
    receiver
        .wait_for(Duration::from_secs(30), "every event", |got| {
            let types: Vec<String> = got.iter().map(event_type).collect();
            [
                "endpoint.removed",
                "settings.applied",
                "refusals.above_threshold",
            ]
            .iter()
            .all(|t| types.contains(&t.to_string()))
        })
        .await;
    let got = receiver.got();
    let types: Vec<String> = got.iter().map(event_type).collect();
    for expected in [
        "endpoint.accepted",
        "endpoint.rejected",
        "restriction.changed",
        "settings.applied",
        "refusals.above_threshold",
        "endpoint.removed",
    ] {
        assert!(
            types.contains(&expected.to_string()),
            "{expected} missing from {types:?}"
        );
    }
    assert_eq!(
        types.iter().filter(|t| *t == "restriction.changed").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "refusals.above_threshold")
            .count(),
        1,
        "{types:?}"
    );
    for r in &got {
        assert!(verified(&secret, r), "bad signature on {r:?}");
        assert!(!verified(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            r
        ));
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["data"]["organization_id"], org.as_str(), "{body}");
        assert!(body["timestamp"].as_str().is_some(), "{body}");
    }
    let versions: Vec<i64> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["data"]["version"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let mut sorted = versions.clone();
    sorted.sort();
    assert_eq!(
        versions, sorted,
        "deliveries arrive in the order of their changes"
    );
    let accepted: Value = got
        .iter()
        .find(|r| event_type(r) == "endpoint.accepted")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .unwrap();
    assert_eq!(accepted["data"]["target"], good, "{accepted}");
}

async fn failures_are_retried_with_backoff_logged_and_sent_again(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app_with(&db, FLAGS, Clock::system()).await;
    let given = given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let member = given.member(&org, "max@acme.test", Role::Member).await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    given
        .endpoint(&org, "aws-us-east-2", "vpce-0123456789abcdef0", true)
        .await;
    let receiver = Receiver::start(&[500, 500], 200).await;
    let key = admin.api_key.as_str();
    let secret = register(
        &app,
        key,
        org.as_str(),
        &receiver.url,
        &["restriction.changed"],
        100,
    )
    .await;

    // The request that causes the event does not wait for the receiver.
    let started = std::time::Instant::now();
    let (status, _) = call(
        &app.base,
        key,
        Method::POST,
        &format!("/projects/{project}/vpc_endpoints/vpce-0123456789abcdef0"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let answered_in = started.elapsed();
    receiver
        .wait_for(
            Duration::from_secs(30),
            "two failures and a success",
            |got| got.len() >= 3,
        )
        .await;
    let got = receiver.got();
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "one delivery, one webhook-id"
    );
    assert!(got.iter().all(|r| verified(&secret, r)));
    assert!(
        answered_in < Duration::from_secs(5),
        "the change waited {answered_in:?}"
    );

    // The log: the webhook's delivery, delivered on the third attempt, each attempt's code.
    let (_, list) = call(
        &app.base,
        key,
        Method::GET,
        &format!("/organizations/{org}/webhooks"),
        None,
    )
    .await;
    let webhook = list["webhooks"][0]["id"].as_str().unwrap().to_string();
    assert!(list["webhooks"][0].get("secret").is_none(), "{list}");
    // The receiver answers before the dispatcher records the answer: wait for the record.
    let started = std::time::Instant::now();
    let log = loop {
        let (status, log) = delivery_log(&app.base, key, &org, &webhook).await;
        assert_eq!(status, 200, "{log}");
        if log["deliveries"][0]["status"] != "pending" {
            break log;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivery = &log["deliveries"][0];
    assert_eq!(delivery["status"], "delivered", "{log}");
    assert_eq!(delivery["attempts"], 3, "{log}");
    let codes: Vec<i64> = delivery["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    // Backoff: the second wait four times the first (100 ms base), give or take scheduling.
    let at: Vec<chrono::DateTime<chrono::FixedOffset>> = delivery["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!((at[1] - at[0]).num_milliseconds() >= 100, "{log}");
    assert!((at[2] - at[1]).num_milliseconds() >= 400, "{log}");

    // Send again: the same message, once more.
    let id = delivery["id"].as_str().unwrap();
    let (status, body) = call(
        &app.base,
        key,
        Method::POST,
        &format!("/organizations/{org}/webhooks/deliveries/{id}/redeliver"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    receiver
        .wait_for(Duration::from_secs(30), "the redelivery", |got| {
            got.len() >= 4
        })
        .await;
    assert_eq!(receiver.got()[3].id, id);

    // Members see nothing and change nothing; bad input names the field.
    let (status, _) = call(
        &app.base,
        &member.api_key,
        Method::GET,
        &format!("/organizations/{org}/webhooks"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    for (body, field) in [
        (
            json!({"url": "https://hooks.example.com/x", "events": ["endpoint.acepted"]}),
            "endpoint.accepted",
        ),
        (
            json!({"url": "https://hooks.example.com/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "hooks.example.com", "events": ["trial.ended"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example.com/x", "events": ["trial.ended"], "refusal_threshold": 0}),
            "refusal_threshold",
        ),
    ] {
        let (status, answer) = call(
            &app.base,
            key,
            Method::POST,
            &format!("/organizations/{org}/webhooks"),
            Some(body),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    // Deleting a receiver removes its log.
    let (status, _) = call(
        &app.base,
        key,
        Method::DELETE,
        &format!("/organizations/{org}/webhooks/{webhook}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = delivery_log(&app.base, key, &org, &webhook).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "webhook_not_found");
}

async fn private_receivers_are_refused_unless_allowed(db: TestDb) {
    use reqwest::Method;
    let app = spawn_app_with(&db, &[], Clock::system()).await;
    let given = given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    for (url, hint) in [
        ("http://hooks.example.com/x", "HTTPS"),
        ("https://127.0.0.1/x", "not a public address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
        ("https://[::1]:8443/x", "not a public address"),
        ("https://localhost/x", "not a public address"),
    ] {
        let (status, body) = call(
            &app.base,
            &admin.api_key,
            Method::POST,
            &format!("/organizations/{org}/webhooks"),
            Some(json!({"url": url, "events": ["trial.ended"]})),
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(hint),
            "{url}: {body}"
        );
    }
    // At most ten receivers per organization.
    for n in 0..10 {
        register(
            &app,
            &admin.api_key,
            org.as_str(),
            &format!("https://hooks{n}.example.com/x"),
            &["trial.ended"],
            100,
        )
        .await;
    }
    let (status, body) = call(
        &app.base,
        &admin.api_key,
        Method::POST,
        &format!("/organizations/{org}/webhooks"),
        Some(json!({"url": "https://one-more.example.com/x", "events": ["trial.ended"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "too_many_webhooks");
}

async fn deliveries_are_given_up_after_the_window(db: TestDb) {
    use reqwest::Method;
    let clock = Clock::manual(chrono::Utc::now().timestamp_millis());
    let app = spawn_app_with(&db, FLAGS, clock.clone()).await;
    let given = given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    given
        .endpoint(&org, "aws-us-east-2", "vpce-0123456789abcdef0", true)
        .await;
    let receiver = Receiver::start(&[], 503).await;
    register(
        &app,
        &admin.api_key,
        org.as_str(),
        &receiver.url,
        &["restriction.changed"],
        100,
    )
    .await;
    let (status, _) = call(
        &app.base,
        &admin.api_key,
        Method::POST,
        &format!("/projects/{project}/vpc_endpoints/vpce-0123456789abcdef0"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    receiver
        .wait_for(Duration::from_secs(30), "the first attempt", |got| {
            !got.is_empty()
        })
        .await;
    let (_, list) = call(
        &app.base,
        &admin.api_key,
        Method::GET,
        &format!("/organizations/{org}/webhooks"),
        None,
    )
    .await;
    let webhook = list["webhooks"][0]["id"].as_str().unwrap().to_string();
    // The receiver answers before the dispatcher records the attempt and schedules the next
    // from the clock: wait for the record, or the day below would pass before it.
    let started = std::time::Instant::now();
    loop {
        let (_, log) = delivery_log(&app.base, &admin.api_key, &org, &webhook).await;
        if log["deliveries"][0]["attempts"] == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A day later (the default window) the next attempt fails too: given up, shown failed.
    clock.advance(25 * 3_600_000);
    receiver
        .wait_for(Duration::from_secs(30), "the last attempt", |got| {
            got.len() >= 2
        })
        .await;
    let started = std::time::Instant::now();
    loop {
        let (_, log) = delivery_log(&app.base, &admin.api_key, &org, &webhook).await;
        if log["deliveries"][0]["status"] == "failed" {
            assert_eq!(log["deliveries"][0]["last_status_code"], 503, "{log}");
            assert!(log["deliveries"][0]["next_attempt_at"].is_null(), "{log}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never given up: {log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 2, "nothing is sent after giving up");

    // Finished deliveries are kept 30 days, then pruned with their attempts; hourly refusal
    // counts a day (one from the current hour, one a week older).
    let hour = clock.now_ms() - clock.now_ms().rem_euclid(3_600_000);
    db.execute(&format!(
        "INSERT INTO refusal_hours (project_id, hour, refused) VALUES ('{project}', {hour}, 5), \
         ('{project}', {}, 7)",
        hour - 7 * 86_400_000
    ))
    .await;
    let refusal_hours = "SELECT COUNT(*) FROM refusal_hours";
    let deliveries = "SELECT COUNT(*) FROM webhook_deliveries";
    app.store
        .prune_webhook_deliveries(clock.now_ms())
        .await
        .unwrap();
    assert_eq!(db.count(deliveries, &[]).await, 1);
    assert_eq!(
        db.count(refusal_hours, &[]).await,
        1,
        "the week-old count goes"
    );
    clock.advance(31 * 86_400_000);
    app.store
        .prune_webhook_deliveries(clock.now_ms())
        .await
        .unwrap();
    assert_eq!(db.count(deliveries, &[]).await, 0);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM webhook_attempts", &[]).await,
        0
    );
    assert_eq!(db.count(refusal_hours, &[]).await, 0);
}

async fn a_restart_mid_retry_loses_no_delivery(db: TestDb) {
    use reqwest::Method;
    let receiver = Receiver::start(&[], 500).await;
    let flags = [
        "--migrate",
        "--webhooks-allow-private-addresses",
        "--webhook-retry-base-ms",
        "200",
    ];
    let mut server = ServerProcess::start(&db, &flags).await;
    // Fixtures through services over the same database (an in-process server would also
    // send webhooks, competing with the binary under test).
    let store = db.store().await;
    let config = common::serve_config(&db, &[]);
    let services =
        enclave::startup::services(&config.control_plane, store.clone(), Clock::system()).unwrap();
    let given = common::given_on(services, store);
    let org = given.org("Acme", Plan::Scale).await;
    let admin = given.member(&org, "ada@acme.test", Role::Admin).await;
    let project = given.project(&org, "web", "aws-us-east-2").await.id;
    given
        .endpoint(&org, "aws-us-east-2", "vpce-0123456789abcdef0", true)
        .await;
    let (status, body) = call(
        &server.base,
        &admin.api_key,
        Method::POST,
        &format!("/organizations/{org}/webhooks"),
        Some(json!({"url": receiver.url, "events": ["restriction.changed"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let secret = body["secret"].as_str().unwrap().to_string();
    let (status, _) = call(
        &server.base,
        &admin.api_key,
        Method::POST,
        &format!("/projects/{project}/vpc_endpoints/vpce-0123456789abcdef0"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    receiver
        .wait_for(Duration::from_secs(30), "failing attempts", |got| {
            got.len() >= 2
        })
        .await;

    // Killed mid-retry; the receiver recovers while the server is down.
    server.kill();
    *receiver.then.lock().unwrap() = 200;
    let _server = ServerProcess::start(&db, &flags).await;
    receiver
        .wait_for(
            Duration::from_secs(30),
            "the delivery after the restart",
            |got| got.iter().any(|r| r.answered == 200),
        )
        .await;
    let got = receiver.got();
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "the same delivery, resumed"
    );
    assert!(got.iter().all(|r| verified(&secret, r)));
    // The receiver answers before the dispatcher records the answer.
    let started = std::time::Instant::now();
    loop {
        let delivered = db
            .count(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'",
                &[],
            )
            .await;
        if delivered == 1 {
            break;
        }
        assert_eq!(delivered, 0, "one delivery, recorded once");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the 200 answer was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(
    every_event_reaches_the_receiver_signed_and_in_order,
    failures_are_retried_with_backoff_logged_and_sent_again,
    private_receivers_are_refused_unless_allowed,
    deliveries_are_given_up_after_the_window,
    a_restart_mid_retry_loses_no_delivery,
);
