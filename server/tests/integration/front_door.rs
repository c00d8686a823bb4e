//! The HTTP server as a stranger meets it: headers trickled slowly, too many connections,
//! oversized bodies, a handler stuck on the database. Real sockets, both databases.

use crate::common;

use std::time::Duration;

use app::domain::Plan;
use common::{given, spawn_app_with, TestDb};
use enclave::services::Clock;
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; `None` if it is still open after `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(bound, read_all).await.ok()?;
    Some(seen)
}

/// Sends `bytes` on a new connection and reads what comes back until the server closes it
/// (at most 20 s; `waiting` says what a server still holding the connection is doing wrong).
async fn answer_to(base: &str, bytes: &[u8], waiting: &str) -> String {
    let mut stream = TcpStream::connect(addr(base)).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let answer = closed_within(&mut stream, Duration::from_secs(20))
        .await
        .expect(waiting);
    String::from_utf8_lossy(&answer).into_owned()
}

async fn headers_trickled_too_slowly_close_the_connection(db: TestDb) {
    let app = spawn_app_with(&db, &["--header-read-timeout-ms", "300"], Clock::system()).await;
    let mut slow = TcpStream::connect(addr(&app.base)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The rest of the headers never come: the server gives up on them.
    let answer = closed_within(&mut slow, Duration::from_secs(20))
        .await
        .expect("a connection trickling its headers was held open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // A client that sends its headers in time is served.
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

async fn connections_beyond_the_cap_wait_for_a_free_one(db: TestDb) {
    let app = spawn_app_with(&db, &["--max-connections", "3"], Clock::system()).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr(&app.base)).await.unwrap();
        // A complete request keeps each connection busy and known to the server.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        held.push(stream);
    }
    // A fourth client is not served while three connections are open…
    let client = reqwest::Client::new();
    let fourth = tokio::spawn({
        let url = app.url("/healthz");
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !fourth.is_finished(),
        "a connection past the cap was served"
    );
    // …and is, as soon as one closes.
    held.pop();
    let status = tokio::time::timeout(Duration::from_secs(20), fourth)
        .await
        .expect("the waiting client was never served")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}

async fn oversized_bodies_are_refused_in_the_callers_shape(db: TestDb) {
    let app = spawn_app_with(&db, &[], Clock::system()).await;
    let g = given(&app);
    let org = g.org("Bodies", Plan::Scale).await;
    let key = g.org_key(&org, "big").await;
    let project = g.project(&org, "web", "aws-us-east-2").await.id;
    // Announced too large: refused before any of it is read, in the API's JSON shape.
    // (Only the head is sent: the answer must not wait for the body.)
    let head = format!(
        "PATCH /api/v2/projects/{project} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        600 * 1024
    );
    let answer = answer_to(
        &app.base,
        head.as_bytes(),
        "the server waited for a body it will refuse",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
    assert!(answer.contains("512 KiB"), "{answer}");
    // Streamed without a length: cut off while read, and answered the same way. (Sent by
    // hand so the client has sent everything when the answer comes: the body is exactly the
    // limit, then one byte more.)
    let mut request = format!(
        "PATCH /api/v2/projects/{project} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        512 * 1024
    )
    .into_bytes();
    request.extend(std::iter::repeat_n(b' ', 512 * 1024));
    request.extend_from_slice(b"\r\n1\r\n ");
    let answer = answer_to(
        &app.base,
        &request,
        "the server neither answered nor closed",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
    // A console form too: plain words.
    let head = format!(
        "POST /fn/sign_in HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        600 * 1024
    );
    let answer = answer_to(
        &app.base,
        head.as_bytes(),
        "the server waited for a body it will refuse",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 512 KiB"), "{answer}");
    // Nothing changed.
    assert_eq!(
        app.store.project(&project).await.unwrap().unwrap().name,
        "web"
    );
}

async fn a_request_stuck_on_the_database_is_answered_in_time(db: TestDb) {
    use sqlx::Connection;
    let app = spawn_app_with(&db, &["--request-timeout-ms", "500"], Clock::system()).await;
    let g = given(&app);
    let org = g.org("Stuck", Plan::Scale).await;
    let key = g.org_key(&org, "stuck").await;
    // Someone else holds the database's write lock (SQLite) or the table (PostgreSQL).
    let sqlite_lock;
    let pg_lock;
    if db.is_postgres() {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE vpc_endpoint_assignments IN ACCESS EXCLUSIVE MODE")
            .execute(&mut conn)
            .await
            .unwrap();
        pg_lock = Some(conn);
        sqlite_lock = None;
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlite_lock = Some(conn);
        pg_lock = None;
    }
    let answer = app
        .client
        .post(app.url(&format!(
            "/api/v2/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/vpce-0aaaabbbbccccdddd"
        )))
        .bearer_auth(&key)
        .json(&serde_json::json!({"label": "stuck"}))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("the server answered while the database was locked");
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "request_timeout", "{body}");
    drop(sqlite_lock);
    drop(pg_lock);
    // Once the lock is gone the same call goes through.
    let answer = app
        .client
        .post(app.url(&format!(
            "/api/v2/organizations/{org}/vpc/region/aws-us-east-2/vpc_endpoints/vpce-0aaaabbbbccccdddd"
        )))
        .bearer_auth(&key)
        .json(&serde_json::json!({"label": "stuck"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

on_both_backends!(
    headers_trickled_too_slowly_close_the_connection,
    connections_beyond_the_cap_wait_for_a_free_one,
    oversized_bodies_are_refused_in_the_callers_shape,
    a_request_stuck_on_the_database_is_answered_in_time,
);
