//! Property tests: random sequences of operations keep every invariant after every step.
//!
//! The number of cases comes from `PROPTEST_CASES` (CI sets 1,000); each case runs up to 500
//! operations over 2 to 50 accounts.

mod common;

use std::collections::BTreeMap;

use chrono::Duration;
use common::*;
use ledger::{
    Account, AccountId, AccountStatus, Amount, ChargeKind, Command, FeePolicy, FundPayer, HoldId,
    IdempotencyKey, Ledger, LockedPeriod, Operation, Outcome, Policy, Rejection, TxId,
};
use proptest::prelude::*;

/// An operation described by indices, made concrete against the ledger's state when it runs.
#[derive(Debug, Clone)]
enum Step {
    Pay {
        payer: usize,
        payee: usize,
        cents: i64,
    },
    Hold {
        payer: usize,
        payee: usize,
        cents: i64,
        ttl: i64,
    },
    Capture {
        hold: usize,
        part: Option<i64>,
    },
    Void {
        hold: usize,
    },
    Expire {
        advance: i64,
    },
    Reverse {
        tx: usize,
    },
    SetLimits {
        account: usize,
        limit: i64,
        max: Option<i64>,
    },
    Freeze {
        account: usize,
        status: u8,
    },
    WriteOff {
        account: usize,
    },
    Recovery {
        account: usize,
        cents: i64,
    },
    Opening {
        account: usize,
        cents: i64,
    },
    Contribution {
        account: usize,
        cents: i64,
    },
    /// A payment dated `days` days ago (an import, a back-dated correction).
    Backdated {
        payer: usize,
        payee: usize,
        cents: i64,
        days: i64,
    },
    /// Lock every day up to `days` days ago.
    Lock {
        days: i64,
    },
    /// Submit an earlier command again, unchanged.
    Duplicate {
        index: usize,
    },
    /// Submit an earlier command's key with different content.
    Conflict {
        index: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let idx = 0usize..64;
    let amount = prop_oneof![1i64..=100, 1i64..=50_000, Just(10_000i64)];
    prop_oneof![
        12 => (idx.clone(), idx.clone(), amount.clone()).prop_map(|(payer, payee, cents)| Step::Pay { payer, payee, cents }),
        4 => (idx.clone(), idx.clone(), amount.clone(), 1i64..200).prop_map(|(payer, payee, cents, ttl)| Step::Hold { payer, payee, cents, ttl }),
        3 => (idx.clone(), proptest::option::of(1i64..60_000)).prop_map(|(hold, part)| Step::Capture { hold, part }),
        2 => idx.clone().prop_map(|hold| Step::Void { hold }),
        2 => (0i64..100).prop_map(|advance| Step::Expire { advance }),
        2 => idx.clone().prop_map(|tx| Step::Reverse { tx }),
        2 => (idx.clone(), 0i64..100_000, proptest::option::of(0i64..200_000)).prop_map(|(account, limit, max)| Step::SetLimits { account, limit, max }),
        1 => (idx.clone(), 0u8..3).prop_map(|(account, status)| Step::Freeze { account, status }),
        1 => idx.clone().prop_map(|account| Step::WriteOff { account }),
        1 => (idx.clone(), amount.clone()).prop_map(|(account, cents)| Step::Recovery { account, cents }),
        1 => (idx.clone(), -50_000i64..50_000).prop_map(|(account, cents)| Step::Opening { account, cents }),
        1 => (idx.clone(), amount.clone()).prop_map(|(account, cents)| Step::Contribution { account, cents }),
        2 => (idx.clone(), idx.clone(), amount, 0i64..400).prop_map(|(payer, payee, cents, days)| Step::Backdated { payer, payee, cents, days }),
        1 => (1i64..400).prop_map(|days| Step::Lock { days }),
        2 => idx.clone().prop_map(|index| Step::Duplicate { index }),
        1 => idx.prop_map(|index| Step::Conflict { index }),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (0u32..=1_000, 0i64..=200, 0u32..=500, any::<bool>()).prop_map(|(c, min, f, buyer)| {
        let payer = if buyer {
            FundPayer::Buyer
        } else {
            FundPayer::Seller
        };
        Policy {
            fees: FeePolicy::new(c, Amount::from_minor(min), f, payer).unwrap(),
            amount_per_tx_max: Amount::from_units(400),
        }
    })
}

struct Run {
    ledger: Ledger,
    members: Vec<AccountId>,
    holds: Vec<HoldId>,
    txs: Vec<TxId>,
    commands: Vec<(Command, Result<Outcome, Rejection>)>,
    next: u64,
    now: chrono::DateTime<chrono::Utc>,
}

fn pick<T: Copy>(v: &[T], i: usize) -> Option<T> {
    if v.is_empty() {
        None
    } else {
        Some(v[i % v.len()])
    }
}

impl Run {
    fn new(policy: Policy, members: usize, limits: &[i64]) -> Run {
        let mut ledger = Ledger::new(SYSTEM, policy);
        let ids: Vec<AccountId> = (0..members).map(|i| AccountId(100 + i as u64)).collect();
        for (i, id) in ids.iter().enumerate() {
            let max = if i % 5 == 4 {
                Some(Amount::from_minor(60_000))
            } else {
                None
            };
            ledger
                .open_member(*id, Amount::from_minor(limits[i % limits.len()]), max)
                .unwrap();
        }
        Run {
            ledger,
            members: ids,
            holds: vec![],
            txs: vec![],
            commands: vec![],
            next: 1,
            now: t0(),
        }
    }

    fn member(&self, i: usize) -> AccountId {
        self.members[i % self.members.len()]
    }

    fn operation(&mut self, step: &Step) -> Option<Operation> {
        Some(match *step {
            Step::Pay {
                payer,
                payee,
                cents,
            }
            | Step::Backdated {
                payer,
                payee,
                cents,
                ..
            } => Operation::Payment {
                payer: self.member(payer),
                payee: self.member(payee),
                amount: Amount::from_minor(cents),
                reference: format!("INV-{}", self.next),
                memo: String::new(),
            },
            Step::Hold {
                payer,
                payee,
                cents,
                ttl,
            } => Operation::PlaceHold {
                hold: HoldId(self.next),
                payer: self.member(payer),
                payee: self.member(payee),
                amount: Amount::from_minor(cents),
                expires_at: self.now + Duration::seconds(ttl),
                reference: String::new(),
                memo: String::new(),
            },
            Step::Capture { hold, part } => Operation::CaptureHold {
                hold: pick(&self.holds, hold)?,
                amount: part.map(Amount::from_minor),
            },
            Step::Void { hold } => Operation::VoidHold {
                hold: pick(&self.holds, hold)?,
            },
            Step::Expire { .. }
            | Step::Lock { .. }
            | Step::Duplicate { .. }
            | Step::Conflict { .. } => return None,
            Step::Reverse { tx } => Operation::Reverse {
                transaction: pick(&self.txs, tx)?,
                memo: "undo".into(),
            },
            Step::SetLimits {
                account,
                limit,
                max,
            } => Operation::SetLimits {
                account: self.member(account),
                credit_limit: Amount::from_minor(limit),
                max_balance: max.map(Amount::from_minor),
                reason: "review".into(),
                actor: "manager".into(),
            },
            Step::Freeze { account, status } => Operation::SetStatus {
                account: self.member(account),
                status: [
                    AccountStatus::Active,
                    AccountStatus::Frozen,
                    AccountStatus::Closed,
                ][status as usize],
                reason: "manager decision".into(),
                actor: "manager".into(),
            },
            Step::WriteOff { account } => Operation::WriteOff {
                account: self.member(account),
                reason: "default".into(),
                actor: "manager".into(),
            },
            Step::Recovery { account, cents } => Operation::Recovery {
                account: self.member(account),
                amount: Amount::from_minor(cents),
                memo: String::new(),
            },
            Step::Opening { account, cents } => Operation::OpeningBalance {
                account: self.member(account),
                amount: Amount::from_minor(cents),
                memo: String::new(),
            },
            Step::Contribution { account, cents } => Operation::Charge {
                kind: ChargeKind::FundContribution,
                payer: self.member(account),
                amount: Amount::from_minor(cents),
                reference: String::new(),
                memo: String::new(),
            },
        })
    }

    fn states(&self) -> BTreeMap<AccountId, Account> {
        self.ledger
            .accounts()
            .map(|a| (a.id(), a.clone()))
            .collect()
    }

    fn observable(
        &self,
    ) -> (
        BTreeMap<AccountId, Account>,
        Vec<ledger::Hold>,
        usize,
        usize,
    ) {
        (
            self.states(),
            self.ledger.holds().cloned().collect(),
            self.ledger.transactions().count(),
            self.ledger.changes().len(),
        )
    }

    /// Runs one step and checks what must hold around it.
    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        self.now += Duration::seconds(1);
        match *step {
            Step::Expire { advance } => {
                self.now += Duration::seconds(advance);
                self.ledger.expire_holds(self.now);
                return Ok(());
            }
            Step::Lock { days } => {
                let through = (self.now - Duration::days(days)).date_naive();
                let lock = LockedPeriod::utc(through).unwrap();
                let current = self.ledger.locked_period();
                match self.ledger.lock_period(lock) {
                    Ok(()) => prop_assert!(current.is_none_or(|c| c.through() < through)),
                    // Locks only move forward.
                    Err(kept) => {
                        prop_assert!(kept.through() >= through);
                        prop_assert_eq!(self.ledger.locked_period(), current);
                    }
                }
                return Ok(());
            }
            Step::Duplicate { index } if !self.commands.is_empty() => {
                let (command, original) = self.commands[index % self.commands.len()].clone();
                let before = self.observable();
                let again = self.ledger.execute(command);
                let expected = ledger::replay(true, &original);
                prop_assert_eq!(again, expected);
                prop_assert_eq!(before, self.observable(), "a duplicate applies nothing");
                return Ok(());
            }
            Step::Conflict { index } if !self.commands.is_empty() => {
                let (mut command, _) = self.commands[index % self.commands.len()].clone();
                command.op = Operation::Adjustment {
                    from: self.members[0],
                    to: self.members[1],
                    amount: Amount::from_minor(1),
                    reference: "different content".into(),
                    memo: String::new(),
                };
                let before = self.observable();
                prop_assert_eq!(
                    self.ledger.execute(command),
                    Err(Rejection::IdempotencyConflict)
                );
                prop_assert_eq!(before, self.observable(), "a conflict applies nothing");
                return Ok(());
            }
            _ => {}
        }
        let Some(op) = self.operation(step) else {
            return Ok(());
        };
        let limits_changed = match &op {
            Operation::SetLimits { account, .. } => Some(*account),
            _ => None,
        };
        let time = match *step {
            Step::Backdated { days, .. } => self.now - Duration::days(days),
            _ => self.now,
        };
        let command = Command {
            key: IdempotencyKey::new(format!("key-{}", self.next)).unwrap(),
            tx_id: TxId(self.next),
            time,
            op,
        };
        self.next += 1;
        let before = self.observable();
        let result = self.ledger.execute(command.clone());
        // Nothing is ever posted inside the locked period, and only that is refused for it.
        let covered = self
            .ledger
            .locked_period()
            .filter(|lock| command.op.posts_transaction() && lock.covers(command.time));
        match covered {
            Some(lock) => prop_assert_eq!(
                &result,
                &Err(Rejection::PeriodLocked {
                    through: lock.through()
                })
            ),
            None => prop_assert!(
                !matches!(result, Err(Rejection::PeriodLocked { .. })),
                "refused for a lock that does not cover it"
            ),
        }
        match &result {
            Err(_) => prop_assert_eq!(&before, &self.observable(), "a rejection changes nothing"),
            Ok(outcome) => {
                if let Some(tx) = outcome.tx() {
                    self.txs.push(tx);
                }
                if let Outcome::HoldPlaced { hold } = outcome {
                    self.holds.push(*hold);
                }
                let after = self.states();
                for (id, new) in &after {
                    let old = &before.0[id];
                    if limits_changed == Some(*id) {
                        continue;
                    }
                    // No debit takes an account (further) below its credit limit.
                    if let (Some(a_new), Some(a_old)) = (new.available(), old.available()) {
                        if a_new.is_negative() {
                            prop_assert!(
                                a_new >= a_old,
                                "account {} went below its limit: {:?} -> {:?}",
                                id,
                                old,
                                new
                            );
                        }
                    }
                    // No credit takes an account (further) above its upper limit.
                    if let Some(max) = new.max_balance() {
                        if new.balance() > max {
                            prop_assert!(
                                new.balance() <= old.balance(),
                                "account {} went above its upper limit",
                                id
                            );
                        }
                    }
                }
            }
        }
        self.commands.push((command, result));
        if let Err(violation) = self.ledger.check_invariants() {
            return Err(TestCaseError::fail(format!("after {step:?}: {violation}")));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // CI sets PROPTEST_CASES=1000; locally the default is 256.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        max_shrink_iters: 2_000,
        .. ProptestConfig::default()
    })]

    #[test]
    fn random_sequences_keep_every_invariant(
        policy in policy(),
        members in 2usize..=50,
        limits in proptest::collection::vec(0i64..100_000, 1..8),
        steps in proptest::collection::vec(step(), 1..=500),
    ) {
        let mut run = Run::new(policy, members, &limits);
        for step in &steps {
            run.step(step)?;
        }
        // Replaying the same steps on a fresh ledger gives the same state, byte for byte.
        let mut second = Run::new(policy, members, &limits);
        for step in &steps {
            second.step(step)?;
        }
        prop_assert_eq!(second.ledger.digest(), run.ledger.digest());
    }
}
