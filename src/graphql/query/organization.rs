//! Reading organizations.
use async_graphql::{Context, ID, Object};

use crate::{
    domain,
    error::AppError,
    graphql::{
        GqlResult, state,
        types::{Organization, parse_id},
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
}
