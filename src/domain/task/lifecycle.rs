//! What a contract's life does to its work: activation routes every OPEN task, cancellation
//! cancels unfinished work, and an accepted proposal starts a contract with its one task
//! already assigned.
use entity::{
    contract::{self as contract_db, ContractStatus},
    gig, proposal,
    task::{self, TaskMode, TaskStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{NewTask, assignment, work};
use crate::{
    auth::Viewer,
    domain::{
        Action, UnitOfWork,
        contract::{self, Access, machine::ContractAction},
        ledger,
        outcome::{self, Criterion},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// `changeContractStatus`: applies a client's action (client managers only). Activation needs
/// escrow to cover every outcome not yet paid, then routes every OPEN task; cancellation
/// (refused while a dispute is open) refunds unreleased escrow, cancels unfinished work and
/// ends its assignments; completion refunds what escrow did not spend. Ending a contract whose
/// escrow holds money moves it, so it takes an idempotency key.
pub async fn change_contract_status(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    action: ContractAction,
    idempotency_key: Option<&str>,
) -> AppResult<(contract_db::Model, Access)> {
    viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let before = contract::lock(work.txn(), id).await?;
    let access = contract::require_manager(work.txn(), viewer, &before).await?;
    // Keys belong to the paying account, whichever of its admins sends the request.
    let payer = ledger::payer_of(&before);
    let request = json!({ "contractId": id, "action": format!("{action:?}") });
    if ledger::idempotency::replayed(work.txn(), state, payer, idempotency_key, "changeContractStatus", &request)
        .await?
        .is_some()
    {
        return Ok((before, access));
    }
    let ends = matches!(action, ContractAction::Cancel | ContractAction::Complete);
    if ends && idempotency_key.is_none() && ledger::reading::escrow_balance(work.txn(), &before).await? > 0 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "this contract's escrow holds money, which ending it refunds: send an idempotencyKey",
        ));
    }
    if action == ContractAction::Cancel && ledger::dispute::open_on(work.txn(), id).await? {
        return Err(AppError::conflict(
            "a dispute on this contract is open; the money it holds is the arbiter's to move, so the contract \
             cannot be cancelled until every dispute is resolved",
        ));
    }
    let after = contract::transition_locked(&mut work, state, &before, action).await?;
    match after.status {
        // Funded: every OPEN task is routed now.
        ContractStatus::Active if before.status == ContractStatus::Open => {
            let uncovered = ledger::escrow::uncovered_cents(work.txn(), &after).await?;
            if uncovered > 0 {
                return Err(AppError::conflict(format!(
                    "escrow is {uncovered} short of the outcomes it must cover; fund the contract first"
                )));
            }
            work::route_open_tasks(&mut work, state, &after).await?;
        }
        ContractStatus::Cancelled => {
            ledger::escrow::refund_rest(&mut work, state, &after, ledger::escrow::Ending::Cancelled).await?;
            cancel_unfinished(work.txn(), after.id, state.clock.now()).await?;
        }
        ContractStatus::Completed => {
            ledger::escrow::refund_rest(&mut work, state, &after, ledger::escrow::Ending::Completed).await?;
        }
        _ => {}
    }
    ledger::idempotency::finish_optional(work.txn(), payer, idempotency_key, json!({ "contractId": id })).await?;
    work.commit().await?;
    Ok((after, access))
}

/// Cancels the unfinished tasks of a cancelled contract and ends their assignments.
pub(crate) async fn cancel_unfinished(
    db: &impl ConnectionTrait,
    contract_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let unfinished: Vec<Uuid> = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::ContractId.eq(contract_id))
        .filter(task::Column::Status.is_not_in([TaskStatus::Accepted, TaskStatus::Cancelled]))
        // Locked: a claim in flight finishes first, and its assignment is ended here with it.
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    if unfinished.is_empty() {
        return Ok(());
    }
    assignment::end(db, &unfinished, now, "cancelled").await?;
    task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(TaskStatus::Cancelled))
        .col_expr(task::Column::OfferExpiresAt, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.is_in(unfinished))
        .exec(db)
        .await?;
    Ok(())
}

/// Called when a proposal is accepted, inside that transaction: an OPEN contract for the
/// proposal's amount with one outcome and one JUDGMENT task assigned to the proposal's author.
pub async fn contract_from_proposal(
    work: &mut UnitOfWork<'_>,
    gig: &gig::Model,
    proposal: &proposal::Model,
) -> AppResult<Uuid> {
    let now = proposal.updated_at;
    let contract = contract::insert(
        work.txn(),
        contract_db::ActiveModel {
            id: Set(Uuid::new_v4()),
            client_profile_id: Set(gig.owner_profile_id),
            organization_id: Set(gig.organization_id),
            gig_id: Set(Some(gig.id)),
            title: Set(gig.title.clone()),
            description: Set(gig.description.clone()),
            currency: Set(proposal.currency.clone()),
            budget_cents: Set(proposal.amount_cents),
            status: Set(ContractStatus::Open),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    let criteria = vec![Criterion {
        key: String::new(),
        description: "Delivered as described in the gig and the accepted proposal".into(),
        metric: None,
        comparator: None,
        target: None,
    }];
    let due = gig.deadline.or_else(|| now.checked_add_signed(chrono::Duration::days(i64::from(proposal.eta_days))));
    let outcome =
        outcome::insert(work.txn(), contract.id, gig.title.clone(), criteria, proposal.amount_cents, due, now).await?;
    let task = super::insert(
        work.txn(),
        NewTask {
            contract_id: contract.id,
            outcome_id: outcome.id,
            title: gig.title.clone(),
            description: proposal.cover_note.clone(),
            skills: Vec::new(),
            mode: TaskMode::Judgment,
            weight: 1,
            due_at: due,
            // The one task carries the one criterion: accepting it judges the work.
            criteria: vec!["c1".into()],
            kind: task::TaskKind::Work,
            escalate_after: 0,
            now,
        },
    )
    .await?;
    let task = work::assign_directly(work.txn(), task, proposal.author_profile_id, now).await?;
    assignment::start(work.txn(), task.id, proposal.author_profile_id, "proposal_accepted", now, true).await?;
    work.record(contract::activity(Action::ContractCreated, &contract, None)).await?;
    work.record(work::activity(Action::TaskAssigned, &task, json!({ "reason": "proposal_accepted" }))).await?;
    Ok(contract.id)
}
