//! The data-plane API's wire types: what the control plane's internal handlers send and the
//! proxy's client reads. Both sides compile against these, so they cannot drift apart.
//!
//! Routes (all under [`PREFIX`], bearer data-plane token):
//! - `GET  routes/{label}`: the [`Route`] for a host label (404 when none);
//! - `GET  feed?after=V`: the change feed as newline-delimited JSON [`FeedLine`]s;
//! - `POST heartbeat`: a [`Heartbeat`];
//! - `POST evidence`: an [`EvidenceReport`].

use app::domain::{
    decide, AccessDecision, AccessInput, AllowedIpRule, EndpointAssignment, EndpointState,
    VpcEndpointId,
};
use serde::{Deserialize, Serialize};

pub const PREFIX: &str = "/api/internal/v1";

/// Items one evidence report may carry.
pub const MAX_EVIDENCE_ITEMS: usize = 1000;

/// Everything the proxy needs to route a connection to a project and decide on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub project_id: String,
    pub org_id: String,
    pub region_id: String,
    /// `host:port` of the project's Postgres; `None` until an operator sets it.
    pub upstream: Option<String>,
    /// `host:port` of the project's connection pooler, if it has one.
    pub pooler_upstream: Option<String>,
    pub block_public_connections: bool,
    /// Report-only blocking of public connections (older control planes omit it).
    #[serde(default)]
    pub public_block_report_only: bool,
    pub block_vpc_connections: bool,
    /// The project's IP allow list for public connections (empty: from anywhere).
    #[serde(default)]
    pub allowed_ips: Vec<AllowedIpRule>,
    /// The endpoints the project is restricted to (empty: every accepted endpoint).
    pub restrictions: Vec<String>,
    /// The organization's endpoints in the project's region, with their states.
    pub endpoints: Vec<RouteEndpoint>,
    /// The change-feed version this was read at (every later change arrives on the feed).
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEndpoint {
    pub vpc_endpoint_id: String,
    pub state: EndpointState,
}

impl Route {
    /// The access decision for a connection from `client_ip` through `vpc_endpoint_id`
    /// (`None`: the public internet) at `now_ms`. The one rule, [`decide`], shared with the
    /// control plane.
    pub fn decide(
        &self,
        vpc_endpoint_id: Option<&str>,
        client_ip: Option<std::net::IpAddr>,
        now_ms: i64,
    ) -> AccessDecision {
        let endpoint = match vpc_endpoint_id {
            None => None,
            Some(given) => match VpcEndpointId::parse_any(given) {
                Ok(id) => Some(id),
                Err(_) => return AccessDecision::invalid_endpoint(given),
            },
        };
        let assignment = match &endpoint {
            None => EndpointAssignment::NotAssigned,
            Some(id) => self
                .endpoints
                .iter()
                .find(|e| e.vpc_endpoint_id == id.as_str())
                .map(|e| EndpointAssignment::Assigned(e.state))
                .unwrap_or(EndpointAssignment::NotAssigned),
        };
        decide(&AccessInput {
            project_id: &self.project_id,
            block_public_connections: self.block_public_connections,
            public_block_report_only: self.public_block_report_only,
            block_vpc_connections: self.block_vpc_connections,
            allowed_ips: &self.allowed_ips,
            client_ip,
            now_ms,
            vpc_endpoint_id: endpoint.as_ref().map(VpcEndpointId::as_str),
            assignment,
            restrictions: &self.restrictions,
        })
    }
}

/// One line of the feed stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedLine {
    /// First line: the feed's head when the stream opened.
    Hello { version: i64 },
    /// A committed change.
    Event {
        version: i64,
        org_id: Option<String>,
        project_id: Option<String>,
        action: String,
    },
    /// The events after the version asked for are no longer kept (or the feed is behind
    /// the reader, e.g. a restored database): drop everything cached and continue from
    /// `version`.
    Reset { version: i64 },
    /// Sent every [`KEEPALIVE_SECS`] when nothing else is, so a reader can tell a quiet feed
    /// from a dead connection.
    Keepalive,
}

/// How often an idle feed stream says it is alive.
pub const KEEPALIVE_SECS: u64 = 5;

/// A reader that hears nothing for this long reconnects.
pub const FEED_SILENCE_SECS: u64 = 3 * KEEPALIVE_SECS;

/// A proxy's periodic report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub proxy_id: String,
    /// The last feed version whose changes it has applied, open connections included.
    pub version: i64,
    pub started_at_ms: i64,
    pub counters: ProxyCounters,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyCounters {
    pub accepted: u64,
    pub refused: u64,
    pub active_relays: u64,
    pub revoked: u64,
}

/// Connections the proxy saw since its last report, aggregated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceReport {
    pub proxy_id: String,
    pub items: Vec<EvidenceItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub project_id: String,
    /// `None` for the public internet.
    pub vpc_endpoint_id: Option<String>,
    pub allowed: bool,
    /// The decision's reason code.
    pub reason: String,
    /// The client's network (`/24` for IPv4, `/64` for IPv6).
    pub client_network: String,
    pub count: u64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        Route {
            project_id: "orange-credit-12345678".into(),
            org_id: "org-bold-bonus-12345678".into(),
            region_id: "aws-us-east-2".into(),
            upstream: None,
            pooler_upstream: None,
            block_public_connections: false,
            public_block_report_only: false,
            block_vpc_connections: false,
            allowed_ips: vec![],
            restrictions: vec![],
            endpoints: vec![
                RouteEndpoint {
                    vpc_endpoint_id: "vpce-0a0000000000000a1".into(),
                    state: EndpointState::Accepted,
                },
                RouteEndpoint {
                    vpc_endpoint_id: "vpce-0a0000000000000c3".into(),
                    state: EndpointState::New,
                },
            ],
            version: 7,
        }
    }

    #[test]
    fn a_route_decides_like_the_control_plane() {
        let r = route();
        assert!(r.decide(None, None, 0).allow);
        assert!(r.decide(Some("vpce-0a0000000000000a1"), None, 0).allow);
        assert!(!r.decide(Some("vpce-0a0000000000000c3"), None, 0).allow);
        assert!(!r.decide(Some("vpce-0ffffffffffffffff"), None, 0).allow);
        assert!(!r.decide(Some("not-an-endpoint"), None, 0).allow);
        let restricted = Route {
            restrictions: vec!["vpce-0ffffffffffffffff".into()],
            ..route()
        };
        assert!(
            !restricted
                .decide(Some("vpce-0a0000000000000a1"), None, 0)
                .allow
        );
        let blocked = Route {
            block_public_connections: true,
            ..route()
        };
        assert!(!blocked.decide(None, None, 0).allow);
    }

    #[test]
    fn feed_lines_are_tagged() {
        let line = serde_json::to_string(&FeedLine::Hello { version: 3 }).unwrap();
        assert_eq!(line, r#"{"type":"hello","version":3}"#);
    }
}
