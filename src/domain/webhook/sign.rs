//! Standard Webhooks signatures: an endpoint's secret is `whsec_` followed by the base64 of a
//! random key; a delivery's `webhook-signature` is `v1,` + the base64 HMAC-SHA256, under that
//! key, of `"<webhook-id>.<webhook-timestamp>.<body>"`. Several space-separated signatures may
//! be sent (a rolled secret); a receiver accepts one that matches.
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Prefix of endpoint secrets, as the spec writes them.
pub const SECRET_PREFIX: &str = "whsec_";

/// Bytes of a new signing key (the spec asks for 24 to 64).
const KEY_BYTES: usize = 24;

/// A stored secret that is not `whsec_` + base64 of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the endpoint's signing secret is not whsec_ followed by a base64 key")]
pub struct MalformedSecret;

/// A new endpoint secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The signing key of a secret (the base64 after `whsec_`, decoded).
fn key(secret: &str) -> Result<Vec<u8>, MalformedSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    match STANDARD.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(MalformedSecret),
    }
}

/// The MAC of one message, ready to finalize or verify.
fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Result<Hmac<Sha256>, MalformedSecret> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| MalformedSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` header of `body` sent as message `id` at `timestamp` (Unix seconds).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, MalformedSecret> {
    let mac = mac(&key(secret)?, id, timestamp, body.as_bytes())?;
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Whether one of the `v1` signatures in `header` signs `body` as message `id` at `timestamp`
/// (compared in constant time). The timestamp's tolerance is the receiver's to check.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let Ok(key) = key(secret) else { return false };
    header
        .split_whitespace()
        .filter_map(|versioned| versioned.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|signature| mac(&key, id, timestamp, body.as_bytes()).is_ok_and(|m| m.verify_slice(&signature).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example the Standard Webhooks specification signs.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;

    #[test]
    fn the_specifications_example_signs_to_its_published_signature() -> Result<(), MalformedSecret> {
        let header = signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)?;
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &header));
        // Among several signatures (a rolled secret), one match is enough.
        assert!(verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &format!("v1,AAAA {header}")));
        Ok(())
    }

    #[test]
    fn another_body_id_timestamp_or_secret_does_not_verify() -> Result<(), MalformedSecret> {
        let header = signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)?;
        assert!(!verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, r#"{"test": 1}"#, &header));
        assert!(!verify(SPEC_SECRET, "msg_other", SPEC_TIMESTAMP, SPEC_BODY, &header));
        assert!(!verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP.saturating_add(1), SPEC_BODY, &header));
        assert!(!verify(&new_secret(), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &header));
        assert!(!verify(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, "v2,whatever"));
        assert_eq!(signature("whsec_not base64!", SPEC_ID, 0, SPEC_BODY), Err(MalformedSecret));
        Ok(())
    }

    #[test]
    fn new_secrets_are_prefixed_24_byte_keys_and_differ() -> Result<(), MalformedSecret> {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(key(&a)?.len(), KEY_BYTES);
        assert_ne!(a, b);
        Ok(())
    }
}
