//! Audit bundles: a self-contained directory an auditor verifies offline, with no database
//! (`troc export audit`, `troc verify --bundle`). Format in `docs/audit.md`.
//!
//! The exported seq range is widened to the enclosing checkpoints, so that both of its ends
//! are signed: it starts right after the last checkpoint before the period (or at seq 1) and
//! ends at the first checkpoint at or after it (or at the chain's head when none exists yet).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use ledger::audit::{ChainVerifier, PayerSignature, GENESIS_HASH};
use ledger::{
    AccountId, Amount, IdempotencyKey, Leg, Posting, Transaction, TxHeader, TxId, TxKind,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{
    check_checkpoint, check_payer_signature, ChainEntry, MemberKey, NetworkKey, SignedCheckpoint,
    Store, StoreError,
};

pub const BUNDLE_FORMAT: &str = "troc-audit-bundle-v1";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const TRANSACTIONS_FILE: &str = "transactions.jsonl";
pub const CHECKPOINTS_FILE: &str = "checkpoints.json";
pub const NETWORK_KEYS_FILE: &str = "network_keys.json";
pub const MEMBER_KEYS_FILE: &str = "member_keys.json";
/// Longest line `troc verify --bundle` reads from `transactions.jsonl` (a transaction has at
/// most 16 postings and short texts; this is far above any honest line).
pub const BUNDLE_LINE_LEN_MAX: usize = 64 * 1024;
/// Transactions read per page while exporting.
const EXPORT_PAGE_SIZE: i64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The period asked for, `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The seq range exported (0, 0 when empty).
    pub first_seq: u64,
    pub last_seq: u64,
    pub transactions: u64,
    /// Seq of the checkpoint the range starts after (its head is the first `prev`); 0 for
    /// the genesis.
    pub anchor_seq: u64,
    /// File name → SHA-256 (hex) of its bytes.
    pub files: std::collections::BTreeMap<String, String>,
}

/// One line of `transactions.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleTransaction {
    pub seq: u64,
    pub id: u64,
    pub kind: TxKind,
    pub time: DateTime<Utc>,
    pub reference: String,
    pub memo: String,
    pub idempotency_key: Option<String>,
    pub reverses: Option<u64>,
    pub postings: Vec<BundlePosting>,
    pub signature: Option<PayerSignature>,
    pub prev: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePosting {
    pub account: u64,
    /// Minor units, credit > 0.
    pub amount: i64,
    pub leg: Leg,
}

impl BundleTransaction {
    fn from_entry(entry: &ChainEntry, prev: &[u8; 32]) -> BundleTransaction {
        let tx = &entry.transaction;
        BundleTransaction {
            seq: entry.seq,
            id: tx.id().0,
            kind: tx.kind(),
            time: tx.time(),
            reference: tx.reference().to_owned(),
            memo: tx.memo().to_owned(),
            idempotency_key: tx.idempotency_key().map(|k| k.as_str().to_owned()),
            reverses: tx.reverses().map(|r| r.0),
            postings: tx
                .postings()
                .iter()
                .map(|p| BundlePosting {
                    account: p.account.0,
                    amount: p.amount.minor(),
                    leg: p.leg,
                })
                .collect(),
            signature: entry.signature.clone(),
            prev: hex::encode(prev),
            hash: hex::encode(entry.hash),
        }
    }

    fn transaction(&self) -> Result<Transaction, String> {
        let header = TxHeader {
            id: TxId(self.id),
            kind: self.kind,
            time: self.time,
            reference: self.reference.clone(),
            memo: self.memo.clone(),
            idempotency_key: self
                .idempotency_key
                .clone()
                .map(IdempotencyKey::new)
                .transpose()
                .map_err(|e| e.to_string())?,
            reverses: self.reverses.map(TxId),
        };
        let postings = self
            .postings
            .iter()
            .map(|p| Posting {
                account: AccountId(p.account),
                amount: Amount::from_minor(p.amount),
                leg: p.leg,
            })
            .collect();
        Transaction::new(header, postings).map_err(|e| e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the output directory {0} is not empty")]
    NotEmpty(String),
    #[error("the period is empty: --to must be after --from")]
    EmptyPeriod,
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(fs::read(path)?)))
}

fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let mut file = BufWriter::new(File::create(path)?);
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.flush()
}

/// Writes the bundle of the transactions committed in `[from, to)` into `out` (created if
/// needed, and refused unless empty). Returns the manifest.
pub async fn export(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &Path,
) -> Result<Manifest, ExportError> {
    if to <= from {
        return Err(ExportError::EmptyPeriod);
    }
    fs::create_dir_all(out)?;
    if fs::read_dir(out)?.next().is_some() {
        return Err(ExportError::NotEmpty(out.display().to_string()));
    }
    let range = store.seq_range(from, to).await?;
    let (anchor, first, last) = match range {
        Some((first, last)) => {
            let anchor = store.checkpoint_at_or_before(first - 1).await?;
            let closing = store.checkpoints(last - 1, 1).await?.into_iter().next();
            let start = anchor.as_ref().map_or(1, |a| a.checkpoint.seq + 1);
            let end = closing.map_or(last, |c| c.checkpoint.seq);
            (anchor, start, end)
        }
        None => (None, 0, 0),
    };
    let anchor_seq = anchor.as_ref().map_or(0, |a| a.checkpoint.seq);
    let mut prev = match &anchor {
        Some(a) => crate::store::parse_hash(&a.checkpoint.head)?,
        None => GENESIS_HASH,
    };

    let mut member_keys_used: HashMap<String, MemberKey> = HashMap::new();
    let all_member_keys = store.all_member_keys().await?;
    let mut count = 0u64;
    {
        let mut lines = BufWriter::new(File::create(out.join(TRANSACTIONS_FILE))?);
        let mut after = first.saturating_sub(1);
        while first > 0 && after < last {
            let limit = EXPORT_PAGE_SIZE.min((last - after) as i64);
            let page = store.chain_page(after, limit).await?;
            if page.is_empty() {
                break;
            }
            for entry in &page {
                let line = BundleTransaction::from_entry(entry, &prev);
                serde_json::to_writer(&mut lines, &line).map_err(std::io::Error::from)?;
                lines.write_all(b"\n")?;
                if let Some(s) = &entry.signature {
                    if let Some(key) = all_member_keys.get(&s.public_key) {
                        member_keys_used.insert(s.public_key.clone(), key.clone());
                    }
                }
                prev = entry.hash;
                after = entry.seq;
                count += 1;
            }
        }
        lines.flush()?;
    }
    let mut checkpoints: Vec<SignedCheckpoint> = anchor.into_iter().collect();
    if first > 0 {
        let mut after = first - 1;
        loop {
            let page = store
                .checkpoints(after, crate::store::CHECKPOINTS_PAGE_SIZE_MAX)
                .await?;
            let mut done = page.is_empty();
            for c in page {
                if c.checkpoint.seq > last {
                    done = true;
                    break;
                }
                after = c.checkpoint.seq;
                checkpoints.push(c);
            }
            if done {
                break;
            }
        }
    }
    write_json(&out.join(CHECKPOINTS_FILE), &checkpoints)?;
    write_json(&out.join(NETWORK_KEYS_FILE), &store.network_keys().await?)?;
    let mut member_keys: Vec<MemberKey> = member_keys_used.into_values().collect();
    member_keys.sort_by(|a, b| a.public_key.cmp(&b.public_key));
    write_json(&out.join(MEMBER_KEYS_FILE), &member_keys)?;
    let mut files = std::collections::BTreeMap::new();
    for name in [
        TRANSACTIONS_FILE,
        CHECKPOINTS_FILE,
        NETWORK_KEYS_FILE,
        MEMBER_KEYS_FILE,
    ] {
        files.insert(name.to_owned(), sha256_file(&out.join(name))?);
    }
    let manifest = Manifest {
        format: BUNDLE_FORMAT.to_owned(),
        from,
        to,
        first_seq: first,
        last_seq: if count == 0 { 0 } else { last },
        transactions: count,
        anchor_seq,
        files,
    };
    write_json(&out.join(MANIFEST_FILE), &manifest)?;
    Ok(manifest)
}

/// What a bundle's verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    pub first_seq: u64,
    pub last_seq: u64,
    pub transactions: u64,
    pub checkpoints: u64,
    pub signed_payments: u64,
    /// Whether the last transaction is covered by a signed checkpoint.
    pub end_signed: bool,
}

/// Verifies a bundle offline. `Err` names the first problem.
pub fn verify_bundle(dir: &Path) -> Result<BundleSummary, String> {
    let read = |name: &str| -> Result<Vec<u8>, String> {
        fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))
    };
    let manifest: Manifest = serde_json::from_slice(&read(MANIFEST_FILE)?)
        .map_err(|e| format!("{MANIFEST_FILE}: {e}"))?;
    if manifest.format != BUNDLE_FORMAT {
        return Err(format!(
            "{MANIFEST_FILE}: unknown format {:?}",
            manifest.format
        ));
    }
    for name in [
        TRANSACTIONS_FILE,
        CHECKPOINTS_FILE,
        NETWORK_KEYS_FILE,
        MEMBER_KEYS_FILE,
    ] {
        let expected = manifest
            .files
            .get(name)
            .ok_or_else(|| format!("{MANIFEST_FILE}: {name} is not listed"))?;
        let actual = hex::encode(Sha256::digest(read(name)?));
        if &actual != expected {
            return Err(format!(
                "{name}: its SHA-256 is {actual}, the manifest says {expected}"
            ));
        }
    }
    let checkpoints: Vec<SignedCheckpoint> = serde_json::from_slice(&read(CHECKPOINTS_FILE)?)
        .map_err(|e| format!("{CHECKPOINTS_FILE}: {e}"))?;
    let network_keys: Vec<NetworkKey> = serde_json::from_slice(&read(NETWORK_KEYS_FILE)?)
        .map_err(|e| format!("{NETWORK_KEYS_FILE}: {e}"))?;
    let network_keys: HashMap<String, NetworkKey> = network_keys
        .into_iter()
        .map(|k| (k.public_key.clone(), k))
        .collect();
    let member_keys: Vec<MemberKey> = serde_json::from_slice(&read(MEMBER_KEYS_FILE)?)
        .map_err(|e| format!("{MEMBER_KEYS_FILE}: {e}"))?;
    let member_keys: HashMap<String, MemberKey> = member_keys
        .into_iter()
        .map(|k| (k.public_key.clone(), k))
        .collect();
    let mut checkpoints: std::collections::BTreeMap<u64, SignedCheckpoint> = checkpoints
        .into_iter()
        .map(|c| (c.checkpoint.seq, c))
        .collect();

    // The starting point: the genesis, or a checkpoint whose signature verifies.
    let mut chain = if manifest.anchor_seq == 0 {
        ChainVerifier::new()
    } else {
        let anchor = checkpoints
            .remove(&manifest.anchor_seq)
            .ok_or_else(|| format!("the anchor checkpoint {} is missing", manifest.anchor_seq))?;
        let head = hex::decode(&anchor.checkpoint.head)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| format!("checkpoint {}: malformed head", anchor.checkpoint.seq))?;
        let chain =
            ChainVerifier::resume(anchor.checkpoint.seq, head, anchor.checkpoint.credit_sum);
        check_checkpoint(&anchor, &network_keys, &chain).map_err(|e| e.to_string())?;
        chain
    };
    let (mut count, mut signed, mut verified_checkpoints) = (0u64, 0u64, 0u64);
    let mut end_signed = manifest.anchor_seq > 0 || manifest.transactions == 0;
    let file = File::open(dir.join(TRANSACTIONS_FILE)).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(BUNDLE_LINE_LEN_MAX as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| format!("{TRANSACTIONS_FILE}: {e}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        if read > BUNDLE_LINE_LEN_MAX {
            return Err(format!(
                "{TRANSACTIONS_FILE} line {number}: longer than {BUNDLE_LINE_LEN_MAX} bytes"
            ));
        }
        let entry: BundleTransaction = serde_json::from_str(&line)
            .map_err(|e| format!("{TRANSACTIONS_FILE} line {number}: {e}"))?;
        if entry.prev != hex::encode(chain.head()) {
            return Err(format!(
                "transaction {} (seq {}): prev {} is not the previous hash {}",
                entry.id,
                entry.seq,
                entry.prev,
                hex::encode(chain.head())
            ));
        }
        let tx = entry
            .transaction()
            .map_err(|e| format!("transaction {} (seq {}): {e}", entry.id, entry.seq))?;
        let hash = hex::decode(&entry.hash)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                format!(
                    "transaction {} (seq {}): malformed hash",
                    entry.id, entry.seq
                )
            })?;
        chain
            .push(entry.seq, &tx, entry.signature.as_ref(), &hash)
            .map_err(|e| format!("chain: {e}"))?;
        if let Some(s) = &entry.signature {
            check_payer_signature(entry.seq, &tx, s, &member_keys).map_err(|e| e.to_string())?;
            signed += 1;
        }
        end_signed = false;
        if let Some(c) = checkpoints.remove(&entry.seq) {
            check_checkpoint(&c, &network_keys, &chain).map_err(|e| e.to_string())?;
            verified_checkpoints += 1;
            end_signed = true;
        }
        count += 1;
    }
    if let Some((seq, _)) = checkpoints.into_iter().next() {
        return Err(format!(
            "checkpoint at seq {seq}: no transaction of the bundle has this seq"
        ));
    }
    if count != manifest.transactions || (count > 0 && chain.last_seq() != manifest.last_seq) {
        return Err(format!(
            "{MANIFEST_FILE}: says {} transactions up to seq {}, the bundle holds {count} up to \
             seq {}",
            manifest.transactions,
            manifest.last_seq,
            chain.last_seq()
        ));
    }
    Ok(BundleSummary {
        first_seq: manifest.first_seq,
        last_seq: manifest.last_seq,
        transactions: count,
        checkpoints: verified_checkpoints,
        signed_payments: signed,
        end_signed,
    })
}
