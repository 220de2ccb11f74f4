//! The API's value formats: amounts as decimal strings with two decimals, times in RFC 3339
//! UTC, JSON bodies whose errors name the field, list limits and cursors.

use chrono::{DateTime, Utc};
use ledger::Amount;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use crate::export::Format;
use crate::people::{Role, SECTORS};
use crate::standing::Every;
use crate::tokens::Scope;

/// A string parameter or field that takes one word of a fixed list. The unit struct is its
/// type in the OpenAPI document (`{"type": "string", "enum": [...]}`), so clients and the
/// fuzzer know the words; the handler reads the text itself and answers `validation_failed`
/// for any other. Where the code has the list (roles, scopes, sectors...), the words are
/// taken from it. The story `api::documents::openapi_words_are_what_the_server_accepts`
/// sends every word of every list to the server.
macro_rules! choices {
    ($($(#[$doc:meta])* $name:ident = $words:expr;)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($words))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

choices! {
    /// `open` (open requests only) or `all`.
    OpenOrAll = ["open", "all"];
    /// `pending` (waiting only) or `all`.
    PendingOrAll = ["pending", "all"];
    /// An application's state.
    ApplicationState = ["pending", "approved", "refused"];
    /// A credit limit request's state.
    LimitRequestState = ["pending", "granted", "declined", "withdrawn"];
    /// An account's state.
    AccountState = ["active", "frozen", "closed"];
    /// The invoices a company issued or those it received.
    InvoiceSide = ["issued", "received"];
    /// What an invoice sold: goods, services or both.
    InvoiceSupply = crate::invoices::Supply::ALL.map(crate::invoices::Supply::as_str);
    /// How a CSV export writes its dates: `french` (DD/MM/YYYY, the default) or `iso`.
    CsvDates = ["french", "iso"];
    /// What an invited user may do for the company.
    InvitedRole = [Role::Staff, Role::MemberAccountant].map(Role::as_str);
    /// A user's role.
    UserRole = Role::ALL.map(Role::as_str);
    /// Who the network requires two-step login of.
    TwoStepRuleName = crate::totp::TwoStepRule::ALL.map(crate::totp::TwoStepRule::as_str);
    /// An API token's scope.
    TokenScope = Scope::ALL.map(Scope::as_str);
    /// How often a standing order pays.
    StandingEvery = Every::ALL.map(Every::as_str);
    /// Who pays the guarantee fund's contribution on a trade.
    FundPayer = ledger::FundPayer::ALL.map(ledger::FundPayer::as_str);
    /// An accountant export's format.
    ExportFormat = Format::NAMES;
    /// A sector code (`informatique`, `restauration`...): the network's fixed list.
    SectorCode = SECTORS.map(|(code, _, _)| code);
}

/// Most items one list page holds.
pub const LIST_LIMIT_MAX: usize = 200;
/// Items of a list page when `limit` is not given.
pub const LIST_LIMIT_DEFAULT: usize = 50;
/// Longest amount text accepted (digits, a point and two decimals).
pub const AMOUNT_TEXT_LEN_MAX: usize = 20;

/// `12.50`, `-3.00`.
pub fn money(amount: Amount) -> String {
    amount.to_plain()
}

/// `2026-12-02T10:00:00Z`.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A unix time in seconds, as [`time`].
pub fn unix_time(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(time)
        .unwrap_or_default()
}

/// Digits with an optional point and one or two decimals: `12`, `12.5`, `12.50`.
fn amount_shape(text: &str) -> bool {
    text.len() <= AMOUNT_TEXT_LEN_MAX && Amount::is_plain_unsigned(text)
}

/// A strictly positive amount (`"12.50"`, `"12.5"`, `"12"`); anything else is
/// `validation_failed` on `field`.
pub fn positive_amount(field: &str, text: &str) -> ApiResult<Amount> {
    if !amount_shape(text) {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be a decimal string such as \"12.50\"."),
        ));
    }
    Amount::parse_positive(text)
        .map_err(|_| ApiError::invalid(field, format!("{field} must be positive.")))
}

/// Whether a JSON text holds the NUL character, which it can only write as the escape
/// `\u0000` (a raw NUL is not JSON): `u0000` after an odd number of backslashes.
fn escapes_nul(body: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = body[from..].windows(5).position(|w| w == b"u0000") {
        let at = from + at;
        let backslashes = body[..at].iter().rev().take_while(|b| **b == b'\\').count();
        if backslashes % 2 == 1 {
            return true;
        }
        from = at + 1;
    }
    false
}

/// An amount that may be zero (limits).
pub fn amount(field: &str, text: &str) -> ApiResult<Amount> {
    if !amount_shape(text) {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be a decimal string such as \"12.50\"."),
        ));
    }
    Amount::parse_signed(text).map_err(|_| ApiError::invalid(field, format!("{field} is invalid.")))
}

/// An optional amount that may be zero: absent stays absent.
pub fn optional_amount(field: &str, text: Option<&str>) -> ApiResult<Option<Amount>> {
    text.map(|t| amount(field, t)).transpose()
}

/// Parses a JSON body; a wrong or missing field is `validation_failed` naming it.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if escapes_nul(body) {
        return Err(ApiError::invalid(
            "body",
            "Text may not hold the NUL character (\\u0000).",
        ));
    }
    match parse(body) {
        Ok(value) => Ok(value),
        // JSON Schema counts `1.0` as an integer, as the document's integers are: a body
        // that writes a whole number with a fraction is read again with it as an integer.
        Err(error) => match whole_numbers(body) {
            Some(normalized) => parse(&normalized).map_err(|_| error),
            None => Err(error),
        },
    }
}

/// Whole numbers written with a fraction are read as integers below this (2^49).
const WHOLE_NUMBER_FLOAT_MAX: f64 = 562_949_953_421_312.0;

/// The body with every whole number written with a fraction (`12.0`, `1e3`) written as an
/// integer; `None` if it holds none (or is not JSON).
fn whole_numbers(body: &[u8]) -> Option<Vec<u8>> {
    fn walk(value: &mut serde_json::Value, changed: &mut bool) {
        match value {
            serde_json::Value::Number(number) if number.is_f64() => {
                let float = number.as_f64().unwrap_or(f64::NAN);
                // Only below 2^49: serde_json reads a long number to within one unit of
                // its last place, which there is under 1/8, so that an inexact reading
                // keeps a fraction (and is refused) instead of becoming another integer.
                if float.fract() == 0.0 && float.abs() < WHOLE_NUMBER_FLOAT_MAX {
                    *value = serde_json::Value::from(float as i64);
                    *changed = true;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, changed)),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, changed)),
            _ => {}
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    walk(&mut value, &mut changed);
    changed.then(|| serde_json::to_vec(&value).ok()).flatten()
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        let field = if path.starts_with('[') {
            "body".to_owned()
        } else if path == "." || path.is_empty() {
            // `missing field `payee``: serde names the field in the message.
            message
                .split('`')
                .nth(1)
                .filter(|_| message.starts_with("missing field"))
                .unwrap_or("body")
                .to_owned()
        } else {
            path
        };
        ApiError::invalid(&field, format!("{field}: {message}"))
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::invalid("body", "Trailing characters after the JSON body."))?;
    Ok(value)
}

/// The query string's parameters (unknown ones are ignored).
pub fn query(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `limit`: 1 to [`LIST_LIMIT_MAX`], [`LIST_LIMIT_DEFAULT`] when absent.
pub fn limit(params: &[(String, String)]) -> ApiResult<usize> {
    match param(params, "limit") {
        None => Ok(LIST_LIMIT_DEFAULT),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LIST_LIMIT_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::invalid("limit", format!("limit must be 1 to {LIST_LIMIT_MAX}."))
            }),
    }
}

/// A keyset cursor (`after`): a positive id, or none.
pub fn cursor(params: &[(String, String)], name: &str) -> ApiResult<Option<i64>> {
    match param(params, name) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(name, format!("{name} must be a cursor from next."))),
    }
}

/// An id from the path: anything that is not a positive integer is simply not found.
pub fn path_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Ids {
        id: i64,
        #[serde(default)]
        more: Vec<i64>,
    }

    #[test]
    fn whole_numbers_with_a_fraction_are_integers() {
        let read = |body: &str| json::<Ids>(body.as_bytes()).map(|ids| (ids.id, ids.more));
        assert_eq!(read(r#"{"id": 7}"#).unwrap(), (7, vec![]));
        assert_eq!(read(r#"{"id": 7.0}"#).unwrap(), (7, vec![]));
        assert_eq!(
            read(r#"{"id": 1e3, "more": [2.0, 3]}"#).unwrap(),
            (1000, vec![2, 3])
        );
        assert_eq!(read(r#"{"id": -0.0}"#).unwrap(), (0, vec![]));
        // At the bound and one past it.
        assert_eq!(
            read(r#"{"id": 562949953421311.0}"#).unwrap().0,
            562_949_953_421_311
        );
        assert_eq!(
            read(r#"{"id": 562949953421311.000000}"#).unwrap().0,
            562_949_953_421_311
        );
        // A fraction, 2^49 and past it, a string: refused on the field, as before.
        for body in [
            r#"{"id": 7.5}"#,
            r#"{"id": 562949953421312.0}"#,
            r#"{"id": 9007199254740991.0}"#,
            r#"{"id": 1e300}"#,
            r#"{"id": "7"}"#,
        ] {
            let problem = read(body).unwrap_err().problem();
            assert_eq!(problem.code, "validation_failed", "{body}");
            assert_eq!(problem.field.as_deref(), Some("id"), "{body}");
        }
        assert!(whole_numbers(br#"{"id": 7}"#).is_none());
        assert!(whole_numbers(b"not json").is_none());
    }

    #[test]
    fn finds_the_escaped_nul_and_only_it() {
        assert!(escapes_nul(br#"{"memo": "a\u0000b"}"#));
        assert!(escapes_nul(br#"{"memo": "\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"memo": "\\u0000"}"#));
        assert!(!escapes_nul(br#"{"memo": "u0000 \u00e9"}"#));
        assert!(!escapes_nul(b""));
    }

    #[test]
    fn amounts_are_decimal_strings() {
        assert_eq!(positive_amount("amount", "12.50").unwrap().minor(), 1250);
        assert_eq!(positive_amount("amount", "12.5").unwrap().minor(), 1250);
        assert_eq!(positive_amount("amount", "12").unwrap().minor(), 1200);
        for bad in [
            "", "12.", ".5", "12.505", "-1", "+1", "1e3", "12,50", "0", "0.00", " 1",
        ] {
            assert!(positive_amount("amount", bad).is_err(), "{bad:?}");
        }
        assert_eq!(amount("credit_limit", "0").unwrap().minor(), 0);
        assert_eq!(money(Amount::from_minor(-5)), "-0.05");
        assert_eq!(unix_time(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn body_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            payee: i64,
            amount: String,
        }
        let error = json::<Body>(br#"{"payee": 1, "amount": 12}"#).unwrap_err();
        assert_eq!(error.problem().field.as_deref(), Some("amount"));
        let error = json::<Body>(br#"{"amount": "12"}"#).unwrap_err();
        assert_eq!(error.problem().field.as_deref(), Some("payee"));
        let error = json::<Body>(b"nope").unwrap_err();
        assert_eq!(error.problem().field.as_deref(), Some("body"));
    }
}
