//! Members' signing keys and the payment orders they sign (docs/audit.md): a member company
//! registers Ed25519 public keys for its account, signs payment orders with the secret half
//! on its own machine, and the payer or the payee submits the signed order. The signature is
//! stored with the transaction and hashed into the chain: the payer's consent is provable
//! without trusting the operator.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use ledger::audit::{PaymentOrder, SignatureError};
use ledger::{AccountId, Rejection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::readable_account;
use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, time};
use crate::audit::orders::SignedOrderBody;
use crate::http::limits::{self, ErrorFormat};
use crate::http::AppState;
use crate::people::Member;
use crate::store::{KeyError, MemberKey, OrderError, ORDER_KEY_PREFIX};

/// One of an account's signing keys (the public half only; Troc never sees the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyItem {
    /// 64 lowercase hex digits.
    #[schema(example = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29")]
    pub public_key: String,
    /// `active` (orders it signs are accepted) or `revoked`.
    pub state: String,
    pub created_at: String,
    /// Set once revoked: orders it signs are refused from then on; payments it signed
    /// before stay verifiable.
    pub revoked_at: Option<String>,
    /// The email of the user who registered the key, as it was then (null for keys
    /// registered before Troc recorded it).
    pub registered_by: Option<String>,
    /// The email of the user who revoked the key.
    pub revoked_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first, active and revoked.
    pub items: Vec<KeyItem>,
}

/// A public key to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyBody {
    /// The Ed25519 public key: 64 hex digits.
    #[schema(min_length = 64, max_length = 64, pattern = "^[0-9a-fA-F]{64}$")]
    pub public_key: String,
}

pub fn key_item(key: &MemberKey) -> KeyItem {
    KeyItem {
        public_key: key.public_key.clone(),
        state: if key.active { "active" } else { "revoked" }.to_owned(),
        created_at: time(key.created_at),
        revoked_at: key.revoked_at.map(time),
        registered_by: key.registered_by.clone(),
        revoked_by: key.revoked_by.clone(),
    }
}

/// The caller's own account, for changing its keys: a `pay` token of the member's owner or
/// staff. Any other account id is 404, like a missing one.
fn own_account<'a>(auth: &'a ApiAuth, id: &str) -> ApiResult<&'a Member> {
    let id = types::path_id(id)?;
    let member = auth.payer()?;
    if member.account_id != id {
        return Err(ApiError::NotFound);
    }
    Ok(member)
}

fn key_error(error: KeyError) -> ApiError {
    match error {
        KeyError::Malformed | KeyError::NotOnCurve | KeyError::Weak => {
            ApiError::invalid("public_key", format!("public_key: {error}."))
        }
        KeyError::TooManyActive | KeyError::TooManyEver => ApiError::coded(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_keys",
            format!("{error}."),
        ),
        KeyError::AlreadyRegistered => ApiError::coded(
            StatusCode::CONFLICT,
            "key_already_registered",
            format!("{error}."),
        ),
        KeyError::NotActive(_) | KeyError::NotMemberAccount(_) => ApiError::NotFound,
        KeyError::Store(error) => error.into(),
    }
}

/// An account's signing keys: the caller's own account, or any with a `manage` token.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/keys", operation_id = "list_account_keys", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account's keys", body = KeyList),
        (status = 404, description = "No such account, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyList>> {
    let (account, _) = readable_account(&state, &auth, &id).await?;
    let keys = state.store.member_keys(account.id()).await?;
    Ok(Json(KeyList {
        items: keys.iter().map(key_item).collect(),
    }))
}

/// Registers a public key for signing payment orders (a `pay` token of the account's owner or
/// staff; at most 8 active keys, and a key is never reused).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/keys", tag = "accounts",
    request_body = KeyBody,
    params(
        ("id" = i64, Path, description = "The caller's own account id"),
    ),
    responses(
        (status = 201, description = "Registered", body = KeyItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not the caller's account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is registered already (`key_already_registered`), or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid Ed25519 public key (`validation_failed`), or too many keys (`too_many_keys`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn register(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let account = AccountId(own_account(&auth, &id)?.account_id as u64);
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: KeyBody = types::json(&request.body)?;
        let key = state
            .store
            .register_member_key(account, &input.public_key, &auth.user.email)
            .await
            .map_err(key_error)?;
        Written::created(key_item(&key))
    })
    .await)
}

/// Revokes one of the account's active keys (a `pay` token of its owner or staff): orders it
/// signs are refused from now on.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/keys/{public_key}/revoke", tag = "accounts",
    params(
        ("id" = i64, Path, description = "The caller's own account id"),
        ("public_key" = String, Path, description = "The key's 64 hex digits"),
    ),
    responses(
        (status = 200, description = "Revoked", body = KeyItem),
        (status = 403, description = "Not a pay token of a member's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not the caller's account, or no such active key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((id, public_key)): Path<(String, String)>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let account = AccountId(own_account(&auth, &id)?.account_id as u64);
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let key = state
            .store
            .revoke_member_key(account, &public_key, &auth.user.email)
            .await
            .map_err(key_error)?;
        Written::ok(key_item(&key))
    })
    .await)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedPaymentDone {
    pub transaction_id: i64,
    /// `completed`.
    pub status: String,
    pub payer: i64,
    pub payee: i64,
    #[schema(example = "12.50")]
    pub amount: String,
    /// The key whose signature is stored with the transaction.
    pub public_key: String,
}

/// The order the body describes, or `validation_failed` naming the field at fault.
fn order_of(input: &SignedOrderBody) -> ApiResult<PaymentOrder> {
    input
        .order()
        .map_err(|fault| ApiError::invalid(fault.field.name(), format!("{fault}.")))
}

fn order_error(error: OrderError) -> ApiError {
    let unprocessable = |code, detail: String| {
        ApiError::coded(StatusCode::UNPROCESSABLE_ENTITY, code, format!("{detail}."))
    };
    match error {
        OrderError::KeyOutsideNamespace => ApiError::invalid(
            "idempotency_key",
            format!("idempotency_key must start with {ORDER_KEY_PREFIX:?} and go on after it."),
        ),
        OrderError::Signature(SignatureError::BadKey) => {
            ApiError::invalid("public_key", "public_key is not a valid Ed25519 key.")
        }
        OrderError::Signature(SignatureError::MalformedSignature) => {
            ApiError::invalid("signature", "signature must be 128 hex digits.")
        }
        OrderError::Signature(SignatureError::Mismatch) => {
            unprocessable("bad_signature", error.to_string())
        }
        OrderError::UnknownKey(_) => unprocessable("unknown_key", error.to_string()),
        OrderError::RevokedKey(_) => unprocessable("key_revoked", error.to_string()),
        OrderError::Expired | OrderError::Signature(SignatureError::Expired) => {
            unprocessable("order_expired", error.to_string())
        }
        OrderError::ExpiryTooFar => unprocessable("expiry_too_far", error.to_string()),
        OrderError::Store(error) => error.into(),
    }
}

/// Carries out a payment order signed by its payer (a `pay` token of the payer's or the
/// payee's owner or staff: a member may pay with its own signed order, or collect one it was
/// given, like a cheque). The order is paid at most once: submitting it again answers the
/// same transaction.
#[utoipa::path(post, path = "/api/v1/signed-payments", tag = "payments",
    request_body = SignedOrderBody,
    responses(
        (status = 201, description = "Paid (or paid before, under the order's key)", body = SignedPaymentDone),
        (status = 403, description = "Not a pay token of the payer's or the payee's owner or staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another order was paid under the order's idempotency_key, or the Idempotency-Key header was used for another request (`idempotency_conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`validation_failed`); the order refused (`unknown_key`, `key_revoked`, `bad_signature`, `order_expired`, `expiry_too_far`); or the payment refused by the ledger (`insufficient_credit`, `account_frozen`...)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many payments for this token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    let caller = auth.payer()?.account_id;
    limits::check(
        &state.limits.api_payments,
        &auth.token.id.to_string(),
        ErrorFormat::Problem,
    )?;
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let input: SignedOrderBody = types::json(&request.body)?;
        let order = order_of(&input)?;
        if caller != input.payer && caller != input.payee {
            return Err(ApiError::forbidden(
                "A signed order is submitted by its payer or its payee.",
            ));
        }
        // The key signs for whoever registered it: a staff user's limit holds.
        let checked = state
            .store
            .check_signed_order(&order, &input.public_key, &input.signature)
            .await
            .map_err(order_error)?;
        let now = crate::people::now_unix();
        let held =
            crate::spending::hold_for_signer(&state.store, checked.key(), &order, now).await??;
        let decision = state.store.submit_checked_order(checked).await?;
        held.after(&state.store, &decision).await?;
        let outcome = decision.map_err(|rejection| match rejection {
            Rejection::IdempotencyConflict => ApiError::coded(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "Another order was paid under this idempotency_key.",
            ),
            other => ApiError::Rejected(other),
        })?;
        let tx = outcome
            .tx()
            .ok_or_else(|| ApiError::Internal(format!("a signed payment answered {outcome:?}")))?;
        Written::created(SignedPaymentDone {
            transaction_id: tx.0 as i64,
            status: "completed".to_owned(),
            payer: input.payer,
            payee: input.payee,
            amount: money(order.amount),
            public_key: input.public_key.trim().to_ascii_lowercase(),
        })
    })
    .await)
}
