//! The network's calendar: which day an instant belongs to, and where a day starts.
//!
//! Every date of the books goes through here: the booking date of an entry, the boundaries
//! of an export period, the day a period lock was made (FEC ValidDate), the end of a locked
//! period that the ledger enforces (and that `period_locks.ends_at` stores for the database
//! trigger), and "today" for the rule that only a finished period can be locked. The
//! calendar is French civil time, Europe/Paris (UTC+1, UTC+2 in summer), from the IANA time
//! zone database compiled into the binary (`chrono-tz`): a payment made at 00:30 in Paris on
//! 1 January is booked on 1 January. Instants are stored in UTC as before.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use ledger::LockedPeriod;

/// The time zone of the books.
pub const ZONE: Tz = chrono_tz::Europe::Paris;
/// Its name, as the database knows it (PostgreSQL's `AT TIME ZONE`).
pub const ZONE_NAME: &str = "Europe/Paris";

/// The calendar day `time` falls on.
pub fn day_of(time: DateTime<Utc>) -> NaiveDate {
    time.with_timezone(&ZONE).date_naive()
}

/// The first instant of `date`. Midnight exists every day in Paris (clocks change at 02:00
/// and 03:00); for a zone that skipped it, the first hour after the gap.
pub fn start_of(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Bounded: a day has at most 24 hours, and gaps last an hour or two.
    for hours in 0..24 {
        let local = midnight + TimeDelta::hours(hours);
        if let Some(instant) = ZONE.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
    }
    midnight.and_utc()
}

/// The first instant after `date`; `None` past the last date chrono knows.
pub fn end_of(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.succ_opt().map(start_of)
}

/// The locked period "every day up to `through`", as the ledger enforces it.
pub fn locked_period(through: NaiveDate) -> Option<LockedPeriod> {
    LockedPeriod::new(through, end_of(through)?)
}

/// A lock made before the books used this calendar (migration 0014): its days were UTC days,
/// so it ends at the UTC midnight after `through`.
pub fn utc_locked_period(through: NaiveDate) -> Option<LockedPeriod> {
    LockedPeriod::utc(through)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn days_are_paris_days_summer_and_winter() {
        // Winter, UTC+1: the year starts at 23:00 UTC the evening before.
        assert_eq!(start_of(date(2025, 1, 1)), utc(2024, 12, 31, 23, 0));
        assert_eq!(day_of(utc(2024, 12, 31, 23, 30)), date(2025, 1, 1));
        assert_eq!(day_of(utc(2024, 12, 31, 22, 59)), date(2024, 12, 31));
        // Summer, UTC+2.
        assert_eq!(start_of(date(2025, 7, 1)), utc(2025, 6, 30, 22, 0));
        assert_eq!(end_of(date(2025, 6, 30)), Some(utc(2025, 6, 30, 22, 0)));
        // The days of the clock changes are 23 and 25 hours long.
        assert_eq!(
            end_of(date(2025, 3, 30)).unwrap() - start_of(date(2025, 3, 30)),
            TimeDelta::hours(23)
        );
        assert_eq!(
            end_of(date(2025, 10, 26)).unwrap() - start_of(date(2025, 10, 26)),
            TimeDelta::hours(25)
        );
    }

    #[test]
    fn a_day_runs_from_its_start_to_the_next_days_start() {
        let day = date(2025, 6, 30);
        let end = end_of(day).unwrap();
        assert_eq!(day_of(start_of(day)), day);
        assert_eq!(day_of(end - TimeDelta::microseconds(1)), day);
        assert_eq!(day_of(end), day.succ_opt().unwrap());
        let lock = locked_period(day).unwrap();
        assert!(lock.covers(end - TimeDelta::microseconds(1)));
        assert!(!lock.covers(end));
        assert_eq!(lock.ends_at(), end);
        assert_eq!(
            utc_locked_period(day).unwrap().ends_at(),
            utc(2025, 7, 1, 0, 0)
        );
    }
}
