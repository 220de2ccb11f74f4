//! Identifiers and validated texts. Every id is passed in by the caller: the core never
//! invents one.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// An account of the ledger, member or system.
    AccountId
);
id_type!(
    /// A committed transaction.
    TxId
);
id_type!(
    /// A hold (the first phase of a two-phase payment).
    HoldId
);

/// Longest memo, in characters.
pub const MEMO_LEN_MAX: usize = 280;
/// Longest reference (invoice number), in characters.
pub const REFERENCE_LEN_MAX: usize = 64;
/// Longest idempotency key, in bytes.
pub const IDEMPOTENCY_KEY_LEN_MAX: usize = 128;
/// Longest reason for a limit or status change, in characters.
pub const REASON_LEN_MAX: usize = 500;
/// Longest actor name recorded with a change, in characters.
pub const ACTOR_LEN_MAX: usize = 254;

/// A client-chosen key that makes an operation idempotent: 1 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the idempotency key is empty")]
    Empty,
    #[error("the idempotency key is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("the idempotency key may only contain visible ASCII characters")]
    InvalidCharacter,
}

impl IdempotencyKey {
    pub fn new(key: impl Into<String>) -> Result<IdempotencyKey, KeyError> {
        let key = key.into();
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.len() > IDEMPOTENCY_KEY_LEN_MAX {
            return Err(KeyError::TooLong {
                max: IDEMPOTENCY_KEY_LEN_MAX,
            });
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::InvalidCharacter);
        }
        Ok(IdempotencyKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Counts characters (not bytes), so that a French memo full of accents gets the same room
/// as an English one.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_limits() {
        assert!(IdempotencyKey::new("a".repeat(IDEMPOTENCY_KEY_LEN_MAX)).is_ok());
        assert_eq!(
            IdempotencyKey::new("a".repeat(IDEMPOTENCY_KEY_LEN_MAX + 1)),
            Err(KeyError::TooLong {
                max: IDEMPOTENCY_KEY_LEN_MAX
            })
        );
        assert_eq!(IdempotencyKey::new(""), Err(KeyError::Empty));
        assert_eq!(IdempotencyKey::new("a b"), Err(KeyError::InvalidCharacter));
        assert_eq!(IdempotencyKey::new("é"), Err(KeyError::InvalidCharacter));
    }

    #[test]
    fn char_len_counts_characters() {
        assert_eq!(char_len("été"), 3);
    }
}
