//! Test harness: a fresh database per test (a temporary SQLite file always; a fresh
//! PostgreSQL database when `TEST_DATABASE_URL` is set) and the real server bound to
//! `127.0.0.1:0`.
#![allow(dead_code)]

use std::path::PathBuf;

use clap::Parser;
use enclave::{
    config::ServeConfig,
    services::{Clock, Services},
    startup::Application,
    store::{AuditActor, AuditEntry, Store},
};
use sqlx::{Connection, PgConnection};

pub mod fixtures;
pub use fixtures::{given, given_on, PASSWORD};

/// One test's private database, removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("enclave-test-{}.db", uuid::Uuid::new_v4()));
        Self {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A brand-new database on the server named by `TEST_DATABASE_URL`, or `None` when it is
    /// not set (PostgreSQL tests are then skipped, loudly).
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
        let name = format!("enclave_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("could not create a test database");
        let _ = admin.close().await;
        Some(Self {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        })
    }

    pub async fn store(&self) -> Store {
        enclave::startup::open_and_migrate(&self.url)
            .await
            .expect("open and migrate the test database")
    }
}

/// `postgres://u@h:p/old?x` with the database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                // Drop runs inside the test's runtime, so clean up from a thread of our own.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("cleanup runtime");
                    rt.block_on(async move {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub services: Services,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(db, &[], Clock::system()).await
}

/// A server with extra `enclave serve` flags and a chosen clock.
pub async fn spawn_app_with(db: &TestDb, extra: &[&str], clock: Clock) -> TestApp {
    spawn_app_configured(db, serve_config(db, extra), clock).await
}

/// A server with a configuration the test made (e.g. from [`serve_config`], then changed).
pub async fn spawn_app_configured(db: &TestDb, config: ServeConfig, clock: Clock) -> TestApp {
    let store = db.store().await;
    let app = Application::build_with_clock(&config, store.clone(), clock)
        .await
        .expect("build app");
    let services = app.services().clone();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        store,
        services,
    }
}

/// Tests that load the machine (floods) run alone: every other test holds this lock shared
/// for its duration, so the time-bound checks of the others stay honest — all of them share
/// one test binary.
pub static HEAVY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// No test may run longer than this: a test that hangs fails, naming itself, instead of
/// holding the whole run.
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs a test body under the shared (or, for floods, exclusive) lock and the time limit.
pub async fn bounded<F: std::future::Future<Output = ()>>(alone: bool, name: &str, test: F) {
    let _lock = if alone {
        Err(HEAVY.write().await)
    } else {
        Ok(HEAVY.read().await)
    };
    if tokio::time::timeout(TEST_LIMIT, test).await.is_err() {
        panic!("{name} did not finish within {} s", TEST_LIMIT.as_secs());
    }
}

/// Declares each scenario twice, as `<name>::sqlite` and `<name>::postgres` (the latter only
/// runs when `TEST_DATABASE_URL` is set). A scenario is an `async fn(TestDb)`; `alone:` before
/// the names runs them with nothing else running.
macro_rules! on_both_backends {
    (alone: $($name:ident),* $(,)?) => {
        $crate::common::on_both_backends!(@with true; $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::common::on_both_backends!(@with false; $($name),*);
    };
    (@with $alone:expr; $($name:ident),*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::common::bounded($alone, concat!(stringify!($name), "::sqlite"), async {
                        super::$name($crate::common::TestDb::sqlite().await).await
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::common::bounded($alone, concat!(stringify!($name), "::postgres"), async {
                        match $crate::common::TestDb::postgres().await {
                            Some(db) => super::$name(db).await,
                            None => eprintln!("skipped: set TEST_DATABASE_URL to run PostgreSQL tests"),
                        }
                    })
                    .await;
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "z"), "postgres://h/z");
}

/// `enclave serve` configuration for a test: defaults (as the binary parses them) plus
/// `extra` flags, on the test's database and a free port.
pub fn serve_config(db: &TestDb, extra: &[&str]) -> ServeConfig {
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        serve: ServeConfig,
    }
    let mut args = vec![
        "enclave",
        "--database-url",
        db.url.as_str(),
        "--addr",
        "127.0.0.1:0",
        "--site-root",
        "target/site",
    ];
    // Dozens of servers share the test machine's two cores; a runtime stalled by that load
    // must not turn into the request timeout's 503 in tests that are not about it.
    if !extra.contains(&"--request-timeout-ms") {
        args.extend_from_slice(&["--request-timeout-ms", "120000"]);
    }
    args.extend_from_slice(extra);
    Wrapper::try_parse_from(args)
        .expect("test serve flags")
        .serve
}

/// An audit entry for rows tests write straight into the store.
pub fn audit() -> AuditEntry {
    AuditEntry {
        org_id: None,
        project_id: None,
        actor: AuditActor {
            kind: "system",
            id: "test".into(),
            name: "test harness".into(),
        },
        action: "test.insert",
        target: "test".into(),
        before: None,
        after: None,
        request_id: None,
        at_ms: 0,
    }
}

/// `enclave serve`, the binary, as a child process on the test's database (for crashes and
/// upgrades: things an in-process server cannot show). Killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `enclave serve` with `extra` flags on a free loopback port and waits until it
    /// is ready (`/readyz`), at most 30 s.
    pub async fn start(db: &TestDb, extra: &[&str]) -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_enclave"))
            .arg("serve")
            .args(["--addr", &addr, "--site-root", "target/site"])
            .args(extra)
            .env("DATABASE_URL", &db.url)
            .env("ENCLAVE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("run enclave serve");
        let mut server = Self {
            child,
            base: format!("http://{addr}"),
        };
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        loop {
            if let Ok(answer) = client.get(format!("{}/readyz", server.base)).send().await {
                if answer.status().is_success() {
                    return server;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("enclave serve exited before it was ready: {status}");
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "enclave serve was not ready within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no checkpoint, no flush — a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestDb {
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// A one-number query straight on the database (`$n` bound to `args`), for checks the
    /// product has no call for, such as comparing a table with its audit rows.
    pub async fn count(&self, sql: &str, args: &[&str]) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        if self.is_postgres() {
            let mut conn = PgConnection::connect(&self.url).await.unwrap();
            let mut query = sqlx::query_scalar(sql);
            for arg in args {
                query = query.bind(*arg);
            }
            query.fetch_one(&mut conn).await.unwrap()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            let mut query = sqlx::query_scalar(sql);
            for arg in args {
                query = query.bind(*arg);
            }
            query.fetch_one(&mut conn).await.unwrap()
        }
    }

    /// Runs SQL statements (separated by `;`) straight on the database.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        if self.is_postgres() {
            let mut conn = PgConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
    }
}
