//! Every rule of the ledger at its boundary.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::*;
use ledger::{
    fund, AccountId, AccountStatus, Amount, ChangeRecord, ChargeKind, FundPayer, HoldId,
    HoldStatus, Leg, LockedPeriod, Operation, Outcome, Posting, Rejection, Transaction, TxHeader,
    TxId, TxKind, MEMO_LEN_MAX, REFERENCE_LEN_MAX,
};

fn tx_of(h: &Harness, outcome: &Outcome) -> Transaction {
    h.ledger.transaction(outcome.tx().unwrap()).unwrap().clone()
}

#[test]
fn payment_exactly_at_the_limit_passes_one_cent_more_fails() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    assert_eq!(
        h.pay(a, b, cents(10_001)),
        Err(Rejection::InsufficientCredit {
            account: a,
            available: units(100),
            requested: cents(10_001)
        })
    );
    assert_eq!(h.balance(a), Amount::ZERO, "a rejection changes nothing");
    h.pay(a, b, units(100)).unwrap();
    assert_eq!(h.balance(a), units(-100));
    assert_eq!(h.balance(b), units(100));
    assert_eq!(
        h.pay(a, b, cents(1)),
        Err(Rejection::InsufficientCredit {
            account: a,
            available: Amount::ZERO,
            requested: cents(1)
        })
    );
}

#[test]
fn fees_are_legs_of_the_same_transaction_and_sum_to_zero() {
    let mut h = Harness::with_fees(FundPayer::Seller);
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(0));
    // 2 % of 123,45 = 2,469 → 2,47; 1 % = 1,2345 → 1,23.
    let outcome = h.pay(a, b, cents(12_345)).unwrap();
    let tx = tx_of(&h, &outcome);
    assert_eq!(tx.kind(), TxKind::Payment);
    assert_eq!(tx.postings().len(), 6);
    let sum: i64 = tx.postings().iter().map(|p| p.amount.minor()).sum();
    assert_eq!(sum, 0);
    assert_eq!(h.balance(a), cents(-12_345));
    assert_eq!(h.balance(b), cents(12_345 - 247 - 123));
    assert_eq!(h.balance(FEES), cents(247));
    assert_eq!(h.balance(FUND), cents(123));
    let commission: Vec<&Posting> = tx
        .postings()
        .iter()
        .filter(|p| p.leg == Leg::Commission)
        .collect();
    assert_eq!(commission.len(), 2);
}

#[test]
fn buyer_paid_contribution_counts_against_the_buyers_credit() {
    let mut h = Harness::with_fees(FundPayer::Buyer);
    let a = h.member(10, units(101));
    let b = h.member(11, units(0));
    // 100 + 1 % = 101,00 exactly at the limit.
    h.pay(a, b, units(100)).unwrap();
    assert_eq!(h.balance(a), units(-101));
    assert_eq!(h.balance(b), units(98));
    assert_eq!(h.balance(FUND), units(1));
    let mut h = Harness::with_fees(FundPayer::Buyer);
    let a = h.member(10, cents(10_099));
    let b = h.member(11, units(0));
    assert_eq!(
        h.pay(a, b, units(100)),
        Err(Rejection::InsufficientCredit {
            account: a,
            available: cents(10_099),
            requested: units(101)
        })
    );
}

#[test]
fn upper_limit_at_the_maximum_and_one_cent_past() {
    let mut h = Harness::free();
    let a = h.member(10, units(1_000));
    let b = h.member_with_max(11, units(0), units(50));
    h.pay(a, b, units(50)).unwrap();
    assert_eq!(
        h.pay(a, b, cents(1)),
        Err(Rejection::OverUpperLimit {
            account: b,
            max_balance: units(50),
            resulting: cents(5_001)
        })
    );
    assert_eq!(h.balance(a), units(-50));
}

#[test]
fn frozen_accounts_receive_but_do_not_pay_closed_ones_do_neither() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    let c = h.member(12, units(100));
    h.run(Operation::SetStatus {
        account: a,
        status: AccountStatus::Frozen,
        reason: "unpaid membership".into(),
        actor: "manager@troc".into(),
    })
    .unwrap();
    assert_eq!(
        h.pay(a, b, units(1)),
        Err(Rejection::AccountFrozen { account: a })
    );
    h.pay(b, a, units(1)).unwrap();
    assert_eq!(h.balance(a), units(1));
    h.run(Operation::SetStatus {
        account: c,
        status: AccountStatus::Closed,
        reason: "left the network".into(),
        actor: "manager@troc".into(),
    })
    .unwrap();
    assert_eq!(
        h.pay(b, c, units(1)),
        Err(Rejection::AccountClosed { account: c })
    );
    assert_eq!(
        h.pay(c, b, units(1)),
        Err(Rejection::AccountClosed { account: c })
    );
    assert_eq!(
        h.run(Operation::SetStatus {
            account: c,
            status: AccountStatus::Active,
            reason: "back".into(),
            actor: "manager@troc".into(),
        }),
        Err(Rejection::AccountClosed { account: c })
    );
}

#[test]
fn closing_needs_a_zero_balance() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    h.pay(a, b, units(5)).unwrap();
    let close = |account| Operation::SetStatus {
        account,
        status: AccountStatus::Closed,
        reason: "leaves".into(),
        actor: "m".into(),
    };
    assert_eq!(
        h.run(close(a)),
        Err(Rejection::NonZeroBalance { balance: units(-5) })
    );
    h.pay(b, a, units(5)).unwrap();
    h.run(close(a)).unwrap();
    assert_eq!(h.ledger.account(a).unwrap().status(), AccountStatus::Closed);
    assert_eq!(
        h.run(Operation::SetStatus {
            account: b,
            status: AccountStatus::Active,
            reason: "x".into(),
            actor: "m".into()
        }),
        Err(Rejection::StatusUnchanged)
    );
}

#[test]
fn malformed_payments_are_rejected_with_their_reason() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    assert_eq!(h.pay(a, a, units(1)), Err(Rejection::SameAccount));
    assert_eq!(h.pay(a, b, Amount::ZERO), Err(Rejection::ZeroAmount));
    assert_eq!(h.pay(a, b, cents(-1)), Err(Rejection::NegativeAmount));
    assert_eq!(
        h.pay(a, AccountId(99), units(1)),
        Err(Rejection::UnknownAccount {
            account: AccountId(99)
        })
    );
    assert_eq!(
        h.pay(a, FEES, units(1)),
        Err(Rejection::NotAMemberAccount { account: FEES })
    );
    assert_eq!(h.ledger.transactions().count(), 0);
}

#[test]
fn memo_and_reference_limits() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    let pay = |memo: String, reference: String| Operation::Payment {
        payer: a,
        payee: b,
        amount: units(1),
        reference,
        memo,
    };
    // Accented characters count as one each.
    h.run(pay("é".repeat(MEMO_LEN_MAX), "R".repeat(REFERENCE_LEN_MAX)))
        .unwrap();
    assert_eq!(
        h.run(pay("é".repeat(MEMO_LEN_MAX + 1), String::new())),
        Err(Rejection::MemoTooLong {
            len: MEMO_LEN_MAX as u32 + 1,
            max: MEMO_LEN_MAX as u32
        })
    );
    assert_eq!(
        h.run(pay(String::new(), "R".repeat(REFERENCE_LEN_MAX + 1))),
        Err(Rejection::ReferenceTooLong {
            len: REFERENCE_LEN_MAX as u32 + 1,
            max: REFERENCE_LEN_MAX as u32
        })
    );
    // The NUL character, which databases refuse, in either text; other characters pass.
    assert_eq!(
        h.run(pay("a\0b".into(), String::new())),
        Err(Rejection::NulCharacter)
    );
    assert_eq!(
        h.run(pay(String::new(), "\0".into())),
        Err(Rejection::NulCharacter)
    );
    h.run(pay("ligne 1\r\nligne 2\t✓".into(), String::new()))
        .unwrap();
}

#[test]
fn amount_per_transaction_maximum() {
    let mut h = Harness::free();
    let max = h.ledger.policy().amount_per_tx_max;
    let a = h.member(10, Amount::from_minor(i64::MAX / 4));
    let b = h.member(11, units(0));
    h.pay(a, b, max).unwrap();
    assert_eq!(
        h.pay(a, b, max.checked_add(cents(1)).unwrap()),
        Err(Rejection::AmountAboveMaximum {
            amount: max.checked_add(cents(1)).unwrap(),
            max
        })
    );
}

#[test]
fn idempotency_same_content_replays_different_content_conflicts_failed_stays_failed() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    let op = Operation::Payment {
        payer: a,
        payee: b,
        amount: units(10),
        reference: "F-1".into(),
        memo: String::new(),
    };
    let first = h.command(op.clone());
    let outcome = h.ledger.execute(first.clone()).unwrap();
    // A retry later, with another transaction id and time, returns the original result.
    let mut retry = first.clone();
    retry.tx_id = TxId(999);
    retry.time += Duration::minutes(5);
    assert_eq!(h.ledger.execute(retry), Ok(outcome));
    assert_eq!(h.balance(a), units(-10), "applied once");
    assert_eq!(h.ledger.transactions().count(), 1);
    let mut other = first.clone();
    other.op = Operation::Payment {
        payer: a,
        payee: b,
        amount: units(11),
        reference: "F-1".into(),
        memo: String::new(),
    };
    assert_eq!(h.ledger.execute(other), Err(Rejection::IdempotencyConflict));
    // A key whose operation failed stays failed, even once the operation could succeed.
    let too_much = h.command(Operation::Payment {
        payer: a,
        payee: b,
        amount: units(200),
        reference: String::new(),
        memo: String::new(),
    });
    assert!(matches!(
        h.ledger.execute(too_much.clone()),
        Err(Rejection::InsufficientCredit { .. })
    ));
    h.run(Operation::SetLimits {
        account: a,
        credit_limit: units(1_000),
        max_balance: None,
        reason: "review".into(),
        actor: "m".into(),
    })
    .unwrap();
    assert_eq!(
        h.ledger.execute(too_much),
        Err(Rejection::IdempotencyKeyFailed)
    );
    assert_eq!(h.balance(a), units(-10));
    h.ledger.check_invariants().unwrap();
}

#[test]
fn duplicate_transaction_ids_are_refused() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    let mut c1 = h.command(Operation::Payment {
        payer: a,
        payee: b,
        amount: units(1),
        reference: String::new(),
        memo: String::new(),
    });
    c1.tx_id = TxId(7);
    h.ledger.execute(c1.clone()).unwrap();
    let mut c2 = h.command(c1.op.clone());
    c2.tx_id = TxId(7);
    assert_eq!(
        h.ledger.execute(c2),
        Err(Rejection::DuplicateTransactionId {
            transaction: TxId(7)
        })
    );
}

fn place(
    h: &mut Harness,
    hold: u64,
    payer: AccountId,
    payee: AccountId,
    amount: Amount,
    ttl_secs: i64,
) -> Result<Outcome, Rejection> {
    // The harness runs the next command one second from now: the hold lives `ttl_secs`
    // from its placement.
    let expires_at = h.now + Duration::seconds(1 + ttl_secs);
    h.run(Operation::PlaceHold {
        hold: HoldId(hold),
        payer,
        payee,
        amount,
        expires_at,
        reference: "ORDER-1".into(),
        memo: String::new(),
    })
}

#[test]
fn a_hold_reserves_available_credit_exactly() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    place(&mut h, 1, a, b, units(60), 3600).unwrap();
    assert_eq!(h.pending(a), units(60));
    assert_eq!(h.ledger.account(a).unwrap().available(), Some(units(40)));
    assert_eq!(
        place(&mut h, 2, a, b, cents(4_001), 3600),
        Err(Rejection::InsufficientCredit {
            account: a,
            available: units(40),
            requested: cents(4_001)
        })
    );
    place(&mut h, 2, a, b, units(40), 3600).unwrap();
    assert_eq!(
        h.pay(a, b, cents(1)),
        Err(Rejection::InsufficientCredit {
            account: a,
            available: Amount::ZERO,
            requested: cents(1)
        })
    );
    assert_eq!(
        place(&mut h, 2, a, b, units(1), 3600),
        Err(Rejection::DuplicateHold { hold: HoldId(2) })
    );
}

#[test]
fn capture_in_full_in_part_and_at_most_once() {
    let mut h = Harness::with_fees(FundPayer::Buyer);
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(0));
    place(&mut h, 1, a, b, units(100), 3600).unwrap();
    // Reserved: 100 + 1 % fund contribution paid by the buyer.
    assert_eq!(h.pending(a), units(101));
    let captured = h
        .run(Operation::CaptureHold {
            hold: HoldId(1),
            amount: Some(units(40)),
        })
        .unwrap();
    let tx = tx_of(&h, &captured);
    assert_eq!(tx.kind(), TxKind::HoldCapture);
    assert_eq!(tx.reference(), "ORDER-1");
    assert_eq!(h.pending(a), Amount::ZERO, "the rest is released");
    assert_eq!(h.balance(a), cents(-4_040));
    assert_eq!(
        h.ledger.hold(HoldId(1)).unwrap().status,
        HoldStatus::Captured
    );
    assert_eq!(
        h.run(Operation::VoidHold { hold: HoldId(1) }),
        Err(Rejection::HoldAlreadyResolved {
            hold: HoldId(1),
            status: HoldStatus::Captured
        })
    );
    place(&mut h, 2, a, b, units(10), 3600).unwrap();
    assert_eq!(
        h.run(Operation::CaptureHold {
            hold: HoldId(2),
            amount: Some(cents(1_001))
        }),
        Err(Rejection::CaptureExceedsHold {
            held: units(10),
            requested: cents(1_001)
        })
    );
    h.run(Operation::CaptureHold {
        hold: HoldId(2),
        amount: None,
    })
    .unwrap();
    assert_eq!(h.balance(b), cents(4_000 - 80 + 1_000 - 50));
    assert_eq!(
        h.run(Operation::CaptureHold {
            hold: HoldId(9),
            amount: None
        }),
        Err(Rejection::UnknownHold { hold: HoldId(9) })
    );
}

#[test]
fn void_releases_and_expired_holds_can_be_neither_captured_nor_voided() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    place(&mut h, 1, a, b, units(30), 3600).unwrap();
    h.run(Operation::VoidHold { hold: HoldId(1) }).unwrap();
    assert_eq!(h.pending(a), Amount::ZERO);
    assert_eq!(h.balance(a), Amount::ZERO);
    // Expires 10 s after placement; the harness clock moves 1 s per command.
    place(&mut h, 2, a, b, units(30), 10).unwrap();
    h.now += Duration::seconds(20);
    assert_eq!(
        h.run(Operation::CaptureHold {
            hold: HoldId(2),
            amount: None
        }),
        Err(Rejection::HoldExpired { hold: HoldId(2) })
    );
    assert_eq!(
        h.run(Operation::VoidHold { hold: HoldId(2) }),
        Err(Rejection::HoldExpired { hold: HoldId(2) })
    );
    assert_eq!(
        h.pending(a),
        units(30),
        "still held until expiries are applied"
    );
    let now = h.now;
    assert_eq!(h.ledger.expire_holds(now), vec![HoldId(2)]);
    assert_eq!(h.pending(a), Amount::ZERO);
    assert_eq!(
        h.ledger.hold(HoldId(2)).unwrap().status,
        HoldStatus::Expired
    );
    assert!(h.ledger.expire_holds(now).is_empty(), "released once");
    h.ledger.check_invariants().unwrap();
}

#[test]
fn a_hold_expires_exactly_at_its_expiry() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    place(&mut h, 1, a, b, units(30), 2).unwrap();
    let expires_at = h.ledger.hold(HoldId(1)).unwrap().expires_at;
    // One second before: capture still works (the harness adds 1 s per command).
    h.now = expires_at - Duration::seconds(2);
    assert!(h
        .ledger
        .expire_holds(expires_at - Duration::seconds(1))
        .is_empty());
    h.run(Operation::CaptureHold {
        hold: HoldId(1),
        amount: None,
    })
    .unwrap();
    place(&mut h, 2, a, b, units(30), 1).unwrap();
    // The next command runs exactly at the expiry: refused.
    assert_eq!(
        h.run(Operation::VoidHold { hold: HoldId(2) }),
        Err(Rejection::HoldExpired { hold: HoldId(2) })
    );
    assert_eq!(
        place(&mut h, 3, a, b, units(1), 0),
        Err(Rejection::ExpiryNotInFuture)
    );
}

#[test]
fn expiring_an_open_hold_before_its_time_is_refused() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    place(&mut h, 1, a, b, units(30), 3600).unwrap();
    assert_eq!(
        h.run(Operation::ExpireHold { hold: HoldId(1) }),
        Err(Rejection::HoldNotExpired { hold: HoldId(1) })
    );
}

#[test]
fn reversal_undoes_every_leg_once() {
    let mut h = Harness::with_fees(FundPayer::Seller);
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(1_000));
    let paid = h.pay(a, b, units(100)).unwrap();
    let original = paid.tx().unwrap();
    let reversal = h
        .run(Operation::Reverse {
            transaction: original,
            memo: "goods returned".into(),
        })
        .unwrap();
    for account in [a, b, FEES, FUND] {
        assert_eq!(h.balance(account), Amount::ZERO, "account {account}");
    }
    let rtx = tx_of(&h, &reversal);
    assert_eq!(rtx.kind(), TxKind::Reversal);
    assert_eq!(rtx.reverses(), Some(original));
    assert_eq!(rtx.postings().len(), 6);
    assert_eq!(
        h.run(Operation::Reverse {
            transaction: original,
            memo: String::new()
        }),
        Err(Rejection::AlreadyReversed {
            transaction: original,
            by: rtx.id()
        })
    );
    assert_eq!(
        h.run(Operation::Reverse {
            transaction: rtx.id(),
            memo: String::new()
        }),
        Err(Rejection::NotReversible {
            kind: TxKind::Reversal
        })
    );
    assert_eq!(
        h.run(Operation::Reverse {
            transaction: TxId(4242),
            memo: String::new()
        }),
        Err(Rejection::UnknownTransaction {
            transaction: TxId(4242)
        })
    );
    // The original is unchanged.
    assert_eq!(h.ledger.transaction(original).unwrap().postings().len(), 6);
}

#[test]
fn a_reversal_respects_the_sellers_limit() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    let c = h.member(12, units(0));
    let paid = h.pay(a, b, units(50)).unwrap();
    h.pay(b, c, units(50)).unwrap();
    assert_eq!(
        h.run(Operation::Reverse {
            transaction: paid.tx().unwrap(),
            memo: String::new()
        }),
        Err(Rejection::InsufficientCredit {
            account: b,
            available: Amount::ZERO,
            requested: units(50)
        })
    );
}

#[test]
fn lowering_a_limit_below_the_debt_is_allowed_reported_and_blocks_payments() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    h.pay(a, b, units(80)).unwrap();
    h.run(Operation::SetLimits {
        account: a,
        credit_limit: units(50),
        max_balance: Some(units(500)),
        reason: "late payments".into(),
        actor: "manager@troc".into(),
    })
    .unwrap();
    let Some(ChangeRecord::Limits(record)) = h.ledger.changes().last() else {
        panic!("a limit change record");
    };
    assert!(record.below_current_debt);
    assert_eq!(record.credit_limit_before, units(100));
    assert_eq!(record.credit_limit_after, units(50));
    assert_eq!(record.reason, "late payments");
    assert_eq!(record.actor, "manager@troc");
    assert_eq!(h.ledger.account(a).unwrap().available(), Some(units(-30)));
    assert!(matches!(
        h.pay(a, b, cents(1)),
        Err(Rejection::InsufficientCredit { .. })
    ));
    // It may still sell, and pays again once back within its limit.
    h.pay(b, a, units(40)).unwrap();
    h.pay(a, b, units(10)).unwrap();
    assert_eq!(h.balance(a), units(-50));
    assert_eq!(
        h.run(Operation::SetLimits {
            account: a,
            credit_limit: cents(-1),
            max_balance: None,
            reason: "x".into(),
            actor: "m".into()
        }),
        Err(Rejection::NegativeLimit)
    );
    assert_eq!(
        h.run(Operation::SetLimits {
            account: a,
            credit_limit: units(1),
            max_balance: None,
            reason: "  ".into(),
            actor: "m".into()
        }),
        Err(Rejection::InvalidReason {
            max: ledger::REASON_LEN_MAX as u32
        })
    );
    assert_eq!(
        h.run(Operation::SetLimits {
            account: FUND,
            credit_limit: units(1),
            max_balance: None,
            reason: "x".into(),
            actor: "m".into()
        }),
        Err(Rejection::NotAMemberAccount { account: FUND })
    );
}

#[test]
fn lowering_the_upper_limit_below_the_balance_is_reported() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(0));
    h.pay(a, b, units(80)).unwrap();
    h.run(Operation::SetLimits {
        account: b,
        credit_limit: Amount::ZERO,
        max_balance: Some(units(50)),
        reason: "must buy".into(),
        actor: "m".into(),
    })
    .unwrap();
    let Some(ChangeRecord::Limits(record)) = h.ledger.changes().last() else {
        panic!("a limit change record");
    };
    assert!(record.above_new_max);
    assert!(matches!(
        h.pay(a, b, cents(1)),
        Err(Rejection::OverUpperLimit { .. })
    ));
}

#[test]
fn write_off_takes_the_fund_first_then_the_losses_account() {
    let mut h = Harness::free();
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(1_000));
    let c = h.member(12, units(1_000));
    // The fund holds 30 from contributions.
    h.run(Operation::Charge {
        kind: ChargeKind::FundContribution,
        payer: c,
        amount: units(30),
        reference: String::new(),
        memo: "yearly contribution".into(),
    })
    .unwrap();
    h.pay(a, b, units(100)).unwrap();
    let outcome = h
        .run(Operation::WriteOff {
            account: a,
            reason: "bankruptcy".into(),
            actor: "manager@troc".into(),
        })
        .unwrap();
    let tx = tx_of(&h, &outcome);
    assert_eq!(tx.kind(), TxKind::WriteOff);
    assert_eq!(tx.net_for(a), units(100));
    assert_eq!(tx.net_for(FUND), units(-30));
    assert_eq!(tx.net_for(LOSSES), units(-70));
    assert_eq!(h.balance(a), Amount::ZERO);
    assert_eq!(h.balance(FUND), Amount::ZERO);
    assert_eq!(h.balance(LOSSES), units(-70));
    assert_eq!(h.ledger.account(a).unwrap().status(), AccountStatus::Closed);
    assert!(matches!(
        h.ledger.changes().last(),
        Some(ChangeRecord::Status(s)) if s.after == AccountStatus::Closed && s.reason == "bankruptcy"
    ));
    // Recovered euros replenish the fund.
    h.run(Operation::Recovery {
        account: a,
        amount: units(25),
        memo: "liquidator".into(),
    })
    .unwrap();
    assert_eq!(h.balance(FUND), units(25));
    assert_eq!(h.balance(MIGRATION), units(-25));
    assert_eq!(
        h.run(Operation::Recovery {
            account: b,
            amount: units(1),
            memo: String::new()
        }),
        Err(Rejection::NotWrittenOff { account: b })
    );
}

#[test]
fn write_off_covered_entirely_by_the_fund() {
    let mut h = Harness::free();
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(1_000));
    h.run(Operation::Charge {
        kind: ChargeKind::FundContribution,
        payer: b,
        amount: units(500),
        reference: String::new(),
        memo: String::new(),
    })
    .unwrap();
    h.pay(a, b, units(100)).unwrap();
    let outcome = h
        .run(Operation::WriteOff {
            account: a,
            reason: "default".into(),
            actor: "m".into(),
        })
        .unwrap();
    let tx = tx_of(&h, &outcome);
    assert_eq!(tx.postings().len(), 2);
    assert_eq!(h.balance(FUND), units(400));
    assert_eq!(h.balance(LOSSES), Amount::ZERO);
}

#[test]
fn write_off_preconditions() {
    let mut h = Harness::free();
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(1_000));
    let write_off = |account| Operation::WriteOff {
        account,
        reason: "default".into(),
        actor: "m".into(),
    };
    assert_eq!(
        h.run(write_off(a)),
        Err(Rejection::NothingToWriteOff {
            balance: Amount::ZERO
        })
    );
    h.pay(a, b, units(10)).unwrap();
    place(&mut h, 1, a, b, units(5), 3600).unwrap();
    assert_eq!(
        h.run(write_off(a)),
        Err(Rejection::OpenHolds { pending: units(5) })
    );
    h.run(Operation::VoidHold { hold: HoldId(1) }).unwrap();
    h.run(write_off(a)).unwrap();
    assert_eq!(
        h.run(write_off(a)),
        Err(Rejection::AccountClosed { account: a })
    );
}

#[test]
fn opening_balances_are_balanced_against_the_migration_account() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    h.run(Operation::OpeningBalance {
        account: a,
        amount: units(250),
        memo: "from the old system".into(),
    })
    .unwrap();
    h.run(Operation::OpeningBalance {
        account: b,
        amount: units(-100),
        memo: String::new(),
    })
    .unwrap();
    assert_eq!(h.balance(MIGRATION), units(-150));
    assert!(matches!(
        h.run(Operation::OpeningBalance {
            account: b,
            amount: cents(-1),
            memo: String::new()
        }),
        Err(Rejection::InsufficientCredit { .. })
    ));
    assert_eq!(
        h.run(Operation::OpeningBalance {
            account: b,
            amount: Amount::ZERO,
            memo: String::new()
        }),
        Err(Rejection::ZeroAmount)
    );
}

#[test]
fn charges_and_adjustments() {
    let mut h = Harness::free();
    let a = h.member(10, units(300));
    let b = h.member(11, units(0));
    let fee = h
        .run(Operation::Charge {
            kind: ChargeKind::Fee,
            payer: a,
            amount: units(235),
            reference: "ADH-2026".into(),
            memo: "membership".into(),
        })
        .unwrap();
    assert_eq!(tx_of(&h, &fee).kind(), TxKind::Fee);
    assert_eq!(h.balance(FEES), units(235));
    let adj = h
        .run(Operation::Adjustment {
            from: a,
            to: b,
            amount: units(5),
            reference: String::new(),
            memo: "correction".into(),
        })
        .unwrap();
    assert_eq!(tx_of(&h, &adj).kind(), TxKind::Adjustment);
    assert_eq!(h.balance(b), units(5));
    assert!(matches!(
        h.run(Operation::Adjustment {
            from: a,
            to: b,
            amount: units(61),
            reference: String::new(),
            memo: String::new()
        }),
        Err(Rejection::InsufficientCredit { .. })
    ));
    assert_eq!(
        h.run(Operation::Adjustment {
            from: a,
            to: a,
            amount: units(1),
            reference: String::new(),
            memo: String::new()
        }),
        Err(Rejection::SameAccount)
    );
}

#[test]
fn transactions_must_balance_and_have_two_postings() {
    let header = TxHeader {
        id: TxId(1),
        kind: TxKind::Adjustment,
        time: t0(),
        reference: String::new(),
        memo: String::new(),
        idempotency_key: None,
        reverses: None,
    };
    let p = |account, minor| Posting {
        account: AccountId(account),
        amount: cents(minor),
        leg: Leg::Principal,
    };
    assert_eq!(
        Transaction::new(header.clone(), vec![p(1, 5), p(2, -4)]),
        Err(Rejection::Unbalanced { sum: cents(1) })
    );
    assert_eq!(
        Transaction::new(header.clone(), vec![p(1, 0), p(2, 0)]),
        Err(Rejection::MalformedTransaction { postings: 2 })
    );
    assert_eq!(
        Transaction::new(header.clone(), vec![p(1, 0)]),
        Err(Rejection::MalformedTransaction { postings: 1 })
    );
    assert!(Transaction::new(header, vec![p(1, 5), p(2, -4), p(3, -1)]).is_ok());
}

#[test]
fn fund_metrics_and_stress_test() {
    let mut h = Harness::free();
    let a = h.member(10, units(1_000));
    let b = h.member(11, units(1_000));
    let c = h.member(12, units(1_000));
    let d = h.member(13, units(1_000));
    h.run(Operation::Charge {
        kind: ChargeKind::FundContribution,
        payer: d,
        amount: units(100),
        reference: String::new(),
        memo: String::new(),
    })
    .unwrap();
    h.pay(a, d, units(300)).unwrap();
    h.pay(b, d, units(100)).unwrap();
    h.pay(c, d, units(50)).unwrap();
    let metrics = fund::fund_metrics(h.ledger.accounts());
    assert_eq!(metrics.fund_balance, units(100));
    // d paid 100 to the fund and sold 450: it is positive and owes nothing.
    assert_eq!(metrics.exposure, units(450));
    assert_eq!(metrics.coverage_ratio.unwrap().to_string(), "0.2222");
    let stress = fund::stress_test(h.ledger.accounts(), 2);
    assert_eq!(stress.k, 2);
    assert_eq!(stress.debt, units(400));
    assert_eq!(stress.absorbed_by_fund, units(100));
    assert_eq!(stress.uncovered, units(300));
    assert_eq!(stress.share_of_fund.unwrap().to_string(), "4.0000");
    let all = fund::stress_test(h.ledger.accounts(), 99);
    assert_eq!(all.k, 3);
    let empty = Harness::free();
    let metrics = fund::fund_metrics(empty.ledger.accounts());
    assert_eq!(metrics.coverage_ratio, None);
    assert_eq!(
        fund::stress_test(empty.ledger.accounts(), 3).share_of_fund,
        None
    );
}

#[test]
fn replaying_the_same_commands_gives_the_same_state() {
    let build = || {
        let mut h = Harness::with_fees(FundPayer::Buyer);
        let a = h.member(10, units(1_000));
        let b = h.member(11, units(1_000));
        h.pay(a, b, units(12)).unwrap();
        place(&mut h, 1, b, a, units(7), 60).unwrap();
        h.run(Operation::CaptureHold {
            hold: HoldId(1),
            amount: Some(units(3)),
        })
        .unwrap();
        let _ = h.pay(a, b, units(5_000));
        h
    };
    let first = build();
    let second = build();
    assert_eq!(first.ledger.digest(), second.ledger.digest());
    let mut third = build();
    third.pay(AccountId(10), AccountId(11), cents(1)).unwrap();
    assert_ne!(first.ledger.digest(), third.ledger.digest());
}

/// The worked example of docs/ledger-model.md, figure for figure.
#[test]
fn the_documented_worked_example() {
    let fees = ledger::FeePolicy::new(200, cents(50), 100, FundPayer::Buyer).unwrap();
    let mut h = Harness::new(ledger::Policy {
        fees,
        ..ledger::Policy::default()
    });
    let martin = h.member(10, units(1_000));
    let durand = h.member(11, units(0));
    h.pay(martin, durand, cents(12_345)).unwrap();
    assert_eq!(h.balance(martin), cents(-12_468));
    assert_eq!(
        h.ledger.account(martin).unwrap().available(),
        Some(cents(87_532))
    );
    assert_eq!(h.balance(durand), cents(12_098));
    assert_eq!(h.balance(FEES), cents(247));
    assert_eq!(h.balance(FUND), cents(123));
}

/// Runs `op` dated `time` (a back-dated operation, as an import or `Submission::at` makes).
fn run_at(h: &mut Harness, time: DateTime<Utc>, op: Operation) -> Result<Outcome, Rejection> {
    let mut command = h.command(op);
    command.time = time;
    let result = h.ledger.execute(command);
    h.ledger.check_invariants().expect("invariants hold");
    result
}

#[test]
fn nothing_can_be_dated_inside_a_locked_period() {
    let mut h = Harness::free();
    let a = h.member(10, units(100));
    let b = h.member(11, units(100));
    let through = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let lock = LockedPeriod::utc(through).unwrap();
    let next_day = NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    assert_eq!(lock.ends_at(), next_day);
    h.pay(a, b, units(1)).unwrap();
    h.ledger.lock_period(lock).unwrap();
    let locked = Err(Rejection::PeriodLocked { through });
    let pay = |amount| Operation::Payment {
        payer: a,
        payee: b,
        amount,
        reference: "INV-late".into(),
        memo: String::new(),
    };
    let before = (h.balance(a), h.balance(b), h.ledger.transactions().count());
    // Dated on the last locked day, up to its last microsecond: refused, nothing changes.
    let last_day_noon = next_day - Duration::hours(12);
    assert_eq!(run_at(&mut h, last_day_noon, pay(units(2))), locked);
    let last_instant = next_day - Duration::microseconds(1);
    assert_eq!(run_at(&mut h, last_instant, pay(units(2))), locked);
    assert_eq!(
        (h.balance(a), h.balance(b), h.ledger.transactions().count()),
        before
    );
    // The lock is decided first: a back-dated payment that is wrong in other ways too is
    // refused for the lock.
    assert_eq!(run_at(&mut h, last_day_noon, pay(units(5_000))), locked);
    // The next day is open.
    run_at(&mut h, next_day, pay(units(2))).unwrap();
    assert_eq!(h.balance(a), units(-3));
    // Every operation that posts a transaction is refused inside the period...
    let original = h.pay(a, b, units(1)).unwrap().tx().unwrap();
    let inside = next_day - Duration::days(10);
    for op in [
        Operation::Reverse {
            transaction: original,
            memo: "late".into(),
        },
        Operation::Charge {
            kind: ChargeKind::Fee,
            payer: a,
            amount: units(1),
            reference: String::new(),
            memo: String::new(),
        },
        Operation::OpeningBalance {
            account: a,
            amount: units(1),
            memo: String::new(),
        },
        Operation::Adjustment {
            from: FEES,
            to: a,
            amount: units(1),
            reference: String::new(),
            memo: String::new(),
        },
        Operation::WriteOff {
            account: a,
            reason: "default".into(),
            actor: "manager".into(),
        },
        Operation::Recovery {
            account: a,
            amount: units(1),
            memo: String::new(),
        },
    ] {
        assert_eq!(run_at(&mut h, inside, op.clone()), locked, "{op:?}");
    }
    // ...a capture too; placing a hold, limits and status are not entries.
    place(&mut h, 1, a, b, units(3), 600).unwrap();
    assert_eq!(
        run_at(
            &mut h,
            inside,
            Operation::CaptureHold {
                hold: HoldId(1),
                amount: None
            }
        ),
        locked
    );
    assert!(run_at(
        &mut h,
        inside,
        Operation::SetLimits {
            account: a,
            credit_limit: units(200),
            max_balance: None,
            reason: "review".into(),
            actor: "manager".into(),
        }
    )
    .is_ok());
    // Locks only move forward.
    assert_eq!(h.ledger.lock_period(lock), Err(lock));
    let earlier = LockedPeriod::utc(through - Duration::days(1)).unwrap();
    assert_eq!(h.ledger.lock_period(earlier), Err(lock));
    let later = LockedPeriod::utc(through + Duration::days(1)).unwrap();
    h.ledger.lock_period(later).unwrap();
    assert_eq!(h.ledger.locked_period(), Some(later));
    assert_eq!(
        run_at(&mut h, next_day, pay(units(1))),
        Err(Rejection::PeriodLocked {
            through: later.through()
        })
    );
}

#[test]
fn a_locked_period_ends_at_a_real_midnight() {
    let through = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let utc_midnight = LockedPeriod::utc(through).unwrap().ends_at();
    // Paris in summer: 22:00 UTC the day before; the widest offsets are −12 and +14 hours.
    let paris = utc_midnight - Duration::hours(2);
    assert_eq!(LockedPeriod::new(through, paris).unwrap().ends_at(), paris);
    let max = Duration::hours(LockedPeriod::OFFSET_HOURS_MAX);
    assert!(LockedPeriod::new(through, utc_midnight - max).is_some());
    assert!(LockedPeriod::new(through, utc_midnight + max).is_some());
    assert!(LockedPeriod::new(through, utc_midnight - max - Duration::seconds(1)).is_none());
    assert!(LockedPeriod::new(through, utc_midnight + max + Duration::seconds(1)).is_none());
    let lock = LockedPeriod::new(through, paris).unwrap();
    assert!(lock.covers(paris - Duration::microseconds(1)));
    assert!(!lock.covers(paris));
}
