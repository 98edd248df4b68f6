//! How an `AppError` looks on the wire: message plus `extensions.code` (and `field`).
use std::sync::Arc;

use async_graphql::{ErrorExtensions, ServerError};

use crate::error::AppError;

/// The error resolvers return. It has no `Display`, so nothing converts into a GraphQL error
/// without going through the code mapping below.
#[derive(Debug, Clone)]
pub struct GqlError(Arc<AppError>);

/// Result of resolvers.
pub type GqlResult<T> = Result<T, GqlError>;

impl GqlError {
    /// An internal error with a cause that is logged, never sent.
    pub fn internal(cause: &str) -> Self {
        Self(Arc::new(AppError::Internal(anyhow::anyhow!(cause.to_owned()))))
    }
}

impl From<AppError> for GqlError {
    fn from(err: AppError) -> Self {
        Self(Arc::new(err))
    }
}

impl From<Arc<AppError>> for GqlError {
    fn from(err: Arc<AppError>) -> Self {
        Self(err)
    }
}

impl From<GqlError> for async_graphql::Error {
    fn from(err: GqlError) -> Self {
        to_graphql_error(&err.0)
    }
}

/// Converts an application error into a GraphQL error with its code.
pub fn to_graphql_error(err: &AppError) -> async_graphql::Error {
    let message = match err {
        AppError::Internal(cause) => {
            tracing::error!(error = ?cause, "internal error");
            "internal error".to_owned()
        }
        AppError::BadInput { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let code = err.code().as_str();
    let field = err.field().map(str::to_owned);
    let retry_after = match err {
        AppError::RateLimited(secs) => Some(*secs),
        _ => None,
    };
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        if let Some(field) = &field {
            e.set("field", field.as_str());
        }
        if let Some(secs) = retry_after {
            e.set("retryAfter", secs);
        }
    })
}

/// A request-level error (no path), for failures before execution.
pub fn to_server_error(err: &AppError) -> ServerError {
    let mut error = to_graphql_error(err).into_server_error(Default::default());
    // A request error has no place in the document: no `locations` (never line 0, column 0).
    error.locations.clear();
    error
}
