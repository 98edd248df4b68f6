//! The unit of work: one transaction, its activity records, and events published after commit.
use entity::activity;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set, TransactionTrait};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::{auth::Viewer, error::AppResult, events::DomainEvent, state::AppState};

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
    EventCancelled => "event.cancelled",
    EventCreated => "event.created",
    EventRsvp => "event.rsvp",
    EventRsvpCancelled => "event.rsvp_cancelled",
    EventRsvpPromoted => "event.rsvp_promoted",
    GigCancelled => "gig.cancelled",
    GigClosed => "gig.closed",
    GigCreated => "gig.created",
    GigFilled => "gig.filled",
    GigPublished => "gig.published",
    GigUpdated => "gig.updated",
    OrganizationCreated => "organization.created",
    OrganizationMemberAdded => "organization.member_added",
    OrganizationMemberRemoved => "organization.member_removed",
    OrganizationMemberRoleChanged => "organization.member_role_changed",
    OutcomeAccepted => "outcome.accepted",
    OutcomeAdded => "outcome.added",
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
    TaskOffered => "task.offered",
    TaskRejected => "task.rejected",
    TaskReleased => "task.released",
    TaskReviewed => "task.reviewed",
    TaskSubmitted => "task.submitted",
    TaskUnrouted => "task.unrouted",
    ContractFunded => "contract.funded",
    ContractRefunded => "contract.refunded",
    OutcomeReleased => "outcome.released",
    DisputeOpened => "dispute.opened",
    DisputeResolved => "dispute.resolved",
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

/// A database transaction that records activities and publishes their events only once it
/// has committed. Dropping it without `commit` rolls everything back and publishes nothing.
pub struct UnitOfWork<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    actor_user_id: Option<Uuid>,
    actor_profile_id: Option<Uuid>,
    events: Vec<DomainEvent>,
}

impl<'a> UnitOfWork<'a> {
    /// Begins a transaction on behalf of `viewer`.
    pub async fn begin(state: &'a AppState, viewer: &Viewer) -> AppResult<Self> {
        Ok(Self {
            state,
            txn: state.db.begin().await?,
            actor_user_id: viewer.user_id(),
            actor_profile_id: viewer.profile_id(),
            events: Vec::new(),
        })
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

    /// The open transaction: every read and write of the work goes through it.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Writes an activity record in this transaction and queues its event.
    pub async fn record(&mut self, activity: NewActivity) -> AppResult<()> {
        let now = self.state.clock.now();
        let row = activity::ActiveModel {
            topic: Set(activity.topic),
            actor_user_id: Set(self.actor_user_id),
            actor_profile_id: Set(self.actor_profile_id),
            action: Set(activity.action.as_str().to_owned()),
            subject_type: Set(activity.subject_type.to_owned()),
            subject_id: Set(activity.subject_id),
            before: Set(activity.before),
            after: Set(activity.after),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        self.events.push(DomainEvent {
            id: row.id,
            topic: row.topic,
            action: row.action,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            actor_profile_id: row.actor_profile_id,
            after: row.after,
            occurred_at: row.created_at,
        });
        Ok(())
    }

    /// Commits, then publishes the recorded events in order.
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        if !self.events.is_empty() {
            self.state.bus.publish(self.events);
        }
        Ok(())
    }
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
