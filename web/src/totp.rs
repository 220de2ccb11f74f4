//! The second step at login: a one-time code from an authenticator app (TOTP, RFC 6238:
//! HMAC-SHA1 over 30-second steps, 6 digits), or one of the recovery codes shown when the
//! user set it up (docs/web.md, "Two-step login", migration 0039).
//!
//! The codes are computed here from the secret and a time passed in; the store functions
//! keep the secret, the last step accepted (a code is accepted once), the recovery codes
//! (hashed) and the login challenges (a password accepted, a code awaited).
//!
//! Not here: the pages (`http::auth`), the login rate limit (`http::limits`), sessions
//! (`people`).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

use crate::dispatch;
use crate::people::{random_token, token_hash, Role};
use crate::store::action_log::{insert_action, ActionNote, Conn};
use crate::store::{Store, StoreError, StoreResult};

/// Seconds per step: a code changes every 30 seconds.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps before and after the current one whose code is still accepted (clocks drift).
pub const WINDOW_STEPS: i64 = 1;
/// Bytes of a secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes given when the second step is set up.
pub const RECOVERY_CODES: usize = 8;
/// Characters of a recovery code (lowercase letters and digits, without look-alikes).
pub const RECOVERY_CODE_LEN: usize = 10;
/// Seconds a login challenge waits for its code.
pub const CHALLENGE_SECONDS: i64 = 300;
/// Wrong codes a challenge allows; then the login starts again from the password.
pub const CHALLENGE_ATTEMPTS_MAX: i64 = 5;
/// Longest code text read (a recovery code with spaces or dashes typed in it).
pub const CODE_TEXT_LEN_MAX: usize = 32;

/// Who the network requires two-step login of (migration 0040, `console_settings`): a user
/// the rule covers who has not turned it on reaches only the page that turns it on
/// (`http::session::Auth`), and cannot turn it off. Managers change it
/// (`console::settings::set_two_step_rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoStepRule {
    /// Each user's choice (migration 0040's default).
    Nobody,
    /// The network's managers and accountants.
    NetworkStaff,
    /// Every user, the member companies' too.
    Everyone,
}

impl TwoStepRule {
    pub const ALL: [TwoStepRule; 3] = [
        TwoStepRule::Nobody,
        TwoStepRule::NetworkStaff,
        TwoStepRule::Everyone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TwoStepRule::Nobody => "nobody",
            TwoStepRule::NetworkStaff => "network_staff",
            TwoStepRule::Everyone => "everyone",
        }
    }

    pub fn parse(text: &str) -> Option<TwoStepRule> {
        TwoStepRule::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether the rule requires two-step login of a user with `role`.
    pub fn covers(self, role: Role) -> bool {
        match self {
            TwoStepRule::Nobody => false,
            TwoStepRule::NetworkStaff => matches!(role, Role::Manager | Role::Accountant),
            TwoStepRule::Everyone => true,
        }
    }

    /// The roles the rule covers, as SQL's `role IN (...)` list (never empty: `Nobody`
    /// names a role no user has).
    fn roles_sql(self) -> &'static str {
        match self {
            TwoStepRule::Nobody => "'none'",
            TwoStepRule::NetworkStaff => "'manager', 'accountant'",
            TwoStepRule::Everyone => {
                "'manager', 'accountant', 'owner', 'staff', 'member_accountant'"
            }
        }
    }
}

/// The network's rule now.
pub async fn rule(store: &Store) -> StoreResult<TwoStepRule> {
    let text: Option<String> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT two_step_rule FROM console_settings WHERE id = 1")
            .fetch_optional(pool).await?
    });
    let text = text.ok_or_else(|| StoreError::Corrupt("console_settings has no row".into()))?;
    TwoStepRule::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("two_step_rule {text:?}")))
}

/// Users listed at most by [`without`] (the count covers them all).
pub const WITHOUT_LISTED_MAX: i64 = 200;

/// A user the rule covers who has not turned two-step login on yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Without {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Its company, for a member's user.
    pub member: Option<(i64, String)>,
}

/// The users `rule` covers who have not turned two-step login on: how many, and the first
/// [`WITHOUT_LISTED_MAX`] by email.
pub async fn without(store: &Store, rule: TwoStepRule) -> StoreResult<(i64, Vec<Without>)> {
    let roles = rule.roles_sql();
    let filter = format!("users.totp_secret IS NULL AND users.role IN ({roles})");
    let count_sql = format!("SELECT COUNT(*) FROM users WHERE {filter}");
    let list_sql = format!(
        "SELECT users.id, users.email, users.display_name, users.role, members.id, members.name \
         FROM users LEFT JOIN members ON members.id = users.member_id WHERE {filter} \
         ORDER BY users.email LIMIT {WITHOUT_LISTED_MAX}"
    );
    type Line = (i64, String, String, String, Option<i64>, Option<String>);
    let (count, lines): (i64, Vec<Line>) = dispatch!(store.backend(), pool => {
        let count = sqlx::query_scalar(&count_sql).fetch_one(pool).await?;
        (count, sqlx::query_as(&list_sql).fetch_all(pool).await?)
    });
    let mut listed = Vec::with_capacity(lines.len());
    for (user_id, email, display_name, role, member_id, member_name) in lines {
        let role =
            Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?;
        listed.push(Without {
            user_id,
            email,
            display_name,
            role,
            member: member_id.zip(member_name),
        });
    }
    Ok((count, listed))
}

/// The operator turns off the two-step login of the user with `email` (`troc admin
/// two-step-off`): for a network manager or accountant who lost its phone and its recovery
/// codes (a member's user asks its manager, `console::members::two_step_off`). Logged as
/// `user.two_step_off` by `cli`. `false`: no such user, or none with two-step login on.
pub async fn turn_off_by_operator(store: &Store, email: &str, reason: &str) -> StoreResult<bool> {
    let user: Option<(i64, Option<i64>)> = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT id, member_id FROM users WHERE email = $1 AND totp_secret IS NOT NULL")
            .bind(email).fetch_optional(pool).await?
    });
    let Some((user_id, member_id)) = user else {
        return Ok(false);
    };
    let mut note = ActionNote::new(None, "cli", "user.two_step_off", reason)?.states(
        serde_json::json!({ "email": email, "two_step": true }),
        serde_json::json!({ "email": email, "two_step": false }),
    );
    if let Some(member_id) = member_id {
        note = note.member(member_id);
    }
    let begin = store.begin_write_sql();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        for sql in TURN_OFF_SQL {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        insert_action(Conn::from(&mut *tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
    });
    Ok(true)
}

/// An authenticator app's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; SECRET_BYTES]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn random() -> Secret {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    /// The secret as the database keeps it (40 hex digits); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Secret> {
        let bytes = hex::decode(text).ok()?;
        Some(Secret(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The secret as an app's manual entry takes it: RFC 4648 base32, without padding.
    pub fn to_base32(&self) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::with_capacity(SECRET_BYTES * 8 / 5 + 1);
        let (mut buffer, mut bits) = (0u32, 0u32);
        for byte in self.0 {
            buffer = (buffer << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    /// The `otpauth://` address an app reads from the QR code (Google Authenticator's key
    /// URI format): `issuer` and `account` are percent-encoded.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent(account),
            self.to_base32()
        )
    }
}

fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The step of `unix` seconds.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The code of `secret` for `step` (RFC 4226's HOTP, truncated to [`DIGITS`] digits).
pub fn code_for_step(secret: &Secret, step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(&secret.0).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        value % 10u32.pow(DIGITS as u32),
        width = DIGITS
    )
}

/// The code of `secret` at `unix` seconds.
pub fn code_at(secret: &Secret, unix: i64) -> String {
    code_for_step(secret, step_of(unix))
}

/// The step whose code `code` is, within [`WINDOW_STEPS`] of `now` and after `last_step`
/// (a code already used is not accepted again); `None` otherwise. Digits only, spaces
/// ignored.
pub fn matching_step(secret: &Secret, code: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    (current - WINDOW_STEPS..=current + WINDOW_STEPS)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| crate::people::constant_time_eq(&code_for_step(secret, *step), &code))
}

/// A recovery code as typed, reduced to what is compared: lowercase, without spaces or
/// dashes.
fn recovery_form(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn new_recovery_code() -> String {
    // No 0/o, 1/l/i: read off paper.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; RECOVERY_CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Where a user's second step stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The second step is asked at login.
    pub enabled: bool,
    /// A secret being set up, waiting for its first code.
    pub pending: Option<Secret>,
    /// Recovery codes not used yet.
    pub recovery_left: i64,
}

pub async fn status(store: &Store, user_id: i64) -> StoreResult<Status> {
    let (secret, pending, left): (Option<String>, Option<String>, i64) = dispatch!(store.backend(), pool => {
        sqlx::query_as(
            "SELECT totp_secret, totp_pending, (SELECT COUNT(*) FROM totp_recovery_codes r \
             WHERE r.user_id = users.id AND r.used_at IS NULL) FROM users WHERE id = $1")
            .bind(user_id).fetch_optional(pool).await?
            .unwrap_or((None, None, 0))
    });
    Ok(Status {
        enabled: secret.is_some(),
        pending: pending.as_deref().and_then(Secret::from_hex),
        recovery_left: left,
    })
}

/// The users of `member_id` with two-step login on: one read, for the manager's page of the
/// member.
pub async fn enabled_of_member(
    store: &Store,
    member_id: i64,
) -> StoreResult<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "SELECT id FROM users WHERE member_id = $1 AND totp_secret IS NOT NULL")
            .bind(member_id).fetch_all(pool).await?
    });
    Ok(ids.into_iter().collect())
}

/// Starts setting up the second step: a new secret, not in force until [`confirm`]
/// accepts a first code of it. A second call replaces it.
pub async fn start(store: &Store, user_id: i64) -> StoreResult<Secret> {
    let secret = Secret::random();
    dispatch!(store.backend(), pool => {
        sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
            .bind(secret.to_hex()).bind(user_id).execute(pool).await?;
    });
    Ok(secret)
}

/// Puts the pending secret in force if `code` is one of its codes at `now`: the second step
/// is asked from the next login on. Returns the new recovery codes (the only time they are
/// shown; earlier ones are deleted), or `None` when the code is wrong or nothing is pending.
pub async fn confirm(
    store: &Store,
    user_id: i64,
    code: &str,
    now: i64,
) -> StoreResult<Option<Vec<String>>> {
    let Some(pending) = status(store, user_id).await?.pending else {
        return Ok(None);
    };
    let Some(step) = matching_step(&pending, code, now, None) else {
        return Ok(None);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let begin = store.begin_write_sql();
    let done = dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        // Only the secret the code was checked against: a `start` in between wins.
        let done = sqlx::query(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, \
             totp_last_step = $1 WHERE id = $2 AND totp_pending = $3")
            .bind(step).bind(user_id).bind(pending.to_hex())
            .execute(&mut *tx).await?.rows_affected();
        if done == 1 {
            sqlx::query("DELETE FROM totp_recovery_codes WHERE user_id = $1")
                .bind(user_id).execute(&mut *tx).await?;
            for code in &codes {
                sqlx::query("INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id).bind(token_hash(code)).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        done
    });
    Ok((done == 1).then_some(codes))
}

/// What turning the second step off does, each statement bound to the user's id: the
/// secret, the recovery codes and the logins waiting for a code go. Shared by [`disable`]
/// and the manager's `console::members::two_step_off` (which logs it in the same
/// transaction).
pub(crate) const TURN_OFF_SQL: [&str; 3] = [
    "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
     WHERE id = $1",
    "DELETE FROM totp_recovery_codes WHERE user_id = $1",
    "DELETE FROM login_challenges WHERE user_id = $1",
];

/// Turns the second step off (the caller checked the password and a code).
pub async fn disable(store: &Store, user_id: i64) -> StoreResult<()> {
    let begin = store.begin_write_sql();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        for sql in TURN_OFF_SQL {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// What a code given at the second step was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The app's code of the moment.
    App,
    /// A recovery code, now used.
    Recovery,
}

/// Whether `code` passes `user_id`'s second step at `now`: an app's code not used yet, or
/// a recovery code not used yet. Either is used up by this call (one conditional write, so
/// two logins racing with one code do not both pass). `None`: refused, or no second step.
pub async fn verify(
    store: &Store,
    user_id: i64,
    code: &str,
    now: i64,
) -> StoreResult<Option<Accepted>> {
    if code.chars().count() > CODE_TEXT_LEN_MAX {
        return Ok(None);
    }
    let row: Option<(Option<String>, Option<i64>)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
            .bind(user_id).fetch_optional(pool).await?
    });
    let Some((Some(secret), last_step)) = row else {
        return Ok(None);
    };
    let Some(secret) = Secret::from_hex(&secret) else {
        return Ok(None);
    };
    if let Some(step) = matching_step(&secret, code, now, last_step) {
        let done = dispatch!(store.backend(), pool => {
            sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
                 AND (totp_last_step IS NULL OR totp_last_step < $1)")
                .bind(step).bind(user_id).execute(pool).await?.rows_affected()
        });
        return Ok((done == 1).then_some(Accepted::App));
    }
    let typed = recovery_form(code);
    if typed.len() != RECOVERY_CODE_LEN {
        return Ok(None);
    }
    let done = dispatch!(store.backend(), pool => {
        sqlx::query(
            "UPDATE totp_recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now).bind(user_id).bind(token_hash(&typed)).execute(pool).await?.rows_affected()
    });
    Ok((done == 1).then_some(Accepted::Recovery))
}

/// Whether `user_id` must give a code after its password.
pub async fn required(store: &Store, user_id: i64) -> StoreResult<bool> {
    let secret: Option<Option<String>> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id).fetch_optional(pool).await?
    });
    Ok(matches!(secret, Some(Some(_))))
}

/// A login whose password was accepted, waiting for its code: the token the code page
/// carries. Expired challenges are deleted on the way.
pub async fn begin_challenge(store: &Store, user_id: i64, now: i64) -> StoreResult<String> {
    let token = random_token();
    dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now).execute(pool).await?;
        sqlx::query("INSERT INTO login_challenges (token_hash, user_id, expires_at) \
                     VALUES ($1, $2, $3)")
            .bind(token_hash(&token)).bind(user_id).bind(now + CHALLENGE_SECONDS)
            .execute(pool).await?;
    });
    Ok(token)
}

/// The user a live challenge is for; `None` for an unknown, expired or used-up one.
pub async fn challenge_user(store: &Store, token: &str, now: i64) -> StoreResult<Option<i64>> {
    if token.len() != 64 {
        return Ok(None);
    }
    dispatch!(store.backend(), pool => {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM login_challenges WHERE token_hash = $1 AND expires_at > $2 \
             AND attempts < $3")
            .bind(token_hash(token)).bind(now).bind(CHALLENGE_ATTEMPTS_MAX)
            .fetch_optional(pool).await?)
    })
}

/// Counts a wrong code against the challenge; `true` while it allows another try.
pub async fn challenge_failed(store: &Store, token: &str) -> StoreResult<bool> {
    let attempts: Option<i64> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(
            "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1 \
             RETURNING attempts")
            .bind(token_hash(token)).fetch_optional(pool).await?
    });
    Ok(attempts.is_some_and(|a| a < CHALLENGE_ATTEMPTS_MAX))
}

/// Ends a challenge (its code was accepted): it cannot be used again.
pub async fn end_challenge(store: &Store, token: &str) -> StoreResult<bool> {
    let done = dispatch!(store.backend(), pool => {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash(token)).execute(pool).await?.rows_affected()
    });
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_covers_whom_it_names() {
        for rule in TwoStepRule::ALL {
            assert_eq!(TwoStepRule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(TwoStepRule::parse("Everyone"), None);
        assert_eq!(TwoStepRule::parse(""), None);
        for role in Role::ALL {
            assert!(!TwoStepRule::Nobody.covers(role));
            assert!(TwoStepRule::Everyone.covers(role));
            assert_eq!(
                TwoStepRule::NetworkStaff.covers(role),
                matches!(role, Role::Manager | Role::Accountant),
                "{role:?}"
            );
            // The SQL list names exactly the roles covered.
            for rule in TwoStepRule::ALL {
                let quoted = format!("'{}'", role.as_str());
                assert_eq!(rule.roles_sql().contains(&quoted), rule.covers(role));
            }
        }
    }

    /// RFC 6238's test secret for SHA-1 ("12345678901234567890").
    fn rfc_secret() -> Secret {
        Secret(*b"12345678901234567890")
    }

    #[test]
    fn codes_are_rfc_6238s() {
        // RFC 6238, appendix B (SHA-1), the last six of the eight digits.
        for (unix, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(&rfc_secret(), unix), code, "{unix}");
        }
    }

    #[test]
    fn base32_is_rfc_4648s() {
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let secret = rfc_secret();
        assert_eq!(Secret::from_hex(&secret.to_hex()), Some(secret));
        assert_eq!(Secret::from_hex("abc"), None);
        assert_eq!(Secret::from_hex(&"00".repeat(21)), None);
    }

    #[test]
    fn a_code_passes_within_one_step_and_once() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = step_of(now);
        for offset in [-1, 0, 1] {
            let code = code_for_step(&secret, step + offset);
            assert_eq!(
                matching_step(&secret, &code, now, None),
                Some(step + offset)
            );
        }
        for offset in [-2, 2] {
            let code = code_for_step(&secret, step + offset);
            assert_eq!(matching_step(&secret, &code, now, None), None);
        }
        // Used once: the same step, or an earlier one, no more.
        let code = code_at(&secret, now);
        assert_eq!(matching_step(&secret, &code, now, Some(step)), None);
        assert_eq!(
            matching_step(&secret, &code, now, Some(step - 1)),
            Some(step)
        );
        // Spaces are ignored; anything but six digits is refused.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(&secret, &spaced, now, None), Some(step));
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(matching_step(&secret, bad, now, None), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_read_off_paper() {
        let code = new_recovery_code();
        assert_eq!(code.len(), RECOVERY_CODE_LEN);
        assert!(!code.contains(['0', 'o', '1', 'l', 'i']));
        assert_eq!(recovery_form("AbCd-E fGh2"), "abcdefgh2");
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = rfc_secret().uri("Troc Rhône", "a+b@x.fr");
        assert_eq!(
            uri,
            "otpauth://totp/Troc%20Rh%C3%B4ne:a%2Bb@x.fr?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Troc%20Rh%C3%B4ne&algorithm=SHA1&digits=6&period=30"
        );
    }
}
