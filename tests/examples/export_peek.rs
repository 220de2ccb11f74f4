//! Prints the seeded network's exports (for reading them by eye):
//! `cargo run -p tests --example export_peek -- fec network`.
use tests::seed::{at, date, seeded_network, NETWORK_NAME, NETWORK_SIREN};
use web::export::{
    export_all, AccountMapping, CsvOptions, ExportHeader, Format, Period, PeriodLock, Scope, Siren,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeded = seeded_network();
    let format = match args.get(1).map(String::as_str) {
        Some("hledger") => Format::Hledger,
        Some("beancount") => Format::Beancount,
        Some("csv") => Format::Csv(CsvOptions::FRENCH),
        Some("ofx") => Format::Ofx,
        _ => Format::Fec,
    };
    let scope = match args.get(2).and_then(|a| a.parse::<u64>().ok()) {
        Some(id) => Scope::Member(seeded.member(id)),
        None => Scope::Network,
    };
    let header = ExportHeader::new(
        Siren::new(NETWORK_SIREN).unwrap(),
        NETWORK_NAME,
        Period::new(date(2025, 1, 1), date(2025, 12, 31)).unwrap(),
        scope,
        vec![PeriodLock {
            through: date(2025, 12, 31),
            locked_at: at(2026, 1, 20, 9),
        }],
        at(2026, 2, 1, 12),
    )
    .unwrap();
    let entries = seeded.entries();
    let (bytes, _) = export_all(
        header,
        &AccountMapping::default(),
        format,
        Vec::new(),
        &entries,
    )
    .unwrap();
    print!("{}", String::from_utf8(bytes).unwrap());
}
