//! Payment settings: the platform fee, holds and key lifetimes, arbiters, and the provider that
//! moves money across the platform's edge (the simulated one, or Stripe).
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::{AppEnv, Secret};

/// Payment flags and environment variables.
#[derive(Args, Debug, Clone)]
pub struct PaymentArgs {
    /// Platform fee on released money, in basis points (250 = 2.5%).
    #[arg(long, env = "PLATFORM_FEE_BPS", default_value_t = 250)]
    pub platform_fee_bps: u32,
    /// Seconds earnings stay PENDING before they can be withdrawn.
    #[arg(long, env = "PAYOUT_HOLD_SECS", default_value_t = 3 * 24 * 3600)]
    pub payout_hold_secs: u64,
    /// Seconds a withdrawal may stay PROCESSING before the sweep asks the provider and
    /// finishes it (a crash between its steps).
    #[arg(long, env = "PAYOUT_STUCK_AFTER_SECS", default_value_t = 15 * 60)]
    pub payout_stuck_after_secs: u64,
    /// Seconds an idempotency key is kept (at least a day).
    #[arg(long, env = "IDEMPOTENCY_TTL_SECS", default_value_t = 24 * 3600)]
    pub idempotency_ttl_secs: u64,
    /// Handles of the people who may resolve disputes either way, comma separated.
    #[arg(long, env = "ARBITER_HANDLES", value_delimiter = ',', default_value = "")]
    pub arbiter_handles: Vec<String>,
    /// Simulated provider: charges of at least this many minor units are declined.
    #[arg(long, env = "SIMULATED_DECLINE_CHARGES_FROM_CENTS")]
    pub simulated_decline_charges_from_cents: Option<i64>,
    /// Simulated provider: payouts of at least this many minor units fail.
    #[arg(long, env = "SIMULATED_FAIL_PAYOUTS_FROM_CENTS")]
    pub simulated_fail_payouts_from_cents: Option<i64>,
    /// The payment provider: `simulated` (default; in memory) or `stripe` (Stripe Connect).
    #[arg(long, env = "PAYMENT_PROVIDER", default_value = "simulated")]
    pub payment_provider: String,
    /// Stripe's secret API key (`sk_…`); required with PAYMENT_PROVIDER=stripe.
    #[arg(long, env = "STRIPE_SECRET_KEY")]
    pub stripe_secret_key: Option<String>,
    /// The signing secret of the Stripe webhook endpoint (`whsec_…`); required in production.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET")]
    pub stripe_webhook_secret: Option<String>,
    /// Where Stripe's API is (tests point it at a local Stripe-shaped server).
    #[arg(long, env = "STRIPE_API_BASE", default_value = "https://api.stripe.com")]
    pub stripe_api_base: String,
}

/// How money moves.
#[derive(Clone, Debug)]
pub struct PaymentsConfig {
    /// Platform fee in basis points.
    pub fee_bps: u32,
    /// Hold on earnings before they are withdrawable.
    pub payout_hold: Duration,
    /// How long idempotency keys are kept.
    pub idempotency_ttl: Duration,
    /// How long a withdrawal may stay PROCESSING before the sweep finishes it.
    pub payout_stuck_after: Duration,
    /// Handles of dispute arbiters.
    pub arbiter_handles: Vec<String>,
    /// Failures the simulated provider produces.
    pub simulated: SimulatedProviderConfig,
    /// Which provider moves money across the platform's edge.
    pub provider: ProviderKind,
    /// Stripe's settings (used with `ProviderKind::Stripe`).
    pub stripe: StripeConfig,
}

/// The payment provider in use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProviderKind {
    /// The built-in in-memory provider (development and tests).
    #[default]
    Simulated,
    /// Stripe Connect.
    Stripe,
}

/// Stripe's settings.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `STRIPE_SECRET_KEY`.
    pub secret_key: Option<Secret>,
    /// `STRIPE_WEBHOOK_SECRET`: webhooks are refused without it.
    pub webhook_secret: Option<Secret>,
    /// `STRIPE_API_BASE`.
    pub api_base: String,
    /// How long a request to Stripe may take.
    pub timeout: Duration,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            webhook_secret: None,
            api_base: "https://api.stripe.com".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Failures the built-in simulated payment provider produces, for development and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimulatedProviderConfig {
    /// Charges of at least this amount are declined.
    pub decline_charges_from_cents: Option<i64>,
    /// Payouts of at least this amount fail.
    pub fail_payouts_from_cents: Option<i64>,
    /// Payouts of at least this amount are made (or refused) but never answered, as when the
    /// process dies between sending a withdrawal and booking its answer.
    pub hang_payouts_from_cents: Option<i64>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            fee_bps: 250,
            payout_hold: Duration::from_secs(3 * 24 * 3600),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            payout_stuck_after: Duration::from_secs(15 * 60),
            arbiter_handles: Vec::new(),
            simulated: SimulatedProviderConfig::default(),
            provider: ProviderKind::Simulated,
            stripe: StripeConfig::default(),
        }
    }
}

impl PaymentsConfig {
    /// Resolves the payment flags, refusing Stripe without its key (and, in production,
    /// without its webhook secret).
    pub fn from_args(args: PaymentArgs, app_env: AppEnv) -> anyhow::Result<Self> {
        if args.platform_fee_bps > 10_000 {
            bail!("PLATFORM_FEE_BPS must be at most 10000");
        }
        if args.payout_stuck_after_secs == 0 {
            bail!("PAYOUT_STUCK_AFTER_SECS must be positive");
        }
        if args.idempotency_ttl_secs < 24 * 3600 {
            bail!("IDEMPOTENCY_TTL_SECS must be at least 86400 (a day)");
        }
        let payments = PaymentsConfig {
            fee_bps: args.platform_fee_bps,
            payout_hold: Duration::from_secs(args.payout_hold_secs),
            idempotency_ttl: Duration::from_secs(args.idempotency_ttl_secs),
            payout_stuck_after: Duration::from_secs(args.payout_stuck_after_secs),
            arbiter_handles: args
                .arbiter_handles
                .into_iter()
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            simulated: SimulatedProviderConfig {
                decline_charges_from_cents: args.simulated_decline_charges_from_cents,
                fail_payouts_from_cents: args.simulated_fail_payouts_from_cents,
                hang_payouts_from_cents: None,
            },
            provider: match args.payment_provider.trim() {
                "simulated" => ProviderKind::Simulated,
                "stripe" => ProviderKind::Stripe,
                other => bail!("PAYMENT_PROVIDER must be `simulated` or `stripe`, not `{other}`"),
            },
            stripe: StripeConfig {
                secret_key: args.stripe_secret_key.filter(|k| !k.is_empty()).map(Secret::new),
                webhook_secret: args.stripe_webhook_secret.filter(|k| !k.is_empty()).map(Secret::new),
                api_base: args.stripe_api_base,
                ..StripeConfig::default()
            },
        };
        if payments.provider == ProviderKind::Stripe {
            if payments.stripe.secret_key.is_none() {
                bail!("PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY");
            }
            if app_env == AppEnv::Production && payments.stripe.webhook_secret.is_none() {
                bail!("APP_ENV=production with PAYMENT_PROVIDER=stripe needs STRIPE_WEBHOOK_SECRET");
            }
        }
        Ok(payments)
    }
}

#[cfg(test)]
mod tests {
    use super::{super::Config, *};
    use crate::config::tests::args;

    #[test]
    fn stripe_in_production_refuses_to_start_without_its_key_and_webhook_secret() {
        let secret = "k".repeat(40);
        let base = [
            "--app-env",
            "production",
            "--jwt-secret",
            secret.as_str(),
            "--smtp-url",
            "smtp://mail.example.com:25",
            "--payment-provider",
            "stripe",
        ];
        let message = |extra: &[&str]| {
            let all: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
            Config::from_args(args(&all)).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(message(&[]).contains("STRIPE_SECRET_KEY"));
        assert!(message(&["--stripe-secret-key", "sk_test_1"]).contains("STRIPE_WEBHOOK_SECRET"));
        let all: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--stripe-secret-key", "sk_test_1", "--stripe-webhook-secret", "whsec_1"])
            .collect();
        let config = Config::from_args(args(&all));
        assert!(config.as_ref().is_ok_and(|c| c.payments.provider == ProviderKind::Stripe));
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk_test_1") && !printed.contains("whsec_1"), "secrets never print");
        let unknown = Config::from_args(args(&["--payment-provider", "paypal"]));
        assert!(unknown.err().is_some_and(|e| e.to_string().contains("PAYMENT_PROVIDER")));
    }
}
