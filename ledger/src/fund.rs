//! Guarantee-fund metrics and the absorption rule of a default, as pure functions of
//! account states.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{Account, AccountKind, AccountStatus, Amount, Rejection};

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

/// How a default is absorbed: the fund first, up to what it can spend, then the losses
/// account. What [`crate::Operation::WriteOff`] posts is built from this (and only this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absorption {
    /// The defaulter's debt (minus its negative balance), written off in full.
    pub loss: Amount,
    /// The part the guarantee fund pays.
    pub from_fund: Amount,
    /// The part the losses account takes (the fund could not cover it).
    pub from_losses: Amount,
}

/// The write-off rule: `member` must be an open member account with a negative balance and
/// no open holds; the fund absorbs the debt up to its available balance, the losses
/// account the rest. The decision (`decide`) and every preview use this one function, so a
/// confirmation page shows exactly what will be posted.
pub fn write_off_absorption(member: &Account, fund: &Account) -> Result<Absorption, Rejection> {
    if member.kind() != AccountKind::Member {
        return Err(Rejection::NotAMemberAccount {
            account: member.id(),
        });
    }
    if member.status() == AccountStatus::Closed {
        return Err(Rejection::AccountClosed {
            account: member.id(),
        });
    }
    if !member.pending().is_zero() {
        return Err(Rejection::OpenHolds {
            pending: member.pending(),
        });
    }
    if !member.balance().is_negative() {
        return Err(Rejection::NothingToWriteOff {
            balance: member.balance(),
        });
    }
    let loss = member.balance().checked_neg().ok_or(Rejection::Overflow)?;
    let fund_free = fund.available().unwrap_or(Amount::ZERO).max(Amount::ZERO);
    let from_fund = loss.min(fund_free);
    let from_losses = Amount::from_minor(loss.minor() - from_fund.minor());
    debug_assert_eq!(
        i128::from(from_fund.minor()) + i128::from(from_losses.minor()),
        i128::from(loss.minor())
    );
    Ok(Absorption {
        loss,
        from_fund,
        from_losses,
    })
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

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::AccountId;

    fn account(id: u64, kind: AccountKind, balance: i64, pending: i64) -> Account {
        Account::from_parts(
            AccountId(id),
            kind,
            AccountStatus::Active,
            Amount::from_minor(balance),
            Amount::from_minor(pending),
            Amount::from_minor(1_000_000),
            None,
            Some(DateTime::UNIX_EPOCH),
        )
        .unwrap()
    }

    #[test]
    fn the_fund_absorbs_first_then_the_losses_account() {
        let fund = |balance| {
            Account::from_parts(
                AccountId(1),
                AccountKind::GuaranteeFund,
                AccountStatus::Active,
                Amount::from_minor(balance),
                Amount::ZERO,
                Amount::ZERO,
                None,
                None,
            )
            .unwrap()
        };
        let member = account(9, AccountKind::Member, -112_468, 0);
        let smaller = write_off_absorption(&member, &fund(80_000)).unwrap();
        assert_eq!(smaller.loss, Amount::from_minor(112_468));
        assert_eq!(smaller.from_fund, Amount::from_minor(80_000));
        assert_eq!(smaller.from_losses, Amount::from_minor(32_468));
        let larger = write_off_absorption(&member, &fund(200_000)).unwrap();
        assert_eq!(larger.from_fund, Amount::from_minor(112_468));
        assert_eq!(larger.from_losses, Amount::ZERO);
        let empty = write_off_absorption(&member, &fund(0)).unwrap();
        assert_eq!(empty.from_fund, Amount::ZERO);
        assert_eq!(empty.from_losses, Amount::from_minor(112_468));
    }

    #[test]
    fn a_write_off_needs_debt_and_no_open_holds() {
        let fund = account(1, AccountKind::GuaranteeFund, 0, 0);
        assert_eq!(
            write_off_absorption(&account(9, AccountKind::Member, 0, 0), &fund),
            Err(Rejection::NothingToWriteOff {
                balance: Amount::ZERO
            })
        );
        assert_eq!(
            write_off_absorption(&account(9, AccountKind::Member, -500, 100), &fund),
            Err(Rejection::OpenHolds {
                pending: Amount::from_minor(100)
            })
        );
        assert_eq!(
            write_off_absorption(&account(9, AccountKind::Fees, -500, 0), &fund),
            Err(Rejection::NotAMemberAccount {
                account: AccountId(9)
            })
        );
    }
}
