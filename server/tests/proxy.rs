//! `enclave proxy` with a real client: tokio-postgres through the proxy to the real Postgres
//! on 127.0.0.1:5432 (the one `TEST_DATABASE_URL` names), with the test playing the load
//! balancer by writing PROXY v2 headers first. The control plane runs on each database in
//! turn. Without `TEST_DATABASE_URL` there is no upstream to relay to, and the relaying
//! scenarios say they are skipped; the refusals are checked regardless.

mod common;

use std::{net::SocketAddr, time::Duration};

use app::domain::{Label, OrgId, Plan, ProjectId, RegionId, VpcEndpointId};
use clap::Parser;
use common::{spawn_app, TestApp, TestDb};
use enclave::{
    proxy::{
        pg,
        proxy_protocol::{encode, ProxyHeader},
        Proxy, ProxyConfig, ProxyStats,
    },
    services::Caller,
    store::SettingsChange,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const ALLOWED: &str = "vpce-0a0000000000000a1";
const OTHER: &str = "vpce-0a0000000000000b2";
const PENDING: &str = "vpce-0a0000000000000c3";

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
    let app = spawn_app(&db).await;
    let cli = Caller::operator_cli();
    let s = &app.services;
    let org = s
        .create_organization(&cli, "Acme", Plan::Scale)
        .await
        .unwrap();
    let org_id = OrgId::parse(&org.id).unwrap();
    let region = RegionId::parse("aws-us-east-2").unwrap();
    let project = s
        .create_project(&cli, &org_id, "web", &region)
        .await
        .unwrap();
    let project_id = ProjectId::parse(&project.id).unwrap();
    for id in [ALLOWED, OTHER, PENDING] {
        s.assign_endpoint(
            &cli,
            &org_id,
            &region,
            &VpcEndpointId::parse(id).unwrap(),
            &Label::default(),
        )
        .await
        .unwrap();
    }
    // Accept two; the third stays `new`.
    for id in [ALLOWED, OTHER] {
        app.store
            .settle_assignment(id, "accepted", None, &common::audit())
            .await
            .unwrap();
    }
    let upstream = upstream();
    if let Some((_, host, _)) = &upstream {
        s.set_project_upstream(&cli, &project_id, host)
            .await
            .unwrap();
    }
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
        "--database-url",
        &db.url,
    ];
    args.extend_from_slice(extra);
    let config = Wrapper::parse_from(args).proxy;
    let proxy = Proxy::bind(&config, s.clone()).await.unwrap();
    let addr = proxy.local_addr();
    let stats = proxy.stats();
    tokio::spawn(proxy.run());
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
        match config.connect_raw(stream, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                let row = client.query_one("select 1::int4", &[]).await.unwrap();
                assert_eq!(row.get::<_, i32>(0), 1);
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

    async fn settings(&self, public: Option<bool>, vpc: Option<bool>) {
        self.app
            .services
            .update_project_settings(
                &Caller::operator_cli(),
                &self.project,
                &SettingsChange {
                    block_public_connections: public,
                    block_vpc_connections: vpc,
                },
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
                &VpcEndpointId::parse(endpoint).unwrap(),
                &Label::default(),
            )
            .await
            .unwrap();
    }

    /// Waits out the decision cache (1 s by default) so the next connection sees changes.
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(1100)).await;
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

    // Every refusal was counted and recorded for the project's page.
    let denied = w
        .app
        .store
        .denied_connections(w.project.as_str(), 50)
        .await
        .unwrap();
    assert_eq!(denied.len() as u64, w.stats.denied());
    assert_eq!(denied.len(), 5);
    assert_eq!(denied[0].reason, "vpc_connections_blocked");
    assert_eq!(denied[0].client_addr, "198.51.100.20:40000");
    assert_eq!(denied[0].vpc_endpoint_id.as_deref(), Some(ALLOWED));

    // …and the project's Network Security page shows them to its members.
    let email = "viewer@acme.test";
    w.app
        .services
        .create_user(
            &Caller::operator_cli(),
            email,
            Some("a long enough password"),
            false,
        )
        .await
        .unwrap();
    let project = w
        .app
        .store
        .project(w.project.as_str())
        .await
        .unwrap()
        .unwrap();
    w.app
        .services
        .add_member(
            &Caller::operator_cli(),
            &OrgId::parse(&project.org_id).unwrap(),
            email,
            app::domain::Role::Member,
        )
        .await
        .unwrap();
    let session = w
        .app
        .services
        .sign_in(email, "a long enough password", "test", None)
        .await
        .unwrap()
        .token;
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
}

/// Over `--max-connections` a client is told so; a client that says nothing is closed when
/// the handshake time is up.
async fn limits_and_timeouts(db: TestDb) {
    let w = world_with(
        db,
        "required",
        &["--max-connections", "1", "--handshake-timeout-ms", "1000"],
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

/// TLS with SNI: the client asks for TLS, the proxy presents the configured certificate, and
/// the project is the one the server name names (no endpoint option needed).
async fn tls_clients_are_identified_by_sni(db: TestDb) {
    use std::sync::Arc;
    let dir = std::env::temp_dir().join(format!("enclave-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["*.us-east-2.aws.db.enclave.internal".to_string()])
            .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
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

on_both_backends!(
    limits_and_timeouts,
    tls_clients_are_identified_by_sni,
    every_access_decision_reaches_the_client,
    a_change_applies_to_new_connections_within_two_seconds,
    bad_headers_are_closed_cleanly,
    optional_and_rejected_modes,
);
