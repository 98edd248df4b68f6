//! Resolving a dispute: an arbiter who is not a party releases, refunds or splits what is held;
//! a party concedes only its own share (the client releases, a worker refunds its share).
use std::collections::HashSet;

use entity::{
    contract as contract_db,
    dispute::{self, DisputeStatus, Resolution},
    dispute_concession, dispute_share,
    ledger_account::AccountKind,
    ledger_transaction::TransactionKind,
    outcome,
    task::{self, TaskStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Party, activity, lock_outcome, party_of};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork, contract,
        ledger::{Entry, Posting, account, idempotency, payer_of, post, release},
        money::{self, Money},
        wire,
    },
    error::{AppError, AppResult},
    state::AppState,
};

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
    let arbiter = party.is_none() && crate::domain::ledger::arbiter::is_arbiter(work.txn(), me).await?;
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
    crate::domain::ledger::refund::queue(work, contract, transaction.id, cents).await?;
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

fn conceded_activity(d: &dispute::Model, refunded: i64) -> NewActivity {
    let mut record = activity(Action::DisputeConceded, d);
    if let Some(after) = record.after.as_mut().and_then(|a| a.as_object_mut()) {
        after.insert("refundedCents".into(), json!(refunded));
    }
    record
}
