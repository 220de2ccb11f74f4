//! `troc order keygen` and `troc order sign`: a member's own tools for signed payment orders
//! (docs/audit.md). Both run on the member's machine and open no database: the secret key
//! stays in a file only its owner may read, and what leaves the machine is the public key
//! (registered once on `/settings/keys` or `POST /api/v1/accounts/{id}/keys`) and signed
//! orders (posted to `POST /api/v1/signed-payments`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use ledger::audit::{public_key_hex, sign_order, PaymentOrder};
use ledger::{AccountId, IdempotencyKey};

use super::key_file::{self, KeyFileError};
use crate::store::{is_order_key, ORDER_KEY_PREFIX, ORDER_LIFETIME_MAX};

/// Default validity of a signed order.
pub const ORDER_HOURS_DEFAULT: i64 = 24;

#[derive(Debug, Clone, Subcommand)]
pub enum OrderCommand {
    /// Create a new Ed25519 key in a new file only its owner may read (mode 0600; never
    /// overwrites); prints the public key to register for the account.
    Keygen {
        /// The file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a payment order; prints the JSON body of `POST /api/v1/signed-payments`.
    Sign(SignArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SignArgs {
    /// The key file made by `troc order keygen`.
    #[arg(long)]
    pub key: PathBuf,
    /// The payer's account id (the key must be registered to it).
    #[arg(long)]
    pub payer: u64,
    /// The payee's account id.
    #[arg(long)]
    pub payee: u64,
    /// The amount, e.g. 12.50.
    #[arg(long)]
    pub amount: String,
    /// The payment's reference (an invoice number...), at most 64 characters.
    #[arg(long, default_value = "")]
    pub reference: String,
    /// The order's idempotency key, `order-...` (default: `order-` and 32 random hex
    /// digits). The order is paid at most once under it.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Hours until the order expires (1 to 744, i.e. 31 days).
    #[arg(long, default_value_t = ORDER_HOURS_DEFAULT)]
    pub expires_in_hours: i64,
}

/// Why `troc order` stopped.
#[derive(Debug, thiserror::Error)]
pub enum OrderCliError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("--amount {0:?}: use a positive amount with at most two decimals, e.g. 12.50")]
    Amount(String),
    #[error("--reference: {0}")]
    Reference(String),
    #[error("--idempotency-key: {0}")]
    Key(String),
    #[error("--payer and --payee must be two different account ids above zero")]
    Accounts,
    #[error("--expires-in-hours must be 1 to {}", ORDER_LIFETIME_MAX.num_hours())]
    Expiry,
}

/// Creates a key file at `path`; returns its public key.
pub fn keygen(path: &Path) -> Result<String, OrderCliError> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    key_file::write_new(path, &key)?;
    Ok(public_key_hex(&key))
}

/// The signed order `args` describe at `now`, as the API's JSON body.
pub fn sign(args: &SignArgs, now: DateTime<Utc>) -> Result<serde_json::Value, OrderCliError> {
    if args.payer == 0 || args.payee == 0 || args.payer == args.payee {
        return Err(OrderCliError::Accounts);
    }
    let amount = ledger::Amount::parse_positive(args.amount.trim())
        .map_err(|_| OrderCliError::Amount(args.amount.clone()))?;
    ledger::validate_text(&args.reference, "")
        .map_err(|rejection| OrderCliError::Reference(rejection.to_string()))?;
    let key_text = match &args.idempotency_key {
        Some(key) => key.clone(),
        None => format!(
            "{ORDER_KEY_PREFIX}{}",
            hex::encode(rand::random::<[u8; 16]>())
        ),
    };
    if !is_order_key(&key_text) {
        return Err(OrderCliError::Key(format!(
            "must start with {ORDER_KEY_PREFIX:?} and go on after it"
        )));
    }
    let idempotency_key =
        IdempotencyKey::new(key_text).map_err(|e| OrderCliError::Key(e.to_string()))?;
    if !(1..=ORDER_LIFETIME_MAX.num_hours()).contains(&args.expires_in_hours) {
        return Err(OrderCliError::Expiry);
    }
    // Whole seconds, so that the time reads the same in the body and in the signed text.
    let expires_at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
        + Duration::hours(args.expires_in_hours);
    let key = key_file::load_key(&args.key)?;
    let order = PaymentOrder {
        payer: AccountId(args.payer),
        payee: AccountId(args.payee),
        amount,
        reference: args.reference.clone(),
        idempotency_key,
        expires_at,
    };
    Ok(serde_json::json!({
        "payer": args.payer,
        "payee": args.payee,
        "amount": amount.to_plain(),
        "reference": order.reference,
        "idempotency_key": order.idempotency_key.as_str(),
        "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "public_key": public_key_hex(&key),
        "signature": sign_order(&key, &order),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key: &Path) -> SignArgs {
        SignArgs {
            key: key.to_path_buf(),
            payer: 7,
            payee: 9,
            amount: "12.5".into(),
            reference: "FA-1".into(),
            idempotency_key: Some("order-1".into()),
            expires_in_hours: 2,
        }
    }

    #[test]
    fn signs_what_the_store_verifies_and_refuses_bad_arguments() {
        let dir = std::env::temp_dir().join(format!("troc-order-{}", std::process::id()));
        let path = dir.join("member.key");
        let public_key = keygen(&path).unwrap();
        assert!(matches!(keygen(&path), Err(OrderCliError::KeyFile(_))));
        let now = Utc::now();
        let body = sign(&args(&path), now).unwrap();
        assert_eq!(body["public_key"], public_key.as_str());
        assert_eq!(body["amount"], "12.50");
        let expires_at = DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(expires_at.timestamp(), now.timestamp() + 7_200);
        let order = PaymentOrder {
            payer: AccountId(7),
            payee: AccountId(9),
            amount: ledger::Amount::from_minor(1_250),
            reference: "FA-1".into(),
            idempotency_key: IdempotencyKey::new("order-1").unwrap(),
            expires_at,
        };
        ledger::audit::verify_order(
            &order,
            &public_key,
            body["signature"].as_str().unwrap(),
            now,
        )
        .unwrap();
        // A fresh key by default, in the orders' namespace.
        let fresh = sign(
            &SignArgs {
                idempotency_key: None,
                ..args(&path)
            },
            now,
        )
        .unwrap();
        assert!(fresh["idempotency_key"]
            .as_str()
            .unwrap()
            .starts_with("order-"));
        assert_eq!(fresh["idempotency_key"].as_str().unwrap().len(), 38);

        let bad = [
            SignArgs {
                amount: "0".into(),
                ..args(&path)
            },
            SignArgs {
                amount: "1.234".into(),
                ..args(&path)
            },
            SignArgs {
                payee: 7,
                ..args(&path)
            },
            SignArgs {
                reference: "r".repeat(65),
                ..args(&path)
            },
            SignArgs {
                idempotency_key: Some("pay-1".into()),
                ..args(&path)
            },
            SignArgs {
                idempotency_key: Some(format!("order-{}", "k".repeat(123))),
                ..args(&path)
            },
            SignArgs {
                expires_in_hours: 0,
                ..args(&path)
            },
            SignArgs {
                expires_in_hours: 745,
                ..args(&path)
            },
            SignArgs {
                key: dir.join("missing.key"),
                ..args(&path)
            },
        ];
        for case in bad {
            assert!(sign(&case, now).is_err(), "{case:?}");
        }
        // At the limits.
        for case in [
            SignArgs {
                reference: "r".repeat(64),
                ..args(&path)
            },
            SignArgs {
                idempotency_key: Some(format!("order-{}", "k".repeat(122))),
                ..args(&path)
            },
            SignArgs {
                expires_in_hours: 744,
                ..args(&path)
            },
        ] {
            sign(&case, now).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
