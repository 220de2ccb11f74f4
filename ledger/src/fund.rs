//! Guarantee-fund metrics, as pure functions of account states.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{Account, AccountKind, AccountStatus, Amount};

/// Decimal places of the ratios below.
pub const RATIO_SCALE: u32 = 4;
/// Largest k the stress test accepts (a bound on its sort).
pub const STRESS_K_MAX: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundMetrics {
    /// The guarantee fund's balance.
    pub fund_balance: Amount,
    /// Sum of the negative balances of open member accounts, as a positive amount.
    pub exposure: Amount,
    /// fund balance ÷ exposure, rounded half-even to 4 decimals; `None` when nothing is owed.
    pub coverage_ratio: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressTest {
    /// How many of the largest debtors default (at most the number of debtors).
    pub k: usize,
    /// Their combined debt.
    pub debt: Amount,
    /// The part the fund would absorb (at most its balance).
    pub absorbed_by_fund: Amount,
    /// The part left for the losses account.
    pub uncovered: Amount,
    /// debt ÷ fund balance (1 or more: the fund would be exhausted); `None` when the fund is
    /// empty.
    pub share_of_fund: Option<Decimal>,
}

fn debts<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> (Amount, Vec<i64>) {
    let mut fund = 0i64;
    let mut debts = Vec::new();
    for account in accounts {
        match account.kind() {
            AccountKind::GuaranteeFund => fund = account.balance().minor(),
            AccountKind::Member
                if account.status() != AccountStatus::Closed && account.balance().is_negative() =>
            {
                debts.push(-account.balance().minor())
            }
            _ => {}
        }
    }
    (Amount::from_minor(fund), debts)
}

fn ratio(numerator: i64, denominator: i64) -> Option<Decimal> {
    if denominator <= 0 {
        return None;
    }
    let value = Decimal::from(numerator).checked_div(Decimal::from(denominator))?;
    let mut rounded =
        value.round_dp_with_strategy(RATIO_SCALE, RoundingStrategy::MidpointNearestEven);
    // Always show 4 decimals ("4.0000"), so that reports line up.
    rounded.rescale(RATIO_SCALE);
    Some(rounded)
}

fn sum(values: &[i64]) -> Amount {
    let total: i128 = values.iter().map(|v| i128::from(*v)).sum();
    Amount::from_minor(crate::account::clamp_i64(total))
}

pub fn fund_metrics<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> FundMetrics {
    let (fund_balance, debts) = debts(accounts);
    let exposure = sum(&debts);
    FundMetrics {
        fund_balance,
        exposure,
        coverage_ratio: ratio(fund_balance.minor(), exposure.minor()),
    }
}

/// What the default of the `k` largest debtors would do to the fund (`k` is capped at
/// [`STRESS_K_MAX`]).
pub fn stress_test<'a>(accounts: impl IntoIterator<Item = &'a Account>, k: usize) -> StressTest {
    let (fund_balance, mut debts) = debts(accounts);
    debts.sort_unstable_by(|a, b| b.cmp(a));
    debts.truncate(k.min(STRESS_K_MAX));
    let debt = sum(&debts);
    let absorbed = debt.min(fund_balance.max(Amount::ZERO));
    StressTest {
        k: debts.len(),
        debt,
        absorbed_by_fund: absorbed,
        uncovered: Amount::from_minor(debt.minor() - absorbed.minor()),
        share_of_fund: ratio(debt.minor(), fund_balance.minor()),
    }
}
