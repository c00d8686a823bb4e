//! The store against both databases: migrations, counts, and constraint errors.

mod common;

use common::TestDb;
use enclave::store::{NewOrganization, NewProject, StoreError};

fn org<'a>(id: &'a str, plan: &'a str) -> NewOrganization<'a> {
    NewOrganization {
        id,
        name: "Acme",
        plan,
    }
}

fn project<'a>(id: &'a str, org_id: &'a str, hostname: &'a str) -> NewProject<'a> {
    NewProject {
        id,
        org_id,
        name: "web",
        region_id: "aws-us-east-2",
        hostname,
    }
}

async fn migrations_are_idempotent(db: TestDb) {
    let store = db.store().await;
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.unwrap();
    let status = store.system_status().await.unwrap();
    assert!(status.schema_version >= 1);
    assert!(!status.schema_description.is_empty());
}

async fn status_counts_what_is_stored(db: TestDb) {
    let store = db.store().await;
    let before = store.system_status().await.unwrap();
    assert_eq!((before.organizations, before.projects), (0, 0));

    store
        .insert_organization(&org("org-bold-bonus-12345678", "scale"), &common::audit())
        .await
        .unwrap();
    store
        .insert_organization(&org("org-calm-river-87654321", "free"), &common::audit())
        .await
        .unwrap();
    store
        .insert_project(
            &project(
                "orange-credit-12345678",
                "org-bold-bonus-12345678",
                "ep-a-1.example",
            ),
            &common::audit(),
        )
        .await
        .unwrap();

    let after = store.system_status().await.unwrap();
    assert_eq!((after.organizations, after.projects), (2, 1));
    assert_eq!(after.database, store.backend());
}

async fn duplicates_and_dangling_references_are_refused(db: TestDb) {
    let store = db.store().await;
    store
        .insert_organization(&org("org-bold-bonus-12345678", "scale"), &common::audit())
        .await
        .unwrap();

    let dup = store
        .insert_organization(&org("org-bold-bonus-12345678", "free"), &common::audit())
        .await;
    assert!(
        matches!(dup, Err(StoreError::UniqueViolation { .. })),
        "got {dup:?}"
    );

    let orphan = store
        .insert_project(
            &project(
                "orange-credit-12345678",
                "org-missing-00000000",
                "ep-b-2.example",
            ),
            &common::audit(),
        )
        .await;
    assert!(
        matches!(orphan, Err(StoreError::ForeignKeyViolation { .. })),
        "got {orphan:?}"
    );

    // The plan is constrained in the schema too, as a last line of defence.
    let bad_plan = store
        .insert_organization(&org("org-odd-plan-11111111", "platinum"), &common::audit())
        .await;
    assert!(
        matches!(bad_plan, Err(StoreError::Database(_))),
        "got {bad_plan:?}"
    );

    // Nothing of the refused writes was kept.
    let status = store.system_status().await.unwrap();
    assert_eq!((status.organizations, status.projects), (1, 0));
}

on_both_backends!(
    migrations_are_idempotent,
    status_counts_what_is_stored,
    duplicates_and_dangling_references_are_refused,
);

#[tokio::test]
async fn sqlite_file_and_directory_are_created_on_first_start() {
    let dir = std::env::temp_dir().join(format!("enclave-dir-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/nested/enclave.db", dir.display());
    let store = enclave::store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert!(dir.join("nested/enclave.db").exists());
    store.close().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn unknown_database_schemes_get_a_clear_error() {
    let err = enclave::store::Store::connect("mysql://localhost/x")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the database URL must start with sqlite:// or postgres://"
    );
}
