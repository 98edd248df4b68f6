//! The GraphQL schema: one query, mutation and subscription object per area, merged at the root.
mod error;
mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

pub use error::{GqlError, GqlResult, to_server_error};
pub use loaders::Loaders;

use crate::{auth::Viewer, config::AppEnv, state::AppState};

/// Root query object.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::AccountQuery,
    query::ProfileQuery,
    query::OrganizationQuery,
    query::CommunityQuery,
    query::GigQuery,
    query::EventQuery,
    query::ContractQuery,
    query::NotificationQuery,
);

/// Root mutation object.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::AccountMutation,
    mutation::ProfileMutation,
    mutation::AgentMutation,
    mutation::OrganizationMutation,
    mutation::CommunityMutation,
    mutation::GigMutation,
    mutation::EventMutation,
    mutation::ContractMutation,
    mutation::TaskMutation,
    mutation::MoneyMutation,
    mutation::NotificationMutation,
);

/// Root subscription object.
#[derive(MergedSubscription, Default)]
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
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(8)
        .extension(BatchBudget { limit: limits.max_complexity });
    if state.config.app_env == AppEnv::Production {
        builder = builder.disable_suggestions();
    }
    if !state.config.exposure.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(state).finish()
}

/// The SDL of the schema, as written to `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default()).finish().sdl()
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
    // Loaders are made inside the scope: their batches count toward this operation.
    let response = count
        .clone()
        .scope(async move { schema.execute(request.data(Loaders::new(state, &viewer)).data(viewer)).await })
        .await;
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

/// Request data shared by the operations of one HTTP request (a batch): they spend one
/// complexity budget together instead of each getting a fresh one.
#[derive(Clone, Default)]
pub struct ComplexityBudget(std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Refuses an operation once its batch has spent the complexity limit.
pub struct BatchBudget {
    limit: usize,
}

impl async_graphql::extensions::ExtensionFactory for BatchBudget {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(BatchBudgetExtension { limit: self.limit })
    }
}

struct BatchBudgetExtension {
    limit: usize,
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for BatchBudgetExtension {
    async fn validation(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextValidation<'_>,
    ) -> Result<async_graphql::ValidationResult, Vec<async_graphql::ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(budget) = ctx.data_opt::<ComplexityBudget>() {
            let spent = budget.0.fetch_add(result.complexity, std::sync::atomic::Ordering::SeqCst);
            if spent.saturating_add(result.complexity) > self.limit {
                return Err(vec![async_graphql::ServerError::new(
                    format!("the operations of this request exceed the complexity limit of {} together", self.limit),
                    None,
                )]);
            }
        }
        Ok(result)
    }
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
