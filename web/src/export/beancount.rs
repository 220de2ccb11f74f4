//! Beancount: accounts `<Root>:<PCG number>[:<auxiliary>]` (root chosen from the PCG
//! class), metadata linking each entry to its ledger transaction, `open` directives and
//! closing `balance` assertions at the end (Beancount does not depend on the order of
//! directives, so one streaming pass suffices).

use std::io::Write;

use super::book::{BookedEntry, Booker};
use super::mapping::GlAccount;
use super::text::{decimal, one_line};
use super::{ExportHeader, ExportResult};

pub(crate) struct BeancountWriter;

/// The Beancount root for a PCG account: classes 2, 3, 5, receivables (41x) and the debit
/// side of miscellaneous accounts (467, 471–476) are assets; 6 expenses; 7 income; equity
/// accounts of class 1 (10–14) are equity; other class-1 and class-4 accounts liabilities.
pub(crate) fn root(account: &GlAccount) -> &'static str {
    let num = account.num();
    match account.class() {
        2 | 3 | 5 => "Assets",
        6 => "Expenses",
        7 => "Income",
        1 if num.starts_with("10")
            || num.starts_with("11")
            || num.starts_with("12")
            || num.starts_with("13")
            || num.starts_with("14") =>
        {
            "Equity"
        }
        4 if num.starts_with("41")
            || num.starts_with("467")
            || num.starts_with("471")
            || num.starts_with("472")
            || num.starts_with("473")
            || num.starts_with("476") =>
        {
            "Assets"
        }
        8 => "Equity",
        _ => "Liabilities",
    }
}

pub(crate) fn account_name(account: &GlAccount, aux: Option<&str>) -> String {
    // Components must start with a capital letter or a digit: PCG numbers and SIRENs do;
    // `M<id>` does too.
    match aux {
        Some(aux) => format!("{}:{}:{}", root(account), account.num(), aux),
        None => format!("{}:{}", root(account), account.num()),
    }
}

fn string(value: &str) -> String {
    one_line(value, &[])
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

impl BeancountWriter {
    pub(crate) fn new() -> BeancountWriter {
        BeancountWriter
    }

    pub(crate) fn begin(
        &mut self,
        out: &mut impl Write,
        header: &ExportHeader,
    ) -> ExportResult<()> {
        let period = header.period();
        writeln!(
            out,
            "option \"title\" \"Troc: {} (SIREN {}), {} to {}\"",
            string(header.books_name()),
            header.books_siren(),
            period.from(),
            period.to()
        )?;
        writeln!(out, "option \"operating_currency\" \"EUR\"")?;
        writeln!(out, "{} commodity EUR", period.from())?;
        Ok(())
    }

    pub(crate) fn entry(
        &mut self,
        out: &mut impl Write,
        entry: &BookedEntry,
        num: u64,
    ) -> ExportResult<()> {
        writeln!(
            out,
            "\n{} * \"{}\" \"{}\"",
            entry.date.format("%Y-%m-%d"),
            string(&entry.piece_ref),
            string(&entry.label)
        )?;
        writeln!(out, "  entry: \"{num}\"")?;
        writeln!(out, "  journal: \"{}\"", entry.journal.code())?;
        if let Some(tx) = entry.tx {
            writeln!(out, "  tx: \"{tx}\"")?;
        }
        for line in &entry.lines {
            writeln!(
                out,
                "  {}  {} EUR",
                account_name(&line.account, line.aux.as_ref().map(|a| a.num.as_str())),
                decimal(line.debit, '.')
            )?;
        }
        Ok(())
    }

    pub(crate) fn finish(
        &mut self,
        out: &mut impl Write,
        header: &ExportHeader,
        booker: &Booker,
    ) -> ExportResult<()> {
        let period = header.period();
        // A balance assertion applies at the start of its date: the day after the period.
        let after = period.to().succ_opt().unwrap_or(period.to());
        writeln!(out)?;
        for balance in booker.balances() {
            let name = account_name(
                &balance.account,
                balance.aux.as_ref().map(|a| a.num.as_str()),
            );
            let label = match &balance.aux {
                Some(aux) => format!("{} - {}", balance.account.label(), aux.label),
                None => balance.account.label().to_owned(),
            };
            writeln!(out, "{} open {name} EUR", period.from())?;
            writeln!(out, "  name: \"{}\"", string(&label))?;
            writeln!(
                out,
                "{after} balance {name}  {} EUR",
                decimal(balance.debit, '.')
            )?;
        }
        Ok(())
    }
}
