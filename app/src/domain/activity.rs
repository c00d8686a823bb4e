//! An organization's activity: every change recorded in its audit log, with who made it,
//! before → after, when, and the request that made it; the filters people narrow it with
//! (parsed once here for the console, the REST API and the CSV export); and the CSV shape.

use serde::{Deserialize, Serialize};

use super::{FieldError, OrgSummary, ProjectId, VpcEndpointId};

/// Entries per page when nobody asks for another number, and at most.
pub const ACTIVITY_PAGE: i64 = 50;
pub const ACTIVITY_PAGE_MAX: i64 = 200;
/// At most this many entries go into one CSV export (the newest that match).
pub const ACTIVITY_EXPORT_MAX: i64 = 10_000;

/// What to narrow an organization's activity to; every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    pub project_id: Option<ProjectId>,
    /// Changes to this VPC endpoint: its assignment and state, and restrictions naming it.
    pub vpc_endpoint_id: Option<VpcEndpointId>,
    /// Who made the change: a person's email (in the console or with their personal keys),
    /// an organization API key's name, or an API key's id.
    pub actor: Option<String>,
}

impl ActivityFilter {
    /// Parses the filter as forms and query strings send it (empty means "any").
    pub fn parse(project_id: &str, vpc_endpoint_id: &str, actor: &str) -> Result<Self, FieldError> {
        let present = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        let actor = present(actor);
        if actor
            .as_ref()
            .is_some_and(|a| a.chars().count() > 200 || a.chars().any(char::is_control))
        {
            return Err(FieldError::new(
                "actor",
                "must be at most 200 printable characters: an email or an API key's name.",
            ));
        }
        Ok(Self {
            project_id: present(project_id)
                .map(|p| ProjectId::parse(&p))
                .transpose()?,
            vpc_endpoint_id: present(vpc_endpoint_id)
                .map(|e| VpcEndpointId::parse_any(&e))
                .transpose()?,
            actor,
        })
    }

    /// The filter as a query string (without `?`; empty when it filters nothing).
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(p) = &self.project_id {
            pairs.push(format!("project_id={p}"));
        }
        if let Some(e) = &self.vpc_endpoint_id {
            pairs.push(format!("vpc_endpoint_id={e}"));
        }
        if let Some(a) = &self.actor {
            pairs.push(format!("actor={}", percent_encode(a)));
        }
        pairs.join("&")
    }

    pub fn is_empty(&self) -> bool {
        self.project_id.is_none() && self.vpc_endpoint_id.is_none() && self.actor.is_none()
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One change, as the Activity page, the REST API and the CSV show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Increasing; pages continue below the last one shown.
    pub id: i64,
    pub at_ms: i64,
    /// `user`, `api_key`, `operator_cli` or `system`.
    pub actor_kind: String,
    pub actor: String,
    /// e.g. `vpc_endpoint.assign`, `project.restrict`, `project.settings`.
    pub action: String,
    /// What it changed: an endpoint id, a project id, an account, a key id.
    pub target: String,
    pub project_id: Option<String>,
    /// The recorded value before and after (JSON), where the change has one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
}

/// A page of an organization's activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPageView {
    pub org: OrgSummary,
    /// The organization's projects (id, name), for the project filter.
    pub projects: Vec<(String, String)>,
    pub filter: ActivityFilter,
    pub entries: Vec<ActivityEntry>,
    /// Where the next (older) page starts, if there is one.
    pub next_cursor: Option<i64>,
}

/// The CSV columns, in order.
pub const ACTIVITY_CSV_HEADER: &str =
    "id,time_utc,actor_kind,actor,action,target,project_id,before,after,request_id";

/// Entries as CSV (RFC 4180: fields quoted when needed, quotes doubled, CRLF line ends). A
/// field that a spreadsheet would run as a formula is prefixed with `'`.
pub fn activity_csv(entries: &[ActivityEntry]) -> String {
    fn field(value: &str) -> String {
        let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{value}")
        } else {
            value.to_string()
        };
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value
        }
    }
    let mut out = String::from(ACTIVITY_CSV_HEADER);
    out.push_str("\r\n");
    for e in entries {
        let time = chrono::DateTime::from_timestamp_millis(e.at_ms)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default();
        let row = [
            e.id.to_string(),
            time,
            e.actor_kind.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            e.project_id.clone().unwrap_or_default(),
            e.before.clone().unwrap_or_default(),
            e.after.clone().unwrap_or_default(),
            e.request_id.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|v| field(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ActivityEntry {
        ActivityEntry {
            id: 7,
            at_ms: 1_800_000_000_000,
            actor_kind: "user".into(),
            actor: "ada@acme.test".into(),
            action: "project.settings".into(),
            target: "wild-sea-12345678".into(),
            project_id: Some("wild-sea-12345678".into()),
            before: Some(r#"{"block_public_connections":false}"#.into()),
            after: Some(r#"{"block_public_connections":true}"#.into()),
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_defuses_formulas() {
        let mut e = entry();
        e.actor = "=HYPERLINK(\"x\")".into();
        let csv = activity_csv(&[e]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next(), Some(ACTIVITY_CSV_HEADER));
        let row = lines.next().unwrap();
        assert!(row.starts_with("7,2027-01-15T08:00:00.000Z,user,"), "{row}");
        assert!(row.contains(r#""'=HYPERLINK(""x"")""#), "{row}");
        assert!(
            row.contains(r#""{""block_public_connections"":true}""#),
            "{row}"
        );
        assert!(row.ends_with(",req-1"), "{row}");
    }

    #[test]
    fn filters_parse_with_named_errors_and_round_trip_as_a_query() {
        let f = ActivityFilter::parse(" ", "vpce-0123456789abcdef0", "ada@acme.test").unwrap();
        assert!(f.project_id.is_none());
        assert_eq!(
            f.query(),
            "vpc_endpoint_id=vpce-0123456789abcdef0&actor=ada@acme.test"
        );
        let e = ActivityFilter::parse("", "not an endpoint", "").unwrap_err();
        assert_eq!(e.field, "vpc_endpoint_id");
        assert!(ActivityFilter::parse("", "", "").unwrap().is_empty());
        let e = ActivityFilter::parse("", "", &"a".repeat(201)).unwrap_err();
        assert_eq!(e.field, "actor");
    }
}
