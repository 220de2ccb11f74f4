//! The network manager's console, second half: fees, the guarantee fund, defaults and
//! recoveries, network health, open data and brokering help (docs/console.md, "Fees,
//! guarantee fund and network health").
//!
//! This is the domain layer the web pages (`http::network`) and the JSON API share: typed
//! inputs, typed results, typed errors ([`NetworkError`]), and the authorisation rule
//! (managers act; accountants read the fund, statistics and fees; members do neither). Every
//! action is recorded in the action log: ledger actions through `Submission::noted`, in the
//! batch that decides them; the fee schedule in the transaction that records it. Money moves
//! only through `Store::submit`.

pub mod brokering;
pub mod fees;
pub mod fund;
pub mod open_data;
pub mod stats;
pub mod stats_cache;

use ledger::{AccountId, Rejection, ScheduleError};

use crate::actor::Actor;
use crate::people::{self, Member, Role};
use crate::store::{Store, StoreError, ACTION_REASON_LEN_MAX};

/// Longest reason of a manager's action, in characters (the ledger's and the action log's
/// limit).
pub const REASON_LEN_MAX: usize = {
    assert!(ledger::REASON_LEN_MAX == ACTION_REASON_LEN_MAX);
    ACTION_REASON_LEN_MAX
};

/// Why a console function refused.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The actor's role may not do this (HTTP 403).
    #[error("this role may not do this")]
    Forbidden,
    /// No such member (HTTP 404).
    #[error("unknown member")]
    UnknownMember,
    /// The input is wrong (HTTP 422); nothing was done.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The ledger refused the operation (HTTP 422, with the rejection's code).
    #[error("the ledger refused: {0}")]
    Rejected(Rejection),
    /// The fee schedule refused the change (HTTP 422): a date in the past or before an
    /// already scheduled change.
    #[error("the fee schedule refused: {0}")]
    Schedule(ScheduleError),
    /// The store failed (HTTP 500); the action may or may not have been recorded, and
    /// retrying under the same idempotency key is safe.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NetworkError {
    /// A stable machine code (the API problem's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            NetworkError::Forbidden => "forbidden",
            NetworkError::UnknownMember => "unknown_member",
            NetworkError::Invalid(invalid) => invalid.code(),
            NetworkError::Rejected(rejection) => rejection.code(),
            NetworkError::Schedule(error) => error.code(),
            NetworkError::Store(_) => "store_error",
        }
    }
}

pub type NetworkResult<T> = Result<T, NetworkError>;

/// A field that failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("a reason is required")]
    ReasonMissing,
    #[error("the reason is longer than {max} characters")]
    ReasonTooLong { max: usize },
    #[error("a memo is required")]
    MemoMissing,
    #[error("the memo is longer than {max} characters")]
    MemoTooLong { max: usize },
    #[error("a fee rate may not exceed {max} basis points")]
    RateTooHigh { max: u32 },
    #[error("the minimum commission cannot be negative")]
    NegativeMinimum,
    #[error("the stress test takes 1 to {max} debtors")]
    StressCountOutOfRange { max: usize },
    #[error("the statistics cover 1 to {max} months")]
    MonthsOutOfRange { max: u32 },
}

impl InvalidInput {
    pub fn code(&self) -> &'static str {
        match self {
            InvalidInput::ReasonMissing => "reason_missing",
            InvalidInput::ReasonTooLong { .. } => "reason_too_long",
            InvalidInput::MemoMissing => "memo_missing",
            InvalidInput::MemoTooLong { .. } => "memo_too_long",
            InvalidInput::RateTooHigh { .. } => "rate_too_high",
            InvalidInput::NegativeMinimum => "negative_minimum",
            InvalidInput::StressCountOutOfRange { .. } => "stress_count_out_of_range",
            InvalidInput::MonthsOutOfRange { .. } => "months_out_of_range",
        }
    }
}

/// What an actor wants to do with a console page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// See the fund, the statistics and the fees: managers and accountants.
    Read,
    /// Change something (fees, defaults, recoveries) or see members' brokering lists:
    /// managers only.
    Act,
}

/// Refuses an actor whose role does not allow `access`.
pub fn require(actor: &Actor, access: Access) -> NetworkResult<()> {
    let allowed = match access {
        Access::Read => matches!(actor.role(), Role::Manager | Role::Accountant),
        Access::Act => actor.role() == Role::Manager,
    };
    if allowed {
        Ok(())
    } else {
        Err(NetworkError::Forbidden)
    }
}

/// The reason of a manager's action: 1 to [`REASON_LEN_MAX`] characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub fn parse(text: &str) -> Result<Reason, InvalidInput> {
        Reason::parse_within(text, REASON_LEN_MAX)
    }

    /// A reason of at most `max` (≤ [`REASON_LEN_MAX`]) characters, for actions whose reason
    /// goes elsewhere too (a write-off's reason is its transaction's memo).
    pub fn parse_within(text: &str, max: usize) -> Result<Reason, InvalidInput> {
        let max = max.min(REASON_LEN_MAX);
        let text = text.trim();
        if text.is_empty() {
            return Err(InvalidInput::ReasonMissing);
        }
        if ledger::char_len(text) > max {
            return Err(InvalidInput::ReasonTooLong { max });
        }
        Ok(Reason(text.to_owned()))
    }

    pub fn len(&self) -> usize {
        ledger::char_len(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A memo kept with a ledger transaction: 1 to `ledger::MEMO_LEN_MAX` characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo(String);

impl Memo {
    pub fn parse(text: &str) -> Result<Memo, InvalidInput> {
        let text = text.trim();
        if text.is_empty() {
            return Err(InvalidInput::MemoMissing);
        }
        if ledger::char_len(text) > ledger::MEMO_LEN_MAX {
            return Err(InvalidInput::MemoTooLong {
                max: ledger::MEMO_LEN_MAX,
            });
        }
        Ok(Memo(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The member and its ledger account id, or [`NetworkError::UnknownMember`].
pub(crate) async fn member_of(store: &Store, member_id: i64) -> NetworkResult<Member> {
    people::member(store, member_id)
        .await?
        .ok_or(NetworkError::UnknownMember)
}

/// An account id as the database stores it.
pub(crate) fn db_id(id: AccountId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_limited_at_their_maximum() {
        assert_eq!(Reason::parse("  "), Err(InvalidInput::ReasonMissing));
        assert!(Reason::parse(&"é".repeat(REASON_LEN_MAX)).is_ok());
        assert_eq!(
            Reason::parse(&"é".repeat(REASON_LEN_MAX + 1)),
            Err(InvalidInput::ReasonTooLong {
                max: REASON_LEN_MAX
            })
        );
        assert!(Memo::parse(&"x".repeat(ledger::MEMO_LEN_MAX)).is_ok());
        assert!(Memo::parse(&"x".repeat(ledger::MEMO_LEN_MAX + 1)).is_err());
    }

    #[test]
    fn managers_act_accountants_read_members_neither() {
        let who = |role| Actor::new(Some(1), "a@b.fr", role);
        assert!(require(&who(Role::Manager), Access::Act).is_ok());
        assert!(require(&who(Role::Accountant), Access::Read).is_ok());
        assert!(matches!(
            require(&who(Role::Accountant), Access::Act),
            Err(NetworkError::Forbidden)
        ));
        for role in [Role::Owner, Role::Staff] {
            assert!(matches!(
                require(&who(role), Access::Read),
                Err(NetworkError::Forbidden)
            ));
        }
    }
}
