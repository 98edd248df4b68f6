//! argon2id password hashing, run off the async runtime.
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version, password_hash::SaltString,
};
use rand::RngCore;

use crate::{
    config::HashingConfig,
    error::{AppError, AppResult},
};

/// Hashes a password with argon2id and the configured cost, on the blocking pool.
pub async fn hash_password(cost: HashingConfig, password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(cost, &password))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

/// Checks a password against a stored hash, on the blocking pool.
pub async fn verify_password(hash: String, password: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

fn hash_blocking(cost: HashingConfig, password: &str) -> AppResult<String> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 params: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashingConfig = HashingConfig { memory_kib: 64, iterations: 1 };

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() -> AppResult<()> {
        let hash = hash_password(CHEAP, "correct horse battery".into()).await?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(hash.clone(), "correct horse battery".into()).await?);
        assert!(!verify_password(hash, "wrong horse battery".into()).await?);
        Ok(())
    }
}
