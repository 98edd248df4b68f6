//! Register, login, refresh and logout; verifying the address, resetting and changing the
//! password.
use async_graphql::{Context, InputObject, Object};

use crate::{
    domain::{
        account::{self, RegisterInput as Register},
        credentials,
    },
    graphql::{GqlResult, state, types::AuthPayload, viewer},
};

/// Input of `verifyEmail`.
#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The token from the verification mail.
    pub token: String,
}

/// Input of `requestPasswordReset`.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    /// The account's address.
    pub email: String,
}

/// Input of `resetPassword`.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the reset mail (single use, 30 minutes).
    pub token: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// Input of `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// Your password now.
    pub current_password: String,
    /// At least 10 characters, not the current one.
    pub new_password: String,
}

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

    /// Ends the session the refresh token belongs to: its access tokens are refused from now
    /// on and its live subscriptions end.
    async fn logout(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> GqlResult<bool> {
        account::logout(state(ctx)?, &input.refresh_token).await?;
        Ok(true)
    }

    /// Verifies your address with the token mailed at registration (signed in or not: the
    /// token is the proof; it works once, for 48 hours).
    async fn verify_email(&self, ctx: &Context<'_>, input: VerifyEmailInput) -> GqlResult<bool> {
        credentials::verify_email(state(ctx)?, &input.token).await?;
        Ok(true)
    }

    /// Mails a new verification link (the previous one stops working). At most 5 an hour.
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        credentials::resend_verification(state(ctx)?, viewer(ctx)).await?;
        Ok(true)
    }

    /// Mails a password-reset token to the address if it has an account. Answers `true` either
    /// way; limited per address (3 an hour) and per client (20 an hour).
    async fn request_password_reset(&self, ctx: &Context<'_>, input: RequestPasswordResetInput) -> GqlResult<bool> {
        let client = ctx.data_opt::<crate::auth::ClientIp>().map(|c| c.0);
        credentials::request_password_reset(state(ctx)?, &input.email, client).await?;
        Ok(true)
    }

    /// Sets a new password with a mailed token; every session of the account ends.
    async fn reset_password(&self, ctx: &Context<'_>, input: ResetPasswordInput) -> GqlResult<bool> {
        credentials::reset_password(state(ctx)?, &input.token, &input.new_password).await?;
        Ok(true)
    }

    /// Changes your password; every other session of the account ends (this one goes on).
    async fn change_password(&self, ctx: &Context<'_>, input: ChangePasswordInput) -> GqlResult<bool> {
        credentials::change_password(state(ctx)?, viewer(ctx), &input.current_password, &input.new_password).await?;
        Ok(true)
    }
}
