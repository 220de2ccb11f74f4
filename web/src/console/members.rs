//! Members as the manager sees them: creation (with the category's default limits and an
//! owner invitation), limits, freezes, closures, category, declared turnover, review date,
//! new invitation links, and the reads behind the member list and the member page.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use ledger::{Account, AccountId, AccountStatus, Amount, Operation, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::batch::{self, BatchSource, Planned};
use super::categories::{self, Category, DEFAULT_CATEGORY};
use super::{
    Actor, ConsoleError, ConsoleResult, Field, Issues, Problem, RequestKey, Target, TURNOVER_MAX,
};
use crate::dispatch;
use crate::people::{
    self, email_is_valid, normalize_email, now_unix, siren_is_valid, Member, User,
    DESCRIPTION_LEN_MAX, PROFILE_FIELD_LEN_MAX,
};
use crate::store::action_log::insert_action;
use crate::store::{Store, Submission};
use crate::tokens;

/// Most members the console reads for one list (a network has thousands, not millions).
pub const MEMBERS_SCANNED_MAX: i64 = 20_000;
/// Members on one page of the member list.
pub const MEMBERS_PAGE_SIZE: usize = 100;
/// Most members one page may hold when the caller picks the size (the API's `limit`).
pub const MEMBERS_LIMIT_MAX: usize = 200;
/// Longest search text of the member list, in characters.
pub const SEARCH_LEN_MAX: usize = 100;

/// A member to create, as typed in a form, an API request or a line of a CSV file. Fields
/// are raw input: [`create_member`] checks them all and answers every problem at once.
/// `credit_limit` and `max_balance` default to the category's when `None`; an empty
/// category is the default one (`standard`). Profile fields are optional (the owner
/// completes the profile); when given they are checked like the company page's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMember {
    pub name: String,
    pub siren: String,
    /// The owner's email: the invitation goes to it.
    pub email: String,
    pub category: Option<String>,
    pub credit_limit: Option<Amount>,
    pub max_balance: Option<Amount>,
    /// Only through imports: a balance brought from another system, against the migration
    /// account.
    pub opening_balance: Option<Amount>,
    pub declared_turnover: Option<Amount>,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    pub contact: String,
    pub source: BatchSource,
}

/// The one-time link for the owner of a new member (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    pub token: String,
}

impl Invitation {
    pub fn link(&self, base_url: &str) -> String {
        format!(
            "{}/invitation/{}",
            base_url.trim_end_matches('/'),
            self.token
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedMember {
    pub member_id: i64,
    pub account_id: AccountId,
    pub name: String,
    pub invitation: Invitation,
}

/// What a check needs to know beyond the input: the categories, who is taken, the policy's
/// largest amount.
pub(crate) struct CheckContext {
    pub(crate) categories: Vec<Category>,
    pub(crate) sirens: HashSet<String>,
    pub(crate) emails: HashSet<String>,
    pub(crate) amount_max: Amount,
}

impl CheckContext {
    pub(crate) async fn load(store: &Store) -> ConsoleResult<CheckContext> {
        let now = now_unix();
        let (sirens, emails): (Vec<String>, Vec<String>) = dispatch!(store.backend(), pool => {
            let sirens = sqlx::query_scalar("SELECT siren FROM members").fetch_all(pool).await?;
            let emails = sqlx::query_scalar(
                "SELECT email FROM users UNION SELECT email FROM invitations \
                 WHERE used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .fetch_all(pool)
            .await?;
            (sirens, emails)
        });
        Ok(CheckContext {
            categories: categories::list(store).await?,
            sirens: sirens.into_iter().collect(),
            emails: emails.into_iter().collect(),
            amount_max: store.policy().await?.amount_per_tx_max,
        })
    }
}

/// Checks a new member against `context`; the plan of what to write, or the problems.
pub(crate) fn check_new(
    new: &NewMember,
    context: &CheckContext,
    issues: &mut Issues,
    line: Option<u64>,
) -> Planned {
    let name = issues.text(Field::Name, &new.name, PROFILE_FIELD_LEN_MAX);
    let siren = new.siren.trim().to_owned();
    if siren.is_empty() {
        issues.add(Field::Siren, Problem::Required);
    } else if !siren_is_valid(&siren) {
        issues.add(Field::Siren, Problem::InvalidSiren);
    } else if context.sirens.contains(&siren) {
        issues.add(Field::Siren, Problem::SirenTaken);
    }
    let email = normalize_email(&new.email);
    if email.is_empty() {
        issues.add(Field::Email, Problem::Required);
    } else if !email_is_valid(&email) {
        issues.add(Field::Email, Problem::InvalidEmail);
    } else if context.emails.contains(&email) {
        issues.add(Field::Email, Problem::EmailTaken);
    }
    let code = new
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(DEFAULT_CATEGORY);
    let category = context.categories.iter().find(|c| c.code == code);
    if category.is_none() {
        issues.add(Field::Category, Problem::UnknownCategory);
    }
    let credit_limit = new
        .credit_limit
        .or(category.map(|c| c.credit_limit))
        .unwrap_or(Amount::ZERO);
    issues.limit(Field::CreditLimit, credit_limit);
    let max_balance = new.max_balance.or(category.and_then(|c| c.max_balance));
    if let Some(max) = max_balance {
        issues.limit(Field::MaxBalance, max);
    }
    check_opening(
        new.opening_balance,
        credit_limit,
        max_balance,
        context,
        issues,
    );
    if let Some(turnover) = new.declared_turnover {
        check_turnover(turnover, issues);
    }
    let address = issues.optional_text(Field::Address, &new.address, PROFILE_FIELD_LEN_MAX);
    let city = issues.optional_text(Field::City, &new.city, PROFILE_FIELD_LEN_MAX);
    let contact = issues.optional_text(Field::Contact, &new.contact, PROFILE_FIELD_LEN_MAX);
    let description =
        issues.optional_text(Field::Description, &new.description, DESCRIPTION_LEN_MAX);
    let postcode = new.postcode.trim().to_owned();
    if !postcode.is_empty()
        && (postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()))
    {
        issues.add(Field::Postcode, Problem::InvalidPostcode);
    }
    let sector = new.sector.trim().to_owned();
    if !sector.is_empty() && !people::is_sector(&sector) {
        issues.add(Field::Sector, Problem::InvalidChoice);
    }
    Planned {
        line,
        name,
        siren,
        email,
        category_id: category.map(|c| c.id).unwrap_or(0),
        category_code: code.to_owned(),
        credit_limit: credit_limit.minor(),
        max_balance: max_balance.map(Amount::minor),
        opening_balance: new
            .opening_balance
            .filter(|a| !a.is_zero())
            .map(Amount::minor),
        declared_turnover: new.declared_turnover.map(Amount::minor),
        address,
        city,
        postcode,
        sector,
        description,
        contact,
        application_id: None,
        approval_reason: None,
        member_id: 0,
        account_id: 0,
    }
}

/// Checks a company's profile as its owner edits it (the company page and
/// `PUT /api/v1/company`): name, address, city and contact required and at most
/// [`PROFILE_FIELD_LEN_MAX`] characters, a five-digit postcode, a sector code, a description
/// of at most [`DESCRIPTION_LEN_MAX`] characters. Every problem at once; the SIREN is not
/// edited here (it is the company's identity) and is returned as given.
pub fn check_profile(profile: &people::Profile) -> Result<people::Profile, Vec<super::FieldIssue>> {
    let mut issues = Issues::default();
    let checked = people::Profile {
        name: issues.text(Field::Name, &profile.name, PROFILE_FIELD_LEN_MAX),
        siren: profile.siren.clone(),
        address: issues.text(Field::Address, &profile.address, PROFILE_FIELD_LEN_MAX),
        city: issues.text(Field::City, &profile.city, PROFILE_FIELD_LEN_MAX),
        postcode: profile.postcode.trim().to_owned(),
        sector: profile.sector.trim().to_owned(),
        description: issues.optional_text(
            Field::Description,
            &profile.description,
            DESCRIPTION_LEN_MAX,
        ),
        contact: issues.text(Field::Contact, &profile.contact, PROFILE_FIELD_LEN_MAX),
    };
    if checked.postcode.len() != 5 || !checked.postcode.bytes().all(|b| b.is_ascii_digit()) {
        issues.add(Field::Postcode, Problem::InvalidPostcode);
    }
    if !people::is_sector(&checked.sector) {
        issues.add(Field::Sector, Problem::InvalidChoice);
    }
    let issues = issues.into_vec();
    if issues.is_empty() {
        Ok(checked)
    } else {
        Err(issues)
    }
}

/// An opening balance the ledger will accept: within the policy's largest amount, a debt
/// within the credit limit, a credit within the upper limit.
fn check_opening(
    opening: Option<Amount>,
    credit_limit: Amount,
    max_balance: Option<Amount>,
    context: &CheckContext,
    issues: &mut Issues,
) {
    let Some(opening) = opening.filter(|a| !a.is_zero()) else {
        return;
    };
    if opening.abs() > context.amount_max {
        issues.add(
            Field::OpeningBalance,
            Problem::AmountAboveMax {
                max: context.amount_max,
            },
        );
    } else if opening.is_negative() && opening.abs() > credit_limit {
        issues.add(
            Field::OpeningBalance,
            Problem::OpeningDebtAboveLimit {
                limit: credit_limit,
            },
        );
    } else if max_balance.is_some_and(|max| opening > max) {
        issues.add(
            Field::OpeningBalance,
            Problem::OpeningAboveMax {
                max: max_balance.unwrap_or(Amount::ZERO),
            },
        );
    }
}

fn check_turnover(turnover: Amount, issues: &mut Issues) {
    if turnover.is_negative() {
        issues.add(Field::Turnover, Problem::NegativeAmount);
    } else if turnover > TURNOVER_MAX {
        issues.add(
            Field::Turnover,
            Problem::AmountAboveMax { max: TURNOVER_MAX },
        );
    }
}

/// Creates a member company (managers only): its ledger account, its profile, its
/// category's default limits (or those given), and a one-time invitation for its owner.
/// Logged: `limits.set` (the initial limits, in the ledger's limit history) and
/// `member.create`. All or nothing (see `docs/console.md`).
pub async fn create_member(
    store: &Store,
    actor: &Actor,
    new: NewMember,
) -> ConsoleResult<CreatedMember> {
    actor.require_manager()?;
    let context = CheckContext::load(store).await?;
    let mut issues = Issues::default();
    let planned = check_new(&new, &context, &mut issues, None);
    issues.finish()?;
    let mut created = batch::write(store, actor, new.source, vec![planned], None).await?;
    created
        .pop()
        .ok_or_else(|| ConsoleError::Store(crate::store::StoreError::Corrupt("no member".into())))
}

/// New limits for a member, with the reason the manager gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsChange {
    pub credit_limit: Amount,
    pub max_balance: Option<Amount>,
    pub reason: String,
}

/// A member's limits as they were and are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub credit_limit: Amount,
    pub max_balance: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsSet {
    pub member_id: i64,
    pub account_id: AccountId,
    pub before: Limits,
    pub after: Limits,
}

/// The member an action is about, with its account.
pub async fn resolve(store: &Store, target: Target) -> ConsoleResult<(Member, Account)> {
    let member = match target {
        Target::Member(id) => people::member(store, id).await?,
        Target::Account(account) => {
            let Ok(id) = i64::try_from(account.0) else {
                return Err(ConsoleError::NotFound);
            };
            people::member_by_account(store, id).await?
        }
    }
    .ok_or(ConsoleError::NotFound)?;
    let account = store
        .account(member.account())
        .await?
        .ok_or(ConsoleError::NotFound)?;
    Ok((member, account))
}

fn limits_of(account: &Account) -> Limits {
    Limits {
        credit_limit: account.credit_limit(),
        max_balance: account.max_balance(),
    }
}

/// Sets a member's credit limit and optional upper limit (managers only) through the
/// ledger, which keeps the change in its limit history with the author and reason; logged
/// as `limits.set`. A limit below the current debt is allowed (the member then cannot pay
/// until it is back within it), as the ledger allows it.
pub async fn set_limits(
    store: &Store,
    actor: &Actor,
    target: Target,
    change: LimitsChange,
    request: &RequestKey,
) -> ConsoleResult<LimitsSet> {
    actor.require_manager()?;
    let (member, before) = resolve(store, target).await?;
    let mut issues = Issues::default();
    issues.limit(Field::CreditLimit, change.credit_limit);
    if let Some(max) = change.max_balance {
        issues.limit(Field::MaxBalance, max);
    }
    let reason = issues.reason(&change.reason);
    issues.finish()?;
    let note = actor
        .note("limits.set", &reason)?
        .member(member.id)
        .account(member.account().0);
    let key = request.ledger_key("limits", member.id);
    let change = LimitsChange { reason, ..change };
    write_limits(store, actor, &member, &before, change, key, note).await
}

/// Writes checked limits through the ledger with the action-log `note` (set_limits, and a
/// granted credit-limit request).
pub(crate) async fn write_limits(
    store: &Store,
    actor: &Actor,
    member: &Member,
    before: &Account,
    change: LimitsChange,
    key: ledger::IdempotencyKey,
    note: crate::store::ActionNote,
) -> ConsoleResult<LimitsSet> {
    let account = member.account();
    let op = Operation::SetLimits {
        account,
        credit_limit: change.credit_limit,
        max_balance: change.max_balance,
        reason: change.reason,
        actor: actor.email().to_owned(),
    };
    match store.submit(Submission::new(key, op).noted(note)).await? {
        Ok(_) => {}
        Err(rejection) => return Err(ConsoleError::Rejected(rejection)),
    }
    let after = store
        .account(account)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    Ok(LimitsSet {
        member_id: member.id,
        account_id: account,
        before: limits_of(before),
        after: limits_of(&after),
    })
}

/// A change of a member's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    /// May receive, may not pay.
    Freeze,
    Unfreeze,
    /// Only at a zero balance with no open hold (the ledger refuses otherwise; a member in
    /// debt leaves through the default workflow).
    Close,
}

impl StatusAction {
    pub fn target(self) -> AccountStatus {
        match self {
            StatusAction::Freeze => AccountStatus::Frozen,
            StatusAction::Unfreeze => AccountStatus::Active,
            StatusAction::Close => AccountStatus::Closed,
        }
    }

    /// The action-log code.
    pub fn code(self) -> &'static str {
        match self {
            StatusAction::Freeze => "member.freeze",
            StatusAction::Unfreeze => "member.unfreeze",
            StatusAction::Close => "member.close",
        }
    }

    fn key_part(self) -> &'static str {
        match self {
            StatusAction::Freeze => "freeze",
            StatusAction::Unfreeze => "unfreeze",
            StatusAction::Close => "close",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    pub member_id: i64,
    pub account_id: AccountId,
    pub before: AccountStatus,
    pub after: AccountStatus,
}

/// Freezes, unfreezes or closes a member (managers only) through the ledger; logged as
/// `member.freeze`, `member.unfreeze` or `member.close`. The ledger's refusals (closing a
/// member whose balance is not zero, unfreezing an active member...) come back as
/// [`ConsoleError::Rejected`].
pub async fn set_status(
    store: &Store,
    actor: &Actor,
    target: Target,
    action: StatusAction,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<StatusSet> {
    actor.require_manager()?;
    let (member, before) = resolve(store, target).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let account = member.account();
    let submission = status_submission(actor, &member, action, &reason, request)?;
    match store.submit(submission).await? {
        Ok(Outcome::StatusChanged { .. }) | Ok(_) => {}
        Err(rejection) => return Err(ConsoleError::Rejected(rejection)),
    }
    if action == StatusAction::Close {
        // Its listings close with it, and its notice of departure is done.
        super::departures::after_close(store, member.id, actor.email()).await?;
    }
    Ok(StatusSet {
        member_id: member.id,
        account_id: account,
        before: before.status(),
        after: action.target(),
    })
}

/// The ledger operation of a status change, noted for the action log (`member.freeze`...)
/// and keyed by `request`; `reason` is checked already.
pub(crate) fn status_submission(
    actor: &Actor,
    member: &Member,
    action: StatusAction,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<Submission> {
    let account = member.account();
    let op = Operation::SetStatus {
        account,
        status: action.target(),
        reason: reason.to_owned(),
        actor: actor.email().to_owned(),
    };
    let note = actor
        .note(action.code(), reason)?
        .member(member.id)
        .account(account.0);
    let key = request.ledger_key(action.key_part(), member.id);
    Ok(Submission::new(key, op).noted(note))
}

pub async fn freeze(
    store: &Store,
    actor: &Actor,
    target: Target,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<StatusSet> {
    set_status(store, actor, target, StatusAction::Freeze, reason, request).await
}

pub async fn unfreeze(
    store: &Store,
    actor: &Actor,
    target: Target,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<StatusSet> {
    set_status(
        store,
        actor,
        target,
        StatusAction::Unfreeze,
        reason,
        request,
    )
    .await
}

pub async fn close(
    store: &Store,
    actor: &Actor,
    target: Target,
    reason: &str,
    request: &RequestKey,
) -> ConsoleResult<StatusSet> {
    set_status(store, actor, target, StatusAction::Close, reason, request).await
}

/// What the console keeps about a member beyond its profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleFields {
    pub category_id: i64,
    pub declared_turnover: Option<Amount>,
    pub next_review: Option<NaiveDate>,
    /// `writing` while its creation is unfinished (see `finish_batch`).
    pub batch_status: Option<String>,
    pub created_at: i64,
}

type FieldsRow = (i64, i64, Option<i64>, Option<String>, Option<String>, i64);

const FIELDS_SQL: &str = "SELECT m.id, COALESCE(m.category_id, \
     (SELECT id FROM member_categories WHERE code = 'standard')), m.declared_turnover, \
     m.next_review, b.status, m.created_at \
     FROM members m LEFT JOIN member_batches b ON b.id = m.batch_id";

fn fields_from_row(row: FieldsRow) -> (i64, ConsoleFields) {
    let (id, category_id, turnover, review, status, created_at) = row;
    (
        id,
        ConsoleFields {
            category_id,
            declared_turnover: turnover.map(Amount::from_minor),
            next_review: review.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            batch_status: status,
            created_at,
        },
    )
}

pub(crate) async fn console_fields(
    store: &Store,
    member_id: i64,
) -> ConsoleResult<Option<ConsoleFields>> {
    let sql = format!("{FIELDS_SQL} WHERE m.id = $1");
    let row: Option<FieldsRow> = dispatch!(store.backend(), pool => {
        sqlx::query_as(&sql).bind(member_id).fetch_optional(pool).await?
    });
    Ok(row.map(|r| fields_from_row(r).1))
}

/// Everything the member page shows about a member (readers: managers and accountants).
#[derive(Debug, Clone)]
pub struct MemberView {
    pub member: Member,
    pub account: Account,
    pub category: Category,
    pub fields: ConsoleFields,
    pub users: Vec<User>,
}

pub async fn member_view(
    store: &Store,
    actor: &Actor,
    member_id: i64,
) -> ConsoleResult<MemberView> {
    actor.require_reader()?;
    let (member, account) = resolve(store, Target::Member(member_id)).await?;
    let fields = console_fields(store, member_id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let category = categories::by_id(store, fields.category_id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let users = people::users_of_member(store, member_id).await?;
    Ok(MemberView {
        member,
        account,
        category,
        fields,
        users,
    })
}

/// One line of the member list.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub member: Member,
    pub account: Account,
    pub fields: ConsoleFields,
}

/// Which members to list. `after` is the keyset cursor: the last member id of the previous
/// page (members are in name order, then id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub status: Option<AccountStatus>,
    pub category_id: Option<i64>,
    pub search: String,
    pub after: Option<i64>,
    /// Members on the page: 1 to [`MEMBERS_LIMIT_MAX`]; `None` is [`MEMBERS_PAGE_SIZE`].
    pub limit: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct MemberPage {
    pub rows: Vec<MemberRow>,
    /// The cursor of the next page, if there is one.
    pub next_after: Option<i64>,
    pub total: usize,
}

/// Every member with its account and console fields, in name order (at most
/// [`MEMBERS_SCANNED_MAX`]). The review lists and the member list filter this in memory:
/// one pass over a few thousand rows costs less than a query per filter combination.
pub(crate) async fn all_rows(store: &Store) -> ConsoleResult<Vec<MemberRow>> {
    let members = people::members(store, MEMBERS_SCANNED_MAX).await?;
    let fields: HashMap<i64, ConsoleFields> = {
        let rows: Vec<FieldsRow> = dispatch!(store.backend(), pool => {
            sqlx::query_as(FIELDS_SQL).fetch_all(pool).await?
        });
        rows.into_iter().map(fields_from_row).collect()
    };
    let accounts: HashMap<AccountId, Account> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id(), a))
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|member| {
            let account = accounts.get(&member.account())?.clone();
            let fields = fields.get(&member.id)?.clone();
            Some(MemberRow {
                member,
                account,
                fields,
            })
        })
        .collect())
}

/// One page of the member list (readers).
pub async fn list_members(
    store: &Store,
    actor: &Actor,
    filter: &MemberFilter,
) -> ConsoleResult<MemberPage> {
    actor.require_reader()?;
    if filter.search.chars().count() > SEARCH_LEN_MAX {
        return Err(ConsoleError::invalid(
            Field::Name,
            Problem::TooLong {
                max: SEARCH_LEN_MAX,
            },
        ));
    }
    let search = filter.search.trim().to_lowercase();
    let matching: Vec<MemberRow> = all_rows(store)
        .await?
        .into_iter()
        .filter(|r| filter.status.is_none_or(|s| r.account.status() == s))
        .filter(|r| filter.category_id.is_none_or(|c| r.fields.category_id == c))
        .filter(|r| {
            search.is_empty()
                || r.member.name.to_lowercase().contains(&search)
                || r.member.siren.contains(&search)
                || r.member.city.to_lowercase().contains(&search)
        })
        .collect();
    let total = matching.len();
    let start = match filter.after {
        Some(after) => matching
            .iter()
            .position(|r| r.member.id == after)
            .map(|p| p + 1)
            .unwrap_or(total),
        None => 0,
    };
    let page_size = filter.limit.unwrap_or(MEMBERS_PAGE_SIZE);
    assert!((1..=MEMBERS_LIMIT_MAX).contains(&page_size));
    let rows: Vec<MemberRow> = matching
        .into_iter()
        .skip(start)
        .take(page_size + 1)
        .collect();
    let more = rows.len() > page_size;
    let rows: Vec<MemberRow> = rows.into_iter().take(page_size).collect();
    let next_after = if more {
        rows.last().map(|r| r.member.id)
    } else {
        None
    };
    Ok(MemberPage {
        rows,
        next_after,
        total,
    })
}

/// Runs one plain action on a member: `update` (SQL and binds) and its log record commit
/// together.
macro_rules! member_update {
    ($store:expr, $note:expr, $sql:expr, $($bind:expr),*) => {{
        let note = $note;
        dispatch!($store.backend(), pool => {
            let mut tx = pool.begin().await?;
            sqlx::query($sql)$(.bind($bind))*.execute(&mut *tx).await?;
            insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
        });
    }};
}

/// Moves a member to another category (managers only), logged as `member.category`. Its
/// limits do not change: the member page offers the category's defaults in the limit form.
pub async fn set_category(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    code: &str,
    reason: &str,
) -> ConsoleResult<()> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let mut issues = Issues::default();
    let reason = issues.optional_text(Field::Reason, reason, super::REASON_LEN_MAX);
    let category = categories::by_code(store, code.trim()).await?;
    if category.is_none() {
        issues.add(Field::Category, Problem::UnknownCategory);
    }
    issues.finish()?;
    let category = category.expect("checked above");
    let before = console_fields(store, member.id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let note = actor
        .note("member.category", &reason)?
        .member(member.id)
        .states(
            json!({ "category_id": before.category_id }),
            json!({ "category_id": category.id, "category": category.code }),
        );
    member_update!(
        store,
        note,
        "UPDATE members SET category_id = $1 WHERE id = $2",
        category.id,
        member.id
    );
    Ok(())
}

/// Records the member's declared annual turnover (managers only; `None` clears it), the
/// basis of the suggested limit. Logged as `member.turnover`.
pub async fn set_turnover(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    turnover: Option<Amount>,
) -> ConsoleResult<()> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let mut issues = Issues::default();
    if let Some(turnover) = turnover {
        check_turnover(turnover, &mut issues);
    }
    issues.finish()?;
    let before = console_fields(store, member.id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let note = actor.note("member.turnover", "")?.member(member.id).states(
        json!({ "declared_turnover": before.declared_turnover.map(Amount::minor) }),
        json!({ "declared_turnover": turnover.map(Amount::minor) }),
    );
    member_update!(
        store,
        note,
        "UPDATE members SET declared_turnover = $1 WHERE id = $2",
        turnover.map(Amount::minor),
        member.id
    );
    Ok(())
}

/// Sets (or clears) the date of the member's next limit review (managers only), logged as
/// `member.review`.
pub async fn set_review_date(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    date: Option<NaiveDate>,
    reason: &str,
) -> ConsoleResult<()> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let mut issues = Issues::default();
    let reason = issues.optional_text(Field::Reason, reason, super::REASON_LEN_MAX);
    issues.finish()?;
    let before = console_fields(store, member.id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let text = date.map(|d| d.format("%Y-%m-%d").to_string());
    let note = actor
        .note("member.review", &reason)?
        .member(member.id)
        .states(
            json!({ "next_review": before.next_review.map(|d| d.to_string()) }),
            json!({ "next_review": text }),
        );
    member_update!(
        store,
        note,
        "UPDATE members SET next_review = $1 WHERE id = $2",
        text.clone(),
        member.id
    );
    Ok(())
}

/// A new one-time invitation link for a member's owner (managers only: the first link was
/// lost or expired), logged as `member.invite`; with the member's name (for the e-mail).
pub async fn invite_owner(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    email: &str,
) -> ConsoleResult<(Invitation, String)> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let email = normalize_email(email);
    let mut issues = Issues::default();
    if !email_is_valid(&email) {
        issues.add(Field::Email, Problem::InvalidEmail);
    } else if people::email_taken(store, &email).await? {
        issues.add(Field::Email, Problem::EmailTaken);
    }
    issues.finish()?;
    let token = people::random_token();
    let now = now_unix();
    let note = actor
        .note("member.invite", "")?
        .member(member.id)
        .states(serde_json::Value::Null, json!({ "email": email }));
    member_update!(
        store,
        note,
        people::INSERT_INVITATION_SQL,
        people::token_hash(&token),
        email.clone(),
        people::Role::Owner.as_str(),
        member.id,
        actor.user_id(),
        now,
        now + people::INVITATION_TTL_SECONDS
    );
    Ok((Invitation { email, token }, member.name))
}

/// A one-time link for the member's user `user_id` to choose a new password (managers
/// only), valid [`people::RESET_BY_MANAGER_TTL_SECONDS`], logged as `user.password_reset_link`
/// (the address, never the link). Its user's address and language, and the link's token.
pub async fn password_reset_link(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    user_id: i64,
) -> ConsoleResult<(String, String, String)> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let user: Option<(String, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT email, lang FROM users WHERE id = $1 AND member_id = $2")
            .bind(user_id).bind(member.id).fetch_optional(pool).await?
    });
    let (email, lang) = user.ok_or(ConsoleError::NotFound)?;
    let token = people::random_token();
    let now = now_unix();
    let note = actor
        .note("user.password_reset_link", "")?
        .member(member.id)
        .states(serde_json::Value::Null, json!({ "email": email }));
    member_update!(
        store,
        note,
        people::INSERT_PASSWORD_RESET_SQL,
        people::token_hash(&token),
        user_id,
        actor.user_id(),
        now,
        now + people::RESET_BY_MANAGER_TTL_SECONDS
    );
    Ok((email, lang, token))
}

/// Turns off the two-step login of one of the member's users (managers only), with a
/// reason: the user lost its phone and its recovery codes, and the manager checked who is
/// asking. Its password alone opens the account again until it turns the second step on
/// again. Logged as `user.two_step_off` with the address. A user of another company, or
/// one without two-step login: `NotFound`. Returns the user's email and language (the
/// caller tells it).
pub async fn two_step_off(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    user_id: i64,
    reason: &str,
) -> ConsoleResult<(String, String)> {
    actor.require_manager()?;
    let (member, _) = resolve(store, Target::Member(member_id)).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let user: Option<(String, String)> = dispatch!(store.backend(), pool => {
        sqlx::query_as("SELECT email, lang FROM users WHERE id = $1 AND member_id = $2 \
                        AND totp_secret IS NOT NULL")
            .bind(user_id).bind(member.id).fetch_optional(pool).await?
    });
    let (email, lang) = user.ok_or(ConsoleError::NotFound)?;
    let note = actor
        .note("user.two_step_off", &reason)?
        .member(member.id)
        .states(
            json!({ "email": email, "two_step": true }),
            json!({ "email": email, "two_step": false }),
        );
    let begin = store.begin_write_sql();
    dispatch!(store.backend(), pool => {
        let mut tx = pool.begin_with(begin).await?;
        for sql in crate::totp::TURN_OFF_SQL {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
        tx.commit().await?;
    });
    Ok((email, lang))
}

/// The API tokens of a member company's users (managers and the network's accountants),
/// oldest first, at most [`tokens::TOKENS_LIST_MAX`] (never the tokens themselves).
pub async fn member_tokens(
    store: &Store,
    actor: &Actor,
    member_id: i64,
) -> ConsoleResult<Vec<tokens::ListedToken>> {
    actor.require_reader()?;
    resolve(store, Target::Member(member_id)).await?;
    Ok(tokens::list(store, tokens::Listing::Member(member_id))
        .await?
        .0)
}

/// Revokes an API token of one of a member's users (managers only: a leaked token while
/// the owner cannot be reached, a user who left), with a reason, logged as `token.revoke`
/// with the member in the same transaction. Any other token is `NotFound`; one revoked
/// already is returned as it is (the manager wanted it revoked: it is).
pub async fn revoke_member_token(
    store: &Store,
    actor: &Actor,
    member_id: i64,
    token_id: i64,
    reason: &str,
) -> ConsoleResult<tokens::ListedToken> {
    actor.require_manager()?;
    resolve(store, Target::Member(member_id)).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let by = tokens::Revoker::Manager { actor, member_id };
    match tokens::revoke_by(store, token_id, by, &reason).await {
        Ok(revoked) => Ok(revoked),
        Err(tokens::RevokeError::AlreadyRevoked(_)) => {
            tokens::list(store, tokens::Listing::Token(token_id))
                .await?
                .0
                .pop()
                .ok_or(ConsoleError::NotFound)
        }
        Err(tokens::RevokeError::NotFound(_)) => Err(ConsoleError::NotFound),
        Err(tokens::RevokeError::Forbidden) => Err(ConsoleError::Forbidden),
        Err(tokens::RevokeError::InvalidReason(_)) => {
            Err(ConsoleError::invalid(Field::Reason, Problem::Required))
        }
        Err(tokens::RevokeError::Store(error)) => Err(error.into()),
    }
}

/// How many members there are and how many are frozen (the landing page's figures).
pub async fn counts(store: &Store) -> ConsoleResult<(i64, i64)> {
    let rows = all_rows(store).await?;
    let frozen = rows
        .iter()
        .filter(|r| r.account.status() == AccountStatus::Frozen)
        .count();
    Ok((rows.len() as i64, frozen as i64))
}

/// The member ids and names by account, for the audit log's and review lists' names.
pub async fn names(store: &Store) -> ConsoleResult<HashMap<i64, String>> {
    let sql = "SELECT id, name FROM members";
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(sql).fetch_all(pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect::<Result<HashMap<_, _>, sqlx::Error>>()
            .map_err(ConsoleError::from)
    })
}
