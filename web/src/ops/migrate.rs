//! `troc migrate-data --from sqlite://... --to postgres://...`: moves a whole network from
//! SQLite to PostgreSQL with every id, hash and balance intact, then proves it.
//!
//! The copy is driven by one list, [`TABLES`]: every table of the schema with its columns
//! and their kinds, in an order that satisfies PostgreSQL's foreign keys and triggers. A
//! table or column the list does not know stops the command before anything is written
//! ([`schema_gaps`]), and the test suite checks the list against both schemas, so a new
//! migration cannot be forgotten here.
//!
//! How it goes:
//!
//! 1. Checks: the source is a SQLite file with exactly this binary's migrations; the target
//!    is a PostgreSQL database holding no Troc data (refused otherwise, before anything is
//!    written); both schemas match the list.
//! 2. The source is read inside one `BEGIN IMMEDIATE` transaction: one consistent snapshot,
//!    and no other process can write to it meanwhile (a server left running would see its
//!    writes wait, then fail: stop it first).
//! 3. The target is written inside **one** transaction: each table streamed in pages of
//!    [`COPY_PAGE_ROWS`] rows (bounded memory on both sides), inserted with `UNNEST` of
//!    arrays. The database's own defenses stay on: accounts are opened at zero (the insert
//!    trigger demands it) and their balances set afterwards in a way the credit-limit
//!    trigger accepts; transactions must balance at COMMIT (the deferred trigger); periods
//!    are locked after the transactions they contain. The sequences and identity counters
//!    are set past the copied ids (and past SQLite's own counters), so new rows never
//!    collide.
//! 4. Before COMMIT, each table is read back from the target in key order and its row count
//!    and digest (SHA-256 over every value, see [`digest_value`]) compared with the source's:
//!    any difference rolls everything back.
//! 5. After COMMIT, the target is checked as `troc verify` does: the invariants
//!    (`check_invariants`) and the audit chain, checkpoints and signatures
//!    (`verify_ledger`).

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Connection, Row};

use crate::store::{
    genesis_hex, migration_versions, sqlite_path, AuditSummary, Backend, BackendKind, Store,
    StoreError,
};

/// Rows read and written per page.
pub const COPY_PAGE_ROWS: usize = 1_000;
/// How often the progress line is written, at most.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// What a column holds, on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// INTEGER / BIGINT / SMALLINT (ids, amounts, unix seconds, counts).
    Int,
    Text,
    /// SQLite 0/1, PostgreSQL BOOLEAN.
    Bool,
    /// SQLite RFC 3339 text in UTC, PostgreSQL TIMESTAMPTZ.
    Time,
    /// SQLite `YYYY-MM-DD` text, PostgreSQL DATE.
    Date,
}

impl Kind {
    fn pg_array(self) -> &'static str {
        match self {
            Kind::Int => "bigint[]",
            Kind::Text => "text[]",
            Kind::Bool => "boolean[]",
            Kind::Time => "timestamptz[]",
            Kind::Date => "date[]",
        }
    }
}

/// One column. `sqlite` is the SQLite expression that gives it when the SQLite schema has
/// no such column (PostgreSQL-only columns, such as `postings.posting_count`).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub sqlite: Option<&'static str>,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        sqlite: None,
    }
}

/// How a table's ids are handed out on PostgreSQL, to be set past the copied ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// No generated ids (fixed or natural keys).
    None,
    /// An identity or serial column.
    Identity(&'static str),
    /// A sequence the store draws from, fed on SQLite by a row of `id_counters`.
    Counter {
        counter: &'static str,
        sequence: &'static str,
    },
}

/// What is special about a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    Plain,
    /// `accounts`: inserted at zero (a trigger demands it), balances set afterwards.
    OpenedAtZero,
    /// `ledger_head`, `webhook_tail`: its migration inserts the first row, replaced by the
    /// source's.
    Seeded,
    /// Settings a migration seeds with defaults (`member_categories`, `console_settings`,
    /// `notice_marks`): replaced by the source's rows; not counted when checking that the
    /// target is empty.
    SeededDefaults,
    /// A column that points at a table copied later (a foreign-key cycle: members →
    /// member_batches → users → members): inserted NULL, set from the source once every
    /// table is copied, before the digests are compared.
    LinkedLater(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    /// The primary key, the order rows are read in.
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
    pub ids: Ids,
    pub rows: Rows,
}

const fn table(
    name: &'static str,
    key: &'static [&'static str],
    columns: &'static [Column],
) -> Table {
    Table {
        name,
        key,
        columns,
        ids: Ids::None,
        rows: Rows::Plain,
    }
}

const fn identity(mut t: Table, column: &'static str) -> Table {
    t.ids = Ids::Identity(column);
    t
}

use Kind::{Bool, Date, Int, Text, Time};

/// `members`, whose `batch_id` points at `member_batches` (copied after `users`).
const MEMBERS: Table = Table {
    rows: Rows::LinkedLater("batch_id"),
    ..identity(
        table(
            "members",
            &["id"],
            &[
                col("id", Int),
                col("account_id", Int),
                col("name", Text),
                col("siren", Text),
                col("address", Text),
                col("city", Text),
                col("postcode", Text),
                col("sector", Text),
                col("description", Text),
                col("contact", Text),
                col("hide_balance", Bool),
                col("in_directory", Bool),
                col("created_at", Int),
                col("category_id", Int),
                col("declared_turnover", Int),
                col("next_review", Text),
                col("batch_id", Int),
                col("invoice_mentions", Text),
            ],
        ),
        "id",
    )
};

/// Every table, in dependency order (a table comes after those its foreign keys and
/// triggers read). A migration that adds a table or a column must add it here: the test
/// `migrate_data_covers_every_table_and_column` fails until it does.
pub const TABLES: &[Table] = &[
    table(
        "network",
        &["id"],
        &[
            col("id", Int),
            col("name", Text),
            col("created_at", Time),
            col("siren", Text),
        ],
    ),
    Table {
        rows: Rows::OpenedAtZero,
        ..identity(
            table(
                "accounts",
                &["id"],
                &[
                    col("id", Int),
                    col("kind", Text),
                    col("status", Text),
                    col("balance", Int),
                    col("pending", Int),
                    col("credit_limit", Int),
                    col("max_balance", Int),
                    col("negative_since", Time),
                    col("created_at", Time),
                ],
            ),
            "id",
        )
    },
    table(
        "ledger_settings",
        &["id"],
        &[
            col("id", Int),
            col("fund_account", Int),
            col("fees_account", Int),
            col("losses_account", Int),
            col("migration_account", Int),
        ],
    ),
    identity(
        table(
            "policies",
            &["version"],
            &[
                col("version", Int),
                col("policy", Text),
                col("created_at", Time),
                col("effective_from", Time),
                col("actor", Text),
                col("reason", Text),
            ],
        ),
        "version",
    ),
    Table {
        rows: Rows::Seeded,
        ..table(
            "ledger_head",
            &["id"],
            &[col("id", Int), col("seq", Int), col("hash", Text)],
        )
    },
    Table {
        ids: Ids::Counter {
            counter: "tx",
            sequence: "tx_id_seq",
        },
        ..table(
            "transactions",
            &["id"],
            &[
                col("id", Int),
                col("seq", Int),
                col("kind", Text),
                col("time", Time),
                col("reference", Text),
                col("memo", Text),
                col("idempotency_key", Text),
                col("reverses", Int),
                col("posting_count", Int),
                col("hash", Text),
            ],
        )
    },
    table(
        "postings",
        &["tx_id", "n"],
        &[
            col("tx_id", Int),
            col("n", Int),
            Column {
                name: "posting_count",
                kind: Int,
                sqlite: Some(
                    "(SELECT t.posting_count FROM transactions t WHERE t.id = postings.tx_id)",
                ),
            },
            col("account_id", Int),
            col("amount", Int),
            col("leg", Text),
            col("time", Time),
        ],
    ),
    Table {
        ids: Ids::Counter {
            counter: "hold",
            sequence: "hold_id_seq",
        },
        ..table(
            "holds",
            &["id"],
            &[
                col("id", Int),
                col("payer", Int),
                col("payee", Int),
                col("amount", Int),
                col("reserved", Int),
                col("created_at", Time),
                col("expires_at", Time),
                col("status", Text),
                col("reference", Text),
                col("memo", Text),
                col("capture_tx", Int),
            ],
        )
    },
    table(
        "idempotency",
        &["key"],
        &[
            col("key", Text),
            col("fingerprint", Text),
            col("result", Text),
            col("time", Time),
        ],
    ),
    identity(
        table(
            "limit_changes",
            &["id"],
            &[
                col("id", Int),
                col("account_id", Int),
                col("time", Time),
                col("actor", Text),
                col("reason", Text),
                col("credit_limit_before", Int),
                col("credit_limit_after", Int),
                col("max_balance_before", Int),
                col("max_balance_after", Int),
                col("below_current_debt", Bool),
                col("above_new_max", Bool),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "status_changes",
            &["id"],
            &[
                col("id", Int),
                col("account_id", Int),
                col("time", Time),
                col("actor", Text),
                col("reason", Text),
                col("status_before", Text),
                col("status_after", Text),
            ],
        ),
        "id",
    ),
    Table {
        rows: Rows::SeededDefaults,
        ..identity(
            table(
                "member_categories",
                &["id"],
                &[
                    col("id", Int),
                    col("code", Text),
                    col("name", Text),
                    col("credit_limit", Int),
                    col("max_balance", Int),
                    col("created_at", Int),
                    col("updated_at", Int),
                ],
            ),
            "id",
        )
    },
    Table {
        rows: Rows::SeededDefaults,
        ..table(
            "console_settings",
            &["id"],
            &[
                col("id", Int),
                col("near_limit_pct", Int),
                col("negative_days", Int),
                col("growth_months", Int),
                col("turnover_share_bp", Int),
                col("sales_months", Int),
                col("sales_share_bp", Int),
                col("updated_at", Int),
                col("two_step_rule", Text),
            ],
        )
    },
    MEMBERS,
    identity(
        table(
            "users",
            &["id"],
            &[
                col("id", Int),
                col("email", Text),
                col("password_hash", Text),
                col("display_name", Text),
                col("role", Text),
                col("member_id", Int),
                col("lang", Text),
                col("created_at", Int),
                col("payment_max", Int),
                col("mail_notices", Int),
                col("mail_receipts", Int),
                col("mail_listings", Int),
                col("mail_statements", Int),
                col("payment_month_max", Int),
                col("totp_secret", Text),
                col("totp_pending", Text),
                col("totp_last_step", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "member_batches",
            &["id"],
            &[
                col("id", Int),
                col("source", Text),
                col("actor_user_id", Int),
                col("actor", Text),
                col("status", Text),
                col("plan", Text),
                col("lines", Int),
                col("created_at", Int),
                col("finished_at", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "applications",
            &["id"],
            &[
                col("id", Int),
                col("name", Text),
                col("siren", Text),
                col("email", Text),
                col("contact", Text),
                col("address", Text),
                col("city", Text),
                col("postcode", Text),
                col("sector", Text),
                col("description", Text),
                col("declared_turnover", Int),
                col("message", Text),
                col("status", Text),
                col("created_at", Int),
                col("decided_at", Int),
                col("decided_by", Int),
                col("decision_reason", Text),
                col("member_id", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "limit_requests",
            &["id"],
            &[
                col("id", Int),
                col("member_id", Int),
                col("requested_by", Text),
                col("credit_limit_before", Int),
                col("credit_limit_asked", Int),
                col("message", Text),
                col("status", Text),
                col("created_at", Int),
                col("decided_at", Int),
                col("decided_by", Text),
                col("decision_reason", Text),
                col("credit_limit_granted", Int),
                col("max_balance_before", Int),
                col("max_balance_asked", Int),
                col("max_balance_granted", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "departures",
            &["id"],
            &[
                col("id", Int),
                col("member_id", Int),
                col("requested_by", Text),
                col("message", Text),
                col("status", Text),
                col("created_at", Int),
                col("decided_at", Int),
                col("decided_by", Text),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "disputes",
            &["id"],
            &[
                col("id", Int),
                col("transaction_id", Int),
                col("payer_member_id", Int),
                col("payee_member_id", Int),
                col("amount_minor", Int),
                col("opened_by", Text),
                col("reason", Text),
                col("status", Text),
                col("reply", Text),
                col("replied_by", Text),
                col("replied_at", Int),
                col("created_at", Int),
                col("decided_at", Int),
                col("decided_by", Text),
                col("decision_note", Text),
                col("closed_noticed_at", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "standing_orders",
            &["id"],
            &[
                col("id", Int),
                col("payer_member_id", Int),
                col("payee_member_id", Int),
                col("amount", Int),
                col("reference", Text),
                col("memo", Text),
                col("every", Text),
                col("first_date", Text),
                col("end_date", Text),
                col("next_date", Text),
                col("runs", Int),
                col("status", Text),
                col("created_by", Text),
                col("created_at", Int),
                col("ended_at", Int),
                col("ended_by", Text),
            ],
        ),
        "id",
    ),
    table(
        "standing_order_runs",
        &["order_id", "due_date"],
        &[
            col("order_id", Int),
            col("due_date", Text),
            col("tx_id", Int),
            col("rejection", Text),
            col("ran_at", Int),
        ],
    ),
    identity(
        table(
            "invoices",
            &["id"],
            &[
                col("id", Int),
                col("seller_member_id", Int),
                col("buyer_member_id", Int),
                col("kind", Text),
                col("credits", Int),
                col("tx_id", Int),
                col("year", Int),
                col("seq", Int),
                col("number", Text),
                col("issued_on", Text),
                col("paid_at", Int),
                col("description", Text),
                col("vat_bp", Int),
                col("total", Int),
                col("net", Int),
                col("vat", Int),
                col("seller_name", Text),
                col("seller_siren", Text),
                col("seller_address", Text),
                col("buyer_name", Text),
                col("buyer_siren", Text),
                col("buyer_address", Text),
                col("created_by", Text),
                col("created_at", Int),
                col("supply", Text),
                col("line_count", Int),
                col("seller_mentions", Text),
            ],
        ),
        "id",
    ),
    table(
        "invoice_lines",
        &["invoice_id", "line_no"],
        &[
            col("invoice_id", Int),
            col("line_no", Int),
            col("description", Text),
            col("vat_bp", Int),
            col("total", Int),
            col("net", Int),
            col("vat", Int),
        ],
    ),
    identity(
        table(
            "webhooks",
            &["id"],
            &[
                col("id", Int),
                col("member_id", Int),
                col("url", Text),
                col("status", Text),
                col("created_by", Text),
                col("created_at", Int),
                col("after_seq", Int),
                col("failures", Int),
                col("next_attempt_at", Int),
                col("last_success_at", Int),
                col("disabled_at", Int),
            ],
        ),
        "id",
    ),
    table(
        "webhook_events",
        &["webhook_id", "seq"],
        &[col("webhook_id", Int), col("seq", Int), col("tx_id", Int)],
    ),
    // Seeded by its migration with the ledger's head at the time: replaced by the source's.
    Table {
        rows: Rows::Seeded,
        ..table("webhook_tail", &["id"], &[col("id", Int), col("seq", Int)])
    },
    identity(
        table(
            "webhook_deliveries",
            &["id"],
            &[
                col("id", Int),
                col("webhook_id", Int),
                col("attempted_at", Int),
                col("events", Int),
                col("first_seq", Int),
                col("last_seq", Int),
                col("status_code", Int),
                col("error", Text),
                col("duration_ms", Int),
            ],
        ),
        "id",
    ),
    // The kinds of e-mail (migration 0044), seeded by the migrations: replaced by the
    // source's before the outbox that refers to them.
    Table {
        rows: Rows::SeededDefaults,
        ..table("mail_kinds", &["kind"], &[col("kind", Text)])
    },
    identity(
        table(
            "mail_outbox",
            &["id"],
            &[
                col("id", Int),
                col("kind", Text),
                col("to_addr", Text),
                col("subject", Text),
                col("body", Text),
                col("created_at", Int),
                col("attempts", Int),
                col("next_attempt_at", Int),
                col("sent_at", Int),
                col("failed_at", Int),
                col("last_error", Text),
                col("notice_key", Text),
            ],
        ),
        "id",
    ),
    // Seeded by its migration with the hour and the log's last id: replaced by the source's.
    Table {
        rows: Rows::SeededDefaults,
        ..table(
            "notice_marks",
            &["id"],
            &[
                col("id", Int),
                col("payments_through", Int),
                col("action_id", Int),
                col("matches_through", Int),
                col("statements_month", Int),
                col("statements_member_after", Int),
                col("application_id", Int),
                col("limit_request_id", Int),
                col("dispute_id", Int),
                col("departure_id", Int),
            ],
        )
    },
    table(
        "password_resets",
        &["token_hash"],
        &[
            col("token_hash", Text),
            col("user_id", Int),
            col("created_by", Int),
            col("created_at", Int),
            col("expires_at", Int),
            col("used_at", Int),
        ],
    ),
    identity(
        table(
            "totp_recovery_codes",
            &["id"],
            &[
                col("id", Int),
                col("user_id", Int),
                col("code_hash", Text),
                col("used_at", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "announcements",
            &["id"],
            &[
                col("id", Int),
                col("title", Text),
                col("body", Text),
                col("ends_on", Text),
                col("author_user_id", Int),
                col("published_at", Int),
                col("withdrawn_at", Int),
                col("withdrawn_reason", Text),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "outside_invoices",
            &["id"],
            &[
                col("id", Int),
                col("creditor_member_id", Int),
                col("debtor_member_id", Int),
                col("number", Text),
                col("amount_minor", Int),
                col("open_minor", Int),
                col("due_on", Text),
                col("status", Text),
                col("declared_by", Text),
                col("declared_at", Int),
                col("answered_by", Text),
                col("answered_at", Int),
                col("closed_by", Text),
                col("closed_at", Int),
                col("note", Text),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "setoff_runs",
            &["id"],
            &[
                col("id", Int),
                col("run_at", Int),
                col("run_by", Text),
                col("invoices", Int),
                col("owed_minor", Int),
                col("cleared_minor", Int),
            ],
        ),
        "id",
    ),
    table(
        "setoff_lines",
        &["run_id", "invoice_id"],
        &[
            col("run_id", Int),
            col("invoice_id", Int),
            col("amount_minor", Int),
        ],
    ),
    table(
        "negative_notices",
        &["account_id", "negative_since", "step"],
        &[
            col("account_id", Int),
            col("negative_since", Time),
            col("step", Int),
            col("noticed_at", Int),
        ],
    ),
    table(
        "login_challenges",
        &["token_hash"],
        &[
            col("token_hash", Text),
            col("user_id", Int),
            col("expires_at", Int),
            col("attempts", Int),
        ],
    ),
    table(
        "sessions",
        &["token_hash"],
        &[
            col("token_hash", Text),
            col("user_id", Int),
            col("csrf_token", Text),
            col("created_at", Int),
            col("expires_at", Int),
        ],
    ),
    table(
        "invitations",
        &["token_hash"],
        &[
            col("token_hash", Text),
            col("email", Text),
            col("role", Text),
            col("member_id", Int),
            col("created_by", Int),
            col("created_at", Int),
            col("expires_at", Int),
            col("used_at", Int),
        ],
    ),
    identity(
        table(
            "api_tokens",
            &["id"],
            &[
                col("id", Int),
                col("user_id", Int),
                col("name", Text),
                col("scope", Text),
                col("token_hash", Text),
                col("created_at", Int),
                col("last_used_at", Int),
                col("revoked_at", Int),
                col("expires_at", Int),
            ],
        ),
        "id",
    ),
    table(
        "api_idempotency",
        &["user_id", "idem_key"],
        &[
            col("user_id", Int),
            col("idem_key", Text),
            col("route", Text),
            col("request_hash", Text),
            col("status", Int),
            col("response", Text),
            col("created_at", Int),
        ],
    ),
    identity(
        table(
            "listings",
            &["id"],
            &[
                col("id", Int),
                col("member_id", Int),
                col("kind", Text),
                col("title", Text),
                col("description", Text),
                col("category", Text),
                col("price_minor", Int),
                col("vat_bp", Int),
                col("city", Text),
                col("active_until", Text),
                col("status", Text),
                col("created_at", Int),
                col("updated_at", Int),
                col("form_token", Text),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "payment_requests",
            &["id"],
            &[
                col("id", Int),
                col("seller_member_id", Int),
                col("buyer_member_id", Int),
                col("amount_minor", Int),
                col("reference", Text),
                col("memo", Text),
                col("due_date", Text),
                col("status", Text),
                col("tx_id", Int),
                col("created_at", Int),
                col("expires_at", Int),
                col("form_token", Text),
                col("attempts", Int),
                col("overdue_noticed_at", Int),
                col("expiry_noticed_at", Int),
            ],
        ),
        "id",
    ),
    identity(
        table(
            "orders",
            &["id"],
            &[
                col("id", Int),
                col("listing_id", Int),
                col("buyer_member_id", Int),
                col("seller_member_id", Int),
                col("amount_minor", Int),
                col("hold_id", Int),
                col("tx_id", Int),
                col("status", Text),
                col("created_at", Int),
                col("expires_at", Int),
                col("form_token", Text),
                col("expiry_noticed_at", Int),
                col("reminder_noticed_at", Int),
            ],
        ),
        "id",
    ),
    table(
        "payment_signatures",
        &["tx_id"],
        &[
            col("tx_id", Int),
            col("public_key", Text),
            col("signature", Text),
            col("expires_at", Time),
        ],
    ),
    table(
        "transaction_authors",
        &["tx_id"],
        &[
            col("tx_id", Int),
            col("member_id", Int),
            col("author", Text),
        ],
    ),
    table(
        "staff_commitments",
        &["op_key"],
        &[
            col("op_key", Text),
            col("user_id", Int),
            col("month", Text),
            col("amount_minor", Int),
            col("created_at", Int),
        ],
    ),
    identity(
        table(
            "payment_approvals",
            &["id"],
            &[
                col("id", Int),
                col("member_id", Int),
                col("payee_member_id", Int),
                col("amount_minor", Int),
                col("reference", Text),
                col("memo", Text),
                col("requested_by", Int),
                col("requested_by_email", Text),
                col("status", Text),
                col("attempts", Int),
                col("tx_id", Int),
                col("decided_by", Text),
                col("decided_at", Int),
                col("note", Text),
                col("created_at", Int),
                col("form_token", Text),
            ],
        ),
        "id",
    ),
    table(
        "member_keys",
        &["public_key"],
        &[
            col("public_key", Text),
            col("account_id", Int),
            col("status", Text),
            col("created_at", Time),
            col("revoked_at", Time),
            col("registered_by", Text),
            col("revoked_by", Text),
        ],
    ),
    table(
        "network_keys",
        &["public_key"],
        &[
            col("public_key", Text),
            col("created_at", Time),
            col("retired_at", Time),
        ],
    ),
    table(
        "checkpoints",
        &["seq"],
        &[
            col("seq", Int),
            col("head", Text),
            col("time", Time),
            col("tx_count", Int),
            col("credit_sum", Int),
            col("public_key", Text),
            col("signature", Text),
        ],
    ),
    // After the transactions: a lock refuses any transaction dated inside it.
    table(
        "period_locks",
        &["through"],
        &[
            col("through", Date),
            col("locked_at", Time),
            col("actor", Text),
            col("ends_at", Time),
        ],
    ),
    identity(
        table(
            "action_log",
            &["id"],
            &[
                col("id", Int),
                col("time", Int),
                col("actor_user_id", Int),
                col("actor", Text),
                col("action", Text),
                col("member_id", Int),
                col("account_id", Int),
                col("reason", Text),
                col("before", Text),
                col("after", Text),
                col("idempotency_key", Text),
            ],
        ),
        "id",
    ),
    // Derived from the ledger (migration 0013); copied with the mark that says which
    // transactions they count, so the target's reports go on from the same point.
    table(
        "stats_months",
        &["month", "account_id"],
        &[
            col("month", Text),
            col("account_id", Int),
            col("net", Int),
            col("sales", Int),
            col("sales_count", Int),
            col("purchases", Int),
        ],
    ),
    table(
        "stats_state",
        &["id"],
        &[
            col("id", Int),
            col("seq_through", Int),
            col("month_floor", Text),
        ],
    ),
    // The accountants' account mapping (migration 0016).
    table(
        "account_mappings",
        &["scope_key"],
        &[
            col("scope_key", Text),
            col("mapping", Text),
            col("updated_at", Int),
            col("updated_by", Text),
        ],
    ),
];

/// SQLite tables that are not copied as tables, and why.
pub const SQLITE_ONLY: &[(&str, &str)] = &[
    (
        "_sqlx_migrations",
        "each database records its own migrations",
    ),
    (
        "id_counters",
        "becomes the PostgreSQL sequences (Ids::Counter)",
    ),
];
/// PostgreSQL tables that are not copied.
pub const POSTGRES_ONLY: &[(&str, &str)] = &[(
    "_sqlx_migrations",
    "each database records its own migrations",
)];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("--from must be a SQLite database (sqlite://PATH), got {0:?}")]
    SourceNotSqlite(String),
    #[error("the source database {0} does not exist")]
    SourceMissing(String),
    #[error("--to must be a PostgreSQL database (postgres://...), got a {0} URL")]
    TargetNotPostgres(&'static str),
    #[error("the source has migrations {applied:?} applied, this troc has {binary:?}: run `troc migrate --database-url SOURCE` with this troc first (or use the troc that wrote it)")]
    SourceMigrations { applied: Vec<i64>, binary: Vec<i64> },
    #[error("the target database is not empty: {0}. migrate-data only copies into a new, empty database; nothing was changed")]
    TargetNotEmpty(String),
    #[error("the copy list does not match the schema (a migration added something migrate-data does not copy): {}", .0.join("; "))]
    SchemaGap(Vec<String>),
    #[error("the source is busy (another process holds its write lock): stop troc serve and try again ({0})")]
    SourceBusy(String),
    #[error("table {table}: the copy differs from the source ({source_rows} rows, digest {source_digest} / {target_rows} rows, digest {target_digest}); nothing was committed")]
    Mismatch {
        table: &'static str,
        source_rows: u64,
        target_rows: u64,
        source_digest: String,
        target_digest: String,
    },
    #[error("the target does not verify after the copy: {0}. The target holds the copy: drop it, check the source with `troc verify`, and report the problem")]
    Broken(String),
    #[error("{0} holds a value of the wrong kind: {1}")]
    Value(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<sqlx::Error> for MigrateError {
    fn from(error: sqlx::Error) -> MigrateError {
        MigrateError::Store(StoreError::Database(error))
    }
}

/// One table as copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub name: &'static str,
    pub rows: u64,
    /// SHA-256 (hex) of the table's values in key order, equal on both sides.
    pub digest: String,
}

#[derive(Debug, Clone)]
pub struct MigrateReport {
    pub tables: Vec<TableReport>,
    /// What `verify_ledger` found on the target.
    pub verified: AuditSummary,
}

/// Copies the network of the SQLite database `from` into the empty PostgreSQL database
/// `to`, writing progress lines to `progress`. See the module documentation.
pub async fn migrate_data(
    from: &str,
    to: &str,
    progress: &mut dyn Write,
) -> Result<MigrateReport, MigrateError> {
    let path = sqlite_path(from).ok_or_else(|| MigrateError::SourceNotSqlite(from.to_owned()))?;
    if !path.exists() {
        return Err(MigrateError::SourceMissing(path.display().to_string()));
    }
    let kind = BackendKind::from_url(to)?;
    if kind != BackendKind::Postgres {
        return Err(MigrateError::TargetNotPostgres(kind.as_str()));
    }
    let source = Store::connect_without_migrating(from).await?;
    let target = Store::connect_without_migrating(to).await?;
    let result = run(&source, &target, progress).await;
    source.close().await;
    target.close().await;
    result
}

async fn run(
    source: &Store,
    target: &Store,
    progress: &mut dyn Write,
) -> Result<MigrateReport, MigrateError> {
    let binary = migration_versions(BackendKind::Sqlite);
    let applied = source.applied_migrations().await?;
    if applied != binary {
        return Err(MigrateError::SourceMigrations { applied, binary });
    }
    let gaps = schema_gaps(source).await?;
    if !gaps.is_empty() {
        return Err(MigrateError::SchemaGap(gaps));
    }
    writeln!(progress, "migrate-data: checking that the target is empty")?;
    check_target_empty(target).await?;
    target.migrate().await?;
    let gaps = schema_gaps(target).await?;
    if !gaps.is_empty() {
        return Err(MigrateError::SchemaGap(gaps));
    }
    let (Backend::Sqlite(source_pool), Backend::Postgres(target_pool)) =
        (source.backend(), target.backend())
    else {
        unreachable!("checked above");
    };
    let mut src = source_pool.acquire().await?;
    if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *src).await {
        return Err(MigrateError::SourceBusy(error.to_string()));
    }
    let mut dst = target_pool.acquire().await?;
    let copied = copy_all(&mut src, &mut dst, progress).await;
    // The source was only read.
    let _ = sqlx::query("ROLLBACK").execute(&mut *src).await;
    drop(src);
    drop(dst);
    let tables = copied?;
    writeln!(
        progress,
        "migrate-data: committed; verifying the target (invariants, hash chain, checkpoints, signatures)"
    )?;
    match target.check_invariants().await? {
        Ok(()) => {}
        Err(violation) => return Err(MigrateError::Broken(violation.to_string())),
    }
    let verified = match target.verify_ledger().await? {
        Ok(summary) => summary,
        Err(broken) => return Err(MigrateError::Broken(broken.to_string())),
    };
    writeln!(
        progress,
        "migrate-data: OK: {} transactions, head {}, {} checkpoints, {} accounts",
        verified.transactions, verified.head, verified.checkpoints, verified.accounts
    )?;
    Ok(MigrateReport { tables, verified })
}

/// Copies and compares every table inside one target transaction, then commits.
async fn copy_all(
    src: &mut SqliteConnection,
    dst: &mut PgConnection,
    progress: &mut dyn Write,
) -> Result<Vec<TableReport>, MigrateError> {
    let mut tx = dst.begin().await?;
    let mut reports = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let report = copy_table(src, &mut tx, table, progress).await?;
        reports.push(report);
    }
    for table in TABLES {
        if let Rows::LinkedLater(column) = table.rows {
            link_later(src, &mut tx, table, column).await?;
        }
    }
    for table in TABLES {
        set_ids(src, &mut tx, table).await?;
    }
    writeln!(
        progress,
        "migrate-data: comparing both sides table by table"
    )?;
    for (table, copied) in TABLES.iter().zip(&reports) {
        let (rows, digest) = digest_target(&mut tx, table).await?;
        if rows != copied.rows || digest != copied.digest {
            return Err(MigrateError::Mismatch {
                table: table.name,
                source_rows: copied.rows,
                target_rows: rows,
                source_digest: copied.digest.clone(),
                target_digest: digest,
            });
        }
    }
    writeln!(
        progress,
        "migrate-data: every table has the same rows and digest; committing (PostgreSQL checks every transaction balances)"
    )?;
    tx.commit().await?;
    Ok(reports)
}

/// One value, as both backends decode it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

/// Feeds one value to a table digest: a tag, then a fixed-width or length-prefixed
/// encoding, so that no two rows encode alike. Times count in microseconds, PostgreSQL's
/// precision (the store writes no finer time; see [`decode_sqlite`] for older rows).
fn digest_value(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Null => hasher.update([0u8]),
        Value::Int(i) => {
            hasher.update([1u8]);
            hasher.update(i.to_be_bytes());
        }
        Value::Text(s) => {
            hasher.update([2u8]);
            hasher.update((s.len() as u64).to_be_bytes());
            hasher.update(s.as_bytes());
        }
        Value::Bool(b) => hasher.update([3u8, u8::from(*b)]),
        Value::Time(t) => {
            hasher.update([4u8]);
            hasher.update(t.timestamp_micros().to_be_bytes());
        }
        Value::Date(d) => {
            hasher.update([5u8]);
            hasher.update(chrono::Datelike::num_days_from_ce(d).to_be_bytes());
        }
    }
}

/// Decodes column `i` of a row of either backend by its kind.
macro_rules! decode {
    ($row:expr, $i:expr, $kind:expr) => {
        match $kind {
            Kind::Int => $row
                .try_get::<Option<i64>, _>($i)
                .map(|v| v.map_or(Value::Null, Value::Int)),
            Kind::Text => $row
                .try_get::<Option<String>, _>($i)
                .map(|v| v.map_or(Value::Null, Value::Text)),
            Kind::Bool => $row
                .try_get::<Option<bool>, _>($i)
                .map(|v| v.map_or(Value::Null, Value::Bool)),
            Kind::Time => $row
                .try_get::<Option<DateTime<Utc>>, _>($i)
                .map(|v| v.map_or(Value::Null, Value::Time)),
            Kind::Date => $row
                .try_get::<Option<NaiveDate>, _>($i)
                .map(|v| v.map_or(Value::Null, Value::Date)),
        }
    };
}

/// A SQLite row as it will be on PostgreSQL. A time finer than a microsecond (written by
/// an older troc: hold expiries were kept as given) is truncated to the microsecond, the
/// most PostgreSQL holds; `truncated` counts them. Such times are never hashed (the chain's
/// transaction times are whole microseconds), so nothing verifiable changes.
fn decode_sqlite(
    table: &Table,
    row: &SqliteRow,
    truncated: &mut u64,
) -> Result<Vec<Value>, MigrateError> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, c) in table.columns.iter().enumerate() {
        let value =
            decode!(row, i, c.kind).map_err(|e| MigrateError::Value(table.name, e.to_string()))?;
        values.push(match value {
            Value::Time(t) if t.timestamp_subsec_nanos() % 1_000 != 0 => {
                *truncated += 1;
                let micros =
                    DateTime::from_timestamp_micros(t.timestamp_micros()).ok_or_else(|| {
                        MigrateError::Value(table.name, format!("time {t} out of range"))
                    })?;
                Value::Time(micros)
            }
            other => other,
        });
    }
    Ok(values)
}

fn decode_postgres(table: &Table, row: &PgRow) -> Result<Vec<Value>, MigrateError> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            decode!(row, i, c.kind).map_err(|e| MigrateError::Value(table.name, e.to_string()))
        })
        .collect()
}

/// A page of rows, column by column, ready to bind as PostgreSQL arrays.
enum Values {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<DateTime<Utc>>>),
    Date(Vec<Option<NaiveDate>>),
}

impl Values {
    fn new(kind: Kind) -> Values {
        let n = COPY_PAGE_ROWS;
        match kind {
            Kind::Int => Values::Int(Vec::with_capacity(n)),
            Kind::Text => Values::Text(Vec::with_capacity(n)),
            Kind::Bool => Values::Bool(Vec::with_capacity(n)),
            Kind::Time => Values::Time(Vec::with_capacity(n)),
            Kind::Date => Values::Date(Vec::with_capacity(n)),
        }
    }

    fn push(&mut self, value: Value) {
        match (self, value) {
            (Values::Int(v), Value::Int(x)) => v.push(Some(x)),
            (Values::Int(v), _) => v.push(None),
            (Values::Text(v), Value::Text(x)) => v.push(Some(x)),
            (Values::Text(v), _) => v.push(None),
            (Values::Bool(v), Value::Bool(x)) => v.push(Some(x)),
            (Values::Bool(v), _) => v.push(None),
            (Values::Time(v), Value::Time(x)) => v.push(Some(x)),
            (Values::Time(v), _) => v.push(None),
            (Values::Date(v), Value::Date(x)) => v.push(Some(x)),
            (Values::Date(v), _) => v.push(None),
        }
    }

    fn ints(&self) -> Vec<Option<i64>> {
        match self {
            Values::Int(v) => v.clone(),
            _ => Vec::new(),
        }
    }

    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        match self {
            Values::Int(v) => query.bind(v.clone()),
            Values::Text(v) => query.bind(v.clone()),
            Values::Bool(v) => query.bind(v.clone()),
            Values::Time(v) => query.bind(v.clone()),
            Values::Date(v) => query.bind(v.clone()),
        }
    }
}

struct Page {
    columns: Vec<Values>,
    len: usize,
}

impl Page {
    fn new(table: &Table) -> Page {
        Page {
            columns: table.columns.iter().map(|c| Values::new(c.kind)).collect(),
            len: 0,
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push(value);
        }
        self.len += 1;
    }
}

fn column_index(table: &Table, name: &str) -> usize {
    table
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("{}.{name} is in the copy list", table.name))
}

fn sqlite_select(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.sqlite {
            Some(expr) => format!("{expr} AS {}", c.name),
            None => format!("\"{}\"", c.name),
        })
        .collect();
    let order: Vec<String> = table.key.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        table.name,
        order.join(", ")
    )
}

/// Reads a table from PostgreSQL in the same order as SQLite: text keys in byte order
/// (`COLLATE "C"`, SQLite's BINARY), integer columns widened to BIGINT.
fn postgres_select(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Int => format!("\"{}\"::bigint", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect();
    let order: Vec<String> = table
        .key
        .iter()
        .map(|k| {
            let kind = table.columns[column_index(table, k)].kind;
            if kind == Kind::Text {
                format!("\"{k}\" COLLATE \"C\"")
            } else {
                format!("\"{k}\"")
            }
        })
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        table.name,
        order.join(", ")
    )
}

fn postgres_insert(table: &Table) -> String {
    let names: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let arrays: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, c.kind.pg_array()))
        .collect();
    format!(
        "INSERT INTO {} ({}) SELECT * FROM UNNEST({})",
        table.name,
        names.join(", "),
        arrays.join(", ")
    )
}

async fn copy_table(
    src: &mut SqliteConnection,
    dst: &mut PgConnection,
    table: &Table,
    progress: &mut dyn Write,
) -> Result<TableReport, MigrateError> {
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name))
        .fetch_one(&mut *src)
        .await?;
    if matches!(table.rows, Rows::Seeded | Rows::SeededDefaults) {
        sqlx::query(&format!("DELETE FROM {}", table.name))
            .execute(&mut *dst)
            .await?;
    }
    let select = sqlite_select(table);
    let insert = postgres_insert(table);
    let mut hasher = Sha256::new();
    let mut copied = 0u64;
    let mut page = Page::new(table);
    let mut last_report = Instant::now();
    let mut truncated = 0u64;
    let mut rows = sqlx::query(&select).fetch(&mut *src);
    while let Some(row) = rows.try_next().await? {
        let values = decode_sqlite(table, &row, &mut truncated)?;
        for value in &values {
            digest_value(&mut hasher, value);
        }
        page.push(values);
        if page.len == COPY_PAGE_ROWS {
            write_page(
                dst,
                table,
                &insert,
                std::mem::replace(&mut page, Page::new(table)),
            )
            .await?;
            copied += COPY_PAGE_ROWS as u64;
            if last_report.elapsed() >= PROGRESS_EVERY {
                writeln!(
                    progress,
                    "migrate-data: {}: {copied}/{total} rows",
                    table.name
                )?;
                last_report = Instant::now();
            }
        }
    }
    drop(rows);
    copied += page.len as u64;
    if page.len > 0 {
        write_page(dst, table, &insert, page).await?;
    }
    writeln!(
        progress,
        "migrate-data: {}: {copied} rows copied",
        table.name
    )?;
    if truncated > 0 {
        writeln!(
            progress,
            "migrate-data: {}: {truncated} times had digits below the microsecond, which \
             PostgreSQL does not keep: truncated to the microsecond",
            table.name
        )?;
    }
    Ok(TableReport {
        name: table.name,
        rows: copied,
        digest: hex::encode(hasher.finalize()),
    })
}

async fn write_page(
    dst: &mut PgConnection,
    table: &Table,
    insert: &str,
    mut page: Page,
) -> Result<(), MigrateError> {
    let opened_at_zero = table.rows == Rows::OpenedAtZero;
    if let Rows::LinkedLater(column) = table.rows {
        let i = column_index(table, column);
        page.columns[i] = Values::Int(vec![None; page.len]);
    }
    let mut fixup = None;
    if opened_at_zero {
        // The insert trigger wants new accounts at zero: insert them so, then set the
        // copied balances and pending amounts.
        let (id, balance, pending, limit) = (
            column_index(table, "id"),
            column_index(table, "balance"),
            column_index(table, "pending"),
            column_index(table, "credit_limit"),
        );
        fixup = Some((
            page.columns[id].ints(),
            page.columns[balance].ints(),
            page.columns[pending].ints(),
            page.columns[limit].ints(),
        ));
        page.columns[balance] = Values::Int(vec![Some(0); page.len]);
        page.columns[pending] = Values::Int(vec![Some(0); page.len]);
    }
    let mut query = sqlx::query(insert);
    for column in &page.columns {
        query = column.bind(query);
    }
    query.execute(&mut *dst).await?;
    if let Some((ids, balances, pending, limits)) = fixup {
        // The credit-limit trigger refuses a balance lowered below -credit_limit; a manager
        // may have lowered a limit below an existing debt, so the balance goes in under a
        // limit wide enough for it, and the real limit after (changing no balance).
        sqlx::query(
            "UPDATE accounts a SET balance = u.balance, pending = u.pending, \
             credit_limit = GREATEST(u.credit_limit, -u.balance) \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             AS u(id, balance, pending, credit_limit) WHERE a.id = u.id",
        )
        .bind(&ids)
        .bind(&balances)
        .bind(&pending)
        .bind(&limits)
        .execute(&mut *dst)
        .await?;
        sqlx::query(
            "UPDATE accounts a SET credit_limit = u.credit_limit \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS u(id, credit_limit) \
             WHERE a.id = u.id AND a.credit_limit <> u.credit_limit",
        )
        .bind(&ids)
        .bind(&limits)
        .execute(&mut *dst)
        .await?;
    }
    Ok(())
}

/// Sets a [`Rows::LinkedLater`] column from the source, page by page, once the table it
/// points at is copied.
async fn link_later(
    src: &mut SqliteConnection,
    dst: &mut PgConnection,
    table: &Table,
    column: &'static str,
) -> Result<(), MigrateError> {
    let key = table.key[0];
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT \"{key}\", \"{column}\" FROM {} WHERE \"{column}\" IS NOT NULL \
             AND \"{key}\" > $1 ORDER BY \"{key}\" LIMIT $2",
            table.name
        ))
        .bind(after)
        .bind(COPY_PAGE_ROWS as i64)
        .fetch_all(&mut *src)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.0;
        let (keys, values): (Vec<i64>, Vec<i64>) = rows.iter().copied().unzip();
        sqlx::query(&format!(
            "UPDATE {t} SET \"{column}\" = u.v FROM UNNEST($1::bigint[], $2::bigint[]) \
             AS u(k, v) WHERE {t}.\"{key}\" = u.k",
            t = table.name
        ))
        .bind(&keys)
        .bind(&values)
        .execute(&mut *dst)
        .await?;
        if rows.len() < COPY_PAGE_ROWS {
            return Ok(());
        }
    }
}

/// Sets the table's sequence past every copied id and past SQLite's own counter (ids a
/// deleted row once used are not handed out again either).
async fn set_ids(
    src: &mut SqliteConnection,
    dst: &mut PgConnection,
    table: &Table,
) -> Result<(), MigrateError> {
    let (column, counter, sequence) = match table.ids {
        Ids::None => return Ok(()),
        Ids::Identity(column) => (column, None, None),
        Ids::Counter { counter, sequence } => ("id", Some(counter), Some(sequence)),
    };
    let max_id: Option<i64> =
        sqlx::query_scalar(&format!("SELECT MAX(\"{column}\") FROM {}", table.name))
            .fetch_one(&mut *src)
            .await?;
    let counted: Option<i64> = match counter {
        Some(name) => {
            sqlx::query_scalar("SELECT value FROM id_counters WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *src)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = $1")
                .bind(table.name)
                .fetch_optional(&mut *src)
                .await?
        }
    };
    let last = max_id.unwrap_or(0).max(counted.unwrap_or(0));
    if last == 0 {
        return Ok(());
    }
    let sequence = match sequence {
        Some(sequence) => sequence.to_owned(),
        None => sqlx::query_scalar::<_, Option<String>>("SELECT pg_get_serial_sequence($1, $2)")
            .bind(table.name)
            .bind(column)
            .fetch_one(&mut *dst)
            .await?
            .ok_or_else(|| {
                MigrateError::SchemaGap(vec![format!(
                    "{}.{column} has no sequence on PostgreSQL",
                    table.name
                )])
            })?,
    };
    sqlx::query("SELECT setval($1::regclass, $2, true)")
        .bind(&sequence)
        .bind(last)
        .execute(&mut *dst)
        .await?;
    Ok(())
}

async fn digest_target(
    dst: &mut PgConnection,
    table: &Table,
) -> Result<(u64, String), MigrateError> {
    let select = postgres_select(table);
    let mut hasher = Sha256::new();
    let mut rows_seen = 0u64;
    let mut rows = sqlx::query(&select).fetch(&mut *dst);
    while let Some(row) = rows.try_next().await? {
        for value in decode_postgres(table, &row)? {
            digest_value(&mut hasher, &value);
        }
        rows_seen += 1;
    }
    Ok((rows_seen, hex::encode(hasher.finalize())))
}

/// The row counts and digests of every table of a store (either backend), computed as the
/// copy does: equal on a source and its copy.
pub async fn table_digests(store: &Store) -> Result<Vec<TableReport>, MigrateError> {
    let mut reports = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let mut hasher = Sha256::new();
        let mut rows_seen = 0u64;
        match store.backend() {
            Backend::Sqlite(pool) => {
                let select = sqlite_select(table);
                let mut rows = sqlx::query(&select).fetch(pool);
                let mut truncated = 0;
                while let Some(row) = rows.try_next().await? {
                    for value in decode_sqlite(table, &row, &mut truncated)? {
                        digest_value(&mut hasher, &value);
                    }
                    rows_seen += 1;
                }
            }
            Backend::Postgres(pool) => {
                let select = postgres_select(table);
                let mut rows = sqlx::query(&select).fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    for value in decode_postgres(table, &row)? {
                        digest_value(&mut hasher, &value);
                    }
                    rows_seen += 1;
                }
            }
        }
        reports.push(TableReport {
            name: table.name,
            rows: rows_seen,
            digest: hex::encode(hasher.finalize()),
        });
    }
    Ok(reports)
}

/// Refuses a target that holds anything: a table Troc does not know, a row in one of its
/// tables (the genesis `ledger_head` row its migration inserts excepted).
async fn check_target_empty(target: &Store) -> Result<(), MigrateError> {
    let Backend::Postgres(pool) = target.backend() else {
        unreachable!("the target is PostgreSQL");
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    for name in &tables {
        if POSTGRES_ONLY.iter().any(|(t, _)| t == name) {
            continue;
        }
        let Some(table) = TABLES.iter().find(|t| t.name == name) else {
            return Err(MigrateError::TargetNotEmpty(format!(
                "it has a table {name:?} that troc does not know"
            )));
        };
        let sql = match table.rows {
            // Defaults a migration seeds are replaced by the source's; they say nothing
            // about whether the target holds a network.
            Rows::SeededDefaults => continue,
            Rows::Seeded if table.name == "ledger_head" => format!(
                "SELECT COUNT(*) FROM {} WHERE seq <> 0 OR hash <> '{}'",
                table.name,
                genesis_hex()
            ),
            Rows::Seeded => format!("SELECT COUNT(*) FROM {} WHERE seq <> 0", table.name),
            _ => format!("SELECT COUNT(*) FROM {}", table.name),
        };
        let rows: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await?;
        if rows > 0 {
            return Err(MigrateError::TargetNotEmpty(format!(
                "table {} has {rows} rows",
                table.name
            )));
        }
    }
    Ok(())
}

/// Every difference between a store's schema and [`TABLES`]: tables or columns the copy
/// does not know, or knows but the schema lacks; on PostgreSQL, sequences it would not set.
pub async fn schema_gaps(store: &Store) -> Result<Vec<String>, MigrateError> {
    let kind = store.kind();
    let columns: Vec<(String, String)> =
        match store.backend() {
            Backend::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, c.cid",
                )
                .fetch_all(pool)
                .await?
            }
            Backend::Postgres(pool) => sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                 AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
                 WHERE c.table_schema = current_schema() ORDER BY 1, c.ordinal_position",
            )
            .fetch_all(pool)
            .await?,
        };
    let skipped: &[(&str, &str)] = match kind {
        BackendKind::Sqlite => SQLITE_ONLY,
        BackendKind::Postgres => POSTGRES_ONLY,
    };
    let mut gaps = Vec::new();
    let mut tables: Vec<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
    tables.dedup();
    for name in &tables {
        if skipped.iter().any(|(t, _)| t == name) {
            continue;
        }
        let Some(table) = TABLES.iter().find(|t| t.name == *name) else {
            gaps.push(format!(
                "table {name} ({}) is not in the copy list",
                kind.as_str()
            ));
            continue;
        };
        let present: Vec<&str> = columns
            .iter()
            .filter(|(t, _)| t == name)
            .map(|(_, c)| c.as_str())
            .collect();
        for column in &present {
            if !table
                .columns
                .iter()
                .any(|c| c.name == *column && (kind == BackendKind::Postgres || c.sqlite.is_none()))
            {
                gaps.push(format!(
                    "column {name}.{column} ({}) is not in the copy list",
                    kind.as_str()
                ));
            }
        }
        for column in table.columns {
            let expected = kind == BackendKind::Postgres || column.sqlite.is_none();
            if expected && !present.contains(&column.name) {
                gaps.push(format!(
                    "column {name}.{} is in the copy list but not in the {} schema",
                    column.name,
                    kind.as_str()
                ));
            }
        }
    }
    for table in TABLES {
        if !tables.contains(&table.name) {
            gaps.push(format!(
                "table {} is in the copy list but not in the {} schema",
                table.name,
                kind.as_str()
            ));
        }
    }
    if let Backend::Postgres(pool) = store.backend() {
        gaps.extend(sequence_gaps(pool).await?);
    }
    Ok(gaps)
}

/// PostgreSQL sequences that the copy would leave at their start.
async fn sequence_gaps(pool: &sqlx::PgPool) -> Result<Vec<String>, MigrateError> {
    let sequences: Vec<String> = sqlx::query_scalar(
        "SELECT sequence_name::text FROM information_schema.sequences \
         WHERE sequence_schema = current_schema() ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let mut covered = Vec::new();
    for table in TABLES {
        match table.ids {
            Ids::None => {}
            Ids::Counter { sequence, .. } => covered.push(sequence.to_owned()),
            Ids::Identity(column) => {
                let name: Option<String> =
                    sqlx::query_scalar("SELECT pg_get_serial_sequence($1, $2)")
                        .bind(table.name)
                        .bind(column)
                        .fetch_one(pool)
                        .await?;
                if let Some(name) = name {
                    // `public.accounts_id_seq`: the part after the schema.
                    covered.push(
                        name.rsplit('.')
                            .next()
                            .unwrap_or(&name)
                            .trim_matches('"')
                            .to_owned(),
                    );
                }
            }
        }
    }
    Ok(sequences
        .into_iter()
        .filter(|s| !covered.contains(s))
        .map(|s| format!("sequence {s} (postgres) is not set by the copy list"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_list_is_well_formed() {
        let mut names = std::collections::HashSet::new();
        for table in TABLES {
            assert!(names.insert(table.name), "{} listed twice", table.name);
            for key in table.key {
                column_index(table, key);
            }
            let mut columns = std::collections::HashSet::new();
            for column in table.columns {
                assert!(
                    columns.insert(column.name),
                    "{}.{} twice",
                    table.name,
                    column.name
                );
            }
            if let Ids::Identity(column) = table.ids {
                column_index(table, column);
            }
        }
        // Dependencies come first.
        let position = |name: &str| TABLES.iter().position(|t| t.name == name).unwrap();
        assert!(position("transactions") < position("postings"));
        assert!(position("transactions") < position("period_locks"));
        assert!(position("network_keys") < position("checkpoints"));
        assert!(position("members") < position("users"));
        assert!(position("users") < position("action_log"));
    }

    #[test]
    fn digests_tell_rows_apart() {
        let digest = |values: &[Value]| {
            let mut hasher = Sha256::new();
            for value in values {
                digest_value(&mut hasher, value);
            }
            hex::encode(hasher.finalize())
        };
        let a = digest(&[Value::Text("ab".into()), Value::Text("c".into())]);
        let b = digest(&[Value::Text("a".into()), Value::Text("bc".into())]);
        assert_ne!(a, b);
        assert_ne!(digest(&[Value::Null]), digest(&[Value::Int(0)]));
        assert_ne!(digest(&[Value::Int(1)]), digest(&[Value::Bool(true)]));
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        let next = DateTime::from_timestamp(1_700_000_000, 123_457_000).unwrap();
        assert_ne!(digest(&[Value::Time(t)]), digest(&[Value::Time(next)]));
    }
}
