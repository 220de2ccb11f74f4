//! Accounts: member accounts and the network's system accounts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Amount};

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A member company's barter account.
    Member,
    /// The guarantee fund: fed by contributions on trades, absorbs defaults first.
    GuaranteeFund,
    /// The network operator's revenue in units (commissions, membership fees).
    Fees,
    /// Defaults the fund could not cover. Unbounded below.
    Losses,
    /// The boundary with the outside: opening balances brought from another system and
    /// euros recovered from defaulters enter the ledger against it. Unbounded both ways.
    Migration,
}

impl AccountKind {
    pub const ALL: [AccountKind; 5] = [
        AccountKind::Member,
        AccountKind::GuaranteeFund,
        AccountKind::Fees,
        AccountKind::Losses,
        AccountKind::Migration,
    ];

    /// Accounts that may go below zero without a limit (their balance records the network's
    /// own position, not a member's credit).
    pub fn is_unbounded(self) -> bool {
        matches!(self, AccountKind::Losses | AccountKind::Migration)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Member => "member",
            AccountKind::GuaranteeFund => "guarantee_fund",
            AccountKind::Fees => "fees",
            AccountKind::Losses => "losses",
            AccountKind::Migration => "migration",
        }
    }

    pub fn parse(text: &str) -> Option<AccountKind> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Whether an account may pay and receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// May receive, may not pay.
    Frozen,
    /// May do neither; closed accounts stay in the ledger for history.
    Closed,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 3] = [
        AccountStatus::Active,
        AccountStatus::Frozen,
        AccountStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Frozen => "frozen",
            AccountStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The state of one account. Fields are private: balances only change through the
/// decisions of [`crate::decide`], which keep every invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    id: AccountId,
    kind: AccountKind,
    status: AccountStatus,
    balance: Amount,
    /// Sum of the amounts reserved by open holds where this account pays.
    pending: Amount,
    /// How far below zero the balance may go (≥ 0). Ignored for unbounded kinds.
    credit_limit: Amount,
    /// Maximum positive balance, if any.
    max_balance: Option<Amount>,
    /// When the balance last went from ≥ 0 to < 0 (for the return-to-zero rule).
    negative_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("a credit limit cannot be negative")]
    NegativeCreditLimit,
    #[error("an upper limit cannot be negative")]
    NegativeMaxBalance,
}

impl Account {
    /// A new account at zero. System accounts (other than losses and migration) have a
    /// credit limit of zero: the fund and the fees account cannot go negative.
    pub fn open(
        id: AccountId,
        kind: AccountKind,
        credit_limit: Amount,
        max_balance: Option<Amount>,
    ) -> Result<Account, AccountError> {
        if credit_limit.is_negative() {
            return Err(AccountError::NegativeCreditLimit);
        }
        if max_balance.is_some_and(Amount::is_negative) {
            return Err(AccountError::NegativeMaxBalance);
        }
        Ok(Account {
            id,
            kind,
            status: AccountStatus::Active,
            balance: Amount::ZERO,
            pending: Amount::ZERO,
            credit_limit,
            max_balance,
            negative_since: None,
        })
    }

    /// Rebuilds an account from stored fields (the store's row mapping). The store's
    /// database constraints keep the same rules as [`Account::open`].
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        id: AccountId,
        kind: AccountKind,
        status: AccountStatus,
        balance: Amount,
        pending: Amount,
        credit_limit: Amount,
        max_balance: Option<Amount>,
        negative_since: Option<DateTime<Utc>>,
    ) -> Result<Account, AccountError> {
        let mut account = Account::open(id, kind, credit_limit, max_balance)?;
        account.status = status;
        account.balance = balance;
        account.pending = pending;
        account.negative_since = negative_since;
        Ok(account)
    }

    pub fn id(&self) -> AccountId {
        self.id
    }
    pub fn kind(&self) -> AccountKind {
        self.kind
    }
    pub fn status(&self) -> AccountStatus {
        self.status
    }
    pub fn balance(&self) -> Amount {
        self.balance
    }
    pub fn pending(&self) -> Amount {
        self.pending
    }
    pub fn credit_limit(&self) -> Amount {
        self.credit_limit
    }
    pub fn max_balance(&self) -> Option<Amount> {
        self.max_balance
    }
    pub fn negative_since(&self) -> Option<DateTime<Utc>> {
        self.negative_since
    }

    /// What the account can still spend: balance + credit limit − pending. May be negative
    /// when a limit was lowered below existing debt. `None` for unbounded accounts.
    pub fn available(&self) -> Option<Amount> {
        if self.kind.is_unbounded() {
            return None;
        }
        // Balance ≥ −(2^63) and limit, pending are in range: i128 avoids any overflow.
        let available = i128::from(self.balance.minor()) + i128::from(self.credit_limit.minor())
            - i128::from(self.pending.minor());
        Some(Amount::from_minor(clamp_i64(available)))
    }

    /// What the account can still receive before its upper limit: upper limit − balance,
    /// zero at or past it (a limit lowered below the balance). `None` without an upper
    /// limit. Incoming holds are not counted: a capture is checked when it happens.
    pub fn receivable(&self) -> Option<Amount> {
        let max = self.max_balance?;
        let room = i128::from(max.minor()) - i128::from(self.balance.minor());
        Some(Amount::from_minor(clamp_i64(room.max(0))))
    }

    pub(crate) fn set_balance(&mut self, balance: Amount, at: DateTime<Utc>) {
        if balance.is_negative() && !self.balance.is_negative() {
            self.negative_since = Some(at);
        }
        if !balance.is_negative() {
            self.negative_since = None;
        }
        self.balance = balance;
    }

    pub(crate) fn set_pending(&mut self, pending: Amount) {
        debug_assert!(!pending.is_negative());
        self.pending = pending;
    }

    pub(crate) fn set_limits(&mut self, credit_limit: Amount, max_balance: Option<Amount>) {
        debug_assert!(!credit_limit.is_negative());
        self.credit_limit = credit_limit;
        self.max_balance = max_balance;
    }

    pub(crate) fn set_status(&mut self, status: AccountStatus) {
        self.status = status;
    }
}

pub(crate) fn clamp_i64(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The ids of the network's system accounts, fixed when the network is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemAccounts {
    pub fund: AccountId,
    pub fees: AccountId,
    pub losses: AccountId,
    pub migration: AccountId,
}

impl SystemAccounts {
    pub fn all(&self) -> [(AccountId, AccountKind); 4] {
        [
            (self.fund, AccountKind::GuaranteeFund),
            (self.fees, AccountKind::Fees),
            (self.losses, AccountKind::Losses),
            (self.migration, AccountKind::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_rejects_negative_limits() {
        assert_eq!(
            Account::open(
                AccountId(1),
                AccountKind::Member,
                Amount::from_minor(-1),
                None
            ),
            Err(AccountError::NegativeCreditLimit)
        );
        assert_eq!(
            Account::open(
                AccountId(1),
                AccountKind::Member,
                Amount::ZERO,
                Some(Amount::from_minor(-1))
            ),
            Err(AccountError::NegativeMaxBalance)
        );
    }

    #[test]
    fn available_is_balance_plus_limit_minus_pending() {
        let mut account = Account::open(
            AccountId(1),
            AccountKind::Member,
            Amount::from_units(100),
            None,
        )
        .unwrap();
        account.set_balance(Amount::from_units(-30), DateTime::UNIX_EPOCH);
        account.set_pending(Amount::from_units(20));
        assert_eq!(account.available(), Some(Amount::from_units(50)));
        assert_eq!(account.negative_since(), Some(DateTime::UNIX_EPOCH));
        account.set_balance(Amount::ZERO, DateTime::UNIX_EPOCH);
        assert_eq!(account.negative_since(), None);
        let losses = Account::open(AccountId(2), AccountKind::Losses, Amount::ZERO, None).unwrap();
        assert_eq!(losses.available(), None);
    }

    #[test]
    fn receivable_is_the_room_under_the_upper_limit() {
        let mut account = Account::open(
            AccountId(1),
            AccountKind::Member,
            Amount::from_units(100),
            Some(Amount::from_units(500)),
        )
        .unwrap();
        assert_eq!(account.receivable(), Some(Amount::from_units(500)));
        account.set_balance(Amount::from_units(-30), DateTime::UNIX_EPOCH);
        assert_eq!(account.receivable(), Some(Amount::from_units(530)));
        account.set_balance(Amount::from_units(500), DateTime::UNIX_EPOCH);
        assert_eq!(account.receivable(), Some(Amount::ZERO));
        // An upper limit lowered below the balance: nothing more, never negative.
        account.set_limits(Amount::from_units(100), Some(Amount::from_units(400)));
        assert_eq!(account.receivable(), Some(Amount::ZERO));
        account.set_limits(Amount::from_units(100), None);
        assert_eq!(account.receivable(), None);
    }

    #[test]
    fn kind_and_status_names_round_trip() {
        for kind in AccountKind::ALL {
            assert_eq!(AccountKind::parse(kind.as_str()), Some(kind));
        }
        for status in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AccountKind::parse("bank"), None);
    }
}
