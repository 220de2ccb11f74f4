//! The decision: given the states an operation touches, what it posts, or why not.
//!
//! [`decide`] is the only place where the rules live. The in-memory [`crate::Ledger`] and
//! the database store both call it, the store on just the rows it locked.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Account, AccountId, AccountKind, AccountStatus, Amount, ChangeRecord, ChargeKind, Command,
    FeePolicy, Hold, HoldId, HoldStatus, Leg, LimitChange, Operation, Outcome, Posting, Rejection,
    StatusChange, SystemAccounts, Transaction, TxHeader, TxId, TxKind, ACTOR_LEN_MAX,
    REASON_LEN_MAX,
};

/// Default most one transaction may move (10 000 000,00 units).
pub const AMOUNT_PER_TX_MAX_DEFAULT: Amount = Amount::from_units(10_000_000);

/// The rules in force for a decision, passed in by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub fees: FeePolicy,
    pub amount_per_tx_max: Amount,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            fees: FeePolicy::free(),
            amount_per_tx_max: AMOUNT_PER_TX_MAX_DEFAULT,
        }
    }
}

/// A closed accounting period, as the shell passes it in: every day up to `through`
/// (included) is locked, and nothing may be dated before `ends_at`, the first instant after
/// that day in the network's calendar. The shell computes `ends_at` (time zones are its
/// business); the ledger only compares instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedPeriod {
    through: NaiveDate,
    ends_at: DateTime<Utc>,
}

impl LockedPeriod {
    /// Largest distance between `ends_at` and the UTC midnight after `through`: the widest
    /// UTC offsets in use are −12 and +14 hours.
    pub const OFFSET_HOURS_MAX: i64 = 14;

    /// `None` unless `ends_at` is a midnight after `through` in some real time zone (within
    /// [`LockedPeriod::OFFSET_HOURS_MAX`] hours of the UTC one).
    pub fn new(through: NaiveDate, ends_at: DateTime<Utc>) -> Option<LockedPeriod> {
        let utc_end = through.succ_opt()?.and_time(NaiveTime::MIN).and_utc();
        let offset = (ends_at - utc_end).abs();
        (offset <= TimeDelta::hours(Self::OFFSET_HOURS_MAX))
            .then_some(LockedPeriod { through, ends_at })
    }

    /// A period locked through `through` in UTC dates.
    pub fn utc(through: NaiveDate) -> Option<LockedPeriod> {
        let ends_at = through.succ_opt()?.and_time(NaiveTime::MIN).and_utc();
        LockedPeriod::new(through, ends_at)
    }

    pub fn through(&self) -> NaiveDate {
        self.through
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    /// Whether something dated `time` would fall inside the locked period.
    pub fn covers(&self, time: DateTime<Utc>) -> bool {
        time < self.ends_at
    }
}

/// Read access to the state a decision needs. The in-memory ledger implements it over
/// everything; a store implements it over the rows it loaded and locked.
pub trait View {
    fn account(&self, id: AccountId) -> Option<&Account>;
    fn hold(&self, id: HoldId) -> Option<&Hold>;
    fn transaction(&self, id: TxId) -> Option<&Transaction>;
    fn reversed_by(&self, id: TxId) -> Option<TxId>;
    /// The locked period in force, if any: operations that post a transaction dated inside
    /// it are refused with [`Rejection::PeriodLocked`].
    fn locked_period(&self) -> Option<LockedPeriod>;
    fn has_transaction_id(&self, id: TxId) -> bool {
        self.transaction(id).is_some()
    }
}

/// What an accepted operation changes. The shell applies it as one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub outcome: Outcome,
    /// The new transaction, if the operation posts one.
    pub transaction: Option<Transaction>,
    /// The new state of every account whose state changed, sorted by id.
    pub accounts: Vec<Account>,
    /// The new state of the hold the operation created or resolved.
    pub hold: Option<Hold>,
    /// The audit record of a limit or status change.
    pub change: Option<ChangeRecord>,
}

/// The accounts an operation reads and may write, sorted and without duplicates: the order
/// in which a store locks rows. `hold` and `transaction` are the records named by
/// [`Operation::hold_id`] and [`Operation::transaction_id`], when they exist.
pub fn accounts_touched(
    op: &Operation,
    system: &SystemAccounts,
    hold: Option<&Hold>,
    transaction: Option<&Transaction>,
) -> Vec<AccountId> {
    let mut ids = match op {
        Operation::Payment { payer, payee, .. } | Operation::PlaceHold { payer, payee, .. } => {
            vec![*payer, *payee, system.fees, system.fund]
        }
        Operation::CaptureHold { .. }
        | Operation::VoidHold { .. }
        | Operation::ExpireHold { .. } => match hold {
            Some(h) => vec![h.payer, h.payee, system.fees, system.fund],
            None => vec![],
        },
        Operation::Reverse { .. } => transaction
            .map(|t| t.postings().iter().map(|p| p.account).collect())
            .unwrap_or_default(),
        Operation::SetLimits { account, .. } | Operation::SetStatus { account, .. } => {
            vec![*account]
        }
        Operation::WriteOff { account, .. } => vec![*account, system.fund, system.losses],
        Operation::Recovery { account, .. } => vec![*account, system.fund, system.migration],
        Operation::OpeningBalance { account, .. } => vec![*account, system.migration],
        Operation::Charge { payer, .. } => vec![*payer, system.fees, system.fund],
        Operation::Adjustment { from, to, .. } => vec![*from, *to],
    };
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Decides `command` against `view`. Pure: the same inputs give the same result.
pub fn decide(
    view: &impl View,
    system: &SystemAccounts,
    policy: &Policy,
    command: &Command,
) -> Result<Effect, Rejection> {
    let mut draft = Draft {
        view,
        changed: Vec::with_capacity(4),
        time: command.time,
    };
    let header = |kind: TxKind, reference: &str, memo: &str| TxHeader {
        id: command.tx_id,
        kind,
        time: command.time,
        reference: reference.to_owned(),
        memo: memo.to_owned(),
        idempotency_key: Some(command.key.clone()),
        reverses: None,
    };
    // First: nothing may be dated inside a locked period, whatever else is wrong with it.
    if let Some(lock) = view.locked_period() {
        if command.op.posts_transaction() && lock.covers(command.time) {
            return Err(Rejection::PeriodLocked {
                through: lock.through(),
            });
        }
    }
    let check_tx_id = || {
        if view.has_transaction_id(command.tx_id) {
            Err(Rejection::DuplicateTransactionId {
                transaction: command.tx_id,
            })
        } else {
            Ok(())
        }
    };
    match &command.op {
        Operation::Payment {
            payer,
            payee,
            amount,
            reference,
            memo,
        } => {
            check_amount(*amount, policy)?;
            crate::validate_text(reference, memo)?;
            check_pair(&draft, *payer, *payee)?;
            check_tx_id()?;
            let postings = trade_postings(system, policy, *payer, *payee, *amount);
            let tx = Transaction::new(header(TxKind::Payment, reference, memo), postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
        Operation::PlaceHold {
            hold,
            payer,
            payee,
            amount,
            expires_at,
            reference,
            memo,
        } => {
            check_amount(*amount, policy)?;
            crate::validate_text(reference, memo)?;
            check_pair(&draft, *payer, *payee)?;
            if view.hold(*hold).is_some() {
                return Err(Rejection::DuplicateHold { hold: *hold });
            }
            if *expires_at <= command.time {
                return Err(Rejection::ExpiryNotInFuture);
            }
            let payee_status = draft.account(*payee)?.status();
            if payee_status == AccountStatus::Closed {
                return Err(Rejection::AccountClosed { account: *payee });
            }
            let reserved = amount
                .checked_add(policy.fees.fees_for(*amount).buyer_extra())
                .ok_or(Rejection::Overflow)?;
            draft.reserve(*payer, reserved)?;
            let new_hold = Hold {
                id: *hold,
                payer: *payer,
                payee: *payee,
                amount: *amount,
                reserved,
                created_at: command.time,
                expires_at: *expires_at,
                status: HoldStatus::Open,
                reference: reference.clone(),
                memo: memo.clone(),
                capture: None,
            };
            Ok(draft.finish(
                Outcome::HoldPlaced { hold: *hold },
                None,
                Some(new_hold),
                None,
            ))
        }
        Operation::CaptureHold { hold, amount } => {
            let held = open_hold(view, *hold, command.time)?;
            let capture = amount.unwrap_or(held.amount);
            if capture.is_negative() {
                return Err(Rejection::NegativeAmount);
            }
            if capture.is_zero() {
                return Err(Rejection::ZeroAmount);
            }
            if capture > held.amount {
                return Err(Rejection::CaptureExceedsHold {
                    held: held.amount,
                    requested: capture,
                });
            }
            check_tx_id()?;
            draft.release(held.payer, held.reserved)?;
            let postings = trade_postings(system, policy, held.payer, held.payee, capture);
            let tx = Transaction::new(
                header(TxKind::HoldCapture, &held.reference, &held.memo),
                postings,
            )?;
            draft.post(tx.postings())?;
            let mut resolved = held.clone();
            resolved.status = HoldStatus::Captured;
            resolved.capture = Some(tx.id());
            let outcome = Outcome::HoldCaptured {
                hold: *hold,
                tx: tx.id(),
            };
            Ok(draft.finish(outcome, Some(tx), Some(resolved), None))
        }
        Operation::VoidHold { hold } => {
            let held = open_hold(view, *hold, command.time)?;
            draft.release(held.payer, held.reserved)?;
            let mut resolved = held.clone();
            resolved.status = HoldStatus::Voided;
            Ok(draft.finish(
                Outcome::HoldVoided { hold: *hold },
                None,
                Some(resolved),
                None,
            ))
        }
        Operation::ExpireHold { hold } => {
            let held = view
                .hold(*hold)
                .ok_or(Rejection::UnknownHold { hold: *hold })?;
            if held.status != HoldStatus::Open {
                return Err(Rejection::HoldAlreadyResolved {
                    hold: *hold,
                    status: held.status,
                });
            }
            if held.expires_at > command.time {
                return Err(Rejection::HoldNotExpired { hold: *hold });
            }
            draft.release(held.payer, held.reserved)?;
            let mut resolved = held.clone();
            resolved.status = HoldStatus::Expired;
            Ok(draft.finish(
                Outcome::HoldExpired { hold: *hold },
                None,
                Some(resolved),
                None,
            ))
        }
        Operation::Reverse { transaction, memo } => {
            let original = view
                .transaction(*transaction)
                .ok_or(Rejection::UnknownTransaction {
                    transaction: *transaction,
                })?;
            if !original.kind().is_reversible() {
                return Err(Rejection::NotReversible {
                    kind: original.kind(),
                });
            }
            if let Some(by) = view.reversed_by(*transaction) {
                return Err(Rejection::AlreadyReversed {
                    transaction: *transaction,
                    by,
                });
            }
            crate::validate_text(original.reference(), memo)?;
            check_tx_id()?;
            let postings = original
                .postings()
                .iter()
                .map(|p| {
                    p.amount.checked_neg().map(|amount| Posting {
                        account: p.account,
                        amount,
                        leg: p.leg,
                    })
                })
                .collect::<Option<Vec<_>>>()
                .ok_or(Rejection::Overflow)?;
            let mut h = header(TxKind::Reversal, original.reference(), memo);
            h.reverses = Some(*transaction);
            let tx = Transaction::new(h, postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
        Operation::SetLimits {
            account,
            credit_limit,
            max_balance,
            reason,
            actor,
        } => {
            check_reason_actor(reason, actor)?;
            if credit_limit.is_negative() || max_balance.is_some_and(Amount::is_negative) {
                return Err(Rejection::NegativeLimit);
            }
            let current = draft.member(*account)?;
            let record = LimitChange {
                account: *account,
                time: command.time,
                actor: actor.clone(),
                reason: reason.clone(),
                credit_limit_before: current.credit_limit(),
                credit_limit_after: *credit_limit,
                max_balance_before: current.max_balance(),
                max_balance_after: *max_balance,
                below_current_debt: i128::from(current.balance().minor())
                    - i128::from(current.pending().minor())
                    < -i128::from(credit_limit.minor()),
                above_new_max: max_balance.is_some_and(|m| current.balance() > m),
            };
            draft
                .account_mut(*account)?
                .set_limits(*credit_limit, *max_balance);
            let outcome = Outcome::LimitsChanged { account: *account };
            Ok(draft.finish(outcome, None, None, Some(ChangeRecord::Limits(record))))
        }
        Operation::SetStatus {
            account,
            status,
            reason,
            actor,
        } => {
            check_reason_actor(reason, actor)?;
            let current = draft.member(*account)?;
            let before = current.status();
            if before == *status {
                return Err(Rejection::StatusUnchanged);
            }
            if before == AccountStatus::Closed {
                return Err(Rejection::AccountClosed { account: *account });
            }
            if *status == AccountStatus::Closed {
                if !current.balance().is_zero() {
                    return Err(Rejection::NonZeroBalance {
                        balance: current.balance(),
                    });
                }
                if !current.pending().is_zero() {
                    return Err(Rejection::OpenHolds {
                        pending: current.pending(),
                    });
                }
            }
            draft.account_mut(*account)?.set_status(*status);
            let record = StatusChange {
                account: *account,
                time: command.time,
                actor: actor.clone(),
                reason: reason.clone(),
                before,
                after: *status,
            };
            let outcome = Outcome::StatusChanged { account: *account };
            Ok(draft.finish(outcome, None, None, Some(ChangeRecord::Status(record))))
        }
        Operation::WriteOff {
            account,
            reason,
            actor,
        } => {
            check_reason_actor(reason, actor)?;
            let member = draft.member(*account)?;
            let before = member.status();
            // The absorption rule lives in one place, shared with the previews.
            let absorption =
                crate::fund::write_off_absorption(member, draft.account(system.fund)?)?;
            check_tx_id()?;
            let mut postings = vec![Posting {
                account: *account,
                amount: absorption.loss,
                leg: Leg::Principal,
            }];
            for (source, part) in [
                (system.fund, absorption.from_fund),
                (system.losses, absorption.from_losses),
            ] {
                if part.is_positive() {
                    postings.push(Posting {
                        account: source,
                        amount: Amount::from_minor(-part.minor()),
                        leg: Leg::Principal,
                    });
                }
            }
            let tx = Transaction::new(header(TxKind::WriteOff, "", reason), postings)?;
            draft.post(tx.postings())?;
            draft
                .account_mut(*account)?
                .set_status(AccountStatus::Closed);
            let record = StatusChange {
                account: *account,
                time: command.time,
                actor: actor.clone(),
                reason: reason.clone(),
                before,
                after: AccountStatus::Closed,
            };
            let outcome = Outcome::WrittenOff {
                account: *account,
                tx: tx.id(),
            };
            Ok(draft.finish(outcome, Some(tx), None, Some(ChangeRecord::Status(record))))
        }
        Operation::Recovery {
            account,
            amount,
            memo,
        } => {
            check_amount(*amount, policy)?;
            crate::validate_text("", memo)?;
            let member = draft.member(*account)?;
            if member.status() != AccountStatus::Closed {
                return Err(Rejection::NotWrittenOff { account: *account });
            }
            check_tx_id()?;
            let reference = format!("recovery:{account}");
            let postings = two_legs(system.migration, system.fund, *amount).to_vec();
            let tx = Transaction::new(header(TxKind::Recovery, &reference, memo), postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
        Operation::OpeningBalance {
            account,
            amount,
            memo,
        } => {
            if amount.is_zero() {
                return Err(Rejection::ZeroAmount);
            }
            check_amount(amount.abs(), policy)?;
            crate::validate_text("", memo)?;
            draft.member(*account)?;
            check_tx_id()?;
            let postings = two_legs(system.migration, *account, *amount).to_vec();
            let tx = Transaction::new(header(TxKind::OpeningBalance, "", memo), postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
        Operation::Charge {
            kind,
            payer,
            amount,
            reference,
            memo,
        } => {
            check_amount(*amount, policy)?;
            crate::validate_text(reference, memo)?;
            draft.member(*payer)?;
            check_tx_id()?;
            let (to, tx_kind) = match kind {
                ChargeKind::Fee => (system.fees, TxKind::Fee),
                ChargeKind::FundContribution => (system.fund, TxKind::FundContribution),
            };
            let postings = two_legs(*payer, to, *amount).to_vec();
            let tx = Transaction::new(header(tx_kind, reference, memo), postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
        Operation::Adjustment {
            from,
            to,
            amount,
            reference,
            memo,
        } => {
            check_amount(*amount, policy)?;
            crate::validate_text(reference, memo)?;
            if from == to {
                return Err(Rejection::SameAccount);
            }
            draft.account(*from)?;
            draft.account(*to)?;
            check_tx_id()?;
            let postings = two_legs(*from, *to, *amount).to_vec();
            let tx = Transaction::new(header(TxKind::Adjustment, reference, memo), postings)?;
            draft.post(tx.postings())?;
            Ok(draft.finish(Outcome::Posted { tx: tx.id() }, Some(tx), None, None))
        }
    }
}

fn check_amount(amount: Amount, policy: &Policy) -> Result<(), Rejection> {
    if amount.is_zero() {
        return Err(Rejection::ZeroAmount);
    }
    if amount.is_negative() {
        return Err(Rejection::NegativeAmount);
    }
    if amount > policy.amount_per_tx_max {
        return Err(Rejection::AmountAboveMaximum {
            amount,
            max: policy.amount_per_tx_max,
        });
    }
    Ok(())
}

fn check_reason_actor(reason: &str, actor: &str) -> Result<(), Rejection> {
    let reason_len = crate::char_len(reason.trim());
    if reason_len == 0 || crate::char_len(reason) > REASON_LEN_MAX {
        return Err(Rejection::InvalidReason {
            max: REASON_LEN_MAX as u32,
        });
    }
    let actor_len = crate::char_len(actor.trim());
    if actor_len == 0 || crate::char_len(actor) > ACTOR_LEN_MAX {
        return Err(Rejection::InvalidActor {
            max: ACTOR_LEN_MAX as u32,
        });
    }
    Ok(())
}

fn check_pair<V: View>(
    draft: &Draft<'_, V>,
    payer: AccountId,
    payee: AccountId,
) -> Result<(), Rejection> {
    if payer == payee {
        return Err(Rejection::SameAccount);
    }
    draft.member(payer)?;
    draft.member(payee)?;
    Ok(())
}

fn open_hold<V: View>(view: &V, id: HoldId, now: DateTime<Utc>) -> Result<&Hold, Rejection> {
    let hold = view.hold(id).ok_or(Rejection::UnknownHold { hold: id })?;
    if hold.status != HoldStatus::Open {
        return Err(Rejection::HoldAlreadyResolved {
            hold: id,
            status: hold.status,
        });
    }
    if hold.expires_at <= now {
        return Err(Rejection::HoldExpired { hold: id });
    }
    Ok(hold)
}

/// `from` pays `to` the whole amount, one leg each.
fn two_legs(from: AccountId, to: AccountId, amount: Amount) -> [Posting; 2] {
    [
        Posting {
            account: from,
            amount: Amount::from_minor(-amount.minor()),
            leg: Leg::Principal,
        },
        Posting {
            account: to,
            amount,
            leg: Leg::Principal,
        },
    ]
}

/// The legs of a trade: principal buyer → seller, commission seller → fees, contribution
/// (buyer or seller) → fund. Zero legs are left out.
fn trade_postings(
    system: &SystemAccounts,
    policy: &Policy,
    payer: AccountId,
    payee: AccountId,
    amount: Amount,
) -> Vec<Posting> {
    let fees = policy.fees.fees_for(amount);
    let mut postings = Vec::with_capacity(6);
    postings.extend(two_legs(payer, payee, amount));
    if fees.commission.is_positive() {
        postings.push(Posting {
            account: payee,
            amount: Amount::from_minor(-fees.commission.minor()),
            leg: Leg::Commission,
        });
        postings.push(Posting {
            account: system.fees,
            amount: fees.commission,
            leg: Leg::Commission,
        });
    }
    if fees.fund_contribution.is_positive() {
        let contributor = match fees.fund_payer {
            crate::FundPayer::Buyer => payer,
            crate::FundPayer::Seller => payee,
        };
        postings.push(Posting {
            account: contributor,
            amount: Amount::from_minor(-fees.fund_contribution.minor()),
            leg: Leg::FundContribution,
        });
        postings.push(Posting {
            account: system.fund,
            amount: fees.fund_contribution,
            leg: Leg::FundContribution,
        });
    }
    postings
}

/// Copies of the touched accounts, changed step by step; nothing reaches the caller unless
/// the whole operation is accepted. An operation touches at most a handful of accounts, so a
/// small vector beats a map.
struct Draft<'v, V: View> {
    view: &'v V,
    changed: Vec<Account>,
    time: DateTime<Utc>,
}

impl<V: View> Draft<'_, V> {
    fn account(&self, id: AccountId) -> Result<&Account, Rejection> {
        self.changed
            .iter()
            .find(|a| a.id() == id)
            .or_else(|| self.view.account(id))
            .ok_or(Rejection::UnknownAccount { account: id })
    }

    fn member(&self, id: AccountId) -> Result<&Account, Rejection> {
        let account = self.account(id)?;
        if account.kind() != AccountKind::Member {
            return Err(Rejection::NotAMemberAccount { account: id });
        }
        Ok(account)
    }

    fn account_mut(&mut self, id: AccountId) -> Result<&mut Account, Rejection> {
        let index = match self.changed.iter().position(|a| a.id() == id) {
            Some(index) => index,
            None => {
                let current = self
                    .view
                    .account(id)
                    .ok_or(Rejection::UnknownAccount { account: id })?
                    .clone();
                self.changed.push(current);
                self.changed.len() - 1
            }
        };
        Ok(&mut self.changed[index])
    }

    /// Sets `amount` aside on `payer` for a hold; the payer must be able to pay it.
    fn reserve(&mut self, payer: AccountId, amount: Amount) -> Result<(), Rejection> {
        let account = self.account_mut(payer)?;
        check_may_debit(account, amount)?;
        let pending = account
            .pending()
            .checked_add(amount)
            .ok_or(Rejection::Overflow)?;
        account.set_pending(pending);
        Ok(())
    }

    fn release(&mut self, payer: AccountId, amount: Amount) -> Result<(), Rejection> {
        let account = self.account_mut(payer)?;
        let pending = account.pending().minor() - amount.minor();
        assert!(
            pending >= 0,
            "a hold released more than its account had pending"
        );
        account.set_pending(Amount::from_minor(pending));
        Ok(())
    }

    /// Applies the net effect of `postings` per account, checking status and limits.
    fn post(&mut self, postings: &[Posting]) -> Result<(), Rejection> {
        // Net per account, in first-seen order (at most POSTINGS_PER_TX_MAX entries).
        let mut net: Vec<(AccountId, i128)> = Vec::with_capacity(postings.len());
        for posting in postings {
            let delta = i128::from(posting.amount.minor());
            match net.iter_mut().find(|(id, _)| *id == posting.account) {
                Some((_, sum)) => *sum += delta,
                None => net.push((posting.account, delta)),
            }
        }
        let time = self.time;
        for (id, delta) in net {
            if delta == 0 {
                continue;
            }
            let account = self.account_mut(id)?;
            if account.status() == AccountStatus::Closed {
                return Err(Rejection::AccountClosed { account: id });
            }
            let balance = i128::from(account.balance().minor()) + delta;
            let new_balance = i64::try_from(balance).map_err(|_| Rejection::Overflow)?;
            if delta < 0 {
                let debit = i64::try_from(-delta).map_err(|_| Rejection::Overflow)?;
                check_may_debit(account, Amount::from_minor(debit))?;
            } else if let Some(max) = account.max_balance() {
                if new_balance > max.minor() {
                    return Err(Rejection::OverUpperLimit {
                        account: id,
                        max_balance: max,
                        resulting: Amount::from_minor(new_balance),
                    });
                }
            }
            account.set_balance(Amount::from_minor(new_balance), time);
        }
        Ok(())
    }

    fn finish(
        self,
        outcome: Outcome,
        transaction: Option<Transaction>,
        hold: Option<Hold>,
        change: Option<ChangeRecord>,
    ) -> Effect {
        let mut accounts = self.changed;
        accounts.sort_unstable_by_key(Account::id);
        Effect {
            outcome,
            transaction,
            accounts,
            hold,
            change,
        }
    }
}

/// An account may pay `amount` when it is active and, unless unbounded, the amount fits in
/// its available credit.
fn check_may_debit(account: &Account, amount: Amount) -> Result<(), Rejection> {
    match account.status() {
        AccountStatus::Active => {}
        AccountStatus::Frozen => {
            return Err(Rejection::AccountFrozen {
                account: account.id(),
            })
        }
        AccountStatus::Closed => {
            return Err(Rejection::AccountClosed {
                account: account.id(),
            })
        }
    }
    if let Some(available) = account.available() {
        if amount > available {
            return Err(Rejection::InsufficientCredit {
                account: account.id(),
                available,
                requested: amount,
            });
        }
    }
    Ok(())
}
