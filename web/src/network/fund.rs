//! The guarantee fund: balance, exposure and coverage, the stress test, its history, the
//! default workflow (preview, then write-off) and recoveries.
//!
//! The preview and the write-off use the same rule, `ledger::fund::write_off_absorption`:
//! the confirmation page shows exactly what the ledger will post (the fund first, then the
//! losses account), unless something changed in between, in which case the ledger's own
//! decision stands and is what the result reports.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ledger::fund::{
    fund_metrics, stress_test, write_off_absorption, Absorption, FundMetrics, StressTest,
};
use ledger::{
    Account, AccountId, AccountKind, AccountStatus, Amount, IdempotencyKey, Operation, Outcome,
    Rejection, TxId, TxKind,
};

use super::{member_of, require, Access, InvalidInput, Memo, NetworkError, NetworkResult, Reason};
use crate::actor::Actor;
use crate::dispatch;
use crate::people::{self, Member};
use crate::store::{Store, StoreError, Submission};

/// The largest `k` of the stress test (the ledger's bound on its sort).
pub const STRESS_K_MAX: usize = ledger::fund::STRESS_K_MAX;
/// The stress test's default k (the fund page and the API).
pub const STRESS_K_DEFAULT: usize = 3;
/// Written-off members listed at most, newest first.
pub const WRITTEN_OFF_LISTED_MAX: usize = 100;
/// Closed accounts examined at most when listing write-offs.
pub const CLOSED_READ_MAX: usize = 1_000;
/// Members read at most for the statistics' sectors (the other pages read only the
/// members they name).
pub const MEMBERS_READ_MAX: i64 = 100_000;
/// Longest reason of a write-off, in characters: the ledger keeps it as the write-off
/// transaction's memo, whose limit is shorter than an action's reason.
pub const WRITE_OFF_REASON_LEN_MAX: usize = ledger::MEMO_LEN_MAX;
/// The action-log codes.
pub const ACTION_WRITE_OFF: &str = "member.write_off";
pub const ACTION_RECOVERY: &str = "fund.recovery";

/// The fund's dashboard figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundOverview {
    /// Fund balance, exposure (sum of open members' negative balances) and coverage ratio.
    pub metrics: FundMetrics,
    /// Open member accounts with a negative balance.
    pub debtors: usize,
    /// Defaults the fund could not cover so far (minus the losses account's balance).
    pub losses: Amount,
}

/// One of the largest debtors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub account: AccountId,
    pub member: Option<Member>,
    pub debt: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StressReport {
    pub test: StressTest,
    /// The `k` largest debtors, largest first (ties by account id).
    pub debtors: Vec<Debtor>,
}

/// The confirmation page's content: what a write-off of this member would post now, or why
/// the ledger would refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultPreview {
    pub member: Member,
    pub account: Account,
    pub fund_balance: Amount,
    pub absorption: Result<Absorption, Rejection>,
    /// For a written-off member: the write-off and what was recovered since.
    pub written_off: Option<WrittenOff>,
}

/// A member written off, and what was recovered since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenOff {
    pub member: Member,
    pub tx: TxId,
    pub time: DateTime<Utc>,
    pub absorption: Absorption,
    pub recovered: Amount,
}

/// What a write-off posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOffDone {
    pub tx: TxId,
    pub absorption: Absorption,
}

/// What a recovery posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryDone {
    pub tx: TxId,
    pub fund_balance: Amount,
}

/// Balance, exposure and coverage ratio (managers and accountants): what
/// `GET /api/v1/guarantee-fund` answers.
pub async fn overview(store: &Store, actor: &Actor) -> NetworkResult<FundOverview> {
    require(actor, Access::Read)?;
    let accounts = store.accounts().await?;
    let metrics = fund_metrics(&accounts);
    let debtors = accounts.iter().filter(|a| is_debtor(a)).count();
    let losses = accounts
        .iter()
        .find(|a| a.kind() == AccountKind::Losses)
        .map(|a| Amount::from_minor(a.balance().minor().saturating_neg()))
        .unwrap_or(Amount::ZERO);
    Ok(FundOverview {
        metrics,
        debtors,
        losses,
    })
}

fn is_debtor(account: &Account) -> bool {
    account.kind() == AccountKind::Member
        && account.status() != AccountStatus::Closed
        && account.balance().is_negative()
}

/// What the default of the `k` largest debtors would do (1 ≤ k ≤ [`STRESS_K_MAX`]).
pub async fn stress(store: &Store, actor: &Actor, k: usize) -> NetworkResult<StressReport> {
    require(actor, Access::Read)?;
    if !(1..=STRESS_K_MAX).contains(&k) {
        return Err(InvalidInput::StressCountOutOfRange { max: STRESS_K_MAX }.into());
    }
    let accounts = store.accounts().await?;
    let test = stress_test(&accounts, k);
    let mut debtors: Vec<&Account> = accounts.iter().filter(|a| is_debtor(a)).collect();
    debtors.sort_by_key(|a| (a.balance(), a.id()));
    debtors.truncate(test.k);
    let mut members =
        people::members_of_accounts(store, &debtors.iter().map(|a| a.id()).collect()).await?;
    let debtors = debtors
        .into_iter()
        .map(|a| Debtor {
            account: a.id(),
            member: members.remove(&a.id()),
            debt: Amount::from_minor(a.balance().minor().saturating_neg()),
        })
        .collect();
    Ok(StressReport { test, debtors })
}

async fn fund_and_member(store: &Store, member: &Member) -> NetworkResult<(Account, Account)> {
    let system = store.system_accounts().await?;
    let account = store
        .account(member.account())
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("member {} has no account", member.id)))?;
    let fund = store
        .account(system.fund)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the fund account is missing".into()))?;
    Ok((account, fund))
}

/// What writing off `member_id` would post now (managers only).
pub async fn default_preview(
    store: &Store,
    actor: &Actor,
    member_id: i64,
) -> NetworkResult<DefaultPreview> {
    require(actor, Access::Act)?;
    let member = member_of(store, member_id).await?;
    let (account, fund) = fund_and_member(store, &member).await?;
    let absorption = write_off_absorption(&account, &fund);
    let written_off = if account.status() == AccountStatus::Closed {
        written_off(store, member.clone(), account.id()).await?
    } else {
        None
    };
    Ok(DefaultPreview {
        member,
        account,
        fund_balance: fund.balance(),
        absorption,
        written_off,
    })
}

fn absorption_json(absorption: &Result<Absorption, Rejection>) -> serde_json::Value {
    match absorption {
        Ok(a) => serde_json::json!({
            "loss": a.loss.minor(),
            "from_fund": a.from_fund.minor(),
            "from_losses": a.from_losses.minor(),
        }),
        Err(rejection) => serde_json::json!({ "refused": rejection.code() }),
    }
}

/// Writes off a defaulted member (managers only): the fund absorbs the debt first, the losses
/// account the rest, and the account is closed, with an action-log record (`member.write_off`:
/// the account before and after, the preview and the outcome) in the same transaction. The
/// reason has at most [`WRITE_OFF_REASON_LEN_MAX`] characters. `key`
/// makes a retry safe; a refused key stays refused (use a new one after fixing the cause).
pub async fn write_off(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    reason: &Reason,
    key: IdempotencyKey,
) -> NetworkResult<WriteOffDone> {
    require(actor, Access::Act)?;
    if reason.len() > WRITE_OFF_REASON_LEN_MAX {
        return Err(InvalidInput::ReasonTooLong {
            max: WRITE_OFF_REASON_LEN_MAX,
        }
        .into());
    }
    let member = member_of(store, member_id).await?;
    let (account, fund) = fund_and_member(store, &member).await?;
    let preview = write_off_absorption(&account, &fund);
    let note = actor
        .note(ACTION_WRITE_OFF, reason.as_str())?
        .member(member.id)
        .account(account.id().0)
        .states(
            serde_json::json!({ "preview": absorption_json(&preview), "fund_balance": fund.balance().minor() }),
            serde_json::Value::Null,
        );
    let op = Operation::WriteOff {
        account: account.id(),
        reason: reason.as_str().to_owned(),
        actor: actor.email().to_owned(),
    };
    let outcome = store
        .submit(Submission::new(key, op).noted(note))
        .await?
        .map_err(NetworkError::Rejected)?;
    let Outcome::WrittenOff { tx, .. } = outcome else {
        return Err(StoreError::Corrupt(format!("a write-off answered {outcome:?}")).into());
    };
    // The account is closed: its listings close, and its notice of departure is done.
    crate::console::departures::after_close(store, member.id, actor.email()).await?;
    let transaction = store
        .transaction(tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("write-off {tx} not found")))?;
    let system = store.system_accounts().await?;
    Ok(WriteOffDone {
        tx,
        absorption: posted_absorption(&transaction, account.id(), &system),
    })
}

/// The absorption a write-off transaction posted, read from its postings.
fn posted_absorption(
    tx: &ledger::Transaction,
    member: AccountId,
    system: &ledger::SystemAccounts,
) -> Absorption {
    let on = |account: AccountId| -> i64 {
        tx.postings()
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount.minor())
            .sum()
    };
    Absorption {
        loss: Amount::from_minor(on(member)),
        from_fund: Amount::from_minor(-on(system.fund)),
        from_losses: Amount::from_minor(-on(system.losses)),
    }
}

/// Euros recovered from a written-off member replenish the fund (managers only), with an
/// action-log record (`fund.recovery`, the memo as its reason).
pub async fn record_recovery(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    amount: Amount,
    memo: &Memo,
    key: IdempotencyKey,
) -> NetworkResult<RecoveryDone> {
    require(actor, Access::Act)?;
    let member = member_of(store, member_id).await?;
    let account = member.account();
    let system = store.system_accounts().await?;
    let fund_before = store
        .account(system.fund)
        .await?
        .map(|a| a.balance().minor());
    let note = actor
        .note(ACTION_RECOVERY, memo.as_str())?
        .member(member.id)
        .account(account.0)
        .states(
            serde_json::json!({ "fund_balance": fund_before, "amount": amount.minor() }),
            serde_json::Value::Null,
        );
    let op = Operation::Recovery {
        account,
        amount,
        memo: memo.as_str().to_owned(),
    };
    let outcome = store
        .submit(Submission::new(key, op).noted(note))
        .await?
        .map_err(NetworkError::Rejected)?;
    let tx = outcome
        .tx()
        .ok_or_else(|| StoreError::Corrupt(format!("a recovery answered {outcome:?}")))?;
    let fund_balance = store
        .account(system.fund)
        .await?
        .map(|a| a.balance())
        .unwrap_or(Amount::ZERO);
    Ok(RecoveryDone { tx, fund_balance })
}

/// Amounts recovered per written-off account, read from the migration account's postings
/// (opening balances and recoveries only: a small set, on the account's postings index).
async fn recovered_by_account(store: &Store) -> NetworkResult<HashMap<String, i64>> {
    let system = store.system_accounts().await?;
    let migration = super::db_id(system.migration);
    let sql = "SELECT t.reference, CAST(SUM(-p.amount) AS BIGINT) FROM postings p \
               JOIN transactions t ON t.id = p.tx_id \
               WHERE p.account_id = $1 AND t.kind = 'recovery' GROUP BY t.reference";
    let rows: Vec<(String, i64)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(sql).bind(migration).fetch_all(pool).await.map_err(StoreError::from)?
    });
    Ok(rows.into_iter().collect())
}

/// The write-off of `account` (its latest transaction, when it is one) and what was
/// recovered since.
async fn written_off(
    store: &Store,
    member: Member,
    account: AccountId,
) -> NetworkResult<Option<WrittenOff>> {
    let latest = store.history(account, None, 1).await?;
    let Some(entry) = latest.entries.into_iter().next() else {
        return Ok(None);
    };
    if entry.transaction.kind() != TxKind::WriteOff {
        return Ok(None);
    }
    let system = store.system_accounts().await?;
    let recovered = recovered_by_account(store)
        .await?
        .get(&format!("recovery:{account}"))
        .copied()
        .unwrap_or(0);
    Ok(Some(WrittenOff {
        member,
        tx: entry.transaction.id(),
        time: entry.transaction.time(),
        absorption: posted_absorption(&entry.transaction, account, &system),
        recovered: Amount::from_minor(recovered),
    }))
}

/// Written-off members, newest account first (at most [`WRITTEN_OFF_LISTED_MAX`]), with what
/// was recovered from each: managers and accountants.
pub async fn written_off_members(store: &Store, actor: &Actor) -> NetworkResult<Vec<WrittenOff>> {
    require(actor, Access::Read)?;
    let mut closed: Vec<Account> = store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.kind() == AccountKind::Member && a.status() == AccountStatus::Closed)
        .collect();
    closed.sort_by_key(|a| std::cmp::Reverse(a.id()));
    closed.truncate(CLOSED_READ_MAX);
    let mut members =
        people::members_of_accounts(store, &closed.iter().map(|a| a.id()).collect()).await?;
    let recovered = recovered_by_account(store).await?;
    let system = store.system_accounts().await?;
    let mut listed = Vec::new();
    // Bounded: ordinary closures (at a zero balance) are read too, then skipped.
    for account in closed {
        if listed.len() >= WRITTEN_OFF_LISTED_MAX {
            break;
        }
        let Some(member) = members.remove(&account.id()) else {
            continue;
        };
        let latest = store.history(account.id(), None, 1).await?;
        let Some(entry) = latest.entries.into_iter().next() else {
            continue;
        };
        if entry.transaction.kind() != TxKind::WriteOff {
            continue;
        }
        listed.push(WrittenOff {
            member,
            tx: entry.transaction.id(),
            time: entry.transaction.time(),
            absorption: posted_absorption(&entry.transaction, account.id(), &system),
            recovered: Amount::from_minor(
                recovered
                    .get(&format!("recovery:{}", account.id()))
                    .copied()
                    .unwrap_or(0),
            ),
        });
    }
    Ok(listed)
}

/// The fund balance and the exposure at each month end over the last `months` months
/// (1 to `stats::STATS_MONTHS_MAX`; the current month as of now), oldest first: the
/// dashboard's history chart.
pub async fn history(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
    months: u32,
) -> NetworkResult<Vec<super::stats::MonthFigures>> {
    require(actor, Access::Read)?;
    let months = super::stats::months_in_range(months)?;
    Ok(super::stats::compute(store, now, months).await?.months)
}
