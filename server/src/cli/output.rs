//! What operator commands print: a line for people, or one JSON document with `--output json`.

use serde_json::json;

use super::args::Output;

pub(super) fn print(output: Output, text: String, value: serde_json::Value) {
    match output {
        Output::Text => println!("{text}"),
        Output::Json => println!("{value}"),
    }
}

pub(super) fn trial_json(r: &crate::store::TrialRequestRow) -> serde_json::Value {
    json!({
        "id": r.id,
        "org_id": r.org_id,
        "status": r.status,
        "use_case": r.use_case,
        "regions": r.regions.split_whitespace().collect::<Vec<_>>(),
        "expected_endpoints": r.expected_endpoints,
        "requested_by": r.requested_by,
        "requested_at": app::domain::format_time(r.requested_at),
        "reviewed_by": r.reviewed_by,
        "decline_reason": r.decline_reason,
        "trial_ends_at": r.trial_ends_at.map(app::domain::format_time),
    })
}
