//! Liveness and readiness probes.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::services::Services;

/// The process is up and serving HTTP. Never touches the database.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The process can reach its database; load balancers should send traffic only when this
/// answers 200.
pub async fn readyz(State(services): State<Services>) -> (StatusCode, Json<Value>) {
    match services.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": services.store().backend() })),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
        }
    }
}
