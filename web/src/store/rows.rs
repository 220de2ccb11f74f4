//! Row shapes shared by both backends (plain tuples, so one query text decodes on SQLite and
//! PostgreSQL alike) and their conversion to the ledger's types.

use chrono::{DateTime, Utc};
use ledger::{
    Account, AccountId, AccountKind, AccountStatus, Amount, Hold, HoldId, HoldStatus,
    IdempotencyKey, Leg, Posting, Transaction, TxHeader, TxId, TxKind,
};

use super::{StoreError, StoreResult};

pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, kind, status, balance, pending, credit_limit, max_balance, negative_since";

pub(crate) type AccountRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<DateTime<Utc>>,
);

/// The accounts whose ids are the JSON array bound as `$1`, as ONE row holding a JSON array
/// (SQLite: sqlx's driver hands each result row over from its worker thread on its own; one
/// JSON row carries hundreds of accounts in one hand-off). Decode with
/// [`account_rows_from_json`].
pub(crate) fn sqlite_accounts_json_sql() -> String {
    format!(
        "SELECT json_group_array(json_array({ACCOUNT_COLUMNS})) FROM accounts WHERE {}",
        in_id_list(super::BackendKind::Sqlite, "id", 1)
    )
}

/// Account rows from a JSON array of `[ACCOUNT_COLUMNS...]` arrays (SQLite's
/// `json_group_array(json_array(...))`; times as stored, RFC 3339).
pub(crate) fn account_rows_from_json(json: &str) -> StoreResult<Vec<AccountRow>> {
    // `AccountRow` itself: chrono's serde reads the stored RFC 3339 times.
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("accounts read as JSON: {e}")))
}

pub(crate) fn account_from_row(row: AccountRow) -> StoreResult<Account> {
    let (id, kind, status, balance, pending, credit_limit, max_balance, negative_since) = row;
    let kind = AccountKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("account {id}: unknown kind {kind:?}")))?;
    let status = AccountStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("account {id}: unknown status {status:?}")))?;
    Ok(Account::from_parts(
        account_id(id)?,
        kind,
        status,
        Amount::from_minor(balance),
        Amount::from_minor(pending),
        Amount::from_minor(credit_limit),
        max_balance.map(Amount::from_minor),
        negative_since,
    )?)
}

pub(crate) const HOLD_COLUMNS: &str = "id, payer, payee, amount, reserved, created_at, \
     expires_at, status, reference, memo, capture_tx";

pub(crate) type HoldRow = (
    i64,
    i64,
    i64,
    i64,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    String,
    String,
    Option<i64>,
);

pub(crate) fn hold_from_row(row: HoldRow) -> StoreResult<Hold> {
    let (
        id,
        payer,
        payee,
        amount,
        reserved,
        created_at,
        expires_at,
        status,
        reference,
        memo,
        capture,
    ) = row;
    let status = HoldStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("hold {id}: unknown status {status:?}")))?;
    Ok(Hold {
        id: HoldId(unsigned(id)?),
        payer: account_id(payer)?,
        payee: account_id(payee)?,
        amount: Amount::from_minor(amount),
        reserved: Amount::from_minor(reserved),
        created_at,
        expires_at,
        status,
        reference,
        memo,
        capture: capture.map(|c| unsigned(c).map(TxId)).transpose()?,
    })
}

pub(crate) const TRANSACTION_COLUMNS: &str =
    "id, kind, time, reference, memo, idempotency_key, reverses";

pub(crate) type TransactionRow = (
    i64,
    String,
    DateTime<Utc>,
    String,
    String,
    Option<String>,
    Option<i64>,
);

/// (tx_id, account_id, amount, leg), ordered by tx_id then n.
pub(crate) type PostingRow = (i64, i64, i64, String);

pub(crate) fn transaction_from_rows(
    row: TransactionRow,
    postings: Vec<PostingRow>,
) -> StoreResult<Transaction> {
    let (id, kind, time, reference, memo, key, reverses) = row;
    let kind = TxKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("transaction {id}: unknown kind {kind:?}")))?;
    let idempotency_key = key
        .map(IdempotencyKey::new)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("transaction {id}: {e}")))?;
    let postings = postings
        .into_iter()
        .map(|(_, account, amount, leg)| {
            Ok(Posting {
                account: account_id(account)?,
                amount: Amount::from_minor(amount),
                leg: Leg::parse(&leg).ok_or_else(|| {
                    StoreError::Corrupt(format!("transaction {id}: unknown leg {leg:?}"))
                })?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let header = TxHeader {
        id: TxId(unsigned(id)?),
        kind,
        time,
        reference,
        memo,
        idempotency_key,
        reverses: reverses.map(|r| unsigned(r).map(TxId)).transpose()?,
    };
    Transaction::new(header, postings)
        .map_err(|e| StoreError::Corrupt(format!("transaction {id}: {e}")))
}

pub(crate) fn account_id(id: i64) -> StoreResult<AccountId> {
    Ok(AccountId(unsigned(id)?))
}

pub(crate) fn unsigned(id: i64) -> StoreResult<u64> {
    u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("negative id {id}")))
}

/// Ids are u64 in the core and BIGINT in the database; ids the store hands out are far
/// below 2^63, and an id from a client that does not fit cannot name anything stored.
pub(crate) fn db_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A list of ids as a JSON array: one bind parameter for any number of ids, read with
/// `json_each` (SQLite) or `jsonb_array_elements_text` (PostgreSQL).
pub(crate) fn id_list(ids: impl IntoIterator<Item = u64>) -> String {
    let ids: Vec<i64> = ids.into_iter().map(db_id).collect();
    serde_json::to_string(&ids).expect("a list of integers serialises")
}

/// `column IN (<the ids of JSON parameter $n>)` in the backend's dialect.
pub(crate) fn in_id_list(kind: super::BackendKind, column: &str, param: u32) -> String {
    match kind {
        super::BackendKind::Sqlite => {
            format!("{column} IN (SELECT value FROM json_each(${param}))")
        }
        // `= ANY(ARRAY(...))` is evaluated once, as an array: the planner then probes the
        // index on `column`, where `IN (SELECT ...)` may hash-join the whole table.
        super::BackendKind::Postgres => format!(
            "{column} = ANY(ARRAY(SELECT value::bigint \
             FROM jsonb_array_elements_text(${param}::jsonb)))"
        ),
    }
}

/// The latest time the stores compare with, 9999-12-31T23:59:59Z: "no upper bound" in a
/// query that takes one (four-digit years keep SQLite's text comparison in time order).
pub fn time_last() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).expect("year 9999")
}

/// Truncates to microseconds, the precision PostgreSQL keeps, so that what is decided and
/// what is read back are equal on both backends.
pub(crate) fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_rows_read_as_json_keep_every_column() {
        let json = r#"[[7,"member","frozen",-1250,300,5000,90000,"2026-12-02T06:33:35.199264+00:00"],
                       [8,"guarantee_fund","active",40,0,0,null,null]]"#;
        let rows = account_rows_from_json(json).unwrap();
        let since = DateTime::parse_from_rfc3339("2026-12-02T06:33:35.199264Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            rows,
            vec![
                (
                    7,
                    "member".to_owned(),
                    "frozen".to_owned(),
                    -1250,
                    300,
                    5000,
                    Some(90000),
                    Some(since)
                ),
                (
                    8,
                    "guarantee_fund".to_owned(),
                    "active".to_owned(),
                    40,
                    0,
                    0,
                    None,
                    None
                ),
            ]
        );
        let account = account_from_row(rows[0].clone()).unwrap();
        assert_eq!(account.balance().minor(), -1250);
        assert_eq!(account.negative_since(), Some(since));
        assert_eq!(account_rows_from_json("[]").unwrap(), vec![]);
    }

    #[test]
    fn account_rows_read_as_json_refuse_what_is_not_an_account() {
        for bad in [
            "{}",
            r#"[[7,"member"]]"#,
            r#"[[7,"member","active",0,0,0,null,"yesterday"]]"#,
        ] {
            assert!(
                matches!(account_rows_from_json(bad), Err(StoreError::Corrupt(_))),
                "{bad}"
            );
        }
    }
}
