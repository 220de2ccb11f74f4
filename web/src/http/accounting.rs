//! The accounting pages: export downloads, printable reports (trial balance, statement,
//! annual summary), the network's SIREN and period locks.
//!
//! Who sees what (docs/exports.md, "On the web"):
//! - the network's manager and accountant: the network's books or any one member's
//!   (`member=<id>`); the manager sets the SIREN; both lock periods;
//! - a member company's owner and its member accountant: that company's books only (another
//!   member's id answers 404, like a missing one);
//! - staff: 403 (they have the history, the statement and its CSV).
//!
//! Downloads stream through [`crate::export::download`], which the JSON API uses too.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::Amount;
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{catalogue, Lang, Tr};
use super::session::Auth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::export::calendar;
use crate::export::download::{self, Books, DownloadError, DownloadRequest};
use crate::export::reports::{
    MemberSummary, MemberSummaryBuilder, Statement, StatementBuilder, TrialBalance,
    TrialBalanceBuilder,
};
use crate::export::{
    AccountInfo, CsvOptions, ExportError, Format, Period, PeriodLock, Scope, Siren, PERIOD_DAYS_MAX,
};
use crate::people::{self, Member, Role};
use crate::store::{ActionNote, ExportFailure, StoreError, ACTION_REASON_LEN_MAX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounting", get(accounting))
        .route("/accounting/export", get(export))
        .route("/accounting/trial-balance", get(trial_balance))
        .route("/accounting/statement", get(statement))
        .route("/accounting/summary", get(summary))
        .route("/accounting/siren", post(set_siren))
        .route("/accounting/locks", get(locks).post(lock_check))
        .route("/accounting/locks/confirm", post(lock_confirm))
}

/// Locks listed on the locks page at most (the most recent).
pub const LOCKS_LISTED_MAX: usize = 100;
/// Members offered in the books selector at most.
pub const MEMBERS_LISTED_MAX: i64 = super::money::MEMBERS_LISTED_MAX;
/// Years an annual summary may be asked for.
pub const SUMMARY_YEAR_MIN: i32 = 2000;
pub const SUMMARY_YEAR_MAX: i32 = 2999;

/// The calendar year an annual summary covers, from its typed number (the page's form and
/// the API's `year`); `None` for anything but a year from [`SUMMARY_YEAR_MIN`] to
/// [`SUMMARY_YEAR_MAX`].
pub fn summary_year(typed: &str) -> Option<Period> {
    let year: i32 = typed
        .trim()
        .parse()
        .ok()
        .filter(|y| (SUMMARY_YEAR_MIN..=SUMMARY_YEAR_MAX).contains(y))?;
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)?;
    Period::new(first, last).ok()
}

catalogue! {
    nav_accounting => "Comptabilité", "Accounting";
    accounting_title => "Comptabilité et exports", "Accounting and exports";
    books_of => "Livres de", "Books of";
    books_network => "Le réseau (livres de l'opérateur)", "The network (the operator's books)";
    books_own => "Livres de votre entreprise", "Your company's books";
    csv_dates => "Dates du CSV", "CSV dates";
    csv_french => "Françaises (31/12/2025, 1234,50)", "French (31/12/2025, 1234,50)";
    csv_iso => "ISO (2025-12-31, 1234.50)", "ISO (2025-12-31, 1234.50)";
    download => "Télécharger", "Download";
    downloads => "Téléchargements", "Downloads";
    reports => "États imprimables", "Printable reports";
    trial_balance => "Balance générale", "Trial balance";
    member_statement => "Relevé de compte", "Account statement";
    annual_summary => "Synthèse annuelle", "Annual summary";
    year => "Année", "Year";
    show => "Afficher", "Show";
    fec_needs_lock => "Le FEC exige que la période soit verrouillée jusqu'à son dernier jour (date de validation des écritures).", "The FEC needs the period locked through its last day (the entries' validation date).";
    ofx_member_only => "L'OFX est le relevé d'un membre : choisissez un membre.", "OFX is one member's statement: choose a member.";
    network_siren => "SIREN de l'opérateur du réseau", "The network operator's SIREN";
    network_siren_unset => "Non renseigné : les exports en ont besoin (nom du FEC, identifiant OFX).", "Not set: exports need it (FEC file name, OFX bank id).";
    network_siren_saved => "SIREN enregistré.", "SIREN saved.";
    period_locks => "Périodes verrouillées", "Locked periods";
    locked_through => "Verrouillé jusqu'au", "Locked through";
    not_locked => "Aucune période verrouillée.", "No period is locked.";
    locked_at => "Verrouillé le", "Locked on";
    locked_by => "Par", "By";
    lock_reason => "Motif (facultatif)", "Reason (optional)";
    lock_period => "Verrouiller une période", "Lock a period";
    lock_through_label => "Verrouiller toutes les opérations jusqu'au (inclus)", "Lock every operation up to (included)";
    lock_confirm_title => "Confirmer le verrouillage", "Confirm the lock";
    lock_confirm_text => "Après verrouillage, plus aucune opération ne pourra être datée dans cette période, et cela ne peut pas être annulé. Les corrections se feront par de nouvelles écritures dans une période ouverte. La date d'aujourd'hui deviendra la date de validation (ValidDate) des écritures du FEC.", "Once locked, no operation can be dated inside this period any more, and this cannot be undone. Corrections will be new entries in an open period. Today becomes the validation date (ValidDate) of the FEC's entries.";
    lock_confirm_button => "Verrouiller définitivement", "Lock for good";
    lock_done => "Période verrouillée.", "Period locked.";
    lock_help => "Une période ne peut être verrouillée qu'une fois terminée, et seulement après la précédente.", "A period can only be locked once it is over, and only after the previous lock.";
    account_number => "Compte", "Account";
    account_label => "Libellé", "Label";
    auxiliary => "Compte auxiliaire", "Auxiliary account";
    debit => "Débit", "Debit";
    credit => "Crédit", "Credit";
    movements => "Mouvements de la période", "Movements of the period";
    totals => "Totaux", "Totals";
    period => "Période", "Period";
    generated_at => "Établi le", "Generated on";
    print_hint => "Pour imprimer ou enregistrer en PDF, utilisez la commande Imprimer du navigateur.", "To print or save as PDF, use the browser's Print command.";
    sales => "Ventes aux autres membres (nettes des annulations)", "Sales to other members (net of reversals)";
    purchases => "Achats aux autres membres (nets des annulations)", "Purchases from other members (net of reversals)";
    commissions => "Commissions versées au réseau", "Commissions paid to the network";
    fees => "Cotisations et frais", "Membership and other fees";
    fund_contributions => "Contributions au fonds de garantie", "Guarantee fund contributions";
    other_movements => "Autres mouvements (reprises, régularisations, abandons)", "Other movements (balances brought in, adjustments, write-offs)";
    transactions_count => "Opérations de la période", "Transactions of the period";
    summary_check => "Contrôle : ouverture + ventes − achats − commissions − frais − contributions + autres = clôture", "Check: opening + sales − purchases − commissions − fees − contributions + other = closing";
    summary_booking => "Comptabilisation", "Booking";
    total_credits => "Total des crédits", "Total credits";
    total_debits => "Total des débits", "Total debits";
    running_balance => "Solde", "Balance";
    choose_member => "Choisissez un membre.", "Choose a member.";
    invalid_format => "Format inconnu.", "Unknown format.";
    from_after_to => "La date de début est après la date de fin.", "The start date is after the end date.";
    lock_not_over => "On ne peut verrouiller qu'une période terminée : choisissez une date antérieure à aujourd'hui.", "Only a finished period can be locked: choose a date before today.";
    invalid_year => "Année invalide.", "Invalid year.";
    no_network => "Le réseau n'est pas encore créé.", "The network is not created yet.";
    no_siren => "Le SIREN de l'opérateur du réseau n'est pas renseigné : un gestionnaire doit le saisir sur la page Comptabilité.", "The network operator's SIREN is not set: a manager must enter it on the Accounting page.";
    downloads_busy => "Trop de téléchargements sont en cours. Réessayez dans un instant.", "Too many downloads are running. Try again in a moment.";
    export_not_locked => "Le FEC exige une période verrouillée jusqu'à son dernier jour : verrouillez d'abord la période.", "The FEC needs the period locked through its last day: lock the period first.";
    export_failed => "L'export n'a pas pu être produit.", "The export could not be produced.";
    statement_too_long => "Le relevé dépasse le nombre maximal de lignes : choisissez une période plus courte, ou téléchargez le CSV.", "The statement is over the line limit: choose a shorter period, or download the CSV.";
    role_member_accountant => "Expert-comptable de l'entreprise", "Company's accountant";
    invite_accountant => "Inviter votre expert-comptable", "Invite your accountant";
    invite_accountant_help => "Il verra le tableau de bord, l'historique, les relevés et les exports de votre entreprise, sans pouvoir payer, inviter ni modifier.", "They will see your company's dashboard, history, statements and exports, and cannot pay, invite or edit anything.";
    remove_access => "Retirer l'accès", "Remove access";
    user_removed => "Accès retiré.", "Access removed.";
}

impl Tr {
    /// The period is longer than the limit.
    pub fn period_too_long(&self, max: i64) -> String {
        match self.lang {
            Lang::Fr => format!("La période dépasse {max} jours."),
            Lang::En => format!("The period is longer than {max} days."),
        }
    }

    /// The period limit, as a hint under the form.
    pub fn period_limit(&self, max: i64) -> String {
        match self.lang {
            Lang::Fr => format!("Période de {max} jours au plus."),
            Lang::En => format!("At most {max} days."),
        }
    }

    pub fn lock_not_after(&self, last: NaiveDate) -> String {
        match self.lang {
            Lang::Fr => format!(
                "La période est déjà verrouillée jusqu'au {} : choisissez une date postérieure.",
                day(self.lang, last)
            ),
            Lang::En => format!(
                "The period is already locked through {}: choose a later date.",
                day(self.lang, last)
            ),
        }
    }

    /// How the member's books record the summary's figures: its effective mapping.
    pub fn summary_booking_of(&self, m: &crate::export::mapping::MemberMapping) -> String {
        use crate::export::mapping::Position;
        let barter = match &m.barter {
            Position::Split(split) => match self.lang {
                Lang::Fr => format!(
                    "position barter {} (débiteur) / {} (créditeur)",
                    split.debit.num(),
                    split.credit.num()
                ),
                Lang::En => format!(
                    "barter position {} (debit) / {} (credit)",
                    split.debit.num(),
                    split.credit.num()
                ),
            },
            Position::Single(account) => match self.lang {
                Lang::Fr => format!("position barter {}", account.num()),
                Lang::En => format!("barter position {}", account.num()),
            },
        };
        match self.lang {
            Lang::Fr => format!(
                "{} : {barter}, clients {} et fournisseurs {} « à compenser », commissions {}, \
                 cotisations {}, fonds de garantie {} (plan de comptes des exports).",
                self.summary_booking(),
                m.customers.num(),
                m.suppliers.num(),
                m.commission.num(),
                m.membership_fee.num(),
                m.fund_contribution.num()
            ),
            Lang::En => format!(
                "{}: {barter}, customers {} and suppliers {} \"to be offset\", commissions {}, \
                 fees {}, guarantee fund {} (the export account mapping).",
                self.summary_booking(),
                m.customers.num(),
                m.suppliers.num(),
                m.commission.num(),
                m.membership_fee.num(),
                m.fund_contribution.num()
            ),
        }
    }

    /// Why a download or a report cannot be produced, in the user's language.
    pub fn download_error(&self, error: &DownloadError) -> String {
        match error {
            DownloadError::NoNetwork => self.no_network().to_owned(),
            DownloadError::NoSiren => self.no_siren().to_owned(),
            DownloadError::UnknownMember(_) => self.error_not_found().to_owned(),
            DownloadError::Busy { .. } => self.downloads_busy().to_owned(),
            DownloadError::Export(error) => self.export_error(error),
            DownloadError::Store(_) => self.export_failed().to_owned(),
        }
    }

    pub fn export_error(&self, error: &ExportError) -> String {
        match error {
            ExportError::NotLocked { .. } => self.export_not_locked().to_owned(),
            ExportError::OfxNeedsMember => self.ofx_member_only().to_owned(),
            ExportError::InvalidPeriod { .. } => self.from_after_to().to_owned(),
            ExportError::PeriodTooLong { max } => self.period_too_long(*max),
            ExportError::TooManyLines { .. } => self.statement_too_long().to_owned(),
            _ => self.export_failed().to_owned(),
        }
    }
}

/// A date as each language writes it.
pub fn day(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::Fr => date.format("%d/%m/%Y").to_string(),
        Lang::En => date.format("%Y-%m-%d").to_string(),
    }
}

fn amount(lang: Lang, minor: i64) -> String {
    lang.amount(Amount::from_minor(minor))
}

/// Who is looking at the accounting pages.
pub(super) enum Viewer {
    /// The network's manager or accountant.
    Network,
    /// A member company's owner or member accountant: that company only.
    Member(Box<Member>),
}

pub(super) async fn viewer(state: &AppState, auth: &Auth) -> AppResult<Viewer> {
    match auth.user.role {
        Role::Manager | Role::Accountant => Ok(Viewer::Network),
        Role::Owner | Role::MemberAccountant => {
            let id = auth.user.member_id.ok_or(AppError::Forbidden)?;
            let member = people::member(&state.store, id)
                .await?
                .ok_or(AppError::Forbidden)?;
            Ok(Viewer::Member(Box::new(member)))
        }
        Role::Staff => Err(AppError::Forbidden),
    }
}

/// Whose books a request is about, once checked against the viewer.
pub(super) enum Chosen {
    Network,
    Member(Box<Member>),
}

impl Chosen {
    fn books(&self) -> Books {
        match self {
            Chosen::Network => Books::Network,
            Chosen::Member(m) => Books::Member(m.account()),
        }
    }
}

/// `member` as the query gives it: empty for the viewer's default books, else a member id.
/// A member user may only name its own company; any other id, or an unknown one, is 404.
pub(super) async fn choose(state: &AppState, viewer: &Viewer, member: &str) -> AppResult<Chosen> {
    let member = member.trim();
    match viewer {
        Viewer::Member(own) => {
            if member.is_empty() || member == own.id.to_string() {
                Ok(Chosen::Member(own.clone()))
            } else {
                Err(AppError::NotFound)
            }
        }
        Viewer::Network if member.is_empty() => Ok(Chosen::Network),
        Viewer::Network => {
            let id: i64 = member.parse().map_err(|_| AppError::NotFound)?;
            people::member(&state.store, id)
                .await?
                .map(|m| Chosen::Member(Box::new(m)))
                .ok_or(AppError::NotFound)
        }
    }
}

/// The accounting form's fields, as typed (kept when the page is drawn again).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BooksQuery {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub dates: String,
    #[serde(default)]
    pub year: String,
}

impl BooksQuery {
    fn period(&self, t: Tr) -> Result<Period, String> {
        let parse = |text: &str| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| t.field_error(super::i18n::FieldError::InvalidDate))
        };
        let from = parse(&self.from)?;
        let to = parse(&self.to)?;
        Period::new(from, to).map_err(|e| t.export_error(&e))
    }

    fn csv_options(&self) -> CsvOptions {
        match self.dates.as_str() {
            "iso" => CsvOptions::ISO,
            _ => CsvOptions::FRENCH,
        }
    }

    fn format(&self, t: Tr) -> Result<Format, String> {
        Format::from_name(self.format.trim(), self.csv_options())
            .ok_or_else(|| t.invalid_format().to_owned())
    }

    fn year(&self, t: Tr) -> Result<Period, String> {
        summary_year(&self.year).ok_or_else(|| t.invalid_year().to_owned())
    }

    /// Today's defaults: the current year so far.
    fn defaults(now: DateTime<Utc>) -> BooksQuery {
        let today = calendar::day_of(now);
        let first = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        BooksQuery {
            from: first.format("%Y-%m-%d").to_string(),
            to: today.format("%Y-%m-%d").to_string(),
            dates: "french".into(),
            year: (today.year() - 1).to_string(),
            ..BooksQuery::default()
        }
    }
}

struct LockView {
    through: String,
    locked_at: String,
    actor: String,
}

fn lock_view(lang: Lang, lock: &PeriodLock, actor: String) -> LockView {
    LockView {
        through: day(lang, lock.through),
        locked_at: day(lang, calendar::day_of(lock.locked_at)),
        actor,
    }
}

#[derive(Template)]
#[template(path = "accounting.html")]
struct AccountingTemplate {
    c: Chrome,
    network_view: bool,
    own_name: String,
    members: Vec<(String, String)>,
    query: BooksQuery,
    error: Option<String>,
    siren: Option<String>,
    siren_value: String,
    siren_error: Option<String>,
    notice: Option<&'static str>,
    can_set_siren: bool,
    locked_through: Option<String>,
    period_limit: String,
}

/// What the accounting page shows besides its form.
#[derive(Default)]
struct PageState {
    query: Option<BooksQuery>,
    error: Option<String>,
    siren_value: Option<String>,
    siren_error: Option<String>,
    notice: Option<&'static str>,
}

async fn accounting_page(
    state: &AppState,
    auth: &Auth,
    viewer: &Viewer,
    status: StatusCode,
    shown: PageState,
) -> AppResult<Response> {
    let t = auth.tr();
    let (network_view, own_name, members) = match viewer {
        Viewer::Network => {
            let members = people::members(&state.store, MEMBERS_LISTED_MAX)
                .await?
                .into_iter()
                .map(|m| (m.id.to_string(), format!("{} ({})", m.name, m.siren)))
                .collect();
            (true, String::new(), members)
        }
        Viewer::Member(m) => (false, m.name.clone(), Vec::new()),
    };
    let siren = state
        .store
        .network_siren()
        .await?
        .map(|s| s.as_str().to_owned());
    let locked_through = state.store.locked_through().await?.map(|d| day(t.lang, d));
    let mut response = page(AccountingTemplate {
        c: auth.chrome(),
        network_view,
        own_name,
        members,
        query: shown
            .query
            .unwrap_or_else(|| BooksQuery::defaults(Utc::now())),
        error: shown.error,
        siren_value: shown
            .siren_value
            .or_else(|| siren.clone())
            .unwrap_or_default(),
        siren,
        siren_error: shown.siren_error,
        notice: shown.notice,
        can_set_siren: auth.user.role == Role::Manager,
        locked_through,
        period_limit: t.period_limit(PERIOD_DAYS_MAX),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn accounting(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    accounting_page(&state, &auth, &viewer, StatusCode::OK, PageState::default()).await
}

/// Draws the accounting page again with the form as typed and the reason of the refusal.
async fn refused(
    state: &AppState,
    auth: &Auth,
    viewer: &Viewer,
    query: BooksQuery,
    status: StatusCode,
    message: String,
) -> AppResult<Response> {
    let shown = PageState {
        query: Some(query),
        error: Some(message),
        ..PageState::default()
    };
    accounting_page(state, auth, viewer, status, shown).await
}

async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<BooksQuery>,
) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    let chosen = choose(&state, &viewer, &query.member).await?;
    let t = auth.tr();
    let checked = query
        .format(t)
        .and_then(|format| Ok((format, query.period(t)?)));
    let (format, period) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&state, &auth, &viewer, query, status, message).await;
        }
    };
    let request = DownloadRequest {
        format,
        books: chosen.books(),
        period,
    };
    match download::download(&state.store, &state.downloads, request).await {
        Ok(download) => Ok(download.into_response()),
        Err(DownloadError::Store(error)) => Err(error.into()),
        Err(error) => {
            let message = t.download_error(&error);
            refused(&state, &auth, &viewer, query, error.status(), message).await
        }
    }
}

/// The directory entry of the chosen books' member, for the report builders.
async fn scope_of(
    state: &AppState,
    chosen: &Chosen,
) -> AppResult<(Scope, crate::export::source::Directory)> {
    let directory = state.store.export_directory().await?;
    let scope = match chosen {
        Chosen::Network => Scope::Network,
        Chosen::Member(m) => Scope::Member(
            directory
                .get(m.account())
                .cloned()
                .ok_or(AppError::NotFound)?,
        ),
    };
    Ok((scope, directory))
}

/// A report the store could not feed: the user's reason (422) or an internal error.
fn report_failure(failure: ExportFailure) -> Result<ExportError, AppError> {
    match failure {
        ExportFailure::Export(error @ ExportError::TooManyLines { .. }) => Ok(error),
        ExportFailure::Export(error) => Err(AppError::Internal(error.to_string())),
        ExportFailure::Store(error) => Err(error.into()),
    }
}

/// The heading every report carries.
struct ReportHead {
    books_name: String,
    books_siren: String,
    network_name: String,
    period: String,
    generated_at: String,
}

async fn report_head(
    state: &AppState,
    lang: Lang,
    scope: &Scope,
    period: Period,
) -> AppResult<ReportHead> {
    let network_name = state.store.network_name().await?.unwrap_or_default();
    let network_siren = state
        .store
        .network_siren()
        .await?
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let (books_name, books_siren) = match scope {
        Scope::Network => (network_name.clone(), network_siren),
        Scope::Member(info) => (info.name().to_owned(), info.aux_num()),
    };
    Ok(ReportHead {
        books_name,
        books_siren,
        network_name,
        period: format!("{} – {}", day(lang, period.from()), day(lang, period.to())),
        generated_at: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    })
}

/// Debit and credit columns of a signed balance (debit > 0).
struct Sides {
    debit: String,
    credit: String,
    minor: i64,
}

fn sides(lang: Lang, debit: i64) -> Sides {
    let show = |v: i64| {
        if v == 0 {
            String::new()
        } else {
            amount(lang, v)
        }
    };
    Sides {
        debit: show(debit.max(0)),
        credit: show((-debit).max(0)),
        minor: debit,
    }
}

struct TrialRowView {
    account: String,
    label: String,
    aux: String,
    aux_label: String,
    opening: Sides,
    debit: String,
    credit: String,
    debit_minor: i64,
    credit_minor: i64,
    closing: Sides,
}

#[derive(Template)]
#[template(path = "trial_balance.html")]
struct TrialBalanceTemplate {
    c: Chrome,
    head: ReportHead,
    rows: Vec<TrialRowView>,
    debit_total: String,
    credit_total: String,
    debit_total_minor: i128,
    credit_total_minor: i128,
}

fn trial_rows(lang: Lang, balance: &TrialBalance) -> Vec<TrialRowView> {
    balance
        .rows
        .iter()
        .map(|r| TrialRowView {
            account: r.account.num().to_owned(),
            label: r.account.label().to_owned(),
            aux: r.aux.as_ref().map(|a| a.num.clone()).unwrap_or_default(),
            aux_label: r.aux.as_ref().map(|a| a.label.clone()).unwrap_or_default(),
            opening: sides(lang, r.opening),
            debit: amount(lang, r.debit),
            credit: amount(lang, r.credit),
            debit_minor: r.debit,
            credit_minor: r.credit,
            closing: sides(lang, r.closing),
        })
        .collect()
}

fn amount_wide(lang: Lang, minor: i128) -> String {
    i64::try_from(minor)
        .map(|m| amount(lang, m))
        .unwrap_or_else(|_| minor.to_string())
}

async fn trial_balance(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<BooksQuery>,
) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    let chosen = choose(&state, &viewer, &query.member).await?;
    let t = auth.tr();
    let period = match query.period(t) {
        Ok(period) => period,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&state, &auth, &viewer, query, status, message).await;
        }
    };
    let (scope, directory) = scope_of(&state, &chosen).await?;
    let mapping = state.store.account_mapping().await?;
    let mut builder = TrialBalanceBuilder::new(&mapping, &scope, period);
    if let Err(failure) = state
        .store
        .feed(&scope, period, &directory, &mut builder, |_| {})
        .await
    {
        let error = report_failure(failure)?;
        let message = t.export_error(&error);
        return refused(
            &state,
            &auth,
            &viewer,
            query,
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        )
        .await;
    }
    let balance = builder
        .finish()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let head = report_head(&state, t.lang, &scope, period).await?;
    page(TrialBalanceTemplate {
        c: auth.chrome(),
        head,
        rows: trial_rows(t.lang, &balance),
        debit_total: amount_wide(t.lang, balance.debit_total),
        credit_total: amount_wide(t.lang, balance.credit_total),
        debit_total_minor: balance.debit_total,
        credit_total_minor: balance.credit_total,
    })
}

/// The member a statement or a summary is about: the viewer's own company, or the one a
/// network user chose (none chosen: the form again, 422).
async fn member_books(
    state: &AppState,
    auth: &Auth,
    viewer: &Viewer,
    query: &BooksQuery,
) -> AppResult<
    Result<
        (
            Member,
            std::sync::Arc<AccountInfo>,
            crate::export::source::Directory,
        ),
        String,
    >,
> {
    match choose(state, viewer, &query.member).await? {
        Chosen::Network => Ok(Err(auth.tr().choose_member().to_owned())),
        chosen @ Chosen::Member(_) => {
            let (scope, directory) = scope_of(state, &chosen).await?;
            let (Chosen::Member(member), Scope::Member(info)) = (chosen, scope) else {
                return Err(AppError::Internal("a member's books".into()));
            };
            Ok(Ok((*member, info, directory)))
        }
    }
}

struct StatementLineView {
    date: String,
    tx: String,
    kind: &'static str,
    counterparty: String,
    reference: String,
    memo: String,
    amount: String,
    amount_minor: i64,
    negative: bool,
    balance: String,
}

#[derive(Template)]
#[template(path = "member_statement.html")]
struct StatementTemplate {
    c: Chrome,
    head: ReportHead,
    member: Member,
    opening: String,
    opening_minor: i64,
    lines: Vec<StatementLineView>,
    credits: String,
    debits: String,
    closing: String,
    closing_minor: i64,
}

fn statement_lines(t: Tr, statement: &Statement) -> Vec<StatementLineView> {
    statement
        .lines
        .iter()
        .map(|l| StatementLineView {
            date: day(t.lang, l.date),
            tx: l.tx.to_string(),
            kind: t.tx_kind(l.kind),
            counterparty: l.counterparty.clone(),
            reference: l.reference.clone(),
            memo: l.memo.clone(),
            amount: amount(t.lang, l.amount),
            amount_minor: l.amount,
            negative: l.amount < 0,
            balance: amount(t.lang, l.balance),
        })
        .collect()
}

async fn statement(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<BooksQuery>,
) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    let t = auth.tr();
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let (member, info, directory) = match member_books(&state, &auth, &viewer, &query).await? {
        Ok(books) => books,
        Err(message) => {
            return refused(&state, &auth, &viewer, query, unprocessable, message).await
        }
    };
    let period = match query.period(t) {
        Ok(period) => period,
        Err(message) => {
            return refused(&state, &auth, &viewer, query, unprocessable, message).await
        }
    };
    let scope = Scope::Member(info.clone());
    let mut builder = StatementBuilder::new(info.id(), period);
    if let Err(failure) = state
        .store
        .feed(&scope, period, &directory, &mut builder, |_| {})
        .await
    {
        let message = t.export_error(&report_failure(failure)?);
        return refused(&state, &auth, &viewer, query, unprocessable, message).await;
    }
    let statement = builder.finish();
    page(StatementTemplate {
        c: auth.chrome(),
        head: report_head(&state, t.lang, &scope, period).await?,
        member,
        opening: amount(t.lang, statement.opening_balance),
        opening_minor: statement.opening_balance,
        lines: statement_lines(t, &statement),
        credits: amount(t.lang, statement.credits),
        debits: amount(t.lang, statement.debits),
        closing: amount(t.lang, statement.closing_balance),
        closing_minor: statement.closing_balance,
    })
}

/// One figure of the annual summary: its label, the amount shown, and the minor units (for
/// the tests and for anyone reading the page with a tool).
struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
    minor: i64,
}

#[derive(Template)]
#[template(path = "annual_summary.html")]
struct SummaryTemplate {
    c: Chrome,
    head: ReportHead,
    member: Member,
    year: String,
    figures: Vec<Figure>,
    transactions: u64,
    check_ok: bool,
    booking: String,
}

fn summary_figures(t: Tr, s: &MemberSummary) -> Vec<Figure> {
    let figure = |id, label, minor| Figure {
        id,
        label,
        value: amount(t.lang, minor),
        minor,
    };
    vec![
        figure("opening", t.opening_balance(), s.opening_balance),
        figure("sales", t.sales(), s.sales),
        figure("purchases", t.purchases(), s.purchases),
        figure("commissions", t.commissions(), s.commissions),
        figure("fees", t.fees(), s.fees),
        figure("fund", t.fund_contributions(), s.fund_contributions),
        figure("other", t.other_movements(), s.other),
        figure("closing", t.closing_balance(), s.closing_balance),
    ]
}

async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<BooksQuery>,
) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    let t = auth.tr();
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let (member, info, directory) = match member_books(&state, &auth, &viewer, &query).await? {
        Ok(books) => books,
        Err(message) => {
            return refused(&state, &auth, &viewer, query, unprocessable, message).await
        }
    };
    let period = match query.year(t) {
        Ok(period) => period,
        Err(message) => {
            return refused(&state, &auth, &viewer, query, unprocessable, message).await
        }
    };
    let scope = Scope::Member(info.clone());
    let mut builder = MemberSummaryBuilder::new(info.id(), period);
    if let Err(failure) = state
        .store
        .feed(&scope, period, &directory, &mut builder, |_| {})
        .await
    {
        let message = t.export_error(&report_failure(failure)?);
        return refused(&state, &auth, &viewer, query, unprocessable, message).await;
    }
    let summary = builder.finish();
    let mapping = state.store.account_mapping().await?;
    let booking = t.summary_booking_of(mapping.for_member(info.id()));
    page(SummaryTemplate {
        c: auth.chrome(),
        head: report_head(&state, t.lang, &scope, period).await?,
        member,
        year: period.from().year().to_string(),
        figures: summary_figures(t, &summary),
        transactions: summary.transactions,
        check_ok: summary.recomputed_closing() == summary.closing_balance,
        booking,
    })
}

#[derive(Deserialize)]
struct SirenForm {
    #[serde(default)]
    siren: String,
}

/// A manager sets the network operator's SIREN (Luhn-checked, action-logged).
async fn set_siren(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<SirenForm>,
) -> AppResult<Response> {
    auth.require(&[Role::Manager])?;
    let viewer = Viewer::Network;
    let t = auth.tr();
    let typed = form.siren.trim().to_owned();
    let siren = Some(typed.as_str())
        .filter(|s| people::siren_is_valid(s))
        .and_then(|s| Siren::new(s).ok());
    let Some(siren) = siren else {
        let shown = PageState {
            siren_error: Some(t.field_error(super::i18n::FieldError::InvalidSiren)),
            siren_value: Some(form.siren.clone()),
            ..PageState::default()
        };
        return accounting_page(
            &state,
            &auth,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            shown,
        )
        .await;
    };
    let note = ActionNote::new(
        Some(auth.user.id),
        &auth.user.email,
        crate::store::SIREN_ACTION,
        "",
    )?;
    state.store.set_network_siren(&siren, note).await?;
    let shown = PageState {
        notice: Some(t.network_siren_saved()),
        ..PageState::default()
    };
    accounting_page(&state, &auth, &viewer, StatusCode::OK, shown).await
}

/// Managers and the network accountant lock periods.
fn require_lockers(auth: &Auth) -> AppResult<()> {
    auth.require(&[Role::Manager, Role::Accountant])
}

#[derive(Debug, Clone, Default, Deserialize)]
struct LockForm {
    #[serde(default)]
    through: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "locks.html")]
struct LocksTemplate {
    c: Chrome,
    locks: Vec<LockView>,
    more: usize,
    values: LockForm,
    error: Option<String>,
    reason_error: Option<String>,
    notice: Option<&'static str>,
    reason_len_max: usize,
}

async fn locks_page(
    state: &AppState,
    auth: &Auth,
    values: LockForm,
    errors: (Option<String>, Option<String>),
    notice: Option<&'static str>,
) -> AppResult<Response> {
    let lang = auth.tr().lang;
    let (recent, total) = state.store.recent_period_locks(LOCKS_LISTED_MAX).await?;
    let more = total.saturating_sub(recent.len());
    let locks = recent
        .iter()
        .map(|(lock, actor)| lock_view(lang, lock, actor.clone()))
        .collect();
    let failed = errors.0.is_some() || errors.1.is_some();
    let mut response = page(LocksTemplate {
        c: auth.chrome(),
        locks,
        more,
        values,
        error: errors.0,
        reason_error: errors.1,
        notice,
        reason_len_max: ACTION_REASON_LEN_MAX,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn locks(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    require_lockers(&auth)?;
    locks_page(&state, &auth, LockForm::default(), (None, None), None).await
}

/// Checks a lock request; the date to lock, or the errors to show.
async fn check_lock(
    state: &AppState,
    t: Tr,
    form: &LockForm,
) -> AppResult<Result<NaiveDate, (Option<String>, Option<String>)>> {
    let reason_error = (form.reason.trim().chars().count() > ACTION_REASON_LEN_MAX).then(|| {
        t.field_error(super::i18n::FieldError::TooLong {
            max: ACTION_REASON_LEN_MAX,
        })
    });
    let through = NaiveDate::parse_from_str(form.through.trim(), "%Y-%m-%d");
    let date_error = match through {
        Err(_) => Some(t.field_error(super::i18n::FieldError::InvalidDate)),
        Ok(through) if through >= calendar::day_of(Utc::now()) => {
            Some(t.lock_not_over().to_owned())
        }
        Ok(through) => match state.store.locked_through().await? {
            Some(last) if last >= through => Some(t.lock_not_after(last)),
            _ => None,
        },
    };
    match (through, date_error, reason_error) {
        (Ok(through), None, None) => Ok(Ok(through)),
        (_, date, reason) => Ok(Err((date, reason))),
    }
}

#[derive(Template)]
#[template(path = "lock_confirm.html")]
struct LockConfirmTemplate {
    c: Chrome,
    values: LockForm,
    through: String,
}

/// First step: the form is checked and the consequences shown, with a confirmation button.
async fn lock_check(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<LockForm>,
) -> AppResult<Response> {
    require_lockers(&auth)?;
    let t = auth.tr();
    match check_lock(&state, t, &form).await? {
        Err(errors) => locks_page(&state, &auth, form, errors, None).await,
        Ok(through) => page(LockConfirmTemplate {
            c: auth.chrome(),
            through: day(t.lang, through),
            values: LockForm {
                through: through.format("%Y-%m-%d").to_string(),
                reason: form.reason.trim().to_owned(),
            },
        }),
    }
}

/// Second step: the lock, recorded in the action log with the user and the reason.
async fn lock_confirm(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<LockForm>,
) -> AppResult<Response> {
    require_lockers(&auth)?;
    let t = auth.tr();
    let through = match check_lock(&state, t, &form).await? {
        Ok(through) => through,
        Err(errors) => return locks_page(&state, &auth, form, errors, None).await,
    };
    let note = ActionNote::new(
        Some(auth.user.id),
        &auth.user.email,
        crate::store::LOCK_ACTION,
        &form.reason,
    )?;
    match state
        .store
        .lock_period_noted(through, note, Utc::now())
        .await
    {
        Ok(_) => {}
        // Another lock went in meanwhile: say so, with the form as typed.
        Err(StoreError::Invalid(_)) => {
            let last = state.store.locked_through().await?;
            let error = match last {
                Some(last) => t.lock_not_after(last),
                None => t.lock_not_over().to_owned(),
            };
            return locks_page(&state, &auth, form, (Some(error), None), None).await;
        }
        Err(error) => return Err(error.into()),
    }
    locks_page(
        &state,
        &auth,
        LockForm::default(),
        (None, None),
        Some(t.lock_done()),
    )
    .await
}
