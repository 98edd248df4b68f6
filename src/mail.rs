//! Mail transport: an SMTP server through `lettre` (TLS when the URL says so), or, with no
//! server configured, `.eml` files in a directory (the `cargo run` default; the log says
//! where). Messages carry a Message-ID derived from their outbox row, so a mail retried after
//! a lost answer is recognisably the same mail.
use std::{path::PathBuf, sync::Arc};

use futures_util::future::{BoxFuture, FutureExt};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use uuid::Uuid;

use crate::config::MailConfig;

/// One mail to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The outbox row: the Message-ID derives from it.
    pub id: Uuid,
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// The link that stops mails like this one (a `List-Unsubscribe` header), if any.
    pub unsubscribe: Option<String>,
}

/// Sends mail.
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail`; `Err` carries why it did not leave (the outbox retries it).
    fn send(&self, mail: Outgoing) -> BoxFuture<'_, Result<(), String>>;
}

/// The mailer the configuration names.
pub fn mailer(config: &MailConfig) -> anyhow::Result<Arc<dyn Mailer>> {
    let from: Mailbox = config.from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?;
    Ok(match &config.smtp_url {
        Some(url) => {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                .timeout(Some(std::time::Duration::from_secs(15)))
                .build();
            Arc::new(SmtpMailer { transport, from })
        }
        None => {
            tracing::info!(dir = %config.dir.display(), "no SMTP_URL: mails are written as .eml files");
            Arc::new(FileMailer { dir: config.dir.clone(), from })
        }
    })
}

fn message(from: &Mailbox, mail: &Outgoing) -> Result<Message, String> {
    let to: Mailbox = mail.to.parse().map_err(|e| format!("the recipient {}: {e}", mail.to))?;
    let mut builder = Message::builder();
    if let Some(url) = &mail.unsubscribe {
        let name = lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe");
        builder = builder.raw_header(lettre::message::header::HeaderValue::new(name, format!("<{url}>")));
    }
    builder
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@semasocial>", mail.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| format!("building the message: {e}"))
}

struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Outgoing) -> BoxFuture<'_, Result<(), String>> {
        async move {
            let message = message(&self.from, &mail)?;
            self.transport.send(message).await.map(drop).map_err(|e| e.to_string())
        }
        .boxed()
    }
}

/// Writes each mail to `<dir>/<outbox id>.eml`.
struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl Mailer for FileMailer {
    fn send(&self, mail: Outgoing) -> BoxFuture<'_, Result<(), String>> {
        async move {
            let message = message(&self.from, &mail)?;
            tokio::fs::create_dir_all(&self.dir).await.map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
            let path = self.dir.join(format!("{}.eml", mail.id));
            tokio::fs::write(&path, message.formatted()).await.map_err(|e| format!("writing {}: {e}", path.display()))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_keeps_its_text_readable_with_a_stable_message_id() {
        let from: Mailbox = "Semasocial <no-reply@example.com>".parse().unwrap();
        let id = Uuid::new_v4();
        let mail = Outgoing {
            id,
            to: "ada@example.com".into(),
            subject: "Verify".into(),
            body: "Open https://a.example/v?token=abc_DEF-123\n".into(),
            unsubscribe: Some("https://a.example/unsubscribe?token=t".into()),
        };
        let text = String::from_utf8(message(&from, &mail).unwrap().formatted()).unwrap();
        assert!(text.contains("https://a.example/v?token=abc_DEF-123"), "{text}");
        assert!(text.contains(&format!("Message-ID: <{id}@semasocial>")), "{text}");
        assert!(text.contains("List-Unsubscribe: <https://a.example/unsubscribe?token=t>"), "{text}");
    }
}
