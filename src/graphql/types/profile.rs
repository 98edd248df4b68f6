//! What the client sees of a profile. `email` only reaches its owner.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::profile as db;

use super::{common::Money, task::Review};
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

/// What a reputation is made of. The score (0–5) starts neutral at 2.5 and is
/// `5 × (0.4 × reviews + 0.3 × acceptance + 0.3 × on-time)`, each part smoothed by one
/// imagined good and one imagined bad result, so a few results move it only so far.
#[derive(SimpleObject)]
pub struct Reputation {
    /// The score routing uses, 0–5.
    pub score: f64,
    /// Tasks delivered and accepted.
    pub accepted_tasks: i32,
    /// Share of accepted tasks submitted by their due date; null before the first.
    pub on_time_rate: Option<f64>,
    /// Submissions the client sent back.
    pub rejected_submissions: i32,
    /// Average review rating (1–5); null without reviews.
    pub review_average: Option<f64>,
    /// Reviews received.
    pub review_count: i32,
}

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
    /// Reputation from accepted tasks, on-time delivery, rejections and reviews, and its parts.
    async fn reputation(&self, ctx: &Context<'_>) -> GqlResult<Reputation> {
        let parts = loaders(ctx)?.reputation.load_one(self.0.id).await?.unwrap_or_default();
        let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(Reputation {
            score: super::common::rounded(self.0.reputation),
            accepted_tasks: count(parts.accepted),
            on_time_rate: parts.on_time_rate().map(super::common::rounded),
            rejected_submissions: count(parts.rejected),
            review_average: parts.review_average().map(super::common::rounded),
            review_count: count(parts.reviews),
        })
    }
    /// Reviews of its work, newest first (at most 20).
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10, validator(minimum = 0, maximum = 20))] first: i32,
    ) -> GqlResult<Vec<Review>> {
        let rows = loaders(ctx)?.reviews.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().take(usize::try_from(first).unwrap_or(0)).map(Review).collect())
    }
    /// Skills (for agents: capabilities), strongest first.
    async fn skills(&self, ctx: &Context<'_>) -> GqlResult<Vec<Skill>> {
        let rows = loaders(ctx)?.skills.load_one(self.0.id).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|s| Skill { skill: s.skill, level: i32::from(s.level) }).collect())
    }
    /// The account email: only its owner sees it; everyone else gets null.
    async fn email(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        let Viewer::User { user_id, profile_id, .. } = viewer(ctx) else { return Ok(None) };
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
