//! The hash chain inside the write path (see `docs/audit.md`): each batch, already holding
//! the `ledger_head` row lock, links its transactions to the head it read and moves the head.

use ledger::audit::{transaction_hash, Hash, PayerSignature};
use ledger::Transaction;
use sqlx::{PgConnection, SqliteConnection};

use super::rows::db_id;
use super::{StoreError, StoreResult};

/// Parses a stored 64-hex-digit hash.
pub(crate) fn parse_hash(text: &str) -> StoreResult<Hash> {
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("malformed hash {text:?}")))
}

/// The hashes (hex) of `txs`, numbered from `first_seq` and chained from `head`.
pub(crate) fn link(
    first_seq: i64,
    head: &str,
    txs: &[Transaction],
    signatures: &[Option<PayerSignature>],
) -> StoreResult<Vec<String>> {
    let mut prev = parse_hash(head)?;
    let mut hashes = Vec::with_capacity(txs.len());
    for (i, (tx, signature)) in txs.iter().zip(signatures).enumerate() {
        let seq = u64::try_from(first_seq + i as i64)
            .map_err(|_| StoreError::Corrupt(format!("negative seq {first_seq}")))?;
        prev = transaction_hash(seq, tx, signature.as_ref(), &prev);
        hashes.push(hex::encode(prev));
    }
    Ok(hashes)
}

/// Writes the payer signatures; the same SQL on both backends. (The chain's new head is
/// written with the batch's ledger rows, `batch::WriteBatch::write_ledger`.)
pub(crate) trait WriteSignatures {
    async fn write_signatures(
        &mut self,
        txs: &[Transaction],
        signatures: &[Option<PayerSignature>],
    ) -> StoreResult<()>;
}

macro_rules! write_signatures_for {
    ($conn:ty) => {
        impl WriteSignatures for $conn {
            async fn write_signatures(
                &mut self,
                txs: &[Transaction],
                signatures: &[Option<PayerSignature>],
            ) -> StoreResult<()> {
                // Signed payments are few: one plain insert each.
                for (tx, signature) in txs.iter().zip(signatures) {
                    if let Some(s) = signature {
                        sqlx::query(
                            "INSERT INTO payment_signatures (tx_id, public_key, signature, \
                             expires_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(db_id(tx.id().0))
                        .bind(&s.public_key)
                        .bind(&s.signature)
                        .bind(s.expires_at)
                        .execute(&mut *self)
                        .await?;
                    }
                }
                Ok(())
            }
        }
    };
}

write_signatures_for!(SqliteConnection);
write_signatures_for!(PgConnection);
