//! The guided setup's saved progress: which step a project's admins were on and what they
//! entered about their cloud side. Members may look at the steps; only admins move the saved
//! position or change the saved details.

use app::domain::ErrorCode;
use app::domain::{AwsDetails, Cloud, ConsumerNetwork, RegionId, SetupStep};

use super::{Caller, Principal, ServiceError, Services};
use crate::store::SetupProgressRow;

/// Where a project's setup stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetupProgress {
    /// 1 to 6; 1 when nobody started.
    pub step: i64,
    pub vpc_id: String,
    pub subnet_ids: String,
    pub security_group_id: String,
    /// Step 2 on Google Cloud or Azure.
    pub consumer_network: ConsumerNetwork,
}

impl From<Option<SetupProgressRow>> for SetupProgress {
    fn from(row: Option<SetupProgressRow>) -> Self {
        match row {
            Some(row) => Self {
                step: SetupStep::from_number(row.step).map_or(1, SetupStep::number),
                vpc_id: row.vpc_id,
                subnet_ids: row.subnet_ids,
                security_group_id: row.security_group_id,
                consumer_network: ConsumerNetwork {
                    owner: row.network_owner,
                    network: row.network_name,
                    subnet: row.subnet_name,
                },
            },
            None => Self {
                step: 1,
                ..Self::default()
            },
        }
    }
}

fn only_people(caller: &Caller) -> Result<&str, ServiceError> {
    match &caller.principal {
        Principal::User { email, .. } => Ok(email),
        _ => Err(ServiceError::new(
            ErrorCode::PermissionDenied,
            "The guided setup is used from the console by a signed-in admin.",
        )),
    }
}

impl Services {
    /// The saved progress of a project's setup (any member may read it).
    pub async fn setup_progress(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<SetupProgress, ServiceError> {
        let (project, _, _) = self.project_access(caller, project_id).await?;
        Ok(self.store.setup_progress(&project.id).await?.into())
    }

    /// Remembers that an admin is on `step`, so coming back resumes there. Members' visits
    /// change nothing.
    pub async fn record_setup_step(
        &self,
        caller: &Caller,
        project_id: &str,
        step: SetupStep,
    ) -> Result<(), ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id).await?;
        if Self::require_admin(&org, role).is_err() {
            return Ok(());
        }
        let by = only_people(caller)?;
        self.store
            .save_setup_step(&project.id, step.number(), self.clock.now_ms(), by)
            .await?;
        Ok(())
    }

    /// Saves the VPC, subnets and security group an admin entered in step 2 (checked as AWS
    /// ids; nothing is saved when one is wrong).
    pub async fn save_setup_aws_details(
        &self,
        caller: &Caller,
        project_id: &str,
        vpc_id: &str,
        subnet_ids: &str,
        security_group_id: &str,
    ) -> Result<AwsDetails, ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id).await?;
        Self::require_admin(&org, role)?;
        let by = only_people(caller)?;
        if self.project_cloud(&project.region_id) != Cloud::Aws {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                "This project does not run on AWS: step 2 asks for its network instead of a VPC.",
            ));
        }
        let details = AwsDetails::parse(vpc_id, subnet_ids, security_group_id)?;
        let row = SetupProgressRow {
            step: SetupStep::CreateEndpoint.number(),
            vpc_id: details.vpc_id.clone(),
            subnet_ids: details.subnet_ids.join(" "),
            security_group_id: details.security_group_id.clone().unwrap_or_default(),
            updated_at: self.clock.now_ms(),
            updated_by: by.to_string(),
            ..SetupProgressRow::default()
        };
        self.store.save_setup_aws(&project.id, &row).await?;
        Ok(details)
    }

    /// Saves where a Google Cloud or Azure endpoint goes (step 2 there): the GCP project or
    /// Azure resource group, the network and the subnet, checked for the project's cloud;
    /// nothing is saved when one is wrong.
    pub async fn save_setup_consumer_network(
        &self,
        caller: &Caller,
        project_id: &str,
        owner: &str,
        network: &str,
        subnet: &str,
    ) -> Result<ConsumerNetwork, ServiceError> {
        let (project, org, role) = self.project_access(caller, project_id).await?;
        Self::require_admin(&org, role)?;
        let by = only_people(caller)?;
        let cloud = self.project_cloud(&project.region_id);
        let network = ConsumerNetwork::parse(cloud, owner, network, subnet)?;
        let row = SetupProgressRow {
            step: SetupStep::CreateEndpoint.number(),
            network_owner: network.owner.clone(),
            network_name: network.network.clone(),
            subnet_name: network.subnet.clone(),
            updated_at: self.clock.now_ms(),
            updated_by: by.to_string(),
            ..SetupProgressRow::default()
        };
        self.store
            .save_setup_consumer_network(&project.id, &row)
            .await?;
        Ok(network)
    }

    /// The cloud a project's region is in, as its id names it.
    pub fn project_cloud(&self, region_id: &str) -> Cloud {
        RegionId::parse(region_id).map_or(Cloud::Aws, |id| id.cloud())
    }
}
