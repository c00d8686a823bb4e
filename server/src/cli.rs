//! The `enclave` command line: `serve` (the default), `migrate`, and the operator commands
//! (organizations, users, projects, API keys). Operator commands are non-interactive, print
//! JSON with `--output json`, and exit with a code that says what went wrong (see
//! [`exit_code`]).

use app::domain::ErrorCode;
use std::io::Read;

use app::domain::{AwsAccountId, Label, OrgId, Plan, ProjectId, RegionId, Role};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::{
    config::{ControlPlaneConfig, DatabaseConfig, ServeConfig},
    services::{Caller, ErrorKind, KeyOwner, ServiceError, Services},
    startup::{self, Application},
    store::Store,
    telemetry::{self, LogFormat},
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
    /// Apply migrations and serve the console and API (the default).
    Serve(ServeConfig),
    /// Apply pending database migrations and exit.
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
    /// Run the data-plane proxy in front of Postgres (applies every access decision).
    Proxy(crate::proxy::ProxyConfig),
    /// The cloud provider as the running servers last saw it.
    #[command(subcommand)]
    Provider(ProviderCommand),
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

fn trial_json(r: &crate::store::TrialRequestRow) -> serde_json::Value {
    json!({
        "id": r.id,
        "org_id": r.org_id,
        "status": r.status,
        "use_case": r.use_case,
        "regions": r.regions.split_whitespace().collect::<Vec<_>>(),
        "expected_endpoints": r.expected_endpoints,
        "requested_by": r.requested_by,
        "requested_at": app::domain::format_time(r.requested_at),
        "reviewed_by": r.reviewed_by,
        "decline_reason": r.decline_reason,
        "trial_ends_at": r.trial_ends_at.map(app::domain::format_time),
    })
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

async fn key_owner(
    services: &Services,
    org: Option<OrgId>,
    user: Option<String>,
) -> anyhow::Result<KeyOwner> {
    Ok(match (org, user) {
        (Some(org), _) => KeyOwner::Org(org),
        (None, Some(email)) => {
            let user = services
                .store()
                .user_by_email(&email.trim().to_ascii_lowercase())
                .await?
                .ok_or_else(|| {
                    anyhow::Error::new(CommandFailed(ServiceError::new(
                        ErrorCode::UserNotFound,
                        format!("No user has the email {email}; create the user first."),
                    )))
                })?;
            KeyOwner::User(user.id)
        }
        (None, None) => unreachable!("clap requires --org or --user"),
    })
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

/// A failed operator command: the service error, kept so the exit code can name its kind.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandFailed(pub ServiceError);

/// Exit codes for scripts: 1 internal or database failure, 2 bad input (also clap's usage
/// errors), 3 not found, 4 conflict with the current state, 5 not allowed.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<CommandFailed>().map(|e| e.0.kind) {
        Some(ErrorKind::BadRequest | ErrorKind::Unprocessable) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::Conflict) => 4,
        Some(ErrorKind::Forbidden | ErrorKind::Unauthenticated) => 5,
        _ => 1,
    }
}

async fn operator_services(context: &OperatorContext) -> anyhow::Result<Services> {
    let (_, services) = startup::open_services(
        &context.database,
        &context.control_plane,
        crate::services::Clock::system(),
    )
    .await?;
    Ok(services)
}

fn print(output: Output, text: String, value: serde_json::Value) {
    match output {
        Output::Text => println!("{text}"),
        Output::Json => println!("{value}"),
    }
}

/// Runs one operator command against the database.
async fn run_operator(command: Command, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    let failed = |e: ServiceError| anyhow::Error::new(CommandFailed(e));
    match command {
        Command::Org(OrgCommand::Create {
            name,
            plan,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let org = services
                .create_organization(&caller, &name, plan)
                .await
                .map_err(failed)?;
            print(
                output,
                org.id.clone(),
                json!({"id": org.id, "name": org.name, "plan": org.plan}),
            );
        }
        Command::Org(OrgCommand::LiftFreeze {
            org,
            days,
            end,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let until = services
                .lift_freeze(&caller, &org, (!end).then_some(days))
                .await
                .map_err(failed)?;
            let text = match until {
                Some(until) => format!("lifted until {}", app::domain::format_time(until)),
                None => "freeze restored".to_string(),
            };
            print(
                output,
                text,
                json!({"org_id": org, "freeze_lifted_until": until}),
            );
        }
        Command::Org(OrgCommand::AddMember {
            org,
            email,
            role,
            context,
        }) => {
            let services = operator_services(&context).await?;
            services
                .add_member(&caller, &org, &email, role)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{email} is now {role} of {org}"),
                json!({"org_id": org, "email": email.trim().to_ascii_lowercase(), "role": role}),
            );
        }
        Command::Org(OrgCommand::AllowAwsAccount {
            org,
            account,
            note,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let row = services
                .allow_account(&caller, &org, &account, &note)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{account} may create endpoints for {org}"),
                json!({"org_id": org, "aws_account_id": row.account_id, "note": row.note}),
            );
        }
        Command::Org(OrgCommand::DisallowAwsAccount {
            org,
            account,
            context,
        }) => {
            let services = operator_services(&context).await?;
            services
                .disallow_account(&caller, &org, &account)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{account} is no longer allowed for {org}"),
                json!({"org_id": org, "aws_account_id": account.as_str()}),
            );
        }
        Command::Provider(ProviderCommand::Status { context }) => {
            let services = operator_services(&context).await?;
            let status = services.provider_status(&caller).await.map_err(failed)?;
            let mut lines = Vec::new();
            if status.problems.is_empty() {
                lines.push("healthy: no failing provider calls".to_string());
            }
            for p in &status.problems {
                lines.push(format!(
                    "failing\t{}\t{}\tsince {}\t{}",
                    p.call,
                    p.region,
                    app::domain::format_time(p.since),
                    p.message
                ));
            }
            for r in &status.unassigned {
                lines.push(format!(
                    "unassigned\t{}\t{}\t{}\towner {}\tfirst seen {}",
                    r.vpc_endpoint_id,
                    r.region_id,
                    r.service_id,
                    r.owner_account,
                    app::domain::format_time(r.first_seen)
                ));
            }
            print(
                output,
                lines.join("\n"),
                json!({"problems": status.problems, "unassigned": status.unassigned}),
            );
        }
        Command::Org(OrgCommand::AwsAccounts { org, context }) => {
            let services = operator_services(&context).await?;
            let rows = services
                .list_allowed_accounts(&caller, &org)
                .await
                .map_err(failed)?;
            let text = rows
                .iter()
                .map(|r| format!("{}\t{}", r.account_id, r.note))
                .collect::<Vec<_>>()
                .join("\n");
            print(output, text, json!({"org_id": org, "accounts": rows}));
        }
        Command::User(UserCommand::Create {
            email,
            operator,
            no_password,
            context,
        }) => {
            let password = if no_password {
                None
            } else {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input)?;
                let line = input.lines().next().unwrap_or("").to_string();
                if line.is_empty() {
                    return Err(failed(ServiceError::new(
                ErrorCode::InvalidInput,
                        "Invalid password: write it to standard input (e.g. `echo \"$PASSWORD\" | enclave user create …`), or pass --no-password.",
                    )));
                }
                Some(line)
            };
            let services = operator_services(&context).await?;
            let user = services
                .create_user(&caller, &email, password.as_deref(), operator)
                .await
                .map_err(failed)?;
            print(
                output,
                user.id.clone(),
                json!({"id": user.id, "email": user.email, "is_operator": user.is_operator}),
            );
        }
        Command::User(UserCommand::SetOperator {
            email,
            revoke,
            context,
        }) => {
            let services = operator_services(&context).await?;
            services
                .set_operator(&caller, &email, !revoke)
                .await
                .map_err(failed)?;
            let now = if revoke {
                "no longer an operator"
            } else {
                "an operator"
            };
            print(
                output,
                format!("{email} is {now}"),
                json!({"email": email.trim().to_ascii_lowercase(), "is_operator": !revoke}),
            );
        }
        Command::Project(ProjectCommand::Create {
            org,
            name,
            region,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let project = services
                .create_project(&caller, &org, &name, &region)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{} {}", project.id, project.hostname),
                json!({"id": project.id, "org_id": project.org_id, "name": project.name,
                       "region_id": project.region_id, "hostname": project.hostname}),
            );
        }
        Command::ApiKey(ApiKeyCommand::Create {
            org,
            user,
            name,
            expires_in_days,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let owner = key_owner(&services, org, user).await?;
            let expires_at = expires_in_days
                .map(|days| services.clock().now_ms() + i64::from(days) * 86_400_000);
            let key = services
                .create_api_key(&caller, &owner, &name, expires_at)
                .await
                .map_err(failed)?;
            print(
                output,
                key.token.clone(),
                json!({"id": key.id, "name": key.name, "key": key.token}),
            );
        }
        Command::ApiKey(ApiKeyCommand::List { org, user, context }) => {
            let services = operator_services(&context).await?;
            let owner = key_owner(&services, org, user).await?;
            let keys = services
                .list_api_keys(&caller, &owner)
                .await
                .map_err(failed)?;
            let text = keys
                .iter()
                .map(|k| {
                    let status = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    format!("{}\t{}\t{}…\t{status}", k.id, k.name, k.token_prefix)
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(output, text, json!({ "api_keys": keys }));
        }
        Command::ApiKey(ApiKeyCommand::Revoke { id, context }) => {
            let services = operator_services(&context).await?;
            services
                .revoke_api_key(&caller, &id)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("revoked {id}"),
                json!({"id": id, "revoked": true}),
            );
        }
        Command::Trial(TrialCommand::List { status, context }) => {
            let services = operator_services(&context).await?;
            let filter = (status != "all").then_some(status.as_str());
            let rows = services
                .list_trial_requests(&caller, filter)
                .await
                .map_err(failed)?;
            let text = rows
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\t{} ({})\t{}\t{}",
                        r.request.id,
                        r.request.status,
                        r.org_name,
                        r.org_plan,
                        r.request.requested_by,
                        r.request.use_case.replace('\n', " ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    let mut v = trial_json(&r.request);
                    v["org_name"] = json!(r.org_name);
                    v["org_plan"] = json!(r.org_plan);
                    v
                })
                .collect();
            print(output, text, json!({ "trial_requests": list }));
        }
        Command::Trial(TrialCommand::Approve {
            id,
            ends_on,
            days,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let ends_at = match (ends_on, days) {
                (Some(day), _) => Some(crate::services::end_of_day_ms(day)),
                (None, Some(days)) => {
                    Some(services.clock().now_ms() + i64::from(days) * 86_400_000)
                }
                (None, None) => None,
            };
            let row = services
                .approve_trial(&caller, &id, ends_at)
                .await
                .map_err(failed)?;
            print(
                output,
                format!(
                    "approved {id}: the trial ends {}",
                    app::domain::format_time(row.trial_ends_at.unwrap_or_default())
                ),
                trial_json(&row),
            );
        }
        Command::Trial(TrialCommand::Decline {
            id,
            reason,
            context,
        }) => {
            let services = operator_services(&context).await?;
            let row = services
                .decline_trial(&caller, &id, &reason)
                .await
                .map_err(failed)?;
            print(output, format!("declined {id}"), trial_json(&row));
        }
        Command::Project(ProjectCommand::SetUpstream {
            project,
            address,
            pooler,
            context,
        }) => {
            let services = operator_services(&context).await?;
            services
                .set_project_upstream(&caller, &project, &address, pooler)
                .await
                .map_err(failed)?;
            let what = if pooler { "pooler" } else { "upstream" };
            print(
                output,
                format!("{project}'s {what} is {address}"),
                json!({"project_id": project.as_str(), what: address.trim()}),
            );
        }
        Command::Serve(_) | Command::Migrate(_) | Command::Proxy(_) => {
            unreachable!("handled by run")
        }
    }
    Ok(())
}

/// Runs the parsed command line. Errors are returned to `main`, which prints them and exits
/// non-zero.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(&cli.log, cli.log_format);
    let command = match cli.command {
        Some(command) => command,
        // `enclave` with no subcommand serves, configured from the environment alone.
        None => match Cli::parse_from(["enclave", "serve"]).command {
            Some(command) => command,
            None => unreachable!("`serve` always parses to a command"),
        },
    };
    match command {
        Command::Serve(config) => {
            let app = Application::build(&config).await?;
            if config.demo {
                // Printed (not logged) so it is visible whatever the log level.
                if crate::demo::seed(app.services()).await? {
                    println!("{}", crate::demo::sign_in_help(app.local_addr()));
                } else {
                    println!(
                        "--demo: the database already has organizations; no demo data was added. \
                         Demo accounts (if this database was seeded before) use the password \"{}\".",
                        crate::demo::DEMO_PASSWORD
                    );
                }
            }
            tracing::info!(
                addr = %app.local_addr(),
                database = ?redacted_database(&config.database.database_url),
                "Enclave is listening on http://{}",
                app.local_addr()
            );
            app.run_until_stopped().await
        }
        Command::Migrate(config) => {
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Proxy(config) => crate::proxy::run(config).await,
        operator => run_operator(operator, cli.output).await,
    }
}

/// The database URL without its password, fit for logs.
pub fn redacted_database(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redacted_database("postgres://app:s3cret@db:5432/enclave"),
            "postgres://app:***@db:5432/enclave"
        );
        assert_eq!(
            redacted_database("sqlite://data/enclave.db"),
            "sqlite://data/enclave.db"
        );
    }

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::parse_from(["enclave"]);
        assert!(cli.command.is_none());
        let serve = Cli::parse_from(["enclave", "serve", "--addr", "127.0.0.1:0"]);
        match serve.command {
            Some(Command::Serve(c)) => assert_eq!(c.addr.port(), 0),
            other => panic!("expected serve, got {other:?}"),
        }
    }
}
