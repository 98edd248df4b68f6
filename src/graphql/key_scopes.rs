//! API key scopes, enforced for every field an operation resolves: a root field by the table
//! in `auth::api_key` (queries and subscriptions need its area's read scope, mutations its
//! write scope; fields the table does not name are refused), a field below by the same table's
//! nested entries. Aliases, fragments and batches change nothing: each resolved field is judged
//! by its type and name. Requests without a key pass untouched.
use std::sync::{Arc, OnceLock};

use async_graphql::{
    PathSegment, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo},
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use super::error::to_graphql_error;
use crate::{
    auth::{
        Viewer,
        api_key::{KeyGrant, Level, nested_reach, refusal, root_reach},
    },
    error::AppError,
};

/// The schema extension applying key scopes.
pub struct KeyScopes;

impl ExtensionFactory for KeyScopes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(KeyScopesExtension { grant: OnceLock::new() })
    }
}

/// One request's judge: the key it came with, looked up once.
struct KeyScopesExtension {
    grant: OnceLock<Option<Arc<KeyGrant>>>,
}

impl KeyScopesExtension {
    fn grant(&self, ctx: &ExtensionContext<'_>) -> Option<&KeyGrant> {
        self.grant
            .get_or_init(|| match ctx.data_opt::<Viewer>() {
                Some(Viewer::User { key: Some(key), .. }) => Some(key.clone()),
                _ => None,
            })
            .as_deref()
    }
}

#[async_trait::async_trait]
impl Extension for KeyScopesExtension {
    /// A subscription's root field is judged before its stream starts (its events would each
    /// be refused otherwise): the refusal is the operation's error.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(grant) = self.grant(ctx) {
            for (_, operation) in document.operations.iter() {
                if operation.node.ty != OperationType::Subscription {
                    continue;
                }
                let mut roots = Vec::new();
                root_fields(&document, &operation.node.selection_set.node, 0, &mut roots);
                for field in roots {
                    if let Some(why) = refusal(grant, root_reach(field), Level::Read, field) {
                        let mut error = super::to_server_error(&AppError::forbidden(why));
                        error.path.clear();
                        return Err(error);
                    }
                }
            }
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if let Some(grant) = self.grant(ctx)
            && !info.is_for_introspection
            && !info.name.starts_with("__")
        {
            let (reach, level) = if info.path_node.parent.is_none() {
                let level = if info.parent_type == "Mutation" { Level::Write } else { Level::Read };
                (Some(root_reach(info.name)), level)
            } else {
                (nested_reach(info.parent_type, info.name), Level::Read)
            };
            if let Some(why) = reach.and_then(|reach| refusal(grant, reach, level, info.name)) {
                return Err(refused(&info, why));
            }
        }
        next.run(ctx, info).await
    }
}

/// A FORBIDDEN field error at the field's path.
fn refused(info: &ResolveInfo<'_>, why: String) -> ServerError {
    let mut error = to_graphql_error(&AppError::forbidden(why)).into_server_error(Default::default());
    error.locations.clear();
    error.path = info.path_node.to_string_vec().into_iter().map(PathSegment::Field).collect();
    error
}

/// How deep fragments (spread or inline) may nest at a subscription's root for a key.
const MAX_FRAGMENT_DEPTH: usize = 16;

/// The names of the root fields of a selection, fragments expanded. Fails closed: fragments
/// nested deeper than the bound yield a name no table line has (so the operation is refused),
/// never nothing.
fn root_fields<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet, depth: usize, out: &mut Vec<&'a str>) {
    if depth > MAX_FRAGMENT_DEPTH {
        out.push(TOO_DEEP);
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => out.push(field.node.name.node.as_str()),
            Selection::FragmentSpread(spread) => match document.fragments.get(&spread.node.fragment_name.node) {
                Some(fragment) => {
                    root_fields(document, &fragment.node.selection_set.node, depth.saturating_add(1), out)
                }
                None => out.push(TOO_DEEP),
            },
            Selection::InlineFragment(inline) => {
                root_fields(document, &inline.node.selection_set.node, depth.saturating_add(1), out);
            }
        }
    }
}

/// What `root_fields` reports for fragments it will not follow (refused: no line names it).
const TOO_DEEP: &str = "(fragments nested too deeply)";

#[cfg(test)]
mod tests {
    use async_graphql::parser::{parse_query, parse_schema, types::TypeSystemDefinition};

    use super::{TOO_DEEP, root_fields};

    /// Fragments around a subscription's root field hide nothing: nested within the bound the
    /// field is found, beyond it the operation reads as refused.
    #[test]
    fn fragments_at_a_subscriptions_root_are_followed_or_refused() {
        let roots = |nesting: usize| {
            let open = "... on Subscription { ".repeat(nesting);
            let close = "}".repeat(nesting);
            let text =
                format!("subscription {{ {open}...F{close} }} fragment F on Subscription {{ payoutUpdated {{ id }} }}");
            let document = parse_query(&text).unwrap_or_else(|e| panic!("{e}"));
            let (_, operation) = document.operations.iter().next().unwrap_or_else(|| panic!("an operation"));
            let mut out = Vec::new();
            root_fields(&document, &operation.node.selection_set.node, 0, &mut out);
            out.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(roots(3), vec!["payoutUpdated"]);
        assert_eq!(roots(20), vec![TOO_DEEP]);
        assert!(crate::auth::api_key::root_reach(TOO_DEEP) == crate::auth::api_key::Reach::Never);
    }

    use crate::auth::api_key::{NESTED_FIELDS, ROOT_FIELDS};

    /// Every root field of the served schema has a line in the key table, and every line names
    /// a field that exists: a new root field cannot slip past key scopes unjudged.
    #[test]
    fn the_key_table_covers_every_root_field() {
        let sdl = super::super::sdl();
        let schema = parse_schema(&sdl).unwrap_or_else(|e| panic!("the SDL parses: {e}"));
        let mut served = Vec::new();
        let mut nested = Vec::new();
        for definition in &schema.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let name = ty.node.name.node.as_str();
            let async_graphql::parser::types::TypeKind::Object(object) = &ty.node.kind else { continue };
            for field in &object.fields {
                let field = field.node.name.node.to_string();
                if matches!(name, "Query" | "Mutation" | "Subscription") {
                    served.push(field);
                } else {
                    nested.push((name.to_owned(), field));
                }
            }
        }
        for field in &served {
            assert!(ROOT_FIELDS.iter().any(|(f, _)| f == field), "root field `{field}` has no line in ROOT_FIELDS");
        }
        for (field, _) in ROOT_FIELDS {
            assert!(served.iter().any(|f| f == field), "ROOT_FIELDS names `{field}`, which the schema does not serve");
        }
        for (ty, field, _) in NESTED_FIELDS {
            assert!(nested.iter().any(|(t, f)| t == ty && f == field), "NESTED_FIELDS names a missing {ty}.{field}");
        }
    }
}
