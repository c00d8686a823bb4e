//! `enclave proxy`: the data plane's gate in front of Postgres (SPEC §4, access decision).
//!
//! It stands where a PrivateLink network load balancer delivers traffic. For each connection
//! it reads the PROXY v2 header (client address, VPC endpoint id), the client's Postgres
//! startup message (which names the project's endpoint), asks the control plane for the
//! access decision, and either answers with a Postgres `ErrorResponse` carrying the decision's
//! message or connects to the project's upstream Postgres and relays bytes both ways until
//! either side closes.
//!
//! Decisions are cached in process for `--decision-cache-ms` (1 s by default), so a change
//! made in the console or the API applies to new connections within about a second, without a
//! restart, whichever database backs the control plane.

pub mod pg;
pub mod proxy_protocol;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use app::domain::{AccessDecision, ProjectId, VpcEndpointId};
use clap::{Args, ValueEnum};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};

use crate::{
    config::{ControlPlaneConfig, DatabaseConfig},
    services::{Caller, ConnectionTarget, Principal, ProjectRef, Services},
    store::DeniedConnectionRow,
};
use pg::FirstMessage;
use proxy_protocol::{Parse, ProxyHeader};

/// Whether connections must, may or must not start with a PROXY v2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProxyProtocolMode {
    /// Behind a load balancer: a connection without a valid header is closed.
    Required,
    /// Both: a header is read when the connection starts with its signature.
    Optional,
    /// Direct clients only: no header is read.
    Rejected,
}

#[derive(Args, Clone, Debug)]
pub struct ProxyConfig {
    /// Where Postgres clients (or the load balancer) connect.
    #[arg(long, env = "ENCLAVE_PROXY_ADDR", default_value = "127.0.0.1:6432")]
    pub listen: SocketAddr,
    /// PROXY protocol v2 handling.
    #[arg(long, env = "ENCLAVE_PROXY_PROTOCOL", value_enum, default_value_t = ProxyProtocolMode::Required)]
    pub proxy_protocol: ProxyProtocolMode,
    /// Connections served at once; more are refused with SQLSTATE 53300.
    #[arg(long, env = "ENCLAVE_PROXY_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,
    /// Time allowed for the PROXY header and the startup message, in milliseconds.
    #[arg(
        long,
        env = "ENCLAVE_PROXY_HANDSHAKE_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub handshake_timeout_ms: u64,
    /// How long an access decision is reused, in milliseconds (changes apply within it).
    #[arg(long, env = "ENCLAVE_PROXY_DECISION_CACHE_MS", default_value_t = 1000)]
    pub decision_cache_ms: u64,
    /// TLS certificate chain (PEM) for clients that ask for TLS; the project is then named by
    /// the SNI host name. Without it, TLS requests are declined.
    #[arg(long, env = "ENCLAVE_PROXY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "ENCLAVE_PROXY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub control_plane: ControlPlaneConfig,
}

type DecisionKey = (String, Option<String>);

struct Shared {
    services: Services,
    caller: Caller,
    mode: ProxyProtocolMode,
    handshake_timeout: Duration,
    cache_ttl: Duration,
    targets: Mutex<HashMap<String, (Option<ConnectionTarget>, Instant)>>,
    decisions: Mutex<HashMap<DecisionKey, (AccessDecision, Instant)>>,
    slots: Arc<Semaphore>,
    denied: AtomicU64,
    tls: Option<tokio_rustls::TlsAcceptor>,
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
    shared: Arc<Shared>,
}

/// Counters a running proxy exposes (tests and logs read them).
#[derive(Clone)]
pub struct ProxyStats(Arc<Shared>);

impl ProxyStats {
    pub fn denied(&self) -> u64 {
        self.0.denied.load(Ordering::Relaxed)
    }
}

impl Proxy {
    pub async fn bind(config: &ProxyConfig, services: Services) -> anyhow::Result<Self> {
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
            _ => None,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            anyhow::anyhow!("could not listen on {}: {e} (set --listen)", config.listen)
        })?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                services,
                caller: Caller::new(Principal::DataPlane, None),
                mode: config.proxy_protocol,
                handshake_timeout: Duration::from_millis(config.handshake_timeout_ms.max(1)),
                cache_ttl: Duration::from_millis(config.decision_cache_ms),
                targets: Mutex::new(HashMap::new()),
                decisions: Mutex::new(HashMap::new()),
                slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
                denied: AtomicU64::new(0),
                tls,
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn stats(&self) -> ProxyStats {
        ProxyStats(self.shared.clone())
    }

    /// Accepts connections until the task is dropped.
    pub async fn run(self) -> anyhow::Result<()> {
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
            let shared = self.shared.clone();
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

/// A client ready to be relayed: its stream (plain or TLS), the upstream, and the bytes to
/// send the upstream first.
enum Ready {
    Plain(TcpStream, TcpStream, Vec<u8>),
    Tls(
        Box<tokio_rustls::server::TlsStream<TcpStream>>,
        TcpStream,
        Vec<u8>,
    ),
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    let Ok(_slot) = shared.slots.clone().try_acquire_owned() else {
        let _ = stream
            .write_all(&pg::error_response(
                "53300",
                "too many connections to this proxy; try again shortly",
            ))
            .await;
        tracing::warn!(%peer, "connection refused: connection limit reached");
        return;
    };
    let ready = match tokio::time::timeout(
        shared.handshake_timeout,
        handshake(&shared, stream, peer),
    )
    .await
    {
        Err(_) => {
            tracing::info!(%peer, "connection closed: handshake timed out");
            return;
        }
        Ok(Err(Closed::HealthCheck)) => return,
        Ok(Err(reason)) => {
            tracing::info!(%peer, %reason, "connection closed");
            return;
        }
        Ok(Ok(ready)) => ready,
    };
    let result = match ready {
        Ready::Plain(mut client, upstream, pending) => relay(&mut client, upstream, pending).await,
        Ready::Tls(mut client, upstream, pending) => relay(&mut *client, upstream, pending).await,
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "relay ended with an error");
    }
}

async fn relay<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
    mut upstream: TcpStream,
    pending: Vec<u8>,
) -> std::io::Result<()> {
    upstream.write_all(&pending).await?;
    tokio::io::copy_bidirectional(client, &mut upstream).await?;
    Ok(())
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

/// PROXY header, then TLS (when configured and asked for) or not, then [`startup`].
async fn handshake(
    shared: &Shared,
    mut stream: TcpStream,
    peer: SocketAddr,
) -> Result<Ready, Closed> {
    let mut buf = Vec::with_capacity(512);
    let limit = proxy_protocol::MAX_HEADER + pg::MAX_STARTUP;

    // 1. The PROXY header.
    let read_header = match shared.mode {
        ProxyProtocolMode::Required => true,
        ProxyProtocolMode::Rejected => false,
        ProxyProtocolMode::Optional => {
            // Enough bytes to tell the signature from a Postgres message.
            while buf.len() < proxy_protocol::SIGNATURE.len() && proxy_protocol::may_be_header(&buf)
            {
                read_more(&mut stream, &mut buf, limit).await?;
            }
            proxy_protocol::may_be_header(&buf)
        }
    };
    let (client, vpc_endpoint_id) = if read_header {
        loop {
            match proxy_protocol::parse(&buf)? {
                Parse::Incomplete(_) => read_more(&mut stream, &mut buf, limit).await?,
                Parse::Complete { header, len } => {
                    buf.drain(..len);
                    match header {
                        ProxyHeader::Local => return Err(Closed::HealthCheck),
                        ProxyHeader::Proxy {
                            source,
                            vpc_endpoint_id,
                        } => break (source.unwrap_or(peer), vpc_endpoint_id),
                    }
                }
            }
        }
    } else {
        (peer, None)
    };
    let conn = Conn {
        client,
        vpc_endpoint_id,
        sni: None,
    };

    // 2. TLS, if the client asks and a certificate is configured.
    loop {
        match pg::parse_first(&buf)? {
            None => read_more(&mut stream, &mut buf, limit).await?,
            Some((FirstMessage::SslRequest, len)) => {
                buf.drain(..len);
                let Some(acceptor) = &shared.tls else {
                    stream.write_all(b"N").await?;
                    continue;
                };
                // Bytes sent before the TLS handshake could be injected by anyone on the path.
                if !buf.is_empty() {
                    return Err(Closed::Refused("data after the TLS request".into()));
                }
                stream.write_all(b"S").await?;
                let mut tls = acceptor.accept(stream).await?;
                let sni = tls.get_ref().1.server_name().map(str::to_ascii_lowercase);
                let (upstream, pending) =
                    startup(shared, &mut tls, Vec::new(), Conn { sni, ..conn }).await?;
                return Ok(Ready::Tls(Box::new(tls), upstream, pending));
            }
            Some(_) => {
                let (upstream, pending) = startup(shared, &mut stream, buf, conn).await?;
                return Ok(Ready::Plain(stream, upstream, pending));
            }
        }
    }
}

/// What is known about a connection before its startup message.
struct Conn {
    client: SocketAddr,
    vpc_endpoint_id: Option<String>,
    /// The TLS server name the client asked for.
    sni: Option<String>,
}

/// The startup message, the decision, the upstream connection. Returns the upstream and the
/// bytes to send it first (the startup message without the endpoint option, and anything the
/// client already sent after it).
async fn startup<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    stream: &mut S,
    mut buf: Vec<u8>,
    conn: Conn,
) -> Result<(TcpStream, Vec<u8>), Closed> {
    let limit = pg::MAX_STARTUP;
    let Conn {
        client,
        vpc_endpoint_id,
        sni,
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

    // 3. Which project, and may this connection reach it? The SNI host name's first label
    // names the endpoint; the options do when there is no TLS (or the name is not a project's).
    let candidates: Vec<String> = sni
        .as_deref()
        .and_then(|h| h.split('.').next())
        .map(str::to_owned)
        .into_iter()
        .chain(pg::endpoint_option(&params))
        .collect();
    if candidates.is_empty() {
        return refuse(
            stream,
            "08004",
            "Endpoint ID is not specified: connect with TLS to the project's host name, or pass \
             it as a parameter, e.g. options=endpoint=<endpoint-id> (the first part of the \
             project's host name).",
        )
        .await;
    }
    let mut found = None;
    for endpoint in &candidates {
        if let Some(t) = target(shared, endpoint).await? {
            found = Some(t);
            break;
        }
    }
    let Some(target) = found else {
        return refuse(
            stream,
            "08004",
            &format!(
                "Endpoint {} was not found; check the host name in your connection string.",
                candidates.join(" / ")
            ),
        )
        .await;
    };
    let decision = decide(shared, &target.project_id, vpc_endpoint_id.as_deref()).await?;
    if !decision.allow {
        shared.denied.fetch_add(1, Ordering::Relaxed);
        let reason = serde_json::to_value(decision.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        tracing::info!(%client, project = %target.project_id, endpoint = ?vpc_endpoint_id, %reason, "connection denied");
        let row = DeniedConnectionRow {
            project_id: target.project_id.clone(),
            vpc_endpoint_id: vpc_endpoint_id.clone(),
            reason,
            message: decision.message.clone(),
            client_addr: client.to_string(),
            at: shared.services.clock().now_ms(),
        };
        if let Err(e) = shared
            .services
            .record_denied_connection(&shared.caller, row)
            .await
        {
            tracing::warn!(error = %e, "could not record a denied connection");
        }
        return refuse(stream, "28000", &decision.message).await;
    }
    let Some(address) = target.upstream else {
        return refuse(
            stream,
            "08001",
            "This project's database is not reachable through this proxy yet; try again later.",
        )
        .await;
    };
    match TcpStream::connect(&address).await {
        Ok(upstream) => {
            let _ = upstream.set_nodelay(true);
            // The startup message without the endpoint option, then whatever followed it.
            let mut pending = pg::startup_message_owned(&pg::without_endpoint_option(&params));
            pending.extend_from_slice(&buf[startup_len..]);
            Ok((upstream, pending))
        }
        Err(e) => {
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

async fn target(shared: &Shared, endpoint: &str) -> Result<Option<ConnectionTarget>, Closed> {
    let key = endpoint.to_ascii_lowercase();
    if let Some((cached, at)) = shared
        .targets
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        if at.elapsed() < shared.cache_ttl {
            return Ok(cached);
        }
    }
    let found = shared
        .services
        .connection_target(&shared.caller, &key)
        .await
        .map_err(|e| Closed::Refused(e.message))?;
    if let Ok(mut m) = shared.targets.lock() {
        m.insert(key, (found.clone(), Instant::now()));
    }
    Ok(found)
}

async fn decide(
    shared: &Shared,
    project_id: &str,
    vpc_endpoint_id: Option<&str>,
) -> Result<AccessDecision, Closed> {
    let key = (project_id.to_string(), vpc_endpoint_id.map(str::to_owned));
    if let Some((cached, at)) = shared
        .decisions
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        if at.elapsed() < shared.cache_ttl {
            return Ok(cached);
        }
    }
    let project = ProjectId::parse(project_id).map_err(|e| Closed::Refused(e.message))?;
    let decision = match vpc_endpoint_id.map(VpcEndpointId::parse) {
        Some(Err(_)) => AccessDecision::invalid_endpoint(vpc_endpoint_id.unwrap_or_default()),
        parsed => {
            let endpoint = parsed.and_then(Result::ok);
            shared
                .services
                .access_decision(&shared.caller, ProjectRef::Id(&project), endpoint.as_ref())
                .await
                .map_err(|e| Closed::Refused(e.message))?
        }
    };
    if let Ok(mut m) = shared.decisions.lock() {
        m.insert(key, (decision.clone(), Instant::now()));
    }
    Ok(decision)
}

/// `enclave proxy`: connects to the control plane's database and serves until stopped.
pub async fn run(config: ProxyConfig) -> anyhow::Result<()> {
    let store = crate::store::Store::connect(&config.database.database_url).await?;
    store.migrate().await?;
    let services = crate::startup::services(
        &config.control_plane,
        store,
        crate::services::Clock::system(),
    )?;
    let proxy = Proxy::bind(&config, services).await?;
    tracing::info!(addr = %proxy.local_addr(), mode = ?config.proxy_protocol, "proxy listening");
    tokio::select! {
        result = proxy.run() => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
