//! Tamper evidence in the shell: the network key file, audit bundles, what is published,
//! and the `troc verify` / `checkpoint` / `keys` / `export audit` commands. The store side
//! (chain, keys and checkpoints tables, verification) is in `store::audit`; the pure
//! encodings in `ledger::audit`.

pub mod bundle;
pub mod cli;
pub mod key_file;
pub mod orders;
pub mod publish;

use std::time::Duration;

use ed25519_dalek::SigningKey;

use crate::store::Store;

/// Checkpoint after this many transactions unless configured otherwise.
pub const CHECKPOINT_EVERY_DEFAULT: u64 = 1_000;
/// How often the checkpointer looks at the chain's head.
pub const CHECKPOINT_POLL: Duration = Duration::from_secs(5);

/// Signs a checkpoint whenever `every` transactions were committed since the last one,
/// looking every `poll`. Runs until the task is dropped.
pub async fn run_checkpointer(store: Store, key: SigningKey, every: u64, poll: Duration) {
    run_checkpointer_until(store, key, every, poll, std::future::pending()).await
}

/// Like [`run_checkpointer`], until `stop` completes: a checkpoint being signed is finished
/// first (the server's graceful shutdown waits for this).
pub async fn run_checkpointer_until(
    store: Store,
    key: SigningKey,
    every: u64,
    poll: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut ticks = tokio::time::interval(poll);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut stop => return,
        }
        match store
            .checkpoint_if_due(&key, every, chrono::Utc::now())
            .await
        {
            Ok(Some(c)) => tracing::info!(seq = c.checkpoint.seq, "checkpoint signed"),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "checkpoint failed"),
        }
    }
}
