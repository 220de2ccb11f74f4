//! Transactions (atomic, balanced lists of postings) and holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Amount, HoldId, IdempotencyKey, Rejection, TxId};

/// Most postings one transaction may carry (a payment with fees has 6).
pub const POSTINGS_PER_TX_MAX: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    Payment,
    Fee,
    FundContribution,
    HoldCapture,
    Reversal,
    WriteOff,
    Recovery,
    OpeningBalance,
    Adjustment,
}

impl TxKind {
    pub const ALL: [TxKind; 9] = [
        TxKind::Payment,
        TxKind::Fee,
        TxKind::FundContribution,
        TxKind::HoldCapture,
        TxKind::Reversal,
        TxKind::WriteOff,
        TxKind::Recovery,
        TxKind::OpeningBalance,
        TxKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Payment => "payment",
            TxKind::Fee => "fee",
            TxKind::FundContribution => "fund_contribution",
            TxKind::HoldCapture => "hold_capture",
            TxKind::Reversal => "reversal",
            TxKind::WriteOff => "write_off",
            TxKind::Recovery => "recovery",
            TxKind::OpeningBalance => "opening_balance",
            TxKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<TxKind> {
        TxKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Kinds a reversal may undo. Reversals, write-offs are final (a write-off closed the
    /// account; a reversal of a reversal would be a new payment).
    pub fn is_reversible(self) -> bool {
        !matches!(self, TxKind::Reversal | TxKind::WriteOff)
    }
}

/// Why a posting is in a transaction, so that statements and exports can show the legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// The traded amount.
    Principal,
    /// The network's commission on the sale.
    Commission,
    /// The contribution to the guarantee fund.
    FundContribution,
}

impl Leg {
    pub const ALL: [Leg; 3] = [Leg::Principal, Leg::Commission, Leg::FundContribution];

    pub fn as_str(self) -> &'static str {
        match self {
            Leg::Principal => "principal",
            Leg::Commission => "commission",
            Leg::FundContribution => "fund_contribution",
        }
    }

    pub fn parse(text: &str) -> Option<Leg> {
        Leg::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// One line of a transaction: a signed amount on one account (credit > 0, debit < 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: AccountId,
    pub amount: Amount,
    pub leg: Leg,
}

/// A committed, immutable transaction. Built only through [`Transaction::new`], which
/// refuses fewer than two postings, zero postings and any list that does not sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    id: TxId,
    kind: TxKind,
    time: DateTime<Utc>,
    postings: Vec<Posting>,
    reference: String,
    memo: String,
    idempotency_key: Option<IdempotencyKey>,
    reverses: Option<TxId>,
}

/// The descriptive fields of a new transaction, besides its postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxHeader {
    pub id: TxId,
    pub kind: TxKind,
    pub time: DateTime<Utc>,
    pub reference: String,
    pub memo: String,
    pub idempotency_key: Option<IdempotencyKey>,
    pub reverses: Option<TxId>,
}

impl Transaction {
    pub fn new(header: TxHeader, postings: Vec<Posting>) -> Result<Transaction, Rejection> {
        if postings.len() < 2 || postings.len() > POSTINGS_PER_TX_MAX {
            return Err(Rejection::MalformedTransaction {
                postings: postings.len() as u32,
            });
        }
        if postings.iter().any(|p| p.amount.is_zero()) {
            return Err(Rejection::MalformedTransaction {
                postings: postings.len() as u32,
            });
        }
        let sum: i128 = postings.iter().map(|p| i128::from(p.amount.minor())).sum();
        if sum != 0 {
            return Err(Rejection::Unbalanced {
                sum: Amount::from_minor(crate::account::clamp_i64(sum)),
            });
        }
        crate::validate_text(&header.reference, &header.memo)?;
        Ok(Transaction {
            id: header.id,
            kind: header.kind,
            time: header.time,
            postings,
            reference: header.reference,
            memo: header.memo,
            idempotency_key: header.idempotency_key,
            reverses: header.reverses,
        })
    }

    pub fn id(&self) -> TxId {
        self.id
    }
    pub fn kind(&self) -> TxKind {
        self.kind
    }
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub fn memo(&self) -> &str {
        &self.memo
    }
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }
    pub fn reverses(&self) -> Option<TxId> {
        self.reverses
    }

    /// The net amount this transaction moves on `account` (credit > 0).
    pub fn net_for(&self, account: AccountId) -> Amount {
        let net: i64 = self
            .postings
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount.minor())
            .sum();
        Amount::from_minor(net)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Open,
    Captured,
    Voided,
    Expired,
}

impl HoldStatus {
    pub const ALL: [HoldStatus; 4] = [
        HoldStatus::Open,
        HoldStatus::Captured,
        HoldStatus::Voided,
        HoldStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Open => "open",
            HoldStatus::Captured => "captured",
            HoldStatus::Voided => "voided",
            HoldStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<HoldStatus> {
        HoldStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The first phase of a two-phase payment: `reserved` of the payer's available credit is
/// set aside until the hold is captured, voided or expires. It resolves at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub id: HoldId,
    pub payer: AccountId,
    pub payee: AccountId,
    /// The most the payee may capture.
    pub amount: Amount,
    /// What is set aside on the payer: the amount plus the fees the payer would owe.
    pub reserved: Amount,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: HoldStatus,
    pub reference: String,
    pub memo: String,
    /// The capture transaction, once captured.
    pub capture: Option<TxId>,
}
