//! OFX 1.0.2 (SGML) statement of one member's barter account, importable like a bank
//! account. One `STMTTRN` per (transaction, leg) with a stable, unique FITID
//! `T<transaction id>-<P|C|F>` (principal, commission, fund contribution), so that importers
//! that deduplicate on FITID never drop or double a line when periods overlap.

use std::collections::BTreeMap;
use std::io::Write;

use ledger::{AccountId, Leg, TxKind};

use super::text::{compact_date, decimal, one_line, truncate_chars};
use super::{AccountInfo, ExportEntry, ExportHeader, ExportResult};

/// OFX 1.x limits NAME to 32 characters and MEMO to 255.
const NAME_LEN_MAX: usize = 32;
const MEMO_LEN_MAX: usize = 255;

pub(crate) struct OfxWriter;

fn sgml(value: &str) -> String {
    one_line(value, &[])
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn leg_code(leg: Leg) -> char {
    match leg {
        Leg::Principal => 'P',
        Leg::Commission => 'C',
        Leg::FundContribution => 'F',
    }
}

impl OfxWriter {
    pub(crate) fn new() -> OfxWriter {
        OfxWriter
    }

    pub(crate) fn begin(
        &mut self,
        out: &mut impl Write,
        header: &ExportHeader,
        _opening: BTreeMap<AccountId, i64>,
    ) -> ExportResult<()> {
        let period = header.period();
        let generated = header.generated_at.format("%Y%m%d%H%M%S");
        let account = match header.scope() {
            super::Scope::Member(info) => info.id(),
            super::Scope::Network => unreachable!("checked by the exporter"),
        };
        write!(
            out,
            "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:UTF-8\nCHARSET:NONE\n\
             COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n\
             <OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>0</CODE>\n<SEVERITY>INFO</SEVERITY>\n\
             </STATUS>\n<DTSERVER>{generated}</DTSERVER>\n<LANGUAGE>FRA</LANGUAGE>\n</SONRS>\n\
             </SIGNONMSGSRSV1>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n<TRNUID>{account}-{from}-{to}</TRNUID>\n\
             <STATUS>\n<CODE>0</CODE>\n<SEVERITY>INFO</SEVERITY>\n</STATUS>\n<STMTRS>\n\
             <CURDEF>EUR</CURDEF>\n<BANKACCTFROM>\n<BANKID>{bank}</BANKID>\n<ACCTID>{account}</ACCTID>\n\
             <ACCTTYPE>CHECKING</ACCTTYPE>\n</BANKACCTFROM>\n<BANKTRANLIST>\n<DTSTART>{from}</DTSTART>\n\
             <DTEND>{to}</DTEND>\n",
            bank = header.network_siren().as_str(),
            from = compact_date(period.from()),
            to = compact_date(period.to()),
        )?;
        Ok(())
    }

    /// Writes the member's lines of one transaction; returns how many.
    pub(crate) fn entry(
        &mut self,
        out: &mut impl Write,
        entry: &ExportEntry,
        member: &AccountInfo,
    ) -> ExportResult<u64> {
        let mut lines = 0;
        for leg in Leg::ALL {
            let mine = entry
                .postings
                .iter()
                .filter(|p| p.account.id() == member.id() && p.leg == leg);
            let amount: i64 = mine.map(|p| p.amount.minor()).sum();
            if amount == 0 {
                continue;
            }
            let trntype = match (leg, entry.kind) {
                (Leg::Commission | Leg::FundContribution, _) => "FEE",
                (_, TxKind::Fee | TxKind::FundContribution) => "FEE",
                _ if amount > 0 => "CREDIT",
                _ => "DEBIT",
            };
            let counterparty = entry
                .postings
                .iter()
                .find(|p| {
                    p.account.id() != member.id()
                        && p.leg == leg
                        && (p.amount.minor() > 0) != (amount > 0)
                })
                .map(|p| p.account.name().to_owned())
                .unwrap_or_else(|| "Reseau".to_owned());
            let memo = [entry.reference.as_str(), entry.memo.as_str()]
                .iter()
                .map(|t| one_line(t, &[]))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" - ");
            let memo = if memo.is_empty() {
                format!("{} T{}", entry.kind.as_str(), entry.tx)
            } else {
                memo
            };
            write!(
                out,
                "<STMTTRN>\n<TRNTYPE>{trntype}</TRNTYPE>\n<DTPOSTED>{}</DTPOSTED>\n<TRNAMT>{}</TRNAMT>\n\
                 <FITID>T{}-{}</FITID>\n<NAME>{}</NAME>\n<MEMO>{}</MEMO>\n</STMTTRN>\n",
                entry.time.format("%Y%m%d%H%M%S"),
                decimal(amount, '.'),
                entry.tx,
                leg_code(leg),
                sgml(&truncate_chars(&counterparty, NAME_LEN_MAX)),
                sgml(&truncate_chars(&memo, MEMO_LEN_MAX)),
            )?;
            lines += 1;
        }
        Ok(lines)
    }

    pub(crate) fn finish(
        &mut self,
        out: &mut impl Write,
        header: &ExportHeader,
        closing: &BTreeMap<AccountId, i64>,
    ) -> ExportResult<()> {
        let balance: i64 = closing.values().sum();
        write!(
            out,
            "</BANKTRANLIST>\n<LEDGERBAL>\n<BALAMT>{}</BALAMT>\n<DTASOF>{}</DTASOF>\n</LEDGERBAL>\n\
             </STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n",
            decimal(balance, '.'),
            compact_date(header.period().to()),
        )?;
        Ok(())
    }
}
