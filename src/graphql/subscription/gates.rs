//! Who sees what on each subscription, and when its access is checked again.
use std::sync::{
    Mutex, PoisonError,
    atomic::{AtomicBool, Ordering},
};

use async_trait::async_trait;
use entity::organization_member::OrgRole;
use uuid::Uuid;

use crate::{
    auth::{Viewer, viewer::still_valid_now},
    domain::{self, Action, activity::organization_topic, contract::Access},
    error::{AppError, AppResult},
    events::{
        DomainEvent,
        follow::{Gate, Verdict},
    },
    state::AppState,
};

/// The state and viewer a gate re-checks with.
#[derive(Clone)]
struct Subscriber {
    state: AppState,
    viewer: Viewer,
}

impl Subscriber {
    fn new(state: &AppState, viewer: &Viewer) -> Self {
        Self { state: state.clone(), viewer: viewer.clone() }
    }
}

/// Streams of one's own (task updates, payouts, inbox): everything on them is the
/// subscriber's; only the credentials are re-checked.
pub(super) struct PersonalGate(Subscriber);

impl PersonalGate {
    pub(super) fn open(state: &AppState, viewer: &Viewer) -> Self {
        Self(Subscriber::new(state, viewer))
    }
}

#[async_trait]
impl Gate for PersonalGate {
    fn visible(&self, _event: &DomainEvent) -> bool {
        true
    }

    async fn check(&self) -> AppResult<()> {
        still_valid_now(&self.0.state, &self.0.viewer).await
    }
}

/// An organization's activity: members see the organization's own changes; owners and admins
/// also its contracts' activity (filed under the organization's stream) and its invitations
/// (which only they may list).
pub(super) struct OrganizationGate {
    who: Subscriber,
    organization: Uuid,
    topic: String,
    admin: AtomicBool,
}

impl OrganizationGate {
    pub(super) async fn open(state: &AppState, viewer: &Viewer, organization: Uuid) -> AppResult<Self> {
        let gate = Self {
            who: Subscriber::new(state, viewer),
            organization,
            topic: organization_topic(organization),
            admin: AtomicBool::new(false),
        };
        gate.check().await?;
        Ok(gate)
    }
}

#[async_trait]
impl Gate for OrganizationGate {
    fn visible(&self, event: &DomainEvent) -> bool {
        // Invitations, API keys and webhook endpoints are for owners and admins only (as the
        // audit log is).
        let admins_only =
            matches!(event.subject_type.as_str(), "organization_invitation" | "api_key" | "webhook_endpoint");
        let for_members = event.topic == self.topic && !admins_only;
        for_members || self.admin.load(Ordering::Relaxed)
    }

    async fn check(&self) -> AppResult<()> {
        still_valid_now(&self.who.state, &self.who.viewer).await?;
        let me = self.who.viewer.require_any()?;
        self.who.viewer.require_acting_in(Some(self.organization))?;
        let role = domain::organization::role_of(&self.who.state.db, self.organization, me).await?;
        let Some(role) = role else {
            return Err(AppError::forbidden("only members follow an organization's activity"));
        };
        self.admin.store(matches!(role, OrgRole::Owner | OrgRole::Admin), Ordering::Relaxed);
        Ok(())
    }
}

/// A community's activity: whoever may read it and is not banned.
pub(super) struct CommunityGate {
    who: Subscriber,
    community: Uuid,
    member: AtomicBool,
}

impl CommunityGate {
    pub(super) async fn open(state: &AppState, viewer: &Viewer, community: Uuid) -> AppResult<Self> {
        let gate = Self { who: Subscriber::new(state, viewer), community, member: AtomicBool::new(false) };
        gate.check().await?;
        Ok(gate)
    }
}

#[async_trait]
impl Gate for CommunityGate {
    fn visible(&self, _event: &DomainEvent) -> bool {
        true
    }

    fn on_event(&self, event: &DomainEvent) -> Verdict {
        // Members keep reading when it turns private; an outsider then stops, without asking
        // the database (thousands of outsiders may follow a public community).
        let private = event.after.as_ref().is_some_and(|a| a["visibility"] == "PRIVATE");
        if Action::CommunityUpdated.is(&event.action) && private && !self.member.load(Ordering::Relaxed) {
            return Verdict::End(AppError::forbidden("this community is private now; join it first"));
        }
        Verdict::Keep
    }

    async fn check(&self) -> AppResult<()> {
        still_valid_now(&self.who.state, &self.who.viewer).await?;
        let member = domain::community::may_follow(&self.who.state.db, &self.who.viewer, self.community).await?;
        self.member.store(member, Ordering::Relaxed);
        Ok(())
    }
}

/// A contract's activity: the client side sees everything, a worker its own tasks.
pub(super) struct ContractGate {
    who: Subscriber,
    contract: Uuid,
    access: Mutex<Access>,
}

impl ContractGate {
    pub(super) async fn open(state: &AppState, viewer: &Viewer, contract: Uuid) -> AppResult<Self> {
        let (_, access) = domain::contract::visible(&state.db, viewer, contract).await?;
        Ok(Self { who: Subscriber::new(state, viewer), contract, access: Mutex::new(access) })
    }

    fn access(&self) -> Access {
        *self.access.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Gate for ContractGate {
    fn visible(&self, event: &DomainEvent) -> bool {
        match self.access() {
            Access::Client { .. } => true,
            Access::Assignee(me) => domain::task::work::concerns(event, me),
        }
    }

    fn on_event(&self, event: &DomainEvent) -> Verdict {
        // A worker whose task was just taken may have lost the contract with it.
        match self.access() {
            Access::Assignee(me) if event.subject_type == "task" => {
                let mine = me.to_string();
                let taken = event.after.as_ref().is_some_and(|a| {
                    a["previousAssigneeProfileId"] == mine.as_str() && a["assigneeProfileId"] != mine.as_str()
                });
                if taken { Verdict::Recheck } else { Verdict::Keep }
            }
            _ => Verdict::Keep,
        }
    }

    async fn check(&self) -> AppResult<()> {
        still_valid_now(&self.who.state, &self.who.viewer).await?;
        let access = match domain::contract::visible(&self.who.state.db, &self.who.viewer, self.contract).await {
            Ok((_, access)) => access,
            Err(AppError::NotFound(_) | AppError::Forbidden(_)) => {
                return Err(AppError::forbidden("you no longer have access to this contract"));
            }
            Err(err) => return Err(err),
        };
        *self.access.lock().unwrap_or_else(PoisonError::into_inner) = access;
        Ok(())
    }
}
