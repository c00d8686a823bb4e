//! The setup stepper's saved progress, one row per project.

use super::{Pool, Store, StoreError};

/// Where an admin left a project's guided setup, and what they entered about their cloud
/// side: the VPC, subnets and security group on AWS; the GCP project or Azure resource group
/// (`network_owner`), network and subnet on the other clouds.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SetupProgressRow {
    pub step: i64,
    pub vpc_id: String,
    pub subnet_ids: String,
    pub security_group_id: String,
    pub network_owner: String,
    pub network_name: String,
    pub subnet_name: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Store {
    /// The saved progress of a project's setup, if anyone started it.
    pub async fn setup_progress(
        &self,
        project_id: &str,
    ) -> Result<Option<SetupProgressRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT step, vpc_id, subnet_ids, security_group_id, network_owner, network_name, \
                 subnet_name, updated_at, updated_by \
                 FROM project_setup_progress WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Saves the step the admin is on; the cloud details stay as they were.
    pub async fn save_setup_step(
        &self,
        project_id: &str,
        step: i64,
        at_ms: i64,
        by: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO project_setup_progress (project_id, step, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (project_id) DO UPDATE SET step = excluded.step, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(project_id)
            .bind(step)
            .bind(at_ms)
            .bind(by)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Saves what the admin entered about their VPC (already validated by the caller).
    pub async fn save_setup_aws(
        &self,
        project_id: &str,
        progress: &SetupProgressRow,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO project_setup_progress \
                 (project_id, step, vpc_id, subnet_ids, security_group_id, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (project_id) DO UPDATE SET step = excluded.step, \
                 vpc_id = excluded.vpc_id, subnet_ids = excluded.subnet_ids, \
                 security_group_id = excluded.security_group_id, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(project_id)
            .bind(progress.step)
            .bind(&progress.vpc_id)
            .bind(&progress.subnet_ids)
            .bind(&progress.security_group_id)
            .bind(progress.updated_at)
            .bind(&progress.updated_by)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}

impl Store {
    /// Saves where a Google Cloud or Azure endpoint goes (already validated by the caller);
    /// the AWS details stay as they were.
    pub async fn save_setup_consumer_network(
        &self,
        project_id: &str,
        progress: &SetupProgressRow,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO project_setup_progress \
                 (project_id, step, network_owner, network_name, subnet_name, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (project_id) DO UPDATE SET step = excluded.step, \
                 network_owner = excluded.network_owner, network_name = excluded.network_name, \
                 subnet_name = excluded.subnet_name, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(project_id)
            .bind(progress.step)
            .bind(&progress.network_owner)
            .bind(&progress.network_name)
            .bind(&progress.subnet_name)
            .bind(progress.updated_at)
            .bind(&progress.updated_by)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
