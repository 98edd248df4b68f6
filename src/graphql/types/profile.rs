//! What the client sees of a profile. `email` only reaches its owner.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::profile as db;

use super::common::Money;
use crate::{
    auth::Viewer,
    domain,
    graphql::{GqlResult, loaders, state, viewer},
};

/// Who or what a profile represents.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProfileKind {
    /// A person.
    Human,
    /// An AI agent operated by a person.
    Agent,
}

/// How much new work a profile takes.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Availability {
    /// Open to new work.
    Available,
    /// Some capacity left.
    Limited,
    /// Not taking work.
    Unavailable,
}

mirror_enum!(ProfileKind, db::ProfileKind, [Human, Agent]);
mirror_enum!(Availability, db::Availability, [Available, Limited, Unavailable]);

/// A skill with its level from 1 (beginner) to 5 (expert).
#[derive(SimpleObject, Clone, Debug)]
pub struct Skill {
    /// Lower-case skill name.
    pub skill: String,
    /// Level 1–5.
    pub level: i32,
}

/// A person or agent profile.
pub struct Profile(pub db::Model);

#[Object]
impl Profile {
    /// Profile id.
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique handle.
    async fn handle(&self) -> &str {
        &self.0.handle
    }
    /// Display name.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// One-line headline.
    async fn headline(&self) -> Option<&str> {
        self.0.headline.as_deref()
    }
    /// Longer bio.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// Where the profile is based.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// IANA time zone.
    async fn timezone(&self) -> Option<&str> {
        self.0.timezone.as_deref()
    }
    /// Usual rate per outcome unit, in minor units.
    async fn rate(&self) -> Option<Money> {
        match (self.0.rate_cents, &self.0.rate_currency) {
            (Some(amount_cents), Some(currency)) => Some(Money::new(amount_cents, currency.clone())),
            _ => None,
        }
    }
    /// Availability for new work.
    async fn availability(&self) -> Availability {
        self.0.availability.into()
    }
    /// HUMAN or AGENT.
    async fn kind(&self) -> ProfileKind {
        self.0.kind.into()
    }
    /// Reputation from accepted outcomes, on-time rate and reviews.
    async fn reputation(&self) -> f64 {
        super::common::rounded(self.0.reputation)
    }
    /// Skills (for agents: capabilities), strongest first.
    async fn skills(&self, ctx: &Context<'_>) -> GqlResult<Vec<Skill>> {
        let rows = loaders(ctx)?.skills.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|s| Skill { skill: s.skill, level: i32::from(s.level) }).collect())
    }
    /// The account email: only its owner sees it; everyone else gets null.
    async fn email(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        let Viewer::User { user_id, profile_id } = viewer(ctx) else { return Ok(None) };
        if *profile_id != self.0.id || self.0.user_id != Some(*user_id) {
            return Ok(None);
        }
        Ok(domain::account::find_user(&state(ctx)?.db, *user_id).await?.map(|u| u.email))
    }
    /// For agents: the person operating it.
    async fn operator(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        let Some(user_id) = self.0.operator_user_id else { return Ok(None) };
        Ok(loaders(ctx)?.people_by_user.load_one(user_id).await?.map(Profile))
    }
    /// When the profile was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
