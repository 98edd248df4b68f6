//! Provenance of agent work: which model and tool (and version) produced a deliverable, in
//! which run, from what input to what output (content digests), at what cost. Required for
//! AUTOMATED tasks submitted with an agent token; shown to the client side and recorded in
//! the activity of the submission.
use serde::{Deserialize, Serialize};

use crate::{
    domain::validate,
    error::{AppError, AppResult},
};

/// How a deliverable was produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// The model, e.g. `gpt-4o-2024-08-06`.
    pub model: String,
    /// The tool or pipeline that ran it.
    pub tool: String,
    /// The tool's version.
    pub tool_version: String,
    /// The run's id in the operator's system.
    pub run_id: String,
    /// Digest of the input, `algorithm:hex` (e.g. `sha256:…`).
    pub input_digest: String,
    /// Digest of the output, `algorithm:hex`.
    pub output_digest: String,
    /// What the run cost, in minor units.
    pub cost_cents: i64,
    /// The cost's currency (ISO 4217), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_currency: Option<String>,
}

/// Validates provenance, naming the field at fault under `deliverable.provenance`.
pub fn validate(p: Provenance) -> AppResult<Provenance> {
    let f = |name: &str| format!("deliverable.provenance.{name}");
    let model = validate::text(&p.model, &f("model"), 1, 200, false)?;
    let tool = validate::text(&p.tool, &f("tool"), 1, 100, false)?;
    let tool_version = validate::text(&p.tool_version, &f("toolVersion"), 1, 50, false)?;
    let run_id = validate::text(&p.run_id, &f("runId"), 1, 200, false)?;
    let input_digest = digest(&p.input_digest, &f("inputDigest"))?;
    let output_digest = digest(&p.output_digest, &f("outputDigest"))?;
    if p.cost_cents < 0 {
        return Err(AppError::bad_input(&f("costCents"), "must not be negative"));
    }
    let cost_currency = match p.cost_currency {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(c),
        Some(_) => return Err(AppError::bad_input(&f("costCurrency"), "use a three-letter ISO 4217 code, e.g. EUR")),
        None => None,
    };
    Ok(Provenance {
        model,
        tool,
        tool_version,
        run_id,
        input_digest,
        output_digest,
        cost_cents: p.cost_cents,
        cost_currency,
    })
}

/// `algorithm:hex`: a lowercase algorithm name (2–20 of a-z, 0-9, -) and 16–128 lowercase
/// hex digits.
fn digest(value: &str, field: &str) -> AppResult<String> {
    let bad = || AppError::bad_input(field, "use algorithm:hex, e.g. sha256: and 64 lowercase hex digits");
    let (algo, hex) = value.trim().split_once(':').ok_or_else(bad)?;
    let algo_ok = (2..=20).contains(&algo.len())
        && algo.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let hex_ok =
        (16..=128).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if algo_ok && hex_ok { Ok(format!("{algo}:{hex}")) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Provenance {
        Provenance {
            model: "m-1".into(),
            tool: "crawler".into(),
            tool_version: "1.2.0".into(),
            run_id: "run-42".into(),
            input_digest: format!("sha256:{}", "a".repeat(64)),
            output_digest: format!("sha256:{}", "0123456789abcdef".repeat(4)),
            cost_cents: 12,
            cost_currency: Some("EUR".into()),
        }
    }

    #[test]
    fn provenance_is_validated_with_the_field_at_fault() {
        let field = |p: Provenance| validate(p).err().and_then(|e| e.field().map(str::to_owned)).unwrap_or_default();
        assert_eq!(field(good()), "");
        assert_eq!(field(Provenance { model: " ".into(), ..good() }), "deliverable.provenance.model");
        assert_eq!(field(Provenance { input_digest: "sha256".into(), ..good() }), "deliverable.provenance.inputDigest");
        assert_eq!(
            field(Provenance { output_digest: "sha256:XYZ0123456789abcdef".into(), ..good() }),
            "deliverable.provenance.outputDigest"
        );
        assert_eq!(field(Provenance { cost_cents: -1, ..good() }), "deliverable.provenance.costCents");
        assert_eq!(
            field(Provenance { cost_currency: Some("eur".into()), ..good() }),
            "deliverable.provenance.costCurrency"
        );
    }
}
