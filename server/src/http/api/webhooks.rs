//! Webhooks of an organization: an Enclave extension of the REST API (Neon has no such
//! route), documented in the OpenAPI document. Admins only.

use app::domain::OrgId;
use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ErrorBody},
    extract::{ApiCaller, JsonBody},
    Empty,
};
use crate::{
    services::{DeliveryLogEntry, Services},
    store::{DeliveryRow, WebhookRow},
};

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A receiver (its secret is answered only when it is created).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// Event types sent to it, e.g. `endpoint.accepted`.
    pub events: Vec<String>,
    /// Refused connections per project per hour above which `refusals.above_threshold` is sent.
    pub refusal_threshold: i64,
    pub created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(w: WebhookRow) -> Self {
        Self {
            events: w.event_types(),
            id: w.id,
            url: w.url,
            refusal_threshold: w.refusal_threshold,
            created_at: time(w.created_at),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Webhooks {
    pub webhooks: Vec<Webhook>,
}

/// `{"url", "events", "refusal_threshold"}`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreateRequest {
    /// The receiver: `https://…` (public addresses only, unless the operator allows private
    /// ones).
    #[schema(max_length = 2000)]
    pub url: String,
    /// At least one of `endpoint.accepted`, `endpoint.rejected`, `endpoint.removed`,
    /// `settings.applied`, `restriction.changed`, `trial.approved`, `trial.declined`,
    /// `trial.ending`, `trial.ended`, `refusals.above_threshold`.
    pub events: Vec<String>,
    /// 1 to 1,000,000; 100 when left out.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub refusal_threshold: Option<i64>,
}

/// A new receiver and its signing secret (`whsec_…`), shown only in this answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub webhook: Webhook,
    /// Verify each delivery's `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: String,
    /// The receiver's answer; absent when there was none (see `error`).
    pub status_code: Option<i32>,
    pub error: String,
    pub duration_ms: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// Also the `webhook-id` header.
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    /// `pending` (being tried), `delivered`, or `failed` (given up after the retry window).
    pub status: String,
    pub created_at: String,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i32>,
    pub last_error: String,
    /// The body sent: `{"type", "timestamp", "data"}`.
    pub payload: serde_json::Value,
    pub attempt_log: Vec<DeliveryAttempt>,
}

impl Delivery {
    fn new(d: DeliveryRow, attempts: Vec<crate::store::AttemptRow>) -> Self {
        Self {
            next_attempt_at: (d.status == "pending").then(|| time(d.next_attempt_at)),
            payload: serde_json::from_str(&d.payload).unwrap_or_default(),
            id: d.id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            status: d.status,
            created_at: time(d.created_at),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            attempt_log: attempts
                .into_iter()
                .map(|a| DeliveryAttempt {
                    attempt: a.attempt,
                    at: time(a.at),
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Deliveries {
    pub webhook: Webhook,
    /// The latest 50, newest first.
    pub deliveries: Vec<Delivery>,
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/webhooks",
    operation_id = "listWebhooks",
    tag = "Webhooks (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    responses(
        (status = 200, description = "The organization's webhook receivers", body = Webhooks),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
) -> Result<Json<Webhooks>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let rows = services.list_webhooks(&caller, &org_id).await?;
    Ok(Json(Webhooks {
        webhooks: rows.into_iter().map(Webhook::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/organizations/{org_id}/webhooks",
    operation_id = "createWebhook",
    tag = "Webhooks (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$")
    ),
    request_body(content = WebhookCreateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Registered; the signing secret is in `secret`, shown only now", body = WebhookCreated),
        (status = 400, description = "Invalid input (names the field)", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 422, description = "The organization has 10 receivers already", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path(org_id): Path<String>,
    JsonBody(body): JsonBody<WebhookCreateRequest>,
) -> Result<Json<WebhookCreated>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let created = services
        .create_webhook(
            &caller,
            &org_id,
            &body.url,
            &body.events,
            body.refusal_threshold,
        )
        .await?;
    Ok(Json(WebhookCreated {
        webhook: created.webhook.into(),
        secret: created.secret,
    }))
}

#[utoipa::path(
    delete,
    path = "/organizations/{org_id}/webhooks/{webhook_id}",
    operation_id = "deleteWebhook",
    tag = "Webhooks (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("webhook_id" = String, Path, description = "The receiver's id", pattern = r"^[a-z0-9_-]{1,80}$")
    ),
    responses(
        (status = 200, description = "Removed, with its pending deliveries", body = Empty),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, webhook_id)): Path<(String, String)>,
) -> Result<Json<Empty>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    services
        .delete_webhook(&caller, &org_id, &webhook_id)
        .await?;
    Ok(Json(Empty {}))
}

#[utoipa::path(
    get,
    path = "/organizations/{org_id}/webhooks/{webhook_id}/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "Webhooks (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("webhook_id" = String, Path, description = "The receiver's id", pattern = r"^[a-z0-9_-]{1,80}$")
    ),
    responses(
        (status = 200, description = "The receiver's latest deliveries with every attempt", body = Deliveries),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, webhook_id)): Path<(String, String)>,
) -> Result<Json<Deliveries>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let (webhook, log) = services
        .webhook_deliveries(&caller, &org_id, &webhook_id)
        .await?;
    Ok(Json(Deliveries {
        webhook: webhook.into(),
        deliveries: log
            .into_iter()
            .map(|DeliveryLogEntry { delivery, attempts }| Delivery::new(delivery, attempts))
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/organizations/{org_id}/webhooks/deliveries/{delivery_id}/redeliver",
    operation_id = "redeliverWebhook",
    tag = "Webhooks (Enclave)",
    params(
        ("org_id" = String, Path, description = "Organization id, e.g. org-bold-bonus-12345678", pattern = r"^[a-z0-9-]{1,60}$"),
        ("delivery_id" = String, Path, description = "The delivery's id (its webhook-id header)", pattern = r"^[a-z0-9_-]{1,120}$")
    ),
    responses(
        (status = 200, description = "Queued to be sent again now", body = Delivery),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = ErrorBody),
        (status = 403, description = "Not allowed (admins only)", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn redeliver(
    State(services): State<Services>,
    ApiCaller(caller): ApiCaller,
    Path((org_id, delivery_id)): Path<(String, String)>,
) -> Result<Json<Delivery>, ApiError> {
    let org_id = OrgId::parse(&org_id)?;
    let delivery = services
        .redeliver_webhook(&caller, &org_id, &delivery_id)
        .await?;
    Ok(Json(Delivery::new(delivery, Vec::new())))
}
