//! `seed-demo`: a few people, agents and an organization so GraphiQL has something to show.
use std::sync::Arc;

use anyhow::Context;

use crate::{
    auth::{AgentScope, Viewer},
    clock::SystemClock,
    config::Config,
    domain::{
        account::{self, RegisterInput},
        agent::{self, RegisterAgentInput},
        organization::{self, CreateOrganizationInput},
        profile::{self, SkillInput},
    },
    startup::build_state,
};

/// Demo password of every seeded account.
pub const DEMO_PASSWORD: &str = "demo-password-123";

/// Seeds the demo data; running it twice leaves the first run's data in place.
pub async fn run(config: Config) -> anyhow::Result<String> {
    let state = build_state(config, Arc::new(SystemClock)).await?;
    if profile::by_handle(&state.db, "ada").await.map_err(err)?.is_some() {
        return Ok("demo data already present (log in as ada@demo.semasocial.dev)".into());
    }
    let people = [
        ("ada@demo.semasocial.dev", "ada", "Ada Lovelace", vec![("rust", 5), ("data analysis", 4)]),
        ("grace@demo.semasocial.dev", "grace", "Grace Hopper", vec![("compilers", 5), ("technical writing", 4)]),
        ("linus@demo.semasocial.dev", "linus", "Linus Example", vec![("devops", 4), ("rust", 3)]),
    ];
    let mut viewers = Vec::new();
    for (email, handle, name, skills) in people {
        let session = account::register(
            &state,
            RegisterInput {
                email: email.into(),
                password: DEMO_PASSWORD.into(),
                handle: handle.into(),
                display_name: name.into(),
            },
        )
        .await
        .map_err(err)?;
        let viewer = Viewer::User { user_id: session.user.id, profile_id: session.profile.id };
        let skills = skills.into_iter().map(|(s, l)| SkillInput { skill: s.into(), level: l }).collect();
        profile::set_my_skills(&state, &viewer, skills).await.map_err(err)?;
        viewers.push(viewer);
    }
    let ada = viewers.first().cloned().context("no demo users")?;
    let bot = agent::register(
        &state,
        &ada,
        RegisterAgentInput {
            handle: "summarizer_bot".into(),
            display_name: "Summarizer Bot".into(),
            headline: Some("Summarises documents and transcripts".into()),
            capabilities: vec![
                SkillInput { skill: "summarization".into(), level: 4 },
                SkillInput { skill: "translation".into(), level: 3 },
            ],
        },
    )
    .await
    .map_err(err)?;
    let (token, _) = agent::issue_token(&state, &ada, bot.id, "demo", AgentScope::ALL.to_vec()).await.map_err(err)?;
    let org = organization::create(
        &state,
        &ada,
        CreateOrganizationInput {
            slug: "acme".into(),
            name: "Acme Outcomes Ltd".into(),
            description: Some("Buys outcomes, not hours.".into()),
        },
    )
    .await
    .map_err(err)?;
    organization::add_member(&state, &ada, org.id, "grace", entity::organization_member::OrgRole::Admin)
        .await
        .map_err(err)?;
    Ok(format!("seeded 3 people (password {DEMO_PASSWORD}), agent @summarizer_bot (token {token}), organization acme"))
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
