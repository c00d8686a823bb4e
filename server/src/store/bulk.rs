//! Bulk loading of a synthetic data set (`enclave scale-seed`): many organizations with their
//! admin, projects and accepted endpoints, written in large transactions with multi-row
//! inserts, each row with its audit entry, as the product itself would have written them.
//! The change feed is not replayed: this is history, not news.

use super::{Pool, Store, StoreError};

/// One organization of the data set and everything it holds.
#[derive(Clone, Debug)]
pub struct ScaleOrg {
    pub id: String,
    pub name: String,
    pub admin_id: String,
    pub admin_email: String,
    pub region_id: String,
    /// (id, name, hostname, host label)
    pub projects: Vec<(String, String, String, String)>,
    pub endpoints: Vec<String>,
}

/// An audit row as the bulk loader writes it.
struct Audit<'a> {
    org_id: &'a str,
    project_id: Option<&'a str>,
    action: &'static str,
    target: &'a str,
    after: String,
}

impl Store {
    /// Writes `orgs` in one transaction. `password_hash` is every admin's (an argon2id hash).
    pub async fn insert_scale_batch(
        &self,
        orgs: &[ScaleOrg],
        password_hash: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let mut audits = Vec::new();
        for org in orgs {
            audits.push(Audit {
                org_id: &org.id,
                project_id: None,
                action: "organization.create",
                target: &org.id,
                after: serde_json::json!({"name": org.name, "plan": "scale"}).to_string(),
            });
            for (id, name, hostname, _) in &org.projects {
                audits.push(Audit {
                    org_id: &org.id,
                    project_id: Some(id),
                    action: "project.create",
                    target: id,
                    after: serde_json::json!({"name": name, "region_id": org.region_id, "hostname": hostname})
                        .to_string(),
                });
            }
            for endpoint in &org.endpoints {
                audits.push(Audit {
                    org_id: &org.id,
                    project_id: None,
                    action: "vpc_endpoint.assign",
                    target: endpoint,
                    after: serde_json::json!({"region_id": org.region_id, "label": ""}).to_string(),
                });
            }
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut q = sqlx::QueryBuilder::new("INSERT INTO organizations (id, name, plan) ");
            q.push_values(orgs, |mut row, org| {
                row.push_bind(&org.id).push_bind(&org.name).push_bind("scale");
            });
            q.build().execute(&mut *tx).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO users (id, email, password_hash, is_operator, created_at) ",
            );
            q.push_values(orgs, |mut row, org| {
                row.push_bind(&org.admin_id)
                    .push_bind(&org.admin_email)
                    .push_bind(password_hash)
                    .push_bind(false)
                    .push_bind(at_ms);
            });
            q.build().execute(&mut *tx).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO memberships (org_id, user_id, role, created_at) ",
            );
            q.push_values(orgs, |mut row, org| {
                row.push_bind(&org.id)
                    .push_bind(&org.admin_id)
                    .push_bind("admin")
                    .push_bind(at_ms);
            });
            q.build().execute(&mut *tx).await?;
            let projects: Vec<_> = orgs
                .iter()
                .flat_map(|o| o.projects.iter().map(move |p| (o, p)))
                .collect();
            for chunk in projects.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO projects (id, org_id, name, region_id, hostname, endpoint_label) ",
                );
                q.push_values(chunk, |mut row, (org, (id, name, hostname, label))| {
                    row.push_bind(id)
                        .push_bind(&org.id)
                        .push_bind(name)
                        .push_bind(&org.region_id)
                        .push_bind(hostname)
                        .push_bind(label);
                });
                q.build().execute(&mut *tx).await?;
            }
            let endpoints: Vec<_> = orgs
                .iter()
                .flat_map(|o| o.endpoints.iter().map(move |e| (o, e)))
                .collect();
            for chunk in endpoints.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO vpc_endpoint_assignments (vpc_endpoint_id, org_id, region_id, \
                     label, state, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut row, (org, endpoint)| {
                    row.push_bind(endpoint)
                        .push_bind(&org.id)
                        .push_bind(&org.region_id)
                        .push_bind("")
                        .push_bind("accepted")
                        .push_bind(at_ms)
                        .push_bind(at_ms);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in audits.chunks(1000) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (org_id, project_id, actor_kind, actor_id, actor_name, \
                     action, target, after_value, created_at) ",
                );
                q.push_values(chunk, |mut row, audit| {
                    row.push_bind(audit.org_id)
                        .push_bind(audit.project_id)
                        .push_bind("operator")
                        .push_bind("cli")
                        .push_bind("scale-seed")
                        .push_bind(audit.action)
                        .push_bind(audit.target)
                        .push_bind(&audit.after)
                        .push_bind(at_ms);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }
}
