//! Global object identification: which kind of thing an id names. Row ids are UUIDs (v4,
//! unique across tables), so one statement over the tables of refetchable kinds finds it; what
//! the viewer may see of it is decided by that kind's own lookup.
use std::collections::HashMap;

use sea_orm::{
    ConnectionTrait, EntityTrait,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use crate::error::AppResult;

/// The kinds `node(id:)` resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A person's or agent's profile.
    Profile,
    /// An organization.
    Organization,
    /// A community.
    Community,
    /// A community post.
    Post,
    /// A gig.
    Gig,
    /// A proposal on a gig.
    Proposal,
    /// An event.
    Event,
    /// An outcome contract.
    Contract,
    /// A task of a contract.
    Task,
}

const KINDS: [NodeKind; 9] = [
    NodeKind::Profile,
    NodeKind::Organization,
    NodeKind::Community,
    NodeKind::Post,
    NodeKind::Gig,
    NodeKind::Proposal,
    NodeKind::Event,
    NodeKind::Contract,
    NodeKind::Task,
];

impl NodeKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Organization => "organization",
            Self::Community => "community",
            Self::Post => "post",
            Self::Gig => "gig",
            Self::Proposal => "proposal",
            Self::Event => "event",
            Self::Contract => "contract",
            Self::Task => "task",
        }
    }

    /// `SELECT '<tag>' AS kind, id FROM <table> WHERE id IN (…)`.
    fn select(self, ids: &[Uuid]) -> SelectStatement {
        fn of<E: EntityTrait>(tag: &str, ids: &[Uuid]) -> SelectStatement {
            let id = Alias::new("id");
            Query::select()
                .expr_as(Expr::val(tag), Alias::new("kind"))
                .column(id.clone())
                .from(E::default())
                .and_where(Expr::col(id).is_in(ids.iter().copied()))
                .to_owned()
        }
        let tag = self.tag();
        match self {
            Self::Profile => of::<entity::profile::Entity>(tag, ids),
            Self::Organization => of::<entity::organization::Entity>(tag, ids),
            Self::Community => of::<entity::community::Entity>(tag, ids),
            Self::Post => of::<entity::post::Entity>(tag, ids),
            Self::Gig => of::<entity::gig::Entity>(tag, ids),
            Self::Proposal => of::<entity::proposal::Entity>(tag, ids),
            Self::Event => of::<entity::event::Entity>(tag, ids),
            Self::Contract => of::<entity::contract::Entity>(tag, ids),
            Self::Task => of::<entity::task::Entity>(tag, ids),
        }
    }
}

/// The kind of each id that names a row, in one statement (ids naming nothing are absent).
pub async fn kinds_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<HashMap<Uuid, NodeKind>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = KINDS[0].select(ids);
    for kind in &KINDS[1..] {
        query.union(UnionType::All, kind.select(ids));
    }
    let rows = db.query_all(&query).await?;
    let mut kinds = HashMap::new();
    for row in rows {
        let tag: String = row.try_get("", "kind")?;
        let id: Uuid = row.try_get("", "id")?;
        if let Some(kind) = KINDS.iter().find(|k| k.tag() == tag) {
            kinds.insert(id, *kind);
        }
    }
    Ok(kinds)
}
