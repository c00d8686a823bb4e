//! AWS accounts an organization allows to create endpoints to the platform's services (as
//! Heroku and CockroachDB offer). Listing is for members; adding loosens access (admins, with
//! the feature); removing tightens it (admins, always).

use app::domain::ErrorCode;
use app::domain::{AwsAccountId, Label, OrgId};
use serde_json::json;

use super::{Caller, ServiceError, Services};
use crate::store::AllowedAccountRow;

impl Services {
    pub async fn list_allowed_accounts(
        &self,
        caller: &Caller,
        org_id: &OrgId,
    ) -> Result<Vec<AllowedAccountRow>, ServiceError> {
        let (org, _role) = self.org_access(caller, org_id.as_str()).await?;
        Ok(self.store.allowed_accounts(&org.id).await?)
    }

    /// Allows an account (or changes its note).
    pub async fn allow_account(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        account: &AwsAccountId,
        note: &Label,
    ) -> Result<AllowedAccountRow, ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        self.require_entitlement(&org)?;
        let audit = self
            .audit(caller, "aws_account.allow", account.as_str())
            .org(&org.id)
            .after(json!({"account_id": account.as_str(), "note": note.as_str()}));
        self.store
            .allow_account(&org.id, account.as_str(), note.as_str(), &audit)
            .await?;
        self.store
            .allowed_accounts(&org.id)
            .await?
            .into_iter()
            .find(|a| a.account_id == account.as_str())
            .ok_or_else(|| ServiceError::internal("allowed account vanished", account.as_str()))
    }

    /// Stops allowing an account. Endpoints it already connected stay as they are; new
    /// connection requests from it are no longer accepted.
    pub async fn disallow_account(
        &self,
        caller: &Caller,
        org_id: &OrgId,
        account: &AwsAccountId,
    ) -> Result<(), ServiceError> {
        let (org, role) = self.org_access(caller, org_id.as_str()).await?;
        Self::require_admin(&org, role)?;
        let audit = self
            .audit(caller, "aws_account.disallow", account.as_str())
            .org(&org.id)
            .before(json!({"account_id": account.as_str()}));
        if self
            .store
            .disallow_account(&org.id, account.as_str(), &audit)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::new(
                ErrorCode::AwsAccountNotFound,
                format!(
                    "AWS account {account} is not one of organization {}'s allowed accounts.",
                    org.id
                ),
            ))
        }
    }
}
