//! Companies and their people: the company page (profile, privacy, staff invitations; the
//! owner's) and the member directory. The network's side (creating and managing members) is
//! the console, `http::console`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{FieldError, Tr};
use super::market::{sector_label, sectors};
use super::session::{Auth, MemberAuth, MemberReader};
use super::templates::{page, role_label, Chrome};
use super::AppState;
use crate::console::{self, Field as ConsoleField, FieldIssue, Problem as ConsoleProblem};
use crate::people::{self, Member, Profile, Role};
use crate::spending;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/company", get(company).post(update_company))
        .route("/company/privacy", post(update_privacy))
        .route("/company/invite", post(invite_staff))
        .route("/company/users/{id}/remove", post(remove_user))
        .route("/company/users/{id}/payment-limit", post(set_payment_limit))
        .route("/company/data.jsonl", get(data_package))
        .route("/directory", get(directory))
}

/// The profile form's fields (SIREN only on creation).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileValues {
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
}

#[derive(Default)]
pub struct ProfileErrors {
    name: Option<String>,
    siren: Option<String>,
    address: Option<String>,
    city: Option<String>,
    postcode: Option<String>,
    sector: Option<String>,
    description: Option<String>,
    contact: Option<String>,
}

impl ProfileErrors {
    fn any(&self) -> bool {
        [
            &self.name,
            &self.siren,
            &self.address,
            &self.city,
            &self.postcode,
            &self.sector,
            &self.description,
            &self.contact,
        ]
        .iter()
        .any(|e| e.is_some())
    }
}

impl ProfileValues {
    fn profile(&self) -> Profile {
        Profile {
            name: self.name.clone(),
            siren: self.siren.clone(),
            address: self.address.clone(),
            city: self.city.clone(),
            postcode: self.postcode.clone(),
            sector: self.sector.clone(),
            description: self.description.clone(),
            contact: self.contact.clone(),
        }
    }
}

impl ProfileErrors {
    /// The page's words for the problems `console::check_profile` found.
    fn from_issues(t: Tr, issues: &[FieldIssue]) -> ProfileErrors {
        let mut errors = ProfileErrors::default();
        for issue in issues {
            let error = match issue.problem {
                ConsoleProblem::Required => FieldError::Required,
                ConsoleProblem::TooLong { max } => FieldError::TooLong { max },
                ConsoleProblem::InvalidPostcode => FieldError::InvalidPostcode,
                _ => FieldError::InvalidChoice,
            };
            let slot = match issue.field {
                ConsoleField::Name => &mut errors.name,
                ConsoleField::Address => &mut errors.address,
                ConsoleField::City => &mut errors.city,
                ConsoleField::Postcode => &mut errors.postcode,
                ConsoleField::Sector => &mut errors.sector,
                ConsoleField::Description => &mut errors.description,
                _ => &mut errors.contact,
            };
            *slot = Some(t.field_error(error));
        }
        errors
    }
}

pub struct UserView {
    id: i64,
    email: String,
    name: String,
    role: &'static str,
    /// Staff and member accountants can be removed by the owner.
    removable: bool,
    /// Staff users (whose payment limit the owner sets).
    is_staff: bool,
    /// The payment limit as shown, and as the form holds it (empty: none of their own).
    limit_shown: String,
    limit_value: String,
    /// The limit form's refusal for this user, with the value typed.
    limit_error: Option<(String, String)>,
    /// The limit per month as shown (with what is used of it this month), and as the form
    /// holds it.
    month_shown: String,
    month_value: String,
    month_error: Option<(String, String)>,
}

/// The result of an invitation form, drawn under the form it came from (and of a staff
/// user's payment-limit form: `limit`, the user, the value typed and the refusal).
#[derive(Default)]
struct Invite {
    role: Option<Role>,
    link: Option<String>,
    error: Option<String>,
    limit: Option<(i64, String, String)>,
    /// The same for the limit per month.
    month_limit: Option<(i64, String, String)>,
    /// The invitation was also e-mailed to its address.
    mailed: bool,
}

impl Invite {
    fn for_role(&self, role: Role) -> (Option<String>, Option<String>) {
        if self.role == Some(role) {
            (self.link.clone(), self.error.clone())
        } else {
            (None, None)
        }
    }
}

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyTemplate {
    c: Chrome,
    siren: String,
    values: ProfileValues,
    errors: ProfileErrors,
    hide_balance: bool,
    in_directory: bool,
    users: Vec<UserView>,
    sectors: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
    invitation_link: Option<String>,
    invite_error: Option<String>,
    accountant_link: Option<String>,
    invitation_mailed: bool,
    accountant_error: Option<String>,
}

async fn company_page(
    state: &AppState,
    auth: &MemberReader,
    values: Option<ProfileValues>,
    errors: ProfileErrors,
    notice: Option<&'static str>,
    invitation: Invite,
) -> AppResult<Response> {
    let t = auth.tr();
    let m = &auth.member;
    let used = spending::used_of_member(&state.store, m.id, people::now_unix()).await?;
    let users = people::users_of_member(&state.store, m.id)
        .await?
        .into_iter()
        .map(|u| UserView {
            month_shown: u
                .payment_month_max
                .map(|max| {
                    let used = used.get(&u.id).copied().unwrap_or(ledger::Amount::ZERO);
                    t.month_limit_shown(ledger::Amount::from_minor(max), used)
                })
                .unwrap_or_else(|| t.month_limit_none().to_owned()),
            month_value: u
                .payment_month_max
                .map(|max| ledger::Amount::from_minor(max).to_plain())
                .unwrap_or_default(),
            month_error: invitation
                .month_limit
                .as_ref()
                .filter(|(id, _, _)| *id == u.id)
                .map(|(_, typed, error)| (typed.clone(), error.clone())),
            is_staff: u.role == Role::Staff,
            limit_shown: u
                .payment_max
                .map(|max| t.lang.amount(ledger::Amount::from_minor(max)))
                .unwrap_or_else(|| t.payment_limit_none().to_owned()),
            limit_value: u
                .payment_max
                .map(|max| ledger::Amount::from_minor(max).to_plain())
                .unwrap_or_default(),
            limit_error: invitation
                .limit
                .as_ref()
                .filter(|(id, _, _)| *id == u.id)
                .map(|(_, typed, error)| (typed.clone(), error.clone())),
            id: u.id,
            email: u.email,
            name: u.display_name,
            role: role_label(t, u.role),
            removable: matches!(u.role, Role::Staff | Role::MemberAccountant),
        })
        .collect();
    let failed = errors.any()
        || invitation.error.is_some()
        || invitation.limit.is_some()
        || invitation.month_limit.is_some();
    let (invitation_link, invite_error) = invitation.for_role(Role::Staff);
    let (accountant_link, accountant_error) = invitation.for_role(Role::MemberAccountant);
    let mut response = page(CompanyTemplate {
        c: auth.chrome(),
        siren: m.siren.clone(),
        values: values.unwrap_or_else(|| ProfileValues {
            name: m.name.clone(),
            siren: m.siren.clone(),
            address: m.address.clone(),
            city: m.city.clone(),
            postcode: m.postcode.clone(),
            sector: m.sector.clone(),
            description: m.description.clone(),
            contact: m.contact.clone(),
        }),
        errors,
        hide_balance: m.hide_balance,
        in_directory: m.in_directory,
        users,
        sectors: sectors(t),
        notice,
        invitation_link,
        invite_error,
        accountant_link,
        invitation_mailed: invitation.mailed,
        accountant_error,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn company(State(state): State<AppState>, auth: MemberReader) -> AppResult<Response> {
    company_page(
        &state,
        &auth,
        None,
        ProfileErrors::default(),
        None,
        Invite::default(),
    )
    .await
}

fn require_owner(auth: &MemberAuth) -> AppResult<()> {
    if auth.is_owner() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn update_company(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(values): Form<ProfileValues>,
) -> AppResult<Response> {
    require_owner(&auth)?;
    let profile = match console::check_profile(&values.profile()) {
        Ok(profile) => profile,
        Err(issues) => {
            let errors = ProfileErrors::from_issues(auth.tr(), &issues);
            let reader = auth.into();
            return company_page(
                &state,
                &reader,
                Some(values),
                errors,
                None,
                Invite::default(),
            )
            .await;
        }
    };
    people::update_profile(&state.store, auth.member.id, &profile).await?;
    let auth = reload(&state, auth).await?;
    let saved = auth.tr().saved();
    company_page(
        &state,
        &auth.into(),
        None,
        ProfileErrors::default(),
        Some(saved),
        Invite::default(),
    )
    .await
}

async fn reload(state: &AppState, mut auth: MemberAuth) -> AppResult<MemberAuth> {
    auth.member = people::member(&state.store, auth.member.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(auth)
}

#[derive(Deserialize)]
struct PrivacyForm {
    #[serde(default)]
    hide_balance: Option<String>,
    #[serde(default)]
    leave_directory: Option<String>,
}

async fn update_privacy(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<PrivacyForm>,
) -> AppResult<Response> {
    require_owner(&auth)?;
    people::update_privacy(
        &state.store,
        auth.member.id,
        form.hide_balance.is_some(),
        form.leave_directory.is_none(),
    )
    .await?;
    let auth = reload(&state, auth).await?;
    let saved = auth.tr().saved();
    company_page(
        &state,
        &auth.into(),
        None,
        ProfileErrors::default(),
        Some(saved),
        Invite::default(),
    )
    .await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    /// `staff` (the default) or `accountant` (the company's own accountant, read-only).
    #[serde(default)]
    role: String,
}

async fn invite_staff(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    require_owner(&auth)?;
    let role = match form.role.as_str() {
        "" | "staff" => Role::Staff,
        "accountant" => Role::MemberAccountant,
        _ => return Err(AppError::BadRequest),
    };
    let t = auth.tr();
    let invited = people::invite(
        &state.store,
        &form.email,
        role,
        Some(auth.member.id),
        auth.auth.user.id,
    )
    .await?;
    let (email, token) = match invited {
        Ok(invited) => invited,
        Err(refusal) => {
            let error = t.field_error(match refusal {
                people::InviteRefusal::InvalidEmail => FieldError::InvalidEmail,
                people::InviteRefusal::EmailTaken => FieldError::EmailTaken,
            });
            let invite = Invite {
                role: Some(role),
                link: None,
                error: Some(error),
                ..Invite::default()
            };
            return company_page(
                &state,
                &auth.into(),
                None,
                ProfileErrors::default(),
                None,
                invite,
            )
            .await;
        }
    };
    let link = format!("{}/invitation/{token}", state.config.base_url());
    let company = auth.member.name.clone();
    let mailed = super::mail_invitation(
        &state,
        t.lang,
        &email,
        &auth.auth.user.display_name,
        &company,
        &link,
    )
    .await?;
    let invite = Invite {
        role: Some(role),
        link: Some(link),
        mailed,
        ..Invite::default()
    };
    company_page(
        &state,
        &auth.into(),
        None,
        ProfileErrors::default(),
        None,
        invite,
    )
    .await
}

/// Longest payment limit echoed back in the form after a refusal, in characters.
const PAYMENT_MAX_TYPED_MAX: usize = 32;

#[derive(Debug, Clone, Default, Deserialize)]
struct PaymentLimitForm {
    /// Empty: no limit of the user's own.
    #[serde(default)]
    payment_max: String,
    /// The limit per month; empty: none. Left out (a form of before migration 0038): left as
    /// it is.
    payment_month_max: Option<String>,
}

/// Parses a payment limit as typed: empty is "none"; otherwise a positive amount up to
/// [`people::PAYMENT_MAX_MAX`] (minor units).
pub fn parse_payment_max(text: &str) -> Result<Option<i64>, PaymentMaxError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let amount = ledger::Amount::parse_positive(text).map_err(|_| PaymentMaxError::Invalid)?;
    if amount.minor() > people::PAYMENT_MAX_MAX {
        return Err(PaymentMaxError::TooHigh);
    }
    Ok(Some(amount.minor()))
}

/// Why a payment limit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMaxError {
    Invalid,
    TooHigh,
}

/// The owner sets (or lifts, with an empty field) a staff user's payment limit. A valid
/// limit for another company's user, the owner, an accountant or an unknown id: 404 (one
/// write, which changes only a staff user of this company).
async fn set_payment_limit(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(user_id): Path<i64>,
    Form(form): Form<PaymentLimitForm>,
) -> AppResult<Response> {
    require_owner(&auth)?;
    let t = auth.tr();
    let refusal = |error: PaymentMaxError| match error {
        PaymentMaxError::Invalid => t.field_error(FieldError::InvalidAmount),
        PaymentMaxError::TooHigh => t.payment_limit_too_high().to_owned(),
    };
    // What is shown back is cut: a refused text is never echoed whole.
    let typed = |text: &str| -> String { text.chars().take(PAYMENT_MAX_TYPED_MAX).collect() };
    let per_operation = parse_payment_max(&form.payment_max);
    let per_month = form.payment_month_max.as_deref().map(parse_payment_max);
    let (notice, invite) = match (per_operation, per_month) {
        (Ok(max), per_month @ (Some(Ok(_)) | None)) => {
            // Set only when every limit given is valid, in one statement, which changes only
            // a staff user of this company: anyone else is 404.
            let change = people::LimitsChange {
                per_operation: Some(max),
                per_month: per_month.and_then(Result::ok),
            };
            if !people::set_payment_limits(&state.store, auth.member.id, user_id, change).await? {
                return Err(AppError::NotFound);
            }
            (Some(t.payment_limit_saved()), Invite::default())
        }
        (per_operation, per_month) => {
            let limit = per_operation
                .err()
                .map(|error| (user_id, typed(&form.payment_max), refusal(error)));
            let month_limit = match (per_month, form.payment_month_max.as_deref()) {
                (Some(Err(error)), Some(text)) => Some((user_id, typed(text), refusal(error))),
                _ => None,
            };
            (
                None,
                Invite {
                    limit,
                    month_limit,
                    ..Invite::default()
                },
            )
        }
    };
    company_page(
        &state,
        &auth.into(),
        None,
        ProfileErrors::default(),
        notice,
        invite,
    )
    .await
}

/// The owner removes a staff member or the company's accountant: the user and its
/// sessions go. Another company's user, the owner, or an unknown id: 404.
async fn remove_user(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(user_id): Path<i64>,
) -> AppResult<Response> {
    require_owner(&auth)?;
    if !people::remove_member_user(&state.store, auth.member.id, user_id, &auth.auth.user.email)
        .await?
    {
        return Err(AppError::NotFound);
    }
    let saved = auth.tr().user_removed();
    company_page(
        &state,
        &auth.into(),
        None,
        ProfileErrors::default(),
        Some(saved),
        Invite::default(),
    )
    .await
}

super::i18n::catalogue! {
    payment_limit => "Plafond par opération", "Limit per operation";
    payment_limit_none => "aucun (le crédit du compte)", "none (the account's credit)";
    payment_limit_help => "Le plus qu'un collaborateur peut engager l'entreprise en une opération : paiement, demande acceptée, commande, remboursement, virement permanent. Vide : aucun plafond.", "The most a staff member may commit the company to in one operation: payment, request accepted, order, refund, standing order. Empty: no limit.";
    payment_limit_set => "Enregistrer le plafond", "Save the limit";
    payment_limit_saved => "Plafond enregistré.", "Limit saved.";
    entered_by => "par", "by";
    entered_by_label => "Saisi par", "Entered by";
    payment_limit_too_high => "Le plafond ne peut dépasser 10 000 000,00.", "The limit cannot exceed 10,000,000.00.";
    month_limit => "Plafond par mois", "Limit per month";
    month_limit_none => "aucun", "none";
    month_limit_help => "Le plus qu'un collaborateur peut engager l'entreprise sur un mois civil, toutes ses opérations ensemble (les échéances des virements permanents qu'il a mis en place comprises). Vide : aucun plafond.", "The most a staff member may commit the company to in a calendar month, all its operations together (the due dates of the standing orders it set up included). Empty: no limit.";
}

impl Tr {
    /// The data package holds more than `max` rows of `kind` (a table's name).
    pub fn package_too_large(&self, kind: &str, max: i64) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "Vos données comptent plus de {max} lignes de « {kind} » : trop pour un seul \
                 fichier. Les exports de la page Comptabilité et l'API (docs/api.md) les \
                 donnent par partie ; le gestionnaire du réseau peut aussi vous aider."
            ),
            super::i18n::Lang::En => format!(
                "Your data holds more than {max} rows of \"{kind}\": too many for one file. \
                 The exports of the Accounting page and the API (docs/api.md) give them in \
                 parts; the network's manager can help too."
            ),
        }
    }

    /// A staff user's operation above its payment limit.
    /// The pay form's note to a staff user with a limit.
    pub fn your_payment_max(&self, max: ledger::Amount) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "Votre plafond par opération : {}. Au-delà, vous pouvez demander l'accord du \
                 titulaire du compte.",
                self.lang.amount(max)
            ),
            super::i18n::Lang::En => format!(
                "Your limit per operation: {}. Above it, you may ask the account's owner to \
                 approve the payment.",
                self.lang.amount(max)
            ),
        }
    }

    /// A staff user's limit per month on the company page, with what is used of it.
    pub fn month_limit_shown(&self, max: ledger::Amount, used: ledger::Amount) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "{}, dont {} engagés ce mois-ci",
                self.lang.amount(max),
                self.lang.amount(used)
            ),
            super::i18n::Lang::En => format!(
                "{}, of which {} committed this month",
                self.lang.amount(max),
                self.lang.amount(used)
            ),
        }
    }

    /// The pay form's note to a staff user with a limit per month.
    pub fn your_payment_month_max(&self, max: ledger::Amount, used: ledger::Amount) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "Votre plafond par mois : {}, dont {} engagés ce mois-ci.",
                self.lang.amount(max),
                self.lang.amount(used)
            ),
            super::i18n::Lang::En => format!(
                "Your limit per month: {}, of which {} committed this month.",
                self.lang.amount(max),
                self.lang.amount(used)
            ),
        }
    }

    /// A staff user's operation that would take its month over its limit per month.
    pub fn over_payment_month_max(&self, over: &crate::spending::OverMonthMax) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "Ce montant dépasse ce qui reste de votre plafond par mois ({} engagés ce \
                 mois-ci sur {}, reste {}) : le titulaire du compte peut faire cette \
                 opération, ou relever votre plafond sur la page Entreprise.",
                self.lang.amount(over.used),
                self.lang.amount(over.max),
                self.lang.amount(over.left())
            ),
            super::i18n::Lang::En => format!(
                "This amount is over what is left of your limit per month ({} committed this \
                 month of {}, {} left): the account's owner can do it, or raise your limit on \
                 the Company page.",
                self.lang.amount(over.used),
                self.lang.amount(over.max),
                self.lang.amount(over.left())
            ),
        }
    }

    pub fn over_payment_max(&self, max: ledger::Amount) -> String {
        match self.lang {
            super::i18n::Lang::Fr => format!(
                "Ce montant dépasse votre plafond par opération ({}) : le titulaire du compte \
                 peut faire cette opération, ou relever votre plafond sur la page Entreprise.",
                self.lang.amount(max)
            ),
            super::i18n::Lang::En => format!(
                "This amount is over your limit per operation ({}): the account's owner can \
                 do it, or raise your limit on the Company page.",
                self.lang.amount(max)
            ),
        }
    }
}

pub struct DirectoryEntry {
    name: String,
    sector: String,
    city: String,
    contact: String,
    description: String,
    balance: Option<String>,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryTemplate {
    c: Chrome,
    entries: Vec<DirectoryEntry>,
}

async fn directory(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.refuse_member_accountant()?;
    let t = auth.tr();
    let members: Vec<Member> = people::members(&state.store, super::money::MEMBERS_LISTED_MAX)
        .await?
        .into_iter()
        .filter(|m| m.in_directory)
        .collect();
    // The balances shown, in one read (not one per member).
    let balances = people::shown_balances(&state.store, &members).await?;
    let mut entries = Vec::new();
    for m in members {
        let balance = balances.get(&m.account()).map(|b| t.lang.amount(*b));
        entries.push(DirectoryEntry {
            sector: sector_label(t, &m.sector),
            name: m.name,
            city: m.city,
            contact: m.contact,
            description: m.description,
            balance,
        });
    }
    page(DirectoryTemplate {
        c: auth.chrome(),
        entries,
    })
}

/// `/company/data.jsonl`: the company's data package (`api::package`), for any of its users.
/// Too many downloads at once, or a kind with more rows than a package holds, answer 503:
/// the API's `GET /api/v1/company/data` tells the two apart.
async fn data_package(State(state): State<AppState>, auth: MemberReader) -> AppResult<Response> {
    match super::api::package::package(&state, &auth.member).await {
        Ok(response) => Ok(response),
        Err(super::api::package::PackageError::Api(error)) => {
            Err(AppError::Internal(format!("data package: {error:?}")))
        }
        // Said in words (422), not as "come back later": waiting changes nothing.
        Err(super::api::package::PackageError::TooLarge { kind, max }) => {
            let message = auth.tr().package_too_large(kind, max);
            super::money::too_long(&auth, &message)
        }
        Err(error) => {
            tracing::warn!(%error, member = auth.member.id, "data package not started");
            Err(AppError::Unavailable)
        }
    }
}

impl Tr {
    pub fn data_title(&self) -> &'static str {
        match self.lang {
            super::i18n::Lang::Fr => "Vos données",
            super::i18n::Lang::En => "Your data",
        }
    }

    pub fn data_intro(&self) -> &'static str {
        match self.lang {
            super::i18n::Lang::Fr => {
                "Tout ce que le réseau conserve sur votre entreprise, en un fichier à emporter \
                 (JSON Lines, un enregistrement par ligne, format documenté) : profil, compte et \
                 limites, utilisateurs, annonces, demandes de paiement, commandes, virements \
                 permanents, demandes de découvert et toutes vos opérations. Vos livres existent \
                 aussi aux formats des comptables (FEC, CSV, OFX…) sur la page Comptabilité."
            }
            super::i18n::Lang::En => {
                "Everything the network keeps about your company, in one file to take with you \
                 (JSON Lines, one record per line, a documented format): profile, account and \
                 limits, users, listings, payment requests, orders, standing orders, credit-limit \
                 requests and every transaction. Your books also come in the accountants' \
                 formats (FEC, CSV, OFX...) on the Accounting page."
            }
        }
    }

    pub fn data_download(&self) -> &'static str {
        match self.lang {
            super::i18n::Lang::Fr => "Télécharger toutes vos données",
            super::i18n::Lang::En => "Download all your data",
        }
    }
}
