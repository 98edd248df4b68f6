//! Editing the caller's profile and skills.
use async_graphql::{Context, InputObject, MaybeUndefined, Object};

use crate::graphql::types::money::Cents;
use crate::{
    domain::profile::{self, ProfileUpdate, SkillInput as Skill},
    graphql::{
        GqlResult, state,
        types::{Availability, Profile, common::change},
        viewer,
    },
};

/// A skill and its level (1–5).
#[derive(InputObject)]
pub struct SkillInput {
    /// Skill name, e.g. "rust".
    pub skill: String,
    /// 1 (beginner) to 5 (expert).
    pub level: i32,
}

impl From<SkillInput> for Skill {
    fn from(s: SkillInput) -> Self {
        Self { skill: s.skill, level: s.level }
    }
}

/// An amount in minor units with its currency.
#[derive(InputObject)]
pub struct MoneyInput {
    /// Minor units (cents).
    pub amount_cents: Cents,
    /// ISO 4217 code.
    pub currency: String,
}

/// Input of `updateMyProfile`: omitted fields stay, null clears.
#[derive(InputObject, Default)]
pub struct UpdateProfileInput {
    /// New display name (cannot be cleared).
    pub display_name: Option<String>,
    /// One-line headline.
    pub headline: MaybeUndefined<String>,
    /// Longer bio.
    pub bio: MaybeUndefined<String>,
    /// Where you are based.
    pub location: MaybeUndefined<String>,
    /// IANA time zone, e.g. Europe/Berlin.
    pub timezone: MaybeUndefined<String>,
    /// Your usual rate.
    pub rate: MaybeUndefined<MoneyInput>,
    /// Availability for new work.
    pub availability: Option<Availability>,
}

/// Input of `setMySkills`.
#[derive(InputObject)]
pub struct SetSkillsInput {
    /// The complete new skill list (replaces the old one).
    pub skills: Vec<SkillInput>,
}

/// Profile mutations.
#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Edits your profile (agents with the PROFILE_WRITE scope edit their own).
    async fn update_my_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> GqlResult<Profile> {
        let update = ProfileUpdate {
            display_name: input.display_name,
            headline: change(input.headline, |v| v),
            bio: change(input.bio, |v| v),
            location: change(input.location, |v| v),
            timezone: change(input.timezone, |v| v),
            rate: change(input.rate, |m| (m.amount_cents.0, m.currency)),
            availability: input.availability.map(Into::into),
        };
        Ok(Profile(profile::update_mine(state(ctx)?, viewer(ctx), update).await?))
    }

    /// Replaces your skills.
    async fn set_my_skills(&self, ctx: &Context<'_>, input: SetSkillsInput) -> GqlResult<Profile> {
        let skills = input.skills.into_iter().map(Into::into).collect();
        Ok(Profile(profile::set_my_skills(state(ctx)?, viewer(ctx), skills).await?))
    }
}
