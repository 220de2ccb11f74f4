//! The network's return-to-zero rule: a member company whose balance is below zero should
//! bring it back to zero within the rule's number of days (the console's `negative_days`,
//! 365 by default: Sardex's 12 months). The rule is escalated in four steps of a negative
//! spell (the time since the balance last went below zero, the ledger's `negative_since`):
//! a reminder at a quarter, a half and three quarters of the rule, and a last one once the
//! spell is past it, when the member is on the console's list "Negative too long" and the
//! manager reviews the account.
//!
//! This module holds the rule's arithmetic ([`Rule`], [`Spell`], [`ageing`]), the read of
//! the accounts due a reminder ([`due`]) and the record of the reminders sent ([`told`],
//! migration 0044). It does *not* send anything (`http::notices::return_to_zero` does),
//! change a limit or write anything off: what happens past the rule is the manager's
//! decision, on the record.

use chrono::{DateTime, Duration, Utc};
use ledger::{Account, AccountStatus, Amount};
use sqlx::Row;

use crate::dispatch;
use crate::store::{Store, StoreError, StoreResult};

/// The steps of a spell: three reminders before the rule's end, one past it.
pub const STEPS: i64 = 4;
/// Accounts told of a step in one call of the housekeeping (the oldest spells first; the
/// others at the next call).
pub const NOTICES_PER_CALL: i64 = 500;

/// The network's rule: a negative balance comes back to zero within `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    days: i64,
}

impl Rule {
    /// The rule of `days` days, within the console's bounds
    /// (`console::settings::NEGATIVE_DAYS_RANGE`).
    pub fn new(days: i64) -> Option<Rule> {
        let (min, max) = crate::console::settings::NEGATIVE_DAYS_RANGE;
        (min..=max).contains(&days).then_some(Rule { days })
    }

    pub fn days(self) -> i64 {
        self.days
    }

    /// The full days of a spell at which `step` (1 to [`STEPS`]) is reached: a quarter, a
    /// half, three quarters of the rule rounded up, then more than the rule (the console's
    /// list takes members negative for *more than* the rule's days).
    pub fn step_days(self, step: i64) -> i64 {
        assert!((1..=STEPS).contains(&step), "step {step}");
        if step == STEPS {
            self.days + 1
        } else {
            (self.days * step + STEPS - 1) / STEPS
        }
    }

    /// The last step a spell of `days` full days has reached (0: none yet).
    pub fn step_of(self, days: i64) -> i64 {
        let step = (1..=STEPS)
            .rev()
            .find(|&s| days >= self.step_days(s))
            .unwrap_or(0);
        debug_assert!(step == 0 || days >= self.step_days(step));
        debug_assert!(step == STEPS || days < self.step_days(step + 1));
        step
    }

    /// The day a spell that began at `since` should have ended by.
    pub fn deadline(self, since: DateTime<Utc>) -> DateTime<Utc> {
        since + Duration::days(self.days)
    }
}

impl Default for Rule {
    /// The rule migration 0012 sets: 365 days.
    fn default() -> Rule {
        Rule { days: 365 }
    }
}

/// A negative spell of an account at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spell {
    /// When the balance last went below zero.
    pub since: DateTime<Utc>,
    /// Full days since.
    pub days: i64,
    /// The last step reached (0 to [`STEPS`]).
    pub step: i64,
    /// When it should end by, under the rule.
    pub deadline: DateTime<Utc>,
}

impl Spell {
    /// Whether the spell is still within the rule.
    pub fn past(&self) -> Past {
        Past::of_step(self.step)
    }
}

/// Whether a spell is within the rule (its first three steps) or past it (the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Past {
    Within,
    Beyond,
}

impl Past {
    pub fn of_step(step: i64) -> Past {
        if step >= STEPS {
            Past::Beyond
        } else {
            Past::Within
        }
    }
}

/// The spell of `account` at `now` under `rule`: none when its balance is not below zero.
pub fn spell(rule: Rule, account: &Account, now: DateTime<Utc>) -> Option<Spell> {
    if !account.balance().is_negative() {
        return None;
    }
    let since = account.negative_since()?;
    let days = (now - since).num_days().max(0);
    Some(Spell {
        since,
        days,
        step: rule.step_of(days),
        deadline: rule.deadline(since),
    })
}

/// One row of the ageing of the network's negative balances: the members (not closed) whose
/// spell has reached `step` and not the next, and what they owe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub step: i64,
    /// The first full day of the step.
    pub from_days: i64,
    /// The last full day of the step; none for the last step.
    pub to_days: Option<i64>,
    pub members: i64,
    /// Their balances below zero, as a positive amount.
    pub debt: Amount,
    /// Their share of all the members' debt, in basis points (0 when nobody owes).
    pub share_bp: i64,
}

/// The ageing of the negative balances of `accounts` (the members') at `now`: one bucket
/// per step, from "not reminded yet" (0) to "past the rule" ([`STEPS`]). Closed accounts
/// are left out.
pub fn ageing<'a>(
    rule: Rule,
    accounts: impl IntoIterator<Item = &'a Account>,
    now: DateTime<Utc>,
) -> Vec<Bucket> {
    let mut members = [0i64; STEPS as usize + 1];
    let mut debt = [0i128; STEPS as usize + 1];
    for account in accounts {
        if account.status() == AccountStatus::Closed {
            continue;
        }
        let Some(spell) = spell(rule, account, now) else {
            continue;
        };
        let step = usize::try_from(spell.step).expect("step in 0..=STEPS");
        members[step] += 1;
        debt[step] -= i128::from(account.balance().minor());
    }
    let total: i128 = debt.iter().sum();
    (0..=STEPS)
        .map(|step| {
            let i = usize::try_from(step).expect("step in 0..=STEPS");
            let from_days = if step == 0 { 0 } else { rule.step_days(step) };
            let to_days = (step < STEPS).then(|| rule.step_days(step + 1) - 1);
            let share_bp = if total == 0 {
                0
            } else {
                i64::try_from(debt[i] * 10_000 / total).expect("a share fits")
            };
            Bucket {
                step,
                from_days,
                to_days,
                members: members[i],
                debt: Amount::from_minor(i64::try_from(debt[i]).unwrap_or(i64::MAX)),
                share_bp,
            }
        })
        .collect()
}

/// The network's rule as the console's settings hold it.
pub async fn rule(store: &Store) -> StoreResult<Rule> {
    let sql = "SELECT negative_days FROM console_settings WHERE id = 1";
    let days: Option<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql).fetch_optional(pool).await?
    });
    days.and_then(Rule::new)
        .ok_or_else(|| StoreError::Corrupt("console_settings has no valid negative_days".into()))
}

/// A member account due a reminder: its spell has reached a step it was not told of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub account_id: i64,
    pub member_id: i64,
    pub company: String,
    pub balance: Amount,
    pub since: DateTime<Utc>,
    /// The last step it was told of in this spell (0: none).
    pub told: i64,
}

/// The member accounts (not closed, below zero) whose spell at `now` has reached a step
/// past the last one they were told of, the oldest spells first, at most `max` (clamped to
/// [`NOTICES_PER_CALL`]). Accounts told of every step they reached are not read.
pub async fn due(store: &Store, rule: Rule, now: DateTime<Utc>, max: i64) -> StoreResult<Vec<Due>> {
    // The spell must have begun by the day its next step falls due.
    let cutoff = |step: i64| now - Duration::days(rule.step_days(step));
    let told = "COALESCE((SELECT MAX(n.step) FROM negative_notices n \
                WHERE n.account_id = a.id AND n.negative_since = a.negative_since), 0)";
    let sql = format!(
        "SELECT a.id AS account_id, m.id AS member_id, m.name, a.balance, a.negative_since, \
         {told} AS told \
         FROM accounts a JOIN members m ON m.account_id = a.id \
         WHERE a.kind = 'member' AND a.status <> 'closed' AND a.balance < 0 \
         AND a.negative_since <= $1 \
         AND a.negative_since <= CASE {told} WHEN 0 THEN $1 WHEN 1 THEN $2 WHEN 2 THEN $3 \
         WHEN 3 THEN $4 ELSE $5 END \
         ORDER BY a.negative_since, a.id LIMIT $6"
    );
    // Never: a spell told of its last step has nothing more to be told.
    let never = DateTime::<Utc>::UNIX_EPOCH;
    let limit = max.clamp(0, NOTICES_PER_CALL);
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(cutoff(1)).bind(cutoff(2)).bind(cutoff(3)).bind(cutoff(4)).bind(never)
            .bind(limit)
            .fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                Ok(Due {
                    account_id: row.try_get("account_id")?,
                    member_id: row.try_get("member_id")?,
                    company: row.try_get("name")?,
                    balance: Amount::from_minor(row.try_get("balance")?),
                    since: row.try_get("negative_since")?,
                    told: row.try_get("told")?,
                })
            })
            .collect::<Result<Vec<Due>, sqlx::Error>>()
            .map_err(StoreError::from)
    })
}

/// Records that the spell of `account_id` that began `since` was told of `step` at `now`
/// (Unix seconds); a second record of the same step changes nothing.
pub async fn told(
    store: &Store,
    account_id: i64,
    since: DateTime<Utc>,
    step: i64,
    now: i64,
) -> StoreResult<()> {
    assert!((1..=STEPS).contains(&step), "step {step}");
    let sql = "INSERT INTO negative_notices (account_id, negative_since, step, noticed_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    dispatch!(store.backend(), pool => {
        sqlx::query(sql).bind(account_id).bind(since).bind(step).bind(now)
            .execute(pool).await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_quarters_of_the_rule_then_past_it() {
        let rule = Rule::new(365).expect("valid");
        let days: Vec<i64> = (1..=STEPS).map(|s| rule.step_days(s)).collect();
        assert_eq!(days, vec![92, 183, 274, 366]);
        assert_eq!(rule.step_of(0), 0);
        assert_eq!(rule.step_of(91), 0);
        assert_eq!(rule.step_of(92), 1);
        assert_eq!(rule.step_of(182), 1);
        assert_eq!(rule.step_of(183), 2);
        assert_eq!(rule.step_of(274), 3);
        assert_eq!(rule.step_of(365), 3);
        assert_eq!(rule.step_of(366), 4);
        assert_eq!(rule.step_of(100_000), 4);
    }

    #[test]
    fn a_one_day_rule_skips_to_its_third_step_on_the_first_day() {
        let rule = Rule::new(1).expect("valid");
        let days: Vec<i64> = (1..=STEPS).map(|s| rule.step_days(s)).collect();
        assert_eq!(days, vec![1, 1, 1, 2]);
        assert_eq!(rule.step_of(0), 0);
        assert_eq!(rule.step_of(1), 3);
        assert_eq!(rule.step_of(2), 4);
    }

    #[test]
    fn the_rule_takes_the_console_s_bounds() {
        assert_eq!(Rule::new(0), None);
        assert!(Rule::new(1).is_some());
        assert!(Rule::new(3650).is_some());
        assert_eq!(Rule::new(3651), None);
        assert_eq!(Rule::default(), Rule::new(365).expect("valid"));
    }

    #[test]
    fn steps_never_go_back_as_a_spell_lengthens() {
        for days in [1, 2, 3, 4, 5, 7, 90, 365, 366, 1000, 3650] {
            let rule = Rule::new(days).expect("valid");
            let mut last = 0;
            for spell in 0..=(days + 2) {
                let step = rule.step_of(spell);
                assert!(step >= last, "rule {days}, day {spell}");
                last = step;
            }
            assert_eq!(last, STEPS);
        }
    }

    fn member(id: u64, balance: i64, since_days: Option<i64>, status: AccountStatus) -> Account {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        Account::from_parts(
            ledger::AccountId(id),
            ledger::AccountKind::Member,
            status,
            Amount::from_minor(balance),
            Amount::ZERO,
            Amount::from_minor(1_000_000),
            None,
            since_days.map(|d| now - Duration::days(d) - Duration::hours(1)),
        )
        .expect("account")
    }

    #[test]
    fn ageing_sorts_the_debt_by_step_and_leaves_out_the_closed_and_the_positive() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let rule = Rule::default();
        let accounts = [
            member(1, -100, Some(10), AccountStatus::Active),
            member(2, -300, Some(92), AccountStatus::Active),
            member(3, -200, Some(182), AccountStatus::Frozen),
            member(4, -400, Some(400), AccountStatus::Active),
            member(5, -9_999, Some(400), AccountStatus::Closed),
            member(6, 500, None, AccountStatus::Active),
        ];
        let buckets = ageing(rule, &accounts, now);
        let view: Vec<(i64, i64, Option<i64>, i64, i64, i64)> = buckets
            .iter()
            .map(|b| {
                (
                    b.step,
                    b.from_days,
                    b.to_days,
                    b.members,
                    b.debt.minor(),
                    b.share_bp,
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                (0, 0, Some(91), 1, 100, 1_000),
                (1, 92, Some(182), 2, 500, 5_000),
                (2, 183, Some(273), 0, 0, 0),
                (3, 274, Some(365), 0, 0, 0),
                (4, 366, None, 1, 400, 4_000),
            ]
        );
        let spell = spell(rule, &accounts[3], now).expect("negative");
        assert_eq!((spell.days, spell.step), (400, 4));
        assert_eq!(spell.deadline, spell.since + Duration::days(365));
        assert_eq!(super::spell(rule, &accounts[5], now), None);
        let nobody = ageing(rule, &accounts[5..], now);
        assert!(nobody.iter().all(|b| b.members == 0 && b.share_bp == 0));
    }
}
