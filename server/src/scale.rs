//! `enclave scale-seed`: a synthetic data set for measuring the server at scale (the default:
//! 10,000 organizations, each with an admin, 10 projects and 10 accepted endpoints in one
//! region). Like `--demo` it only goes into a database without users or organizations: every
//! admin shares one published password.

use std::time::Instant;

use app::domain::OrgId;
use argon2::{password_hash::SaltString, Argon2, PasswordHasher};
use serde::Serialize;

use crate::{
    services::{Caller, KeyOwner, Services},
    store::ScaleOrg,
};

/// Every admin's password in the data set.
pub const SCALE_PASSWORD: &str = "enclave-scale-password";
const REGION: &str = "aws-us-east-2";
const NUMBERS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// How big a data set to make.
#[derive(Clone, Copy, Debug)]
pub struct ScaleShape {
    pub organizations: usize,
    pub projects_per_org: usize,
    pub endpoints_per_org: usize,
    /// Organizations (spread over the set) that get an API key, for benchmarks to call as.
    pub samples: usize,
}

/// One organization a benchmark may act in, with a key and a sign-in.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleSample {
    pub org_id: String,
    pub project_id: String,
    pub vpc_endpoint_id: String,
    pub region_id: String,
    pub email: String,
    pub api_key: String,
}

/// What was made, and how long it took.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleReport {
    pub organizations: usize,
    pub projects: usize,
    pub endpoints: usize,
    pub seconds: f64,
    pub password: &'static str,
    pub samples: Vec<ScaleSample>,
}

fn org(n: usize, shape: &ScaleShape) -> ScaleOrg {
    let projects = (0..shape.projects_per_org)
        .map(|k| {
            let serial = n * shape.projects_per_org + k;
            let word = NUMBERS[k % NUMBERS.len()];
            let label = format!("ep-bench-{word}-{serial:06}");
            (
                format!("bench-{word}-{serial:08}"),
                format!("service {k}"),
                format!("{label}.us-east-2.aws.db.enclave.internal"),
                label,
            )
        })
        .collect();
    let endpoints = (0..shape.endpoints_per_org)
        .map(|e| {
            format!(
                "vpce-{:017x}",
                0x0005_ca1e_0000_0000_u64 + (n * shape.endpoints_per_org + e) as u64
            )
        })
        .collect();
    ScaleOrg {
        id: format!("org-bench-set-{n:08}"),
        name: format!("Bench {n}"),
        admin_id: format!("usr_bench{n:08}"),
        admin_email: format!("admin{n}@bench.example"),
        region_id: REGION.to_string(),
        projects,
        endpoints,
    }
}

/// Builds the data set, 200 organizations per transaction. Refuses a database that already
/// has users or organizations.
pub async fn seed(services: &Services, shape: ScaleShape) -> anyhow::Result<ScaleReport> {
    let store = services.store();
    if store.system_status().await?.organizations > 0 || store.user_count().await? > 0 {
        anyhow::bail!(
            "scale-seed only fills an empty database (this one has users or organizations); \
             point --database-url at a new one"
        );
    }
    if shape.endpoints_per_org > 10_000 || shape.projects_per_org > 10_000 {
        anyhow::bail!("at most 10,000 projects and endpoints per organization");
    }
    let started = Instant::now();
    let hash = Argon2::default()
        .hash_password(
            SCALE_PASSWORD.as_bytes(),
            &SaltString::generate(&mut rand::rngs::OsRng),
        )
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?
        .to_string();
    let at = services.clock().now_ms();
    let mut n = 0;
    while n < shape.organizations {
        let batch: Vec<ScaleOrg> = (n..shape.organizations.min(n + 200))
            .map(|i| org(i, &shape))
            .collect();
        store.insert_scale_batch(&batch, &hash, at).await?;
        n += batch.len();
    }
    let mut samples = Vec::new();
    let every = (shape.organizations / shape.samples.max(1)).max(1);
    for i in (0..shape.organizations).step_by(every).take(shape.samples) {
        let o = org(i, &shape);
        let key = services
            .create_api_key(
                &Caller::operator_cli(),
                &KeyOwner::Org(OrgId::parse(&o.id)?),
                "scale benchmark",
                None,
            )
            .await?;
        samples.push(ScaleSample {
            project_id: o.projects.first().map(|p| p.0.clone()).unwrap_or_default(),
            vpc_endpoint_id: o.endpoints.first().cloned().unwrap_or_default(),
            org_id: o.id,
            region_id: o.region_id,
            email: o.admin_email,
            api_key: key.token,
        });
    }
    Ok(ScaleReport {
        organizations: shape.organizations,
        projects: shape.organizations * shape.projects_per_org,
        endpoints: shape.organizations * shape.endpoints_per_org,
        seconds: started.elapsed().as_secs_f64(),
        password: SCALE_PASSWORD,
        samples,
    })
}
