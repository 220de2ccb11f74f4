//! hledger journal (the subset ledger-cli also reads): dot decimals, commodity after the
//! amount, accounts `<PCG number>` or `<PCG number>:<auxiliary>`, every account and the
//! commodity declared (declarations come last: hledger reads them from anywhere, and only
//! then are all the accounts known without a second pass).

use std::io::Write;

use super::book::{BookedEntry, Booker};
use super::text::{decimal, one_line};
use super::{ExportHeader, ExportResult, Scope};

pub(crate) struct JournalWriter;

pub(crate) fn account_name(num: &str, aux: Option<&str>) -> String {
    match aux {
        Some(aux) => format!("{num}:{aux}"),
        None => num.to_owned(),
    }
}

/// Text after a date: one line, no `;` (starts a comment), no parentheses in the code.
fn text(value: &str) -> String {
    one_line(value, &[';', '(', ')', '|'])
}

impl JournalWriter {
    pub(crate) fn new() -> JournalWriter {
        JournalWriter
    }

    pub(crate) fn begin(
        &mut self,
        out: &mut impl Write,
        header: &ExportHeader,
    ) -> ExportResult<()> {
        let period = header.period();
        writeln!(
            out,
            "; Troc export: {} (SIREN {}), {}, {} to {}",
            text(header.books_name()),
            header.books_siren(),
            match header.scope() {
                Scope::Network => "network books",
                Scope::Member(_) => "member books",
            },
            period.from(),
            period.to()
        )?;
        writeln!(out, "commodity 1000.00 EUR")?;
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
            "\n{} * ({}) {}",
            entry.date.format("%Y-%m-%d"),
            text(&entry.piece_ref),
            text(&entry.label)
        )?;
        match entry.tx {
            Some(tx) => writeln!(
                out,
                "    ; entry:{num}, journal:{}, tx:{tx}",
                entry.journal.code()
            )?,
            None => writeln!(out, "    ; entry:{num}, journal:{}", entry.journal.code())?,
        }
        for line in &entry.lines {
            writeln!(
                out,
                "    {}  {} EUR",
                account_name(
                    line.account.num(),
                    line.aux.as_ref().map(|a| a.num.as_str())
                ),
                decimal(line.debit, '.')
            )?;
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, out: &mut impl Write, booker: &Booker) -> ExportResult<()> {
        writeln!(out)?;
        for balance in booker.balances() {
            let name = account_name(
                balance.account.num(),
                balance.aux.as_ref().map(|a| a.num.as_str()),
            );
            let label = match &balance.aux {
                Some(aux) => format!("{} - {}", balance.account.label(), aux.label),
                None => balance.account.label().to_owned(),
            };
            // Two spaces before the comment: one would make it part of the account name.
            writeln!(out, "account {name}  ; {}", one_line(&label, &[]))?;
        }
        Ok(())
    }
}
