//! Who entered a transaction for its member company (table `transaction_authors`, migration
//! 0025): the user's company and email as they were then.
//!
//! A caller attaches an [`Author`] to its [`Submission`](super::Submission)
//! (`Submission::authored`); the batch that accepts the operation writes the row in the same
//! database transaction as the transaction itself, so a payment and the name of whoever made
//! it commit together or not at all. A rejected operation, or one answered by the ledger's
//! own idempotency (a replay), writes none. The rows are append-only (database triggers).
//!
//! Readers: the company's own history and the API's transactions name the author only to
//! the author's company and the network's staff (read with the lines' other marks,
//! [`Store::line_marks`](super::Store::line_marks)); a counterparty never learns who in the
//! other company entered a payment.

use ledger::TxId;
use sqlx::QueryBuilder;

use super::rows::db_id;
use super::StoreResult;

/// Longest author kept (an email), in characters.
pub const AUTHOR_LEN_MAX: usize = 254;

/// Rows per multi-row statement (three parameters each: well under both backends' bounds).
const AUTHOR_ROWS_PER_STATEMENT: usize = 500;

/// The user who entered an operation, for its member company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    member_id: i64,
    author: String,
}

impl Author {
    /// `author` is the user's email (cut to [`AUTHOR_LEN_MAX`] characters; emails are
    /// validated shorter when users are created).
    pub fn new(member_id: i64, author: &str) -> Author {
        Author {
            member_id,
            author: author.chars().take(AUTHOR_LEN_MAX).collect(),
        }
    }
    pub fn member_id(&self) -> i64 {
        self.member_id
    }
    pub fn author(&self) -> &str {
        &self.author
    }
}

/// One row to write: an accepted transaction and its author.
#[derive(Debug, Clone)]
pub(crate) struct AuthorRow {
    pub(crate) tx: TxId,
    pub(crate) author: Author,
}

/// Writes the batch's author rows on SQLite (inside the batch's transaction), in multi-row
/// statements.
pub(crate) async fn write_sqlite(
    conn: &mut sqlx::SqliteConnection,
    rows: &[AuthorRow],
) -> StoreResult<()> {
    for chunk in rows.chunks(AUTHOR_ROWS_PER_STATEMENT) {
        let mut query: QueryBuilder<sqlx::Sqlite> =
            QueryBuilder::new("INSERT INTO transaction_authors (tx_id, member_id, author) ");
        query.push_values(chunk, |mut row, r| {
            row.push_bind(db_id(r.tx.0))
                .push_bind(r.author.member_id)
                .push_bind(r.author.author.clone());
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the batch's author rows on PostgreSQL (inside the batch's transaction) in ONE
/// statement whose text never changes, as the other writes of a batch: arrays unnested.
/// A multi-row VALUES list has one text per row count, and each text is prepared and
/// planned again and takes a place in the connection's statement cache, pushing the
/// batch's other statements out of it.
pub(crate) async fn write_postgres(
    conn: &mut sqlx::PgConnection,
    rows: &[AuthorRow],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let txs: Vec<i64> = rows.iter().map(|r| db_id(r.tx.0)).collect();
    let members: Vec<i64> = rows.iter().map(|r| r.author.member_id).collect();
    let authors: Vec<&str> = rows.iter().map(|r| r.author.author.as_str()).collect();
    sqlx::query(
        "INSERT INTO transaction_authors (tx_id, member_id, author) \
         SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[])",
    )
    .bind(txs)
    .bind(members)
    .bind(authors)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
