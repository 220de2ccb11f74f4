//! The fee policy over time: what is in force, what is announced, the history, and scheduling
//! a change (effective at a date that is never in the past; see `ledger::PolicySchedule`).

use chrono::{DateTime, Utc};
use ledger::{FeePolicy, Policy, PolicySchedule};

use super::{require, Access, NetworkError, NetworkResult, Reason};
use crate::actor::Actor;
use crate::store::{Effective, PolicyRecord, Store};

/// Versions a history lists at most, newest first.
pub const FEE_HISTORY_LEN_MAX: usize = 200;
/// The action-log code of a fee change.
pub const ACTION_FEES_SCHEDULE: &str = "fees.schedule";

/// Where a version stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionStatus {
    /// Was in force, and a later version replaced it.
    Past,
    InForce,
    /// Announced: takes effect at its date.
    Upcoming,
    /// Replaced by a later version with the same date before it ever took effect.
    Superseded,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Past => "past",
            VersionStatus::InForce => "in_force",
            VersionStatus::Upcoming => "upcoming",
            VersionStatus::Superseded => "superseded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeVersion {
    pub record: PolicyRecord,
    pub status: VersionStatus,
}

/// The rules members see: the version in force and the announced changes, earliest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRules {
    pub in_force: FeeVersion,
    pub upcoming: Vec<FeeVersion>,
}

/// A change a manager schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeChange {
    fees: FeePolicy,
    effective: Effective,
    reason: Reason,
}

impl FeeChange {
    /// `fees` is already valid (`FeePolicy::new` checks rates and minimum); the date is
    /// checked when the change is recorded, against the store's clock.
    pub fn new(fees: FeePolicy, effective: Effective, reason: Reason) -> FeeChange {
        FeeChange {
            fees,
            effective,
            reason,
        }
    }

    pub fn fees(&self) -> FeePolicy {
        self.fees
    }
    pub fn effective(&self) -> Effective {
        self.effective
    }
    pub fn reason(&self) -> &Reason {
        &self.reason
    }
}

/// The fee policy as the form gives it, validated: rates in basis points, minimum in minor
/// units.
pub fn fee_policy(
    commission_bp: u32,
    commission_min: ledger::Amount,
    fund_bp: u32,
    fund_payer: ledger::FundPayer,
) -> Result<FeePolicy, super::InvalidInput> {
    FeePolicy::new(commission_bp, commission_min, fund_bp, fund_payer).map_err(|e| match e {
        ledger::FeePolicyError::RateTooHigh { max } => super::InvalidInput::RateTooHigh { max },
        ledger::FeePolicyError::NegativeMinimum => super::InvalidInput::NegativeMinimum,
    })
}

fn status_of(
    schedule: &PolicySchedule,
    record: &PolicyRecord,
    now: DateTime<Utc>,
) -> VersionStatus {
    let version = record.version.version;
    if schedule.is_superseded(version) {
        VersionStatus::Superseded
    } else if schedule
        .in_force_at(now)
        .is_some_and(|v| v.version == version)
    {
        VersionStatus::InForce
    } else if record.version.effective_from.is_some_and(|from| from > now) {
        VersionStatus::Upcoming
    } else {
        VersionStatus::Past
    }
}

async fn versions(store: &Store, now: DateTime<Utc>) -> NetworkResult<Vec<FeeVersion>> {
    let records = store.policy_records().await?;
    let schedule = PolicySchedule::new(records.iter().map(|r| r.version).collect())
        .map_err(|e| crate::store::StoreError::Corrupt(format!("policies: {e}")))?;
    Ok(records
        .into_iter()
        .map(|record| FeeVersion {
            status: status_of(&schedule, &record, now),
            record,
        })
        .collect())
}

/// The rules in force at `now` and the announced changes: public (the `/rules` page).
pub async fn rules(store: &Store, now: DateTime<Utc>) -> NetworkResult<FeeRules> {
    let versions = versions(store, now).await?;
    let mut in_force = None;
    let mut upcoming = Vec::new();
    for version in versions {
        match version.status {
            VersionStatus::InForce => in_force = Some(version),
            VersionStatus::Upcoming => upcoming.push(version),
            VersionStatus::Past | VersionStatus::Superseded => {}
        }
    }
    let in_force = in_force.ok_or(crate::store::StoreError::NoNetwork)?;
    Ok(FeeRules { in_force, upcoming })
}

/// Every version, newest first (at most [`FEE_HISTORY_LEN_MAX`]), with authors and reasons:
/// managers and accountants.
pub async fn history(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
) -> NetworkResult<Vec<FeeVersion>> {
    require(actor, Access::Read)?;
    let mut versions = versions(store, now).await?;
    versions.reverse();
    versions.truncate(FEE_HISTORY_LEN_MAX);
    Ok(versions)
}

/// Schedules `change` (managers only), recording the action (`fees.schedule`, with the version
/// it replaces and the new one) in the same database transaction. The per-transaction
/// maximum is carried over from the latest version.
pub async fn schedule_change(
    store: &Store,
    actor: &Actor,
    change: &FeeChange,
) -> NetworkResult<PolicyRecord> {
    require(actor, Access::Act)?;
    let latest = store.policy_schedule().await?;
    let policy = Policy {
        fees: change.fees,
        amount_per_tx_max: latest.last().policy.amount_per_tx_max,
    };
    let note = actor.note(ACTION_FEES_SCHEDULE, change.reason.as_str())?;
    store
        .schedule_policy(policy, change.effective, Some(note))
        .await?
        .map_err(NetworkError::Schedule)
}
