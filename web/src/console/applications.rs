//! Applications: a company applies through the public form; a manager approves it (the
//! member, its account and its owner's invitation are created as by `create_member`) or
//! refuses it with a reason. Both decisions are logged (`application.approve`,
//! `application.refuse`); an application is decided once.

use ledger::Amount;
use serde_json::json;
use sqlx::Row;

use super::batch::{self, Approval, BatchSource};
use super::members::{check_new, CheckContext, CreatedMember, NewMember};
use super::{Actor, Conflict, ConsoleError, ConsoleResult, Field, Issues, Problem};
use crate::dispatch;
use crate::people::{
    self, email_is_valid, normalize_email, now_unix, siren_is_valid, DESCRIPTION_LEN_MAX,
    PROFILE_FIELD_LEN_MAX,
};
use crate::store::action_log::insert_action;
use crate::store::Store;

/// Longest message an applicant writes, in characters.
pub const APPLICATION_MESSAGE_LEN_MAX: usize = 2_000;
/// Most applications waiting at once: past it the public form answers "try later" (a
/// bound on what an anonymous form can make the network store).
pub const APPLICATIONS_PENDING_MAX: i64 = 1_000;
/// Most applications one list shows.
pub const APPLICATIONS_LISTED_MAX: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Refused,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Option<ApplicationStatus> {
        [
            ApplicationStatus::Pending,
            ApplicationStatus::Approved,
            ApplicationStatus::Refused,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What an applicant types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationForm {
    pub name: String,
    pub siren: String,
    pub email: String,
    pub contact: String,
    pub address: String,
    pub city: String,
    pub postcode: String,
    pub sector: String,
    pub description: String,
    pub declared_turnover: Option<Amount>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: i64,
    pub form: ApplicationForm,
    pub status: ApplicationStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decision_reason: String,
    pub member_id: Option<i64>,
}

fn check_form(form: &ApplicationForm, issues: &mut Issues) -> ApplicationForm {
    let siren = form.siren.trim().to_owned();
    if !siren_is_valid(&siren) {
        issues.add(Field::Siren, Problem::InvalidSiren);
    }
    let email = normalize_email(&form.email);
    if !email_is_valid(&email) {
        issues.add(Field::Email, Problem::InvalidEmail);
    }
    let postcode = form.postcode.trim().to_owned();
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        issues.add(Field::Postcode, Problem::InvalidPostcode);
    }
    if !people::is_sector(form.sector.trim()) {
        issues.add(Field::Sector, Problem::InvalidChoice);
    }
    if let Some(turnover) = form.declared_turnover {
        if turnover.is_negative() {
            issues.add(Field::Turnover, Problem::NegativeAmount);
        } else if turnover > super::TURNOVER_MAX {
            issues.add(
                Field::Turnover,
                Problem::AmountAboveMax {
                    max: super::TURNOVER_MAX,
                },
            );
        }
    }
    ApplicationForm {
        name: issues.text(Field::Name, &form.name, PROFILE_FIELD_LEN_MAX),
        siren,
        email,
        contact: issues.text(Field::Contact, &form.contact, PROFILE_FIELD_LEN_MAX),
        address: issues.text(Field::Address, &form.address, PROFILE_FIELD_LEN_MAX),
        city: issues.text(Field::City, &form.city, PROFILE_FIELD_LEN_MAX),
        postcode,
        sector: form.sector.trim().to_owned(),
        description: issues.optional_text(
            Field::Description,
            &form.description,
            DESCRIPTION_LEN_MAX,
        ),
        declared_turnover: form.declared_turnover,
        message: issues.optional_text(Field::Message, &form.message, APPLICATION_MESSAGE_LEN_MAX),
    }
}

/// Records an application from the public form (anyone). Refused when the SIREN is a
/// member's or has an application waiting, or when too many applications wait.
pub async fn apply(store: &Store, form: &ApplicationForm) -> ConsoleResult<i64> {
    let mut issues = Issues::default();
    let form = check_form(form, &mut issues);
    if !issues.has(Field::Siren) {
        if people::siren_taken(store, &form.siren).await? {
            issues.add(Field::Siren, Problem::SirenTaken);
        } else if pending_siren(store, &form.siren).await? {
            issues.add(Field::Siren, Problem::SirenPending);
        }
    }
    if !issues.has(Field::Email) && people::email_taken(store, &form.email).await? {
        issues.add(Field::Email, Problem::EmailTaken);
    }
    issues.finish()?;
    if pending_count(store).await? >= APPLICATIONS_PENDING_MAX {
        return Err(ConsoleError::Conflict(Conflict::TooManyPending));
    }
    let sql = "INSERT INTO applications (name, siren, email, contact, address, city, postcode, \
               sector, description, declared_turnover, message, status, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12) RETURNING id";
    let inserted: Result<i64, sqlx::Error> = dispatch!(store.backend(), pool => {
        sqlx::query_scalar(sql)
            .bind(&form.name).bind(&form.siren).bind(&form.email).bind(&form.contact)
            .bind(&form.address).bind(&form.city).bind(&form.postcode).bind(&form.sector)
            .bind(&form.description).bind(form.declared_turnover.map(Amount::minor))
            .bind(&form.message).bind(now_unix())
            .fetch_one(pool).await
    });
    // Two submissions of one company at once: the pending-SIREN index keeps one.
    super::inserted_or(
        inserted,
        ConsoleError::invalid(Field::Siren, Problem::SirenPending),
    )
}

async fn pending_siren(store: &Store, siren: &str) -> ConsoleResult<bool> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM applications WHERE siren = $1 AND status = 'pending'")
            .bind(siren).fetch_one(pool).await?
    });
    Ok(count > 0)
}

/// How many applications wait for a decision.
pub async fn pending_count(store: &Store) -> ConsoleResult<i64> {
    let count: i64 = dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM applications WHERE status = 'pending'")
            .fetch_one(pool).await?
    });
    Ok(count)
}

const COLUMNS: &str = "id, name, siren, email, contact, address, city, postcode, sector, \
     description, declared_turnover, message, status, created_at, decided_at, \
     decision_reason, member_id";

fn from_row<R>(row: &R) -> Result<Application, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(12)?;
    Ok(Application {
        id: row.try_get(0)?,
        form: ApplicationForm {
            name: row.try_get(1)?,
            siren: row.try_get(2)?,
            email: row.try_get(3)?,
            contact: row.try_get(4)?,
            address: row.try_get(5)?,
            city: row.try_get(6)?,
            postcode: row.try_get(7)?,
            sector: row.try_get(8)?,
            description: row.try_get(9)?,
            declared_turnover: row.try_get::<Option<i64>, _>(10)?.map(Amount::from_minor),
            message: row.try_get(11)?,
        },
        status: ApplicationStatus::parse(&status).unwrap_or(ApplicationStatus::Pending),
        created_at: row.try_get(13)?,
        decided_at: row.try_get(14)?,
        decision_reason: row.try_get(15)?,
        member_id: row.try_get(16)?,
    })
}

/// Applications, newest first, optionally of one status (readers).
pub async fn list(
    store: &Store,
    actor: &Actor,
    status: Option<ApplicationStatus>,
) -> ConsoleResult<Vec<Application>> {
    actor.require_reader()?;
    let status = status.map(|s| s.as_str()).unwrap_or("");
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE ($1 = '' OR status = $1) \
         ORDER BY id DESC LIMIT $2"
    );
    dispatch!(store.backend(), pool => {
        let rows = sqlx::query(&sql).bind(status).bind(APPLICATIONS_LISTED_MAX)
            .fetch_all(pool).await?;
        rows.iter().map(from_row).collect::<Result<Vec<_>, _>>().map_err(ConsoleError::from)
    })
}

/// One application (readers).
pub async fn get(store: &Store, actor: &Actor, id: i64) -> ConsoleResult<Application> {
    actor.require_reader()?;
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    let found = dispatch!(store.backend(), pool => {
        match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
            Some(row) => Some(from_row(&row)?),
            None => None,
        }
    });
    found.ok_or(ConsoleError::NotFound)
}

/// The manager's choices when approving: category and limits (defaults: the category's),
/// and an optional comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalInput {
    pub category: Option<String>,
    pub credit_limit: Option<Amount>,
    pub max_balance: Option<Amount>,
    pub reason: String,
}

/// Approves a pending application (managers only): creates the member as `create_member`
/// does, the invitation going to the applicant's email, and marks the application approved
/// in the same transaction as the member rows. Logged as `application.approve`.
pub async fn approve(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &ApprovalInput,
) -> ConsoleResult<CreatedMember> {
    actor.require_manager()?;
    let application = get(store, actor, id).await?;
    if application.status != ApplicationStatus::Pending {
        return Err(ConsoleError::Conflict(Conflict::AlreadyDecided));
    }
    let mut issues = Issues::default();
    let reason = issues.optional_text(Field::Reason, &input.reason, super::REASON_LEN_MAX);
    let form = application.form;
    let new = NewMember {
        name: form.name,
        siren: form.siren,
        email: form.email,
        category: input.category.clone(),
        credit_limit: input.credit_limit,
        max_balance: input.max_balance,
        opening_balance: None,
        declared_turnover: form.declared_turnover,
        address: form.address,
        city: form.city,
        postcode: form.postcode,
        sector: form.sector,
        description: form.description,
        contact: form.contact,
        source: BatchSource::Application,
    };
    let context = CheckContext::load(store).await?;
    let mut planned = check_new(&new, &context, &mut issues, None);
    planned.application_id = Some(id);
    planned.approval_reason = Some(reason.clone());
    issues.finish()?;
    let approval = Approval {
        application_id: id,
        reason,
    };
    let mut created = batch::write(
        store,
        actor,
        BatchSource::Application,
        vec![planned],
        Some(approval),
    )
    .await?;
    created.pop().ok_or(ConsoleError::NotFound)
}

/// Refuses a pending application with a reason (managers only), logged as
/// `application.refuse` in the same transaction.
pub async fn refuse(store: &Store, actor: &Actor, id: i64, reason: &str) -> ConsoleResult<()> {
    actor.require_manager()?;
    let application = get(store, actor, id).await?;
    let mut issues = Issues::default();
    let reason = issues.reason(reason);
    issues.finish()?;
    let note = actor.note("application.refuse", &reason)?.states(
        json!({ "application": id, "status": "pending" }),
        json!({
            "application": id,
            "status": "refused",
            "name": application.form.name,
            "siren": application.form.siren,
        }),
    );
    let now = now_unix();
    let result: ConsoleResult<()> = dispatch!(store.backend(), pool => {
        async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE applications SET status = 'refused', decided_by = $1, decided_at = $2, \
                 decision_reason = $3 WHERE id = $4 AND status = 'pending'",
            )
            .bind(actor.user_id()).bind(now).bind(&reason).bind(id)
            .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(ConsoleError::Conflict(Conflict::AlreadyDecided));
            }
            insert_action(conn_of!(tx), note, chrono::Utc::now()).await?;
            tx.commit().await?;
            Ok(())
        }.await
    });
    result
}
