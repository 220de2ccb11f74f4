//! Who calls: the `Authorization: Bearer` token, its scope and its user.
//!
//! API routes never look at the session cookie (the session middleware skips them), so a
//! cross-site request carries no credential and there is no CSRF token to check.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::people::{Member, Role, User};
use crate::tokens::{self, Found, Scope, TokenRow};

/// The caller of an API route: a valid, unrevoked token and its user (with the member
/// company for members' users).
#[derive(Debug, Clone)]
pub struct ApiAuth {
    pub token: TokenRow,
    pub user: User,
    pub member: Option<Member>,
    /// The answer remembered for the request's `Idempotency-Key`, read with the token.
    pub remembered: Option<tokens::RememberedFor>,
    /// The member the request names (a payment's payee), read with the token when the route
    /// asked for it ([`authenticate`]).
    pub named: Option<tokens::NamedMember>,
}

/// The token of an `Authorization: Bearer TOKEN` header.
pub fn bearer(headers: &HeaderMap) -> ApiResult<&str> {
    let header = headers.get(AUTHORIZATION).ok_or(ApiError::Unauthorized(
        "An Authorization: Bearer token is required.",
    ))?;
    let text = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("The Authorization header is malformed."))?;
    let (scheme, token) = text.trim().split_once(' ').ok_or(ApiError::Unauthorized(
        "The Authorization header is malformed.",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized(
            "The Authorization header must use the Bearer scheme.",
        ));
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<ApiAuth> {
        authenticate(state, &parts.headers, None).await
    }
}

/// The caller of a request with these headers. The same read fetches the answer remembered
/// for a write's `Idempotency-Key` (if well formed; `idempotency::begin` uses it) and, if
/// the route names one, a member (`named_member`: a payment's payee).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    named_member: Option<i64>,
) -> ApiResult<ApiAuth> {
    let token = bearer(headers)?;
    let key = super::idempotency::key_of(headers).ok().flatten();
    let also = tokens::AlsoRead {
        idempotency_key: key.as_deref(),
        member_id: named_member,
    };
    let caller = match tokens::find(&state.store, token, also).await? {
        Found::Valid(caller) => *caller,
        Found::Revoked => return Err(ApiError::Unauthorized("This token was revoked.")),
        Found::Expired => return Err(ApiError::Unauthorized("This token has expired.")),
        Found::Unknown => return Err(ApiError::Unauthorized("Unknown token.")),
    };
    let tokens::Caller {
        token,
        user,
        member,
        remembered,
        named,
    } = caller;
    if !tokens::scopes_for(user.role).contains(&token.scope) {
        return Err(ApiError::forbidden(
            "This user may not hold this token's scope.",
        ));
    }
    // Read with the token; only members' users act for their member company.
    let member = member.filter(|_| user.role.is_member_role());
    Ok(ApiAuth {
        token,
        user,
        member,
        remembered,
        named,
    })
}

impl ApiAuth {
    /// Refuses a token whose scope is not `scope` (403). Every token reads.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if scope == Scope::Read || self.token.scope == scope {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This needs a token with the {} scope.",
                scope.as_str()
            )))
        }
    }

    /// A `manage` token of the network's manager or accountant.
    pub fn is_network(&self) -> bool {
        self.token.scope == Scope::Manage
            && matches!(self.user.role, Role::Manager | Role::Accountant)
    }

    /// The caller's member company (403 for the network's staff, who have none).
    pub fn member(&self) -> ApiResult<&Member> {
        self.member
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("Only a member company's users may do this."))
    }

    /// The member company a `pay` token acts for (its owner or staff).
    pub fn payer(&self) -> ApiResult<&Member> {
        self.require(Scope::Pay)?;
        if !matches!(self.user.role, Role::Owner | Role::Staff) {
            return Err(ApiError::forbidden(
                "Only a member's owner or staff may do this.",
            ));
        }
        self.member()
    }

    /// The actor of the console's member functions (a `manage` token).
    pub fn console_actor(&self) -> ApiResult<crate::console::Actor> {
        self.require(Scope::Manage)?;
        Ok(crate::console::Actor::from_user(&self.user))
    }

    /// The actor of the network functions (a `manage` token).
    pub fn network_actor(&self) -> ApiResult<crate::actor::Actor> {
        self.require(Scope::Manage)?;
        Ok(crate::actor::Actor::from_user(&self.user))
    }
}
