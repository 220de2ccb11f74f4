//! How long the outboxes (e-mails, webhooks) wait before trying again: the first wait after
//! one failure, doubling with each failure in a row, never longer than a ceiling.
//!
//! It does *not* count attempts or decide when to give up: each outbox does that.

/// A doubling wait, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first_seconds: i64,
    max_seconds: i64,
}

impl Backoff {
    /// Waits `first_seconds` after one failure, at most `max_seconds` (both positive, the
    /// first no longer than the ceiling).
    pub const fn new(first_seconds: i64, max_seconds: i64) -> Backoff {
        assert!(first_seconds > 0);
        assert!(first_seconds <= max_seconds);
        Backoff {
            first_seconds,
            max_seconds,
        }
    }

    /// The wait after `failures` failures in a row (fewer than one counts as one).
    pub fn after(self, failures: i64) -> i64 {
        // At most 2^20 times the first wait: no overflow for any first wait under 2^42 s.
        let doublings = failures.clamp(1, 21) - 1;
        let wait = self.first_seconds.saturating_mul(1 << doublings);
        let wait = wait.min(self.max_seconds);
        assert!(wait >= self.first_seconds && wait <= self.max_seconds);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling() {
        let backoff = Backoff::new(10, 3_600);
        assert_eq!(backoff.after(0), 10);
        assert_eq!(backoff.after(1), 10);
        assert_eq!(backoff.after(2), 20);
        assert_eq!(backoff.after(9), 2_560);
        assert_eq!(backoff.after(10), 3_600);
        assert_eq!(backoff.after(i64::MAX), 3_600);
        let long = Backoff::new(1 << 40, i64::MAX);
        assert_eq!(long.after(i64::MAX), 1 << 60);
    }
}
