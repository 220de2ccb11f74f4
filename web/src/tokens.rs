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
use crate::store::action_log::{insert_action, Conn};
use crate::store::{ActionNote, Store, StoreError, StoreResult};

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
/// Longest lifetime a token may be given, in days (ten years); a token may also never
/// expire ([`Lifetime::UNLIMITED`]).
pub const TOKEN_LIFETIME_DAYS_MAX: i64 = 3650;
/// The lifetime the `/settings/tokens` form proposes first, in days.
pub const TOKEN_LIFETIME_DAYS_DEFAULT: i64 = 90;
/// Most tokens one [`list`] returns (the operator's `troc token list`).
pub const TOKENS_LIST_MAX: i64 = 10_000;

/// How long a new token works: a number of days (1 to [`TOKEN_LIFETIME_DAYS_MAX`]) or
/// without end. Built only through [`Lifetime::days`], which refuses the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    days: Option<i64>,
}

impl Lifetime {
    /// A token that works until it is revoked.
    pub const UNLIMITED: Lifetime = Lifetime { days: None };

    /// A token that stops working `days` days after its creation.
    pub fn days(days: i64) -> Result<Lifetime, TokenError> {
        if (1..=TOKEN_LIFETIME_DAYS_MAX).contains(&days) {
            Ok(Lifetime { days: Some(days) })
        } else {
            Err(TokenError::InvalidLifetime)
        }
    }

    /// The expiry of a token created at `created_at` (Unix seconds); `None`: never.
    pub fn expiry_from(self, created_at: i64) -> Option<i64> {
        self.days.map(|days| created_at + days * 24 * 3600)
    }
}

/// Where a token stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Expired => "expired",
            TokenState::Revoked => "revoked",
        }
    }
}

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
    /// When it stops working (Unix seconds); `None`: never.
    pub expires_at: Option<i64>,
}

impl TokenRow {
    /// Revoked wins over expired: a revoked token stays revoked.
    pub fn state(&self, now: i64) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.expires_at.is_some_and(|t| t <= now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
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
    #[error("a token's lifetime is 1 to {TOKEN_LIFETIME_DAYS_MAX} days, or unlimited")]
    InvalidLifetime,
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
    lifetime: Lifetime,
) -> Result<(TokenRow, String), TokenError> {
    insert(store, user, name, scope, lifetime, Creator::User).await
}

/// Like [`create`], for the operator (`troc token create`): the creation is recorded in the
/// action log (`token.create`, actor `cli`) in the same database transaction.
pub async fn create_as_operator(
    store: &Store,
    user: &User,
    name: &str,
    scope: Scope,
    lifetime: Lifetime,
) -> Result<(TokenRow, String), TokenError> {
    insert(store, user, name, scope, lifetime, Creator::Operator).await
}

/// Who creates a token: its user (the page), or the operator (recorded in the action log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Creator {
    User,
    Operator,
}

async fn insert(
    store: &Store,
    user: &User,
    name: &str,
    scope: Scope,
    lifetime: Lifetime,
    creator: Creator,
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
    let expires_at = lifetime.expiry_from(now);
    let mut row = TokenRow {
        id: 0,
        user_id: user.id,
        name: name.to_owned(),
        scope,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        expires_at,
    };
    let time = chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now);
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        // Counting and inserting in one transaction; the users row is locked first (a no-op
        // update) so two concurrent creations for one user are serialised on both backends.
        sqlx::query("UPDATE users SET lang = lang WHERE id = $1")
            .bind(user.id).execute(&mut *tx).await?;
        // Active tokens only: revoked and expired ones stay listed but do not count.
        let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > $2)")
            .bind(user.id).bind(now).fetch_one(&mut *tx).await?;
        if held >= TOKENS_PER_USER_MAX {
            None
        } else {
            let id: i64 = sqlx::query_scalar(
                    "INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(user.id).bind(name).bind(scope.as_str()).bind(&hash).bind(now)
                .bind(expires_at)
                .fetch_one(&mut *tx).await?;
            if creator == Creator::Operator {
                row.id = id;
                let listed = ListedToken {
                    token: row.clone(),
                    email: user.email.clone(),
                    member_id: user.member_id,
                };
                let note = operator_note(
                    "token.create", "troc token create", serde_json::Value::Null, &listed, now,
                )?;
                insert_action(Conn::from(&mut *tx), note, time).await?;
            }
            tx.commit().await?;
            Some(id)
        }
    });
    row.id = id.ok_or(TokenError::TooMany)?;
    Ok((row, token))
}

fn row_from(
    (id, user_id, name, scope, created_at, last_used_at, revoked_at, expires_at): Raw,
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
        expires_at,
    })
}

type Raw = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const COLUMNS: &str = "id, user_id, name, scope, created_at, last_used_at, revoked_at, expires_at";

/// The token's columns under `t_` names, for reads that join other tables
/// ([`token_from_row`] decodes them).
const ALIASED_COLUMNS: &str = "api_tokens.id AS t_id, api_tokens.user_id AS t_user_id, \
     api_tokens.name AS t_name, api_tokens.scope AS t_scope, \
     api_tokens.created_at AS t_created_at, api_tokens.last_used_at AS t_last_used_at, \
     api_tokens.revoked_at AS t_revoked_at, api_tokens.expires_at AS t_expires_at";

/// A token from a row read with [`ALIASED_COLUMNS`].
fn token_from_row<R>(row: &R) -> StoreResult<TokenRow>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    row_from((
        row.try_get("t_id")?,
        row.try_get("t_user_id")?,
        row.try_get("t_name")?,
        row.try_get("t_scope")?,
        row.try_get("t_created_at")?,
        row.try_get("t_last_used_at")?,
        row.try_get("t_revoked_at")?,
        row.try_get("t_expires_at")?,
    ))
}

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

/// A token as the operator lists it: the row, its user's email and member company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedToken {
    pub token: TokenRow,
    pub email: String,
    /// The user's member company; none for the network's staff.
    pub member_id: Option<i64>,
}

/// Which tokens [`list`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Everyone,
    User(i64),
    Token(i64),
    /// The tokens of a member company's users (the manager's console).
    Member(i64),
}

/// Tokens of every user, of one user, of one member company's users or one token, oldest
/// first, at most [`TOKENS_LIST_MAX`]; for the operator (`troc token list`) and the network's
/// managers (a member's page). The second value says whether more were left off.
pub async fn list(store: &Store, listing: Listing) -> StoreResult<(Vec<ListedToken>, bool)> {
    let (filter, id) = match listing {
        Listing::Everyone => ("", None),
        Listing::User(id) => ("WHERE api_tokens.user_id = $2", Some(id)),
        Listing::Token(id) => ("WHERE api_tokens.id = $2", Some(id)),
        Listing::Member(id) => ("WHERE users.member_id = $2", Some(id)),
    };
    let sql = format!(
        "SELECT {ALIASED_COLUMNS}, users.email AS t_email, users.member_id AS t_member_id \
         FROM api_tokens \
         JOIN users ON users.id = api_tokens.user_id {filter} \
         ORDER BY api_tokens.id LIMIT $1"
    );
    let mut listed: Vec<ListedToken> = dispatch!(store.backend(), pool => {
        let mut query = sqlx::query(&sql).bind(TOKENS_LIST_MAX + 1);
        if let Some(id) = id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(ListedToken {
                token: token_from_row(row)?,
                email: row.try_get("t_email")?,
                member_id: row.try_get("t_member_id")?,
            });
        }
        out
    });
    let more = listed.len() as i64 > TOKENS_LIST_MAX;
    listed.truncate(TOKENS_LIST_MAX as usize);
    Ok((listed, more))
}

/// A token's record in the action log (never the token: only what the lists show).
fn token_json(listed: &ListedToken, now: i64) -> serde_json::Value {
    serde_json::json!({
        "token_id": listed.token.id,
        "user": listed.email,
        "name": listed.token.name,
        "scope": listed.token.scope.as_str(),
        "expires_at": listed.token.expires_at,
        "revoked_at": listed.token.revoked_at,
        "state": listed.token.state(now).as_str(),
    })
}

/// The action-log note of an operator's token action (actor `cli`).
fn operator_note(
    action: &str,
    reason: &str,
    before: serde_json::Value,
    after: &ListedToken,
    now: i64,
) -> StoreResult<ActionNote> {
    Ok(ActionNote::new(None, "cli", action, reason)?.states(before, token_json(after, now)))
}

/// Who revokes a token its user did not revoke: the operator at the command line (any
/// token), or a network manager from a member's page or the API (a token of that member's
/// users only). Either way the revocation is in the action log.
#[derive(Debug, Clone, Copy)]
pub enum Revoker<'a> {
    Operator,
    Manager {
        actor: &'a crate::console::Actor,
        member_id: i64,
    },
}

/// Why the operator or a manager could not revoke a token.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("no API token has the id {0}")]
    NotFound(i64),
    #[error("only a network manager may revoke a member's API token")]
    Forbidden,
    #[error("invalid reason: {0}")]
    InvalidReason(String),
    #[error("the API token {0} was already revoked")]
    AlreadyRevoked(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RevokeError {
    fn from(error: sqlx::Error) -> RevokeError {
        RevokeError::Store(StoreError::Database(error))
    }
}

/// Revokes a user's token for them: any token for [`Revoker::Operator`] (`troc token
/// revoke`), a token of the member's users for [`Revoker::Manager`] (any other is
/// `NotFound`, like a missing one). Recorded in the action log with `reason` (`token.revoke`,
/// with the member for a manager), in the same database transaction.
pub async fn revoke_by(
    store: &Store,
    token_id: i64,
    by: Revoker<'_>,
    reason: &str,
) -> Result<ListedToken, RevokeError> {
    if let Revoker::Manager { actor, .. } = by {
        actor
            .require_manager()
            .map_err(|_| RevokeError::Forbidden)?;
        if reason.trim().is_empty() {
            return Err(RevokeError::InvalidReason(
                "a manager gives a reason for the member".into(),
            ));
        }
    }
    let (mut found, _) = list(store, Listing::Token(token_id)).await?;
    let Some(before) = found.pop() else {
        return Err(RevokeError::NotFound(token_id));
    };
    // A manager reaches only the tokens of the member's users.
    if let Revoker::Manager { member_id, .. } = by {
        if before.member_id != Some(member_id) {
            return Err(RevokeError::NotFound(token_id));
        }
    }
    if before.token.revoked_at.is_some() {
        return Err(RevokeError::AlreadyRevoked(token_id));
    }
    let now = now_unix();
    let mut after = before.clone();
    after.token.revoked_at = Some(now);
    let note = match by {
        Revoker::Operator => operator_note(
            "token.revoke",
            reason,
            token_json(&before, now),
            &after,
            now,
        ),
        Revoker::Manager { actor, member_id } => {
            ActionNote::new(Some(actor.user_id()), actor.email(), "token.revoke", reason).map(
                |note| {
                    note.member(member_id)
                        .states(token_json(&before, now), token_json(&after, now))
                },
            )
        }
    }
    .map_err(|e| RevokeError::InvalidReason(e.to_string()))?;
    let time = chrono::DateTime::from_timestamp(now, 0).unwrap_or_else(chrono::Utc::now);
    let done = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 \
                                WHERE id = $2 AND revoked_at IS NULL")
            .bind(now).bind(token_id).execute(&mut *tx).await?.rows_affected();
        if done == 1 {
            insert_action(Conn::from(&mut *tx), note, time).await?;
            tx.commit().await?;
        }
        done
    });
    if done == 1 {
        Ok(after)
    } else {
        // Revoked by someone else between the read and the update.
        Err(RevokeError::AlreadyRevoked(token_id))
    }
}

/// What a presented token is.
#[derive(Debug, Clone)]
pub enum Found {
    Valid(Box<Caller>),
    Revoked,
    Expired,
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
            "SELECT {ALIASED_COLUMNS}, {}, {}, {}, \
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
                let answer: (Option<String>, Option<i64>, Option<String>) = (
                    row.try_get("r_request_hash")?,
                    row.try_get("r_status")?,
                    row.try_get("r_response")?,
                );
                Some(Caller {
                    token: token_from_row(&row)?,
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
    let now = now_unix();
    match caller.token.state(now) {
        TokenState::Revoked => return Ok(Found::Revoked),
        TokenState::Expired => return Ok(Found::Expired),
        TokenState::Active => {}
    }
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
