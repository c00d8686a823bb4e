//! The console's changes: each [`ConsoleChange`] a server function hands over becomes one
//! service call (where the rules, confirmations and interlocks are checked inside the
//! transaction that writes), and its outcome is put in words for the page. Also seals those
//! outcomes for the address a plain form post is sent back to.

use app::backend::ConsoleChange;
use app::domain::{Done, ErrorCode, Flash, Label, NewKeyView};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ring::hmac;

use super::{Acknowledgement, AllowListEdit, KeyOwner, Principal, ServiceError, Services};
use crate::store::{AllowedIpRecord, AssignOutcome, SettingsChange};

const DAY_MS: i64 = 86_400_000;

impl Services {
    /// Makes one console change as the session's person; `request_id` (the HTTP request's)
    /// is recorded with it in the audit log.
    pub(super) async fn console_change(
        &self,
        session: &str,
        request_id: Option<String>,
        change: ConsoleChange,
    ) -> Result<Done, ServiceError> {
        let mut caller = self.session_caller(session).await?;
        caller.request_id = request_id;
        let now = self.clock().now_ms();
        Ok(match change {
            ConsoleChange::CreateApiKey {
                org,
                name,
                expires_in_days,
            } => {
                let owner = match org {
                    Some(org) => KeyOwner::Org(org),
                    None => match &caller.principal {
                        Principal::User { user_id, .. } => KeyOwner::User(user_id.clone()),
                        _ => {
                            return Err(ServiceError::new(
                                ErrorCode::PermissionDenied,
                                "Only people have personal API keys.",
                            ))
                        }
                    },
                };
                let expires_at = expires_in_days.map(|d| now + d * DAY_MS);
                let key = self
                    .create_api_key(&caller, &owner, &name, expires_at)
                    .await?;
                Done {
                    message: format!(
                        "API key \"{}\" is created. Copy it now: it is shown only once.",
                        name.trim()
                    ),
                    new_key: Some(NewKeyView {
                        id: key.id,
                        token: key.token,
                    }),
                }
            }
            ConsoleChange::CreateWebhook {
                org,
                url,
                events,
                refusal_threshold,
            } => {
                let created = self
                    .create_webhook(&caller, &org, &url, &events, refusal_threshold)
                    .await?;
                Done {
                    message: format!(
                        "Webhook to {} is added. Copy its signing secret now: it is shown only once.",
                        created.webhook.url
                    ),
                    new_key: Some(NewKeyView {
                        id: created.webhook.id,
                        token: created.secret,
                    }),
                }
            }
            ConsoleChange::DeleteWebhook { org, id } => {
                self.delete_webhook(&caller, &org, &id).await?;
                Done::said("The webhook is removed, with its deliveries not yet sent.")
            }
            ConsoleChange::RedeliverWebhook { org, delivery } => {
                self.redeliver_webhook(&caller, &org, &delivery).await?;
                Done::said("The delivery is queued to be sent again now.")
            }
            ConsoleChange::RevokeApiKey { id } => {
                self.revoke_api_key(&caller, &id).await?;
                Done::said("The key is revoked. Requests that use it are refused from now on.")
            }
            ConsoleChange::AssignEndpoint {
                org,
                region,
                endpoint,
                label,
            } => {
                let outcome = self
                    .assign_endpoint(&caller, &org, &region, &endpoint, &label)
                    .await?;
                Done::said(match outcome {
                    AssignOutcome::Created => format!(
                        "VPC endpoint {endpoint} is assigned in {region}. It stays \"new\" until the connection is accepted."
                    ),
                    AssignOutcome::Relabelled { .. } => {
                        format!("VPC endpoint {endpoint} is now labelled \"{}\".", label.as_str())
                    }
                    _ => format!(
                        "VPC endpoint {endpoint} is already assigned in {region} with that label; nothing changed."
                    ),
                })
            }
            ConsoleChange::RemoveEndpoint {
                org,
                region,
                endpoint,
                acknowledge,
            } => {
                self.remove_endpoint(
                    &caller,
                    &org,
                    &region,
                    &endpoint,
                    Acknowledgement::Given(acknowledge),
                )
                .await?;
                Done::said(format!(
                    "VPC endpoint {endpoint} is removed. It can never be assigned to this organization again."
                ))
            }
            ConsoleChange::AllowAwsAccount { org, account, note } => {
                self.allow_account(&caller, &org, &account, &note).await?;
                Done::said(format!(
                    "AWS account {account} may now create endpoints for this organization."
                ))
            }
            ConsoleChange::DisallowAwsAccount { org, account } => {
                self.disallow_account(&caller, &org, &account).await?;
                Done::said(format!(
                    "AWS account {account} is no longer allowed; endpoints it already connected stay as they are."
                ))
            }
            ConsoleChange::SetPublicAccess {
                project,
                block,
                confirmed,
                acknowledge_lockout,
            } => {
                if !confirmed {
                    return Err(ServiceError::new(
                        ErrorCode::NotConfirmed,
                        "Nothing changed: confirm the change on the confirmation form.",
                    ));
                }
                let change = SettingsChange {
                    block_public_connections: Some(block),
                    ..Default::default()
                };
                // What blocking would refuse is judged by the service from the proxies'
                // evidence, under the lock of the write; the form's box is the
                // acknowledgement.
                match self
                    .update_project_settings(
                        &caller,
                        &project,
                        &change,
                        Acknowledgement::Given(acknowledge_lockout),
                    )
                    .await
                {
                    Err(e) if e.code == ErrorCode::AcknowledgementRequired => {
                        return Err(ServiceError::new(
                            ErrorCode::AcknowledgementRequired,
                            format!(
                                "Public access was not blocked. {} Tick the box to confirm that this is what you want.",
                                e.message
                                    .trim_start_matches("Nothing changed: ")
                                    .trim_end_matches(" Confirm that this is what you want to apply it.")
                            ),
                        ))
                    }
                    other => other?,
                };
                Done::said(if block {
                    "Public access is being blocked. It shows \"applying\" until the data plane confirms."
                } else {
                    "Public access is being allowed again. It shows \"applying\" until the data plane confirms."
                })
            }
            ConsoleChange::SetReportOnly {
                project,
                report_only,
            } => {
                let change = SettingsChange {
                    public_block_report_only: Some(report_only),
                    ..Default::default()
                };
                self.update_project_settings(
                    &caller,
                    &project,
                    &change,
                    Acknowledgement::Given(false),
                )
                .await?;
                Done::said(if report_only {
                    "Report-only: public connections are still let through, and each is recorded as one blocking would refuse."
                } else {
                    "Reporting stopped."
                })
            }
            ConsoleChange::AddAllowedIp {
                project,
                entry,
                note,
                expires_in_days,
                acknowledge,
            } => {
                let record = AllowedIpRecord {
                    entry: entry.as_str().to_string(),
                    note: note.as_str().to_string(),
                    expires_at: expires_in_days.map(|d| now + d * DAY_MS),
                };
                self.edit_allowed_ips(
                    &caller,
                    &project,
                    AllowListEdit::Add(record),
                    Acknowledgement::Given(acknowledge),
                )
                .await?;
                Done::said(format!(
                    "{entry} is on the IP allow list: public connections come only from listed networks."
                ))
            }
            ConsoleChange::RemoveAllowedIp {
                project,
                entry,
                acknowledge,
            } => {
                let row = self
                    .edit_allowed_ips(
                        &caller,
                        &project,
                        AllowListEdit::Remove(entry.clone()),
                        Acknowledgement::Given(acknowledge),
                    )
                    .await?;
                Done::said(if row.allowed_ips().is_empty() {
                    "The IP allow list is empty: public connections may come from anywhere again."
                        .to_string()
                } else {
                    format!("{entry} is off the IP allow list.")
                })
            }
            ConsoleChange::Restrict {
                project,
                endpoint,
                acknowledge,
            } => {
                self.restrict_project(
                    &caller,
                    &project,
                    &endpoint,
                    &Label::default(),
                    Acknowledgement::Given(acknowledge),
                )
                .await?;
                Done::said(format!(
                    "The project now accepts VPC connections only from its restricted endpoints, including {endpoint}."
                ))
            }
            ConsoleChange::Unrestrict {
                project,
                endpoint,
                confirm_open,
                acknowledge,
            } => {
                // The confirmation is judged under the organization's lock, in the
                // transaction that lifts: two admins lifting the last two at once cannot
                // both skip it.
                let opened = match self
                    .unrestrict_project(
                        &caller,
                        &project,
                        &endpoint,
                        confirm_open,
                        Acknowledgement::Given(acknowledge),
                    )
                    .await
                {
                    Err(e) if e.code == ErrorCode::ConfirmationRequired => {
                        return Err(ServiceError::new(
                            ErrorCode::ConfirmationRequired,
                            "The restriction stays: it is the last one, and without it every endpoint of \
                             the organization in this region may connect. Tick the box to confirm.",
                        ))
                    }
                    other => other?,
                };
                Done::said(if opened {
                    "The last restriction is removed: every accepted endpoint of the organization in this region may connect.".to_string()
                } else {
                    format!("{endpoint} no longer restricts this project.")
                })
            }
            ConsoleChange::SaveAwsDetails {
                project,
                vpc_id,
                subnet_ids,
                security_group_id,
            } => {
                self.save_setup_aws_details(
                    &caller,
                    project.as_str(),
                    &vpc_id,
                    &subnet_ids,
                    &security_group_id,
                )
                .await?;
                Done::said(
                    "Saved. The commands below are filled in with your VPC, subnets and security group.",
                )
            }
            ConsoleChange::SaveConsumerNetwork {
                project,
                owner,
                network,
                subnet,
            } => {
                self.save_setup_consumer_network(
                    &caller,
                    project.as_str(),
                    &owner,
                    &network,
                    &subnet,
                )
                .await?;
                Done::said("Saved. The commands below are filled in with your network and subnet.")
            }
            ConsoleChange::RecordSetupStep { project, step } => {
                self.record_setup_step(&caller, project.as_str(), step)
                    .await?;
                // The step's page says where the admin is; nothing to announce.
                Done::said("")
            }
            ConsoleChange::RequestTrial {
                org,
                use_case,
                regions,
                expected_endpoints,
            } => {
                let application = super::TrialApplication {
                    use_case,
                    regions,
                    expected_endpoints,
                };
                self.request_trial(&caller, org.as_str(), &application)
                    .await?;
                Done::said(
                    "Your trial request is sent. A platform operator reviews it; the decision appears on this page.",
                )
            }
            ConsoleChange::ApproveTrial { id, ends_on } => {
                let row = self
                    .approve_trial(&caller, &id, ends_on.map(super::end_of_day_ms))
                    .await?;
                Done::said(format!(
                    "Trial {id} approved; it ends {}.",
                    app::domain::format_time(row.trial_ends_at.unwrap_or_default())
                ))
            }
            ConsoleChange::DeclineTrial { id, reason } => {
                self.decline_trial(&caller, &id, &reason).await?;
                Done::said(format!(
                    "Trial {id} declined; the organization's admins see your reason."
                ))
            }
        })
    }
}

/// The key a session's outcomes are sealed with: derived from its token, which only that
/// browser holds, so a sealed outcome is worthless in anyone else's address bar.
fn outcome_key(session: &str) -> hmac::Key {
    hmac::Key::new(
        hmac::HMAC_SHA256,
        format!("enclave outcome\n{session}").as_bytes(),
    )
}

/// `<base64url(JSON)>.<base64url(HMAC)>`: safe in an address without escaping.
pub(super) fn seal_outcome(session: &str, outcome: &Flash) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(outcome).unwrap_or_default());
    let tag = hmac::sign(&outcome_key(session), payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

pub(super) fn open_outcome(session: &str, sealed: &str) -> Option<Flash> {
    let (payload, tag) = sealed.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    hmac::verify(&outcome_key(session), payload.as_bytes(), &tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_outcomes_open_only_for_their_session_and_unaltered() {
        let outcome = Flash {
            ok: true,
            message: "VPC endpoint vpce-0123456789abcdef0 is assigned.".to_string(),
        };
        let sealed = seal_outcome("session-a", &outcome);
        assert!(sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        assert_eq!(open_outcome("session-a", &sealed), Some(outcome.clone()));
        assert_eq!(open_outcome("session-b", &sealed), None);
        let forged = Flash {
            ok: true,
            message: "Call 555-0100 to restore access.".to_string(),
        };
        let (_, tag) = sealed.split_once('.').unwrap();
        let swapped = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap())
        );
        assert_eq!(open_outcome("session-a", &swapped), None);
        assert_eq!(open_outcome("session-a", "garbage"), None);
    }
}
