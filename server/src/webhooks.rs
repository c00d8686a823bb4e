//! The webhook dispatcher: sends the outbox's deliveries to receivers, signed the Standard
//! Webhooks way, in order per receiver, retrying with exponential backoff until a 2xx or the
//! end of the retry window. It runs beside the server on the one instance holding the
//! `webhooks` lease, never in a request: a slow receiver delays nobody's change.
//!
//! Deliveries stay `pending` until a receiver's 2xx is recorded, so a crash (or `kill -9`)
//! mid-attempt means the attempt is made again after the restart: at least once.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{
    reconciler::Leadership,
    services::{webhook_address_allowed, Services},
    store::{Attempt, AttemptOutcome, DueDelivery},
};

/// The lease under which one instance at a time sends webhooks.
pub const WEBHOOKS_LEASE: &str = "webhooks";

/// Deliveries claimed per pass, and sent at once (each to a different receiver).
const BATCH: i64 = 32;
const CONCURRENCY: usize = 8;

/// A receiver must answer within this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 4 * 3_600_000;

/// The wait after the `attempts`-th failed attempt: `base`, then four times the previous
/// wait, at most four hours (with the 5 s default: 5 s, 20 s, 80 s, 5 min, 21 min, 85 min,
/// then every 4 h until the 24 h window closes).
pub fn backoff_ms(base_ms: i64, attempts: i32) -> i64 {
    let exponent = (attempts.max(1) - 1).min(20) as u32;
    base_ms
        .saturating_mul(4i64.saturating_pow(exponent))
        .min(MAX_BACKOFF_MS)
}

/// The `webhook-signature` value for a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret (the bytes after `whsec_`, base64-decoded).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key_bytes = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// Resolves receivers' names and keeps only addresses webhooks may go to, so a name that
/// points (or is re-pointed) at an internal address reaches nothing.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| webhook_address_allowed(a.ip(), allow_private))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to addresses webhooks may not go to ({})",
                    found
                        .iter()
                        .map(|a| a.ip().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Sends deliveries; one per process.
pub struct Dispatcher {
    services: Services,
    client: reqwest::Client,
    allow_private: bool,
}

impl Dispatcher {
    pub fn new(services: Services) -> anyhow::Result<Self> {
        let allow_private = services.config().webhooks_allow_private;
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A redirect could lead anywhere, including inside: a receiver must answer itself.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            // A proxy from the environment would resolve receivers' names itself, past the
            // guard: deliveries always connect directly.
            .no_proxy()
            .user_agent(concat!("Enclave-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            services,
            client,
            allow_private,
        })
    }

    /// Sends what is due now; answers how many attempts were made and recorded (an attempt
    /// that could not be recorded stays due, and is retried after the loop's pause rather
    /// than at once).
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        let now = self.services.clock().now_ms();
        let due = self.services.store().due_deliveries(now, BATCH).await?;
        let recorded = std::sync::atomic::AtomicUsize::new(0);
        futures::stream::iter(due)
            .for_each_concurrent(CONCURRENCY, |d| {
                let recorded = &recorded;
                async move {
                    match self.attempt(d).await {
                        Ok(()) => {
                            recorded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => tracing::warn!(error = %e, "recording a webhook attempt failed; it will be retried"),
                    }
                }
            })
            .await;
        Ok(recorded.into_inner())
    }

    async fn attempt(&self, due: DueDelivery) -> anyhow::Result<()> {
        let delivery = &due.delivery;
        let started = Instant::now();
        let timestamp = chrono::Utc::now().timestamp();
        let result = self.post(&due, timestamp).await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let now = self.services.clock().now_ms();
        let (status_code, error) = match &result {
            Ok(status) if status.is_success() => (Some(status.as_u16()), String::new()),
            Ok(status) => (
                Some(status.as_u16()),
                format!("the receiver answered {status}"),
            ),
            Err(e) => (None, e.clone()),
        };
        let config = self.services.config();
        let outcome = if error.is_empty() {
            AttemptOutcome::Delivered
        } else {
            let next = now + backoff_ms(config.webhook_retry_base_ms, delivery.attempts + 1);
            if next - delivery.created_at > config.webhook_give_up_ms {
                AttemptOutcome::GaveUp
            } else {
                AttemptOutcome::RetryAt(next)
            }
        };
        tracing::info!(
            delivery = %delivery.id,
            event = %delivery.event_type,
            status = ?status_code,
            outcome = ?outcome,
            "webhook attempt"
        );
        self.services
            .store()
            .record_attempt(&Attempt {
                delivery_id: &delivery.id,
                at_ms: now,
                status_code,
                error: &error,
                duration_ms,
                outcome,
            })
            .await?;
        Ok(())
    }

    /// One POST; the receiver's status, or why there was none (never the secret).
    async fn post(&self, due: &DueDelivery, timestamp: i64) -> Result<reqwest::StatusCode, String> {
        let url = reqwest::Url::parse(&due.url).map_err(|e| format!("bad receiver URL: {e}"))?;
        // Addresses written as such are never resolved, so they are checked here.
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal {
            if !webhook_address_allowed(ip, self.allow_private) {
                return Err(format!("{ip} is not an address webhooks may go to"));
            }
        }
        let delivery = &due.delivery;
        let signature = sign(&due.secret, &delivery.id, timestamp, &delivery.payload);
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(response.status())
    }
}

/// A request error in a line, with its cause (reqwest's own message is generic).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the receiver did not answer in time".to_string()
    } else if e.is_connect() {
        "could not connect to the receiver".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// Sends deliveries until `stop`: whenever something is committed (the change feed's wake-up)
/// or a retry falls due, on the instance holding the `webhooks` lease.
pub async fn run(
    services: Services,
    leadership: Leadership,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let dispatcher = match Dispatcher::new(services.clone()) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "the webhook dispatcher could not start; no webhooks will be sent");
            return;
        }
    };
    let mut wakes = services.store().wakes();
    let renew_every = leadership.ttl / 3;
    loop {
        let holds = leadership.renew_named(&services, WEBHOOKS_LEASE).await;
        let mut wait = renew_every.max(Duration::from_millis(50));
        if holds {
            match dispatcher.send_due().await {
                // More may be due (the batch was full, or a receiver's next delivery).
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sending webhooks failed; will retry"),
            }
            if let Ok(Some(next)) = services.store().next_delivery_due().await {
                let until = (next - services.clock().now_ms()).max(0) as u64;
                wait = wait.min(Duration::from_millis(until.max(10)));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wakes.changed() => {}
            _ = stop.changed() => {
                leadership.release_named(&services, WEBHOOKS_LEASE).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_fourfold_to_four_hours() {
        let waits: Vec<i64> = (1..=8).map(|n| backoff_ms(5_000, n)).collect();
        assert_eq!(
            waits,
            vec![5_000, 20_000, 80_000, 320_000, 1_280_000, 5_120_000, 14_400_000, 14_400_000]
        );
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example from the Standard Webhooks specification's reference tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
