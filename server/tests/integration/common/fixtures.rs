//! The one fixtures builder: every test module sets up its world (organizations, people with
//! API keys or console sessions, projects, endpoints) through these calls, which go through
//! the service layer as the operator CLI would, so a fixture can never hold a state the
//! product itself could not reach.

use app::domain::{Label, OrgId, Plan, RegionId, Role, VpcEndpointId};
use enclave::{
    services::{Caller, KeyOwner, Services},
    store::{ProjectRow, Settlement, Store},
};

use super::TestApp;

/// The password every fixture person signs in to the console with.
pub const PASSWORD: &str = "correct horse battery staple";

/// A person: their user id, address, and an API key that acts as them.
#[derive(Clone, Debug)]
pub struct Person {
    pub user_id: String,
    pub email: String,
    pub api_key: String,
}

/// Builds fixtures through one set of services (a running app's, or — for tests whose
/// servers are binaries — services over the test's store), acting as the operator.
pub struct Given {
    services: Services,
    store: Store,
    operator: Caller,
}

pub fn given(app: &TestApp) -> Given {
    given_on(app.services.clone(), app.store.clone())
}

pub fn given_on(services: Services, store: Store) -> Given {
    Given {
        services,
        store,
        operator: Caller::operator_cli(),
    }
}

impl Given {
    fn services(&self) -> &Services {
        &self.services
    }

    pub async fn org(&self, name: &str, plan: Plan) -> OrgId {
        let org = self
            .services()
            .create_organization(&self.operator, name, plan)
            .await
            .unwrap();
        OrgId::parse(&org.id).unwrap()
    }

    /// A person with a console password ([`PASSWORD`]) and an API key of their own.
    pub async fn person(&self, email: &str) -> Person {
        self.someone(email, false).await
    }

    /// An Enclave operator (reviews trials), with a password and an API key.
    pub async fn operator(&self, email: &str) -> Person {
        self.someone(email, true).await
    }

    async fn someone(&self, email: &str, is_operator: bool) -> Person {
        let user = self
            .services()
            .create_user(&self.operator, email, Some(PASSWORD), is_operator)
            .await
            .unwrap();
        let api_key = self
            .services()
            .create_api_key(
                &self.operator,
                &KeyOwner::User(user.id.clone()),
                "tests",
                None,
            )
            .await
            .unwrap()
            .token;
        Person {
            user_id: user.id,
            email: user.email,
            api_key,
        }
    }

    /// A new person who belongs to `org` with `role`.
    pub async fn member(&self, org: &OrgId, email: &str, role: Role) -> Person {
        let person = self.person(email).await;
        self.services()
            .add_member(&self.operator, org, email, role)
            .await
            .unwrap();
        person
    }

    /// The caller a person's API key authenticates as (for calling services directly).
    pub async fn caller(&self, person: &Person) -> Caller {
        Caller::new(
            self.services()
                .authenticate_api_key(&person.api_key, None)
                .await
                .unwrap(),
            None,
        )
    }

    /// A console session token for a person made here.
    pub async fn session(&self, person: &Person) -> String {
        self.services()
            .sign_in(&person.email, PASSWORD, "test", None)
            .await
            .unwrap()
            .token
    }

    /// An organization API key (acts as an admin of `org`).
    pub async fn org_key(&self, org: &OrgId, name: &str) -> String {
        self.services()
            .create_api_key(&self.operator, &KeyOwner::Org(org.clone()), name, None)
            .await
            .unwrap()
            .token
    }

    pub async fn project(&self, org: &OrgId, name: &str, region: &str) -> ProjectRow {
        self.services()
            .create_project(&self.operator, org, name, &RegionId::parse(region).unwrap())
            .await
            .unwrap()
    }

    /// A VPC endpoint assigned to `org` in `region`; `accepted` settles it as the provider
    /// would once the connection is accepted, otherwise it stays `new`.
    pub async fn endpoint(&self, org: &OrgId, region: &str, id: &str, accepted: bool) {
        self.services()
            .assign_endpoint(
                &self.operator,
                org,
                &RegionId::parse(region).unwrap(),
                &VpcEndpointId::parse_any(id).unwrap(),
                &Label::default(),
            )
            .await
            .unwrap();
        if accepted {
            self.store
                .settle_assignment(
                    id,
                    &Settlement {
                        state: "accepted",
                        reason: None,
                        service_name: None,
                        owner_account: None,
                    },
                    &super::audit(),
                )
                .await
                .unwrap();
        }
    }
}
