//! `Stripe-Signature` verification, as Stripe documents it: the header carries a timestamp
//! `t` and one or more `v1` signatures, each the hex HMAC-SHA256 of `"<t>.<raw body>"` under
//! the endpoint's signing secret. A signature is accepted when one `v1` matches (compared in
//! constant time) and `t` is within the tolerance of now, so a captured event cannot be
//! replayed later.
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's default tolerance: five minutes either side.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No `Stripe-Signature` header, or one without `t` or `v1`.
    #[error("missing or malformed Stripe-Signature header")]
    Malformed,
    /// `t` is further from now than the tolerance.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    /// No `v1` signature matches the body.
    #[error("no signature matches the payload")]
    Mismatch,
}

/// Checks `header` (the `Stripe-Signature` value) over the raw `payload` at `now` (Unix
/// seconds).
pub fn verify(payload: &[u8], header: Option<&str>, secret: &str, now: i64, tolerance: i64) -> Result<(), Refused> {
    let header = header.ok_or(Refused::Malformed)?;
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse().ok(),
            Some(("v1", value)) => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if signatures.is_empty() {
        return Err(Refused::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(Refused::Stale);
    }
    for signature in &signatures {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refused::Mismatch)?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        if mac.verify_slice(signature).is_ok() {
            return Ok(());
        }
    }
    Err(Refused::Mismatch)
}

/// The `Stripe-Signature` header Stripe would send for `payload` at `timestamp` (for the
/// local Stripe-shaped server of the tests, and the simulation).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn a_signature_made_with_the_secret_within_the_tolerance_is_accepted() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let header = sign(body, SECRET, 1_700_000_000);
        assert_eq!(verify(body, Some(&header), SECRET, 1_700_000_100, TOLERANCE_SECS), Ok(()));
        // Several v1 values (a rolled secret): one matching is enough.
        let rolled = format!("t=1700000000,v1={},{}", "00".repeat(32), &header[13..]);
        assert_eq!(verify(body, Some(&rolled), SECRET, 1_700_000_000, TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn forged_stale_missing_and_altered_signatures_are_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, 1_700_000_000);
        assert_eq!(verify(body, Some(&header), "whsec_other", 1_700_000_000, TOLERANCE_SECS), Err(Refused::Mismatch));
        assert_eq!(
            verify(b"{\"id\":\"evt_2\"}", Some(&header), SECRET, 1_700_000_000, TOLERANCE_SECS),
            Err(Refused::Mismatch)
        );
        assert_eq!(verify(body, Some(&header), SECRET, 1_700_000_301, TOLERANCE_SECS), Err(Refused::Stale));
        assert_eq!(verify(body, Some(&header), SECRET, 1_699_999_699, TOLERANCE_SECS), Err(Refused::Stale));
        assert_eq!(verify(body, None, SECRET, 1_700_000_000, TOLERANCE_SECS), Err(Refused::Malformed));
        assert_eq!(verify(body, Some("t=1700000000"), SECRET, 1_700_000_000, TOLERANCE_SECS), Err(Refused::Malformed));
        assert_eq!(verify(body, Some("v1=abcd"), SECRET, 1_700_000_000, TOLERANCE_SECS), Err(Refused::Malformed));
    }
}
