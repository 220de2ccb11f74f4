//! Booking: turns ledger transactions into balanced accounting entries (debit/credit lines on
//! PCG accounts), from the operator's or one member's point of view.
//!
//! Signs. In the ledger a posting's amount is a credit to the account holder when positive.
//! - The operator's books mirror the ledger: a member in credit (owed units) is a credit
//!   balance (468), the fees account's credits are revenue (706), and so on; line debit =
//!   −posting.
//! - A member's books see its barter account from the other side: units it holds are an
//!   asset, so line debit on the barter account = +posting, and the counterpart line (the
//!   customer, supplier, commission...) takes the opposite amount.
//!
//! Balances are tracked per (account, auxiliary) so that split positions (467 in debit /
//! 468 in credit) follow the running balance, and so that the opening entry of a period can
//! be built from the history before it. Memory is proportional to the number of accounts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ledger::{AccountId, AccountKind, Leg, TxId, TxKind};

use super::mapping::{
    AccountMapping, FundTreatment, GlAccount, MemberMapping, OperatorMapping, Position,
    SplitAccount,
};
use super::text::{one_line, truncate_chars};
use super::{AccountInfo, ExportEntry, ExportError, ExportResult, Scope};

/// Longest entry label (EcritureLib), in characters.
pub const ENTRY_LABEL_LEN_MAX: usize = 200;

/// The journals entries are written to (FEC JournalCode / JournalLib).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Journal {
    /// À-nouveaux: the balances carried into the period.
    Opening,
    /// Trades (payments and captured holds).
    Barter,
    /// Membership fees and fund contributions charged on their own.
    Fees,
    /// Reversals, write-offs, recoveries, opening balances brought in, adjustments.
    Misc,
}

impl Journal {
    pub fn code(self) -> &'static str {
        match self {
            Journal::Opening => "AN",
            Journal::Barter => "BT",
            Journal::Fees => "FR",
            Journal::Misc => "OD",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Journal::Opening => "A-nouveaux",
            Journal::Barter => "Echanges barter",
            Journal::Fees => "Frais et cotisations barter",
            Journal::Misc => "Operations diverses barter",
        }
    }
    fn for_kind(kind: TxKind) -> Journal {
        match kind {
            TxKind::Payment | TxKind::HoldCapture => Journal::Barter,
            TxKind::Fee | TxKind::FundContribution => Journal::Fees,
            TxKind::Reversal
            | TxKind::WriteOff
            | TxKind::Recovery
            | TxKind::OpeningBalance
            | TxKind::Adjustment => Journal::Misc,
        }
    }
}

/// An auxiliary (sub-ledger) account: a member company.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Aux {
    pub num: String,
    pub label: String,
}

impl Aux {
    fn of(info: &AccountInfo) -> Aux {
        Aux {
            num: info.aux_num(),
            label: info.name().to_owned(),
        }
    }
}

/// One line of an accounting entry: `debit` > 0 is a debit, < 0 a credit, never 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: GlAccount,
    pub aux: Option<Aux>,
    pub debit: i64,
}

/// A balanced accounting entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedEntry {
    pub journal: Journal,
    pub date: NaiveDate,
    /// The supporting document: the trade's reference (invoice), or `T<transaction id>`.
    pub piece_ref: String,
    pub label: String,
    /// The ledger transaction, `None` for the opening entry.
    pub tx: Option<TxId>,
    pub lines: Vec<Line>,
}

/// The balance of one (account, auxiliary) pair, debit > 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    pub account: GlAccount,
    pub aux: Option<Aux>,
    pub debit: i64,
}

type Key = (String, Option<String>);

#[derive(Debug, Clone)]
enum Books {
    Operator(OperatorMapping),
    Member {
        id: AccountId,
        mapping: MemberMapping,
    },
}

/// Books ledger transactions one by one and keeps the running balances.
#[derive(Debug, Clone)]
pub struct Booker {
    books: Books,
    balances: Balances,
}

/// Running balances per (account, auxiliary).
#[derive(Debug, Clone, Default)]
struct Balances(BTreeMap<Key, AccountBalance>);

enum Target<'m> {
    Single(&'m GlAccount),
    Split(&'m SplitAccount),
}

impl<'m> From<&'m Position> for Target<'m> {
    fn from(position: &'m Position) -> Target<'m> {
        match position {
            Position::Single(account) => Target::Single(account),
            Position::Split(split) => Target::Split(split),
        }
    }
}

fn kind_label(entry: &ExportEntry) -> String {
    match entry.kind {
        TxKind::Payment => "Echange".to_owned(),
        TxKind::HoldCapture => "Echange (reservation)".to_owned(),
        TxKind::Fee => "Frais".to_owned(),
        TxKind::FundContribution => "Contribution fonds de garantie".to_owned(),
        TxKind::Reversal => match entry.reverses {
            Some(original) => format!("Annulation de T{original}"),
            None => "Annulation".to_owned(),
        },
        TxKind::WriteOff => "Passage en perte".to_owned(),
        TxKind::Recovery => "Recouvrement".to_owned(),
        TxKind::OpeningBalance => "Reprise de solde".to_owned(),
        TxKind::Adjustment => "Regularisation".to_owned(),
    }
}

fn entry_label(entry: &ExportEntry, names: &[&str]) -> String {
    let mut label = kind_label(entry);
    let memo = one_line(&entry.memo, &[]);
    if !memo.is_empty() {
        label.push_str(" - ");
        label.push_str(&memo);
    }
    if !names.is_empty() {
        label.push_str(" - ");
        label.push_str(&names.join(" / "));
    }
    truncate_chars(&label, ENTRY_LABEL_LEN_MAX)
}

/// The entry's piece: the invoice or credit note issued in Troc for it, else the
/// transaction's reference (the members' own invoice number), else `T<id>`.
fn piece_ref(entry: &ExportEntry) -> String {
    if let Some(number) = &entry.invoice {
        return one_line(number, &[]);
    }
    let reference = one_line(&entry.reference, &[]);
    if reference.is_empty() {
        format!("T{}", entry.tx)
    } else {
        reference
    }
}

impl Booker {
    pub fn new(mapping: &AccountMapping, scope: &Scope) -> Booker {
        let books = match scope {
            Scope::Network => Books::Operator(mapping.operator.clone()),
            Scope::Member(info) => Books::Member {
                id: info.id(),
                mapping: mapping.for_member(info.id()).clone(),
            },
        };
        Booker {
            books,
            balances: Balances::default(),
        }
    }

    /// Every (account, auxiliary) booked so far with its balance, in account order.
    pub fn balances(&self) -> impl Iterator<Item = &AccountBalance> {
        self.balances.0.values()
    }

    /// Books one transaction. `None` when it does not concern these books (a member's
    /// books and a transaction without a posting on that member).
    pub fn book(&mut self, entry: &ExportEntry) -> ExportResult<Option<BookedEntry>> {
        let books = &self.books;
        let balances = &mut self.balances;
        let mut lines = Vec::with_capacity(entry.postings.len() * 2);
        let mut names: Vec<&str> = Vec::new();
        match books {
            Books::Operator(mapping) => {
                for posting in &entry.postings {
                    let info = &posting.account;
                    let debit = posting
                        .amount
                        .minor()
                        .checked_neg()
                        .ok_or(ExportError::Overflow)?;
                    match info.kind() {
                        AccountKind::Member => {
                            if !names.contains(&info.name()) {
                                names.push(info.name());
                            }
                            let aux = Aux::of(info);
                            balances.post_target(
                                &mut lines,
                                &Target::from(&mapping.members),
                                Some(&aux),
                                debit,
                            )?;
                        }
                        AccountKind::Fees => {
                            let account = if posting.leg == Leg::Commission {
                                &mapping.commission
                            } else {
                                &mapping.membership_fee
                            };
                            balances.post(&mut lines, account, None, debit)?;
                        }
                        AccountKind::GuaranteeFund => match &mapping.fund {
                            FundTreatment::Deposits { account } => {
                                balances.post(&mut lines, account, None, debit)?
                            }
                            FundTreatment::Provision {
                                provision,
                                allocation,
                                reversal,
                                contribution_revenue,
                                realised_loss,
                            } => {
                                balances.post(&mut lines, provision, None, debit)?;
                                let magnitude = debit.checked_abs().ok_or(ExportError::Overflow)?;
                                let (expense, revenue) = if debit < 0 {
                                    // Contribution: revenue, allocated to the provision.
                                    (allocation, contribution_revenue)
                                } else {
                                    // Default absorbed: a realised loss, covered by the
                                    // provision's reversal.
                                    (realised_loss, reversal)
                                };
                                balances.post(&mut lines, expense, None, magnitude)?;
                                balances.post(&mut lines, revenue, None, -magnitude)?;
                            }
                        },
                        AccountKind::Losses => {
                            balances.post(&mut lines, &mapping.losses, None, debit)?
                        }
                        AccountKind::Migration => {
                            balances.post(&mut lines, &mapping.migration, None, debit)?
                        }
                    }
                }
            }
            Books::Member { id, mapping } => {
                for posting in entry.postings.iter().filter(|p| p.account.id() == *id) {
                    let amount = posting.amount.minor();
                    let counter_debit = amount.checked_neg().ok_or(ExportError::Overflow)?;
                    balances.post_target(
                        &mut lines,
                        &Target::from(&mapping.barter),
                        None,
                        amount,
                    )?;
                    let counterparty = (posting.leg == Leg::Principal)
                        .then(|| counterparty(entry, *id, amount))
                        .flatten();
                    let (account, aux) = match (posting.leg, counterparty) {
                        (Leg::Commission, _) => (&mapping.commission, None),
                        (Leg::FundContribution, _) => (&mapping.fund_contribution, None),
                        (Leg::Principal, _) if entry.kind == TxKind::WriteOff => {
                            (&mapping.debt_forgiven, None)
                        }
                        (Leg::Principal, Some(other)) => match other.kind() {
                            AccountKind::Member => {
                                if !names.contains(&other.name()) {
                                    names.push(other.name());
                                }
                                // A reversal undoes the original trade: the same customer
                                // or supplier, the other way round.
                                let sale = (amount > 0) != (entry.kind == TxKind::Reversal);
                                let account = if sale {
                                    &mapping.customers
                                } else {
                                    &mapping.suppliers
                                };
                                (account, Some(Aux::of(other)))
                            }
                            AccountKind::Fees => (&mapping.membership_fee, None),
                            AccountKind::GuaranteeFund => (&mapping.fund_contribution, None),
                            AccountKind::Losses => (&mapping.debt_forgiven, None),
                            AccountKind::Migration => (&mapping.opening, None),
                        },
                        (Leg::Principal, None) => (&mapping.opening, None),
                    };
                    balances.post(&mut lines, account, aux.as_ref(), counter_debit)?;
                }
                if lines.is_empty() {
                    return Ok(None);
                }
            }
        }
        let sum: i128 = lines.iter().map(|l| i128::from(l.debit)).sum();
        if sum != 0 || lines.is_empty() {
            return Err(ExportError::Unbalanced { tx: entry.tx });
        }
        Ok(Some(BookedEntry {
            journal: Journal::for_kind(entry.kind),
            date: entry.date(),
            piece_ref: piece_ref(entry),
            label: entry_label(entry, &names),
            tx: Some(entry.tx),
            lines,
        }))
    }

    /// Closes the history before a period into its opening entry (à-nouveaux): income and
    /// expense balances (classes 6 and 7) go to retained earnings and restart from zero;
    /// every balance-sheet balance is carried. `None` when there is nothing to carry.
    pub fn opening_entry(&mut self, date: NaiveDate) -> ExportResult<Option<BookedEntry>> {
        let mut result: i64 = 0;
        let income_keys: Vec<Key> = self
            .balances
            .0
            .iter()
            .filter(|(_, b)| !b.account.is_balance_sheet())
            .map(|(k, _)| k.clone())
            .collect();
        for key in income_keys {
            if let Some(balance) = self.balances.0.get_mut(&key) {
                result = result
                    .checked_add(balance.debit)
                    .ok_or(ExportError::Overflow)?;
                balance.debit = 0;
            }
        }
        let retained = match &self.books {
            Books::Operator(m) => m.retained.clone(),
            Books::Member { mapping, .. } => mapping.retained.clone(),
        };
        let mut discarded = Vec::new();
        self.balances
            .post_target(&mut discarded, &Target::Split(&retained), None, result)?;
        let lines: Vec<Line> = self
            .balances
            .0
            .values()
            .filter(|b| b.debit != 0)
            .map(|b| Line {
                account: b.account.clone(),
                aux: b.aux.clone(),
                debit: b.debit,
            })
            .collect();
        if lines.is_empty() {
            return Ok(None);
        }
        Ok(Some(BookedEntry {
            journal: Journal::Opening,
            date,
            piece_ref: format!("AN{}", date.format("%Y%m%d")),
            label: "A-nouveaux (soldes reportes)".to_owned(),
            tx: None,
            lines,
        }))
    }
}

impl Balances {
    fn balance(&self, account: &GlAccount, aux: Option<&Aux>) -> i64 {
        self.0
            .get(&(account.num().to_owned(), aux.map(|a| a.num.clone())))
            .map_or(0, |b| b.debit)
    }

    fn post(
        &mut self,
        lines: &mut Vec<Line>,
        account: &GlAccount,
        aux: Option<&Aux>,
        debit: i64,
    ) -> ExportResult<()> {
        if debit == 0 {
            return Ok(());
        }
        let key = (account.num().to_owned(), aux.map(|a| a.num.clone()));
        let balance = self.0.entry(key).or_insert_with(|| AccountBalance {
            account: account.clone(),
            aux: aux.cloned(),
            debit: 0,
        });
        balance.debit = balance
            .debit
            .checked_add(debit)
            .ok_or(ExportError::Overflow)?;
        lines.push(Line {
            account: account.clone(),
            aux: aux.cloned(),
            debit,
        });
        Ok(())
    }

    /// Books `debit` on a target; a split position takes the part of the movement that
    /// lies above zero on its debit account and the part below zero on its credit account.
    fn post_target(
        &mut self,
        lines: &mut Vec<Line>,
        target: &Target<'_>,
        aux: Option<&Aux>,
        debit: i64,
    ) -> ExportResult<()> {
        match target {
            Target::Single(account) => self.post(lines, account, aux, debit),
            Target::Split(split) => {
                let before = self
                    .balance(&split.debit, aux)
                    .checked_add(self.balance(&split.credit, aux))
                    .ok_or(ExportError::Overflow)?;
                let after = before.checked_add(debit).ok_or(ExportError::Overflow)?;
                let on_debit = after.max(0) - before.max(0);
                let on_credit = after.min(0) - before.min(0);
                // Credit part first when the balance falls, debit part first when it rises,
                // so that the lines read in the order the balance moves.
                if debit < 0 {
                    self.post(lines, &split.debit, aux, on_debit)?;
                    self.post(lines, &split.credit, aux, on_credit)
                } else {
                    self.post(lines, &split.credit, aux, on_credit)?;
                    self.post(lines, &split.debit, aux, on_debit)
                }
            }
        }
    }
}

/// The other side of a member's principal posting: the principal posting of opposite sign
/// on another account, preferring the one with the exact opposite amount.
fn counterparty(entry: &ExportEntry, member: AccountId, amount: i64) -> Option<&AccountInfo> {
    let candidates = || {
        entry.postings.iter().filter(move |p| {
            p.leg == Leg::Principal
                && p.account.id() != member
                && (p.amount.minor() > 0) != (amount > 0)
        })
    };
    candidates()
        .find(|p| Some(p.amount.minor()) == amount.checked_neg())
        .or_else(|| candidates().next())
        .map(|p| p.account.as_ref())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use ledger::Amount;

    use super::*;
    use crate::export::ExportPosting;

    fn entry(memo: &str) -> ExportEntry {
        let member = |id: u64| Arc::new(AccountInfo::member(AccountId(id), None, "M").unwrap());
        ExportEntry {
            tx: TxId(1),
            kind: TxKind::Payment,
            time: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            reference: String::new(),
            memo: memo.to_owned(),
            reverses: None,
            invoice: None,
            postings: vec![
                ExportPosting {
                    account: member(1),
                    amount: Amount::from_minor(-5),
                    leg: Leg::Principal,
                },
                ExportPosting {
                    account: member(2),
                    amount: Amount::from_minor(5),
                    leg: Leg::Principal,
                },
            ],
        }
    }

    #[test]
    fn labels_are_cut_at_their_limit() {
        let short = entry_label(&entry("x"), &[]);
        let room = ENTRY_LABEL_LEN_MAX - short.chars().count() + 1;
        let fits = entry_label(&entry(&"é".repeat(room)), &[]);
        assert_eq!(fits.chars().count(), ENTRY_LABEL_LEN_MAX);
        assert!(fits.ends_with('é'));
        let cut = entry_label(&entry(&"é".repeat(room + 1)), &[]);
        assert_eq!(cut.chars().count(), ENTRY_LABEL_LEN_MAX);
        assert_eq!(piece_ref(&entry("")), "T1");
        // An invoice issued in Troc is the piece, before the transaction's reference.
        let mut invoiced = entry("");
        invoiced.reference = "DEVIS-7".into();
        assert_eq!(piece_ref(&invoiced), "DEVIS-7");
        invoiced.invoice = Some("FA-2026-00001".into());
        assert_eq!(piece_ref(&invoiced), "FA-2026-00001");
    }

    #[test]
    fn a_split_position_follows_the_balance_sign() {
        let split = SplitAccount {
            debit: GlAccount::new("467100", "D").unwrap(),
            credit: GlAccount::new("468100", "C").unwrap(),
        };
        let mut balances = Balances::default();
        let mut lines = Vec::new();
        balances
            .post_target(&mut lines, &Target::Split(&split), None, 100)
            .unwrap();
        balances
            .post_target(&mut lines, &Target::Split(&split), None, -300)
            .unwrap();
        let shown: Vec<(&str, i64)> = lines.iter().map(|l| (l.account.num(), l.debit)).collect();
        assert_eq!(
            shown,
            vec![("467100", 100), ("467100", -100), ("468100", -200)]
        );
        assert_eq!(balances.balance(&split.debit, None), 0);
        assert_eq!(balances.balance(&split.credit, None), -200);
    }
}
