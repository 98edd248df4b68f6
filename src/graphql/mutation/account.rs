//! Register, login, refresh and logout.
use async_graphql::{Context, InputObject, Object};

use crate::{
    domain::account::{self, RegisterInput as Register},
    graphql::{GqlResult, state, types::AuthPayload},
};

/// Input of `register`.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Login email.
    pub email: String,
    /// At least 10 characters.
    #[graphql(secret)]
    pub password: String,
    /// Unique handle: 3–32 of a-z, 0-9 and _, starting with a letter.
    pub handle: String,
    /// Name shown on the profile.
    pub display_name: String,
}

/// Input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// Login email.
    pub email: String,
    /// Password.
    #[graphql(secret)]
    pub password: String,
}

/// Input of `refreshToken` and `logout`.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The refresh token from the last login or refresh.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// Account mutations.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account with its person profile and signs it in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> GqlResult<AuthPayload> {
        let input = Register {
            email: input.email,
            password: input.password,
            handle: input.handle,
            display_name: input.display_name,
        };
        Ok(AuthPayload(account::register(state(ctx)?, input).await?))
    }

    /// Signs in. Wrong email and wrong password give the same UNAUTHENTICATED error.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> GqlResult<AuthPayload> {
        let client = ctx.data_opt::<crate::auth::ClientIp>().map(|c| c.0);
        Ok(AuthPayload(account::login(state(ctx)?, &input.email, &input.password, client).await?))
    }

    /// Exchanges a refresh token for a new pair; reusing an old one ends the session.
    async fn refresh_token(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> GqlResult<AuthPayload> {
        Ok(AuthPayload(account::refresh(state(ctx)?, &input.refresh_token).await?))
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> GqlResult<bool> {
        account::logout(state(ctx)?, &input.refresh_token).await?;
        Ok(true)
    }
}
