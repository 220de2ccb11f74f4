//! # Troc's ledger core
//!
//! A pure, deterministic mutual-credit engine. It does **no** I/O, reads no clock, draws no
//! random numbers and starts no threads: time, ids and idempotency keys are passed in.
//!
//! The design in one sentence: [`decide`] takes the states an operation touches (through a
//! [`View`]), the rules in force ([`Policy`]) and a [`Command`], and returns an [`Effect`]
//! (the transaction to post and the new states) or a [`Rejection`]. The in-memory
//! [`Ledger`] applies effects in order and checks the invariants; the `web` crate's store
//! does the same inside database transactions, on just the rows it locked.
//!
//! What this crate does *not* do: persist anything, authorise anyone, format for humans
//! beyond amounts, or know about HTTP and SQL.

mod account;
mod amount;
pub mod audit;
mod decide;
mod fees;
pub mod fund;
mod ids;
mod ledger;
mod operation;
mod schedule;
pub mod setoff;
mod transaction;

pub use account::{Account, AccountError, AccountKind, AccountStatus, SystemAccounts};
pub use amount::{Amount, AmountError, AMOUNT_TEXT_LEN_MAX, MINOR_PER_UNIT, SCALE};
pub use decide::{
    accounts_touched, decide, Effect, LockedPeriod, Policy, View, AMOUNT_PER_TX_MAX_DEFAULT,
};
pub use fees::{FeePolicy, FeePolicyError, Fees, FundPayer, FEE_BP_MAX};
pub use ids::{
    char_len, AccountId, HoldId, IdempotencyKey, KeyError, TxId, ACTOR_LEN_MAX,
    IDEMPOTENCY_KEY_LEN_MAX, MEMO_LEN_MAX, REASON_LEN_MAX, REFERENCE_LEN_MAX,
};
pub use ledger::{replay, InvariantViolation, Ledger, Snapshot, EXPIRIES_PER_CALL_MAX};
pub use operation::{
    ChangeRecord, ChargeKind, Command, LimitChange, Operation, Outcome, Rejection, StatusChange,
};
pub use schedule::{PolicySchedule, PolicyVersion, ScheduleError, POLICY_VERSIONS_MAX};
pub use setoff::{
    set_off, Cleared, Obligation, Setoff, SetoffError, SETOFF_AMOUNT_MAX, SETOFF_OBLIGATIONS_MAX,
};
pub use transaction::{
    Hold, HoldStatus, Leg, Posting, Transaction, TxHeader, TxKind, POSTINGS_PER_TX_MAX,
};

/// Checks the length limits of a reference and a memo.
pub fn validate_text(reference: &str, memo: &str) -> Result<(), Rejection> {
    let reference_len = char_len(reference);
    if reference_len > REFERENCE_LEN_MAX {
        return Err(Rejection::ReferenceTooLong {
            len: reference_len as u32,
            max: REFERENCE_LEN_MAX as u32,
        });
    }
    let memo_len = char_len(memo);
    if memo_len > MEMO_LEN_MAX {
        return Err(Rejection::MemoTooLong {
            len: memo_len as u32,
            max: MEMO_LEN_MAX as u32,
        });
    }
    // Databases refuse it (PostgreSQL's text cannot hold it) and no document needs it.
    if reference.contains('\0') || memo.contains('\0') {
        return Err(Rejection::NulCharacter);
    }
    Ok(())
}
