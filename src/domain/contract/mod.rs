//! Outcome contracts: a client (a person or an organization) pays for outcomes; each outcome
//! is split into tasks. Who sees what is in `access`, the state machines in `machine`; progress
//! is read in `domain::dashboard` (it reads the ledger too). Outcomes (`domain::outcome`) and tasks (`domain::task`) build on this module;
//! it calls neither.
pub mod access;
pub mod machine;

use std::collections::HashMap;

use entity::{
    contract::{self, ContractStatus},
    organization_member::{self, OrgRole},
    outcome::{self, OutcomeStatus},
    task,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set, sea_query::Query,
};
use serde_json::json;
use uuid::Uuid;

pub use self::access::{Access, access, access_many, visible};
pub(crate) use self::access::{hold_manager, require_manager};
use super::{
    Action, NewActivity, UnitOfWork, organization,
    page::{Cursor, Direction, Page, PageRequest, keyset},
    validate, wire,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

/// Topic of a contract's activity.
pub fn topic(contract_id: Uuid) -> String {
    format!("contract:{contract_id}")
}

/// Input of `createContract`.
pub struct ContractInput {
    /// Client organization (caller must be OWNER/ADMIN); `None` contracts as yourself.
    pub organization_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// ISO currency.
    pub currency: String,
    /// Budget in minor units.
    pub budget_cents: i64,
}

/// Creates a DRAFT contract.
pub async fn create(state: &AppState, viewer: &Viewer, input: ContractInput) -> AppResult<(contract::Model, Access)> {
    let (_, me) = viewer.require_user()?;
    let title = validate::text(&input.title, "title", 1, 200, false)?;
    let description = validate::text(&input.description, "description", 0, 20_000, true)?;
    let currency = validate::currency(&input.currency, "currency")?;
    super::money::amount(input.budget_cents, "budgetCents")?;
    viewer.require_acting_in(input.organization_id)?;
    let mut work = UnitOfWork::begin(state, viewer).await?;
    if let Some(org) = input.organization_id {
        organization::by_id(work.txn(), org)
            .await?
            .ok_or_else(|| AppError::bad_input("organizationId", "no such organization"))?;
        if !matches!(organization::role_of(work.txn(), org, me).await?, Some(OrgRole::Owner | OrgRole::Admin)) {
            return Err(AppError::forbidden("only owners and admins contract for an organization"));
        }
    }
    let now = state.clock.now();
    let contract = contract::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_profile_id: Set(me),
        organization_id: Set(input.organization_id),
        gig_id: Set(None),
        title: Set(title),
        description: Set(description),
        currency: Set(currency),
        budget_cents: Set(input.budget_cents),
        status: Set(ContractStatus::Draft),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(work.txn())
    .await?;
    work.record(activity(Action::ContractCreated, &contract, None)).await?;
    work.commit().await?;
    Ok((contract, Access::MANAGER))
}

/// Applies a client's action along the machine to a contract the caller has locked and whose
/// manager it has checked (`lock`, `require_manager`), inside the caller's unit of work; returns
/// the contract after. What the change does to the contract's work is the caller's
/// (`task::lifecycle`).
pub(crate) async fn transition_locked(
    work: &mut UnitOfWork<'_>,
    state: &AppState,
    before: &contract::Model,
    action: machine::ContractAction,
) -> AppResult<contract::Model> {
    let id = before.id;
    let to = action.apply(before.status)?;
    if to == ContractStatus::Completed {
        let open = outcome::Entity::find()
            .filter(outcome::Column::ContractId.eq(id))
            .filter(outcome::Column::Status.ne(OutcomeStatus::Accepted))
            .count(work.txn())
            .await?;
        if open > 0 {
            return Err(AppError::conflict(format!(
                "{open} outcome(s) are not ACCEPTED yet; the contract cannot complete"
            )));
        }
    }
    let mut active = before.clone().into_active_model();
    active.status = Set(to);
    active.updated_at = Set(state.clock.now());
    let after = active.update(work.txn()).await?;
    work.record(activity(Action::ContractStatusChanged, &after, Some(before.status))).await?;
    Ok(after)
}

/// The organizations `me` is a member of now (a subquery).
fn organizations_of(me: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(organization_member::Column::OrganizationId)
        .from(organization_member::Entity)
        .and_where(organization_member::Column::ProfileId.eq(me))
        .to_owned()
}

/// Contracts the viewer is on (as client side or assignee), newest first, each with the
/// viewer's access.
pub async fn mine(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<Page<(contract::Model, Access)>> {
    let me = viewer.require_profile(crate::auth::AgentScope::TasksRead)?;
    let mut on = Condition::any().add(
        contract::Column::Id.in_subquery(
            Query::select()
                .column(task::Column::ContractId)
                .from(task::Entity)
                .and_where(task::Column::AssigneeProfileId.eq(me))
                .to_owned(),
        ),
    );
    if let Some(org) = viewer.key().and_then(|k| k.organization_id) {
        // An organization's API key: that organization's contracts, while its maker is a member.
        on = Condition::all()
            .add(contract::Column::OrganizationId.eq(org))
            .add(contract::Column::OrganizationId.in_subquery(organizations_of(me)));
    } else if matches!(viewer, Viewer::User { .. }) {
        // A personal contract of mine, or one of an organization I am a member of now.
        on = on
            .add(
                Condition::all()
                    .add(contract::Column::ClientProfileId.eq(me))
                    .add(contract::Column::OrganizationId.is_null()),
            )
            .add(contract::Column::OrganizationId.in_subquery(organizations_of(me)));
    }
    let query = contract::Entity::find().filter(on);
    let page =
        keyset(db, query, (contract::Column::CreatedAt, contract::Column::Id), Direction::Descending, &page, |c| {
            Cursor { key: 0, at: c.created_at, id: c.id }
        })
        .await?;
    let rows: Vec<contract::Model> = page.items.iter().map(|(_, c)| c.clone()).collect();
    let access = access_many(db, viewer, &rows).await?;
    // Every listed contract has an access: the query lists only contracts the viewer is on.
    Ok(page.filter_map(|c| access.get(&c.id).copied().map(|a| (c, a))))
}

/// Contracts by id in one statement (for loaders; callers check access).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, contract::Model>> {
    let rows = contract::Entity::find().filter(contract::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// Locks a contract row for the rest of the transaction.
pub(crate) async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<contract::Model> {
    contract::Entity::find_by_id(id).lock_exclusive().one(db).await?.ok_or(AppError::NotFound("contract"))
}

/// Inserts a contract row as given (a proposal's contract skips the DRAFT stage).
pub(crate) async fn insert(db: &impl ConnectionTrait, row: contract::ActiveModel) -> AppResult<contract::Model> {
    Ok(row.insert(db).await?)
}

/// An activity about a contract on its own topic.
pub(crate) fn activity(action: Action, c: &contract::Model, from: Option<ContractStatus>) -> NewActivity {
    NewActivity {
        topic: topic(c.id),
        action,
        subject_type: "contract",
        subject_id: c.id,
        before: from.map(|s| json!({ "status": wire(s) })),
        after: Some(json!({ "status": wire(c.status), "budgetCents": c.budget_cents })),
    }
}
