//! Configuration for `enclave serve` and `enclave migrate`, from flags and environment.

use std::net::SocketAddr;

use clap::Args;

/// Where the database lives. Shared by every subcommand that touches it.
#[derive(Args, Clone, Debug)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://path/to/file.db` (embedded, the default) or
    /// `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/enclave.db")]
    pub database_url: String,
}

/// Settings for the HTTP server.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "ENCLAVE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory holding the built console assets (`pkg/` with the wasm, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Bearer token the data plane sends to `/api/internal/v1/access`. Without it that
    /// endpoint refuses every request.
    #[arg(long, env = "ENCLAVE_DATA_PLANE_TOKEN", hide_env_values = true)]
    pub data_plane_token: Option<String>,

    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https` (set this when a TLS
    /// proxy in front does not send that header).
    #[arg(long, env = "ENCLAVE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Connections served at once; more wait in the accept queue until one closes.
    #[arg(long, env = "ENCLAVE_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// A client must send a request's headers within this many milliseconds of starting
    /// it (or of opening the connection), or the connection is closed.
    #[arg(long, env = "ENCLAVE_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub header_read_timeout_ms: u64,

    /// A request whose answer has not started within this many milliseconds gets 503.
    /// Streamed answers (live pages, the data-plane feed) start at once and are not cut.
    #[arg(long, env = "ENCLAVE_REQUEST_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub request_timeout_ms: u64,

    /// Take the client's address (which failed sign-ins count against) from this header,
    /// e.g. `X-Forwarded-For` (its last entry) or `X-Real-IP`. Set it only when every request
    /// arrives through a reverse proxy that sets the header; otherwise clients would choose
    /// their own address. Without it the socket's peer address is used.
    #[arg(long, env = "ENCLAVE_CLIENT_ADDRESS_HEADER")]
    pub client_address_header: Option<String>,

    /// Apply pending migrations before serving (what `enclave migrate` does). Without it the
    /// server refuses a database whose schema is behind this binary, and serves one that a
    /// newer binary migrated.
    #[arg(long, env = "ENCLAVE_MIGRATE")]
    pub migrate: bool,

    /// Seed an empty database with demo organizations, people and projects, and print how
    /// to sign in. Never touches a database that already has users or organizations.
    #[arg(long)]
    pub demo: bool,

    /// Also run a data-plane proxy on this address (Postgres clients connect here), talking
    /// to this server through its data-plane API like any other proxy. Without a
    /// `--data-plane-token` a random one is made for it.
    #[arg(long, env = "ENCLAVE_EMBEDDED_PROXY")]
    pub embedded_proxy: Option<SocketAddr>,

    #[command(flatten)]
    pub control_plane: ControlPlaneConfig,

    #[command(flatten)]
    pub reconciler: ReconcilerConfig,
}

/// The rules' settings and the data they use, shared by `serve` and the operator commands.
#[derive(Args, Clone, Debug)]
pub struct ControlPlaneConfig {
    /// A region catalog JSON file replacing the built-in one (same shape as
    /// `server/data/regions.json`).
    #[arg(long, env = "ENCLAVE_REGIONS_FILE")]
    pub regions_file: Option<std::path::PathBuf>,

    /// VPC endpoint assignments allowed per organization per region.
    #[arg(long, env = "ENCLAVE_ENDPOINT_LIMIT", default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub endpoint_limit: i64,

    /// DNS domain under which project hostnames are created.
    #[arg(
        long,
        env = "ENCLAVE_HOSTNAME_DOMAIN",
        default_value = "db.enclave.internal"
    )]
    pub hostname_domain: String,

    /// A console session ends after this many minutes without a request.
    #[arg(long, env = "ENCLAVE_SESSION_IDLE_MINUTES", default_value_t = 120, value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub session_idle_minutes: i64,

    /// A console session ends this many hours after sign-in, active or not.
    #[arg(long, env = "ENCLAVE_SESSION_MAX_HOURS", default_value_t = 168, value_parser = clap::value_parser!(i64).range(1..=2_160))]
    pub session_max_hours: i64,

    /// A data-plane proxy counts as live this long after its last heartbeat, in
    /// milliseconds; a change is `applied` once every live proxy has acknowledged it.
    #[arg(long, env = "ENCLAVE_PROXY_LIVE_WINDOW_MS", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1_000..=600_000))]
    pub proxy_live_window_ms: i64,

    /// Stored connection-evidence rows per project (aggregated per endpoint, reason and
    /// client network), at most.
    #[arg(long, env = "ENCLAVE_EVIDENCE_PER_PROJECT", default_value_t = 500, value_parser = clap::value_parser!(i64).range(10..=100_000))]
    pub evidence_per_project: i64,

    /// Connection evidence and change-feed events are kept this many hours.
    #[arg(long, env = "ENCLAVE_EVIDENCE_RETENTION_HOURS", default_value_t = 168, value_parser = clap::value_parser!(i64).range(1..=8_760))]
    pub evidence_retention_hours: i64,

    /// Let webhooks reach loopback, private, link-local and other non-public addresses, and
    /// plain `http://` receivers. Off by default: a receiver URL could otherwise point the
    /// server at itself, the cloud metadata service or the internal network. Turn it on only
    /// for receivers on your own network (or tests).
    #[arg(long, env = "ENCLAVE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES")]
    pub webhooks_allow_private_addresses: bool,

    /// The first webhook retry comes this many milliseconds after a failed attempt; each
    /// later one four times the previous wait, at most 4 hours.
    #[arg(long, env = "ENCLAVE_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(i64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: i64,

    /// A delivery not accepted this many minutes after its event is given up and shown as
    /// failed (it can still be sent again by hand).
    #[arg(long, env = "ENCLAVE_WEBHOOK_GIVE_UP_MINUTES", default_value_t = 1_440, value_parser = clap::value_parser!(i64).range(1..=10_080))]
    pub webhook_give_up_minutes: i64,
}

impl ControlPlaneConfig {
    /// Reads and checks the region catalog: the operator's file, or the built-in data.
    pub fn region_catalog(&self) -> anyhow::Result<app::domain::RegionCatalog> {
        let json = match &self.regions_file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("could not read the region catalog {}: {e}", path.display())
            })?,
            None => BUILT_IN_REGIONS.to_string(),
        };
        app::domain::RegionCatalog::from_json(&json).map_err(|e| anyhow::anyhow!(e))
    }
}

/// The region catalog shipped with the server (AWS regions and service names).
pub const BUILT_IN_REGIONS: &str = include_str!("../data/regions.json");

/// Which cloud provider decides on endpoint connections.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// The built-in simulator (accepts after a delay; no cloud account needed).
    Simulator,
    /// AWS PrivateLink, through the AWS SDK and the standard credential chain.
    Aws,
}

/// How the reconciler and its provider (the built-in simulator or AWS) behave.
#[derive(Args, Clone, Debug)]
pub struct ReconcilerConfig {
    /// The cloud provider: `simulator` (built in, the default) or `aws`.
    #[arg(
        long,
        env = "ENCLAVE_PROVIDER",
        value_enum,
        default_value = "simulator"
    )]
    pub provider: ProviderKind,

    /// AWS: send every call to this URL instead of AWS's regional endpoints (tests and
    /// AWS-compatible services).
    #[arg(long, env = "ENCLAVE_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// AWS: use this named profile of the shared config files for credentials.
    #[arg(long, env = "ENCLAVE_AWS_PROFILE")]
    pub aws_profile: Option<String>,

    /// AWS: attempts per call, the first included; throttling and 5xx answers are retried
    /// with jittered exponential backoff.
    #[arg(long, env = "ENCLAVE_AWS_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub aws_max_attempts: u32,

    /// How often the reconciler looks for work, in milliseconds.
    #[arg(long, env = "ENCLAVE_RECONCILE_INTERVAL_MS", default_value_t = 500)]
    pub reconcile_interval_ms: u64,

    /// Background work (the reconciler) runs on one instance at a time, under a lease renewed
    /// every pass; when its holder stops renewing (a crash), another instance takes over
    /// after this many milliseconds.
    #[arg(long, env = "ENCLAVE_LEADER_LEASE_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(500..=600_000))]
    pub leader_lease_ms: u64,

    /// Simulator: how long after assignment an endpoint is accepted, in milliseconds.
    #[arg(
        long,
        env = "ENCLAVE_SIMULATOR_ACCEPT_DELAY_MS",
        default_value_t = 3000
    )]
    pub simulator_accept_delay_ms: i64,

    /// Simulator: endpoint ids matching this pattern (`*` matches anything) are rejected.
    #[arg(
        long,
        env = "ENCLAVE_SIMULATOR_REJECT_PATTERN",
        default_value = "vpce-0bad*"
    )]
    pub simulator_reject_pattern: String,

    /// Simulator: the reason given for a rejection.
    #[arg(
        long,
        env = "ENCLAVE_SIMULATOR_REJECT_REASON",
        default_value = "The endpoint's AWS account is not allowed to connect to this endpoint service. Check that the endpoint was created in the organization's AWS account and region, then create a new endpoint."
    )]
    pub simulator_reject_reason: String,

    /// Simulator: endpoint ids matching this pattern never make a connection request (empty:
    /// none); they stay `new` with the cloud's explanation, asked about again with backoff.
    #[arg(long, env = "ENCLAVE_SIMULATOR_MISSING_PATTERN", default_value = "")]
    pub simulator_missing_pattern: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        control_plane: ControlPlaneConfig,
    }

    fn parse(args: &[&str]) -> ControlPlaneConfig {
        let mut all = vec!["enclave"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all).unwrap().control_plane
    }

    #[test]
    fn the_built_in_catalog_has_eight_aws_regions_and_two_each_on_gcp_and_azure() {
        let catalog = parse(&[]).region_catalog().unwrap();
        let names: Vec<(&str, usize)> = catalog
            .regions
            .iter()
            .map(|r| (r.id.as_str(), r.service_names.len()))
            .collect();
        assert_eq!(names.len(), 12);
        let on = |cloud: &str| catalog.regions.iter().filter(|r| r.cloud == cloud).count();
        assert_eq!((on("aws"), on("gcp"), on("azure")), (8, 2, 2));
        assert!(names.contains(&("gcp-us-central1", 1)));
        assert!(names.contains(&("azure-eastus2", 1)));
        assert!(names.contains(&("aws-us-east-1", 3)));
        assert!(names.contains(&("aws-us-east-2", 2)));
        assert!(names.contains(&("aws-sa-east-1", 1)));
        let east1 = &catalog.regions[0];
        assert!(east1
            .availability_zone_notes
            .iter()
            .any(|n| n.contains("use1-az3")));
    }

    #[test]
    fn an_operator_file_replaces_the_catalog_and_is_checked() {
        let dir = std::env::temp_dir().join(format!("enclave-regions-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            r#"{"regions":[{"id":"aws-eu-north-1","cloud":"aws","display_name":"Stockholm",
               "private_networking":true,"service_names":["com.amazonaws.vpce.eu-north-1.vpce-svc-1"]}]}"#,
        )
        .unwrap();
        let catalog = parse(&["--regions-file", good.to_str().unwrap()])
            .region_catalog()
            .unwrap();
        assert_eq!(catalog.regions.len(), 1);
        assert_eq!(catalog.regions[0].id.as_str(), "aws-eu-north-1");

        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"regions":[]}"#).unwrap();
        let err = parse(&["--regions-file", bad.to_str().unwrap()])
            .region_catalog()
            .unwrap_err();
        assert!(err.to_string().contains("lists no regions"));
        let missing = parse(&["--regions-file", "/nonexistent/regions.json"])
            .region_catalog()
            .unwrap_err();
        assert!(missing
            .to_string()
            .contains("could not read the region catalog"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
