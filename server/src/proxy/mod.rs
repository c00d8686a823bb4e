//! `enclave proxy`: the data plane's gate in front of Postgres (SPEC §4 and §8).
//!
//! It stands where a PrivateLink network load balancer delivers traffic. For each connection
//! it reads the PROXY v2 header (believed only from `--trusted-proxies`), the client's
//! Postgres startup message (which names the project by its host label), looks the project's
//! route up through the control plane's data-plane API, decides, and either answers with a
//! Postgres `ErrorResponse` or relays to the project's Postgres (or its pooler).
//!
//! It never opens the control plane's database. Routes are cached (bounded, single-flight)
//! and kept current by the change feed; every change re-decides the open connections it may
//! touch and ends those now refused, and only then is the change acknowledged, so "applied"
//! in the console is a fact. When the control plane cannot be reached, new lookups fail
//! closed and cached routes are used for at most `--max-staleness-ms`.
//!
//! ```text
//!  client ─▶ NLB ─PROXY v2─▶ enclave proxy ─────────────▶ project Postgres / pooler
//!                               │  ▲  routes/{label}, heartbeat, evidence (HTTP, token)
//!                               ▼  │  feed (NDJSON stream of versioned changes)
//!                           enclave serve (control plane) ─▶ SQLite / PostgreSQL
//! ```

mod control_plane;
mod evidence;
pub mod metrics;
pub mod pg;
pub mod proxy_protocol;
mod registry;
mod routes;
mod sync;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use clap::{Args, ValueEnum};
use ipnet::IpNet;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};

use control_plane::ControlPlane;
use evidence::Evidence;
use metrics::Metrics;
use pg::FirstMessage;
use proxy_protocol::{Parse, ProxyHeader};
use registry::Registry;
use routes::{LookupError, Routes};

/// Whether connections must, may or must not start with a PROXY v2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProxyProtocolMode {
    /// Behind a load balancer: only `--trusted-proxies` may connect, each with a header.
    Required,
    /// Both: a header is read from trusted peers; anyone else connects directly.
    Optional,
    /// Direct clients only: no header is read (one that arrives is refused).
    Rejected,
}

/// Whether clients must, may or cannot use TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    Disabled,
    Optional,
    Required,
}

#[derive(Args, Clone, Debug)]
pub struct ProxyConfig {
    /// Where Postgres clients (or the load balancer) connect.
    #[arg(long, env = "ENCLAVE_PROXY_ADDR", default_value = "127.0.0.1:6432")]
    pub listen: SocketAddr,
    /// The control plane's base URL (its data-plane API is under /api/internal/v1).
    #[arg(
        long,
        env = "ENCLAVE_CONTROL_PLANE_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub control_plane_url: String,
    /// The data-plane token the control plane was started with.
    #[arg(long, env = "ENCLAVE_DATA_PLANE_TOKEN", hide_env_values = true)]
    pub data_plane_token: String,
    /// This proxy's name in heartbeats (default: a random one per start).
    #[arg(long, env = "ENCLAVE_PROXY_ID")]
    pub proxy_id: Option<String>,
    /// PROXY protocol v2 handling.
    #[arg(long, env = "ENCLAVE_PROXY_PROTOCOL", value_enum, default_value_t = ProxyProtocolMode::Required)]
    pub proxy_protocol: ProxyProtocolMode,
    /// Networks (CIDR, comma-separated) whose PROXY headers are believed: the load
    /// balancer's. Required with `--proxy-protocol required|optional`.
    #[arg(long, env = "ENCLAVE_PROXY_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpNet>,
    /// A PrivateLink-only listener: connections without a VPC endpoint id are refused.
    #[arg(long, env = "ENCLAVE_PROXY_PRIVATE_ONLY")]
    pub private_only: bool,
    /// TLS for clients: `disabled`, `optional` (when a certificate is given) or `required`.
    #[arg(long, env = "ENCLAVE_PROXY_TLS", value_enum, default_value_t = TlsMode::Optional)]
    pub tls: TlsMode,
    /// TLS certificate chain (PEM); the project is then named by the SNI host name.
    #[arg(long, env = "ENCLAVE_PROXY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "ENCLAVE_PROXY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Connections relayed at once; more are refused with SQLSTATE 53300.
    #[arg(long, env = "ENCLAVE_PROXY_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,
    /// Connections relayed at once to one project.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_MAX_CONNECTIONS_PER_PROJECT",
        default_value_t = 200
    )]
    pub max_connections_per_project: usize,
    /// Connections in their handshake at once (before a decision).
    #[arg(long, env = "ENCLAVE_PROXY_MAX_HANDSHAKES", default_value_t = 512)]
    pub max_handshakes: usize,
    /// Connections in their handshake at once from one source address.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_MAX_HANDSHAKES_PER_SOURCE",
        default_value_t = 64
    )]
    pub max_handshakes_per_source: usize,
    /// Time allowed for the first bytes (the PROXY header), in milliseconds.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_PRE_HEADER_TIMEOUT_MS",
        default_value_t = 1000
    )]
    pub pre_header_timeout_ms: u64,
    /// Time allowed for the whole handshake (header, TLS, startup message), in milliseconds.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_HANDSHAKE_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub handshake_timeout_ms: u64,
    /// A cached route is used at most this long without the control plane, in milliseconds.
    #[arg(long, env = "ENCLAVE_PROXY_MAX_STALENESS_MS", default_value_t = 60_000)]
    pub max_staleness_ms: u64,
    /// Routes cached at most (and, separately, host labels known to name no project).
    #[arg(long, env = "ENCLAVE_PROXY_CACHE_CAPACITY", default_value_t = 10_000)]
    pub cache_capacity: u64,
    /// How long a host label that names no project is remembered, in milliseconds.
    #[arg(long, env = "ENCLAVE_PROXY_NOT_FOUND_CACHE_MS", default_value_t = 1000)]
    pub not_found_cache_ms: u64,
    /// Heartbeat interval, in milliseconds.
    #[arg(long, env = "ENCLAVE_PROXY_HEARTBEAT_MS", default_value_t = 1000)]
    pub heartbeat_interval_ms: u64,
    /// How often connection evidence is flushed, in milliseconds.
    #[arg(long, env = "ENCLAVE_PROXY_REPORT_MS", default_value_t = 2000)]
    pub report_interval_ms: u64,
    /// Distinct evidence keys held between flushes, at most.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_EVIDENCE_CAPACITY",
        default_value_t = 10_000
    )]
    pub evidence_capacity: usize,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (`off` to serve none).
    #[arg(
        long,
        env = "ENCLAVE_PROXY_METRICS_ADDR",
        default_value = "127.0.0.1:9930"
    )]
    pub metrics_listen: String,
}

impl ProxyConfig {
    /// A proxy beside `enclave serve` (what `make run` starts): every default, talking to
    /// `control_plane_url`, taking PROXY headers only from loopback and direct clients too.
    pub fn embedded(listen: SocketAddr, control_plane_url: &str, token: &str) -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            proxy: ProxyConfig,
        }
        let listen = listen.to_string();
        let args = [
            "proxy",
            "--listen",
            listen.as_str(),
            "--control-plane-url",
            control_plane_url,
            "--data-plane-token",
            token,
            "--proxy-protocol",
            "optional",
            "--trusted-proxies",
            "127.0.0.0/8,::1/128",
        ];
        <Wrapper as clap::Parser>::parse_from(args).proxy
    }

    /// Checks the combinations the flags cannot express.
    fn check(&self) -> anyhow::Result<()> {
        if self.proxy_protocol != ProxyProtocolMode::Rejected && self.trusted_proxies.is_empty() {
            anyhow::bail!(
                "--proxy-protocol {:?} needs --trusted-proxies (the load balancer's networks, \
                 e.g. 10.0.0.0/16): PROXY headers are believed only from them",
                self.proxy_protocol
            );
        }
        if self.tls == TlsMode::Required && self.tls_cert.is_none() {
            anyhow::bail!("--tls required needs --tls-cert and --tls-key");
        }
        Ok(())
    }
}

/// Everything connection tasks and background tasks share.
pub(crate) struct Shared {
    control_plane: ControlPlane,
    routes: Routes,
    registry: Arc<Registry>,
    evidence: Evidence,
    metrics: Metrics,
    proxy_id: String,
    started_at_ms: i64,
    mode: ProxyProtocolMode,
    trusted: Vec<IpNet>,
    private_only: bool,
    tls_mode: TlsMode,
    tls: Option<tokio_rustls::TlsAcceptor>,
    pre_header_timeout: Duration,
    handshake_timeout: Duration,
    handshakes: Arc<Semaphore>,
    per_source: Mutex<HashMap<IpAddr, usize>>,
    max_per_source: usize,
    relays: Arc<Semaphore>,
    max_per_project: usize,
    refused: AtomicU64,
    /// The last feed version applied; -1 before the first.
    applied: AtomicI64,
    applied_signal: tokio::sync::watch::Sender<i64>,
    resolved: moka::future::Cache<String, Arc<Vec<SocketAddr>>>,
}

impl Shared {
    fn applied_version(&self) -> Option<i64> {
        Some(self.applied.load(Ordering::SeqCst)).filter(|v| *v >= 0)
    }

    fn set_applied(&self, version: i64) {
        self.applied.store(version, Ordering::SeqCst);
        self.metrics.feed_applied(version);
        self.applied_signal.send_replace(version);
    }

    fn applied_rx(&self) -> tokio::sync::watch::Receiver<i64> {
        self.applied_signal.subscribe()
    }

    fn refused_total(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    fn refuse_count(&self, reason: &str) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.metrics.refused(reason);
    }

    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A handshake slot for one source address; released on drop.
struct SourceSlot<'a> {
    shared: &'a Shared,
    ip: IpAddr,
}

impl Drop for SourceSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.shared.per_source.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

fn enter_source(shared: &Shared, ip: IpAddr) -> Option<SourceSlot<'_>> {
    let mut map = shared.per_source.lock().ok()?;
    let n = map.entry(ip).or_default();
    if *n >= shared.max_per_source {
        return None;
    }
    *n += 1;
    Some(SourceSlot { shared, ip })
}

/// The TLS acceptor for the configured certificate and key.
fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow::anyhow!("could not read the TLS certificate {}: {e}", cert.display())
        })?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("could not read the TLS key {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| anyhow::anyhow!("the TLS certificate and key do not fit: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A bound proxy, ready to run.
pub struct Proxy {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shared: Arc<Shared>,
    heartbeat_interval: Duration,
    report_interval: Duration,
}

/// What a running proxy exposes to tests and logs.
#[derive(Clone)]
pub struct ProxyStats(Arc<Shared>);

impl ProxyStats {
    /// Connections refused so far.
    pub fn denied(&self) -> u64 {
        self.0.refused_total()
    }

    /// Connections being relayed now.
    pub fn open(&self) -> usize {
        self.0.registry.len()
    }

    /// Cached routes and cached "no such label" entries.
    pub async fn cache_entries(&self) -> (u64, u64) {
        self.0.routes.entries().await
    }

    /// Evidence keys held in memory, and connections not recorded because of the cap.
    pub fn evidence(&self) -> (usize, u64) {
        (self.0.evidence.held(), self.0.evidence.dropped())
    }

    /// The last change-feed version applied.
    pub fn applied_version(&self) -> Option<i64> {
        self.0.applied_version()
    }

    /// The Prometheus text exposition.
    pub fn metrics(&self) -> String {
        self.0.metrics.render()
    }
}

impl Proxy {
    pub async fn bind(config: &ProxyConfig) -> anyhow::Result<Self> {
        config.check()?;
        let tls = match (config.tls, &config.tls_cert, &config.tls_key) {
            (TlsMode::Disabled, _, _) => None,
            (_, Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
            _ => None,
        };
        let metrics = Metrics::new();
        let control_plane = ControlPlane::new(
            &config.control_plane_url,
            &config.data_plane_token,
            metrics.clone(),
        )?;
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            anyhow::anyhow!("could not listen on {}: {e} (set --listen)", config.listen)
        })?;
        let metrics_listener = match config.metrics_listen.trim() {
            "" | "off" => None,
            addr => Some(
                metrics::bind(addr.parse().map_err(|_| {
                    anyhow::anyhow!("--metrics-listen {addr:?} is not host:port or off")
                })?)
                .await?,
            ),
        };
        let routes = Routes::new(
            control_plane.clone(),
            metrics.clone(),
            config.cache_capacity.max(1),
            Duration::from_millis(config.max_staleness_ms.max(1)),
            Duration::from_millis(config.not_found_cache_ms.max(1)),
        );
        let proxy_id = config
            .proxy_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| format!("proxy-{}", uuid::Uuid::new_v4().simple()));
        Ok(Self {
            listener,
            metrics_listener,
            heartbeat_interval: Duration::from_millis(config.heartbeat_interval_ms.max(50)),
            report_interval: Duration::from_millis(config.report_interval_ms.max(50)),
            shared: Arc::new(Shared {
                control_plane,
                routes,
                registry: Arc::new(Registry::default()),
                evidence: Evidence::new(config.evidence_capacity),
                metrics,
                proxy_id,
                started_at_ms: Shared::now_ms(),
                mode: config.proxy_protocol,
                trusted: config.trusted_proxies.clone(),
                private_only: config.private_only,
                tls_mode: config.tls,
                tls,
                pre_header_timeout: Duration::from_millis(config.pre_header_timeout_ms.max(1)),
                handshake_timeout: Duration::from_millis(config.handshake_timeout_ms.max(1)),
                handshakes: Arc::new(Semaphore::new(config.max_handshakes.max(1))),
                per_source: Mutex::new(HashMap::new()),
                max_per_source: config.max_handshakes_per_source.max(1),
                relays: Arc::new(Semaphore::new(config.max_connections.max(1))),
                max_per_project: config.max_connections_per_project.max(1),
                refused: AtomicU64::new(0),
                applied: AtomicI64::new(-1),
                applied_signal: tokio::sync::watch::Sender::new(-1),
                resolved: moka::future::Cache::builder()
                    .max_capacity(config.cache_capacity.max(1))
                    .time_to_live(Duration::from_secs(30))
                    .build(),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn stats(&self) -> ProxyStats {
        ProxyStats(self.shared.clone())
    }

    /// Serves until the task is dropped: connections, the change feed, heartbeats, evidence
    /// and metrics.
    pub async fn run(self) -> anyhow::Result<()> {
        let shared = self.shared.clone();
        let mut background = tokio::task::JoinSet::new();
        background.spawn(sync::follow_feed(shared.clone()));
        background.spawn(sync::heartbeats(shared.clone(), self.heartbeat_interval));
        background.spawn(sync::flush_evidence(shared.clone(), self.report_interval));
        if let Some(listener) = self.metrics_listener {
            background.spawn(metrics::serve(listener, shared.metrics.clone()));
        }
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move { serve(shared, stream, peer).await });
        }
    }
}

/// Why a connection ended before it was relayed; logged, never shown to the client beyond
/// the Postgres error it was already sent.
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("bad PROXY header: {0}")]
    Header(#[from] proxy_protocol::ProxyError),
    #[error("bad startup message: {0}")]
    Startup(#[from] pg::StartupError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("health check (PROXY LOCAL)")]
    HealthCheck,
    #[error("cancel requests are not supported")]
    Cancel,
    #[error("client closed the connection during the handshake")]
    Eof,
    #[error("refused: {0}")]
    Refused(String),
}

/// A client ready to be relayed.
struct Ready<S> {
    client: S,
    upstream: TcpStream,
    /// Bytes to send the upstream first.
    pending: Vec<u8>,
    registration: registry::Registration,
    kill: tokio::sync::oneshot::Receiver<String>,
    _relay_slot: tokio::sync::OwnedSemaphorePermit,
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    // Handshakes are bounded per source and in all, so idle sockets from one place cannot
    // keep everyone else out; relayed connections have their own limits.
    let Some(source_slot) = enter_source(&shared, peer.ip()) else {
        shared.refuse_count("too_many_handshakes_from_source");
        let _ = stream
            .write_all(&pg::error_response(
                "53300",
                "too many connections are being set up from your address; try again shortly",
            ))
            .await;
        return;
    };
    let Ok(handshake_slot) = shared.handshakes.clone().try_acquire_owned() else {
        shared.refuse_count("too_many_handshakes");
        let _ = stream
            .write_all(&pg::error_response(
                "53300",
                "too many connections are being set up on this proxy; try again shortly",
            ))
            .await;
        return;
    };
    if shared.mode == ProxyProtocolMode::Required && !shared.is_trusted(peer.ip()) {
        // Only the load balancer may connect to a listener that requires its header.
        shared.refuse_count("untrusted_peer");
        tracing::warn!(%peer, "connection refused: not from a trusted load balancer (--trusted-proxies)");
        return;
    }
    let started = Instant::now();
    let outcome = handshake(&shared, stream, peer, started).await;
    drop(source_slot);
    drop(handshake_slot);
    match outcome {
        Ok(Handshaken::Plain(ready)) => relay(&shared, ready).await,
        Ok(Handshaken::Tls(ready)) => relay(&shared, *ready).await,
        Err(Closed::HealthCheck) => {}
        Err(reason) => tracing::info!(%peer, %reason, "connection closed"),
    }
}

enum Handshaken {
    Plain(Ready<TcpStream>),
    Tls(Box<Ready<tokio_rustls::server::TlsStream<TcpStream>>>),
}

async fn relay<S: AsyncRead + AsyncWrite + Unpin>(shared: &Shared, ready: Ready<S>) {
    let Ready {
        mut client,
        mut upstream,
        pending,
        registration,
        kill,
        _relay_slot,
    } = ready;
    shared.metrics.relay_started();
    let ended = async {
        upstream.write_all(&pending).await?;
        tokio::select! {
            copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => copied.map(|_| None),
            Ok(message) = kill => Ok(Some(message)),
        }
    }
    .await;
    if let Ok(Some(message)) = ended {
        // A change forbade this connection: say why, then close both sides.
        let _ = client
            .write_all(&pg::error_response(
                "28000",
                &format!("Connection ended: {message}"),
            ))
            .await;
        let _ = client.shutdown().await;
        let _ = upstream.shutdown().await;
    }
    drop(registration);
    shared.metrics.relay_ended();
}

/// Reads at least one more byte into `buf`, refusing to grow it past `limit`.
async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    limit: usize,
) -> Result<(), Closed> {
    if buf.len() >= limit {
        return Err(Closed::Refused("handshake too large".into()));
    }
    let mut chunk = [0u8; 1024];
    let room = (limit - buf.len()).min(chunk.len());
    let n = stream.read(&mut chunk[..room]).await?;
    if n == 0 {
        return Err(Closed::Eof);
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// The PROXY header (within the pre-header timeout): the client's address and endpoint id.
async fn read_header(
    shared: &Shared,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    peer: SocketAddr,
) -> Result<(SocketAddr, Option<String>), Closed> {
    let limit = proxy_protocol::MAX_HEADER + pg::MAX_STARTUP;
    // Enough bytes to tell the signature from a Postgres message.
    while buf.len() < proxy_protocol::SIGNATURE.len() && proxy_protocol::may_be_header(buf) {
        read_more(stream, buf, limit).await?;
    }
    let has_header = proxy_protocol::may_be_header(buf);
    let trusted = shared.is_trusted(peer.ip());
    match (shared.mode, has_header) {
        (ProxyProtocolMode::Required, false) => {
            return Err(Closed::Refused("no PROXY header".into()))
        }
        (_, true) if shared.mode == ProxyProtocolMode::Rejected || !trusted => {
            // Anyone can write a header naming an accepted endpoint: believe only the load
            // balancer's.
            shared.refuse_count("untrusted_proxy_header");
            tracing::warn!(%peer, "PROXY header from an untrusted address refused (--trusted-proxies)");
            return Err(Closed::Refused(
                "PROXY header from an untrusted address".into(),
            ));
        }
        (_, false) => return Ok((peer, None)),
        (_, true) => {}
    }
    loop {
        match proxy_protocol::parse(buf)? {
            Parse::Incomplete(_) => read_more(stream, buf, limit).await?,
            Parse::Complete { header, len } => {
                buf.drain(..len);
                return match header {
                    ProxyHeader::Local => Err(Closed::HealthCheck),
                    ProxyHeader::Proxy {
                        source,
                        vpc_endpoint_id,
                    } => Ok((source.unwrap_or(peer), vpc_endpoint_id)),
                };
            }
        }
    }
}

/// PROXY header, then TLS (when configured and asked for) or not, then [`startup`].
async fn handshake(
    shared: &Shared,
    mut stream: TcpStream,
    peer: SocketAddr,
    started: Instant,
) -> Result<Handshaken, Closed> {
    let mut buf = Vec::with_capacity(512);
    let limit = proxy_protocol::MAX_HEADER + pg::MAX_STARTUP;
    let (client, vpc_endpoint_id) = match tokio::time::timeout(
        shared.pre_header_timeout,
        read_header(shared, &mut stream, &mut buf, peer),
    )
    .await
    {
        Ok(result) => result?,
        Err(_) => return Err(Closed::Refused("nothing arrived in time".into())),
    };
    let remaining = shared.handshake_timeout.saturating_sub(started.elapsed());
    let conn = Conn {
        client,
        vpc_endpoint_id,
        sni: None,
        tls: false,
    };
    let rest = async {
        if shared.private_only && conn.vpc_endpoint_id.is_none() {
            shared.refuse_count("not_through_private_link");
            return refuse(
                &mut stream,
                "28000",
                "This address accepts connections through AWS PrivateLink only. Connect \
                 through your VPC endpoint, or use the project's public host name.",
            )
            .await;
        }
        loop {
            match pg::parse_first(&buf)? {
                None => read_more(&mut stream, &mut buf, limit).await?,
                Some((FirstMessage::SslRequest, len)) => {
                    buf.drain(..len);
                    let Some(acceptor) = &shared.tls else {
                        stream.write_all(b"N").await?;
                        continue;
                    };
                    // Bytes sent before the TLS handshake could be injected by anyone on
                    // the path.
                    if !buf.is_empty() {
                        return Err(Closed::Refused("data after the TLS request".into()));
                    }
                    stream.write_all(b"S").await?;
                    let mut tls = acceptor.accept(stream).await?;
                    let sni = tls.get_ref().1.server_name().map(str::to_ascii_lowercase);
                    let conn = Conn {
                        sni,
                        tls: true,
                        ..conn
                    };
                    let ready = startup(shared, &mut tls, Vec::new(), conn).await?;
                    return Ok(Handshaken::Tls(Box::new(ready.with_client(tls))));
                }
                Some(_) => {
                    let ready = startup(shared, &mut stream, buf, conn).await?;
                    return Ok(Handshaken::Plain(ready.with_client(stream)));
                }
            }
        }
    };
    match tokio::time::timeout(remaining, rest).await {
        Ok(result) => result,
        Err(_) => Err(Closed::Refused("handshake timed out".into())),
    }
}

/// What is known about a connection before its startup message.
struct Conn {
    client: SocketAddr,
    vpc_endpoint_id: Option<String>,
    /// The TLS server name the client asked for.
    sni: Option<String>,
    tls: bool,
}

/// A decided, allowed connection before its client stream is attached.
struct Admitted {
    upstream: TcpStream,
    pending: Vec<u8>,
    registration: registry::Registration,
    kill: tokio::sync::oneshot::Receiver<String>,
    relay_slot: tokio::sync::OwnedSemaphorePermit,
}

impl Admitted {
    fn with_client<S>(self, client: S) -> Ready<S> {
        Ready {
            client,
            upstream: self.upstream,
            pending: self.pending,
            registration: self.registration,
            kill: self.kill,
            _relay_slot: self.relay_slot,
        }
    }
}

/// The host label a client names: the SNI host name's first label, else the `endpoint`
/// option. `-pooler` labels reach the project's pooler.
fn named_label(sni: Option<&str>, params: &[(String, String)]) -> Option<(String, bool)> {
    let label = sni
        .and_then(|h| h.split('.').next())
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .or_else(|| pg::endpoint_option(params))?
        .trim()
        .to_ascii_lowercase();
    Some(match label.strip_suffix("-pooler") {
        Some(base) => (base.to_string(), true),
        None => (label, false),
    })
}

/// The startup message, the decision, the upstream connection.
async fn startup<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    stream: &mut S,
    mut buf: Vec<u8>,
    conn: Conn,
) -> Result<Admitted, Closed> {
    let limit = pg::MAX_STARTUP;
    let Conn {
        client,
        vpc_endpoint_id,
        sni,
        tls,
    } = conn;
    let (params, startup_len) = loop {
        match pg::parse_first(&buf)? {
            None => read_more(stream, &mut buf, limit).await?,
            Some((FirstMessage::SslRequest | FirstMessage::GssEncRequest, len)) => {
                buf.drain(..len);
                stream.write_all(b"N").await?;
            }
            Some((FirstMessage::Cancel, _)) => return Err(Closed::Cancel),
            Some((FirstMessage::Startup { params }, len)) => break (params, len),
        }
    };
    if shared.tls_mode == TlsMode::Required && !tls {
        shared.refuse_count("tls_required");
        return refuse(
            stream,
            "28000",
            "This proxy requires TLS: connect with sslmode=require (or stricter).",
        )
        .await;
    }

    // Which project, and may this connection reach it?
    let Some((label, pooler)) = named_label(sni.as_deref(), &params) else {
        shared.refuse_count("endpoint_not_specified");
        return refuse(
            stream,
            "08004",
            "Endpoint ID is not specified: connect with TLS to the project's host name, or pass \
             it as a parameter, e.g. options=endpoint=<endpoint-id> (the first part of the \
             project's host name).",
        )
        .await;
    };
    let route = match shared.routes.get(&label).await {
        Ok(route) => route,
        Err(LookupError::Invalid) | Err(LookupError::NotFound) => {
            shared.refuse_count("project_not_found");
            let shown: String = label.chars().take(63).collect();
            return refuse(
                stream,
                "08004",
                &format!(
                    "Endpoint {shown} was not found; check the host name in your connection \
                     string."
                ),
            )
            .await;
        }
        Err(LookupError::ControlPlane(e)) => {
            shared.refuse_count("control_plane_unavailable");
            tracing::warn!(error = %e, %label, "no decision: control plane unavailable");
            return refuse(
                stream,
                "08001",
                "Access to this project cannot be checked right now, so the connection was \
                 refused; try again shortly.",
            )
            .await;
        }
    };
    let decision = route.decide(
        vpc_endpoint_id.as_deref(),
        Some(client.ip()),
        Shared::now_ms(),
    );
    shared.evidence.record(
        &route.project_id,
        vpc_endpoint_id.as_deref(),
        decision.allow,
        decision.reason.code(),
        client.ip(),
        Shared::now_ms(),
    );
    if !decision.allow {
        shared.refuse_count(decision.reason.code());
        tracing::info!(%client, project = %route.project_id, endpoint = ?vpc_endpoint_id, reason = decision.reason.code(), "connection denied");
        return refuse(stream, "28000", &decision.message).await;
    }
    let address = if pooler {
        match &route.pooler_upstream {
            Some(a) => a.clone(),
            None => {
                shared.refuse_count("no_pooler");
                return refuse(
                    stream,
                    "08004",
                    "This project has no connection pooler: remove -pooler from the host name.",
                )
                .await;
            }
        }
    } else {
        match &route.upstream {
            Some(a) => a.clone(),
            None => {
                shared.refuse_count("no_upstream");
                return refuse(
                    stream,
                    "08001",
                    "This project's database is not reachable through this proxy yet; try \
                     again later.",
                )
                .await;
            }
        }
    };
    let Ok(relay_slot) = shared.relays.clone().try_acquire_owned() else {
        shared.refuse_count("too_many_connections");
        return refuse(
            stream,
            "53300",
            "too many connections to this proxy; try again shortly",
        )
        .await;
    };
    let Some((registration, kill)) = shared.registry.register(
        &route.project_id,
        &route.org_id,
        &label,
        vpc_endpoint_id.as_deref(),
        client.ip(),
        shared.max_per_project,
    ) else {
        shared.refuse_count("too_many_project_connections");
        return refuse(
            stream,
            "53300",
            "too many connections to this project through this proxy; close some and try again",
        )
        .await;
    };
    match connect_upstream(shared, &address).await {
        Ok(upstream) => {
            shared.metrics.accepted();
            let _ = upstream.set_nodelay(true);
            // The startup message without the endpoint option, then whatever followed it.
            let mut pending = pg::startup_message_owned(&pg::without_endpoint_option(&params));
            pending.extend_from_slice(&buf[startup_len..]);
            Ok(Admitted {
                upstream,
                pending,
                registration,
                kill,
                relay_slot,
            })
        }
        Err(e) => {
            shared.refuse_count("upstream_unreachable");
            tracing::warn!(%address, error = %e, "upstream unreachable");
            refuse(
                stream,
                "08001",
                "The project's database is not reachable right now; try again shortly.",
            )
            .await
        }
    }
}

/// Connects to `host:port`, resolving host names through a small cache.
async fn connect_upstream(shared: &Shared, address: &str) -> std::io::Result<TcpStream> {
    if let Ok(addr) = address.parse::<SocketAddr>() {
        return TcpStream::connect(addr).await;
    }
    let resolved = shared
        .resolved
        .try_get_with(address.to_string(), async {
            tokio::net::lookup_host(address)
                .await
                .map(|addrs| Arc::new(addrs.collect::<Vec<_>>()))
        })
        .await
        .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
    let mut last = std::io::Error::other(format!("{address} resolved to no address"));
    for addr in resolved.iter() {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn refuse<S: AsyncWrite + Unpin, T>(
    stream: &mut S,
    sqlstate: &str,
    message: &str,
) -> Result<T, Closed> {
    stream
        .write_all(&pg::error_response(sqlstate, message))
        .await?;
    let _ = stream.shutdown().await;
    Err(Closed::Refused(message.to_string()))
}

/// `enclave proxy`: serves until stopped. It needs the control plane's URL and token; it
/// has no database.
pub async fn run(config: ProxyConfig) -> anyhow::Result<()> {
    let proxy = Proxy::bind(&config).await?;
    tracing::info!(
        addr = %proxy.local_addr(),
        metrics = ?proxy.metrics_addr(),
        mode = ?config.proxy_protocol,
        control_plane = %config.control_plane_url,
        "proxy listening"
    );
    tokio::select! {
        result = proxy.run() => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
