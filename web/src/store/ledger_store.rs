//! The network, accounts and the read side: everything but the write path (see `writer`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ledger::{
    Account, AccountId, AccountKind, Amount, Hold, HoldId, IdempotencyKey, InvariantViolation,
    Operation, Policy, SystemAccounts, Transaction, TxId, EXPIRIES_PER_CALL_MAX,
};

use super::rows::{
    account_from_row, account_id, db_id, hold_from_row, id_list, in_id_list, micros,
    transaction_from_rows, unsigned, AccountRow, HoldRow, PostingRow, TransactionRow,
    ACCOUNT_COLUMNS, HOLD_COLUMNS, TRANSACTION_COLUMNS,
};
use super::{Store, StoreError, StoreResult, Submission};

/// Longest network name, in characters.
pub const NETWORK_NAME_LEN_MAX: usize = 100;
/// Most accounts one [`Store::open_accounts`] call opens.
pub const OPEN_ACCOUNTS_PER_CALL_MAX: usize = 10_000;
/// Most entries one history page may hold.
pub const HISTORY_PAGE_SIZE_MAX: usize = 200;
/// Most accounts one [`Store::accounts_of`] call reads.
pub const ACCOUNTS_READ_MAX: usize = 1_000;

/// One line of an account's history: a transaction and what it did to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub transaction: Transaction,
    /// The net amount on the account (credit > 0), all legs together.
    pub net: Amount,
}

/// A page of history, newest first. `next_before` is the cursor of the next (older) page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub next_before: Option<TxId>,
}

impl Store {
    /// Creates the network: its name, its four system accounts (at zero, limit zero) and
    /// the policy in force. Once only.
    pub async fn create_network(&self, name: &str, policy: Policy) -> StoreResult<SystemAccounts> {
        let name_len = name.trim().chars().count();
        if name_len == 0 || name.chars().count() > NETWORK_NAME_LEN_MAX {
            return Err(StoreError::Invalid(format!(
                "the network name must have 1 to {NETWORK_NAME_LEN_MAX} characters"
            )));
        }
        let now = micros(Utc::now());
        let policy_json = serde_json::to_string(&policy).expect("a policy serialises");
        let begin = self.begin_write_sql();
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(begin).await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM network WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                return Err(StoreError::NetworkExists);
            }
            sqlx::query("INSERT INTO network (id, name, created_at) VALUES (1, $1, $2)")
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let mut ids = Vec::with_capacity(4);
            for kind in [
                AccountKind::GuaranteeFund,
                AccountKind::Fees,
                AccountKind::Losses,
                AccountKind::Migration,
            ] {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO accounts (kind, status, balance, pending, credit_limit, \
                     created_at) VALUES ($1, 'active', 0, 0, 0, $2) RETURNING id",
                )
                .bind(kind.as_str())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            sqlx::query(
                "INSERT INTO ledger_settings (id, fund_account, fees_account, losses_account, \
                 migration_account) VALUES (1, $1, $2, $3, $4)",
            )
            .bind(ids[0])
            .bind(ids[1])
            .bind(ids[2])
            .bind(ids[3])
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO policies (policy, created_at) VALUES ($1, $2)")
                .bind(&policy_json)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(SystemAccounts {
                fund: account_id(ids[0])?,
                fees: account_id(ids[1])?,
                losses: account_id(ids[2])?,
                migration: account_id(ids[3])?,
            })
        })
    }

    /// The network's name, or `None` before [`Store::create_network`].
    pub async fn network_name(&self) -> StoreResult<Option<String>> {
        crate::dispatch!(self.backend(), pool => {
            Ok(sqlx::query_scalar("SELECT name FROM network WHERE id = 1")
                .fetch_optional(pool)
                .await?)
        })
    }

    pub async fn system_accounts(&self) -> StoreResult<SystemAccounts> {
        let row: Option<(i64, i64, i64, i64)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(
                "SELECT fund_account, fees_account, losses_account, migration_account \
                 FROM ledger_settings WHERE id = 1",
            )
            .fetch_optional(pool)
            .await?
        });
        let (fund, fees, losses, migration) = row.ok_or(StoreError::NoNetwork)?;
        Ok(SystemAccounts {
            fund: account_id(fund)?,
            fees: account_id(fees)?,
            losses: account_id(losses)?,
            migration: account_id(migration)?,
        })
    }

    /// Opens a member account at zero with the given limits.
    pub async fn open_account(
        &self,
        credit_limit: Amount,
        max_balance: Option<Amount>,
    ) -> StoreResult<Account> {
        // The core's own validation (no negative limits) before the database's CHECKs.
        Account::open(AccountId(0), AccountKind::Member, credit_limit, max_balance)?;
        let now = micros(Utc::now());
        let id: i64 = crate::dispatch!(self.backend(), pool => {
            sqlx::query_scalar(
                "INSERT INTO accounts (kind, status, balance, pending, credit_limit, \
                 max_balance, created_at) VALUES ('member', 'active', 0, 0, $1, $2, $3) \
                 RETURNING id",
            )
            .bind(credit_limit.minor())
            .bind(max_balance.map(Amount::minor))
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(Account::open(
            account_id(id)?,
            AccountKind::Member,
            credit_limit,
            max_balance,
        )?)
    }

    /// Opens `count` member accounts at zero with the same limits, in one transaction (at
    /// most [`OPEN_ACCOUNTS_PER_CALL_MAX`]): for imports and benchmarks.
    pub async fn open_accounts(
        &self,
        count: usize,
        credit_limit: Amount,
        max_balance: Option<Amount>,
    ) -> StoreResult<Vec<Account>> {
        if count > OPEN_ACCOUNTS_PER_CALL_MAX {
            return Err(StoreError::Invalid(format!(
                "at most {OPEN_ACCOUNTS_PER_CALL_MAX} accounts per call"
            )));
        }
        Account::open(AccountId(0), AccountKind::Member, credit_limit, max_balance)?;
        let now = micros(Utc::now());
        let begin = self.begin_write_sql();
        let ids: Vec<i64> = crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(begin).await?;
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO accounts (kind, status, balance, pending, credit_limit, \
                     max_balance, created_at) VALUES ('member', 'active', 0, 0, $1, $2, $3) \
                     RETURNING id",
                )
                .bind(credit_limit.minor())
                .bind(max_balance.map(Amount::minor))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
            ids
        });
        ids.into_iter()
            .map(|id| {
                Ok(Account::open(
                    account_id(id)?,
                    AccountKind::Member,
                    credit_limit,
                    max_balance,
                )?)
            })
            .collect()
    }

    /// One account: balance, pending, limits and available credit, read in O(1).
    pub async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(db_id(id.0)).fetch_optional(pool).await?
        });
        row.map(account_from_row).transpose()
    }

    /// The accounts with these ids, by id (an id of no account is left out), in one read:
    /// for a page that shows several members' balances. At most [`ACCOUNTS_READ_MAX`].
    pub async fn accounts_of(&self, ids: &BTreeSet<AccountId>) -> StoreResult<Vec<Account>> {
        if ids.len() > ACCOUNTS_READ_MAX {
            return Err(StoreError::Invalid(format!(
                "at most {ACCOUNTS_READ_MAX} accounts per read, got {}",
                ids.len()
            )));
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|id| id.0));
        let rows: Vec<AccountRow> = match self.backend() {
            super::Backend::Sqlite(pool) => {
                let json: String = sqlx::query_scalar(&super::rows::sqlite_accounts_json_sql())
                    .bind(&list)
                    .fetch_one(pool)
                    .await?;
                super::rows::account_rows_from_json(&json)?
            }
            super::Backend::Postgres(pool) => {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {}",
                    in_id_list(self.kind(), "id", 1)
                );
                sqlx::query_as(&sql).bind(&list).fetch_all(pool).await?
            }
        };
        let mut accounts = rows
            .into_iter()
            .map(account_from_row)
            .collect::<StoreResult<Vec<Account>>>()?;
        accounts.sort_by_key(Account::id);
        Ok(accounts)
    }

    /// Every account, by id (for reports and checks; a network has thousands, not
    /// millions).
    pub async fn accounts(&self) -> StoreResult<Vec<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
        let rows: Vec<AccountRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(account_from_row).collect()
    }

    pub async fn hold(&self, id: HoldId) -> StoreResult<Option<Hold>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1");
        let row: Option<HoldRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(db_id(id.0)).fetch_optional(pool).await?
        });
        row.map(hold_from_row).transpose()
    }

    pub async fn transaction(&self, id: TxId) -> StoreResult<Option<Transaction>> {
        Ok(self.transactions(&[id]).await?.pop())
    }

    /// The reversal of transaction `id`, if it was reversed (at most one: `reverses` is
    /// UNIQUE).
    pub async fn reversed_by(&self, id: TxId) -> StoreResult<Option<TxId>> {
        Ok(self.reversed_among(&[id]).await?.remove(&id))
    }

    /// What a page of history lines shows beside each of `ids`, in **one** read (three
    /// index probes by the page's ids): which the payer signed, which were reversed since
    /// (and by what), and who entered them (`transaction_authors`). Each read is a round
    /// trip, and on SQLite a thread hand-off per statement: the dashboard and the history
    /// read these together.
    pub async fn line_marks(&self, ids: &[TxId]) -> StoreResult<LineMarks> {
        let mut marks = LineMarks::default();
        if ids.is_empty() {
            return Ok(marks);
        }
        let kind = self.kind();
        let sql = format!(
            "SELECT CAST(0 AS BIGINT) AS mark, tx_id AS tx, CAST(NULL AS BIGINT) AS other, \
                    CAST(NULL AS TEXT) AS text FROM payment_signatures WHERE {} \
             UNION ALL SELECT CAST(1 AS BIGINT), reverses, id, CAST(NULL AS TEXT) \
                    FROM transactions WHERE {} \
             UNION ALL SELECT CAST(2 AS BIGINT), tx_id, member_id, author \
                    FROM transaction_authors WHERE {}",
            super::rows::in_id_list(kind, "tx_id", 1),
            super::rows::in_id_list(kind, "reverses", 1),
            super::rows::in_id_list(kind, "tx_id", 1),
        );
        let list = super::rows::id_list(ids.iter().map(|t| t.0));
        let rows: Vec<(i64, i64, Option<i64>, Option<String>)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(&list).fetch_all(pool).await?
        });
        for (mark, tx, other, text) in rows {
            let tx = TxId(super::rows::unsigned(tx)?);
            match (mark, other, text) {
                (0, _, _) => {
                    marks.signed.insert(tx);
                }
                (1, Some(by), _) => {
                    marks.reversed.insert(tx, TxId(super::rows::unsigned(by)?));
                }
                (2, Some(member_id), Some(author)) => {
                    marks
                        .authors
                        .insert(tx, super::authors::Author::new(member_id, &author));
                }
                other => {
                    return Err(StoreError::Corrupt(format!("line mark {other:?}")));
                }
            }
        }
        Ok(marks)
    }

    /// Those of `ids` that were reversed, each with its reversal (for the history's marks).
    pub async fn reversed_among(
        &self,
        ids: &[TxId],
    ) -> StoreResult<std::collections::HashMap<TxId, TxId>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT reverses, id FROM transactions WHERE {}",
            super::rows::in_id_list(self.kind(), "reverses", 1)
        );
        let list = super::rows::id_list(ids.iter().map(|t| t.0));
        let rows: Vec<(i64, i64)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(&list).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(reversed, by)| {
                Ok((
                    TxId(super::rows::unsigned(reversed)?),
                    TxId(super::rows::unsigned(by)?),
                ))
            })
            .collect()
    }

    /// The transactions with these ids that exist, by id.
    pub(crate) async fn transactions(&self, ids: &[TxId]) -> StoreResult<Vec<Transaction>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let kind = self.kind();
        let list = id_list(ids.iter().map(|t| t.0));
        let tx_sql = format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE {} ORDER BY id",
            in_id_list(kind, "id", 1)
        );
        let postings_sql = format!(
            "SELECT tx_id, account_id, amount, leg FROM postings WHERE {} ORDER BY tx_id, n",
            in_id_list(kind, "tx_id", 1)
        );
        let (rows, postings): (Vec<TransactionRow>, Vec<PostingRow>) = crate::dispatch!(self.backend(), pool => {
            let rows = sqlx::query_as(&tx_sql).bind(&list).fetch_all(pool).await?;
            let postings = sqlx::query_as(&postings_sql).bind(&list).fetch_all(pool).await?;
            (rows, postings)
        });
        let mut postings = postings.into_iter().peekable();
        let mut transactions = Vec::with_capacity(rows.len());
        for row in rows {
            let mut own = Vec::new();
            while let Some(p) = postings.next_if(|p| p.0 <= row.0) {
                if p.0 == row.0 {
                    own.push(p);
                }
            }
            transactions.push(transaction_from_rows(row, own)?);
        }
        Ok(transactions)
    }

    /// The transactions with these ids, in the order given: one read of the headers and one
    /// of their postings. The ids come from postings, so one without its transaction is
    /// corruption.
    pub(crate) async fn transactions_by_ids(&self, ids: &[TxId]) -> StoreResult<Vec<Transaction>> {
        let mut by_id: std::collections::HashMap<TxId, Transaction> = self
            .transactions(ids)
            .await?
            .into_iter()
            .map(|tx| (tx.id(), tx))
            .collect();
        ids.iter()
            .map(|id| {
                by_id.remove(id).ok_or_else(|| {
                    StoreError::Corrupt(format!("postings without their transaction {id}"))
                })
            })
            .collect()
    }

    /// A page of `account`'s history, newest first (by date, then by transaction id),
    /// strictly older than the transaction `before` (keyset pagination on the `postings
    /// (account_id, time, tx_id)` index: no OFFSET, every page costs the same). A `before`
    /// that names no transaction gives an empty page.
    pub async fn history(
        &self,
        account: AccountId,
        before: Option<TxId>,
        page_size: usize,
    ) -> StoreResult<HistoryPage> {
        if page_size == 0 || page_size > HISTORY_PAGE_SIZE_MAX {
            return Err(StoreError::Invalid(format!(
                "the page size must be between 1 and {HISTORY_PAGE_SIZE_MAX}"
            )));
        }
        let lines = self.net_lines(account, before, page_size + 1).await?;
        let more = lines.len() > page_size;
        let lines = &lines[..lines.len().min(page_size)];
        let ids: Vec<TxId> = lines
            .iter()
            .map(|(id, _)| unsigned(*id).map(TxId))
            .collect::<StoreResult<_>>()?;
        let entries: Vec<HistoryEntry> = self
            .transactions_by_ids(&ids)
            .await?
            .into_iter()
            .zip(lines)
            .map(|(transaction, (_, net))| HistoryEntry {
                transaction,
                net: Amount::from_minor(*net),
            })
            .collect();
        let next_before = if more {
            entries.last().map(|e| e.transaction.id())
        } else {
            None
        };
        Ok(HistoryPage {
            entries,
            next_before,
        })
    }

    /// The net effect of each of the account's last `count` transactions, newest first
    /// (what a balance chart needs: no transaction is loaded). At most
    /// [`HISTORY_PAGE_SIZE_MAX`].
    pub async fn balance_moves(
        &self,
        account: AccountId,
        count: usize,
    ) -> StoreResult<Vec<Amount>> {
        if count == 0 || count > HISTORY_PAGE_SIZE_MAX {
            return Err(StoreError::Invalid(format!(
                "the count must be between 1 and {HISTORY_PAGE_SIZE_MAX}"
            )));
        }
        let lines = self.net_lines(account, None, count).await?;
        Ok(lines
            .into_iter()
            .map(|(_, net)| Amount::from_minor(net))
            .collect())
    }

    /// `(transaction id, net amount)` of the account's transactions older than the
    /// transaction `before` (by date, then by id), newest first, at most `count`: one keyset
    /// range of the `postings (account_id, time, tx_id)` index. A `before` that names no
    /// transaction gives no line (its time is NULL, and so is the comparison).
    async fn net_lines(
        &self,
        account: AccountId,
        before: Option<TxId>,
        count: usize,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let (before, newest) = match before {
            Some(t) => (db_id(t.0), None),
            None => (i64::MAX, Some(super::rows::time_last())),
        };
        macro_rules! lines_from {
            () => {
                "FROM postings WHERE account_id = $1 AND (time, tx_id) < \
                 (COALESCE((SELECT time FROM transactions WHERE id = $2), $3), $2) \
                 GROUP BY time, tx_id ORDER BY time DESC, tx_id DESC LIMIT $4"
            };
        }
        Ok(match self.backend() {
            super::Backend::Postgres(pool) => {
                sqlx::query_as(concat!(
                    "SELECT tx_id, CAST(SUM(amount) AS BIGINT) ",
                    lines_from!()
                ))
                .bind(db_id(account.0))
                .bind(before)
                .bind(newest)
                .bind(count as i64)
                .fetch_all(pool)
                .await?
            }
            // One row, a JSON array of the lines: sqlx's SQLite driver hands each result row
            // over from its worker thread separately, and the dashboard's chart reads 200.
            // The array's order is not guaranteed, so each line carries its time (text in
            // the index's own order) and is sorted here: a third cheaper than an ORDER BY
            // inside the aggregate, which sorts through a temporary B-tree.
            super::Backend::Sqlite(pool) => {
                let json: String = sqlx::query_scalar(concat!(
                    "SELECT json_group_array(json_array(tx_id, net, time)) \
                     FROM (SELECT time, tx_id, CAST(SUM(amount) AS BIGINT) AS net ",
                    lines_from!(),
                    ")"
                ))
                .bind(db_id(account.0))
                .bind(before)
                .bind(newest)
                .bind(count as i64)
                .fetch_one(pool)
                .await?;
                let mut lines: Vec<(i64, i64, String)> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("history lines as JSON: {e}")))?;
                lines.sort_unstable_by(|a, b| (&b.2, b.0).cmp(&(&a.2, a.0)));
                lines.into_iter().map(|(id, net, _)| (id, net)).collect()
            }
        })
    }

    /// Releases open holds whose expiry is at or before `now`, oldest first, at most
    /// [`EXPIRIES_PER_CALL_MAX`] per call, through the write path (key `expire-hold-ID`).
    pub async fn expire_due_holds(&self, now: DateTime<Utc>) -> StoreResult<Vec<HoldId>> {
        let now = micros(now);
        let due: Vec<i64> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_scalar(
                "SELECT id FROM holds WHERE status = 'open' AND expires_at <= $1 \
                 ORDER BY expires_at, id LIMIT $2",
            )
            .bind(now)
            .bind(EXPIRIES_PER_CALL_MAX as i64)
            .fetch_all(pool)
            .await?
        });
        let mut expired = Vec::with_capacity(due.len());
        for chunk in due.chunks(super::SUBMISSIONS_PER_CALL_MAX) {
            let mut submissions = Vec::with_capacity(chunk.len());
            for id in chunk {
                let hold = HoldId(unsigned(*id)?);
                let key = IdempotencyKey::new(format!("expire-hold-{hold}")).expect("a valid key");
                submissions.push(Submission::new(key, Operation::ExpireHold { hold }).at(now));
            }
            for answer in self.submit_batch(submissions).await? {
                if let Ok(ledger::Outcome::HoldExpired { hold }) = answer? {
                    expired.push(hold);
                }
            }
        }
        Ok(expired)
    }

    /// Checks the ledger's invariants over the whole database: balances sum to zero, each
    /// balance is the sum of its postings, each transaction balances, pending is the sum of
    /// open holds, no bounded account is beyond its limits unless a manager lowered them,
    /// closed accounts are empty. For tests and `troc verify`.
    pub async fn check_invariants(&self) -> StoreResult<Result<(), InvariantViolation>> {
        crate::dispatch!(self.backend(), pool => {
            let sum: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM accounts",
            )
            .fetch_one(pool)
            .await?;
            if sum != 0 {
                return Ok(Err(InvariantViolation::BalancesDoNotSumToZero(sum.into())));
            }
            let row: Option<(i64, i64, i64)> = sqlx::query_as(
                "SELECT a.id, a.balance, CAST(COALESCE(p.total, 0) AS BIGINT) FROM accounts a \
                 LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM postings \
                 GROUP BY account_id) p ON p.account_id = a.id \
                 WHERE a.balance <> COALESCE(p.total, 0) ORDER BY a.id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some((id, balance, postings)) = row {
                return Ok(Err(InvariantViolation::BalanceNotSumOfPostings {
                    account: account_id(id)?,
                    balance: Amount::from_minor(balance),
                    postings: postings.into(),
                }));
            }
            let row: Option<i64> = sqlx::query_scalar(
                "SELECT t.id FROM transactions t LEFT JOIN (SELECT tx_id, SUM(amount) AS total, \
                 COUNT(*) AS found FROM postings GROUP BY tx_id) p ON p.tx_id = t.id \
                 WHERE p.total IS NULL OR p.total <> 0 OR p.found <> t.posting_count \
                 ORDER BY t.id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            let orphan: Option<i64> = sqlx::query_scalar(
                "SELECT p.tx_id FROM postings p WHERE NOT EXISTS \
                 (SELECT 1 FROM transactions t WHERE t.id = p.tx_id) LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some(id) = row.or(orphan) {
                return Ok(Err(InvariantViolation::UnbalancedTransaction(TxId(unsigned(id)?))));
            }
            let row: Option<(i64, i64, i64)> = sqlx::query_as(
                "SELECT a.id, a.pending, CAST(COALESCE(h.total, 0) AS BIGINT) FROM accounts a \
                 LEFT JOIN (SELECT payer, SUM(reserved) AS total FROM holds \
                 WHERE status = 'open' GROUP BY payer) h ON h.payer = a.id \
                 WHERE a.pending <> COALESCE(h.total, 0) ORDER BY a.id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some((id, pending, holds)) = row {
                return Ok(Err(InvariantViolation::PendingNotSumOfHolds {
                    account: account_id(id)?,
                    pending: Amount::from_minor(pending),
                    holds: holds.into(),
                }));
            }
            let row: Option<i64> = sqlx::query_scalar(
                "SELECT a.id FROM accounts a WHERE a.kind NOT IN ('losses', 'migration') \
                 AND a.balance + a.credit_limit - a.pending < 0 AND NOT EXISTS \
                 (SELECT 1 FROM limit_changes l WHERE l.account_id = a.id \
                 AND l.credit_limit_after < l.credit_limit_before) ORDER BY a.id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some(id) = row {
                return Ok(Err(InvariantViolation::BelowCreditLimit { account: account_id(id)? }));
            }
            let row: Option<i64> = sqlx::query_scalar(
                "SELECT a.id FROM accounts a WHERE a.max_balance IS NOT NULL \
                 AND a.balance > a.max_balance AND NOT EXISTS \
                 (SELECT 1 FROM limit_changes l WHERE l.account_id = a.id AND l.above_new_max) \
                 ORDER BY a.id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some(id) = row {
                return Ok(Err(InvariantViolation::AboveUpperLimit { account: account_id(id)? }));
            }
            let row: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM accounts WHERE status = 'closed' \
                 AND (balance <> 0 OR pending <> 0) ORDER BY id LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if let Some(id) = row {
                return Ok(Err(InvariantViolation::ClosedAccountNotEmpty(account_id(id)?)));
            }
            Ok(Ok(()))
        })
    }
}

/// What a page's lines show beside them ([`Store::line_marks`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineMarks {
    /// Signed by their payer (docs/audit.md).
    pub signed: std::collections::HashSet<TxId>,
    /// Reversed since, by the reversal's id.
    pub reversed: std::collections::HashMap<TxId, TxId>,
    /// Who of a member company entered them.
    pub authors: std::collections::HashMap<TxId, super::authors::Author>,
}
