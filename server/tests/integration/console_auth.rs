//! Console sign-in over real HTTP on both databases: cookie flags, CSRF refusal, session
//! rotation and expiry (with a hand-moved clock), rate limiting, sign-out.

use crate::common;

use common::{spawn_app_with, TestApp, TestDb};
use enclave::services::{Caller, Clock};
use reqwest::{header, StatusCode};
use serde_json::Value;

use common::PASSWORD;
const START_MS: i64 = 1_800_000_000_000;

async fn app_with_user(db: &TestDb, flags: &[&str]) -> (TestApp, Clock) {
    let clock = Clock::manual(START_MS);
    let app = spawn_app_with(db, flags, clock.clone()).await;
    let given = common::given(&app);
    given.person("ada@acme.test").await;
    given.person("bob@acme.test").await;
    (app, clock)
}

/// `name=value` of a Set-Cookie header, and the whole header.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v.split(';').next().unwrap()[name.len() + 1..].to_string();
            (value, v.to_string())
        })
}

/// Who reads a page: the person, or the page's live island after a change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Person,
    LiveUpdate,
}

/// A browser's worth of state: the CSRF cookie from a first page view, and the session.
struct Browser<'a> {
    app: &'a TestApp,
    csrf: String,
    session: Option<String>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy in front would.
    forwarded_for: Option<String>,
}

impl<'a> Browser<'a> {
    async fn open(app: &'a TestApp) -> Browser<'a> {
        let res = app.client.get(app.url("/sign-in")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let (csrf, header) = set_cookie(&res, "enclave_csrf").expect("csrf cookie on first visit");
        assert!(
            header.contains("HttpOnly") && header.contains("SameSite=Strict"),
            "{header}"
        );
        // The page's form carries the same token.
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("value=\"{csrf}\"")),
            "form lacks the token"
        );
        Browser {
            app,
            csrf,
            session: None,
            forwarded_for: None,
        }
    }

    /// The token this browser's pages carry: the session's own once signed in.
    fn token(&self) -> String {
        match &self.session {
            Some(session) => enclave::http::console::csrf::session_bound_token(session),
            None => self.csrf.clone(),
        }
    }

    fn cookies(&self) -> String {
        let mut c = format!("enclave_csrf={}", self.csrf);
        if let Some(s) = &self.session {
            c.push_str(&format!("; enclave_session={s}"));
        }
        c
    }

    /// A form posted as a browser posts it (asking for a page).
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = match &self.forwarded_for {
            Some(address) => self
                .app
                .client
                .post(self.app.url(path))
                .header("x-forwarded-for", address),
            None => self.app.client.post(self.app.url(path)),
        };
        request
            .header(header::COOKIE, self.cookies())
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.token();
        let res = self
            .post(
                "/fn/sign_in",
                &[
                    ("email", email),
                    ("password", password),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        if let Some((value, _)) = set_cookie(&res, "enclave_session") {
            self.session = Some(value);
        }
        res
    }

    /// A console page's HTML (answered 200), read by the person or by the page's live island.
    async fn page(&self, path: &str, reader: Reader) -> String {
        let mut request = self
            .app
            .client
            .get(self.app.url(path))
            .header(header::COOKIE, self.cookies())
            .header(header::ACCEPT, "text/html");
        if reader == Reader::LiveUpdate {
            request = request.header(app::session::LIVE_REFRESH_HEADER, "1");
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    async fn signed_in_as(&self) -> Option<String> {
        let res = self
            .app
            .client
            .get(self.app.url("/fn/session"))
            .header(header::COOKIE, self.cookies())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["user"]["email"].as_str().map(str::to_owned)
    }
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()[header::LOCATION].to_str().unwrap()
}

async fn signing_in_sets_a_safe_session_cookie(db: TestDb) {
    let (app, _) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    let res = browser.sign_in("Ada@acme.test", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/");
    let (_, cookie) = set_cookie(&res, "enclave_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some("ada@acme.test")
    );
}

async fn over_https_cookies_are_host_bound_and_hsts_is_sent(db: TestDb) {
    let (app, _) = app_with_user(&db, &[]).await;
    let https = |request: reqwest::RequestBuilder| request.header("x-forwarded-proto", "https");
    let page = https(app.client.get(app.url("/sign-in")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
    let (csrf, cookie) = set_cookie(&page, "__Host-enclave_csrf").expect("a __Host- CSRF cookie");
    for attribute in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let sign_in = |cookies: String| {
        https(app.client.post(app.url("/fn/sign_in")))
            .header(header::COOKIE, cookies)
            .header(header::ACCEPT, "text/html")
            .form(&[
                ("email", "ada@acme.test"),
                ("password", PASSWORD),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
    };
    // A cookie without the prefix (which anyone on a sibling host could have planted) does
    // not count over HTTPS.
    let planted = sign_in(format!("enclave_csrf={csrf}")).await.unwrap();
    assert_eq!(planted.status(), StatusCode::FORBIDDEN);
    let res = sign_in(format!("__Host-enclave_csrf={csrf}"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{:?}", res.headers());
    let (session, cookie) =
        set_cookie(&res, "__Host-enclave_session").expect("a __Host- session cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let who = |cookie: String| {
        https(app.client.get(app.url("/fn/session")))
            .header(header::COOKIE, cookie)
            .send()
    };
    let answer = who(format!("__Host-enclave_session={session}"))
        .await
        .unwrap();
    assert_eq!(answer.headers()[header::CACHE_CONTROL], "no-store");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@acme.test");
    let body: Value = who(format!("enclave_session={session}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["user"].is_null(),
        "an unprefixed session cookie was honoured over HTTPS"
    );
    // Plain HTTP gets neither the prefix nor HSTS.
    let plain = app.client.get(app.url("/sign-in")).send().await.unwrap();
    assert!(plain
        .headers()
        .get(header::STRICT_TRANSPORT_SECURITY)
        .is_none());
    assert!(
        set_cookie(&plain, "enclave_csrf").is_some(),
        "{} {:?}",
        plain.status(),
        plain.headers()
    );
}

async fn the_csrf_token_is_bound_to_the_session(db: TestDb) {
    let (app, _) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    browser.sign_in("ada@acme.test", PASSWORD).await;
    assert!(browser.session.is_some());
    // The cookie's token (which someone able to plant cookies could choose) no longer
    // works once signed in…
    let cookie_token = browser.csrf.clone();
    let refused = browser
        .post("/fn/sign_out", &[("csrf_token", &cookie_token)])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some("ada@acme.test")
    );
    // …the pages carry the session's own token, and that one does.
    let page_token = app
        .client
        .get(app.url("/fn/session"))
        .header(header::COOKIE, browser.cookies())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(page_token, cookie_token);
    assert_eq!(page_token, browser.token());
    let out = browser
        .post("/fn/sign_out", &[("csrf_token", &page_token)])
        .await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(browser.signed_in_as().await, None);
}

async fn state_changing_requests_without_the_token_are_refused(db: TestDb) {
    let (app, _) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    let form = [("email", "ada@acme.test"), ("password", PASSWORD)];
    // No token, a wrong token, and no CSRF cookie at all: refused, no session.
    let missing = browser.post("/fn/sign_in", &form).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("nothing was changed"));
    let wrong = browser
        .post(
            "/fn/sign_in",
            &[form[0], form[1], ("csrf_token", "0".repeat(64).as_str())],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&wrong, "enclave_session").is_none());
    let no_cookie = app
        .client
        .post(app.url("/fn/sign_in"))
        .form(&[form[0], form[1], ("csrf_token", browser.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);

    // Signed in, a forged sign-out is refused and the session survives.
    browser.sign_in("ada@acme.test", PASSWORD).await;
    let forged = browser.post("/fn/sign_out", &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some("ada@acme.test")
    );
    // Server functions are covered too: a POST without the header or field is refused.
    let fn_post = app
        .client
        .post(app.url("/fn/session"))
        .header(header::COOKIE, browser.cookies())
        .send()
        .await
        .unwrap();
    assert_eq!(fn_post.status(), StatusCode::FORBIDDEN);

    // With the token, sign-out ends the session and clears the cookie.
    let csrf = browser.token();
    let out = browser.post("/fn/sign_out", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), "/sign-in?signed_out=1");
    assert!(set_cookie(&out, "enclave_session")
        .unwrap()
        .1
        .contains("Max-Age=0"));
    assert_eq!(browser.signed_in_as().await, None);
}

async fn wrong_passwords_and_unknown_accounts_look_the_same(db: TestDb) {
    let (app, _) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    let wrong = browser.sign_in("ada@acme.test", "not the password").await;
    let unknown = browser.sign_in("nobody@acme.test", PASSWORD).await;
    assert_eq!(location(&wrong), "/sign-in?error=invalid_credentials");
    assert_eq!(location(&unknown), location(&wrong));
    assert!(browser.session.is_none());
    let page = app
        .client
        .get(app.url("/sign-in?error=invalid_credentials"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The email or password is incorrect."));

    // Called as data (as a script would), the refusal is typed and has the REST status, and
    // an empty field is named.
    let call = |form: Vec<(&'static str, String)>| {
        app.client
            .post(app.url("/fn/sign_in"))
            .header(header::COOKIE, browser.cookies())
            .header(header::ACCEPT, "application/json")
            .form(&form)
            .send()
    };
    let csrf = browser.csrf.clone();
    let refused = call(vec![
        ("email", "ada@acme.test".into()),
        ("password", "not the password".into()),
        ("csrf_token", csrf.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&refused, "enclave_session").is_none());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials", "{body}");
    let empty = call(vec![
        ("email", "ada@acme.test".into()),
        ("csrf_token", csrf.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let body: Value = empty.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("password"),
        "{body}"
    );
    let signed_in = call(vec![
        ("email", "ada@acme.test".into()),
        ("password", PASSWORD.into()),
        ("csrf_token", csrf),
    ])
    .await
    .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert!(set_cookie(&signed_in, "enclave_session").is_some());
}

async fn failed_sign_ins_are_rate_limited(db: TestDb) {
    let (app, clock) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    for _ in 0..5 {
        let res = browser.sign_in("ada@acme.test", "guess").await;
        assert_eq!(location(&res), "/sign-in?error=invalid_credentials");
    }
    // Locked, even with the right password, and the answer says to wait.
    let locked = browser.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&locked), "/sign-in?error=too_many_attempts");
    assert!(browser.session.is_none());
    // Another account from the same client is not locked by Ada's failures…
    let bob = browser.sign_in("bob@acme.test", PASSWORD).await;
    assert_eq!(location(&bob), "/");
    // …and after the window the account works again.
    clock.advance(15 * 60_000);
    let again = browser.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&again), "/");

    // Per client: 20 failures across accounts lock this client out.
    let mut other = Browser::open(&app).await;
    for i in 0..20 {
        other.sign_in(&format!("user{i}@acme.test"), "guess").await;
    }
    let blocked = other.sign_in("bob@acme.test", PASSWORD).await;
    assert_eq!(location(&blocked), "/sign-in?error=too_many_attempts");
}

async fn sessions_rotate_and_expire(db: TestDb) {
    let (app, clock) = app_with_user(
        &db,
        &["--session-idle-minutes", "10", "--session-max-hours", "1"],
    )
    .await;
    let mut browser = Browser::open(&app).await;
    browser.sign_in("ada@acme.test", PASSWORD).await;
    let first = browser.session.clone().unwrap();
    // Signing in again rotates the session: the old token is dead.
    browser.sign_in("ada@acme.test", PASSWORD).await;
    let second = browser.session.clone().unwrap();
    assert_ne!(first, second);
    let old = Browser {
        app: &app,
        csrf: browser.csrf.clone(),
        session: Some(first),
        forwarded_for: None,
    };
    assert_eq!(old.signed_in_as().await, None);

    // Activity keeps the session alive past the idle limit…
    for _ in 0..5 {
        clock.advance(9 * 60_000);
        assert_eq!(
            browser.signed_in_as().await.as_deref(),
            Some("ada@acme.test")
        );
    }
    // …but not past the absolute limit (one hour after sign-in).
    clock.advance(16 * 60_000);
    assert_eq!(browser.signed_in_as().await, None);

    // Idle expiry.
    browser.sign_in("ada@acme.test", PASSWORD).await;
    clock.advance(10 * 60_000);
    assert_eq!(browser.signed_in_as().await, None);
}

async fn parallel_guesses_cannot_race_the_attempt_limit(db: TestDb) {
    use app::domain::ErrorCode;
    let (app, _clock) = app_with_user(&db, &[]).await;
    let before = app.services.password_verifications();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..50 {
        let services = app.services.clone();
        guesses.spawn(async move {
            services
                .sign_in("ada@acme.test", &format!("guess {i}"), "198.51.100.7", None)
                .await
                .map(|_| ())
                .unwrap_err()
                .code
        });
    }
    let codes = guesses.join_all().await;
    let verified = app.services.password_verifications() - before;
    let wrong = codes
        .iter()
        .filter(|c| **c == ErrorCode::InvalidCredentials)
        .count();
    let refused = codes
        .iter()
        .filter(|c| **c == ErrorCode::TooManyAttempts)
        .count();
    assert_eq!(
        (verified, wrong, refused),
        (5, 5, 45),
        "50 parallel guesses: verifications, wrong-password answers, refusals"
    );
    // The stranger locked out only themselves: Ada, from her own address, signs in.
    let stranger = app
        .services
        .sign_in("ada@acme.test", PASSWORD, "198.51.100.7", None)
        .await;
    assert_eq!(
        stranger.err().map(|e| e.code),
        Some(ErrorCode::TooManyAttempts)
    );
    app.services
        .sign_in("ada@acme.test", PASSWORD, "192.0.2.10", None)
        .await
        .expect("the account's owner is not kept out by a stranger's guesses");
}

async fn overlong_credentials_are_refused_before_any_hashing(db: TestDb) {
    let (app, _clock) = app_with_user(&db, &[]).await;
    let before = app.services.password_verifications();
    let long_email = format!("{}@acme.test", "a".repeat(250));
    let err = app
        .services
        .sign_in(&long_email, PASSWORD, "192.0.2.1", None)
        .await
        .err()
        .unwrap();
    assert_eq!(err.message, "Invalid email: use at most 254 characters.");
    let err = app
        .services
        .sign_in("ada@acme.test", &"p".repeat(1025), "192.0.2.1", None)
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.message,
        "Invalid password: use at most 1024 characters."
    );
    assert_eq!(app.services.password_verifications(), before);
    // Over HTTP the browser is sent back with the error named.
    let mut browser = Browser::open(&app).await;
    let res = browser.sign_in("ada@acme.test", &"p".repeat(1025)).await;
    assert_eq!(location(&res), "/sign-in?error=too_long");
    let page = app
        .client
        .get(app.url("/sign-in?error=too_long"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("a password at most 1024"), "{page}");
}

async fn old_failures_and_ended_sessions_are_pruned(db: TestDb) {
    let (app, clock) = app_with_user(&db, &["--session-idle-minutes", "30"]).await;
    let mut browser = Browser::open(&app).await;
    browser.sign_in("ada@acme.test", PASSWORD).await;
    assert!(browser.session.is_some());
    for _ in 0..3 {
        browser.sign_in("bob@acme.test", "guess").await;
    }
    let sessions = || db.count("SELECT COUNT(*) FROM sessions", &[]);
    assert_eq!(app.store.sign_in_failure_rows().await.unwrap(), 3);
    assert_eq!(sessions().await, 1);
    // Past the counting window the failures go; the session, idle for 16 minutes, stays.
    clock.advance(16 * 60_000);
    app.services.prune_sign_ins().await.unwrap();
    assert_eq!(app.store.sign_in_failure_rows().await.unwrap(), 0);
    assert_eq!(sessions().await, 1);
    // Idle past the limit, it goes too, without anyone presenting it.
    clock.advance(15 * 60_000);
    app.services.prune_sign_ins().await.unwrap();
    assert_eq!(sessions().await, 0);
}

async fn the_client_address_comes_from_a_proxy_header_only_when_configured(db: TestDb) {
    // Not configured: the header is the client's to choose, so it is ignored — changing it
    // does not escape the lock.
    let (app, _clock) = app_with_user(&db, &[]).await;
    let mut browser = Browser::open(&app).await;
    browser.forwarded_for = Some("198.51.100.1".into());
    for _ in 0..5 {
        browser.sign_in("ada@acme.test", "guess").await;
    }
    browser.forwarded_for = Some("198.51.100.2".into());
    let still = browser.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&still), "/sign-in?error=too_many_attempts");

    // Configured: the proxy's header names the client (its last entry, the one the proxy
    // added), so one client's failures do not lock out another behind the same proxy.
    let other_db = if db.is_postgres() {
        TestDb::postgres().await.unwrap()
    } else {
        TestDb::sqlite().await
    };
    let (app, _clock) =
        app_with_user(&other_db, &["--client-address-header", "X-Forwarded-For"]).await;
    let mut stranger = Browser::open(&app).await;
    stranger.forwarded_for = Some("203.0.113.5, 198.51.100.1".into());
    for _ in 0..5 {
        stranger.sign_in("ada@acme.test", "guess").await;
    }
    let locked = stranger.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&locked), "/sign-in?error=too_many_attempts");
    // Spoofing the first entry does not help the stranger…
    stranger.forwarded_for = Some("192.0.2.77, 198.51.100.1".into());
    let spoofed = stranger.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&spoofed), "/sign-in?error=too_many_attempts");
    // …and Ada, behind the same proxy from her own address, is not locked out.
    let mut ada = Browser::open(&app).await;
    ada.forwarded_for = Some("198.51.100.2".into());
    let res = ada.sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(location(&res), "/");
}

/// An organization Ada and Bob are members of, for pages that follow it live.
async fn shared_org(app: &TestApp) -> app::domain::OrgId {
    use app::domain::{Plan, Role};
    let org_id = common::given(app).org("Acme", Plan::Scale).await;
    for email in ["ada@acme.test", "bob@acme.test"] {
        app.services
            .add_member(&Caller::operator_cli(), &org_id, email, Role::Member)
            .await
            .unwrap();
    }
    org_id
}

async fn follow(app: &TestApp, session: &str, org: &app::domain::OrgId) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/events/orgs/{org}")))
        .header(header::COOKIE, format!("enclave_session={session}"))
        .send()
        .await
        .unwrap()
}

/// Waits (up to 10 s) for the next `change` event on a live stream.
async fn next_change(res: &mut reqwest::Response, buffer: &mut String) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.contains("event: change") {
                return;
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// A live page looks again at every change, but those looks are not activity: with the
/// idle limit at 10 minutes, a session whose page stayed open (saw a change at minute 9 and
/// read itself again, as the page's live island does) has still ended at minute 11.
async fn an_open_live_page_does_not_keep_a_session_alive(db: TestDb) {
    let (app, clock) = app_with_user(&db, &["--session-idle-minutes", "10"]).await;
    let org = shared_org(&app).await;
    let mut browser = Browser::open(&app).await;
    browser.sign_in("ada@acme.test", PASSWORD).await;
    let session = browser.session.clone().unwrap();
    let mut stream = follow(&app, &session, &org).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buffer = String::new();
    next_change(&mut stream, &mut buffer).await;

    clock.advance(9 * 60_000);
    app.services
        .create_project(
            &Caller::operator_cli(),
            &org,
            "orders",
            &app::domain::RegionId::parse("aws-us-east-2").unwrap(),
        )
        .await
        .unwrap();
    // The stream looked (as the session) and saw the new project, and the page read itself
    // again, as its live island does…
    next_change(&mut stream, &mut buffer).await;
    let refreshed = browser
        .page(&format!("/orgs/{org}"), Reader::LiveUpdate)
        .await;
    assert!(refreshed.contains("orders"));
    // …without keeping the session: at minute 11 it has been idle for 11 minutes.
    clock.advance(2 * 60_000);
    assert!(app.services.session_caller(&session).await.is_err());
    assert_eq!(browser.signed_in_as().await, None);
}

/// The same page read by the person (no live-refresh header) is activity: with the idle limit
/// at 10 minutes, a session that read the organization page at minute 9 is alive at minute 11.
async fn reading_a_page_keeps_a_session_alive(db: TestDb) {
    let (app, clock) = app_with_user(&db, &["--session-idle-minutes", "10"]).await;
    let org = shared_org(&app).await;
    let mut browser = Browser::open(&app).await;
    browser.sign_in("ada@acme.test", PASSWORD).await;
    clock.advance(9 * 60_000);
    let page = browser.page(&format!("/orgs/{org}"), Reader::Person).await;
    assert!(page.contains("Acme"));
    clock.advance(2 * 60_000);
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some("ada@acme.test")
    );
}

/// Live streams are capped per session (8) and per person (16): beyond, 429 with a message;
/// someone else is not affected.
async fn live_streams_are_capped_per_session_and_per_person(db: TestDb) {
    let (app, _clock) = app_with_user(&db, &[]).await;
    let org = shared_org(&app).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let mut browser = Browser::open(&app).await;
        browser.sign_in("ada@acme.test", PASSWORD).await;
        sessions.push(browser.session.clone().unwrap());
    }
    let mut open = Vec::new();
    for _ in 0..8 {
        let res = follow(&app, &sessions[0], &org).await;
        assert_eq!(res.status(), StatusCode::OK);
        open.push(res);
    }
    let refused = follow(&app, &sessions[0], &org).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Too many live pages are open in this browser session"));
    // A second session of the same person fills the person's 16…
    for _ in 0..8 {
        let res = follow(&app, &sessions[1], &org).await;
        assert_eq!(res.status(), StatusCode::OK);
        open.push(res);
    }
    // …so a third is refused at once.
    let refused = follow(&app, &sessions[2], &org).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("for your account"));
    // Bob is someone else.
    let mut bob = Browser::open(&app).await;
    bob.sign_in("bob@acme.test", PASSWORD).await;
    let res = follow(&app, bob.session.as_deref().unwrap(), &org).await;
    assert_eq!(res.status(), StatusCode::OK);
}

on_both_backends!(
    an_open_live_page_does_not_keep_a_session_alive,
    reading_a_page_keeps_a_session_alive,
    live_streams_are_capped_per_session_and_per_person,
    signing_in_sets_a_safe_session_cookie,
    state_changing_requests_without_the_token_are_refused,
    wrong_passwords_and_unknown_accounts_look_the_same,
    failed_sign_ins_are_rate_limited,
    sessions_rotate_and_expire,
    parallel_guesses_cannot_race_the_attempt_limit,
    overlong_credentials_are_refused_before_any_hashing,
    old_failures_and_ended_sessions_are_pruned,
    the_client_address_comes_from_a_proxy_header_only_when_configured,
    over_https_cookies_are_host_bound_and_hsts_is_sent,
    the_csrf_token_is_bound_to_the_session,
);
