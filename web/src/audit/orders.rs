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
use ledger::{AccountId, Amount, IdempotencyKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::key_file::{self, KeyFileError};
use crate::store::{is_order_key, parse_member_key, ORDER_KEY_PREFIX, ORDER_LIFETIME_MAX};

/// A payment order signed by its payer, as JSON: what `troc order sign` prints, what
/// `POST /api/v1/signed-payments` takes and what the `/pay/signed` page reads (see
/// docs/audit.md, `troc-payment-order-v1`, for the exact bytes signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = SignedPaymentBody)]
pub struct SignedOrderBody {
    /// The payer's account id.
    #[schema(minimum = 1)]
    pub payer: i64,
    /// The payee's account id.
    #[schema(minimum = 1)]
    pub payee: i64,
    /// A decimal string: `"12.50"`, `"12.5"` or `"12"`.
    #[schema(
        example = "12.50",
        pattern = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    )]
    pub amount: String,
    /// At most 64 characters.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub reference: String,
    /// `order-` and more, at most 128 visible ASCII characters: the order is paid once
    /// under it, whoever submits it and however often.
    #[schema(
        example = "order-2026-12-0042",
        min_length = 7,
        max_length = 128,
        pattern = r"^order-[!-~]{1,122}$"
    )]
    pub idempotency_key: String,
    /// RFC 3339, at most microsecond precision; in the future and at most 31 days away.
    #[schema(example = "2026-12-31T23:59:59Z", format = DateTime)]
    pub expires_at: String,
    /// The payer's registered key that signed, 64 hex digits.
    #[schema(min_length = 64, max_length = 64, pattern = "^[0-9a-f]{64}$")]
    pub public_key: String,
    /// The Ed25519 signature of the order's message, 128 hex digits.
    #[schema(min_length = 128, max_length = 128, pattern = "^[0-9a-f]{128}$")]
    pub signature: String,
}

/// The field of a [`SignedOrderBody`] that does not describe an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Payer,
    Payee,
    Amount,
    Reference,
    IdempotencyKey,
    ExpiresAt,
    PublicKey,
    Signature,
}

impl OrderField {
    /// The field's name in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            OrderField::Payer => "payer",
            OrderField::Payee => "payee",
            OrderField::Amount => "amount",
            OrderField::Reference => "reference",
            OrderField::IdempotencyKey => "idempotency_key",
            OrderField::ExpiresAt => "expires_at",
            OrderField::PublicKey => "public_key",
            OrderField::Signature => "signature",
        }
    }
}

/// Why a [`SignedOrderBody`] does not describe an order: the field at fault, and why (in
/// English, for the API; pages say it in the user's language from the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct OrderFieldError {
    pub field: OrderField,
    detail: String,
}

impl SignedOrderBody {
    /// The order the body describes, with a well-formed public key and signature (whether
    /// they match is the store's check), or the first field at fault.
    pub fn order(&self) -> Result<PaymentOrder, OrderFieldError> {
        let fault = |field: OrderField, detail: String| OrderFieldError { field, detail };
        let account = |field: OrderField, id: i64| {
            u64::try_from(id)
                .ok()
                .filter(|id| *id > 0)
                .map(AccountId)
                .ok_or_else(|| fault(field, format!("{} must be an account id", field.name())))
        };
        let payer = account(OrderField::Payer, self.payer)?;
        let payee = account(OrderField::Payee, self.payee)?;
        if !Amount::is_plain_unsigned(&self.amount) {
            return Err(fault(
                OrderField::Amount,
                "amount must be a decimal string such as \"12.50\"".into(),
            ));
        }
        let amount = Amount::parse_positive(&self.amount)
            .map_err(|_| fault(OrderField::Amount, "amount must be positive".into()))?;
        if let Err(rejection) = ledger::validate_text(&self.reference, "") {
            return Err(fault(OrderField::Reference, rejection.to_string()));
        }
        let idempotency_key = IdempotencyKey::new(self.idempotency_key.clone())
            .map_err(|e| fault(OrderField::IdempotencyKey, format!("idempotency_key: {e}")))?;
        let expires_at = DateTime::parse_from_rfc3339(self.expires_at.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| t.timestamp_subsec_nanos() % 1_000 == 0)
            .ok_or_else(|| {
                fault(
                    OrderField::ExpiresAt,
                    "expires_at must be an RFC 3339 time with at most six fractional digits".into(),
                )
            })?;
        parse_member_key(&self.public_key)
            .map_err(|e| fault(OrderField::PublicKey, format!("public_key: {e}")))?;
        let signature = self.signature.trim();
        if signature.len() != 128 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fault(
                OrderField::Signature,
                "signature must be 128 hex digits".into(),
            ));
        }
        Ok(PaymentOrder {
            payer,
            payee,
            amount,
            reference: self.reference.clone(),
            idempotency_key,
            expires_at,
        })
    }
}

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
pub fn sign(args: &SignArgs, now: DateTime<Utc>) -> Result<SignedOrderBody, OrderCliError> {
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
    Ok(SignedOrderBody {
        payer: args.payer as i64,
        payee: args.payee as i64,
        amount: amount.to_plain(),
        reference: order.reference.clone(),
        idempotency_key: order.idempotency_key.as_str().to_owned(),
        expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        public_key: public_key_hex(&key),
        signature: sign_order(&key, &order),
    })
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
        assert_eq!(body.public_key, public_key);
        assert_eq!(body.amount, "12.50");
        // What it prints is what the API and the page read back.
        let parsed: SignedOrderBody =
            serde_json::from_str(&serde_json::to_string(&body).unwrap()).unwrap();
        assert_eq!(parsed, body);
        let expires_at = DateTime::parse_from_rfc3339(&body.expires_at)
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
        ledger::audit::verify_order(&order, &public_key, &body.signature, now).unwrap();
        // A fresh key by default, in the orders' namespace.
        let fresh = sign(
            &SignArgs {
                idempotency_key: None,
                ..args(&path)
            },
            now,
        )
        .unwrap();
        assert!(fresh.idempotency_key.starts_with("order-"));
        assert_eq!(fresh.idempotency_key.len(), 38);

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
