//! Reading organizations.
use crate::graphql::types::common::List;
use async_graphql::{Context, ID, Object};

use crate::{
    domain::{self, page::PageRequest},
    error::AppError,
    graphql::{
        GqlResult, state,
        types::{Organization, OrganizationInvitation, common::connection, parse_id},
        viewer,
    },
};

/// Organization queries.
#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// An organization by id or by slug (give exactly one); null when there is none.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> GqlResult<Option<Organization>> {
        let db = &state(ctx)?.db;
        let found = match (id, slug) {
            (Some(id), None) => domain::organization::by_id(db, parse_id(&id, "id")?).await?,
            (None, Some(slug)) => domain::organization::by_slug(db, &slug).await?,
            _ => return Err(AppError::bad_input("id", "give exactly one of id and slug").into()),
        };
        Ok(found.map(Organization))
    }

    /// Invitations to organizations waiting for your answer, oldest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn my_organization_invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<List<OrganizationInvitation>> {
        let state = state(ctx)?;
        let page = PageRequest::new(first, after.as_deref(), &state.config.limits)?;
        let page = domain::organization::my_invitations(&state.db, viewer(ctx), page).await?;
        Ok(connection(page, OrganizationInvitation))
    }
}
