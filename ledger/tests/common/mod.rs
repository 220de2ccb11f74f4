//! Helpers shared by the ledger's integration tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use ledger::{
    AccountId, Amount, Command, FeePolicy, FundPayer, IdempotencyKey, Ledger, Operation, Outcome,
    Policy, Rejection, SystemAccounts, TxId,
};

pub const FUND: AccountId = AccountId(1);
pub const FEES: AccountId = AccountId(2);
pub const LOSSES: AccountId = AccountId(3);
pub const MIGRATION: AccountId = AccountId(4);
pub const SYSTEM: SystemAccounts = SystemAccounts {
    fund: FUND,
    fees: FEES,
    losses: LOSSES,
    migration: MIGRATION,
};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

pub fn units(u: i64) -> Amount {
    Amount::from_units(u)
}

pub fn cents(c: i64) -> Amount {
    Amount::from_minor(c)
}

/// Drives a ledger with fresh keys, ids and a clock that advances one second per command.
pub struct Harness {
    pub ledger: Ledger,
    next: u64,
    pub now: DateTime<Utc>,
}

impl Harness {
    pub fn new(policy: Policy) -> Harness {
        Harness {
            ledger: Ledger::new(SYSTEM, policy),
            next: 1,
            now: t0(),
        }
    }

    /// No fees.
    pub fn free() -> Harness {
        Harness::new(Policy::default())
    }

    /// 2 % commission (minimum 0,50) paid by the seller, 1 % to the fund paid as configured.
    pub fn with_fees(fund_payer: FundPayer) -> Harness {
        let fees = FeePolicy::new(200, cents(50), 100, fund_payer).unwrap();
        Harness::new(Policy {
            fees,
            ..Policy::default()
        })
    }

    pub fn member(&mut self, id: u64, limit: Amount) -> AccountId {
        self.ledger.open_member(AccountId(id), limit, None).unwrap();
        AccountId(id)
    }

    pub fn member_with_max(&mut self, id: u64, limit: Amount, max: Amount) -> AccountId {
        self.ledger
            .open_member(AccountId(id), limit, Some(max))
            .unwrap();
        AccountId(id)
    }

    pub fn command(&mut self, op: Operation) -> Command {
        let n = self.next;
        self.next += 1;
        self.now += Duration::seconds(1);
        Command {
            key: IdempotencyKey::new(format!("k{n}")).unwrap(),
            tx_id: TxId(n),
            time: self.now,
            op,
        }
    }

    pub fn run(&mut self, op: Operation) -> Result<Outcome, Rejection> {
        let command = self.command(op);
        let result = self.ledger.execute(command);
        self.ledger.check_invariants().expect("invariants hold");
        result
    }

    pub fn pay(
        &mut self,
        payer: AccountId,
        payee: AccountId,
        amount: Amount,
    ) -> Result<Outcome, Rejection> {
        self.run(Operation::Payment {
            payer,
            payee,
            amount,
            reference: "INV-1".into(),
            memo: String::new(),
        })
    }

    pub fn balance(&self, id: AccountId) -> Amount {
        self.ledger.account(id).unwrap().balance()
    }

    pub fn pending(&self, id: AccountId) -> Amount {
        self.ledger.account(id).unwrap().pending()
    }
}
