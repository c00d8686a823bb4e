//! The access decision: the contract between the control plane and the data plane (SPEC §4).
//!
//! Pure: the caller gathers the project's settings, the connection's endpoint assignment and
//! the project's restrictions; this decides. The proxy and the internal HTTP endpoint both
//! use it, so there is exactly one place where access is granted.

use serde::{Deserialize, Serialize};

use std::net::IpAddr;

use super::{AllowedIpRule, EndpointState, LINK_ID_PREFIX, PSC_PREFIX};

/// What the endpoint is called in its cloud, for messages a client reads.
fn endpoint_noun(endpoint: &str) -> &'static str {
    if endpoint.starts_with(PSC_PREFIX) {
        "Private Service Connect endpoint"
    } else if endpoint.starts_with(LINK_ID_PREFIX) {
        "Private endpoint"
    } else {
        "VPC endpoint"
    }
}

/// Why a connection is allowed or denied, as a stable code the data plane can count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessReason {
    PublicAllowed,
    /// Let through, but blocking public access (in report-only mode) would refuse it.
    PublicWouldBeRefused,
    /// A public connection from an address the project's IP allow list does not list.
    IpNotAllowed,
    VpcEndpointAllowed,
    ProjectNotFound,
    PublicConnectionsBlocked,
    VpcConnectionsBlocked,
    VpcEndpointNotAssigned,
    VpcEndpointNotAccepted,
    VpcEndpointNotInRestrictions,
}

impl AccessReason {
    /// Every reason.
    pub const ALL: [AccessReason; 10] = [
        AccessReason::PublicAllowed,
        AccessReason::PublicWouldBeRefused,
        AccessReason::IpNotAllowed,
        AccessReason::VpcEndpointAllowed,
        AccessReason::ProjectNotFound,
        AccessReason::PublicConnectionsBlocked,
        AccessReason::VpcConnectionsBlocked,
        AccessReason::VpcEndpointNotAssigned,
        AccessReason::VpcEndpointNotAccepted,
        AccessReason::VpcEndpointNotInRestrictions,
    ];

    /// The stable code, as serialized (metrics and evidence use it).
    pub fn code(self) -> &'static str {
        match self {
            AccessReason::PublicAllowed => "public_allowed",
            AccessReason::PublicWouldBeRefused => "public_would_be_refused",
            AccessReason::IpNotAllowed => "ip_not_allowed",
            AccessReason::VpcEndpointAllowed => "vpc_endpoint_allowed",
            AccessReason::ProjectNotFound => "project_not_found",
            AccessReason::PublicConnectionsBlocked => "public_connections_blocked",
            AccessReason::VpcConnectionsBlocked => "vpc_connections_blocked",
            AccessReason::VpcEndpointNotAssigned => "vpc_endpoint_not_assigned",
            AccessReason::VpcEndpointNotAccepted => "vpc_endpoint_not_accepted",
            AccessReason::VpcEndpointNotInRestrictions => "vpc_endpoint_not_in_restrictions",
        }
    }

    pub fn allows(self) -> bool {
        matches!(
            self,
            AccessReason::PublicAllowed
                | AccessReason::PublicWouldBeRefused
                | AccessReason::VpcEndpointAllowed
        )
    }
}

/// The connection's endpoint assignment as seen from the project: is the endpoint assigned to
/// the project's organization in the project's region, and in which state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointAssignment {
    NotAssigned,
    Assigned(EndpointState),
}

/// Everything the decision depends on.
#[derive(Clone, Debug)]
pub struct AccessInput<'a> {
    pub project_id: &'a str,
    pub block_public_connections: bool,
    /// Report-only blocking: public connections are let through but reported as ones
    /// blocking would refuse (only while public connections are allowed).
    pub public_block_report_only: bool,
    pub block_vpc_connections: bool,
    /// The project's IP allow list (empty: public connections from anywhere).
    pub allowed_ips: &'a [AllowedIpRule],
    /// The client's address, when known (the proxy always knows it).
    pub client_ip: Option<IpAddr>,
    /// Now, for allow-list entries that expire.
    pub now_ms: i64,
    /// `None` for a connection from the public internet.
    pub vpc_endpoint_id: Option<&'a str>,
    pub assignment: EndpointAssignment,
    /// The project's restrictions; empty means every accepted org endpoint may connect.
    pub restrictions: &'a [String],
}

/// The verdict, with the message a database client will see when it is denied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub allow: bool,
    pub reason: AccessReason,
    pub message: String,
}

impl AccessDecision {
    fn new(reason: AccessReason, message: String) -> Self {
        Self {
            allow: reason.allows(),
            reason,
            message,
        }
    }

    /// The answer for a project or hostname the control plane does not know.
    pub fn project_not_found() -> Self {
        Self::new(
            AccessReason::ProjectNotFound,
            "The requested endpoint could not be found, or you don't have access to it. \
             Check the host name in your connection string."
                .to_string(),
        )
    }
}

impl AccessDecision {
    /// The answer for a connection whose load balancer named an endpoint id that is not one
    /// (a VPC endpoint id can never be allowed unless it parses).
    pub fn invalid_endpoint(given: &str) -> Self {
        let shown: String = given.chars().take(40).collect();
        Self::new(
            AccessReason::VpcEndpointNotAssigned,
            format!("The connection came through {shown:?}, which is not a valid VPC endpoint id."),
        )
    }
}

/// Decides whether a connection may reach the project.
pub fn decide(input: &AccessInput<'_>) -> AccessDecision {
    let project = input.project_id;
    let Some(endpoint) = input.vpc_endpoint_id else {
        if input.block_public_connections {
            return AccessDecision::new(
                AccessReason::PublicConnectionsBlocked,
                format!(
                    "Connections from the public internet are not allowed for project {project}. \
                     Connect through an allowed VPC endpoint, or ask an organization admin to \
                     allow public connections."
                ),
            );
        }
        if !input.allowed_ips.is_empty()
            && !input
                .client_ip
                .is_some_and(|ip| input.allowed_ips.iter().any(|r| r.admits(ip, input.now_ms)))
        {
            let from = input
                .client_ip
                .map(|ip| ip.to_string())
                .unwrap_or_else(|| "an unknown address".to_string());
            return AccessDecision::new(
                AccessReason::IpNotAllowed,
                format!(
                    "Connections from {from} are not in the IP allow list of project {project}. \
                     Ask an organization admin to add the address to the allow list, or connect \
                     through an allowed VPC endpoint."
                ),
            );
        }
        if input.public_block_report_only {
            return AccessDecision::new(
                AccessReason::PublicWouldBeRefused,
                "Public connection allowed (report-only: blocking public access would refuse it)."
                    .to_string(),
            );
        }
        return AccessDecision::new(
            AccessReason::PublicAllowed,
            "Public connection allowed.".to_string(),
        );
    };
    if input.block_vpc_connections {
        return AccessDecision::new(
            AccessReason::VpcConnectionsBlocked,
            format!(
                "Connections through VPC endpoints are not allowed for project {project}. \
                 Ask an organization admin to allow VPC connections."
            ),
        );
    }
    let noun = endpoint_noun(endpoint);
    match input.assignment {
        EndpointAssignment::NotAssigned => AccessDecision::new(
            AccessReason::VpcEndpointNotAssigned,
            format!(
                "{noun} {endpoint} is not assigned to the organization of project \
                 {project} in its region. Assign it in the console or with the API first."
            ),
        ),
        EndpointAssignment::Assigned(EndpointState::New) => AccessDecision::new(
            AccessReason::VpcEndpointNotAccepted,
            format!(
                "{noun} {endpoint} has not been accepted yet. Wait until its state is \
                 accepted, then connect again."
            ),
        ),
        EndpointAssignment::Assigned(EndpointState::Rejected) => AccessDecision::new(
            AccessReason::VpcEndpointNotAccepted,
            format!(
                "{noun} {endpoint} was rejected. See its state in the console for the \
                 reason and how to fix it."
            ),
        ),
        EndpointAssignment::Assigned(EndpointState::Accepted) => {
            if !input.restrictions.is_empty() && !input.restrictions.iter().any(|r| r == endpoint) {
                AccessDecision::new(
                    AccessReason::VpcEndpointNotInRestrictions,
                    format!(
                        "Project {project} accepts connections only from its restricted \
                         endpoints, and {noun} {endpoint} is not one of them."
                    ),
                )
            } else {
                AccessDecision::new(
                    AccessReason::VpcEndpointAllowed,
                    format!("Connection through {noun} {endpoint} allowed."),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VPCE: &str = "vpce-1234567890abcdef0";

    fn input<'a>(endpoint: Option<&'a str>, restrictions: &'a [String]) -> AccessInput<'a> {
        AccessInput {
            project_id: "orange-credit-12345678",
            block_public_connections: false,
            public_block_report_only: false,
            block_vpc_connections: false,
            allowed_ips: &[],
            client_ip: Some("198.51.100.7".parse().unwrap()),
            now_ms: 0,
            vpc_endpoint_id: endpoint,
            assignment: EndpointAssignment::Assigned(EndpointState::Accepted),
            restrictions,
        }
    }

    #[test]
    fn codes_match_the_wire_names() {
        for reason in AccessReason::ALL {
            let wire = serde_json::to_value(reason).unwrap();
            assert_eq!(wire.as_str(), Some(reason.code()));
        }
    }

    #[test]
    fn public_connections_follow_the_block_setting() {
        assert_eq!(
            decide(&input(None, &[])).reason,
            AccessReason::PublicAllowed
        );
        let blocked = AccessInput {
            block_public_connections: true,
            ..input(None, &[])
        };
        let decision = decide(&blocked);
        assert!(!decision.allow);
        assert_eq!(decision.reason, AccessReason::PublicConnectionsBlocked);
        assert!(decision.message.contains("orange-credit-12345678"));
        // Report-only lets public connections through, marked as ones blocking would refuse;
        // once blocking is on, it refuses as usual.
        let watching = AccessInput {
            public_block_report_only: true,
            ..input(None, &[])
        };
        let decision = decide(&watching);
        assert!(decision.allow);
        assert_eq!(decision.reason, AccessReason::PublicWouldBeRefused);
        let enforced = AccessInput {
            block_public_connections: true,
            ..watching.clone()
        };
        assert!(!decide(&enforced).allow);
        // It says nothing about connections through endpoints.
        let private = AccessInput {
            public_block_report_only: true,
            ..input(Some(VPCE), &[])
        };
        assert_eq!(decide(&private).reason, AccessReason::VpcEndpointAllowed);
    }

    #[test]
    fn an_allow_list_admits_only_listed_public_clients() {
        let rules = vec![AllowedIpRule {
            entry: crate::domain::IpAllowEntry::parse("198.51.100.0/24").unwrap(),
            expires_at_ms: Some(10),
        }];
        let listed = AccessInput {
            allowed_ips: &rules,
            ..input(None, &[])
        };
        assert_eq!(decide(&listed).reason, AccessReason::PublicAllowed);
        let unlisted = AccessInput {
            client_ip: Some("203.0.113.7".parse().unwrap()),
            ..listed.clone()
        };
        let decision = decide(&unlisted);
        assert_eq!(decision.reason, AccessReason::IpNotAllowed);
        assert!(
            decision.message.contains("203.0.113.7") && decision.message.contains("IP allow list")
        );
        // Expired entries admit no one; an unknown address is never admitted.
        assert!(
            !decide(&AccessInput {
                now_ms: 10,
                ..listed.clone()
            })
            .allow
        );
        assert!(
            !decide(&AccessInput {
                client_ip: None,
                ..listed.clone()
            })
            .allow
        );
        // Blocking still wins; endpoints are not subject to the list.
        assert_eq!(
            decide(&AccessInput {
                block_public_connections: true,
                ..listed.clone()
            })
            .reason,
            AccessReason::PublicConnectionsBlocked
        );
        let private = AccessInput {
            allowed_ips: &rules,
            client_ip: Some("203.0.113.7".parse().unwrap()),
            ..input(Some(VPCE), &[])
        };
        assert!(decide(&private).allow);
    }

    #[test]
    fn endpoints_must_be_accepted_assignments() {
        assert!(decide(&input(Some(VPCE), &[])).allow);
        for (assignment, reason) in [
            (
                EndpointAssignment::NotAssigned,
                AccessReason::VpcEndpointNotAssigned,
            ),
            (
                EndpointAssignment::Assigned(EndpointState::New),
                AccessReason::VpcEndpointNotAccepted,
            ),
            (
                EndpointAssignment::Assigned(EndpointState::Rejected),
                AccessReason::VpcEndpointNotAccepted,
            ),
        ] {
            let decision = decide(&AccessInput {
                assignment,
                ..input(Some(VPCE), &[])
            });
            assert_eq!((decision.allow, decision.reason), (false, reason));
        }
    }

    #[test]
    fn restrictions_narrow_and_vpc_block_overrides() {
        let other = vec!["vpce-0000000000000000a".to_string()];
        let decision = decide(&input(Some(VPCE), &other));
        assert_eq!(decision.reason, AccessReason::VpcEndpointNotInRestrictions);
        let listed = vec![VPCE.to_string()];
        assert!(decide(&input(Some(VPCE), &listed)).allow);
        let blocked = AccessInput {
            block_vpc_connections: true,
            ..input(Some(VPCE), &listed)
        };
        assert_eq!(decide(&blocked).reason, AccessReason::VpcConnectionsBlocked);
        // Blocking VPC connections says nothing about public ones.
        let public = AccessInput {
            block_vpc_connections: true,
            ..input(None, &[])
        };
        assert!(decide(&public).allow);
    }
}
