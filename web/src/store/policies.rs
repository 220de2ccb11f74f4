//! The fee policy's versions (migration 0013): each takes effect at its date, never before
//! the time it was made (see `ledger::PolicySchedule` for the rule). The write path reads
//! the versions that cover its batch and decides each operation with the version in force at
//! the operation's time.

use chrono::{DateTime, Utc};
use ledger::{Policy, PolicySchedule, PolicyVersion, ScheduleError, POLICY_VERSIONS_MAX};

use super::action_log::{insert_action, ActionNote, Conn};
use super::rows::{micros, unsigned};
use super::{Store, StoreError, StoreResult};

/// One stored version, with who made it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub version: PolicyVersion,
    pub created_at: DateTime<Utc>,
    /// The author's email (empty for versions made before migration 0013 or by tools).
    pub actor: String,
    pub reason: String,
}

/// When a new version takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effective {
    /// At the moment it is recorded (the store's clock).
    Now,
    /// At this instant, which must not be in the past nor before an already scheduled change.
    At(DateTime<Utc>),
}

/// (version, policy JSON, effective_from, created_at, actor, reason)
type PolicyRow = (
    i64,
    String,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    String,
    String,
);

const POLICY_COLUMNS: &str = "version, policy, effective_from, created_at, actor, reason";

fn record_from_row(row: PolicyRow) -> StoreResult<PolicyRecord> {
    let (version, policy, effective_from, created_at, actor, reason) = row;
    let policy: Policy = serde_json::from_str(&policy)
        .map_err(|e| StoreError::Corrupt(format!("policy version {version}: {e}")))?;
    Ok(PolicyRecord {
        version: PolicyVersion {
            version: unsigned(version)?,
            effective_from,
            policy,
        },
        created_at,
        actor,
        reason,
    })
}

/// The condition on `policies p` that [`COVERING_SQL`] and the write batch's context read
/// share: the version in force at `$1` and those starting up to `$2`.
macro_rules! covering_versions {
    () => {
        "p.version >= (SELECT COALESCE(MAX(version), 0) FROM policies \
         WHERE effective_from IS NULL OR effective_from <= $1) \
         AND (p.effective_from IS NULL OR p.effective_from <= $2)"
    };
}
pub(crate) use covering_versions;

/// The versions in force at some time in `[from, to]`: the one in force at `from` and those
/// starting up to `to`, oldest first. One statement.
pub(crate) const COVERING_SQL: &str = concat!(
    "SELECT p.version, p.policy, p.effective_from FROM policies p WHERE ",
    covering_versions!(),
    " ORDER BY p.version LIMIT $3"
);

/// Builds the schedule from the rows of [`COVERING_SQL`].
pub(crate) fn covering_schedule(
    rows: Vec<(i64, String, Option<DateTime<Utc>>)>,
) -> StoreResult<PolicySchedule> {
    if rows.is_empty() {
        return Err(StoreError::NoNetwork);
    }
    let versions = rows
        .into_iter()
        .map(|(version, policy, effective_from)| {
            let policy: Policy = serde_json::from_str(&policy)
                .map_err(|e| StoreError::Corrupt(format!("policy version {version}: {e}")))?;
            Ok(PolicyVersion {
                version: unsigned(version)?,
                effective_from,
                policy,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    PolicySchedule::new(versions).map_err(|e| StoreError::Corrupt(format!("policies: {e}")))
}

/// The policy a decision at `time` uses. A partial schedule always starts with the version in
/// force at its first time; should the data say otherwise, the earliest version read applies.
pub(crate) fn policy_for(schedule: &PolicySchedule, time: DateTime<Utc>) -> Policy {
    schedule
        .in_force_at(time)
        .unwrap_or_else(|| &schedule.versions()[0])
        .policy
}

impl Store {
    /// The policy in force now.
    pub async fn policy(&self) -> StoreResult<Policy> {
        self.policy_at(Utc::now()).await
    }

    /// The policy in force at `time` (what an operation dated `time` is decided with).
    pub async fn policy_at(&self, time: DateTime<Utc>) -> StoreResult<Policy> {
        let time = micros(time);
        let rows: Vec<(i64, String, Option<DateTime<Utc>>)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(COVERING_SQL)
                .bind(time)
                .bind(time)
                .bind(POLICY_VERSIONS_MAX as i64)
                .fetch_all(pool)
                .await?
        });
        Ok(policy_for(&covering_schedule(rows)?, time))
    }

    /// Every version, oldest first, with authors and reasons (at most
    /// [`POLICY_VERSIONS_MAX`]).
    pub async fn policy_records(&self) -> StoreResult<Vec<PolicyRecord>> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version LIMIT $1");
        let rows: Vec<PolicyRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
                .bind(POLICY_VERSIONS_MAX as i64)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(record_from_row).collect()
    }

    /// The whole schedule, oldest version first.
    pub async fn policy_schedule(&self) -> StoreResult<PolicySchedule> {
        let records = self.policy_records().await?;
        if records.is_empty() {
            return Err(StoreError::NoNetwork);
        }
        PolicySchedule::new(records.into_iter().map(|r| r.version).collect())
            .map_err(|e| StoreError::Corrupt(format!("policies: {e}")))
    }

    /// Puts a new policy version in force now, with no author (tools and tests; the
    /// manager's console uses [`Store::schedule_policy`], which records the action).
    pub async fn set_policy(&self, policy: Policy) -> StoreResult<()> {
        match self.schedule_policy(policy, Effective::Now, None).await? {
            Ok(_) => Ok(()),
            Err(error) => Err(StoreError::Invalid(error.to_string())),
        }
    }

    /// Records a new version taking effect at `effective`, and, with a note, its action-log
    /// record (state before: the version in force at that date; after: the new one) in the
    /// same database transaction. The inner error is the schedule's refusal (a date in the
    /// past or before an already scheduled change); nothing is written then.
    pub async fn schedule_policy(
        &self,
        policy: Policy,
        effective: Effective,
        note: Option<ActionNote>,
    ) -> StoreResult<Result<PolicyRecord, ScheduleError>> {
        let policy_json = serde_json::to_string(&policy).expect("a policy serialises");
        let begin = self.begin_write_sql();
        let lock = match self.kind() {
            // Two managers scheduling at once take turns on the network row.
            super::BackendKind::Postgres => " FOR UPDATE",
            super::BackendKind::Sqlite => "",
        };
        let lock_sql = format!("SELECT id FROM network WHERE id = 1{lock}");
        let last_sql =
            format!("SELECT {POLICY_COLUMNS} FROM policies ORDER BY version DESC LIMIT 1");
        let count_sql = "SELECT COUNT(*) FROM policies";
        let insert_sql =
            "INSERT INTO policies (policy, created_at, effective_from, actor, reason) \
                          VALUES ($1, $2, $3, $4, $5) RETURNING version";
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(begin).await?;
            let network: Option<i64> = sqlx::query_scalar(&lock_sql).fetch_optional(&mut *tx).await?;
            network.ok_or(StoreError::NoNetwork)?;
            // The clock is read under the lock, so versions are dated in the order they are made.
            let now = micros(Utc::now());
            let last: Option<PolicyRow> = sqlx::query_as(&last_sql).fetch_optional(&mut *tx).await?;
            let last = record_from_row(last.ok_or(StoreError::NoNetwork)?)?;
            let count: i64 = sqlx::query_scalar(count_sql).fetch_one(&mut *tx).await?;
            let effective_from = match effective {
                Effective::Now => now,
                Effective::At(time) => micros(time),
            };
            let schedule = PolicySchedule::new(vec![last.version])
                .map_err(|e| StoreError::Corrupt(format!("policies: {e}")))?;
            if let Err(refusal) = schedule.check_new(effective_from, now) {
                return Ok(Err(refusal));
            }
            if count >= POLICY_VERSIONS_MAX as i64 {
                return Ok(Err(ScheduleError::TooManyVersions { max: POLICY_VERSIONS_MAX }));
            }
            // The new date is at or after the last version's, so the last version is the one
            // it replaces from then on.
            let before = version_json(&last.version);
            let (actor, reason) = note
                .as_ref()
                .map(|n| (n.actor().to_owned(), n.reason().to_owned()))
                .unwrap_or_default();
            let version: i64 = sqlx::query_scalar(insert_sql)
                .bind(&policy_json)
                .bind(now)
                .bind(effective_from)
                .bind(&actor)
                .bind(&reason)
                .fetch_one(&mut *tx)
                .await?;
            let record = PolicyRecord {
                version: PolicyVersion {
                    version: unsigned(version)?,
                    effective_from: Some(effective_from),
                    policy,
                },
                created_at: now,
                actor,
                reason,
            };
            if let Some(note) = note {
                let after = version_json(&record.version);
                insert_action(AsConn::as_conn(&mut *tx), note.states(before, after), now).await?;
            }
            tx.commit().await?;
            Ok(Ok(record))
        })
    }
}

/// A version as the action log records it.
fn version_json(version: &PolicyVersion) -> serde_json::Value {
    serde_json::json!({
        "version": version.version,
        "effective_from": version.effective_from.map(|t| t.to_rfc3339()),
        "policy": serde_json::to_value(version.policy).expect("a policy serialises"),
    })
}

/// The action-log connection of either backend's transaction.
trait AsConn {
    fn as_conn(&mut self) -> Conn<'_>;
}

impl AsConn for sqlx::SqliteConnection {
    fn as_conn(&mut self) -> Conn<'_> {
        Conn::Sqlite(self)
    }
}

impl AsConn for sqlx::PgConnection {
    fn as_conn(&mut self) -> Conn<'_> {
        Conn::Postgres(self)
    }
}
