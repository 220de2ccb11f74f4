//! `troc load`: a payment load for the crash-safety tests. It prints one line per
//! acknowledged operation, flushed before the next is submitted, so that a parent process
//! that kills it knows exactly what was acknowledged:
//!
//! ```text
//! ok KEY TX_ID
//! rejected KEY CODE
//! ```

use std::io::Write;

use ledger::{AccountId, AccountKind, Amount, IdempotencyKey, Operation, Outcome, Policy};
use rand::{Rng, SeedableRng};

use super::{Store, StoreError, StoreResult, Submission};

/// The network name `troc load` and `troc bench` create, and the only one they write to.
pub const SCRATCH_NETWORK_NAME: &str = "troc scratch (load and bench)";
/// Most accounts `troc load` and `troc bench` create.
pub const SCRATCH_ACCOUNTS_MAX: usize = 100_000;
/// Most concurrent submitters.
pub const SUBMITTERS_MAX: usize = 1_024;

/// Makes sure the database holds the scratch network with at least `members` member
/// accounts, each with `credit_limit`; returns the member ids. Refuses a real network.
pub async fn scratch_network(
    store: &Store,
    members: usize,
    credit_limit: Amount,
) -> StoreResult<Vec<AccountId>> {
    if !(2..=SCRATCH_ACCOUNTS_MAX).contains(&members) {
        return Err(StoreError::Invalid(format!(
            "between 2 and {SCRATCH_ACCOUNTS_MAX} accounts"
        )));
    }
    match store.network_name().await? {
        None => {
            store
                .create_network(SCRATCH_NETWORK_NAME, Policy::default())
                .await?;
        }
        Some(name) if name == SCRATCH_NETWORK_NAME => {}
        Some(name) => {
            return Err(StoreError::Invalid(format!(
                "this database holds the network {name:?}: load and bench only write to an \
                 empty database or to their own scratch network"
            )))
        }
    }
    let mut ids: Vec<AccountId> = store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.kind() == AccountKind::Member)
        .map(|a| a.id())
        .collect();
    while ids.len() < members {
        let missing = (members - ids.len()).min(super::OPEN_ACCOUNTS_PER_CALL_MAX);
        let opened = store.open_accounts(missing, credit_limit, None).await?;
        ids.extend(opened.iter().map(|a| a.id()));
    }
    ids.truncate(members);
    Ok(ids)
}

/// Runs `payments` random payments per submitter among `accounts` accounts, from
/// `submitters` concurrent tasks, printing each acknowledgement.
pub async fn run(
    store: &Store,
    accounts: usize,
    submitters: usize,
    payments: usize,
    prefix: &str,
) -> StoreResult<()> {
    if submitters == 0 || submitters > SUBMITTERS_MAX {
        return Err(StoreError::Invalid(format!(
            "between 1 and {SUBMITTERS_MAX} submitters"
        )));
    }
    // Tight enough that some payments are refused, so both kinds of answers are exercised.
    let ids = scratch_network(store, accounts, Amount::from_units(500)).await?;
    let stdout = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut tasks = Vec::with_capacity(submitters);
    for task in 0..submitters {
        let store = store.clone();
        let ids = ids.clone();
        let prefix = prefix.to_owned();
        let stdout = stdout.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_entropy();
            for i in 0..payments {
                let payer = ids[rng.gen_range(0..ids.len())];
                let mut payee = payer;
                while payee == payer {
                    payee = ids[rng.gen_range(0..ids.len())];
                }
                let key = IdempotencyKey::new(format!("{prefix}-{task}-{i}"))
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let op = Operation::Payment {
                    payer,
                    payee,
                    amount: Amount::from_minor(rng.gen_range(1..=20_000)),
                    reference: String::new(),
                    memo: "load".into(),
                };
                let answer = store.submit(Submission::new(key.clone(), op)).await?;
                let line = match answer {
                    Ok(Outcome::Posted { tx }) => format!("ok {} {tx}\n", key.as_str()),
                    Ok(other) => format!("ok {} {other:?}\n", key.as_str()),
                    Err(rejection) => format!("rejected {} {}\n", key.as_str(), rejection.code()),
                };
                let mut out = stdout.lock().expect("stdout lock");
                out.write_all(line.as_bytes())?;
                out.flush()?;
            }
            Ok::<(), StoreError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| StoreError::Unavailable(format!("a load task failed: {e}")))??;
    }
    Ok(())
}
