//! A property test of the money flow: long random sequences of funding (with reused and
//! conflicting idempotency keys), activation, delivery, acceptance (with replays), rejection,
//! cancellation, disputes and their resolution, time passing, withdrawals, and provider
//! failures. After every step: no internal error, `ledger-check` clean, every currency sums to
//! zero across all accounts, and a cancelled contract's escrow is empty.
use proptest::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use semasocial::auth::{AgentScope, Viewer};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{TestApp, spawn_app_with},
    work::{agent, contract, id, outcome, task, worker},
};

#[derive(Clone, Debug)]
enum Op {
    Fund { c: usize, cents: i64, key: u8 },
    Activate { c: usize },
    Deliver { c: usize },
    Accept { c: usize, key: Option<u8> },
    Reject { c: usize },
    Cancel { c: usize },
    Dispute { c: usize, by_worker: bool },
    Resolve { c: usize, how: u8, part: i64 },
    Pass { hours: i64 },
    Withdraw { who: usize, cents: i64, key: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, prop_oneof![Just(9_000i64), Just(1_000i64), 1..12_000i64], 0..4u8)
            .prop_map(|(c, cents, key)| Op::Fund { c, cents, key }),
        3 => (0..2usize).prop_map(|c| Op::Activate { c }),
        10 => (0..2usize).prop_map(|c| Op::Deliver { c }),
        4 => (0..2usize, proptest::option::of(0..3u8)).prop_map(|(c, key)| Op::Accept { c, key }),
        1 => (0..2usize).prop_map(|c| Op::Reject { c }),
        1 => (0..2usize).prop_map(|c| Op::Cancel { c }),
        1 => (0..2usize, any::<bool>()).prop_map(|(c, by_worker)| Op::Dispute { c, by_worker }),
        1 => (0..2usize, 0..3u8, 1..9_000i64).prop_map(|(c, how, part)| Op::Resolve { c, how, part }),
        2 => (1..100i64).prop_map(|hours| Op::Pass { hours }),
        3 => (0..3usize, prop_oneof![1..3_000i64, 1..10_000i64], 0..4u8).prop_map(|(who, cents, key)| Op::Withdraw { who, cents, key }),
    ]
}

/// The people of one simulated world and their contracts.
struct World {
    client: Viewer,
    payees: Vec<Viewer>,
    judge: Viewer,
    by_profile: Vec<(Uuid, Viewer)>,
    contracts: Vec<(String, String)>,
}

async fn person(app: &TestApp, handle: &str, skills: Value) -> Viewer {
    let user = worker(app, handle, skills).await;
    let profile: Uuid = user.profile_id.parse().unwrap();
    let row = entity::profile::Entity::find_by_id(profile).one(&app.state.db).await.unwrap().unwrap();
    Viewer::User { user_id: row.user_id.unwrap(), profile_id: profile }
}

async fn world(app: &TestApp) -> World {
    let ada = app.register("ada").await;
    let client = {
        let profile: Uuid = ada.profile_id.parse().unwrap();
        let row = entity::profile::Entity::find_by_id(profile).one(&app.state.db).await.unwrap().unwrap();
        Viewer::User { user_id: row.user_id.unwrap(), profile_id: profile }
    };
    let bob = person(app, "bob", json!([{ "skill": "design", "level": 5 }])).await;
    let cat = person(app, "cat", json!([{ "skill": "design", "level": 3 }])).await;
    let oper_user = app.register("oper").await;
    let oper = {
        let profile: Uuid = oper_user.profile_id.parse().unwrap();
        let row = entity::profile::Entity::find_by_id(profile).one(&app.state.db).await.unwrap().unwrap();
        Viewer::User { user_id: row.user_id.unwrap(), profile_id: profile }
    };
    let (bot_id, _) = agent(
        app,
        &oper_user,
        "data_bot",
        json!([{ "skill": "data", "level": 4 }]),
        json!(["TASKS_READ", "TASKS_WRITE"]),
    )
    .await;
    let bot = Viewer::Agent {
        agent_id: bot_id.parse().unwrap(),
        operator_user_id: oper.user_id().unwrap(),
        token_id: Uuid::nil(),
        scopes: AgentScope::ALL.to_vec(),
    };
    let judge = person(app, "judge", json!([])).await;
    let mut contracts = Vec::new();
    for _ in 0..2 {
        let c = contract(app, &ada, None, 10_000).await;
        let o = outcome(app, &ada, &c, "Result", 9_000, json!([{ "description": "Done" }])).await;
        for (mode, skill, weight) in [("JUDGMENT", "design", 2), ("JUDGMENT", "design", 1), ("AUTOMATED", "data", 1)] {
            id(&task(app, &ada, &o, json!({ "title": "part", "mode": mode, "skills": [skill], "weight": weight }))
                .await);
        }
        contracts.push((c, o));
    }
    let by_profile = [&bob, &cat, &bot].iter().map(|v| (v.profile_id().unwrap(), (*v).clone())).collect();
    World { client, payees: vec![bob, cat, oper], judge, by_profile, contracts }
}

async fn step(app: &TestApp, w: &World, op: &Op) -> Vec<Value> {
    let run = |q: &'static str, vars: Value, who: Viewer| async move { app.execute_as(q, vars, who).await };
    match op {
        Op::Fund { c, cents, key } => vec![
            run(
                "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId } }",
                json!({ "i": { "contractId": w.contracts[*c].0, "amountCents": cents, "idempotencyKey": format!("k{key}") } }),
                w.client.clone(),
            )
            .await,
        ],
        Op::Activate { c } => {
            // Cover what the outcome still lacks first.
            let escrow = run(
                "query($id: ID!) { contract(id: $id) { escrow { remaining { amountCents } } } }",
                json!({ "id": w.contracts[*c].0 }),
                w.client.clone(),
            )
            .await;
            let lacking = 9_000 - escrow["data"]["contract"]["escrow"]["remaining"]["amountCents"].as_i64().unwrap_or(0);
            let mut out = vec![escrow];
            if lacking > 0 {
                out.push(
                    run(
                        "mutation($i: FundContractInput!) { fundContract(input: $i) { transactionId } }",
                        json!({ "i": { "contractId": w.contracts[*c].0, "amountCents": lacking, "idempotencyKey": format!("cover{c}-{lacking}") } }),
                        w.client.clone(),
                    )
                    .await,
                );
            }
            for action in ["OPEN", "ACTIVATE"] {
                out.push(
                    run(
                        "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
                        json!({ "i": { "contractId": w.contracts[*c].0, "action": action } }),
                        w.client.clone(),
                    )
                    .await,
                );
            }
            out
        }
        Op::Cancel { c } => vec![
            run(
                "mutation($i: ChangeContractStatusInput!) { changeContractStatus(input: $i) { status } }",
                json!({ "i": { "contractId": w.contracts[*c].0, "action": "CANCEL" } }),
                w.client.clone(),
            )
            .await,
        ],
        Op::Deliver { c } => {
            let body = run(
                "query($id: ID!) { contract(id: $id) { outcomes { tasks { id status assignee { id } } } } }",
                json!({ "id": w.contracts[*c].0 }),
                w.client.clone(),
            )
            .await;
            let mut out = vec![body.clone()];
            let tasks = body["data"]["contract"]["outcomes"][0]["tasks"].as_array().cloned().unwrap_or_default();
            for t in tasks {
                let assignee: Option<Uuid> = t["assignee"]["id"].as_str().and_then(|s| s.parse().ok());
                let holder = assignee.and_then(|a| w.by_profile.iter().find(|(p, _)| *p == a).map(|(_, v)| v.clone()));
                let task = json!({ "i": { "taskId": t["id"] } });
                let (query, who, vars) = match (t["status"].as_str(), holder) {
                    (Some("OFFERED"), Some(h)) => ("mutation($i: TaskIdInput!) { acceptTaskOffer(input: $i) { status } }", h, task),
                    (Some("ASSIGNED" | "REJECTED"), Some(h)) => (
                        "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { status } }",
                        h,
                        json!({ "i": { "taskId": t["id"], "deliverable": { "text": "done" } } }),
                    ),
                    (Some("SUBMITTED"), _) => {
                        ("mutation($i: TaskIdInput!) { acceptTask(input: $i) { status } }", w.client.clone(), task)
                    }
                    _ => continue,
                };
                out.push(run(query, vars, who).await);
            }
            out
        }
        Op::Accept { c, key } => vec![
            run(
                "mutation($i: OutcomeIdInput!) { acceptOutcome(input: $i) { status } }",
                json!({ "i": { "outcomeId": w.contracts[*c].1, "idempotencyKey": key.map(|k| format!("a{k}")) } }),
                w.client.clone(),
            )
            .await,
        ],
        Op::Reject { c } => vec![
            run(
                "mutation($i: RejectOutcomeInput!) { rejectOutcome(input: $i) { status } }",
                json!({ "i": { "outcomeId": w.contracts[*c].1, "feedback": "again" } }),
                w.client.clone(),
            )
            .await,
        ],
        Op::Dispute { c, by_worker } => {
            let who = if *by_worker { w.payees[0].clone() } else { w.client.clone() };
            vec![
                run(
                    "mutation($i: OpenDisputeInput!) { openDispute(input: $i) { id } }",
                    json!({ "i": { "outcomeId": w.contracts[*c].1, "reason": "late" } }),
                    who,
                )
                .await,
            ]
        }
        Op::Resolve { c, how, part } => {
            let found = run(
                "query($id: ID!) { contract(id: $id) { outcomes { dispute { id } } } }",
                json!({ "id": w.contracts[*c].0 }),
                w.client.clone(),
            )
            .await;
            let Some(dispute) = found["data"]["contract"]["outcomes"][0]["dispute"]["id"].as_str().map(str::to_owned) else {
                return vec![found];
            };
            let resolution = ["RELEASE", "REFUND", "SPLIT"][usize::from(*how) % 3];
            vec![
                run(
                    "mutation($i: ResolveDisputeInput!) { resolveDispute(input: $i) { status } }",
                    json!({ "i": { "disputeId": dispute, "resolution": resolution, "releaseCents": part } }),
                    w.judge.clone(),
                )
                .await,
            ]
        }
        Op::Pass { hours } => {
            app.clock.advance(chrono::Duration::hours(*hours));
            app.sweep().await;
            Vec::new()
        }
        Op::Withdraw { who, cents, key } => {
            // Mostly within the available balance (an amount that fits), sometimes past it.
            let balance = run("{ me { balance { available } } }", json!({}), w.payees[*who].clone()).await;
            let available = balance["data"]["me"]["balance"][0]["available"].as_i64().unwrap_or(0);
            let amount = if available > 0 && cents % 5 != 0 { 1 + cents % available } else { *cents };
            vec![
                balance,
                run(
                    "mutation($i: RequestPayoutInput!) { requestPayout(input: $i) { status } }",
                    json!({ "i": { "amountCents": amount, "currency": "EUR", "idempotencyKey": format!("w{key}") } }),
                    w.payees[*who].clone(),
                )
                .await,
            ]
        }
    }
}

async fn invariants(app: &TestApp, w: &World, op: &Op, responses: &[Value]) -> Result<(), String> {
    for r in responses {
        if r["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["extensions"]["code"] == "INTERNAL")) {
            return Err(format!("{op:?} failed internally: {r}"));
        }
    }
    let violations = semasocial::domain::ledger::check::run(&app.state.db).await.map_err(|e| e.to_string())?;
    if !violations.is_empty() {
        return Err(format!("after {op:?}: {violations:#?}"));
    }
    let accounts = entity::ledger_account::Entity::find().all(&app.state.db).await.map_err(|e| e.to_string())?;
    let total: i64 = accounts.iter().map(|a| a.balance_cents).sum();
    if total != 0 {
        return Err(format!("after {op:?}: money was created or lost, accounts sum to {total}"));
    }
    for (c, _) in &w.contracts {
        let id: Uuid = c.parse().map_err(|_| "bad id".to_owned())?;
        let row = entity::contract::Entity::find_by_id(id).one(&app.state.db).await.map_err(|e| e.to_string())?;
        if row.is_some_and(|r| r.status == entity::contract::ContractStatus::Cancelled) {
            let escrow = entity::ledger_account::Entity::find()
                .filter(entity::ledger_account::Column::OwnerId.eq(id))
                .filter(entity::ledger_account::Column::Kind.eq(entity::ledger_account::AccountKind::Escrow))
                .one(&app.state.db)
                .await
                .map_err(|e| e.to_string())?;
            if escrow.is_some_and(|e| e.balance_cents != 0) {
                return Err(format!("after {op:?}: a cancelled contract still holds escrow"));
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("MONEY_SIMULATION_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_money_flows_never_create_lose_or_double_pay_money(ops in proptest::collection::vec(op(), 20..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome: Result<(), String> = runtime.block_on(async {
            let app = spawn_app_with(|c| {
                c.payments.arbiter_handles = vec!["judge".into()];
                c.payments.payout_hold = std::time::Duration::from_secs(3600);
                c.payments.simulated.decline_charges_from_cents = Some(9_500);
                c.payments.simulated.fail_payouts_from_cents = Some(6_000);
            })
            .await;
            let w = world(&app).await;
            for op in &ops {
                let responses = step(&app, &w, op).await;
                invariants(&app, &w, op, &responses).await?;
            }
            Ok(())
        });
        prop_assert!(outcome.is_ok(), "{}", outcome.err().unwrap_or_default());
    }
}
