//! Set-off of outside invoices (`crate::setoff`; docs/web.md, "Set-off of outside
//! invoices"). Members: `/setoff` lists the company's invoices, those it issued and those it
//! owes, and what set-offs cancelled on them; its owner and staff declare an invoice
//! (`POST /setoff/invoices`), confirm or reject one they owe (`/setoff/invoices/{id}/confirm`,
//! `/reject`) and close one they issued (`/close`); the member accountant reads (its posts
//! answer 403). Another company's invoice is 404. The network's staff: `/admin/setoff`
//! shows what a set-off would cancel now and the last runs, and a manager runs one;
//! `/admin/setoff/{id}` lists a run's lines.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::console::{
    csv_response, form_messages, manager, page_error, reader, time_text, unprocessable,
};
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Tr};
use super::session::{Auth, MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::ConsoleError;
use crate::people::Role;
use crate::setoff::{
    self, Answer, InvoiceStatus, Line, NewInvoice, OutsideInvoice, Run, LINES_OF_MEMBER_MAX,
    NUMBER_LEN_MAX, OF_MEMBER_MAX,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setoff", get(show))
        .route("/setoff/lines.csv", get(lines_csv))
        .route("/setoff/invoices", post(declare))
        .route("/setoff/invoices/{id}/confirm", post(confirm))
        .route("/setoff/invoices/{id}/reject", post(reject))
        .route("/setoff/invoices/{id}/close", post(close))
        .route("/admin/setoff", get(console_show).post(console_run))
        .route("/admin/setoff/{id}", get(console_run_page))
        .route("/admin/setoff/{id}/lines.csv", get(console_run_csv))
}

catalogue! {
    setoff_title => "Compensation de factures", "Set-off of invoices";
    setoff_intro => "Vos factures en euros entre membres du réseau peuvent se compenser : si vous devez à A, que A doit à B et que B vous doit, le réseau annule sur chaque facture le même montant, sans que personne ne paie. Déclarez ici les factures que vous avez émises à d'autres membres et qui restent à payer ; le débiteur confirme qu'il les doit. Le gestionnaire du réseau lance la compensation : chaque facture confirmée baisse de ce qu'elle a compensé, et la position de chaque entreprise (ce qu'on lui doit moins ce qu'elle doit) ne change pas. Rien ne passe par votre compte en barter ; passez l'écriture de compensation (411 / 401) dans vos livres.", "Your euro invoices between members of the network can be set off: if you owe A, A owes B and B owes you, the network cancels the same amount on each invoice, and nobody pays. Declare here the invoices you issued to other members that are still unpaid; the debtor confirms it owes them. The network's manager runs the set-off: each confirmed invoice goes down by what it set off, and each company's position (what it is owed less what it owes) does not change. Nothing goes through your barter account; book the set-off (411 / 401) in your books.";
    setoff_declare => "Déclarer une facture émise", "Declare an invoice you issued";
    setoff_debtor => "Membre débiteur", "Debtor member";
    setoff_number => "Numéro de votre facture", "Your invoice's number";
    setoff_amount => "Montant TTC restant dû (€)", "Amount still owed, tax included (€)";
    setoff_due_on => "Échéance", "Due date";
    setoff_declare_button => "Déclarer", "Declare";
    setoff_issued => "Factures que vous avez émises", "Invoices you issued";
    setoff_received => "Factures que vous devez", "Invoices you owe";
    setoff_lines => "Compensations", "Set-offs";
    setoff_creditor => "Créancier", "Creditor";
    setoff_open => "Reste dû", "Still owed";
    setoff_status => "État", "Status";
    setoff_invoice => "Facture", "Invoice";
    setoff_cleared => "Compensé", "Set off";
    setoff_run => "Compensation", "Set-off";
    setoff_confirm => "Je la dois", "We owe it";
    setoff_reject => "Refuser", "Reject";
    setoff_close => "Clôturer (réglée autrement, ou erreur)", "Close (paid otherwise, or a mistake)";
    setoff_reason => "Motif", "Reason";
    setoff_none => "Aucune facture.", "No invoice.";
    setoff_no_lines => "Aucune compensation encore.", "No set-off yet.";
    setoff_declared_done => "La facture est déclarée : le débiteur doit la confirmer pour qu'elle entre en compensation.", "The invoice is declared: the debtor must confirm it for it to be set off.";
    setoff_confirmed_done => "Facture confirmée : elle entrera dans la prochaine compensation.", "Invoice confirmed: the next set-off takes it.";
    setoff_rejected_done => "Facture refusée : le créancier voit votre motif.", "Invoice rejected: the creditor sees your reason.";
    setoff_closed_done => "Facture clôturée.", "Invoice closed.";
    setoff_console_intro => "Sur les factures confirmées qui restent dues, la compensation annule le plus grand montant possible sans changer la position nette d'aucune entreprise (ce qu'on lui doit moins ce qu'elle doit). Chaque facture baisse de sa part ; les entreprises voient le détail sur leur page « Compensation de factures ». Aucun compte en barter ne bouge. La compensation est inscrite au journal.", "On the confirmed invoices still owed, the set-off cancels the largest amount it can without changing any company's net position (what it is owed less what it owes). Each invoice goes down by its share; the companies see the detail on their \"Set-off of invoices\" page. No barter account moves. The set-off is logged.";
    setoff_now => "Si la compensation était lancée maintenant", "If the set-off ran now";
    setoff_confirmed_invoices => "Factures confirmées dues", "Confirmed invoices owed";
    setoff_owed => "Montant dû", "Amount owed";
    setoff_would_clear => "Montant compensé", "Amount set off";
    setoff_on_invoices => "Factures touchées", "Invoices reduced";
    setoff_run_button => "Lancer la compensation", "Run the set-off";
    setoff_runs => "Compensations passées", "Past set-offs";
    setoff_by => "Par", "By";
    setoff_date => "Date", "Date";
}

impl Tr {
    /// The dashboard's line when invoices wait for the company's answer.
    pub fn setoff_waiting(&self, count: &i64) -> String {
        use super::i18n::Lang;
        match self.lang {
            Lang::Fr => {
                format!("Factures d'autres membres à confirmer pour la compensation : {count}")
            }
            Lang::En => format!("Other members' invoices to confirm for set-off: {count}"),
        }
    }

    pub fn setoff_status_text(&self, status: InvoiceStatus) -> &'static str {
        use super::i18n::Lang;
        match (self.lang, status) {
            (Lang::Fr, InvoiceStatus::Declared) => "à confirmer par le débiteur",
            (Lang::En, InvoiceStatus::Declared) => "waits for the debtor",
            (Lang::Fr, InvoiceStatus::Confirmed) => "confirmée",
            (Lang::En, InvoiceStatus::Confirmed) => "confirmed",
            (Lang::Fr, InvoiceStatus::Rejected) => "refusée par le débiteur",
            (Lang::En, InvoiceStatus::Rejected) => "rejected by the debtor",
            (Lang::Fr, InvoiceStatus::Closed) => "clôturée par le créancier",
            (Lang::En, InvoiceStatus::Closed) => "closed by the creditor",
            (Lang::Fr, InvoiceStatus::Cleared) => "entièrement compensée",
            (Lang::En, InvoiceStatus::Cleared) => "fully set off",
        }
    }
}

/// An invoice as the page shows it.
pub struct InvoiceView {
    pub id: i64,
    pub number: String,
    pub creditor: String,
    pub debtor: String,
    pub amount: String,
    pub open: String,
    pub due_on: String,
    pub status: &'static str,
    pub declared: bool,
    pub owed: bool,
    /// The debtor's or the creditor's reason, and who gave it when.
    pub note: String,
    pub noted: String,
}

fn invoice_view(t: Tr, i: &OutsideInvoice) -> InvoiceView {
    let noted = match (&i.closed, &i.answered) {
        (Some((by, at)), _) | (None, Some((by, at))) => format!("{} · {by}", time_text(*at)),
        (None, None) => String::new(),
    };
    InvoiceView {
        id: i.id,
        number: i.number.clone(),
        creditor: i.creditor_name.clone(),
        debtor: i.debtor_name.clone(),
        amount: t.lang.amount(i.amount),
        open: t.lang.amount(i.open),
        due_on: super::accounting::day(t.lang, i.due_on),
        status: t.setoff_status_text(i.status),
        declared: i.status == InvoiceStatus::Declared,
        owed: matches!(i.status, InvoiceStatus::Declared | InvoiceStatus::Confirmed),
        note: i.note.clone().unwrap_or_default(),
        noted,
    }
}

/// A set-off line as the pages show it.
pub struct LineView {
    pub run_id: i64,
    pub date: String,
    pub number: String,
    pub creditor: String,
    pub debtor: String,
    pub amount: String,
}

fn line_view(t: Tr, l: &Line) -> LineView {
    LineView {
        run_id: l.run_id,
        date: time_text(l.run_at),
        number: l.number.clone(),
        creditor: l.creditor_name.clone(),
        debtor: l.debtor_name.clone(),
        amount: t.lang.amount(l.amount),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DeclareForm {
    #[serde(default)]
    debtor: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    due_on: String,
}

#[derive(Template)]
#[template(path = "setoff.html")]
struct SetoffTemplate {
    c: Chrome,
    can_act: bool,
    done: Option<&'static str>,
    messages: Vec<String>,
    debtors: Vec<(String, String)>,
    values: DeclareForm,
    number_len_max: usize,
    issued: Vec<InvoiceView>,
    received: Vec<InvoiceView>,
    lines: Vec<LineView>,
}

struct Outcome {
    done: Option<&'static str>,
    failure: Option<ConsoleError>,
    values: Option<DeclareForm>,
}

impl Outcome {
    fn shown() -> Outcome {
        Outcome {
            done: None,
            failure: None,
            values: None,
        }
    }
}

async fn draw(state: &AppState, reader: &MemberReader, outcome: Outcome) -> AppResult<Response> {
    let t = reader.tr();
    let me = reader.member.id;
    let invoices = setoff::of_member(&state.store, me, OF_MEMBER_MAX)
        .await
        .map_err(page_error)?;
    let lines = setoff::lines_of_member(&state.store, me, LINES_OF_MEMBER_MAX)
        .await
        .map_err(page_error)?;
    let (issued, received): (Vec<_>, Vec<_>) =
        invoices.iter().partition(|i| i.creditor_member_id == me);
    let failed = outcome.failure.is_some();
    let messages = match outcome.failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let values = outcome.values.unwrap_or_else(|| DeclareForm {
        due_on: (Utc::now().date_naive() + Duration::days(30)).to_string(),
        ..DeclareForm::default()
    });
    let c = reader.chrome();
    let can_act = c.is_member();
    // The debtors' list is the declaring form's: not read for the member accountant.
    let debtors = if can_act {
        super::money::payees(state, &reader.member).await?
    } else {
        Vec::new()
    };
    let response = page(SetoffTemplate {
        c,
        can_act,
        done: outcome.done,
        messages,
        debtors,
        values,
        number_len_max: NUMBER_LEN_MAX,
        issued: issued.iter().map(|i| invoice_view(t, i)).collect(),
        received: received.iter().map(|i| invoice_view(t, i)).collect(),
        lines: lines.iter().map(|l| line_view(t, l)).collect(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

async fn show(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw(&state, &reader, Outcome::shown()).await
}

/// The company's set-off lines as CSV, with its side of each (the same 200 as the page).
async fn lines_csv(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    let me = reader.member.id;
    let lines = setoff::lines_of_member(&state.store, me, LINES_OF_MEMBER_MAX)
        .await
        .map_err(page_error)?;
    let filename = format!("troc-compensations-{}.csv", reader.member.siren);
    Ok(csv_response(&filename, setoff::lines_csv(&lines, Some(me))))
}

/// The page again after a step: its message, or the refusal worded with 422 (403, 404 and
/// store failures are error pages).
async fn after(
    state: &AppState,
    auth: MemberAuth,
    result: Result<OutsideInvoice, ConsoleError>,
    done: &'static str,
    values: Option<DeclareForm>,
) -> AppResult<Response> {
    let outcome = match result {
        Ok(_) => Outcome {
            done: Some(done),
            ..Outcome::shown()
        },
        Err(error @ (ConsoleError::Invalid(_) | ConsoleError::Conflict(_))) => Outcome {
            failure: Some(error),
            values,
            ..Outcome::shown()
        },
        Err(error) => return Err(page_error(error)),
    };
    draw(state, &auth.into(), outcome).await
}

async fn declare(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<DeclareForm>,
) -> AppResult<Response> {
    let new = NewInvoice {
        debtor: form.debtor.clone(),
        number: form.number.clone(),
        amount: form.amount.clone(),
        due_on: form.due_on.clone(),
    };
    let today = Utc::now().date_naive();
    let result = setoff::declare(&state.store, &auth.auth.user, &auth.member, &new, today).await;
    if let Ok(invoice) = &result {
        super::notices::outside_invoice_declared(&state, invoice.id).await?;
    }
    let done = auth.tr().setoff_declared_done();
    after(&state, auth, result, done, Some(form)).await
}

#[derive(Debug, Default, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

fn invoice_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn confirm(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = invoice_id(&id)?;
    let user = &auth.auth.user;
    let result = setoff::answer(&state.store, user, &auth.member, id, Answer::Confirm, "").await;
    let done = auth.tr().setoff_confirmed_done();
    after(&state, auth, result, done, None).await
}

async fn reject(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let id = invoice_id(&id)?;
    let user = &auth.auth.user;
    let result = setoff::answer(
        &state.store,
        user,
        &auth.member,
        id,
        Answer::Reject,
        &form.reason,
    )
    .await;
    if result.is_ok() {
        super::notices::outside_invoice_rejected(&state, id).await?;
    }
    let done = auth.tr().setoff_rejected_done();
    after(&state, auth, result, done, None).await
}

async fn close(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let id = invoice_id(&id)?;
    let user = &auth.auth.user;
    let result = setoff::close(&state.store, user, &auth.member, id, &form.reason).await;
    let done = auth.tr().setoff_closed_done();
    after(&state, auth, result, done, None).await
}

/// A run as the console shows it.
pub struct RunView {
    pub id: i64,
    pub date: String,
    pub by: String,
    pub invoices: i64,
    pub owed: String,
    pub cleared: String,
}

fn run_view(t: Tr, r: &Run) -> RunView {
    RunView {
        id: r.id,
        date: time_text(r.run_at),
        by: r.run_by.clone(),
        invoices: r.invoices,
        owed: t.lang.amount(r.owed),
        cleared: t.lang.amount(r.cleared),
    }
}

#[derive(Template)]
#[template(path = "console/setoff.html")]
struct ConsoleTemplate {
    c: Chrome,
    can_act: bool,
    messages: Vec<String>,
    reason: String,
    invoices: i64,
    owed: String,
    cleared: String,
    cleared_invoices: i64,
    runs: Vec<RunView>,
}

async fn console_draw(
    state: &AppState,
    auth: &Auth,
    reason: String,
    failure: Option<ConsoleError>,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let preview = setoff::preview(&state.store, &actor)
        .await
        .map_err(page_error)?;
    let runs = setoff::runs(&state.store, &actor)
        .await
        .map_err(page_error)?;
    let failed = failure.is_some();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let response = page(ConsoleTemplate {
        c: auth.chrome(),
        can_act: auth.user.role == Role::Manager,
        messages,
        reason,
        invoices: preview.invoices,
        owed: t.lang.amount(preview.owed),
        cleared: t.lang.amount(preview.cleared),
        cleared_invoices: preview.cleared_invoices,
        runs: runs.iter().map(|r| run_view(t, r)).collect(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

async fn console_show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    console_draw(&state, &auth, String::new(), None).await
}

async fn console_run(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match setoff::run(&state.store, &actor, &form.reason).await {
        Ok(run) => {
            // The lines are read again only to e-mail the companies.
            if state.mail.is_some() {
                let lines = setoff::run_lines(&state.store, &actor, run.id)
                    .await
                    .map_err(page_error)?;
                super::notices::setoff_ran(&state, run.id, &lines).await?;
            }
            Ok(Redirect::to(&format!("/admin/setoff/{}", run.id)).into_response())
        }
        Err(error @ (ConsoleError::Invalid(_) | ConsoleError::Conflict(_))) => {
            console_draw(&state, &auth, form.reason, Some(error)).await
        }
        Err(error) => Err(page_error(error)),
    }
}

/// A run's lines as CSV (managers and the network's accountants).
async fn console_run_csv(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    setoff::run_by_id(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let lines = setoff::run_lines(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    Ok(csv_response(
        &format!("troc-compensation-{id}.csv"),
        setoff::lines_csv(&lines, None),
    ))
}

#[derive(Template)]
#[template(path = "console/setoff_run.html")]
struct RunTemplate {
    c: Chrome,
    run: RunView,
    lines: Vec<LineView>,
}

async fn console_run_page(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let t = auth.tr();
    let run = setoff::run_by_id(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    let lines = setoff::run_lines(&state.store, &actor, id)
        .await
        .map_err(page_error)?;
    page(RunTemplate {
        c: auth.chrome(),
        run: run_view(t, &run),
        lines: lines.iter().map(|l| line_view(t, l)).collect(),
    })
}
