//! A seeded barter network in the in-memory ledger, for the export tests: opening balances,
//! trades with commission and fund contribution, membership fees, a captured hold, a
//! reversal, an adjustment, a default written off and a recovery, across two years.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ledger::{
    AccountId, Amount, ChargeKind, Command, FeePolicy, FundPayer, HoldId, IdempotencyKey, Ledger,
    Operation, Policy, SystemAccounts, TxId,
};
use web::export::source::{ledger_entries, Directory};
use web::export::{AccountInfo, ExportEntry, Siren};

pub const NETWORK_SIREN: &str = "552100554";
pub const NETWORK_NAME: &str = "Réseau Troc Île-de-France";

pub const SYSTEM: SystemAccounts = SystemAccounts {
    fund: AccountId(1),
    fees: AccountId(2),
    losses: AccountId(3),
    migration: AccountId(4),
};

/// The members: id, SIREN, name (names with accents and separators on purpose).
pub const MEMBERS: [(u64, &str, &str); 6] = [
    (10, "123456789", "Atelier Dupré & Fils"),
    (11, "234567891", "Boulangerie \"Le Fournil\""),
    (12, "345678912", "Imprimerie | Ligne 1"),
    (13, "456789123", "Garage du Centre; SARL"),
    (14, "567891234", "Éditions Œuvre"),
    (15, "678912345", "Agence Défaillante"),
];

pub struct Seeded {
    pub ledger: Ledger,
    pub directory: Directory,
}

impl Seeded {
    pub fn entries(&self) -> Vec<ExportEntry> {
        ledger_entries(&self.ledger, &self.directory)
    }
    pub fn member(&self, id: u64) -> std::sync::Arc<AccountInfo> {
        self.directory
            .get(AccountId(id))
            .expect("a seeded member")
            .clone()
    }
}

pub fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Runner {
    ledger: Ledger,
    next: u64,
}

impl Runner {
    fn run(&mut self, time: DateTime<Utc>, op: Operation) -> TxId {
        self.next += 1;
        let tx = TxId(self.next);
        let command = Command {
            key: IdempotencyKey::new(format!("seed-{}", self.next)).unwrap(),
            tx_id: tx,
            time,
            op,
        };
        self.ledger
            .execute(command)
            .unwrap_or_else(|r| panic!("seed command {} refused: {r}", self.next));
        tx
    }

    fn pay(
        &mut self,
        time: DateTime<Utc>,
        payer: u64,
        payee: u64,
        units: i64,
        reference: &str,
        memo: &str,
    ) -> TxId {
        self.run(
            time,
            Operation::Payment {
                payer: AccountId(payer),
                payee: AccountId(payee),
                amount: Amount::from_minor(units),
                reference: reference.into(),
                memo: memo.into(),
            },
        )
    }
}

pub fn units(u: i64) -> i64 {
    u * 100
}

/// The network: 5 % commission (minimum 1,00), 1 % fund contribution paid by the buyer.
pub fn seeded_network() -> Seeded {
    let fees = FeePolicy::new(500, Amount::from_units(1), 100, FundPayer::Buyer).unwrap();
    let policy = Policy {
        fees,
        ..Policy::default()
    };
    let mut ledger = Ledger::new(SYSTEM, policy);
    for (id, _, _) in MEMBERS {
        ledger
            .open_member(AccountId(id), Amount::from_units(5_000), None)
            .unwrap();
    }
    let mut r = Runner { ledger, next: 0 };
    // Opening balances brought from the previous system (before the 2025 fiscal year).
    r.run(
        at(2024, 12, 15, 9),
        Operation::OpeningBalance {
            account: AccountId(10),
            amount: Amount::from_units(800),
            memo: "Reprise ancien réseau".into(),
        },
    );
    r.run(
        at(2024, 12, 15, 9),
        Operation::OpeningBalance {
            account: AccountId(11),
            amount: Amount::from_units(-300),
            memo: "Reprise ancien réseau".into(),
        },
    );
    // A 2024 trade and fee: income of the previous year, carried to retained earnings.
    r.pay(
        at(2024, 12, 20, 10),
        12,
        13,
        units(400),
        "FA-2024-090",
        "Entretien véhicules",
    );
    r.run(
        at(2024, 12, 28, 10),
        Operation::Charge {
            kind: ChargeKind::Fee,
            payer: AccountId(14),
            amount: Amount::from_units(50),
            reference: "COT-2024".into(),
            memo: "Frais de dossier".into(),
        },
    );
    // 2025: membership fees.
    for (i, (id, _, _)) in MEMBERS.iter().enumerate() {
        r.run(
            at(2025, 1, 5, 8 + i as u32),
            Operation::Charge {
                kind: ChargeKind::Fee,
                payer: AccountId(*id),
                amount: Amount::from_minor(23_500),
                reference: format!("COT-2025-{id}"),
                memo: "Cotisation annuelle 2025".into(),
            },
        );
    }
    r.run(
        at(2025, 1, 6, 9),
        Operation::Charge {
            kind: ChargeKind::FundContribution,
            payer: AccountId(10),
            amount: Amount::from_units(20),
            reference: "FG-2025-10".into(),
            memo: "Apport fonds de garantie".into(),
        },
    );
    // Trades, with hostile memos for every format.
    r.pay(
        at(2025, 2, 3, 14),
        11,
        10,
        units(1_200),
        "FA-2025-0042",
        "Refonte site web | paiement par compensation",
    );
    r.pay(
        at(2025, 2, 17, 9),
        12,
        10,
        123_456,
        "FA-2025-0043",
        "Menuiserie; lot \"A\"\nsuite",
    );
    r.pay(
        at(2025, 3, 1, 16),
        10,
        13,
        units(640),
        "",
        "=HYPERLINK(\"x\") révision",
    );
    let wrong = r.pay(
        at(2025, 3, 9, 11),
        13,
        14,
        units(999),
        "FA-2025-0050",
        "Erreur de montant",
    );
    r.run(
        at(2025, 3, 10, 11),
        Operation::Reverse {
            transaction: wrong,
            memo: "Annulation: mauvais montant".into(),
        },
    );
    r.pay(
        at(2025, 3, 10, 12),
        13,
        14,
        units(99),
        "FA-2025-0050b",
        "Montant corrigé",
    );
    // A two-phase payment.
    r.run(
        at(2025, 4, 2, 10),
        Operation::PlaceHold {
            hold: HoldId(1),
            payer: AccountId(14),
            payee: AccountId(12),
            amount: Amount::from_units(300),
            expires_at: at(2025, 4, 30, 0),
            reference: "DEV-77".into(),
            memo: "Impression catalogues".into(),
        },
    );
    r.run(
        at(2025, 4, 5, 10),
        Operation::CaptureHold {
            hold: HoldId(1),
            amount: Some(Amount::from_units(250)),
        },
    );
    // The defaulter buys, then is written off; euros are recovered later.
    r.pay(
        at(2025, 5, 12, 10),
        15,
        12,
        units(2_000),
        "FA-2025-0090",
        "Achat matériel",
    );
    r.pay(
        at(2025, 6, 20, 10),
        15,
        11,
        units(1_500),
        "FA-2025-0091",
        "Pains et viennoiseries",
    );
    r.run(
        at(2025, 7, 15, 10),
        Operation::WriteOff {
            account: AccountId(15),
            reason: "Liquidation judiciaire".into(),
            actor: "gestionnaire".into(),
        },
    );
    r.run(
        at(2025, 9, 1, 10),
        Operation::Recovery {
            account: AccountId(15),
            amount: Amount::from_units(400),
            memo: "Dividende du liquidateur".into(),
        },
    );
    r.run(
        at(2025, 9, 2, 10),
        Operation::Adjustment {
            from: AccountId(2),
            to: AccountId(13),
            amount: Amount::from_units(25),
            reference: "GEST-1".into(),
            memo: "Geste commercial".into(),
        },
    );
    for month in 8..=12 {
        r.pay(
            at(2025, month, 10, 15),
            14,
            11,
            units(100 + month as i64),
            &format!("FA-2025-1{month:02}"),
            "Fournitures",
        );
        r.pay(
            at(2025, month, 11, 15),
            10,
            12,
            units(37) + 3,
            &format!("FA-2025-2{month:02}"),
            "Impression",
        );
    }
    // After the fiscal year: not in the 2025 exports.
    r.pay(
        at(2026, 1, 8, 10),
        11,
        13,
        units(75),
        "FA-2026-0001",
        "Réparation",
    );
    r.ledger
        .check_invariants()
        .expect("the seeded ledger is consistent");
    let members = MEMBERS.iter().map(|(id, siren, name)| {
        AccountInfo::member(AccountId(*id), Some(Siren::new(siren).unwrap()), name).unwrap()
    });
    let directory = Directory::for_ledger(&r.ledger, members);
    Seeded {
        ledger: r.ledger,
        directory,
    }
}
