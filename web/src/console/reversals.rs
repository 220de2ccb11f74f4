//! A network manager reverses a transaction: a payment sent to the wrong member that the
//! payee will not refund, a dispute the network settled, a fee charged by mistake. The
//! ledger reverses it (`Operation::Reverse`: every posting negated, fees included), at most
//! once; reversals and write-offs cannot be reversed, and the reversal obeys limits like any
//! debit. The reason is required; it is the reversal's memo, so both members read it in
//! their history, and it goes in the action log (`transaction.reverse`) with the manager's
//! name, against the member whose account the transaction credited, in the reversal's own
//! database transaction. Accountants read transactions; only managers reverse them.
//! Members refund what they received themselves (`trade::refund`). A reversal closes the
//! payment's open dispute as `reversed` (`disputes::after_reversal`).

use ledger::{Leg, Operation, Transaction, TxId, MEMO_LEN_MAX};

use super::disputes::DisputeStatus;
use super::{Actor, ConsoleError, ConsoleResult, Field, Issues, RequestKey};
use crate::people;
use crate::store::{Store, StoreError, Submission};

/// A transaction as the console shows it, with its reversal if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub transaction: Transaction,
    pub reversed_by: Option<TxId>,
}

/// A reversal just made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reversed {
    pub transaction: TxId,
    pub reverses: TxId,
}

/// Transaction `tx`, for the network's staff (managers and accountants).
pub async fn transaction(store: &Store, actor: &Actor, tx: TxId) -> ConsoleResult<Reviewed> {
    actor.require_reader()?;
    let transaction = store.transaction(tx).await?.ok_or(ConsoleError::NotFound)?;
    let reversed_by = store.reversed_by(tx).await?;
    Ok(Reviewed {
        transaction,
        reversed_by,
    })
}

/// The account a transaction credited with its traded amount (the principal leg), else its
/// largest credit: the one the action log files the reversal under.
fn credited(transaction: &Transaction) -> Option<ledger::AccountId> {
    let credits = || {
        transaction
            .postings()
            .iter()
            .filter(|p| p.amount.is_positive())
    };
    credits()
        .find(|p| p.leg == Leg::Principal)
        .or_else(|| credits().max_by_key(|p| p.amount))
        .map(|p| p.account)
}

/// Reverses transaction `tx` (managers only), with `reason` (required, at most
/// [`MEMO_LEN_MAX`] characters: it becomes the reversal's memo).
pub async fn reverse(
    store: &Store,
    actor: &Actor,
    tx: TxId,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<Reversed> {
    actor.require_manager()?;
    let original = store.transaction(tx).await?.ok_or(ConsoleError::NotFound)?;
    let mut issues = Issues::default();
    let reason = issues.text(Field::Reason, reason, MEMO_LEN_MAX);
    issues.finish()?;
    let mut note = actor.note("transaction.reverse", &reason)?;
    if let Some(account) = credited(&original) {
        note = note.account(account.0);
        let id = i64::try_from(account.0).unwrap_or(i64::MAX);
        if let Some(member) = people::member_by_account(store, id).await? {
            note = note.member(member.id);
        }
    }
    let reason_kept = reason.clone();
    let op = Operation::Reverse {
        transaction: tx,
        memo: reason,
    };
    let key = request.ledger_key("reverse", i64::try_from(tx.0).unwrap_or(i64::MAX));
    let reversed = match store.submit(Submission::new(key, op).noted(note)).await? {
        Ok(outcome) => outcome
            .tx()
            .map(|reversal| Reversed {
                transaction: reversal,
                reverses: tx,
            })
            .ok_or_else(|| {
                ConsoleError::Store(StoreError::Corrupt(format!(
                    "a reversal answered {outcome:?}"
                )))
            })?,
        Err(rejection) => return Err(ConsoleError::Rejected(rejection)),
    };
    // The payment's open dispute, if any, is settled by the reversal.
    super::disputes::after_reversal(
        store,
        tx,
        DisputeStatus::Reversed,
        Some(actor.email()),
        Some(&reason_kept),
    )
    .await?;
    Ok(reversed)
}
