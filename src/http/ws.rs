//! GraphQL over WebSocket: the `graphql-transport-ws` protocol exactly, and the legacy
//! `graphql-ws` (subscriptions-transport-ws) one. The protocol loop is ours; execution is
//! async-graphql's.
//!
//! One task per connection: it reads client messages and polls every operation's stream
//! (no task or channel per operation), so an idle subscribed connection costs a few KiB.
//! Close codes (graphql-transport-ws): 4400 malformed or unknown message, 4401 subscribe before
//! `connection_ack`, 4403 bad credentials at init, 4408 no init in time, 4409 an id already in
//! use, 4429 a second init, 1001 server shutdown, 1011 an internal failure (logged).
use std::{net::SocketAddr, sync::Arc};

use async_graphql::{Request, Response, ServerError, parser::types::OperationType};
use axum::{
    extract::{
        FromRequestParts, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response as HttpResponse},
};
use futures_util::{SinkExt, StreamExt, stream::BoxStream};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio_stream::StreamMap;

use super::{
    HttpState,
    graphql::{mutation_allowance, operation_shape},
};
use crate::{
    auth::{ClientIp, SessionExpiry, Viewer, viewer::authenticate_session, viewer::still_valid},
    error::AppError,
    graphql::{ComplexityBudget, subscription::LiveItem, to_server_error},
};

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";
/// Operations one connection may run at once.
const MAX_OPERATIONS: usize = 100;

/// Which subprotocol the client chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// `graphql-transport-ws` (the `graphql-ws` npm library).
    TransportWs,
    /// The legacy `graphql-ws` subprotocol (subscriptions-transport-ws).
    Legacy,
}

/// Upgrades `GET /graphql` to a WebSocket speaking one of the two protocols.
pub async fn upgrade(state: HttpState, parts: &mut Parts, peer: SocketAddr) -> HttpResponse {
    let upgrade = match WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(u) => u.protocols([TRANSPORT_WS, LEGACY_WS]),
        Err(e) => return e.into_response(),
    };
    let protocol = match upgrade.selected_protocol().map(|p| p.as_bytes()) {
        Some(b"graphql-transport-ws") => Protocol::TransportWs,
        Some(b"graphql-ws") => Protocol::Legacy,
        _ => {
            let error = to_server_error(&AppError::bad_input(
                "sec-websocket-protocol",
                "offer the graphql-transport-ws (or legacy graphql-ws) subprotocol",
            ));
            return (StatusCode::BAD_REQUEST, axum::Json(json!({ "errors": [error] }))).into_response();
        }
    };
    let settings = &state.app.config.websocket;
    upgrade
        .read_buffer_size(settings.read_buffer_bytes)
        .write_buffer_size(0)
        .max_message_size(settings.max_message_bytes)
        .max_frame_size(settings.max_message_bytes)
        .on_upgrade(move |socket| async move {
            metrics::gauge!("websocket_connections").increment(1.0);
            Box::pin(Connection::new(state, protocol, peer).run(socket)).await;
            metrics::gauge!("websocket_connections").decrement(1.0);
        })
}

/// A client message of either protocol.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Json>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Json>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Json>,
    },
    Subscribe {
        id: String,
        payload: Request,
    },
    Complete {
        id: String,
    },
    // Legacy names.
    Start {
        id: String,
        payload: Request,
    },
    Stop {
        id: String,
    },
    ConnectionTerminate,
}

/// What an operation produced.
enum Outgoing {
    /// The response of a query or mutation.
    Response(Response),
    /// An item of a live subscription.
    Live(LiveItem),
}

/// A `next` (or legacy `data`) message.
#[derive(serde::Serialize)]
struct Next<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    payload: &'a Response,
}

/// Why the connection closes.
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        let mut reason: String = reason.into();
        // A close reason holds at most 123 bytes.
        while reason.len() > 123 {
            reason.pop();
        }
        Self(code, reason)
    }
}

/// The authenticated side of a connection, once acknowledged.
struct Session {
    viewer: Viewer,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

struct Connection {
    state: HttpState,
    protocol: Protocol,
    peer: SocketAddr,
    session: Option<Session>,
    /// Each running operation's output by id; `None` marks its end.
    operations: StreamMap<Arc<str>, BoxStream<'static, Option<Outgoing>>>,
}

/// What woke a connection up.
enum Wake {
    Stopping,
    InitTimeout,
    Incoming(Option<Result<Message, axum::Error>>),
    Outgoing(Arc<str>, Option<Outgoing>),
}

impl Connection {
    fn new(state: HttpState, protocol: Protocol, peer: SocketAddr) -> Self {
        Self { state, protocol, peer, session: None, operations: StreamMap::new() }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let init_deadline = tokio::time::sleep(self.state.app.config.websocket.init_timeout);
        tokio::pin!(init_deadline);
        let mut shutdown = self.state.app.shutdown.subscribe();
        let stopping = async move {
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        };
        tokio::pin!(stopping);
        let close = loop {
            let waiting_for_init = self.session.is_none();
            // One owner of the socket (no split halves and their lock): wait for what comes
            // first, then act on it with the socket free.
            let wake = tokio::select! {
                () = &mut stopping => Wake::Stopping,
                () = &mut init_deadline, if waiting_for_init => Wake::InitTimeout,
                message = socket.next() => Wake::Incoming(message),
                Some((id, item)) = self.operations.next(), if !self.operations.is_empty() => Wake::Outgoing(id, item),
            };
            match wake {
                Wake::Stopping => break Some(Close::new(1001, "server shutting down")),
                Wake::InitTimeout => break Some(Close::new(4408, "Connection initialisation timeout")),
                Wake::Incoming(message) => {
                    let text = match message {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            break Some(Close::new(4400, "Binary messages are not supported"));
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    // Boxed: the work of a message (authentication, execution) takes memory only
                    // while it runs, not in every idle connection's task.
                    match Box::pin(self.receive(text.as_str(), &mut socket)).await {
                        Ok(()) => {}
                        Err(close) => break close,
                    }
                }
                Wake::Outgoing(id, item) => {
                    if Box::pin(self.deliver(&id, item, &mut socket)).await.is_err() {
                        break None;
                    }
                }
            }
        };
        if let Some(Close(code, reason)) = close {
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
        let _ = socket.close().await;
    }

    /// Handles one client message; `Err` closes the connection (with a frame when `Some`).
    async fn receive(&mut self, text: &str, sink: &mut WebSocket) -> Result<(), Option<Close>> {
        let value: Json = serde_json::from_str(text).map_err(|_| Close::new(4400, "Invalid message: not JSON"))?;
        let kind = value.get("type").and_then(Json::as_str).unwrap_or_default().to_owned();
        let message: ClientMessage = serde_json::from_value(value).map_err(|_| {
            let reason = if kind.is_empty() {
                "Invalid message: no type".to_owned()
            } else {
                format!("Invalid message of type {kind}")
            };
            Close::new(4400, reason)
        })?;
        let legacy = self.protocol == Protocol::Legacy;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload, sink).await,
            ClientMessage::Ping { payload } if !legacy => {
                let pong = match payload {
                    Some(payload) => json!({ "type": "pong", "payload": payload }),
                    None => json!({ "type": "pong" }),
                };
                send(sink, &pong).await.map_err(|()| None)
            }
            ClientMessage::Pong { .. } if !legacy => Ok(()),
            ClientMessage::Subscribe { id, payload } if !legacy => self.start(id, payload, sink).await,
            ClientMessage::Start { id, payload } if legacy => self.start(id, payload, sink).await,
            ClientMessage::Complete { id } if !legacy => {
                self.stop(&id);
                Ok(())
            }
            ClientMessage::Stop { id } if legacy => {
                self.stop(&id);
                Ok(())
            }
            ClientMessage::ConnectionTerminate if legacy => Err(None),
            _ => Err(Some(Close::new(4400, format!("Invalid message of type {kind} for this subprotocol")))),
        }
    }

    async fn init(&mut self, payload: Option<Json>, sink: &mut WebSocket) -> Result<(), Option<Close>> {
        if self.session.is_some() {
            return Err(Some(Close::new(4429, "Too many initialisation requests")));
        }
        let payload = payload.unwrap_or(Json::Null);
        let token = ["authorization", "Authorization", "token"]
            .iter()
            .find_map(|k| payload.get(*k).and_then(Json::as_str))
            .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).to_owned());
        match authenticate_session(&self.state.app, token.as_deref()).await {
            Ok((viewer, expires_at)) => {
                self.session = Some(Session { viewer, expires_at });
                send(sink, &json!({ "type": "connection_ack" })).await.map_err(|()| None)
            }
            Err(err) => {
                let internal = !matches!(err, AppError::Unauthenticated(_));
                if internal {
                    tracing::error!(error = ?err, "authenticating a WebSocket connection failed");
                }
                if self.protocol == Protocol::Legacy {
                    let error = to_server_error(&err);
                    let _ = send(sink, &json!({ "type": "connection_error", "payload": error })).await;
                }
                Err(Some(if internal {
                    Close::new(1011, "Internal server error")
                } else {
                    Close::new(4403, format!("Forbidden: {err}"))
                }))
            }
        }
    }

    /// Starts an operation: checks, then adds its stream to the connection's.
    async fn start(&mut self, id: String, request: Request, sink: &mut WebSocket) -> Result<(), Option<Close>> {
        let Some(session) = &self.session else { return Err(Some(Close::new(4401, "Unauthorized"))) };
        if self.operations.contains_key(id.as_str()) {
            return Err(Some(Close::new(4409, format!("Subscriber for {id} already exists"))));
        }
        let id: Arc<str> = id.into();
        let mut request = request;
        if let Err(error) = self.state.persisted.resolve(&mut request).await {
            return self.send_error(&id, vec![*error], sink).await.map_err(|()| None);
        }
        if let Err(error) = admit(&self.state, session, self.peer, self.operations.len(), &request).await {
            return self.send_error(&id, vec![*error], sink).await.map_err(|()| None);
        }
        let viewer = session.viewer.clone();
        let mut request = request.data(ClientIp(self.peer.ip())).data(ComplexityBudget::default());
        if let Some(at) = session.expires_at {
            request = request.data(SessionExpiry(at));
        }
        let is_subscription = operation_shape(&request).0 == Some(OperationType::Subscription);
        let output: BoxStream<'static, Outgoing> = if is_subscription {
            // Started once, then rendered per group of identical subscriptions: an idle
            // subscriber holds its follower only. No loaders: payloads are flat.
            self.state.live.start(request.data(viewer)).map(Outgoing::Live).boxed()
        } else {
            let (schema, app) = (self.state.schema.clone(), self.state.app.clone());
            futures_util::stream::once(async move {
                let (response, _) = crate::graphql::execute(&schema, &app, viewer, request).await;
                Outgoing::Response(response)
            })
            .boxed()
        };
        let responses = output.map(Some).chain(futures_util::stream::once(std::future::ready(None)));
        self.operations.insert(id, responses.boxed());
        Ok(())
    }

    fn stop(&mut self, id: &str) {
        self.operations.remove(id);
    }

    /// Sends what an operation produced: `next`, its final `complete`, or a terminal `error`.
    async fn deliver(&mut self, id: &Arc<str>, item: Option<Outgoing>, sink: &mut WebSocket) -> Result<(), ()> {
        let kind = if self.protocol == Protocol::Legacy { "data" } else { "next" };
        let text = match item {
            None => {
                self.stop(id);
                return send(sink, &json!({ "type": "complete", "id": &**id })).await;
            }
            Some(Outgoing::Live(LiveItem::Next(payload))) => {
                // The payload is shared by the group; only the envelope is this subscriber's.
                let id = serde_json::to_string(&**id).unwrap_or_default();
                format!(r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#)
            }
            Some(Outgoing::Live(LiveItem::Failed(errors))) => {
                self.stop(id);
                return self.send_error(id, errors, sink).await;
            }
            Some(Outgoing::Response(response)) => {
                // Nothing ran (a request error): the operation is over.
                if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
                    self.stop(id);
                    return self.send_error(id, response.errors, sink).await;
                }
                serde_json::to_string(&Next { kind, id, payload: &response }).unwrap_or_else(|_| {
                    json!({ "type": kind, "id": &**id, "payload": { "errors": [{ "message": "internal error" }] } })
                        .to_string()
                })
            }
        };
        sink.send(Message::Text(text.into())).await.map_err(|_| ())
    }

    async fn send_error(&mut self, id: &str, errors: Vec<ServerError>, sink: &mut WebSocket) -> Result<(), ()> {
        let errors: Vec<Json> = errors.iter().map(error_json).collect();
        match self.protocol {
            Protocol::TransportWs => send(sink, &json!({ "type": "error", "id": id, "payload": errors })).await,
            Protocol::Legacy => {
                // The legacy protocol carries one error and expects `complete` after it.
                let first = errors.into_iter().next().unwrap_or(Json::Null);
                send(sink, &json!({ "type": "error", "id": id, "payload": first })).await?;
                send(sink, &json!({ "type": "complete", "id": id })).await
            }
        }
    }
}

/// Whether an operation may run now: limits, expiry, a revoked agent token.
async fn admit(
    state: &HttpState,
    session: &Session,
    peer: SocketAddr,
    running: usize,
    request: &Request,
) -> Result<(), Box<ServerError>> {
    let refuse = |err: AppError| Box::new(to_server_error(&err));
    if running >= MAX_OPERATIONS {
        // At most MAX_OPERATIONS at once: the client ends one, then retries.
        return Err(refuse(AppError::RateLimited(1)));
    }
    let now = state.app.clock.now();
    if session.expires_at.is_some_and(|at| at <= now) {
        return Err(refuse(AppError::Unauthenticated("the access token expired; reconnect with a fresh one".into())));
    }
    still_valid(&state.app, &session.viewer).await.map_err(refuse)?;
    // An API key's allowance counts every operation, as it counts every HTTP request.
    if let Some(key) = session.viewer.key() {
        crate::auth::viewer::spend_key_allowance(&state.app, key.key_id).await.map_err(refuse)?;
    }
    let (ty, fields) = operation_shape(request);
    if fields.iter().any(|f| matches!(f.as_str(), "login" | "register" | "refreshToken")) {
        return Err(refuse(AppError::bad_input("query", "log in, register and refresh tokens over HTTP")));
    }
    if ty == Some(OperationType::Mutation) {
        mutation_allowance(state, &session.viewer, peer, fields.len().max(1)).await?;
    }
    Ok(())
}

/// A GraphQL error as JSON (request errors come without placeholder locations: see
/// `to_server_error` and the schema's request rules).
fn error_json(error: &ServerError) -> Json {
    serde_json::to_value(error).unwrap_or_else(|_| json!({ "message": "internal error" }))
}

async fn send(sink: &mut WebSocket, value: &Json) -> Result<(), ()> {
    sink.send(Message::Text(value.to_string().into())).await.map_err(|_| ())
}
