//! Who uses the web front: member companies' profiles, users and their roles, sessions and
//! invitations. Persistence only; authorisation decisions live in `http`.
//!
//! Secrets are never stored: session and invitation tokens are kept as SHA-256 hashes,
//! passwords as argon2id hashes.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use std::collections::{BTreeSet, HashMap};

use ledger::AccountId;

use crate::dispatch;
use crate::store::{Store, StoreError, StoreResult};

/// Shortest accepted password, in characters.
pub const PASSWORD_LEN_MIN: usize = 12;
/// Longest accepted password, in bytes (argon2 input stays bounded).
pub const PASSWORD_LEN_MAX: usize = 256;
/// Longest email address.
pub const EMAIL_LEN_MAX: usize = 254;
/// Longest short text field of a profile (name, address, city, contact, display name).
pub const PROFILE_FIELD_LEN_MAX: usize = 200;
/// Longest company description.
pub const DESCRIPTION_LEN_MAX: usize = 2_000;
/// How long a session lives without being renewed.
pub const SESSION_TTL_SECONDS: i64 = 12 * 3600;
/// How long an invitation link stays valid.
pub const INVITATION_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// How long a password reset link asked for on `/password/forgot` works.
pub const RESET_TTL_SECONDS: i64 = 3600;
/// How long a password reset link made by a manager works (it is passed on by hand).
pub const RESET_BY_MANAGER_TTL_SECONDS: i64 = 24 * 3600;
/// Links a user may ask for in an hour; further asks are answered the same and ignored.
pub const RESETS_PER_HOUR_MAX: i64 = 3;

/// The fixed list of sectors, used for companies and listing categories.
pub const SECTORS: [(&str, &str, &str); 14] = [
    ("btp", "BTP et rénovation", "Construction and renovation"),
    ("commerce", "Commerce", "Retail"),
    (
        "communication",
        "Communication et marketing",
        "Communication and marketing",
    ),
    (
        "conseil",
        "Conseil et services aux entreprises",
        "Consulting and business services",
    ),
    ("formation", "Formation", "Training"),
    (
        "hotellerie",
        "Hôtellerie et restauration",
        "Hotels and restaurants",
    ),
    (
        "imprimerie",
        "Imprimerie et signalétique",
        "Printing and signage",
    ),
    ("industrie", "Industrie", "Manufacturing"),
    (
        "informatique",
        "Informatique et numérique",
        "IT and digital",
    ),
    (
        "juridique",
        "Juridique et comptabilité",
        "Legal and accounting",
    ),
    (
        "nettoyage",
        "Nettoyage et entretien",
        "Cleaning and maintenance",
    ),
    ("sante", "Santé et bien-être", "Health and wellbeing"),
    (
        "transport",
        "Transport et logistique",
        "Transport and logistics",
    ),
    (
        "evenementiel",
        "Événementiel et loisirs",
        "Events and leisure",
    ),
];

pub fn is_sector(code: &str) -> bool {
    SECTORS.iter().any(|(c, _, _)| *c == code)
}

/// What a user may do. Managers and accountants work for the network; owners and staff for
/// one member company; a member accountant reads one member company's books (invited by its
/// owner, read-only: docs/web.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Manager,
    Accountant,
    Owner,
    Staff,
    MemberAccountant,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Manager,
        Role::Accountant,
        Role::Owner,
        Role::Staff,
        Role::MemberAccountant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::MemberAccountant => "member_accountant",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The roles that belong to one member company (`users.member_id` is set).
    pub fn is_member_role(self) -> bool {
        matches!(self, Role::Owner | Role::Staff | Role::MemberAccountant)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub member_id: Option<i64>,
    pub lang: String,
    /// The most this user may commit its company's credit to in one operation, in minor
    /// units, set by the owner for staff users (`None`: no cap of its own). See
    /// [`User::may_commit`].
    pub payment_max: Option<i64>,
    /// The most this staff user may commit its company's credit to in one calendar month
    /// (UTC), all its operations together, in minor units (`None`: no limit per month). See
    /// [`commit_month`].
    pub payment_month_max: Option<i64>,
}

/// Highest payment limit an owner may give a staff user (10,000,000.00, the credit limit's
/// bound), in minor units.
pub const PAYMENT_MAX_MAX: i64 = 1_000_000_000;

/// A staff user's operation above its payment limit: only the owner (or a user without a
/// cap) may commit the company to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverPaymentMax {
    pub max: ledger::Amount,
}

/// The user of the key's own company who registered signing key `key`: an order signed
/// with the key commits the company as that user would, so a staff user's limits (per
/// operation and per month) hold for the orders its key signs, whoever submits them. A key
/// whose user is gone was revoked with it (`remove_member_user`). `None` for a key that
/// names nobody (registered before migration 0021) or whose email now belongs to no user of
/// that company.
pub async fn key_signer(store: &Store, key: &crate::store::MemberKey) -> StoreResult<Option<User>> {
    let Some(email) = key.registered_by.as_deref() else {
        return Ok(None);
    };
    let Some(user) = user_by_email(store, email).await? else {
        return Ok(None);
    };
    // The same email may since belong to someone of another company: only the key's own
    // company's user is held to its limit.
    let own = match user.member_id {
        Some(member_id) => member(store, member_id)
            .await?
            .is_some_and(|m| m.account() == key.account),
        None => false,
    };
    Ok(own.then_some(user))
}

impl User {
    /// Whether this user may commit its company's credit to `amount` in one operation (a
    /// payment, a request accepted, an order's hold, a refund, a standing order's amount).
    /// Only staff users have a cap; the owner's is the account's credit.
    pub fn may_commit(&self, amount: ledger::Amount) -> Result<(), OverPaymentMax> {
        match (self.role, self.payment_max) {
            (Role::Staff, Some(max)) if amount.minor() > max => Err(OverPaymentMax {
                max: ledger::Amount::from_minor(max),
            }),
            _ => Ok(()),
        }
    }

    /// The author record of what this user enters for its company (`transaction_authors`);
    /// `None` for the network's staff, who act for no member.
    pub fn author(&self) -> Option<crate::store::Author> {
        self.member_id
            .map(|member_id| crate::store::Author::new(member_id, &self.email))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub siren: String,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    pub contact: String,
    pub hide_balance: bool,
    pub in_directory: bool,
}

impl Member {
    /// The member's ledger account.
    pub fn account(&self) -> AccountId {
        AccountId(u64::try_from(self.account_id).unwrap_or(u64::MAX))
    }
}

/// A company profile as entered, before it has ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub name: String,
    pub siren: String,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    pub contact: String,
}

/// The session found from a cookie.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: String,
    pub csrf_token: String,
    pub user: Option<User>,
    /// The network requires two-step login of this user, who has not turned it on: it
    /// reaches only the page that turns it on (`http::session::Auth`).
    pub two_step_due: bool,
}

/// A pending invitation.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub member_id: Option<i64>,
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// 32 random bytes, hex-encoded: session, CSRF, invitation and form tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// argon2id with the crate's default (OWASP-recommended) parameters and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password up to PASSWORD_LEN_MAX bytes")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > PASSWORD_LEN_MAX {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of a random password nobody knows, verified against when an email is unknown so
/// that a login takes as long whether the account exists or not.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()))
}

/// Checks a SIREN: 9 digits whose Luhn sum is a multiple of 10.
pub fn siren_is_valid(siren: &str) -> bool {
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = siren
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, b)| {
            let digit = u32::from(b - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A plausible email: one `@`, something on each side, a dot in the domain, no spaces.
pub fn email_is_valid(email: &str) -> bool {
    if email.is_empty() || email.len() > EMAIL_LEN_MAX || email.chars().any(char::is_whitespace) {
        return false;
    }
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) fn user_from_row<R>(row: &R) -> StoreResult<User>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        member_id: row.try_get("member_id")?,
        lang: row.try_get("lang")?,
        payment_max: row.try_get("payment_max")?,
        payment_month_max: row.try_get("payment_month_max")?,
    })
}

fn member_from_row<R>(row: &R) -> StoreResult<Member>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    member_from_named_row(row, &MEMBER_FIELDS)
}

/// A `members` row joined into another read (the caller's member company, a member the
/// request names): the table's alias in the query and its columns' names in the result.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JoinedMember {
    alias: &'static str,
    names: &'static [&'static str; 12],
}

/// The caller's member company (`members`, `m_` columns).
pub(crate) const CALLER_MEMBER: JoinedMember = JoinedMember {
    alias: "members",
    names: &[
        "m_id",
        "m_account_id",
        "m_name",
        "m_siren",
        "m_address",
        "m_city",
        "m_postcode",
        "m_sector",
        "m_description",
        "m_contact",
        "m_hide_balance",
        "m_in_directory",
    ],
};

/// A member the request names, e.g. a payment's payee (`named`, `n_` columns).
pub(crate) const NAMED_MEMBER: JoinedMember = JoinedMember {
    alias: "named",
    names: &[
        "n_id",
        "n_account_id",
        "n_name",
        "n_siren",
        "n_address",
        "n_city",
        "n_postcode",
        "n_sector",
        "n_description",
        "n_contact",
        "n_hide_balance",
        "n_in_directory",
    ],
};

impl JoinedMember {
    /// The select list: `alias.column AS name`, for every member column.
    pub(crate) fn columns(self) -> String {
        MEMBER_FIELDS
            .iter()
            .zip(self.names)
            .map(|(field, name)| format!("{}.{field} AS {name}", self.alias))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The member of a row read with [`Self::columns`] (`None` when the join found none).
    pub(crate) fn read_from<R>(self, row: &R) -> StoreResult<Option<Member>>
    where
        R: Row,
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
        for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    {
        let id: Option<i64> = row.try_get(self.names[0])?;
        match id {
            None => Ok(None),
            Some(_) => member_from_named_row(row, self.names).map(Some),
        }
    }
}

fn member_from_named_row<R>(row: &R, names: &[&str; 12]) -> StoreResult<Member>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Member {
        id: row.try_get(names[0])?,
        account_id: row.try_get(names[1])?,
        name: row.try_get(names[2])?,
        siren: row.try_get(names[3])?,
        address: row.try_get(names[4])?,
        city: row.try_get(names[5])?,
        postcode: row.try_get(names[6])?,
        sector: row.try_get(names[7])?,
        description: row.try_get(names[8])?,
        contact: row.try_get(names[9])?,
        hide_balance: row.try_get(names[10])?,
        in_directory: row.try_get(names[11])?,
    })
}

pub(crate) const USER_COLUMNS: &str = "users.id, users.email, users.display_name, users.role, \
                            users.member_id, users.lang, users.payment_max, \
                            users.payment_month_max";
const MEMBER_COLUMNS: &str = "id, account_id, name, siren, address, city, postcode, sector, \
                              description, contact, hide_balance, in_directory";
/// [`MEMBER_COLUMNS`] one by one, in order.
const MEMBER_FIELDS: [&str; 12] = [
    "id",
    "account_id",
    "name",
    "siren",
    "address",
    "city",
    "postcode",
    "sector",
    "description",
    "contact",
    "hide_balance",
    "in_directory",
];

/// Creates a user; `Ok(None)` when the email is taken.
pub async fn create_user(
    store: &Store,
    email: &str,
    password: &str,
    display_name: &str,
    role: Role,
    member_id: Option<i64>,
) -> StoreResult<Option<i64>> {
    assert_eq!(role.is_member_role(), member_id.is_some());
    let email = normalize_email(email);
    let hash = hash_password(password);
    let now = now_unix();
    let sql = "INSERT INTO users (email, password_hash, display_name, role, member_id, lang, \
               created_at) VALUES ($1, $2, $3, $4, $5, 'fr', $6) \
               ON CONFLICT (email) DO NOTHING RETURNING id";
    let id: Option<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(&email).bind(&hash).bind(display_name).bind(role.as_str())
            .bind(member_id).bind(now)
            .fetch_optional(pool).await?
    });
    Ok(id)
}

/// The user and password hash for a login.
pub async fn find_login(store: &Store, email: &str) -> StoreResult<Option<(User, String)>> {
    let email = normalize_email(email);
    let sql = format!("SELECT {USER_COLUMNS}, users.password_hash FROM users WHERE email = $1");
    dispatch!(store.backend(), pool => {
        let row = sqlx::query(&sql).bind(&email).fetch_optional(pool).await?;
        match row {
            Some(row) => {
                let hash: String = row.try_get("password_hash")?;
                Ok(Some((user_from_row(&row)?, hash)))
            }
            None => Ok(None),
        }
    })
}

pub async fn password_hash_of(store: &Store, user_id: i64) -> StoreResult<String> {
    let hash: String = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id).fetch_one(pool).await?
    });
    Ok(hash)
}

/// Sets a new password and ends every other session of the user.
pub async fn set_password(
    store: &Store,
    user_id: i64,
    password: &str,
    keep_session_hash: &str,
) -> StoreResult<()> {
    let hash = hash_password(password);
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash).bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id).bind(keep_session_hash).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn set_lang(store: &Store, user_id: i64, lang: &str) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
            .bind(lang).bind(user_id).execute(pool).await?;
    });
    Ok(())
}

/// Opens a session; returns the cookie token (only its hash is stored).
pub async fn create_session(store: &Store, user_id: Option<i64>) -> StoreResult<String> {
    let token = random_token();
    let csrf = random_token();
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(&token)).bind(user_id).bind(&csrf).bind(now)
            .bind(now + SESSION_TTL_SECONDS)
            .execute(pool).await?;
    });
    Ok(token)
}

/// The live session for a cookie token, if any.
pub async fn find_session(store: &Store, token: &str) -> StoreResult<Option<SessionRow>> {
    let hash = token_hash(token);
    let now = now_unix();
    let sql = format!(
        "SELECT sessions.csrf_token, sessions.user_id AS session_user, {USER_COLUMNS}, \
         CAST(CASE WHEN users.totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS two_step_on, \
         (SELECT two_step_rule FROM console_settings WHERE id = 1) AS two_step_rule \
         FROM sessions LEFT JOIN users ON users.id = sessions.user_id \
         WHERE sessions.token_hash = $1 AND sessions.expires_at > $2"
    );
    dispatch!(store.backend(), pool => {
        let row = sqlx::query(&sql).bind(&hash).bind(now).fetch_optional(pool).await?;
        let Some(row) = row else { return Ok(None) };
        let session_user: Option<i64> = row.try_get("session_user")?;
        let user = match session_user {
            Some(_) => Some(user_from_row(&row)?),
            None => None,
        };
        let two_step_on: i64 = row.try_get("two_step_on")?;
        // Never a default: a rule that does not read (the schema forbids it) fails the request
        // rather than let a covered user pass.
        let rule: Option<String> = row.try_get("two_step_rule")?;
        let rule = rule.as_deref().and_then(crate::totp::TwoStepRule::parse).ok_or_else(|| {
            StoreError::Corrupt(format!("console_settings.two_step_rule {rule:?}"))
        })?;
        let two_step_due = user.as_ref().is_some_and(|u| two_step_on == 0 && rule.covers(u.role));
        Ok(Some(SessionRow {
            token_hash: hash,
            csrf_token: row.try_get("csrf_token")?,
            user,
            two_step_due,
        }))
    })
}

pub async fn delete_session(store: &Store, token_hash: &str) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash).execute(pool).await?;
    });
    Ok(())
}

/// Forces a session's expiry (used by tests and by an administrator ending sessions).
pub async fn expire_session(store: &Store, token: &str) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE sessions SET expires_at = 0 WHERE token_hash = $1")
            .bind(token_hash(token)).execute(pool).await?;
    });
    Ok(())
}

/// Removes expired sessions; called now and then so the table stays small.
pub async fn purge_sessions(store: &Store) -> StoreResult<u64> {
    let now = now_unix();
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now).execute(pool).await?.rows_affected()
    });
    Ok(done)
}

pub async fn create_member(store: &Store, account_id: i64, profile: &Profile) -> StoreResult<i64> {
    let now = now_unix();
    let sql = "INSERT INTO members (account_id, name, siren, address, city, postcode, sector, \
               description, contact, hide_balance, in_directory, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, TRUE, $10) RETURNING id";
    let id: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(account_id).bind(&profile.name).bind(&profile.siren).bind(&profile.address)
            .bind(&profile.city).bind(&profile.postcode).bind(&profile.sector)
            .bind(&profile.description).bind(&profile.contact).bind(now)
            .fetch_one(pool).await?
    });
    Ok(id)
}

/// Opens the company's ledger account through the store, then records its profile.
pub async fn create_member_with_account(
    store: &Store,
    profile: &Profile,
    credit_limit: ledger::Amount,
) -> StoreResult<Member> {
    let account = store.open_account(credit_limit, None).await?;
    let account_id = i64::try_from(account.id().0)
        .map_err(|_| StoreError::Corrupt("account id out of range".into()))?;
    let id = create_member(store, account_id, profile).await?;
    member(store, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("new member not found".into()))
}

pub async fn siren_taken(store: &Store, siren: &str) -> StoreResult<bool> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE siren = $1")
            .bind(siren).fetch_one(pool).await?
    });
    Ok(count > 0)
}

pub async fn email_taken(store: &Store, email: &str) -> StoreResult<bool> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
            .bind(normalize_email(email)).fetch_one(pool).await?
    });
    Ok(count > 0)
}

pub async fn update_profile(store: &Store, member_id: i64, profile: &Profile) -> StoreResult<()> {
    let sql = "UPDATE members SET name = $1, address = $2, city = $3, postcode = $4, \
               sector = $5, description = $6, contact = $7 WHERE id = $8";
    dispatch!(store.backend(), pool => {
        sqlx::query(sql)
            .bind(&profile.name).bind(&profile.address).bind(&profile.city)
            .bind(&profile.postcode).bind(&profile.sector).bind(&profile.description)
            .bind(&profile.contact).bind(member_id)
            .execute(pool).await?;
    });
    Ok(())
}

pub async fn update_privacy(
    store: &Store,
    member_id: i64,
    hide_balance: bool,
    in_directory: bool,
) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE members SET hide_balance = $1, in_directory = $2 WHERE id = $3")
            .bind(hide_balance).bind(in_directory).bind(member_id)
            .execute(pool).await?;
    });
    Ok(())
}

pub async fn member(store: &Store, member_id: i64) -> StoreResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(member_id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(member_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

pub async fn member_by_account(store: &Store, account_id: i64) -> StoreResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE account_id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(account_id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(member_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// Every member, by name; bounded by `limit`.
pub async fn members(store: &Store, limit: i64) -> StoreResult<Vec<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members ORDER BY name, id LIMIT $1");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(limit).fetch_all(pool).await?;
        rows.iter().map(member_from_row).collect()
    })
}

/// A page of the members' directory (those who chose to appear in it), in id order, after
/// the member `after` (keyset pagination), of one sector or all: at most `limit`, and the
/// cursor of the next page (the last id listed) when there is one.
pub async fn directory_page(
    store: &Store,
    sector: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Member>, Option<i64>)> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE in_directory AND id > $1 \
         AND ($2 = '' OR sector = $2) ORDER BY id LIMIT $3"
    );
    let mut members: Vec<Member> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(0))
            .bind(sector.unwrap_or(""))
            .bind(limit + 1)
            .fetch_all(pool)
            .await?;
        rows.iter().map(member_from_row).collect::<StoreResult<Vec<_>>>()?
    });
    let more = members.len() as i64 > limit;
    members.truncate(limit.max(0) as usize);
    let next = if more {
        members.last().map(|m| m.id)
    } else {
        None
    };
    Ok((members, next))
}

/// The balances these members show in the directory (not those who hide theirs), by
/// account, in one read.
pub async fn shown_balances(
    store: &Store,
    members: &[Member],
) -> StoreResult<HashMap<AccountId, ledger::Amount>> {
    let shown: BTreeSet<AccountId> = members
        .iter()
        .filter(|m| !m.hide_balance)
        .map(|m| m.account())
        .collect();
    Ok(store
        .accounts_of(&shown)
        .await?
        .into_iter()
        .map(|a| (a.id(), a.balance()))
        .collect())
}

/// The members holding these ledger accounts, by account (accounts of no member, such as
/// the network's own, are absent): one read, whatever the size of the network.
pub async fn members_of_accounts(
    store: &Store,
    accounts: &BTreeSet<AccountId>,
) -> StoreResult<HashMap<AccountId, Member>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE {}",
        crate::store::in_id_list(store.kind(), "account_id", 1)
    );
    let ids = crate::store::id_list(accounts.iter().map(|a| a.0));
    let members: Vec<Member> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(&ids).fetch_all(pool).await?;
        rows.iter().map(member_from_row).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(members.into_iter().map(|m| (m.account(), m)).collect())
}

/// The names of the members holding these ledger accounts (accounts of no member, such as
/// the network's own, are absent): one read, whatever the size of the network.
pub async fn names_of_accounts(
    store: &Store,
    accounts: &BTreeSet<AccountId>,
) -> StoreResult<HashMap<AccountId, String>> {
    Ok(holders_of_accounts(store, accounts)
        .await?
        .into_iter()
        .map(|(account, (_, name))| (account, name))
        .collect())
}

/// The member (id, name) holding each of these ledger accounts; accounts of no member are
/// absent. One read, whatever the size of the network.
pub async fn holders_of_accounts(
    store: &Store,
    accounts: &BTreeSet<AccountId>,
) -> StoreResult<HashMap<AccountId, (i64, String)>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT account_id, id, name FROM members WHERE {}",
        crate::store::in_id_list(store.kind(), "account_id", 1)
    );
    let ids = crate::store::id_list(accounts.iter().map(|a| a.0));
    let rows: Vec<(i64, i64, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(account, member, name)| {
            u64::try_from(account)
                .ok()
                .map(|account| (AccountId(account), (member, name)))
        })
        .collect())
}

/// The names of these members by member id (ids of no member are absent): one read,
/// whatever the size of the network. Pages pass the ids of the rows they show.
pub async fn names_of_members(
    store: &Store,
    members: &BTreeSet<i64>,
) -> StoreResult<HashMap<i64, String>> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, name FROM members WHERE {}",
        crate::store::in_id_list(store.kind(), "id", 1)
    );
    // Member ids are positive: a negative one names no member and is left out.
    let ids = crate::store::id_list(members.iter().filter_map(|id| u64::try_from(*id).ok()));
    let rows: Vec<(i64, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?
    });
    Ok(rows.into_iter().collect())
}

/// A user by address (normalized first), without the password hash that [`find_login`]
/// reads for a login.
pub async fn user_by_email(store: &Store, email: &str) -> StoreResult<Option<User>> {
    let email = normalize_email(email);
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(&email).fetch_optional(pool).await? {
            Some(row) => Ok(Some(user_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

/// A user by id.
pub async fn user(store: &Store, user_id: i64) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(user_id).fetch_optional(pool).await? {
            Some(row) => Ok(Some(user_from_row(&row)?)),
            None => Ok(None),
        }
    })
}

pub async fn users_of_member(store: &Store, member_id: i64) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE member_id = $1 ORDER BY id");
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).fetch_all(pool).await?;
        rows.iter().map(user_from_row).collect()
    })
}

/// The owner sets (or, with `None`, lifts) a staff user's payment limit. `false` when
/// `user_id` is not a staff user of `member_id` (nothing changes then). The caller checked
/// that `max` is within 1 ..= [`PAYMENT_MAX_MAX`].
pub async fn set_payment_max(
    store: &Store,
    member_id: i64,
    user_id: i64,
    max: Option<i64>,
) -> StoreResult<bool> {
    let change = LimitsChange {
        per_operation: Some(max),
        per_month: None,
    };
    set_payment_limits(store, member_id, user_id, change).await
}

/// A change of a staff user's limits: for each, `None` leaves it as it is, `Some(None)`
/// lifts it, `Some(Some(max))` sets it (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitsChange {
    /// The limit per operation (`users.payment_max`).
    pub per_operation: Option<Option<i64>>,
    /// The limit per month (`users.payment_month_max`, `crate::spending`).
    pub per_month: Option<Option<i64>>,
}

/// The owner changes a staff user's limits, both in one statement. `false` when `user_id`
/// is not a staff user of `member_id` (nothing changes then). The caller checked that each
/// limit set is within 1 ..= [`PAYMENT_MAX_MAX`].
pub async fn set_payment_limits(
    store: &Store,
    member_id: i64,
    user_id: i64,
    change: LimitsChange,
) -> StoreResult<bool> {
    let valid = |max: Option<Option<i64>>| {
        max.flatten()
            .is_none_or(|m| (1..=PAYMENT_MAX_MAX).contains(&m))
    };
    debug_assert!(valid(change.per_operation) && valid(change.per_month));
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE users SET \
                     payment_max = CASE WHEN $1 = 1 THEN $2 ELSE payment_max END, \
                     payment_month_max = CASE WHEN $3 = 1 THEN $4 ELSE payment_month_max END \
                     WHERE id = $5 AND member_id = $6 AND role = 'staff'")
            .bind(i64::from(change.per_operation.is_some()))
            .bind(change.per_operation.flatten())
            .bind(i64::from(change.per_month.is_some()))
            .bind(change.per_month.flatten())
            .bind(user_id).bind(member_id)
            .execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

/// Removes a staff member or a member accountant from a company (its owner's decision,
/// `by` its email): the user, its sessions and API tokens go, and the signing keys it
/// registered on the company's account are revoked (recorded as revoked by `by`: orders
/// signed with them are refused from now on, those paid stay verifiable), in one
/// transaction; its payments waiting for approval are withdrawn. `false` when `user_id` is
/// not a staff member or accountant of `member_id`
/// (nothing changes then).
pub async fn remove_member_user(
    store: &Store,
    member_id: i64,
    user_id: i64,
    by: &str,
) -> StoreResult<bool> {
    let now = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .expect("now is a valid time");
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let found: Option<(String, String)> = sqlx::query_as(
                "SELECT role, email FROM users WHERE id = $1 AND member_id = $2")
            .bind(user_id).bind(member_id).fetch_optional(&mut *tx).await?;
        let Some((role, email)) = found else {
            return Ok(false);
        };
        let removable = Role::parse(&role)
            .is_some_and(|r| matches!(r, Role::Staff | Role::MemberAccountant));
        if !removable {
            return Ok(false);
        }
        sqlx::query("UPDATE member_keys SET status = 'revoked', revoked_at = $1, revoked_by = $2 \
                     WHERE account_id = (SELECT account_id FROM members WHERE id = $3) \
                     AND registered_by = $4 AND status = 'active'")
            .bind(now).bind(by).bind(member_id).bind(&email)
            .execute(&mut *tx).await?;
        // Its payments waiting for the owner's approval are withdrawn (migration 0026).
        sqlx::query(crate::approvals::WITHDRAW_ALL_OF_SQL)
            .bind(by).bind(now.timestamp()).bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        // Its API tokens and their remembered answers go with it (migration 0015).
        sqlx::query("DELETE FROM api_idempotency WHERE user_id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    })
}

pub async fn user_count(store: &Store) -> StoreResult<i64> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?
    });
    Ok(count)
}

/// Inserts an invitation: token hash, email, role, member, creator, creation and expiry.
pub(crate) const INSERT_INVITATION_SQL: &str = "INSERT INTO invitations (token_hash, email, \
     role, member_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Creates an invitation; returns the token for the link (only its hash is stored).
pub async fn create_invitation(
    store: &Store,
    email: &str,
    role: Role,
    member_id: Option<i64>,
    created_by: i64,
) -> StoreResult<String> {
    let token = random_token();
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        sqlx::query(INSERT_INVITATION_SQL)
            .bind(token_hash(&token)).bind(normalize_email(email)).bind(role.as_str())
            .bind(member_id).bind(created_by).bind(now).bind(now + INVITATION_TTL_SECONDS)
            .execute(pool).await?;
    });
    Ok(token)
}

/// Inserts a password reset link: token hash, user, maker (null: the user), creation and
/// expiry. The console's link (`console::members::password_reset_link`) is written with it.
pub(crate) const INSERT_PASSWORD_RESET_SQL: &str = "INSERT INTO password_resets (token_hash, \
     user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// Makes a one-time link, asked for on `/password/forgot`, that sets `user_id`'s password
/// within [`RESET_TTL_SECONDS`]; returns its token (only its hash is stored). `None` when the
/// user asked for [`RESETS_PER_HOUR_MAX`] links in the last hour.
pub async fn create_password_reset(
    store: &Store,
    user_id: i64,
    now: i64,
) -> StoreResult<Option<String>> {
    let token = random_token();
    // One statement: two asks at once cannot both pass the count.
    let inserted = dispatch!(store.backend(), pool => {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) \
             SELECT $1, $2, NULL, $3, $4 WHERE (SELECT COUNT(*) FROM password_resets \
             WHERE user_id = $2 AND created_by IS NULL AND created_at > $5) < $6")
            .bind(token_hash(&token)).bind(user_id).bind(now).bind(now + RESET_TTL_SECONDS)
            .bind(now - 3600).bind(RESETS_PER_HOUR_MAX)
            .execute(pool).await?.rows_affected()
    });
    Ok((inserted == 1).then_some(token))
}

/// The user a usable password reset link (not used, not expired) is for.
pub async fn find_password_reset(
    store: &Store,
    token: &str,
    now: i64,
) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM password_resets JOIN users ON users.id = password_resets.user_id \
         WHERE password_resets.token_hash = $1 AND password_resets.used_at IS NULL \
         AND password_resets.expires_at > $2"
    );
    dispatch!(store.backend(), pool => {
        let row = sqlx::query(&sql).bind(token_hash(token)).bind(now)
            .fetch_optional(pool).await?;
        row.map(|row| user_from_row(&row)).transpose()
    })
}

/// Uses a password reset link once, in one transaction: sets the password (`hash`, from
/// [`hash_password`]), spends every other link of the user and closes all its sessions (its
/// API tokens stay). `None` when the link is unknown, used or expired.
pub async fn use_password_reset(
    store: &Store,
    token: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let user_id: Option<i64> = sqlx::query_scalar(
                "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 \
                 AND used_at IS NULL AND expires_at > $1 RETURNING user_id")
            .bind(now).bind(token_hash(token)).fetch_optional(&mut *tx).await?;
        let Some(user_id) = user_id else { return Ok(None) };
        sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(now).bind(user_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash).bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id).execute(&mut *tx).await?;
        let row = sqlx::query(&sql).bind(user_id).fetch_one(&mut *tx).await?;
        let user = user_from_row(&row)?;
        tx.commit().await?;
        Ok(Some(user))
    })
}

/// The kinds of e-mail a user chooses to receive (on `/account` or with
/// `PUT /api/v1/me/notices`), each a column of `users` (1: on, the default; 0: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// What waits for the user's action (a payment request, a payment to approve) and the
    /// network's changes to the account or its fees: `users.mail_notices`.
    Notices,
    /// The hourly digest of the payments received: `users.mail_receipts`.
    Receipts,
    /// The weekly e-mail of new listings: `users.mail_listings`.
    Listings,
    /// The monthly statement of the company's account: `users.mail_statements`.
    Statements,
}

impl MailKind {
    /// Its column: a constant, never input.
    fn column(self) -> &'static str {
        match self {
            MailKind::Notices => "mail_notices",
            MailKind::Receipts => "mail_receipts",
            MailKind::Listings => "mail_listings",
            MailKind::Statements => "mail_statements",
        }
    }
}

/// A user's choice for each kind of e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailChoices {
    pub notices: bool,
    pub receipts: bool,
    pub listings: bool,
    pub statements: bool,
}

impl MailChoices {
    pub const ALL_ON: MailChoices = MailChoices {
        notices: true,
        receipts: true,
        listings: true,
        statements: true,
    };
}

/// The users of `member_id` with one of `roles` who get e-mails of `kind`, oldest first, at
/// most `max`.
pub async fn notice_recipients(
    store: &Store,
    member_id: i64,
    roles: &[Role],
    kind: MailKind,
    max: i64,
) -> StoreResult<Vec<User>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    // The roles' codes and the kind's column are this module's constants, never input.
    let roles_sql = roles
        .iter()
        .map(|r| format!("'{}'", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE member_id = $1 AND {} = 1 \
         AND role IN ({roles_sql}) ORDER BY id LIMIT $2",
        kind.column()
    );
    let users: Vec<User> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(member_id).bind(max.clamp(0, 1_000))
            .fetch_all(pool).await?;
        rows.iter().map(user_from_row).collect::<StoreResult<Vec<User>>>()?
    });
    Ok(users)
}

/// The owners of member companies whose account is not closed and who get notices
/// ([`MailKind::Notices`]), at most `max` (1 to 10,000), oldest first: those told of a
/// change of the network's rules.
pub async fn owners_with_notices(store: &Store, max: i64) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users \
         JOIN members m ON m.id = users.member_id JOIN accounts a ON a.id = m.account_id \
         WHERE users.role = 'owner' AND users.mail_notices = 1 AND a.status <> 'closed' \
         ORDER BY users.id LIMIT $1"
    );
    let users: Vec<User> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(max.clamp(1, 10_000)).fetch_all(pool).await?;
        rows.iter().map(user_from_row).collect::<StoreResult<Vec<User>>>()?
    });
    Ok(users)
}

/// The network's managers who get notices ([`MailKind::Notices`]), oldest first, at most
/// `max` (1 to 1,000): those told of what members and applicants ask of the network.
pub async fn managers_with_notices(store: &Store, max: i64) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE role = 'manager' AND mail_notices = 1 \
         ORDER BY id LIMIT $1"
    );
    let users: Vec<User> = dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(max.clamp(1, 1_000)).fetch_all(pool).await?;
        rows.iter().map(user_from_row).collect::<StoreResult<Vec<User>>>()?
    });
    Ok(users)
}

/// `user_id`'s choice of e-mails.
pub async fn mail_choices(store: &Store, user_id: i64) -> StoreResult<MailChoices> {
    let (notices, receipts, listings, statements): (i64, i64, i64, i64) = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT mail_notices, mail_receipts, mail_listings, mail_statements \
             FROM users WHERE id = $1")
            .bind(user_id).fetch_one(pool).await?
    });
    Ok(MailChoices {
        notices: notices == 1,
        receipts: receipts == 1,
        listings: listings == 1,
        statements: statements == 1,
    })
}

/// Sets `user_id`'s choice of e-mails.
pub async fn set_mail_choices(
    store: &Store,
    user_id: i64,
    choices: MailChoices,
) -> StoreResult<()> {
    dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE users SET mail_notices = $1, mail_receipts = $2, mail_listings = $3, \
             mail_statements = $4 WHERE id = $5")
            .bind(i64::from(choices.notices)).bind(i64::from(choices.receipts))
            .bind(i64::from(choices.listings)).bind(i64::from(choices.statements))
            .bind(user_id)
            .execute(pool).await?;
    });
    Ok(())
}

/// Deletes password reset links that expired more than a day before `now`.
pub async fn purge_password_resets(store: &Store, now: i64) -> StoreResult<u64> {
    let deleted = dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM password_resets WHERE expires_at < $1")
            .bind(now - 24 * 3600).execute(pool).await?.rows_affected()
    });
    Ok(deleted)
}

/// Why an invitation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRefusal {
    InvalidEmail,
    /// A user already has this address.
    EmailTaken,
}

/// Invites `email` to join with `role` (a company's staff or accountant invited by its
/// owner, from the company page or the API): checks the address, then creates a one-time
/// invitation and returns the normalized address and the token of its link.
pub async fn invite(
    store: &Store,
    email: &str,
    role: Role,
    member_id: Option<i64>,
    created_by: i64,
) -> StoreResult<Result<(String, String), InviteRefusal>> {
    let email = normalize_email(email);
    if !email_is_valid(&email) {
        return Ok(Err(InviteRefusal::InvalidEmail));
    }
    if email_taken(store, &email).await? {
        return Ok(Err(InviteRefusal::EmailTaken));
    }
    let token = create_invitation(store, &email, role, member_id, created_by).await?;
    Ok(Ok((email, token)))
}

/// A usable invitation (not used, not expired).
pub async fn find_invitation(store: &Store, token: &str) -> StoreResult<Option<Invitation>> {
    let sql = "SELECT email, role, member_id FROM invitations \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    dispatch!(store.backend(), pool => {
        let row = sqlx::query(sql).bind(token_hash(token)).bind(now_unix())
            .fetch_optional(pool).await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        Ok(Some(Invitation {
            email: row.try_get("email")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
            member_id: row.try_get("member_id")?,
        }))
    })
}

/// Uses an invitation once: marks it used and creates the user in one transaction. `None`
/// when the invitation was used meanwhile or the email is taken.
pub async fn accept_invitation(
    store: &Store,
    token: &str,
    password: &str,
    display_name: &str,
) -> StoreResult<Option<i64>> {
    let hash = hash_password(password);
    let now = now_unix();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin().await?;
        let row = sqlx::query("UPDATE invitations SET used_at = $1 WHERE token_hash = $2 \
                               AND used_at IS NULL AND expires_at > $1 \
                               RETURNING email, role, member_id")
            .bind(now).bind(token_hash(token)).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let email: String = row.try_get("email")?;
        let role: String = row.try_get("role")?;
        let member_id: Option<i64> = row.try_get("member_id")?;
        let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO users (email, password_hash, display_name, role, member_id, lang, \
                 created_at) VALUES ($1, $2, $3, $4, $5, 'fr', $6) \
                 ON CONFLICT (email) DO NOTHING RETURNING id")
            .bind(&email).bind(&hash).bind(display_name).bind(&role).bind(member_id).bind(now)
            .fetch_optional(&mut *tx).await?;
        if id.is_some() {
            tx.commit().await?;
        }
        Ok(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_luhn_check() {
        assert!(siren_is_valid("732829320"));
        assert!(siren_is_valid("552100554"));
        assert!(!siren_is_valid("732829321"));
        assert!(!siren_is_valid("73282932"));
        assert!(!siren_is_valid("7328293200"));
        assert!(!siren_is_valid("73282932a"));
    }

    #[test]
    fn emails() {
        assert!(email_is_valid("a@b.fr"));
        assert!(!email_is_valid("a@b"));
        assert!(!email_is_valid("a b@c.fr"));
        assert!(!email_is_valid("@c.fr"));
        assert!(!email_is_valid("a@@c.fr"));
        let at_max = format!("{}@b.fr", "a".repeat(EMAIL_LEN_MAX - 5));
        assert!(email_is_valid(&at_max));
        let past_max = format!("{}@b.fr", "a".repeat(EMAIL_LEN_MAX - 4));
        assert!(!email_is_valid(&past_max));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
