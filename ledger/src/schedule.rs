//! The network's rules over time: versions of the [`Policy`], each in force from its
//! effective date until the next one's.
//!
//! **The rule.** The version in force at time `t` is the latest version whose effective date
//! is at or before `t` (the boundary instant belongs to the new version). The first version
//! has no date: it is in force from the network's beginning, so every time has a version.
//! A new version is never retroactive: its effective date is not before the time it is
//! scheduled (`now`), nor before the effective date of any earlier version, so versions take
//! effect in the order they were made and an operation's fees never change after the fact.
//! Scheduling again at the same date supersedes the earlier version before it takes effect
//! (the later version wins a tie): that is how a scheduled change is cancelled or corrected.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Policy;

/// Most versions a [`PolicySchedule`] holds (a bound on its search; a network changes its
/// fees a few times a year).
pub const POLICY_VERSIONS_MAX: usize = 10_000;

/// One version of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// Increases with every version (the order they were made in).
    pub version: u64,
    /// From when the version applies; `None` for the first version (from the beginning).
    pub effective_from: Option<DateTime<Utc>>,
    pub policy: Policy,
}

impl PolicyVersion {
    /// Whether the version applies to an operation at `time`, ignoring later versions.
    pub fn started_by(&self, time: DateTime<Utc>) -> bool {
        self.effective_from.is_none_or(|from| from <= time)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ScheduleError {
    #[error("the effective date {effective_from} is in the past (now is {now})")]
    EffectiveInPast {
        effective_from: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error(
        "the effective date {effective_from} is before the already scheduled change of {latest}"
    )]
    BeforeScheduledChange {
        effective_from: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
    #[error(
        "policy versions must grow in number and effective date, and only the first may be undated"
    )]
    OutOfOrder,
    #[error("a schedule holds at most {max} versions")]
    TooManyVersions { max: usize },
    #[error("a schedule needs at least one version")]
    Empty,
}

impl ScheduleError {
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::EffectiveInPast { .. } => "effective_in_past",
            ScheduleError::BeforeScheduledChange { .. } => "before_scheduled_change",
            ScheduleError::OutOfOrder => "out_of_order",
            ScheduleError::TooManyVersions { .. } => "too_many_versions",
            ScheduleError::Empty => "empty",
        }
    }
}

/// Versions sorted by number, with effective dates that never go back. A store may build one
/// over just the versions that matter for a period (the one in force at its start and those
/// that start within it): [`PolicySchedule::in_force_at`] is right for every time in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySchedule {
    versions: Vec<PolicyVersion>,
}

impl PolicySchedule {
    /// Checks the order: version numbers increase, effective dates never decrease, and only
    /// the first version may be undated.
    pub fn new(versions: Vec<PolicyVersion>) -> Result<PolicySchedule, ScheduleError> {
        if versions.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if versions.len() > POLICY_VERSIONS_MAX {
            return Err(ScheduleError::TooManyVersions {
                max: POLICY_VERSIONS_MAX,
            });
        }
        for pair in versions.windows(2) {
            let (earlier, later) = (&pair[0], &pair[1]);
            let dates_ok = match (earlier.effective_from, later.effective_from) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(a), Some(b)) => a <= b,
            };
            if earlier.version >= later.version || !dates_ok {
                return Err(ScheduleError::OutOfOrder);
            }
        }
        Ok(PolicySchedule { versions })
    }

    /// A schedule of one version in force from the beginning.
    pub fn constant(policy: Policy) -> PolicySchedule {
        PolicySchedule {
            versions: vec![PolicyVersion {
                version: 1,
                effective_from: None,
                policy,
            }],
        }
    }

    /// The version in force at `time`: the latest that started at or before it. `None` only
    /// for a partial schedule whose first version starts after `time`.
    pub fn in_force_at(&self, time: DateTime<Utc>) -> Option<&PolicyVersion> {
        // Effective dates are sorted, so the versions started by `time` are a prefix.
        let started = self.versions.partition_point(|v| v.started_by(time));
        started.checked_sub(1).map(|i| &self.versions[i])
    }

    /// The versions that start after `time` and will be in force (not superseded by a later
    /// version with the same date), earliest first: the announced changes.
    pub fn upcoming(&self, time: DateTime<Utc>) -> Vec<&PolicyVersion> {
        let started = self.versions.partition_point(|v| v.started_by(time));
        let later = &self.versions[started..];
        later
            .iter()
            .enumerate()
            .filter(|(i, v)| {
                later
                    .get(i + 1)
                    .is_none_or(|next| next.effective_from != v.effective_from)
            })
            .map(|(_, v)| v)
            .collect()
    }

    /// Whether a version was replaced before it ever took effect (a later version has the
    /// same effective date).
    pub fn is_superseded(&self, version: u64) -> bool {
        let Some(i) = self.versions.iter().position(|v| v.version == version) else {
            return false;
        };
        self.versions
            .get(i + 1)
            .is_some_and(|next| next.effective_from == self.versions[i].effective_from)
    }

    /// Checks that a new version may take effect at `effective_from` when scheduled at
    /// `now`: not in the past, not before an already scheduled change.
    pub fn check_new(
        &self,
        effective_from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        if effective_from < now {
            return Err(ScheduleError::EffectiveInPast {
                effective_from,
                now,
            });
        }
        if let Some(latest) = self.last().effective_from {
            if effective_from < latest {
                return Err(ScheduleError::BeforeScheduledChange {
                    effective_from,
                    latest,
                });
            }
        }
        if self.versions.len() >= POLICY_VERSIONS_MAX {
            return Err(ScheduleError::TooManyVersions {
                max: POLICY_VERSIONS_MAX,
            });
        }
        Ok(())
    }

    pub fn versions(&self) -> &[PolicyVersion] {
        &self.versions
    }

    pub fn last(&self) -> &PolicyVersion {
        self.versions.last().expect("a schedule is never empty")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::{Amount, FeePolicy, FundPayer};

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap()
    }

    fn version(version: u64, from: Option<DateTime<Utc>>, bp: u32) -> PolicyVersion {
        PolicyVersion {
            version,
            effective_from: from,
            policy: Policy {
                fees: FeePolicy::new(bp, Amount::ZERO, 0, FundPayer::Seller).unwrap(),
                ..Policy::default()
            },
        }
    }

    fn bp_at(schedule: &PolicySchedule, time: DateTime<Utc>) -> Option<u32> {
        schedule
            .in_force_at(time)
            .map(|v| v.policy.fees.commission_bp())
    }

    #[test]
    fn the_version_in_force_changes_exactly_at_its_effective_date() {
        let schedule = PolicySchedule::new(vec![
            version(1, None, 100),
            version(2, Some(at(10)), 200),
            version(3, Some(at(20)), 300),
        ])
        .unwrap();
        assert_eq!(bp_at(&schedule, at(1)), Some(100));
        assert_eq!(
            bp_at(&schedule, at(10) - Duration::microseconds(1)),
            Some(100)
        );
        assert_eq!(bp_at(&schedule, at(10)), Some(200));
        assert_eq!(bp_at(&schedule, at(19)), Some(200));
        assert_eq!(bp_at(&schedule, at(20)), Some(300));
        assert_eq!(bp_at(&schedule, at(28)), Some(300));
        let upcoming: Vec<u64> = schedule.upcoming(at(5)).iter().map(|v| v.version).collect();
        assert_eq!(upcoming, [2, 3]);
        assert!(schedule.upcoming(at(20)).is_empty());
    }

    #[test]
    fn a_later_version_at_the_same_date_supersedes_the_earlier_one() {
        let schedule = PolicySchedule::new(vec![
            version(1, None, 100),
            version(2, Some(at(10)), 200),
            version(3, Some(at(10)), 100),
        ])
        .unwrap();
        assert_eq!(bp_at(&schedule, at(10)), Some(100));
        assert!(schedule.is_superseded(2));
        assert!(!schedule.is_superseded(3));
        let upcoming: Vec<u64> = schedule.upcoming(at(5)).iter().map(|v| v.version).collect();
        assert_eq!(upcoming, [3]);
    }

    #[test]
    fn a_partial_schedule_answers_for_times_it_covers() {
        let schedule = PolicySchedule::new(vec![version(4, Some(at(10)), 400)]).unwrap();
        assert_eq!(bp_at(&schedule, at(9)), None);
        assert_eq!(bp_at(&schedule, at(10)), Some(400));
    }

    #[test]
    fn new_versions_are_never_retroactive() {
        let schedule =
            PolicySchedule::new(vec![version(1, None, 100), version(2, Some(at(10)), 200)])
                .unwrap();
        let now = at(5);
        let first_only = PolicySchedule::new(vec![version(1, None, 100)]).unwrap();
        assert_eq!(first_only.check_new(now, now), Ok(()));
        assert_eq!(
            first_only.check_new(now - Duration::microseconds(1), now),
            Err(ScheduleError::EffectiveInPast {
                effective_from: now - Duration::microseconds(1),
                now
            })
        );
        assert_eq!(
            schedule.check_new(at(9), now),
            Err(ScheduleError::BeforeScheduledChange {
                effective_from: at(9),
                latest: at(10)
            })
        );
        assert_eq!(schedule.check_new(at(10), now), Ok(()));
    }

    #[test]
    fn out_of_order_versions_are_refused() {
        assert_eq!(PolicySchedule::new(vec![]), Err(ScheduleError::Empty));
        for versions in [
            vec![version(1, None, 1), version(2, None, 2)],
            vec![version(2, None, 1), version(1, Some(at(2)), 2)],
            vec![version(1, Some(at(3)), 1), version(2, Some(at(2)), 2)],
        ] {
            assert_eq!(
                PolicySchedule::new(versions),
                Err(ScheduleError::OutOfOrder)
            );
        }
    }
}
