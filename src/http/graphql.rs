//! GraphQL over HTTP, per the GraphQL-over-HTTP spec: POST JSON, GET for queries only,
//! `application/graphql-response+json` with 4xx on request errors, WebSocket subscriptions.
use std::net::SocketAddr;

use async_graphql::{
    Request, ServerError, Variables,
    parser::{parse_query, types::OperationType},
};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, Query, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use serde_json::{Map, Value as Json, json};

use super::{
    HttpState,
    media::{ContentTypeError, ResponseType, check_content_type, negotiate, wants_html},
    metrics::graphql_operation,
};
use crate::{
    auth::{Viewer, viewer::authenticate},
    error::AppError,
    graphql::{RequestCode, to_server_error},
};

/// A failure before execution: status plus one error.
struct Refusal {
    status: StatusCode,
    error: Box<ServerError>,
    allow: Option<&'static str>,
}

impl Refusal {
    fn bad_request(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(to_server_error(&AppError::bad_input(field, message))),
            allow: None,
        }
    }

    fn from_app(status: StatusCode, err: &AppError) -> Self {
        Self { status, error: Box::new(to_server_error(err)), allow: None }
    }

    /// An error of a well-formed request the server will not run (an unknown persisted query):
    /// 4xx only when the client accepts `application/graphql-response+json`, as for validation.
    fn request_error(kind: ResponseType, error: Box<ServerError>) -> Self {
        Self { status: request_error_status(kind), error, allow: None }
    }

    fn into_response(self, kind: ResponseType) -> HttpResponse {
        let retry_after = match self.error.extensions.as_ref().and_then(|e| e.get("retryAfter")) {
            Some(async_graphql::Value::Number(secs)) => secs.as_u64(),
            _ => None,
        };
        let body = json!({ "errors": [self.error] });
        let mut response = json_response(self.status, kind, &body);
        if let Some(allow) = self.allow {
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn json_response(status: StatusCode, kind: ResponseType, body: &Json) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| br#"{"errors":[{"message":"internal error"}]}"#.to_vec());
    (status, [(header::CONTENT_TYPE, kind.content_type())], bytes).into_response()
}

/// `POST /graphql`: one operation or a batch (a JSON array, capped).
pub async fn post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResponse {
    let Some(kind) = negotiate(&headers) else { return not_acceptable() };
    let result = async {
        match check_content_type(&headers) {
            Ok(()) => {}
            Err(ContentTypeError::Missing) => {
                return Err(Refusal::bad_request("content-type", "send Content-Type: application/json"));
            }
            Err(ContentTypeError::Unsupported) => {
                let mut refusal =
                    Refusal::bad_request("content-type", "only application/json (UTF-8) bodies are accepted");
                refusal.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
                return Err(refusal);
            }
        }
        let body = body.map_err(|rejection| {
            let mut refusal = Refusal::bad_request("body", rejection.body_text());
            refusal.status = rejection.status();
            refusal
        })?;
        if body.is_empty() {
            return Err(Refusal::bad_request("body", "the request body is empty"));
        }
        let value: Json = serde_json::from_slice(&body).map_err(|e| {
            Refusal::bad_request(
                "body",
                format!("the request body is not valid JSON (line {}, column {})", e.line(), e.column()),
            )
        })?;
        let (mut operations, batched) = match value {
            Json::Array(items) => {
                let max = state.app.config.limits.max_batch;
                if items.is_empty() || items.len() > max {
                    return Err(Refusal::bad_request("body", format!("a batch holds 1 to {max} operations")));
                }
                let mut operations = Vec::with_capacity(items.len());
                for item in items {
                    operations.push(operation(&state, kind, parse_params(item)?).await?);
                }
                (operations, true)
            }
            other => (vec![operation(&state, kind, parse_params(other)?).await?], false),
        };
        let viewer = viewer_of(&state, &headers).await?;
        // Limits count fields, not documents: aliases and batches buy no extra attempts.
        let credential_fields: usize = operations.iter().map(|op| op.credential_fields()).sum();
        if credential_fields > 1 {
            return Err(Refusal::bad_request(
                "query",
                "a request holds at most one login, register or refreshToken field",
            ));
        }
        if operations.iter().any(|op| op.fields.iter().any(|f| f == "login")) {
            rate_limit(
                &state,
                &format!("login:ip:{}", peer.ip()),
                state.app.config.limits.login_attempts_per_ip,
                state.app.config.limits.login_window,
            )
            .await?;
        }
        let mutation_fields: usize = operations
            .iter()
            .filter(|op| op.ty == Some(OperationType::Mutation))
            .map(|op| op.fields.len().max(1))
            .sum();
        if mutation_fields > 0 {
            mutation_allowance(&state, &viewer, peer, mutation_fields).await.map_err(|error| Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                error,
                allow: None,
            })?;
        }
        let budget = crate::graphql::ComplexityBudget::default();
        for op in &mut operations {
            op.request.data.insert(crate::auth::ClientIp(peer.ip()));
            op.request.data.insert(budget.clone());
        }
        Ok((operations, batched, viewer))
    }
    .await;
    let (mut operations, batched, viewer) = match result {
        Ok(ok) => ok,
        Err(refusal) => return refusal.into_response(kind),
    };
    if !batched && let Some(op) = operations.pop() {
        return execute_one(&state, op, viewer, kind).await;
    }
    let mut out = Vec::new();
    for op in operations {
        let (_, body) = execute(&state, op, viewer.clone(), kind).await;
        out.push(body);
    }
    json_response(StatusCode::OK, kind, &Json::Array(out))
}

/// A parsed request and its operation type, read once from the document.
struct Operation {
    request: Request,
    ty: Option<OperationType>,
    /// Names (not aliases) of the operation's top-level fields, fragments expanded.
    fields: Vec<String>,
}

impl Operation {
    fn new(request: Request) -> Self {
        let (ty, fields) = operation_shape(&request);
        Self { request, ty, fields }
    }

    /// Fields that check or issue credentials: one per request at most.
    fn credential_fields(&self) -> usize {
        self.fields.iter().filter(|f| matches!(f.as_str(), "login" | "register" | "refreshToken")).count()
    }
}

/// `GET /graphql`: GraphiQL for browsers, WebSocket upgrades, or a query in the URL.
pub async fn get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<Vec<(String, String)>>,
    request: axum::extract::Request,
) -> HttpResponse {
    let (mut parts, _) = request.into_parts();
    let headers = parts.headers.clone();
    let is_upgrade =
        headers.get(header::UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        return super::ws::upgrade(state, &mut parts, peer).await;
    }
    let has_query = params.iter().any(|(k, _)| k == "query");
    if !has_query && wants_html(&headers) && state.app.config.exposure.graphiql {
        return super::graphiql::page();
    }
    let Some(kind) = negotiate(&headers) else { return not_acceptable() };
    let result = async {
        let mut object = Map::new();
        for (key, value) in params {
            let parsed = match key.as_str() {
                "variables" | "extensions" => {
                    serde_json::from_str(&value).map_err(|_| Refusal::bad_request(&key, "must be a JSON object"))?
                }
                _ => Json::String(value),
            };
            object.insert(key, parsed);
        }
        let op = operation(&state, kind, parse_params(Json::Object(object))?).await?;
        match op.ty {
            Some(OperationType::Query) | None => {}
            Some(_) => {
                return Err(Refusal {
                    status: StatusCode::METHOD_NOT_ALLOWED,
                    error: Box::new(to_server_error(&AppError::bad_input(
                        "query",
                        "mutations and subscriptions need POST",
                    ))),
                    allow: Some("POST"),
                });
            }
        }
        let viewer = viewer_of(&state, &headers).await?;
        Ok((op, viewer))
    }
    .await;
    match result {
        Ok((op, viewer)) => execute_one(&state, op, viewer, kind).await,
        Err(refusal) => refusal.into_response(kind),
    }
}

fn not_acceptable() -> HttpResponse {
    let error =
        to_server_error(&AppError::bad_input("accept", "accept application/graphql-response+json or application/json"));
    json_response(StatusCode::NOT_ACCEPTABLE, ResponseType::Json, &json!({ "errors": [error] }))
}

/// A request with its persisted query resolved, read for its shape.
async fn operation(state: &HttpState, kind: ResponseType, mut request: Request) -> Result<Operation, Refusal> {
    state.persisted.resolve(&mut request).await.map_err(|error| Refusal::request_error(kind, error))?;
    Ok(Operation::new(request))
}

/// Reads the spec's request parameters strictly: `query` a string (absent only when
/// `extensions.persistedQuery` names it), `operationName` a string or null, `variables` and
/// `extensions` maps or null.
fn parse_params(value: Json) -> Result<Request, Refusal> {
    let Json::Object(mut object) = value else {
        return Err(Refusal::bad_request("body", "a GraphQL request is a JSON object"));
    };
    let persisted = object.get("extensions").is_some_and(|e| e.get("persistedQuery").is_some());
    let query = match object.remove("query") {
        Some(Json::String(q)) => q,
        None | Some(Json::Null) if persisted => String::new(),
        Some(_) => return Err(Refusal::bad_request("query", "must be a string")),
        None => return Err(Refusal::bad_request("query", "is required")),
    };
    let mut request = Request::new(query);
    match object.remove("operationName") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) => request = request.operation_name(name),
        Some(_) => return Err(Refusal::bad_request("operationName", "must be a string")),
    }
    match object.remove("variables") {
        None | Some(Json::Null) => {}
        Some(vars @ Json::Object(_)) => request = request.variables(Variables::from_json(vars)),
        Some(_) => return Err(Refusal::bad_request("variables", "must be a map")),
    }
    match object.remove("extensions") {
        None | Some(Json::Null) => {}
        Some(Json::Object(map)) => {
            for (key, value) in map {
                if let Ok(value) = async_graphql::Value::from_json(value) {
                    request.extensions.insert(key, value);
                }
            }
        }
        Some(_) => return Err(Refusal::bad_request("extensions", "must be a map")),
    }
    Ok(request)
}

/// The type of the operation a request will run and its top-level field names, when its
/// document parses.
pub(super) fn operation_shape(request: &Request) -> (Option<OperationType>, Vec<String>) {
    let Ok(document) = parse_query(&request.query) else { return (None, Vec::new()) };
    let mut operations = document.operations.iter();
    let chosen = match &request.operation_name {
        Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => operations.next(),
    };
    let Some((_, op)) = chosen else { return (None, Vec::new()) };
    let mut fields = Vec::new();
    collect_fields(&document, &op.node.selection_set.node, &mut Vec::new(), &mut fields, &mut 0);
    (Some(op.node.ty), fields)
}

/// At most this many root fields are collected: far past every per-request limit, so a
/// document that reaches it is refused by those limits, and a fragment fan-out costs no more.
const MAX_COLLECTED_FIELDS: usize = 10_000;

/// The root fields a selection runs, through fragments of any depth (spreads and inline
/// fragments alike). A fragment already on the path is not followed again (a cycle, refused by
/// validation later); the walk stops after `MAX_COLLECTED_FIELDS` selections.
fn collect_fields(
    document: &async_graphql::parser::types::ExecutableDocument,
    set: &async_graphql::parser::types::SelectionSet,
    path: &mut Vec<async_graphql::Name>,
    out: &mut Vec<String>,
    visited: &mut usize,
) {
    use async_graphql::parser::types::Selection;
    for selection in &set.items {
        *visited = visited.saturating_add(1);
        if *visited > MAX_COLLECTED_FIELDS {
            // Count what is left as fields: the limits refuse the document.
            out.push("…".into());
            return;
        }
        match &selection.node {
            Selection::Field(field) => out.push(field.node.name.node.to_string()),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if path.contains(name) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(name) {
                    path.push(name.clone());
                    collect_fields(document, &fragment.node.selection_set.node, path, out, visited);
                    path.pop();
                }
            }
            Selection::InlineFragment(inline) => {
                collect_fields(document, &inline.node.selection_set.node, path, out, visited);
            }
        }
    }
}

async fn viewer_of(state: &HttpState, headers: &HeaderMap) -> Result<Viewer, Refusal> {
    let bearer = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => match value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
            Some(token) => Some(token),
            None => {
                return Err(Refusal::from_app(
                    StatusCode::UNAUTHORIZED,
                    &AppError::Unauthenticated("use Authorization: Bearer <token>".into()),
                ));
            }
        },
        Some(Err(_)) => {
            return Err(Refusal::from_app(
                StatusCode::UNAUTHORIZED,
                &AppError::Unauthenticated("malformed Authorization header".into()),
            ));
        }
    };
    authenticate(&state.app, bearer).await.map_err(|err| {
        let status = match err {
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            // An API key past its per-minute allowance.
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Refusal::from_app(status, &err)
    })
}

/// Spends `fields` mutations of the caller's per-minute allowance (HTTP and WebSocket share
/// it): aliases and batches buy no extra mutations.
pub(super) async fn mutation_allowance(
    state: &HttpState,
    viewer: &Viewer,
    peer: SocketAddr,
    fields: usize,
) -> Result<(), Box<ServerError>> {
    let key = match viewer.profile_id() {
        Some(id) => format!("mutation:{id}"),
        None => format!("mutation:ip:{}", peer.ip()),
    };
    let limit = state.app.config.limits.mutations_per_minute;
    for _ in 0..fields {
        rate_limit(state, &key, limit, std::time::Duration::from_secs(60)).await.map_err(|refusal| refusal.error)?;
    }
    Ok(())
}

async fn rate_limit(state: &HttpState, key: &str, limit: u32, window: std::time::Duration) -> Result<(), Refusal> {
    let app = &state.app;
    app.limiter.hit(app.clock.as_ref(), key, limit, window).await.map_err(|err| {
        let status = if matches!(err, AppError::RateLimited(_)) {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Refusal::from_app(status, &err)
    })
}

async fn execute_one(state: &HttpState, op: Operation, viewer: Viewer, kind: ResponseType) -> HttpResponse {
    let (status, body) = execute(state, op, viewer, kind).await;
    json_response(status, kind, &body)
}

/// Runs one operation. A response without data whose errors carry no path failed before
/// execution (parse, validation, variables, limits): a request error.
async fn execute(state: &HttpState, op: Operation, viewer: Viewer, kind: ResponseType) -> (StatusCode, Json) {
    let label = match op.ty {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    let response = if op.ty == Some(OperationType::Subscription) {
        async_graphql::Response::from_errors(vec![RequestCode::WrongTransport.error(
            "subscriptions run over WebSocket at this endpoint (graphql-transport-ws or graphql-ws), not over HTTP",
        )])
    } else {
        crate::graphql::execute(&state.schema, &state.app, viewer, op.request).await.0
    };
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    graphql_operation(
        label,
        if request_error {
            "request_error"
        } else if response.errors.is_empty() {
            "ok"
        } else {
            "field_error"
        },
    );
    let mut body =
        serde_json::to_value(&response).unwrap_or_else(|_| json!({ "errors": [{ "message": "internal error" }] }));
    if let (true, Json::Object(map)) = (request_error, &mut body) {
        map.remove("data");
    }
    let status = if request_error { request_error_status(kind) } else { StatusCode::OK };
    (status, body)
}

/// The status of a well-formed request that failed before execution: 4xx only for clients
/// that accept `application/graphql-response+json`.
fn request_error_status(kind: ResponseType) -> StatusCode {
    match kind {
        ResponseType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        ResponseType::Json => StatusCode::OK,
    }
}
