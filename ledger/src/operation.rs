//! Operations a caller asks the ledger to decide, their outcomes, and the structured
//! rejections.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AccountId, AccountStatus, Amount, HoldId, HoldStatus, IdempotencyKey, TxId, TxKind};

/// A standalone charge to a member, to the operator (fee) or to the guarantee fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    Fee,
    FundContribution,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Buyer pays seller; the fee policy's legs are added in the same transaction.
    Payment {
        payer: AccountId,
        payee: AccountId,
        amount: Amount,
        reference: String,
        memo: String,
    },
    /// Reserves the payer's credit for a later capture.
    PlaceHold {
        hold: HoldId,
        payer: AccountId,
        payee: AccountId,
        amount: Amount,
        expires_at: DateTime<Utc>,
        reference: String,
        memo: String,
    },
    /// Settles an open hold, in full (`amount: None`) or in part; the rest is released.
    CaptureHold {
        hold: HoldId,
        amount: Option<Amount>,
    },
    /// Releases an open hold without paying.
    VoidHold { hold: HoldId },
    /// Releases an open hold whose expiry has passed (applied by the caller at `now`).
    ExpireHold { hold: HoldId },
    /// A compensating transaction; the original is never changed.
    Reverse { transaction: TxId, memo: String },
    SetLimits {
        account: AccountId,
        credit_limit: Amount,
        max_balance: Option<Amount>,
        reason: String,
        actor: String,
    },
    /// Freeze, unfreeze, or close (at zero balance only).
    SetStatus {
        account: AccountId,
        status: AccountStatus,
        reason: String,
        actor: String,
    },
    /// The member defaulted: the fund absorbs the debt first, the losses account the rest,
    /// and the account is closed.
    WriteOff {
        account: AccountId,
        reason: String,
        actor: String,
    },
    /// Euros recovered from a written-off member replenish the fund.
    Recovery {
        account: AccountId,
        amount: Amount,
        memo: String,
    },
    /// A member's balance brought from another system, against the migration account.
    OpeningBalance {
        account: AccountId,
        amount: Amount,
        memo: String,
    },
    /// A standalone fee (e.g. membership) or fund contribution charged to a member.
    Charge {
        kind: ChargeKind,
        payer: AccountId,
        amount: Amount,
        reference: String,
        memo: String,
    },
    /// A manager's correction between two accounts, without fees; limits still apply.
    Adjustment {
        from: AccountId,
        to: AccountId,
        amount: Amount,
        reference: String,
        memo: String,
    },
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Payment { .. } => "payment",
            Operation::PlaceHold { .. } => "place_hold",
            Operation::CaptureHold { .. } => "capture_hold",
            Operation::VoidHold { .. } => "void_hold",
            Operation::ExpireHold { .. } => "expire_hold",
            Operation::Reverse { .. } => "reverse",
            Operation::SetLimits { .. } => "set_limits",
            Operation::SetStatus { .. } => "set_status",
            Operation::WriteOff { .. } => "write_off",
            Operation::Recovery { .. } => "recovery",
            Operation::OpeningBalance { .. } => "opening_balance",
            Operation::Charge { .. } => "charge",
            Operation::Adjustment { .. } => "adjustment",
        }
    }

    /// Whether the operation, when accepted, posts a transaction (an accounting entry, dated
    /// at the command's time). Only these are refused inside a locked period: holds, limit
    /// and status changes are not entries.
    pub fn posts_transaction(&self) -> bool {
        !matches!(
            self,
            Operation::PlaceHold { .. }
                | Operation::VoidHold { .. }
                | Operation::ExpireHold { .. }
                | Operation::SetLimits { .. }
                | Operation::SetStatus { .. }
        )
    }

    /// The hold this operation reads, if any.
    pub fn hold_id(&self) -> Option<HoldId> {
        match self {
            Operation::PlaceHold { hold, .. }
            | Operation::CaptureHold { hold, .. }
            | Operation::VoidHold { hold }
            | Operation::ExpireHold { hold } => Some(*hold),
            _ => None,
        }
    }

    /// The earlier transaction this operation reads, if any.
    pub fn transaction_id(&self) -> Option<TxId> {
        match self {
            Operation::Reverse { transaction, .. } => Some(*transaction),
            _ => None,
        }
    }

    /// A canonical, versioned text of the operation's content (not its time or ids given
    /// by the shell), documented in `docs/ledger-model.md`. Two submissions under one
    /// idempotency key are "the same" when their canonical texts are equal.
    pub fn canonical(&self) -> String {
        fn opt(a: Option<Amount>) -> String {
            a.map(|a| a.minor().to_string())
                .unwrap_or_else(|| "-".into())
        }
        // Texts are length-prefixed so that no separator inside them can forge a field.
        fn t(text: &str) -> String {
            format!("{}:{}", text.len(), text)
        }
        let body = match self {
            Operation::Payment {
                payer,
                payee,
                amount,
                reference,
                memo,
            } => format!(
                "{payer}|{payee}|{}|{}|{}",
                amount.minor(),
                t(reference),
                t(memo)
            ),
            Operation::PlaceHold {
                hold,
                payer,
                payee,
                amount,
                expires_at,
                reference,
                memo,
            } => format!(
                "{hold}|{payer}|{payee}|{}|{}|{}|{}",
                amount.minor(),
                expires_at.timestamp_micros(),
                t(reference),
                t(memo)
            ),
            Operation::CaptureHold { hold, amount } => format!("{hold}|{}", opt(*amount)),
            Operation::VoidHold { hold } | Operation::ExpireHold { hold } => format!("{hold}"),
            Operation::Reverse { transaction, memo } => format!("{transaction}|{}", t(memo)),
            Operation::SetLimits {
                account,
                credit_limit,
                max_balance,
                reason,
                actor,
            } => format!(
                "{account}|{}|{}|{}|{}",
                credit_limit.minor(),
                opt(*max_balance),
                t(reason),
                t(actor)
            ),
            Operation::SetStatus {
                account,
                status,
                reason,
                actor,
            } => format!("{account}|{}|{}|{}", status.as_str(), t(reason), t(actor)),
            Operation::WriteOff {
                account,
                reason,
                actor,
            } => format!("{account}|{}|{}", t(reason), t(actor)),
            Operation::Recovery {
                account,
                amount,
                memo,
            }
            | Operation::OpeningBalance {
                account,
                amount,
                memo,
            } => format!("{account}|{}|{}", amount.minor(), t(memo)),
            Operation::Charge {
                kind,
                payer,
                amount,
                reference,
                memo,
            } => format!(
                "{kind:?}|{payer}|{}|{}|{}",
                amount.minor(),
                t(reference),
                t(memo)
            ),
            Operation::Adjustment {
                from,
                to,
                amount,
                reference,
                memo,
            } => format!(
                "{from}|{to}|{}|{}|{}",
                amount.minor(),
                t(reference),
                t(memo)
            ),
        };
        format!("troc-op-v1|{}|{}", self.name(), body)
    }

    /// SHA-256 of [`Operation::canonical`], hex-encoded: what a store keeps beside an
    /// idempotency key to recognise a replay.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

/// One operation as submitted: the shell passes in the time, the id the resulting
/// transaction will carry, and the client's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub key: IdempotencyKey,
    pub tx_id: TxId,
    pub time: DateTime<Utc>,
    pub op: Operation,
}

/// What an accepted operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Posted { tx: TxId },
    HoldPlaced { hold: HoldId },
    HoldCaptured { hold: HoldId, tx: TxId },
    HoldVoided { hold: HoldId },
    HoldExpired { hold: HoldId },
    LimitsChanged { account: AccountId },
    StatusChanged { account: AccountId },
    WrittenOff { account: AccountId, tx: TxId },
}

impl Outcome {
    pub fn tx(&self) -> Option<TxId> {
        match self {
            Outcome::Posted { tx }
            | Outcome::HoldCaptured { tx, .. }
            | Outcome::WrittenOff { tx, .. } => Some(*tx),
            _ => None,
        }
    }
}

/// Why an operation was refused. A rejected operation changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    #[error(
        "insufficient credit on account {account}: available {available}, requested {requested}"
    )]
    InsufficientCredit {
        account: AccountId,
        available: Amount,
        requested: Amount,
    },
    #[error(
        "account {account} would exceed its upper limit {max_balance} (resulting {resulting})"
    )]
    OverUpperLimit {
        account: AccountId,
        max_balance: Amount,
        resulting: Amount,
    },
    #[error("account {account} is frozen: it may receive but not pay")]
    AccountFrozen { account: AccountId },
    #[error("account {account} is closed")]
    AccountClosed { account: AccountId },
    #[error("payer and payee are the same account")]
    SameAccount,
    #[error("the amount is zero")]
    ZeroAmount,
    #[error("the amount is negative")]
    NegativeAmount,
    #[error("amount {amount} is above the per-transaction maximum {max}")]
    AmountAboveMaximum { amount: Amount, max: Amount },
    #[error("unknown account {account}")]
    UnknownAccount { account: AccountId },
    #[error("account {account} is not a member account")]
    NotAMemberAccount { account: AccountId },
    #[error("unknown hold {hold}")]
    UnknownHold { hold: HoldId },
    #[error("hold {hold} already exists")]
    DuplicateHold { hold: HoldId },
    #[error("unknown transaction {transaction}")]
    UnknownTransaction { transaction: TxId },
    #[error("transaction id {transaction} is already used")]
    DuplicateTransactionId { transaction: TxId },
    #[error("the postings sum to {sum}, not zero")]
    Unbalanced { sum: Amount },
    #[error("a transaction needs 2 to 16 postings, none of them zero (got {postings})")]
    MalformedTransaction { postings: u32 },
    #[error("this idempotency key was used for a different operation")]
    IdempotencyConflict,
    #[error("this idempotency key belongs to an operation that failed; use a new key")]
    IdempotencyKeyFailed,
    #[error("the memo is {len} characters long, the maximum is {max}")]
    MemoTooLong { len: u32, max: u32 },
    #[error("a reference or memo may not contain the NUL character")]
    NulCharacter,
    #[error("the reference is {len} characters long, the maximum is {max}")]
    ReferenceTooLong { len: u32, max: u32 },
    #[error("the reason is missing or longer than {max} characters")]
    InvalidReason { max: u32 },
    #[error("the actor is missing or longer than {max} characters")]
    InvalidActor { max: u32 },
    #[error("a limit cannot be negative")]
    NegativeLimit,
    #[error("the hold's expiry must be after the time of the operation")]
    ExpiryNotInFuture,
    #[error("hold {hold} has expired")]
    HoldExpired { hold: HoldId },
    #[error("hold {hold} has not expired yet")]
    HoldNotExpired { hold: HoldId },
    #[error("hold {hold} is already {status:?}")]
    HoldAlreadyResolved { hold: HoldId, status: HoldStatus },
    #[error("cannot capture {requested}: the hold is for {held}")]
    CaptureExceedsHold { held: Amount, requested: Amount },
    #[error("transaction {transaction} was already reversed by {by}")]
    AlreadyReversed { transaction: TxId, by: TxId },
    #[error("a {kind:?} transaction cannot be reversed")]
    NotReversible { kind: TxKind },
    #[error("the account's balance is {balance}, not negative: nothing to write off")]
    NothingToWriteOff { balance: Amount },
    #[error("the account has {pending} held by open holds")]
    OpenHolds { pending: Amount },
    #[error("the account can only be closed at a zero balance (balance {balance})")]
    NonZeroBalance { balance: Amount },
    #[error("the account already has this status")]
    StatusUnchanged,
    #[error("recoveries apply to written-off (closed) member accounts only")]
    NotWrittenOff { account: AccountId },
    #[error("the amounts overflow")]
    Overflow,
    #[error("the period is locked through {through}: nothing can be dated in it (book a correction in an open period)")]
    PeriodLocked { through: NaiveDate },
}

impl Rejection {
    /// A stable machine code, used as the API problem `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::InsufficientCredit { .. } => "insufficient_credit",
            Rejection::OverUpperLimit { .. } => "over_upper_limit",
            Rejection::AccountFrozen { .. } => "account_frozen",
            Rejection::AccountClosed { .. } => "account_closed",
            Rejection::SameAccount => "same_account",
            Rejection::ZeroAmount => "zero_amount",
            Rejection::NegativeAmount => "negative_amount",
            Rejection::AmountAboveMaximum { .. } => "amount_above_maximum",
            Rejection::UnknownAccount { .. } => "unknown_account",
            Rejection::NotAMemberAccount { .. } => "not_a_member_account",
            Rejection::UnknownHold { .. } => "unknown_hold",
            Rejection::DuplicateHold { .. } => "duplicate_hold",
            Rejection::UnknownTransaction { .. } => "unknown_transaction",
            Rejection::DuplicateTransactionId { .. } => "duplicate_transaction_id",
            Rejection::Unbalanced { .. } => "unbalanced",
            Rejection::MalformedTransaction { .. } => "malformed_transaction",
            Rejection::IdempotencyConflict => "idempotency_conflict",
            Rejection::IdempotencyKeyFailed => "idempotency_key_failed",
            Rejection::MemoTooLong { .. } => "memo_too_long",
            Rejection::NulCharacter => "nul_character",
            Rejection::ReferenceTooLong { .. } => "reference_too_long",
            Rejection::InvalidReason { .. } => "invalid_reason",
            Rejection::InvalidActor { .. } => "invalid_actor",
            Rejection::NegativeLimit => "negative_limit",
            Rejection::ExpiryNotInFuture => "expiry_not_in_future",
            Rejection::HoldExpired { .. } => "hold_expired",
            Rejection::HoldNotExpired { .. } => "hold_not_expired",
            Rejection::HoldAlreadyResolved { .. } => "hold_already_resolved",
            Rejection::CaptureExceedsHold { .. } => "capture_exceeds_hold",
            Rejection::AlreadyReversed { .. } => "already_reversed",
            Rejection::NotReversible { .. } => "not_reversible",
            Rejection::NothingToWriteOff { .. } => "nothing_to_write_off",
            Rejection::OpenHolds { .. } => "open_holds",
            Rejection::NonZeroBalance { .. } => "non_zero_balance",
            Rejection::StatusUnchanged => "status_unchanged",
            Rejection::NotWrittenOff { .. } => "not_written_off",
            Rejection::Overflow => "overflow",
            Rejection::PeriodLocked { .. } => "period_locked",
        }
    }
}

/// The audit record of a limit change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitChange {
    pub account: AccountId,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub reason: String,
    pub credit_limit_before: Amount,
    pub credit_limit_after: Amount,
    pub max_balance_before: Option<Amount>,
    pub max_balance_after: Option<Amount>,
    /// The new credit limit is below the account's current debt: it cannot pay until it is
    /// back within its limit.
    pub below_current_debt: bool,
    /// The new upper limit is below the current balance: it cannot receive until it spends.
    pub above_new_max: bool,
}

/// The audit record of a status change (freeze, unfreeze, close, default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub account: AccountId,
    pub time: DateTime<Utc>,
    pub actor: String,
    pub reason: String,
    pub before: AccountStatus,
    pub after: AccountStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeRecord {
    Limits(LimitChange),
    Status(StatusChange),
}
