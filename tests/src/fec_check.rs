//! An independent FEC checker applying the legal rules of LPF art. A47 A-1 (and the BOFiP
//! doctrine on numbering) to a file's name and bytes. It shares no code with the writer on
//! purpose: it parses the text back as an auditor's tool would.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

pub const FIELDS: [&str; 18] = [
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

/// What a valid file holds, for round-trip checks.
#[derive(Debug, Default)]
pub struct FecStats {
    pub entries: u64,
    pub lines: u64,
    /// Debit − credit per "CompteNum" or "CompteNum:CompAuxNum", in minor units.
    pub balances: BTreeMap<String, i64>,
    pub journals: Vec<String>,
}

fn date(text: &str) -> Option<NaiveDate> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}

/// `1234,50`: digits, optionally a comma and 1 or 2 digits; no dot, no space, no sign (our
/// files use the Debit/Credit columns, so amounts are never negative).
fn amount(text: &str) -> Option<i64> {
    let (units, cents) = match text.split_once(',') {
        Some((u, c)) => (u, c),
        None => (text, "00"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(units) || !digits(cents) || cents.len() > 2 {
        return None;
    }
    let cents = if cents.len() == 1 {
        format!("{cents}0")
    } else {
        cents.to_owned()
    };
    units
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse::<i64>().ok()?)
}

/// Checks `name` and `bytes` as the FEC of the fiscal year `from`..=`to`. Returns every
/// broken rule (not just the first), or the file's statistics.
pub fn check_fec(
    name: &str,
    bytes: &[u8],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<FecStats, Vec<String>> {
    let mut errors = Vec::new();
    // File name: SIREN (9 digits) + FEC + closing date + .txt.
    let name_ok = name.len() == 24
        && name[..9].bytes().all(|b| b.is_ascii_digit())
        && &name[9..12] == "FEC"
        && name.ends_with(".txt")
        && date(&name[12..20]) == Some(to);
    if !name_ok {
        errors.push(format!(
            "file name {name:?} is not <SIREN>FEC<closing date>.txt"
        ));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        errors.push("the file starts with a UTF-8 BOM".into());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        errors.push("the file is not UTF-8".into());
        return Err(errors);
    };
    let mut records = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let header = records.next().unwrap_or("");
    let separator = if header.contains('|') { '|' } else { '\t' };
    let names: Vec<&str> = header.split(separator).collect();
    if names != FIELDS {
        errors.push(format!(
            "the header is not the 18 field names in order: {header:?}"
        ));
    }
    let mut stats = FecStats::default();
    let mut per_entry: BTreeMap<(String, String), i128> = BTreeMap::new();
    let mut seen_nums: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut previous_num: Option<u64> = None;
    let mut previous_valid: Option<NaiveDate> = None;
    let mut other_journal_seen = false;
    let mut ended = false;
    for (index, record) in records.enumerate() {
        let n = index + 2;
        if ended {
            errors.push(format!("line {n}: text after an empty line"));
            break;
        }
        if record.is_empty() {
            ended = true;
            continue;
        }
        let f: Vec<&str> = record.split(separator).collect();
        if f.len() != 18 {
            errors.push(format!("line {n}: {} fields instead of 18", f.len()));
            continue;
        }
        stats.lines += 1;
        for (i, field) in FIELDS.iter().enumerate() {
            let required = !matches!(
                *field,
                "CompAuxNum"
                    | "CompAuxLib"
                    | "EcritureLet"
                    | "DateLet"
                    | "Montantdevise"
                    | "Idevise"
            );
            if required && f[i].trim().is_empty() {
                errors.push(format!("line {n}: {field} is empty"));
            }
        }
        for (a, b) in [(6, 7), (13, 14), (16, 17)] {
            if f[a].is_empty() != f[b].is_empty() {
                errors.push(format!(
                    "line {n}: {} and {} must be both filled or both blank",
                    FIELDS[a], FIELDS[b]
                ));
            }
        }
        let entry_date = date(f[3]);
        match entry_date {
            Some(d) if d < from || d > to => errors.push(format!(
                "line {n}: EcritureDate {d} outside the fiscal year"
            )),
            Some(_) => {}
            None => errors.push(format!(
                "line {n}: EcritureDate {:?} is not a valid AAAAMMJJ date",
                f[3]
            )),
        }
        if date(f[9]).is_none() {
            errors.push(format!(
                "line {n}: PieceDate {:?} is not a valid date",
                f[9]
            ));
        }
        if !f[14].is_empty() && date(f[14]).is_none() {
            errors.push(format!("line {n}: DateLet {:?} is not a valid date", f[14]));
        }
        let valid = date(f[15]);
        match (valid, entry_date) {
            (None, _) => errors.push(format!(
                "line {n}: ValidDate {:?} is not a valid date",
                f[15]
            )),
            (Some(v), Some(e)) if v < e => {
                errors.push(format!("line {n}: ValidDate before EcritureDate"))
            }
            _ => {}
        }
        if let (Some(v), Some(p)) = (valid, previous_valid) {
            if v < p {
                errors.push(format!("line {n}: not ordered by ValidDate"));
            }
        }
        previous_valid = valid.or(previous_valid);
        if f[4].len() < 3 || !f[4][..3].bytes().all(|b| b.is_ascii_digit()) {
            errors.push(format!(
                "line {n}: CompteNum {:?} does not start with 3 PCG digits",
                f[4]
            ));
        }
        let debit = amount(f[11]);
        let credit = amount(f[12]);
        let (Some(debit), Some(credit)) = (debit, credit) else {
            errors.push(format!(
                "line {n}: Debit {:?} / Credit {:?} are not comma decimals without separators",
                f[11], f[12]
            ));
            continue;
        };
        if (debit == 0) == (credit == 0) {
            errors.push(format!(
                "line {n}: a line must have exactly one of Debit and Credit"
            ));
        }
        if !f[16].is_empty() && amount(f[16].trim_start_matches('-')).is_none() {
            errors.push(format!(
                "line {n}: Montantdevise {:?} is not a number",
                f[16]
            ));
        }
        // Numbering: entries contiguous, numbers continuous from 1, never reused.
        let num = f[2].to_owned();
        if current.as_deref() != Some(num.as_str()) {
            if !seen_nums.insert(num.clone()) {
                errors.push(format!("line {n}: entry {num} is split or reused"));
            }
            match num.parse::<u64>() {
                Ok(value) => {
                    let expected = previous_num.map_or(1, |p| p + 1);
                    if value != expected {
                        errors.push(format!(
                            "line {n}: EcritureNum {num} breaks the sequence (expected {expected})"
                        ));
                    }
                    previous_num = Some(value);
                }
                Err(_) => errors.push(format!("line {n}: EcritureNum {num:?} is not a number")),
            }
            stats.entries += 1;
            current = Some(num.clone());
            if !stats.journals.iter().any(|j| j == f[0]) {
                stats.journals.push(f[0].to_owned());
            }
            if f[0] == "AN" && other_journal_seen {
                errors.push(format!(
                    "line {n}: an opening entry (AN) after other entries"
                ));
            }
            if f[0] != "AN" {
                other_journal_seen = true;
            }
        }
        *per_entry.entry((f[0].to_owned(), num)).or_default() +=
            i128::from(debit) - i128::from(credit);
        let key = if f[6].is_empty() {
            f[4].to_owned()
        } else {
            format!("{}:{}", f[4], f[6])
        };
        *stats.balances.entry(key).or_default() += debit - credit;
    }
    for ((journal, num), sum) in per_entry {
        if sum != 0 {
            errors.push(format!(
                "entry {journal} {num} is not balanced ({sum} minor units)"
            ));
        }
    }
    if errors.is_empty() {
        Ok(stats)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|ValidDate|Montantdevise|Idevise";

    fn good() -> String {
        format!(
            "{HEADER}\n\
             BT|Barter|000001|20250314|467100|Barter|||TRD-1|20250314|Compensation|1200,00|0,00|||20250315||\n\
             BT|Barter|000001|20250314|411100|Clients|123456789|Entreprise B|TRD-1|20250314|Compensation|0,00|1200,00|||20250315||\n"
        )
    }

    fn check(text: &str) -> Result<FecStats, Vec<String>> {
        check_fec(
            "123456789FEC20251231.txt",
            text.as_bytes(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        )
    }

    fn rejects(text: &str, what: &str) {
        let errors = check(text).expect_err("a broken file was accepted");
        assert!(
            errors.iter().any(|e| e.contains(what)),
            "{errors:?} lacks {what:?}"
        );
    }

    #[test]
    fn accepts_a_good_file() {
        let stats = check(&good()).unwrap();
        assert_eq!((stats.entries, stats.lines), (1, 2));
        assert_eq!(stats.balances["467100"], 120_000);
        assert_eq!(stats.balances["411100:123456789"], -120_000);
    }

    #[test]
    fn rejects_each_broken_rule() {
        let g = good();
        assert!(check_fec(
            "12345678FEC20251231.txt",
            g.as_bytes(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        )
        .is_err());
        assert!(check_fec(
            "123456789FEC20251230.txt",
            g.as_bytes(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        )
        .is_err());
        rejects(&format!("\u{FEFF}{g}"), "BOM");
        rejects(
            &g.replace("JournalLib|EcritureNum", "EcritureNum|JournalLib"),
            "header",
        );
        rejects(
            &g.replace("|20250315||\n", "|20250315|\n"),
            "fields instead of 18",
        );
        rejects(
            &g.replace("1200,00|0,00", "1 200,00|0,00"),
            "comma decimals",
        );
        rejects(&g.replace("1200,00|0,00", "1200.00|0,00"), "comma decimals");
        rejects(&g.replace("0,00|1200,00", "1200,00|1200,00"), "exactly one");
        rejects(
            &g.replacen("1200,00|0,00", "1100,00|0,00", 1),
            "not balanced",
        );
        rejects(
            &g.replacen("|20250314|467100", "|20250230|467100", 1),
            "EcritureDate",
        );
        rejects(&g.replace("|20250315||", "|20250310||"), "ValidDate before");
        rejects(&g.replace("000001", "000002"), "breaks the sequence");
        rejects(&g.replace("|467100|", "|A67100|"), "3 PCG digits");
        rejects(
            &g.replace("|123456789|Entreprise B|", "|123456789||"),
            "both filled",
        );
        rejects(
            &g.replace("Compensation|1200", "|1200"),
            "EcritureLib is empty",
        );
        let an_late = format!("{g}AN|A-nouveaux|000002|20250314|467100|Barter|||AN|20250314|AN|1,00|0,00|||20250315||\nAN|A-nouveaux|000002|20250314|411100|Clients|||AN|20250314|AN|0,00|1,00|||20250315||\n");
        rejects(&an_late, "opening entry");
        let reused = format!("{g}BT|Barter|000002|20250314|467100|Barter|||T|20250314|X|1,00|0,00|||20250315||\nBT|Barter|000001|20250314|411100|Clients|||T|20250314|X|0,00|1,00|||20250315||\n");
        rejects(&reused, "split or reused");
        let unordered = format!("{g}BT|Barter|000002|20250314|467100|Barter|||T|20250314|X|1,00|0,00|||20250314||\nBT|Barter|000002|20250314|411100|Clients|||T|20250314|X|0,00|1,00|||20250314||\n");
        rejects(&unordered, "ValidDate");
        assert!(check_fec(
            "123456789FEC20251231.txt",
            &[0xFF, 0xFE],
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        )
        .is_err());
    }
}
