//! Which general-ledger account (French PCG 2025 by default) each ledger posting is booked to.
//!
//! Two points of view, each configurable: the operator's books ([`OperatorMapping`], one per
//! network) and a member company's own books ([`MemberMapping`], a network-wide default plus
//! per-member overrides). The defaults and the reasoning behind them are in `docs/exports.md`;
//! they still need an expert-comptable's sign-off, which is why every one can be changed.

use std::collections::BTreeMap;

use ledger::AccountId;
use serde::{Deserialize, Serialize};

use super::text::one_line;
use super::ExportError;

/// Longest account number.
pub const ACCOUNT_NUM_LEN_MAX: usize = 20;
/// Longest account label, in characters.
pub const ACCOUNT_LABEL_LEN_MAX: usize = 100;
/// Most per-member overrides one mapping may hold.
pub const MEMBER_OVERRIDES_MAX: usize = 100_000;

/// A general-ledger account: its number (the first three characters are PCG digits) and
/// its label. Built only through [`GlAccount::new`], which checks both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawGlAccount", into = "RawGlAccount")]
pub struct GlAccount {
    num: String,
    label: String,
}

#[derive(Serialize, Deserialize)]
struct RawGlAccount {
    num: String,
    label: String,
}

impl TryFrom<RawGlAccount> for GlAccount {
    type Error = ExportError;
    fn try_from(raw: RawGlAccount) -> Result<GlAccount, ExportError> {
        GlAccount::new(&raw.num, &raw.label)
    }
}

impl From<GlAccount> for RawGlAccount {
    fn from(account: GlAccount) -> RawGlAccount {
        RawGlAccount {
            num: account.num,
            label: account.label,
        }
    }
}

impl GlAccount {
    /// `num`: 3 to 20 ASCII letters or digits, starting with three digits whose first is a
    /// PCG class (1 to 8). `label`: 1 to 100 characters, kept on one line.
    pub fn new(num: &str, label: &str) -> Result<GlAccount, ExportError> {
        let bytes = num.as_bytes();
        let valid_num = (3..=ACCOUNT_NUM_LEN_MAX).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_alphanumeric)
            && bytes[..3].iter().all(u8::is_ascii_digit)
            && (b'1'..=b'8').contains(&bytes[0]);
        if !valid_num {
            return Err(ExportError::InvalidAccountNumber(num.to_owned()));
        }
        let label = one_line(label, &[]);
        let len = label.chars().count();
        if len == 0 || len > ACCOUNT_LABEL_LEN_MAX {
            return Err(ExportError::InvalidAccountLabel {
                num: num.to_owned(),
                max: ACCOUNT_LABEL_LEN_MAX,
            });
        }
        Ok(GlAccount {
            num: num.to_owned(),
            label,
        })
    }

    pub fn num(&self) -> &str {
        &self.num
    }
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The PCG class (first digit): 1–5 are balance-sheet accounts, 6–7 income statement.
    pub fn class(&self) -> u8 {
        self.num.as_bytes()[0] - b'0'
    }
    /// Whether the balance is carried forward into the next period's opening entry.
    pub fn is_balance_sheet(&self) -> bool {
        self.class() <= 5
    }
}

/// A position booked on one account while its balance is in debit and on another while it
/// is in credit (467/468 after PCG 2025). A movement that crosses zero is split in two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitAccount {
    pub debit: GlAccount,
    pub credit: GlAccount,
}

/// Where a position is booked: always one account, or one per balance sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Single(GlAccount),
    Split(SplitAccount),
}

/// How the operator books the guarantee fund (depends on the fund's statute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundTreatment {
    /// Refundable member contributions: a debt to members (165).
    Deposits { account: GlAccount },
    /// The operator's own provision for defaults: the fund's balance sits on the provision
    /// account (1518); a contribution is revenue allocated to the provision (6815), a
    /// default absorbed by the fund is a realised loss (654) covered by a reversal (7815).
    Provision {
        provision: GlAccount,
        allocation: GlAccount,
        reversal: GlAccount,
        contribution_revenue: GlAccount,
        realised_loss: GlAccount,
    },
}

/// The operator's books: every ledger account is booked, so the totals equal the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorMapping {
    /// Member accounts, one auxiliary account per member (its SIREN). A member in credit is
    /// owed units by the network.
    pub members: Position,
    /// Commissions on trades (the fees account's commission legs).
    pub commission: GlAccount,
    /// Membership fees and other charges credited to the fees account.
    pub membership_fee: GlAccount,
    pub fund: FundTreatment,
    /// Defaults the fund could not cover.
    pub losses: GlAccount,
    /// The boundary with the outside: opening balances brought in, euros recovered.
    pub migration: GlAccount,
    /// Where earlier periods' income and expenses are carried (report à nouveau).
    pub retained: SplitAccount,
}

/// A member company's books: its barter account and the counterparts of its postings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMapping {
    pub barter: Position,
    /// Sales settled in barter: one auxiliary account per buyer ("client X à compenser").
    pub customers: GlAccount,
    /// Purchases settled in barter: one auxiliary account per seller.
    pub suppliers: GlAccount,
    pub commission: GlAccount,
    pub membership_fee: GlAccount,
    pub fund_contribution: GlAccount,
    /// Counterpart of an opening balance brought from another system.
    pub opening: GlAccount,
    /// A debt written off by the network.
    pub debt_forgiven: GlAccount,
    pub retained: SplitAccount,
}

/// The whole configuration: the operator's mapping, the members' default, and overrides
/// for members whose accountant prefers other accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMapping {
    pub operator: OperatorMapping,
    pub member_default: MemberMapping,
    #[serde(default)]
    member_overrides: BTreeMap<AccountId, MemberMapping>,
}

fn gl(num: &str, label: &str) -> GlAccount {
    GlAccount::new(num, label).expect("the built-in accounts are valid")
}

fn retained_default() -> SplitAccount {
    SplitAccount {
        debit: gl("119000", "Report à nouveau (solde débiteur)"),
        credit: gl("110000", "Report à nouveau (solde créditeur)"),
    }
}

impl Default for OperatorMapping {
    fn default() -> OperatorMapping {
        OperatorMapping {
            members: Position::Split(SplitAccount {
                debit: gl(
                    "467100",
                    "Divers comptes débiteurs - membres barter débiteurs",
                ),
                credit: gl(
                    "468100",
                    "Divers comptes créditeurs - membres barter créditeurs",
                ),
            }),
            commission: gl("706000", "Prestations de services - commissions barter"),
            membership_fee: gl("706100", "Prestations de services - cotisations"),
            fund: FundTreatment::Deposits {
                account: gl(
                    "165000",
                    "Dépôts et cautionnements reçus - fonds de garantie",
                ),
            },
            losses: gl("654000", "Pertes sur créances irrécouvrables"),
            migration: gl("471000", "Compte d'attente - reprises et recouvrements"),
            retained: retained_default(),
        }
    }
}

impl OperatorMapping {
    /// The fund booked as a provision (1518 / 6815 / 7815 / 654), for statutes where the
    /// fund is the operator's own reserve against defaults.
    pub fn provision_fund() -> FundTreatment {
        FundTreatment::Provision {
            provision: gl(
                "151800",
                "Autres provisions pour risques - fonds de garantie",
            ),
            allocation: gl("681500", "Dotations aux provisions d'exploitation"),
            reversal: gl("781500", "Reprises sur provisions d'exploitation"),
            contribution_revenue: gl(
                "706800",
                "Prestations de services - contributions au fonds de garantie",
            ),
            realised_loss: gl("654000", "Pertes sur créances irrécouvrables"),
        }
    }
}

impl Default for MemberMapping {
    fn default() -> MemberMapping {
        MemberMapping {
            barter: Position::Split(SplitAccount {
                debit: gl("467100", "Compte barter réseau (solde débiteur)"),
                credit: gl("468100", "Compte barter réseau (solde créditeur)"),
            }),
            customers: gl("411100", "Clients - ventes à compenser"),
            suppliers: gl("401100", "Fournisseurs - achats à compenser"),
            commission: gl("622200", "Commissions et courtages sur ventes"),
            membership_fee: gl("628100", "Concours divers (cotisations)"),
            fund_contribution: gl(
                "275000",
                "Dépôts et cautionnements versés - fonds de garantie",
            ),
            opening: gl("471000", "Compte d'attente - reprise de solde barter"),
            debt_forgiven: gl(
                "758000",
                "Produits divers de gestion courante - abandon de créance",
            ),
            retained: retained_default(),
        }
    }
}

impl MemberMapping {
    /// The barter account as one class-5 account (517), for accountants who treat it like a
    /// bank account.
    pub fn single_barter_account() -> Position {
        Position::Single(gl("517000", "Autres organismes financiers - compte barter"))
    }
}

impl AccountMapping {
    /// The mapping for one member's books.
    pub fn for_member(&self, member: AccountId) -> &MemberMapping {
        self.member_overrides
            .get(&member)
            .unwrap_or(&self.member_default)
    }

    pub fn set_member_override(
        &mut self,
        member: AccountId,
        mapping: MemberMapping,
    ) -> Result<(), ExportError> {
        if !self.member_overrides.contains_key(&member)
            && self.member_overrides.len() >= MEMBER_OVERRIDES_MAX
        {
            return Err(ExportError::TooManyOverrides {
                max: MEMBER_OVERRIDES_MAX,
            });
        }
        self.member_overrides.insert(member, mapping);
        Ok(())
    }

    /// Reads a mapping from JSON (the CLI's `--mapping FILE`); every account is validated.
    pub fn from_json(text: &str) -> Result<AccountMapping, ExportError> {
        let mapping: AccountMapping =
            serde_json::from_str(text).map_err(|e| ExportError::InvalidMapping(e.to_string()))?;
        if mapping.member_overrides.len() > MEMBER_OVERRIDES_MAX {
            return Err(ExportError::TooManyOverrides {
                max: MEMBER_OVERRIDES_MAX,
            });
        }
        Ok(mapping)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a mapping serialises")
    }

    /// A member's own override, if it has one (otherwise it uses `member_default`).
    pub fn member_override(&self, member: AccountId) -> Option<&MemberMapping> {
        self.member_overrides.get(&member)
    }

    /// Drops a member's override: it goes back to `member_default`.
    pub fn remove_member_override(&mut self, member: AccountId) -> Option<MemberMapping> {
        self.member_overrides.remove(&member)
    }

    /// How many members have an override.
    pub fn overrides_len(&self) -> usize {
        self.member_overrides.len()
    }

    /// The network-wide part (operator and members' default), without the overrides: what
    /// the store keeps under the `network` scope.
    pub fn network_part(&self) -> AccountMapping {
        AccountMapping {
            operator: self.operator.clone(),
            member_default: self.member_default.clone(),
            member_overrides: BTreeMap::new(),
        }
    }
}

impl MemberMapping {
    /// Reads one member's mapping from JSON; every account is validated.
    pub fn from_json(text: &str) -> Result<MemberMapping, ExportError> {
        serde_json::from_str(text).map_err(|e| ExportError::InvalidMapping(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a mapping serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_are_checked() {
        assert!(GlAccount::new("467100", "x").is_ok());
        assert!(GlAccount::new("411", "x").is_ok());
        assert!(GlAccount::new("411CLIB", "x").is_ok());
        assert!(GlAccount::new(&"4".repeat(ACCOUNT_NUM_LEN_MAX), "x").is_ok());
        for bad in ["", "41", "A11100", "911000", "011000", "41 100", "4111|0"] {
            assert!(
                matches!(
                    GlAccount::new(bad, "x"),
                    Err(ExportError::InvalidAccountNumber(_))
                ),
                "{bad:?} accepted"
            );
        }
        assert!(GlAccount::new(&"4".repeat(ACCOUNT_NUM_LEN_MAX + 1), "x").is_err());
    }

    #[test]
    fn account_labels_are_checked() {
        assert!(GlAccount::new("411", &"é".repeat(ACCOUNT_LABEL_LEN_MAX)).is_ok());
        assert!(matches!(
            GlAccount::new("411", &"é".repeat(ACCOUNT_LABEL_LEN_MAX + 1)),
            Err(ExportError::InvalidAccountLabel { .. })
        ));
        assert!(GlAccount::new("411", " \n ").is_err());
        assert_eq!(GlAccount::new("411", "a\nb").unwrap().label(), "a b");
    }

    #[test]
    fn mapping_round_trips_through_json_and_validates() {
        let mut mapping = AccountMapping::default();
        let custom = MemberMapping {
            barter: MemberMapping::single_barter_account(),
            ..MemberMapping::default()
        };
        mapping
            .set_member_override(AccountId(7), custom.clone())
            .unwrap();
        mapping.operator.fund = OperatorMapping::provision_fund();
        let json = mapping.to_json();
        let back = AccountMapping::from_json(&json).unwrap();
        assert_eq!(back, mapping);
        assert_eq!(back.for_member(AccountId(7)), &custom);
        assert_eq!(back.for_member(AccountId(8)), &MemberMapping::default());
        let broken = json.replacen("\"622200\"", "\"X22200\"", 1);
        assert!(matches!(
            AccountMapping::from_json(&broken),
            Err(ExportError::InvalidMapping(_))
        ));
    }

    #[test]
    fn classes_tell_balance_sheet_from_income() {
        assert!(GlAccount::new("467100", "x").unwrap().is_balance_sheet());
        assert!(!GlAccount::new("706000", "x").unwrap().is_balance_sheet());
        assert_eq!(GlAccount::new("622200", "x").unwrap().class(), 6);
    }
}
