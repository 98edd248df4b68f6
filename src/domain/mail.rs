//! The mail outbox: a mail is written in the transaction that decides to send it (so it is sent
//! only if that commits, and is never lost), then sent after commit in the background; one that
//! fails is retried by the sweep with growing pauses (given up after 50 attempts, logged). A
//! sent mail's text is not kept. A sender claims a mail by moving its next attempt past a
//! lease, so two instances never send it at once; a process that dies between the server's
//! acceptance and marking it sent sends it again after the lease, with the same Message-ID.
use chrono::Duration;
use entity::mail_outbox;
use futures_util::future::FutureExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{domain::UnitOfWork, error::AppResult, mail::Outgoing, state::AppState};

/// Attempts after which a mail is given up (about two days of hourly retries).
const MAX_ATTEMPTS: i32 = 50;

/// How long a sender holds a claimed mail before another may try it.
const LEASE: Duration = Duration::minutes(2);

/// A mail to queue.
pub(crate) struct Mail {
    pub(crate) to: String,
    /// `verify_email`, `password_reset`, `password_changed`.
    pub(crate) kind: &'static str,
    pub(crate) subject: String,
    pub(crate) body: String,
}

/// Writes `mail` to the outbox in `work`; it is sent once `work` commits.
pub(crate) async fn queue(work: &mut UnitOfWork<'_>, mail: Mail) -> AppResult<Uuid> {
    let (id, row) = outbox_row(work.now(), mail, None);
    row.insert(work.txn()).await?;
    work.after_commit(send_after_commit(vec![id]));
    Ok(id)
}

/// The outbox row of `mail` and its id, due at once (`unsubscribe`: the link that stops mails like it).
pub(crate) fn outbox_row(
    now: chrono::DateTime<chrono::Utc>,
    mail: Mail,
    unsubscribe: Option<String>,
) -> (Uuid, mail_outbox::ActiveModel) {
    let id = Uuid::new_v4();
    let row = mail_outbox::ActiveModel {
        id: Set(id),
        recipient: Set(mail.to),
        kind: Set(mail.kind.to_owned()),
        subject: Set(mail.subject),
        body: Set(mail.body),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        unsubscribe_url: Set(unsubscribe),
    };
    (id, row)
}

/// Sends these outbox mails once the work that wrote them has committed.
pub(crate) fn send_after_commit(ids: Vec<Uuid>) -> crate::domain::activity::AfterCommit {
    Box::new(move |state| {
        // In the background: the request that queued them does not wait for the mail server
        // (so a reset asked for a known address answers as fast as for an unknown one).
        for id in ids {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(error) = send(&state, id).await {
                    tracing::warn!(mail = %id, %error, "sending a mail failed; the sweep retries");
                }
            });
        }
        async {}.boxed()
    })
}

/// `at` plus `pause` (the end of time rather than an overflow).
fn later(at: chrono::DateTime<chrono::Utc>, pause: Duration) -> chrono::DateTime<chrono::Utc> {
    at.checked_add_signed(pause).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// The pause before attempt `attempts + 1`: 30 s doubling, at most an hour.
fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 7)).unwrap_or(0);
    Duration::seconds(30i64.saturating_mul(1i64 << doublings)).min(Duration::hours(1))
}

/// Sends one mail if it is due and nobody else holds it; returns whether it left now.
pub async fn send(state: &AppState, id: Uuid) -> AppResult<bool> {
    let now = state.clock.now();
    let claimed = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(later(now, LEASE)))
        .col_expr(mail_outbox::Column::Attempts, Expr::col(mail_outbox::Column::Attempts).add(1))
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    let Some(row) = mail_outbox::Entity::find_by_id(id).one(&state.db).await? else { return Ok(false) };
    let outgoing = Outgoing {
        id: row.id,
        to: row.recipient.clone(),
        subject: row.subject.clone(),
        body: row.body.clone(),
        unsubscribe: row.unsubscribe_url.clone(),
    };
    let sent = state.mailer.send(outgoing).await;
    let (kind, attempts) = (row.kind.clone(), row.attempts);
    let mut active: mail_outbox::ActiveModel = row.into();
    let left = sent.is_ok();
    match sent {
        Ok(()) => {
            active.sent_at = Set(Some(state.clock.now()));
            active.last_error = Set(None);
            // Sent: the text (it may carry a single-use token) is not kept.
            active.body = Set(String::new());
        }
        Err(error) if attempts >= MAX_ATTEMPTS => {
            tracing::error!(mail = %id, %kind, attempts, %error, "a mail never left; giving up");
            active.next_attempt_at = Set(chrono::DateTime::<chrono::Utc>::MAX_UTC);
            active.last_error = Set(Some(error));
        }
        Err(error) => {
            tracing::warn!(mail = %id, %kind, attempts, %error, "a mail did not leave");
            active.next_attempt_at = Set(later(state.clock.now(), backoff(attempts)));
            active.last_error = Set(Some(error));
        }
    }
    active.update(&state.db).await?;
    Ok(left)
}

/// The sweep's part: sends due mails (oldest first, `batch` at most). Returns how many left.
pub async fn send_due(state: &AppState, batch: u64) -> AppResult<usize> {
    let ids: Vec<Uuid> = mail_outbox::Entity::find()
        .select_only()
        .column(mail_outbox::Column::Id)
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(state.clock.now()))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(batch)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut sent = 0usize;
    for id in ids {
        match send(state, id).await {
            Ok(true) => sent = sent.saturating_add(1),
            Ok(false) => {}
            Err(error) => tracing::warn!(mail = %id, %error, "could not send a mail"),
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
