//! Prometheus metrics, kept in memory by the process: requests by route and status, request
//! latency histograms, write batches and their sizes, operations by outcome, webhook POSTs by
//! outcome and the events delivered. The database pool is read when `/metrics` is scraped.
//!
//! One registry per process ([`global`]): the HTTP middleware and the store's writer record
//! into it without being wired to each other.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Upper bounds of the batch-size buckets, in operations.
pub const BATCH_BUCKETS: [u64; 9] = [1, 2, 4, 16, 64, 256, 1024, 4096, 16384];
/// Most distinct routes tracked; further ones are counted as `other` (a bound on memory).
pub const ROUTES_MAX: usize = 512;

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Count per bucket (not cumulative), plus one for +Inf.
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds_len: usize, index: usize, value: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds_len + 1];
        }
        self.buckets[index] += 1;
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[String]) {
        let mut cumulative = 0;
        for (i, bound) in bounds.iter().enumerate() {
            cumulative += self.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(
            out,
            "{name}_sum{{{}}} {}",
            labels.trim_end_matches(','),
            self.sum
        );
        let _ = writeln!(
            out,
            "{name}_count{{{}}} {}",
            labels.trim_end_matches(','),
            self.count
        );
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    batches: Histogram,
    outcomes: BTreeMap<String, u64>,
    webhook_posts_delivered: u64,
    webhook_posts_failed: u64,
    webhook_events_delivered: u64,
    /// E-mails by outcome (`crate::mail::MailOutcome`), in its order.
    mails: [u64; 4],
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// The process's registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// The pool's state when scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

const MAIL_OUTCOMES: [crate::mail::MailOutcome; 4] = [
    crate::mail::MailOutcome::Sent,
    crate::mail::MailOutcome::Retried,
    crate::mail::MailOutcome::GivenUp,
    crate::mail::MailOutcome::Dropped,
];

fn mail_index(outcome: crate::mail::MailOutcome) -> usize {
    MAIL_OUTCOMES
        .iter()
        .position(|o| *o == outcome)
        .expect("every outcome is listed")
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let index = LATENCY_BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        let mut inner = self.inner.lock().expect("metrics lock");
        let known = inner.latency.contains_key(route) || inner.latency.len() < ROUTES_MAX;
        let route = if known { route } else { "other" };
        *inner
            .requests
            .entry((route.to_owned(), status))
            .or_default() += 1;
        inner.latency.entry(route.to_owned()).or_default().observe(
            LATENCY_BUCKETS.len(),
            index,
            seconds,
        );
    }

    /// One write batch of `size` operations, and the outcome code of each (`ok`, a
    /// rejection code, or `error`).
    pub fn record_batch<'a>(&self, size: usize, outcomes: impl IntoIterator<Item = &'a str>) {
        let index = BATCH_BUCKETS
            .iter()
            .position(|b| size as u64 <= *b)
            .unwrap_or(BATCH_BUCKETS.len());
        let mut inner = self.inner.lock().expect("metrics lock");
        inner
            .batches
            .observe(BATCH_BUCKETS.len(), index, size as f64);
        for outcome in outcomes {
            *inner.outcomes.entry(outcome.to_owned()).or_default() += 1;
        }
    }

    /// One webhook POST (`crate::webhooks`): taken by the receiver with its `events`, or not.
    pub fn record_webhook_post(&self, delivered: bool, events: u64) {
        let mut inner = self.inner.lock().expect("metrics lock");
        if delivered {
            inner.webhook_posts_delivered += 1;
            inner.webhook_events_delivered += events;
        } else {
            inner.webhook_posts_failed += 1;
        }
    }

    /// One e-mail sent, retried later, given up or dropped (`crate::mail`).
    pub fn record_mail(&self, outcome: crate::mail::MailOutcome) {
        let mut inner = self.inner.lock().expect("metrics lock");
        inner.mails[mail_index(outcome)] += 1;
    }

    /// The Prometheus text exposition format.
    pub fn render(&self, pool: PoolUsage) -> String {
        let inner = self.inner.lock().expect("metrics lock");
        let mut out = String::new();
        out.push_str("# HELP troc_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE troc_http_requests_total counter\n");
        for ((route, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "troc_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str("# HELP troc_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE troc_http_request_duration_seconds histogram\n");
        let bounds: Vec<String> = LATENCY_BUCKETS.iter().map(|b| b.to_string()).collect();
        for (route, histogram) in &inner.latency {
            let labels = format!("route=\"{}\",", escape(route));
            histogram.render(
                &mut out,
                "troc_http_request_duration_seconds",
                &labels,
                &bounds,
            );
        }
        out.push_str("# HELP troc_write_batch_size Operations per write batch (group commit).\n");
        out.push_str("# TYPE troc_write_batch_size histogram\n");
        let bounds: Vec<String> = BATCH_BUCKETS.iter().map(|b| b.to_string()).collect();
        let batches = if inner.batches.buckets.is_empty() {
            Histogram {
                buckets: vec![0; BATCH_BUCKETS.len() + 1],
                ..Histogram::default()
            }
        } else {
            inner.batches.clone()
        };
        batches.render(&mut out, "troc_write_batch_size", "", &bounds);
        out.push_str("# HELP troc_operations_total Ledger operations by outcome.\n");
        out.push_str("# TYPE troc_operations_total counter\n");
        for (outcome, count) in &inner.outcomes {
            let _ = writeln!(
                out,
                "troc_operations_total{{outcome=\"{}\"}} {count}",
                escape(outcome)
            );
        }
        out.push_str("# HELP troc_webhook_posts_total Webhook deliveries (POSTs) by outcome.\n");
        out.push_str("# TYPE troc_webhook_posts_total counter\n");
        let _ = writeln!(
            out,
            "troc_webhook_posts_total{{outcome=\"delivered\"}} {}",
            inner.webhook_posts_delivered
        );
        let _ = writeln!(
            out,
            "troc_webhook_posts_total{{outcome=\"failed\"}} {}",
            inner.webhook_posts_failed
        );
        out.push_str(
            "# HELP troc_webhook_events_delivered_total Events taken by members' receivers.\n",
        );
        out.push_str("# TYPE troc_webhook_events_delivered_total counter\n");
        let _ = writeln!(
            out,
            "troc_webhook_events_delivered_total {}",
            inner.webhook_events_delivered
        );
        out.push_str(
            "# HELP troc_mails_total E-mails by outcome (sent, retried, given_up, dropped).\n",
        );
        out.push_str("# TYPE troc_mails_total counter\n");
        for outcome in MAIL_OUTCOMES {
            let _ = writeln!(
                out,
                "troc_mails_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                inner.mails[mail_index(outcome)]
            );
        }
        out.push_str("# HELP troc_db_pool_connections Database pool connections.\n");
        out.push_str("# TYPE troc_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "troc_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "troc_db_pool_connections{{state=\"in_use\"}} {}",
            pool.size.saturating_sub(pool.idle)
        );
        let _ = writeln!(
            out,
            "troc_db_pool_connections{{state=\"max\"}} {}",
            pool.max
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let metrics = Metrics::default();
        metrics.record_request("/login", 200, Duration::from_millis(3));
        metrics.record_request("/login", 200, Duration::from_millis(30));
        metrics.record_request("/login", 429, Duration::from_millis(1));
        metrics.record_batch(3, ["ok", "ok", "insufficient_credit"]);
        metrics.record_webhook_post(true, 20);
        metrics.record_webhook_post(true, 3);
        metrics.record_webhook_post(false, 5);
        metrics.record_mail(crate::mail::MailOutcome::Sent);
        metrics.record_mail(crate::mail::MailOutcome::Sent);
        metrics.record_mail(crate::mail::MailOutcome::GivenUp);
        let text = metrics.render(PoolUsage {
            size: 4,
            idle: 3,
            max: 16,
        });
        assert!(text.contains("troc_http_requests_total{route=\"/login\",status=\"200\"} 2\n"));
        assert!(text.contains("troc_http_requests_total{route=\"/login\",status=\"429\"} 1\n"));
        assert!(text.contains(
            "troc_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.005\"} 2\n"
        ));
        assert!(text.contains(
            "troc_http_request_duration_seconds_bucket{route=\"/login\",le=\"+Inf\"} 3\n"
        ));
        assert!(text.contains("troc_write_batch_size_bucket{le=\"4\"} 1\n"));
        assert!(text.contains("troc_write_batch_size_bucket{le=\"2\"} 0\n"));
        assert!(text.contains("troc_operations_total{outcome=\"ok\"} 2\n"));
        assert!(text.contains("troc_operations_total{outcome=\"insufficient_credit\"} 1\n"));
        assert!(text.contains("troc_db_pool_connections{state=\"in_use\"} 1\n"));
        assert!(text.contains("troc_webhook_posts_total{outcome=\"delivered\"} 2\n"));
        assert!(text.contains("troc_webhook_posts_total{outcome=\"failed\"} 1\n"));
        assert!(text.contains("troc_webhook_events_delivered_total 23\n"));
        assert!(text.contains("troc_mails_total{outcome=\"sent\"} 2\n"));
        assert!(text.contains("troc_mails_total{outcome=\"given_up\"} 1\n"));
        assert!(text.contains("troc_mails_total{outcome=\"retried\"} 0\n"));
    }

    #[test]
    fn routes_are_bounded() {
        let metrics = Metrics::default();
        for i in 0..ROUTES_MAX + 10 {
            metrics.record_request(&format!("/r{i}"), 200, Duration::from_millis(1));
        }
        let inner = metrics.inner.lock().unwrap();
        assert_eq!(
            inner.latency.len(),
            ROUTES_MAX + 1,
            "the extra routes share `other`"
        );
    }
}
