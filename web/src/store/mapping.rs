//! The stored account mapping of the accountant exports (migration 0016, docs/exports.md,
//! "Configuration"): the network's mapping (the operator's accounts and the members'
//! default) and each member's override, in the validated JSON of `export::mapping`.
//!
//! [`Store::account_mapping`] is the one place that says which mapping an export uses when
//! none is given: the web downloads, the printable reports, the JSON API (through
//! `export::download`) and `troc export` without `--mapping` all read it. Nothing stored:
//! the built-in PCG 2025 defaults. Every change is recorded in the action log, with the
//! mapping before and after, in the same database transaction.

use chrono::Utc;
use ledger::AccountId;

use super::action_log::{insert_action, ActionNote, Conn};
use super::rows::db_id;
use super::{Store, StoreError, StoreResult};
use crate::export::mapping::{MemberMapping, OperatorMapping, MEMBER_OVERRIDES_MAX};
use crate::export::AccountMapping;

/// The action code of a change of the network's mapping in the action log.
pub const MAPPING_ACTION: &str = "accounting.mapping";
/// The action code of a change of one member's override in the action log.
pub const MEMBER_MAPPING_ACTION: &str = "accounting.member_mapping";

const NETWORK_SCOPE: &str = "network";

fn member_scope(account: AccountId) -> String {
    format!("member:{}", account.0)
}

fn member_of_scope(key: &str) -> Option<AccountId> {
    key.strip_prefix("member:")?.parse().ok().map(AccountId)
}

fn invalid(error: crate::export::ExportError) -> StoreError {
    StoreError::Invalid(error.to_string())
}

impl Store {
    /// The mapping exports use unless told otherwise: the stored network mapping and
    /// overrides, or the PCG 2025 defaults for whatever is not stored.
    pub async fn account_mapping(&self) -> StoreResult<AccountMapping> {
        let limit = i64::try_from(MEMBER_OVERRIDES_MAX + 1).unwrap_or(i64::MAX);
        let rows: Vec<(String, String)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(
                "SELECT scope_key, mapping FROM account_mappings ORDER BY scope_key LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut mapping = AccountMapping::default();
        let corrupt = |key: &str, e: crate::export::ExportError| {
            StoreError::Corrupt(format!("account mapping {key:?}: {e}"))
        };
        // The network row first (it sorts after `member:`), then the overrides.
        if let Some((key, text)) = rows.iter().find(|(key, _)| key == NETWORK_SCOPE) {
            mapping = AccountMapping::from_json(text).map_err(|e| corrupt(key, e))?;
        }
        for (key, text) in rows.iter().filter(|(key, _)| key != NETWORK_SCOPE) {
            let account = member_of_scope(key)
                .ok_or_else(|| StoreError::Corrupt(format!("account mapping key {key:?}")))?;
            let member = MemberMapping::from_json(text).map_err(|e| corrupt(key, e))?;
            mapping
                .set_member_override(account, member)
                .map_err(|e| corrupt(key, e))?;
        }
        Ok(mapping)
    }

    /// Whether the network's mapping was ever changed (otherwise: the defaults).
    pub async fn network_mapping_stored(&self) -> StoreResult<bool> {
        let found: Option<String> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_scalar("SELECT scope_key FROM account_mappings WHERE scope_key = $1")
                .bind(NETWORK_SCOPE)
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// Stores the network's mapping: the operator's accounts and the members' default.
    /// The overrides stay. Validated (the stored JSON must read back as it was given);
    /// recorded in the action log (`accounting.mapping`, before and after) in the same
    /// database transaction.
    pub async fn set_network_mapping(
        &self,
        operator: OperatorMapping,
        member_default: MemberMapping,
        note: ActionNote,
    ) -> StoreResult<()> {
        let mut mapping = AccountMapping::default();
        mapping.operator = operator;
        mapping.member_default = member_default;
        let text = mapping.to_json();
        if AccountMapping::from_json(&text).map_err(invalid)? != mapping {
            return Err(StoreError::Invalid("the mapping does not read back".into()));
        }
        let now = Utc::now();
        let updated_by = note.actor().to_owned();
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(self.begin_write_sql()).await?;
            let before: Option<String> =
                sqlx::query_scalar("SELECT mapping FROM account_mappings WHERE scope_key = $1")
                    .bind(NETWORK_SCOPE)
                    .fetch_optional(&mut *tx)
                    .await?;
            let before = match before {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("account mapping: {e}")))?,
                None => serde_json::to_value(AccountMapping::default().network_part())
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            };
            sqlx::query(
                "INSERT INTO account_mappings (scope_key, mapping, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (scope_key) DO UPDATE SET \
                 mapping = excluded.mapping, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(NETWORK_SCOPE)
            .bind(&text)
            .bind(now.timestamp())
            .bind(&updated_by)
            .execute(&mut *tx)
            .await?;
            let after = serde_json::to_value(&mapping)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            insert_action(Conn::from(&mut *tx), note.states(before, after), now).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores one member's override (`Some`) or removes it (`None`: the member uses the
    /// network's default again). `account` must be a member's ledger account. Recorded in
    /// the action log (`accounting.member_mapping`, before and after; `null` means "the
    /// network's default") in the same database transaction.
    pub async fn set_member_mapping(
        &self,
        account: AccountId,
        mapping: Option<MemberMapping>,
        note: ActionNote,
    ) -> StoreResult<()> {
        let text = match &mapping {
            Some(mapping) => {
                let text = mapping.to_json();
                if &MemberMapping::from_json(&text).map_err(invalid)? != mapping {
                    return Err(StoreError::Invalid("the mapping does not read back".into()));
                }
                Some(text)
            }
            None => None,
        };
        let key = member_scope(account);
        let now = Utc::now();
        let updated_by = note.actor().to_owned();
        let max = i64::try_from(MEMBER_OVERRIDES_MAX).unwrap_or(i64::MAX);
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(self.begin_write_sql()).await?;
            let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM accounts WHERE id = $1")
                .bind(db_id(account.0))
                .fetch_optional(&mut *tx)
                .await?;
            if kind.as_deref() != Some("member") {
                return Err(StoreError::Invalid(format!("no member account {account}")));
            }
            let before: Option<String> =
                sqlx::query_scalar("SELECT mapping FROM account_mappings WHERE scope_key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if before.is_none() && text.is_some() {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM account_mappings WHERE scope_key <> $1",
                )
                .bind(NETWORK_SCOPE)
                .fetch_one(&mut *tx)
                .await?;
                if count >= max {
                    return Err(StoreError::Invalid(format!(
                        "at most {MEMBER_OVERRIDES_MAX} members may have their own mapping"
                    )));
                }
            }
            let before = match &before {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| StoreError::Corrupt(format!("account mapping {key}: {e}")))?,
                None => serde_json::Value::Null,
            };
            match &text {
                Some(text) => {
                    sqlx::query(
                        "INSERT INTO account_mappings (scope_key, mapping, updated_at, updated_by) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (scope_key) DO UPDATE SET \
                         mapping = excluded.mapping, updated_at = excluded.updated_at, \
                         updated_by = excluded.updated_by",
                    )
                    .bind(&key)
                    .bind(text)
                    .bind(now.timestamp())
                    .bind(&updated_by)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM account_mappings WHERE scope_key = $1")
                        .bind(&key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let after = match &mapping {
                Some(mapping) => serde_json::to_value(mapping)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
                None => serde_json::Value::Null,
            };
            let note = note.account(account.0).states(before, after);
            insert_action(Conn::from(&mut *tx), note, now).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
