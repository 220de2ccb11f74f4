//! Small formatting helpers shared by the writers: amounts without thousands separators,
//! dates, and the per-format cleaning of free text (memos and references come from users).

use chrono::NaiveDate;

/// `minor` units as `1234,50` / `1234.50` (no thousands separator, sign first).
pub(crate) fn decimal(minor: i64, mark: char) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    format!("{sign}{}{mark}{:02}", magnitude / 100, magnitude % 100)
}

/// `AAAAMMJJ` (FEC, OFX).
pub(crate) fn compact_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Replaces every control character and each of `forbidden` by a space, squeezes runs of
/// spaces and trims. Free text may then sit inside a one-line, delimited field.
pub(crate) fn one_line(text: &str, forbidden: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || forbidden.contains(&c) {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Keeps at most `max` characters (not bytes, so that accents never split).
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_has_no_grouping_and_a_leading_sign() {
        assert_eq!(decimal(123_456_789, ','), "1234567,89");
        assert_eq!(decimal(-5, ','), "-0,05");
        assert_eq!(decimal(0, '.'), "0.00");
        assert_eq!(decimal(i64::MIN, '.'), "-92233720368547758.08");
    }

    #[test]
    fn one_line_removes_separators_and_controls() {
        assert_eq!(one_line("  a|b\r\nc\t d  ", &['|']), "a b c d");
        assert_eq!(one_line("été", &[]), "été");
        assert_eq!(one_line("|||", &['|']), "");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate_chars("éééé", 2), "éé");
    }
}
