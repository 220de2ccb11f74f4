//! The network manager's console, members and credit limits: the domain layer shared by the
//! web pages (`http::console`) and the JSON API.
//!
//! Every function takes the [`Actor`] doing it, checks the actor's role, validates its input
//! into typed [`FieldIssue`]s (never sentences: a page words them in the user's language, an
//! API maps them to stable codes), and records the action in the action log: ledger actions
//! through `Submission::noted` (written in the batch that decides them, only if accepted),
//! other actions with `action_log::insert_action` inside the same database transaction as
//! the change. Money moves only through the store's write path. See `docs/console.md`.

/// The action log's connection for a transaction of either backend (inside `dispatch!`).
macro_rules! conn_of {
    ($tx:ident) => {
        $crate::store::action_log::Conn::from(&mut *$tx)
    };
}

pub mod applications;
pub mod categories;
pub mod departures;
pub mod disputes;
pub mod history;
pub mod import;
pub mod limit_requests;
pub mod members;
pub mod reversals;
pub mod reviews;
pub mod settings;
pub mod suggest;

mod batch;

use ledger::{Amount, IdempotencyKey, Rejection};

use crate::people::{Role, User};
use crate::store::{ActionNote, StoreError};

#[doc(hidden)]
pub use batch::write_interrupted_for_tests;
pub use batch::{finish_batch, unfinished_batches, BatchSource, UnfinishedBatch};
pub use members::{check_profile, CreatedMember, Invitation, NewMember};

/// Highest credit limit or upper limit a manager may grant (and a category may default to).
pub const LIMIT_MAX: Amount = Amount::from_units(10_000_000);
/// Highest declared annual turnover accepted (a typo guard, 10 billion units).
pub const TURNOVER_MAX: Amount = Amount::from_units(10_000_000_000);
/// Longest reason for an action, in characters (the ledger's and the action log's limit).
pub const REASON_LEN_MAX: usize = ledger::REASON_LEN_MAX;
/// Longest idempotency part a caller passes in a [`RequestKey`], in characters.
pub const REQUEST_KEY_LEN_MAX: usize = 64;

/// Who acts: a network manager (may act) or accountant (may read). Built from the logged-in
/// user by the web pages and from the API token's user by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: i64,
    email: String,
    role: Role,
}

impl Actor {
    pub fn new(user_id: i64, email: &str, role: Role) -> Actor {
        Actor {
            user_id,
            email: email.to_owned(),
            role,
        }
    }

    pub fn from_user(user: &User) -> Actor {
        Actor::new(user.id, &user.email, user.role)
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }
    pub fn email(&self) -> &str {
        &self.email
    }
    pub fn role(&self) -> Role {
        self.role
    }

    /// Acting (changing anything) is for network managers only.
    pub fn require_manager(&self) -> Result<(), ConsoleError> {
        if self.role == Role::Manager {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// Reading the console is for managers and the network's accountants.
    pub fn require_reader(&self) -> Result<(), ConsoleError> {
        if matches!(self.role, Role::Manager | Role::Accountant) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// An action-log note by this actor.
    pub(crate) fn note(&self, action: &str, reason: &str) -> Result<ActionNote, ConsoleError> {
        Ok(ActionNote::new(
            Some(self.user_id),
            &self.email,
            action,
            reason,
        )?)
    }
}

/// The part of an idempotency key a caller controls: a web form's random token, or an API
/// client's `Idempotency-Key`. The console builds the ledger key from it and the target
/// (`console-limits-MEMBER-REQUEST`), so one request retried never acts twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey(String);

impl RequestKey {
    /// 1 to [`REQUEST_KEY_LEN_MAX`] characters of `A-Z a-z 0-9 - _ .`.
    pub fn new(text: &str) -> Result<RequestKey, ConsoleError> {
        let ok = !text.is_empty()
            && text.len() <= REQUEST_KEY_LEN_MAX
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(RequestKey(text.to_owned()))
        } else {
            Err(ConsoleError::invalid(
                Field::RequestKey,
                Problem::InvalidChoice,
            ))
        }
    }

    /// A fresh random key (a request that is not retried).
    pub fn random() -> RequestKey {
        RequestKey(crate::people::random_token())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn ledger_key(&self, action: &str, member_id: i64) -> IdempotencyKey {
        IdempotencyKey::new(format!("console-{action}-{member_id}-{}", self.0))
            .expect("a console key is short visible ASCII")
    }
}

/// Which member an action is about: by member id (pages) or by ledger account id (the API's
/// `/accounts/{id}` routes). An account that is not a member's answers `NotFound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Member(i64),
    Account(ledger::AccountId),
}

/// A form or API field, with its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Siren,
    Email,
    Category,
    CreditLimit,
    MaxBalance,
    OpeningBalance,
    Turnover,
    Reason,
    ReviewDate,
    Address,
    City,
    Postcode,
    Sector,
    Description,
    Contact,
    Message,
    Code,
    /// The review rules' and suggested limit's settings, one field each.
    NearLimitPct,
    NegativeDays,
    GrowthMonths,
    TurnoverShareBp,
    SalesMonths,
    SalesShareBp,
    File,
    RequestKey,
    /// A standing order's fields (`crate::standing`).
    Payee,
    Amount,
    Every,
    FirstDate,
    EndDate,
    /// An invoice's VAT rate (`crate::invoices`).
    VatRate,
    /// The balance a departure's closing moves (`departures::close_leaving`).
    Balance,
    /// The payee's answer to a dispute (`disputes::reply`).
    Reply,
    /// A manager's decision on a dispute, `reverse` or `dismiss` (`disputes::decide`).
    Decision,
    /// An invoice's lines as a whole (`crate::invoices`): their number, their sum.
    Lines,
    /// The legal mentions a company's invoices carry (`invoices::set_mentions`).
    Mentions,
    /// A webhook's address (`crate::webhooks`).
    Url,
    /// Who the network requires two-step login of (`settings::set_two_step_rule`).
    TwoStepRule,
    /// An announcement's title and last day shown (`crate::news`; its text is `Message`).
    Title,
    ShownUntil,
    /// An outside invoice's debtor, number and due day (`crate::setoff`).
    Debtor,
    Number,
    DueOn,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Siren => "siren",
            Field::Email => "email",
            Field::Category => "category",
            Field::CreditLimit => "credit_limit",
            Field::MaxBalance => "max_balance",
            Field::OpeningBalance => "opening_balance",
            Field::Turnover => "declared_turnover",
            Field::Reason => "reason",
            Field::ReviewDate => "next_review",
            Field::Address => "address",
            Field::City => "city",
            Field::Postcode => "postcode",
            Field::Sector => "sector",
            Field::Description => "description",
            Field::Contact => "contact",
            Field::Message => "message",
            Field::Code => "code",
            Field::NearLimitPct => "near_limit_pct",
            Field::NegativeDays => "negative_days",
            Field::GrowthMonths => "growth_months",
            Field::TurnoverShareBp => "turnover_share_bp",
            Field::SalesMonths => "sales_months",
            Field::SalesShareBp => "sales_share_bp",
            Field::File => "file",
            Field::RequestKey => "idempotency_key",
            Field::Payee => "payee",
            Field::Amount => "amount",
            Field::Balance => "balance",
            Field::Reply => "reply",
            Field::Decision => "decision",
            Field::Every => "every",
            Field::FirstDate => "first_date",
            Field::EndDate => "end_date",
            Field::VatRate => "vat_bp",
            Field::Lines => "lines",
            Field::Mentions => "mentions",
            Field::Url => "url",
            Field::TwoStepRule => "rule",
            Field::Title => "title",
            Field::ShownUntil => "shown_until",
            Field::Debtor => "debtor",
            Field::Number => "number",
            Field::DueOn => "due_on",
        }
    }
}

/// What is wrong with a field (or a file, or a line of it). Data, not words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    InvalidSiren,
    SirenTaken,
    SirenPending,
    InvalidEmail,
    EmailTaken,
    InvalidAmount,
    NegativeAmount,
    AmountAboveMax {
        max: Amount,
    },
    /// Above the payment limit the company's owner set for this staff user.
    OverPaymentMax {
        max: Amount,
    },
    /// Above the limit per month the company's owner set for this staff user.
    OverMonthMax {
        max: Amount,
    },
    UnknownCategory,
    InvalidPostcode,
    InvalidChoice,
    InvalidDate,
    OutOfRange {
        min: i64,
        max: i64,
    },
    InvalidCode,
    CodeTaken,
    /// The same SIREN or email as an earlier line of the file.
    DuplicateInFile {
        line: u64,
    },
    /// A negative opening balance beyond the member's credit limit.
    OpeningDebtAboveLimit {
        limit: Amount,
    },
    /// A positive opening balance above the member's upper limit.
    OpeningAboveMax {
        max: Amount,
    },
    /// The file as a whole.
    FileTooLarge {
        max: usize,
    },
    TooManyLines {
        max: usize,
    },
    NoLines,
    NotUtf8,
    MissingColumn {
        column: &'static str,
    },
    UnknownColumn {
        column: String,
    },
    MalformedLine,
    /// The ledger refused this line's operation when it was written.
    Rejected(Rejection),
    /// The value asked is the one already in force.
    SameAsCurrent,
    /// A decision on something the request did not ask for (a limit request's grant).
    NotAsked,
    /// Not the account's balance now (a departure's closing confirms the balance it moves).
    NotTheBalance,
    /// An invoice's lines add up to `sum`, not to the payment's `expected`.
    LinesDoNotAddUp {
        sum: Amount,
        expected: Amount,
    },
    /// Not an address the server may post to (`https://` and a host; no user or password).
    InvalidUrl,
    /// The address names this machine or a private network.
    PrivateAddress,
}

impl Problem {
    /// A stable machine code (API problem details).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::TooLong { .. } => "too_long",
            Problem::InvalidSiren => "invalid_siren",
            Problem::SirenTaken => "siren_taken",
            Problem::SirenPending => "siren_pending",
            Problem::InvalidEmail => "invalid_email",
            Problem::EmailTaken => "email_taken",
            Problem::InvalidAmount => "invalid_amount",
            Problem::NegativeAmount => "negative_amount",
            Problem::AmountAboveMax { .. } => "amount_above_max",
            Problem::OverPaymentMax { .. } => "over_payment_limit",
            Problem::OverMonthMax { .. } => "over_month_limit",
            Problem::UnknownCategory => "unknown_category",
            Problem::InvalidPostcode => "invalid_postcode",
            Problem::InvalidChoice => "invalid_choice",
            Problem::InvalidDate => "invalid_date",
            Problem::OutOfRange { .. } => "out_of_range",
            Problem::InvalidCode => "invalid_code",
            Problem::CodeTaken => "code_taken",
            Problem::DuplicateInFile { .. } => "duplicate_in_file",
            Problem::OpeningDebtAboveLimit { .. } => "opening_debt_above_limit",
            Problem::OpeningAboveMax { .. } => "opening_above_max",
            Problem::FileTooLarge { .. } => "file_too_large",
            Problem::TooManyLines { .. } => "too_many_lines",
            Problem::NoLines => "no_lines",
            Problem::NotUtf8 => "not_utf8",
            Problem::MissingColumn { .. } => "missing_column",
            Problem::UnknownColumn { .. } => "unknown_column",
            Problem::MalformedLine => "malformed_line",
            Problem::Rejected(rejection) => rejection.code(),
            Problem::SameAsCurrent => "same_as_current",
            Problem::NotAsked => "not_asked",
            Problem::NotTheBalance => "not_the_balance",
            Problem::LinesDoNotAddUp { .. } => "lines_do_not_add_up",
            Problem::InvalidUrl => "invalid_url",
            Problem::PrivateAddress => "private_address",
        }
    }
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: Field,
    pub problem: Problem,
    /// The line of a list the field belongs to (an invoice's lines, from 1); `None` for a
    /// form's own fields.
    pub line: Option<u64>,
}

/// One problem of an imported file: on a line (numbered from 1, the header being line 1) or
/// on the whole file (`line: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    pub line: Option<u64>,
    pub field: Option<Field>,
    pub problem: Problem,
}

/// A state that forbids the action (not a field's fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The application was approved or refused already.
    AlreadyDecided,
    /// The creation batch is not waiting to be finished.
    BatchNotUnfinished,
    /// Too many applications wait for a decision; the public form asks to try later.
    TooManyPending,
    /// The credit-limit request was granted, declined or withdrawn already.
    LimitRequestDecided,
    /// The member has a credit-limit request waiting already.
    LimitRequestPending,
    /// The member made as many credit-limit requests as it may in 30 days.
    TooManyLimitRequests,
    /// The member gave notice already and it waits.
    DeparturePending,
    /// The notice was withdrawn, or the account closed, already.
    DepartureDecided,
    /// The member gave as many notices as it may in 30 days.
    TooManyDepartures,
    /// A leaving member's account is in debt: it sells, or is written off.
    DepartureInDebt,
    /// A leaving member still has orders to pay or to deliver.
    OrdersUnderWay,
    /// The payment has an open dispute already.
    DisputeOpen,
    /// The dispute was withdrawn, refunded, reversed or dismissed already (a dismissed
    /// dispute is final for its payment).
    DisputeDecided,
    /// The member opened as many disputes as it may in 30 days.
    TooManyDisputes,
    /// The payment is too old to be disputed.
    DisputeTooLate,
    /// The member has as many active standing orders as it may.
    TooManyStandingOrders,
    /// The standing order was cancelled or finished already.
    StandingOrderEnded,
    /// The payment has an invoice already.
    AlreadyInvoiced,
    /// The payment was refunded: it is no sale to invoice.
    PaymentRefunded,
    /// The seller issued as many invoices this year as its numbers allow.
    TooManyInvoices,
    /// The invoice has its credit note already.
    AlreadyCredited,
    /// A credit note is not credited in turn.
    NotCreditable,
    /// The invoice's payment was not refunded: nothing to cancel.
    PaymentNotRefunded,
    /// The row's transaction (or invoice) was numbered by another request at the same time
    /// (`invoices`, which tells which of the conflicts above it is).
    AlreadyNumbered,
    /// The company has as many webhooks as it may.
    TooManyWebhooks,
    /// The network shows as many announcements as it may (`news::CURRENT_MAX`).
    TooManyAnnouncements,
    /// The announcement was withdrawn already.
    AnnouncementWithdrawn,
    /// The creditor declared an outside invoice with this number already.
    InvoiceNumberTaken,
    /// The company has as many outside invoices waiting or owed as it may
    /// (`setoff::OPEN_PER_MEMBER_MAX`).
    TooManyOutsideInvoices,
    /// The outside invoice was answered, closed or cleared already.
    OutsideInvoiceDecided,
    /// No set-off can cancel anything on the confirmed invoices now.
    NothingToSetOff,
}

/// Why a console action did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("only network managers may do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldIssue>),
    #[error("invalid file: {} problem(s)", .0.len())]
    InvalidFile(Vec<LineIssue>),
    #[error("the ledger refused: {0}")]
    Rejected(Rejection),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ConsoleError {
    fn from(error: sqlx::Error) -> ConsoleError {
        ConsoleError::Store(StoreError::Database(error))
    }
}

impl ConsoleError {
    pub fn invalid(field: Field, problem: Problem) -> ConsoleError {
        ConsoleError::Invalid(vec![FieldIssue {
            field,
            problem,
            line: None,
        }])
    }

    /// A stable machine code: `forbidden`, `not_found`, `invalid`, `invalid_file`, the
    /// ledger rejection's own code, `already_decided`, `batch_not_unfinished`, `too_many_pending`,
    /// `already_pending`, `too_many_limit_requests`, `too_many_departures`, `in_debt`,
    /// `orders_under_way`, `already_disputed`, `too_many_disputes`, `too_late`,
    /// `too_many_standing_orders`,
    /// `standing_order_ended`, `already_invoiced`, `payment_refunded`, `too_many_invoices`,
    /// `already_credited`, `not_creditable`, `payment_not_refunded`, `already_numbered`,
    /// `too_many_webhooks`, `too_many_announcements`, `already_withdrawn`, `already_declared`,
    /// `too_many_outside_invoices`, `nothing_to_set_off`, `store_error`.
    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::Forbidden => "forbidden",
            ConsoleError::NotFound => "not_found",
            ConsoleError::Invalid(_) => "invalid",
            ConsoleError::InvalidFile(_) => "invalid_file",
            ConsoleError::Rejected(rejection) => rejection.code(),
            ConsoleError::Conflict(Conflict::AlreadyDecided) => "already_decided",
            ConsoleError::Conflict(Conflict::BatchNotUnfinished) => "batch_not_unfinished",
            ConsoleError::Conflict(Conflict::TooManyPending) => "too_many_pending",
            ConsoleError::Conflict(Conflict::LimitRequestDecided) => "already_decided",
            ConsoleError::Conflict(Conflict::LimitRequestPending) => "already_pending",
            ConsoleError::Conflict(Conflict::TooManyLimitRequests) => "too_many_limit_requests",
            ConsoleError::Conflict(Conflict::DeparturePending) => "already_pending",
            ConsoleError::Conflict(Conflict::DepartureDecided) => "already_decided",
            ConsoleError::Conflict(Conflict::TooManyDepartures) => "too_many_departures",
            ConsoleError::Conflict(Conflict::DepartureInDebt) => "in_debt",
            ConsoleError::Conflict(Conflict::OrdersUnderWay) => "orders_under_way",
            ConsoleError::Conflict(Conflict::DisputeOpen) => "already_disputed",
            ConsoleError::Conflict(Conflict::DisputeDecided) => "already_decided",
            ConsoleError::Conflict(Conflict::TooManyDisputes) => "too_many_disputes",
            ConsoleError::Conflict(Conflict::DisputeTooLate) => "too_late",
            ConsoleError::Conflict(Conflict::TooManyStandingOrders) => "too_many_standing_orders",
            ConsoleError::Conflict(Conflict::StandingOrderEnded) => "standing_order_ended",
            ConsoleError::Conflict(Conflict::AlreadyInvoiced) => "already_invoiced",
            ConsoleError::Conflict(Conflict::PaymentRefunded) => "payment_refunded",
            ConsoleError::Conflict(Conflict::TooManyInvoices) => "too_many_invoices",
            ConsoleError::Conflict(Conflict::AlreadyCredited) => "already_credited",
            ConsoleError::Conflict(Conflict::NotCreditable) => "not_creditable",
            ConsoleError::Conflict(Conflict::PaymentNotRefunded) => "payment_not_refunded",
            ConsoleError::Conflict(Conflict::AlreadyNumbered) => "already_numbered",
            ConsoleError::Conflict(Conflict::TooManyWebhooks) => "too_many_webhooks",
            ConsoleError::Conflict(Conflict::TooManyAnnouncements) => "too_many_announcements",
            ConsoleError::Conflict(Conflict::AnnouncementWithdrawn) => "already_withdrawn",
            ConsoleError::Conflict(Conflict::InvoiceNumberTaken) => "already_declared",
            ConsoleError::Conflict(Conflict::TooManyOutsideInvoices) => "too_many_outside_invoices",
            ConsoleError::Conflict(Conflict::OutsideInvoiceDecided) => "already_decided",
            ConsoleError::Conflict(Conflict::NothingToSetOff) => "nothing_to_set_off",
            ConsoleError::Store(_) => "store_error",
        }
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

/// Only `member`'s owner may do it (ask for limits, give notice of departure): it commits
/// the company. Anyone else is `Forbidden`.
pub(crate) fn require_owner(
    user: &crate::people::User,
    member: &crate::people::Member,
) -> ConsoleResult<()> {
    if user.role == crate::people::Role::Owner && user.member_id == Some(member.id) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// The id an `INSERT ... RETURNING id` gave, or `refusal` when a unique index refused the
/// row (two requests at once: the index keeps one); any other failure is the store's.
pub(crate) fn inserted_or(
    inserted: Result<i64, sqlx::Error>,
    refusal: ConsoleError,
) -> ConsoleResult<i64> {
    match inserted {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(refusal),
        Err(error) => Err(error.into()),
    }
}

/// Collects field issues while a form is checked.
#[derive(Debug, Default)]
pub(crate) struct Issues(Vec<FieldIssue>);

impl Issues {
    pub(crate) fn add(&mut self, field: Field, problem: Problem) {
        self.0.push(FieldIssue {
            field,
            problem,
            line: None,
        });
    }

    /// A problem of `field` on line `line` (from 1) of a list.
    pub(crate) fn add_on_line(&mut self, line: u64, field: Field, problem: Problem) {
        self.0.push(FieldIssue {
            field,
            problem,
            line: Some(line),
        });
    }

    pub(crate) fn has(&self, field: Field) -> bool {
        self.0.iter().any(|i| i.field == field)
    }

    pub(crate) fn into_vec(self) -> Vec<FieldIssue> {
        self.0
    }

    pub(crate) fn finish(self) -> ConsoleResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConsoleError::Invalid(self.0))
        }
    }

    /// Checks a required text of at most `max` characters; returns it trimmed.
    pub(crate) fn text(&mut self, field: Field, text: &str, max: usize) -> String {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.add(field, Problem::Required);
        } else if trimmed.chars().count() > max {
            self.add(field, Problem::TooLong { max });
        }
        trimmed.to_owned()
    }

    /// Checks an optional text of at most `max` characters; returns it trimmed.
    pub(crate) fn optional_text(&mut self, field: Field, text: &str, max: usize) -> String {
        let trimmed = text.trim();
        if trimmed.chars().count() > max {
            self.add(field, Problem::TooLong { max });
        }
        trimmed.to_owned()
    }

    /// Checks a limit: 0 to [`LIMIT_MAX`].
    pub(crate) fn limit(&mut self, field: Field, amount: Amount) {
        if amount.is_negative() {
            self.add(field, Problem::NegativeAmount);
        } else if amount > LIMIT_MAX {
            self.add(field, Problem::AmountAboveMax { max: LIMIT_MAX });
        }
    }

    /// Checks the reason of an action: required, at most [`REASON_LEN_MAX`] characters.
    pub(crate) fn reason(&mut self, reason: &str) -> String {
        self.text(Field::Reason, reason, REASON_LEN_MAX)
    }
}

/// Parses an amount typed in a form or a file ("1 234,50", "1234.50"); `None` when empty.
pub fn parse_amount(text: &str) -> Result<Option<Amount>, Problem> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Amount::parse_signed(text.trim())
        .map(Some)
        .map_err(|_| Problem::InvalidAmount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_are_short_and_plain() {
        assert!(RequestKey::new(&"a".repeat(REQUEST_KEY_LEN_MAX)).is_ok());
        assert!(RequestKey::new(&"a".repeat(REQUEST_KEY_LEN_MAX + 1)).is_err());
        assert!(RequestKey::new("").is_err());
        assert!(RequestKey::new("a b").is_err());
        let key = RequestKey::new("abc-1").unwrap().ledger_key("limits", 7);
        assert_eq!(key.as_str(), "console-limits-7-abc-1");
        // The longest console key fits in an idempotency key.
        let long = RequestKey::new(&"a".repeat(REQUEST_KEY_LEN_MAX)).unwrap();
        long.ledger_key("unfreeze", i64::MAX);
    }

    #[test]
    fn roles() {
        let manager = Actor::new(1, "g@x.fr", Role::Manager);
        let accountant = Actor::new(2, "c@x.fr", Role::Accountant);
        let owner = Actor::new(3, "o@x.fr", Role::Owner);
        assert!(manager.require_manager().is_ok());
        assert!(accountant.require_manager().is_err());
        assert!(accountant.require_reader().is_ok());
        assert!(owner.require_reader().is_err());
        assert!(Actor::new(4, "s@x.fr", Role::Staff)
            .require_reader()
            .is_err());
    }

    #[test]
    fn issues_check_texts_and_limits() {
        let mut issues = Issues::default();
        assert_eq!(issues.text(Field::Name, "  Alpha ", 5), "Alpha");
        assert!(issues.0.is_empty());
        issues.text(Field::Name, "Alphas", 5);
        issues.limit(Field::CreditLimit, LIMIT_MAX);
        assert_eq!(issues.0.len(), 1);
        issues.limit(
            Field::CreditLimit,
            Amount::from_minor(LIMIT_MAX.minor() + 1),
        );
        issues.limit(Field::MaxBalance, Amount::from_minor(-1));
        let problems: Vec<_> = issues.into_vec().into_iter().map(|i| i.problem).collect();
        assert_eq!(
            problems,
            vec![
                Problem::TooLong { max: 5 },
                Problem::AmountAboveMax { max: LIMIT_MAX },
                Problem::NegativeAmount
            ]
        );
    }
}
