//! The unit of work: one transaction, its activity records, and events published after commit.
use entity::activity;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::AppResult,
    events::{DomainEvent, StreamPos},
    state::AppState,
};

/// Declares `Action` with the wire name of each variant.
macro_rules! actions {
    ($($variant:ident => $name:literal,)*) => {
        /// What happened: one variant per kind of change, written by the commands and matched
        /// by readers (subscriptions, dashboards). Its wire name is stored and published.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $(
                #[doc = $name]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The stored and published name, e.g. `task.assigned`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The action with this wire name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    AccountRegistered => "account.registered",
    AgentRegistered => "agent.registered",
    AgentTokenIssued => "agent.token_issued",
    AgentTokenRevoked => "agent.token_revoked",
    ApiKeyCreated => "api_key.created",
    ApiKeyRevoked => "api_key.revoked",
    CommentCreated => "comment.created",
    CommentEdited => "comment.edited",
    CommentRemoved => "comment.removed",
    CommunityCreated => "community.created",
    CommunityJoinApproved => "community.join_approved",
    CommunityJoinRejected => "community.join_rejected",
    CommunityJoinRequested => "community.join_requested",
    CommunityMemberBanned => "community.member_banned",
    CommunityMemberJoined => "community.member_joined",
    CommunityMemberLeft => "community.member_left",
    CommunityMemberRoleChanged => "community.member_role_changed",
    CommunityMemberUnbanned => "community.member_unbanned",
    CommunityUpdated => "community.updated",
    ContractCreated => "contract.created",
    ContractStatusChanged => "contract.status_changed",
    ContractCompleted => "contract.completed",
    EventCancelled => "event.cancelled",
    EventCreated => "event.created",
    EventRsvp => "event.rsvp",
    EventRsvpCancelled => "event.rsvp_cancelled",
    EventRsvpPromoted => "event.rsvp_promoted",
    EventUpdated => "event.updated",
    GigCancelled => "gig.cancelled",
    GigClosed => "gig.closed",
    GigCreated => "gig.created",
    GigFilled => "gig.filled",
    GigPublished => "gig.published",
    GigUpdated => "gig.updated",
    OrganizationCreated => "organization.created",
    OrganizationInvitationAccepted => "organization.invitation_accepted",
    OrganizationInvitationDeclined => "organization.invitation_declined",
    OrganizationInvitationRevoked => "organization.invitation_revoked",
    OrganizationInvitationSent => "organization.invitation_sent",
    OrganizationMemberAdded => "organization.member_added",
    OrganizationMemberRemoved => "organization.member_removed",
    OrganizationMemberRoleChanged => "organization.member_role_changed",
    OutcomeAccepted => "outcome.accepted",
    OutcomeAdded => "outcome.added",
    OutcomeCriterionTicked => "outcome.criterion_ticked",
    OutcomeDecomposed => "outcome.decomposed",
    OutcomeRejected => "outcome.rejected",
    OutcomeStarted => "outcome.started",
    OutcomeStatusChanged => "outcome.status_changed",
    OutcomeSubmitted => "outcome.submitted",
    PostCreated => "post.created",
    PostEdited => "post.edited",
    PostPinned => "post.pinned",
    PostRemoved => "post.removed",
    PostUnpinned => "post.unpinned",
    ProfileSkillsSet => "profile.skills_set",
    ProfileUpdated => "profile.updated",
    ProposalAccepted => "proposal.accepted",
    ProposalDeclined => "proposal.declined",
    ProposalShortlisted => "proposal.shortlisted",
    ProposalSubmitted => "proposal.submitted",
    ProposalWithdrawn => "proposal.withdrawn",
    SessionEnded => "session.ended",
    SessionReuseDetected => "session.reuse_detected",
    SessionTokenIssued => "session.token_issued",
    TaskAccepted => "task.accepted",
    TaskAdded => "task.added",
    TaskAssigned => "task.assigned",
    TaskEscalated => "task.escalated",
    TaskOffered => "task.offered",
    TaskRejected => "task.rejected",
    TaskReleased => "task.released",
    TaskReviewed => "task.reviewed",
    TaskSubmitted => "task.submitted",
    TaskUnrouted => "task.unrouted",
    WebhookEndpointCreated => "webhook.endpoint_created",
    WebhookEndpointDeleted => "webhook.endpoint_deleted",
    WebhookEndpointDisabled => "webhook.endpoint_disabled",
    WebhookEndpointEnabled => "webhook.endpoint_enabled",
    ContractFunded => "contract.funded",
    ContractRefunded => "contract.refunded",
    ContractFundingPending => "contract.funding_pending",
    ContractFundingFailed => "contract.funding_failed",
    OutcomeReleased => "outcome.released",
    DisputeOpened => "dispute.opened",
    DisputeResolved => "dispute.resolved",
    DisputeConceded => "dispute.conceded",
    PayoutPending => "payout.pending",
    PayoutAvailable => "payout.available",
    PayoutProcessing => "payout.processing",
    PayoutPaid => "payout.paid",
    PayoutFailed => "payout.failed",
}

impl Action {
    /// Whether a published event (its wire action) is this action.
    pub fn is(self, name: &str) -> bool {
        self.as_str() == name
    }
}

/// An activity to record: who did what to which subject, with before/after snapshots.
pub struct NewActivity {
    /// Topic the event is published on, e.g. `organization:<uuid>`.
    pub topic: String,
    /// What happened.
    pub action: Action,
    /// Kind of the changed thing.
    pub subject_type: &'static str,
    /// Id of the changed thing.
    pub subject_id: Uuid,
    /// State before, when it existed.
    pub before: Option<Json>,
    /// State after, when it exists.
    pub after: Option<Json>,
}

impl NewActivity {
    /// The profile id stored under `key` of the after-snapshot, if any.
    pub(crate) fn profile_at(&self, key: &str) -> Option<Uuid> {
        self.after.as_ref().and_then(|v| v[key].as_str()).and_then(|s| s.parse().ok())
    }
}

/// A database transaction that records activities and publishes their events only once it
/// has committed. Dropping it without `commit` rolls everything back and publishes nothing.
///
/// Activities are written at commit, after the heads of every stream they are filed under have
/// been locked in name order (the last locks a unit of work takes; see `domain`'s lock order):
/// ids and positions are therefore handed out in commit order per stream, which is what lets
/// a subscriber resume after any activity id with no gap and no duplicate.
pub struct UnitOfWork<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    pending: Vec<Pending>,
    after_commit: Vec<AfterCommit>,
}

/// Work that must follow a commit (calling a provider about what the transaction recorded);
/// it must be safe to run again, as whatever recorded it also retries it.
pub type AfterCommit = Box<dyn for<'s> FnOnce(&'s AppState) -> futures_util::future::BoxFuture<'s, ()> + Send + Sync>;

/// An activity waiting for commit, with the actor at the time it was recorded.
struct Pending {
    activity: NewActivity,
    /// Profiles notified besides those the activity names (an event's attendees).
    also_notify: Vec<Uuid>,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
}

impl<'a> UnitOfWork<'a> {
    /// Begins a transaction on behalf of `viewer`.
    pub async fn begin(state: &'a AppState, viewer: &Viewer) -> AppResult<Self> {
        Ok(Self {
            state,
            txn: state.db.begin().await?,
            actor_user_id: viewer.user_id(),
            actor_profile_id: viewer.profile_id(),
            pending: Vec::new(),
            after_commit: Vec::new(),
        })
    }

    /// Runs `then` once this work has committed (never if it does not).
    pub fn after_commit(&mut self, then: AfterCommit) {
        self.after_commit.push(then);
    }

    /// Sets the actor when the caller becomes known inside the work (register, login).
    pub fn act_as(&mut self, user_id: Uuid, profile_id: Uuid) {
        self.actor_user_id = Some(user_id);
        self.actor_profile_id = Some(profile_id);
    }

    /// The profile on whose behalf the work runs, if any.
    pub fn actor_profile_id(&self) -> Option<Uuid> {
        self.actor_profile_id
    }

    /// Now, by the application's clock (the ledger and every record take their time here).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.clock.now()
    }

    /// The open transaction: every read and write of the work goes through it.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records an activity of this work; it is written (and notified) at commit.
    pub async fn record(&mut self, activity: NewActivity) -> AppResult<()> {
        self.record_notifying(activity, Vec::new()).await
    }

    /// Records an activity that also reaches these profiles' inboxes (the actor's excepted).
    pub async fn record_notifying(&mut self, activity: NewActivity, also_notify: Vec<Uuid>) -> AppResult<()> {
        self.pending.push(Pending {
            activity,
            also_notify,
            actor_user_id: self.actor_user_id,
            actor_profile_id: self.actor_profile_id,
            at: self.state.clock.now(),
        });
        Ok(())
    }

    /// Writes the activities, their stream positions and notifications, commits, then
    /// publishes the events in order.
    pub async fn commit(self) -> AppResult<()> {
        let Self { state, txn, pending, mut after_commit, .. } = self;
        let events = write_outbox(&txn, pending).await?;
        // Webhook deliveries of these events, in the same transaction: none is lost.
        after_commit.extend(crate::domain::webhook::queue_for_activities(&txn, &events).await?);
        // Mails of the notifications that want one now, in the same transaction.
        after_commit.extend(crate::domain::notification_mail::queue_for(state, &txn, &events).await?);
        txn.commit().await?;
        if !events.is_empty() {
            state.bus.publish(events);
        }
        for then in after_commit {
            then(state).await;
        }
        Ok(())
    }
}

/// Writes pending activities with their positions; returns their events.
async fn write_outbox(txn: &DatabaseTransaction, pending: Vec<Pending>) -> AppResult<Vec<DomainEvent>> {
    use std::collections::BTreeMap;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let inboxes = crate::domain::notification::inboxes(
        txn,
        pending.iter().map(|p| (&p.activity, p.also_notify.as_slice(), p.actor_profile_id)),
    )
    .await?;
    let organizations = contract_organizations(txn, &pending).await?;
    let streams: Vec<Vec<String>> = pending
        .iter()
        .zip(&inboxes)
        .map(|(p, users)| {
            let mut streams = delivery_streams(&p.activity);
            // A contract's activity also reaches its organization's admins.
            if let Some(org) = contract_of(&p.activity.topic).and_then(|c| organizations.get(&c)) {
                streams.push(organization_topic(*org));
            }
            streams.extend(users.iter().map(|u| crate::domain::notification::inbox_stream(*u)));
            streams.dedup();
            streams
        })
        .collect();
    // Lock every head in name order and reserve positions: (first free position, count).
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for stream in streams.iter().flatten() {
        let count = counts.entry(stream.as_str()).or_insert(0);
        *count = count.saturating_add(1);
    }
    let mut next: BTreeMap<&str, i64> = BTreeMap::new();
    for (stream, count) in counts {
        next.insert(stream, reserve(txn, stream, count).await?);
    }
    let mut events = Vec::with_capacity(pending.len());
    let mut positions = Vec::new();
    let mut notifications = Vec::new();
    for ((p, streams), users) in pending.into_iter().zip(&streams).zip(inboxes) {
        let row = activity::ActiveModel {
            topic: Set(p.activity.topic),
            actor_user_id: Set(p.actor_user_id),
            actor_profile_id: Set(p.actor_profile_id),
            action: Set(p.activity.action.as_str().to_owned()),
            subject_type: Set(p.activity.subject_type.to_owned()),
            subject_id: Set(p.activity.subject_id),
            before: Set(p.activity.before),
            after: Set(p.activity.after),
            created_at: Set(p.at),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut event = DomainEvent::from_row(row);
        for stream in streams {
            let Some(seq) = next.get_mut(stream.as_str()) else { continue };
            event.streams.push(StreamPos { stream: stream.clone(), seq: *seq });
            positions.push(entity::activity_stream::ActiveModel {
                stream: Set(stream.clone()),
                seq: Set(*seq),
                activity_id: Set(event.id),
            });
            *seq = seq.saturating_add(1);
        }
        notifications.extend(users.into_iter().map(|user_id| entity::notification::ActiveModel {
            user_id: Set(user_id),
            activity_id: Set(event.id),
            read_at: Set(None),
            created_at: Set(event.occurred_at),
            ..Default::default()
        }));
        events.push(event);
    }
    // In chunks: an event's attendees can be many, and a statement's parameters are bounded.
    let mut positions = positions.into_iter().peekable();
    while positions.peek().is_some() {
        entity::activity_stream::Entity::insert_many(positions.by_ref().take(INSERT_CHUNK)).exec(txn).await?;
    }
    let mut notifications = notifications.into_iter().peekable();
    while notifications.peek().is_some() {
        entity::notification::Entity::insert_many(notifications.by_ref().take(INSERT_CHUNK)).exec(txn).await?;
    }
    Ok(events)
}

/// Rows per multi-row insert of the outbox (4 parameters a row, well below SQLite's bound).
const INSERT_CHUNK: usize = 1_000;

/// The contract a topic is about, if it is a contract's.
fn contract_of(topic: &str) -> Option<Uuid> {
    topic.strip_prefix("contract:").and_then(|id| id.parse().ok())
}

/// The organizations of the contracts the pending activities are about (one query, none when
/// no activity is a contract's).
async fn contract_organizations(
    txn: &DatabaseTransaction,
    pending: &[Pending],
) -> AppResult<std::collections::HashMap<Uuid, Uuid>> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let mut contracts: Vec<Uuid> = pending.iter().filter_map(|p| contract_of(&p.activity.topic)).collect();
    contracts.sort_unstable();
    contracts.dedup();
    if contracts.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>)> = entity::contract::Entity::find()
        .select_only()
        .columns([entity::contract::Column::Id, entity::contract::Column::OrganizationId])
        .filter(entity::contract::Column::Id.is_in(contracts))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().filter_map(|(c, org)| org.map(|o| (c, o))).collect())
}

/// Takes a stream's head (locking its row until commit) and reserves `count` positions;
/// returns the first.
async fn reserve(txn: &DatabaseTransaction, stream: &str, count: i64) -> AppResult<i64> {
    use entity::stream_head::{ActiveModel, Column, Entity};
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
    let head = Entity::insert(ActiveModel { stream: Set(stream.to_owned()), seq: Set(count) })
        .on_conflict(
            OnConflict::column(Column::Stream)
                .value(Column::Seq, Expr::col((Entity, Column::Seq)).add(count))
                .to_owned(),
        )
        .exec_with_returning(txn)
        .await?;
    Ok(head.seq.saturating_sub(count).saturating_add(1))
}

/// The streams an activity is delivered on besides inboxes: its topic, the workers a task
/// change concerns (`worker:<profile>`), and the person whose access it changes
/// (`access:<profile>`: their live subscriptions re-check what they may follow).
fn delivery_streams(a: &NewActivity) -> Vec<String> {
    let mut streams = vec![a.topic.clone()];
    if a.subject_type == "task" {
        for key in ["assigneeProfileId", "previousAssigneeProfileId"] {
            if let Some(p) = a.profile_at(key) {
                streams.push(worker_stream(p));
            }
        }
    }
    let loses_or_changes_access = match a.action {
        Action::OrganizationMemberRemoved
        | Action::OrganizationMemberRoleChanged
        | Action::CommunityMemberLeft
        | Action::CommunityMemberBanned
        | Action::CommunityMemberRoleChanged => Some(a.subject_id),
        Action::AgentTokenRevoked => a.profile_at("agentProfileId"),
        Action::ApiKeyRevoked => a.profile_at("profileId"),
        Action::SessionEnded | Action::SessionReuseDetected => a.profile_at("profileId"),
        _ => None,
    };
    if let Some(p) = loses_or_changes_access {
        streams.push(access_stream(p));
    }
    // Every instance follows session revocations, to refuse the session's tokens.
    if matches!(a.action, Action::SessionEnded | Action::SessionReuseDetected) {
        streams.push(crate::auth::session::SESSIONS_STREAM.to_owned());
    }
    streams.dedup();
    streams
}

/// A page of activities matching `query`, newest first, by activity id (a feed: a contract's
/// activity, a community's moderation log).
pub async fn newest_first(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<activity::Entity>,
    page: &super::page::PageRequest,
) -> crate::error::AppResult<super::page::Page<activity::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let total = super::page::Total::of(&query);
    let query = match page.after {
        Some(after) => query.filter(activity::Column::Id.lt(after.key)),
        None => query,
    };
    let rows = query.order_by_desc(activity::Column::Id).limit(page.fetch()).all(db).await?;
    Ok(super::page::Page::from_rows(rows, page, |a| super::page::Cursor {
        key: a.id,
        at: a.created_at,
        id: Uuid::nil(),
    })
    .counting(total))
}

/// The stream of task changes that concern a worker (offered, held, taken away).
pub fn worker_stream(profile_id: Uuid) -> String {
    format!("worker:{profile_id}")
}

/// The stream of changes to a profile's access (memberships, roles, bans, revoked tokens).
pub fn access_stream(profile_id: Uuid) -> String {
    format!("access:{profile_id}")
}

/// Topic of everything about one user account (sessions, agents).
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

/// Topic of a profile's public changes.
pub fn profile_topic(profile_id: Uuid) -> String {
    format!("profile:{profile_id}")
}

/// Topic of an organization and its members.
pub fn organization_topic(organization_id: Uuid) -> String {
    format!("organization:{organization_id}")
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_has_a_unique_wire_name_that_parses_back() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(*action));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::parse("task.nonsense"), None);
    }
}
