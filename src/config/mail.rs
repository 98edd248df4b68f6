//! Mail settings: the SMTP server mails leave through (or, without one, `.eml` files under the
//! data directory), the sender, and the public base of links in mails.
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use super::{AppEnv, Secret};

/// Mail flags and environment variables.
#[derive(Args, Debug, Clone)]
pub struct MailArgs {
    /// SMTP server: `smtp://host:port` (plain; `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). Unset: mails are written to DATA_DIR/mail/*.eml.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every mail.
    #[arg(long, env = "MAIL_FROM", default_value = "Semasocial <no-reply@semasocial.localhost>")]
    pub mail_from: String,
    /// The public base URL of links in mails (the web app that opens them).
    #[arg(long, env = "PUBLIC_URL", default_value = "http://localhost:8000")]
    pub public_url: String,
}

/// How mail leaves.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// `SMTP_URL` (may carry credentials: a secret).
    pub smtp_url: Option<Secret>,
    /// Where mails are written without an SMTP server.
    pub dir: PathBuf,
    /// `MAIL_FROM`.
    pub from: String,
    /// `PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            dir: PathBuf::from("./data/mail"),
            from: "Semasocial <no-reply@semasocial.localhost>".to_owned(),
            public_url: "http://localhost:8000".to_owned(),
        }
    }
}

impl MailConfig {
    /// Resolves the mail flags; production needs an SMTP server.
    pub fn from_args(args: MailArgs, data_dir: &std::path::Path, app_env: AppEnv) -> anyhow::Result<Self> {
        let smtp_url = args.smtp_url.filter(|u| !u.trim().is_empty());
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("SMTP_URL must start with smtp:// or smtps://");
        }
        if smtp_url.is_none() && app_env == AppEnv::Production {
            bail!("APP_ENV=production requires SMTP_URL (mails would stay on disk)");
        }
        if args.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            bail!("MAIL_FROM must be an address, e.g. \"Semasocial <no-reply@example.com>\"");
        }
        if !(args.public_url.starts_with("http://") || args.public_url.starts_with("https://")) {
            bail!("PUBLIC_URL must be an http or https URL");
        }
        Ok(Self {
            smtp_url: smtp_url.map(Secret::new),
            dir: data_dir.join("mail"),
            from: args.mail_from,
            public_url: args.public_url.trim_end_matches('/').to_owned(),
        })
    }
}
