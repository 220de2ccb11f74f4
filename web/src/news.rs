//! The network's announcements (docs/web.md, "Announcements", migration 0041): a manager
//! publishes a short text to every member (an event, a change of rules, a holiday closing),
//! shown on the members' dashboards until its last day and listed on `/news`; a manager may
//! withdraw it with a reason. Both are logged (`announcement.publish`,
//! `announcement.withdraw`).
//!
//! Not here: the pages (`http::news`, `http::console::news`) and the API (`http::api::news`);
//! e-mail (an announcement is read where members already look: their dashboard).

use chrono::{Duration, NaiveDate};
use serde_json::json;

use crate::console::{Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::now_unix;
use crate::store::action_log::{insert_action, Conn};
use crate::store::{BackendKind, Store, StoreResult};

/// Longest title, in characters.
pub const TITLE_LEN_MAX: usize = 120;
/// Longest text, in characters.
pub const MESSAGE_LEN_MAX: usize = 4_000;
/// The last day shown is at most this many days after the day it is published.
pub const SHOWN_DAYS_MAX: i64 = 365;
/// Announcements shown at once at most: publishing one more waits for one to end or be
/// withdrawn (the dashboards stay short).
pub const CURRENT_MAX: i64 = 10;
/// Announcements `/news` and the API list at most, newest first.
pub const LISTED_MAX: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub message: String,
    /// The last day it is shown on the dashboards (UTC).
    pub shown_until: NaiveDate,
    /// Who published it: its display name.
    pub author: String,
    pub published_at: i64,
    /// When and why a manager withdrew it.
    pub withdrawn: Option<(i64, String)>,
}

impl Announcement {
    /// Shown on the dashboards on `today`.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        self.withdrawn.is_none() && self.shown_until >= today
    }
}

/// What a manager publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnnouncement {
    pub title: String,
    pub message: String,
    /// `YYYY-MM-DD`, from today to [`SHOWN_DAYS_MAX`] days ahead.
    pub shown_until: String,
}

const COLUMNS: &str = "announcements.id, announcements.title, announcements.body, \
    announcements.ends_on, users.display_name, announcements.published_at, \
    announcements.withdrawn_at, announcements.withdrawn_reason \
    FROM announcements JOIN users ON users.id = announcements.author_user_id";

type Row = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

fn from_row(row: Row) -> StoreResult<Announcement> {
    let (id, title, message, ends_on, author, published_at, withdrawn_at, reason) = row;
    let shown_until = NaiveDate::parse_from_str(&ends_on, "%Y-%m-%d").map_err(|_| {
        crate::store::StoreError::Corrupt(format!("announcement {id}: ends_on {ends_on:?}"))
    })?;
    Ok(Announcement {
        id,
        title,
        message,
        shown_until,
        author,
        published_at,
        withdrawn: withdrawn_at.zip(reason),
    })
}

/// The announcements shown on `today`, newest first (at most [`CURRENT_MAX`]).
pub async fn current(store: &Store, today: NaiveDate) -> StoreResult<Vec<Announcement>> {
    let sql = format!(
        "SELECT {COLUMNS} WHERE announcements.withdrawn_at IS NULL \
         AND announcements.ends_on >= $1 ORDER BY announcements.id DESC LIMIT {CURRENT_MAX}"
    );
    let rows: Vec<Row> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(today.to_string()).fetch_all(pool).await?
    });
    rows.into_iter().map(from_row).collect()
}

/// Every announcement, withdrawn and ended ones too, newest first (at most
/// [`LISTED_MAX`]).
pub async fn listed(store: &Store) -> StoreResult<Vec<Announcement>> {
    let sql = format!("SELECT {COLUMNS} ORDER BY announcements.id DESC LIMIT {LISTED_MAX}");
    let rows: Vec<Row> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    rows.into_iter().map(from_row).collect()
}

/// One announcement.
pub async fn get(store: &Store, id: i64) -> StoreResult<Option<Announcement>> {
    let sql = format!("SELECT {COLUMNS} WHERE announcements.id = $1");
    let row: Option<Row> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    row.map(from_row).transpose()
}

/// Publishes an announcement (managers), logged as `announcement.publish`. Each field's
/// problem is named; with [`CURRENT_MAX`] shown already, `TooManyAnnouncements`.
pub async fn publish(
    store: &Store,
    actor: &Actor,
    new: &NewAnnouncement,
    today: NaiveDate,
) -> ConsoleResult<i64> {
    actor.require_manager()?;
    let mut issues = Issues::default();
    let title = issues.text(Field::Title, &new.title, TITLE_LEN_MAX);
    let message = issues.text(Field::Message, &new.message, MESSAGE_LEN_MAX);
    let shown_until = match NaiveDate::parse_from_str(new.shown_until.trim(), "%Y-%m-%d") {
        Ok(day) if day >= today && day <= today + Duration::days(SHOWN_DAYS_MAX) => day,
        _ => {
            issues.add(Field::ShownUntil, Problem::InvalidDate);
            today
        }
    };
    issues.finish()?;
    let note = actor.note("announcement.publish", &title)?;
    let today_text = today.to_string();
    let ends_on = shown_until.to_string();
    let begin = store.begin_write_sql();
    // The count and the insert in one write transaction: two managers publishing at once do
    // not pass the limit together.
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        if store.kind() == BackendKind::Postgres {
            // SQLite's `BEGIN IMMEDIATE` serialises the writers already.
            sqlx::query("SELECT id FROM console_settings WHERE id = 1 FOR UPDATE")
                .execute(&mut *tx).await?;
        }
        let shown: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM announcements WHERE withdrawn_at IS NULL AND ends_on >= $1")
            .bind(&today_text).fetch_one(&mut *tx).await?;
        if shown >= CURRENT_MAX {
            None
        } else {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO announcements (title, body, ends_on, author_user_id, published_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(&title).bind(&message).bind(&ends_on).bind(actor.user_id())
                .bind(now_unix()).fetch_one(&mut *tx).await?;
            let note = note.states(
                json!(null),
                json!({ "id": id, "title": title, "shown_until": ends_on }),
            );
            insert_action(Conn::from(&mut *tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
            Some(id)
        }
    });
    id.ok_or(ConsoleError::Conflict(Conflict::TooManyAnnouncements))
}

/// Withdraws an announcement (managers) with a reason, logged as `announcement.withdraw`.
/// Unknown: `NotFound`; withdrawn already: `AnnouncementWithdrawn`.
pub async fn withdraw(store: &Store, actor: &Actor, id: i64, reason: &str) -> ConsoleResult<()> {
    actor.require_manager()?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let announcement = get(store, id).await?.ok_or(ConsoleError::NotFound)?;
    if announcement.withdrawn.is_some() {
        return Err(ConsoleError::Conflict(Conflict::AnnouncementWithdrawn));
    }
    let note = actor.note("announcement.withdraw", &reason)?.states(
        json!({ "id": id, "title": announcement.title, "withdrawn": false }),
        json!({ "id": id, "title": announcement.title, "withdrawn": true }),
    );
    let begin = store.begin_write_sql();
    let done = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        let done = sqlx::query(
            "UPDATE announcements SET withdrawn_at = $1, withdrawn_reason = $2 \
             WHERE id = $3 AND withdrawn_at IS NULL")
            .bind(now_unix()).bind(&reason).bind(id).execute(&mut *tx).await?.rows_affected();
        if done == 1 {
            insert_action(Conn::from(&mut *tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
        }
        done
    });
    if done == 1 {
        Ok(())
    } else {
        Err(ConsoleError::Conflict(Conflict::AnnouncementWithdrawn))
    }
}
