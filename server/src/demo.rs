//! Demo data for `enclave serve --demo`: an empty database gets two organizations, people in
//! every role and a few projects, so the console can be tried at once. A database that
//! already has users or organizations is never touched.

use app::domain::{OrgId, Plan, RegionId, Role};

use crate::services::{Caller, Services};

/// The password of every demo account (printed at start; demo databases only).
pub const DEMO_PASSWORD: &str = "enclave-demo-password";

/// A demo account and what it shows.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub email: &'static str,
    pub what: &'static str,
}

pub const ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount {
        email: "admin@acme.example",
        what: "admin of Acme Robotics (Scale plan)",
    },
    DemoAccount {
        email: "member@acme.example",
        what: "member of Acme Robotics (read-only)",
    },
    DemoAccount {
        email: "admin@tinyco.example",
        what: "admin of TinyCo (Free plan)",
    },
    DemoAccount {
        email: "newcomer@example.com",
        what: "no organization yet",
    },
    DemoAccount {
        email: "operator@enclave.example",
        what: "platform operator",
    },
];

/// Seeds an empty database; answers whether it did. A database with any user or any
/// organization is left alone: the demo accounts have a published password (one of them an
/// operator), so adding them to a real deployment would open it to anyone.
pub async fn seed(services: &Services) -> anyhow::Result<bool> {
    if services.store().system_status().await?.organizations > 0
        || services.store().user_count().await? > 0
    {
        return Ok(false);
    }
    let op = Caller::operator_cli();
    let acme = services
        .create_organization(&op, "Acme Robotics", Plan::Scale)
        .await?;
    let tiny = services
        .create_organization(&op, "TinyCo", Plan::Free)
        .await?;
    for account in &ACCOUNTS {
        let operator = account.email.starts_with("operator@");
        services
            .create_user(&op, account.email, Some(DEMO_PASSWORD), operator)
            .await?;
    }
    let acme_id = OrgId::parse(&acme.id)?;
    let tiny_id = OrgId::parse(&tiny.id)?;
    services
        .add_member(&op, &acme_id, "admin@acme.example", Role::Admin)
        .await?;
    services
        .add_member(&op, &acme_id, "member@acme.example", Role::Member)
        .await?;
    services
        .add_member(&op, &tiny_id, "admin@tinyco.example", Role::Admin)
        .await?;
    let east2 = RegionId::parse("aws-us-east-2")?;
    let east1 = RegionId::parse("aws-us-east-1")?;
    services
        .create_project(&op, &acme_id, "checkout-prod", &east2)
        .await?;
    services
        .create_project(&op, &acme_id, "analytics", &east1)
        .await?;
    services
        .create_project(&op, &tiny_id, "prototype", &east2)
        .await?;
    Ok(true)
}

/// What `serve --demo` prints so people can sign in.
pub fn sign_in_help(addr: std::net::SocketAddr) -> String {
    let mut text = format!(
        "Demo data is loaded. Sign in at http://{addr}/sign-in with password \"{DEMO_PASSWORD}\" as:\n"
    );
    for account in &ACCOUNTS {
        text.push_str(&format!("  {:<26} {}\n", account.email, account.what));
    }
    text
}
