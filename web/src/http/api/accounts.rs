//! The caller, accounts, their transactions, and every account of the network.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use ledger::{Account, AccountId, Amount, TxId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::idempotency::{self, WriteRequest, Written};
use super::types::{self, money, time};
use crate::activity::{self, Filter};
use crate::http::AppState;
use crate::people;
use crate::store::{Store, StoreResult};
use crate::tokens::Scope;

/// The caller: the token's user, its member company and account (none for the network's
/// staff).
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub email: String,
    /// `manager`, `accountant`, `owner`, `staff` or `member_accountant`.
    #[schema(value_type = crate::http::api::types::UserRole)]
    pub role: String,
    /// The token's scope: `read`, `pay` or `manage`.
    #[schema(value_type = crate::http::api::types::TokenScope)]
    pub scope: String,
    pub token_id: i64,
    pub member_id: Option<i64>,
    pub account_id: Option<i64>,
    /// The most the caller may pay in one operation, as its company's owner set it for a
    /// staff user (`PUT /api/v1/company/users/{id}/payment-limit`); null: no cap of its own.
    /// Above it, a payment is refused with `over_payment_limit` and may be asked of the owner
    /// (`POST /api/v1/payment-approvals`).
    #[schema(example = "100.00")]
    pub payment_limit: Option<String>,
    /// The most the caller may commit its company to in a calendar month (UTC), all its
    /// operations together, as its owner set it for a staff user; null: no limit per month.
    /// Past it, an operation is refused with `over_month_limit`.
    #[schema(example = "2000.00")]
    pub month_limit: Option<String>,
    /// With a limit per month: what the caller committed its company to this month.
    #[schema(example = "350.00")]
    pub month_used: Option<String>,
    /// Which e-mails the user chose to get when the server sends e-mail (set with
    /// `PUT /api/v1/me/notices`).
    pub mail: MailChoicesBody,
    /// The user turned two-step login on (on its account's page; tokens skip it).
    pub two_step: bool,
    /// The network requires two-step login of the user (`GET /api/v1/network/two-step`).
    pub two_step_required: bool,
}

/// A user's choice of e-mails (each on by default).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailChoicesBody {
    /// What waits for the user's action (a payment request received, a payment waiting for
    /// approval) and the network's changes to the account's limits or status or to its fees.
    pub notices: bool,
    /// The hourly digest of the payments the company received.
    pub receipts: bool,
    /// The weekly e-mail of new listings that could interest the company.
    pub listings: bool,
    /// The monthly statement of the company's account (sent to its owner and accountant).
    pub statements: bool,
}

impl From<people::MailChoices> for MailChoicesBody {
    fn from(choices: people::MailChoices) -> MailChoicesBody {
        MailChoicesBody {
            notices: choices.notices,
            receipts: choices.receipts,
            listings: choices.listings,
            statements: choices.statements,
        }
    }
}

/// The caller: user, role, token scope, member and account ids, its payment limit.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses(
        (status = 200, description = "The caller", body = Me, links(("account" = (operation_id = "account", parameters(("id" = "$response.body#/account_id")))), ("history" = (operation_id = "transactions", parameters(("id" = "$response.body#/account_id")))), ("keys" = (operation_id = "list_account_keys", parameters(("id" = "$response.body#/account_id")))))),
    ),
    security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<Me>> {
    let mail = people::mail_choices(&state.store, auth.user.id)
        .await?
        .into();
    let month_limit = auth
        .user
        .payment_month_max
        .filter(|_| auth.user.role == people::Role::Staff);
    let two_step = crate::totp::required(&state.store, auth.user.id).await?;
    let two_step_required = crate::totp::rule(&state.store)
        .await?
        .covers(auth.user.role);
    Ok(Json(Me {
        mail,
        two_step,
        two_step_required,
        user_id: auth.user.id,
        email: auth.user.email.clone(),
        role: auth.user.role.as_str().to_owned(),
        scope: auth.token.scope.as_str().to_owned(),
        token_id: auth.token.id,
        member_id: auth.member.as_ref().map(|m| m.id),
        account_id: auth.member.as_ref().map(|m| m.account_id),
        payment_limit: auth
            .user
            .payment_max
            .map(|max| money(Amount::from_minor(max))),
        month_limit: month_limit.map(|max| money(Amount::from_minor(max))),
        month_used: match month_limit {
            Some(_) => Some(money(
                crate::spending::used(&state.store, auth.user.id, people::now_unix()).await?,
            )),
            None => None,
        },
    }))
}

/// A change of the caller's choice of e-mails: each field given is set, the others stay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MailChoicesChange {
    /// What waits for the caller's action and the network's changes to the account or fees.
    pub notices: Option<bool>,
    /// The hourly digest of payments received.
    pub receipts: Option<bool>,
    /// The weekly new listings.
    pub listings: Option<bool>,
    /// The monthly statement.
    pub statements: Option<bool>,
}

/// Chooses which e-mails the caller gets, as the `/account` page does (a `pay` or `manage`
/// token: a `read` token changes nothing). A body that sets nothing is refused.
#[utoipa::path(put, path = "/api/v1/me/notices", tag = "accounts",
    request_body = MailChoicesChange,
    responses(
        (status = 200, description = "Set: the caller's choice now", body = MailChoicesBody),
        (status = 403, description = "A read token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn set_notices(
    State(state): State<AppState>,
    auth: ApiAuth,
    request: WriteRequest,
) -> ApiResult<Response> {
    if auth.token.scope == Scope::Read {
        return Err(ApiError::forbidden(
            "This needs a token with the pay or manage scope.",
        ));
    }
    Ok(idempotency::run(&state, &auth, &request, |_| async {
        let change: MailChoicesChange = types::json(&request.body)?;
        if change.notices.is_none()
            && change.receipts.is_none()
            && change.listings.is_none()
            && change.statements.is_none()
        {
            return Err(ApiError::invalid(
                "notices",
                "Give at least one of notices, receipts, listings and statements (true or \
                 false).",
            ));
        }
        let now = people::mail_choices(&state.store, auth.user.id).await?;
        let choices = people::MailChoices {
            notices: change.notices.unwrap_or(now.notices),
            receipts: change.receipts.unwrap_or(now.receipts),
            listings: change.listings.unwrap_or(now.listings),
            statements: change.statements.unwrap_or(now.statements),
        };
        people::set_mail_choices(&state.store, auth.user.id, choices).await?;
        Written::ok(MailChoicesBody::from(choices))
    })
    .await)
}

/// An account with its figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    pub id: i64,
    /// The member company owning it; none for the network's system accounts.
    pub member_id: Option<i64>,
    /// `member`, `fees`, `fund`, `losses`, `migration`...
    pub kind: String,
    #[schema(example = "-120.50")]
    pub balance: String,
    #[schema(example = "1000.00")]
    pub credit_limit: String,
    /// The upper limit of the balance, if any.
    pub max_balance: Option<String>,
    /// Held for open orders.
    #[schema(example = "0.00")]
    pub pending: String,
    /// What the account can still spend (none for unbounded system accounts).
    pub available: Option<String>,
    /// What the account can still receive before its upper limit (none without one;
    /// `0.00` at or past it): past it, payments to it are refused (`over_upper_limit`).
    pub receivable: Option<String>,
    /// `active`, `frozen` or `closed`.
    pub status: String,
    /// When the balance last went below zero (RFC 3339); absent when it is not below zero.
    /// The network's return-to-zero rule (`GET /api/v1/rules`) counts from it.
    #[schema(example = "2026-09-01T10:00:00Z")]
    pub negative_since: Option<String>,
}

pub fn account_body(account: &Account, member_id: Option<i64>) -> AccountBody {
    AccountBody {
        id: account.id().0 as i64,
        member_id,
        kind: account.kind().as_str().to_owned(),
        balance: money(account.balance()),
        credit_limit: money(account.credit_limit()),
        max_balance: account.max_balance().map(money),
        pending: money(account.pending()),
        available: account.available().map(money),
        receivable: account.receivable().map(money),
        status: account.status().as_str().to_owned(),
        negative_since: account
            .balance()
            .is_negative()
            .then(|| account.negative_since().map(time))
            .flatten(),
    }
}

/// The account `id` if the caller may read it: their own member's, or any with a `manage`
/// token. Any other id is 404, like a missing one.
pub async fn readable_account(
    state: &AppState,
    auth: &ApiAuth,
    id: &str,
) -> ApiResult<(Account, Option<i64>)> {
    let id = types::path_id(id)?;
    let allowed = auth.is_network() || auth.member.as_ref().is_some_and(|m| m.account_id == id);
    if !allowed {
        return Err(ApiError::NotFound);
    }
    let account = state
        .store
        .account(AccountId(id as u64))
        .await?
        .ok_or(ApiError::NotFound)?;
    let member_id = match &auth.member {
        Some(m) if m.account_id == id => Some(m.id),
        _ => people::member_by_account(&state.store, id)
            .await?
            .map(|m| m.id),
    };
    Ok((account, member_id))
}

/// An account with its balance, limits, pending holds and what it can still spend.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = AccountBody),
        (status = 404, description = "No such account, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn account(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountBody>> {
    let (account, member_id) = readable_account(&state, &auth, &id).await?;
    Ok(Json(account_body(&account, member_id)))
}

/// The other side of a transaction line.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counterparty {
    pub account_id: i64,
    pub member_id: Option<i64>,
    pub name: Option<String>,
}

/// One transaction as the account sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionItem {
    pub id: i64,
    /// `payment`, `capture`, `fee`, `write_off`...
    pub kind: String,
    /// Signed from the account's side: negative when it paid.
    #[schema(example = "-12.50")]
    pub amount: String,
    pub counterparty: Option<Counterparty>,
    pub reference: String,
    pub memo: String,
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub created_at: String,
    /// For a reversal (a refund, a manager's correction): the transaction it reverses.
    pub reverses: Option<i64>,
    /// The reversal of this transaction, if it was reversed since.
    pub reversed_by: Option<i64>,
    /// Who of the account's own company entered it (the user's email as it was then):
    /// payments, requests accepted, refunds, deliveries, standing orders. `null` for what
    /// the network or the other company entered.
    #[schema(example = "compta@example.fr")]
    pub entered_by: Option<String>,
}

/// A page of transactions, newest first; `next` is the cursor of the following page (pass
/// it as `after`), none on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionItem>,
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    pub next: Option<String>,
}

/// An account's transactions, newest first, signed from its side, in keyset pages.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/transactions", tag = "accounts",
    params(
        ("id" = i64, Path, description = "Account id"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50", minimum = 1, maximum = 200),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page", pattern = r"^[1-9][0-9]{0,17}$"),
    ),
    responses(
        (status = 200, description = "Newest first", body = TransactionPage),
        (status = 404, description = "No such account, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn transactions(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TransactionPage>> {
    let params = types::query(raw.as_deref());
    let limit = types::limit(&params)?;
    let after = types::cursor(&params, "after")?;
    let (account, _) = readable_account(&state, &auth, &id).await?;
    let (items, next) =
        transaction_items(&state, account.id(), after.map(|id| TxId(id as u64)), limit).await?;
    Ok(Json(TransactionPage {
        items,
        next: next.map(|id| id.0.to_string()),
    }))
}

/// One page of an account's transactions as the API shows them, newest first, before
/// `after`; and the cursor of the next page. Also the data package's transaction records.
pub(crate) async fn transaction_items(
    state: &AppState,
    me: ledger::AccountId,
    after: Option<TxId>,
    limit: usize,
) -> ApiResult<(Vec<TransactionItem>, Option<TxId>)> {
    let page = activity::history(&state.store, me, &Filter::default(), after, limit).await?;
    let items = items_of_lines(&state.store, me, &page.lines).await?;
    Ok((items, page.next_before))
}

/// Transactions `ids` as account `me` sees them, in that order (the webhooks' events: the
/// same item as the API's history).
pub(crate) async fn items_of_transactions(
    store: &Store,
    me: ledger::AccountId,
    ids: &[TxId],
) -> StoreResult<Vec<TransactionItem>> {
    let lines: Vec<activity::Line> = store
        .transactions_by_ids(ids)
        .await?
        .into_iter()
        .map(|transaction| {
            let net = transaction
                .postings()
                .iter()
                .filter(|p| p.account == me)
                .map(|p| p.amount.minor())
                .sum();
            activity::Line {
                transaction,
                net: ledger::Amount::from_minor(net),
            }
        })
        .collect();
    items_of_lines(store, me, &lines).await
}

/// Lines of account `me` as the API shows them.
async fn items_of_lines(
    store: &Store,
    me: ledger::AccountId,
    lines: &[activity::Line],
) -> StoreResult<Vec<TransactionItem>> {
    // The members behind these lines' counterparties only, in one read.
    // And the account's own member, whose users' entries are named.
    let counterparties: std::collections::BTreeSet<ledger::AccountId> = lines
        .iter()
        .filter_map(|line| line.counterparty(me))
        .chain([me])
        .collect();
    let holders = people::holders_of_accounts(store, &counterparties).await?;
    let own_member = holders.get(&me).map(|(id, _)| *id);
    let ids: Vec<TxId> = lines.iter().map(|l| l.transaction.id()).collect();
    let marks = store.line_marks(&ids).await?;
    Ok(lines
        .iter()
        .map(|line| {
            let tx = &line.transaction;
            let counterparty = line.counterparty(me).map(|other| {
                let holder = holders.get(&other);
                Counterparty {
                    account_id: other.0 as i64,
                    member_id: holder.map(|(id, _)| *id),
                    name: holder.map(|(_, name)| name.clone()),
                }
            });
            TransactionItem {
                id: tx.id().0 as i64,
                kind: tx.kind().as_str().to_owned(),
                amount: money(line.net),
                counterparty,
                reference: tx.reference().to_owned(),
                memo: tx.memo().to_owned(),
                created_at: time(tx.time()),
                reverses: tx.reverses().map(|r| r.0 as i64),
                reversed_by: marks.reversed.get(&tx.id()).map(|r| r.0 as i64),
                entered_by: marks
                    .authors
                    .get(&tx.id())
                    .filter(|a| Some(a.member_id()) == own_member)
                    .map(|a| a.author().to_owned()),
            }
        })
        .collect())
}

/// Every account of the network with its balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkAccounts {
    pub items: Vec<AccountBody>,
    /// The sum of every balance: always `0.00`.
    #[schema(example = "0.00")]
    pub total: String,
}

/// Every account of the network, system accounts included, with balances (they sum to zero).
#[utoipa::path(get, path = "/api/v1/network/accounts", tag = "network",
    responses(
        (status = 200, description = "Every account, system accounts included", body = NetworkAccounts),
        (status = 403, description = "Not a manage token of the network's staff", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn network_accounts(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> ApiResult<Json<NetworkAccounts>> {
    auth.require(Scope::Manage)?;
    crate::network::require(&auth.network_actor()?, crate::network::Access::Read)?;
    let accounts = state.store.accounts().await?;
    let members: std::collections::HashMap<i64, i64> = people::members(&state.store, i64::MAX)
        .await?
        .into_iter()
        .map(|m| (m.account_id, m.id))
        .collect();
    let total: i64 = accounts.iter().map(|a| a.balance().minor()).sum();
    Ok(Json(NetworkAccounts {
        items: accounts
            .iter()
            .map(|a| account_body(a, members.get(&(a.id().0 as i64)).copied()))
            .collect(),
        total: money(ledger::Amount::from_minor(total)),
    }))
}

/// One of the caller's API tokens (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenItem {
    pub id: i64,
    pub name: String,
    /// `read`, `pay` or `manage`.
    #[schema(value_type = crate::http::api::types::TokenScope)]
    pub scope: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// Set once revoked: the token no longer works.
    pub revoked_at: Option<String>,
    /// When the token stops working; absent: it works until revoked.
    pub expires_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first.
    pub items: Vec<TokenItem>,
}

/// A token as the API lists it; `now` (Unix seconds) decides whether it has expired.
pub(crate) fn token_item(row: &crate::tokens::TokenRow, now: i64) -> TokenItem {
    TokenItem {
        id: row.id,
        name: row.name.clone(),
        scope: row.scope.as_str().to_owned(),
        created_at: types::unix_time(row.created_at),
        last_used_at: row.last_used_at.map(types::unix_time),
        revoked_at: row.revoked_at.map(types::unix_time),
        expires_at: row.expires_at.map(types::unix_time),
        state: row.state(now).as_str().to_owned(),
    }
}

/// The caller's API tokens (the `/settings/tokens` page's list). New tokens are made on
/// that page or with `troc token create`, never through the API: a token cannot mint
/// another.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses(
        (status = 200, description = "The caller's tokens", body = TokenList),
    ),
    security(("bearer" = [])))]
pub async fn tokens(State(state): State<AppState>, auth: ApiAuth) -> ApiResult<Json<TokenList>> {
    let rows = crate::tokens::of_user(&state.store, auth.user.id).await?;
    let now = crate::people::now_unix();
    Ok(Json(TokenList {
        items: rows.iter().map(|row| token_item(row, now)).collect(),
    }))
}

/// Revokes one of the caller's tokens, the one in use included (a leaked token is revoked
/// from any other). Another user's token, or one already revoked, is 404.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "accounts",
    params(
        ("id" = i64, Path, description = "A token id of the caller's"),
    ),
    responses(
        (status = 200, description = "Revoked", body = TokenItem),
        (status = 404, description = "Not the caller's token, or already revoked", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    request: super::idempotency::WriteRequest,
) -> ApiResult<axum::response::Response> {
    let id = types::path_id(&id)?;
    Ok(super::idempotency::run(&state, &auth, &request, |_| async {
        if !crate::tokens::revoke(&state.store, auth.user.id, id).await? {
            return Err(ApiError::NotFound);
        }
        let rows = crate::tokens::of_user(&state.store, auth.user.id).await?;
        let row = rows.iter().find(|r| r.id == id).ok_or(ApiError::NotFound)?;
        super::idempotency::Written::ok(token_item(row, crate::people::now_unix()))
    })
    .await)
}
