//! `node(id:)` and `nodes(ids:)`: refetching any `Node` by its id, answered exactly as that
//! kind's own query answers it (the same visibility rules); null when there is no such object
//! or you may not see it.
use async_graphql::{Context, ID, Object};
use futures_util::future::try_join_all;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    auth::Viewer,
    domain::{self, node::NodeKind},
    error::AppError,
    graphql::{
        GqlResult, state,
        types::{
            Organization, Profile,
            community::{Community, Post},
            contract::Contract,
            event::Event,
            gig::{Gig, Proposal},
            node::Node,
            parse_id,
            task::Task,
        },
        viewer,
    },
};

/// Ids one `nodes` call takes.
const MAX_NODES: usize = 20;

/// Global object identification.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id; null when there is none or you may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Node>> {
        let id = parse_id(&id, "id")?;
        let db = &state(ctx)?.db;
        let kinds = domain::node::kinds_of(db, &[id]).await?;
        Ok(resolve(db, viewer(ctx), id, kinds.get(&id).copied()).await?)
    }

    /// The objects with these ids (at most 20), in the same order; null for each there is none
    /// of or you may not see.
    #[graphql(complexity = "ids.len().saturating_mul(child_complexity).saturating_add(1)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> GqlResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input("ids", format!("at most {MAX_NODES} ids at once")).into());
        }
        let ids = ids.iter().map(|id| parse_id(id, "ids")).collect::<Result<Vec<Uuid>, _>>()?;
        let db = &state(ctx)?.db;
        let kinds = domain::node::kinds_of(db, &ids).await?;
        Ok(try_join_all(ids.iter().map(|id| resolve(db, viewer(ctx), *id, kinds.get(id).copied()))).await?)
    }
}

/// The object as its kind's own query would answer it; refusals read as "no such object".
async fn resolve(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: Uuid,
    kind: Option<NodeKind>,
) -> Result<Option<Node>, AppError> {
    let Some(kind) = kind else { return Ok(None) };
    let found = match kind {
        NodeKind::Profile => domain::profile::by_id(db, id).await.map(|p| p.map(|p| Node::Profile(Profile(p)))),
        NodeKind::Organization => {
            domain::organization::by_id(db, id).await.map(|o| o.map(|o| Node::Organization(Organization(o))))
        }
        NodeKind::Community => domain::community::by_id(db, id).await.map(|c| c.map(|c| Node::Community(Community(c)))),
        NodeKind::Post => domain::conversation::post_by_id(db, viewer, id).await.map(|p| Some(Node::Post(Post(p)))),
        NodeKind::Gig => domain::gig::visible(db, viewer, id).await.map(|g| Some(Node::Gig(Gig(g)))),
        NodeKind::Proposal => {
            domain::proposal::readable(db, viewer, id).await.map(|p| Some(Node::Proposal(Proposal(p))))
        }
        NodeKind::Event => domain::event::visible(db, viewer, id).await.map(|e| Some(Node::Event(Event(e)))),
        NodeKind::Contract => {
            domain::contract::visible(db, viewer, id).await.map(|(c, access)| Some(Node::Contract(Contract(c, access))))
        }
        NodeKind::Task => {
            domain::task::visible(db, viewer, id).await.map(|(t, access)| Some(Node::Task(Task(t, access))))
        }
    };
    match found {
        Err(AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Unauthenticated(_)) => Ok(None),
        other => other,
    }
}
