//! Tamper evidence, as pure functions: the canonical encoding of a committed transaction and
//! its place in the hash chain, signed checkpoints, and member-signed payment orders.
//!
//! Everything here is specified byte for byte in `docs/audit.md`, so that an auditor can write
//! an independent verifier. Signing with a given key is deterministic (Ed25519), so it belongs
//! to the pure core too; generating and storing keys is the shell's job.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AccountId, Amount, IdempotencyKey, Transaction};

/// The hash that precedes the first transaction of a network.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// A SHA-256 hash, shown as 64 lowercase hex digits.
pub type Hash = [u8; 32];

/// The payer's signature over a payment order, stored with the transaction it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerSignature {
    /// The payer's Ed25519 public key, 32 bytes as hex.
    pub public_key: String,
    /// The signature, 64 bytes as hex.
    pub signature: String,
    /// The order's expiry, part of the signed message.
    pub expires_at: DateTime<Utc>,
}

fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn text_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(format!("{name}:{}:", value.len()).as_bytes());
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// The canonical encoding of transaction number `seq` (1-based commit order) following the
/// transaction whose hash is `prev` (see `docs/audit.md`).
pub fn canonical_transaction(
    seq: u64,
    tx: &Transaction,
    signature: Option<&PayerSignature>,
    prev: &Hash,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + 48 * tx.postings().len());
    out.extend_from_slice(b"troc-tx-v1\n");
    out.extend_from_slice(format!("seq:{seq}\nid:{}\n", tx.id()).as_bytes());
    out.extend_from_slice(format!("kind:{}\n", tx.kind().as_str()).as_bytes());
    out.extend_from_slice(format!("time:{}\n", time_text(tx.time())).as_bytes());
    text_field(&mut out, "reference", tx.reference());
    text_field(&mut out, "memo", tx.memo());
    text_field(
        &mut out,
        "key",
        tx.idempotency_key()
            .map(IdempotencyKey::as_str)
            .unwrap_or(""),
    );
    match tx.reverses() {
        Some(original) => out.extend_from_slice(format!("reverses:{original}\n").as_bytes()),
        None => out.extend_from_slice(b"reverses:-\n"),
    }
    out.extend_from_slice(format!("postings:{}\n", tx.postings().len()).as_bytes());
    for p in tx.postings() {
        out.extend_from_slice(
            format!("{}|{}|{}\n", p.account, p.amount.minor(), p.leg.as_str()).as_bytes(),
        );
    }
    match signature {
        Some(s) => out.extend_from_slice(
            format!(
                "signed:{}|{}|{}\n",
                s.public_key,
                s.signature,
                time_text(s.expires_at)
            )
            .as_bytes(),
        ),
        None => out.extend_from_slice(b"signed:-\n"),
    }
    out.extend_from_slice(format!("prev:{}\n", hex::encode(prev)).as_bytes());
    out
}

/// SHA-256 of [`canonical_transaction`]: the transaction's link in the chain.
pub fn transaction_hash(
    seq: u64,
    tx: &Transaction,
    signature: Option<&PayerSignature>,
    prev: &Hash,
) -> Hash {
    Sha256::digest(canonical_transaction(seq, tx, signature, prev)).into()
}

/// The first place where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "sequence {found} follows {previous}: a transaction is missing, duplicated or out of order"
    )]
    Sequence { previous: u64, found: u64 },
    #[error(
        "transaction {tx} (seq {seq}): stored hash does not match its content and predecessor"
    )]
    Hash { seq: u64, tx: crate::TxId },
    #[error("transaction {tx} (seq {seq}) does not sum to zero")]
    Unbalanced { seq: u64, tx: crate::TxId },
}

/// Walks a chain in commit order, recomputing every hash and the balances.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    head: Hash,
    last_seq: u64,
    count: u64,
    credit_sum: i128,
    balances: BTreeMap<AccountId, i128>,
}

impl ChainVerifier {
    pub fn new() -> ChainVerifier {
        ChainVerifier {
            head: GENESIS_HASH,
            ..ChainVerifier::default()
        }
    }

    /// Checks the next transaction against its stored hash.
    pub fn push(
        &mut self,
        seq: u64,
        tx: &Transaction,
        signature: Option<&PayerSignature>,
        stored_hash: &Hash,
    ) -> Result<(), ChainBreak> {
        if seq != self.last_seq + 1 {
            return Err(ChainBreak::Sequence {
                previous: self.last_seq,
                found: seq,
            });
        }
        if transaction_hash(seq, tx, signature, &self.head) != *stored_hash {
            return Err(ChainBreak::Hash { seq, tx: tx.id() });
        }
        let sum: i128 = tx
            .postings()
            .iter()
            .map(|p| i128::from(p.amount.minor()))
            .sum();
        if sum != 0 {
            return Err(ChainBreak::Unbalanced { seq, tx: tx.id() });
        }
        for p in tx.postings() {
            *self.balances.entry(p.account).or_default() += i128::from(p.amount.minor());
            if p.amount.is_positive() {
                self.credit_sum += i128::from(p.amount.minor());
            }
        }
        self.head = *stored_hash;
        self.last_seq = seq;
        self.count += 1;
        Ok(())
    }

    /// Continues a chain after transaction `last_seq`, whose hash is `head` and up to which
    /// the credits sum to `credit_sum` (a verified checkpoint). Balances then count only the
    /// movements after `last_seq`.
    pub fn resume(last_seq: u64, head: Hash, credit_sum: i128) -> ChainVerifier {
        ChainVerifier {
            head,
            last_seq,
            count: last_seq,
            credit_sum,
            balances: BTreeMap::new(),
        }
    }

    pub fn head(&self) -> Hash {
        self.head
    }
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Sum of all credit postings so far (the "sum check" of checkpoints).
    pub fn credit_sum(&self) -> i128 {
        self.credit_sum
    }
    /// Balances recomputed from the postings.
    pub fn balances(&self) -> &BTreeMap<AccountId, i128> {
        &self.balances
    }
}

/// A signed statement of the chain's state after transaction `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    /// Hash of transaction `seq` (64 hex digits).
    pub head: String,
    pub time: DateTime<Utc>,
    /// Transactions covered (equal to `seq`).
    pub tx_count: u64,
    /// Sum of all credit postings up to `seq`, in minor units.
    pub credit_sum: i128,
    /// Hex of the network public key that signs it.
    pub public_key: String,
}

pub fn checkpoint_message(checkpoint: &Checkpoint) -> Vec<u8> {
    format!(
        "troc-checkpoint-v1\nseq:{}\nhead:{}\ntime:{}\ncount:{}\ncredit_sum:{}\nkey:{}\n",
        checkpoint.seq,
        checkpoint.head,
        time_text(checkpoint.time),
        checkpoint.tx_count,
        checkpoint.credit_sum,
        checkpoint.public_key
    )
    .into_bytes()
}

/// Signs a checkpoint; returns the signature as hex.
pub fn sign_checkpoint(key: &SigningKey, checkpoint: &Checkpoint) -> String {
    hex::encode(key.sign(&checkpoint_message(checkpoint)).to_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not a valid Ed25519 key")]
    BadKey,
    #[error("the signature is malformed")]
    MalformedSignature,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the order has expired")]
    Expired,
}

fn parse_key(hex_key: &str) -> Result<VerifyingKey, SignatureError> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::BadKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SignatureError::BadKey)
}

fn parse_signature(hex_sig: &str) -> Result<Signature, SignatureError> {
    let bytes: [u8; 64] = hex::decode(hex_sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::MalformedSignature)?;
    Ok(Signature::from_bytes(&bytes))
}

/// Verifies a message with `verify_strict` (refuses weak keys and malleable signatures).
pub fn verify(public_key: &str, message: &[u8], signature: &str) -> Result<(), SignatureError> {
    let key = parse_key(public_key)?;
    let signature = parse_signature(signature)?;
    key.verify_strict(message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

pub fn verify_checkpoint(checkpoint: &Checkpoint, signature: &str) -> Result<(), SignatureError> {
    verify(
        &checkpoint.public_key,
        &checkpoint_message(checkpoint),
        signature,
    )
}

/// What a member signs to order a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOrder {
    pub payer: AccountId,
    pub payee: AccountId,
    pub amount: Amount,
    pub reference: String,
    pub idempotency_key: IdempotencyKey,
    pub expires_at: DateTime<Utc>,
}

pub fn order_message(order: &PaymentOrder) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"troc-payment-order-v1\n");
    out.extend_from_slice(
        format!(
            "payer:{}\npayee:{}\namount:{}\n",
            order.payer,
            order.payee,
            order.amount.minor()
        )
        .as_bytes(),
    );
    text_field(&mut out, "reference", &order.reference);
    text_field(&mut out, "key", order.idempotency_key.as_str());
    out.extend_from_slice(format!("expires:{}\n", time_text(order.expires_at)).as_bytes());
    out
}

/// The order a signed payment carries out, rebuilt from the transaction: payer and payee are
/// the accounts of its two principal postings (debit, credit), the amount the credit, the
/// reference and idempotency key the transaction's own; `expires_at` comes from the stored
/// signature. `None` when the transaction cannot be the result of an order (not a payment,
/// no key, principal legs not one debit and one equal credit).
pub fn order_of(tx: &Transaction, expires_at: DateTime<Utc>) -> Option<PaymentOrder> {
    if tx.kind() != crate::TxKind::Payment {
        return None;
    }
    let idempotency_key = tx.idempotency_key()?.clone();
    let mut principal = tx
        .postings()
        .iter()
        .filter(|p| p.leg == crate::Leg::Principal);
    let (debit, credit) = (principal.next()?, principal.next()?);
    if principal.next().is_some()
        || !credit.amount.is_positive()
        || credit.amount.minor().checked_neg() != Some(debit.amount.minor())
    {
        return None;
    }
    Some(PaymentOrder {
        payer: debit.account,
        payee: credit.account,
        amount: credit.amount,
        reference: tx.reference().to_owned(),
        idempotency_key,
        expires_at,
    })
}

/// Signs an order (for members' tools and tests); returns the signature as hex.
pub fn sign_order(key: &SigningKey, order: &PaymentOrder) -> String {
    hex::encode(key.sign(&order_message(order)).to_bytes())
}

/// Verifies a member-signed order at `now`: the key must be valid, the signature must match
/// under `verify_strict`, and the order must not have expired (`now < expires_at`). Whether
/// the key is registered to the payer and not revoked is the store's check.
pub fn verify_order(
    order: &PaymentOrder,
    public_key: &str,
    signature: &str,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    verify(public_key, &order_message(order), signature)?;
    if now >= order.expires_at {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

/// Hex of a public key, as stored and published.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::{Leg, Posting, TxHeader, TxId, TxKind};

    fn tx(id: u64, minor: i64) -> Transaction {
        Transaction::new(
            TxHeader {
                id: TxId(id),
                kind: TxKind::Payment,
                time: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
                reference: "F-1".into(),
                memo: "été".into(),
                idempotency_key: Some(IdempotencyKey::new(format!("k{id}")).unwrap()),
                reverses: None,
            },
            vec![
                Posting {
                    account: AccountId(10),
                    amount: Amount::from_minor(-minor),
                    leg: Leg::Principal,
                },
                Posting {
                    account: AccountId(11),
                    amount: Amount::from_minor(minor),
                    leg: Leg::Principal,
                },
            ],
        )
        .unwrap()
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn canonical_encoding_is_stable() {
        let text =
            String::from_utf8(canonical_transaction(1, &tx(7, 1234), None, &GENESIS_HASH)).unwrap();
        assert_eq!(
            text,
            "troc-tx-v1\nseq:1\nid:7\nkind:payment\ntime:2026-03-01T10:00:00.000000Z\n\
             reference:3:F-1\nmemo:5:été\nkey:2:k7\nreverses:-\npostings:2\n\
             10|-1234|principal\n11|1234|principal\nsigned:-\n\
             prev:0000000000000000000000000000000000000000000000000000000000000000\n"
        );
    }

    #[test]
    fn the_chain_catches_changes_gaps_and_reordering() {
        let txs = [tx(1, 100), tx(2, 200), tx(3, 300)];
        let mut hashes = Vec::new();
        let mut prev = GENESIS_HASH;
        for (i, t) in txs.iter().enumerate() {
            prev = transaction_hash(i as u64 + 1, t, None, &prev);
            hashes.push(prev);
        }
        let mut good = ChainVerifier::new();
        for (i, t) in txs.iter().enumerate() {
            good.push(i as u64 + 1, t, None, &hashes[i]).unwrap();
        }
        assert_eq!(good.head(), hashes[2]);
        assert_eq!(good.credit_sum(), 600);
        assert_eq!(good.balances()[&AccountId(10)], -600);
        // A changed amount.
        let mut v = ChainVerifier::new();
        v.push(1, &txs[0], None, &hashes[0]).unwrap();
        assert_eq!(
            v.push(2, &tx(2, 201), None, &hashes[1]),
            Err(ChainBreak::Hash {
                seq: 2,
                tx: TxId(2)
            })
        );
        // A deleted transaction.
        let mut v = ChainVerifier::new();
        v.push(1, &txs[0], None, &hashes[0]).unwrap();
        assert_eq!(
            v.push(3, &txs[2], None, &hashes[2]),
            Err(ChainBreak::Sequence {
                previous: 1,
                found: 3
            })
        );
        // Two transactions swapped, sequence numbers rewritten to look continuous.
        let mut v = ChainVerifier::new();
        v.push(1, &txs[0], None, &hashes[0]).unwrap();
        assert_eq!(
            v.push(2, &txs[2], None, &hashes[2]),
            Err(ChainBreak::Hash {
                seq: 2,
                tx: TxId(3)
            })
        );
    }

    #[test]
    fn orders_are_rebuilt_from_signed_payments_only() {
        let expires = Utc.with_ymd_and_hms(2026, 3, 1, 11, 0, 0).unwrap();
        let order = order_of(&tx(7, 1234), expires).unwrap();
        assert_eq!(
            (order.payer, order.payee, order.amount.minor()),
            (AccountId(10), AccountId(11), 1234)
        );
        assert_eq!(order.reference, "F-1");
        assert_eq!(order.idempotency_key.as_str(), "k7");
        assert_eq!(order.expires_at, expires);
        // Not a payment: no order.
        let adjustment = Transaction::new(
            TxHeader {
                id: TxId(8),
                kind: TxKind::Adjustment,
                time: expires,
                reference: "F-1".into(),
                memo: String::new(),
                idempotency_key: Some(IdempotencyKey::new("k8").unwrap()),
                reverses: None,
            },
            tx(8, 5).postings().to_vec(),
        )
        .unwrap();
        assert_eq!(order_of(&adjustment, expires), None);
        // Resuming from a checkpoint continues the same chain.
        let first = transaction_hash(1, &tx(1, 100), None, &GENESIS_HASH);
        let second = transaction_hash(2, &tx(2, 200), None, &first);
        let mut resumed = ChainVerifier::resume(1, first, 100);
        resumed.push(2, &tx(2, 200), None, &second).unwrap();
        assert_eq!((resumed.count(), resumed.credit_sum()), (2, 300));
        assert_eq!(resumed.balances()[&AccountId(11)], 200);
    }

    #[test]
    fn checkpoints_verify_with_their_key_only() {
        let network = key(1);
        let mut checkpoint = Checkpoint {
            seq: 3,
            head: hex::encode([7u8; 32]),
            time: Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            tx_count: 3,
            credit_sum: 600,
            public_key: public_key_hex(&network),
        };
        let signature = sign_checkpoint(&network, &checkpoint);
        assert_eq!(verify_checkpoint(&checkpoint, &signature), Ok(()));
        let forged = sign_checkpoint(&key(2), &checkpoint);
        assert_eq!(
            verify_checkpoint(&checkpoint, &forged),
            Err(SignatureError::Mismatch)
        );
        checkpoint.credit_sum = 601;
        assert_eq!(
            verify_checkpoint(&checkpoint, &signature),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_checkpoint(&checkpoint, "zz"),
            Err(SignatureError::MalformedSignature)
        );
    }

    #[test]
    fn signed_orders_valid_wrong_key_tampered_replayed_expired() {
        let payer = key(3);
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let order = PaymentOrder {
            payer: AccountId(10),
            payee: AccountId(11),
            amount: Amount::from_units(50),
            reference: "F-9".into(),
            idempotency_key: IdempotencyKey::new("order-1").unwrap(),
            expires_at: now + Duration::minutes(10),
        };
        let signature = sign_order(&payer, &order);
        let payer_key = public_key_hex(&payer);
        assert_eq!(verify_order(&order, &payer_key, &signature, now), Ok(()));
        // Signed by someone else.
        let other = sign_order(&key(4), &order);
        assert_eq!(
            verify_order(&order, &payer_key, &other, now),
            Err(SignatureError::Mismatch)
        );
        // A tampered field.
        let mut tampered = order.clone();
        tampered.amount = Amount::from_units(500);
        assert_eq!(
            verify_order(&tampered, &payer_key, &signature, now),
            Err(SignatureError::Mismatch)
        );
        // Replayed under another key.
        assert_eq!(
            verify_order(&order, &public_key_hex(&key(4)), &signature, now),
            Err(SignatureError::Mismatch)
        );
        // Expired exactly at its expiry.
        assert_eq!(
            verify_order(&order, &payer_key, &signature, order.expires_at),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify_order(&order, "00", &signature, now),
            Err(SignatureError::BadKey)
        );
    }
}
