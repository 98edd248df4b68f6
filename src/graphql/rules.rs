//! Rules every operation passes before it runs, on every transport: depth (with introspection
//! judged by its own rule), the complexity budget a batch shares, and a machine code on every
//! request error.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{
    ErrorExtensionValues, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe, NextValidation,
    },
    futures_util::stream::BoxStream,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};
use futures_util::StreamExt;

use crate::error::ErrorCode;

/// Codes of errors that stop an operation before any resolver runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCode {
    /// The document does not parse.
    ParseFailed,
    /// The document does not validate against the schema (unknown field, wrong argument...).
    ValidationFailed,
    /// Selections nest deeper than the limit.
    TooDeep,
    /// The operation (or its batch) asks for more than the complexity limit.
    TooComplex,
    /// A hash-only request whose query this server does not know: resend it with the query.
    PersistedQueryNotFound,
    /// A persisted query whose hash does not match its text.
    PersistedQueryMismatch,
    /// The operation needs another transport (a subscription sent over HTTP).
    WrongTransport,
}

impl RequestCode {
    /// The code as sent in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::TooDeep => "QUERY_TOO_DEEP",
            Self::TooComplex => "QUERY_TOO_COMPLEX",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::WrongTransport => "OPERATION_NOT_SUPPORTED",
        }
    }

    /// A request error (no path, no location) with this code.
    pub fn error(self, message: impl Into<String>) -> ServerError {
        let mut error = ServerError::new(message, None);
        set_code(&mut error, self.as_str());
        error
    }
}

fn set_code(error: &mut ServerError, code: &str) {
    error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|e| e.get("code").is_some())
}

/// Gives a codeless error the code of the stage it came from, and drops the placeholder
/// location (line 0, column 0) the spec does not allow.
fn mend(error: &mut ServerError, code: &str) {
    error.locations.retain(|pos| pos.line > 0 && pos.column > 0);
    if !has_code(error) {
        set_code(error, code);
    }
}

/// Mends every error of a response: those without a path failed before execution
/// (validation of variables, operation selection), the others came from a resolver's input.
fn mend_response(response: &mut Response) {
    for error in &mut response.errors {
        let code = if error.path.is_empty() {
            RequestCode::ValidationFailed.as_str()
        } else {
            ErrorCode::BadUserInput.as_str()
        };
        mend(error, code);
    }
}

/// How deep introspection may go: the standard introspection query (graphql-js
/// `getIntrospectionQuery`, every option) is 14 fields deep, its `ofType` chain being most of it.
const INTROSPECTION_MAX_DEPTH: usize = 24;
/// How many of `fields`, `inputFields`, `interfaces` and `possibleTypes` may nest inside one
/// another in introspection; each multiplies the answer by a type's members (graphql-js uses 3).
const INTROSPECTION_MAX_LIST_NESTING: usize = 3;
/// Selections visited (fragments expanded) before a document counts as too complex to judge:
/// fragments that spread others twice over double the work per level.
const MAX_VISITED_SELECTIONS: usize = 20_000;

/// Request data shared by the operations of one HTTP request (a batch): they spend one
/// complexity budget together instead of each getting a fresh one.
#[derive(Clone, Default)]
pub struct ComplexityBudget(Arc<AtomicUsize>);

/// The schema extension that applies these rules.
pub struct RequestRules {
    max_depth: usize,
    max_complexity: usize,
    parsed: Arc<ParsedDocuments>,
}

impl RequestRules {
    /// Rules with these limits of depth and complexity (of one operation, and of a batch's
    /// operations together).
    pub fn new(max_depth: usize, max_complexity: usize) -> Self {
        Self { max_depth, max_complexity, parsed: Arc::default() }
    }
}

impl ExtensionFactory for RequestRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestRulesExtension {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            parsed: self.parsed.clone(),
        })
    }
}

/// Documents that parsed and passed the depth rules, by their text: clients send the same few
/// operations again and again, and a clone costs less than a parse. Bounded: when full it
/// starts over, so a stream of distinct documents only loses the cache.
#[derive(Default)]
struct ParsedDocuments(Mutex<HashMap<String, ExecutableDocument>>);

/// Documents kept at most.
const PARSED_DOCUMENTS: usize = 512;
/// Longer documents are parsed every time.
const PARSED_DOCUMENT_MAX_LEN: usize = 16 * 1024;

impl ParsedDocuments {
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(query).cloned()
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > PARSED_DOCUMENT_MAX_LEN {
            return;
        }
        let mut documents = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if documents.len() >= PARSED_DOCUMENTS {
            documents.clear();
        }
        documents.insert(query.to_owned(), document.clone());
    }
}

struct RequestRulesExtension {
    max_depth: usize,
    max_complexity: usize,
    parsed: Arc<ParsedDocuments>,
}

#[async_trait::async_trait]
impl Extension for RequestRulesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        mend_response(&mut response);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                mend_response(&mut response);
                response
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.parsed.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await.map_err(|mut error| {
            mend(&mut error, RequestCode::ParseFailed.as_str());
            error
        })?;
        let mut walk = DepthWalk { document: &document, max_depth: self.max_depth, visited: 0 };
        for (name, operation) in document.operations.iter() {
            walk.selections(&operation.node.selection_set.node, Position::Schema(0), 0)?;
            if operation.node.ty == OperationType::Subscription {
                single_root_field(&document, name.map(|n| n.as_str()), &operation.node.selection_set.node)?;
            }
        }
        self.parsed.keep(query, &document);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|mut error| {
                    let code = if error.message == "Query is too complex." {
                        error.message =
                            format!("the operation is more complex than the limit of {}", self.max_complexity);
                        RequestCode::TooComplex
                    } else {
                        RequestCode::ValidationFailed
                    };
                    mend(&mut error, code.as_str());
                    error
                })
                .collect::<Vec<_>>()
        })?;
        if let Some(budget) = ctx.data_opt::<ComplexityBudget>() {
            let spent = budget.0.fetch_add(result.complexity, Ordering::SeqCst);
            if spent.saturating_add(result.complexity) > self.max_complexity {
                return Err(vec![RequestCode::TooComplex.error(format!(
                    "the operations of this request exceed the complexity limit of {} together",
                    self.max_complexity
                ))]);
            }
        }
        Ok(result)
    }
}

/// A subscription selects exactly one root field, not `__typename` (the GraphQL specification's
/// "Single root field" rule, which async-graphql does not apply): one stream per operation.
fn single_root_field(document: &ExecutableDocument, name: Option<&str>, set: &SelectionSet) -> ServerResult<()> {
    /// Distinct response keys at the root, fragments expanded; whether `__typename` is one.
    fn keys<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet, depth: usize, out: &mut Vec<&'a str>) -> bool {
        let mut typename = false;
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    if !out.contains(&key) {
                        out.push(key);
                    }
                    typename |= field.node.name.node == "__typename";
                }
                Selection::FragmentSpread(spread) if depth < 16 => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        typename |= keys(document, &fragment.node.selection_set.node, depth + 1, out);
                    }
                }
                Selection::FragmentSpread(_) => {}
                Selection::InlineFragment(inline) => {
                    typename |= keys(document, &inline.node.selection_set.node, depth, out);
                }
            }
        }
        typename
    }
    let mut found = Vec::new();
    let typename = keys(document, set, 0, &mut found);
    if found.len() == 1 && !typename {
        return Ok(());
    }
    let which = name.map_or_else(|| "Anonymous Subscription".to_owned(), |n| format!("Subscription \"{n}\""));
    let why = if typename { "may not select __typename at its root" } else { "must select only one top level field" };
    Err(RequestCode::ValidationFailed.error(format!("{which} {why}.")))
}

/// Where a selection stands: over the schema's types (at a depth), or inside introspection
/// (at a depth, under so many nested member lists).
#[derive(Clone, Copy)]
enum Position {
    Schema(usize),
    Introspection { depth: usize, lists: usize },
}

struct DepthWalk<'a> {
    document: &'a ExecutableDocument,
    max_depth: usize,
    visited: usize,
}

impl DepthWalk<'_> {
    fn selections(&mut self, set: &SelectionSet, at: Position, fragment_depth: usize) -> ServerResult<()> {
        for selection in &set.items {
            self.visited += 1;
            if self.visited > MAX_VISITED_SELECTIONS {
                return Err(RequestCode::TooComplex.error("the document expands to too many selections"));
            }
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let next = self.enter(field.name.node.as_str(), at)?;
                    self.selections(&field.selection_set.node, next, fragment_depth)?;
                }
                Selection::FragmentSpread(spread) => {
                    // A cycle is refused by validation; it must not loop here first.
                    if fragment_depth > 16 {
                        return Err(RequestCode::TooDeep.error("fragments spread inside one another too deeply"));
                    }
                    if let Some(fragment) = self.document.fragments.get(&spread.node.fragment_name.node) {
                        self.selections(&fragment.node.selection_set.node, at, fragment_depth + 1)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.selections(&inline.node.selection_set.node, at, fragment_depth)?;
                }
            }
        }
        Ok(())
    }

    fn enter(&self, name: &str, at: Position) -> ServerResult<Position> {
        match at {
            Position::Schema(_) if matches!(name, "__schema" | "__type") => {
                Ok(Position::Introspection { depth: 1, lists: 0 })
            }
            Position::Schema(depth) => {
                if depth + 1 > self.max_depth {
                    return Err(RequestCode::TooDeep
                        .error(format!("the operation nests deeper than the limit of {} levels", self.max_depth)));
                }
                Ok(Position::Schema(depth + 1))
            }
            Position::Introspection { depth, lists } => {
                let lists =
                    lists + usize::from(matches!(name, "fields" | "inputFields" | "interfaces" | "possibleTypes"));
                if depth + 1 > INTROSPECTION_MAX_DEPTH || lists > INTROSPECTION_MAX_LIST_NESTING {
                    return Err(RequestCode::TooDeep.error(format!(
                        "introspection nests too deeply (at most {INTROSPECTION_MAX_LIST_NESTING} of fields, \
                         inputFields, interfaces and possibleTypes inside one another)"
                    )));
                }
                Ok(Position::Introspection { depth: depth + 1, lists })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_documents_are_kept_by_text_and_bounded() {
        let parsed = ParsedDocuments::default();
        let document = |q: &str| async_graphql::parser::parse_query(q).unwrap_or_else(|e| panic!("{e}"));
        parsed.keep("{ a }", &document("{ a }"));
        assert!(parsed.get("{ a }").is_some());
        assert!(parsed.get("{ b }").is_none());
        let long = format!("{{ {} }}", "a ".repeat(PARSED_DOCUMENT_MAX_LEN));
        parsed.keep(&long, &document(&long));
        assert!(parsed.get(&long).is_none(), "long documents are parsed every time");
        for i in 0..PARSED_DOCUMENTS {
            parsed.keep(&format!("{{ f{i} }}"), &document(&format!("{{ f{i} }}")));
        }
        let kept = parsed.0.lock().unwrap_or_else(PoisonError::into_inner).len();
        assert!(kept <= PARSED_DOCUMENTS, "{kept} documents kept");
    }
}
