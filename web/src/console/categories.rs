//! Member categories and their default limits. A new member gets its category's defaults;
//! changing a category's defaults changes no existing member's limits (each member's limits
//! are changed one by one, with a reason, through `members::set_limits`).

use ledger::Amount;
use serde_json::json;
use sqlx::Row;

use super::{Actor, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::now_unix;
use crate::store::action_log::insert_action;
use crate::store::Store;

/// The category a member gets when none is named (created by migration 0012).
pub const DEFAULT_CATEGORY: &str = "standard";
/// Longest category code (`a-z 0-9 - _`), in characters.
pub const CATEGORY_CODE_LEN_MAX: usize = 32;
/// Longest category name, in characters.
pub const CATEGORY_NAME_LEN_MAX: usize = 100;
/// Most categories a network may define.
pub const CATEGORIES_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub credit_limit: Amount,
    pub max_balance: Option<Amount>,
}

/// A category as typed: code (on creation only), name and default limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub credit_limit: Amount,
    pub max_balance: Option<Amount>,
}

fn category_json(c: &CategoryInput) -> serde_json::Value {
    json!({
        "code": c.code,
        "name": c.name,
        "credit_limit": c.credit_limit.minor(),
        "max_balance": c.max_balance.map(Amount::minor),
    })
}

const COLUMNS: &str = "id, code, name, credit_limit, max_balance";

fn from_row(row: (i64, String, String, i64, Option<i64>)) -> Category {
    let (id, code, name, credit_limit, max_balance) = row;
    Category {
        id,
        code,
        name,
        credit_limit: Amount::from_minor(credit_limit),
        max_balance: max_balance.map(Amount::from_minor),
    }
}

/// Every category, by name (readable by anyone who reads the console, and by the public
/// application form, which shows none of the limits).
pub async fn list(store: &Store) -> ConsoleResult<Vec<Category>> {
    let sql = format!("SELECT {COLUMNS} FROM member_categories ORDER BY name, id LIMIT $1");
    let rows: Vec<(i64, String, String, i64, Option<i64>)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(CATEGORIES_MAX as i64).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn by_code(store: &Store, code: &str) -> ConsoleResult<Option<Category>> {
    let sql = format!("SELECT {COLUMNS} FROM member_categories WHERE code = $1");
    let row: Option<(i64, String, String, i64, Option<i64>)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(code).fetch_optional(pool).await?
    });
    Ok(row.map(from_row))
}

pub async fn by_id(store: &Store, id: i64) -> ConsoleResult<Option<Category>> {
    let sql = format!("SELECT {COLUMNS} FROM member_categories WHERE id = $1");
    let row: Option<(i64, String, String, i64, Option<i64>)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(from_row))
}

fn code_is_valid(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= CATEGORY_CODE_LEN_MAX
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn check(input: &CategoryInput, issues: &mut Issues) -> CategoryInput {
    let name = issues.text(Field::Name, &input.name, CATEGORY_NAME_LEN_MAX);
    issues.limit(Field::CreditLimit, input.credit_limit);
    if let Some(max) = input.max_balance {
        issues.limit(Field::MaxBalance, max);
    }
    CategoryInput {
        code: input.code.trim().to_owned(),
        name,
        credit_limit: input.credit_limit,
        max_balance: input.max_balance,
    }
}

/// Creates a category (managers only), logged as `category.create`.
pub async fn create(store: &Store, actor: &Actor, input: &CategoryInput) -> ConsoleResult<i64> {
    actor.require_manager()?;
    let mut issues = Issues::default();
    let input = check(input, &mut issues);
    if !code_is_valid(&input.code) {
        issues.add(Field::Code, Problem::InvalidCode);
    } else if by_code(store, &input.code).await?.is_some() {
        issues.add(Field::Code, Problem::CodeTaken);
    }
    if list(store).await?.len() >= CATEGORIES_MAX {
        issues.add(
            Field::Code,
            Problem::OutOfRange {
                min: 0,
                max: CATEGORIES_MAX as i64,
            },
        );
    }
    issues.finish()?;
    let note = actor
        .note("category.create", "")?
        .states(serde_json::Value::Null, category_json(&input));
    let now = now_unix();
    let sql = "INSERT INTO member_categories (code, name, credit_limit, max_balance, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
    let id: i64 = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(sql)
            .bind(&input.code).bind(&input.name).bind(input.credit_limit.minor())
            .bind(input.max_balance.map(Amount::minor)).bind(now)
            .fetch_one(&mut *tx).await?;
        insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// Changes a category's name and default limits (managers only), logged as
/// `category.update` with before and after. Existing members keep their limits.
pub async fn update(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &CategoryInput,
) -> ConsoleResult<()> {
    actor.require_manager()?;
    let before = by_id(store, id).await?.ok_or(ConsoleError::NotFound)?;
    let mut issues = Issues::default();
    let mut input = check(input, &mut issues);
    issues.finish()?;
    input.code = before.code.clone();
    let before_json = category_json(&CategoryInput {
        code: before.code.clone(),
        name: before.name.clone(),
        credit_limit: before.credit_limit,
        max_balance: before.max_balance,
    });
    let note = actor
        .note("category.update", "")?
        .states(before_json, category_json(&input));
    let sql = "UPDATE member_categories SET name = $1, credit_limit = $2, max_balance = $3, \
               updated_at = $4 WHERE id = $5";
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(sql)
            .bind(&input.name).bind(input.credit_limit.minor())
            .bind(input.max_balance.map(Amount::minor)).bind(now_unix()).bind(id)
            .execute(&mut *tx).await?;
        insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// How many members each category has, by category id.
pub async fn member_counts(store: &Store) -> ConsoleResult<Vec<(i64, i64)>> {
    let sql = "SELECT c.id, COUNT(m.id) FROM member_categories c \
               LEFT JOIN members m ON COALESCE(m.category_id, \
               (SELECT id FROM member_categories WHERE code = 'standard')) = c.id \
               GROUP BY c.id";
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(sql).fetch_all(pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(ConsoleError::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_codes() {
        assert!(code_is_valid("pme-2"));
        assert!(code_is_valid(&"a".repeat(CATEGORY_CODE_LEN_MAX)));
        assert!(!code_is_valid(&"a".repeat(CATEGORY_CODE_LEN_MAX + 1)));
        assert!(!code_is_valid("PME"));
        assert!(!code_is_valid(""));
        assert!(!code_is_valid("a b"));
    }
}
