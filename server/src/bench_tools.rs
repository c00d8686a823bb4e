//! Tools `make bench` measures with (hidden subcommands, not for operators): a bare axum
//! handler to compare the REST API's throughput against, in the same binary and runtime, and
//! a small HTTP load generator (keep-alive connections, latency percentiles), so the figures
//! do not depend on what else is installed.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use clap::Args;
use serde::Serialize;

/// `enclave bench-bare`: one JSON answer and nothing else (no database, no layers).
pub async fn bare(addr: SocketAddr) -> anyhow::Result<()> {
    let router = axum::Router::new().route(
        "/bare",
        axum::routing::get(|| async {
            axum::Json(serde_json::json!({"endpoints": [{"vpc_endpoint_id": "vpce-0123456789abcdef0", "label": "bare"}]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// `enclave bench-load` arguments.
#[derive(Args, Clone, Debug)]
pub struct LoadArgs {
    /// Addresses to request, taken in turn.
    #[arg(long = "url", required_unless_present = "targets")]
    pub urls: Vec<String>,
    /// A file of requests to take in turn instead, one a line: the address, then any
    /// `Name: value` headers of its own, separated by tabs (an API key or a session per
    /// organization, say).
    #[arg(long)]
    pub targets: Option<std::path::PathBuf>,
    /// `Name: value` headers sent with every request.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Requests in flight at once (one keep-alive connection each).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Stop after this many requests in all…
    #[arg(long)]
    pub requests: Option<usize>,
    /// …or after this many seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Requests sent first and not counted (connections, caches).
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
}

/// What a load run measured.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub requests: usize,
    pub failures: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn header_map(headers: &[String]) -> anyhow::Result<reqwest::header::HeaderMap> {
    let mut map = reqwest::header::HeaderMap::new();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("header {header:?} is not `Name: value`"))?;
        map.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())?,
            reqwest::header::HeaderValue::from_str(value.trim())?,
        );
    }
    Ok(map)
}

fn client(headers: &[String]) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .default_headers(header_map(headers)?)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// One request to send: where, and its own headers.
type Target = (String, reqwest::header::HeaderMap);

fn targets(args: &LoadArgs) -> anyhow::Result<Vec<Target>> {
    let mut all = Vec::new();
    if let Some(path) = &args.targets {
        for line in std::fs::read_to_string(path)?
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let mut fields = line.split('\t');
            let url = fields.next().unwrap_or_default().to_string();
            let headers: Vec<String> = fields.map(str::to_string).collect();
            all.push((url, header_map(&headers)?));
        }
    }
    all.extend(args.urls.iter().map(|u| (u.clone(), Default::default())));
    anyhow::ensure!(!all.is_empty(), "nothing to request");
    Ok(all)
}

/// Runs the load and prints its report as JSON.
pub async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let all = std::sync::Arc::new(targets(&args)?);
    let warm = client(&args.headers)?;
    for i in 0..args.warmup {
        let (url, headers) = &all[i % all.len()];
        let _ = warm
            .get(url)
            .headers(headers.clone())
            .send()
            .await?
            .bytes()
            .await;
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, all, next, limit) = (
            client(&args.headers)?,
            all.clone(),
            next.clone(),
            args.requests,
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if limit.is_some_and(|l| n >= l) || (limit.is_none() && Instant::now() >= deadline)
                {
                    break;
                }
                let sent = Instant::now();
                let (url, headers) = &all[n % all.len()];
                let ok = match client.get(url).headers(headers.clone()).send().await {
                    Ok(answer) => {
                        let status = answer.status();
                        answer.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        });
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for (l, f) in tasks.join_all().await {
        latencies.extend(l);
        failures += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let report = LoadReport {
        requests: latencies.len(),
        failures,
        seconds,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
