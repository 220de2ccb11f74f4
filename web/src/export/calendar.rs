//! The network's calendar: which day an instant belongs to, and where a day starts.
//!
//! Every date of the books goes through here: the booking date of an entry, the boundaries
//! of an export period, the day a period lock was made (FEC ValidDate), the end of a locked
//! period that the ledger enforces, and "today" for the rule that only a finished period can
//! be locked. The database trigger that backs the lock up (`transactions_not_in_locked_period`)
//! uses the same calendar. Today that calendar is UTC (documented in `docs/exports.md`).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ledger::LockedPeriod;

/// The calendar day `time` falls on.
pub fn day_of(time: DateTime<Utc>) -> NaiveDate {
    time.date_naive()
}

/// The first instant of `date`.
pub fn start_of(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// The first instant after `date`; `None` past the last date chrono knows.
pub fn end_of(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.succ_opt().map(start_of)
}

/// The locked period "every day up to `through`", as the ledger enforces it.
pub fn locked_period(through: NaiveDate) -> Option<LockedPeriod> {
    LockedPeriod::new(through, end_of(through)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_day_runs_from_its_start_to_the_next_days_start() {
        let day = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        let start = start_of(day);
        let end = end_of(day).unwrap();
        assert_eq!(day_of(start), day);
        assert_eq!(day_of(end - chrono::Duration::microseconds(1)), day);
        assert_eq!(day_of(end), day.succ_opt().unwrap());
        let lock = locked_period(day).unwrap();
        assert!(lock.covers(end - chrono::Duration::microseconds(1)));
        assert!(!lock.covers(end));
        assert_eq!(
            day_of(Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap()),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
    }
}
