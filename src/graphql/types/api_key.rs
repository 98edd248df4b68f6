//! What people see of their API keys. The secret appears once, when the key is made.
use async_graphql::{ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key as db;

/// An API key's metadata (never the secret).
pub struct ApiKey(pub db::Model);

#[Object]
impl ApiKey {
    /// Key id (for revoking).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The name it was given.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it allows: `area:read` or `area:write` (write implies read).
    async fn scopes(&self) -> Vec<&str> {
        self.0.scopes.split_whitespace().collect()
    }
    /// The secret's first characters (`ssk_` and four more), to tell keys apart.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// The organization it acts for; none for a personal key.
    async fn organization_id(&self) -> Option<ID> {
        self.0.organization_id.map(|id| ID(id.to_string()))
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its last use (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new API key: `secret` is shown only now.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The secret to send as `Authorization: Bearer <secret>`; it starts with `ssk_`.
    pub secret: String,
    /// Its metadata.
    pub api_key: ApiKey,
}
