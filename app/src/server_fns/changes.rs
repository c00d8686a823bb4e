//! Server functions that change something: one per console form. Each parses its fields into
//! a typed [`ConsoleChange`](crate::backend::ConsoleChange), hands it to the service layer
//! through the console port, and answers the way it was called:
//!
//! - from the page's `ActionForm` (JavaScript): the outcome as data, shown in the page's live
//!   region; on success the browser goes back to the page's own address (leaving any
//!   confirmation open in the address behind);
//! - from a plain form post (no JavaScript): a redirect to the page, carrying the outcome
//!   sealed to the session in the address, so the page shows it once it loads.
//!
//! Every argument is a string, as forms send them; unticked boxes are absent (`default`).
//! `csrf_token` is checked by the server's middleware before the function runs.

use leptos::prelude::*;

use crate::domain::{ConsoleError, Done};

#[cfg(feature = "ssr")]
use crate::{
    backend::ConsoleChange,
    domain::{
        AwsAccountId, ErrorCode, Flash, IpAllowEntry, Label, OrgId, ProjectId, RegionId, SetupStep,
        VpcEndpointId,
    },
};

/// Where a form that can be posted from the setup stepper goes back to: the step's address
/// when it names one of this project's (or, with `project` `None`, any project's) setup
/// steps, never anywhere else, so the field cannot send people off-site.
pub fn setup_return(return_to: &str, project: Option<&str>) -> Option<String> {
    let rest = return_to.strip_prefix("/projects/")?;
    let (id, step) = rest.split_once("/setup/")?;
    crate::domain::ProjectId::parse(id).ok()?;
    if project.is_some_and(|p| p != id) {
        return None;
    }
    crate::domain::SetupStep::parse(step)?;
    Some(return_to.to_string())
}

#[cfg(feature = "ssr")]
fn ticked(value: &str) -> bool {
    value == "on" || value == "true"
}

#[cfg(feature = "ssr")]
fn yes_or_no(value: &str, field: &str, question: &str) -> Result<bool, ConsoleError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConsoleError::new(
            ErrorCode::InvalidInput,
            format!("Invalid {field}: {question}"),
        )),
    }
}

/// Whole days from 1 to `max`, or `None` for an empty field.
#[cfg(feature = "ssr")]
fn days(value: &str, field: &str, max: i64) -> Result<Option<i64>, ConsoleError> {
    match value.trim() {
        "" | "never" => Ok(None),
        text => match text.parse::<i64>() {
            Ok(d) if (1..=max).contains(&d) => Ok(Some(d)),
            _ => Err(ConsoleError::new(
                ErrorCode::InvalidInput,
                format!("Invalid {field}: enter a whole number of days from 1 to {max}, or leave it empty for never."),
            )),
        },
    }
}

/// The project page, or the setup step the form was posted from.
#[cfg(feature = "ssr")]
fn project_page(project_id: &str, return_to: &str) -> String {
    setup_return(return_to, Some(project_id)).unwrap_or_else(|| format!("/projects/{project_id}"))
}

/// Runs `change` for the signed-in person and answers as the caller asked (see the module).
#[cfg(feature = "ssr")]
async fn apply(
    page: &str,
    change: Result<ConsoleChange, ConsoleError>,
) -> Result<Done, ConsoleError> {
    let plain_form = super::is_plain_form_post();
    let session = match super::require_session() {
        Ok(session) => session,
        Err(e) => {
            if plain_form {
                leptos_axum::redirect("/sign-in");
            }
            return Err(e);
        }
    };
    let backend = crate::backend::backend()?;
    let result = match change {
        Ok(change) => backend.change(&session, super::request_id(), change).await,
        Err(e) => Err(e),
    }
    .map_err(super::with_request_id);
    let said_nothing = matches!(&result, Ok(done) if done.message.is_empty());
    if plain_form && said_nothing {
        leptos_axum::redirect(page);
    } else if plain_form {
        let outcome = match &result {
            Ok(done) => Flash {
                ok: true,
                message: done.message.clone(),
            },
            Err(e) => Flash {
                ok: false,
                message: e.for_people(),
            },
        };
        let sealed = backend.seal_outcome(&session, &outcome);
        // A refused change goes back to exactly where the form was (a confirmation left open
        // stays open, as it does with JavaScript); a change made goes to the page itself.
        let back = match &result {
            Err(_) => super::same_page_referer(page).unwrap_or_else(|| page.to_string()),
            Ok(_) => page.to_string(),
        };
        let separator = if back.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&format!("{back}{separator}outcome={sealed}"));
        if let Ok(Done {
            new_key: Some(key), ..
        }) = &result
        {
            super::hand_over_new_key(&key.id, &key.token, page);
        }
    } else {
        match &result {
            Ok(_) => leptos_axum::redirect(page),
            // The answer's status says what kind of refusal it is, as the REST API's would.
            Err(e) => super::answer_status(e),
        }
    }
    result
}

/// Creates an API key: `owner` is `personal` or an organization id; `expires` is `never` or
/// a number of days.
#[server(prefix = "/fn", endpoint = "create_api_key")]
pub async fn create_api_key(
    csrf_token: String,
    #[server(default)] name: String,
    #[server(default)] owner: String,
    #[server(default)] expires: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        let org = match owner.as_str() {
            "personal" => None,
            other => Some(OrgId::parse(other).map_err(|e| e.with_field("owner"))?),
        };
        Ok(ConsoleChange::CreateApiKey {
            org,
            name: name.clone(),
            expires_in_days: days(&expires, "expires", crate::domain::API_KEY_MAX_EXPIRY_DAYS)?,
        })
    })();
    apply("/api-keys", change).await
}

#[server(prefix = "/fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(
    csrf_token: String,
    #[server(default)] id: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    apply("/api-keys", Ok(ConsoleChange::RevokeApiKey { id })).await
}

/// Assigns (or relabels) a VPC endpoint; from the organization page or a setup step.
#[server(prefix = "/fn", endpoint = "assign_endpoint")]
pub async fn assign_endpoint(
    csrf_token: String,
    org_id: String,
    #[server(default)] region_id: String,
    #[server(default)] vpc_endpoint_id: String,
    #[server(default)] label: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let page = setup_return(&return_to, None).unwrap_or_else(|| format!("/orgs/{org_id}"));
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::AssignEndpoint {
            org: OrgId::parse(&org_id)?,
            region: RegionId::parse(&region_id)?,
            endpoint: RegionId::parse(&region_id)
                .and_then(|r| VpcEndpointId::parse_in(r.cloud(), &vpc_endpoint_id))?,
            label: Label::parse(&label)?,
        })
    })();
    apply(&page, change).await
}

/// Removes a VPC endpoint for good (`acknowledge`: even if recent connections would be
/// refused).
#[server(prefix = "/fn", endpoint = "remove_endpoint")]
pub async fn remove_endpoint(
    csrf_token: String,
    org_id: String,
    #[server(default)] region_id: String,
    #[server(default)] vpc_endpoint_id: String,
    #[server(default)] acknowledge: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::RemoveEndpoint {
            org: OrgId::parse(&org_id)?,
            region: RegionId::parse(&region_id)?,
            endpoint: RegionId::parse(&region_id)
                .and_then(|r| VpcEndpointId::parse_in(r.cloud(), &vpc_endpoint_id))?,
            acknowledge: ticked(&acknowledge),
        })
    })();
    apply(&format!("/orgs/{org_id}"), change).await
}

#[server(prefix = "/fn", endpoint = "allow_aws_account")]
pub async fn allow_aws_account(
    csrf_token: String,
    org_id: String,
    #[server(default)] aws_account_id: String,
    #[server(default)] note: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::AllowAwsAccount {
            org: OrgId::parse(&org_id)?,
            account: AwsAccountId::parse(&aws_account_id)?,
            note: Label::parse(&note).map_err(|e| e.with_field("note"))?,
        })
    })();
    apply(&format!("/orgs/{org_id}"), change).await
}

#[server(prefix = "/fn", endpoint = "disallow_aws_account")]
pub async fn disallow_aws_account(
    csrf_token: String,
    org_id: String,
    #[server(default)] aws_account_id: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::DisallowAwsAccount {
            org: OrgId::parse(&org_id)?,
            account: AwsAccountId::parse(&aws_account_id)?,
        })
    })();
    apply(&format!("/orgs/{org_id}"), change).await
}

/// Blocks (`block=true`) or allows public access; `confirm=yes` comes from the confirmation
/// form, `acknowledge_lockout` from its box.
#[server(prefix = "/fn", endpoint = "set_public_access")]
pub async fn set_public_access(
    csrf_token: String,
    project_id: String,
    #[server(default)] block: String,
    #[server(default)] confirm: String,
    #[server(default)] acknowledge_lockout: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::SetPublicAccess {
            project: ProjectId::parse(&project_id)?,
            block: yes_or_no(
                &block,
                "block",
                "choose whether to block or allow public access.",
            )?,
            confirmed: confirm == "yes",
            acknowledge_lockout: ticked(&acknowledge_lockout),
        })
    })();
    apply(&project_page(&project_id, &return_to), change).await
}

#[server(prefix = "/fn", endpoint = "set_report_only")]
pub async fn set_report_only(
    csrf_token: String,
    project_id: String,
    #[server(default)] report_only: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::SetReportOnly {
            project: ProjectId::parse(&project_id)?,
            report_only: yes_or_no(
                &report_only,
                "report_only",
                "choose whether to start or stop reporting.",
            )?,
        })
    })();
    apply(&project_page(&project_id, &return_to), change).await
}

#[server(prefix = "/fn", endpoint = "add_allowed_ip")]
pub async fn add_allowed_ip(
    csrf_token: String,
    project_id: String,
    #[server(default)] entry: String,
    #[server(default)] note: String,
    #[server(default)] expires_in_days: String,
    #[server(default)] acknowledge: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::AddAllowedIp {
            project: ProjectId::parse(&project_id)?,
            entry: IpAllowEntry::parse(&entry)?,
            note: Label::parse(&note).map_err(|e| e.with_field("note"))?,
            expires_in_days: days(&expires_in_days, "expires in days", 365)?,
            acknowledge: ticked(&acknowledge),
        })
    })();
    apply(&format!("/projects/{project_id}"), change).await
}

#[server(prefix = "/fn", endpoint = "remove_allowed_ip")]
pub async fn remove_allowed_ip(
    csrf_token: String,
    project_id: String,
    #[server(default)] entry: String,
    #[server(default)] acknowledge: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::RemoveAllowedIp {
            project: ProjectId::parse(&project_id)?,
            entry: entry.trim().to_string(),
            acknowledge: ticked(&acknowledge),
        })
    })();
    apply(&format!("/projects/{project_id}"), change).await
}

/// Restricts the project to one more endpoint.
#[server(prefix = "/fn", endpoint = "restrict_project")]
pub async fn restrict_project(
    csrf_token: String,
    project_id: String,
    #[server(default)] vpc_endpoint_id: String,
    #[server(default)] acknowledge: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::Restrict {
            project: ProjectId::parse(&project_id)?,
            endpoint: VpcEndpointId::parse_any(&vpc_endpoint_id)?,
            acknowledge: ticked(&acknowledge),
        })
    })();
    apply(&project_page(&project_id, &return_to), change).await
}

/// Lifts a restriction; lifting the last one needs `confirm_open` (judged by the service in
/// the transaction that writes).
#[server(prefix = "/fn", endpoint = "unrestrict_project")]
pub async fn unrestrict_project(
    csrf_token: String,
    project_id: String,
    #[server(default)] vpc_endpoint_id: String,
    #[server(default)] confirm_open: String,
    #[server(default)] acknowledge: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::Unrestrict {
            project: ProjectId::parse(&project_id)?,
            endpoint: VpcEndpointId::parse_any(&vpc_endpoint_id)?,
            confirm_open: ticked(&confirm_open),
            acknowledge: ticked(&acknowledge),
        })
    })();
    apply(&project_page(&project_id, &return_to), change).await
}

/// Saves step 2's VPC, subnets and security group (the commands are filled in with them).
#[server(prefix = "/fn", endpoint = "save_aws_details")]
pub async fn save_aws_details(
    csrf_token: String,
    project_id: String,
    #[server(default)] vpc_id: String,
    #[server(default)] subnet_ids: String,
    #[server(default)] security_group_id: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::SaveAwsDetails {
            project: ProjectId::parse(&project_id)?,
            vpc_id: vpc_id.clone(),
            subnet_ids: subnet_ids.clone(),
            security_group_id: security_group_id.clone(),
        })
    })();
    apply(&format!("/projects/{project_id}/setup/2"), change).await
}

/// Saves step 2's network on Google Cloud or Azure: the GCP project or Azure resource group,
/// the network and the subnet (the commands are filled in with them).
#[server(prefix = "/fn", endpoint = "save_consumer_network")]
pub async fn save_consumer_network(
    csrf_token: String,
    project_id: String,
    #[server(default)] network_owner: String,
    #[server(default)] network_name: String,
    #[server(default)] subnet_name: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::SaveConsumerNetwork {
            project: ProjectId::parse(&project_id)?,
            owner: network_owner.clone(),
            network: network_name.clone(),
            subnet: subnet_name.clone(),
        })
    })();
    apply(&format!("/projects/{project_id}/setup/2"), change).await
}

/// Moves the guided setup to `step` (1–6) and records it as where the setup resumes: a
/// POST, so reading a step never changes anything.
#[server(prefix = "/fn", endpoint = "go_to_setup_step")]
pub async fn go_to_setup_step(
    csrf_token: String,
    project_id: String,
    step: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let parsed = SetupStep::parse(&step);
    let page = match parsed {
        Some(s) => format!("/projects/{project_id}/setup/{}", s.number()),
        None => format!("/projects/{project_id}/setup/1"),
    };
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::RecordSetupStep {
            project: ProjectId::parse(&project_id)?,
            step: parsed.ok_or_else(|| {
                ConsoleError::new(
                    ErrorCode::InvalidInput,
                    "Invalid step: the setup has steps 1 to 6.",
                )
            })?,
        })
    })();
    apply(&page, change).await
}

/// An admin asks for a trial. `regions` are the ticked boxes (`regions[0]`, `regions[1]`…).
#[server(prefix = "/fn", endpoint = "request_trial")]
pub async fn request_trial(
    csrf_token: String,
    org_id: String,
    #[server(default)] use_case: String,
    #[server(default)] regions: Vec<String>,
    #[server(default)] expected_endpoints: String,
    #[server(default)] return_to: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    // Back to the project page it came from (only a project page), else the organization.
    let page = return_to
        .strip_prefix("/projects/")
        .filter(|id| crate::domain::ProjectId::parse(id).is_ok())
        .map(|id| format!("/projects/{id}"))
        .unwrap_or_else(|| format!("/orgs/{org_id}"));
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        Ok(ConsoleChange::RequestTrial {
            org: OrgId::parse(&org_id)?,
            use_case: use_case.clone(),
            regions: regions.clone(),
            expected_endpoints: expected_endpoints.clone(),
        })
    })();
    apply(&page, change).await
}

/// An operator approves a trial; `ends_on` (`YYYY-MM-DD`) is its last day.
#[server(prefix = "/fn", endpoint = "approve_trial")]
pub async fn approve_trial(
    csrf_token: String,
    id: String,
    #[server(default)] ends_on: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        let ends_on = match ends_on.trim() {
            "" => None,
            day => Some(
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                    ConsoleError::new(
                        ErrorCode::InvalidInput,
                        "Invalid ends_on: enter the trial's last day as YYYY-MM-DD.",
                    )
                })?,
            ),
        };
        Ok(ConsoleChange::ApproveTrial {
            id: id.clone(),
            ends_on,
        })
    })();
    apply("/operator", change).await
}

#[server(prefix = "/fn", endpoint = "decline_trial")]
pub async fn decline_trial(
    csrf_token: String,
    id: String,
    #[server(default)] reason: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    apply("/operator", Ok(ConsoleChange::DeclineTrial { id, reason })).await
}

#[cfg(test)]
mod tests {
    use super::setup_return;

    #[test]
    fn only_setup_steps_of_the_project_are_return_addresses() {
        assert_eq!(
            setup_return("/projects/p-1/setup/3", Some("p-1")).as_deref(),
            Some("/projects/p-1/setup/3")
        );
        assert_eq!(setup_return("/projects/p-1/setup/3", Some("p-2")), None);
        assert_eq!(setup_return("/projects/p-1/setup/9", None), None);
        assert_eq!(
            setup_return("https://evil.example/projects/p/setup/1", None),
            None
        );
        assert_eq!(setup_return("//evil.example/setup/1", None), None);
        assert_eq!(setup_return("/projects/../x/setup/1", None), None);
        assert_eq!(setup_return("", None), None);
    }
}

/// Registers a webhook receiver: the URL, the ticked events (`events`, repeated), and the
/// refusal threshold (empty: the default).
#[server(prefix = "/fn", endpoint = "create_webhook")]
pub async fn create_webhook(
    csrf_token: String,
    org_id: String,
    #[server(default)] url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] refusal_threshold: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let page = format!("/orgs/{org_id}/webhooks");
    let change = (|| -> Result<ConsoleChange, ConsoleError> {
        let threshold = match refusal_threshold.trim() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| {
                ConsoleError::new(
                    ErrorCode::InvalidInput,
                    "Invalid refusal_threshold: enter a whole number of refused connections per \
                     hour (1 to 1,000,000), or leave it empty for 100.",
                )
            })?),
        };
        Ok(ConsoleChange::CreateWebhook {
            org: OrgId::parse(&org_id)?,
            url,
            events,
            refusal_threshold: threshold,
        })
    })();
    apply(&page, change).await
}

#[server(prefix = "/fn", endpoint = "delete_webhook")]
pub async fn delete_webhook(
    csrf_token: String,
    org_id: String,
    #[server(default)] id: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let page = format!("/orgs/{org_id}/webhooks");
    let change = OrgId::parse(&org_id)
        .map(|org| ConsoleChange::DeleteWebhook { org, id })
        .map_err(ConsoleError::from);
    apply(&page, change).await
}

/// "Send again" for one delivery.
#[server(prefix = "/fn", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(
    csrf_token: String,
    org_id: String,
    #[server(default)] delivery: String,
) -> Result<Done, ConsoleError> {
    let _ = csrf_token;
    let page = format!("/orgs/{org_id}/webhooks");
    let change = OrgId::parse(&org_id)
        .map(|org| ConsoleChange::RedeliverWebhook { org, delivery })
        .map_err(ConsoleError::from);
    apply(&page, change).await
}
