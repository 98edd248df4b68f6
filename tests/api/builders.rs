//! Test builders (crates.io's style): setup rows written through the domain, in-process, so a
//! test states only what it is about. Tests of the API itself (registration, tokens, HTTP)
//! keep calling it; everything else builds its world here.
use entity::{organization_member::OrgRole, task::TaskMode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use semasocial::{
    auth::{AgentScope, Viewer},
    domain::{
        account::{self, RegisterInput},
        agent::{self, RegisterAgentInput},
        contract::{self, ContractInput, machine::ContractAction},
        ledger::funding::{FundInput, fund_contract},
        organization::{self, CreateOrganizationInput},
        outcome::{self, OutcomeInput},
        profile::{self, SkillInput},
        task::{self, TaskInput, lifecycle, review, work},
    },
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, TestUser};

impl TestUser {
    /// The viewer this user is in-process (no session: builders act outside any request).
    pub fn viewer(&self) -> Viewer {
        Viewer::User { user_id: self.user_id, profile_id: self.profile_uuid(), session_id: None, key: None }
    }

    /// The profile id as a UUID.
    pub fn profile_uuid(&self) -> Uuid {
        self.profile_id.parse().expect("a profile id")
    }
}

/// Skills as the API takes them (`[{ "skill": "sql", "level": 4 }]`).
fn skills(value: &Value) -> Vec<SkillInput> {
    value
        .as_array()
        .expect("a list of skills")
        .iter()
        .map(|s| SkillInput {
            skill: s["skill"].as_str().expect("a skill name").to_owned(),
            level: i32::try_from(s["level"].as_i64().expect("a level")).expect("a small level"),
        })
        .collect()
}

impl TestApp {
    /// A person with a verified address and a session: `handle@example.com`.
    pub async fn a_person(&self, handle: &str) -> TestUser {
        // Time passes between setup steps, as it does between requests.
        self.clock.advance(chrono::Duration::milliseconds(1));
        let input = RegisterInput {
            email: format!("{handle}@example.com"),
            password: PASSWORD.into(),
            handle: handle.into(),
            display_name: handle.into(),
        };
        let session = account::register(&self.state, input).await.expect("registered");
        semasocial::domain::credentials::mark_verified(&self.state.db, session.user.id, self.clock_now())
            .await
            .expect("verified");
        TestUser {
            email: session.user.email,
            handle: handle.to_owned(),
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            profile_id: session.profile.id.to_string(),
            user_id: session.user.id,
        }
    }

    /// A person with these skills (`[{ "skill": "sql", "level": 4 }]`).
    pub async fn a_worker(&self, handle: &str, with_skills: Value) -> TestUser {
        let person = self.a_person(handle).await;
        profile::set_my_skills(&self.state, &person.viewer(), skills(&with_skills)).await.expect("skills set");
        person
    }

    /// An agent operated by `operator`, with these capabilities and a token with these scopes
    /// (`["TASKS_READ", "TASKS_WRITE"]`): (its profile id, the token).
    pub async fn an_agent(
        &self,
        operator: &TestUser,
        handle: &str,
        capabilities: Value,
        scopes: Value,
    ) -> (String, String) {
        self.clock.advance(chrono::Duration::milliseconds(1));
        let viewer = operator.viewer();
        let input = RegisterAgentInput {
            handle: handle.into(),
            display_name: handle.into(),
            headline: None,
            capabilities: skills(&capabilities),
        };
        let agent = agent::register(&self.state, &viewer, input).await.expect("agent registered");
        let scopes: Vec<AgentScope> = scopes
            .as_array()
            .expect("a list of scopes")
            .iter()
            .map(|s| {
                let name = s.as_str().expect("a scope").to_ascii_lowercase().replacen('_', ":", 1);
                AgentScope::parse(&name).unwrap_or_else(|| panic!("no scope {name}"))
            })
            .collect();
        let (token, _) = agent::issue_token(&self.state, &viewer, agent.id, "worker", scopes).await.expect("token");
        (agent.id.to_string(), token)
    }

    /// An organization owned by `owner`: its id.
    pub async fn an_organization(&self, owner: &TestUser, slug: &str) -> String {
        self.clock.advance(chrono::Duration::milliseconds(1));
        let input = CreateOrganizationInput { slug: slug.into(), name: "Acme".into(), description: None };
        let org = organization::create(&self.state, &owner.viewer(), input).await.expect("organization created");
        org.id.to_string()
    }

    /// A draft contract of `client` (for `organization`, if given) in EUR: its id.
    pub async fn a_contract(&self, client: &TestUser, organization: Option<&str>, budget_cents: i64) -> String {
        self.clock.advance(chrono::Duration::milliseconds(1));
        let input = ContractInput {
            organization_id: organization.map(|o| o.parse().expect("an organization id")),
            title: "Analytics".into(),
            description: String::new(),
            currency: "EUR".into(),
            budget_cents,
        };
        let (contract, _) = contract::create(&self.state, &client.viewer(), input).await.expect("contract created");
        contract.id.to_string()
    }

    /// Funds `contract`'s whole budget (a fresh idempotency key), then opens and activates it.
    pub async fn fund_and_activate(&self, client: &TestUser, contract: &str) {
        let viewer = client.viewer();
        let id: Uuid = contract.parse().expect("a contract id");
        let found =
            entity::contract::Entity::find_by_id(id).one(&self.state.db).await.expect("read").expect("the contract");
        let input = FundInput {
            contract_id: id,
            amount_cents: found.budget_cents,
            idempotency_key: Uuid::new_v4().to_string(),
            payment_method_id: Some("pm_card_visa".into()),
        };
        fund_contract(&self.state, &viewer, input).await.expect("funded");
        for action in [ContractAction::Open, ContractAction::Activate] {
            lifecycle::change_contract_status(&self.state, &viewer, id, action, None).await.expect("status changed");
        }
    }

    /// Makes `who` a member of `organization` with `role`: the membership row, written directly
    /// (what an accepted invitation leaves).
    pub async fn a_member(&self, organization: &str, who: &TestUser, role: OrgRole) {
        self.clock.advance(chrono::Duration::milliseconds(1));
        entity::organization_member::ActiveModel {
            organization_id: Set(organization.parse().expect("an organization id")),
            profile_id: Set(who.profile_uuid()),
            role: Set(role),
            created_at: Set(self.clock_now()),
        }
        .insert(&self.state.db)
        .await
        .expect("membership written");
    }

    /// A contract of `amount` in `currency` with one outcome split into tasks of `weights`, one
    /// worker each (`worker0`, …, skill `skill0`, …), funded and active, every task delivered and
    /// accepted: the outcome awaits the client's (`ada`'s) verdict.
    pub async fn a_submitted_outcome(&self, currency: &str, amount: i64, weights: &[i64]) -> Submitted {
        let client = self.a_person("ada").await;
        let viewer = client.viewer();
        let input = ContractInput {
            organization_id: None,
            title: "Launch".into(),
            description: String::new(),
            currency: currency.into(),
            budget_cents: amount,
        };
        let (contract, _) = contract::create(&self.state, &viewer, input).await.expect("contract created");
        let criteria = serde_json::from_value(json!([{ "description": "Live" }])).expect("criteria");
        let input = OutcomeInput { title: "Launched".into(), criteria, amount_cents: amount, due_at: None };
        let (outcome, _) = outcome::add(&self.state, &viewer, contract.id, input).await.expect("outcome added");
        let (mut workers, mut tasks) = (Vec::new(), Vec::new());
        for (i, weight) in weights.iter().enumerate() {
            let skill = format!("skill{i}");
            workers.push(self.a_worker(&format!("worker{i}"), json!([{ "skill": skill, "level": 4 }])).await);
            let input = TaskInput {
                title: format!("part {i}"),
                description: String::new(),
                skills: vec![skill],
                mode: TaskMode::Judgment,
                weight: i32::try_from(*weight).expect("a small weight"),
                due_at: None,
                criteria: vec!["c1".into()],
                escalate_after: 0,
            };
            tasks.push(task::add(&self.state, &viewer, outcome.id, input).await.expect("task added").0.id);
        }
        self.fund_and_activate(&client, &contract.id.to_string()).await;
        for (task, worker) in tasks.iter().zip(&workers) {
            let as_worker = worker.viewer();
            work::accept_offer(&self.state, &as_worker, *task).await.expect("offer accepted");
            let deliverable = review::Deliverable {
                text: Some("done".into()),
                url: None,
                metrics: Vec::new(),
                provenance: None,
                plan: None,
            };
            review::submit(&self.state, &as_worker, *task, deliverable).await.expect("submitted");
            review::accept(&self.state, &viewer, *task).await.expect("accepted");
        }
        Submitted {
            client,
            workers,
            contract: contract.id.to_string(),
            outcome: outcome.id.to_string(),
            tasks: tasks.iter().map(Uuid::to_string).collect(),
        }
    }
}

/// An outcome awaiting its client's verdict, with who did what (`a_submitted_outcome`).
pub struct Submitted {
    pub client: TestUser,
    pub workers: Vec<TestUser>,
    pub contract: String,
    pub outcome: String,
    pub tasks: Vec<String>,
}
