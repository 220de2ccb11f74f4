//! Invoices (« factures »): the seller of a payment received issues the invoice of that sale,
//! settled by compensation through the network. In France each side of a barter trade
//! issues an ordinary invoice (net, VAT rate and amount, total) marked as paid by
//! compensation (`../shared/reference/accounting-fr.md`, §2); the seller's is the one Troc
//! can draw from the ledger, since it knows both companies and the amount settled.
//!
//! - One invoice per payment received (a `payment` or a `hold_capture`, the member being
//!   credited the principal leg), issued by the seller's owner or staff; never for a payment
//!   already refunded.
//! - Numbers run in one unbroken chronological series per seller, kind and year:
//!   `FA-2026-00001`, `FA-2026-00002`... (a unique index guards the series; two invoices
//!   issued at once both get a number, one after the other).
//! - The total is what the seller received (tax included); the net and the VAT split it at
//!   the rate the seller gives (basis points, rounded half up to the cent on the net).
//! - An invoice has one line, or up to [`LINES_MAX`] (a meal at 10 % and its wine at 20 %):
//!   each its description, rate and amount tax included, split as above; they add up to
//!   the payment. Several lines are kept in `invoice_lines` (migration 0032); one line in
//!   the invoice's own columns.
//! - The parties' names, SIRENs and addresses are copied when the invoice is issued, and
//!   the rows are append-only in the database: an invoice is never changed.
//! - Once the payment is refunded (a reversal), the seller issues the credit note
//!   (« avoir ») that cancels the invoice: the same figures, its own series (`AV-2026-00001`),
//!   naming the invoice and the refund ([`credit`]). At most one per invoice.
//! - Each one is also a structured e-invoice (CII, Factur-X profile EN 16931:
//!   [`crate::einvoice`]), for the platforms of the French e-invoicing reform; the seller
//!   says what it sold (goods, services or both: [`Supply`]) for its billing frame.
//!
//! Not here: the buyer's own purchase record (its accountant books the seller's invoice),
//! invoices for anything the ledger did not settle, quantities and unit prices, euro parts,
//! partial credit notes, and the PDF half of a Factur-X file.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::{Amount, TxId};
use sqlx::Row;

use crate::console::{Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::{self, now_unix, Member, Role, User};
use crate::store::{BackendKind, Store};
use crate::trade;

/// Longest description of what was sold, in characters.
pub const DESCRIPTION_LEN_MAX: usize = 500;
/// Highest VAT rate, in basis points (100 %).
pub const VAT_BP_MAX: i64 = 10_000;
/// Invoices one seller issues in one calendar year at most (the number's five digits).
pub const INVOICES_PER_YEAR_MAX: i64 = 99_999;
/// Invoices one page of a list holds at most, and by default.
pub const INVOICES_PAGE_MAX: i64 = 200;
pub const INVOICES_PAGE_DEFAULT: i64 = 50;
/// Lines one invoice holds at most.
pub const LINES_MAX: usize = 20;
/// Longest legal mentions a company's invoices carry, in characters.
pub const MENTIONS_LEN_MAX: usize = 500;
/// Invoices one archive of e-invoices holds at most ([`einvoices_of_period`]).
pub const ARCHIVE_INVOICES_MAX: usize = 500;
/// Days one archive's period spans at most, both ends included.
pub const ARCHIVE_DAYS_MAX: i64 = 366;
/// Transaction ids one read of [`numbers_of`] lists at most.
const NUMBERS_PER_READ_MAX: usize = 500;

/// Which of a company's invoices: those it issued (sales) or those it received (purchases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Issued,
    Received,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Issued => "issued",
            Side::Received => "received",
        }
    }

    pub fn parse(text: &str) -> Option<Side> {
        [Side::Issued, Side::Received]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    fn column(self) -> &'static str {
        match self {
            Side::Issued => "seller_member_id",
            Side::Received => "buyer_member_id",
        }
    }
}

/// An invoice, or the credit note that cancels one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    CreditNote,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Invoice, Kind::CreditNote]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// The series' letters in the number.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Invoice => "FA",
            Kind::CreditNote => "AV",
        }
    }
}

/// One line of an invoice: what was sold, at which VAT rate, for how much tax included,
/// split into the net and the VAT as [`split`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub description: String,
    pub vat_bp: i64,
    pub total: Amount,
    pub net: Amount,
    pub vat: Amount,
}

/// A line the seller asks for. `total`: its amount tax included; `None` on an invoice of
/// one line, which is the whole payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub description: String,
    pub vat_bp: i64,
    pub total: Option<Amount>,
}

/// The lines of an invoice of `amount` as asked, checked: 1 to [`LINES_MAX`]; each a
/// description of 1 to [`DESCRIPTION_LEN_MAX`] characters (trimmed) and a rate of 0 to
/// [`VAT_BP_MAX`]; one line is the whole amount (a total, if given, must be it); several
/// lines each have a total above zero and together make `amount`. Problems of one line of
/// several name it (from 1).
pub fn lines_of(asked: &[NewLine], amount: Amount) -> ConsoleResult<Vec<Line>> {
    let mut issues = Issues::default();
    if asked.is_empty() {
        issues.add(Field::Lines, Problem::NoLines);
        return issues.finish().map(|()| Vec::new());
    }
    if asked.len() > LINES_MAX {
        issues.add(Field::Lines, Problem::TooManyLines { max: LINES_MAX });
        return issues.finish().map(|()| Vec::new());
    }
    let several = asked.len() > 1;
    let mut lines = Vec::with_capacity(asked.len());
    let mut sum: i64 = 0;
    for (index, line) in asked.iter().enumerate() {
        let number = index as u64 + 1;
        let mut add = |field: Field, problem: Problem| {
            if several {
                issues.add_on_line(number, field, problem);
            } else {
                issues.add(field, problem);
            }
        };
        let description = line.description.trim().to_owned();
        let length = description.chars().count();
        if length == 0 {
            add(Field::Description, Problem::Required);
        } else if length > DESCRIPTION_LEN_MAX {
            add(
                Field::Description,
                Problem::TooLong {
                    max: DESCRIPTION_LEN_MAX,
                },
            );
        }
        if !(0..=VAT_BP_MAX).contains(&line.vat_bp) {
            add(
                Field::VatRate,
                Problem::OutOfRange {
                    min: 0,
                    max: VAT_BP_MAX,
                },
            );
        }
        let total = match (several, line.total) {
            (false, None) => amount,
            (_, Some(total)) if total.minor() > 0 => total,
            (true, None) => {
                add(Field::Amount, Problem::Required);
                continue;
            }
            (_, Some(_)) => {
                add(Field::Amount, Problem::InvalidAmount);
                continue;
            }
        };
        sum = sum.saturating_add(total.minor());
        let (net, vat) = split(total, line.vat_bp.clamp(0, VAT_BP_MAX));
        debug_assert_eq!(net.minor() + vat.minor(), total.minor());
        lines.push(Line {
            description,
            vat_bp: line.vat_bp,
            total,
            net,
            vat,
        });
    }
    if lines.len() == asked.len() && sum != amount.minor() {
        issues.add(
            Field::Lines,
            Problem::LinesDoNotAddUp {
                sum: Amount::from_minor(sum),
                expected: amount,
            },
        );
    }
    issues.finish()?;
    debug_assert_eq!(
        lines.iter().map(|l| l.total.minor()).sum::<i64>(),
        amount.minor()
    );
    Ok(lines)
}

/// What an invoice sold: the French e-invoicing rules' billing frame (BT-23) follows from
/// it. Invoices issued before sellers said it (migration 0031) have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supply {
    Goods,
    Services,
    Mixed,
}

impl Supply {
    pub const ALL: [Supply; 3] = [Supply::Goods, Supply::Services, Supply::Mixed];

    pub fn as_str(self) -> &'static str {
        match self {
            Supply::Goods => "goods",
            Supply::Services => "services",
            Supply::Mixed => "mixed",
        }
    }

    pub fn parse(text: &str) -> Option<Supply> {
        Supply::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One party as the invoice names it, copied when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub member_id: i64,
    pub name: String,
    pub siren: String,
    /// Street, postcode and town on one line.
    pub address: String,
}

impl Party {
    fn of(member: &Member) -> Party {
        Party {
            member_id: member.id,
            name: member.name.clone(),
            siren: member.siren.clone(),
            address: format!("{}, {} {}", member.address, member.postcode, member.city),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: i64,
    pub kind: Kind,
    /// The invoice a credit note cancels.
    pub credits: Option<i64>,
    /// `FA-2026-00001` (`AV-` for a credit note): the seller's series for the year.
    pub number: String,
    pub year: i32,
    pub seq: i64,
    pub seller: Party,
    pub buyer: Party,
    /// The payment it invoices (a credit note: the refund).
    pub tx_id: i64,
    pub issued_on: NaiveDate,
    /// When that transaction was made (Unix seconds): the date of the settlement.
    pub paid_at: i64,
    /// The first line's description (the only one's, on an invoice of one line).
    pub description: String,
    /// Goods, services or both; `None` for invoices issued before sellers said it.
    pub supply: Option<Supply>,
    /// The first line's rate.
    pub vat_bp: i64,
    /// Tax included: what the seller received, the sum of the lines'.
    pub total: Amount,
    /// The sums of the lines' net and VAT.
    pub net: Amount,
    pub vat: Amount,
    pub created_by: String,
    pub created_at: i64,
    /// Its lines, in order: one or more (always filled when read through this module).
    pub lines: Vec<Line>,
    /// The seller's legal mentions as they were when it was issued (empty: none written).
    pub seller_mentions: String,
}

impl Invoice {
    /// The VAT by rate, rates in ascending order: each `(rate, net, VAT)` summed over the
    /// lines at that rate.
    pub fn vat_by_rate(&self) -> Vec<(i64, Amount, Amount)> {
        let mut by_rate: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
        for line in &self.lines {
            let entry = by_rate.entry(line.vat_bp).or_default();
            entry.0 += line.net.minor();
            entry.1 += line.vat.minor();
        }
        by_rate
            .into_iter()
            .map(|(rate, (net, vat))| (rate, Amount::from_minor(net), Amount::from_minor(vat)))
            .collect()
    }
}

/// What the seller asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub tx: TxId,
    /// What was sold (the web form asks for it; the API takes it when given).
    pub supply: Option<Supply>,
    /// One or more lines ([`lines_of`]).
    pub lines: Vec<NewLine>,
}

impl NewInvoice {
    /// An invoice of one line, the whole payment.
    pub fn single(
        tx: TxId,
        description: String,
        vat_bp: i64,
        supply: Option<Supply>,
    ) -> NewInvoice {
        NewInvoice {
            tx,
            supply,
            lines: vec![NewLine {
                description,
                vat_bp,
                total: None,
            }],
        }
    }
}

/// The number of rank `seq` in `year` of a series.
pub fn number(kind: Kind, year: i32, seq: i64) -> String {
    format!("{}-{year}-{seq:05}", kind.prefix())
}

/// Splits a total (tax included) at `vat_bp` into the net and the VAT: the net is
/// `total / (1 + rate)` rounded half up to the cent, the VAT the rest, so that the two
/// always add up to the total.
pub fn split(total: Amount, vat_bp: i64) -> (Amount, Amount) {
    let total_minor = i128::from(total.minor());
    let divisor = i128::from(10_000 + vat_bp.clamp(0, VAT_BP_MAX));
    let net = (total_minor * 10_000 * 2 + divisor) / (2 * divisor);
    let net = i64::try_from(net).unwrap_or(i64::MAX);
    let vat = total.minor() - net;
    debug_assert!(net >= 0 && vat >= 0);
    (Amount::from_minor(net), Amount::from_minor(vat))
}

const COLUMNS: &str =
    "id, kind, credits, number, year, seq, seller_member_id, seller_name, seller_siren, \
    seller_address, buyer_member_id, buyer_name, buyer_siren, buyer_address, tx_id, issued_on, \
    paid_at, description, vat_bp, total, net, vat, created_by, created_at, supply, line_count, seller_mentions";

fn from_row<R>(row: &R) -> Result<Invoice, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let corrupt = |what: &str, text: &str| sqlx::Error::ColumnDecode {
        index: what.into(),
        source: format!("not a {what}: {text:?}").into(),
    };
    let kind: String = row.try_get(1)?;
    let issued_on: String = row.try_get(15)?;
    let year: i64 = row.try_get(4)?;
    let supply: Option<String> = row.try_get(24)?;
    let line_count: i64 = row.try_get(25)?;
    let supply = match supply {
        Some(text) => Some(Supply::parse(&text).ok_or_else(|| corrupt("supply", &text))?),
        None => None,
    };
    Ok(Invoice {
        id: row.try_get(0)?,
        kind: Kind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        credits: row.try_get(2)?,
        number: row.try_get(3)?,
        year: i32::try_from(year).unwrap_or_default(),
        seq: row.try_get(5)?,
        seller: Party {
            member_id: row.try_get(6)?,
            name: row.try_get(7)?,
            siren: row.try_get(8)?,
            address: row.try_get(9)?,
        },
        buyer: Party {
            member_id: row.try_get(10)?,
            name: row.try_get(11)?,
            siren: row.try_get(12)?,
            address: row.try_get(13)?,
        },
        tx_id: row.try_get(14)?,
        issued_on: NaiveDate::parse_from_str(&issued_on, "%Y-%m-%d")
            .map_err(|_| corrupt("date", &issued_on))?,
        paid_at: row.try_get(16)?,
        description: row.try_get(17)?,
        supply,
        vat_bp: row.try_get(18)?,
        total: Amount::from_minor(row.try_get(19)?),
        net: Amount::from_minor(row.try_get(20)?),
        vat: Amount::from_minor(row.try_get(21)?),
        created_by: row.try_get(22)?,
        created_at: row.try_get(23)?,
        lines: Vec::new(),
        seller_mentions: row.try_get(26)?,
    })
    .map(|mut invoice| {
        // One line: the invoice's own columns. Several: read by [`with_lines`].
        if line_count == 1 {
            invoice.lines.push(Line {
                description: invoice.description.clone(),
                vat_bp: invoice.vat_bp,
                total: invoice.total,
                net: invoice.net,
                vat: invoice.vat,
            });
        }
        invoice
    })
}

/// Fills the lines of the invoices of several lines among `invoices`: one read.
async fn with_lines(store: &Store, mut invoices: Vec<Invoice>) -> ConsoleResult<Vec<Invoice>> {
    let ids: Vec<u64> = invoices
        .iter()
        .filter(|i| i.lines.is_empty())
        .filter_map(|i| u64::try_from(i.id).ok())
        .collect();
    if ids.is_empty() {
        return Ok(invoices);
    }
    let sql = format!(
        "SELECT invoice_id, description, vat_bp, total, net, vat FROM invoice_lines \
         WHERE {} ORDER BY invoice_id, line_no",
        crate::store::in_id_list(store.kind(), "invoice_id", 1)
    );
    let ids = crate::store::id_list(ids);
    type LineRow = (i64, String, i64, i64, i64, i64);
    let rows: Vec<LineRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
    });
    let mut by_invoice: std::collections::HashMap<i64, Vec<Line>> = Default::default();
    for (invoice_id, description, vat_bp, total, net, vat) in rows {
        by_invoice.entry(invoice_id).or_default().push(Line {
            description,
            vat_bp,
            total: Amount::from_minor(total),
            net: Amount::from_minor(net),
            vat: Amount::from_minor(vat),
        });
    }
    for invoice in invoices.iter_mut().filter(|i| i.lines.is_empty()) {
        invoice.lines = by_invoice.remove(&invoice.id).unwrap_or_default();
        debug_assert!(
            invoice.lines.len() > 1,
            "an invoice of several lines has them"
        );
        debug_assert_eq!(
            invoice.lines.iter().map(|l| l.total.minor()).sum::<i64>(),
            invoice.total.minor()
        );
    }
    Ok(invoices)
}

async fn one(store: &Store, clause: &str, value: i64) -> ConsoleResult<Option<Invoice>> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE {clause} = $1");
    let found = dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(value).fetch_optional(pool).await? {
            Some(row) => Some(from_row(&row)?),
            None => None,
        }
    });
    match found {
        Some(invoice) => Ok(with_lines(store, vec![invoice]).await?.pop()),
        None => Ok(None),
    }
}

/// One invoice whoever's (the network's staff).
pub async fn get(store: &Store, id: i64) -> ConsoleResult<Invoice> {
    one(store, "id", id).await?.ok_or(ConsoleError::NotFound)
}

/// The invoice if `member_id` issued or received it; `NotFound` otherwise.
pub async fn of_member(store: &Store, member_id: i64, id: i64) -> ConsoleResult<Invoice> {
    let invoice = get(store, id).await?;
    if invoice.seller.member_id != member_id && invoice.buyer.member_id != member_id {
        return Err(ConsoleError::NotFound);
    }
    Ok(invoice)
}

/// The invoice of a payment, if one was issued.
pub async fn of_transaction(store: &Store, tx: TxId) -> ConsoleResult<Option<Invoice>> {
    let Ok(tx) = i64::try_from(tx.0) else {
        return Ok(None);
    };
    one(store, "tx_id", tx).await
}

/// The credit note that cancels `invoice`, if one was issued.
pub async fn credit_note_of(store: &Store, invoice: i64) -> ConsoleResult<Option<Invoice>> {
    one(store, "credits", invoice).await
}

/// The invoices and credit notes of the transactions among `txs` (a page's lines), by
/// transaction id: the id and the number.
pub async fn numbers_of(
    store: &Store,
    txs: &[i64],
) -> ConsoleResult<std::collections::HashMap<i64, (i64, String)>> {
    let mut found = std::collections::HashMap::new();
    if txs.is_empty() {
        return Ok(found);
    }
    // One JSON list parameter, as the other reads by a page's ids (`store::in_id_list`).
    for chunk in txs.chunks(NUMBERS_PER_READ_MAX) {
        let sql = format!(
            "SELECT tx_id, id, number FROM invoices WHERE {}",
            crate::store::in_id_list(store.kind(), "tx_id", 1)
        );
        let ids = crate::store::id_list(chunk.iter().filter_map(|id| u64::try_from(*id).ok()));
        let rows: Vec<(i64, i64, String)> = dispatch!(store.backend(), pool => {
            sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
        });
        for (tx, id, number) in rows {
            found.insert(tx, (id, number));
        }
    }
    Ok(found)
}

/// A page of a company's invoices, newest first: those with an id below `before`, at most
/// `limit` (1 to [`INVOICES_PAGE_MAX`]).
pub async fn page(
    store: &Store,
    member_id: i64,
    side: Side,
    before: Option<i64>,
    limit: i64,
) -> ConsoleResult<Vec<Invoice>> {
    rows_before(
        store,
        member_id,
        side,
        before,
        limit.clamp(1, INVOICES_PAGE_MAX),
    )
    .await
}

/// A company's invoices of one side, newest first, at most `limit` (the data package).
pub async fn member_invoices_upto(
    store: &Store,
    member_id: i64,
    side: Side,
    limit: i64,
) -> ConsoleResult<Vec<Invoice>> {
    rows_before(store, member_id, side, None, limit).await
}

async fn rows_before(
    store: &Store,
    member_id: i64,
    side: Side,
    before: Option<i64>,
    limit: i64,
) -> ConsoleResult<Vec<Invoice>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices WHERE {} = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        side.column()
    );
    let rows = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(member_id).bind(before.unwrap_or(i64::MAX)).bind(limit)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?
    });
    with_lines(store, rows).await
}

/// The structured e-invoice of `invoice` (CII, Factur-X EN 16931: [`crate::einvoice`]):
/// two reads, the network's name and, for a credit note, the invoice it cancels.
pub async fn einvoice(store: &Store, invoice: &Invoice) -> ConsoleResult<String> {
    let network = store.network_name().await?.unwrap_or_default();
    let cancelled = match invoice.credits {
        Some(id) => Some(get(store, id).await?),
        None => None,
    };
    let context = crate::einvoice::Context {
        network: &network,
        cancels: cancelled.as_ref().map(|i| (i.number.as_str(), i.issued_on)),
    };
    Ok(crate::einvoice::cii(invoice, &context))
}

/// Why a period's e-invoices cannot be put in one archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRefusal {
    /// `to` is before `from`.
    Reversed,
    /// More than [`ARCHIVE_DAYS_MAX`] days.
    TooLong,
    /// More than [`ARCHIVE_INVOICES_MAX`] invoices: a shorter period.
    TooManyInvoices,
}

/// The last calendar month before `today`: its first and last days (what the archive
/// proposes on the page, and where the API's period starts by default).
pub fn last_month(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_of_month = today.with_day(1).unwrap_or(today);
    let end = first_of_month.pred_opt().unwrap_or(first_of_month);
    (end.with_day(1).unwrap_or(end), end)
}

/// The e-invoices of a company's invoices (issued or received) dated from `from` to `to`
/// (both included), in one ZIP file ([`crate::einvoice::archive`]), oldest first: at most
/// [`ARCHIVE_INVOICES_MAX`] in a period of at most [`ARCHIVE_DAYS_MAX`] days.
pub async fn einvoice_archive(
    store: &Store,
    member_id: i64,
    side: Side,
    from: NaiveDate,
    to: NaiveDate,
) -> ConsoleResult<Result<Vec<u8>, PeriodRefusal>> {
    let files = match einvoices_of_period(store, member_id, side, from, to).await? {
        Ok(files) => files,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // Written in memory: an error here is a bug, reported as the store's I/O error.
    let zip = crate::einvoice::archive(files.iter().map(|(i, x)| (i, x.as_str())))
        .map_err(|e| crate::store::StoreError::Io(std::io::Error::other(e)))?;
    Ok(Ok(zip))
}

/// The e-invoices of a company's invoices dated in a period, each with its CII text. Four
/// reads whatever their number: the invoices, their lines, the invoices their credit notes
/// cancel, the network's name.
async fn einvoices_of_period(
    store: &Store,
    member_id: i64,
    side: Side,
    from: NaiveDate,
    to: NaiveDate,
) -> ConsoleResult<Result<Vec<(Invoice, String)>, PeriodRefusal>> {
    if to < from {
        return Ok(Err(PeriodRefusal::Reversed));
    }
    if (to - from).num_days() + 1 > ARCHIVE_DAYS_MAX {
        return Ok(Err(PeriodRefusal::TooLong));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices WHERE {} = $1 AND issued_on >= $2 AND issued_on <= $3 \
         ORDER BY id LIMIT $4",
        side.column()
    );
    let (from_text, to_text) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    let limit = ARCHIVE_INVOICES_MAX as i64 + 1;
    let rows = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(member_id).bind(&from_text).bind(&to_text).bind(limit)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?
    });
    if rows.len() > ARCHIVE_INVOICES_MAX {
        return Ok(Err(PeriodRefusal::TooManyInvoices));
    }
    let found = with_lines(store, rows).await?;
    // The invoices the credit notes cancel: their numbers and dates, in one read.
    let cancelled: Vec<u64> = found
        .iter()
        .filter_map(|i| i.credits)
        .filter_map(|id| u64::try_from(id).ok())
        .collect();
    let mut cancels: std::collections::HashMap<i64, (String, NaiveDate)> = Default::default();
    if !cancelled.is_empty() {
        let sql = format!(
            "SELECT id, number, issued_on FROM invoices WHERE {}",
            crate::store::in_id_list(store.kind(), "id", 1)
        );
        let ids = crate::store::id_list(cancelled);
        let rows: Vec<(i64, String, String)> = dispatch!(store.backend(), pool => {
            sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
        });
        for (id, number, issued_on) in rows {
            if let Ok(date) = NaiveDate::parse_from_str(&issued_on, "%Y-%m-%d") {
                cancels.insert(id, (number, date));
            }
        }
    }
    let network = store.network_name().await?.unwrap_or_default();
    let mut files = Vec::with_capacity(found.len());
    for invoice in found {
        let context = crate::einvoice::Context {
            network: &network,
            cancels: invoice
                .credits
                .and_then(|id| cancels.get(&id))
                .map(|(number, date)| (number.as_str(), *date)),
        };
        let xml = crate::einvoice::cii(&invoice, &context);
        files.push((invoice, xml));
    }
    Ok(Ok(files))
}

/// The legal mentions `member_id`'s invoices carry now (empty: none written).
pub async fn mentions_of(store: &Store, member_id: i64) -> ConsoleResult<String> {
    let found: Option<String> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT invoice_mentions FROM members WHERE id = $1")
            .bind(member_id).fetch_optional(pool).await?
    });
    found.ok_or(ConsoleError::NotFound)
}

/// The owner writes the legal mentions its company's invoices carry from now on (legal
/// form and capital, registration, a VAT exemption's article...): 0 to
/// [`MENTIONS_LEN_MAX`] characters, trimmed; empty removes them. Invoices issued before
/// keep theirs. Staff and the member accountant: `Forbidden`.
pub async fn set_mentions(
    store: &Store,
    user: &User,
    member: &Member,
    text: &str,
) -> ConsoleResult<String> {
    if user.member_id != Some(member.id) || user.role != Role::Owner {
        return Err(ConsoleError::Forbidden);
    }
    let text = text.trim().replace("\r\n", "\n");
    if text.chars().count() > MENTIONS_LEN_MAX {
        return Err(ConsoleError::invalid(
            Field::Mentions,
            Problem::TooLong {
                max: MENTIONS_LEN_MAX,
            },
        ));
    }
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE members SET invoice_mentions = $1 WHERE id = $2")
            .bind(&text).bind(member.id).execute(pool).await?;
    });
    Ok(text)
}

/// A payment the member received, as an invoice would show it.
#[derive(Debug, Clone)]
pub struct Invoiceable {
    pub payment: trade::Refundable,
    pub buyer: Member,
    /// The invoice issued for it already.
    pub invoice: Option<Invoice>,
}

/// The payment `tx` if `member` received it from another member; `NotFound` for any other
/// transaction, another member's payment or an unknown id, alike.
pub async fn invoiceable(store: &Store, member: &Member, tx: TxId) -> ConsoleResult<Invoiceable> {
    let payment = trade::refundable(store, member, tx)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let payer = i64::try_from(payment.payer.0).map_err(|_| ConsoleError::NotFound)?;
    let buyer = people::member_by_account(store, payer)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let invoice = of_transaction(store, tx).await?;
    Ok(Invoiceable {
        payment,
        buyer,
        invoice,
    })
}

/// The seller's owner or staff issues the invoice of a payment its company received, dated
/// `today`. Checked: the payment is the seller's (else `NotFound`), not refunded
/// (`payment_refunded`) and not invoiced yet (`already_invoiced`); a description of 1 to
/// [`DESCRIPTION_LEN_MAX`] characters; a VAT rate of 0 to [`VAT_BP_MAX`] basis points; at
/// most [`INVOICES_PER_YEAR_MAX`] invoices in the year (`too_many_invoices`).
pub async fn issue(
    store: &Store,
    user: &User,
    seller: &Member,
    new: &NewInvoice,
    today: NaiveDate,
) -> ConsoleResult<Invoice> {
    if user.member_id != Some(seller.id) || !matches!(user.role, Role::Owner | Role::Staff) {
        return Err(ConsoleError::Forbidden);
    }
    let found = invoiceable(store, seller, new.tx).await?;
    let lines = lines_of(&new.lines, found.payment.amount)?;
    if found.payment.refunded_by.is_some() {
        return Err(ConsoleError::Conflict(Conflict::PaymentRefunded));
    }
    if found.invoice.is_some() {
        return Err(ConsoleError::Conflict(Conflict::AlreadyInvoiced));
    }
    let total = found.payment.amount;
    let seller_mentions = mentions_of(store, seller.id).await?;
    let net = Amount::from_minor(lines.iter().map(|l| l.net.minor()).sum());
    let vat = Amount::from_minor(lines.iter().map(|l| l.vat.minor()).sum());
    debug_assert_eq!(net.minor() + vat.minor(), total.minor());
    let draft = Draft {
        kind: Kind::Invoice,
        credits: None,
        seller: Party::of(seller),
        buyer: Party::of(&found.buyer),
        tx_id: i64::try_from(new.tx.0).map_err(|_| ConsoleError::NotFound)?,
        paid_at: found.payment.transaction.time(),
        supply: new.supply,
        total,
        net,
        vat,
        created_by: user.email.clone(),
        lines,
        seller_mentions,
    };
    match insert_numbered(store, &draft, today).await {
        // The same payment invoiced at the same time by another request.
        Err(ConsoleError::Conflict(Conflict::AlreadyNumbered)) => {
            Err(ConsoleError::Conflict(Conflict::AlreadyInvoiced))
        }
        other => other,
    }
}

/// The seller's owner or staff issues the credit note that cancels `invoice_id`, one of its
/// invoices whose payment was refunded, dated `today`: the invoice's figures and
/// description, its own series (`AV-2026-00001`), naming the invoice and the refund.
/// Checked: the invoice is the seller's (else `NotFound`: the buyer's users and strangers
/// alike), is not itself a credit note (`not_creditable`), its payment was refunded
/// (`payment_not_refunded`) and it has no credit note yet (`already_credited`).
pub async fn credit(
    store: &Store,
    user: &User,
    seller: &Member,
    invoice_id: i64,
    today: NaiveDate,
) -> ConsoleResult<Invoice> {
    if user.member_id != Some(seller.id) || !matches!(user.role, Role::Owner | Role::Staff) {
        return Err(ConsoleError::Forbidden);
    }
    let invoice = get(store, invoice_id).await?;
    if invoice.seller.member_id != seller.id {
        return Err(ConsoleError::NotFound);
    }
    if invoice.kind != Kind::Invoice {
        return Err(ConsoleError::Conflict(Conflict::NotCreditable));
    }
    if credit_note_of(store, invoice.id).await?.is_some() {
        return Err(ConsoleError::Conflict(Conflict::AlreadyCredited));
    }
    let paid = TxId(u64::try_from(invoice.tx_id).map_err(|_| ConsoleError::NotFound)?);
    let Some(refund) = store.reversed_by(paid).await? else {
        return Err(ConsoleError::Conflict(Conflict::PaymentNotRefunded));
    };
    let refunded_at = store
        .transaction(refund)
        .await?
        .map(|t| t.time())
        .ok_or(ConsoleError::NotFound)?;
    let buyer = people::member(store, invoice.buyer.member_id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let draft = Draft {
        kind: Kind::CreditNote,
        credits: Some(invoice.id),
        seller: Party::of(seller),
        buyer: Party::of(&buyer),
        tx_id: i64::try_from(refund.0).map_err(|_| ConsoleError::NotFound)?,
        paid_at: refunded_at,
        supply: invoice.supply,
        total: invoice.total,
        net: invoice.net,
        vat: invoice.vat,
        created_by: user.email.clone(),
        lines: invoice.lines.clone(),
        seller_mentions: mentions_of(store, seller.id).await?,
    };
    match insert_numbered(store, &draft, today).await {
        // Credited at the same time by another request.
        Err(ConsoleError::Conflict(Conflict::AlreadyNumbered)) => {
            Err(ConsoleError::Conflict(Conflict::AlreadyCredited))
        }
        other => other,
    }
}

/// An invoice or credit note before its number.
struct Draft {
    kind: Kind,
    credits: Option<i64>,
    seller: Party,
    buyer: Party,
    tx_id: i64,
    paid_at: DateTime<Utc>,
    supply: Option<Supply>,
    total: Amount,
    net: Amount,
    vat: Amount,
    created_by: String,
    /// One or more; the first gives the invoice's description and rate.
    lines: Vec<Line>,
    /// The seller's legal mentions now.
    seller_mentions: String,
}

/// Numbers `draft` next in its seller's series for `today`'s year and stores it.
/// `AlreadyNumbered` if its transaction (or its invoice, for a credit note) has a row
/// already; `TooManyInvoices` past [`INVOICES_PER_YEAR_MAX`].
async fn insert_numbered(store: &Store, draft: &Draft, today: NaiveDate) -> ConsoleResult<Invoice> {
    let year = today.year();
    let issued_on = today.format("%Y-%m-%d").to_string();
    // The next number, under a lock on the seller's series: SQLite's write lock (`BEGIN
    // IMMEDIATE`), PostgreSQL the seller's member row. Two invoices of one seller issued
    // at once are numbered one after the other, never the same nor with a gap.
    let begin = store.begin_write_sql();
    let lock_series = match store.kind() {
        BackendKind::Postgres => Some("SELECT id FROM members WHERE id = $1 FOR UPDATE"),
        BackendKind::Sqlite => None,
    };
    let seller = draft.seller.member_id;
    let kind = draft.kind;
    let first = draft.lines.first().ok_or(ConsoleError::NotFound)?;
    debug_assert!((1..=LINES_MAX).contains(&draft.lines.len()));
    let line_count = draft.lines.len() as i64;
    // Several lines are rows of their own; one stays in the invoice's columns.
    let several = if draft.lines.len() > 1 {
        &draft.lines[..]
    } else {
        &[]
    };
    let inserted: Result<Option<i64>, sqlx::Error> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin_with(begin).await?;
            if let Some(sql) = lock_series {
                sqlx::query(sql).bind(seller).execute(&mut *tx).await?;
            }
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(seq) FROM invoices \
                 WHERE seller_member_id = $1 AND kind = $2 AND year = $3")
                .bind(seller).bind(kind.as_str()).bind(i64::from(year))
                .fetch_one(&mut *tx).await?;
            let seq = last.unwrap_or(0) + 1;
            if seq > INVOICES_PER_YEAR_MAX {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO invoices (seller_member_id, buyer_member_id, kind, credits, tx_id, \
                 year, seq, number, issued_on, paid_at, description, vat_bp, total, net, vat, \
                 seller_name, seller_siren, seller_address, buyer_name, buyer_siren, \
                 buyer_address, created_by, created_at, supply, line_count, seller_mentions) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) RETURNING id")
                .bind(seller).bind(draft.buyer.member_id).bind(kind.as_str()).bind(draft.credits)
                .bind(draft.tx_id).bind(i64::from(year)).bind(seq)
                .bind(number(kind, year, seq)).bind(&issued_on).bind(draft.paid_at.timestamp())
                .bind(&first.description).bind(first.vat_bp).bind(draft.total.minor())
                .bind(draft.net.minor()).bind(draft.vat.minor()).bind(&draft.seller.name)
                .bind(&draft.seller.siren).bind(&draft.seller.address).bind(&draft.buyer.name)
                .bind(&draft.buyer.siren).bind(&draft.buyer.address).bind(&draft.created_by)
                .bind(now_unix()).bind(draft.supply.map(Supply::as_str)).bind(line_count)
                .bind(&draft.seller_mentions)
                .fetch_one(&mut *tx).await?;
            for (index, line) in several.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO invoice_lines (invoice_id, line_no, description, vat_bp, total, \
                     net, vat) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(id).bind(index as i64 + 1).bind(&line.description).bind(line.vat_bp)
                    .bind(line.total.minor()).bind(line.net.minor()).bind(line.vat.minor())
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Some(id))
        }
        .await
    });
    match inserted {
        Ok(Some(id)) => get(store, id).await,
        Ok(None) => Err(ConsoleError::Conflict(Conflict::TooManyInvoices)),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(ConsoleError::Conflict(Conflict::AlreadyNumbered))
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_adds_up_and_rounds_the_net_half_up() {
        let cents = Amount::from_minor;
        assert_eq!(
            split(cents(120_000), 2_000),
            (cents(100_000), cents(20_000))
        );
        assert_eq!(split(cents(10_000), 0), (cents(10_000), cents(0)));
        // 1.00 at 5.5 %: 0.9478... → 0.95 net, 0.05 VAT.
        assert_eq!(split(cents(100), 550), (cents(95), cents(5)));
        // 0.01 at 20 %: 0.0083 → 0.01 net, no VAT.
        assert_eq!(split(cents(1), 2_000), (cents(1), cents(0)));
        // 100 % VAT: half and half.
        assert_eq!(split(cents(1_000), 10_000), (cents(500), cents(500)));
        for total in [1, 7, 99, 101, 12_345, 999_999_999] {
            for bp in [0, 210, 550, 850, 1_000, 2_000, 10_000] {
                let (net, vat) = split(cents(total), bp);
                assert_eq!(net.minor() + vat.minor(), total);
                assert!(net.minor() >= 0 && vat.minor() >= 0);
            }
        }
    }

    fn asked(description: &str, vat_bp: i64, total: Option<i64>) -> NewLine {
        NewLine {
            description: description.into(),
            vat_bp,
            total: total.map(Amount::from_minor),
        }
    }

    fn problems(result: ConsoleResult<Vec<Line>>) -> Vec<(Option<u64>, Field, String)> {
        match result {
            Err(ConsoleError::Invalid(issues)) => issues
                .into_iter()
                .map(|i| (i.line, i.field, i.problem.code().to_owned()))
                .collect(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn one_line_is_the_whole_payment() {
        let amount = Amount::from_minor(12_000);
        let lines = lines_of(&[asked(" Repas ", 1_000, None)], amount).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].description, "Repas");
        assert_eq!(
            (lines[0].net.minor(), lines[0].vat.minor()),
            (10_909, 1_091)
        );
        // Its total, if given, is the payment's.
        assert!(lines_of(&[asked("Repas", 1_000, Some(12_000))], amount).is_ok());
        assert_eq!(
            problems(lines_of(&[asked("Repas", 1_000, Some(11_999))], amount)),
            vec![(None, Field::Lines, "lines_do_not_add_up".into())]
        );
        // Its problems name no line.
        assert_eq!(
            problems(lines_of(&[asked(" ", -1, None)], amount)),
            vec![
                (None, Field::Description, "required".into()),
                (None, Field::VatRate, "out_of_range".into())
            ]
        );
    }

    #[test]
    fn several_lines_add_up_to_the_payment() {
        let amount = Amount::from_minor(12_000);
        let meal = [
            asked("Repas", 1_000, Some(9_600)),
            asked("Vin", 2_000, Some(2_400)),
        ];
        let lines = lines_of(&meal, amount).unwrap();
        assert_eq!((lines[0].net.minor(), lines[0].vat.minor()), (8_727, 873));
        assert_eq!((lines[1].net.minor(), lines[1].vat.minor()), (2_000, 400));
        // A cent short, a line without its amount, a bad line: each named.
        assert_eq!(
            problems(lines_of(
                &[
                    asked("Repas", 1_000, Some(9_600)),
                    asked("Vin", 2_000, Some(2_399))
                ],
                amount
            )),
            vec![(None, Field::Lines, "lines_do_not_add_up".into())]
        );
        assert_eq!(
            problems(lines_of(
                &[
                    asked("Repas", 1_000, Some(9_600)),
                    asked("", 10_001, None),
                    asked("Café", 1_000, Some(0))
                ],
                amount
            )),
            vec![
                (Some(2), Field::Description, "required".into()),
                (Some(2), Field::VatRate, "out_of_range".into()),
                (Some(2), Field::Amount, "required".into()),
                (Some(3), Field::Amount, "invalid_amount".into()),
            ]
        );
        // At most LINES_MAX lines, at least one.
        let cent = |n: usize| {
            (0..n)
                .map(|_| asked("Vis", 2_000, Some(1)))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            lines_of(&cent(LINES_MAX), Amount::from_minor(LINES_MAX as i64))
                .unwrap()
                .len(),
            LINES_MAX
        );
        assert_eq!(
            problems(lines_of(
                &cent(LINES_MAX + 1),
                Amount::from_minor(LINES_MAX as i64 + 1)
            )),
            vec![(None, Field::Lines, "too_many_lines".into())]
        );
        assert_eq!(
            problems(lines_of(&[], amount)),
            vec![(None, Field::Lines, "no_lines".into())]
        );
    }

    #[test]
    fn last_month_is_the_calendar_month_before() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            last_month(day(2026, 12, 6)),
            (day(2026, 11, 1), day(2026, 11, 30))
        );
        assert_eq!(
            last_month(day(2027, 1, 1)),
            (day(2026, 12, 1), day(2026, 12, 31))
        );
        assert_eq!(
            last_month(day(2028, 3, 31)),
            (day(2028, 2, 1), day(2028, 2, 29))
        );
    }

    #[test]
    fn numbers_are_the_year_and_five_digits() {
        assert_eq!(number(Kind::Invoice, 2026, 1), "FA-2026-00001");
        assert_eq!(
            number(Kind::Invoice, 2027, INVOICES_PER_YEAR_MAX),
            "FA-2027-99999"
        );
        assert_eq!(number(Kind::CreditNote, 2026, 12), "AV-2026-00012");
        assert_eq!(Kind::parse("credit_note"), Some(Kind::CreditNote));
        assert_eq!(Side::parse("issued"), Some(Side::Issued));
        assert_eq!(Side::parse("received"), Some(Side::Received));
        assert_eq!(Side::parse("all"), None);
    }
}
