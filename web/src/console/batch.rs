//! Creating members, one or many, all or nothing (docs/console.md, "All or nothing").
//!
//! A member is a ledger account (the store's), a `members` row (the web front's), its
//! initial limits and opening balance (ledger operations, through the writer) and an owner
//! invitation. No single database transaction can hold all of them, since the writer owns
//! ledger writes, so a creation is written in steps, each atomic, ordered so that a failure
//! leaves nothing visible and can be undone or finished:
//!
//! 1. the accounts, at zero with no credit (one store transaction): unused accounts are
//!    invisible and harmless;
//! 2. the batch row (`writing`, with its plan) and the member rows (one transaction);
//! 3. every line's limits and opening balance in ONE all-or-none ledger group
//!    (`Store::submit_all_or_none`): all committed with their action-log records, or none;
//! 4. if the ledger refused any of them: the member rows are deleted, the batch marked
//!    `cancelled` and the unused accounts closed (compensation; nothing else referenced
//!    them yet); if it accepted: the invitations, the `member.create` records and the
//!    batch's `done` mark (one transaction).
//!
//! If the process stops between 2 and 4, the batch stays `writing`: its members exist with
//! no credit and no invitation, and [`finish_batch`] completes it from its plan with the
//! same idempotency keys (a group that had committed is replayed, not applied twice).

use chrono::{DateTime, Utc};
use ledger::{AccountId, AccountStatus, Amount, IdempotencyKey, Operation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::members::{CreatedMember, Invitation};
use super::{Actor, Conflict, ConsoleError, ConsoleResult, Field, LineIssue, Problem};
use crate::dispatch;
use crate::people::{self, now_unix, Role};
use crate::store::action_log::insert_action;
use crate::store::{AllOrNone, Store, StoreError, Submission};

/// Where a creation comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchSource {
    #[default]
    Form,
    Import,
    Application,
    Api,
}

impl BatchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchSource::Form => "form",
            BatchSource::Import => "import",
            BatchSource::Application => "application",
            BatchSource::Api => "api",
        }
    }

    fn parse(text: &str) -> Option<BatchSource> {
        [
            BatchSource::Form,
            BatchSource::Import,
            BatchSource::Application,
            BatchSource::Api,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One member to write, checked: what the batch's plan keeps (amounts in minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Planned {
    /// The line of the imported file, if any.
    pub(crate) line: Option<u64>,
    pub(crate) name: String,
    pub(crate) siren: String,
    pub(crate) email: String,
    pub(crate) category_id: i64,
    pub(crate) category_code: String,
    pub(crate) credit_limit: i64,
    pub(crate) max_balance: Option<i64>,
    pub(crate) opening_balance: Option<i64>,
    pub(crate) declared_turnover: Option<i64>,
    pub(crate) address: String,
    pub(crate) city: String,
    pub(crate) postcode: String,
    pub(crate) sector: String,
    pub(crate) description: String,
    pub(crate) contact: String,
    /// The application this member comes from, if any.
    #[serde(default)]
    pub(crate) application_id: Option<i64>,
    #[serde(default)]
    pub(crate) approval_reason: Option<String>,
    /// Filled in as the batch is written.
    pub(crate) member_id: i64,
    pub(crate) account_id: u64,
}

/// The approval an application's creation carries: its status changes in step 2.
pub(crate) struct Approval {
    pub(crate) application_id: i64,
    pub(crate) reason: String,
}

/// Writes members (steps 1 to 4 above).
pub(crate) async fn write(
    store: &Store,
    actor: &Actor,
    source: BatchSource,
    mut lines: Vec<Planned>,
    approval: Option<Approval>,
) -> ConsoleResult<Vec<CreatedMember>> {
    let accounts = store.open_accounts(lines.len(), Amount::ZERO, None).await?;
    for (line, account) in lines.iter_mut().zip(&accounts) {
        line.account_id = account.id().0;
    }
    let batch_id = match insert_members(store, actor, source, &mut lines, approval).await {
        Ok(id) => id,
        Err(error) => {
            let ids: Vec<AccountId> = accounts.iter().map(|a| a.id()).collect();
            close_unused(store, actor, &ids, "creation failed").await;
            return Err(error);
        }
    };
    finish(store, actor, batch_id, source, &lines).await
}

/// Step 2: the batch row and the member rows, in one transaction.
async fn insert_members(
    store: &Store,
    actor: &Actor,
    source: BatchSource,
    lines: &mut [Planned],
    approval: Option<Approval>,
) -> ConsoleResult<i64> {
    let now = now_unix();
    let member_sql = "INSERT INTO members (account_id, name, siren, address, city, postcode, \
         sector, description, contact, hide_balance, in_directory, created_at, category_id, \
         declared_turnover, batch_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, TRUE, $10, $11, $12, $13) \
         RETURNING id";
    let result: Result<i64, ConsoleError> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin().await?;
            let batch_id: i64 = sqlx::query_scalar(
                "INSERT INTO member_batches (source, actor_user_id, actor, status, plan, lines, \
                 created_at) VALUES ($1, $2, $3, 'writing', '[]', $4, $5) RETURNING id",
            )
            .bind(source.as_str()).bind(actor.user_id()).bind(actor.email())
            .bind(lines.len() as i64).bind(now)
            .fetch_one(&mut *tx).await?;
            for line in lines.iter_mut() {
                line.member_id = sqlx::query_scalar(member_sql)
                    .bind(line.account_id as i64).bind(&line.name).bind(&line.siren)
                    .bind(&line.address).bind(&line.city).bind(&line.postcode)
                    .bind(&line.sector).bind(&line.description).bind(&line.contact)
                    .bind(now).bind(line.category_id).bind(line.declared_turnover)
                    .bind(batch_id)
                    .fetch_one(&mut *tx).await?;
            }
            let plan = serde_json::to_string(&*lines).expect("a plan serialises");
            sqlx::query("UPDATE member_batches SET plan = $1 WHERE id = $2")
                .bind(&plan).bind(batch_id).execute(&mut *tx).await?;
            if let Some(approval) = &approval {
                let done = sqlx::query(
                    "UPDATE applications SET status = 'approved', member_id = $1, \
                     decided_by = $2, decided_at = $3, decision_reason = $4 \
                     WHERE id = $5 AND status = 'pending'",
                )
                .bind(lines[0].member_id).bind(actor.user_id()).bind(now)
                .bind(&approval.reason).bind(approval.application_id)
                .execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(ConsoleError::Conflict(Conflict::AlreadyDecided));
                }
            }
            tx.commit().await?;
            Ok(batch_id)
        }.await
    });
    result.map_err(|error| match error {
        // Another creation took a SIREN between the check and the write.
        ConsoleError::Store(StoreError::Database(sqlx::Error::Database(db)))
            if db.is_unique_violation() =>
        {
            ConsoleError::invalid(Field::Siren, Problem::SirenTaken)
        }
        other => other,
    })
}

fn key(batch_id: i64, index: usize, part: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("console-batch-{batch_id}-{index}-{part}"))
        .expect("a batch key is short visible ASCII")
}

/// Step 3's operations: each line's limits, then its opening balance, noted.
fn ledger_ops(
    actor: &Actor,
    batch_id: i64,
    lines: &[Planned],
) -> ConsoleResult<(Vec<Submission>, Vec<usize>)> {
    let mut submissions = Vec::with_capacity(lines.len() * 2);
    let mut line_of = Vec::with_capacity(lines.len() * 2);
    for (index, line) in lines.iter().enumerate() {
        let account = AccountId(line.account_id);
        let reason = format!(
            "Limites initiales, catégorie {} (création n° {batch_id})",
            line.category_code
        );
        let op = Operation::SetLimits {
            account,
            credit_limit: Amount::from_minor(line.credit_limit),
            max_balance: line.max_balance.map(Amount::from_minor),
            reason: reason.clone(),
            actor: actor.email().to_owned(),
        };
        let note = actor
            .note("limits.set", &reason)?
            .member(line.member_id)
            .account(account.0);
        submissions.push(Submission::new(key(batch_id, index, "limits"), op).noted(note));
        line_of.push(index);
        if let Some(opening) = line.opening_balance {
            let memo = format!("Solde d'ouverture (import n° {batch_id})");
            let op = Operation::OpeningBalance {
                account,
                amount: Amount::from_minor(opening),
                memo: memo.clone(),
            };
            let note = actor
                .note("member.opening_balance", &memo)?
                .member(line.member_id)
                .account(account.0);
            submissions.push(Submission::new(key(batch_id, index, "opening"), op).noted(note));
            line_of.push(index);
        }
    }
    Ok((submissions, line_of))
}

/// Steps 3 and 4.
async fn finish(
    store: &Store,
    actor: &Actor,
    batch_id: i64,
    source: BatchSource,
    lines: &[Planned],
) -> ConsoleResult<Vec<CreatedMember>> {
    let (submissions, line_of) = ledger_ops(actor, batch_id, lines)?;
    match store.submit_all_or_none(submissions).await? {
        AllOrNone::Committed(_) => complete(store, actor, batch_id, source, lines).await,
        AllOrNone::Refused(refusals) => {
            cancel(store, batch_id).await?;
            let ids: Vec<AccountId> = lines.iter().map(|l| AccountId(l.account_id)).collect();
            close_unused(store, actor, &ids, "creation refused by the ledger").await;
            let issues: Vec<LineIssue> = refusals
                .into_iter()
                .map(|(index, rejection)| LineIssue {
                    line: lines[line_of[index]].line,
                    field: None,
                    problem: Problem::Rejected(rejection),
                })
                .collect();
            match issues.as_slice() {
                [one] if one.line.is_none() => match &one.problem {
                    Problem::Rejected(rejection) => Err(ConsoleError::Rejected(rejection.clone())),
                    _ => Err(ConsoleError::InvalidFile(issues)),
                },
                _ => Err(ConsoleError::InvalidFile(issues)),
            }
        }
    }
}

/// Step 4 when the ledger accepted: invitations, `member.create` records (and one
/// `members.import` record for an import), the batch marked `done`, in one transaction.
async fn complete(
    store: &Store,
    actor: &Actor,
    batch_id: i64,
    source: BatchSource,
    lines: &[Planned],
) -> ConsoleResult<Vec<CreatedMember>> {
    let now = now_unix();
    let mut created = Vec::with_capacity(lines.len());
    let mut notes = Vec::with_capacity(lines.len() + 1);
    for line in lines {
        let token = people::random_token();
        let after = json!({
            "name": line.name,
            "siren": line.siren,
            "email": line.email,
            "category": line.category_code,
            "credit_limit": line.credit_limit,
            "max_balance": line.max_balance,
            "opening_balance": line.opening_balance,
            "declared_turnover": line.declared_turnover,
            "batch": batch_id,
            "source": source.as_str(),
            "line": line.line,
        });
        notes.push(
            actor
                .note("member.create", "")?
                .member(line.member_id)
                .account(line.account_id)
                .states(serde_json::Value::Null, after),
        );
        if let Some(application) = line.application_id {
            notes.push(
                actor
                    .note(
                        "application.approve",
                        line.approval_reason.as_deref().unwrap_or(""),
                    )?
                    .member(line.member_id)
                    .states(
                        json!({ "application": application, "status": "pending" }),
                        json!({ "application": application, "status": "approved" }),
                    ),
            );
        }
        created.push(CreatedMember {
            member_id: line.member_id,
            account_id: AccountId(line.account_id),
            name: line.name.clone(),
            invitation: Invitation {
                email: line.email.clone(),
                token,
            },
        });
    }
    if source == BatchSource::Import {
        let members: Vec<i64> = lines.iter().map(|l| l.member_id).collect();
        notes.push(actor.note("members.import", "")?.states(
            serde_json::Value::Null,
            json!({ "batch": batch_id, "lines": lines.len(), "members": members }),
        ));
    }
    let time: DateTime<Utc> = Utc::now();
    let result: ConsoleResult<()> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE member_batches SET status = 'done', finished_at = $1 \
                 WHERE id = $2 AND status = 'writing'",
            )
            .bind(now).bind(batch_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(ConsoleError::Conflict(Conflict::BatchNotUnfinished));
            }
            for member in &created {
                sqlx::query(people::INSERT_INVITATION_SQL)
                    .bind(people::token_hash(&member.invitation.token))
                    .bind(&member.invitation.email).bind(Role::Owner.as_str())
                    .bind(member.member_id).bind(actor.user_id()).bind(now)
                    .bind(now + people::INVITATION_TTL_SECONDS)
                    .execute(&mut *tx).await?;
            }
            for note in notes {
                insert_action(conn_of!(tx), note, time).await?;
            }
            tx.commit().await?;
            Ok(())
        }.await
    });
    result?;
    Ok(created)
}

/// Step 4 when the ledger refused: the member rows go (nothing references them: no user,
/// no invitation, no action record yet), an approved application is pending again.
async fn cancel(store: &Store, batch_id: i64) -> ConsoleResult<()> {
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE applications SET status = 'pending', member_id = NULL, decided_by = NULL, \
             decided_at = NULL, decision_reason = '' \
             WHERE member_id IN (SELECT id FROM members WHERE batch_id = $1)",
        )
        .bind(batch_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM members WHERE batch_id = $1")
            .bind(batch_id).execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE member_batches SET status = 'cancelled', finished_at = $1 WHERE id = $2",
        )
        .bind(now).bind(batch_id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Closes accounts a failed creation opened (at zero, no credit, no member): they stay in
/// the ledger, as every account does, marked closed. Best effort: an account left open is
/// still harmless (nobody can reach it), so a failure here is only logged.
async fn close_unused(store: &Store, actor: &Actor, accounts: &[AccountId], why: &str) {
    let submissions: Vec<Submission> = accounts
        .iter()
        .map(|account| {
            let op = Operation::SetStatus {
                account: *account,
                status: AccountStatus::Closed,
                reason: format!("Compte inutilisé ({why})"),
                actor: actor.email().to_owned(),
            };
            let key =
                IdempotencyKey::new(format!("console-unused-{account}")).expect("a short key");
            Submission::new(key, op)
        })
        .collect();
    for chunk in submissions.chunks(crate::store::SUBMISSIONS_PER_CALL_MAX) {
        if let Err(error) = store.submit_batch(chunk.to_vec()).await {
            tracing::warn!(%error, "could not close the accounts of a failed member creation");
        }
    }
}

/// A creation that stopped before its end (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedBatch {
    pub id: i64,
    pub source: BatchSource,
    pub actor: String,
    pub lines: i64,
    pub created_at: i64,
}

/// Creations still `writing` (readers).
pub async fn unfinished_batches(
    store: &Store,
    actor: &Actor,
) -> ConsoleResult<Vec<UnfinishedBatch>> {
    actor.require_reader()?;
    let sql = "SELECT id, source, actor, lines, created_at FROM member_batches \
               WHERE status = 'writing' ORDER BY id LIMIT 100";
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(sql).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                let source: String = r.try_get(1)?;
                Ok(UnfinishedBatch {
                    id: r.try_get(0)?,
                    source: BatchSource::parse(&source).unwrap_or_default(),
                    actor: r.try_get(2)?,
                    lines: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(ConsoleError::from)
    })
}

/// Finishes a creation that stopped half-way (managers only): resubmits its ledger group
/// under the same keys, then creates the invitations (new links: the first ones were never
/// shown) and marks it done, or cancels it if the ledger refuses.
pub async fn finish_batch(
    store: &Store,
    actor: &Actor,
    batch_id: i64,
) -> ConsoleResult<Vec<CreatedMember>> {
    actor.require_manager()?;
    let row: Option<(String, String, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT status, source, plan FROM member_batches WHERE id = $1")
            .bind(batch_id).fetch_optional(pool).await?
    });
    let (status, source, plan) = row.ok_or(ConsoleError::NotFound)?;
    if status != "writing" {
        return Err(ConsoleError::Conflict(Conflict::BatchNotUnfinished));
    }
    let lines: Vec<Planned> = serde_json::from_str(&plan)
        .map_err(|e| StoreError::Corrupt(format!("member batch {batch_id}: {e}")))?;
    let source = BatchSource::parse(&source).unwrap_or_default();
    finish(store, actor, batch_id, source, &lines).await
}

/// Writes only steps 1 and 2 of a creation, as if the process had stopped there: for the
/// tests of [`finish_batch`].
#[doc(hidden)]
pub async fn write_interrupted_for_tests(
    store: &Store,
    actor: &Actor,
    new: super::NewMember,
) -> ConsoleResult<i64> {
    let context = super::members::CheckContext::load(store).await?;
    let mut issues = super::Issues::default();
    let planned = super::members::check_new(&new, &context, &mut issues, None);
    issues.finish()?;
    let mut lines = vec![planned];
    let accounts = store.open_accounts(1, Amount::ZERO, None).await?;
    lines[0].account_id = accounts[0].id().0;
    insert_members(store, actor, new.source, &mut lines, None).await
}
