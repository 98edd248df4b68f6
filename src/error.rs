//! One application error with stable machine codes. Internal causes are logged, never sent.
use sea_orm::{DbErr, SqlErr};

/// Stable error codes clients switch on (`extensions.code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No or invalid credentials.
    Unauthenticated,
    /// Known caller, not allowed.
    Forbidden,
    /// No such thing (or not visible to the caller).
    NotFound,
    /// Invalid input; names the field.
    BadUserInput,
    /// The current state forbids the change.
    Conflict,
    /// Too many requests.
    RateLimited,
    /// Our fault; details are in the logs.
    Internal,
}

impl ErrorCode {
    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }
}

/// The error type of every domain operation.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No or invalid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The named thing does not exist or is not visible.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field of the input is invalid.
    #[error("{field}: {message}")]
    BadInput {
        /// Input field at fault, as the client spelled it.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; retry after the given seconds.
    #[error("too many requests, retry in {0} seconds")]
    RateLimited(u64),
    /// Anything unexpected. The cause is logged, not returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Result of domain operations.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A bad-input error for `field`.
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.to_owned(), message: message.into() }
    }

    /// A forbidden error with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// A conflict error with a reason.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The field at fault, for bad input.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Unique indexes and the input field each protects: (index name, `table.column`, field).
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("ux_users_email", "users.email", "email"),
    ("ux_profiles_handle", "profiles.handle", "handle"),
    ("ux_organizations_slug", "organizations.slug", "slug"),
    ("ux_communities_slug", "communities.slug", "slug"),
    ("ux_playbooks_organization_name", "playbooks.name", "name"),
];

/// Unique indexes that guard a state rather than an input: (index name, `table.column`, reason).
const UNIQUE_STATES: &[(&str, &str, &str)] = &[(
    "ux_organization_invitations_pending",
    "organization_invitations.organization_id",
    "this person already has a pending invitation",
)];

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
            // PostgreSQL names the index, SQLite names `table.column`.
            for (index, column, field) in UNIQUE_FIELDS {
                if message.contains(index) || message.contains(column) {
                    return Self::bad_input(field, "is already taken");
                }
            }
            for (index, column, reason) in UNIQUE_STATES {
                if message.contains(index) || message.contains(column) {
                    return Self::conflict(*reason);
                }
            }
        }
        Self::Internal(anyhow::Error::new(err))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}
