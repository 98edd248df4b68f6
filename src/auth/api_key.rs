//! API keys: what a key may reach (its scopes, by area) and the one table that says which area
//! every root field, and every private field below one, belongs to.
use std::sync::Arc;

use uuid::Uuid;

/// Prefix of API key secrets, so secret scanners can find leaked ones.
pub const API_KEY_PREFIX: &str = "ssk_";

/// A part of the API a key is scoped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    /// The person's profile and skills, and public profiles.
    Profile,
    /// Organizations: members, invitations, the audit log.
    Organizations,
    /// Contracts, outcomes, tasks and playbooks.
    Contracts,
    /// Funding contracts and disputes (the client's money).
    Payments,
    /// The person's balance, payout account and withdrawals.
    Payouts,
    /// Gigs and proposals.
    Gigs,
    /// Communities, posts, comments and events.
    Communities,
    /// The inbox.
    Notifications,
    /// An organization's webhook endpoints and deliveries.
    Webhooks,
}

impl Area {
    /// Every area.
    pub const ALL: [Area; 9] = [
        Self::Profile,
        Self::Organizations,
        Self::Contracts,
        Self::Payments,
        Self::Payouts,
        Self::Gigs,
        Self::Communities,
        Self::Notifications,
        Self::Webhooks,
    ];

    /// The areas an organization's key may be scoped to: the organization's own business.
    pub const ORGANIZATION: [Area; 4] = [Self::Organizations, Self::Contracts, Self::Payments, Self::Webhooks];

    /// The area's name in scopes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Organizations => "organizations",
            Self::Contracts => "contracts",
            Self::Payments => "payments",
            Self::Payouts => "payouts",
            Self::Gigs => "gigs",
            Self::Communities => "communities",
            Self::Notifications => "notifications",
            Self::Webhooks => "webhooks",
        }
    }
}

/// Reading or changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Queries and subscriptions.
    Read,
    /// Mutations (and reading: write implies read).
    Write,
}

/// One scope of a key: an area and a level, written `contracts:read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiScope {
    /// The area.
    pub area: Area,
    /// The level.
    pub level: Level,
}

impl ApiScope {
    /// The scope's name.
    pub fn name(self) -> String {
        let level = match self.level {
            Level::Read => "read",
            Level::Write => "write",
        };
        format!("{}:{level}", self.area.as_str())
    }

    /// Parses a scope name (`area:read` or `area:write`).
    pub fn parse(name: &str) -> Option<Self> {
        let (area, level) = name.trim().split_once(':')?;
        let area = Area::ALL.into_iter().find(|a| a.as_str() == area)?;
        let level = match level {
            "read" => Level::Read,
            "write" => Level::Write,
            _ => return None,
        };
        Some(Self { area, level })
    }

    /// Every scope name, for messages and the schema's description.
    pub fn all_names() -> Vec<String> {
        Area::ALL
            .into_iter()
            .flat_map(|area| [Level::Read, Level::Write].map(|level| Self { area, level }.name()))
            .collect()
    }
}

/// What the API key a request came with allows: its scopes, and the organization it is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGrant {
    /// The key's id.
    pub key_id: Uuid,
    /// Its scopes.
    pub scopes: Vec<ApiScope>,
    /// The organization it acts for, if bound to one.
    pub organization_id: Option<Uuid>,
}

impl KeyGrant {
    /// A grant from a stored key's scope list (unknown names are dropped).
    pub fn new(key_id: Uuid, scopes: &str, organization_id: Option<Uuid>) -> Arc<Self> {
        Arc::new(Self {
            key_id,
            scopes: scopes.split_whitespace().filter_map(ApiScope::parse).collect(),
            organization_id,
        })
    }

    /// Whether the key reaches `area` at `level` (write implies read).
    pub fn allows(&self, area: Area, level: Level) -> bool {
        self.scopes.iter().any(|s| s.area == area && s.level >= level)
    }
}

/// Who, with a key, may use a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Keys with the area's scope, personal or an organization's.
    Any(Area),
    /// Personal keys with the area's scope (it is about the person, not an organization).
    Personal(Area),
    /// Personal keys that read every area (it reaches any object by id).
    EveryArea,
    /// Never with a key (credentials: signing in, sessions, keys themselves, agents' tokens).
    Never,
}

use Area::*;
use Reach::*;

/// Every root field of the schema (`Query`, `Mutation`, `Subscription`) and where keys may
/// use it. Queries and subscriptions need the area's read scope, mutations its write scope. A
/// root field missing here is refused to keys (a unit test keeps the table complete).
pub const ROOT_FIELDS: &[(&str, Reach)] = &[
    // Query
    ("me", Personal(Profile)),
    ("agentTokens", Never),
    ("profile", Personal(Profile)),
    ("profiles", Personal(Profile)),
    ("organization", Any(Organizations)),
    ("myOrganizationInvitations", Personal(Organizations)),
    ("communities", Personal(Communities)),
    ("community", Personal(Communities)),
    ("myCommunities", Personal(Communities)),
    ("post", Personal(Communities)),
    ("events", Personal(Communities)),
    ("myEvents", Personal(Communities)),
    ("event", Personal(Communities)),
    ("gigs", Personal(Gigs)),
    ("gig", Personal(Gigs)),
    ("proposal", Personal(Gigs)),
    ("myProposals", Personal(Gigs)),
    ("contract", Any(Contracts)),
    ("myContracts", Any(Contracts)),
    ("playbooks", Any(Contracts)),
    ("task", Any(Contracts)),
    ("myTasks", Personal(Contracts)),
    ("claimableTasks", Personal(Contracts)),
    ("notifications", Personal(Notifications)),
    ("unreadNotificationCount", Personal(Notifications)),
    ("node", EveryArea),
    ("nodes", EveryArea),
    ("webhookDeliveries", Any(Webhooks)),
    ("webhookEventTypes", Any(Webhooks)),
    // Mutation
    ("register", Never),
    ("login", Never),
    ("refreshToken", Never),
    ("logout", Never),
    ("verifyEmail", Never),
    ("resendVerificationEmail", Never),
    ("requestPasswordReset", Never),
    ("resetPassword", Never),
    ("changePassword", Never),
    ("createApiKey", Never),
    ("revokeApiKey", Never),
    ("registerAgent", Never),
    ("setAgentCapabilities", Never),
    ("issueAgentToken", Never),
    ("revokeAgentToken", Never),
    ("updateMyProfile", Personal(Profile)),
    ("setMySkills", Personal(Profile)),
    ("createOrganization", Personal(Organizations)),
    ("inviteOrganizationMember", Any(Organizations)),
    ("acceptOrganizationInvitation", Personal(Organizations)),
    ("declineOrganizationInvitation", Personal(Organizations)),
    ("revokeOrganizationInvitation", Any(Organizations)),
    ("changeMemberRole", Any(Organizations)),
    ("removeMember", Any(Organizations)),
    ("leaveOrganization", Personal(Organizations)),
    ("createCommunity", Personal(Communities)),
    ("updateCommunity", Personal(Communities)),
    ("joinCommunity", Personal(Communities)),
    ("leaveCommunity", Personal(Communities)),
    ("approveJoinRequest", Personal(Communities)),
    ("rejectJoinRequest", Personal(Communities)),
    ("setCommunityRole", Personal(Communities)),
    ("banMember", Personal(Communities)),
    ("unbanMember", Personal(Communities)),
    ("createPost", Personal(Communities)),
    ("editPost", Personal(Communities)),
    ("removePost", Personal(Communities)),
    ("pinPost", Personal(Communities)),
    ("createComment", Personal(Communities)),
    ("editComment", Personal(Communities)),
    ("removeComment", Personal(Communities)),
    ("createEvent", Personal(Communities)),
    ("updateEvent", Personal(Communities)),
    ("cancelEvent", Personal(Communities)),
    ("rsvp", Personal(Communities)),
    ("cancelRsvp", Personal(Communities)),
    ("createGig", Personal(Gigs)),
    ("updateGig", Personal(Gigs)),
    ("publishGig", Personal(Gigs)),
    ("closeGig", Personal(Gigs)),
    ("cancelGig", Personal(Gigs)),
    ("submitProposal", Personal(Gigs)),
    ("shortlistProposal", Personal(Gigs)),
    ("declineProposal", Personal(Gigs)),
    ("withdrawProposal", Personal(Gigs)),
    ("acceptProposal", Personal(Gigs)),
    ("createContract", Any(Contracts)),
    ("changeContractStatus", Any(Contracts)),
    ("addOutcome", Any(Contracts)),
    ("addTask", Any(Contracts)),
    ("routeTask", Any(Contracts)),
    ("acceptTaskOffer", Personal(Contracts)),
    ("declineTaskOffer", Personal(Contracts)),
    ("claimTask", Personal(Contracts)),
    ("reassignTask", Any(Contracts)),
    ("submitTask", Personal(Contracts)),
    ("acceptTask", Any(Contracts)),
    ("rejectTask", Any(Contracts)),
    ("acceptOutcome", Any(Contracts)),
    ("tickCriterion", Any(Contracts)),
    ("rejectOutcome", Any(Contracts)),
    ("reviewTask", Any(Contracts)),
    ("createPlaybook", Any(Contracts)),
    ("decomposeOutcome", Any(Contracts)),
    ("planOutcome", Any(Contracts)),
    ("approvePlan", Any(Contracts)),
    ("fundContract", Any(Payments)),
    ("openDispute", Any(Payments)),
    ("resolveDispute", Any(Payments)),
    ("connectPayoutAccount", Personal(Payouts)),
    ("requestPayout", Personal(Payouts)),
    ("markNotificationsRead", Personal(Notifications)),
    ("setNotificationMailPreference", Personal(Notifications)),
    ("unsubscribeFromMail", Never),
    ("createWebhookEndpoint", Any(Webhooks)),
    ("deleteWebhookEndpoint", Any(Webhooks)),
    ("enableWebhookEndpoint", Any(Webhooks)),
    ("replayWebhookDelivery", Any(Webhooks)),
    // Subscription
    ("organizationActivity", Any(Organizations)),
    ("communityActivity", Personal(Communities)),
    ("contractActivity", Any(Contracts)),
    ("myTaskUpdates", Personal(Contracts)),
    ("payoutUpdated", Personal(Payouts)),
];

/// Fields below the root that belong to another area than the field they are reached
/// through (`Type.field`): a key scoped to profiles reads `me`, not `me { payouts }`.
pub const NESTED_FIELDS: &[(&str, &str, Reach)] = &[
    ("Me", "balance", Personal(Payouts)),
    ("Me", "payoutAccount", Personal(Payouts)),
    ("Me", "payouts", Personal(Payouts)),
    ("Me", "earnings", Personal(Payouts)),
    ("Me", "workDashboard", Personal(Contracts)),
    ("Me", "organizations", Personal(Organizations)),
    ("Me", "apiKeys", Never),
    ("Me", "notificationMailPreferences", Personal(Notifications)),
    ("Organization", "apiKeys", Never),
    ("Organization", "dashboard", Any(Contracts)),
    ("Organization", "members", Any(Organizations)),
    ("Organization", "invitations", Any(Organizations)),
    ("Community", "members", Personal(Communities)),
    ("Community", "posts", Personal(Communities)),
    ("Community", "events", Personal(Communities)),
    ("Community", "moderationLog", Personal(Communities)),
    ("Community", "bans", Personal(Communities)),
    ("Community", "joinRequests", Personal(Communities)),
    ("Contract", "escrow", Any(Payments)),
    ("Organization", "activity", Any(Organizations)),
    ("Organization", "webhookEndpoints", Any(Webhooks)),
];

/// Where a root field stands for keys (`Never` when the table does not name it).
pub fn root_reach(field: &str) -> Reach {
    ROOT_FIELDS.iter().find(|(name, _)| *name == field).map_or(Never, |(_, reach)| *reach)
}

/// Where a nested field stands, if the table names it (others follow the field above them).
pub fn nested_reach(parent_type: &str, field: &str) -> Option<Reach> {
    NESTED_FIELDS.iter().find(|(ty, name, _)| *ty == parent_type && *name == field).map(|(_, _, reach)| *reach)
}

/// Why `grant` may not use a field of `reach` at `level`, if it may not.
pub fn refusal(grant: &KeyGrant, reach: Reach, level: Level, field: &str) -> Option<String> {
    let needs = |area: Area| ApiScope { area, level }.name();
    match reach {
        Never => Some(format!("API keys cannot use `{field}`; sign in")),
        Personal(_) | EveryArea if grant.organization_id.is_some() => {
            Some(format!("`{field}` is about a person; an organization's API key cannot use it"))
        }
        Any(area) | Personal(area) if !grant.allows(area, level) => {
            Some(format!("the API key lacks the {} scope for `{field}`", needs(area)))
        }
        EveryArea if !Area::ALL.into_iter().all(|area| grant.allows(area, Level::Read)) => {
            Some(format!("`{field}` reaches any object: the API key needs the read scope of every area"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scopes: &str, organization: bool) -> Arc<KeyGrant> {
        KeyGrant::new(Uuid::nil(), scopes, organization.then(Uuid::nil))
    }

    #[test]
    fn scopes_parse_and_write_implies_read() {
        assert_eq!(ApiScope::parse("contracts:write").map(ApiScope::name).as_deref(), Some("contracts:write"));
        assert!(ApiScope::parse("contracts:admin").is_none());
        assert!(ApiScope::parse("money:read").is_none());
        let key = grant("contracts:write gigs:read", false);
        assert!(key.allows(Contracts, Level::Read));
        assert!(key.allows(Gigs, Level::Read));
        assert!(!key.allows(Gigs, Level::Write));
        assert_eq!(ApiScope::all_names().len(), Area::ALL.len() * 2);
    }

    #[test]
    fn refusals_follow_the_table() {
        let read = grant("contracts:read organizations:read", true);
        assert!(refusal(&read, root_reach("contract"), Level::Read, "contract").is_none());
        assert!(refusal(&read, root_reach("createContract"), Level::Write, "createContract").is_some());
        assert!(refusal(&read, root_reach("me"), Level::Read, "me").is_some(), "personal fields refuse org keys");
        assert!(refusal(&read, root_reach("login"), Level::Write, "login").is_some());
        assert!(refusal(&read, root_reach("aFieldNobodyListed"), Level::Read, "x").is_some(), "unlisted is refused");
        let personal = grant("profile:read", false);
        assert!(refusal(&personal, root_reach("me"), Level::Read, "me").is_none());
        let payouts = nested_reach("Me", "payouts").unwrap_or(Never);
        assert!(refusal(&personal, payouts, Level::Read, "payouts").is_some());
        assert!(refusal(&personal, root_reach("node"), Level::Read, "node").is_some());
        let every = Area::ALL.map(|a| format!("{}:read", a.as_str())).join(" ");
        assert!(refusal(&grant(&every, false), root_reach("node"), Level::Read, "node").is_none());
    }
}
