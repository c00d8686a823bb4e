//! Webhooks: the events an organization can subscribe to, the receiver URL as typed (checked
//! the same way in the browser and on the server; the server also checks where the name
//! resolves before every delivery), and what the console shows of receivers and deliveries.

use serde::{Deserialize, Serialize};

use super::FieldError;

/// What a webhook can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "endpoint.accepted")]
    EndpointAccepted,
    #[serde(rename = "endpoint.rejected")]
    EndpointRejected,
    #[serde(rename = "endpoint.removed")]
    EndpointRemoved,
    #[serde(rename = "settings.applied")]
    SettingsApplied,
    #[serde(rename = "restriction.changed")]
    RestrictionChanged,
    #[serde(rename = "trial.approved")]
    TrialApproved,
    #[serde(rename = "trial.declined")]
    TrialDeclined,
    #[serde(rename = "trial.ending")]
    TrialEnding,
    #[serde(rename = "trial.ended")]
    TrialEnded,
    #[serde(rename = "refusals.above_threshold")]
    RefusalsAboveThreshold,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 10] = [
        WebhookEvent::EndpointAccepted,
        WebhookEvent::EndpointRejected,
        WebhookEvent::EndpointRemoved,
        WebhookEvent::SettingsApplied,
        WebhookEvent::RestrictionChanged,
        WebhookEvent::TrialApproved,
        WebhookEvent::TrialDeclined,
        WebhookEvent::TrialEnding,
        WebhookEvent::TrialEnded,
        WebhookEvent::RefusalsAboveThreshold,
    ];

    /// The event's `type` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::EndpointAccepted => "endpoint.accepted",
            WebhookEvent::EndpointRejected => "endpoint.rejected",
            WebhookEvent::EndpointRemoved => "endpoint.removed",
            WebhookEvent::SettingsApplied => "settings.applied",
            WebhookEvent::RestrictionChanged => "restriction.changed",
            WebhookEvent::TrialApproved => "trial.approved",
            WebhookEvent::TrialDeclined => "trial.declined",
            WebhookEvent::TrialEnding => "trial.ending",
            WebhookEvent::TrialEnded => "trial.ended",
            WebhookEvent::RefusalsAboveThreshold => "refusals.above_threshold",
        }
    }

    /// What it means, for people choosing events.
    pub fn describe(self) -> &'static str {
        match self {
            WebhookEvent::EndpointAccepted => "A VPC endpoint was accepted and can carry traffic",
            WebhookEvent::EndpointRejected => "A VPC endpoint was rejected (with the reason)",
            WebhookEvent::EndpointRemoved => "A VPC endpoint was removed from the organization",
            WebhookEvent::SettingsApplied => {
                "A project's network settings took effect in every proxy"
            }
            WebhookEvent::RestrictionChanged => {
                "A project's endpoint restrictions changed (added or removed)"
            }
            WebhookEvent::TrialApproved => "A private networking trial was approved",
            WebhookEvent::TrialDeclined => "A trial request was declined (with the reason)",
            WebhookEvent::TrialEnding => "A trial ends in 3 days",
            WebhookEvent::TrialEnded => "A trial ended",
            WebhookEvent::RefusalsAboveThreshold => {
                "A project's refused connections passed the threshold within an hour"
            }
        }
    }

    pub fn parse(wire: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == wire.trim())
    }

    /// A list as typed or sent (`endpoint.accepted, trial.ended`): each known, none twice,
    /// at least one.
    pub fn parse_list<'a>(
        field: &str,
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Self>, FieldError> {
        let mut events = Vec::new();
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let Some(event) = Self::parse(item) else {
                return Err(FieldError::new(
                    field,
                    format!(
                        "{item:?} is not an event. Choose from: {}.",
                        Self::ALL.map(|e| e.as_str()).join(", ")
                    ),
                ));
            };
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(FieldError::new(
                field,
                "choose at least one event to send to this receiver.",
            ));
        }
        Ok(events)
    }
}

/// Refusals per project per hour above which `refusals.above_threshold` is sent, by default.
pub const DEFAULT_REFUSAL_THRESHOLD: i64 = 100;

/// At most this many receivers per organization.
pub const MAX_WEBHOOKS_PER_ORG: i64 = 10;

/// A receiver's URL as typed: `https://`, a host, no user name or password, at most 2,000
/// characters. Plain `http://` is accepted here only when `allow_http` (the operator allowed
/// private receivers, which is also when such a URL could be reached); the server checks the
/// addresses the host resolves to before each delivery.
pub fn parse_webhook_url(field: &str, raw: &str, allow_http: bool) -> Result<String, FieldError> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(FieldError::new(
            field,
            "enter the HTTPS address of your receiver, e.g. https://hooks.example.com/enclave.",
        ));
    }
    if url.len() > 2000 {
        return Err(FieldError::new(
            field,
            "use an address of at most 2,000 characters.",
        ));
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        if !allow_http {
            return Err(FieldError::new(
                field,
                "receivers must use HTTPS (https://…): events carry your organization's \
                 changes and are signed, not encrypted.",
            ));
        }
        rest
    } else {
        return Err(FieldError::new(
            field,
            "start the address with https://, e.g. https://hooks.example.com/enclave.",
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(FieldError::new(
            field,
            "leave the user name and password out of the address; verify deliveries with the \
             signing secret instead.",
        ));
    }
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(
            field,
            "that is not a complete address: give a host name, e.g. https://hooks.example.com/enclave.",
        ));
    }
    Ok(url.to_string())
}

/// One receiver, as the console lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub refusal_threshold: i64,
    pub created_at: String,
    pub deliveries: Vec<WebhookDeliveryView>,
}

/// One delivery and its attempts, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDeliveryView {
    pub id: String,
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub created_at: String,
    pub attempts: i64,
    /// The last attempt's HTTP status, if the receiver answered.
    pub last_status_code: Option<i64>,
    pub last_error: String,
    pub next_attempt_at: Option<String>,
}

/// The Webhooks page of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPageView {
    pub org_id: String,
    pub org_name: String,
    pub is_admin: bool,
    pub webhooks: Vec<WebhookView>,
    /// The secret of a receiver just added, shown once.
    pub new_secret: Option<(String, String)>,
    /// Whether plain http:// and private addresses are allowed (operator setting).
    pub allow_private: bool,
    /// The outcome of the change that led here (a plain form post).
    pub flash: Option<super::Flash>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_as_typed() {
        assert_eq!(
            parse_webhook_url("url", " https://hooks.example.com/x ", false).unwrap(),
            "https://hooks.example.com/x"
        );
        for (bad, hint) in [
            ("", "HTTPS address"),
            ("http://hooks.example.com", "must use HTTPS"),
            ("ftp://x", "start the address"),
            ("https://user:pw@hooks.example.com", "user name"),
            ("https:///path", "host name"),
            ("https://exa mple.com", "host name"),
        ] {
            let err = parse_webhook_url("url", bad, false).unwrap_err();
            assert!(err.message.contains(hint), "{bad}: {}", err.message);
            assert_eq!(err.field, "url");
        }
        assert!(parse_webhook_url("url", "http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse_webhook_url("url", "https://[::1]:8443/", false).is_ok());
    }

    #[test]
    fn event_lists_are_parsed_with_their_names() {
        assert_eq!(
            WebhookEvent::parse_list(
                "events",
                ["endpoint.accepted", " trial.ended", "endpoint.accepted"]
            )
            .unwrap(),
            vec![WebhookEvent::EndpointAccepted, WebhookEvent::TrialEnded]
        );
        let err = WebhookEvent::parse_list("events", ["endpoint.acepted"]).unwrap_err();
        assert!(err.message.contains("endpoint.accepted"), "{}", err.message);
        assert!(WebhookEvent::parse_list("events", [""]).is_err());
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }
}
