//! Trials of private networking (SPEC §5): admins of organizations whose plan lacks the
//! feature request one; platform operators approve it (with an end date) or decline it (with a
//! reason). Entitlement is judged from the clock on every call (see `require_entitlement`), so
//! an ended trial needs no job to end it — and ending it loosens nothing: assignments,
//! restrictions and blocks stay as they are, only new changes are refused.

use app::domain::ErrorCode;
use app::domain::{Plan, RegionId};
use serde_json::json;

use super::{accounts::require_operator, names, Caller, Principal, ServiceError, Services};
use crate::store::{StoreError, TrialDecision, TrialRequestRow, TrialReviewRow};

/// Days an approved trial lasts unless the operator picks an end.
pub const DEFAULT_TRIAL_DAYS: i64 = 14;
const DAY_MS: i64 = 86_400_000;

/// Where an organization's trial stands, as people see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrialStatus {
    None,
    Pending(TrialRequestRow),
    /// Approved and running.
    Active(TrialRequestRow),
    Declined(TrialRequestRow),
    /// Approved, and its end has passed.
    Expired(TrialRequestRow),
}

/// What an admin asks for.
#[derive(Clone, Debug, Default)]
pub struct TrialApplication {
    pub use_case: String,
    pub regions: Vec<String>,
    pub expected_endpoints: String,
}

fn who(caller: &Caller) -> String {
    match &caller.principal {
        Principal::User { email, .. } => email.clone(),
        Principal::OperatorCli => "operator CLI".into(),
        Principal::OrgApiKey { key_name, .. } => format!("organization key {key_name}"),
        Principal::DataPlane => "data plane".into(),
        Principal::System => "Enclave".into(),
    }
}

impl Services {
    /// The status of an organization's latest request (any member may see it).
    pub async fn trial_status(
        &self,
        caller: &Caller,
        org_id: &str,
    ) -> Result<TrialStatus, ServiceError> {
        let (org, _) = self.org_access(caller, org_id).await?;
        Ok(self.status_of(self.store.latest_trial_request(&org.id).await?))
    }

    /// The status of one request, judged by the clock now.
    pub(crate) fn status_of_row(&self, request: TrialRequestRow) -> TrialStatus {
        self.status_of(Some(request))
    }

    /// What the console shows of a status; `None` when there was never a request.
    pub(crate) fn trial_view(&self, status: TrialStatus) -> Option<app::domain::TrialView> {
        use app::domain::TrialState;
        let (state, r) = match status {
            TrialStatus::None => return None,
            TrialStatus::Pending(r) => (TrialState::Pending, r),
            TrialStatus::Active(r) => (TrialState::Active, r),
            TrialStatus::Declined(r) => (TrialState::Declined, r),
            TrialStatus::Expired(r) => (TrialState::Expired, r),
        };
        let now = self.clock.now_ms();
        let days_left = (state == TrialState::Active)
            .then(|| r.trial_ends_at.map(|end| ((end - now) / DAY_MS).max(1)))
            .flatten();
        Some(app::domain::TrialView {
            status: state,
            requested_by: r.requested_by,
            requested_at_ms: r.requested_at,
            use_case: r.use_case,
            regions: r.regions.split_whitespace().map(str::to_owned).collect(),
            expected_endpoints: r.expected_endpoints,
            ends_at_ms: r.trial_ends_at,
            days_left,
            decline_reason: r.decline_reason,
        })
    }

    fn status_of(&self, latest: Option<TrialRequestRow>) -> TrialStatus {
        match latest {
            None => TrialStatus::None,
            Some(r) => match r.status.as_str() {
                "pending" => TrialStatus::Pending(r),
                "declined" => TrialStatus::Declined(r),
                _ if r.trial_ends_at.is_some_and(|end| end > self.clock.now_ms()) => {
                    TrialStatus::Active(r)
                }
                _ => TrialStatus::Expired(r),
            },
        }
    }

    /// Files a trial request for the organization (admins only). Refused when the plan
    /// already includes the feature, while a request is pending (the existing one is named)
    /// and while a trial is running.
    pub async fn request_trial(
        &self,
        caller: &Caller,
        org_id: &str,
        application: &TrialApplication,
    ) -> Result<TrialRequestRow, ServiceError> {
        let (org, role) = self.org_access(caller, org_id).await?;
        Self::require_admin(&org, role)?;
        let plan = Plan::parse(&org.plan).unwrap_or(Plan::Free);
        if plan.includes_private_networking() {
            return Err(ServiceError::new(
                ErrorCode::TrialNotNeeded,
                format!(
                    "The {plan} plan of {} already includes private networking; no trial is needed.",
                    org.name
                ),
            ));
        }
        let use_case = application.use_case.trim();
        if use_case.is_empty() {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid use_case: describe what you want to connect privately (required).",
            ));
        }
        if use_case.chars().count() > 2000 {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid use_case: keep it under 2000 characters.",
            ));
        }
        let mut regions = Vec::new();
        for region in &application.regions {
            let id = RegionId::parse(region)?;
            self.region(&id)?;
            if !regions.contains(&id.to_string()) {
                regions.push(id.to_string());
            }
        }
        let expected = match application.expected_endpoints.trim() {
            "" => 0,
            n => match n.parse::<i64>() {
                Ok(n) if (0..=1000).contains(&n) => n,
                _ => {
                    return Err(ServiceError::new(
                        ErrorCode::InvalidInput,
                        "Invalid expected_endpoints: enter a whole number from 0 to 1000.",
                    ))
                }
            },
        };
        match self.status_of(self.store.latest_trial_request(&org.id).await?) {
            TrialStatus::Pending(r) => return Err(already_pending(&r)),
            TrialStatus::Active(r) => {
                return Err(ServiceError::new(
                    ErrorCode::TrialActive,
                    format!(
                        "{} already has a private networking trial until {}.",
                        org.name,
                        app::domain::format_time(r.trial_ends_at.unwrap_or_default())
                    ),
                ))
            }
            _ => {}
        }
        let row = TrialRequestRow {
            id: names::opaque_id("trial"),
            org_id: org.id.clone(),
            status: "pending".into(),
            use_case: use_case.to_string(),
            regions: regions.join(" "),
            expected_endpoints: expected,
            requested_by: who(caller),
            requested_at: self.clock.now_ms(),
            reviewed_by: None,
            reviewed_at: None,
            decline_reason: None,
            trial_ends_at: None,
        };
        let audit = self
            .audit(caller, "trial.request", &row.id)
            .org(&org.id)
            .after(json!({"use_case": row.use_case, "regions": regions, "expected_endpoints": expected}));
        match self.store.insert_trial_request(&row, &audit).await {
            Ok(()) => Ok(row),
            // Two admins at once: the index decides, the second sees the first's request.
            Err(StoreError::UniqueViolation { .. }) => {
                match self.store.latest_trial_request(&org.id).await? {
                    Some(existing) => Err(already_pending(&existing)),
                    None => Err(ServiceError::internal("pending trial vanished", &org.id)),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Requests for operators to review (operators only); `status` filters.
    pub async fn list_trial_requests(
        &self,
        caller: &Caller,
        status: Option<&str>,
    ) -> Result<Vec<TrialReviewRow>, ServiceError> {
        require_operator(caller)?;
        if let Some(s) = status {
            if !matches!(s, "pending" | "approved" | "declined") {
                return Err(ServiceError::new(
                    ErrorCode::InvalidInput,
                    format!("Invalid status: must be pending, approved or declined; got {s:?}."),
                ));
            }
        }
        Ok(self.store.trial_requests(status).await?)
    }

    /// Approves a pending request (operators only); the trial ends at `ends_at_ms`, or
    /// [`DEFAULT_TRIAL_DAYS`] from now.
    pub async fn approve_trial(
        &self,
        caller: &Caller,
        request_id: &str,
        ends_at_ms: Option<i64>,
    ) -> Result<TrialRequestRow, ServiceError> {
        require_operator(caller)?;
        let now = self.clock.now_ms();
        let ends_at = ends_at_ms.unwrap_or(now + DEFAULT_TRIAL_DAYS * DAY_MS);
        if ends_at <= now {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid ends_at: a trial must end in the future.",
            ));
        }
        if ends_at > now + 366 * DAY_MS {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid ends_at: a trial lasts at most a year; change the plan instead.",
            ));
        }
        self.review(
            caller,
            request_id,
            &TrialDecision::Approve {
                ends_at_ms: ends_at,
            },
        )
        .await
    }

    /// Declines a pending request with a reason the organization will see (operators only).
    pub async fn decline_trial(
        &self,
        caller: &Caller,
        request_id: &str,
        reason: &str,
    ) -> Result<TrialRequestRow, ServiceError> {
        require_operator(caller)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "Invalid reason: say why the trial is declined; the organization's admins will read it.",
            ));
        }
        self.review(caller, request_id, &TrialDecision::Decline { reason })
            .await
    }

    async fn review(
        &self,
        caller: &Caller,
        request_id: &str,
        decision: &TrialDecision<'_>,
    ) -> Result<TrialRequestRow, ServiceError> {
        let not_found = || {
            ServiceError::new(
                ErrorCode::TrialRequestNotFound,
                format!("Trial request {request_id} does not exist."),
            )
        };
        let request = self
            .store
            .trial_request(request_id)
            .await?
            .ok_or_else(not_found)?;
        let (action, after) = match decision {
            TrialDecision::Approve { ends_at_ms } => {
                ("trial.approve", json!({"trial_ends_at": ends_at_ms}))
            }
            TrialDecision::Decline { reason } => ("trial.decline", json!({"reason": reason})),
        };
        let audit = self
            .audit(caller, action, request_id)
            .org(&request.org_id)
            .after(after);
        let settled = self
            .store
            .review_trial_request(request_id, &request.org_id, decision, &who(caller), &audit)
            .await?;
        if !settled {
            return Err(ServiceError::new(
                ErrorCode::TrialRequestNotPending,
                format!(
                    "Trial request {request_id} was already {}; nothing changed.",
                    request.status
                ),
            ));
        }
        self.store
            .trial_request(request_id)
            .await?
            .ok_or_else(not_found)
    }
}

fn already_pending(request: &TrialRequestRow) -> ServiceError {
    ServiceError::new(
        ErrorCode::TrialRequestPending,
        format!(
            "A trial request is already waiting for review: submitted {} by {}. You will see the \
             decision here.",
            app::domain::format_time(request.requested_at),
            request.requested_by
        ),
    )
}

/// The last millisecond of `day` (UTC): a trial "ends on" a date includes that whole day.
pub fn end_of_day_ms(day: chrono::NaiveDate) -> i64 {
    day.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc().timestamp_millis() + 999)
        .unwrap_or_default()
}
