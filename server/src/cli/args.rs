//! The command line's shape: every command, its arguments, and their parsers (the domain's
//! own, so the CLI refuses what the API and the console refuse, with the same words).

use app::domain::{AwsAccountId, Label, OrgId, Plan, ProjectId, RegionId, Role};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    config::{ControlPlaneConfig, DatabaseConfig, ServeConfig},
    telemetry::LogFormat,
};

#[derive(Parser, Debug)]
#[command(
    name = "enclave",
    version,
    about = "Private-networking control plane and console"
)]
pub struct Cli {
    /// Log filter in RUST_LOG syntax, e.g. `info` or `enclave=debug,sqlx=warn`.
    #[arg(
        long,
        global = true,
        env = "ENCLAVE_LOG",
        default_value = "info,sqlx=warn"
    )]
    pub log: String,

    /// Log line format.
    #[arg(long, global = true, env = "ENCLAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// How operator commands print their result.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the console and API (the default); `--migrate` applies migrations first.
    Serve(ServeConfig),
    /// Apply pending database migrations (under the migration lock) and exit. A database a
    /// newer binary migrated is left as it is.
    Migrate(DatabaseConfig),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Review private-networking trial requests.
    #[command(subcommand)]
    Trial(TrialCommand),
    /// Manage an organization's webhook receivers and see their deliveries.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Run the data-plane proxy in front of Postgres (applies every access decision).
    Proxy(crate::proxy::ProxyConfig),
    /// The cloud provider as the running servers last saw it.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Fill an empty database with a synthetic data set for measuring scale (organizations,
    /// each with an admin, projects and accepted endpoints); prints what it made as JSON.
    #[command(name = "scale-seed")]
    ScaleSeed {
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        organizations: u32,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1000))]
        projects_per_org: u32,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1000))]
        endpoints_per_org: u32,
        /// Organizations that get an API key, for a benchmark to act as.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        samples: u32,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Benchmark tool: a bare axum handler at /bare (what `make bench` compares against).
    #[command(name = "bench-bare", hide = true)]
    BenchBare {
        #[arg(long)]
        addr: std::net::SocketAddr,
    },
    /// Benchmark tool: HTTP load with latency percentiles, printed as JSON.
    #[command(name = "bench-load", hide = true)]
    BenchLoad(crate::bench_tools::LoadArgs),
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Failing provider calls (call, region, since when, last error) and connection
    /// requests on the platform's services that no organization assigned.
    Status {
        #[command(flatten)]
        context: OperatorContext,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrialCommand {
    /// List trial requests (pending ones unless --status says otherwise).
    List {
        /// pending, approved, declined or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Approve a pending request; the trial ends after --days (default 14) or on --ends-on.
    Approve {
        id: String,
        /// The last day of the trial (YYYY-MM-DD, UTC; the trial ends at the end of that day).
        #[arg(long, conflicts_with = "days")]
        ends_on: Option<chrono::NaiveDate>,
        /// How many days from now the trial lasts.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: Option<u32>,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Decline a pending request; the reason is shown to the organization's admins.
    Decline {
        id: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        context: OperatorContext,
    },
}

/// What every operator command needs: the database and the rules' settings.
#[derive(Args, Clone, Debug)]
pub struct OperatorContext {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub control_plane: ControlPlaneConfig,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// free, launch, scale, business or enterprise.
        #[arg(long, value_parser = parse_plan)]
        plan: Plan,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Add a user to an organization, or change their role.
    AddMember {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long)]
        email: String,
        /// admin or member.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Allow an AWS account to create endpoints to the platform's services for the
    /// organization (or change its note).
    AllowAwsAccount {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        /// 12 digits, or an IAM ARN such as arn:aws:iam::123456789012:root.
        #[arg(long, value_parser = parse_aws_account)]
        account: AwsAccountId,
        /// A note for the people who review the list (0-64 printable characters).
        #[arg(long, default_value = "", value_parser = parse_note)]
        note: Label,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Let an organization whose plan or trial no longer includes private networking loosen
    /// settings and assign endpoints again for a while (tightening never needs this).
    LiftFreeze {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        /// How long, in days (1-90).
        #[arg(long, default_value_t = 7, conflicts_with = "end")]
        days: i64,
        /// End an earlier lift now.
        #[arg(long)]
        end: bool,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Stop allowing an AWS account for the organization.
    DisallowAwsAccount {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long, value_parser = parse_aws_account)]
        account: AwsAccountId,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// List the organization's allowed AWS accounts.
    AwsAccounts {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[command(flatten)]
        context: OperatorContext,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input (one line); pass
    /// `--no-password` for a user who will only use API keys.
    Create {
        #[arg(long)]
        email: String,
        /// Make the user a platform operator (reviews trial requests).
        #[arg(long)]
        operator: bool,
        #[arg(long)]
        no_password: bool,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Grant the platform operator role (or withdraw it with --revoke).
    SetOperator {
        #[arg(long)]
        email: String,
        #[arg(long)]
        revoke: bool,
        #[command(flatten)]
        context: OperatorContext,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a project in an organization; prints its id and hostname.
    Create {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long)]
        name: String,
        /// A region of the catalog, e.g. aws-us-east-2.
        #[arg(long, value_parser = parse_region)]
        region: RegionId,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Set where the project's Postgres listens; `enclave proxy` relays allowed connections
    /// there.
    SetUpstream {
        #[arg(long, value_parser = parse_project)]
        project: ProjectId,
        /// host:port, e.g. 10.0.3.12:5432.
        #[arg(long)]
        address: String,
        /// Set the project's connection pooler instead (reached through the `-pooler` form
        /// of its host name).
        #[arg(long)]
        pooler: bool,
        #[command(flatten)]
        context: OperatorContext,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create an API key and print it (the only time it is shown).
    Create {
        /// An organization key (admin rights in that organization).
        #[arg(long, value_parser = parse_org, conflicts_with = "user", required_unless_present = "user")]
        org: Option<OrgId>,
        /// A personal key acting as the user with this email.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        name: String,
        /// Expire the key after this many days.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=app::domain::API_KEY_MAX_EXPIRY_DAYS))]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// List the keys of an organization or a user (ids, names, prefixes; never the keys).
    List {
        #[arg(long, value_parser = parse_org, conflicts_with = "user", required_unless_present = "user")]
        org: Option<OrgId>,
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Revoke a key by id; it is refused from the next request on.
    Revoke {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        context: OperatorContext,
    },
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Register a receiver and print its signing secret (the only time it is shown).
    Create {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        /// The receiver's https:// address.
        #[arg(long)]
        url: String,
        /// Comma-separated event types, e.g. `endpoint.accepted,trial.ending`.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Refused connections per project per hour above which `refusals.above_threshold`
        /// is sent (default 100).
        #[arg(long)]
        refusal_threshold: Option<i64>,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// List an organization's receivers (never their secrets).
    List {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Remove a receiver (its pending deliveries go with it).
    Delete {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long)]
        id: String,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// A receiver's latest deliveries and every attempt's answer.
    Deliveries {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long)]
        id: String,
        #[command(flatten)]
        context: OperatorContext,
    },
    /// Send a delivery again now.
    Redeliver {
        #[arg(long, value_parser = parse_org)]
        org: OrgId,
        #[arg(long)]
        delivery: String,
        #[command(flatten)]
        context: OperatorContext,
    },
}

fn parse_plan(value: &str) -> Result<Plan, String> {
    Plan::parse(value).map_err(|e| e.message)
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).map_err(|e| e.message)
}

fn parse_aws_account(value: &str) -> Result<AwsAccountId, String> {
    AwsAccountId::parse(value).map_err(|e| e.message)
}

fn parse_note(value: &str) -> Result<Label, String> {
    Label::parse(value).map_err(|e| e.message)
}

fn parse_org(value: &str) -> Result<OrgId, String> {
    OrgId::parse(value).map_err(|e| e.message)
}

fn parse_project(value: &str) -> Result<ProjectId, String> {
    ProjectId::parse(value).map_err(|e| e.message)
}

fn parse_region(value: &str) -> Result<RegionId, String> {
    RegionId::parse(value).map_err(|e| e.message)
}
