//! Money: integer minor units with a fixed scale of 2 (1 unit = 1 euro of barter value).
//!
//! No floats anywhere. Parsing accepts plain (`1234.5`) and French (`1 234,50`) text and
//! rejects everything else with a distinct [`AmountError`]. `rust_decimal::Decimal` is
//! offered only as an edge conversion.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Decimal places of every amount in Troc.
pub const SCALE: u32 = 2;
/// Minor units in one unit (10^SCALE).
pub const MINOR_PER_UNIT: i64 = 100;
/// Longest text `Amount::parse*` looks at; longer input is rejected before any work.
pub const AMOUNT_TEXT_LEN_MAX: usize = 64;

/// A signed amount of barter units, stored as minor units (cents).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(i64);

/// Why a text or decimal is not an amount. Each cause has its own variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount is too long")]
    TooLong,
    #[error("the amount has more than 2 decimals")]
    TooManyDecimals,
    #[error("a sign is not allowed here")]
    SignNotAllowed,
    #[error("exponent notation is not allowed")]
    Exponent,
    #[error("the amount is too large")]
    Overflow,
    #[error("the amount contains an invalid character")]
    InvalidCharacter,
    #[error("the amount is malformed")]
    Malformed,
    #[error("the amount must be greater than zero")]
    NotPositive,
}

/// Whether a sign may appear in parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignPolicy {
    /// Only amounts > 0, written without a sign.
    PositiveOnly,
    /// `-` or `+` allowed, any value.
    Signed,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);
    pub const MAX: Amount = Amount(i64::MAX);

    pub const fn from_minor(minor: i64) -> Amount {
        Amount(minor)
    }

    /// Whole units, e.g. `Amount::from_units(12)` is 12,00.
    pub const fn from_units(units: i64) -> Amount {
        Amount(units * MINOR_PER_UNIT)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    pub fn checked_neg(self) -> Option<Amount> {
        self.0.checked_neg().map(Amount)
    }

    pub fn abs(self) -> Amount {
        Amount(self.0.saturating_abs())
    }

    /// Parses a strictly positive amount written without a sign.
    pub fn parse_positive(text: &str) -> Result<Amount, AmountError> {
        let amount = parse(text, SignPolicy::PositiveOnly)?;
        if !amount.is_positive() {
            return Err(AmountError::NotPositive);
        }
        Ok(amount)
    }

    /// Whether `text` has the plain unsigned shape of files and APIs: digits, then
    /// optionally a point and one or two digits (`12`, `12.5`, `12.50`); no sign, space,
    /// comma or exponent, at most [`AMOUNT_TEXT_LEN_MAX`] bytes. The value is not checked.
    pub fn is_plain_unsigned(text: &str) -> bool {
        let (units, decimals) = match text.split_once('.') {
            Some((units, decimals)) => (units, Some(decimals)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        text.len() <= AMOUNT_TEXT_LEN_MAX
            && digits(units)
            && decimals.is_none_or(|d| digits(d) && d.len() <= 2)
    }

    /// Parses an amount that may carry a sign (balances, opening balances).
    pub fn parse_signed(text: &str) -> Result<Amount, AmountError> {
        parse(text, SignPolicy::Signed)
    }

    /// `1234.50`, `-3.00`: the plain form used in files and APIs.
    pub fn to_plain(self) -> String {
        let (sign, units, cents) = self.parts();
        format!("{sign}{units}.{cents:02}")
    }

    /// `1 234,50`: the French form used on web pages (thin spaces are not used so that the
    /// text survives copy and paste into spreadsheets; the separator is a plain space).
    pub fn to_french(self) -> String {
        let (sign, units, cents) = self.parts();
        let digits = units.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index) % 3 == 0 {
                grouped.push(' ');
            }
            grouped.push(digit);
        }
        format!("{sign}{grouped},{cents:02}")
    }

    fn parts(self) -> (&'static str, u64, u64) {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        (
            sign,
            magnitude / MINOR_PER_UNIT as u64,
            magnitude % MINOR_PER_UNIT as u64,
        )
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, SCALE)
    }

    /// Exact conversion from a decimal; more than 2 significant decimals is an error,
    /// never a silent rounding.
    pub fn from_decimal(value: Decimal) -> Result<Amount, AmountError> {
        let normalized = value.normalize();
        if normalized.scale() > SCALE {
            return Err(AmountError::TooManyDecimals);
        }
        let scaled = normalized
            .checked_mul(Decimal::from(MINOR_PER_UNIT))
            .ok_or(AmountError::Overflow)?;
        let minor: i64 = scaled
            .trunc()
            .try_into()
            .map_err(|_| AmountError::Overflow)?;
        Ok(Amount(minor))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

fn parse(text: &str, sign_policy: SignPolicy) -> Result<Amount, AmountError> {
    if text.len() > AMOUNT_TEXT_LEN_MAX {
        return Err(AmountError::TooLong);
    }
    let trimmed = text.trim_matches(is_group_space);
    if trimmed.is_empty() {
        return Err(AmountError::Empty);
    }
    let (negative, body) = match trimmed.chars().next() {
        Some('-') | Some('+') if sign_policy == SignPolicy::PositiveOnly => {
            return Err(AmountError::SignNotAllowed)
        }
        Some('-') => (true, &trimmed[1..]),
        Some('+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if body.contains(['e', 'E']) {
        return Err(AmountError::Exponent);
    }
    if body.contains(['-', '+']) {
        return Err(AmountError::SignNotAllowed);
    }
    let mut integer_digits = String::new();
    let mut fraction_digits = String::new();
    let mut seen_separator = false;
    let mut previous_was_space = false;
    for c in body.chars() {
        match c {
            '0'..='9' if seen_separator => fraction_digits.push(c),
            '0'..='9' => integer_digits.push(c),
            '.' | ',' if seen_separator => return Err(AmountError::Malformed),
            '.' | ',' => seen_separator = true,
            c if is_group_space(c) => {
                // Group spaces only inside the integer part, one at a time.
                if seen_separator || integer_digits.is_empty() || previous_was_space {
                    return Err(AmountError::Malformed);
                }
            }
            _ => return Err(AmountError::InvalidCharacter),
        }
        previous_was_space = is_group_space(c);
    }
    if integer_digits.is_empty() && fraction_digits.is_empty() {
        return Err(AmountError::Malformed);
    }
    if seen_separator && fraction_digits.is_empty() {
        return Err(AmountError::Malformed);
    }
    if fraction_digits.len() > SCALE as usize {
        return Err(AmountError::TooManyDecimals);
    }
    while fraction_digits.len() < SCALE as usize {
        fraction_digits.push('0');
    }
    let integer: i64 = if integer_digits.is_empty() {
        0
    } else {
        integer_digits.parse().map_err(|_| AmountError::Overflow)?
    };
    let fraction: i64 = fraction_digits
        .parse()
        .map_err(|_| AmountError::Malformed)?;
    let magnitude = integer
        .checked_mul(MINOR_PER_UNIT)
        .and_then(|m| m.checked_add(fraction))
        .ok_or(AmountError::Overflow)?;
    Ok(Amount(if negative { -magnitude } else { magnitude }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_unsigned_shape() {
        for good in ["0", "12", "12.5", "12.50", "007.10"] {
            assert!(Amount::is_plain_unsigned(good), "{good}");
        }
        for bad in [
            "", ".5", "12.", "12.505", "-1", "+1", "1e3", "1 000", "12,50", " 12", "1.2.3",
        ] {
            assert!(!Amount::is_plain_unsigned(bad), "{bad}");
        }
        let at_max = "1".repeat(AMOUNT_TEXT_LEN_MAX);
        assert!(Amount::is_plain_unsigned(&at_max));
        assert!(!Amount::is_plain_unsigned(&format!("{at_max}1")));
    }

    #[test]
    fn parses_plain_and_french_forms() {
        assert_eq!(Amount::parse_positive("1234.5"), Ok(Amount(123_450)));
        assert_eq!(Amount::parse_positive("1234,50"), Ok(Amount(123_450)));
        assert_eq!(Amount::parse_positive("1 234,50"), Ok(Amount(123_450)));
        assert_eq!(
            Amount::parse_positive("1\u{202f}234,50"),
            Ok(Amount(123_450))
        );
        assert_eq!(Amount::parse_positive("0,01"), Ok(Amount(1)));
        assert_eq!(Amount::parse_positive(",5"), Ok(Amount(50)));
        assert_eq!(Amount::parse_positive(" 12 "), Ok(Amount(1200)));
        assert_eq!(Amount::parse_signed("-3,25"), Ok(Amount(-325)));
        assert_eq!(Amount::parse_signed("+3"), Ok(Amount(300)));
    }

    #[test]
    fn rejects_each_bad_form_with_its_own_error() {
        assert_eq!(Amount::parse_positive(""), Err(AmountError::Empty));
        assert_eq!(Amount::parse_positive("   "), Err(AmountError::Empty));
        assert_eq!(
            Amount::parse_positive("1.234"),
            Err(AmountError::TooManyDecimals)
        );
        assert_eq!(
            Amount::parse_positive("-1"),
            Err(AmountError::SignNotAllowed)
        );
        assert_eq!(
            Amount::parse_positive("+1"),
            Err(AmountError::SignNotAllowed)
        );
        assert_eq!(Amount::parse_positive("1e3"), Err(AmountError::Exponent));
        assert_eq!(Amount::parse_positive("1E3"), Err(AmountError::Exponent));
        assert_eq!(
            Amount::parse_positive("99999999999999999999"),
            Err(AmountError::Overflow)
        );
        // i64::MAX minor units is 92 233 720 368 547 758,07: one cent more overflows.
        assert_eq!(
            Amount::parse_positive("92233720368547758.07"),
            Ok(Amount(i64::MAX))
        );
        assert_eq!(
            Amount::parse_positive("92233720368547758.08"),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Amount::parse_positive("12a"),
            Err(AmountError::InvalidCharacter)
        );
        assert_eq!(Amount::parse_positive("1.2.3"), Err(AmountError::Malformed));
        assert_eq!(Amount::parse_positive("1."), Err(AmountError::Malformed));
        assert_eq!(
            Amount::parse_positive("1  234"),
            Err(AmountError::Malformed)
        );
        assert_eq!(Amount::parse_positive("0"), Err(AmountError::NotPositive));
        assert_eq!(
            Amount::parse_positive("0,00"),
            Err(AmountError::NotPositive)
        );
        assert_eq!(Amount::parse_signed("1-"), Err(AmountError::SignNotAllowed));
    }

    #[test]
    fn text_length_is_limited_at_the_maximum() {
        let at_max = format!("{}1", " ".repeat(AMOUNT_TEXT_LEN_MAX - 1));
        assert_eq!(Amount::parse_positive(&at_max), Ok(Amount(100)));
        let past_max = format!("{}1", " ".repeat(AMOUNT_TEXT_LEN_MAX));
        assert_eq!(Amount::parse_positive(&past_max), Err(AmountError::TooLong));
    }

    #[test]
    fn formats_in_french_and_plain() {
        assert_eq!(Amount(123_450).to_french(), "1 234,50");
        assert_eq!(Amount(123_450).to_plain(), "1234.50");
        assert_eq!(Amount(-5).to_plain(), "-0.05");
        assert_eq!(Amount(-100_000_000).to_french(), "-1 000 000,00");
        assert_eq!(Amount(99_900).to_french(), "999,00");
        assert_eq!(Amount(i64::MIN).to_plain(), "-92233720368547758.08");
        assert_eq!(Amount(7).to_string(), "0.07");
    }

    #[test]
    fn french_and_plain_text_round_trip() {
        for minor in [1, 9, 10, 99, 100, 123_456_789, i64::MAX] {
            let amount = Amount(minor);
            assert_eq!(Amount::parse_positive(&amount.to_french()), Ok(amount));
            assert_eq!(Amount::parse_positive(&amount.to_plain()), Ok(amount));
        }
    }

    #[test]
    fn converts_to_and_from_decimal_exactly() {
        let amount = Amount(123_450);
        assert_eq!(amount.to_decimal().to_string(), "1234.50");
        assert_eq!(Amount::from_decimal(amount.to_decimal()), Ok(amount));
        assert_eq!(
            Amount::from_decimal(Decimal::new(12_345, 3)),
            Err(AmountError::TooManyDecimals)
        );
        assert_eq!(
            Amount::from_decimal(Decimal::new(12_340, 3)),
            Ok(Amount(1234))
        );
        assert_eq!(
            Amount::from_decimal(Decimal::MAX),
            Err(AmountError::Overflow)
        );
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(Amount::MAX.checked_add(Amount(1)), None);
        assert_eq!(Amount(i64::MIN).checked_sub(Amount(1)), None);
        assert_eq!(Amount(i64::MIN).checked_neg(), None);
        assert_eq!(Amount(5).checked_sub(Amount(7)), Some(Amount(-2)));
    }
}
