//! The proxy's client of the control plane's data-plane API. The only way the data plane
//! learns anything: it has no database.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::metrics::Metrics;
use crate::data_plane_api::{EvidenceReport, Heartbeat, Route, PREFIX};

/// Why a call did not produce an answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CallError {
    #[error("the control plane could not be reached: {0}")]
    Unreachable(String),
    #[error("the control plane answered {status}: {body}")]
    Status { status: u16, body: String },
}

#[derive(Clone)]
pub struct ControlPlane {
    http: reqwest::Client,
    base: String,
    token: String,
    metrics: Metrics,
    timeout: Duration,
}

impl ControlPlane {
    pub fn new(base: &str, token: &str, metrics: Metrics) -> anyhow::Result<Self> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            anyhow::bail!(
                "--control-plane-url must be an http:// or https:// URL, e.g. http://127.0.0.1:3000"
            );
        }
        if token.trim().is_empty() {
            anyhow::bail!("--data-plane-token (ENCLAVE_DATA_PLANE_TOKEN) must not be empty");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base,
            token: token.trim().to_string(),
            metrics,
            timeout: Duration::from_secs(5),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}/{path}", self.base)
    }

    async fn observe<T>(
        &self,
        call: &'static str,
        f: impl std::future::Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let started = Instant::now();
        let result = f.await;
        self.metrics
            .control_plane_latency(call, started.elapsed().as_secs_f64());
        if result.is_err() {
            self.metrics.control_plane_error(call);
        }
        result
    }

    async fn status_error(res: reqwest::Response) -> CallError {
        let status = res.status().as_u16();
        let body: String = res
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        CallError::Status { status, body }
    }

    /// The route for a host label; `None` when no project has it.
    pub async fn route(&self, label: &str) -> Result<Option<Route>, CallError> {
        self.observe("route", async {
            let res = self
                .http
                .get(self.url(&format!("routes/{label}")))
                .bearer_auth(&self.token)
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| CallError::Unreachable(e.to_string()))?;
            match res.status() {
                StatusCode::OK => res
                    .json::<Route>()
                    .await
                    .map(Some)
                    .map_err(|e| CallError::Unreachable(e.to_string())),
                StatusCode::NOT_FOUND => Ok(None),
                _ => Err(Self::status_error(res).await),
            }
        })
        .await
    }

    /// Opens the feed after `after` (`None`: from now on).
    pub async fn feed(&self, after: Option<i64>) -> Result<reqwest::Response, CallError> {
        let mut url = self.url("feed");
        if let Some(v) = after {
            url.push_str(&format!("?after={v}"));
        }
        let res = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        if res.status() != StatusCode::OK {
            return Err(Self::status_error(res).await);
        }
        Ok(res)
    }

    async fn post<T: serde::Serialize>(
        &self,
        call: &'static str,
        path: &str,
        body: &T,
    ) -> Result<(), CallError> {
        self.observe(call, async {
            let res = self
                .http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .timeout(self.timeout)
                .json(body)
                .send()
                .await
                .map_err(|e| CallError::Unreachable(e.to_string()))?;
            if res.status() != StatusCode::OK {
                return Err(Self::status_error(res).await);
            }
            Ok(())
        })
        .await
    }

    pub async fn heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), CallError> {
        self.post("heartbeat", "heartbeat", heartbeat).await
    }

    pub async fn evidence(&self, report: &EvidenceReport) -> Result<(), CallError> {
        self.post("evidence", "evidence", report).await
    }
}
