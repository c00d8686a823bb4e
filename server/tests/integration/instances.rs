//! Two `enclave serve` binaries on one PostgreSQL database: concurrent writes split across
//! them keep the rules, background work runs on one of them at a time (and moves when that
//! one is killed), a session made on one works on the other, and live updates cross.
//! PostgreSQL only: several instances need a shared database (SQLite is one instance).

use crate::common;

use std::time::{Duration, Instant};

use app::domain::Plan;
use common::{given_on, serve_config, ServerProcess, TestDb, PASSWORD};
use enclave::services::Clock;
use serde_json::{json, Value};

const REGION: &str = "aws-us-east-2";
const FLAGS: [&str; 6] = [
    "--leader-lease-ms",
    "1500",
    "--reconcile-interval-ms",
    "100",
    "--simulator-accept-delay-ms",
    "300",
];

async fn api(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = client
        .request(method, format!("{base}/api/v2{path}"))
        .bearer_auth(key);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Waits (at most 30 s) until every endpoint of the organization in the region is accepted.
async fn all_accepted(client: &reqwest::Client, base: &str, key: &str, org: &str, n: usize) {
    let started = Instant::now();
    loop {
        let (_, listed) = api(
            client,
            base,
            key,
            reqwest::Method::GET,
            &format!("/organizations/{org}/vpc/region/{REGION}/vpc_endpoints"),
            None,
        )
        .await;
        let endpoints = listed["endpoints"].as_array().cloned().unwrap_or_default();
        if endpoints.len() == n && endpoints.iter().all(|e| e["state"] == "accepted") {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not all accepted within 30 s: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_postgres_database() {
    common::bounded(true, "two_instances_share_one_postgres_database", async {
        let Some(db) = TestDb::postgres().await else {
            eprintln!("skipped: set TEST_DATABASE_URL to run PostgreSQL tests");
            return;
        };
        let store = db.store().await;
        let services = enclave::startup::services(
            &serve_config(&db, &[]).control_plane,
            store.clone(),
            Clock::system(),
        )
        .unwrap();
        let g = given_on(services, store.clone());
        let org = g.org("Twice", Plan::Scale).await;
        let key = g.org_key(&org, "both").await;
        let ada = g
            .member(&org, "ada@twice.test", app::domain::Role::Admin)
            .await;
        let project = g.project(&org, "web", REGION).await.id;
        let a = ServerProcess::start(&db, &FLAGS).await;
        let b = ServerProcess::start(&db, &FLAGS).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        // A session made on A works on B.
        let page = client
            .get(format!("{}/sign-in", a.base))
            .send()
            .await
            .unwrap();
        let csrf = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("enclave_csrf="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap();
        let signed_in = client
            .post(format!("{}/fn/sign_in", a.base))
            .header("cookie", format!("enclave_csrf={csrf}"))
            .header("accept", "text/html")
            .form(&[
                ("email", ada.email.as_str()),
                ("password", PASSWORD),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let session = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("enclave_session="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .expect("signed in on A");
        let who: Value = client
            .get(format!("{}/fn/session", b.base))
            .header("cookie", format!("enclave_session={session}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(who["user"]["email"], ada.email.as_str());

        // A live page open on B hears of a change made through A.
        let mut live = client
            .get(format!("{}/events/projects/{project}", b.base))
            .header("cookie", format!("enclave_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(live.status(), 200);
        let mut heard = String::new();
        while heard.matches("event: change").count() < 1 {
            heard.push_str(&String::from_utf8_lossy(
                &live.chunk().await.unwrap().unwrap(),
            ));
        }
        let (status, _) = api(
            &client,
            &a.base,
            &key,
            reqwest::Method::PATCH,
            &format!("/projects/{project}"),
            Some(json!({"project": {"settings": {"block_public_connections": true}}})),
        )
        .await;
        assert_eq!(status, 200);
        tokio::time::timeout(Duration::from_secs(10), async {
            while heard.matches("event: change").count() < 2 {
                heard.push_str(&String::from_utf8_lossy(
                    &live.chunk().await.unwrap().unwrap(),
                ));
            }
        })
        .await
        .expect("the change made on A never reached the live page on B");
        drop(live);

        // 64 concurrent assigns, half through each instance: exactly the limit of 10 land.
        let mut assigns = tokio::task::JoinSet::new();
        for n in 0..64u64 {
            let base = if n % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            let (client, key, org) = (client.clone(), key.clone(), org.to_string());
            assigns.spawn(async move {
                api(
                    &client,
                    &base,
                    &key,
                    reqwest::Method::POST,
                    &format!(
                        "/organizations/{org}/vpc/region/{REGION}/vpc_endpoints/vpce-{:017x}",
                        0xab_0000 + n
                    ),
                    Some(json!({"label": format!("n{n}")})),
                )
                .await
            });
        }
        let answers = assigns.join_all().await;
        let landed = answers.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!(landed, 10, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!(
                body["code"], "vpc_endpoint_limit_reached",
                "{status} {body}"
            );
        }
        all_accepted(&client, &a.base, &key, org.as_str(), 10).await;
        // Each was accepted once: one state change in the audit log apiece.
        let accepted_twice = db
            .count(
                "SELECT COUNT(*) FROM (SELECT target FROM audit_log \
                 WHERE org_id = $1 AND action = 'vpc_endpoint.state' \
                 GROUP BY target HAVING COUNT(*) > 1) AS twice",
                &[org.as_str()],
            )
            .await;
        assert_eq!(accepted_twice, 0);

        // One instance does the background work; kill it, and the other takes over.
        let holder = store.lease("reconciler").await.unwrap().unwrap().holder;
        let (mut leader, survivor) = if holder.contains(&format!(":{}:", a.pid())) {
            (a, b)
        } else {
            assert!(holder.contains(&format!(":{}:", b.pid())), "{holder}");
            (b, a)
        };
        leader.kill();
        let (_, listed) = api(
            &client,
            &survivor.base,
            &key,
            reqwest::Method::GET,
            &format!("/organizations/{org}/vpc/region/{REGION}/vpc_endpoints"),
            None,
        )
        .await;
        let removed = listed["endpoints"][0]["vpc_endpoint_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = api(
            &client,
            &survivor.base,
            &key,
            reqwest::Method::DELETE,
            &format!("/organizations/{org}/vpc/region/{REGION}/vpc_endpoints/{removed}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = api(
            &client,
            &survivor.base,
            &key,
            reqwest::Method::POST,
            &format!(
                "/organizations/{org}/vpc/region/{REGION}/vpc_endpoints/vpce-0fedcba987654321f"
            ),
            Some(json!({"label": "after the crash"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        all_accepted(&client, &survivor.base, &key, org.as_str(), 10).await;
        let holder = store.lease("reconciler").await.unwrap().unwrap().holder;
        assert!(
            holder.contains(&format!(":{}:", survivor.pid())),
            "the survivor did not take the work over: {holder}"
        );
    })
    .await;
}
