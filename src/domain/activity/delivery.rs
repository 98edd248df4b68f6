//! Who is told what: the delivery rules of every action, as one table, and the inboxes they
//! resolve to.
use std::collections::{HashMap, HashSet};

use entity::profile;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Action, NewActivity, access_stream, worker_stream};
use crate::{auth::session::SESSIONS_STREAM, error::AppResult};

/// A profile an activity names.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// The profile under this key of the after-snapshot.
    At(&'static str),
    /// The profile under the first key of the after-snapshot that holds one.
    FirstAt(&'static str, &'static str),
    /// The subject itself (a profile).
    Subject,
    /// The payee whose `payouts:<profile>` topic the activity is filed under.
    Payee,
}

/// Beyond the followers of its topic, who hears of an action.
#[derive(Clone, Copy, Debug)]
struct Told {
    /// Whose inbox it reaches (the actor's never).
    inbox: Option<Who>,
    /// Whose access it changes: their live subscriptions re-check what they may follow.
    access: Option<Who>,
    /// Every instance hears it, to refuse the ended session's tokens.
    sessions: bool,
}

const fn inbox(who: Who) -> Told {
    Told { inbox: Some(who), access: None, sessions: false }
}

const fn access(who: Who) -> Told {
    Told { inbox: None, access: Some(who), sessions: false }
}

const fn session_end() -> Told {
    Told { inbox: None, access: Some(Who::At("profileId")), sessions: true }
}

/// The delivery rules. An action not listed reaches its topic's followers only; every task
/// change also reaches its worker and previous worker (`worker_streams`), and a contract's
/// activity its organization (the unit of work adds it).
#[rustfmt::skip]
const RULES: &[(Action, Told)] = &[
    // Work offered, given, taken back, paid.
    (Action::TaskOffered,                    inbox(Who::At("assigneeProfileId"))),
    (Action::TaskAssigned,                   inbox(Who::At("assigneeProfileId"))),
    (Action::TaskAccepted,                   inbox(Who::At("assigneeProfileId"))),
    (Action::TaskRejected,                   inbox(Who::FirstAt("assigneeProfileId", "previousAssigneeProfileId"))),
    (Action::PayoutPending,                  inbox(Who::Payee)),
    (Action::PayoutAvailable,                inbox(Who::Payee)),
    (Action::PayoutProcessing,               inbox(Who::Payee)),
    (Action::PayoutPaid,                     inbox(Who::Payee)),
    (Action::PayoutFailed,                   inbox(Who::Payee)),
    // Communities, conversations, events.
    (Action::CommunityJoinApproved,          inbox(Who::Subject)),
    (Action::CommunityJoinRejected,          inbox(Who::Subject)),
    (Action::CommentCreated,                 inbox(Who::At("postAuthorProfileId"))),
    (Action::EventRsvpPromoted,              inbox(Who::At("profileId"))),
    // Organizations.
    (Action::OrganizationInvitationSent,     inbox(Who::At("profileId"))),
    (Action::OrganizationInvitationRevoked,  inbox(Who::At("profileId"))),
    (Action::OrganizationInvitationAccepted, inbox(Who::At("invitedBy"))),
    (Action::OrganizationInvitationDeclined, inbox(Who::At("invitedBy"))),
    // Access that ends or changes.
    (Action::OrganizationMemberRemoved,      access(Who::Subject)),
    (Action::OrganizationMemberRoleChanged,  access(Who::Subject)),
    (Action::CommunityMemberLeft,            access(Who::Subject)),
    (Action::CommunityMemberBanned,          access(Who::Subject)),
    (Action::CommunityMemberRoleChanged,     access(Who::Subject)),
    (Action::AgentTokenRevoked,              access(Who::At("agentProfileId"))),
    (Action::ApiKeyRevoked,                  access(Who::At("profileId"))),
    (Action::SessionEnded,                   session_end()),
    (Action::SessionReuseDetected,           session_end()),
];

/// The rule of an action, if it has one.
fn told(action: Action) -> Option<Told> {
    RULES.iter().find(|(a, _)| *a == action).map(|(_, told)| *told)
}

/// The profile `who` names in `a`.
fn resolve(who: Who, a: &NewActivity) -> Option<Uuid> {
    match who {
        Who::At(key) => a.profile_at(key),
        Who::FirstAt(first, then) => a.profile_at(first).or_else(|| a.profile_at(then)),
        Who::Subject => Some(a.subject_id),
        Who::Payee => a.topic.strip_prefix("payouts:").and_then(|p| p.parse().ok()),
    }
}

/// The inbox stream of a user.
pub fn inbox_stream(user_id: Uuid) -> String {
    format!("inbox:{user_id}")
}

/// The streams an activity is delivered on besides inboxes: its topic, the workers a task
/// change concerns, the person whose access it changes, and the sessions stream.
pub(super) fn delivery_streams(a: &NewActivity) -> Vec<String> {
    let mut streams = vec![a.topic.clone()];
    if a.subject_type == "task" {
        for key in ["assigneeProfileId", "previousAssigneeProfileId"] {
            if let Some(p) = a.profile_at(key) {
                streams.push(worker_stream(p));
            }
        }
    }
    if let Some(told) = told(a.action) {
        if let Some(p) = told.access.and_then(|who| resolve(who, a)) {
            streams.push(access_stream(p));
        }
        if told.sessions {
            streams.push(SESSIONS_STREAM.to_owned());
        }
    }
    streams.dedup();
    streams
}

/// For each activity (with the profiles it also notifies and its actor), the users whose
/// inbox it reaches: its recipients' accounts (an agent's operator for an agent), never the
/// actor's own. One query for the whole unit of work.
pub(super) async fn inboxes<'a>(
    db: &impl ConnectionTrait,
    activities: impl Iterator<Item = (&'a NewActivity, &'a [Uuid], Option<Uuid>)>,
) -> AppResult<Vec<Vec<Uuid>>> {
    let wanted: Vec<Vec<Uuid>> = activities
        .map(|(a, also, actor)| {
            let named = told(a.action).and_then(|t| t.inbox).and_then(|who| resolve(who, a));
            named.into_iter().chain(also.iter().copied()).filter(|p| Some(*p) != actor).collect()
        })
        .collect();
    let profiles: Vec<Uuid> = wanted.iter().flatten().copied().collect::<HashSet<Uuid>>().into_iter().collect();
    if profiles.is_empty() {
        return Ok(vec![Vec::new(); wanted.len()]);
    }
    let mut owners: HashMap<Uuid, Uuid> = HashMap::new();
    // In chunks: a statement's parameters are bounded (an event's attendees can be many).
    for chunk in profiles.chunks(1_000) {
        let rows = profile::Entity::find()
            .select_only()
            .columns([profile::Column::Id, profile::Column::UserId, profile::Column::OperatorUserId])
            .filter(profile::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(Uuid, Option<Uuid>, Option<Uuid>)>()
            .all(db)
            .await?;
        owners.extend(rows.into_iter().filter_map(|(id, user, operator)| user.or(operator).map(|u| (id, u))));
    }
    Ok(wanted
        .into_iter()
        .map(|profiles| {
            let mut users: Vec<Uuid> = profiles.iter().filter_map(|p| owners.get(p).copied()).collect();
            users.sort_unstable();
            users.dedup();
            users
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{Action, NewActivity, RULES, delivery_streams};

    #[test]
    fn every_action_has_at_most_one_delivery_rule() {
        for (i, (action, _)) in RULES.iter().enumerate() {
            assert!(!RULES.iter().skip(i.saturating_add(1)).any(|(a, _)| a == action), "{action:?} twice");
        }
    }

    #[test]
    fn a_removed_member_hears_on_their_access_stream_and_a_logout_on_every_instance() {
        let subject = uuid::Uuid::new_v4();
        let removed = NewActivity {
            topic: "organization:x".into(),
            action: Action::OrganizationMemberRemoved,
            subject_type: "profile",
            subject_id: subject,
            before: None,
            after: None,
        };
        assert_eq!(delivery_streams(&removed), vec!["organization:x".to_owned(), format!("access:{subject}")]);
        let ended = NewActivity {
            topic: "user:y".into(),
            action: Action::SessionEnded,
            subject_type: "session",
            subject_id: uuid::Uuid::new_v4(),
            before: None,
            after: Some(serde_json::json!({ "profileId": subject.to_string() })),
        };
        let streams = delivery_streams(&ended);
        assert_eq!(streams, vec!["user:y".to_owned(), format!("access:{subject}"), "sessions".to_owned()]);
    }
}
