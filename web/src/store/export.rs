//! What the accountant exports read from the store: period locks, and the transactions of a
//! period in (time, id) order, page by page (keyset pagination on `transactions (time, id)`
//! or `postings (account_id, time)`), so that an export runs in memory proportional to the
//! number of accounts, whatever the number of postings.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use ledger::{AccountId, AccountKind, Transaction, TxId, ACTOR_LEN_MAX};

use super::action_log::{insert_action, ActionNote, Conn};
use super::rows::{db_id, unsigned};
use super::{Store, StoreError, StoreResult};
use crate::export::calendar;
use crate::export::source::{entry_for, Directory};
use crate::export::{
    AccountInfo, AccountMapping, ExportError, ExportHeader, ExportSummary, Exporter, Feed, Format,
    PagedWrite, Period, PeriodLock, Scope, Siren, Unpaged,
};

/// Transactions read per query.
pub const EXPORT_PAGE_SIZE: usize = 1_000;

/// An export that could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// How far an export has got, for a progress indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportProgress {
    /// Transactions read so far (history before the period included).
    pub done: u64,
    /// Transactions the export will read.
    pub total: u64,
}

/// Before any transaction the store can hold.
fn beginning() -> DateTime<Utc> {
    calendar::start_of(NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid date"))
}

/// The locked period a stored lock enforces: up to its stored end (`ends_at`, the Paris
/// midnight after `through`), or, for a lock made before migration 0014, the UTC midnight.
pub(crate) fn lock_in_force(
    through: NaiveDate,
    ends_at: Option<DateTime<Utc>>,
) -> StoreResult<ledger::LockedPeriod> {
    let lock = match ends_at {
        Some(ends_at) => ledger::LockedPeriod::new(through, ends_at),
        None => calendar::utc_locked_period(through),
    };
    lock.ok_or_else(|| StoreError::Corrupt(format!("period lock through {through}")))
}

/// The action code of a period lock in the action log.
pub const LOCK_ACTION: &str = "period.lock";
/// The action code of a change of the network's SIREN in the action log.
pub const SIREN_ACTION: &str = "network.siren";

impl Store {
    /// Every period lock, oldest first.
    pub async fn period_locks(&self) -> StoreResult<Vec<PeriodLock>> {
        let rows: Vec<(NaiveDate, DateTime<Utc>)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as("SELECT through, locked_at FROM period_locks ORDER BY through")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(through, locked_at)| PeriodLock { through, locked_at })
            .collect())
    }

    /// The `limit` most recent locks, newest first, with who made them, and how many locks
    /// there are in all (for the locks page).
    pub async fn recent_period_locks(
        &self,
        limit: usize,
    ) -> StoreResult<(Vec<(PeriodLock, String)>, usize)> {
        let limit = i64::try_from(limit.min(crate::export::LOCKS_MAX)).unwrap_or(0);
        let (rows, total): (Vec<(NaiveDate, DateTime<Utc>, String)>, i64) = crate::dispatch!(self.backend(), pool => {
            let rows = sqlx::query_as(
                "SELECT through, locked_at, actor FROM period_locks \
                 ORDER BY through DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar("SELECT COUNT(*) FROM period_locks")
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        let locks = rows
            .into_iter()
            .map(|(through, locked_at, actor)| (PeriodLock { through, locked_at }, actor))
            .collect();
        Ok((locks, usize::try_from(total).unwrap_or(0)))
    }

    /// The last locked day, if any period is locked.
    pub async fn locked_through(&self) -> StoreResult<Option<NaiveDate>> {
        Ok(self.period_locks().await?.last().map(|l| l.through))
    }

    /// Locks every day up to `through` (included), as of `now`: from then on nothing can be
    /// dated on or before it (the ledger refuses it with `Rejection::PeriodLocked`, and the
    /// database trigger backs that up). A period can only be locked once it is over
    /// (`through` before `now`'s date) and locks only move forward. Recorded in the action
    /// log as `period.lock` by `actor` (the command line's; see [`Store::lock_period_noted`]).
    pub async fn lock_period(
        &self,
        through: NaiveDate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<PeriodLock> {
        let note = ActionNote::new(None, actor, LOCK_ACTION, "")?;
        self.lock_period_noted(through, note, now).await
    }

    /// [`Store::lock_period`] with the action log's note (the web passes the user): the lock
    /// and its record commit together.
    pub async fn lock_period_noted(
        &self,
        through: NaiveDate,
        note: ActionNote,
        now: DateTime<Utc>,
    ) -> StoreResult<PeriodLock> {
        let actor = note.actor().to_owned();
        let actor_len = actor.chars().count();
        if actor_len == 0 || actor_len > ACTOR_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "the actor must be 1 to {ACTOR_LEN_MAX} characters"
            )));
        }
        let today = calendar::day_of(now);
        if through >= today {
            return Err(StoreError::Invalid(format!(
                "a period can only be locked once it is over: {through} is not before {today}"
            )));
        }
        let Some(locked) = calendar::locked_period(through) else {
            return Err(StoreError::Invalid(format!("{through} cannot be locked")));
        };
        let ends_at = locked.ends_at();
        let now = super::rows::micros(now);
        let kind = self.kind();
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(super::begin_write_sql(kind)).await?;
            // Serialise with the write path's batches (they update this row), so that no
            // batch decided before the lock commits a transaction inside it afterwards.
            if kind == super::BackendKind::Postgres {
                sqlx::query("SELECT seq FROM ledger_head WHERE id = 1 FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
            }
            let last: Option<NaiveDate> =
                sqlx::query_scalar("SELECT MAX(through) FROM period_locks")
                    .fetch_one(&mut *tx)
                    .await?;
            if let Some(last) = last {
                if last >= through {
                    return Err(StoreError::Invalid(format!(
                        "the period is already locked through {last}"
                    )));
                }
            }
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM period_locks")
                .fetch_one(&mut *tx)
                .await?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= crate::export::LOCKS_MAX {
                return Err(StoreError::Invalid(format!(
                    "at most {} period locks",
                    crate::export::LOCKS_MAX
                )));
            }
            sqlx::query(
                "INSERT INTO period_locks (through, locked_at, actor, ends_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(through)
            .bind(now)
            .bind(&actor)
            .bind(ends_at)
            .execute(&mut *tx)
            .await?;
            let note = note.states(
                serde_json::json!({ "locked_through": last }),
                serde_json::json!({
                    "locked_through": through,
                    "locked_at": now,
                    "ends_at": ends_at,
                }),
            );
            insert_action(Conn::from(&mut *tx), note, now).await?;
            tx.commit().await?;
        });
        Ok(PeriodLock {
            through,
            locked_at: now,
        })
    }

    /// Up to `limit` transactions with `after` < (time, id) and time < `end`, in (time, id)
    /// order; with `member`, only those with a posting on that account.
    pub async fn transactions_in_order(
        &self,
        member: Option<AccountId>,
        after: (DateTime<Utc>, i64),
        end: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Transaction>> {
        if limit == 0 || limit > EXPORT_PAGE_SIZE {
            return Err(StoreError::Invalid(format!(
                "the page size must be between 1 and {EXPORT_PAGE_SIZE}"
            )));
        }
        let (after_time, after_id) = after;
        let ids: Vec<i64> = crate::dispatch!(self.backend(), pool => {
            match member {
                None => sqlx::query_scalar(
                    "SELECT id FROM transactions WHERE time < $1 AND (time, id) > ($2, $3) \
                     ORDER BY time, id LIMIT $4",
                )
                .bind(end)
                .bind(after_time)
                .bind(after_id)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?,
                Some(account) => sqlx::query_scalar(
                    "SELECT tx_id FROM postings WHERE account_id = $5 AND time < $1 \
                     AND (time, tx_id) > ($2, $3) \
                     GROUP BY time, tx_id ORDER BY time, tx_id LIMIT $4",
                )
                .bind(end)
                .bind(after_time)
                .bind(after_id)
                .bind(limit as i64)
                .bind(db_id(account.0))
                .fetch_all(pool)
                .await?,
            }
        });
        let ids: Vec<TxId> = ids
            .into_iter()
            .map(|id| unsigned(id).map(TxId))
            .collect::<StoreResult<_>>()?;
        let mut loaded = self.transactions(&ids).await?;
        if loaded.len() != ids.len() {
            return Err(StoreError::Corrupt(
                "postings without their transaction".into(),
            ));
        }
        // Loaded by id; put them back in (time, id) order.
        loaded.sort_by_key(|t| (t.time(), t.id()));
        Ok(loaded)
    }

    async fn count_before(
        &self,
        member: Option<AccountId>,
        end: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let count: i64 = crate::dispatch!(self.backend(), pool => {
            match member {
                None => sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE time < $1")
                    .bind(end)
                    .fetch_one(pool)
                    .await?,
                Some(account) => sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT tx_id) FROM postings WHERE account_id = $1 AND time < $2",
                )
                .bind(db_id(account.0))
                .bind(end)
                .fetch_one(pool)
                .await?,
            }
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Every account of the store, with the SIREN and name of its member company (the web
    /// front's `members` table) when it has one, and its id and kind otherwise.
    pub async fn export_directory(&self) -> StoreResult<Directory> {
        let companies: Vec<(i64, String, String)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as("SELECT account_id, name, siren FROM members")
                .fetch_all(pool)
                .await?
        });
        let mut known = std::collections::HashMap::with_capacity(companies.len());
        for (account, name, siren) in companies {
            let id = AccountId(unsigned(account)?);
            // A profile that does not fit the books' rules is shown without its SIREN (and a
            // name cut to the limit) rather than failing every export of the network.
            let siren = Siren::new(&siren).ok();
            let name: String = name.chars().take(crate::export::NAME_LEN_MAX).collect();
            if let Ok(info) = AccountInfo::member(id, siren, &name) {
                known.insert(id, info);
            }
        }
        let mut directory = Directory::new();
        for account in self.accounts().await? {
            let info = match known.remove(&account.id()) {
                Some(info) if account.kind() == AccountKind::Member => info,
                _ if account.kind() == AccountKind::Member => {
                    AccountInfo::member(account.id(), None, &format!("Membre {}", account.id()))
                        .expect("a short name is valid")
                }
                _ => AccountInfo::system(account.id(), account.kind()),
            };
            directory.insert(info);
        }
        Ok(directory)
    }

    /// The network operator's SIREN, if a manager set it (migration 0014).
    pub async fn network_siren(&self) -> StoreResult<Option<Siren>> {
        let siren: Option<Option<String>> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_scalar("SELECT siren FROM network WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        match siren.flatten() {
            None => Ok(None),
            Some(text) => Siren::new(&text)
                .map(Some)
                .map_err(|_| StoreError::Corrupt(format!("network SIREN {text:?}"))),
        }
    }

    /// Sets the network operator's SIREN, recorded in the action log (`network.siren`, with
    /// the value before and after) in the same database transaction. The caller checks the
    /// Luhn key (`people::siren_is_valid`); the database checks the 9 digits.
    pub async fn set_network_siren(&self, siren: &Siren, note: ActionNote) -> StoreResult<()> {
        let now = Utc::now();
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(self.begin_write_sql()).await?;
            let before: Option<Option<String>> =
                sqlx::query_scalar("SELECT siren FROM network WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            let before = before.ok_or(StoreError::NoNetwork)?;
            sqlx::query("UPDATE network SET siren = $1 WHERE id = 1")
                .bind(siren.as_str())
                .execute(&mut *tx)
                .await?;
            let note = note.states(
                serde_json::json!({ "siren": before }),
                serde_json::json!({ "siren": siren.as_str() }),
            );
            insert_action(Conn::from(&mut *tx), note, now).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Streams one export of the stored ledger to `out`: the history before the period
    /// (for the opening balances), then the period, a page at a time. `progress` is called
    /// after every page.
    pub async fn export<W: Write + Send>(
        &self,
        header: ExportHeader,
        mapping: &AccountMapping,
        format: Format,
        directory: &Directory,
        out: W,
        progress: impl FnMut(ExportProgress) + Send,
    ) -> Result<(W, ExportSummary), ExportFailure> {
        let (Unpaged(out), summary) = self
            .export_paged(header, mapping, format, directory, Unpaged(out), progress)
            .await?;
        Ok((out, summary))
    }

    /// [`Store::export`] to an output that is told after every page, so that it can hand
    /// the bytes on and make the export wait for a slow reader (a streamed download).
    pub async fn export_paged<W: PagedWrite>(
        &self,
        header: ExportHeader,
        mapping: &AccountMapping,
        format: Format,
        directory: &Directory,
        out: W,
        progress: impl FnMut(ExportProgress) + Send,
    ) -> Result<(W, ExportSummary), ExportFailure> {
        let scope = header.scope().clone();
        let period = header.period();
        let mut exporter = Exporter::new(header, mapping, format, out)?;
        self.feed(&scope, period, directory, &mut exporter, progress)
            .await?;
        Ok(exporter.finish()?)
    }

    /// The numbers of the invoices and credit notes issued for the transactions of `page`
    /// (`crate::invoices`, migration 0024), by transaction: one read by the UNIQUE index on
    /// `invoices (tx_id)` per export page.
    async fn invoice_numbers(&self, page: &[Transaction]) -> StoreResult<HashMap<TxId, String>> {
        if page.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT tx_id, number FROM invoices WHERE {}",
            super::in_id_list(self.kind(), "tx_id", 1)
        );
        let ids = super::id_list(page.iter().map(|t| t.id().0));
        let rows: Vec<(i64, String)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(tx, number)| Ok((TxId(unsigned(tx)?), number)))
            .collect()
    }

    /// Feeds the stored history in (time, id) order to `feed` (an exporter or a report
    /// builder): the history before `period` with `carry`, then the period with `push`, a
    /// page of [`EXPORT_PAGE_SIZE`] transactions at a time; for a member's books only the
    /// transactions with a posting on its account. `progress` is called after every page.
    pub async fn feed<F: Feed>(
        &self,
        scope: &Scope,
        period: Period,
        directory: &Directory,
        feed: &mut F,
        mut progress: impl FnMut(ExportProgress) + Send,
    ) -> Result<(), ExportFailure> {
        let member = match scope {
            Scope::Network => None,
            Scope::Member(info) => Some(info.id()),
        };
        let start = calendar::start_of(period.from());
        let end = calendar::end_of(period.to()).ok_or(ExportError::InvalidPeriod {
            from: period.from(),
            to: period.to(),
        })?;
        let total = self.count_before(member, end).await?;
        let mut done = 0u64;
        progress(ExportProgress { done, total });
        for (phase_end, carry) in [(start, true), (end, false)] {
            let mut after = if carry {
                (beginning(), i64::MIN)
            } else {
                (start, i64::MIN)
            };
            loop {
                let page = self
                    .transactions_in_order(member, after, phase_end, EXPORT_PAGE_SIZE)
                    .await?;
                // The period's pieces: the invoices issued in Troc for its transactions.
                let numbers = if carry {
                    HashMap::new()
                } else {
                    self.invoice_numbers(&page).await?
                };
                for tx in &page {
                    let mut entry = entry_for(tx, directory).ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "transaction {} names an account missing from the directory",
                            tx.id()
                        ))
                    })?;
                    entry.invoice = numbers.get(&tx.id()).cloned();
                    if carry {
                        feed.carry(&entry)?;
                    } else {
                        feed.push(&entry)?;
                    }
                }
                done += page.len() as u64;
                progress(ExportProgress { done, total });
                feed.page_done().await?;
                match page.last() {
                    Some(last) if page.len() == EXPORT_PAGE_SIZE => {
                        after = (last.time(), db_id(last.id().0));
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }
}
