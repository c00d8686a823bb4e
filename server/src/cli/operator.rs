//! The operator commands: each concern (organizations, users, projects, API keys, trials,
//! the provider) in its own function, each a thin caller of one service that prints what it
//! did (see [`super::output`]).

use app::domain::{ErrorCode, OrgId};
use std::io::Read;

use serde_json::json;

use super::args::*;
use super::output::{print, trial_json};
use super::CommandFailed;
use crate::{
    services::{Caller, KeyOwner, ServiceError, Services},
    startup,
};

fn failed(e: ServiceError) -> anyhow::Error {
    anyhow::Error::new(CommandFailed(e))
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

/// Runs one operator command against the database.
pub(super) async fn run(command: Command, output: Output) -> anyhow::Result<()> {
    match command {
        Command::Org(command) => org(command, output).await,
        Command::Provider(command) => provider(command, output).await,
        Command::User(command) => user(command, output).await,
        Command::Project(command) => project(command, output).await,
        Command::ApiKey(command) => api_key(command, output).await,
        Command::Trial(command) => trial(command, output).await,
        Command::Webhook(command) => webhook(command, output).await,
        Command::ScaleSeed {
            organizations,
            projects_per_org,
            endpoints_per_org,
            samples,
            context,
        } => {
            let services = operator_services(&context).await?;
            let report = crate::scale::seed(
                &services,
                crate::scale::ScaleShape {
                    organizations: organizations as usize,
                    projects_per_org: projects_per_org as usize,
                    endpoints_per_org: endpoints_per_org as usize,
                    samples: samples as usize,
                },
            )
            .await?;
            // Always JSON: its reader is a script.
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Serve(_)
        | Command::Migrate(_)
        | Command::Proxy(_)
        | Command::BenchBare { .. }
        | Command::BenchLoad(_) => {
            unreachable!("handled by cli::run")
        }
    }
}

/// Organizations: create, members, allowed AWS accounts, lifting a freeze.
async fn org(command: OrgCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        OrgCommand::Create {
            name,
            plan,
            context,
        } => {
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
        OrgCommand::LiftFreeze {
            org,
            days,
            end,
            context,
        } => {
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
        OrgCommand::AddMember {
            org,
            email,
            role,
            context,
        } => {
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
        OrgCommand::AllowAwsAccount {
            org,
            account,
            note,
            context,
        } => {
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
        OrgCommand::DisallowAwsAccount {
            org,
            account,
            context,
        } => {
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
        OrgCommand::AwsAccounts { org, context } => {
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
    }
    Ok(())
}

/// The cloud provider's health.
async fn provider(command: ProviderCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        ProviderCommand::Status { context } => {
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
            if let Some(lease) = &status.background_work {
                lines.push(format!(
                    "background work\t{}\tholds until {}",
                    lease.holder,
                    app::domain::format_time(lease.expires_at)
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
                json!({
                    "problems": status.problems,
                    "unassigned": status.unassigned,
                    "background_work": status.background_work,
                }),
            );
        }
    }
    Ok(())
}

/// People: create, make operator.
async fn user(command: UserCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        UserCommand::Create {
            email,
            operator,
            no_password,
            context,
        } => {
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
        UserCommand::SetOperator {
            email,
            revoke,
            context,
        } => {
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
    }
    Ok(())
}

/// Projects: create, where their Postgres is.
async fn project(command: ProjectCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        ProjectCommand::Create {
            org,
            name,
            region,
            context,
        } => {
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
        ProjectCommand::SetUpstream {
            project,
            address,
            pooler,
            context,
        } => {
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
    }
    Ok(())
}

/// Webhooks: create, list, delete, deliveries, redeliver.
async fn webhook(command: WebhookCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        WebhookCommand::Create {
            org,
            url,
            events,
            refusal_threshold,
            context,
        } => {
            let services = operator_services(&context).await?;
            let created = services
                .create_webhook(&caller, &org, &url, &events, refusal_threshold)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{}\t{}", created.webhook.id, created.secret),
                json!({"id": created.webhook.id, "url": created.webhook.url,
                       "events": created.webhook.event_types(), "secret": created.secret}),
            );
        }
        WebhookCommand::List { org, context } => {
            let services = operator_services(&context).await?;
            let hooks = services
                .list_webhooks(&caller, &org)
                .await
                .map_err(failed)?;
            let text = hooks
                .iter()
                .map(|w| format!("{}\t{}\t{}", w.id, w.url, w.event_types().join(",")))
                .collect::<Vec<_>>()
                .join("\n");
            print(output, text, json!({ "webhooks": hooks }));
        }
        WebhookCommand::Delete { org, id, context } => {
            let services = operator_services(&context).await?;
            services
                .delete_webhook(&caller, &org, &id)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("deleted {id}"),
                json!({"id": id, "deleted": true}),
            );
        }
        WebhookCommand::Deliveries { org, id, context } => {
            let services = operator_services(&context).await?;
            let (_, log) = services
                .webhook_deliveries(&caller, &org, &id)
                .await
                .map_err(failed)?;
            let text = log
                .iter()
                .map(|e| {
                    let codes = e
                        .attempts
                        .iter()
                        .map(|a| {
                            a.status_code
                                .map_or_else(|| "-".to_string(), |c| c.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    format!(
                        "{}\t{}\t{}\tattempts {}\t{codes}",
                        e.delivery.id,
                        e.delivery.event_type,
                        e.delivery.status,
                        e.delivery.attempts
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let json_log: Vec<_> = log
                .iter()
                .map(|e| json!({"delivery": e.delivery, "attempts": e.attempts}))
                .collect();
            print(output, text, json!({ "deliveries": json_log }));
        }
        WebhookCommand::Redeliver {
            org,
            delivery,
            context,
        } => {
            let services = operator_services(&context).await?;
            let row = services
                .redeliver_webhook(&caller, &org, &delivery)
                .await
                .map_err(failed)?;
            print(
                output,
                format!("{} queued to be sent again", row.id),
                json!({"id": row.id, "status": row.status}),
            );
        }
    }
    Ok(())
}

/// API keys: create, list, revoke.
async fn api_key(command: ApiKeyCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        ApiKeyCommand::Create {
            org,
            user,
            name,
            expires_in_days,
            context,
        } => {
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
        ApiKeyCommand::List { org, user, context } => {
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
        ApiKeyCommand::Revoke { id, context } => {
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
    }
    Ok(())
}

/// Trial requests: list, approve, decline.
async fn trial(command: TrialCommand, output: Output) -> anyhow::Result<()> {
    let caller = Caller::operator_cli();
    match command {
        TrialCommand::List { status, context } => {
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
        TrialCommand::Approve {
            id,
            ends_on,
            days,
            context,
        } => {
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
        TrialCommand::Decline {
            id,
            reason,
            context,
        } => {
            let services = operator_services(&context).await?;
            let row = services
                .decline_trial(&caller, &id, &reason)
                .await
                .map_err(failed)?;
            print(output, format!("declined {id}"), trial_json(&row));
        }
    }
    Ok(())
}
