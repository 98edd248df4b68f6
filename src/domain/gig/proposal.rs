//! Proposals on gigs: one active per person and gig; the owner shortlists, declines, accepts.
use chrono::{DateTime, Utc};
use entity::{
    gig::{self, GigStatus},
    proposal::{self, ProposalStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
    SqlErr, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{GigAction, can_manage, lock_gig, require_manager, transition, visible};
use crate::{
    auth::Viewer,
    domain::{
        Action, NewActivity, UnitOfWork,
        page::{Cursor, Direction, Page, PageRequest, keyset},
        validate,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// Proposal states that still compete for the gig.
const WAITING: [ProposalStatus; 2] = [ProposalStatus::Submitted, ProposalStatus::Shortlisted];

/// Input of `submitProposal`.
pub struct ProposalInput {
    /// The gig.
    pub gig_id: Uuid,
    /// Why you.
    pub cover_note: String,
    /// Price in minor units, in the gig's currency.
    pub amount_cents: i64,
    /// Days to deliver.
    pub eta_days: i32,
}

/// Sends a proposal: only on OPEN gigs, never your own, one active per gig.
pub async fn submit(state: &AppState, viewer: &Viewer, input: ProposalInput) -> AppResult<proposal::Model> {
    let (_, me) = viewer.require_user()?;
    let cover_note = validate::text(&input.cover_note, "coverNote", 1, 10_000, true)?;
    crate::domain::money::amount(input.amount_cents, "amount.amountCents")?;
    if !(1..=365).contains(&input.eta_days) {
        return Err(AppError::bad_input("etaDays", "must be between 1 and 365"));
    }
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let gig = visible(work.txn(), viewer, input.gig_id).await?;
    if can_manage(work.txn(), viewer, &gig).await? {
        return Err(AppError::forbidden("you cannot send a proposal for your own gig"));
    }
    if gig.status != GigStatus::Open {
        return Err(AppError::conflict(format!("the gig is {}, not OPEN", crate::domain::wire(gig.status))));
    }
    if active_of(work.txn(), gig.id, me).await?.is_some() {
        return Err(AppError::conflict("you already have an active proposal for this gig"));
    }
    let now = state.clock.now();
    let proposal = proposal::ActiveModel {
        id: Set(Uuid::new_v4()),
        gig_id: Set(gig.id),
        author_profile_id: Set(me),
        cover_note: Set(cover_note),
        amount_cents: Set(input.amount_cents),
        currency: Set(gig.currency.clone()),
        eta_days: Set(input.eta_days),
        status: Set(ProposalStatus::Submitted),
        decline_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await
    .map_err(duplicate_is_conflict)?;
    work.record(proposal_activity(Action::ProposalSubmitted, &proposal, None)).await?;
    work.commit().await?;
    Ok(proposal)
}

/// Shortlists a proposal (the gig's managers).
pub async fn shortlist(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<proposal::Model> {
    decide(state, viewer, id, ProposalStatus::Shortlisted, None).await
}

/// Declines a proposal with a reason (the gig's managers).
pub async fn decline(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<proposal::Model> {
    let reason = validate::optional_text(reason.as_deref(), "reason", 1000, true)?;
    decide(state, viewer, id, ProposalStatus::Declined, reason).await
}

async fn decide(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    to: ProposalStatus,
    reason: Option<String>,
) -> AppResult<proposal::Model> {
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (proposal, gig) = locked(work.txn(), id).await?;
    require_manager(work.txn(), viewer, &gig).await?;
    check_move(proposal.status, to)?;
    let from = proposal.status;
    let mut active = proposal.into_active_model();
    active.status = Set(to);
    active.decline_reason = Set(reason);
    active.updated_at = Set(state.clock.now());
    let proposal = active.update(work.txn()).await?;
    let action = if to == ProposalStatus::Shortlisted { Action::ProposalShortlisted } else { Action::ProposalDeclined };
    work.record(proposal_activity(action, &proposal, Some(from))).await?;
    work.commit().await?;
    Ok(proposal)
}

/// A proposal and its gig, both locked: the gig first (every proposal change locks it), then
/// the proposal re-read under that lock, so a decision never acts on a status another request
/// has just changed.
async fn locked(db: &impl ConnectionTrait, id: Uuid) -> AppResult<(proposal::Model, gig::Model)> {
    let found = proposal::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("proposal"))?;
    let gig = lock_gig(db, found.gig_id).await?;
    let proposal =
        proposal::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("proposal"))?;
    Ok((proposal, gig))
}

/// Withdraws your own proposal.
pub async fn withdraw(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<proposal::Model> {
    let (_, me) = viewer.require_user()?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (proposal, _) = locked(work.txn(), id).await?;
    if proposal.author_profile_id != me {
        return Err(AppError::forbidden("only the author withdraws a proposal"));
    }
    check_move(proposal.status, ProposalStatus::Withdrawn)?;
    let from = proposal.status;
    let mut active = proposal.into_active_model();
    active.status = Set(ProposalStatus::Withdrawn);
    active.updated_at = Set(state.clock.now());
    let proposal = active.update(work.txn()).await?;
    work.record(proposal_activity(Action::ProposalWithdrawn, &proposal, Some(from))).await?;
    work.commit().await?;
    Ok(proposal)
}

/// What accepting a proposal produced.
pub struct Accepted {
    /// The accepted proposal.
    pub proposal: proposal::Model,
    /// The gig, now FILLED.
    pub gig: gig::Model,
    /// The outcome contract created from it, once contracts exist.
    pub contract_id: Option<Uuid>,
}

/// Accepts a proposal: the gig becomes FILLED, the other waiting proposals are declined, and
/// the contract seam is called — all in one transaction.
pub async fn accept(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Accepted> {
    let now = state.clock.now();
    let mut work = UnitOfWork::begin(state, viewer).await?;
    let (proposal, gig) = locked(work.txn(), id).await?;
    require_manager(work.txn(), viewer, &gig).await?;
    let gig_to = transition(gig.status, GigAction::Fill)?;
    check_move(proposal.status, ProposalStatus::Accepted)?;
    let from = proposal.status;
    let mut active = proposal.into_active_model();
    active.status = Set(ProposalStatus::Accepted);
    active.updated_at = Set(now);
    let proposal = active.update(work.txn()).await?;
    let gig_from = gig.status;
    let mut active_gig = gig.into_active_model();
    active_gig.status = Set(gig_to);
    active_gig.accepted_proposal_id = Set(Some(proposal.id));
    active_gig.updated_at = Set(now);
    let gig = active_gig.update(work.txn()).await?;
    decline_waiting(&mut work, gig.id, Some(proposal.id), "another proposal was accepted", now).await?;
    let contract_id = Some(crate::domain::task::lifecycle::contract_from_proposal(&mut work, &gig, &proposal).await?);
    work.record(proposal_activity(Action::ProposalAccepted, &proposal, Some(from))).await?;
    work.record(NewActivity {
        topic: super::topic(gig.id),
        action: Action::GigFilled,
        subject_type: "gig",
        subject_id: gig.id,
        before: Some(json!({ "status": crate::domain::wire(gig_from) })),
        after: Some(json!({ "status": crate::domain::wire(gig.status), "acceptedProposalId": proposal.id })),
    })
    .await?;
    work.commit().await?;
    Ok(Accepted { proposal, gig, contract_id })
}

/// Declines every waiting proposal of a gig except `keep`, inside the caller's transaction.
pub(super) async fn decline_waiting(
    work: &mut UnitOfWork<'_>,
    gig_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut query = proposal::Entity::find()
        .filter(proposal::Column::GigId.eq(gig_id))
        .filter(proposal::Column::Status.is_in(WAITING));
    if let Some(keep) = keep {
        query = query.filter(proposal::Column::Id.ne(keep));
    }
    let waiting = query.all(work.txn()).await?;
    if waiting.is_empty() {
        return Ok(());
    }
    proposal::Entity::update_many()
        .col_expr(proposal::Column::Status, Expr::value(ProposalStatus::Declined))
        .col_expr(proposal::Column::DeclineReason, Expr::value(reason.to_owned()))
        .col_expr(proposal::Column::UpdatedAt, Expr::value(now))
        .filter(proposal::Column::Id.is_in(waiting.iter().map(|p| p.id)))
        .exec(work.txn())
        .await?;
    for p in &waiting {
        work.record(NewActivity {
            topic: super::topic(gig_id),
            action: Action::ProposalDeclined,
            subject_type: "proposal",
            subject_id: p.id,
            before: Some(json!({ "status": crate::domain::wire(p.status) })),
            after: Some(json!({ "status": "DECLINED", "reason": reason })),
        })
        .await?;
    }
    Ok(())
}

/// A proposal the viewer may read: its author or the gig's managers.
pub async fn readable(db: &impl ConnectionTrait, viewer: &Viewer, id: Uuid) -> AppResult<proposal::Model> {
    let me = viewer.require_any()?;
    let proposal = proposal::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound("proposal"))?;
    if proposal.author_profile_id == me {
        return Ok(proposal);
    }
    let gig = gig::Entity::find_by_id(proposal.gig_id).one(db).await?.ok_or(AppError::NotFound("gig"))?;
    if can_manage(db, viewer, &gig).await? { Ok(proposal) } else { Err(AppError::NotFound("proposal")) }
}

/// Proposals of a gig, newest first (managers only).
pub async fn for_gig(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    gig_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<proposal::Model>> {
    let gig = gig::Entity::find_by_id(gig_id).one(db).await?.ok_or(AppError::NotFound("gig"))?;
    require_manager(db, viewer, &gig).await?;
    list(db, proposal::Column::GigId.eq(gig_id), page).await
}

/// The viewer's own proposals, newest first.
pub async fn mine(db: &impl ConnectionTrait, viewer: &Viewer, page: PageRequest) -> AppResult<Page<proposal::Model>> {
    let me = viewer.require_any()?;
    list(db, proposal::Column::AuthorProfileId.eq(me), page).await
}

async fn list(db: &impl ConnectionTrait, condition: Expr, page: PageRequest) -> AppResult<Page<proposal::Model>> {
    let query = proposal::Entity::find().filter(condition);
    keyset(db, query, (proposal::Column::CreatedAt, proposal::Column::Id), Direction::Descending, &page, |p| Cursor {
        key: 0,
        at: p.created_at,
        id: p.id,
    })
    .await
}

async fn active_of(db: &impl ConnectionTrait, gig_id: Uuid, author: Uuid) -> AppResult<Option<proposal::Model>> {
    Ok(proposal::Entity::find()
        .filter(proposal::Column::GigId.eq(gig_id))
        .filter(proposal::Column::AuthorProfileId.eq(author))
        .filter(proposal::Column::Status.is_in([
            ProposalStatus::Submitted,
            ProposalStatus::Shortlisted,
            ProposalStatus::Accepted,
        ]))
        .one(db)
        .await?)
}

/// The proposal state machine.
pub fn check_move(from: ProposalStatus, to: ProposalStatus) -> AppResult<()> {
    use ProposalStatus::*;
    let ok =
        matches!((from, to), (Submitted, Shortlisted) | (Submitted | Shortlisted, Declined | Withdrawn | Accepted));
    if ok {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "a proposal cannot go from {} to {}",
            crate::domain::wire(from),
            crate::domain::wire(to)
        )))
    }
}

fn duplicate_is_conflict(err: DbErr) -> AppError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
        return AppError::conflict("you already have an active proposal for this gig");
    }
    err.into()
}

fn proposal_activity(action: Action, p: &proposal::Model, from: Option<ProposalStatus>) -> NewActivity {
    NewActivity {
        topic: super::topic(p.gig_id),
        action,
        subject_type: "proposal",
        subject_id: p.id,
        before: from.map(|s| json!({ "status": crate::domain::wire(s) })),
        after: Some(
            json!({ "status": crate::domain::wire(p.status), "amountCents": p.amount_cents, "authorProfileId": p.author_profile_id }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_move_only_forward() {
        use ProposalStatus::*;
        assert!(check_move(Submitted, Shortlisted).is_ok());
        assert!(check_move(Shortlisted, Accepted).is_ok());
        assert!(check_move(Submitted, Withdrawn).is_ok());
        assert!(check_move(Declined, Accepted).is_err());
        assert!(check_move(Accepted, Withdrawn).is_err());
        assert!(check_move(Shortlisted, Shortlisted).is_err());
    }
}
