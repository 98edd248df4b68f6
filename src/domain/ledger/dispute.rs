//! Disputes: either side may dispute a rejected or overdue outcome; its amount moves from
//! escrow into the dispute's hold, which nothing but the dispute's resolution moves (a contract
//! with an open dispute cannot be cancelled). The parties are the client side (its current
//! owners and admins act for it) and the workers on the outcome's tasks (an agent's operator
//! acts for its agent). A party concedes only its own share: the client releases what is held
//! to the workers; a worker refunds its weighted share to the client, and the dispute closes
//! once every worker has conceded. An arbiter (`arbiter`) decides the rest — release, refund
//! or split — and is never a party to the dispute it decides. An outcome is disputed at most
//! once, and a disputed outcome is never paid by acceptance.
use std::collections::HashSet;

use entity::{
    contract::{self as contract_db, ContractStatus},
    dispute::{self, DisputeStatus, Resolution},
    dispute_concession, dispute_share,
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    outcome::{self, OutcomeStatus},
    profile,
    task::{self, TaskStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Entry, Posting, account, idempotency, payer_of, post, release};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        contract::{self, Access},
        money::{self, Money},
        validate, wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `openDispute`: the client's owners and admins, or a worker on one of the outcome's tasks (an
/// agent's operator for its agent), dispute a REJECTED or overdue outcome with a reason; its
/// amount is held.
pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    outcome_id: Uuid,
    reason: &str,
    idempotency_key: &str,
) -> AppResult<dispute::Model> {
    let (user, me) = viewer.require_user()?;
    let reason = validate::text(reason, "reason", 1, 5_000, true)?;
    let key = idempotency::validate(idempotency_key)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found = outcome::Entity::find_by_id(outcome_id).one(work.txn()).await?.ok_or(AppError::NotFound("outcome"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    // An organization's API key disputes only its organization's contracts (as their client).
    viewer.require_acting_in(contract.organization_id)?;
    let outcome = lock_outcome(work.txn(), outcome_id).await?;
    let tasks = task::Entity::find().filter(task::Column::OutcomeId.eq(outcome.id)).all(work.txn()).await?;
    // The workers with a share: the outcome's live tasks that have one.
    let workers: Vec<task::Model> =
        tasks.into_iter().filter(|t| t.status != TaskStatus::Cancelled && t.assignee_profile_id.is_some()).collect();
    let holders: Vec<Uuid> = workers.iter().filter_map(|t| t.assignee_profile_id).collect();
    let party = party_of(work.txn(), viewer, user, &contract, &holders).await?.ok_or(AppError::NotFound("outcome"))?;
    if let Party::Client { .. } = party {
        // Only the client's owners and admins dispute for it, with the role held to commit.
        contract::require_manager(work.txn(), viewer, &contract).await?;
    }
    let scope = party.key_scope(&contract, me);
    let request = json!({ "outcomeId": outcome_id, "reason": reason });
    if let idempotency::Claim::Replay(first) =
        idempotency::claim(work.txn(), state, scope, &key, "openDispute", &request).await?
    {
        let id = idempotency::replayed_id(&first, "disputeId")?;
        return dispute::Entity::find_by_id(id).one(work.txn()).await?.ok_or(AppError::NotFound("dispute"));
    }
    if !matches!(contract.status, ContractStatus::Active | ContractStatus::Disputed) {
        return Err(AppError::conflict(format!("a {} contract takes no disputes", wire(contract.status))));
    }
    let now = state.clock.now();
    let overdue = outcome.due_at.is_some_and(|due| due < now)
        && !matches!(outcome.status, OutcomeStatus::Accepted | OutcomeStatus::Submitted);
    if outcome.status != OutcomeStatus::Rejected && !overdue {
        return Err(AppError::conflict(format!(
            "the outcome is {}; only a REJECTED or overdue outcome is disputed",
            wire(outcome.status)
        )));
    }
    if dispute::Entity::find().filter(dispute::Column::OutcomeId.eq(outcome.id)).one(work.txn()).await?.is_some() {
        return Err(AppError::conflict("this outcome has been disputed already"));
    }
    let amount = Money::of(outcome.amount_cents, &contract.currency, "amountCents")?;
    let escrow = super::escrow::require_covers(&work, &contract, &amount, "in dispute").await?;
    let dispute = dispute::ActiveModel {
        id: Set(Uuid::new_v4()),
        contract_id: Set(contract.id),
        outcome_id: Set(outcome.id),
        opened_by_profile_id: Set(me),
        reason: Set(reason),
        currency: Set(contract.currency.clone()),
        amount_cents: Set(outcome.amount_cents),
        status: Set(DisputeStatus::Open),
        resolution: Set(None),
        released_cents: Set(None),
        refunded_cents: Set(None),
        resolved_by_profile_id: Set(None),
        created_at: Set(now),
        resolved_at: Set(None),
    }
    .insert(work.txn())
    .await?;
    // Each worker's share is fixed now: later changes to the tasks move none of it.
    for (position, (task_id, cents)) in (0_i32..).zip(money::task_shares(dispute.amount_cents, &workers)) {
        let Some(profile_id) = workers.iter().find(|t| t.id == task_id).and_then(|t| t.assignee_profile_id) else {
            continue;
        };
        dispute_share::ActiveModel {
            dispute_id: Set(dispute.id),
            task_id: Set(task_id),
            profile_id: Set(profile_id),
            cents: Set(cents),
            position: Set(position),
        }
        .insert(work.txn())
        .await?;
    }
    let hold = account(&work, AccountKind::DisputeHold, dispute.id, &contract.currency, false).await?;
    let mut posting = Posting::new(TransactionKind::DisputeHold, &contract.currency, "outcome disputed");
    posting.contract = Some(contract.id);
    posting.outcome = Some(outcome.id);
    posting.dispute = Some(dispute.id);
    posting.actor = Some(me);
    posting.entries = Entry::transfer(&escrow, &hold, &amount);
    post(work.txn(), now, posting).await?;
    work.record(activity(Action::DisputeOpened, &dispute)).await?;
    idempotency::finish(work.txn(), scope, &key, json!({ "disputeId": dispute.id })).await?;
    work.commit().await?;
    Ok(dispute)
}

/// Input of `resolveDispute`.
pub struct Resolve {
    /// The dispute.
    pub dispute_id: Uuid,
    /// RELEASE, REFUND or SPLIT.
    pub resolution: Resolution,
    /// With SPLIT: what goes to the workers (the rest is refunded).
    pub release_cents: Option<i64>,
    /// The resolver's key for this request.
    pub idempotency_key: String,
}

/// `resolveDispute`: an arbiter who is not a party releases, refunds or splits what is held;
/// the client side's owners and admins may release it (their concession) and a worker may
/// refund its own share (its concession).
pub async fn resolve(state: &AppState, viewer: &Viewer, input: Resolve) -> AppResult<dispute::Model> {
    let (user, me) = viewer.require_user()?;
    let key = idempotency::validate(&input.idempotency_key)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let found =
        dispute::Entity::find_by_id(input.dispute_id).one(work.txn()).await?.ok_or(AppError::NotFound("dispute"))?;
    let contract = contract::lock(work.txn(), found.contract_id).await?;
    // An organization's API key decides nothing outside its organization (nor as an arbiter).
    viewer.require_acting_in(contract.organization_id)?;
    let outcome = lock_outcome(work.txn(), found.outcome_id).await?;
    let dispute = dispute::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(work.txn())
        .await?
        .ok_or(AppError::NotFound("dispute"))?;
    let shares = shares_of(work.txn(), &dispute, outcome.id).await?;
    let holders: Vec<Uuid> = shares.iter().map(|s| s.profile_id).collect();
    let party = party_of(work.txn(), viewer, user, &contract, &holders).await?;
    // An arbiter who is a party has only a party's say.
    let arbiter = party.is_none() && super::arbiter::is_arbiter(work.txn(), me).await?;
    if !arbiter && party.is_none() {
        return Err(AppError::NotFound("dispute"));
    }
    if arbiter && (me == dispute.opened_by_profile_id || me == contract.client_profile_id) {
        // Whoever opened the dispute or created the contract is never its judge, whatever
        // their role is now.
        return Err(AppError::forbidden("an arbiter never decides a dispute it opened or a contract it created"));
    }
    let scope = party.as_ref().map_or(me, |p| p.key_scope(&contract, me));
    let how = match (&party, input.resolution) {
        _ if arbiter => By::Arbiter,
        (Some(Party::Client { manages: true }), Resolution::Release) => By::Client,
        (Some(Party::Worker { profiles }), Resolution::Refund) => By::Worker(profiles.clone()),
        _ => {
            return Err(AppError::forbidden(
                "only an arbiter who is not a party decides a dispute; a party concedes only its own share \
                 (the client's owners and admins release, a worker refunds its share)",
            ));
        }
    };
    if let By::Client = how {
        contract::require_manager(work.txn(), viewer, &contract).await?;
    }
    let request = json!({
        "disputeId": dispute.id,
        "resolution": wire(input.resolution),
        "releaseCents": input.release_cents,
    });
    if let idempotency::Claim::Replay(_) =
        idempotency::claim(work.txn(), state, scope, &key, "resolveDispute", &request).await?
    {
        return Ok(dispute);
    }
    if dispute.status != DisputeStatus::Open {
        return Err(AppError::conflict("this dispute is resolved already"));
    }
    let hold = account(&work, AccountKind::DisputeHold, dispute.id, &dispute.currency, true).await?;
    let conceded = concessions(work.txn(), dispute.id).await?;
    // The shares of the workers who have not conceded, in the shares' order.
    let standing: Vec<&dispute_share::Model> = shares.iter().filter(|s| !conceded.contains(&s.profile_id)).collect();
    let held = hold.balance_cents;
    // While a dispute is open only concessions take money out of its hold.
    let conceded_before = dispute.amount_cents.saturating_sub(held);
    let now = state.clock.now();
    let (released, refunded) = match (&how, input.resolution) {
        (By::Worker(mine), _) => {
            // The caller's standing shares (its own, and those of the agents it operates).
            let mine: Vec<&dispute_share::Model> =
                standing.iter().copied().filter(|s| mine.contains(&s.profile_id)).collect();
            if mine.is_empty() {
                return Err(AppError::conflict("you have conceded your share of this dispute already"));
            }
            let mut per_profile: std::collections::BTreeMap<Uuid, i64> = std::collections::BTreeMap::new();
            for s in &mine {
                let sum = per_profile.entry(s.profile_id).or_default();
                *sum = sum.saturating_add(s.cents);
            }
            // The last worker to concede takes back what is left (the shares add up to it), and
            // its rows record exactly that.
            let last = standing.len() == mine.len();
            let owed = per_profile.values().copied().sum::<i64>();
            let share = if last { held } else { owed.min(held) };
            if let Some(mut entry) = per_profile.last_entry() {
                let adjusted = entry.get().saturating_add(share.saturating_sub(owed)).max(0);
                *entry.get_mut() = adjusted;
            }
            refund(&mut work, &contract, &outcome, &dispute, &hold, share, me, now).await?;
            for (profile, cents) in per_profile {
                dispute_concession::ActiveModel {
                    dispute_id: Set(dispute.id),
                    profile_id: Set(profile),
                    refunded_cents: Set(cents),
                    created_at: Set(now),
                }
                .insert(work.txn())
                .await?;
            }
            if !last {
                work.record(conceded_activity(&dispute, share)).await?;
                idempotency::finish(work.txn(), scope, &key, json!({ "disputeId": dispute.id })).await?;
                work.commit().await?;
                return Ok(dispute);
            }
            (0, share)
        }
        (_, Resolution::Release) => (held, 0),
        (_, Resolution::Refund) => (0, held),
        (_, Resolution::Split) => {
            let part = input.release_cents.filter(|c| (1..held).contains(c)).ok_or_else(|| {
                AppError::bad_input(
                    "releaseCents",
                    format!("a split releases between 1 and {} minor units", held.saturating_sub(1)),
                )
            })?;
            (part, held.saturating_sub(part))
        }
    };
    if !matches!(how, By::Worker(_)) && refunded > 0 {
        refund(&mut work, &contract, &outcome, &dispute, &hold, refunded, me, now).await?;
    }
    if released > 0 {
        let weights: Vec<i64> = standing.iter().map(|s| s.cents).collect();
        if weights.iter().all(|w| *w <= 0) {
            return Err(AppError::bad_input("resolution", "no worker holds a share of this outcome; refund it"));
        }
        // What is released goes to the standing workers in proportion to their shares.
        let parts: Vec<release::Part> = standing
            .iter()
            .zip(money::split(released, &weights))
            .map(|(s, cents)| release::Part { task_id: s.task_id, worker: s.profile_id, cents })
            .collect();
        let amount = Money::of(released, &dispute.currency, "releaseCents")?;
        release::pay(
            &mut work,
            state,
            &contract,
            &outcome,
            &hold,
            &amount,
            &parts,
            TransactionKind::DisputeResolution,
            Some(dispute.id),
        )
        .await?;
    }
    let resolution = match how {
        By::Worker(_) => Resolution::Refund,
        _ => input.resolution,
    };
    let mut active = dispute.into_active_model();
    active.status = Set(DisputeStatus::Resolved);
    active.resolution = Set(Some(resolution));
    active.released_cents = Set(Some(released));
    active.refunded_cents = Set(Some(conceded_before.saturating_add(refunded)));
    active.resolved_by_profile_id = Set(Some(me));
    active.resolved_at = Set(Some(now));
    let dispute = active.update(work.txn()).await?;
    work.record(activity(Action::DisputeResolved, &dispute)).await?;
    idempotency::finish(work.txn(), scope, &key, json!({ "disputeId": dispute.id })).await?;
    work.commit().await?;
    Ok(dispute)
}

/// Who decides.
enum By {
    Arbiter,
    Client,
    /// A worker conceding the share of these profiles (itself and the agents it operates).
    Worker(Vec<Uuid>),
}

/// Locks the disputed outcome's row after its contract's (the ledger reads outcomes as rows;
/// their rules are `domain::outcome`'s, which calls into the ledger, never the other way).
async fn lock_outcome(db: &impl ConnectionTrait, id: Uuid) -> AppResult<outcome::Model> {
    outcome::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("outcome"))
}

/// Refunds `cents` of a dispute's hold to the client.
#[allow(clippy::too_many_arguments)]
async fn refund(
    work: &mut UnitOfWork<'_>,
    contract: &contract_db::Model,
    outcome: &outcome::Model,
    dispute: &dispute::Model,
    hold: &entity::ledger_account::Model,
    cents: i64,
    me: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if cents <= 0 {
        return Ok(());
    }
    let amount = Money::of(cents, &contract.currency, "amountCents")?;
    let source = account(work, AccountKind::ClientFunding, payer_of(contract), &contract.currency, false).await?;
    let mut posting = Posting::new(TransactionKind::DisputeResolution, &contract.currency, "dispute refunded");
    posting.contract = Some(contract.id);
    posting.outcome = Some(outcome.id);
    posting.dispute = Some(dispute.id);
    posting.actor = Some(me);
    posting.entries = Entry::transfer(hold, &source, &amount);
    let transaction = post(work.txn(), now, posting).await?;
    super::refund::queue(work, contract, transaction.id, cents).await?;
    Ok(())
}

/// A dispute's shares: fixed when it opened, or, for a dispute opened before shares were
/// recorded, what its outcome's live tasks with a worker are worth now.
async fn shares_of(
    db: &impl ConnectionTrait,
    dispute: &dispute::Model,
    outcome_id: Uuid,
) -> AppResult<Vec<dispute_share::Model>> {
    let fixed = dispute_share::Entity::find()
        .filter(dispute_share::Column::DisputeId.eq(dispute.id))
        .order_by_asc(dispute_share::Column::Position)
        .all(db)
        .await?;
    if !fixed.is_empty() {
        return Ok(fixed);
    }
    let workers: Vec<task::Model> = task::Entity::find()
        .filter(task::Column::OutcomeId.eq(outcome_id))
        .filter(task::Column::Status.ne(TaskStatus::Cancelled))
        .filter(task::Column::AssigneeProfileId.is_not_null())
        .all(db)
        .await?;
    Ok(money::task_shares(dispute.amount_cents, &workers)
        .into_iter()
        .zip(0_i32..)
        .filter_map(|((task_id, cents), position)| {
            let profile_id = workers.iter().find(|t| t.id == task_id)?.assignee_profile_id?;
            Some(dispute_share::Model { dispute_id: dispute.id, task_id, profile_id, cents, position })
        })
        .collect())
}

/// The worker profiles that conceded a dispute.
async fn concessions(db: &impl ConnectionTrait, dispute_id: Uuid) -> AppResult<HashSet<Uuid>> {
    let rows: Vec<Uuid> = dispute_concession::Entity::find()
        .select_only()
        .column(dispute_concession::Column::ProfileId)
        .filter(dispute_concession::Column::DisputeId.eq(dispute_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The disputes of many outcomes in one statement, by outcome (for loaders; callers check
/// that the viewer sees the outcomes).
pub async fn of_outcomes(
    db: &impl ConnectionTrait,
    outcome_ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, dispute::Model>> {
    let rows =
        dispute::Entity::find().filter(dispute::Column::OutcomeId.is_in(outcome_ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|d| (d.outcome_id, d)).collect())
}

/// Whether a contract has an open dispute (its held money is the arbiter's to move).
pub async fn open_on(db: &impl ConnectionTrait, contract_id: Uuid) -> AppResult<bool> {
    let open = dispute::Entity::find()
        .filter(dispute::Column::ContractId.eq(contract_id))
        .filter(dispute::Column::Status.eq(DisputeStatus::Open))
        .one(db)
        .await?;
    Ok(open.is_some())
}

/// The dispute of an outcome, if any (callers have checked that the viewer sees the outcome).
pub async fn of_outcome(db: &impl ConnectionTrait, outcome_id: Uuid) -> AppResult<Option<dispute::Model>> {
    Ok(dispute::Entity::find().filter(dispute::Column::OutcomeId.eq(outcome_id)).one(db).await?)
}

/// A party to a dispute.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Party {
    /// Someone on the client side now (`manages`: an owner or admin, or a personal contract's client).
    Client { manages: bool },
    /// A worker on the outcome: these profiles (the caller, and agents it operates) hold tasks.
    Worker { profiles: Vec<Uuid> },
}

impl Party {
    /// The account a party's idempotency keys belong to: the paying account for the client
    /// side, the worker itself otherwise.
    fn key_scope(&self, contract: &contract_db::Model, me: Uuid) -> Uuid {
        match self {
            Self::Client { .. } => payer_of(contract),
            Self::Worker { .. } => me,
        }
    }
}

/// The caller's party to an outcome's dispute, if any: the client side, or one of the workers
/// with a share (`assignees`) itself or through an agent it operates.
async fn party_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    user: Uuid,
    contract: &contract_db::Model,
    assignees: &[Uuid],
) -> AppResult<Option<Party>> {
    let Some(me) = viewer.profile_id() else { return Ok(None) };
    if let Some(Access::Client { manages }) = contract::access(db, viewer, contract).await? {
        return Ok(Some(Party::Client { manages }));
    }
    let agents: Vec<Uuid> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Id)
        .filter(profile::Column::Id.is_in(assignees.iter().copied()))
        .filter(profile::Column::OperatorUserId.eq(user))
        .into_tuple()
        .all(db)
        .await?;
    let mut profiles: Vec<Uuid> = agents;
    if assignees.contains(&me) {
        profiles.push(me);
    }
    Ok((!profiles.is_empty()).then_some(Party::Worker { profiles }))
}

fn conceded_activity(d: &dispute::Model, refunded: i64) -> NewActivity {
    let mut record = activity(Action::DisputeConceded, d);
    if let Some(after) = record.after.as_mut().and_then(|a| a.as_object_mut()) {
        after.insert("refundedCents".into(), json!(refunded));
    }
    record
}

fn activity(action: Action, d: &dispute::Model) -> NewActivity {
    NewActivity {
        topic: contract::topic(d.contract_id),
        action,
        subject_type: "dispute",
        subject_id: d.id,
        before: None,
        after: Some(json!({
            "outcomeId": d.outcome_id,
            "status": wire(d.status),
            "amountCents": d.amount_cents,
            "currency": d.currency,
            "resolution": d.resolution.map(wire),
            "releasedCents": d.released_cents,
            "refundedCents": d.refunded_cents,
        })),
    }
}
