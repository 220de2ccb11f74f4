//! Accountant exports on a seeded network (in-memory ledger): the FEC checker, `hledger
//! check`, `bean-check`, and round trips from each format back to the ledger's balances.

pub mod accounting;
mod mapping_web;
mod roles;
mod store;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use ledger::{AccountId, AccountKind};
use tests::fec_check::check_fec;
use tests::seed::{at, date, seeded_network, Seeded, NETWORK_NAME, NETWORK_SIREN, SYSTEM};
use web::export::mapping::{MemberMapping, OperatorMapping};
use web::export::{
    export_all, AccountMapping, CsvOptions, ExportEntry, ExportError, ExportHeader, ExportSummary,
    Exporter, Format, Period, PeriodLock, Scope, Siren,
};

fn locks() -> Vec<PeriodLock> {
    vec![
        PeriodLock {
            through: date(2024, 12, 31),
            locked_at: at(2025, 1, 15, 9),
        },
        PeriodLock {
            through: date(2025, 6, 30),
            locked_at: at(2025, 7, 5, 9),
        },
        PeriodLock {
            through: date(2025, 12, 31),
            locked_at: at(2026, 1, 20, 9),
        },
    ]
}

fn header(from: NaiveDate, to: NaiveDate, scope: Scope) -> ExportHeader {
    ExportHeader::new(
        Siren::new(NETWORK_SIREN).unwrap(),
        NETWORK_NAME,
        Period::new(from, to).unwrap(),
        scope,
        locks(),
        at(2026, 2, 1, 12),
    )
    .unwrap()
}

fn export(
    seeded: &Seeded,
    header: ExportHeader,
    mapping: &AccountMapping,
    format: Format,
) -> (String, ExportSummary) {
    let entries = seeded.entries();
    let (bytes, summary) = export_all(header, mapping, format, Vec::new(), &entries).unwrap();
    (String::from_utf8(bytes).unwrap(), summary)
}

/// Ledger balances (credit > 0) from the entries dated on or before `through`.
fn ledger_balances(entries: &[ExportEntry], through: NaiveDate) -> BTreeMap<AccountId, i64> {
    let mut balances = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.date() <= through) {
        for p in &entry.postings {
            *balances.entry(p.account.id()).or_insert(0) += p.amount.minor();
        }
    }
    balances
}

fn fy() -> (NaiveDate, NaiveDate) {
    (date(2025, 1, 1), date(2025, 12, 31))
}

fn member_ids() -> Vec<u64> {
    tests::seed::MEMBERS.iter().map(|m| m.0).collect()
}

fn get(balances: &BTreeMap<String, i64>, key: &str) -> i64 {
    balances.get(key).copied().unwrap_or(0)
}

/// The operator's books must equal the ledger: each member's 467/468 pair is minus its
/// balance (and on the right side), the fund's and migration's accounts likewise, and the
/// income accounts hold the period's movement, the earlier income being in 110/119.
fn assert_operator_books_match(
    books: &BTreeMap<String, i64>,
    entries: &[ExportEntry],
    from: NaiveDate,
    to: NaiveDate,
    fund_account: &str,
) {
    let closing = ledger_balances(entries, to);
    let before = ledger_balances(entries, from.pred_opt().unwrap());
    let total: i64 = books.values().sum();
    assert_eq!(total, 0, "the books do not balance");
    for (id, siren, _) in tests::seed::MEMBERS {
        let debit = get(books, &format!("467100:{siren}"));
        let credit = get(books, &format!("468100:{siren}"));
        assert!(
            debit >= 0 && credit <= 0,
            "member {id}: 467 {debit}, 468 {credit}"
        );
        assert_eq!(
            -(debit + credit),
            closing.get(&AccountId(id)).copied().unwrap_or(0),
            "member {id}"
        );
    }
    assert_eq!(-get(books, fund_account), closing[&SYSTEM.fund]);
    assert_eq!(-get(books, "471000"), closing[&SYSTEM.migration]);
    let moved = |id: AccountId| {
        closing.get(&id).copied().unwrap_or(0) - before.get(&id).copied().unwrap_or(0)
    };
    assert_eq!(
        -(get(books, "706000") + get(books, "706100")),
        moved(SYSTEM.fees)
    );
    let carried = before.get(&SYSTEM.fees).copied().unwrap_or(0)
        + before.get(&SYSTEM.losses).copied().unwrap_or(0);
    assert_eq!(-(get(books, "110000") + get(books, "119000")), carried);
    if fund_account == "165000" {
        assert_eq!(-get(books, "654000"), moved(SYSTEM.losses));
    }
}

#[test]
fn network_fec_passes_the_checker_and_matches_the_ledger() {
    let seeded = seeded_network();
    let (from, to) = fy();
    let h = header(from, to, Scope::Network);
    let name = h.fec_file_name();
    assert_eq!(name, "552100554FEC20251231.txt");
    let (fec, summary) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats =
        check_fec(&name, fec.as_bytes(), from, to).unwrap_or_else(|e| panic!("{e:#?}\n{fec}"));
    assert_eq!(stats.entries, summary.entries);
    assert_eq!(stats.lines, summary.lines);
    assert_eq!(summary.debit_total, summary.credit_total);
    // Opening entries first, and there are some: 2024 had opening balances and trades.
    assert_eq!(stats.journals[0], "AN");
    assert!(
        stats.journals.contains(&"BT".to_owned())
            && stats.journals.contains(&"OD".to_owned())
            && stats.journals.contains(&"FR".to_owned())
    );
    let entries = seeded.entries();
    let in_period = entries
        .iter()
        .filter(|e| e.date() >= from && e.date() <= to)
        .count() as u64;
    assert_eq!(summary.transactions, in_period);
    assert_eq!(
        stats.entries,
        in_period + 1,
        "one entry per transaction plus the opening entry"
    );
    assert_operator_books_match(&stats.balances, &entries, from, to, "165000");
    // ValidDate follows the locks: entries of the first half validated on 2025-07-05.
    assert!(fec
        .lines()
        .any(|l| l.contains("|20250210|") || l.contains("|20250203|")));
    for line in fec.lines().skip(1) {
        let f: Vec<&str> = line.split('|').collect();
        let expected = if f[3] <= "20250630" {
            "20250705"
        } else {
            "20260120"
        };
        assert_eq!(f[15], expected, "{line}");
    }
    // The hostile memo's `|` and line break did not leak into the fields.
    assert!(fec.contains("Refonte site web paiement par compensation"));
    assert!(fec.contains("Menuiserie; lot \"A\" suite"));
}

#[test]
fn fec_of_a_later_quarter_carries_income_to_retained_earnings() {
    let seeded = seeded_network();
    let (from, to) = (date(2025, 7, 1), date(2025, 9, 30));
    let h = header(from, to, Scope::Network);
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap_or_else(|e| panic!("{e:#?}"));
    let entries = seeded.entries();
    assert_operator_books_match(&stats.balances, &entries, from, to, "165000");
    assert!(
        get(&stats.balances, "110000") < 0,
        "earlier commissions carried as a credit"
    );
}

#[test]
fn provision_fund_mapping_books_the_fund_on_1518() {
    let seeded = seeded_network();
    let (from, to) = fy();
    let mut mapping = AccountMapping::default();
    mapping.operator.fund = OperatorMapping::provision_fund();
    let h = header(from, to, Scope::Network);
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &mapping, Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_operator_books_match(&stats.balances, &seeded.entries(), from, to, "151800");
    // Contributions allocated (6815 debit), the write-off's fund part reversed (7815 credit).
    assert!(get(&stats.balances, "681500") > 0);
    assert!(get(&stats.balances, "781500") < 0);
    assert_eq!(
        get(&stats.balances, "681500"),
        -get(&stats.balances, "706800")
    );
}

/// A member's books: its barter position (467 in debit / 468 in credit, from its side)
/// equals its ledger balance; customers and suppliers are per counterparty.
#[test]
fn member_fec_passes_the_checker_and_matches_the_member_balance() {
    let seeded = seeded_network();
    let (from, to) = fy();
    let entries = seeded.entries();
    let closing = ledger_balances(&entries, to);
    for id in member_ids() {
        let info = seeded.member(id);
        let h = header(from, to, Scope::Member(info.clone()));
        let name = h.fec_file_name();
        assert_eq!(
            name,
            format!("{}FEC20251231.txt", info.siren().unwrap().as_str())
        );
        let (fec, summary) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
        let stats = check_fec(&name, fec.as_bytes(), from, to)
            .unwrap_or_else(|e| panic!("member {id}: {e:#?}\n{fec}"));
        let debit = get(&stats.balances, "467100");
        let credit = get(&stats.balances, "468100");
        assert!(debit >= 0 && credit <= 0);
        assert_eq!(
            debit + credit,
            closing.get(&AccountId(id)).copied().unwrap_or(0),
            "member {id}"
        );
        assert_eq!(summary.closing[&AccountId(id)], closing[&AccountId(id)]);
        let mine = entries
            .iter()
            .filter(|e| {
                e.date() >= from
                    && e.date() <= to
                    && e.postings.iter().any(|p| p.account.id() == AccountId(id))
            })
            .count() as u64;
        assert_eq!(summary.transactions, mine);
    }
    // Member 10 sold to 11 (customer 411100:<11>) and bought from 13 (supplier 401100:<13>).
    let h = header(from, to, Scope::Member(seeded.member(10)));
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap();
    assert_eq!(get(&stats.balances, "411100:234567891"), -120_000);
    assert_eq!(get(&stats.balances, "401100:456789123"), 64_000);
    assert!(get(&stats.balances, "622200") > 0, "commission on sales");
    assert_eq!(get(&stats.balances, "628100"), 23_500, "membership fee");
    assert!(
        get(&stats.balances, "275000") >= 2_000,
        "fund contributions"
    );
}

#[test]
fn reversal_books_back_to_the_same_counterparty_and_write_off_to_income() {
    let seeded = seeded_network();
    let (from, to) = fy();
    let h = header(from, to, Scope::Member(seeded.member(14)));
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap();
    // 14 sold 999 to 13, reversed, then 99: the customer account nets to the 99 sale
    // (reversed sale booked back on 411, never on 401).
    assert_eq!(get(&stats.balances, "411100:456789123"), -9_900);
    assert_eq!(get(&stats.balances, "401100:456789123"), 0);
    let h = header(from, to, Scope::Member(seeded.member(15)));
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap();
    assert_eq!(
        get(&stats.balances, "467100") + get(&stats.balances, "468100"),
        0
    );
    assert!(
        get(&stats.balances, "758000") < 0,
        "the forgiven debt is income"
    );
}

#[test]
fn member_override_books_the_barter_account_on_517() {
    let seeded = seeded_network();
    let (from, to) = fy();
    let mut mapping = AccountMapping::default();
    let custom = MemberMapping {
        barter: MemberMapping::single_barter_account(),
        ..MemberMapping::default()
    };
    mapping.set_member_override(AccountId(11), custom).unwrap();
    let closing = ledger_balances(&seeded.entries(), to);
    let h = header(from, to, Scope::Member(seeded.member(11)));
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &mapping, Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap();
    assert_eq!(get(&stats.balances, "517000"), closing[&AccountId(11)]);
    assert_eq!(
        get(&stats.balances, "467100") + get(&stats.balances, "468100"),
        0
    );
    // Other members keep the default.
    let h = header(from, to, Scope::Member(seeded.member(12)));
    let (fec, _) = export(&seeded, h, &mapping, Format::Fec);
    assert!(!fec.contains("|517000|"));
}

#[test]
fn exports_are_reproducible_byte_for_byte() {
    let seeded = seeded_network();
    let (from, to) = fy();
    for format in [
        Format::Fec,
        Format::Hledger,
        Format::Beancount,
        Format::Csv(CsvOptions::FRENCH),
    ] {
        let a = export(
            &seeded,
            header(from, to, Scope::Network),
            &AccountMapping::default(),
            format,
        )
        .0;
        let b = export(
            &seeded,
            header(from, to, Scope::Network),
            &AccountMapping::default(),
            format,
        )
        .0;
        assert_eq!(a, b);
    }
}

#[test]
fn fec_refuses_an_unlocked_period_and_ofx_a_network() {
    let seeded = seeded_network();
    let h = ExportHeader::new(
        Siren::new(NETWORK_SIREN).unwrap(),
        NETWORK_NAME,
        Period::new(date(2026, 1, 1), date(2026, 12, 31)).unwrap(),
        Scope::Network,
        locks(),
        at(2026, 2, 1, 12),
    )
    .unwrap();
    assert!(matches!(
        Exporter::new(
            h.clone(),
            &AccountMapping::default(),
            Format::Fec,
            Vec::new()
        ),
        Err(ExportError::NotLocked { .. })
    ));
    // Other formats do not need a lock.
    let entries = seeded.entries();
    assert!(export_all(
        h.clone(),
        &AccountMapping::default(),
        Format::Hledger,
        Vec::new(),
        &entries
    )
    .is_ok());
    assert!(matches!(
        Exporter::new(h, &AccountMapping::default(), Format::Ofx, Vec::new()),
        Err(ExportError::OfxNeedsMember)
    ));
}

#[test]
fn the_exporter_refuses_entries_out_of_order_or_out_of_period() {
    let seeded = seeded_network();
    let entries = seeded.entries();
    let (from, to) = fy();
    let mut exporter = Exporter::new(
        header(from, to, Scope::Network),
        &AccountMapping::default(),
        Format::Hledger,
        Vec::new(),
    )
    .unwrap();
    let first_in = entries.iter().position(|e| e.date() >= from).unwrap();
    exporter.push(&entries[first_in + 1]).unwrap();
    assert!(matches!(
        exporter.push(&entries[first_in]),
        Err(ExportError::OutOfOrder { .. })
    ));
    assert!(matches!(
        exporter.carry(&entries[0]),
        Err(ExportError::CarryAfterStart)
    ));
    let after = entries.iter().find(|e| e.date() > to).unwrap();
    assert!(matches!(
        exporter.push(after),
        Err(ExportError::OutOfPeriod { .. })
    ));
    let mut exporter = Exporter::new(
        header(from, to, Scope::Network),
        &AccountMapping::default(),
        Format::Hledger,
        Vec::new(),
    )
    .unwrap();
    assert!(matches!(
        exporter.carry(&entries[first_in]),
        Err(ExportError::OutOfPeriod { .. })
    ));
}

#[test]
fn periods_and_headers_are_validated() {
    let from = date(2025, 1, 1);
    assert!(Period::new(from, from).is_ok());
    assert!(Period::new(
        from,
        from + chrono::Duration::days(web::export::PERIOD_DAYS_MAX - 1)
    )
    .is_ok());
    assert!(matches!(
        Period::new(
            from,
            from + chrono::Duration::days(web::export::PERIOD_DAYS_MAX)
        ),
        Err(ExportError::PeriodTooLong { .. })
    ));
    assert!(matches!(
        Period::new(from, date(2024, 12, 31)),
        Err(ExportError::InvalidPeriod { .. })
    ));
    for bad in [
        "",
        "12345678",
        "1234567890",
        "12345678a",
        "１２３４５６７８９",
    ] {
        assert!(Siren::new(bad).is_err(), "{bad:?}");
    }
    let unordered = vec![locks()[1], locks()[0]];
    assert!(matches!(
        ExportHeader::new(
            Siren::new(NETWORK_SIREN).unwrap(),
            NETWORK_NAME,
            Period::new(from, from).unwrap(),
            Scope::Network,
            unordered,
            at(2026, 1, 1, 0)
        ),
        Err(ExportError::InvalidLocks { .. })
    ));
    let long = "x".repeat(web::export::NAME_LEN_MAX);
    assert!(ExportHeader::new(
        Siren::new(NETWORK_SIREN).unwrap(),
        &long,
        Period::new(from, from).unwrap(),
        Scope::Network,
        vec![],
        at(2026, 1, 1, 0)
    )
    .is_ok());
    let too_long = "x".repeat(web::export::NAME_LEN_MAX + 1);
    assert!(matches!(
        ExportHeader::new(
            Siren::new(NETWORK_SIREN).unwrap(),
            &too_long,
            Period::new(from, from).unwrap(),
            Scope::Network,
            vec![],
            at(2026, 1, 1, 0)
        ),
        Err(ExportError::InvalidName { .. })
    ));
    let system = std::sync::Arc::new(web::export::AccountInfo::system(
        SYSTEM.fund,
        AccountKind::GuaranteeFund,
    ));
    assert!(matches!(
        ExportHeader::new(
            Siren::new(NETWORK_SIREN).unwrap(),
            NETWORK_NAME,
            Period::new(from, from).unwrap(),
            Scope::Member(system),
            vec![],
            at(2026, 1, 1, 0)
        ),
        Err(ExportError::NotAMember(_))
    ));
}

fn write_temp(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(tool: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Breaks the first posting amount of the first dated transaction after the opening one.
fn unbalance(text: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    let mut in_tx = 0;
    for line in text.lines() {
        if line.starts_with("2025-") && line.contains(" * ") {
            in_tx += 1;
        }
        if !done && in_tx == 2 && line.ends_with(" EUR") && line.starts_with("  ") {
            // 12.50 becomes 112.50: off by a hundred units, far above any tolerance.
            let dot = line.rfind('.').unwrap();
            out.push_str(&format!("{}1{}", &line[..dot - 2], &line[dot - 2..]));
            done = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(done, "nothing to break");
    out
}

/// `hledger bal -O csv` balances, per account, in minor units.
fn hledger_balances(hledger: &Path, file: &Path) -> BTreeMap<String, i64> {
    let (ok, text) = run(
        hledger,
        &[
            "-f",
            file.to_str().unwrap(),
            "bal",
            "-O",
            "csv",
            "-N",
            "--flat",
        ],
    );
    assert!(ok, "{text}");
    let mut balances = BTreeMap::new();
    for line in text.lines().skip(1) {
        let parts: Vec<&str> = line.split("\",\"").map(|s| s.trim_matches('"')).collect();
        let amount = parts[1].trim_end_matches(" EUR").replace(',', "");
        let amount = if amount == "0" {
            "0.00".to_owned()
        } else {
            amount
        };
        let (units, cents) = amount.split_once('.').unwrap();
        let sign = if units.starts_with('-') { -1 } else { 1 };
        let minor = units.trim_start_matches('-').parse::<i64>().unwrap() * 100
            + cents.parse::<i64>().unwrap();
        balances.insert(parts[0].to_owned(), sign * minor);
    }
    balances
}

#[test]
fn hledger_checks_the_journal_and_reports_the_ledger_balances() {
    let Some(hledger) = tests::external_tool("hledger") else {
        return;
    };
    let seeded = seeded_network();
    let dir = tempfile::tempdir().unwrap();
    let entries = seeded.entries();
    for (from, to) in [fy(), (date(2025, 7, 1), date(2025, 9, 30))] {
        let (journal, _) = export(
            &seeded,
            header(from, to, Scope::Network),
            &AccountMapping::default(),
            Format::Hledger,
        );
        let file = write_temp(dir.path(), "network.journal", &journal);
        let (ok, text) = run(
            &hledger,
            &["-f", file.to_str().unwrap(), "check", "-s", "ordereddates"],
        );
        assert!(ok, "hledger check failed: {text}\n{journal}");
        let balances = hledger_balances(&hledger, &file);
        assert_operator_books_match(&balances, &entries, from, to, "165000");
        // The checker is not a rubber stamp: an unbalanced copy is refused.
        let broken = write_temp(dir.path(), "broken.journal", &unbalance(&journal));
        let (ok, _) = run(&hledger, &["-f", broken.to_str().unwrap(), "check", "-s"]);
        assert!(!ok, "hledger accepted an unbalanced journal");
    }
    // A member's journal: its barter position equals its balance.
    let (from, to) = fy();
    let closing = ledger_balances(&entries, to);
    for id in member_ids() {
        let (journal, _) = export(
            &seeded,
            header(from, to, Scope::Member(seeded.member(id))),
            &AccountMapping::default(),
            Format::Hledger,
        );
        let file = write_temp(dir.path(), "member.journal", &journal);
        let (ok, text) = run(
            &hledger,
            &["-f", file.to_str().unwrap(), "check", "-s", "ordereddates"],
        );
        assert!(ok, "{text}\n{journal}");
        let balances = hledger_balances(&hledger, &file);
        assert_eq!(
            get(&balances, "467100") + get(&balances, "468100"),
            closing[&AccountId(id)],
            "member {id}"
        );
    }
}

#[test]
fn bean_check_accepts_the_beancount_files_and_their_closing_balances() {
    let Some(bean_check) = tests::external_tool("bean-check") else {
        return;
    };
    let seeded = seeded_network();
    let dir = tempfile::tempdir().unwrap();
    let entries = seeded.entries();
    let mut scopes = vec![Scope::Network];
    scopes.extend(
        member_ids()
            .into_iter()
            .map(|id| Scope::Member(seeded.member(id))),
    );
    for scope in scopes {
        for (from, to) in [fy(), (date(2025, 7, 1), date(2025, 9, 30))] {
            let (text, _) = export(
                &seeded,
                header(from, to, scope.clone()),
                &AccountMapping::default(),
                Format::Beancount,
            );
            let file = write_temp(dir.path(), "books.beancount", &text);
            let (ok, out) = run(&bean_check, &[file.to_str().unwrap()]);
            assert!(ok, "bean-check failed: {out}\n{text}");
            // The closing balance assertions, which bean-check verified against the
            // postings, equal the ledger's balances.
            let mut asserted: BTreeMap<String, i64> = BTreeMap::new();
            for line in text.lines().filter(|l| l.contains(" balance ")) {
                let parts: Vec<&str> = line.split_whitespace().collect();
                let account = parts[2].split_once(':').unwrap().1.to_owned();
                let amount = parts[3].replace('.', "").parse::<i64>().unwrap();
                asserted.insert(account, amount);
            }
            let closing = ledger_balances(&entries, to);
            match &scope {
                Scope::Network => {
                    assert_operator_books_match(&asserted, &entries, from, to, "165000")
                }
                Scope::Member(info) => assert_eq!(
                    get(&asserted, "467100") + get(&asserted, "468100"),
                    closing[&info.id()]
                ),
            }
            let broken = write_temp(dir.path(), "broken.beancount", &unbalance(&text));
            let (ok, _) = run(&bean_check, &[broken.to_str().unwrap()]);
            assert!(!ok, "bean-check accepted an unbalanced file");
        }
    }
}

fn parse_decimal(text: &str, mark: char) -> i64 {
    if text.is_empty() {
        return 0;
    }
    let (units, cents) = text.split_once(mark).unwrap();
    let sign = if units.starts_with('-') { -1 } else { 1 };
    sign * (units.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + cents.parse::<i64>().unwrap())
}

/// Splits one `;` CSV record, honouring quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ';' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn csv_rows_sum_to_the_ledger_movements_in_both_styles() {
    let seeded = seeded_network();
    let entries = seeded.entries();
    let (from, to) = fy();
    let before = ledger_balances(&entries, from.pred_opt().unwrap());
    let closing = ledger_balances(&entries, to);
    for (options, mark) in [(CsvOptions::FRENCH, ','), (CsvOptions::ISO, '.')] {
        let (csv, summary) = export(
            &seeded,
            header(from, to, Scope::Network),
            &AccountMapping::default(),
            Format::Csv(options),
        );
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), web::export::CSV_COLUMNS.join(";"));
        let mut moved: BTreeMap<u64, i64> = BTreeMap::new();
        let mut last: BTreeMap<u64, i64> = BTreeMap::new();
        let mut rows = 0;
        for line in lines {
            let f = csv_fields(line);
            assert_eq!(f.len(), 14, "{line}");
            if options == CsvOptions::FRENCH {
                assert!(
                    NaiveDate::parse_from_str(&f[0], "%d/%m/%Y").is_ok(),
                    "{line}"
                );
            } else {
                assert!(
                    NaiveDate::parse_from_str(&f[0], "%Y-%m-%d").is_ok(),
                    "{line}"
                );
            }
            let account: u64 = f[5].parse().unwrap();
            let amount = parse_decimal(&f[11], mark) - parse_decimal(&f[10], mark);
            *moved.entry(account).or_default() += amount;
            last.insert(account, parse_decimal(&f[12], mark));
            rows += 1;
        }
        assert_eq!(rows, summary.lines);
        assert_eq!(summary.debit_total, summary.credit_total);
        for (id, balance) in &closing {
            let opening = before.get(id).copied().unwrap_or(0);
            assert_eq!(
                moved.get(&id.0).copied().unwrap_or(0),
                balance - opening,
                "account {id}"
            );
            if let Some(last) = last.get(&id.0) {
                assert_eq!(last, balance, "running balance of {id}");
            }
        }
    }
    // Quoting and formula defusing survive a round trip.
    let (csv, _) = export(
        &seeded,
        header(from, to, Scope::Member(seeded.member(10))),
        &AccountMapping::default(),
        Format::Csv(CsvOptions::ISO),
    );
    assert!(csv.lines().skip(1).all(|l| csv_fields(l)[5] == "10"));
    let memo_row = csv.lines().find(|l| l.contains("HYPERLINK")).unwrap();
    assert_eq!(csv_fields(memo_row)[4], "'=HYPERLINK(\"x\") révision");
}

#[test]
fn ofx_statement_has_unique_stable_fitids_and_the_right_balance() {
    let seeded = seeded_network();
    let entries = seeded.entries();
    let member = seeded.member(12);
    let statement = |from, to| {
        export(
            &seeded,
            header(from, to, Scope::Member(member.clone())),
            &AccountMapping::default(),
            Format::Ofx,
        )
        .0
    };
    let tag = |block: &str, name: &str| -> String {
        let open = format!("<{name}>");
        let start = block.find(&open).unwrap() + open.len();
        block[start..].split('<').next().unwrap().to_owned()
    };
    let (from, to) = fy();
    let ofx = statement(from, to);
    assert!(ofx.starts_with("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n"));
    let blocks: Vec<&str> = ofx.split("<STMTTRN>").skip(1).collect();
    let fitids: Vec<String> = blocks.iter().map(|b| tag(b, "FITID")).collect();
    let unique: std::collections::HashSet<&String> = fitids.iter().collect();
    assert_eq!(unique.len(), fitids.len(), "FITIDs are unique");
    let total: i64 = blocks
        .iter()
        .map(|b| parse_decimal(&tag(b, "TRNAMT"), '.'))
        .sum();
    let before = ledger_balances(&entries, from.pred_opt().unwrap());
    let closing = ledger_balances(&entries, to);
    let id = member.id();
    assert_eq!(total, closing[&id] - before.get(&id).copied().unwrap_or(0));
    assert_eq!(parse_decimal(&tag(&ofx, "BALAMT"), '.'), closing[&id]);
    assert!(
        ofx.contains("<NAME>Imprimerie | Ligne 1</NAME>")
            || ofx.contains("<NAME>Éditions Œuvre</NAME>")
    );
    // An overlapping statement gives the same FITIDs to the same lines.
    let q2 = statement(date(2025, 4, 1), date(2025, 6, 30));
    for block in q2.split("<STMTTRN>").skip(1) {
        let fitid = tag(block, "FITID");
        let same = blocks
            .iter()
            .find(|b| tag(b, "FITID") == fitid)
            .expect("the line is in the year's statement");
        assert_eq!(tag(same, "TRNAMT"), tag(block, "TRNAMT"));
    }
}

#[test]
fn trial_balance_and_member_summaries_match_the_ledger() {
    use web::export::reports::{MemberSummaryBuilder, TrialBalanceBuilder};
    let seeded = seeded_network();
    let entries = seeded.entries();
    let (from, to) = fy();
    let period = Period::new(from, to).unwrap();
    let mut builder = TrialBalanceBuilder::new(&AccountMapping::default(), &Scope::Network, period);
    for entry in entries.iter().filter(|e| e.date() <= to) {
        if entry.date() < from {
            builder.carry(entry).unwrap();
        } else {
            builder.push(entry).unwrap();
        }
    }
    let trial = builder.finish().unwrap();
    assert_eq!(trial.debit_total, trial.credit_total);
    let mut closing_books: BTreeMap<String, i64> = BTreeMap::new();
    for row in &trial.rows {
        assert_eq!(row.closing, row.opening + row.debit - row.credit, "{row:?}");
        let key = match &row.aux {
            Some(aux) => format!("{}:{}", row.account.num(), aux.num),
            None => row.account.num().to_owned(),
        };
        closing_books.insert(key, row.closing);
    }
    assert_operator_books_match(&closing_books, &entries, from, to, "165000");
    // The same figures as the FEC.
    let h = header(from, to, Scope::Network);
    let name = h.fec_file_name();
    let (fec, _) = export(&seeded, h, &AccountMapping::default(), Format::Fec);
    let stats = check_fec(&name, fec.as_bytes(), from, to).unwrap();
    let nonzero = |m: &BTreeMap<String, i64>| -> BTreeMap<String, i64> {
        m.iter()
            .filter(|(_, v)| **v != 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    assert_eq!(nonzero(&closing_books), nonzero(&stats.balances));

    let closing = ledger_balances(&entries, to);
    for id in member_ids() {
        let mut summary = MemberSummaryBuilder::new(AccountId(id), period);
        for entry in entries.iter().filter(|e| e.date() <= to) {
            if entry.date() < from {
                summary.carry(entry);
            } else {
                summary.push(entry).unwrap();
            }
        }
        let s = summary.finish();
        assert_eq!(s.closing_balance, closing[&AccountId(id)], "member {id}");
        assert_eq!(
            s.opening_balance + s.sales
                - s.purchases
                - s.commissions
                - s.fees
                - s.fund_contributions
                + s.other,
            s.closing_balance,
            "member {id}: {s:?}"
        );
        assert!(s.sales >= 0 && s.purchases >= 0 && s.commissions >= 0 && s.fees >= 0);
        if id == 14 {
            // The 999 sale was reversed: only the 99 sale and the 250 capture count.
            assert_eq!(s.sales, 9_900);
            assert_eq!(
                s.purchases,
                25_000 + (8..=12).map(|m| (100 + m) * 100).sum::<i64>()
            );
        }
    }
}
