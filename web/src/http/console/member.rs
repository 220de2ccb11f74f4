//! The member page `/admin/members/{id}`: profile, balance, limits, status, category,
//! declared turnover, review date, the suggested limit with its explanation, the limit
//! history (and its CSV), the action-log entries about the member, and the manager's forms.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use chrono::NaiveDate;
use ledger::Amount;
use serde::Deserialize;

use super::{
    amount_text, csv_response, form_messages, manager, optional_amount, page_error, reader,
    request_key, see_other, time_text, unprocessable,
};
use crate::console::categories::{self, Category};
use crate::console::history::{limit_history, limit_history_csv};
use crate::console::members::{self as console_members, LimitsChange, StatusAction};
use crate::console::suggest::{self, Suggestion};
use crate::console::{ConsoleError, Field, Problem, Target};
use crate::http::error::{AppError, AppResult};
use crate::http::i18n::Tr;
use crate::http::keys::KeyView;
use crate::http::session::Auth;
use crate::http::templates::{page, role_label, Chrome};
use crate::http::AppState;
use crate::store::ActionFilter;
use crate::tokens::TokenState;

/// Action-log entries shown on the member page (the log page has them all).
pub const MEMBER_ACTIONS_SHOWN: i64 = 20;
/// Transactions the member page lists (the latest; the rest through the exports).
pub const MEMBER_TRANSACTIONS_SHOWN: usize = 20;

/// What the page's forms hold (kept as typed when a form is redrawn).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Values {
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    turnover: String,
    #[serde(default)]
    next_review: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
    /// The balance a departure's closing moves to the fund, as the page showed it.
    #[serde(default)]
    balance: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    suggest: Option<String>,
    #[serde(default)]
    defaults: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// One API token of the member's users, as the page lists it.
pub struct TokenRow {
    id: i64,
    email: String,
    name: String,
    scope: &'static str,
    created: String,
    last_used: String,
    expires: String,
    /// "revoked" or "expired" (translated); empty while the token works.
    ended: &'static str,
    active: bool,
}

pub struct HistoryRow {
    time: String,
    actor: String,
    reason: String,
    before: String,
    after: String,
    below_debt: bool,
}

/// One of the member's active standing orders, paid or received.
pub struct StandingRow {
    id: i64,
    /// « payé à » or « reçu de ».
    direction: &'static str,
    other: String,
    amount: String,
    every: &'static str,
    next: String,
}

/// One of the member's latest transactions, linked to its page (where a manager may
/// reverse it).
pub struct TransactionRow {
    id: u64,
    time: String,
    kind: &'static str,
    amount: String,
    negative: bool,
}

pub struct ActionRow {
    time: String,
    actor: String,
    action: String,
    reason: String,
}

pub struct SuggestionView {
    suggested: Option<String>,
    turnover: String,
    turnover_share: String,
    from_turnover: String,
    sales: String,
    sales_months: i64,
    sales_share: String,
    from_sales: String,
    category_default: String,
    trading_cap: String,
}

fn percent(bp: i64) -> String {
    format!("{},{:02} %", bp / 100, bp % 100)
}

fn suggestion_view(t: Tr, s: &Suggestion) -> SuggestionView {
    let a = |amount: Amount| t.lang.amount(amount);
    SuggestionView {
        suggested: s.suggested.map(a),
        turnover: s.declared_turnover.map(a).unwrap_or_default(),
        turnover_share: percent(s.settings.turnover_share_bp),
        from_turnover: s.from_turnover.map(a).unwrap_or_default(),
        sales: a(s.sales),
        sales_months: s.settings.sales_months,
        sales_share: percent(s.settings.sales_share_bp),
        from_sales: a(s.from_sales),
        category_default: a(s.category_default),
        trading_cap: a(s.trading_cap),
    }
}

/// Which form a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Limits,
    Status,
    Category,
    Turnover,
    Review,
    Invite,
    Tokens,
    Users,
    Departure,
}

/// A leaving member's notice as the member page shows it, with what is left and how the
/// manager may close it.
pub struct DepartureView {
    id: i64,
    date: String,
    by: String,
    message: String,
    /// What still blocks the closing, in words (empty when nothing does).
    blocking: Vec<String>,
    /// The balance the closing moves to the guarantee fund: plain (the form's) and worded.
    balance_plain: String,
    balance_text: String,
    positive: bool,
    negative: bool,
    orders: bool,
}

impl DepartureView {
    fn of(
        t: Tr,
        notice: &crate::console::departures::Departure,
        left: &crate::console::departures::Remaining,
    ) -> DepartureView {
        DepartureView {
            id: notice.id,
            date: time_text(notice.created_at),
            by: notice.requested_by.clone(),
            message: notice.message.clone(),
            blocking: crate::http::departure::blocking(t, left),
            balance_plain: left.balance.to_string(),
            balance_text: t.lang.amount(left.balance),
            positive: left.balance.is_positive(),
            negative: left.balance.is_negative(),
            orders: left.orders_to_pay > 0 || left.orders_to_deliver > 0,
        }
    }
}

#[derive(Template)]
#[template(path = "console/member.html")]
struct MemberTemplate {
    c: Chrome,
    id: i64,
    name: String,
    siren: String,
    city: String,
    contact: String,
    status: &'static str,
    closed: bool,
    frozen: bool,
    negative: bool,
    balance: String,
    pending: String,
    available: String,
    credit_limit: String,
    max_balance: String,
    category: String,
    turnover: String,
    next_review: String,
    unfinished: bool,
    categories: Vec<Category>,
    /// Email, role, a staff user's payment limits (empty: none), id, and whether the user
    /// has two-step login on.
    users: Vec<(String, &'static str, String, i64, bool)>,
    /// The account's signing keys, with who registered and revoked them.
    keys: Vec<KeyView>,
    tokens: Vec<TokenRow>,
    history: Vec<HistoryRow>,
    actions: Vec<ActionRow>,
    /// The latest [`MEMBER_TRANSACTIONS_SHOWN`] transactions of the account.
    transactions: Vec<TransactionRow>,
    suggestion: SuggestionView,
    /// Its active standing orders, paid then received (commitments the limits should allow).
    standing: Vec<StandingRow>,
    /// The member's credit-limit request waiting, if any: its id and the amount asked.
    limit_request: Option<(i64, String)>,
    /// The member's notice of departure waiting, if any.
    departure: Option<DepartureView>,
    /// Its open disputes: those it opened as payer, and those of payments it received.
    disputes_open: (i64, i64),
    values: Values,
    section: &'static str,
    messages: Vec<String>,
    notice: Option<&'static str>,
    invitation_link: Option<String>,
    reset: Option<ResetShown>,
    token: String,
    can_act: bool,
}

/// A password reset link just made for one of the member's users: shown to the manager, or
/// e-mailed to the user (then only the address is shown).
enum ResetShown {
    Link(String),
    Mailed(String),
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::None => "",
        Section::Limits => "limits",
        Section::Status => "status",
        Section::Category => "category",
        Section::Turnover => "turnover",
        Section::Review => "review",
        Section::Invite => "invite",
        Section::Tokens => "tokens",
        Section::Users => "users",
        Section::Departure => "departure",
    }
}

/// What a drawing of the page adds to the member's data: the forms' values (as typed, or
/// the member's), a problem and the form it belongs to, a notice, a new invitation link.
struct Extra {
    values: Option<Values>,
    section: Section,
    failure: Option<ConsoleError>,
    notice: Option<&'static str>,
    invitation_link: Option<String>,
    reset: Option<ResetShown>,
}

impl Extra {
    fn none() -> Extra {
        Extra {
            values: None,
            section: Section::None,
            failure: None,
            notice: None,
            invitation_link: None,
            reset: None,
        }
    }
}

/// The page, with `extra`'s values in its forms and its problem shown in its section.
async fn draw(state: &AppState, auth: &Auth, id: i64, extra: Extra) -> AppResult<Response> {
    let Extra {
        values,
        section,
        failure,
        notice,
        invitation_link,
        reset,
    } = extra;
    let actor = reader(auth)?;
    let t = auth.tr();
    let store = &state.store;
    let view = console_members::member_view(store, &actor, id)
        .await
        .map_err(page_error)?;
    let suggestion = suggest::suggest(store, &actor, id, chrono::Utc::now())
        .await
        .map_err(page_error)?;
    let standing = {
        let (paid, received) = crate::standing::member_orders(store, id)
            .await
            .map_err(page_error)?;
        let active = |o: &&crate::standing::StandingOrder| {
            o.status == crate::standing::StandingStatus::Active
        };
        let others: std::collections::BTreeSet<i64> = paid
            .iter()
            .filter(active)
            .map(|o| o.payee_member_id)
            .chain(received.iter().filter(active).map(|o| o.payer_member_id))
            .collect();
        let names = crate::people::names_of_members(store, &others).await?;
        let row = |o: &crate::standing::StandingOrder, direction, other: i64| StandingRow {
            id: o.id,
            direction,
            other: names.get(&other).cloned().unwrap_or_default(),
            amount: t.lang.amount(o.amount),
            every: t.so_every(o.every),
            next: o.next_date.map(|d| d.to_string()).unwrap_or_default(),
        };
        paid.iter()
            .filter(active)
            .map(|o| row(o, t.con_standing_paid(), o.payee_member_id))
            .chain(
                received
                    .iter()
                    .filter(active)
                    .map(|o| row(o, t.con_standing_received(), o.payer_member_id)),
            )
            .collect::<Vec<_>>()
    };
    let limit_request = crate::console::limit_requests::pending_of(store, id)
        .await
        .map_err(page_error)?
        .map(|r| {
            let credit = r.asks_credit_limit().then_some(r.credit_limit_asked);
            (r.id, t.lr_limits_text(credit, r.max_balance_asked))
        });
    let departure = match crate::console::departures::pending_of(store, id)
        .await
        .map_err(page_error)?
    {
        Some(notice) => {
            let left = crate::console::departures::remaining(store, id, view.account.balance())
                .await
                .map_err(page_error)?;
            Some(DepartureView::of(t, &notice, &left))
        }
        None => None,
    };
    let disputes_open = crate::console::disputes::open_counts_of(store, id)
        .await
        .map_err(page_error)?;
    let history = limit_history(store, &actor, id)
        .await
        .map_err(page_error)?
        .into_iter()
        .rev()
        .map(|r| HistoryRow {
            time: r.time.format("%Y-%m-%d %H:%M").to_string(),
            actor: r.actor,
            reason: r.reason,
            before: format!(
                "{} / {}",
                t.lang.amount(r.credit_limit_before),
                amount_text(t, r.max_balance_before)
            ),
            after: format!(
                "{} / {}",
                t.lang.amount(r.credit_limit_after),
                amount_text(t, r.max_balance_after)
            ),
            below_debt: r.below_current_debt,
        })
        .collect();
    let filter = ActionFilter {
        member_id: Some(id),
        ..ActionFilter::default()
    };
    let actions = store
        .actions(&filter, MEMBER_ACTIONS_SHOWN)
        .await?
        .into_iter()
        .map(|e| ActionRow {
            time: time_text(e.time.timestamp()),
            actor: e.actor,
            action: e.action,
            reason: e.reason,
        })
        .collect();
    let account = &view.account;
    let transactions = crate::activity::history(
        store,
        account.id(),
        &crate::activity::Filter::default(),
        None,
        MEMBER_TRANSACTIONS_SHOWN,
    )
    .await?
    .lines
    .into_iter()
    .map(|line| TransactionRow {
        id: line.transaction.id().0,
        time: line.transaction.time().format("%Y-%m-%d %H:%M").to_string(),
        kind: t.tx_kind(line.transaction.kind()),
        amount: t.lang.amount(line.net),
        negative: line.net.is_negative(),
    })
    .collect();
    let keys = store
        .member_keys(account.id())
        .await?
        .into_iter()
        .map(KeyView::from)
        .collect();
    let now = crate::people::now_unix();
    let never = || t.token_never().to_owned();
    let used = crate::spending::used_of_member(store, id, now)
        .await
        .map_err(AppError::Store)?;
    let two_step = crate::totp::enabled_of_member(store, id)
        .await
        .map_err(AppError::Store)?;
    let tokens = console_members::member_tokens(store, &actor, id)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|listed| {
            let token = listed.token;
            let state = token.state(now);
            TokenRow {
                id: token.id,
                email: listed.email,
                scope: t.token_scope(token.scope),
                created: time_text(token.created_at),
                last_used: token.last_used_at.map(time_text).unwrap_or_default(),
                expires: token.expires_at.map(time_text).unwrap_or_else(never),
                ended: match state {
                    TokenState::Active => "",
                    TokenState::Expired => t.token_expired(),
                    TokenState::Revoked => t.token_revoked(),
                },
                active: state == TokenState::Active,
                name: token.name,
            }
        })
        .collect();
    let values = values.unwrap_or_else(|| Values {
        credit_limit: account.credit_limit().to_plain(),
        max_balance: account
            .max_balance()
            .map(|m| m.to_plain())
            .unwrap_or_default(),
        category: view.category.code.clone(),
        turnover: view
            .fields
            .declared_turnover
            .map(|a| a.to_plain())
            .unwrap_or_default(),
        next_review: view
            .fields
            .next_review
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ..Values::default()
    });
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let failed = !messages.is_empty();
    let response = page(MemberTemplate {
        c: auth.chrome(),
        id,
        name: view.member.name.clone(),
        siren: view.member.siren.clone(),
        city: view.member.city.clone(),
        contact: view.member.contact.clone(),
        status: t.con_status_label(account.status()),
        closed: account.status() == ledger::AccountStatus::Closed,
        frozen: account.status() == ledger::AccountStatus::Frozen,
        negative: account.balance().is_negative(),
        balance: t.lang.amount(account.balance()),
        pending: t.lang.amount(account.pending()),
        available: account
            .available()
            .map(|a| t.lang.amount(a))
            .unwrap_or_default(),
        credit_limit: t.lang.amount(account.credit_limit()),
        max_balance: amount_text(t, account.max_balance()),
        category: view.category.name.clone(),
        turnover: view
            .fields
            .declared_turnover
            .map(|a| t.lang.amount(a))
            .unwrap_or_default(),
        next_review: view
            .fields
            .next_review
            .map(|d| d.to_string())
            .unwrap_or_default(),
        unfinished: view.fields.batch_status.as_deref() == Some("writing"),
        categories: categories::list(store).await.map_err(page_error)?,
        users: view
            .users
            .iter()
            .map(|u| {
                let staff = u.role == crate::people::Role::Staff;
                let per_operation = u.payment_max.filter(|_| staff).map(|max| {
                    format!(
                        "{} : {}",
                        t.payment_limit(),
                        t.lang.amount(ledger::Amount::from_minor(max))
                    )
                });
                let per_month = u.payment_month_max.filter(|_| staff).map(|max| {
                    let used = used.get(&u.id).copied().unwrap_or(ledger::Amount::ZERO);
                    format!(
                        "{} : {}",
                        t.month_limit(),
                        t.month_limit_shown(ledger::Amount::from_minor(max), used)
                    )
                });
                let limit = per_operation
                    .into_iter()
                    .chain(per_month)
                    .collect::<Vec<_>>()
                    .join(" · ");
                (
                    u.email.clone(),
                    role_label(t, u.role),
                    limit,
                    u.id,
                    two_step.contains(&u.id),
                )
            })
            .collect(),
        keys,
        tokens,
        history,
        actions,
        transactions,
        suggestion: suggestion_view(t, &suggestion),
        standing,
        limit_request,
        departure,
        disputes_open,
        values,
        section: section_name(section),
        messages,
        notice,
        invitation_link,
        reset,
        token: crate::people::random_token(),
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let t = auth.tr();
    let actor = reader(&auth)?;
    let mut values = None;
    if query.suggest.is_some() || query.defaults.is_some() {
        let view = console_members::member_view(&state.store, &actor, id)
            .await
            .map_err(page_error)?;
        let mut prefilled = Values {
            credit_limit: view.account.credit_limit().to_plain(),
            max_balance: view
                .account
                .max_balance()
                .map(|m| m.to_plain())
                .unwrap_or_default(),
            category: view.category.code.clone(),
            ..Values::default()
        };
        if query.defaults.is_some() {
            prefilled.credit_limit = view.category.credit_limit.to_plain();
            prefilled.max_balance = view
                .category
                .max_balance
                .map(|m| m.to_plain())
                .unwrap_or_default();
        } else {
            let s = suggest::suggest(&state.store, &actor, id, chrono::Utc::now())
                .await
                .map_err(page_error)?;
            if let Some(suggested) = s.suggested {
                prefilled.credit_limit = suggested.to_plain();
                prefilled.reason = match t.lang {
                    crate::http::i18n::Lang::Fr => {
                        "Découvert suggéré par la règle du réseau".into()
                    }
                    crate::http::i18n::Lang::En => "Limit suggested by the network's rule".into(),
                };
            }
        }
        values = Some(prefilled);
    }
    let notice = query.done.as_ref().map(|_| t.con_done());
    let extra = Extra {
        values,
        notice,
        ..Extra::none()
    };
    draw(&state, &auth, id, extra).await
}

/// After an action: back to the page (or the page redrawn with the problem).
async fn answer(
    state: &AppState,
    auth: &Auth,
    id: i64,
    values: Values,
    section: Section,
    result: Result<(), ConsoleError>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/members/{id}?done=1"))),
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => {
            let extra = Extra {
                values: Some(values),
                section,
                failure: Some(error),
                ..Extra::none()
            };
            draw(state, auth, id, extra).await
        }
    }
}

fn amount_field(text: &str, field: Field) -> Result<Option<Amount>, ConsoleError> {
    optional_amount(text).map_err(|_| ConsoleError::invalid(field, Problem::InvalidAmount))
}

pub async fn limits(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result = async {
        let credit_limit = amount_field(&values.credit_limit, Field::CreditLimit)?
            .ok_or_else(|| ConsoleError::invalid(Field::CreditLimit, Problem::Required))?;
        let max_balance = amount_field(&values.max_balance, Field::MaxBalance)?;
        let change = LimitsChange {
            credit_limit,
            max_balance,
            reason: values.reason.clone(),
        };
        console_members::set_limits(
            &state.store,
            &actor,
            Target::Member(id),
            change,
            &request_key(&values.token),
        )
        .await
        .map(|_| ())
    }
    .await;
    answer(&state, &auth, id, values, Section::Limits, result).await
}

pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let action = match values.action.as_str() {
        "freeze" => StatusAction::Freeze,
        "unfreeze" => StatusAction::Unfreeze,
        "close" => StatusAction::Close,
        _ => return Err(AppError::BadRequest),
    };
    let result = console_members::set_status(
        &state.store,
        &actor,
        Target::Member(id),
        action,
        &values.reason,
        &request_key(&values.token),
    )
    .await
    .map(|_| ());
    answer(&state, &auth, id, values, Section::Status, result).await
}

/// Closes a leaving member's departure: its positive balance to the guarantee fund, then
/// its account (`console::departures::close_leaving`).
pub async fn close_departure(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result = async {
        let notice = crate::console::departures::pending_of(&state.store, id)
            .await?
            .ok_or(ConsoleError::Conflict(
                crate::console::Conflict::DepartureDecided,
            ))?;
        let balance = amount_field(&values.balance, Field::Balance)?
            .ok_or_else(|| ConsoleError::invalid(Field::Balance, Problem::Required))?;
        crate::console::departures::close_leaving(
            &state.store,
            &actor,
            notice.id,
            balance,
            &values.reason,
            &request_key(&values.token),
        )
        .await
        .map(|_| ())
    }
    .await;
    answer(&state, &auth, id, values, Section::Departure, result).await
}

pub async fn category(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result =
        console_members::set_category(&state.store, &actor, id, &values.category, &values.reason)
            .await;
    answer(&state, &auth, id, values, Section::Category, result).await
}

pub async fn turnover(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result = match amount_field(&values.turnover, Field::Turnover) {
        Ok(turnover) => console_members::set_turnover(&state.store, &actor, id, turnover).await,
        Err(error) => Err(error),
    };
    answer(&state, &auth, id, values, Section::Turnover, result).await
}

pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let text = values.next_review.trim();
    let result = if text.is_empty() {
        console_members::set_review_date(&state.store, &actor, id, None, &values.reason).await
    } else {
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => {
                console_members::set_review_date(
                    &state.store,
                    &actor,
                    id,
                    Some(date),
                    &values.reason,
                )
                .await
            }
            Err(_) => Err(ConsoleError::invalid(
                Field::ReviewDate,
                Problem::InvalidDate,
            )),
        }
    };
    answer(&state, &auth, id, values, Section::Review, result).await
}

pub async fn invite(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match console_members::invite_owner(&state.store, &actor, id, &values.email).await {
        Ok((invitation, company)) => {
            let link = invitation.link(state.config.base_url());
            let mailed = crate::http::mail_invitation(
                &state,
                auth.tr().lang,
                &invitation.email,
                &auth.user.display_name,
                &company,
                &link,
            )
            .await?;
            let extra = Extra {
                invitation_link: Some(link),
                notice: mailed.then(|| auth.tr().invitation_mailed()),
                ..Extra::none()
            };
            draw(&state, &auth, id, extra).await
        }
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => {
            let extra = Extra {
                values: Some(values),
                section: Section::Invite,
                failure: Some(error),
                ..Extra::none()
            };
            draw(&state, &auth, id, extra).await
        }
    }
}

/// Makes a link for one of the member's users to choose a new password (managers): e-mailed
/// to the user when the server sends e-mail, shown to the manager otherwise.
pub async fn reset_link(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, user_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let (email, lang, token) =
        match console_members::password_reset_link(&state.store, &actor, id, user_id).await {
            Ok(made) => made,
            Err(ConsoleError::NotFound) => return Err(AppError::NotFound),
            Err(error) => return Err(page_error(error)),
        };
    let link = format!("{}/password/reset/{token}", state.config.base_url());
    let reset = if state.mail.is_some() {
        let lang = crate::http::i18n::Lang::parse(&lang).unwrap_or(crate::http::i18n::Lang::Fr);
        let message = crate::mail::password_reset(
            lang,
            &email,
            &link,
            crate::people::RESET_BY_MANAGER_TTL_SECONDS / 60,
            crate::mail::AskedBy::Manager,
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        match crate::mail::enqueue(&state.store, &message, crate::people::now_unix()).await? {
            Ok(()) => ResetShown::Mailed(email),
            // The outbox is full: the manager passes the link on instead.
            Err(_) => ResetShown::Link(link),
        }
    } else {
        ResetShown::Link(link)
    };
    let extra = Extra {
        reset: Some(reset),
        ..Extra::none()
    };
    draw(&state, &auth, id, extra).await
}

/// Turns off the two-step login of one of the member's users (managers), with a reason.
pub async fn two_step_off(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, user_id)): Path<(i64, i64)>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result =
        console_members::two_step_off(&state.store, &actor, id, user_id, &values.reason).await;
    if let Ok((email, lang)) = &result {
        let change = crate::mail::TwoStepChange::OffByManager;
        crate::http::two_step::tell(&state, email, lang, change).await?;
    }
    answer(
        &state,
        &auth,
        id,
        values,
        Section::Users,
        result.map(|_| ()),
    )
    .await
}

/// Revokes an API token of one of the member's users (managers), with a reason.
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, token_id)): Path<(i64, i64)>,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result =
        console_members::revoke_member_token(&state.store, &actor, id, token_id, &values.reason)
            .await
            .map(|_| ());
    answer(&state, &auth, id, values, Section::Tokens, result).await
}

pub async fn limits_csv(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let view = console_members::member_view(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let records = limit_history(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    Ok(csv_response(
        &format!("troc-limites-{}.csv", view.member.siren),
        limit_history_csv(&records),
    ))
}
