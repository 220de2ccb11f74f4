//! The in-memory ledger: applies commands in order, keeps the whole history, and checks the
//! invariants. The store does the same on a database; both use [`crate::decide`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{
    decide, Account, AccountError, AccountId, AccountKind, AccountStatus, Amount, ChangeRecord,
    Command, Effect, Hold, HoldId, HoldStatus, IdempotencyKey, LockedPeriod, Operation, Outcome,
    Policy, Rejection, SystemAccounts, Transaction, TxId, View,
};

/// Most holds one call to [`Ledger::expire_holds`] releases (a bound on the loop; call
/// again for more).
pub const EXPIRIES_PER_CALL_MAX: usize = 10_000;

/// Accounts, holds and transactions, with the operations to apply an [`Effect`]. The store
/// can use one as its per-batch working set over the rows it loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    accounts: BTreeMap<AccountId, Account>,
    holds: BTreeMap<HoldId, Hold>,
    transactions: HashMap<TxId, Transaction>,
    reversed_by: HashMap<TxId, TxId>,
    locked: Option<LockedPeriod>,
}

impl Snapshot {
    /// The locked period in force for the decisions made against this snapshot (the store
    /// reads it inside the batch's transaction).
    pub fn set_locked_period(&mut self, lock: Option<LockedPeriod>) {
        self.locked = lock;
    }

    pub fn insert_account(&mut self, account: Account) {
        self.accounts.insert(account.id(), account);
    }

    pub fn insert_hold(&mut self, hold: Hold) {
        self.holds.insert(hold.id, hold);
    }

    /// Adds a transaction loaded from storage, with the reversal that undid it, if any.
    pub fn insert_transaction(&mut self, transaction: Transaction, reversed_by: Option<TxId>) {
        if let Some(by) = reversed_by {
            self.reversed_by.insert(transaction.id(), by);
        }
        self.transactions.insert(transaction.id(), transaction);
    }

    /// Applies an accepted effect.
    pub fn apply(&mut self, effect: &Effect) {
        self.apply_owned(effect.clone());
    }

    /// Applies an accepted effect, taking it (no copies).
    pub fn apply_owned(&mut self, effect: Effect) {
        for account in effect.accounts {
            self.accounts.insert(account.id(), account);
        }
        if let Some(hold) = effect.hold {
            self.holds.insert(hold.id, hold);
        }
        if let Some(tx) = effect.transaction {
            if let Some(original) = tx.reverses() {
                let previous = self.reversed_by.insert(original, tx.id());
                assert!(previous.is_none(), "a transaction was reversed twice");
            }
            let previous = self.transactions.insert(tx.id(), tx);
            assert!(previous.is_none(), "a transaction id was applied twice");
        }
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.values()
    }
}

impl View for Snapshot {
    fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }
    fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.holds.get(&id)
    }
    fn transaction(&self, id: TxId) -> Option<&Transaction> {
        self.transactions.get(&id)
    }
    fn reversed_by(&self, id: TxId) -> Option<TxId> {
        self.reversed_by.get(&id).copied()
    }
    fn locked_period(&self) -> Option<LockedPeriod> {
        self.locked
    }
}

/// What the ledger remembers of an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyRecord {
    op: Operation,
    result: Result<Outcome, Rejection>,
}

/// Decides what a command under a key that was seen before returns: the original outcome
/// when the content is the same, a conflict otherwise, and a failed key stays failed.
/// The store uses the same rule with stored fingerprints.
pub fn replay(
    same_content: bool,
    original: &Result<Outcome, Rejection>,
) -> Result<Outcome, Rejection> {
    if !same_content {
        return Err(Rejection::IdempotencyConflict);
    }
    match original {
        Ok(outcome) => Ok(outcome.clone()),
        Err(_) => Err(Rejection::IdempotencyKeyFailed),
    }
}

/// A broken invariant, found by [`Ledger::check_invariants`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("the balances sum to {0} minor units, not zero")]
    BalancesDoNotSumToZero(i128),
    #[error("account {account}: balance {balance} but its postings sum to {postings}")]
    BalanceNotSumOfPostings {
        account: AccountId,
        balance: Amount,
        postings: i128,
    },
    #[error("account {account}: pending {pending} but its open holds reserve {holds}")]
    PendingNotSumOfHolds {
        account: AccountId,
        pending: Amount,
        holds: i128,
    },
    #[error("account {account} is below its credit limit without a lowered limit")]
    BelowCreditLimit { account: AccountId },
    #[error("account {account} is above its upper limit without a lowered limit")]
    AboveUpperLimit { account: AccountId },
    #[error("transaction {0} does not sum to zero")]
    UnbalancedTransaction(TxId),
    #[error("transaction {0} appears twice")]
    DuplicateTransaction(TxId),
    #[error("idempotency key {0} was applied twice")]
    DuplicateKey(String),
    #[error("closed account {0} has a balance or pending holds")]
    ClosedAccountNotEmpty(AccountId),
    #[error("a posting names unknown account {0}")]
    UnknownAccount(AccountId),
}

/// The whole ledger in memory.
#[derive(Debug, Clone)]
pub struct Ledger {
    system: SystemAccounts,
    policy: Policy,
    /// Accounts, holds and reversals (its transaction map stays empty: see `log`).
    state: Snapshot,
    /// Transactions in commit order.
    log: Vec<Transaction>,
    /// Position of each transaction in `log`.
    tx_index: HashMap<TxId, usize>,
    keys: HashMap<IdempotencyKey, KeyRecord>,
    changes: Vec<ChangeRecord>,
}

impl Ledger {
    /// A new network with its four system accounts at zero.
    pub fn new(system: SystemAccounts, policy: Policy) -> Ledger {
        let mut state = Snapshot::default();
        for (id, kind) in system.all() {
            let account =
                Account::open(id, kind, Amount::ZERO, None).expect("a zero limit is valid");
            state.insert_account(account);
        }
        Ledger {
            system,
            policy,
            state,
            log: Vec::new(),
            tx_index: HashMap::new(),
            keys: HashMap::new(),
            changes: Vec::new(),
        }
    }

    /// Opens a member account at zero.
    pub fn open_member(
        &mut self,
        id: AccountId,
        credit_limit: Amount,
        max_balance: Option<Amount>,
    ) -> Result<(), AccountError> {
        assert!(
            self.state.account(id).is_none(),
            "account {id} opened twice"
        );
        let account = Account::open(id, AccountKind::Member, credit_limit, max_balance)?;
        self.state.insert_account(account);
        Ok(())
    }

    pub fn system(&self) -> &SystemAccounts {
        &self.system
    }
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
    /// Fee changes apply from the next command on, never to past transactions.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.state.account(id)
    }
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.state.accounts()
    }
    pub fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.state.hold(id)
    }
    pub fn holds(&self) -> impl Iterator<Item = &Hold> {
        self.state.holds()
    }
    pub fn transaction(&self, id: TxId) -> Option<&Transaction> {
        self.tx_index.get(&id).map(|index| &self.log[*index])
    }
    /// Transactions in commit order.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.log.iter()
    }
    pub fn changes(&self) -> &[ChangeRecord] {
        &self.changes
    }

    /// Locks a period: from now on nothing can be dated inside it. Locks only move forward:
    /// a lock that does not end after the one in force is refused (`Err` gives that one).
    pub fn lock_period(&mut self, lock: LockedPeriod) -> Result<(), LockedPeriod> {
        match self.state.locked {
            Some(current)
                if current.through() >= lock.through() || current.ends_at() >= lock.ends_at() =>
            {
                Err(current)
            }
            _ => {
                self.state.locked = Some(lock);
                Ok(())
            }
        }
    }

    pub fn locked_period(&self) -> Option<LockedPeriod> {
        self.state.locked
    }

    /// Applies one command: idempotency first, then the decision.
    pub fn execute(&mut self, command: Command) -> Result<Outcome, Rejection> {
        if let Some(record) = self.keys.get(&command.key) {
            return replay(record.op == command.op, &record.result);
        }
        let result = decide(&*self, &self.system, &self.policy, &command);
        let outcome = match result {
            Ok(effect) => {
                let outcome = effect.outcome.clone();
                self.apply(effect);
                Ok(outcome)
            }
            Err(rejection) => Err(rejection),
        };
        self.keys.insert(
            command.key,
            KeyRecord {
                op: command.op,
                result: outcome.clone(),
            },
        );
        outcome
    }

    /// Releases every open hold whose expiry is at or before `now`, oldest expiry first
    /// (then by id), at most [`EXPIRIES_PER_CALL_MAX`] per call.
    pub fn expire_holds(&mut self, now: DateTime<Utc>) -> Vec<HoldId> {
        let mut due: Vec<(DateTime<Utc>, HoldId)> = self
            .state
            .holds()
            .filter(|h| h.status == HoldStatus::Open && h.expires_at <= now)
            .map(|h| (h.expires_at, h.id))
            .collect();
        due.sort_unstable();
        due.truncate(EXPIRIES_PER_CALL_MAX);
        let mut expired = Vec::with_capacity(due.len());
        for (_, hold) in due {
            let command = Command {
                key: IdempotencyKey::new(format!("expire-hold-{hold}")).expect("valid key"),
                tx_id: TxId(0),
                time: now,
                op: Operation::ExpireHold { hold },
            };
            let effect = decide(&*self, &self.system, &self.policy, &command)
                .expect("a due open hold can always expire");
            self.apply(effect);
            expired.push(hold);
        }
        expired
    }

    fn apply(&mut self, mut effect: Effect) {
        if let Some(tx) = effect.transaction.take() {
            if let Some(original) = tx.reverses() {
                let previous = self.state.reversed_by.insert(original, tx.id());
                assert!(previous.is_none(), "a transaction was reversed twice");
            }
            let previous = self.tx_index.insert(tx.id(), self.log.len());
            assert!(previous.is_none(), "a transaction id was applied twice");
            self.log.push(tx);
        }
        if let Some(change) = effect.change.take() {
            self.changes.push(change);
        }
        #[cfg(debug_assertions)]
        let touched: Vec<Account> = effect.accounts.clone();
        self.state.apply_owned(effect);
        debug_assert_eq!(self.balance_sum(), 0, "balances must sum to zero");
        #[cfg(debug_assertions)]
        for account in &touched {
            debug_assert!(!account.pending().is_negative());
            debug_assert!(
                account.status() != AccountStatus::Closed || account.balance().is_zero(),
                "a closed account must be at zero"
            );
        }
    }

    fn balance_sum(&self) -> i128 {
        self.state
            .accounts()
            .map(|a| i128::from(a.balance().minor()))
            .sum()
    }

    /// Checks every invariant over the whole state; `Ok` when all hold.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let sum = self.balance_sum();
        if sum != 0 {
            return Err(InvariantViolation::BalancesDoNotSumToZero(sum));
        }
        let mut posted: BTreeMap<AccountId, i128> = BTreeMap::new();
        let mut seen_keys: BTreeMap<&str, TxId> = BTreeMap::new();
        let mut seen_tx: BTreeMap<TxId, ()> = BTreeMap::new();
        for tx in self.transactions() {
            if seen_tx.insert(tx.id(), ()).is_some() {
                return Err(InvariantViolation::DuplicateTransaction(tx.id()));
            }
            if let Some(key) = tx.idempotency_key() {
                if seen_keys.insert(key.as_str(), tx.id()).is_some() {
                    return Err(InvariantViolation::DuplicateKey(key.as_str().to_owned()));
                }
            }
            let mut tx_sum = 0i128;
            for p in tx.postings() {
                if self.state.account(p.account).is_none() {
                    return Err(InvariantViolation::UnknownAccount(p.account));
                }
                tx_sum += i128::from(p.amount.minor());
                *posted.entry(p.account).or_default() += i128::from(p.amount.minor());
            }
            if tx_sum != 0 {
                return Err(InvariantViolation::UnbalancedTransaction(tx.id()));
            }
        }
        let mut reserved: BTreeMap<AccountId, i128> = BTreeMap::new();
        for hold in self.state.holds().filter(|h| h.status == HoldStatus::Open) {
            *reserved.entry(hold.payer).or_default() += i128::from(hold.reserved.minor());
        }
        for account in self.state.accounts() {
            let id = account.id();
            let postings = posted.get(&id).copied().unwrap_or(0);
            if i128::from(account.balance().minor()) != postings {
                return Err(InvariantViolation::BalanceNotSumOfPostings {
                    account: id,
                    balance: account.balance(),
                    postings,
                });
            }
            let holds = reserved.get(&id).copied().unwrap_or(0);
            if i128::from(account.pending().minor()) != holds {
                return Err(InvariantViolation::PendingNotSumOfHolds {
                    account: id,
                    pending: account.pending(),
                    holds,
                });
            }
            if account.status() == AccountStatus::Closed
                && (!account.balance().is_zero() || !account.pending().is_zero())
            {
                return Err(InvariantViolation::ClosedAccountNotEmpty(id));
            }
            let limit_lowered = || {
                self.changes.iter().any(|c| match c {
                    ChangeRecord::Limits(l) => {
                        l.account == id && l.credit_limit_after < l.credit_limit_before
                    }
                    ChangeRecord::Status(_) => false,
                })
            };
            if account.available().is_some_and(Amount::is_negative) && !limit_lowered() {
                return Err(InvariantViolation::BelowCreditLimit { account: id });
            }
            let max_lowered = || {
                self.changes.iter().any(|c| match c {
                    ChangeRecord::Limits(l) => l.account == id && l.above_new_max,
                    ChangeRecord::Status(_) => false,
                })
            };
            if account
                .max_balance()
                .is_some_and(|max| account.balance() > max)
                && !max_lowered()
            {
                return Err(InvariantViolation::AboveUpperLimit { account: id });
            }
        }
        Ok(())
    }

    /// SHA-256 over the whole state (accounts, holds, transactions in order, keys and their
    /// results, change records): two ledgers that replayed the same commands have the same
    /// digest.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for account in self.state.accounts() {
            hasher.update(format!("{account:?}\n"));
        }
        for hold in self.state.holds() {
            hasher.update(format!("{hold:?}\n"));
        }
        for tx in self.transactions() {
            hasher.update(format!("{tx:?}\n"));
        }
        let mut keys: Vec<_> = self.keys.iter().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, record) in keys {
            hasher.update(format!("{key:?}={record:?}\n"));
        }
        for change in &self.changes {
            hasher.update(format!("{change:?}\n"));
        }
        hasher.finalize().into()
    }
}

impl View for Ledger {
    fn account(&self, id: AccountId) -> Option<&Account> {
        self.state.account(id)
    }
    fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.state.hold(id)
    }
    fn transaction(&self, id: TxId) -> Option<&Transaction> {
        Ledger::transaction(self, id)
    }
    fn reversed_by(&self, id: TxId) -> Option<TxId> {
        self.state.reversed_by(id)
    }
    fn locked_period(&self) -> Option<LockedPeriod> {
        self.state.locked
    }
}
