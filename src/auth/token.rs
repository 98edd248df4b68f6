//! Access tokens (JWT), opaque refresh and agent tokens, and their hashes.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Prefix that tells agent API tokens apart from JWTs.
pub const AGENT_TOKEN_PREFIX: &str = "ssa_";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The user's profile id.
    pub pid: Uuid,
    /// Issued at (seconds since epoch).
    pub iat: i64,
    /// Expires at (seconds since epoch).
    pub exp: i64,
    /// The session (refresh-token family) it was issued in: refused once that ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// Signing and verifying keys for access tokens.
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl AuthKeys {
    /// Keys from the configured secret.
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// Signs an access token for a user in `session`, valid until `expires_at`.
    pub fn sign_access(
        &self,
        user_id: Uuid,
        profile_id: Uuid,
        session: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> AppResult<String> {
        let claims = AccessClaims {
            sub: user_id,
            pid: profile_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            sid: Some(session),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(e.into()))
    }

    /// Verifies signature and expiry of an access token.
    pub fn verify_access(&self, token: &str, now: DateTime<Utc>) -> AppResult<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the injectable clock below, not the wall clock.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| AppError::Unauthenticated("invalid access token".into()))?;
        if data.claims.exp <= now.timestamp() {
            return Err(AppError::Unauthenticated("access token expired".into()));
        }
        Ok(data.claims)
    }
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The SHA-256 hex digest under which opaque tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_signed_token_verifies_until_it_expires() -> AppResult<()> {
        let keys = AuthKeys::new("a-test-secret-that-is-long-enough-000");
        let (user, profile, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let token = keys.sign_access(user, profile, Uuid::new_v4(), now, now + Duration::minutes(15))?;
        assert_eq!(keys.verify_access(&token, now)?.sub, user);
        assert!(keys.verify_access(&token, now + Duration::minutes(16)).is_err());
        Ok(())
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() -> AppResult<()> {
        let now = Utc::now();
        let other = AuthKeys::new("another-secret-that-is-long-enough-0000");
        let token =
            other.sign_access(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), now, now + Duration::minutes(5))?;
        let keys = AuthKeys::new("a-test-secret-that-is-long-enough-000");
        assert!(matches!(keys.verify_access(&token, now), Err(AppError::Unauthenticated(_))));
        Ok(())
    }

    #[test]
    fn token_hashes_are_stable_hex() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(token_hash("abc"), token_hash("abd"));
    }
}
