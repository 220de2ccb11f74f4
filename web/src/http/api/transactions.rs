//! One transaction: read by the network's staff and by the members it touches; reversed by
//! a manager (`console::reversals`). Members refund what they received with
//! `POST /api/v1/transactions/{id}/refund` (payments.rs).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use ledger::{Transaction, TxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, CallerKey, WriteRequest, Written};
use super::types::{self, money, time};
use crate::console::{reversals, RequestKey};
use crate::http::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PostingItem {
    pub account_id: i64,
    /// Signed: a credit is positive, a debit negative.
    #[schema(example = "-12.50")]
    pub amount: String,
    /// `principal`, `commission` or `fund_contribution`.
    pub leg: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionDetail {
    pub id: i64,
    /// `payment`, `fee`, `fund_contribution`, `hold_capture`, `reversal`, `write_off`,
    /// `recovery`, `opening_balance` or `adjustment`.
    pub kind: String,
    pub time: String,
    pub reference: String,
    pub memo: String,
    /// The transaction this one reverses.
    pub reverses: Option<i64>,
    /// The reversal of this one, if it was reversed.
    pub reversed_by: Option<i64>,
    /// Who of the caller's company entered it (the user's email as it was then); `null` for
    /// what the network or the other company entered. The network's staff see every
    /// member's.
    #[schema(example = "compta@example.fr")]
    pub entered_by: Option<String>,
    pub postings: Vec<PostingItem>,
}

fn item(
    transaction: &Transaction,
    reversed_by: Option<TxId>,
    entered_by: Option<String>,
) -> TransactionDetail {
    TransactionDetail {
        id: transaction.id().0 as i64,
        kind: transaction.kind().as_str().to_owned(),
        time: time(transaction.time()),
        reference: transaction.reference().to_owned(),
        memo: transaction.memo().to_owned(),
        reverses: transaction.reverses().map(|t| t.0 as i64),
        reversed_by: reversed_by.map(|t| t.0 as i64),
        entered_by,
        postings: transaction
            .postings()
            .iter()
            .map(|p| PostingItem {
                account_id: p.account.0 as i64,
                amount: money(p.amount),
                leg: p.leg.as_str().to_owned(),
            })
            .collect(),
    }
}

/// One transaction with its postings: for `manage` tokens, and for the users of a member
/// whose account it touches (any other id is 404, like a missing one).
#[utoipa::path(get, path = "/api/v1/transactions/{id}", operation_id = "show_transaction", tag = "accounts",
    params(("id" = i64, Path, description = "Transaction id")),
    responses(
        (status = 200, description = "The transaction", body = TransactionDetail),
        (status = 404, description = "No such transaction, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TransactionDetail>> {
    let tx = TxId(types::path_id(&id)? as u64);
    let transaction = state
        .store
        .transaction(tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    let staff = auth.is_network();
    let own = auth.member.as_ref().is_some_and(|member| {
        transaction
            .postings()
            .iter()
            .any(|p| p.account == member.account())
    });
    if !staff && !own {
        return Err(ApiError::NotFound);
    }
    let mut marks = state.store.line_marks(&[tx]).await?;
    let entered_by = marks
        .authors
        .remove(&tx)
        .filter(|a| staff || auth.member.as_ref().is_some_and(|m| m.id == a.member_id()))
        .map(|a| a.author().to_owned());
    Ok(Json(item(
        &transaction,
        marks.reversed.remove(&tx),
        entered_by,
    )))
}

/// Why a manager reverses a transaction.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReverseBody {
    /// Why, 1 to 280 characters: the reversal's memo, which both members read, and the
    /// action log's reason.
    #[schema(min_length = 1, max_length = 280)]
    pub reason: String,
}

/// Reverses a transaction (a `manage` token of a manager): every posting negated, fees
/// included, at most once; in the action log (`transaction.reverse`).
#[utoipa::path(post, path = "/api/v1/transactions/{id}/reverse", tag = "manage",
    request_body = ReverseBody,
    params(
        ("id" = i64, Path, description = "Transaction id"),
    ),
    responses(
        (status = 201, description = "Reversed: the reversal", body = TransactionDetail),
        (status = 403, description = "Not a manage token of a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such transaction", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason (`validation_failed`) or refused by the ledger (`already_reversed`, `not_reversible`, `insufficient_credit`, `period_locked`...)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn reverse(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: WriteRequest,
) -> ApiResult<Response> {
    let actor = auth.console_actor()?;
    actor.require_manager()?;
    Ok(idempotency::run(&state, &auth, &request, |key| async {
        let tx = TxId(types::path_id(&id)? as u64);
        let input: ReverseBody = types::json(&request.body)?;
        let key = RequestKey::new(&CallerKey::or_random(key).0)?;
        let reversed = reversals::reverse(&state.store, &actor, tx, &input.reason, &key).await?;
        let reversal = state
            .store
            .transaction(reversed.transaction)
            .await?
            .ok_or(ApiError::NotFound)?;
        Written::created(item(&reversal, None, None))
    })
    .await)
}
