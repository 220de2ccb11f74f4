//! CSV for spreadsheets and importers: one row per ledger posting in scope, `;` separated,
//! UTF-8, separate debit and credit columns from the account holder's side, a running
//! balance per account, French (JJ/MM/AAAA) or ISO dates and a comma or dot decimal mark.

use std::collections::BTreeMap;
use std::io::Write;

use ledger::AccountId;

use super::text::{decimal, one_line};
use super::{ExportEntry, ExportResult, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `31/12/2025`
    French,
    /// `2025-12-31`
    Iso,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    Comma,
    Dot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    pub dates: DateStyle,
    pub decimal: DecimalMark,
}

impl CsvOptions {
    /// What a French spreadsheet expects.
    pub const FRENCH: CsvOptions = CsvOptions {
        dates: DateStyle::French,
        decimal: DecimalMark::Comma,
    };
    pub const ISO: CsvOptions = CsvOptions {
        dates: DateStyle::Iso,
        decimal: DecimalMark::Dot,
    };
}

pub const CSV_COLUMNS: [&str; 14] = [
    "date",
    "transaction",
    "kind",
    "reference",
    "memo",
    "account",
    "account_kind",
    "siren",
    "name",
    "leg",
    "debit",
    "credit",
    "balance",
    "currency",
];

pub(crate) struct CsvWriter {
    options: CsvOptions,
    balances: BTreeMap<AccountId, i64>,
}

/// One CSV field: quoted when it holds the separator, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is defused with an apostrophe so that a memo cannot become a
/// spreadsheet formula.
fn field(value: &str) -> String {
    let value = one_line(value, &[]);
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value
    };
    if value.contains([';', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

impl CsvWriter {
    pub(crate) fn new(options: CsvOptions) -> CsvWriter {
        CsvWriter {
            options,
            balances: BTreeMap::new(),
        }
    }

    fn mark(&self) -> char {
        match self.options.decimal {
            DecimalMark::Comma => ',',
            DecimalMark::Dot => '.',
        }
    }

    pub(crate) fn begin(
        &mut self,
        out: &mut impl Write,
        opening: BTreeMap<AccountId, i64>,
    ) -> ExportResult<()> {
        self.balances = opening;
        writeln!(out, "{}", CSV_COLUMNS.join(";"))?;
        Ok(())
    }

    /// Returns the rows written and their debit and credit totals.
    pub(crate) fn entry(
        &mut self,
        out: &mut impl Write,
        entry: &ExportEntry,
        scope: &Scope,
    ) -> ExportResult<(u64, i128, i128)> {
        let date = match self.options.dates {
            DateStyle::French => entry.date().format("%d/%m/%Y").to_string(),
            DateStyle::Iso => entry.date().format("%Y-%m-%d").to_string(),
        };
        let mark = self.mark();
        let mut rows = 0;
        let (mut debits, mut credits) = (0i128, 0i128);
        for posting in &entry.postings {
            if let Scope::Member(info) = scope {
                if posting.account.id() != info.id() {
                    continue;
                }
            }
            let amount = posting.amount.minor();
            let balance = self.balances.entry(posting.account.id()).or_insert(0);
            *balance = balance
                .checked_add(amount)
                .ok_or(super::ExportError::Overflow)?;
            let (debit, credit) = if amount < 0 {
                (-amount, 0)
            } else {
                (0, amount)
            };
            debits += i128::from(debit);
            credits += i128::from(credit);
            writeln!(
                out,
                "{date};{};{};{};{};{};{};{};{};{};{};{};{};EUR",
                entry.tx,
                entry.kind.as_str(),
                field(&entry.reference),
                field(&entry.memo),
                posting.account.id(),
                posting.account.kind().as_str(),
                posting.account.siren().map_or("", |s| s.as_str()),
                field(posting.account.name()),
                posting.leg.as_str(),
                if debit > 0 {
                    decimal(debit, mark)
                } else {
                    String::new()
                },
                if credit > 0 {
                    decimal(credit, mark)
                } else {
                    String::new()
                },
                decimal(*balance, mark),
            )?;
            rows += 1;
        }
        Ok((rows, debits, credits))
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("-3"), "'-3");
        assert_eq!(field("a\nb"), "a b");
        assert_eq!(field("plain"), "plain");
    }
}
