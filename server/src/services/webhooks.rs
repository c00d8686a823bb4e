//! Webhooks' rules: who may register receivers (admins of the organization), which URLs are
//! acceptable (HTTPS to public addresses unless the operator allows private ones), the events
//! and limits, the delivery log, "send again", and the events that come from the clock
//! (trial deadlines) rather than from a request.

use std::net::IpAddr;

use app::domain::{
    parse_webhook_url, ErrorCode, OrgId, WebhookEvent, DEFAULT_REFUSAL_THRESHOLD,
    MAX_WEBHOOKS_PER_ORG,
};
use base64::Engine;
use rand::RngCore;
use serde_json::json;

use super::{Caller, ServiceError, Services};
use crate::store::{AttemptRow, DeliveryRow, InsertWebhookOutcome, TrialNotice, WebhookRow};

/// How long before a trial's end the `trial.ending` notice goes out.
pub const TRIAL_ENDING_NOTICE_MS: i64 = 3 * 86_400_000;

/// Deliveries shown per receiver in the log.
pub const DELIVERY_LOG_LIMIT: i64 = 50;

/// A receiver as registered: the signing secret is answered once, here.
#[derive(Clone, Debug)]
pub struct CreatedWebhook {
    pub webhook: WebhookRow,
    pub secret: String,
}

/// A delivery with its attempts, for the log.
#[derive(Clone, Debug)]
pub struct DeliveryLogEntry {
    pub delivery: DeliveryRow,
    pub attempts: Vec<AttemptRow>,
}

/// Whether a webhook may be sent to this address. Without the operator's permission only
/// public unicast addresses qualify: not loopback, private (RFC 1918, unique local), link-local
/// (which includes cloud metadata services), shared (100.64/10), unspecified, broadcast,
/// multicast or documentation ranges; IPv4 inside IPv6 is judged as IPv4.
pub fn webhook_address_allowed(ip: IpAddr, allow_private: bool) -> bool {
    if allow_private {
        return true;
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return webhook_address_allowed(IpAddr::V4(v4), false);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks' form).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

impl Services {
    /// Registers a receiver for the organization (admins only): the URL checked (HTTPS; its
    /// host, when an address or a local name, must be public unless the operator allows
    /// private receivers), the events known, at most [`MAX_WEBHOOKS_PER_ORG`] receivers.
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        url: &str,
        events: &[String],
        refusal_threshold: Option<i64>,
    ) -> Result<CreatedWebhook, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let allow_private = self.config.webhooks_allow_private;
        let url = parse_webhook_url("url", url, allow_private)?;
        if !allow_private {
            check_host_is_public(&url)?;
        }
        let events = WebhookEvent::parse_list("events", events.iter().map(String::as_str))?;
        let threshold = refusal_threshold.unwrap_or(DEFAULT_REFUSAL_THRESHOLD);
        if !(1..=1_000_000).contains(&threshold) {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid refusal_threshold: give the number of refused connections per project \
                 per hour (1 to 1,000,000) above which to send refusals.above_threshold.",
            ));
        }
        let secret = new_secret();
        let webhook = WebhookRow {
            id: super::names::opaque_id("whk"),
            org_id: org.id.clone(),
            url,
            secret: secret.clone(),
            events: format!(
                ",{},",
                events
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            refusal_threshold: threshold,
            created_at: self.clock.now_ms(),
        };
        let audit = self
            .audit(caller, "webhook.create", &webhook.id)
            .org(&org.id)
            .after(json!({"url": webhook.url, "events": webhook.event_types(), "refusal_threshold": threshold}));
        match self
            .store
            .insert_webhook(&webhook, MAX_WEBHOOKS_PER_ORG, &audit)
            .await?
        {
            InsertWebhookOutcome::Created => Ok(CreatedWebhook { webhook, secret }),
            InsertWebhookOutcome::LimitReached => Err(ServiceError::new(
                ErrorCode::TooManyWebhooks,
                format!(
                    "Organization {} already has {MAX_WEBHOOKS_PER_ORG} webhook receivers, the \
                     most it may have. Remove one it no longer needs, or send more events to \
                     an existing receiver.",
                    org.name
                ),
            )),
        }
    }

    /// The organization's receivers (admins only; secrets are never answered again).
    pub async fn list_webhooks(
        &self,
        caller: &Caller,
        org_id: &OrgId,
    ) -> Result<Vec<WebhookRow>, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        Ok(self.store.webhooks_of_org(&org.id).await?)
    }

    /// A receiver of the organization, or "not found" (also for another organization's).
    async fn own_webhook(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        webhook_id: &str,
    ) -> Result<WebhookRow, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        self.store
            .webhook(webhook_id)
            .await?
            .filter(|w| w.org_id == org.id)
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::WebhookNotFound,
                    format!(
                        "Organization {} has no webhook {webhook_id}. List its webhooks to \
                         find the id.",
                        org.name
                    ),
                )
            })
    }

    /// Removes a receiver; its pending deliveries go with it.
    pub async fn delete_webhook(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        webhook_id: &str,
    ) -> Result<(), ServiceError> {
        let webhook = self.own_webhook(caller, org_id, webhook_id).await?;
        let audit = self
            .audit(caller, "webhook.delete", &webhook.id)
            .org(&webhook.org_id)
            .before(json!({"url": webhook.url, "events": webhook.event_types()}));
        self.store.delete_webhook(&webhook.id, &audit).await?;
        Ok(())
    }

    /// A receiver's recent deliveries, newest first, each with its attempts.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        webhook_id: &str,
    ) -> Result<(WebhookRow, Vec<DeliveryLogEntry>), ServiceError> {
        let webhook = self.own_webhook(caller, org_id, webhook_id).await?;
        let mut log = Vec::new();
        for delivery in self
            .store
            .deliveries_of(&webhook.id, DELIVERY_LOG_LIMIT)
            .await?
        {
            let attempts = self.store.attempts_of(&delivery.id).await?;
            log.push(DeliveryLogEntry { delivery, attempts });
        }
        Ok((webhook, log))
    }

    /// "Send again": the delivery goes back in its receiver's queue, due now, with a fresh
    /// retry window. Works for delivered and failed deliveries alike.
    pub async fn redeliver_webhook(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        delivery_id: &str,
    ) -> Result<DeliveryRow, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let not_found = || {
            ServiceError::new(
                ErrorCode::WebhookDeliveryNotFound,
                format!(
                    "Organization {} has no webhook delivery {delivery_id}. It may have been \
                     cleaned up (finished deliveries are kept 30 days).",
                    org.name
                ),
            )
        };
        let delivery = self
            .store
            .delivery(delivery_id)
            .await?
            .filter(|d| d.org_id == org.id)
            .ok_or_else(not_found)?;
        let now = self.clock.now_ms();
        let audit = self
            .audit(caller, "webhook.redeliver", &delivery.id)
            .org(&org.id)
            .before(json!({"status": delivery.status, "attempts": delivery.attempts}));
        if !self.store.redeliver(&delivery.id, now, &audit).await? {
            return Err(not_found());
        }
        self.store
            .delivery(&delivery.id)
            .await?
            .ok_or_else(not_found)
    }

    /// Sends the trial deadline notices that are due (`trial.ending` three days before the
    /// end, `trial.ended` at it), each once; answers how many went out. Run by the
    /// background pass.
    pub async fn send_trial_notices(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now_ms();
        let caller = Caller::system();
        let mut sent = 0;
        for (trial, notice) in self
            .store
            .trials_due_notice(now, TRIAL_ENDING_NOTICE_MS, 100)
            .await?
        {
            let action = match notice {
                TrialNotice::Ending => "trial.ending",
                TrialNotice::Ended => "trial.ended",
            };
            let ends_at = trial.trial_ends_at.unwrap_or(now);
            let audit = self
                .audit(&caller, action, &trial.id)
                .org(&trial.org_id)
                .after(json!({
                    "trial_ends_at": chrono::DateTime::from_timestamp_millis(ends_at)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    "days_left": ((ends_at - now).max(0) + 86_399_999) / 86_400_000,
                }));
            if self
                .store
                .mark_trial_notice(&trial.id, notice, &audit)
                .await?
            {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// Refuses a receiver whose host is itself a non-public address or a local name (the
/// dispatcher also checks every address a name resolves to, before each delivery).
fn check_host_is_public(url: &str) -> Result<(), ServiceError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        ServiceError::new(
            ErrorCode::InvalidInput,
            format!("Invalid url: {e}. Give the receiver's full https:// address."),
        )
    })?;
    let refused = |what: &str| {
        ServiceError::new(
            ErrorCode::InvalidInput,
            format!(
                "Invalid url: {what} is not a public address, and webhooks go only to public \
                 addresses (the operator can allow private receivers with \
                 --webhooks-allow-private-addresses)."
            ),
        )
    };
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) if !webhook_address_allowed(IpAddr::V4(ip), false) => {
            Err(refused(&ip.to_string()))
        }
        Some(url::Host::Ipv6(ip)) if !webhook_address_allowed(IpAddr::V6(ip), false) => {
            Err(refused(&ip.to_string()))
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".local")
                || name.ends_with(".internal")
                || !name.contains('.')
            {
                Err(refused(&name))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_allowed_by_default() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!webhook_address_allowed(ip, false), "{ip}");
            assert!(webhook_address_allowed(ip, true), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(webhook_address_allowed(ip.parse().unwrap(), false), "{ip}");
        }
    }

    #[test]
    fn local_hosts_are_refused_at_registration() {
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "https://localhost/hook",
            "https://metadata.google.internal/",
            "https://intranet/hook",
        ] {
            let err = check_host_is_public(url).unwrap_err();
            assert!(
                err.message.contains("not a public address"),
                "{url}: {}",
                err.message
            );
        }
        assert!(check_host_is_public("https://hooks.example.com/enclave").is_ok());
    }
}
