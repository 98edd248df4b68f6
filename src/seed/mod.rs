//! `seed-demo`: a few people, agents and an organization so GraphiQL has something to show;
//! with `--scale`, a large deterministic data set for benchmarks besides (`scale.rs`).
mod contracts;
pub mod scale;

use std::sync::Arc;

use anyhow::Context;
use entity::{community::CommunityVisibility, gig::GigVisibility};

use crate::{
    auth::{AgentScope, Viewer},
    clock::SystemClock,
    config::Config,
    domain::{
        account::{self, RegisterInput},
        agent::{self, RegisterAgentInput},
        community::{self, CommunityInput},
        contract::{self, ContractInput, machine::ContractAction},
        conversation,
        event::{self, EventInput},
        gig::{
            GigAction,
            posting::{self, GigInput},
        },
        ledger,
        organization::{self, CreateOrganizationInput},
        outcome::{self, Criterion, OutcomeInput},
        profile::{self, SkillInput},
        proposal::{self, ProposalInput},
        task::{self, TaskInput, lifecycle},
    },
    startup::build_state,
};

/// Demo password of every seeded account.
pub const DEMO_PASSWORD: &str = "demo-password-123";

/// Seeds the demo data, then the benchmark data set at `scale` (1.0: 100,000 gigs…); each
/// part is left as it is when already present.
pub async fn run_scaled(config: Config, scale: f64) -> anyhow::Result<String> {
    if !(scale > 0.0 && scale <= 10.0) {
        anyhow::bail!("--scale must be above 0 and at most 10");
    }
    let demo = run(config.clone()).await?;
    let state = build_state(config.clone(), Arc::new(SystemClock)).await?;
    let db = state.db.clone();
    if scale::present(&db).await? {
        return Ok(format!("{demo}\nbenchmark data already present (log in as person0@scale.semasocial.dev)"));
    }
    let counts = scale::Counts::at(scale);
    let hash = crate::auth::password::hash_password(config.hashing, DEMO_PASSWORD.to_owned()).await.map_err(err)?;
    let started = std::time::Instant::now();
    scale::seed(&db, counts, &hash, chrono::Utc::now()).await.context("seeding the benchmark data")?;
    contracts::seed(&state, counts).await?;
    // Fresh planner statistics: without them the pool's generic plans for the bulk-loaded
    // tables are slow by orders of magnitude until autovacuum happens to analyze them.
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE").await.context("analyzing the tables")?;
    Ok(format!(
        "{demo}\nseeded at scale {scale} in {:.1} s: {counts:?} (password {DEMO_PASSWORD})",
        started.elapsed().as_secs_f64()
    ))
}

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
        // Demo accounts move money at once: their addresses count as verified.
        crate::domain::credentials::mark_verified(&state.db, session.user.id, state.clock.now()).await.map_err(err)?;
        let viewer =
            Viewer::User { user_id: session.user.id, profile_id: session.profile.id, session_id: None, key: None };
        let skills = skills.into_iter().map(|(s, l)| SkillInput { skill: s.into(), level: l }).collect();
        profile::set_my_skills(&state, &viewer, skills).await.map_err(err)?;
        viewers.push(viewer);
    }
    let ada = viewers.first().cloned().context("no demo users")?;
    // Linus operates the agent: a client never routes its own money to agents it runs.
    let linus = viewers.get(2).cloned().context("no demo users")?;
    let bot = agent::register(
        &state,
        &linus,
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
    let (token, _) = agent::issue_token(&state, &linus, bot.id, "demo", AgentScope::ALL.to_vec()).await.map_err(err)?;
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
    let (grace, linus) = (viewers[1].clone(), viewers[2].clone());
    let invitation = organization::invite(&state, &ada, org.id, "grace", entity::organization_member::OrgRole::Admin)
        .await
        .map_err(err)?;
    organization::answer(&state, &grace, invitation.id, organization::Answer::Accept).await.map_err(err)?;

    let rust = community::create(
        &state,
        &ada,
        CommunityInput {
            slug: Some("rustaceans".into()),
            name: Some("Rustaceans".into()),
            description: Some("People who build with Rust".into()),
            visibility: Some(CommunityVisibility::Public),
            tags: Some(vec!["rust".into()]),
        },
    )
    .await
    .map_err(err)?;
    community::create(
        &state,
        &grace,
        CommunityInput {
            slug: Some("founders-circle".into()),
            name: Some("Founders' circle".into()),
            description: Some("Private: ask to join".into()),
            visibility: Some(CommunityVisibility::Private),
            tags: None,
        },
    )
    .await
    .map_err(err)?;
    for viewer in [&grace, &linus] {
        community::join(&state, viewer, rust.id, None).await.map_err(err)?;
    }
    let post =
        conversation::create_post(&state, &ada, rust.id, "Welcome!", "Introduce yourself here.").await.map_err(err)?;
    conversation::pin_post(&state, &ada, post.id, true).await.map_err(err)?;
    let hello =
        conversation::create_comment(&state, &grace, post.id, None, "Hi, I write compilers.").await.map_err(err)?;
    conversation::create_comment(&state, &linus, post.id, Some(hello.id), "Welcome, Grace!").await.map_err(err)?;
    conversation::create_post(&state, &linus, rust.id, "Async or threads?", "Discuss.").await.map_err(err)?;

    let now = state.clock.now();
    let gigs = [
        (
            "Sales data pipeline",
            "Clean and load two years of sales data with Rust and SQL",
            vec!["rust", "sql"],
            250_000,
            Some(org.id),
            None,
        ),
        (
            "Compiler error messages",
            "Rewrite our parser's error messages to be friendly",
            vec!["compilers"],
            120_000,
            None,
            None,
        ),
        (
            "Community website",
            "A small site for the Rustaceans community",
            vec!["rust", "design"],
            60_000,
            None,
            Some(rust.id),
        ),
    ];
    let mut first_gig = None;
    for (title, description, skills, budget, organization_id, community_id) in gigs {
        let created = posting::create(
            &state,
            &ada,
            GigInput {
                organization_id,
                community_id,
                title: Some(title.into()),
                description: Some(description.into()),
                skills: Some(skills.into_iter().map(str::to_owned).collect()),
                budget_cents: Some(budget),
                currency: Some("EUR".into()),
                deadline: Some(now + chrono::Duration::days(30)),
                remote: Some(true),
                location: None,
                visibility: Some(if community_id.is_some() { GigVisibility::Community } else { GigVisibility::Public }),
            },
        )
        .await
        .map_err(err)?;
        posting::act(&state, &ada, created.id, GigAction::Publish).await.map_err(err)?;
        first_gig.get_or_insert(created.id);
    }
    if let Some(gig_id) = first_gig {
        let input = ProposalInput {
            gig_id,
            cover_note: "I have built ETL pipelines in Rust.".into(),
            amount_cents: 230_000,
            eta_days: 14,
        };
        proposal::submit(&state, &linus, input).await.map_err(err)?;
    }
    let start = now + chrono::Duration::days(7);
    let meetup = event::create(
        &state,
        &ada,
        EventInput {
            community_id: Some(rust.id),
            title: "Rust meetup".into(),
            description: Some("Lightning talks and pizza".into()),
            starts_at: start,
            ends_at: start + chrono::Duration::hours(2),
            timezone: "Europe/London".into(),
            venue: Some("The Engine Room, London".into()),
            online_url: Some("https://meet.example/rust-meetup".into()),
            capacity: 2,
        },
    )
    .await
    .map_err(err)?;
    for viewer in [&grace, &linus, &ada] {
        event::rsvp(&state, viewer, meetup.id).await.map_err(err)?;
    }
    // An active outcome contract: the agent holds the automated task, Linus has an offer.
    let (c, _) = contract::create(
        &state,
        &ada,
        ContractInput {
            organization_id: Some(org.id),
            title: "Quarterly operations report".into(),
            description: "Summaries of every ops review, and a human read of the risks.".into(),
            currency: "EUR".into(),
            budget_cents: 200_000,
        },
    )
    .await
    .map_err(err)?;
    let (report, _) = outcome::add(
        &state,
        &ada,
        c.id,
        OutcomeInput {
            title: "Report delivered".into(),
            criteria: vec![
                Criterion {
                    key: String::new(),
                    description: "At most five pages".into(),
                    metric: Some("pages".into()),
                    comparator: Some("<=".into()),
                    target: Some(5.0),
                },
                Criterion {
                    key: String::new(),
                    description: "Risks reviewed by a person".into(),
                    metric: None,
                    comparator: None,
                    target: None,
                },
            ],
            amount_cents: 80_000,
            due_at: Some(now + chrono::Duration::days(21)),
        },
    )
    .await
    .map_err(err)?;
    for (title, mode, skill, criterion) in [
        ("Summarise the review transcripts", entity::task::TaskMode::Automated, "summarization", "c1"),
        ("Review operational risks", entity::task::TaskMode::Judgment, "devops", "c2"),
    ] {
        let input = TaskInput {
            title: title.into(),
            description: String::new(),
            skills: vec![skill.into()],
            mode,
            weight: 1,
            due_at: Some(now + chrono::Duration::days(14)),
            criteria: vec![criterion.into()],
            escalate_after: 2,
        };
        task::add(&state, &ada, report.id, input).await.map_err(err)?;
    }
    // The client funds the whole budget into escrow, then opens and activates the contract.
    let funding = ledger::funding::FundInput {
        contract_id: c.id,
        amount_cents: c.budget_cents,
        idempotency_key: "seed-demo-funding".into(),
        payment_method_id: None,
    };
    ledger::funding::fund_contract(&state, &ada, funding).await.map_err(err)?;
    for action in [ContractAction::Open, ContractAction::Activate] {
        lifecycle::change_contract_status(&state, &ada, c.id, action, None).await.map_err(err)?;
    }
    Ok(format!(
        "seeded 3 people (password {DEMO_PASSWORD}), agent @summarizer_bot operated by linus (token {token}), organization acme, \
         communities rustaceans and founders-circle with posts, 3 open gigs with a proposal, a full meetup with a waitlist, \
         and an active, funded contract (the agent holds one task, linus has an offer)"
    ))
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
