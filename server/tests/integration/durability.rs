//! Crashes: the server binary is killed with SIGKILL at random moments while writes go
//! through the REST API, and restarted. Every write answered 200 must be there afterwards,
//! and every change must have its audit row (nothing half-applied). Both databases.

use crate::common;

use std::time::Duration;

use app::domain::Plan;
use common::{given, spawn_app, ServerProcess, TestDb};
use serde_json::{json, Value};

const REGION: &str = "aws-us-east-2";
const PROJECTS: usize = 40;
const ROUNDS: usize = 4;

/// What the client knows about its writes: those answered 200, and the one in flight when
/// the server died (it may or may not have committed).
#[derive(Default)]
struct Ledger {
    assigned: Vec<String>,
    restricted: Vec<(String, String)>,
    /// The value of `block_public_connections` the last answered PATCH set, and the value
    /// of a PATCH that got no answer after it.
    block_answered: Option<bool>,
    block_in_doubt: Vec<bool>,
    answered: usize,
}

/// A small xorshift, seeded from the clock and printed, so a failing run can be replayed.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low)
    }
}

enum Sent {
    Answered,
    NoAnswer,
}

async fn send(
    client: &reqwest::Client,
    key: &str,
    method: reqwest::Method,
    url: String,
    body: Value,
) -> Sent {
    match client
        .request(method, &url)
        .bearer_auth(key)
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(answer) => {
            let status = answer.status();
            match answer.text().await {
                Ok(text) => {
                    assert_eq!(status, 200, "{url}: {text}");
                    Sent::Answered
                }
                // The status line arrived but the body did not: the server died mid-answer.
                Err(_) => Sent::NoAnswer,
            }
        }
        Err(_) => Sent::NoAnswer,
    }
}

/// Writes until one gets no answer (the server was killed).
async fn write_until_killed(
    base: &str,
    key: &str,
    org: &str,
    projects: &[String],
    next: &mut u64,
    ledger: &mut Ledger,
) {
    let client = reqwest::Client::new();
    loop {
        *next += 1;
        let endpoint = format!("vpce-{:017x}", 0x0d0d_0000_u64 + *next);
        let assign = send(
            &client,
            key,
            reqwest::Method::POST,
            format!(
                "{base}/api/v2/organizations/{org}/vpc/region/{REGION}/vpc_endpoints/{endpoint}"
            ),
            json!({"label": format!("crash {next}")}),
        )
        .await;
        match assign {
            Sent::Answered => ledger.assigned.push(endpoint.clone()),
            Sent::NoAnswer => return,
        }
        ledger.answered += 1;
        if let Some(project) = projects.get(*next as usize) {
            let restrict = send(
                &client,
                key,
                reqwest::Method::POST,
                format!("{base}/api/v2/projects/{project}/vpc_endpoints/{endpoint}"),
                json!({"label": "only this"}),
            )
            .await;
            match restrict {
                Sent::Answered => ledger.restricted.push((project.clone(), endpoint.clone())),
                Sent::NoAnswer => return,
            }
            ledger.answered += 1;
        }
        let block = next.is_multiple_of(2);
        let settings = send(
            &client,
            key,
            reqwest::Method::PATCH,
            format!("{base}/api/v2/projects/{}", projects[0]),
            json!({"project": {"settings": {"block_public_connections": block}}}),
        )
        .await;
        match settings {
            Sent::Answered => {
                ledger.block_answered = Some(block);
                ledger.block_in_doubt.clear();
                ledger.answered += 1;
            }
            Sent::NoAnswer => {
                ledger.block_in_doubt.push(block);
                return;
            }
        }
    }
}

async fn answered_writes_survive_kill_9(db: TestDb) {
    // SQLite commits reach the disk before they are answered (`synchronous=FULL` in WAL):
    // a kill cannot tell that from NORMAL, a power cut can; the store reports what it runs.
    let store = db.store().await;
    if !db.is_postgres() {
        assert_eq!(
            store.sqlite_durability().await.unwrap(),
            Some(("wal".to_string(), "full".to_string()))
        );
    }
    // The world is made in-process through the service layer; the writes go to the binary.
    let app = spawn_app(&db).await;
    let g = given(&app);
    let org = g.org("Crashes", Plan::Scale).await;
    let key = g.org_key(&org, "crash").await;
    let mut projects = Vec::new();
    for n in 0..PROJECTS {
        projects.push(g.project(&org, &format!("p{n}"), REGION).await.id);
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut moments = Moments(seed);
    let mut ledger = Ledger::default();
    let mut next = 0;
    let flags = ["--endpoint-limit", "1000"];
    for round in 0..ROUNDS {
        let mut server = ServerProcess::start(&db, &flags).await;
        let pid = server.pid();
        let after = Duration::from_millis(moments.next_ms(150, 700));
        let killer = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            // SIGKILL from outside, while a write is in flight.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        write_until_killed(
            &server.base,
            &key,
            org.as_str(),
            &projects,
            &mut next,
            &mut ledger,
        )
        .await;
        killer.await.unwrap();
        server.kill();
        eprintln!(
            "round {round}: killed after {after:?}; {} writes answered so far (seed {seed})",
            ledger.answered
        );
    }
    assert!(
        ledger.assigned.len() >= ROUNDS,
        "too few writes were answered to mean anything (seed {seed})"
    );

    let server = ServerProcess::start(&db, &flags).await;
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let key = key.clone();
        let base = server.base.clone();
        async move {
            let answer = client
                .get(format!("{base}/api/v2{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<Value>().await.unwrap()
        }
    };
    let listed = get(format!(
        "/organizations/{org}/vpc/region/{REGION}/vpc_endpoints"
    ))
    .await;
    let listed: Vec<&str> = listed["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["vpc_endpoint_id"].as_str().unwrap())
        .collect();
    for endpoint in &ledger.assigned {
        assert!(
            listed.contains(&endpoint.as_str()),
            "{endpoint} was assigned (200) but is gone after the crash (seed {seed})"
        );
    }
    for (project, endpoint) in &ledger.restricted {
        let restrictions = get(format!("/projects/{project}/vpc_endpoints")).await;
        assert!(
            restrictions["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["vpc_endpoint_id"] == endpoint.as_str()),
            "{project} was restricted to {endpoint} (200) but is not after the crash (seed {seed})"
        );
    }
    let project = get(format!("/projects/{}", projects[0])).await;
    let block = project["project"]["settings"]["block_public_connections"]
        .as_bool()
        .unwrap_or(false);
    let mut possible = ledger.block_in_doubt.clone();
    possible.extend(ledger.block_answered);
    assert!(
        possible.contains(&block),
        "block_public_connections is {block}; the answered PATCH set {:?} (seed {seed})",
        ledger.block_answered
    );

    // Nothing half-applied: every row has its audit row, and no audit row lacks its change.
    let pairs = [
        (
            "SELECT COUNT(*) FROM vpc_endpoint_assignments WHERE org_id = $1",
            "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = 'vpc_endpoint.assign'",
        ),
        (
            "SELECT COUNT(*) FROM project_vpc_endpoint_restrictions r JOIN projects p \
             ON p.id = r.project_id WHERE p.org_id = $1",
            "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = 'project.restrict'",
        ),
    ];
    for (rows, audits) in pairs {
        let (rows_n, audits_n) = (
            db.count(rows, &[org.as_str()]).await,
            db.count(audits, &[org.as_str()]).await,
        );
        assert_eq!(rows_n, audits_n, "{rows} vs {audits} (seed {seed})");
    }
    let last_audit_block = db
        .count(
            "SELECT CAST(CASE WHEN after_value LIKE '%\"block_public_connections\":true%' \
             THEN 1 ELSE 0 END AS BIGINT) \
             FROM audit_log WHERE project_id = $1 AND action = 'project.settings' \
             ORDER BY id DESC LIMIT 1",
            &[&projects[0]],
        )
        .await;
    assert_eq!(
        last_audit_block == 1,
        block,
        "the last settings audit row disagrees with the setting (seed {seed})"
    );
}

on_both_backends!(alone: answered_writes_survive_kill_9);
