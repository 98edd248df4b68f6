//! The action catalogue: every kind of change, with its stored and published wire name, and
//! the activity a command records.
use serde_json::Value as Json;
use uuid::Uuid;

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
