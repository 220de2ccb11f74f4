//! FEC (Fichier des Écritures Comptables, LPF art. A47 A-1): the 18 fields in order, `|`
//! separated, UTF-8 without BOM, CRLF-free LF records, decimal comma without thousands
//! separator, dates AAAAMMJJ, one debit or credit per line.

use std::io::Write;

use chrono::NaiveDate;

use super::book::BookedEntry;
use super::text::{compact_date, decimal, one_line};
use super::ExportResult;

/// The 18 field names, in the order of the arrêté.
pub const FEC_FIELDS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

pub(crate) struct FecWriter;

/// Free text in a FEC field: one line, no `|`.
fn field(text: &str) -> String {
    one_line(text, &['|'])
}

impl FecWriter {
    pub(crate) fn new() -> FecWriter {
        FecWriter
    }

    pub(crate) fn begin(&mut self, out: &mut impl Write) -> ExportResult<()> {
        writeln!(out, "{}", FEC_FIELDS.join("|"))?;
        Ok(())
    }

    pub(crate) fn entry(
        &mut self,
        out: &mut impl Write,
        entry: &BookedEntry,
        num: u64,
        valid: NaiveDate,
    ) -> ExportResult<()> {
        let date = compact_date(entry.date);
        let valid = compact_date(valid.max(entry.date));
        let piece = field(&entry.piece_ref);
        let label = field(&entry.label);
        for line in &entry.lines {
            let (debit, credit) = if line.debit > 0 {
                (line.debit, 0)
            } else {
                (0, -line.debit)
            };
            let (aux_num, aux_label) = match &line.aux {
                Some(aux) => (field(&aux.num), field(&aux.label)),
                None => (String::new(), String::new()),
            };
            writeln!(
                out,
                "{}|{}|{:06}|{date}|{}|{}|{aux_num}|{aux_label}|{piece}|{date}|{label}|{}|{}|||{valid}||",
                entry.journal.code(),
                entry.journal.label(),
                num,
                line.account.num(),
                field(line.account.label()),
                decimal(debit, ','),
                decimal(credit, ','),
            )?;
        }
        Ok(())
    }
}
