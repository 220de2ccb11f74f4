//! Accountant exports: FEC, hledger journal, Beancount, CSV and OFX, streamed to any
//! [`std::io::Write`].
//!
//! The model is small on purpose: an [`ExportEntry`] is one committed ledger transaction with
//! its postings, each posting carrying what the books need about its account (kind, and for
//! members the SIREN and name). A source (the in-memory [`ledger::Ledger`] through
//! [`source`], or the store) feeds entries to an [`Exporter`] in (time, id) order:
//! first the history before the period with [`Exporter::carry`] (nothing is written; it
//! builds the opening balances), then the period's entries with [`Exporter::push`].
//! Memory stays proportional to the number of accounts, never to the number of postings.
//!
//! Booking rules (which PCG account, which sign) live in [`book`] and [`mapping`]; the
//! writers only format. `docs/exports.md` explains the choices.

mod beancount;
pub mod book;
pub mod calendar;
mod csv;
pub mod download;
mod fec;
mod journal;
pub mod mapping;
mod ofx;
pub mod reports;
pub mod run;
pub mod source;
mod text;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ledger::{AccountId, AccountKind, Amount, Leg, TxId, TxKind};

pub use book::{BookedEntry, Booker, Journal, Line};
pub use csv::{CsvOptions, DateStyle, DecimalMark, CSV_COLUMNS};
pub use fec::FEC_FIELDS;
pub use mapping::{AccountMapping, GlAccount, MemberMapping, OperatorMapping};

/// Longest period one export may cover, in days (ten years).
pub const PERIOD_DAYS_MAX: i64 = 3_660;
/// Longest network or company name, in characters.
pub const NAME_LEN_MAX: usize = 200;
/// Most period locks an export header may carry.
pub const LOCKS_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("invalid SIREN {0:?}: a SIREN is exactly 9 digits")]
    InvalidSiren(String),
    #[error("invalid period: {from} is after {to}")]
    InvalidPeriod { from: NaiveDate, to: NaiveDate },
    #[error("the period is longer than {max} days")]
    PeriodTooLong { max: i64 },
    #[error("invalid name: 1 to {max} characters")]
    InvalidName { max: usize },
    #[error("invalid account number {0:?}: 3 to 20 letters or digits starting with 3 PCG digits (class 1 to 8)")]
    InvalidAccountNumber(String),
    #[error("invalid label for account {num}: 1 to {max} characters")]
    InvalidAccountLabel { num: String, max: usize },
    #[error("invalid account mapping: {0}")]
    InvalidMapping(String),
    #[error("at most {max} per-member mappings")]
    TooManyOverrides { max: usize },
    #[error("period locks must be given in order, each later than the one before, at most {max}")]
    InvalidLocks { max: usize },
    #[error("the period is not locked through {to}: a FEC needs the validation date of every entry (lock the period first)")]
    NotLocked { to: NaiveDate },
    #[error("an OFX statement is for one member's account: choose a member")]
    OfxNeedsMember,
    #[error("account {0} is not a member account")]
    NotAMember(AccountId),
    #[error("transaction {tx} is dated {date}, outside the period {from} to {to}")]
    OutOfPeriod {
        tx: TxId,
        date: NaiveDate,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("transaction {tx} came out of (time, id) order")]
    OutOfOrder { tx: TxId },
    #[error("transaction {tx} is not balanced or has no postings")]
    Unbalanced { tx: TxId },
    #[error("history before the period was given after the period's first entry")]
    CarryAfterStart,
    #[error("amounts overflow")]
    Overflow,
    #[error("more than {max} lines: choose a shorter period")]
    TooManyLines { max: usize },
    #[error("write error: {0}")]
    Io(#[from] std::io::Error),
}

pub type ExportResult<T> = Result<T, ExportError>;

/// A French company number (SIREN): exactly 9 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Siren(String);

impl Siren {
    pub fn new(text: &str) -> ExportResult<Siren> {
        if text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Siren(text.to_owned()))
        } else {
            Err(ExportError::InvalidSiren(text.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn checked_name(name: &str) -> ExportResult<String> {
    let name = text::one_line(name, &[]);
    let len = name.chars().count();
    if len == 0 || len > NAME_LEN_MAX {
        return Err(ExportError::InvalidName { max: NAME_LEN_MAX });
    }
    Ok(name)
}

/// What the books need to know about a ledger account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    id: AccountId,
    kind: AccountKind,
    siren: Option<Siren>,
    name: String,
}

impl AccountInfo {
    /// A member company's account.
    pub fn member(id: AccountId, siren: Option<Siren>, name: &str) -> ExportResult<AccountInfo> {
        Ok(AccountInfo {
            id,
            kind: AccountKind::Member,
            siren,
            name: checked_name(name)?,
        })
    }

    /// One of the network's system accounts, named after its kind.
    pub fn system(id: AccountId, kind: AccountKind) -> AccountInfo {
        let name = match kind {
            AccountKind::Member => "Membre",
            AccountKind::GuaranteeFund => "Fonds de garantie",
            AccountKind::Fees => "Frais et commissions",
            AccountKind::Losses => "Pertes",
            AccountKind::Migration => "Reprises et recouvrements",
        };
        AccountInfo {
            id,
            kind,
            siren: None,
            name: name.to_owned(),
        }
    }

    pub fn id(&self) -> AccountId {
        self.id
    }
    pub fn kind(&self) -> AccountKind {
        self.kind
    }
    pub fn siren(&self) -> Option<&Siren> {
        self.siren.as_ref()
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The auxiliary account number: the SIREN, or `M<id>` for a member without one.
    pub fn aux_num(&self) -> String {
        match &self.siren {
            Some(siren) => siren.as_str().to_owned(),
            None => format!("M{}", self.id),
        }
    }
}

/// One posting of an exported transaction (amount signed: credit to the account > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPosting {
    pub account: Arc<AccountInfo>,
    pub amount: Amount,
    pub leg: Leg,
}

/// One committed ledger transaction, ready for the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEntry {
    pub tx: TxId,
    pub kind: TxKind,
    pub time: DateTime<Utc>,
    pub reference: String,
    pub memo: String,
    pub reverses: Option<TxId>,
    /// The number of the invoice (or credit note) issued in Troc for this transaction, if
    /// any (`crate::invoices`): the entry's piece reference then.
    pub invoice: Option<String>,
    pub postings: Vec<ExportPosting>,
}

impl ExportEntry {
    /// The booking date: the transaction's day in the network's calendar ([`calendar`]),
    /// the same calendar as period boundaries and locks, so that an entry never falls
    /// between two periods.
    pub fn date(&self) -> NaiveDate {
        calendar::day_of(self.time)
    }

    fn check_balanced(&self) -> ExportResult<()> {
        let sum: i128 = self
            .postings
            .iter()
            .map(|p| i128::from(p.amount.minor()))
            .sum();
        if self.postings.len() < 2 || sum != 0 {
            return Err(ExportError::Unbalanced { tx: self.tx });
        }
        Ok(())
    }

    /// The net amount on `account` (credit > 0).
    pub fn net_for(&self, account: AccountId) -> i64 {
        self.postings
            .iter()
            .filter(|p| p.account.id == account)
            .map(|p| p.amount.minor())
            .sum()
    }
}

/// An inclusive range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> ExportResult<Period> {
        if from > to {
            return Err(ExportError::InvalidPeriod { from, to });
        }
        if (to - from).num_days() + 1 > PERIOD_DAYS_MAX {
            return Err(ExportError::PeriodTooLong {
                max: PERIOD_DAYS_MAX,
            });
        }
        Ok(Period { from, to })
    }
    pub fn from(&self) -> NaiveDate {
        self.from
    }
    pub fn to(&self) -> NaiveDate {
        self.to
    }
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A locked period: nothing may be dated on or before `through` any more. `locked_at` is
/// when the lock was made, the entries' validation date (FEC ValidDate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodLock {
    pub through: NaiveDate,
    pub locked_at: DateTime<Utc>,
}

/// Whose books: the whole network (the operator's) or one member company's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Network,
    Member(Arc<AccountInfo>),
}

/// Everything about an export except its entries.
#[derive(Debug, Clone)]
pub struct ExportHeader {
    network_siren: Siren,
    network_name: String,
    period: Period,
    scope: Scope,
    locks: Vec<PeriodLock>,
    generated_at: DateTime<Utc>,
}

impl ExportHeader {
    /// `locks` in order (each `through` and `locked_at` later than the previous one).
    /// `generated_at` is passed in so that the same export is byte-for-byte reproducible.
    pub fn new(
        network_siren: Siren,
        network_name: &str,
        period: Period,
        scope: Scope,
        locks: Vec<PeriodLock>,
        generated_at: DateTime<Utc>,
    ) -> ExportResult<ExportHeader> {
        let ordered = locks
            .windows(2)
            .all(|w| w[0].through < w[1].through && w[0].locked_at <= w[1].locked_at);
        if !ordered || locks.len() > LOCKS_MAX {
            return Err(ExportError::InvalidLocks { max: LOCKS_MAX });
        }
        if let Scope::Member(info) = &scope {
            if info.kind != AccountKind::Member {
                return Err(ExportError::NotAMember(info.id));
            }
        }
        Ok(ExportHeader {
            network_siren,
            network_name: checked_name(network_name)?,
            period,
            scope,
            locks,
            generated_at,
        })
    }

    pub fn period(&self) -> Period {
        self.period
    }
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    pub fn network_siren(&self) -> &Siren {
        &self.network_siren
    }
    pub fn network_name(&self) -> &str {
        &self.network_name
    }

    /// The SIREN whose books these are (the FEC file name's prefix).
    pub fn books_siren(&self) -> String {
        match &self.scope {
            Scope::Network => self.network_siren.0.clone(),
            Scope::Member(info) => info.aux_num(),
        }
    }

    pub fn books_name(&self) -> &str {
        match &self.scope {
            Scope::Network => &self.network_name,
            Scope::Member(info) => &info.name,
        }
    }

    /// The date an entry dated `date` became irreversible: the day of the first lock that
    /// covers it.
    pub fn valid_date(&self, date: NaiveDate) -> Option<NaiveDate> {
        let index = self.locks.partition_point(|lock| lock.through < date);
        self.locks
            .get(index)
            .map(|lock| calendar::day_of(lock.locked_at))
    }

    /// The file name of an export in `format`: the FEC's legal name, or
    /// `<SIREN>-<AAAAMMJJ>-<AAAAMMJJ>.<extension>` (the books' SIREN, the period).
    pub fn file_name(&self, format: Format) -> String {
        match format {
            Format::Fec => self.fec_file_name(),
            other => format!(
                "{}-{}-{}.{}",
                self.books_siren(),
                text::compact_date(self.period.from),
                text::compact_date(self.period.to),
                other.extension()
            ),
        }
    }

    /// The legal FEC file name: `<SIREN>FEC<closing date AAAAMMJJ>.txt`.
    pub fn fec_file_name(&self) -> String {
        format!(
            "{}FEC{}.txt",
            self.books_siren(),
            text::compact_date(self.period.to)
        )
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Fec,
    Hledger,
    Beancount,
    Csv(CsvOptions),
    Ofx,
}

impl Format {
    /// The names the command line and the web use: `fec`, `hledger`, `beancount`, `csv`,
    /// `ofx` (a CSV gets `csv` options).
    pub fn from_name(name: &str, csv: CsvOptions) -> Option<Format> {
        match name {
            "fec" => Some(Format::Fec),
            "hledger" => Some(Format::Hledger),
            "beancount" => Some(Format::Beancount),
            "csv" => Some(Format::Csv(csv)),
            "ofx" => Some(Format::Ofx),
            _ => None,
        }
    }

    /// Every format's name (`from_name` reads each).
    pub const NAMES: [&'static str; 5] = ["fec", "hledger", "beancount", "csv", "ofx"];

    pub fn name(&self) -> &'static str {
        match self {
            Format::Fec => "fec",
            Format::Hledger => "hledger",
            Format::Beancount => "beancount",
            Format::Csv(_) => "csv",
            Format::Ofx => "ofx",
        }
    }

    /// The HTTP content type of the file.
    pub fn content_type(&self) -> &'static str {
        match self {
            Format::Fec | Format::Hledger | Format::Beancount => "text/plain; charset=utf-8",
            Format::Csv(_) => "text/csv; charset=utf-8",
            Format::Ofx => "application/x-ofx",
        }
    }

    /// The conventional file extension.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::Fec => "txt",
            Format::Hledger => "journal",
            Format::Beancount => "beancount",
            Format::Csv(_) => "csv",
            Format::Ofx => "ofx",
        }
    }
}

/// What an export wrote, for the caller's report and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Ledger transactions of the period in scope.
    pub transactions: u64,
    /// Accounting entries written (booked formats), including the opening entry.
    pub entries: u64,
    /// Lines (booked formats) or rows (CSV) or statement lines (OFX) written.
    pub lines: u64,
    /// Sum of debits over every written line, in minor units.
    pub debit_total: i128,
    pub credit_total: i128,
    /// Ledger balances at the end of the period, per account in scope.
    pub closing: BTreeMap<AccountId, i64>,
}

enum Sink {
    Fec(fec::FecWriter),
    Journal(journal::JournalWriter),
    Beancount(beancount::BeancountWriter),
    Csv(csv::CsvWriter),
    Ofx(ofx::OfxWriter),
}

impl Sink {
    /// Whether the format writes accounting entries (as opposed to ledger postings).
    fn is_booked(&self) -> bool {
        matches!(self, Sink::Fec(_) | Sink::Journal(_) | Sink::Beancount(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Carrying,
    Started,
}

/// Streams one export. See the module documentation for the call order.
pub struct Exporter<W: Write> {
    out: W,
    header: ExportHeader,
    booker: Booker,
    sink: Sink,
    phase: Phase,
    /// Ledger balances of every account seen so far (constant in the number of postings).
    balances: BTreeMap<AccountId, i64>,
    last: Option<(DateTime<Utc>, TxId)>,
    summary: ExportSummary,
    next_num: u64,
}

impl<W: Write> Exporter<W> {
    /// Whether `format` can be exported with `header`, before anything is read or written:
    /// a FEC needs the period locked through its last day, an OFX statement one member.
    pub fn check(header: &ExportHeader, format: Format) -> ExportResult<()> {
        match format {
            Format::Fec => {
                let to = header.period.to;
                if header.valid_date(to).is_none() {
                    return Err(ExportError::NotLocked { to });
                }
            }
            Format::Ofx if header.scope == Scope::Network => {
                return Err(ExportError::OfxNeedsMember)
            }
            _ => {}
        }
        Ok(())
    }

    pub fn new(
        header: ExportHeader,
        mapping: &AccountMapping,
        format: Format,
        out: W,
    ) -> ExportResult<Exporter<W>> {
        Self::check(&header, format)?;
        let sink = match format {
            Format::Fec => Sink::Fec(fec::FecWriter::new()),
            Format::Hledger => Sink::Journal(journal::JournalWriter::new()),
            Format::Beancount => Sink::Beancount(beancount::BeancountWriter::new()),
            Format::Csv(options) => Sink::Csv(csv::CsvWriter::new(options)),
            Format::Ofx => Sink::Ofx(ofx::OfxWriter::new()),
        };
        let booker = Booker::new(mapping, &header.scope);
        Ok(Exporter {
            out,
            header,
            booker,
            sink,
            phase: Phase::Carrying,
            balances: BTreeMap::new(),
            last: None,
            summary: ExportSummary::default(),
            next_num: 1,
        })
    }

    pub fn header(&self) -> &ExportHeader {
        &self.header
    }

    /// The output, for a caller that hands on what was written so far (a download).
    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn check_order(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        entry.check_balanced()?;
        let key = (entry.time, entry.tx);
        if self.last.is_some_and(|last| last >= key) {
            return Err(ExportError::OutOfOrder { tx: entry.tx });
        }
        self.last = Some(key);
        Ok(())
    }

    fn update_balances(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        for posting in &entry.postings {
            let balance = self.balances.entry(posting.account.id).or_insert(0);
            *balance = balance
                .checked_add(posting.amount.minor())
                .ok_or(ExportError::Overflow)?;
        }
        Ok(())
    }

    /// A transaction dated before the period: it only moves the opening balances.
    pub fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        if self.phase != Phase::Carrying {
            return Err(ExportError::CarryAfterStart);
        }
        let period = self.header.period;
        if entry.date() >= period.from {
            return Err(ExportError::OutOfPeriod {
                tx: entry.tx,
                date: entry.date(),
                from: period.from,
                to: period.to,
            });
        }
        self.check_order(entry)?;
        self.update_balances(entry)?;
        self.booker.book(entry)?;
        Ok(())
    }

    fn start(&mut self) -> ExportResult<()> {
        if self.phase == Phase::Started {
            return Ok(());
        }
        self.phase = Phase::Started;
        let opening = self.booker.opening_entry(self.header.period.from)?;
        let opening_balances = self.scope_balances();
        match &mut self.sink {
            Sink::Fec(w) => w.begin(&mut self.out)?,
            Sink::Journal(w) => w.begin(&mut self.out, &self.header)?,
            Sink::Beancount(w) => w.begin(&mut self.out, &self.header)?,
            Sink::Csv(w) => w.begin(&mut self.out, opening_balances)?,
            Sink::Ofx(w) => w.begin(&mut self.out, &self.header, opening_balances)?,
        }
        if let (Some(opening), true) = (opening, self.sink.is_booked()) {
            self.write_booked(&opening)?;
        }
        Ok(())
    }

    fn scope_balances(&self) -> BTreeMap<AccountId, i64> {
        match &self.header.scope {
            Scope::Network => self.balances.clone(),
            Scope::Member(info) => {
                BTreeMap::from([(info.id, self.balances.get(&info.id).copied().unwrap_or(0))])
            }
        }
    }

    fn write_booked(&mut self, booked: &BookedEntry) -> ExportResult<()> {
        let num = self.next_num;
        self.next_num += 1;
        self.summary.entries += 1;
        for line in &booked.lines {
            self.summary.lines += 1;
            if line.debit > 0 {
                self.summary.debit_total += i128::from(line.debit);
            } else {
                self.summary.credit_total -= i128::from(line.debit);
            }
        }
        let valid = self.header.valid_date(booked.date);
        match &mut self.sink {
            Sink::Fec(w) => w.entry(
                &mut self.out,
                booked,
                num,
                valid.ok_or(ExportError::NotLocked {
                    to: self.header.period.to,
                })?,
            )?,
            Sink::Journal(w) => w.entry(&mut self.out, booked, num)?,
            Sink::Beancount(w) => w.entry(&mut self.out, booked, num)?,
            Sink::Csv(_) | Sink::Ofx(_) => {}
        }
        Ok(())
    }

    /// A transaction of the period, in (time, id) order.
    pub fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        let period = self.header.period;
        if !period.contains(entry.date()) {
            return Err(ExportError::OutOfPeriod {
                tx: entry.tx,
                date: entry.date(),
                from: period.from,
                to: period.to,
            });
        }
        self.check_order(entry)?;
        self.start()?;
        self.update_balances(entry)?;
        let in_scope = match &self.header.scope {
            Scope::Network => true,
            Scope::Member(info) => entry.postings.iter().any(|p| p.account.id == info.id),
        };
        if !in_scope {
            // Still booked, so that the booker's state stays that of the whole history.
            self.booker.book(entry)?;
            return Ok(());
        }
        self.summary.transactions += 1;
        let booked = self.booker.book(entry)?;
        if let (Some(booked), true) = (&booked, self.sink.is_booked()) {
            self.write_booked(booked)?;
        }
        match &mut self.sink {
            Sink::Csv(w) => {
                let (rows, debit, credit) = w.entry(&mut self.out, entry, &self.header.scope)?;
                self.summary.lines += rows;
                self.summary.debit_total += debit;
                self.summary.credit_total += credit;
            }
            Sink::Ofx(w) => {
                let Scope::Member(info) = &self.header.scope else {
                    unreachable!("checked in new")
                };
                self.summary.lines += w.entry(&mut self.out, entry, info)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes the closing part and returns the writer with a summary.
    pub fn finish(mut self) -> ExportResult<(W, ExportSummary)> {
        self.start()?;
        let closing = self.scope_balances();
        match &mut self.sink {
            Sink::Fec(_) | Sink::Csv(_) => {}
            Sink::Journal(w) => w.finish(&mut self.out, &self.booker)?,
            Sink::Beancount(w) => w.finish(&mut self.out, &self.header, &self.booker)?,
            Sink::Ofx(w) => w.finish(&mut self.out, &self.header, &closing)?,
        }
        self.out.flush()?;
        self.summary.closing = closing;
        Ok((self.out, self.summary))
    }
}

/// What the store feeds the history to, in (time, id) order: an [`Exporter`] or one of the
/// [`reports`] builders. `carry` gets the history before the period, `push` the period;
/// `page_done` is awaited after each page the store read (an exporter streaming a download
/// hands its bytes on there, and waits for a slow reader).
pub trait Feed: Send {
    fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()>;
    fn push(&mut self, entry: &ExportEntry) -> ExportResult<()>;
    fn page_done(&mut self) -> impl std::future::Future<Output = ExportResult<()>> + Send {
        async { Ok(()) }
    }
}

/// An output that is told when a page of the export is complete, so that it can pass the
/// bytes on (and apply back-pressure) before the next page is read.
pub trait PagedWrite: Write + Send {
    fn page_done(&mut self) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}

/// Any writer, with nothing to do between pages (files, buffers).
pub struct Unpaged<W>(pub W);

impl<W: Write> Write for Unpaged<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> PagedWrite for Unpaged<W> {
    async fn page_done(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: PagedWrite> Feed for Exporter<W> {
    fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        Exporter::carry(self, entry)
    }
    fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        Exporter::push(self, entry)
    }
    async fn page_done(&mut self) -> ExportResult<()> {
        Ok(self.out.page_done().await?)
    }
}

/// Exports from two in-order iterators (history before the period, then the period): the
/// convenience the tests and small callers use.
pub fn export_all<'a, W: Write>(
    header: ExportHeader,
    mapping: &AccountMapping,
    format: Format,
    out: W,
    entries: impl IntoIterator<Item = &'a ExportEntry>,
) -> ExportResult<(W, ExportSummary)> {
    let from = header.period.from;
    let to = header.period.to;
    let mut exporter = Exporter::new(header, mapping, format, out)?;
    for entry in entries {
        let date = entry.date();
        if date < from {
            exporter.carry(entry)?;
        } else if date <= to {
            exporter.push(entry)?;
        } else {
            break;
        }
    }
    exporter.finish()
}
