//! API tokens and the remembered answers of API writes (migration 0015, `docs/api.md`).
//!
//! A token is `troc_` followed by 64 hex characters (32 random bytes); only its SHA-256 is
//! stored, and it is shown once. Each token has a scope: `read` (the caller's own things),
//! `pay` (read, plus payments, payment requests and offers) or `manage` (what a network
//! manager or accountant may do). Which scopes a user may hold depends on their role
//! ([`scopes_for`]).

use std::sync::OnceLock;

use sqlx::Row;

use crate::dispatch;
use crate::people::{self, now_unix, Member, Role, User};
use crate::store::{Store, StoreError, StoreResult};

/// The visible prefix of every API token.
pub const TOKEN_PREFIX: &str = "troc_";
/// Tokens a user may hold at once (revoked ones do not count).
pub const TOKENS_PER_USER_MAX: i64 = 20;
/// Longest token name, in characters.
pub const TOKEN_NAME_LEN_MAX: usize = 100;
/// How long an API write's answer is remembered for its `Idempotency-Key`.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// `last_used_at` is written at most this often per token (reads stay reads).
pub const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Pay,
    Manage,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Pay, Scope::Manage];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Pay => "pay",
            Scope::Manage => "manage",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The scopes a role may hold: members' owners and staff `read` and `pay`, member
/// accountants `read`, the network's managers and accountants `read` and `manage`.
pub fn scopes_for(role: Role) -> &'static [Scope] {
    match role {
        Role::Owner | Role::Staff => &[Scope::Read, Scope::Pay],
        Role::MemberAccountant => &[Scope::Read],
        Role::Manager | Role::Accountant => &[Scope::Read, Scope::Manage],
    }
}

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Why a token was not created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the name is empty or longer than {TOKEN_NAME_LEN_MAX} characters")]
    InvalidName,
    #[error("this role may not hold a {0} token")]
    ScopeNotAllowed(&'static str),
    #[error("at most {TOKENS_PER_USER_MAX} tokens per user")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(error: sqlx::Error) -> TokenError {
        TokenError::Store(StoreError::Database(error))
    }
}

/// Whether a text looks like a token (the prefix and 64 lowercase hex characters).
pub fn looks_like_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Creates a token for `user`; returns its row and the token, which is never shown again.
pub async fn create(
    store: &Store,
    user: &User,
    name: &str,
    scope: Scope,
) -> Result<(TokenRow, String), TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > TOKEN_NAME_LEN_MAX {
        return Err(TokenError::InvalidName);
    }
    if !scopes_for(user.role).contains(&scope) {
        return Err(TokenError::ScopeNotAllowed(scope.as_str()));
    }
    let token = format!("{TOKEN_PREFIX}{}", people::random_token());
    let hash = people::token_hash(&token);
    let now = now_unix();
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        // Counting and inserting in one transaction; the users row is locked first (a no-op
        // update) so two concurrent creations for one user are serialised on both backends.
        sqlx::query("UPDATE users SET lang = lang WHERE id = $1")
            .bind(user.id).execute(&mut *tx).await?;
        let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user.id).fetch_one(&mut *tx).await?;
        if held >= TOKENS_PER_USER_MAX {
            None
        } else {
            let id: i64 = sqlx::query_scalar(
                    "INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(user.id).bind(name).bind(scope.as_str()).bind(&hash).bind(now)
                .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Some(id)
        }
    });
    let id = id.ok_or(TokenError::TooMany)?;
    let row = TokenRow {
        id,
        user_id: user.id,
        name: name.to_owned(),
        scope,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((row, token))
}

fn row_from(
    (id, user_id, name, scope, created_at, last_used_at, revoked_at): (
        i64,
        i64,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
    ),
) -> StoreResult<TokenRow> {
    Ok(TokenRow {
        id,
        user_id,
        name,
        scope: Scope::parse(&scope)
            .ok_or_else(|| StoreError::Corrupt(format!("token scope {scope:?}")))?,
        created_at,
        last_used_at,
        revoked_at,
    })
}

type Raw = (i64, i64, String, String, i64, Option<i64>, Option<i64>);

const COLUMNS: &str = "id, user_id, name, scope, created_at, last_used_at, revoked_at";

/// A user's tokens, newest first (revoked ones included).
pub async fn of_user(store: &Store, user_id: i64) -> StoreResult<Vec<TokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
    let rows: Vec<Raw> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
    });
    rows.into_iter().map(row_from).collect()
}

/// Revokes one of the user's tokens; false when it is not theirs or already revoked.
pub async fn revoke(store: &Store, user_id: i64, token_id: i64) -> StoreResult<bool> {
    let now = now_unix();
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 \
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now).bind(token_id).bind(user_id).execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

/// What a presented token is.
#[derive(Debug, Clone)]
pub enum Found {
    Valid(Box<Caller>),
    Revoked,
    Unknown,
}

/// A valid token's caller, as one read finds it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: TokenRow,
    pub user: User,
    /// The user's member company, if the user has one.
    pub member: Option<Member>,
    /// The answer remembered for the `Idempotency-Key` given to [`find`], if one was given.
    pub remembered: Option<RememberedFor>,
    /// The member whose id was given to [`find`] (a payment's payee), if one was given.
    pub named: Option<NamedMember>,
}

/// A member id a request names, and the member it is (`None`: no member has that id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedMember {
    pub id: i64,
    pub member: Option<Member>,
}

/// What [`find`] reads besides the caller: the answer remembered for an `Idempotency-Key`,
/// and a member the request names. Every API write starts with these reads; one statement
/// does them all.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlsoRead<'a> {
    pub idempotency_key: Option<&'a str>,
    pub member_id: Option<i64>,
}

/// The answer remembered for one key when the caller was read (see [`remembered`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedFor {
    pub key: String,
    pub answer: Option<Remembered>,
}

/// The statement of [`find`]: the token, its user, the user's member company, the
/// remembered answer and the named member in one read (every API request starts here).
/// Without a key `$2` is NULL, and without a member `$4`: they join nothing. Built once.
fn find_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT api_tokens.id AS t_id, api_tokens.user_id AS t_user_id, \
             api_tokens.name AS t_name, api_tokens.scope AS t_scope, \
             api_tokens.created_at AS t_created_at, api_tokens.last_used_at AS t_last_used_at, \
             api_tokens.revoked_at AS t_revoked_at, {}, {}, {}, \
             api_idempotency.request_hash AS r_request_hash, \
             api_idempotency.status AS r_status, api_idempotency.response AS r_response \
             FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
             LEFT JOIN members ON members.id = users.member_id \
             LEFT JOIN members AS named ON named.id = $4 \
             LEFT JOIN api_idempotency ON api_idempotency.user_id = users.id \
             AND api_idempotency.idem_key = $2 AND api_idempotency.created_at > $3 \
             WHERE api_tokens.token_hash = $1",
            people::USER_COLUMNS,
            people::CALLER_MEMBER.columns(),
            people::NAMED_MEMBER.columns(),
        )
    })
}

/// Looks a presented token up by its hash and notes its use. The same read also fetches
/// what `also` asks for: the answer the user's earlier request under an `Idempotency-Key`
/// left, and a member the request names.
pub async fn find(store: &Store, token: &str, also: AlsoRead<'_>) -> StoreResult<Found> {
    let AlsoRead {
        idempotency_key,
        member_id,
    } = also;
    if !looks_like_token(token) {
        return Ok(Found::Unknown);
    }
    let hash = people::token_hash(token);
    let since = now_unix() - IDEMPOTENCY_TTL_SECONDS;
    let sql = find_sql();
    let found: Option<Caller> = dispatch!(store.backend(), pool => {
        let row = sqlx::query(sql)
            .bind(&hash)
            .bind(idempotency_key)
            .bind(since)
            .bind(member_id)
            .fetch_optional(pool)
            .await?;
        match row {
            None => None,
            Some(row) => {
                let raw: Raw = (
                    row.try_get("t_id")?,
                    row.try_get("t_user_id")?,
                    row.try_get("t_name")?,
                    row.try_get("t_scope")?,
                    row.try_get("t_created_at")?,
                    row.try_get("t_last_used_at")?,
                    row.try_get("t_revoked_at")?,
                );
                let answer: (Option<String>, Option<i64>, Option<String>) = (
                    row.try_get("r_request_hash")?,
                    row.try_get("r_status")?,
                    row.try_get("r_response")?,
                );
                Some(Caller {
                    token: row_from(raw)?,
                    user: people::user_from_row(&row)?,
                    member: people::CALLER_MEMBER.read_from(&row)?,
                    remembered: idempotency_key.map(|key| RememberedFor {
                        key: key.to_owned(),
                        answer: remembered_from(answer),
                    }),
                    named: match member_id {
                        Some(id) => Some(NamedMember {
                            id,
                            member: people::NAMED_MEMBER.read_from(&row)?,
                        }),
                        None => None,
                    },
                })
            }
        }
    });
    // A token without its user does not exist (deleting a user deletes its tokens).
    let Some(caller) = found else {
        return Ok(Found::Unknown);
    };
    if caller.token.revoked_at.is_some() {
        return Ok(Found::Revoked);
    }
    let now = now_unix();
    if caller
        .token
        .last_used_at
        .is_none_or(|t| t <= now - LAST_USED_RESOLUTION_SECONDS)
    {
        dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now).bind(caller.token.id).execute(pool).await?;
        });
    }
    Ok(Found::Valid(Box::new(caller)))
}

/// A remembered answer from its three columns (all NULL: none).
fn remembered_from(
    (request_hash, status, response): (Option<String>, Option<i64>, Option<String>),
) -> Option<Remembered> {
    match (request_hash, status, response) {
        (Some(request_hash), Some(status), Some(response)) => Some(Remembered {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            response,
        }),
        _ => None,
    }
}

/// A remembered answer to an API write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// The answer remembered for `(user, key)`, if any (and not older than the TTL).
pub async fn remembered(store: &Store, user_id: i64, key: &str) -> StoreResult<Option<Remembered>> {
    let since = now_unix() - IDEMPOTENCY_TTL_SECONDS;
    let row: Option<(String, i64, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT request_hash, status, response FROM api_idempotency \
                        WHERE user_id = $1 AND idem_key = $2 AND created_at > $3")
            .bind(user_id).bind(key).bind(since).fetch_optional(pool).await?
    });
    Ok(row.and_then(|(request_hash, status, response)| {
        remembered_from((Some(request_hash), Some(status), Some(response)))
    }))
}

/// Remembers an answer; the first one stays when two requests race.
pub async fn remember(
    store: &Store,
    user_id: i64,
    key: &str,
    route: &str,
    answer: &Remembered,
) -> StoreResult<()> {
    let now = now_unix();
    let since = now - IDEMPOTENCY_TTL_SECONDS;
    dispatch!(store.backend(), pool => {
        // An expired answer under the same key makes room for the new one.
        sqlx::query("DELETE FROM api_idempotency \
                     WHERE user_id = $1 AND idem_key = $2 AND created_at <= $3")
            .bind(user_id).bind(key).bind(since).execute(pool).await?;
        sqlx::query("INSERT INTO api_idempotency (user_id, idem_key, route, request_hash, \
                     status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (user_id, idem_key) DO NOTHING")
            .bind(user_id).bind(key).bind(route).bind(&answer.request_hash)
            .bind(i64::from(answer.status)).bind(&answer.response).bind(now)
            .execute(pool).await?;
    });
    Ok(())
}

/// Drops remembered answers past the TTL (housekeeping).
pub async fn purge_remembered(store: &Store) -> StoreResult<u64> {
    let since = now_unix() - IDEMPOTENCY_TTL_SECONDS;
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM api_idempotency WHERE created_at <= $1")
            .bind(since).execute(pool).await?.rows_affected()
    });
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_a_recognizable_shape() {
        let token = format!("{TOKEN_PREFIX}{}", people::random_token());
        assert!(looks_like_token(&token));
        assert!(!looks_like_token(&token[..token.len() - 1]));
        assert!(!looks_like_token(&token.to_uppercase()));
        assert!(!looks_like_token("Bearer"));
        assert_eq!(Scope::parse("pay"), Some(Scope::Pay));
        assert_eq!(Scope::parse("admin"), None);
        assert!(!scopes_for(Role::MemberAccountant).contains(&Scope::Pay));
        assert!(!scopes_for(Role::Owner).contains(&Scope::Manage));
        assert!(scopes_for(Role::Accountant).contains(&Scope::Manage));
    }
}
