//! Pure report computations for the web front to render as printable HTML: the trial balance
//! (balance générale) of a period and a member's annual summary. Both are fed like an
//! [`super::Exporter`]: the history before the period with `carry`, the period with `push`,
//! in (time, id) order; memory is proportional to the number of accounts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ledger::{AccountId, AccountKind, Leg, TxId, TxKind};

use super::book::{Aux, Booker};
use super::mapping::GlAccount;
use super::{AccountMapping, ExportEntry, ExportError, ExportResult, Feed, Period, Scope};

/// Most lines a statement (relevé) holds; a longer period is refused (the CSV export has
/// no such limit).
pub const STATEMENT_LINES_MAX: usize = 10_000;

fn out_of_period(entry: &ExportEntry, period: Period) -> ExportError {
    ExportError::OutOfPeriod {
        tx: entry.tx,
        date: entry.date(),
        from: period.from(),
        to: period.to(),
    }
}

/// One line of the trial balance: an account (and auxiliary), its balance at the start of
/// the period, the period's debits and credits, and its closing balance (debit > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialRow {
    pub account: GlAccount,
    pub aux: Option<Aux>,
    pub opening: i64,
    pub debit: i64,
    pub credit: i64,
    pub closing: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalance {
    /// In account-number order, then auxiliary.
    pub rows: Vec<TrialRow>,
    pub debit_total: i128,
    pub credit_total: i128,
}

/// Builds the trial balance of the network's or one member's books.
pub struct TrialBalanceBuilder {
    period: Period,
    booker: Booker,
    rows: BTreeMap<(String, Option<String>), TrialRow>,
    started: bool,
}

impl TrialBalanceBuilder {
    pub fn new(mapping: &AccountMapping, scope: &Scope, period: Period) -> TrialBalanceBuilder {
        TrialBalanceBuilder {
            period,
            booker: Booker::new(mapping, scope),
            rows: BTreeMap::new(),
            started: false,
        }
    }

    fn row(&mut self, account: &GlAccount, aux: Option<&Aux>) -> &mut TrialRow {
        self.rows
            .entry((account.num().to_owned(), aux.map(|a| a.num.clone())))
            .or_insert_with(|| TrialRow {
                account: account.clone(),
                aux: aux.cloned(),
                opening: 0,
                debit: 0,
                credit: 0,
                closing: 0,
            })
    }

    pub fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        if self.started {
            return Err(ExportError::CarryAfterStart);
        }
        self.booker.book(entry)?;
        Ok(())
    }

    fn start(&mut self) -> ExportResult<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if let Some(opening) = self.booker.opening_entry(self.period.from())? {
            for line in &opening.lines {
                let row = self.row(&line.account, line.aux.as_ref());
                row.opening += line.debit;
                row.closing += line.debit;
            }
        }
        Ok(())
    }

    pub fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        if !self.period.contains(entry.date()) {
            return Err(out_of_period(entry, self.period));
        }
        self.start()?;
        if let Some(booked) = self.booker.book(entry)? {
            for line in &booked.lines {
                let row = self.row(&line.account, line.aux.as_ref());
                if line.debit > 0 {
                    row.debit += line.debit;
                } else {
                    row.credit -= line.debit;
                }
                row.closing += line.debit;
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> ExportResult<TrialBalance> {
        self.start()?;
        let rows: Vec<TrialRow> = self.rows.into_values().collect();
        let debit_total = rows.iter().map(|r| i128::from(r.debit)).sum();
        let credit_total = rows.iter().map(|r| i128::from(r.credit)).sum();
        Ok(TrialBalance {
            rows,
            debit_total,
            credit_total,
        })
    }
}

/// What a member's accountant wants for the year, from the member's side, in minor units
/// (all amounts ≥ 0 except balances).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSummary {
    pub opening_balance: i64,
    /// Sales to other members, net of reversed sales.
    pub sales: i64,
    /// Purchases from other members, net of reversed purchases.
    pub purchases: i64,
    /// Commissions paid to the network on sales.
    pub commissions: i64,
    /// Membership and other fees charged.
    pub fees: i64,
    /// Contributions to the guarantee fund.
    pub fund_contributions: i64,
    /// Everything else, signed (credit > 0): opening balances brought in, adjustments,
    /// debts written off.
    pub other: i64,
    pub closing_balance: i64,
    /// Transactions of the period on the member's account.
    pub transactions: u64,
}

/// Builds a member's summary for a period.
pub struct MemberSummaryBuilder {
    member: AccountId,
    period: Period,
    summary: MemberSummary,
}

impl MemberSummaryBuilder {
    pub fn new(member: AccountId, period: Period) -> MemberSummaryBuilder {
        MemberSummaryBuilder {
            member,
            period,
            summary: MemberSummary::default(),
        }
    }

    pub fn carry(&mut self, entry: &ExportEntry) {
        let net = entry.net_for(self.member);
        self.summary.opening_balance += net;
        self.summary.closing_balance += net;
    }

    pub fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        if !self.period.contains(entry.date()) {
            return Err(out_of_period(entry, self.period));
        }
        let mine: Vec<_> = entry
            .postings
            .iter()
            .filter(|p| p.account.id() == self.member)
            .collect();
        if mine.is_empty() {
            return Ok(());
        }
        self.summary.transactions += 1;
        let reversal = entry.kind == TxKind::Reversal;
        let member_counterparty = entry.postings.iter().any(|p| {
            p.account.id() != self.member
                && p.leg == Leg::Principal
                && p.account.kind() == AccountKind::Member
        });
        let s = &mut self.summary;
        for posting in mine {
            let amount = posting.amount.minor();
            s.closing_balance += amount;
            match posting.leg {
                Leg::Commission => s.commissions -= amount,
                Leg::FundContribution => s.fund_contributions -= amount,
                Leg::Principal => match entry.kind {
                    TxKind::Fee => s.fees -= amount,
                    TxKind::FundContribution => s.fund_contributions -= amount,
                    TxKind::Payment | TxKind::HoldCapture | TxKind::Reversal
                        if member_counterparty =>
                    {
                        // A reversal undoes the original: a reversed sale lowers sales.
                        let sale = (amount > 0) != reversal;
                        if sale {
                            s.sales += amount;
                        } else {
                            s.purchases -= amount;
                        }
                    }
                    _ => s.other += amount,
                },
            }
        }
        Ok(())
    }

    pub fn finish(self) -> MemberSummary {
        self.summary
    }
}

impl MemberSummary {
    /// Opening balance plus every category: equals the closing balance (a check printed on
    /// the page and asserted by the tests).
    pub fn recomputed_closing(&self) -> i64 {
        self.opening_balance + self.sales
            - self.purchases
            - self.commissions
            - self.fees
            - self.fund_contributions
            + self.other
    }
}

/// One line of a member's statement (relevé), from the member's side (credit > 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub date: NaiveDate,
    pub tx: TxId,
    pub kind: TxKind,
    /// The other member of a trade, or the system account on the other side.
    pub counterparty: String,
    pub reference: String,
    pub memo: String,
    /// Net on the member's account, every leg included.
    pub amount: i64,
    /// Of which commission and fund contribution (≤ 0 when paid).
    pub commission: i64,
    pub fund_contribution: i64,
    /// The balance after this line.
    pub balance: i64,
}

/// A member's statement for a period: the opening balance, every transaction on its
/// account, the totals and the closing balance (minor units, credit > 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub opening_balance: i64,
    pub lines: Vec<StatementLine>,
    /// Sum of the positive lines and of the negative lines (≤ 0).
    pub credits: i64,
    pub debits: i64,
    pub closing_balance: i64,
}

/// Builds a member's statement; at most [`STATEMENT_LINES_MAX`] lines.
pub struct StatementBuilder {
    member: AccountId,
    period: Period,
    statement: Statement,
}

impl StatementBuilder {
    pub fn new(member: AccountId, period: Period) -> StatementBuilder {
        StatementBuilder {
            member,
            period,
            statement: Statement::default(),
        }
    }

    pub fn carry(&mut self, entry: &ExportEntry) {
        let net = entry.net_for(self.member);
        self.statement.opening_balance += net;
        self.statement.closing_balance += net;
    }

    pub fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        if !self.period.contains(entry.date()) {
            return Err(out_of_period(entry, self.period));
        }
        if !entry.postings.iter().any(|p| p.account.id() == self.member) {
            return Ok(());
        }
        if self.statement.lines.len() >= STATEMENT_LINES_MAX {
            return Err(ExportError::TooManyLines {
                max: STATEMENT_LINES_MAX,
            });
        }
        let leg = |leg: Leg| -> i64 {
            entry
                .postings
                .iter()
                .filter(|p| p.account.id() == self.member && p.leg == leg)
                .map(|p| p.amount.minor())
                .sum()
        };
        let counterparty = entry
            .postings
            .iter()
            .find(|p| p.account.id() != self.member && p.leg == Leg::Principal)
            .map(|p| p.account.name().to_owned())
            .unwrap_or_default();
        let amount = entry.net_for(self.member);
        let s = &mut self.statement;
        s.closing_balance += amount;
        if amount > 0 {
            s.credits += amount;
        } else {
            s.debits += amount;
        }
        s.lines.push(StatementLine {
            date: entry.date(),
            tx: entry.tx,
            kind: entry.kind,
            counterparty,
            reference: entry.reference.clone(),
            memo: entry.memo.clone(),
            amount,
            commission: leg(Leg::Commission),
            fund_contribution: leg(Leg::FundContribution),
            balance: s.closing_balance,
        });
        Ok(())
    }

    pub fn finish(self) -> Statement {
        self.statement
    }
}

impl Feed for TrialBalanceBuilder {
    fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        TrialBalanceBuilder::carry(self, entry)
    }
    fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        TrialBalanceBuilder::push(self, entry)
    }
}

impl Feed for MemberSummaryBuilder {
    fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        MemberSummaryBuilder::carry(self, entry);
        Ok(())
    }
    fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        MemberSummaryBuilder::push(self, entry)
    }
}

impl Feed for StatementBuilder {
    fn carry(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        StatementBuilder::carry(self, entry);
        Ok(())
    }
    fn push(&mut self, entry: &ExportEntry) -> ExportResult<()> {
        StatementBuilder::push(self, entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use chrono::{NaiveDate, TimeZone, Utc};
    use ledger::{Amount, TxId};

    use crate::export::{AccountInfo, ExportPosting};

    fn info(id: u64, kind: AccountKind) -> Arc<AccountInfo> {
        Arc::new(match kind {
            AccountKind::Member => AccountInfo::member(AccountId(id), None, "M").unwrap(),
            other => AccountInfo::system(AccountId(id), other),
        })
    }

    fn entry(
        tx: u64,
        day: u32,
        kind: TxKind,
        postings: &[(u64, AccountKind, i64, Leg)],
    ) -> ExportEntry {
        ExportEntry {
            tx: TxId(tx),
            kind,
            time: Utc.with_ymd_and_hms(2025, 1, day, 12, 0, 0).unwrap(),
            reference: String::new(),
            memo: String::new(),
            reverses: None,
            invoice: None,
            postings: postings
                .iter()
                .map(|(id, k, amount, leg)| ExportPosting {
                    account: info(*id, *k),
                    amount: Amount::from_minor(*amount),
                    leg: *leg,
                })
                .collect(),
        }
    }

    #[test]
    fn member_summary_adds_up_to_the_closing_balance() {
        use AccountKind::{Fees, Member};
        use Leg::{Commission, Principal};
        let period = Period::new(
            NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
            NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        )
        .unwrap();
        let mut b = MemberSummaryBuilder::new(AccountId(10), period);
        b.carry(&entry(
            1,
            1,
            TxKind::Payment,
            &[(11, Member, -500, Principal), (10, Member, 500, Principal)],
        ));
        b.push(&entry(
            2,
            3,
            TxKind::Payment,
            &[
                (11, Member, -1000, Principal),
                (10, Member, 1000, Principal),
                (10, Member, -50, Commission),
                (2, Fees, 50, Commission),
            ],
        ))
        .unwrap();
        b.push(&entry(
            3,
            4,
            TxKind::Payment,
            &[(10, Member, -300, Principal), (12, Member, 300, Principal)],
        ))
        .unwrap();
        b.push(&entry(
            4,
            5,
            TxKind::Reversal,
            &[
                (11, Member, 1000, Principal),
                (10, Member, -1000, Principal),
                (10, Member, 50, Commission),
                (2, Fees, -50, Commission),
            ],
        ))
        .unwrap();
        b.push(&entry(
            5,
            6,
            TxKind::Fee,
            &[(10, Member, -235, Principal), (2, Fees, 235, Principal)],
        ))
        .unwrap();
        b.push(&entry(
            6,
            7,
            TxKind::Payment,
            &[(11, Member, -7, Principal), (12, Member, 7, Principal)],
        ))
        .unwrap();
        let s = b.finish();
        assert_eq!(s.opening_balance, 500);
        assert_eq!(
            (s.sales, s.purchases, s.commissions, s.fees),
            (0, 300, 0, 235)
        );
        assert_eq!(s.transactions, 4);
        assert_eq!(
            s.opening_balance + s.sales
                - s.purchases
                - s.commissions
                - s.fees
                - s.fund_contributions
                + s.other,
            s.closing_balance
        );
        assert_eq!(s.closing_balance, 500 - 300 - 235);
        assert_eq!(s.recomputed_closing(), s.closing_balance);
    }

    fn statement_period() -> Period {
        Period::new(
            NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
            NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn statement_lines_carry_a_running_balance() {
        use AccountKind::{Fees, Member};
        use Leg::{Commission, Principal};
        let mut b = StatementBuilder::new(AccountId(10), statement_period());
        b.carry(&entry(
            1,
            1,
            TxKind::Payment,
            &[(11, Member, -500, Principal), (10, Member, 500, Principal)],
        ));
        b.push(&entry(
            2,
            3,
            TxKind::Payment,
            &[
                (11, Member, -1000, Principal),
                (10, Member, 1000, Principal),
                (10, Member, -50, Commission),
                (2, Fees, 50, Commission),
            ],
        ))
        .unwrap();
        b.push(&entry(
            3,
            4,
            TxKind::Payment,
            &[(11, Member, -7, Principal), (12, Member, 7, Principal)],
        ))
        .unwrap();
        b.push(&entry(
            4,
            5,
            TxKind::Fee,
            &[(10, Member, -235, Principal), (2, Fees, 235, Principal)],
        ))
        .unwrap();
        let s = b.finish();
        assert_eq!(s.opening_balance, 500);
        assert_eq!(s.lines.len(), 2, "only the member's transactions");
        assert_eq!(
            (s.lines[0].amount, s.lines[0].commission, s.lines[0].balance),
            (950, -50, 1450)
        );
        assert_eq!(s.lines[0].counterparty, "M");
        assert_eq!((s.lines[1].amount, s.lines[1].balance), (-235, 1215));
        assert_eq!((s.credits, s.debits), (950, -235));
        assert_eq!(s.opening_balance + s.credits + s.debits, s.closing_balance);
        let late = entry(
            9,
            1,
            TxKind::Payment,
            &[(11, Member, -1, Principal), (10, Member, 1, Principal)],
        );
        let mut b = StatementBuilder::new(AccountId(10), statement_period());
        assert!(matches!(
            b.push(&late),
            Err(ExportError::OutOfPeriod { .. })
        ));
    }

    #[test]
    fn statements_hold_at_most_the_line_limit() {
        use AccountKind::Member;
        use Leg::Principal;
        let mut b = StatementBuilder::new(AccountId(10), statement_period());
        let one = |tx: u64| {
            entry(
                tx,
                10,
                TxKind::Payment,
                &[(11, Member, -1, Principal), (10, Member, 1, Principal)],
            )
        };
        for tx in 0..STATEMENT_LINES_MAX as u64 {
            b.push(&one(tx)).unwrap();
        }
        assert!(matches!(
            b.push(&one(STATEMENT_LINES_MAX as u64)),
            Err(ExportError::TooManyLines {
                max: STATEMENT_LINES_MAX
            })
        ));
        let s = b.finish();
        assert_eq!(s.lines.len(), STATEMENT_LINES_MAX);
        assert_eq!(s.closing_balance, STATEMENT_LINES_MAX as i64);
    }
}
