//! Notification mail: the notifications that reach a person's inbox also reach their (verified)
//! address, per kind as they choose — IMMEDIATE (a mail written in the transaction that made the
//! notification, sent after commit), DAILY_DIGEST (one mail a day listing them, by the sweep) or
//! OFF. No choice means IMMEDIATE. Every mail carries a signed link that turns its kind OFF
//! without signing in (and a `List-Unsubscribe` header with it).
use std::collections::{HashMap, HashSet};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use entity::{activity, mail_digest, notification, notification_mail_preference as preference, user};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, OnConflict, Query},
};
use sha2::Sha256;
use uuid::Uuid;

use super::{
    Action, UnitOfWork,
    activity::AfterCommit,
    mail::{self, Mail},
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    events::DomainEvent,
    state::AppState,
};

/// A kind of notification mail, chosen per person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// A task offered to you.
    OfferReceived,
    /// An outcome submitted for your review, or one you worked on accepted.
    Outcome,
    /// A payout paid or failed.
    Payout,
    /// Events you attend: a place off the waitlist, changes, cancellations.
    Event,
    /// Replies to your posts.
    Reply,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 5] = [Self::OfferReceived, Self::Outcome, Self::Payout, Self::Event, Self::Reply];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfferReceived => "offer_received",
            Self::Outcome => "outcome",
            Self::Payout => "payout",
            Self::Event => "event",
            Self::Reply => "reply",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The notifications of this kind.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Self::OfferReceived => &[Action::TaskOffered],
            Self::Outcome => &[Action::OutcomeSubmitted, Action::OutcomeAccepted],
            Self::Payout => &[Action::PayoutPaid, Action::PayoutFailed],
            Self::Event => &[Action::EventRsvpPromoted, Action::EventUpdated, Action::EventCancelled],
            Self::Reply => &[Action::CommentCreated],
        }
    }

    /// The kind a notification's action belongs to, if it is mailed at all.
    pub fn of(action: &str) -> Option<Self> {
        let action = Action::parse(action)?;
        Self::ALL.into_iter().find(|k| k.actions().contains(&action))
    }
}

/// How a kind of notification reaches a person's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailMode {
    /// A mail for each, right away.
    Immediate,
    /// One mail a day listing them.
    DailyDigest,
    /// None.
    Off,
}

impl MailMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::DailyDigest => "daily_digest",
            Self::Off => "off",
        }
    }

    /// The mode of a stored name (IMMEDIATE for anything else).
    fn parse(name: &str) -> Self {
        match name {
            "daily_digest" => Self::DailyDigest,
            "off" => Self::Off,
            _ => Self::Immediate,
        }
    }
}

/// How often a digest leaves at most.
const DIGEST_EVERY: Duration = Duration::hours(24);

/// Notifications one digest lists at most (the inbox has them all).
const DIGEST_MAX: u64 = 50;

/// The person's choice for every kind (IMMEDIATE where they made none), in `MailKind::ALL` order.
pub async fn preferences(db: &impl ConnectionTrait, viewer: &Viewer) -> AppResult<Vec<(MailKind, MailMode)>> {
    let (user_id, _) = viewer.require_user()?;
    let chosen = chosen(db, &[user_id]).await?;
    Ok(MailKind::ALL.map(|k| (k, chosen.get(&(user_id, k)).copied().unwrap_or(MailMode::Immediate))).to_vec())
}

/// Sets how one kind reaches the person; returns every choice.
pub async fn set_preference(
    state: &AppState,
    viewer: &Viewer,
    kind: MailKind,
    mode: MailMode,
) -> AppResult<Vec<(MailKind, MailMode)>> {
    let (user_id, _) = viewer.require_user()?;
    save(&state.db, user_id, kind, mode, state.clock.now()).await?;
    if mode == MailMode::DailyDigest {
        // Digests start from now: what was mailed (or not) before the choice is not repeated.
        let newest: Option<i64> = notification::Entity::find()
            .select_only()
            .column_as(notification::Column::ActivityId.max(), "newest")
            .filter(notification::Column::UserId.eq(user_id))
            .into_tuple::<Option<i64>>()
            .one(&state.db)
            .await?
            .flatten();
        let newest = newest.unwrap_or(0);
        mail_digest::Entity::insert(mail_digest::ActiveModel {
            user_id: Set(user_id),
            last_activity_id: Set(newest),
            sent_at: Set(DateTime::<Utc>::UNIX_EPOCH),
        })
        .on_conflict(OnConflict::column(mail_digest::Column::UserId).do_nothing().to_owned())
        .exec_without_returning(&state.db)
        .await?;
        mail_digest::Entity::update_many()
            .col_expr(mail_digest::Column::LastActivityId, Expr::value(newest))
            .filter(mail_digest::Column::UserId.eq(user_id))
            .filter(mail_digest::Column::LastActivityId.lt(newest))
            .exec(&state.db)
            .await?;
    }
    preferences(&state.db, viewer).await
}

/// Turns the kind a mail's unsubscribe token names OFF for its person (no sign-in: the token is
/// signed). Returns the kind. A token that does not verify is BAD_USER_INPUT on `token`.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<MailKind> {
    let bad = || AppError::bad_input("token", "this unsubscribe link is not valid");
    let mut parts = token.trim().splitn(3, '.');
    let (Some(user), Some(kind), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let user_id: Uuid = user.parse().map_err(|_| bad())?;
    let kind = MailKind::parse(kind).ok_or_else(bad)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| bad())?;
    mac(state, user_id, kind).verify_slice(&signature).map_err(|_| bad())?;
    if user::Entity::find_by_id(user_id).one(&state.db).await?.is_none() {
        return Err(bad());
    }
    save(&state.db, user_id, kind, MailMode::Off, state.clock.now()).await?;
    Ok(kind)
}

/// The link that turns `kind` OFF for `user_id`: `PUBLIC_URL/unsubscribe?token=…` (the page
/// there calls `unsubscribeFromMail`).
pub fn unsubscribe_url(state: &AppState, user_id: Uuid, kind: MailKind) -> String {
    let signature = URL_SAFE_NO_PAD.encode(mac(state, user_id, kind).finalize().into_bytes());
    format!("{}/unsubscribe?token={user_id}.{}.{signature}", state.config.mail.public_url, kind.as_str())
}

fn mac(state: &AppState, user_id: Uuid, kind: MailKind) -> Hmac<Sha256> {
    // A key of any length is accepted by HMAC.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.config.jwt_secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("unsubscribe\n{user_id}\n{}", kind.as_str()).as_bytes());
    mac
}

async fn save(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kind: MailKind,
    mode: MailMode,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = preference::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        mode: Set(mode.as_str().to_owned()),
        updated_at: Set(now),
    };
    preference::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([preference::Column::UserId, preference::Column::Kind])
                .update_columns([preference::Column::Mode, preference::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// The choices these people made, by (person, kind).
async fn chosen(db: &impl ConnectionTrait, users: &[Uuid]) -> AppResult<HashMap<(Uuid, MailKind), MailMode>> {
    let mut found = HashMap::new();
    for chunk in users.chunks(LOOKUP_CHUNK) {
        let rows =
            preference::Entity::find().filter(preference::Column::UserId.is_in(chunk.iter().copied())).all(db).await?;
        found.extend(
            rows.into_iter()
                .filter_map(|r| MailKind::parse(&r.kind).map(|k| ((r.user_id, k), MailMode::parse(&r.mode)))),
        );
    }
    Ok(found)
}

/// People per lookup statement (a statement's parameters are bounded; an event's attendees
/// can be many).
const LOOKUP_CHUNK: usize = 1_000;

/// The unit of work's hook (`activity::CommitHook`): mails of the notifications that want one
/// now, in its transaction.
pub fn commit_hook<'s>(
    state: &'s AppState,
    txn: &'s sea_orm::DatabaseTransaction,
    events: &'s [DomainEvent],
) -> futures_util::future::BoxFuture<'s, AppResult<Option<AfterCommit>>> {
    Box::pin(queue_for(state, txn, events))
}

/// Writes, in the transaction of `events` (the activities a unit of work just recorded with
/// their inboxes), a mail for each notification whose person wants its kind IMMEDIATE and has
/// a verified address; returns the work that sends them after commit. No statement when no
/// notification is of a mailed kind.
pub(crate) async fn queue_for(
    state: &AppState,
    db: &impl ConnectionTrait,
    events: &[DomainEvent],
) -> AppResult<Option<AfterCommit>> {
    let notified: Vec<(Uuid, MailKind, &DomainEvent)> = events
        .iter()
        .filter_map(|e| MailKind::of(&e.action).map(|k| (k, e)))
        .flat_map(|(kind, event)| {
            event
                .streams
                .iter()
                .filter_map(|s| s.stream.strip_prefix("inbox:")?.parse::<Uuid>().ok())
                .map(move |user| (user, kind, event))
        })
        .collect();
    if notified.is_empty() {
        return Ok(None);
    }
    let users: Vec<Uuid> = notified.iter().map(|(u, _, _)| *u).collect::<HashSet<_>>().into_iter().collect();
    let chosen = chosen(db, &users).await?;
    let immediate: Vec<&(Uuid, MailKind, &DomainEvent)> = notified
        .iter()
        .filter(|(u, k, _)| chosen.get(&(*u, *k)).copied().unwrap_or(MailMode::Immediate) == MailMode::Immediate)
        .collect();
    if immediate.is_empty() {
        return Ok(None);
    }
    let addresses = verified_addresses(db, &users).await?;
    let now = state.clock.now();
    let (mut ids, mut rows) = (Vec::new(), Vec::new());
    for (user, kind, event) in immediate {
        let Some(to) = addresses.get(user) else { continue };
        let line = describe(event);
        let unsubscribe = unsubscribe_url(state, *user, *kind);
        let body = format!(
            "{line}.\n\nSee it on {public}.\n\nYou get these mails as they happen. To stop mails about {kind}, \
             open {unsubscribe}\n",
            public = state.config.mail.public_url,
            kind = about(*kind),
        );
        let mail = Mail { to: to.clone(), kind: "notification", subject: line, body };
        let (id, row) = mail::outbox_row(now, mail, Some(unsubscribe));
        ids.push(id);
        rows.push(row);
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        entity::mail_outbox::Entity::insert_many(rows.by_ref().take(100)).exec(db).await?;
    }
    // A few leave right after commit; a crowd (an event's attendees) is left to the sweep, which
    // sends its batches one by one, so one change never floods the pool or the mail server.
    if ids.len() > SEND_AT_ONCE {
        return Ok(None);
    }
    Ok(Some(mail::send_after_commit(ids)))
}

/// Mails one commit sends right after it at most (more are left to the sweep).
const SEND_AT_ONCE: usize = 20;

/// The verified addresses of these people (one statement).
async fn verified_addresses(db: &impl ConnectionTrait, users: &[Uuid]) -> AppResult<HashMap<Uuid, String>> {
    let mut found = HashMap::new();
    for chunk in users.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(Uuid, String)> = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Email])
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .filter(user::Column::EmailVerifiedAt.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// What a kind of mail is about, in a sentence.
fn about(kind: MailKind) -> &'static str {
    match kind {
        MailKind::OfferReceived => "task offers",
        MailKind::Outcome => "outcomes submitted to you or accepted",
        MailKind::Payout => "payouts",
        MailKind::Event => "events you attend",
        MailKind::Reply => "replies to your posts",
    }
}

/// One line telling what a notification is, with the title of its subject when it has one.
fn describe(event: &DomainEvent) -> String {
    let what = match Action::parse(&event.action) {
        Some(Action::TaskOffered) => "A task was offered to you",
        Some(Action::OutcomeSubmitted) => "An outcome is ready for your review",
        Some(Action::OutcomeAccepted) => "An outcome you worked on was accepted",
        Some(Action::PayoutPaid) => "Your payout was paid",
        Some(Action::PayoutFailed) => "Your payout failed; the money is back in your balance",
        Some(Action::EventRsvpPromoted) => "You have a place at an event",
        Some(Action::EventUpdated) => "An event you attend changed",
        Some(Action::EventCancelled) => "An event you attend was cancelled",
        Some(Action::CommentCreated) => "Someone replied to your post",
        _ => "Something happened",
    };
    let title = event.after.as_ref().and_then(|a| a["title"].as_str().or_else(|| a["name"].as_str()));
    match title {
        Some(title) => format!("{what}: {}", title.chars().take(120).collect::<String>()),
        None => what.to_owned(),
    }
}

/// The sweep's part: one digest mail for each person who chose DAILY_DIGEST for some kind,
/// whose last digest left a day ago or more, and who has had notifications of those kinds
/// since (within the last day, after the last digest's). `batch` people at most; returns how
/// many digests were written.
pub async fn send_digests(state: &AppState, batch: u64) -> AppResult<usize> {
    let now = state.clock.now();
    let since = now.checked_sub_signed(DIGEST_EVERY).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let recent = Query::select()
        .column(mail_digest::Column::UserId)
        .from(mail_digest::Entity)
        .and_where(mail_digest::Column::SentAt.gt(since))
        .to_owned();
    let users: Vec<Uuid> = preference::Entity::find()
        .select_only()
        .column(preference::Column::UserId)
        .distinct()
        .filter(preference::Column::Mode.eq(MailMode::DailyDigest.as_str()))
        .filter(preference::Column::UserId.not_in_subquery(recent))
        .order_by_asc(preference::Column::UserId)
        .limit(batch)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut written = 0usize;
    for user_id in users {
        match digest(state, user_id, since).await {
            Ok(true) => written = written.saturating_add(1),
            Ok(false) => {}
            Err(error) => tracing::warn!(user = %user_id, %error, "could not write a digest"),
        }
    }
    Ok(written)
}

/// Writes one person's digest if there is anything to tell; whether it did. The person's digest
/// row is claimed first (its time moved to now while it is a day old): two instances never
/// write the same digest, and a person with nothing to tell is looked at again tomorrow, not
/// on every sweep.
async fn digest(state: &AppState, user_id: Uuid, since: DateTime<Utc>) -> AppResult<bool> {
    let mut work = UnitOfWork::begin(state, &Viewer::Anonymous).await?;
    let now = work.now();
    mail_digest::Entity::insert(mail_digest::ActiveModel {
        user_id: Set(user_id),
        last_activity_id: Set(0),
        sent_at: Set(DateTime::<Utc>::UNIX_EPOCH),
    })
    .on_conflict(OnConflict::column(mail_digest::Column::UserId).do_nothing().to_owned())
    .exec_without_returning(work.txn())
    .await?;
    let claimed = mail_digest::Entity::update_many()
        .col_expr(mail_digest::Column::SentAt, Expr::value(now))
        .filter(mail_digest::Column::UserId.eq(user_id))
        .filter(mail_digest::Column::SentAt.lte(since))
        .exec(work.txn())
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    let kinds: Vec<MailKind> = chosen(work.txn(), &[user_id])
        .await?
        .into_iter()
        .filter(|(_, mode)| *mode == MailMode::DailyDigest)
        .map(|((_, kind), _)| kind)
        .collect();
    let actions: Vec<&str> = kinds.iter().flat_map(|k| k.actions()).map(|a| a.as_str()).collect();
    let after = mail_digest::Entity::find_by_id(user_id).one(work.txn()).await?.map_or(0, |d| d.last_activity_id);
    let rows = activity::Entity::find()
        .filter(
            activity::Column::Id.in_subquery(
                Query::select()
                    .column(notification::Column::ActivityId)
                    .from(notification::Entity)
                    .and_where(notification::Column::UserId.eq(user_id))
                    .and_where(notification::Column::ActivityId.gt(after))
                    .and_where(notification::Column::CreatedAt.gte(since))
                    .to_owned(),
            ),
        )
        .filter(activity::Column::Action.is_in(actions))
        .order_by_asc(activity::Column::Id)
        .limit(DIGEST_MAX)
        .all(work.txn())
        .await?;
    let address = verified_addresses(work.txn(), &[user_id]).await?.remove(&user_id);
    let (Some(newest), Some(to)) = (rows.last().map(|r| r.id), address) else {
        // Nothing to tell (or nowhere to tell it): looked at again tomorrow.
        work.commit().await?;
        return Ok(false);
    };
    let mut body = String::from("What happened since your last digest:\n\n");
    for row in rows.iter() {
        let event = DomainEvent::from_row(row.clone());
        body.push_str(&format!("- {} ({})\n", describe(&event), row.created_at.format("%Y-%m-%d %H:%M UTC")));
    }
    body.push_str(&format!("\nSee them on {}.\n", state.config.mail.public_url));
    let mut links = Vec::new();
    for kind in &kinds {
        let url = unsubscribe_url(state, user_id, *kind);
        body.push_str(&format!("To stop mails about {}, open {url}\n", about(*kind)));
        links.push(url);
    }
    let subject = format!("Your daily digest: {} notification{}", rows.len(), if rows.len() == 1 { "" } else { "s" });
    let mail = Mail { to, kind: "digest", subject, body };
    let (id, row) = mail::outbox_row(now, mail, links.into_iter().next());
    row.insert(work.txn()).await?;
    mail_digest::Entity::update_many()
        .col_expr(mail_digest::Column::LastActivityId, Expr::value(newest))
        .filter(mail_digest::Column::UserId.eq(user_id))
        .exec(work.txn())
        .await?;
    work.after_commit(mail::send_after_commit(vec![id]));
    work.commit().await?;
    Ok(true)
}
