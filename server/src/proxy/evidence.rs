//! Connection evidence, aggregated in memory per (project, endpoint or public, outcome and
//! reason, client network) and flushed to the control plane every few seconds. The number of
//! distinct keys held is capped; past it, connections are counted as dropped, never stored.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use crate::data_plane_api::{EvidenceItem, MAX_EVIDENCE_ITEMS};

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    project_id: String,
    vpc_endpoint_id: Option<String>,
    allowed: bool,
    reason: &'static str,
    client_network: String,
}

#[derive(Clone, Copy, Debug)]
struct Tally {
    count: u64,
    first_seen_ms: i64,
    last_seen_ms: i64,
}

pub struct Evidence {
    tallies: Mutex<HashMap<Key, Tally>>,
    cap: usize,
    dropped: AtomicU64,
}

/// The client's network: `/24` for IPv4, `/64` for IPv6.
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

impl Evidence {
    pub fn new(cap: usize) -> Self {
        Self {
            tallies: Mutex::new(HashMap::new()),
            cap: cap.max(1),
            dropped: AtomicU64::new(0),
        }
    }

    pub fn record(
        &self,
        project_id: &str,
        vpc_endpoint_id: Option<&str>,
        allowed: bool,
        reason: &'static str,
        client: IpAddr,
        now_ms: i64,
    ) {
        let key = Key {
            project_id: project_id.to_string(),
            vpc_endpoint_id: vpc_endpoint_id.map(str::to_owned),
            allowed,
            reason,
            client_network: client_network(client),
        };
        let Ok(mut tallies) = self.tallies.lock() else {
            return;
        };
        let held = tallies.len();
        match tallies.get_mut(&key) {
            Some(t) => {
                t.count += 1;
                t.last_seen_ms = t.last_seen_ms.max(now_ms);
            }
            None if held < self.cap => {
                tallies.insert(
                    key,
                    Tally {
                        count: 1,
                        first_seen_ms: now_ms,
                        last_seen_ms: now_ms,
                    },
                );
            }
            None => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Takes up to one report's worth of items out.
    pub fn take(&self) -> Vec<EvidenceItem> {
        let Ok(mut tallies) = self.tallies.lock() else {
            return Vec::new();
        };
        let keys: Vec<Key> = tallies.keys().take(MAX_EVIDENCE_ITEMS).cloned().collect();
        keys.into_iter()
            .filter_map(|k| tallies.remove(&k).map(|t| (k, t)))
            .map(|(k, t)| EvidenceItem {
                project_id: k.project_id,
                vpc_endpoint_id: k.vpc_endpoint_id,
                allowed: k.allowed,
                reason: k.reason.to_string(),
                client_network: k.client_network,
                count: t.count,
                first_seen_ms: t.first_seen_ms,
                last_seen_ms: t.last_seen_ms,
            })
            .collect()
    }

    /// Puts items back after a failed flush (as far as the cap allows).
    pub fn restore(&self, items: Vec<EvidenceItem>) {
        let Ok(mut tallies) = self.tallies.lock() else {
            return;
        };
        for item in items {
            let reason = reason_code(&item.reason);
            let key = Key {
                project_id: item.project_id,
                vpc_endpoint_id: item.vpc_endpoint_id,
                allowed: item.allowed,
                reason,
                client_network: item.client_network,
            };
            let held = tallies.len();
            match tallies.get_mut(&key) {
                Some(t) => {
                    t.count += item.count;
                    t.first_seen_ms = t.first_seen_ms.min(item.first_seen_ms);
                }
                None if held < self.cap => {
                    tallies.insert(
                        key,
                        Tally {
                            count: item.count,
                            first_seen_ms: item.first_seen_ms,
                            last_seen_ms: item.last_seen_ms,
                        },
                    );
                }
                None => {
                    self.dropped.fetch_add(item.count, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn held(&self) -> usize {
        self.tallies.lock().map(|t| t.len()).unwrap_or(0)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The static code for a reason string read back from a report.
fn reason_code(reason: &str) -> &'static str {
    app::domain::AccessReason::ALL
        .into_iter()
        .map(|r| r.code())
        .find(|c| *c == reason)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(
            client_network("198.51.100.20".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            client_network("2001:db8:1:2:3::9".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn aggregates_and_caps() {
        let e = Evidence::new(2);
        let ip: IpAddr = "10.0.3.7".parse().unwrap();
        for i in 0..1000 {
            e.record("p1", None, false, "public_connections_blocked", ip, i);
        }
        e.record(
            "p1",
            Some("vpce-0a0000000000000a1"),
            true,
            "vpc_endpoint_allowed",
            ip,
            5,
        );
        e.record("p2", None, true, "public_allowed", ip, 5);
        assert_eq!(e.held(), 2);
        assert_eq!(e.dropped(), 1);
        let items = e.take();
        let blocked = items.iter().find(|i| !i.allowed).unwrap();
        assert_eq!(
            (blocked.count, blocked.first_seen_ms, blocked.last_seen_ms),
            (1000, 0, 999)
        );
        assert_eq!(e.held(), 0);
        e.restore(items);
        assert_eq!(e.held(), 2);
    }
}
