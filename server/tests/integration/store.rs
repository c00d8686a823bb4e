//! The store against both databases: migrations, counts, and constraint errors.

use crate::common;

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
        host_label: hostname.split('.').next().unwrap(),
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

/// Every audited change is an event on the feed, versioned in commit order; readers ask for
/// everything after a version, and a project's network version follows its changes only.
async fn every_change_is_a_versioned_event(db: TestDb) {
    let store = db.store().await;
    assert_eq!(store.feed_head().await.unwrap(), 0);
    let wakes = store.wakes();
    let mut audit = common::audit();
    audit.org_id = Some("org-bold-bonus-12345678".into());
    store
        .insert_organization(&org("org-bold-bonus-12345678", "scale"), &audit)
        .await
        .unwrap();
    assert!(wakes.has_changed().unwrap(), "a commit wakes the readers");
    audit.project_id = Some("orange-credit-12345678".into());
    audit.action = "project.create";
    store
        .insert_project(
            &project(
                "orange-credit-12345678",
                "org-bold-bonus-12345678",
                "ep-a-1.example",
            ),
            &audit,
        )
        .await
        .unwrap();
    audit.action = "project.settings";
    store.insert_audit(&audit).await.unwrap();
    // A refused write adds no event.
    let _ = store
        .insert_organization(&org("org-bold-bonus-12345678", "free"), &audit)
        .await
        .unwrap_err();
    assert_eq!(store.feed_head().await.unwrap(), 3);
    let events = store.events_after(0, 10).await.unwrap();
    let versions: Vec<i64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(
        events[1].project_id.as_deref(),
        Some("orange-credit-12345678")
    );
    assert_eq!(store.events_after(2, 10).await.unwrap().len(), 1);
    assert_eq!(
        store
            .project_network_version("orange-credit-12345678")
            .await
            .unwrap(),
        3
    );
    // The label clients name is unique across regions and looked up by equality.
    let found = store.project_by_host_label("ep-a-1").await.unwrap();
    assert_eq!(found.unwrap().id, "orange-credit-12345678");
    assert!(store.project_by_host_label("ep-a").await.unwrap().is_none());
    let clash = store
        .insert_project(
            &project(
                "orange-debit-12345678",
                "org-bold-bonus-12345678",
                "ep-a-1.other-region.example",
            ),
            &common::audit(),
        )
        .await;
    assert!(
        matches!(clash, Err(StoreError::UniqueViolation { .. })),
        "got {clash:?}"
    );
    // Pruning keeps the newest events.
    assert_eq!(store.prune_feed(i64::MAX, 1).await.unwrap(), 2);
    assert_eq!(store.feed_oldest().await.unwrap(), Some(3));
}

/// Connection requests nobody assigned are kept for operators, at most
/// `UNASSIGNED_REQUESTS_CAP` in all (the least recently seen go), and a region's requests
/// that are no longer pending are forgotten.
async fn unassigned_requests_are_bounded(db: TestDb) {
    use enclave::store::{ConnectionRequestRow, UNASSIGNED_REQUESTS_CAP};
    let store = db.store().await;
    let request = |i: usize| ConnectionRequestRow {
        vpc_endpoint_id: format!("vpce-{i:017x}"),
        region_id: "aws-us-east-1".into(),
        service_id: "vpce-svc-0de57c578b0e614a9".into(),
        owner_account: "444455556666".into(),
        state: "pendingAcceptance".into(),
        first_seen: 0,
        last_seen: 0,
    };
    let many: Vec<_> = (0..UNASSIGNED_REQUESTS_CAP + 100).map(request).collect();
    store
        .record_unassigned_requests("aws-us-east-1", &many, 1_000)
        .await
        .unwrap();
    let kept = store.unassigned_requests(10_000).await.unwrap();
    assert_eq!(kept.len(), UNASSIGNED_REQUESTS_CAP);
    // Another region's survey adds its own; a later survey of the first forgets what is gone.
    store
        .record_unassigned_requests(
            "aws-us-east-2",
            &[ConnectionRequestRow {
                region_id: "aws-us-east-2".into(),
                ..request(100_000)
            }],
            2_000,
        )
        .await
        .unwrap();
    store
        .record_unassigned_requests("aws-us-east-1", &many[..3], 3_000)
        .await
        .unwrap();
    let kept = store.unassigned_requests(10_000).await.unwrap();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert!(kept.iter().any(|r| r.region_id == "aws-us-east-2"));
}

async fn a_lease_has_one_holder_until_it_lapses(db: TestDb) {
    let store = db.store().await;
    // Racing for a free lease: exactly one of many wins.
    let mut racers = tokio::task::JoinSet::new();
    for n in 0..16 {
        let store = store.clone();
        racers.spawn(async move {
            store
                .try_lease("work", &format!("instance-{n}"), 1_000, 5_000)
                .await
                .unwrap()
        });
    }
    let winners = racers.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(winners, 1);
    let holder = store.lease("work").await.unwrap().unwrap().holder;
    // The holder renews; nobody else gets it before it lapses…
    assert!(store
        .try_lease("work", &holder, 4_000, 5_000)
        .await
        .unwrap());
    assert!(!store.try_lease("work", "late", 8_999, 5_000).await.unwrap());
    // …and once it has, the next one takes it.
    assert!(store.try_lease("work", "late", 9_000, 5_000).await.unwrap());
    assert!(!store
        .try_lease("work", &holder, 9_001, 5_000)
        .await
        .unwrap());
    // Released by its holder only.
    store.release_lease("work", &holder).await.unwrap();
    assert_eq!(store.lease("work").await.unwrap().unwrap().holder, "late");
    store.release_lease("work", "late").await.unwrap();
    assert!(store.lease("work").await.unwrap().is_none());
}

on_both_backends!(
    a_lease_has_one_holder_until_it_lapses,
    unassigned_requests_are_bounded,
    every_change_is_a_versioned_event,
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
