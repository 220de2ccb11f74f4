//! The network's fee policy: a commission on sales and a guarantee-fund contribution.
//!
//! **Rounding rule.** Each fee is `amount × basis points / 10 000`, rounded to the cent
//! half up (0,005 becomes 0,01), computed in integers (i128, no overflow). The commission is
//! then raised to its minimum, and never exceeds the traded amount. When the seller pays the
//! fund contribution, it is capped so that the seller's two fees together never exceed the
//! amount. The legs of a payment are built from these integers, so they sum to zero exactly.

use serde::{Deserialize, Serialize};

use crate::Amount;

/// Highest rate a fee may have, in basis points (50 %).
pub const FEE_BP_MAX: u32 = 5_000;
/// Basis points in 100 %.
pub const BP_PER_UNIT: i128 = 10_000;

/// Who pays the guarantee-fund contribution on a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundPayer {
    Buyer,
    Seller,
}

impl FundPayer {
    /// Every payer, in the order the API lists them.
    pub const ALL: [FundPayer; 2] = [FundPayer::Buyer, FundPayer::Seller];

    pub fn as_str(self) -> &'static str {
        match self {
            FundPayer::Buyer => "buyer",
            FundPayer::Seller => "seller",
        }
    }

    pub fn parse(text: &str) -> Option<FundPayer> {
        FundPayer::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeePolicy {
    commission_bp: u32,
    commission_min: Amount,
    fund_bp: u32,
    fund_payer: FundPayer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeePolicyError {
    #[error("a fee rate may not exceed {max} basis points")]
    RateTooHigh { max: u32 },
    #[error("the minimum commission cannot be negative")]
    NegativeMinimum,
}

/// The fees on one trade, as computed by [`FeePolicy::fees_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fees {
    pub commission: Amount,
    pub fund_contribution: Amount,
    pub fund_payer: FundPayer,
}

impl Fees {
    /// What the buyer pays on top of the amount.
    pub fn buyer_extra(&self) -> Amount {
        match self.fund_payer {
            FundPayer::Buyer => self.fund_contribution,
            FundPayer::Seller => Amount::ZERO,
        }
    }

    /// What is taken from the seller's proceeds.
    pub fn seller_deduction(&self) -> Amount {
        let fund = match self.fund_payer {
            FundPayer::Buyer => Amount::ZERO,
            FundPayer::Seller => self.fund_contribution,
        };
        Amount::from_minor(self.commission.minor() + fund.minor())
    }
}

impl FeePolicy {
    pub fn new(
        commission_bp: u32,
        commission_min: Amount,
        fund_bp: u32,
        fund_payer: FundPayer,
    ) -> Result<FeePolicy, FeePolicyError> {
        if commission_bp > FEE_BP_MAX || fund_bp > FEE_BP_MAX {
            return Err(FeePolicyError::RateTooHigh { max: FEE_BP_MAX });
        }
        if commission_min.is_negative() {
            return Err(FeePolicyError::NegativeMinimum);
        }
        Ok(FeePolicy {
            commission_bp,
            commission_min,
            fund_bp,
            fund_payer,
        })
    }

    /// No commission, no contribution.
    pub fn free() -> FeePolicy {
        FeePolicy {
            commission_bp: 0,
            commission_min: Amount::ZERO,
            fund_bp: 0,
            fund_payer: FundPayer::Seller,
        }
    }

    pub fn commission_bp(&self) -> u32 {
        self.commission_bp
    }
    pub fn commission_min(&self) -> Amount {
        self.commission_min
    }
    pub fn fund_bp(&self) -> u32 {
        self.fund_bp
    }
    pub fn fund_payer(&self) -> FundPayer {
        self.fund_payer
    }

    /// The fees on a trade of `amount` (> 0), following the rounding rule above.
    pub fn fees_for(&self, amount: Amount) -> Fees {
        debug_assert!(amount.is_positive());
        let commission = apply_rate(amount, self.commission_bp)
            .max(self.commission_min)
            .min(amount);
        let mut fund = apply_rate(amount, self.fund_bp);
        if self.fund_payer == FundPayer::Seller {
            fund = fund.min(Amount::from_minor(amount.minor() - commission.minor()));
        }
        debug_assert!(!commission.is_negative() && commission <= amount);
        debug_assert!(!fund.is_negative());
        Fees {
            commission,
            fund_contribution: fund,
            fund_payer: self.fund_payer,
        }
    }
}

/// `amount × bp / 10 000`, rounded half up to the cent.
fn apply_rate(amount: Amount, bp: u32) -> Amount {
    let product = i128::from(amount.minor()) * i128::from(bp);
    let rounded = (product + BP_PER_UNIT / 2) / BP_PER_UNIT;
    debug_assert!(rounded >= 0 && rounded <= i128::from(amount.minor()));
    Amount::from_minor(rounded as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(commission_bp: u32, min: i64, fund_bp: u32, payer: FundPayer) -> FeePolicy {
        FeePolicy::new(commission_bp, Amount::from_minor(min), fund_bp, payer).unwrap()
    }

    #[test]
    fn rounds_half_up_to_the_cent() {
        // 5 % of 0,10 = 0,005 → 0,01; 5 % of 0,09 = 0,0045 → 0,00.
        let p = policy(500, 0, 0, FundPayer::Seller);
        assert_eq!(
            p.fees_for(Amount::from_minor(10)).commission,
            Amount::from_minor(1)
        );
        assert_eq!(
            p.fees_for(Amount::from_minor(9)).commission,
            Amount::from_minor(0)
        );
        // 2,5 % of 1 234,50 = 30,8625 → 30,86.
        let p = policy(250, 0, 0, FundPayer::Seller);
        assert_eq!(
            p.fees_for(Amount::from_minor(123_450)).commission,
            Amount::from_minor(3_086)
        );
    }

    #[test]
    fn minimum_commission_applies_but_never_exceeds_the_amount() {
        let p = policy(100, 50, 0, FundPayer::Seller);
        assert_eq!(
            p.fees_for(Amount::from_units(10)).commission,
            Amount::from_minor(50)
        );
        assert_eq!(
            p.fees_for(Amount::from_minor(30)).commission,
            Amount::from_minor(30)
        );
        assert_eq!(
            p.fees_for(Amount::from_units(1_000)).commission,
            Amount::from_units(10)
        );
    }

    #[test]
    fn seller_paid_fees_never_exceed_the_amount() {
        let p = policy(FEE_BP_MAX, 100, FEE_BP_MAX, FundPayer::Seller);
        let fees = p.fees_for(Amount::from_minor(150));
        assert_eq!(fees.commission, Amount::from_minor(100));
        assert_eq!(fees.fund_contribution, Amount::from_minor(50));
        assert_eq!(fees.seller_deduction(), Amount::from_minor(150));
        assert_eq!(fees.buyer_extra(), Amount::ZERO);
    }

    #[test]
    fn buyer_paid_contribution_is_on_top() {
        let p = policy(300, 0, 100, FundPayer::Buyer);
        let fees = p.fees_for(Amount::from_units(200));
        assert_eq!(fees.buyer_extra(), Amount::from_units(2));
        assert_eq!(fees.seller_deduction(), Amount::from_units(6));
    }

    #[test]
    fn rates_are_limited_at_the_maximum() {
        assert!(FeePolicy::new(FEE_BP_MAX, Amount::ZERO, FEE_BP_MAX, FundPayer::Buyer).is_ok());
        assert_eq!(
            FeePolicy::new(FEE_BP_MAX + 1, Amount::ZERO, 0, FundPayer::Buyer),
            Err(FeePolicyError::RateTooHigh { max: FEE_BP_MAX })
        );
        assert_eq!(
            FeePolicy::new(0, Amount::ZERO, FEE_BP_MAX + 1, FundPayer::Buyer),
            Err(FeePolicyError::RateTooHigh { max: FEE_BP_MAX })
        );
        assert_eq!(
            FeePolicy::new(0, Amount::from_minor(-1), 0, FundPayer::Buyer),
            Err(FeePolicyError::NegativeMinimum)
        );
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        let p = policy(FEE_BP_MAX, 0, FEE_BP_MAX, FundPayer::Buyer);
        let fees = p.fees_for(Amount::MAX);
        assert_eq!(fees.commission.minor(), i64::MAX / 2 + 1);
    }
}
