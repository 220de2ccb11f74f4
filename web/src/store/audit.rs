//! Tamper evidence on the store side (see `docs/audit.md`): member keys and signed payment
//! orders, network keys and signed checkpoints, reading the chain back, and the whole-ledger
//! verification behind `troc verify`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use ledger::audit::{
    order_message, order_of, public_key_hex, sign_checkpoint, verify, verify_checkpoint,
    verify_order, ChainBreak, ChainVerifier, Checkpoint, Hash, PayerSignature, PaymentOrder,
    SignatureError, GENESIS_HASH,
};
use ledger::{
    AccountId, AccountKind, Amount, InvariantViolation, Operation, Outcome, Rejection, Transaction,
    TxId,
};
use serde::Serialize;

use super::chain::parse_hash;
use super::rows::{
    account_id, db_id, id_list, in_id_list, micros, transaction_from_rows, unsigned, PostingRow,
    TransactionRow, TRANSACTION_COLUMNS,
};
use super::{Store, StoreError, StoreResult, Submission};

/// Most active keys one member account may hold.
pub const MEMBER_KEYS_PER_ACCOUNT_MAX: usize = 8;
/// Most keys, active and revoked, one member account may ever register (so that its list
/// stays bounded; revoked keys are kept forever to verify old payments).
pub const MEMBER_KEYS_EVER_MAX: usize = 1_000;
/// Every signed order's idempotency key starts with this, so that an order can never take a
/// key the network's own operations use (`web-pay-…`, `console-…`).
pub const ORDER_KEY_PREFIX: &str = "order-";

/// Whether `key` may be a signed order's idempotency key: [`ORDER_KEY_PREFIX`] and more.
pub fn is_order_key(key: &str) -> bool {
    key.len() > ORDER_KEY_PREFIX.len() && key.starts_with(ORDER_KEY_PREFIX)
}
/// Longest validity a payment order may ask for (its expiry, from now).
pub const ORDER_LIFETIME_MAX: chrono::Duration = chrono::Duration::days(31);
/// Transactions read per query when walking the chain.
const CHAIN_PAGE_SIZE: i64 = 2_000;
/// Most checkpoints one listing returns.
pub const CHECKPOINTS_PAGE_SIZE_MAX: usize = 1_000;

/// A payment order that [`Store::check_signed_order`] accepted: the order, its key, its
/// signature (normalised) and the moment of the check. Only the check makes one.
#[derive(Debug, Clone)]
pub struct CheckedOrder {
    order: PaymentOrder,
    key: MemberKey,
    signature: String,
    checked_at: DateTime<Utc>,
}

impl CheckedOrder {
    /// The payer's key that signed the order.
    pub fn key(&self) -> &MemberKey {
        &self.key
    }
}

/// A member's registered public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MemberKey {
    pub public_key: String,
    pub account: AccountId,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The email of the user who registered the key, as it was then (`None` before
    /// migration 0021). Not in audit bundles: who is the member's business, not the
    /// auditor's, and the signature proves the account's consent either way.
    #[serde(skip)]
    pub registered_by: Option<String>,
    /// The email of the user who revoked the key.
    #[serde(skip)]
    pub revoked_by: Option<String>,
}

impl MemberKey {
    /// Whether a payment at `time` could have been signed with this key: registered at or
    /// before it and not revoked before it.
    pub fn valid_at(&self, time: DateTime<Utc>) -> bool {
        self.created_at <= time && self.revoked_at.is_none_or(|revoked| time <= revoked)
    }
}

/// A public key the network signs (or signed) checkpoints with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NetworkKey {
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// A checkpoint with its signature, as stored and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SignedCheckpoint {
    // Nested, not flattened: serde's flatten cannot carry the i128 credit sum.
    pub checkpoint: Checkpoint,
    pub signature: String,
}

/// Why a signed payment order was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the key {0} is not registered to the payer's account")]
    UnknownKey(String),
    #[error("the key {0} was revoked")]
    RevokedKey(String),
    #[error("the order's signature is invalid: {0}")]
    Signature(SignatureError),
    #[error("the order has expired")]
    Expired,
    #[error("the order's expiry is more than {} days away", ORDER_LIFETIME_MAX.num_days())]
    ExpiryTooFar,
    #[error("the order's idempotency key must start with {ORDER_KEY_PREFIX:?} and go on after it")]
    KeyOutsideNamespace,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a member key could not be registered or revoked; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a public key is 64 hex digits")]
    Malformed,
    #[error("not a valid Ed25519 public key")]
    NotOnCurve,
    #[error("a weak (small-order) Ed25519 key is refused")]
    Weak,
    #[error("account {0} is not a member account")]
    NotMemberAccount(AccountId),
    #[error("the account already has {MEMBER_KEYS_PER_ACCOUNT_MAX} active keys; revoke one first")]
    TooManyActive,
    #[error("the account has registered {MEMBER_KEYS_EVER_MAX} keys, the most it may")]
    TooManyEver,
    #[error("this public key is already registered (keys are never reused)")]
    AlreadyRegistered,
    #[error("the account has no active key {0}")]
    NotActive(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One committed transaction as the chain holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    pub seq: u64,
    pub transaction: Transaction,
    pub signature: Option<PayerSignature>,
    pub hash: Hash,
}

/// The first place where the stored ledger does not hold, as `troc verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    #[error("chain: {0}")]
    Chain(#[from] ChainBreak),
    #[error(
        "ledger head: it says seq {head_seq} with hash {head_hash}, but the chain ends at seq \
         {chain_seq} with hash {chain_hash}"
    )]
    Head {
        head_seq: u64,
        head_hash: String,
        chain_seq: u64,
        chain_hash: String,
    },
    #[error("checkpoint at seq {seq}: {problem}")]
    Checkpoint { seq: u64, problem: String },
    #[error("transaction {tx} (seq {seq}): payer signature: {problem}")]
    MemberSignature { seq: u64, tx: TxId, problem: String },
    #[error(
        "account {account}: stored balance {} minor units, its postings sum to {postings}",
        .stored.minor()
    )]
    Balance {
        account: AccountId,
        stored: Amount,
        postings: i128,
    },
    #[error("invariant: {0}")]
    Invariant(String),
    #[error("unreadable record: {0}")]
    Corrupt(String),
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    pub transactions: u64,
    pub head: String,
    pub checkpoints: u64,
    pub signed_payments: u64,
    pub accounts: u64,
}

/// Checks a chain state against a signed checkpoint at the same seq, and its signature
/// against the known network keys. Shared by the database and the bundle verifiers.
pub fn check_checkpoint(
    signed: &SignedCheckpoint,
    network_keys: &HashMap<String, NetworkKey>,
    chain: &ChainVerifier,
) -> Result<(), AuditBreak> {
    let c = &signed.checkpoint;
    let problem = |problem: String| AuditBreak::Checkpoint {
        seq: c.seq,
        problem,
    };
    if !network_keys.contains_key(&c.public_key) {
        return Err(problem(format!(
            "signed by {}, which is not a network key",
            c.public_key
        )));
    }
    verify_checkpoint(c, &signed.signature)
        .map_err(|e| problem(format!("signature check failed: {e}")))?;
    if chain.last_seq() != c.seq {
        return Err(problem(format!(
            "the chain reached seq {} instead",
            chain.last_seq()
        )));
    }
    if hex::encode(chain.head()) != c.head {
        return Err(problem(format!(
            "signed head {} but the chain's hash there is {}",
            c.head,
            hex::encode(chain.head())
        )));
    }
    if chain.count() != c.tx_count || chain.credit_sum() != c.credit_sum {
        return Err(problem(format!(
            "signed count {} and credit sum {}, the chain gives {} and {}",
            c.tx_count,
            c.credit_sum,
            chain.count(),
            chain.credit_sum()
        )));
    }
    Ok(())
}

/// Checks a payer signature stored with transaction `seq`: the order rebuilt from the
/// transaction verifies under `verify_strict` with a key registered to the payer and valid
/// at the transaction's time, which is before the order's expiry.
pub fn check_payer_signature(
    seq: u64,
    tx: &Transaction,
    signature: &PayerSignature,
    member_keys: &HashMap<String, MemberKey>,
) -> Result<(), AuditBreak> {
    let problem = |problem: String| AuditBreak::MemberSignature {
        seq,
        tx: tx.id(),
        problem,
    };
    let order = order_of(tx, signature.expires_at)
        .ok_or_else(|| problem("the transaction is not a signable payment".into()))?;
    verify(
        &signature.public_key,
        &order_message(&order),
        &signature.signature,
    )
    .map_err(|e| problem(e.to_string()))?;
    let key = member_keys
        .get(&signature.public_key)
        .ok_or_else(|| problem(format!("unknown key {}", signature.public_key)))?;
    if key.account != order.payer {
        return Err(problem(format!(
            "the key belongs to account {}, not to the payer {}",
            key.account, order.payer
        )));
    }
    if !key.valid_at(tx.time()) {
        return Err(problem(
            "the key was not valid at the transaction's time".into(),
        ));
    }
    if tx.time() >= signature.expires_at {
        return Err(problem(
            "the order had expired when it was carried out".into(),
        ));
    }
    Ok(())
}

/// A member's public key as registered: 64 hex digits (any case, trimmed; stored lowercase)
/// of a valid Ed25519 point that is not of small order.
pub fn parse_member_key(public_key: &str) -> Result<String, KeyError> {
    let public_key = public_key.trim().to_ascii_lowercase();
    parse_verifying_key(&public_key)?;
    Ok(public_key)
}

fn parse_verifying_key(public_key: &str) -> Result<VerifyingKey, KeyError> {
    let bytes: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(KeyError::Malformed)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotOnCurve)?;
    if key.is_weak() {
        return Err(KeyError::Weak);
    }
    Ok(key)
}

type MemberKeyRow = (
    String,
    i64,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

const MEMBER_KEY_COLUMNS: &str =
    "public_key, account_id, status, created_at, revoked_at, registered_by, revoked_by";

fn member_key_from_row(row: MemberKeyRow) -> StoreResult<MemberKey> {
    let (public_key, account, status, created_at, revoked_at, registered_by, revoked_by) = row;
    Ok(MemberKey {
        public_key,
        account: account_id(account)?,
        active: status == "active",
        created_at,
        revoked_at,
        registered_by,
        revoked_by,
    })
}

type CheckpointRow = (i64, String, DateTime<Utc>, i64, i64, String, String);
const CHECKPOINT_COLUMNS: &str = "seq, head, time, tx_count, credit_sum, public_key, signature";

fn checkpoint_from_row(row: CheckpointRow) -> StoreResult<SignedCheckpoint> {
    let (seq, head, time, tx_count, credit_sum, public_key, signature) = row;
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            seq: unsigned(seq)?,
            head,
            time,
            tx_count: unsigned(tx_count)?,
            credit_sum: credit_sum.into(),
            public_key,
        },
        signature,
    })
}

impl Store {
    /// Registers a member's Ed25519 public key (64 hex digits) for signed payment orders,
    /// recording `by` (the email of the user who registers it). The counts are checked and
    /// the key inserted in one write transaction that holds the account (PostgreSQL: its row
    /// `FOR UPDATE`; SQLite: the write lock), so concurrent registrations never exceed
    /// [`MEMBER_KEYS_PER_ACCOUNT_MAX`].
    pub async fn register_member_key(
        &self,
        account: AccountId,
        public_key: &str,
        by: &str,
    ) -> Result<MemberKey, KeyError> {
        let public_key = parse_member_key(public_key)?;
        let lock = match self.kind() {
            super::BackendKind::Postgres => " FOR UPDATE",
            super::BackendKind::Sqlite => "",
        };
        let account_sql = format!("SELECT kind FROM accounts WHERE id = $1{lock}");
        let begin = self.begin_write_sql();
        let now = micros(Utc::now());
        let refused: Option<KeyError> = crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin_with(begin).await.map_err(StoreError::from)?;
            let kind: Option<String> = sqlx::query_scalar(&account_sql)
                .bind(db_id(account.0))
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT account_id FROM member_keys WHERE public_key = $1",
            )
            .bind(&public_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let (active, ever): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0), \
                 COUNT(*) FROM member_keys WHERE account_id = $1",
            )
            .bind(db_id(account.0))
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let refusal = if kind.as_deref() != Some(AccountKind::Member.as_str()) {
                Some(KeyError::NotMemberAccount(account))
            } else if taken.is_some() {
                Some(KeyError::AlreadyRegistered)
            } else if active >= MEMBER_KEYS_PER_ACCOUNT_MAX as i64 {
                Some(KeyError::TooManyActive)
            } else if ever >= MEMBER_KEYS_EVER_MAX as i64 {
                Some(KeyError::TooManyEver)
            } else {
                None
            };
            if refusal.is_none() {
                sqlx::query(
                    "INSERT INTO member_keys (public_key, account_id, status, created_at, \
                     registered_by) VALUES ($1, $2, 'active', $3, $4)",
                )
                .bind(&public_key)
                .bind(db_id(account.0))
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
                tx.commit().await.map_err(StoreError::from)?;
            }
            refusal
        });
        if let Some(refusal) = refused {
            return Err(refusal);
        }
        Ok(MemberKey {
            public_key,
            account,
            active: true,
            created_at: now,
            revoked_at: None,
            registered_by: Some(by.to_owned()),
            revoked_by: None,
        })
    }

    /// Revokes one of `account`'s keys, recording `by` (the email of the user who revokes
    /// it): orders signed with it are refused from now on; payments it signed before stay
    /// verifiable. Returns the key as it now is.
    pub async fn revoke_member_key(
        &self,
        account: AccountId,
        public_key: &str,
        by: &str,
    ) -> Result<MemberKey, KeyError> {
        let public_key = public_key.trim().to_ascii_lowercase();
        let now = micros(Utc::now());
        let sql = format!(
            "UPDATE member_keys SET status = 'revoked', revoked_at = $3, revoked_by = $4 \
             WHERE public_key = $1 AND account_id = $2 AND status = 'active' \
             RETURNING {MEMBER_KEY_COLUMNS}"
        );
        let row: Option<MemberKeyRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
            .bind(&public_key)
            .bind(db_id(account.0))
            .bind(now)
            .bind(by)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)?
        });
        let row = row.ok_or(KeyError::NotActive(public_key))?;
        Ok(member_key_from_row(row)?)
    }

    /// `account`'s keys, active and revoked, oldest first.
    pub async fn member_keys(&self, account: AccountId) -> StoreResult<Vec<MemberKey>> {
        let sql = format!(
            "SELECT {MEMBER_KEY_COLUMNS} FROM member_keys WHERE account_id = $1 \
             ORDER BY created_at, public_key"
        );
        let rows: Vec<MemberKeyRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
            .bind(db_id(account.0))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(member_key_from_row).collect()
    }

    async fn member_key(&self, public_key: &str) -> StoreResult<Option<MemberKey>> {
        let sql = format!("SELECT {MEMBER_KEY_COLUMNS} FROM member_keys WHERE public_key = $1");
        let row: Option<MemberKeyRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
            .bind(public_key)
            .fetch_optional(pool)
            .await?
        });
        row.map(member_key_from_row).transpose()
    }

    /// Every member key ever registered, by public key (for verification and bundles).
    pub async fn all_member_keys(&self) -> StoreResult<HashMap<String, MemberKey>> {
        let sql = format!("SELECT {MEMBER_KEY_COLUMNS} FROM member_keys");
        let rows: Vec<MemberKeyRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| member_key_from_row(row).map(|k| (k.public_key.clone(), k)))
            .collect()
    }

    /// Checks a payment order signed by its payer, as of now, without paying it: its
    /// idempotency key starts with [`ORDER_KEY_PREFIX`], the key is registered to the payer
    /// and active, the signature verifies (`verify_strict`) and the order has not expired
    /// and expires at most [`ORDER_LIFETIME_MAX`] from now. Returns the order as checked
    /// (its key and the time of the check), for [`Store::submit_checked_order`]. Whether the
    /// ledger accepts the payment is decided only when it is paid.
    pub async fn check_signed_order(
        &self,
        order: &PaymentOrder,
        public_key: &str,
        signature: &str,
    ) -> Result<CheckedOrder, OrderError> {
        if !is_order_key(order.idempotency_key.as_str()) {
            return Err(OrderError::KeyOutsideNamespace);
        }
        let public_key = public_key.trim().to_ascii_lowercase();
        let signature = signature.trim().to_ascii_lowercase();
        let now = micros(Utc::now());
        let key = self
            .member_key(&public_key)
            .await?
            .filter(|k| k.account == order.payer)
            .ok_or_else(|| OrderError::UnknownKey(public_key.clone()))?;
        if !key.active {
            return Err(OrderError::RevokedKey(public_key));
        }
        verify_order(order, &public_key, &signature, now).map_err(|e| match e {
            SignatureError::Expired => OrderError::Expired,
            other => OrderError::Signature(other),
        })?;
        if order.expires_at > now + ORDER_LIFETIME_MAX {
            return Err(OrderError::ExpiryTooFar);
        }
        Ok(CheckedOrder {
            order: order.clone(),
            key,
            signature,
            checked_at: now,
        })
    }

    /// Carries out a payment order signed by its payer, once [`Store::check_signed_order`]
    /// accepts it. The payment is then submitted like any other (same idempotency rules),
    /// decided as of the moment of the check, with the signature stored with the
    /// transaction. A signed payment's memo is empty: everything it says was signed by the
    /// payer.
    pub async fn submit_signed_order(
        &self,
        order: &PaymentOrder,
        public_key: &str,
        signature: &str,
    ) -> Result<Result<Outcome, Rejection>, OrderError> {
        let checked = self
            .check_signed_order(order, public_key, signature)
            .await?;
        Ok(self.submit_checked_order(checked).await?)
    }

    /// [`Store::submit_signed_order`] for an order the caller checked already (to apply a
    /// rule of its own to the key between the check and the payment), without checking it
    /// twice.
    pub async fn submit_checked_order(
        &self,
        checked: CheckedOrder,
    ) -> StoreResult<Result<Outcome, Rejection>> {
        let CheckedOrder {
            order,
            key,
            signature,
            checked_at: now,
        } = checked;
        let submission = Submission::new(
            order.idempotency_key.clone(),
            Operation::Payment {
                payer: order.payer,
                payee: order.payee,
                amount: order.amount,
                reference: order.reference.clone(),
                memo: String::new(),
            },
        )
        // The transaction's time is the moment the key and expiry were checked, so that
        // `troc verify` can check both again against it.
        .at(now)
        .signed(PayerSignature {
            public_key: key.public_key,
            signature,
            expires_at: micros(order.expires_at),
        });
        self.submit(submission).await
    }

    /// The payer signatures of those of `ids` that were signed (for statements).
    pub async fn payer_signatures(
        &self,
        ids: &[TxId],
    ) -> StoreResult<HashMap<TxId, PayerSignature>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT tx_id, public_key, signature, expires_at FROM payment_signatures WHERE {}",
            in_id_list(self.kind(), "tx_id", 1)
        );
        let list = id_list(ids.iter().map(|t| t.0));
        let rows: Vec<(i64, String, String, DateTime<Utc>)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(&list).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(id, public_key, signature, expires_at)| {
                Ok((
                    TxId(unsigned(id)?),
                    PayerSignature {
                        public_key,
                        signature,
                        expires_at,
                    },
                ))
            })
            .collect()
    }

    /// The chain's head: the last seq and its hash.
    pub async fn chain_head(&self) -> StoreResult<(u64, Hash)> {
        let (seq, hash): (i64, String) = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as("SELECT seq, hash FROM ledger_head WHERE id = 1")
                .fetch_one(pool)
                .await?
        });
        Ok((unsigned(seq)?, parse_hash(&hash)?))
    }

    /// Up to `limit` chain entries with `seq > after`, in seq order.
    pub async fn chain_page(&self, after: u64, limit: i64) -> StoreResult<Vec<ChainEntry>> {
        let sql = format!(
            "SELECT {TRANSACTION_COLUMNS}, seq, hash FROM transactions \
             WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        type Row = (
            i64,
            String,
            DateTime<Utc>,
            String,
            String,
            Option<String>,
            Option<i64>,
            i64,
            String,
        );
        let rows: Vec<Row> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(db_id(after)).bind(limit).fetch_all(pool).await?
        });
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<u64> = rows
            .iter()
            .map(|r| unsigned(r.0))
            .collect::<StoreResult<_>>()?;
        let list = id_list(ids.iter().copied());
        let postings_sql = format!(
            "SELECT tx_id, account_id, amount, leg FROM postings WHERE {} ORDER BY tx_id, n",
            in_id_list(self.kind(), "tx_id", 1)
        );
        let postings: Vec<PostingRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&postings_sql).bind(&list).fetch_all(pool).await?
        });
        let mut by_tx: HashMap<i64, Vec<PostingRow>> = HashMap::new();
        for p in postings {
            by_tx.entry(p.0).or_default().push(p);
        }
        let signatures = self
            .payer_signatures(&ids.iter().map(|i| TxId(*i)).collect::<Vec<_>>())
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for (id, kind, time, reference, memo, key, reverses, seq, hash) in rows {
            let row: TransactionRow = (id, kind, time, reference, memo, key, reverses);
            let transaction = transaction_from_rows(row, by_tx.remove(&id).unwrap_or_default())?;
            let signature = signatures.get(&transaction.id()).cloned();
            entries.push(ChainEntry {
                seq: unsigned(seq)?,
                transaction,
                signature,
                hash: parse_hash(&hash)?,
            });
        }
        Ok(entries)
    }

    /// The seq range of the transactions whose time is in `[from, to)`, if any.
    pub async fn seq_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Option<(u64, u64)>> {
        let row: (Option<i64>, Option<i64>) = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(
                "SELECT MIN(seq), MAX(seq) FROM transactions WHERE time >= $1 AND time < $2",
            )
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?
        });
        match row {
            (Some(first), Some(last)) => Ok(Some((unsigned(first)?, unsigned(last)?))),
            _ => Ok(None),
        }
    }

    /// Every network key, oldest first.
    pub async fn network_keys(&self) -> StoreResult<Vec<NetworkKey>> {
        let rows: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(
                "SELECT public_key, created_at, retired_at FROM network_keys \
                 ORDER BY created_at, public_key",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(public_key, created_at, retired_at)| NetworkKey {
                public_key,
                created_at,
                retired_at,
            })
            .collect())
    }

    /// Makes sure `key` is the network's active signing key: recorded on first use when the
    /// network has none; refused if it was retired or another key is active (the key file was
    /// replaced by hand instead of with `troc keys rotate`).
    pub async fn ensure_network_key(&self, key: &SigningKey) -> StoreResult<()> {
        let public_key = public_key_hex(key);
        let keys = self.network_keys().await?;
        if let Some(known) = keys.iter().find(|k| k.public_key == public_key) {
            return match known.retired_at {
                None => Ok(()),
                Some(_) => Err(StoreError::Invalid(format!(
                    "the network key {public_key} was retired; use the current key file"
                ))),
            };
        }
        if let Some(active) = keys.iter().find(|k| k.retired_at.is_none()) {
            return Err(StoreError::Invalid(format!(
                "the key file holds {public_key}, but the network's active key is {}; \
                 rotate keys with `troc keys rotate`",
                active.public_key
            )));
        }
        let now = micros(Utc::now());
        crate::dispatch!(self.backend(), pool => {
            sqlx::query(
                "INSERT INTO network_keys (public_key, created_at) VALUES ($1, $2) \
                 ON CONFLICT (public_key) DO NOTHING",
            )
            .bind(&public_key)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Retires `old` and records `new` as the active key, in one transaction.
    pub async fn rotate_network_key(&self, old: &SigningKey, new: &SigningKey) -> StoreResult<()> {
        self.ensure_network_key(old).await?;
        let now = micros(Utc::now());
        crate::dispatch!(self.backend(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE network_keys SET retired_at = $2 WHERE public_key = $1 \
                 AND retired_at IS NULL",
            )
            .bind(public_key_hex(old))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO network_keys (public_key, created_at) VALUES ($1, $2)")
                .bind(public_key_hex(new))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The checkpoints with `seq > after`, oldest first, at most `limit`.
    pub async fn checkpoints(
        &self,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<SignedCheckpoint>> {
        let limit = limit.clamp(1, CHECKPOINTS_PAGE_SIZE_MAX) as i64;
        let sql = format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let rows: Vec<CheckpointRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(db_id(after)).bind(limit).fetch_all(pool).await?
        });
        rows.into_iter().map(checkpoint_from_row).collect()
    }

    /// The latest checkpoint at or before `seq` (`u64::MAX`: the latest of all).
    pub async fn checkpoint_at_or_before(&self, seq: u64) -> StoreResult<Option<SignedCheckpoint>> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE seq <= $1 ORDER BY seq DESC LIMIT 1"
        );
        let row: Option<CheckpointRow> = crate::dispatch!(self.backend(), pool => {
            sqlx::query_as(&sql).bind(db_id(seq)).fetch_optional(pool).await?
        });
        row.map(checkpoint_from_row).transpose()
    }

    /// Signs a checkpoint of the chain's current head with the network key, after checking
    /// the chain from the previous checkpoint (the network never signs a head it has not
    /// verified). `None` when no transaction was committed since the last checkpoint.
    pub async fn create_checkpoint(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SignedCheckpoint>> {
        self.ensure_network_key(key).await?;
        let (head_seq, head_hash) = self.chain_head().await?;
        let previous = self.checkpoint_at_or_before(u64::MAX).await?;
        let mut chain = match &previous {
            Some(p) => ChainVerifier::resume(
                p.checkpoint.seq,
                parse_hash(&p.checkpoint.head)?,
                p.checkpoint.credit_sum,
            ),
            None => ChainVerifier::new(),
        };
        if chain.last_seq() >= head_seq {
            return Ok(None);
        }
        while chain.last_seq() < head_seq {
            let page = self
                .chain_page(
                    chain.last_seq(),
                    CHAIN_PAGE_SIZE.min((head_seq - chain.last_seq()) as i64),
                )
                .await?;
            if page.is_empty() {
                break;
            }
            for entry in &page {
                chain
                    .push(
                        entry.seq,
                        &entry.transaction,
                        entry.signature.as_ref(),
                        &entry.hash,
                    )
                    .map_err(|e| StoreError::Corrupt(format!("refusing to sign: {e}")))?;
            }
        }
        if chain.last_seq() != head_seq || chain.head() != head_hash {
            return Err(StoreError::Corrupt(format!(
                "refusing to sign: the ledger head (seq {head_seq}) does not match the chain \
                 (seq {})",
                chain.last_seq()
            )));
        }
        let credit_sum = i64::try_from(chain.credit_sum())
            .map_err(|_| StoreError::Corrupt("the credit sum overflows".into()))?;
        let checkpoint = Checkpoint {
            seq: head_seq,
            head: hex::encode(head_hash),
            time: micros(now),
            tx_count: chain.count(),
            credit_sum: chain.credit_sum(),
            public_key: public_key_hex(key),
        };
        let signature = sign_checkpoint(key, &checkpoint);
        let inserted = crate::dispatch!(self.backend(), pool => {
            sqlx::query(
                "INSERT INTO checkpoints (seq, head, time, tx_count, credit_sum, public_key, \
                 signature) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (seq) DO NOTHING",
            )
            .bind(db_id(checkpoint.seq))
            .bind(&checkpoint.head)
            .bind(checkpoint.time)
            .bind(db_id(checkpoint.tx_count))
            .bind(credit_sum)
            .bind(&checkpoint.public_key)
            .bind(&signature)
            .execute(pool)
            .await?
            .rows_affected()
        });
        // Another process signed the same head first: its checkpoint stands.
        if inserted == 0 {
            return Ok(None);
        }
        Ok(Some(SignedCheckpoint {
            checkpoint,
            signature,
        }))
    }

    /// Creates a checkpoint when at least `every` transactions were committed since the last
    /// one (the periodic checkpointer calls this).
    pub async fn checkpoint_if_due(
        &self,
        key: &SigningKey,
        every: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SignedCheckpoint>> {
        let (head_seq, _) = self.chain_head().await?;
        let last = self
            .checkpoint_at_or_before(u64::MAX)
            .await?
            .map_or(0, |c| c.checkpoint.seq);
        if head_seq < last.saturating_add(every.max(1)) {
            return Ok(None);
        }
        self.create_checkpoint(key, now).await
    }

    /// `troc verify`: walks the whole chain from seq 1 (every hash, every payer signature),
    /// checks every checkpoint against the chain and its signature against the network keys,
    /// compares every stored balance with the sum of its postings, then the store's other
    /// invariants. The outer error is the database's; the inner one names the first break.
    pub async fn verify_ledger(&self) -> StoreResult<Result<AuditSummary, AuditBreak>> {
        match self.verify_ledger_inner().await {
            Ok(result) => Ok(result),
            Err(StoreError::Corrupt(what)) => Ok(Err(AuditBreak::Corrupt(what))),
            Err(other) => Err(other),
        }
    }

    async fn verify_ledger_inner(&self) -> StoreResult<Result<AuditSummary, AuditBreak>> {
        let network_keys: HashMap<String, NetworkKey> = self
            .network_keys()
            .await?
            .into_iter()
            .map(|k| (k.public_key.clone(), k))
            .collect();
        let member_keys = self.all_member_keys().await?;
        let mut checkpoints = self.checkpoints(0, CHECKPOINTS_PAGE_SIZE_MAX).await?;
        let mut checkpoints_seen = 0u64;
        let mut next_checkpoint = 0usize;
        let mut chain = ChainVerifier::new();
        let mut signed_payments = 0u64;
        loop {
            let page = self.chain_page(chain.last_seq(), CHAIN_PAGE_SIZE).await?;
            if page.is_empty() {
                break;
            }
            for entry in &page {
                if let Err(e) = chain.push(
                    entry.seq,
                    &entry.transaction,
                    entry.signature.as_ref(),
                    &entry.hash,
                ) {
                    return Ok(Err(e.into()));
                }
                if let Some(signature) = &entry.signature {
                    if let Err(e) = check_payer_signature(
                        entry.seq,
                        &entry.transaction,
                        signature,
                        &member_keys,
                    ) {
                        return Ok(Err(e));
                    }
                    signed_payments += 1;
                }
                // Checkpoints come in seq order; load the next page when this one is used up.
                if next_checkpoint == checkpoints.len() && !checkpoints.is_empty() {
                    let after = checkpoints.last().map_or(0, |c| c.checkpoint.seq);
                    checkpoints = self.checkpoints(after, CHECKPOINTS_PAGE_SIZE_MAX).await?;
                    next_checkpoint = 0;
                }
                if let Some(c) = checkpoints.get(next_checkpoint) {
                    if c.checkpoint.seq == entry.seq {
                        if let Err(e) = check_checkpoint(c, &network_keys, &chain) {
                            return Ok(Err(e));
                        }
                        checkpoints_seen += 1;
                        next_checkpoint += 1;
                    } else if c.checkpoint.seq < entry.seq {
                        return Ok(Err(AuditBreak::Checkpoint {
                            seq: c.checkpoint.seq,
                            problem: "no transaction has this seq".into(),
                        }));
                    }
                }
            }
        }
        if let Some(c) = checkpoints.get(next_checkpoint) {
            return Ok(Err(AuditBreak::Checkpoint {
                seq: c.checkpoint.seq,
                problem: format!("it is beyond the chain's end (seq {})", chain.last_seq()),
            }));
        }
        let (head_seq, head_hash) = self.chain_head().await?;
        if head_seq != chain.last_seq() || head_hash != chain.head() {
            return Ok(Err(AuditBreak::Head {
                head_seq,
                head_hash: hex::encode(head_hash),
                chain_seq: chain.last_seq(),
                chain_hash: hex::encode(chain.head()),
            }));
        }
        let accounts = self.accounts().await?;
        let mut recomputed: BTreeMap<AccountId, i128> = chain.balances().clone();
        for account in &accounts {
            let postings = recomputed.remove(&account.id()).unwrap_or(0);
            if i128::from(account.balance().minor()) != postings {
                return Ok(Err(AuditBreak::Balance {
                    account: account.id(),
                    stored: account.balance(),
                    postings,
                }));
            }
        }
        if let Some((account, postings)) = recomputed.into_iter().next() {
            return Ok(Err(AuditBreak::Balance {
                account,
                stored: Amount::ZERO,
                postings,
            }));
        }
        if let Err(violation) = self.check_invariants().await? {
            return Ok(Err(AuditBreak::Invariant(describe(&violation))));
        }
        Ok(Ok(AuditSummary {
            transactions: chain.count(),
            head: hex::encode(chain.head()),
            checkpoints: checkpoints_seen,
            signed_payments,
            accounts: accounts.len() as u64,
        }))
    }
}

fn describe(violation: &InvariantViolation) -> String {
    violation.to_string()
}

/// The genesis head, as hex (what `ledger_head.hash` holds before the first transaction).
pub fn genesis_hex() -> String {
    hex::encode(GENESIS_HASH)
}
