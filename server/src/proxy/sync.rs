//! The proxy's background work with the control plane: follow the change feed (invalidate
//! cached routes, end open connections a change forbids, then acknowledge the version),
//! send heartbeats, and flush connection evidence.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;

use super::{routes::LookupError, Shared};
use crate::data_plane_api::{FeedLine, Heartbeat, ProxyCounters, FEED_SILENCE_SECS};

/// Follows the feed until the task is dropped, reconnecting with back-off and resuming after
/// the last version applied.
pub async fn follow_feed(shared: Arc<Shared>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let after = shared.applied_version();
        match shared.control_plane.feed(after).await {
            Ok(response) => {
                shared.metrics.set_feed_connected(true);
                backoff = Duration::from_millis(100);
                read_feed(&shared, response).await;
                shared.metrics.set_feed_connected(false);
                tracing::warn!("change feed closed; reconnecting");
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed unavailable; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn read_feed(shared: &Arc<Shared>, response: reqwest::Response) {
    let mut bytes = response.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let silence = Duration::from_secs(FEED_SILENCE_SECS);
    // A feed that says nothing, not even a keepalive, is a dead connection: reconnect.
    while let Ok(Some(chunk)) = tokio::time::timeout(silence, bytes.next()).await {
        let Ok(chunk) = chunk else { return };
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            match serde_json::from_slice::<FeedLine>(&line) {
                Ok(line) => apply(shared, line).await,
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable change-feed line; reconnecting");
                    return;
                }
            }
        }
        // A line longer than any event could be: the stream is not what we expect.
        if buf.len() > 64 * 1024 {
            return;
        }
    }
}

async fn apply(shared: &Arc<Shared>, line: FeedLine) {
    match line {
        FeedLine::Hello { version } => {
            // A proxy that has applied nothing yet holds nothing older than the head.
            if shared.applied_version().is_none() {
                shared.set_applied(version);
            }
        }
        FeedLine::Keepalive => {}
        FeedLine::Reset { version } => {
            shared.routes.invalidate_all();
            recheck(shared, None, None).await;
            shared.set_applied(version);
        }
        FeedLine::Event {
            version,
            org_id,
            project_id,
            action,
        } => {
            let relevant = action.starts_with("project.")
                || action.starts_with("vpc_endpoint.")
                || action.starts_with("organization.")
                || action.starts_with("trial.");
            if relevant && (org_id.is_some() || project_id.is_some()) {
                shared
                    .routes
                    .changed(org_id.as_deref(), project_id.as_deref(), version)
                    .await;
                shared
                    .routes
                    .invalidate(org_id.as_deref(), project_id.as_deref());
                recheck(shared, org_id.as_deref(), project_id.as_deref()).await;
            }
            shared.set_applied(version);
        }
    }
}

/// Decides again for the open connections a change may touch, and ends those now refused.
async fn recheck(shared: &Arc<Shared>, org_id: Option<&str>, project_id: Option<&str>) {
    let open = shared.registry.affected(org_id, project_id);
    for conn in open {
        let verdict = match shared.routes.get(&conn.label).await {
            Ok(route) if route.project_id == conn.project_id => {
                let decision = route.decide(
                    conn.vpc_endpoint_id.as_deref(),
                    Some(conn.client_ip),
                    Shared::now_ms(),
                );
                (!decision.allow).then_some(decision.message)
            }
            // The label now names another project, or none.
            Ok(_) | Err(LookupError::NotFound) | Err(LookupError::Invalid) => {
                Some("This project's endpoint no longer exists.".to_string())
            }
            // A change happened and it cannot be confirmed that this connection survives
            // it: the safe answer is to end it.
            Err(LookupError::ControlPlane(e)) => {
                tracing::warn!(error = %e, project = %conn.project_id, "cannot re-check an open connection; ending it");
                Some(
                    "Access to this project changed and could not be confirmed; connect again."
                        .to_string(),
                )
            }
        };
        if let Some(message) = verdict {
            if conn.end(message) {
                shared.metrics.revoked();
                tracing::info!(project = %conn.project_id, endpoint = ?conn.vpc_endpoint_id, "open connection ended by a change");
            }
        }
    }
}

/// Sends a heartbeat every `interval`, and at once when the applied version moves.
pub async fn heartbeats(shared: Arc<Shared>, interval: Duration) {
    let mut applied = shared.applied_rx();
    loop {
        if let Some(version) = shared.applied_version() {
            let heartbeat = Heartbeat {
                proxy_id: shared.proxy_id.clone(),
                version,
                started_at_ms: shared.started_at_ms,
                counters: ProxyCounters {
                    accepted: shared.metrics.accepted_total(),
                    refused: shared.refused_total(),
                    active_relays: shared.metrics.active_relays(),
                    revoked: shared.metrics.revoked_total(),
                },
            };
            if let Err(e) = shared.control_plane.heartbeat(&heartbeat).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = applied.changed() => {}
        }
    }
}

/// Flushes connection evidence every `interval`.
pub async fn flush_evidence(shared: Arc<Shared>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        loop {
            let items = shared.evidence.take();
            if items.is_empty() {
                break;
            }
            let report = crate::data_plane_api::EvidenceReport {
                proxy_id: shared.proxy_id.clone(),
                items,
            };
            if let Err(e) = shared.control_plane.evidence(&report).await {
                tracing::warn!(error = %e, "flushing connection evidence failed; will retry");
                shared.evidence.restore(report.items);
                break;
            }
        }
    }
}
