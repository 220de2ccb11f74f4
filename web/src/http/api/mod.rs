//! The JSON API under `/api/v1` (docs/api.md).
//!
//! Every route is registered through `utoipa_axum::routes!` from its handler's
//! `#[utoipa::path]`, so the OpenAPI document served at `/api/v1/openapi.json` (and the
//! human page `/api/v1/docs` drawn from it) lists exactly the routes served. Callers
//! authenticate with `Authorization: Bearer TOKEN` ([`auth::ApiAuth`]); the session cookie
//! is never read on these paths (so no CSRF check either: see `session::layer`). Errors are
//! problem documents ([`error::ApiError`]); writes honour `Idempotency-Key`
//! ([`idempotency`]). The handlers call the same domain layers as the pages.

pub mod accounts;
pub mod applications;
pub mod approvals;
pub mod auth;
pub mod categories;
pub mod departures;
pub mod directory;
pub mod disputes;
pub mod error;
pub mod exports;
pub mod idempotency;
pub mod invoices;
pub mod keys;
pub mod limit_requests;
pub mod locks;
pub mod manage;
pub mod news;
pub mod offers;
pub mod orders;
pub mod package;
pub mod payments;
pub mod reports;
pub mod reviews;
pub mod setoff;
pub mod standing;
pub mod stats;
pub mod transactions;
pub mod two_step;
pub mod types;
pub mod webhooks;

use std::sync::OnceLock;

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ErrorPage;
use super::session::Ctx;
use super::templates::{page, Chrome};
use super::AppState;
use error::{ApiError, Problem};

/// The API's path prefix.
pub const PREFIX: &str = "/api/";

/// Whether `path` belongs to the JSON API (no session cookie, problem documents).
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with(PREFIX)
}

struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`troc_` + 64 hex characters) created on /settings/tokens \
                         or with `troc token create`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Troc API",
        version = "1",
        description = "Troc's JSON API: a mutual-credit ledger for inter-company barter networks. \
                       Amounts are decimal strings with two decimals (\"12.50\"); times are \
                       RFC 3339 UTC; errors are RFC 9457 problem documents with a stable `code`; \
                       every POST and PUT accepts an `Idempotency-Key`. See docs/api.md."
    ),
    modifiers(&BearerSecurity),
    // The words of the string parameters (`types::choices!`): query parameters name them
    // by reference, and utoipa registers only the schemas of bodies and answers itself.
    components(schemas(
        types::OpenOrAll,
        types::PendingOrAll,
        types::ApplicationState,
        types::LimitRequestState,
        types::AccountState,
        types::InvoiceSide,
        types::InvoiceSupply,
        types::InvitedRole,
        types::StandingEvery,
        types::FundPayer,
        types::ExportFormat,
        types::CsvDates,
        types::UserRole,
        types::TokenScope,
        types::SectorCode,
    )),
    tags(
        (name = "accounts", description = "The caller, accounts and transactions"),
        (name = "payments", description = "Payments, payment requests and payments waiting for approval"),
        (name = "directory", description = "The members' directory, the caller's company and the network's fee rules"),
        (name = "offers", description = "The marketplace: offers, wants and orders"),
        (name = "manage", description = "The network manager's actions (manage tokens)"),
        (name = "network", description = "The whole network (manage tokens)"),
        (name = "exports", description = "Accountant exports"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The API's routes with their OpenAPI document, from one list.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::set_notices))
        .routes(routes!(accounts::tokens))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(accounts::account))
        .routes(routes!(accounts::transactions))
        .routes(routes!(accounts::network_accounts))
        .routes(routes!(keys::list, keys::register))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::submit))
        .routes(routes!(stats::network_stats))
        .routes(routes!(payments::pay))
        .routes(routes!(payments::refund))
        .routes(routes!(standing::list, standing::create))
        .routes(routes!(standing::show))
        .routes(routes!(standing::cancel))
        .routes(routes!(invoices::list, invoices::create))
        .routes(routes!(invoices::show))
        .routes(routes!(invoices::einvoice))
        .routes(routes!(invoices::archive))
        .routes(routes!(invoices::show_mentions, invoices::set_mentions))
        .routes(routes!(invoices::credit))
        .routes(routes!(transactions::show))
        .routes(routes!(transactions::reverse))
        .routes(routes!(payments::list_requests, payments::create_request))
        .routes(routes!(payments::show_request))
        .routes(routes!(payments::accept_request))
        .routes(routes!(payments::decline_request))
        .routes(routes!(approvals::list, approvals::create))
        .routes(routes!(approvals::show))
        .routes(routes!(approvals::approve))
        .routes(routes!(approvals::decline))
        .routes(routes!(approvals::withdraw))
        .routes(routes!(directory::company_actions))
        .routes(routes!(directory::directory))
        .routes(routes!(directory::company, directory::set_profile))
        .routes(routes!(directory::set_privacy))
        .routes(routes!(package::data))
        .routes(routes!(directory::list_users))
        .routes(routes!(directory::invite_user))
        .routes(routes!(directory::remove_user))
        .routes(routes!(directory::set_payment_limit))
        .routes(routes!(directory::rules, directory::schedule_rules))
        .routes(routes!(offers::list, offers::create))
        .routes(routes!(offers::show, offers::update))
        .routes(routes!(offers::close))
        .routes(routes!(offers::list_wants, offers::create_want))
        .routes(routes!(offers::show_want, offers::update_want))
        .routes(routes!(offers::close_want))
        .routes(routes!(offers::suggestions))
        .routes(routes!(orders::place))
        .routes(routes!(orders::list))
        .routes(routes!(orders::show))
        .routes(routes!(orders::deliver))
        .routes(routes!(orders::cancel))
        .routes(routes!(manage::list_members, manage::create_member))
        .routes(routes!(manage::show_member))
        .routes(routes!(manage::import_members))
        .routes(routes!(manage::unfinished_imports))
        .routes(routes!(manage::finish_import))
        .routes(routes!(manage::set_category))
        .routes(routes!(manage::set_review))
        .routes(routes!(manage::set_turnover))
        .routes(routes!(manage::invite_owner))
        .routes(routes!(manage::member_tokens))
        .routes(routes!(manage::revoke_member_token))
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::update))
        .routes(routes!(reviews::lists))
        .routes(routes!(reviews::set_settings))
        .routes(routes!(two_step::show, two_step::set))
        .routes(routes!(news::list, news::publish))
        .routes(routes!(news::withdraw))
        .routes(routes!(setoff::list, setoff::declare))
        .routes(routes!(setoff::confirm))
        .routes(routes!(setoff::reject))
        .routes(routes!(setoff::close))
        .routes(routes!(setoff::overview, setoff::run))
        .routes(routes!(setoff::show))
        .routes(routes!(applications::list))
        .routes(routes!(applications::show))
        .routes(routes!(applications::approve))
        .routes(routes!(applications::refuse))
        .routes(routes!(departures::list, departures::give))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::show))
        .routes(routes!(webhooks::remove))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::ping))
        .routes(routes!(departures::withdraw))
        .routes(routes!(departures::close))
        .routes(routes!(disputes::list, disputes::open))
        .routes(routes!(disputes::get))
        .routes(routes!(disputes::withdraw))
        .routes(routes!(disputes::reply))
        .routes(routes!(disputes::decide))
        .routes(routes!(limit_requests::list, limit_requests::ask))
        .routes(routes!(limit_requests::show))
        .routes(routes!(limit_requests::withdraw))
        .routes(routes!(limit_requests::grant))
        .routes(routes!(limit_requests::decline))
        .routes(routes!(manage::set_credit_limit))
        .routes(routes!(manage::freeze))
        .routes(routes!(manage::unfreeze))
        .routes(routes!(manage::close))
        .routes(routes!(manage::limit_history))
        .routes(routes!(manage::action_log))
        .routes(routes!(manage::guarantee_fund))
        .routes(routes!(manage::fund_stress))
        .routes(routes!(manage::written_off))
        .routes(routes!(manage::brokering))
        .routes(routes!(manage::default_member))
        .routes(routes!(manage::recovery))
        .routes(routes!(exports::export))
        .routes(routes!(reports::trial_balance))
        .routes(routes!(reports::statement))
        .routes(routes!(reports::summary))
        .routes(routes!(locks::list, locks::lock))
        .routes(routes!(locks::network))
        .routes(routes!(locks::set_siren))
        .routes(routes!(locks::mapping, locks::set_mapping))
        .routes(routes!(locks::member_mapping, locks::set_member_mapping))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
        .split_for_parts();
    let document = with_common_parts(document);
    (router, document)
}

/// What every operation of a kind shares is written into the document here, once, rather
/// than into each handler's attribute:
/// - every POST and PUT honours an `Idempotency-Key` ([`idempotency`]): the header, and the
///   409 a reused key gets (an operation with 409s of its own names the key in its own);
/// - every operation that takes a token answers 401 without a valid one.
fn with_common_parts(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{
        ContentBuilder, ObjectBuilder, Ref, RefOr, Required, Response, ResponseBuilder, Type,
    };
    let header = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(format!(
            "1 to {} visible ASCII characters",
            idempotency::KEY_LEN_MAX
        )))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(idempotency::KEY_LEN_MAX))
                .pattern(Some(format!("^[!-~]{{1,{}}}$", idempotency::KEY_LEN_MAX))),
        ))
        .build();
    let problem = |description: &str| -> RefOr<Response> {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
            .into()
    };
    let answer = |operation: &mut Operation, status: &str, description: &str| {
        if !operation.responses.responses.contains_key(status) {
            operation
                .responses
                .responses
                .insert(status.to_owned(), problem(description));
        }
    };
    for item in document.paths.paths.values_mut() {
        for operation in [item.post.as_mut(), item.put.as_mut()]
            .into_iter()
            .flatten()
        {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(header.clone());
            answer(
                operation,
                "409",
                "The Idempotency-Key was used for another request",
            );
        }
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.delete.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                answer(operation, "401", "No valid token");
            }
        }
    }
    document
}

/// The OpenAPI document of the routes [`router`] serves.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| parts().1)
}

/// The document as JSON, rendered once.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut value = serde_json::to_value(document()).unwrap_or_default();
        links_in_camel_case(&mut value);
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_owned())
    })
}

/// utoipa 5.5 writes a response link's fields in snake case (`operation_id`), where OpenAPI
/// names them `operationId`, `operationRef` and `requestBody`: renamed here, in the one place
/// the document is rendered.
fn links_in_camel_case(document: &mut serde_json::Value) {
    let Some(paths) = document
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    let responses = operations
        .filter_map(|operation| operation.get_mut("responses"))
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|responses| responses.values_mut());
    let links = responses
        .filter_map(|response| response.get_mut("links"))
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|links| links.values_mut())
        .filter_map(serde_json::Value::as_object_mut);
    for link in links {
        for (snake, camel) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(field) = link.remove(snake) {
                link.insert(camel.to_owned(), field);
            }
        }
    }
}

/// The API's routes (an unknown `/api/` path falls to the site's fallback, whose 404 the
/// session middleware turns into a problem document: [`problem_for_error_page`]).
pub fn router() -> Router<AppState> {
    parts().0
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Response {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        document_json(),
    )
        .into_response()
}

/// One operation on the human page.
pub struct OperationView {
    pub method: &'static str,
    pub path: String,
    pub summary: String,
    pub tag: String,
}

/// Every operation of the document, in path order.
pub fn operations() -> Vec<OperationView> {
    let mut list = Vec::new();
    for (path, item) in document().paths.paths.iter() {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            let Some(operation) = operation else {
                continue;
            };
            let summary = operation
                .summary
                .clone()
                .or_else(|| operation.description.clone())
                .unwrap_or_default();
            list.push(OperationView {
                method,
                path: path.clone(),
                summary,
                tag: operation
                    .tags
                    .as_ref()
                    .and_then(|t| t.first().cloned())
                    .unwrap_or_default(),
            });
        }
    }
    list
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsTemplate {
    c: Chrome,
    fr: bool,
    operations: Vec<OperationView>,
}

/// This page: every operation of the OpenAPI document.
#[utoipa::path(get, path = "/api/v1/docs", tag = "meta",
    responses((status = 200, description = "The API's operations, as a web page", content_type = "text/html", body = String)))]
pub async fn docs(ctx: Ctx) -> Response {
    match page(DocsTemplate {
        c: ctx.chrome(),
        fr: ctx.lang == super::i18n::Lang::Fr,
        operations: operations(),
    }) {
        Ok(response) => response,
        Err(error) => ApiError::Internal(error.to_string()).into_response(),
    }
}

/// Turns the web front's error pages (a 404 of the fallback, a 413 of the body limit...)
/// into problem documents on API paths.
pub fn problem_for_error_page(response: Response) -> Response {
    let Some(page) = response.extensions().get::<ErrorPage>().copied() else {
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allow = response.headers().get(axum::http::header::ALLOW).cloned();
            let mut problem = error::problem_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &coded(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "This method is not allowed here.",
                ),
            );
            if let Some(allow) = allow {
                problem
                    .headers_mut()
                    .insert(axum::http::header::ALLOW, allow);
            }
            return problem;
        }
        return response;
    };
    let (code, detail) = match page {
        ErrorPage::NotFound => ("not_found", "No such object."),
        ErrorPage::Forbidden => ("forbidden", "Forbidden."),
        ErrorPage::Csrf => ("forbidden", "Forbidden."),
        ErrorPage::TooLarge => ("payload_too_large", "The request body is too large."),
        ErrorPage::BadRequest => ("bad_request", "Bad request."),
        ErrorPage::NulCharacter => (
            "nul_character",
            "The request's address holds the NUL character (%00).",
        ),
        ErrorPage::TooManyRequests(_) => ("rate_limited", "Too many requests."),
        ErrorPage::Unavailable => ("unavailable", "Not available, try again later."),
        ErrorPage::Internal => ("internal", "Internal error."),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .cloned();
    let mut problem = error::problem_response(status, &coded(status, code, detail));
    if let Some(value) = retry_after {
        problem
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    problem
}

fn coded(status: StatusCode, code: &str, detail: &str) -> Problem {
    Problem {
        kind: "about:blank".to_owned(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: code.to_owned(),
        field: None,
        errors: Vec::new(),
    }
}
