//! Importing members from a CSV file: every line is checked first (fields, duplicates in the
//! file and against the database, the ledger's own limits on opening balances); one bad
//! line and nothing is written, and the report names every bad line with its number and
//! reason. A clean file is written as one all-or-nothing creation batch (see `batch`).
//!
//! The file: UTF-8 (a byte-order mark is skipped), `,` or `;` as separator (whichever the
//! header uses more), a header line naming the columns in any order:
//! `name`, `siren`, `email` (required), `category`, `credit_limit`, `max_balance`,
//! `opening_balance` (optional; French names accepted: `raison_sociale`/`nom`,
//! `courriel`, `categorie`, `decouvert`, `plafond`, `solde_ouverture`). Amounts are
//! written `1234.50` or `1 234,50`; an empty cell takes the category's default (limits)
//! or nothing (opening balance). Blank lines are skipped.

use std::collections::HashMap;

use super::batch::{self, BatchSource};
use super::members::{check_new, CheckContext, CreatedMember, NewMember};
use super::{parse_amount, Actor, ConsoleError, ConsoleResult, Field, Issues, LineIssue, Problem};
use crate::store::Store;

/// Largest file accepted, in bytes.
pub const IMPORT_FILE_LEN_MAX: usize = 128 * 1024;
/// Most members one file may create (each needs up to two ledger operations, and a
/// creation batch's operations go in one all-or-none group of at most 1 024).
pub const IMPORT_LINES_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Siren,
    Email,
    Category,
    CreditLimit,
    MaxBalance,
    OpeningBalance,
}

impl Column {
    fn parse(header: &str) -> Option<Column> {
        let header = header
            .trim()
            .to_lowercase()
            .replace(['é', 'è'], "e")
            .replace([' ', '-'], "_");
        Some(match header.as_str() {
            "name" | "nom" | "raison_sociale" => Column::Name,
            "siren" => Column::Siren,
            "email" | "e_mail" | "courriel" => Column::Email,
            "category" | "categorie" => Column::Category,
            "credit_limit" | "decouvert" | "decouvert_autorise" => Column::CreditLimit,
            "max_balance" | "plafond" => Column::MaxBalance,
            "opening_balance" | "solde_ouverture" | "solde_initial" => Column::OpeningBalance,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Siren => "siren",
            Column::Email => "email",
            Column::Category => "category",
            Column::CreditLimit => "credit_limit",
            Column::MaxBalance => "max_balance",
            Column::OpeningBalance => "opening_balance",
        }
    }

    fn field(self) -> Field {
        match self {
            Column::Name => Field::Name,
            Column::Siren => Field::Siren,
            Column::Email => Field::Email,
            Column::Category => Field::Category,
            Column::CreditLimit => Field::CreditLimit,
            Column::MaxBalance => Field::MaxBalance,
            Column::OpeningBalance => Field::OpeningBalance,
        }
    }
}

fn file_issue(problem: Problem) -> Vec<LineIssue> {
    vec![LineIssue {
        line: None,
        field: None,
        problem,
    }]
}

/// A file read: its members with their line numbers, and the problems of their lines
/// found while reading (shape, amounts), reported together with the checks' own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub members: Vec<(u64, NewMember)>,
    pub issues: Vec<LineIssue>,
}

/// Reads the file (pure: no database). A problem of the file as a whole (size, encoding,
/// header, line count) is the whole report.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Vec<LineIssue>> {
    if bytes.len() > IMPORT_FILE_LEN_MAX {
        return Err(file_issue(Problem::FileTooLarge {
            max: IMPORT_FILE_LEN_MAX,
        }));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(file_issue(Problem::NotUtf8));
    };
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut issues = Vec::new();
    let columns = read_header(&mut reader)?;
    let mut members = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else {
            issues.push(LineIssue {
                line: None,
                field: None,
                problem: Problem::MalformedLine,
            });
            break;
        };
        // The physical line (the reader's own count skips blank lines).
        let line = record
            .position()
            .map(|p| physical_line(text, p.byte()))
            .unwrap_or(0);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if members.len() == IMPORT_LINES_MAX {
            return Err(file_issue(Problem::TooManyLines {
                max: IMPORT_LINES_MAX,
            }));
        }
        if record.len() != columns.len() {
            issues.push(LineIssue {
                line: Some(line),
                field: None,
                problem: Problem::MalformedLine,
            });
            continue;
        }
        members.push((line, read_line(&columns, &record, line, &mut issues)));
    }
    if members.is_empty() && issues.is_empty() {
        return Err(file_issue(Problem::NoLines));
    }
    Ok(Parsed { members, issues })
}

/// The 1-based line of the record read from `offset` (where the reader started, blank
/// lines before the record included).
fn physical_line(text: &str, offset: u64) -> u64 {
    let mut end = usize::try_from(offset)
        .unwrap_or(text.len())
        .min(text.len());
    while matches!(text.as_bytes().get(end), Some(b'\n' | b'\r')) {
        end += 1;
    }
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

fn read_header(reader: &mut csv::Reader<&[u8]>) -> Result<Vec<Column>, Vec<LineIssue>> {
    let Ok(headers) = reader.headers() else {
        return Err(file_issue(Problem::MalformedLine));
    };
    let mut columns = Vec::with_capacity(headers.len());
    let mut issues = Vec::new();
    for header in headers.iter() {
        match Column::parse(header) {
            Some(column) if !columns.contains(&column) => columns.push(column),
            _ => issues.push(LineIssue {
                line: Some(1),
                field: None,
                problem: Problem::UnknownColumn {
                    column: header.chars().take(40).collect(),
                },
            }),
        }
    }
    for required in [Column::Name, Column::Siren, Column::Email] {
        if !columns.contains(&required) {
            issues.push(LineIssue {
                line: Some(1),
                field: None,
                problem: Problem::MissingColumn {
                    column: required.name(),
                },
            });
        }
    }
    if issues.is_empty() {
        Ok(columns)
    } else {
        Err(issues)
    }
}

fn read_line(
    columns: &[Column],
    record: &csv::StringRecord,
    line: u64,
    issues: &mut Vec<LineIssue>,
) -> NewMember {
    let mut new = NewMember {
        source: BatchSource::Import,
        ..NewMember::default()
    };
    for (column, cell) in columns.iter().zip(record.iter()) {
        let mut amount = || match parse_amount(cell) {
            Ok(amount) => amount,
            Err(problem) => {
                issues.push(LineIssue {
                    line: Some(line),
                    field: Some(column.field()),
                    problem,
                });
                None
            }
        };
        match column {
            Column::Name => new.name = cell.to_owned(),
            Column::Siren => new.siren = cell.to_owned(),
            Column::Email => new.email = cell.to_owned(),
            Column::Category => new.category = Some(cell.to_owned()),
            Column::CreditLimit => new.credit_limit = amount(),
            Column::MaxBalance => new.max_balance = amount(),
            Column::OpeningBalance => new.opening_balance = amount(),
        }
    }
    new
}

/// Checks every line against the database and against the file's other lines. The plan of
/// what to write, or every problem found.
pub(crate) fn check(
    members: &[(u64, NewMember)],
    context: &CheckContext,
) -> Result<Vec<batch::Planned>, Vec<LineIssue>> {
    let mut report = Vec::new();
    let mut plans = Vec::with_capacity(members.len());
    let mut sirens: HashMap<String, u64> = HashMap::new();
    let mut emails: HashMap<String, u64> = HashMap::new();
    for (line, new) in members {
        let mut issues = Issues::default();
        let planned = check_new(new, context, &mut issues, Some(*line));
        if !issues.has(Field::Siren) {
            if let Some(first) = sirens.insert(planned.siren.clone(), *line) {
                issues.add(Field::Siren, Problem::DuplicateInFile { line: first });
            }
        }
        if !issues.has(Field::Email) {
            if let Some(first) = emails.insert(planned.email.clone(), *line) {
                issues.add(Field::Email, Problem::DuplicateInFile { line: first });
            }
        }
        report.extend(issues.into_vec().into_iter().map(|issue| LineIssue {
            line: Some(*line),
            field: Some(issue.field),
            problem: issue.problem,
        }));
        plans.push(planned);
    }
    if report.is_empty() {
        Ok(plans)
    } else {
        Err(report)
    }
}

/// Imports members from a CSV file (managers only): all of them, or none and the report.
/// Logged: each member's `limits.set`, `member.opening_balance` and `member.create`, and
/// one `members.import`.
pub async fn import_members(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
) -> ConsoleResult<Vec<CreatedMember>> {
    import_members_with_pause(store, actor, bytes, std::future::ready(())).await
}

/// [`import_members`], awaiting `pause` between the checks and the writes: for the tests
/// of what happens when the rules change meanwhile.
#[doc(hidden)]
pub async fn import_members_with_pause(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    pause: impl std::future::Future<Output = ()>,
) -> ConsoleResult<Vec<CreatedMember>> {
    actor.require_manager()?;
    let parsed = parse(bytes).map_err(ConsoleError::InvalidFile)?;
    let context = CheckContext::load(store).await?;
    let checked = check(&parsed.members, &context);
    let mut report = parsed.issues;
    if let Err(issues) = &checked {
        report.extend(issues.iter().cloned());
    }
    if !report.is_empty() {
        // Every problem of a line together, lines in file order.
        report.sort_by_key(|issue| issue.line);
        return Err(ConsoleError::InvalidFile(report));
    }
    let plans = checked.map_err(ConsoleError::InvalidFile)?;
    pause.await;
    batch::write(store, actor, BatchSource::Import, plans, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(result: Result<Parsed, Vec<LineIssue>>) -> Vec<(Option<u64>, Problem)> {
        let issues = match result {
            Ok(parsed) => parsed.issues,
            Err(issues) => issues,
        };
        issues.into_iter().map(|i| (i.line, i.problem)).collect()
    }

    #[test]
    fn reads_both_separators_and_french_headers() {
        let comma = "name,siren,email,category,credit_limit,opening_balance\n\
                     Alpha,732829320,a@a.fr,standard,\"1 000,00\",-50\n\n\
                     \"Beta, SA\",552100554,b@b.fr,,,\n";
        let members = parse(comma.as_bytes()).unwrap().members;
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].0, 2);
        assert_eq!(
            members[0].1.credit_limit,
            Some(ledger::Amount::from_units(1_000))
        );
        assert_eq!(
            members[0].1.opening_balance,
            Some(ledger::Amount::from_units(-50))
        );
        assert_eq!(members[1].0, 4, "line numbers count the blank line");
        assert_eq!(members[1].1.name, "Beta, SA");
        assert_eq!(members[1].1.credit_limit, None);
        let semicolon =
            "\u{feff}Raison sociale;SIREN;Courriel;Découvert\nAlpha;732829320;a@a.fr;1 234,50\n";
        let members = parse(semicolon.as_bytes()).unwrap().members;
        assert_eq!(
            members[0].1.credit_limit,
            Some(ledger::Amount::from_minor(123_450))
        );
    }

    #[test]
    fn reports_file_problems() {
        assert_eq!(
            problems(parse(b"name,siren\nA,1\n")),
            vec![(Some(1), Problem::MissingColumn { column: "email" })]
        );
        assert_eq!(
            problems(parse(b"name,siren,email,colour\n")),
            vec![(
                Some(1),
                Problem::UnknownColumn {
                    column: "colour".into()
                }
            )]
        );
        assert_eq!(
            problems(parse(b"name,siren,email\n\n")),
            vec![(None, Problem::NoLines)]
        );
        assert_eq!(
            problems(parse(b"name,siren,email\n\xff,1,2\n")),
            vec![(None, Problem::NotUtf8)]
        );
        assert_eq!(
            problems(parse(
                b"name,siren,email,credit_limit\nA,1,a@a.fr,douze\nB,2\n"
            )),
            vec![
                (Some(2), Problem::InvalidAmount),
                (Some(3), Problem::MalformedLine)
            ]
        );
    }

    #[test]
    fn size_and_line_limits() {
        let header = "name,siren,email\n";
        let line = "A,732829320,a@a.fr\n";
        let mut at_max = String::from(header);
        at_max.push_str(line);
        while at_max.len() < IMPORT_FILE_LEN_MAX {
            at_max.push('\n');
        }
        assert_eq!(at_max.len(), IMPORT_FILE_LEN_MAX);
        assert_eq!(parse(at_max.as_bytes()).unwrap().members.len(), 1);
        at_max.push('\n');
        assert_eq!(
            problems(parse(at_max.as_bytes())),
            vec![(
                None,
                Problem::FileTooLarge {
                    max: IMPORT_FILE_LEN_MAX
                }
            )]
        );
        let lines = |n: usize| format!("{header}{}", line.repeat(n));
        assert_eq!(
            parse(lines(IMPORT_LINES_MAX).as_bytes())
                .unwrap()
                .members
                .len(),
            IMPORT_LINES_MAX
        );
        assert_eq!(
            problems(parse(lines(IMPORT_LINES_MAX + 1).as_bytes())),
            vec![(
                None,
                Problem::TooManyLines {
                    max: IMPORT_LINES_MAX
                }
            )]
        );
    }
}
