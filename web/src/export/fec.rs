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

fn or_else(text: String, fallback: impl FnOnce() -> String) -> String {
    if text.is_empty() {
        fallback()
    } else {
        text
    }
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
        // Required fields stay filled even when the user's text was nothing but separators.
        let piece = or_else(field(&entry.piece_ref), || format!("E{num}"));
        let label = or_else(field(&entry.label), || entry.journal.label().to_owned());
        for line in &entry.lines {
            let (debit, credit) = if line.debit > 0 {
                (line.debit, 0)
            } else {
                (0, -line.debit)
            };
            let (aux_num, aux_label) = match &line.aux {
                Some(aux) => (
                    field(&aux.num),
                    or_else(field(&aux.label), || field(&aux.num)),
                ),
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::export::book::{Aux, Journal, Line};
    use crate::export::mapping::GlAccount;

    #[test]
    fn required_fields_survive_text_made_of_separators() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let account = GlAccount::new("467100", "Barter").unwrap();
        let entry = BookedEntry {
            journal: Journal::Barter,
            date,
            piece_ref: "|||".into(),
            label: "|".into(),
            tx: None,
            lines: vec![
                Line {
                    account: account.clone(),
                    aux: Some(Aux {
                        num: "M7".into(),
                        label: "||".into(),
                    }),
                    debit: 5,
                },
                Line {
                    account,
                    aux: None,
                    debit: -5,
                },
            ],
        };
        let mut out = Vec::new();
        FecWriter::new().entry(&mut out, &entry, 3, date).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first: Vec<&str> = text.lines().next().unwrap().split('|').collect();
        assert_eq!(first.len(), 18);
        assert_eq!(
            (first[6], first[7], first[8], first[10]),
            ("M7", "M7", "E3", "Echanges barter")
        );
        assert_eq!((first[11], first[12]), ("0,05", "0,00"));
    }
}
