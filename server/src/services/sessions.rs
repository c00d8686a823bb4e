//! Console sign-in: password check (argon2id), rate limiting of failures per account and per
//! client, server-side sessions with idle and absolute expiry, rotation at sign-in.

use app::domain::ErrorCode;
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Principal, ServiceError, Services};
use crate::store::UserRow;

/// Failures are counted over this window…
pub const SIGN_IN_WINDOW_MS: i64 = 15 * 60_000;
/// …and refused beyond these counts.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// Session activity is written at most this often.
const TOUCH_RESOLUTION_MS: i64 = 60_000;

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
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn wrong_credentials() -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidCredentials,
        "The email or password is incorrect.",
    )
}

impl Services {
    /// Signs a person in. The answer never tells whether the email exists.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        previous_token: Option<&str>,
    ) -> Result<SignedIn, ServiceError> {
        let email = email.trim().to_ascii_lowercase();
        let now = self.clock.now_ms();
        let (by_email, by_client) = self
            .store
            .sign_in_failures_since(&email, client, now - SIGN_IN_WINDOW_MS)
            .await?;
        if by_email >= MAX_FAILURES_PER_ACCOUNT || by_client >= MAX_FAILURES_PER_CLIENT {
            return Err(ServiceError::new(
                ErrorCode::TooManyAttempts,
                "Too many failed sign-in attempts. Wait 15 minutes, then try again.",
            ));
        }
        let found = self.store.user_with_password(&email).await?;
        let stored = found
            .as_ref()
            .and_then(|(_, hash)| hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let verified = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        let user = match found {
            Some((user, Some(_))) if verified => user,
            _ => {
                self.store
                    .record_sign_in_failure(&email, client, now)
                    .await?;
                return Err(wrong_credentials());
            }
        };
        self.store.clear_sign_in_failures(&email).await?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
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
        self.session_principal_touching(token, true).await
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
