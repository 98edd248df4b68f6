//! The GraphQL schema: one query, mutation and subscription object per area, merged at the root.
mod error;
mod key_scopes;
mod loaders;
pub mod mutation;
pub mod query;
mod rules;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

pub use error::{GqlError, GqlResult, to_server_error};
pub use loaders::Loaders;
pub use rules::{ComplexityBudget, RequestCode};

use crate::{auth::Viewer, config::AppEnv, state::AppState};

/// Root query object.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::AccountQuery,
    query::ProfileQuery,
    query::OrganizationQuery,
    query::CommunityQuery,
    query::GigQuery,
    query::EventQuery,
    query::ContractQuery,
    query::NotificationQuery,
    query::NodeQuery,
    query::WebhookQuery,
);

/// Root mutation object.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::AccountMutation,
    mutation::ProfileMutation,
    mutation::AgentMutation,
    mutation::ApiKeyMutation,
    mutation::OrganizationMutation,
    mutation::CommunityMutation,
    mutation::GigMutation,
    mutation::EventMutation,
    mutation::ContractMutation,
    mutation::TaskMutation,
    mutation::PlaybookMutation,
    mutation::MoneyMutation,
    mutation::NotificationMutation,
    mutation::WebhookMutation,
);

/// Root subscription object.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    subscription::OrganizationSubscription,
    subscription::CommunitySubscription,
    subscription::ContractSubscription,
    subscription::MoneySubscription,
    subscription::NotificationSubscription,
);

/// The served schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with its limits; the state is schema data.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = state.config.limits;
    let mut builder =
        described(Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default()))
            .limit_complexity(limits.max_complexity)
            .limit_recursive_depth(32)
            .limit_directives(8)
            // Outermost, so it judges every document, cached by the rules or not.
            .extension(key_scopes::KeyScopes)
            .extension(rules::RequestRules::new(limits.max_depth, limits.max_complexity));
    if state.config.app_env == AppEnv::Production {
        builder = builder.disable_suggestions();
    }
    if !state.config.exposure.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(state).finish()
}

type Builder = async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Descriptions of the scalars the schema takes from libraries.
fn described(builder: Builder) -> Builder {
    builder.override_output_type_description::<chrono::DateTime<chrono::Utc>>(
        "A point in time: an RFC 3339 string with a UTC offset, e.g. `2026-11-24T16:05:49Z`. \
         The server always answers in UTC.",
    )
}

/// Directives every GraphQL implementation knows; SDL tools refuse a document that redefines them.
const BUILT_IN_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// The SDL of the schema, as written to `schema.graphql`: `@specifiedBy` on scalars that follow
/// a specification, built-in directives not redeclared.
pub fn sdl() -> String {
    let schema =
        described(Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())).finish();
    let full = schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by());
    without_built_in_directives(&full)
}

const DESCRIPTION_FENCE: &str = r#"""""#;

/// Drops the definitions of built-in directives, and the description just above each, from an
/// SDL document.
fn without_built_in_directives(sdl: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in sdl.lines() {
        let built_in = line.strip_prefix("directive @").is_some_and(|rest| {
            let name = rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
            BUILT_IN_DIRECTIVES.contains(&name)
        });
        if !built_in {
            kept.push(line);
            continue;
        }
        // The description block `"""` … `"""` right above belongs to the dropped directive.
        if kept.last() == Some(&DESCRIPTION_FENCE)
            && let Some(open) = kept[..kept.len() - 1].iter().rposition(|l| *l == DESCRIPTION_FENCE)
        {
            kept.truncate(open);
        }
    }
    let mut out = kept.join("\n");
    out.push('\n');
    out
}

/// Runs one operation in-process as `viewer` with fresh loaders: what the HTTP handler does for
/// each operation, and what fast tests call directly. Returns the response and the SQL
/// statements it cost (also recorded as the `graphql_request_sql_statements` histogram).
pub async fn execute(
    schema: &AppSchema,
    state: &AppState,
    viewer: Viewer,
    request: async_graphql::Request,
) -> (async_graphql::Response, u64) {
    let count = crate::telemetry::StatementCount::new();
    let waves = std::sync::Arc::new(loaders::Waves::default());
    let request = request.data(Loaders::new(state, &viewer, &waves)).data(viewer);
    // Loader batches run inside the request's future, so they count toward this operation.
    let response = count.clone().scope(loaders::drive(waves, schema.execute(request))).await;
    let statements = count.get();
    metrics::histogram!("graphql_request_sql_statements").record(statements as f64);
    (response, statements)
}

/// The complexity of a connection field: its page (`first`, defaulting and capped as
/// `PageRequest` does) times the cost of one item, so the limit bounds the rows a query can ask
/// for, not only its shape.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let defaults = crate::config::Limits::default();
    let page =
        first.map_or(defaults.default_page_size, |n| usize::try_from(n).unwrap_or(0).min(defaults.max_page_size));
    page.max(1).saturating_mul(child_complexity).saturating_add(1)
}

/// The shared state of the process.
pub(crate) fn state<'a>(ctx: &Context<'a>) -> GqlResult<&'a AppState> {
    ctx.data::<AppState>().map_err(|_| GqlError::internal("state missing from schema data"))
}

/// The caller of this request (anonymous when no viewer was attached).
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// The per-request data loaders.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> GqlResult<&'a Loaders> {
    ctx.data::<Loaders>().map_err(|_| GqlError::internal("loaders missing from request data"))
}
