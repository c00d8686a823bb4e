//! `enclave proxy` with a real client: tokio-postgres through the proxy to the real Postgres
//! on 127.0.0.1:5432 (the one `TEST_DATABASE_URL` names), with the test playing the load
//! balancer by writing PROXY v2 headers first. The proxy talks to the control plane only
//! through its data-plane API (HTTP, token); the control plane runs on each database in
//! turn. Without `TEST_DATABASE_URL` there is no upstream to relay to, and the relaying
//! scenarios say they are skipped; the refusals are checked regardless.

use crate::common;

use std::{net::SocketAddr, time::Duration};

use app::domain::{Label, OrgId, Plan, ProjectId, VpcEndpointId};
use clap::Parser;
use common::{spawn_app_with, TestApp, TestDb};
use enclave::{
    proxy::{
        pg,
        proxy_protocol::{encode, ProxyHeader},
        Proxy, ProxyConfig, ProxyStats,
    },
    services::{Caller, Clock},
    store::SettingsChange,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const ALLOWED: &str = "vpce-0a0000000000000a1";
const OTHER: &str = "vpce-0a0000000000000b2";
const PENDING: &str = "vpce-0a0000000000000c3";
const TOKEN: &str = "data-plane-token-for-tests";
const LOOPBACK: &str = "127.0.0.0/8";

struct World {
    app: TestApp,
    _db: TestDb,
    proxy: SocketAddr,
    stats: ProxyStats,
    project: ProjectId,
    endpoint: String,
    hostname: String,
    /// `user`, `dbname` and a password-less role on the upstream (trust auth).
    upstream: Option<(String, String)>,
}

/// User and database of `TEST_DATABASE_URL`, if set.
fn upstream() -> Option<(String, String, String)> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let rest = url.split_once("://")?.1;
    let (auth, host_db) = rest.split_once('@')?;
    let user = auth.split(':').next()?.to_string();
    let (host, db) = host_db.split_once('/')?;
    let db = db.split('?').next()?.to_string();
    Some((user, host.to_string(), db))
}

async fn world(db: TestDb, mode: &str) -> World {
    world_with(db, mode, &["--handshake-timeout-ms", "2000"]).await
}

async fn world_with(db: TestDb, mode: &str, extra: &[&str]) -> World {
    world_trusting(db, mode, LOOPBACK, extra).await
}

/// The control plane, an organization with three endpoints (two accepted), a project whose
/// upstream is the test Postgres, and a proxy believing PROXY headers from `trusted`.
async fn world_trusting(db: TestDb, mode: &str, trusted: &str, extra: &[&str]) -> World {
    build_world(db, mode, trusted, extra).await
}

/// A world for a flood (its test runs alone: `on_both_backends!(alone: …)`).
async fn exclusive_world(db: TestDb, extra: &[&str]) -> World {
    let mut args = vec!["--handshake-timeout-ms", "2000"];
    args.extend_from_slice(extra);
    build_world(db, "required", LOOPBACK, &args).await
}

async fn build_world(db: TestDb, mode: &str, trusted: &str, extra: &[&str]) -> World {
    // Two accepted; the third stays `new`.
    let endpoints = [(ALLOWED, true), (OTHER, true), (PENDING, false)];
    build_world_in(db, mode, trusted, extra, &[], "aws-us-east-2", &endpoints).await
}

/// A world whose project is in `region`, with `endpoints` (id, accepted) assigned there;
/// `app_flags` go to the control plane (a region catalog, say).
async fn build_world_in(
    db: TestDb,
    mode: &str,
    trusted: &str,
    extra: &[&str],
    app_flags: &[&str],
    region: &str,
    endpoints: &[(&str, bool)],
) -> World {
    let mut flags = vec!["--data-plane-token", TOKEN];
    flags.extend_from_slice(app_flags);
    let app = spawn_app_with(&db, &flags, Clock::system()).await;
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let project = given.project(&org, "web", region).await;
    let project_id = ProjectId::parse(&project.id).unwrap();
    for (id, accepted) in endpoints {
        given.endpoint(&org, region, id, *accepted).await;
    }
    let cli = Caller::operator_cli();
    let s = &app.services;
    let upstream = upstream();
    if let Some((_, host, _)) = &upstream {
        s.set_project_upstream(&cli, &project_id, host, false)
            .await
            .unwrap();
    }
    let (addr, stats) = start_proxy(&app.base, mode, trusted, extra).await;
    let endpoint = project.hostname.split('.').next().unwrap().to_string();
    let hostname = project.hostname.clone();
    World {
        hostname,
        app,
        _db: db,
        proxy: addr,
        stats,
        project: project_id,
        endpoint,
        upstream: upstream.map(|(u, _, d)| (u, d)),
    }
}

/// A proxy for the control plane at `base`, started and following its change feed.
async fn start_proxy(
    base: &str,
    mode: &str,
    trusted: &str,
    extra: &[&str],
) -> (SocketAddr, ProxyStats) {
    let (proxy, stats) = bind_proxy(base, mode, trusted, extra).await;
    let addr = proxy.local_addr();
    tokio::spawn(proxy.run());
    let started = std::time::Instant::now();
    while stats.applied_version().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the proxy never connected to the change feed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (addr, stats)
}

async fn bind_proxy(base: &str, mode: &str, trusted: &str, extra: &[&str]) -> (Proxy, ProxyStats) {
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        proxy: ProxyConfig,
    }
    let mut args = vec![
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--proxy-protocol",
        mode,
        "--control-plane-url",
        base,
        "--data-plane-token",
        TOKEN,
        "--metrics-listen",
        "127.0.0.1:0",
        "--report-interval-ms",
        "100",
        "--heartbeat-interval-ms",
        "200",
    ];
    if !trusted.is_empty() {
        args.extend_from_slice(&["--trusted-proxies", trusted]);
    }
    args.extend_from_slice(extra);
    let config = Wrapper::parse_from(args).proxy;
    let proxy = Proxy::bind(&config).await.unwrap();
    let stats = proxy.stats();
    (proxy, stats)
}

/// What the client saw.
#[derive(Debug)]
enum Outcome {
    /// Connected and ran `select 1`.
    Connected,
    /// A Postgres error: (SQLSTATE, message).
    Refused(String, String),
    /// The proxy closed the connection without a word.
    Closed,
}

impl World {
    fn header(&self, endpoint: Option<&str>) -> Vec<u8> {
        encode(&ProxyHeader::Proxy {
            source: Some("198.51.100.20:40000".parse().unwrap()),
            vpc_endpoint_id: endpoint.map(str::to_owned),
        })
    }

    /// Connects as a load balancer would deliver a client through `endpoint` (or from the
    /// internet), then speaks Postgres with tokio-postgres.
    async fn connect(&self, endpoint: Option<&str>) -> Outcome {
        let mut stream = TcpStream::connect(self.proxy).await.unwrap();
        stream.write_all(&self.header(endpoint)).await.unwrap();
        let (user, dbname) = self
            .upstream
            .clone()
            .unwrap_or_else(|| ("postgres".into(), "postgres".into()));
        let mut config = tokio_postgres::Config::new();
        config
            .user(&user)
            .dbname(&dbname)
            .options(format!("endpoint={}", self.endpoint))
            .connect_timeout(Duration::from_secs(5));
        let refused = |e: tokio_postgres::Error| match e.as_db_error() {
            Some(db) => Outcome::Refused(db.code().code().to_string(), db.message().to_string()),
            None => Outcome::Closed,
        };
        match config.connect_raw(stream, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                // A connection let in just before a change arrives is revoked by it, possibly
                // while this query runs: that is the change taking effect, so it counts as
                // the refusal it sends.
                match client.query_one("select 1::int4", &[]).await {
                    Ok(row) => {
                        assert_eq!(row.get::<_, i32>(0), 1);
                        Outcome::Connected
                    }
                    Err(e) => refused(e),
                }
            }
            Err(e) => refused(e),
        }
    }

    async fn settings(&self, public: Option<bool>, vpc: Option<bool>) {
        self.app
            .services
            .update_project_settings(
                &Caller::operator_cli(),
                &self.project,
                &SettingsChange {
                    block_public_connections: public,
                    block_vpc_connections: vpc,
                    public_block_report_only: None,
                    allowed_ips: None,
                },
                enclave::services::Acknowledgement::NotAsked,
            )
            .await
            .unwrap();
    }

    async fn restrict(&self, endpoint: &str) {
        self.app
            .services
            .restrict_project(
                &Caller::operator_cli(),
                &self.project,
                &VpcEndpointId::parse_any(endpoint).unwrap(),
                &Label::default(),
                enclave::services::Acknowledgement::NotAsked,
            )
            .await
            .unwrap();
    }

    /// Waits until the proxy has applied every change made so far (it follows the feed).
    async fn settle(&self) {
        let head = self.app.store.feed_head().await.unwrap();
        let started = std::time::Instant::now();
        while self.stats.applied_version().unwrap_or(-1) < head {
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "the proxy did not apply version {head} within 2 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the proxy's evidence to reach the control plane.
    async fn flushed(&self, outcome: &str, at_least: i64) -> Vec<enclave::store::EvidenceRow> {
        let started = std::time::Instant::now();
        loop {
            let rows = self
                .app
                .store
                .evidence_of_project(self.project.as_str(), outcome, 500)
                .await
                .unwrap();
            if rows.iter().map(|r| r.count).sum::<i64>() >= at_least {
                return rows;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "evidence not flushed: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn refused(outcome: &Outcome, sqlstate: &str, message_part: &str) {
    match outcome {
        Outcome::Refused(code, message) => {
            assert_eq!(code, sqlstate, "{message}");
            assert!(message.contains(message_part), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn every_access_decision_reaches_the_client(db: TestDb) {
    let w = world(db, "required").await;
    let relays = w.upstream.is_some();
    if !relays {
        eprintln!("TEST_DATABASE_URL is not set: allowed connections are not relayed in this run");
    }
    let allowed = |o: Outcome| {
        if relays {
            assert!(matches!(o, Outcome::Connected), "{o:?}");
        } else {
            refused(&o, "08001", "not reachable");
        }
    };

    // Public, allowed; an accepted endpoint without restrictions, allowed.
    allowed(w.connect(None).await);
    allowed(w.connect(Some(ALLOWED)).await);
    // An endpoint the organization does not have; one not accepted yet.
    refused(
        &w.connect(Some("vpce-0ffffffffffffffff")).await,
        "28000",
        "",
    );
    refused(&w.connect(Some(PENDING)).await, "28000", "");
    // Restricted to ALLOWED: OTHER is excluded.
    w.restrict(ALLOWED).await;
    w.settle().await;
    allowed(w.connect(Some(ALLOWED)).await);
    refused(&w.connect(Some(OTHER)).await, "28000", "");
    // Public blocked; VPC connections blocked.
    w.settings(Some(true), None).await;
    w.settle().await;
    refused(
        &w.connect(None).await,
        "28000",
        "public internet are not allowed",
    );
    allowed(w.connect(Some(ALLOWED)).await);
    w.settings(None, Some(true)).await;
    w.settle().await;
    refused(
        &w.connect(Some(ALLOWED)).await,
        "28000",
        "VPC endpoints are not allowed",
    );

    // Every refusal was counted and reported, aggregated per endpoint, reason and network.
    let denied = w.flushed("refused", 5).await;
    assert_eq!(w.stats.denied(), 5);
    assert_eq!(denied.iter().map(|d| d.count).sum::<i64>(), 5);
    assert_eq!(denied.len(), 5, "{denied:?}");
    assert_eq!(denied[0].reason, "vpc_connections_blocked");
    assert_eq!(denied[0].client_network, "198.51.100.0/24");
    assert_eq!(denied[0].vpc_endpoint_id, ALLOWED);

    // …and the project's Network Security page shows them to its members.
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    let given = common::given(&w.app);
    let viewer = given
        .member(
            &OrgId::parse(&project.org_id).unwrap(),
            "viewer@acme.test",
            app::domain::Role::Member,
        )
        .await;
    let session = given.session(&viewer).await;
    use app::backend::ConsoleBackend;
    let page = w
        .app
        .services
        .project_page(&session, w.project.as_str())
        .await
        .unwrap();
    assert_eq!(page.denied.len(), 5);
    assert_eq!(page.denied[0].reason, "vpc_connections_blocked");
    assert_eq!(
        page.denied
            .iter()
            .filter(|d| d.vpc_endpoint_id.is_none())
            .count(),
        1
    );
    assert_eq!(page.denied[0].client_network, "198.51.100.0/24");

    // Allowed connections are evidence too: each endpoint shows its last connection.
    w.flushed("allowed", 3).await;
    let page = w
        .app
        .services
        .project_page(&session, w.project.as_str())
        .await
        .unwrap();
    let endpoint = |id: &str| {
        page.endpoints
            .iter()
            .find(|e| e.vpc_endpoint_id == id)
            .unwrap_or_else(|| panic!("{id} on the page"))
            .clone()
    };
    let last = endpoint(ALLOWED)
        .last_connection
        .expect("connections through ALLOWED were let through");
    assert_eq!(last.client_network, "198.51.100.0/24");
    assert!(last.at_ms > 0);
    for id in [OTHER, PENDING] {
        assert_eq!(endpoint(id).last_connection, None, "{id}");
    }
    let org = w
        .app
        .services
        .org_page(&session, &project.org_id)
        .await
        .unwrap();
    let summary = org
        .endpoints
        .iter()
        .find(|e| e.vpc_endpoint_id == ALLOWED)
        .unwrap();
    assert_eq!(summary.last_connection.as_ref(), Some(&last));
}

/// Google Cloud and Azure load balancers name the endpoint in their own TLVs (0xE0, an 8-byte
/// big-endian PSC connection id; 0xEE/0x01, a 4-byte little-endian LinkID; the test's header
/// encoder picks the TLV from the id's form): the proxy reads each and decides exactly as
/// for AWS.
async fn a_clouds_endpoint_tlv_gets_the_same_decision(
    db: TestDb,
    region: &str,
    [allowed_id, other_id, pending_id, twin]: [&str; 4],
    // What the endpoint is called in this cloud and in the other one.
    [noun, other_noun]: [&str; 2],
) {
    let dir = std::env::temp_dir().join(format!("enclave-clouds-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = dir.join("regions.json");
    std::fs::write(
        &catalog,
        r#"{"regions":[
          {"id":"gcp-us-central1","cloud":"gcp","display_name":"Iowa","private_networking":true,
           "service_names":["projects/enclave-prod/regions/us-central1/serviceAttachments/db-cell-1"]},
          {"id":"azure-eastus2","cloud":"azure","display_name":"East US 2","private_networking":true,
           "service_names":["enclave-db.0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.eastus2.azure.privatelinkservice"]}
        ]}"#,
    )
    .unwrap();
    let endpoints = [(allowed_id, true), (other_id, true), (pending_id, false)];
    let w = build_world_in(
        db,
        "required",
        LOOPBACK,
        &["--handshake-timeout-ms", "2000"],
        &["--regions-file", catalog.to_str().unwrap()],
        region,
        &endpoints,
    )
    .await;
    let allowed = |o: Outcome| {
        if w.upstream.is_some() {
            assert!(matches!(o, Outcome::Connected), "{region}: {o:?}");
        } else {
            refused(&o, "08001", "not reachable");
        }
    };
    allowed(w.connect(Some(allowed_id)).await);
    refused(
        &w.connect(Some(pending_id)).await,
        "28000",
        &format!("{noun} {pending_id} has not been accepted yet"),
    );
    w.restrict(allowed_id).await;
    w.settings(Some(true), None).await;
    w.settle().await;
    allowed(w.connect(Some(allowed_id)).await);
    refused(
        &w.connect(Some(other_id)).await,
        "28000",
        &format!("only from its restricted endpoints, and {noun} {other_id} is not one of them"),
    );
    refused(
        &w.connect(None).await,
        "28000",
        "public internet are not allowed",
    );
    // The same number in the other cloud's TLV is another endpoint.
    refused(
        &w.connect(Some(twin)).await,
        "28000",
        &format!("{other_noun} {twin} is not assigned to the organization"),
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn google_cloud_psc_tlvs_get_the_same_decision(db: TestDb) {
    let ids = ["psc-18446744073709551615", "psc-7", "psc-8", "linkid-7"];
    let nouns = ["Private Service Connect endpoint", "Private endpoint"];
    a_clouds_endpoint_tlv_gets_the_same_decision(db, "gcp-us-central1", ids, nouns).await;
}

async fn azure_link_id_tlvs_get_the_same_decision(db: TestDb) {
    let ids = ["linkid-536870913", "linkid-7", "linkid-8", "psc-536870913"];
    let nouns = ["Private endpoint", "Private Service Connect endpoint"];
    a_clouds_endpoint_tlv_gets_the_same_decision(db, "azure-eastus2", ids, nouns).await;
}

/// Over `--max-connections` a client is told so; a client that says nothing is closed when
/// the handshake time is up.
async fn limits_and_timeouts(db: TestDb) {
    let w = world_with(
        db,
        "required",
        &[
            "--max-handshakes",
            "1",
            "--pre-header-timeout-ms",
            "1000",
            "--handshake-timeout-ms",
            "1000",
        ],
    )
    .await;
    let idle = TcpStream::connect(w.proxy).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut second = TcpStream::connect(w.proxy).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), second.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.first(), Some(&b'E'));
    assert!(String::from_utf8_lossy(&answer).contains("53300"));
    // The idle one is closed after the handshake timeout, freeing its slot.
    let mut idle = idle;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest))
        .await
        .expect("closed within the handshake timeout")
        .unwrap();
    assert!(rest.is_empty());
    let outcome = w.connect(None).await;
    assert!(!matches!(outcome, Outcome::Closed), "{outcome:?}");
}

async fn a_change_applies_to_new_connections_within_two_seconds(db: TestDb) {
    let w = world(db, "required").await;
    // Warm the cache with an allowed decision, then block public access through the REST
    // API, as automation would.
    let _ = w.connect(None).await;
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    let key = w
        .app
        .services
        .create_api_key(
            &Caller::operator_cli(),
            &enclave::services::KeyOwner::Org(OrgId::parse(&project.org_id).unwrap()),
            "automation",
            None,
        )
        .await
        .unwrap()
        .token;
    let res = w
        .app
        .client
        .patch(w.app.url(&format!("/api/v2/projects/{}", w.project)))
        .bearer_auth(&key)
        .json(&serde_json::json!({"project": {"settings": {"block_public_connections": true}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let changed = std::time::Instant::now();
    loop {
        let outcome = w.connect(None).await;
        if matches!(outcome, Outcome::Refused(ref code, _) if code == "28000") {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "still {outcome:?} after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bad_headers_are_closed_cleanly(db: TestDb) {
    let w = world(db, "required").await;
    let closed = |bytes: Vec<u8>| {
        let addr = w.proxy;
        async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&bytes).await.unwrap();
            let _ = s.shutdown().await;
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
                .await
                .expect("the proxy closes promptly")
                .ok();
            rest
        }
    };
    // Garbage, a v1 text header, a truncated v2 header: closed, nothing sent.
    assert!(closed(b"GET / HTTP/1.1\r\n\r\n".to_vec()).await.is_empty());
    assert!(closed(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec())
        .await
        .is_empty());
    let full = w.header(Some(ALLOWED));
    assert!(closed(full[..20].to_vec()).await.is_empty());
    // A LOCAL health check is closed quietly too.
    assert!(closed(encode(&ProxyHeader::Local)).await.is_empty());
    // No header at all (a client straight from the internet) when one is required.
    assert!(closed(pg::startup_message(&[("user", "x")]))
        .await
        .is_empty());
    // The proxy still serves after all that.
    let outcome = w.connect(None).await;
    assert!(!matches!(outcome, Outcome::Closed), "{outcome:?}");
    // A startup without the endpoint is told what to do.
    let mut s = TcpStream::connect(w.proxy).await.unwrap();
    s.write_all(&w.header(None)).await.unwrap();
    s.write_all(&pg::startup_message(&[("user", "x")]))
        .await
        .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    assert_eq!(answer[0], b'E');
    assert!(String::from_utf8_lossy(&answer).contains("Endpoint ID is not specified"));
}

async fn optional_and_rejected_modes(db: TestDb) {
    let optional = world(db, "optional").await;
    // With a header, or without one (the TCP peer is the client then).
    let with = optional.connect(None).await;
    assert!(!matches!(with, Outcome::Closed), "{with:?}");
    let mut s = TcpStream::connect(optional.proxy).await.unwrap();
    s.write_all(&pg::startup_message(&[
        ("user", "x"),
        ("options", &format!("endpoint={}", optional.endpoint)),
    ]))
    .await
    .unwrap();
    let mut first = [0u8; 1];
    s.read_exact(&mut first).await.unwrap();
    assert!(
        first[0] == b'R' || first[0] == b'E',
        "a Postgres answer, got {first:?}"
    );
}

/// A self-signed certificate for the test host names, written to PEM files in a fresh
/// directory: (directory, certificate path, key path, the certificate).
fn tls_files() -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    rcgen::CertifiedKey,
) {
    let dir = std::env::temp_dir().join(format!("enclave-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["*.us-east-2.aws.db.enclave.internal".to_string()])
            .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
    (dir, cert_path, key_path, certified)
}

/// TLS with SNI: the client asks for TLS, the proxy presents the configured certificate, and
/// the project is the one the server name names (no endpoint option needed).
async fn tls_clients_are_identified_by_sni(db: TestDb) {
    use std::sync::Arc;
    let (dir, cert_path, key_path, certified) = tls_files();
    let w = world_with(
        db,
        "required",
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    )
    .await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));

    let connect = |endpoint: Option<&'static str>| {
        let connector = connector.clone();
        let header = w.header(endpoint);
        let hostname = w.hostname.clone();
        let (user, dbname) = w
            .upstream
            .clone()
            .unwrap_or_else(|| ("postgres".into(), "postgres".into()));
        let proxy = w.proxy;
        async move {
            let mut tcp = TcpStream::connect(proxy).await.unwrap();
            tcp.write_all(&header).await.unwrap();
            let mut ssl_request = 8u32.to_be_bytes().to_vec();
            ssl_request.extend_from_slice(&pg::SSL_REQUEST.to_be_bytes());
            tcp.write_all(&ssl_request).await.unwrap();
            let mut answer = [0u8; 1];
            tcp.read_exact(&mut answer).await.unwrap();
            assert_eq!(&answer, b"S", "the proxy accepts TLS");
            let name = rustls::pki_types::ServerName::try_from(hostname).unwrap();
            let tls = connector.connect(name, tcp).await.expect("TLS handshake");
            let mut config = tokio_postgres::Config::new();
            config.user(&user).dbname(&dbname);
            match config.connect_raw(tls, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    client.simple_query("select 1").await.unwrap();
                    Outcome::Connected
                }
                Err(e) => match e.as_db_error() {
                    Some(db) => {
                        Outcome::Refused(db.code().code().to_string(), db.message().to_string())
                    }
                    None => Outcome::Closed,
                },
            }
        }
    };
    match connect(None).await {
        Outcome::Connected => assert!(w.upstream.is_some()),
        // No upstream to relay to in this run: the project was still found by its name.
        Outcome::Refused(code, message) => {
            assert!(w.upstream.is_none(), "{code} {message}");
            assert_eq!(code, "08001", "{message}");
        }
        Outcome::Closed => panic!("closed"),
    }
    w.settings(Some(true), None).await;
    w.settle().await;
    refused(
        &connect(None).await,
        "28000",
        "public internet are not allowed",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A relayed session: the client and the task driving its connection (which ends with the
/// error the proxy sends when a change forbids the session).
struct Session {
    client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
}

impl World {
    /// Opens a session through `endpoint` (`None`: public) and checks it works.
    async fn session(&self, endpoint: Option<&str>) -> Session {
        self.session_to(endpoint, &self.endpoint).await
    }

    async fn session_to(&self, endpoint: Option<&str>, label: &str) -> Session {
        let mut stream = TcpStream::connect(self.proxy).await.unwrap();
        stream.write_all(&self.header(endpoint)).await.unwrap();
        let (user, dbname) = self.upstream.clone().expect("sessions need an upstream");
        let mut config = tokio_postgres::Config::new();
        config
            .user(&user)
            .dbname(&dbname)
            .options(format!("endpoint={label}"));
        let (client, connection) = config
            .connect_raw(stream, tokio_postgres::NoTls)
            .await
            .expect("the session is allowed");
        let connection = tokio::spawn(connection);
        client.simple_query("select 1").await.unwrap();
        Session { client, connection }
    }

    async fn org_id(&self) -> OrgId {
        let project = self
            .app
            .store
            .project(self.project.as_str())
            .await
            .unwrap()
            .unwrap();
        OrgId::parse(&project.org_id).unwrap()
    }
}

impl Session {
    /// Asserts the proxy ends the session, with its reason, within 2 s.
    async fn ended_within_two_seconds(self, reason_part: &str) {
        let started = std::time::Instant::now();
        let ended = tokio::time::timeout(Duration::from_secs(2), self.connection)
            .await
            .expect("the session was not ended within 2 s")
            .unwrap();
        let err = ended.expect_err("the session ended with an error");
        let db = err.as_db_error().expect("a Postgres error from the proxy");
        assert_eq!(db.code().code(), "28000", "{}", db.message());
        assert!(
            db.message().contains("Connection ended"),
            "{}",
            db.message()
        );
        assert!(db.message().contains(reason_part), "{}", db.message());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(self.client.simple_query("select 1").await.is_err());
    }

    async fn still_open(self) -> Self {
        if let Err(e) = self.client.simple_query("select 1").await {
            let ended = self.connection.await.unwrap();
            panic!("the session was ended ({e}): {ended:?}");
        }
        self
    }
}

/// Open sessions that a change forbids are ended within 2 s of the change; the others stay.
async fn open_sessions_are_ended_when_a_change_forbids_them(db: TestDb) {
    let w = world(db, "required").await;
    if w.upstream.is_none() {
        eprintln!("skipped: TEST_DATABASE_URL is not set, so there is no session to relay");
        return;
    }
    let key = org_key(&w).await;
    let patch = |body: serde_json::Value| {
        let req = w
            .app
            .client
            .patch(w.app.url(&format!("/api/v2/projects/{}", w.project)))
            .bearer_auth(&key)
            .json(&body);
        async move { assert_eq!(req.send().await.unwrap().status(), 200) }
    };

    // 1. Blocking public access ends public sessions, not private ones.
    let public = w.session(None).await;
    let private = w.session(Some(ALLOWED)).await;
    patch(serde_json::json!({"project": {"settings": {"block_public_connections": true}}})).await;
    public.ended_within_two_seconds("public internet").await;
    drop(private.still_open().await);
    patch(serde_json::json!({"project": {"settings": {"block_public_connections": false}}})).await;

    // 2. A restriction to another endpoint ends sessions through this one.
    let through_allowed = w.session(Some(ALLOWED)).await;
    let through_other = w.session(Some(OTHER)).await;
    w.restrict(OTHER).await;
    through_allowed.ended_within_two_seconds("restricted").await;
    drop(through_other.still_open().await);

    // 3. Lifting the restriction that admitted a session (others remain) ends it.
    w.restrict(ALLOWED).await;
    w.settle().await;
    let through_other = w.session(Some(OTHER)).await;
    w.app
        .services
        .unrestrict_project(
            &Caller::operator_cli(),
            &w.project,
            &VpcEndpointId::parse(OTHER).unwrap(),
            true,
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap();
    through_other.ended_within_two_seconds("restricted").await;
    w.app
        .services
        .unrestrict_project(
            &Caller::operator_cli(),
            &w.project,
            &VpcEndpointId::parse(ALLOWED).unwrap(),
            true,
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap();

    // 4. Removing its endpoint from the organization ends it.
    w.settle().await;
    let through_other = w.session(Some(OTHER)).await;
    let survivor = w.session(Some(ALLOWED)).await;
    let res = w
        .app
        .client
        .delete(w.app.url(&format!(
            "/api/v2/organizations/{}/vpc/region/aws-us-east-2/vpc_endpoints/{OTHER}",
            w.org_id().await
        )))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    through_other.ended_within_two_seconds("not assigned").await;
    drop(survivor.still_open().await);
    assert!(w
        .stats
        .metrics()
        .contains("enclave_proxy_revocations_total 4"));
}

async fn org_key(w: &World) -> String {
    w.app
        .services
        .create_api_key(
            &Caller::operator_cli(),
            &enclave::services::KeyOwner::Org(w.org_id().await),
            "automation",
            None,
        )
        .await
        .unwrap()
        .token
}

async fn rollout_state(w: &World, key: &str) -> String {
    let body: serde_json::Value = w
        .app
        .client
        .get(w.app.url(&format!("/api/v2/projects/{}", w.project)))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["project"]["network_settings_state"]["block_public_connections"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn heartbeat(w: &World, proxy_id: &str, version: i64) {
    let res = w
        .app
        .client
        .post(w.app.url("/api/internal/v1/heartbeat"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "proxy_id": proxy_id, "version": version, "started_at_ms": 0,
            "counters": {"accepted": 0, "refused": 0, "active_relays": 0, "revoked": 0}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// `applied` is reported only once every live proxy has acknowledged the change.
async fn applied_means_every_live_proxy_acknowledged(db: TestDb) {
    let w = world(db, "required").await;
    let key = org_key(&w).await;
    // The real proxy is live; a second one that is behind holds the change at `applying`.
    heartbeat(&w, "lagging-proxy", 0).await;
    w.settings(Some(true), None).await;
    let change = w.app.store.feed_head().await.unwrap();
    w.settle().await;
    assert_eq!(rollout_state(&w, &key).await, "applying");
    // The real proxy's acknowledgement arrives with its next heartbeat (sent at once when
    // it applies a version); the lagging one still holds the change at `applying`.
    let started = std::time::Instant::now();
    loop {
        let rollout = w
            .app
            .services
            .rollout(&Caller::system(), w.project.as_str())
            .await
            .unwrap();
        if rollout
            == (enclave::services::Rollout::Applying {
                acknowledged: 1,
                proxies: 2,
            })
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still {rollout:?} after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rollout_state(&w, &key).await, "applying");
    heartbeat(&w, "lagging-proxy", change).await;
    assert_eq!(rollout_state(&w, &key).await, "applied");
    // The internal API wants the token.
    let res = w
        .app
        .client
        .post(w.app.url("/api/internal/v1/heartbeat"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Without a proxy, nothing claims a change is applied.
async fn without_a_data_plane_nothing_is_applied(db: TestDb) {
    let app = spawn_app_with(&db, &["--data-plane-token", TOKEN], Clock::system()).await;
    let cli = Caller::operator_cli();
    let given = common::given(&app);
    let org = given.org("Acme", Plan::Scale).await;
    let project = given.project(&org, "web", "aws-us-east-2").await;
    let id = ProjectId::parse(&project.id).unwrap();
    app.services
        .update_project_settings(
            &cli,
            &id,
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
    // The version of the change; later events (the data plane's own
    // `settings.applied` record once a proxy acknowledges) may follow it.
    let change = app.store.feed_head().await.unwrap();
    assert_eq!(
        app.services
            .rollout(&Caller::system(), &project.id)
            .await
            .unwrap(),
        enclave::services::Rollout::NoDataPlane
    );
    let (_, stats) = start_proxy(&app.base, "required", LOOPBACK, &[]).await;
    let started = std::time::Instant::now();
    while !matches!(
        app.services
            .rollout(&Caller::system(), &project.id)
            .await
            .unwrap(),
        enclave::services::Rollout::Applied { proxies: 1 }
    ) {
        assert!(started.elapsed() < Duration::from_secs(3), "never applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stats.applied_version().unwrap() >= change);
}

/// PROXY headers are believed only from `--trusted-proxies`, in every mode.
async fn forged_proxy_headers_are_refused(db: TestDb) {
    let w = world_trusting(db, "optional", "10.9.0.0/16", &[]).await;
    let answer = |bytes: Vec<u8>, addr: SocketAddr| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&bytes).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
            .await
            .expect("closed promptly")
            .ok();
        rest
    };
    let mut forged = w.header(Some(ALLOWED));
    forged.extend_from_slice(&pg::startup_message(&[
        ("user", "x"),
        ("options", &format!("endpoint={}", w.endpoint)),
    ]));
    // Optional: a header from an untrusted peer closes the connection, unanswered…
    assert!(answer(forged.clone(), w.proxy).await.is_empty());
    // …while a client without one is served as a public client.
    let plain = pg::startup_message(&[
        ("user", "x"),
        ("options", &format!("endpoint={}", w.endpoint)),
    ]);
    assert!(!answer(plain, w.proxy).await.is_empty());
    // Required and rejected: the same forged header is refused too.
    for mode in ["required", "rejected"] {
        let trusted = if mode == "required" {
            "10.9.0.0/16"
        } else {
            ""
        };
        let (addr, stats) = start_proxy(&w.app.base, mode, trusted, &[]).await;
        assert!(answer(forged.clone(), addr).await.is_empty(), "{mode}");
        assert!(stats.denied() >= 1, "{mode}");
        assert!(stats.metrics().contains("untrusted"), "{mode}");
    }
    assert!(w.stats.metrics().contains("untrusted_proxy_header"));
}

/// A PrivateLink-only listener refuses connections without a VPC endpoint id.
async fn the_private_listener_refuses_public_clients(db: TestDb) {
    let w = world_with(db, "required", &["--private-only"]).await;
    refused(&w.connect(None).await, "28000", "PrivateLink only");
    let through = w.connect(Some(ALLOWED)).await;
    assert!(
        !matches!(through, Outcome::Refused(ref code, _) if code == "28000"),
        "{through:?}"
    );
}

/// `ep-…-pooler` reaches the pooler when the project has one, and is told otherwise.
async fn pooler_host_names(db: TestDb) {
    let w = world(db, "required").await;
    let pooler = format!("{}-pooler", w.endpoint);
    let mut stream = TcpStream::connect(w.proxy).await.unwrap();
    stream.write_all(&w.header(None)).await.unwrap();
    stream
        .write_all(&pg::startup_message(&[
            ("user", "x"),
            ("options", &format!("endpoint={pooler}")),
        ]))
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("no connection pooler"));
    let Some((_, host, _)) = upstream() else {
        eprintln!("skipped the relayed half: TEST_DATABASE_URL is not set");
        return;
    };
    w.app
        .services
        .set_project_upstream(&Caller::operator_cli(), &w.project, &host, true)
        .await
        .unwrap();
    w.settle().await;
    let session = w.session_to(None, &pooler).await;
    let _ = session.still_open().await;
}

/// When the control plane cannot be reached, new lookups fail closed.
async fn an_unreachable_control_plane_fails_closed(db: TestDb) {
    let w = world(db, "required").await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (proxy, stats) = bind_proxy(&dead, "required", LOOPBACK, &[]).await;
    let addr = proxy.local_addr();
    tokio::spawn(proxy.run());
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&w.header(None)).await.unwrap();
    s.write_all(&pg::startup_message(&[
        ("user", "x"),
        ("options", &format!("endpoint={}", w.endpoint)),
    ]))
    .await
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.contains("08001") && text.contains("cannot be checked"),
        "{text}"
    );
    assert_eq!(stats.applied_version(), None);
}

/// 20,000 refused connections leave one aggregated row (under the per-project bound), and
/// API writes made meanwhile succeed.
async fn a_refusal_flood_is_aggregated_and_bounded(db: TestDb) {
    let w = exclusive_world(db, &[]).await;
    w.settings(Some(true), None).await;
    w.settle().await;
    let key = org_key(&w).await;
    const FLOOD: usize = 20_000;
    const WORKERS: usize = 32;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (addr, header) = (w.proxy, w.header(None));
        let startup = pg::startup_message(&[
            ("user", "x"),
            ("options", &format!("endpoint={}", w.endpoint)),
        ]);
        workers.spawn(async move {
            for _ in 0..FLOOD / WORKERS {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let mut hello = header.clone();
                hello.extend_from_slice(&startup);
                s.write_all(&hello).await.unwrap();
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer).await;
                assert_eq!(answer.first(), Some(&b'E'));
            }
        });
    }
    // Writes through the API during the flood.
    for i in 0..10 {
        let res = w
            .app
            .client
            .patch(w.app.url(&format!("/api/v2/projects/{}", w.project)))
            .bearer_auth(&key)
            .json(&serde_json::json!({"project": {"settings": {"block_vpc_connections": i % 2 == 0}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let rows = w.flushed("refused", FLOOD as i64).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].count, FLOOD as i64);
    assert!(w.app.store.evidence_rows().await.unwrap() <= 500);
}

/// 100,000 distinct made-up host names leave the route caches at their cap.
async fn made_up_host_names_leave_caches_at_their_cap(db: TestDb) {
    let w = exclusive_world(db, &["--cache-capacity", "1000"]).await;
    const NAMES: usize = 100_000;
    const WORKERS: usize = 32;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let (addr, header) = (w.proxy, w.header(None));
        workers.spawn(async move {
            for i in 0..NAMES / WORKERS {
                // Half are not host labels at all (never looked up), half are.
                let name = if i % 2 == 0 {
                    format!("ep-made-up-{worker}-{i}")
                } else {
                    format!("ep_not.a/label{worker}x{i}")
                };
                let mut s = TcpStream::connect(addr).await.unwrap();
                let mut hello = header.clone();
                hello.extend_from_slice(&pg::startup_message(&[
                    ("user", "x"),
                    ("options", &format!("endpoint={name}")),
                ]));
                s.write_all(&hello).await.unwrap();
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer).await;
                assert!(String::from_utf8_lossy(&answer).contains("was not found"));
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let (found, missing) = w.stats.cache_entries().await;
    assert!(found <= 1000 && missing <= 1000, "{found} {missing}");
    assert!(missing >= 1, "made-up names are remembered, within the cap");
}

/// `psql` itself through the proxy: a direct client (optional mode, no header) is a public
/// one, allowed until public access is blocked, then told why.
async fn psql_through_the_proxy(db: TestDb) {
    let w = world(db, "optional").await;
    let Some((user, dbname)) = w.upstream.clone() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set, so there is no upstream for psql");
        return;
    };
    let psql = |w: &World| {
        std::process::Command::new("psql")
            .args([
                "-X",
                "-h",
                "127.0.0.1",
                "-p",
                &w.proxy.port().to_string(),
                "-U",
                &user,
                "-d",
                &dbname,
                "-tAc",
                "select 40 + 2",
            ])
            .env("PGOPTIONS", format!("endpoint={}", w.endpoint))
            .env("PGSSLMODE", "disable")
            .env("PGCONNECT_TIMEOUT", "5")
            .output()
            .expect("psql runs")
    };
    let out = tokio::task::block_in_place(|| psql(&w));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    // psql from an address the IP allow list does not list (it connects from 127.0.0.1).
    w.app
        .services
        .update_project_settings(
            &Caller::operator_cli(),
            &w.project,
            &SettingsChange {
                allowed_ips: Some(vec![enclave::store::AllowedIpRecord {
                    entry: "203.0.113.0/24".into(),
                    note: "office".into(),
                    expires_at: None,
                }]),
                ..Default::default()
            },
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap();
    w.settle().await;
    let out = tokio::task::block_in_place(|| psql(&w));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Connections from 127.0.0.1 are not in the IP allow list"),
        "{stderr}"
    );
    w.settings(Some(true), None).await;
    w.settle().await;
    let out = tokio::task::block_in_place(|| psql(&w));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("public internet are not allowed"),
        "{stderr}"
    );
}

/// `--tls required` refuses clients that do not ask for TLS, with a message saying so.
async fn tls_required_refuses_plain_clients(db: TestDb) {
    let (dir, cert_path, key_path, _) = tls_files();
    let w = world_with(
        db,
        "required",
        &[
            "--tls",
            "required",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    )
    .await;
    refused(&w.connect(None).await, "28000", "requires TLS");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Idle sockets from one source cannot take every handshake slot: past the per-source
/// limit that source is refused, while others are still served.
async fn one_source_cannot_hold_every_handshake(db: TestDb) {
    let w = world_with(db, "optional", &["--max-handshakes-per-source", "2"]).await;
    let _idle: Vec<TcpStream> = vec![
        TcpStream::connect(w.proxy).await.unwrap(),
        TcpStream::connect(w.proxy).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The third from 127.0.0.1 is refused at once…
    let mut third = TcpStream::connect(w.proxy).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("from your address"));
    // …while a connection from another loopback address is served.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(w.proxy).await.unwrap();
    other
        .write_all(&pg::startup_message(&[
            ("user", "x"),
            ("options", &format!("endpoint={}", w.endpoint)),
        ]))
        .await
        .unwrap();
    let mut first = [0u8; 1];
    other.read_exact(&mut first).await.unwrap();
    assert!(first[0] == b'R' || first[0] == b'E');
}

/// Report-only blocking lets public connections through and records each as one blocking
/// would refuse (aggregated like any evidence); connections through endpoints are not
/// affected; once blocking is enforced, public connections are refused.
async fn report_only_blocking_records_what_it_would_refuse(db: TestDb) {
    let w = world(db, "required").await;
    let relays = w.upstream.is_some();
    let allowed = |o: Outcome| {
        if relays {
            assert!(matches!(o, Outcome::Connected), "{o:?}");
        } else {
            refused(&o, "08001", "not reachable");
        }
    };
    w.app
        .services
        .update_project_settings(
            &Caller::operator_cli(),
            &w.project,
            &SettingsChange {
                public_block_report_only: Some(true),
                ..Default::default()
            },
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap();
    w.settle().await;
    allowed(w.connect(None).await);
    allowed(w.connect(None).await);
    allowed(w.connect(Some(ALLOWED)).await);
    let rows = w.flushed("allowed", 3).await;
    let would: Vec<_> = rows
        .iter()
        .filter(|r| r.reason == "public_would_be_refused")
        .collect();
    assert_eq!(would.len(), 1, "{rows:?}");
    assert_eq!(would[0].count, 2);
    assert_eq!(would[0].vpc_endpoint_id, "");
    assert!(rows
        .iter()
        .any(|r| r.reason == "vpc_endpoint_allowed" && r.vpc_endpoint_id == ALLOWED));
    assert_eq!(w.stats.denied(), 0);
    // The REST API shows the extension field.
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(project.public_block_report_only);

    w.settings(Some(true), None).await;
    w.settle().await;
    refused(
        &w.connect(None).await,
        "28000",
        "public internet are not allowed",
    );
}

/// An IP allow list admits public clients only from listed addresses and ranges; a client
/// from elsewhere is told the allow list refused it; connections through endpoints are not
/// subject to it; an entry that expires stops admitting.
async fn an_ip_allow_list_admits_only_listed_public_clients(db: TestDb) {
    let w = world(db, "required").await;
    let relays = w.upstream.is_some();
    let allowed = |o: Outcome| {
        if relays {
            assert!(matches!(o, Outcome::Connected), "{o:?}");
        } else {
            refused(&o, "08001", "not reachable");
        }
    };
    let list = |entries: &[(&str, Option<i64>)]| SettingsChange {
        allowed_ips: Some(
            entries
                .iter()
                .map(|(entry, expires_at)| enclave::store::AllowedIpRecord {
                    entry: entry.to_string(),
                    note: "test".into(),
                    expires_at: *expires_at,
                })
                .collect(),
        ),
        ..Default::default()
    };
    let set = |change: SettingsChange| {
        let w = &w;
        async move {
            w.app
                .services
                .update_project_settings(
                    &Caller::operator_cli(),
                    &w.project,
                    &change,
                    enclave::services::Acknowledgement::NotAsked,
                )
                .await
                .unwrap();
            w.settle().await;
        }
    };
    // The test clients come from 198.51.100.0/24.
    set(list(&[("203.0.113.0/24", None)])).await;
    refused(&w.connect(None).await, "28000", "IP allow list");
    allowed(w.connect(Some(ALLOWED)).await);
    set(list(&[
        ("203.0.113.0/24", None),
        ("198.51.100.0-198.51.100.255", None),
    ]))
    .await;
    allowed(w.connect(None).await);
    // An entry past its expiry admits nobody.
    set(list(&[("198.51.100.0/24", Some(1))])).await;
    refused(&w.connect(None).await, "28000", "IP allow list");
    let denied = w.flushed("refused", 2).await;
    assert!(
        denied.iter().all(|d| d.reason == "ip_not_allowed"),
        "{denied:?}"
    );

    // Bad entries are refused with the field named, and change nothing.
    let err = w
        .app
        .services
        .update_project_settings(
            &Caller::operator_cli(),
            &w.project,
            &list(&[("10.0.0.1/40", None)]),
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap_err();
    assert!(
        err.message.contains("allowed_ips") || err.message.contains("prefix"),
        "{}",
        err.message
    );
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(project.allowed_ips()[0].entry, "198.51.100.0/24");
    // At most 100 entries: the 101st is refused, saying to use ranges.
    let entries: Vec<String> = (0..101)
        .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
        .collect();
    let too_many: Vec<(&str, Option<i64>)> = entries.iter().map(|e| (e.as_str(), None)).collect();
    let err = w
        .app
        .services
        .update_project_settings(
            &Caller::operator_cli(),
            &w.project,
            &list(&too_many),
            enclave::services::Acknowledgement::NotAsked,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "too_many_allowed_ips");
    assert!(
        err.message.contains("at most 100 entries (101 given)"),
        "{}",
        err.message
    );
    // Emptying the list opens public access again.
    set(list(&[])).await;
    allowed(w.connect(None).await);
}

/// A change that would refuse traffic seen in the last 24 hours says so before it is made:
/// the REST API previews it with `?dry_run=true` (applying nothing), the console's path
/// refuses it until acknowledged, and Neon-compatible calls apply it as Neon does.
async fn changes_that_would_refuse_recent_traffic_need_an_acknowledgement(db: TestDb) {
    let w = world(db, "required").await;
    for _ in 0..3 {
        let _ = w.connect(None).await;
    }
    let _ = w.connect(Some(ALLOWED)).await;
    w.flushed("allowed", 4).await;
    let key = w
        .app
        .services
        .create_api_key(
            &Caller::operator_cli(),
            &enclave::services::KeyOwner::Org(
                OrgId::parse(
                    &w.app
                        .store
                        .project(w.project.as_str())
                        .await
                        .unwrap()
                        .unwrap()
                        .org_id,
                )
                .unwrap(),
            ),
            "preview",
            None,
        )
        .await
        .unwrap()
        .token;
    let patch = |dry_run: bool, body: serde_json::Value| {
        let url = w.app.url(&format!(
            "/api/v2/projects/{}{}",
            w.project,
            if dry_run { "?dry_run=true" } else { "" }
        ));
        let req = w.app.client.patch(url).bearer_auth(&key).json(&body);
        async move {
            let res = req.send().await.unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let block = serde_json::json!({"project": {"settings": {"block_public_connections": true}}});
    let (status, body) = patch(true, block.clone()).await;
    assert_eq!(status, 200, "{body}");
    let preview = &body["preview"];
    assert_eq!(preview["refused_connections"], 3, "{body}");
    assert_eq!(preview["refused_public_networks"], 1);
    assert_eq!(preview["needs_acknowledgement"], true);
    assert!(preview["summary"]
        .as_str()
        .unwrap()
        .contains("Public connections from 1 network(s), 3 in the last 24 h, would be refused (198.51.100.0/24)."));
    // Nothing was applied.
    assert_eq!(
        body["project"]["settings"]["block_public_connections"],
        false
    );
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(!project.block_public_connections);

    // The console's path: refused until acknowledged, naming what would be refused.
    let change = SettingsChange {
        block_public_connections: Some(true),
        ..Default::default()
    };
    let err = w
        .app
        .services
        .update_project_settings(
            &Caller::operator_cli(),
            &w.project,
            &change,
            enclave::services::Acknowledgement::Given(false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "acknowledgement_required");
    assert!(
        err.message.contains("3 in the last 24 h"),
        "{}",
        err.message
    );
    // Restricting the allow list to another network would refuse the same connections.
    let (_, body) = patch(
        true,
        serde_json::json!({"project": {"settings": {"allowed_ips": {"ips": ["203.0.113.0/24"]}}}}),
    )
    .await;
    assert_eq!(body["preview"]["refused_connections"], 3, "{body}");
    // A change that refuses nothing seen needs no acknowledgement.
    let (_, body) = patch(
        true,
        serde_json::json!({"project": {"settings": {"allowed_ips": {"ips": ["198.51.100.0/24"]}}}}),
    )
    .await;
    assert_eq!(body["preview"]["needs_acknowledgement"], false, "{body}");

    // Restricting to another endpoint would refuse what came through ALLOWED: the same.
    let other = VpcEndpointId::parse(OTHER).unwrap();
    let err = w
        .app
        .services
        .restrict_project(
            &Caller::operator_cli(),
            &w.project,
            &other,
            &Label::default(),
            enclave::services::Acknowledgement::Given(false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "acknowledgement_required");
    assert!(err.message.contains(ALLOWED), "{}", err.message);
    assert!(w
        .app
        .store
        .restrictions_of_project(w.project.as_str())
        .await
        .unwrap()
        .is_empty());
    w.app
        .services
        .restrict_project(
            &Caller::operator_cli(),
            &w.project,
            &other,
            &Label::default(),
            enclave::services::Acknowledgement::Given(true),
        )
        .await
        .unwrap();

    // Removing ALLOWED from the organization would refuse its traffic too.
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    let err = w
        .app
        .services
        .remove_endpoint(
            &Caller::operator_cli(),
            &OrgId::parse(&project.org_id).unwrap(),
            &app::domain::RegionId::parse(&project.region_id).unwrap(),
            &VpcEndpointId::parse(ALLOWED).unwrap(),
            enclave::services::Acknowledgement::Given(false),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "acknowledgement_required");
    assert!(
        err.message.contains(&format!(
            "Connections through {ALLOWED} to 1 project(s), 1 in the last 24 h"
        )),
        "{}",
        err.message
    );
    assert!(w.app.store.assignment(ALLOWED).await.unwrap().is_some());

    // Neon-compatible: applied without asking.
    let (status, body) = patch(false, block).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["project"]["settings"]["block_public_connections"],
        true
    );
    assert!(body.get("preview").is_none());
}

on_both_backends!(
    google_cloud_psc_tlvs_get_the_same_decision,
    azure_link_id_tlvs_get_the_same_decision,
    changes_that_would_refuse_recent_traffic_need_an_acknowledgement,
    an_ip_allow_list_admits_only_listed_public_clients,
    report_only_blocking_records_what_it_would_refuse,
    psql_through_the_proxy,
    tls_required_refuses_plain_clients,
    one_source_cannot_hold_every_handshake,
    open_sessions_are_ended_when_a_change_forbids_them,
    applied_means_every_live_proxy_acknowledged,
    without_a_data_plane_nothing_is_applied,
    forged_proxy_headers_are_refused,
    the_private_listener_refuses_public_clients,
    pooler_host_names,
    an_unreachable_control_plane_fails_closed,
    limits_and_timeouts,
    tls_clients_are_identified_by_sni,
    every_access_decision_reaches_the_client,
    a_change_applies_to_new_connections_within_two_seconds,
    bad_headers_are_closed_cleanly,
    optional_and_rejected_modes,
);

on_both_backends!(alone: a_refusal_flood_is_aggregated_and_bounded);

/// The cache cap is a property of the proxy, not of the database: SQLite is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_host_names_leave_caches_at_their_cap_sqlite() {
    common::bounded(
        true,
        "made_up_host_names_leave_caches_at_their_cap_sqlite",
        async { made_up_host_names_leave_caches_at_their_cap(TestDb::sqlite().await).await },
    )
    .await;
}

/// Reads a server-sent events stream up to the next `change` event; its data.
async fn next_change(res: &mut reqwest::Response, buffer: &mut String, within: Duration) -> String {
    let deadline = tokio::time::Instant::now() + within;
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
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("a change event in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// Two `enclave serve` instances on one PostgreSQL and one proxy following the first: a
/// change made through the second reaches the proxy (ending a session it forbids) and the
/// first instance's live page streams within 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_change_feed() {
    common::bounded(false, "two_instances_share_one_change_feed", async {
        let Some(db) = TestDb::postgres().await else {
            eprintln!("skipped: set TEST_DATABASE_URL to run PostgreSQL tests");
            return;
        };
        let w = world(db, "required").await;
        let second = spawn_app_with(&w._db, &["--data-plane-token", TOKEN], Clock::system()).await;
        let key = org_key(&w).await;

        // A member watches the project's page on the first instance.
        let given = common::given(&w.app);
        let watcher = given
            .member(
                &w.org_id().await,
                "watcher@acme.test",
                app::domain::Role::Member,
            )
            .await;
        let session = given.session(&watcher).await;
        let mut stream = w
            .app
            .client
            .get(w.app.url(&format!("/events/projects/{}", w.project)))
            .header(
                "cookie",
                format!("{}={session}", app::session::SESSION_COOKIE),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let mut buffer = String::new();
        let first = next_change(&mut stream, &mut buffer, Duration::from_secs(5)).await;

        let public = match w.upstream {
            Some(_) => Some(w.session(None).await),
            None => None,
        };
        let res = second
            .client
            .patch(second.url(&format!("/api/v2/projects/{}", w.project)))
            .bearer_auth(&key)
            .json(&serde_json::json!({"project": {"settings": {"block_public_connections": true}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let changed = std::time::Instant::now();
        let head = second.store.feed_head().await.unwrap();
        match public {
            Some(session) => session.ended_within_two_seconds("public internet").await,
            None => {
                while w.stats.applied_version().unwrap_or(-1) < head {
                    assert!(changed.elapsed() < Duration::from_secs(2));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        let next = next_change(&mut stream, &mut buffer, Duration::from_secs(2)).await;
        assert_ne!(next, first);
        assert!(changed.elapsed() < Duration::from_secs(2));
    })
    .await;
}

/// `enclave proxy` the binary, with no database URL anywhere in its environment, serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_binary_runs_without_a_database() {
    common::bounded(false, "the_proxy_binary_runs_without_a_database", async {
        let w = world(TestDb::sqlite().await, "required").await;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let listen = format!("127.0.0.1:{port}");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_enclave"))
            .args([
                "proxy",
                "--listen",
                &listen,
                "--control-plane-url",
                &w.app.base,
                "--trusted-proxies",
                LOOPBACK,
                "--metrics-listen",
                "off",
            ])
            .env_remove("DATABASE_URL")
            .env("ENCLAVE_DATA_PLANE_TOKEN", TOKEN)
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let answer = loop {
            if let Ok(mut s) = TcpStream::connect(&listen).await {
                s.write_all(&w.header(None)).await.unwrap();
                s.write_all(&pg::startup_message(&[
                    ("user", "x"),
                    ("options", &format!("endpoint={}", w.endpoint)),
                ]))
                .await
                .unwrap();
                let mut first = [0u8; 1];
                if s.read_exact(&mut first).await.is_ok() {
                    break first[0];
                }
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("the proxy never answered");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // Allowed and relayed (R: authentication), or refused for want of an upstream (E).
        let _ = child.kill();
        let _ = child.wait();
        assert!(answer == b'R' || answer == b'E', "{answer}");
    })
    .await;
}

/// The feed stream: a hello naming the head, then every event after the version asked for,
/// in order; a reader ahead of the database is told to reset; keepalives when idle; the
/// token is required.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_stream_catches_up_resets_and_keeps_alive() {
    common::bounded(
        false,
        "the_feed_stream_catches_up_resets_and_keeps_alive",
        async {
            let db = TestDb::sqlite().await;
            let app = spawn_app_with(&db, &["--data-plane-token", TOKEN], Clock::system()).await;
            let given = common::given(&app);
            given.org("Acme", Plan::Scale).await;
            given.org("Beta", Plan::Free).await;
            let lines = |after: &'static str, wanted: usize| {
                let req = app
                    .client
                    .get(app.url(&format!("/api/internal/v1/feed?after={after}")))
                    .bearer_auth(TOKEN);
                async move {
                    let mut res = req.send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    let mut text = String::new();
                    while text.lines().count() < wanted {
                        let chunk = tokio::time::timeout(Duration::from_secs(8), res.chunk())
                            .await
                            .expect("a line in time")
                            .unwrap()
                            .unwrap();
                        text.push_str(std::str::from_utf8(&chunk).unwrap());
                    }
                    text.lines()
                        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                        .collect::<Vec<_>>()
                }
            };
            let caught_up = lines("0", 3).await;
            assert_eq!(
                caught_up[0],
                serde_json::json!({"type": "hello", "version": 2})
            );
            assert_eq!(caught_up[1]["type"], "event");
            assert_eq!(caught_up[1]["version"], 1);
            assert_eq!(caught_up[2]["version"], 2);
            assert_eq!(caught_up[2]["action"], "organization.create");
            let ahead = lines("99", 2).await;
            assert_eq!(ahead[1], serde_json::json!({"type": "reset", "version": 2}));
            let idle = lines("2", 2).await;
            assert_eq!(idle[1], serde_json::json!({"type": "keepalive"}));
            let res = app
                .client
                .get(app.url("/api/internal/v1/feed"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
            let res = app
                .client
                .get(app.url("/api/internal/v1/feed?after=-3"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400);
        },
    )
    .await;
}
