//! The member list (filters: status, category, search; keyset pages), the new-member form
//! (a company invited by a manager) and the member categories.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use ledger::{AccountStatus, Amount};
use serde::Deserialize;

use super::{
    amount_text, form_messages, manager, optional_amount, page_error, reader, see_other,
    unprocessable,
};
use crate::console::categories::{self, Category, CategoryInput};
use crate::console::members::{self as console_members, MemberFilter};
use crate::console::{BatchSource, ConsoleError, Field, NewMember};
use crate::http::error::AppResult;
use crate::http::i18n::Tr;
use crate::http::market::sectors;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: Option<i64>,
}

pub struct Row {
    id: i64,
    name: String,
    siren: String,
    city: String,
    category: String,
    status: &'static str,
    frozen: bool,
    balance: String,
    negative: bool,
    credit_limit: String,
    max_balance: String,
}

#[derive(Template)]
#[template(path = "console/members.html")]
struct ListTemplate {
    c: Chrome,
    rows: Vec<Row>,
    total: usize,
    query: ListQuery,
    categories: Vec<Category>,
    next: Option<String>,
    can_act: bool,
}

fn category_name(categories: &[Category], id: i64) -> String {
    categories
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = reader(&auth)?;
    let t = auth.tr();
    let categories = categories::list(&state.store).await.map_err(page_error)?;
    let filter = MemberFilter {
        status: AccountStatus::parse(&query.status),
        category_id: categories
            .iter()
            .find(|c| c.code == query.category)
            .map(|c| c.id),
        search: query
            .q
            .chars()
            .take(console_members::SEARCH_LEN_MAX)
            .collect(),
        after: query.after,
        limit: None,
    };
    let result = console_members::list_members(&state.store, &actor, &filter)
        .await
        .map_err(page_error)?;
    let rows = result
        .rows
        .into_iter()
        .map(|r| Row {
            id: r.member.id,
            category: category_name(&categories, r.fields.category_id),
            status: t.con_status_label(r.account.status()),
            frozen: r.account.status() == AccountStatus::Frozen,
            negative: r.account.balance().is_negative(),
            balance: t.lang.amount(r.account.balance()),
            credit_limit: t.lang.amount(r.account.credit_limit()),
            max_balance: amount_text(t, r.account.max_balance()),
            name: r.member.name,
            siren: r.member.siren,
            city: r.member.city,
        })
        .collect();
    let next = result.next_after.map(|after| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &query.status)
            .append_pair("category", &query.category)
            .append_pair("q", &query.q)
            .append_pair("after", &after.to_string())
            .finish()
    });
    page(ListTemplate {
        c: auth.chrome(),
        rows,
        total: result.total,
        query,
        categories,
        next,
        can_act: actor.require_manager().is_ok(),
    })
}

/// The new-member form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewValues {
    #[serde(default)]
    name: String,
    #[serde(default)]
    siren: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postcode: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
    #[serde(default)]
    turnover: String,
}

/// One message per field, for the form (the include `_profile_fields.html` reads the
/// profile ones).
#[derive(Default)]
pub struct NewErrors {
    name: Option<String>,
    siren: Option<String>,
    address: Option<String>,
    city: Option<String>,
    postcode: Option<String>,
    sector: Option<String>,
    description: Option<String>,
    contact: Option<String>,
    owner_email: Option<String>,
    category: Option<String>,
    credit_limit: Option<String>,
    max_balance: Option<String>,
    turnover: Option<String>,
}

impl NewErrors {
    fn slot(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Siren => &mut self.siren,
            Field::Address => &mut self.address,
            Field::City => &mut self.city,
            Field::Postcode => &mut self.postcode,
            Field::Sector => &mut self.sector,
            Field::Description => &mut self.description,
            Field::Contact => &mut self.contact,
            Field::Email => &mut self.owner_email,
            Field::Category => &mut self.category,
            Field::CreditLimit => &mut self.credit_limit,
            Field::MaxBalance => &mut self.max_balance,
            Field::Turnover => &mut self.turnover,
            _ => &mut self.name,
        }
    }

    fn from_error(t: Tr, error: &ConsoleError) -> NewErrors {
        let mut errors = NewErrors::default();
        if let ConsoleError::Invalid(issues) = error {
            for issue in issues {
                errors
                    .slot(issue.field)
                    .get_or_insert_with(|| t.con_problem(&issue.problem));
            }
        }
        errors
    }
}

#[derive(Template)]
#[template(path = "console/member_new.html")]
struct NewTemplate {
    c: Chrome,
    values: NewValues,
    errors: NewErrors,
    messages: Vec<String>,
    sectors: Vec<(&'static str, String)>,
    categories: Vec<Category>,
    links: Vec<(String, String)>,
    /// The links were also e-mailed to the owners.
    mailed: bool,
}

async fn new_page(
    state: &AppState,
    auth: &Auth,
    values: NewValues,
    failure: Option<ConsoleError>,
    links: Vec<(String, String)>,
    emailed: crate::http::Emailed,
) -> AppResult<Response> {
    manager(auth)?;
    let t = auth.tr();
    let categories = categories::list(&state.store).await.map_err(page_error)?;
    let (errors, messages) = match failure {
        Some(error) => {
            let errors = NewErrors::from_error(t, &error);
            let messages = match &error {
                ConsoleError::Invalid(_) => Vec::new(),
                _ => form_messages(t, error)?,
            };
            (errors, messages)
        }
        None => (NewErrors::default(), Vec::new()),
    };
    let failed = errors_any(&errors) || !messages.is_empty();
    let response = page(NewTemplate {
        c: auth.chrome(),
        values,
        errors,
        messages,
        sectors: sectors(t),
        categories,
        links,
        mailed: emailed == crate::http::Emailed::Yes,
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

fn errors_any(e: &NewErrors) -> bool {
    [
        &e.name,
        &e.siren,
        &e.address,
        &e.city,
        &e.postcode,
        &e.sector,
        &e.description,
        &e.contact,
        &e.owner_email,
        &e.category,
        &e.credit_limit,
        &e.max_balance,
        &e.turnover,
    ]
    .iter()
    .any(|e| e.is_some())
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    new_page(
        &state,
        &auth,
        NewValues::default(),
        None,
        Vec::new(),
        crate::http::Emailed::No,
    )
    .await
}

/// Reads the form's amounts; a field that does not parse is reported like the domain's.
fn amounts(values: &NewValues) -> Result<[Option<Amount>; 3], ConsoleError> {
    let mut issues = Vec::new();
    let mut read = |text: &str, field: Field| match optional_amount(text) {
        Ok(amount) => amount,
        Err(()) => {
            issues.push(crate::console::FieldIssue {
                field,
                problem: crate::console::Problem::InvalidAmount,
                line: None,
            });
            None
        }
    };
    let parsed = [
        read(&values.credit_limit, Field::CreditLimit),
        read(&values.max_balance, Field::MaxBalance),
        read(&values.turnover, Field::Turnover),
    ];
    if issues.is_empty() {
        Ok(parsed)
    } else {
        Err(ConsoleError::Invalid(issues))
    }
}

/// A manager creates a member company and gets the one-time link for its owner.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(values): Form<NewValues>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let [credit_limit, max_balance, turnover] = match amounts(&values) {
        Ok(parsed) => parsed,
        Err(error) => {
            return new_page(
                &state,
                &auth,
                values,
                Some(error),
                Vec::new(),
                crate::http::Emailed::No,
            )
            .await
        }
    };
    let new = NewMember {
        name: values.name.clone(),
        siren: values.siren.clone(),
        email: values.owner_email.clone(),
        category: Some(values.category.clone()),
        credit_limit,
        max_balance,
        opening_balance: None,
        declared_turnover: turnover,
        address: values.address.clone(),
        city: values.city.clone(),
        postcode: values.postcode.clone(),
        sector: values.sector.clone(),
        description: values.description.clone(),
        contact: values.contact.clone(),
        source: BatchSource::Form,
    };
    match console_members::create_member(&state.store, &actor, new).await {
        Ok(created) => {
            let emailed = crate::http::mail_new_owners(
                &state,
                auth.tr().lang,
                &auth.user.display_name,
                std::slice::from_ref(&created),
            )
            .await?;
            let link = created.invitation.link(state.config.base_url());
            let links = vec![(created.name, link)];
            new_page(&state, &auth, NewValues::default(), None, links, emailed).await
        }
        Err(error) => {
            new_page(
                &state,
                &auth,
                values,
                Some(error),
                Vec::new(),
                crate::http::Emailed::No,
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    max_balance: String,
}

pub struct CategoryRow {
    id: i64,
    code: String,
    name: String,
    credit_limit: String,
    max_balance: String,
    members: i64,
}

#[derive(Template)]
#[template(path = "console/categories.html")]
struct CategoriesTemplate {
    c: Chrome,
    rows: Vec<CategoryRow>,
    values: CategoryForm,
    messages: Vec<String>,
    can_act: bool,
}

async fn categories_page(
    state: &AppState,
    auth: &Auth,
    values: CategoryForm,
    failure: Option<ConsoleError>,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let counts = categories::member_counts(&state.store)
        .await
        .map_err(page_error)?;
    let rows = categories::list(&state.store)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|c| CategoryRow {
            members: counts
                .iter()
                .find(|(id, _)| *id == c.id)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            id: c.id,
            credit_limit: c.credit_limit.to_plain(),
            max_balance: c.max_balance.map(|m| m.to_plain()).unwrap_or_default(),
            code: c.code,
            name: c.name,
        })
        .collect();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let failed = !messages.is_empty();
    let response = page(CategoriesTemplate {
        c: auth.chrome(),
        rows,
        values,
        messages,
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn categories(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    categories_page(&state, &auth, CategoryForm::default(), None).await
}

fn category_input(form: &CategoryForm) -> Result<CategoryInput, ConsoleError> {
    let limit = optional_amount(&form.credit_limit).map_err(|_| {
        ConsoleError::invalid(Field::CreditLimit, crate::console::Problem::InvalidAmount)
    })?;
    let max = optional_amount(&form.max_balance).map_err(|_| {
        ConsoleError::invalid(Field::MaxBalance, crate::console::Problem::InvalidAmount)
    })?;
    Ok(CategoryInput {
        code: form.code.clone(),
        name: form.name.clone(),
        credit_limit: limit.unwrap_or(Amount::ZERO),
        max_balance: max,
    })
}

pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<CategoryForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result = match category_input(&form) {
        Ok(input) => categories::create(&state.store, &actor, &input)
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/categories")),
        Err(error) => categories_page(&state, &auth, form, Some(error)).await,
    }
}

pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(form): Form<CategoryForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let result = match category_input(&form) {
        Ok(input) => categories::update(&state.store, &actor, id, &input).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/categories")),
        Err(ConsoleError::NotFound) => Err(crate::http::AppError::NotFound),
        Err(error) => categories_page(&state, &auth, CategoryForm::default(), Some(error)).await,
    }
}
