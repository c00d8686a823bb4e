//! Console sign-in: password check (argon2id, on blocking threads behind a semaphore), failed
//! attempts counted before the check per account-and-client and per client, server-side
//! sessions with idle and absolute expiry, rotation at sign-in, and their retention.

use app::domain::ErrorCode;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Principal, ServiceError, Services};
use crate::store::UserRow;

/// Failures are counted over this window…
pub const SIGN_IN_WINDOW_MS: i64 = 15 * 60_000;
/// …and refused beyond these counts: per account *from one client* (so a stranger guessing
/// an admin's password locks out only themselves), and per client across accounts.
pub const MAX_FAILURES_PER_ACCOUNT_AND_CLIENT: i64 = 5;
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// Longer values are refused before anything is hashed (RFC 5321 caps an address at 254).
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Session activity is written at most this often.
const TOUCH_RESOLUTION_MS: i64 = 60_000;
/// A sign-in waits at most this long for a free password checker before it is refused.
const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Password verification (argon2id: tens of milliseconds of CPU and 19 MiB each) runs on
/// blocking threads, never on the async workers, and at most one per core at a time, so a
/// flood of sign-ins queues here instead of stalling every other request.
#[derive(Debug)]
pub(crate) struct PasswordChecks {
    permits: tokio::sync::Semaphore,
    /// Verifications run since start (what the attempt limits bound).
    done: std::sync::atomic::AtomicU64,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            permits: tokio::sync::Semaphore::new(cores),
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl PasswordChecks {
    async fn verify(&self, stored_hash: String, password: String) -> Result<bool, ServiceError> {
        let _permit = tokio::time::timeout(PASSWORD_CHECK_WAIT, self.permits.acquire())
            .await
            .map_err(|_| {
                ServiceError::new(
                    ErrorCode::TooManyAttempts,
                    "The server is busy checking other sign-ins. Try again in a moment.",
                )
            })?
            .map_err(|e| ServiceError::internal("password checks stopped", e))?;
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored_hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .map_err(|e| ServiceError::internal("a password check failed", e))
    }
}

/// A hash to verify against when the account does not exist, so both cases take as long.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Yz5uJ6hJ2m0hSq0H4VJm8k7rJ0V9u6xQm6bq2m3Xy0A";

/// A new session: the token goes into the cookie and is never stored.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub token: String,
    pub user: UserRow,
    pub max_age_secs: i64,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn wrong_credentials() -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidCredentials,
        "The email or password is incorrect.",
    )
}

impl Services {
    /// Signs a person in. The answer never tells whether the email exists.
    ///
    /// Each attempt is counted *before* the password is checked, in one locked statement
    /// (`reserve_sign_in_attempt`), so parallel guesses cannot all slip under the limit: 50 at
    /// once against one account from one client make at most 5 verifications. A success
    /// takes its own count back and forgets the account's failures from that client.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        previous_token: Option<&str>,
    ) -> Result<SignedIn, ServiceError> {
        let email = email.trim().to_ascii_lowercase();
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!("Invalid email: use at most {MAX_EMAIL_CHARS} characters."),
            ));
        }
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(ServiceError::new(
                ErrorCode::InvalidInput,
                format!("Invalid password: use at most {MAX_PASSWORD_CHARS} characters."),
            ));
        }
        let client: String = client.chars().take(64).collect();
        let now = self.clock.now_ms();
        let Some(attempt) = self
            .store
            .reserve_sign_in_attempt(
                &email,
                &client,
                now,
                now - SIGN_IN_WINDOW_MS,
                MAX_FAILURES_PER_ACCOUNT_AND_CLIENT,
                MAX_FAILURES_PER_CLIENT,
            )
            .await?
        else {
            return Err(ServiceError::new(
                ErrorCode::TooManyAttempts,
                "Too many failed sign-in attempts. Wait 15 minutes, then try again.",
            ));
        };
        let found = self.store.user_with_password(&email).await?;
        let stored = found
            .as_ref()
            .and_then(|(_, hash)| hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let verified = self
            .password_checks
            .verify(stored, password.to_owned())
            .await?;
        let user = match found {
            Some((user, Some(_))) if verified => user,
            // The reserved attempt stays: it is the failure.
            _ => return Err(wrong_credentials()),
        };
        self.store
            .clear_sign_in_failures(&email, &client, attempt)
            .await?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let expires_at = now + self.config.session_absolute_ms;
        self.store
            .insert_session(
                &hash(&token),
                &user.id,
                now,
                expires_at,
                previous_token.map(hash).as_deref(),
            )
            .await?;
        tracing::info!(user = %user.id, "signed in");
        Ok(SignedIn {
            token,
            user,
            max_age_secs: self.config.session_absolute_ms / 1000,
        })
    }

    /// The person behind a session cookie, or `None` when the session is unknown or expired
    /// (an expired session is deleted).
    pub async fn session_principal(&self, token: &str) -> Result<Option<Principal>, ServiceError> {
        self.session_principal_touching(token, !self.quiet_sessions)
            .await
    }

    /// Who a live session belongs to, without counting the look as activity: what a live
    /// stream re-checks with, so an open page never keeps an idle session alive.
    pub async fn session_principal_quietly(
        &self,
        token: &str,
    ) -> Result<Option<Principal>, ServiceError> {
        self.session_principal_touching(token, false).await
    }

    async fn session_principal_touching(
        &self,
        token: &str,
        touch: bool,
    ) -> Result<Option<Principal>, ServiceError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let id_hash = hash(token);
        let Some(session) = self.store.session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        if now >= session.expires_at || now - session.last_seen_at >= self.config.session_idle_ms {
            self.store.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if touch && now - session.last_seen_at >= TOUCH_RESOLUTION_MS {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Some(Principal::User {
            user_id: session.user_id,
            email: session.email,
            is_operator: session.is_operator,
            via_api_key: None,
        }))
    }

    /// Password verifications run since start (tests check the attempt limits with it).
    pub fn password_verifications(&self) -> u64 {
        self.password_checks
            .done
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets failed sign-ins older than the counting window and sessions that have ended
    /// (expired, or idle past the limit): run now and then by the reconciler.
    pub async fn prune_sign_ins(&self) -> Result<u64, ServiceError> {
        let now = self.clock.now_ms();
        Ok(self
            .store
            .prune_sign_ins(
                now - SIGN_IN_WINDOW_MS,
                now,
                now - self.config.session_idle_ms,
            )
            .await?)
    }

    /// Ends a session; unknown tokens are ignored.
    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&hash(token)).await?)
    }
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHash, PasswordVerifier};

    #[test]
    fn the_dummy_hash_parses_so_unknown_accounts_cost_a_verification() {
        let parsed = PasswordHash::new(super::DUMMY_HASH).unwrap();
        assert!(argon2::Argon2::default()
            .verify_password(b"anything", &parsed)
            .is_err());
    }
}
