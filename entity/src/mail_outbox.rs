//! A mail waiting to leave, or sent: written in the transaction that decided to send it, sent
//! after commit, retried with backoff until the server takes it.
use sea_orm::entity::prelude::*;

/// A mail row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The address it goes to.
    pub recipient: String,
    /// `verify_email`, `password_reset`, `password_changed`.
    pub kind: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
    pub attempts: i32,
    /// When it may be tried (again); a sender claims it by moving this forward.
    pub next_attempt_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    /// The link that stops mails of this kind (notification mails; List-Unsubscribe).
    pub unsubscribe_url: Option<String>,
}

/// Relations of a mail.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
