//! The accounting page's printable reports as JSON: the trial balance of the network's or a
//! member's books, a member's statement with a running balance, and a member's annual
//! summary. Same books, same builders (`export::reports`) and same authorization as the
//! exports (`exports::books_of`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::error::{ApiError, ApiResult, Problem};
use super::exports::{books_of, period_of};
use super::types;
use crate::export::download::Books;
use crate::export::reports::{MemberSummaryBuilder, StatementBuilder, TrialBalanceBuilder};
use crate::export::{ExportError, Feed, Period, Scope};
use crate::http::AppState;
use crate::store::ExportFailure;

/// Minor units of any size as a decimal string (`"-12.50"`): a trial balance's totals can
/// exceed what one account holds.
fn money_wide(minor: i128) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Feeds a report builder with the books' entries of the period.
async fn feed<F: Feed>(
    state: &AppState,
    books: Books,
    period: Period,
    build: impl FnOnce(&Scope) -> F,
) -> ApiResult<(Scope, F)> {
    let directory = state.store.export_directory().await?;
    let scope = books.scope(&directory).map_err(|_| ApiError::NotFound)?;
    let mut builder = build(&scope);
    match state
        .store
        .feed(&scope, period, &directory, &mut builder, |_| {})
        .await
    {
        Ok(()) => Ok((scope, builder)),
        Err(ExportFailure::Export(error @ ExportError::TooManyLines { .. })) => {
            Err(ApiError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_lines",
                error.to_string(),
            ))
        }
        Err(ExportFailure::Export(error)) => Err(ApiError::Internal(error.to_string())),
        Err(ExportFailure::Store(error)) => Err(error.into()),
    }
}

/// One account's line of the trial balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrialRowItem {
    /// The general ledger account (`467100`...), from the account mapping.
    pub account: String,
    pub label: String,
    /// The auxiliary account (a member's), if any.
    pub aux: Option<String>,
    pub aux_label: Option<String>,
    /// Balances are signed debit-positive, as in the accounting page.
    #[schema(example = "0.00")]
    pub opening: String,
    pub debit: String,
    pub credit: String,
    pub closing: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrialBalanceBody {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// The member whose books these are; none for the network's.
    pub member_id: Option<i64>,
    /// In account-number order, then auxiliary.
    pub rows: Vec<TrialRowItem>,
    pub debit_total: String,
    pub credit_total: String,
}

/// The trial balance (balance générale) of a period: every account's opening balance, debits,
/// credits and closing balance, as the accounting page prints it.
#[utoipa::path(get, path = "/api/v1/reports/trial-balance", tag = "exports",
    params(
        ("from" = String, Query, description = "First day, `YYYY-MM-DD` (Paris)", format = Date),
        ("to" = String, Query, description = "Last day, `YYYY-MM-DD` (Paris); at most 3,660 days in all", format = Date),
        ("member" = Option<i64>, Query, description = "A member id: that member's books (the network's by default for its staff; a member's user gets its own)"),
    ),
    responses(
        (status = 200, description = "The trial balance", body = TrialBalanceBody),
        (status = 403, description = "Staff may not read the books", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown member, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad period (`validation_failed`) or too many lines (`too_many_lines`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TrialBalanceBody>> {
    let params = types::query(raw.as_deref());
    let books = books_of(&state, &auth, &params).await?;
    let period = period_of(&params)?;
    let mapping = state.store.account_mapping().await?;
    let (scope, builder) = feed(&state, books, period, |scope| {
        TrialBalanceBuilder::new(&mapping, scope, period)
    })
    .await?;
    let balance = builder
        .finish()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(TrialBalanceBody {
        from: period.from().to_string(),
        to: period.to().to_string(),
        member_id: member_of(&state, &scope).await?,
        rows: balance
            .rows
            .iter()
            .map(|r| TrialRowItem {
                account: r.account.num().to_owned(),
                label: r.account.label().to_owned(),
                aux: r.aux.as_ref().map(|a| a.num.clone()),
                aux_label: r.aux.as_ref().map(|a| a.label.clone()),
                opening: money_wide(r.opening.into()),
                debit: money_wide(r.debit.into()),
                credit: money_wide(r.credit.into()),
                closing: money_wide(r.closing.into()),
            })
            .collect(),
        debit_total: money_wide(balance.debit_total),
        credit_total: money_wide(balance.credit_total),
    }))
}

/// The member account of books that a `report` covers for one member only: the network's
/// staff, whose own books are the network's, must name the member.
fn one_member(books: &Books, report: &str) -> ApiResult<ledger::AccountId> {
    match books {
        Books::Member(account) => Ok(*account),
        Books::Network => Err(ApiError::invalid(
            "member",
            format!("A {report} is one member's: name the member."),
        )),
    }
}

/// The member id of a member's books.
async fn member_of(state: &AppState, scope: &Scope) -> ApiResult<Option<i64>> {
    match scope {
        Scope::Network => Ok(None),
        Scope::Member(info) => Ok(crate::people::member_by_account(
            &state.store,
            info.id().0 as i64,
        )
        .await?
        .map(|m| m.id)),
    }
}

/// One line of a member's statement, from the member's side (credit > 0).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLineItem {
    #[schema(format = Date)]
    pub date: String,
    pub transaction_id: i64,
    /// `payment`, `hold_capture`, `reversal`, `fee`...
    pub kind: String,
    /// The other member of a trade, or the system account on the other side.
    pub counterparty: String,
    pub reference: String,
    pub memo: String,
    /// Net on the member's account, every leg included.
    #[schema(example = "-120.00")]
    pub amount: String,
    /// Of which commission and fund contribution (negative when paid).
    pub commission: String,
    pub fund_contribution: String,
    /// The balance after this line.
    pub balance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementBody {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub member_id: Option<i64>,
    pub opening_balance: String,
    /// Oldest first; at most 10,000 (a longer period is refused with `too_many_lines`).
    pub lines: Vec<StatementLineItem>,
    /// The sum of the positive lines and of the negative lines.
    pub credits: String,
    pub debits: String,
    pub closing_balance: String,
}

/// A member's statement (relevé de compte) for a period: the opening balance, every line
/// with the balance after it, and the closing balance. The network's staff name the
/// member; a member's owner or accountant gets its own.
#[utoipa::path(get, path = "/api/v1/reports/statement", tag = "exports",
    params(
        ("from" = String, Query, description = "First day, `YYYY-MM-DD` (Paris)", format = Date),
        ("to" = String, Query, description = "Last day, `YYYY-MM-DD` (Paris); at most 3,660 days in all", format = Date),
        ("member" = Option<i64>, Query, description = "A member id (required for the network's staff)"),
    ),
    responses(
        (status = 200, description = "The statement", body = StatementBody),
        (status = 403, description = "Staff may not read the books", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown member, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad period or no member (`validation_failed`), too many lines (`too_many_lines`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn statement(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<StatementBody>> {
    let params = types::query(raw.as_deref());
    let books = books_of(&state, &auth, &params).await?;
    let period = period_of(&params)?;
    let account = one_member(&books, "statement")?;
    let (scope, builder) = feed(&state, books, period, |_| {
        StatementBuilder::new(account, period)
    })
    .await?;
    let statement = builder.finish();
    let wide = |minor: i64| money_wide(minor.into());
    Ok(Json(StatementBody {
        from: period.from().to_string(),
        to: period.to().to_string(),
        member_id: member_of(&state, &scope).await?,
        opening_balance: wide(statement.opening_balance),
        lines: statement
            .lines
            .iter()
            .map(|l| StatementLineItem {
                date: l.date.to_string(),
                transaction_id: l.tx.0 as i64,
                kind: l.kind.as_str().to_owned(),
                counterparty: l.counterparty.clone(),
                reference: l.reference.clone(),
                memo: l.memo.clone(),
                amount: wide(l.amount),
                commission: wide(l.commission),
                fund_contribution: wide(l.fund_contribution),
                balance: wide(l.balance),
            })
            .collect(),
        credits: wide(statement.credits),
        debits: wide(statement.debits),
        closing_balance: wide(statement.closing_balance),
    }))
}

/// A member's annual summary, from the member's side: what its accountant books for the
/// year.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryBody {
    #[schema(example = 2026, minimum = 2000, maximum = 2999)]
    pub year: i32,
    pub member_id: Option<i64>,
    #[schema(example = "0.00")]
    pub opening_balance: String,
    /// Sales to other members, net of reversed sales.
    pub sales: String,
    /// Purchases from other members, net of reversed purchases.
    pub purchases: String,
    /// Commissions paid to the network on sales.
    pub commissions: String,
    /// Membership and other fees charged.
    pub fees: String,
    /// Contributions to the guarantee fund.
    pub fund_contributions: String,
    /// Everything else, signed (credit > 0): opening balances brought in, adjustments, debts
    /// written off.
    pub other: String,
    /// Opening + sales − purchases − commissions − fees − fund contributions + other.
    pub closing_balance: String,
    /// Transactions of the year on the member's account.
    pub transactions: u64,
}

/// A member's annual summary (récapitulatif annuel) for its accountant: opening balance,
/// sales and purchases net of reversals, commissions, fees, fund contributions, other
/// movements and closing balance of a calendar year (Paris). The network's staff name the
/// member; a member's owner or accountant gets its own.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "exports",
    params(
        ("year" = i32, Query, description = "The calendar year, 2000 to 2999", minimum = 2000, maximum = 2999),
        ("member" = Option<i64>, Query, description = "A member id (required for the network's staff)"),
    ),
    responses(
        (status = 200, description = "The summary", body = SummaryBody),
        (status = 403, description = "Staff may not read the books", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown member, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad year or no member (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    auth: ApiAuth,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<SummaryBody>> {
    let params = types::query(raw.as_deref());
    let books = books_of(&state, &auth, &params).await?;
    let period = types::param(&params, "year")
        .and_then(crate::http::accounting::summary_year)
        .ok_or_else(|| {
            ApiError::invalid(
                "year",
                format!(
                    "year must be a year from {} to {}.",
                    crate::http::accounting::SUMMARY_YEAR_MIN,
                    crate::http::accounting::SUMMARY_YEAR_MAX
                ),
            )
        })?;
    let account = one_member(&books, "summary")?;
    let (scope, builder) = feed(&state, books, period, |_| {
        MemberSummaryBuilder::new(account, period)
    })
    .await?;
    let summary = builder.finish();
    let wide = |minor: i64| money_wide(minor.into());
    Ok(Json(SummaryBody {
        year: chrono::Datelike::year(&period.from()),
        member_id: member_of(&state, &scope).await?,
        opening_balance: wide(summary.opening_balance),
        sales: wide(summary.sales),
        purchases: wide(summary.purchases),
        commissions: wide(summary.commissions),
        fees: wide(summary.fees),
        fund_contributions: wide(summary.fund_contributions),
        other: wide(summary.other),
        closing_balance: wide(summary.closing_balance),
        transactions: summary.transactions,
    }))
}

#[cfg(test)]
mod tests {
    use super::money_wide;

    #[test]
    fn wide_amounts_are_decimal_strings() {
        assert_eq!(money_wide(0), "0.00");
        assert_eq!(money_wide(5), "0.05");
        assert_eq!(money_wide(-1_250), "-12.50");
        assert_eq!(
            money_wide(i128::from(i64::MAX) * 3),
            "276701161105643274.21"
        );
    }
}
