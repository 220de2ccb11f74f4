//! `/admin/two-step`: who the network requires two-step login of (managers change it, with
//! a reason; accountants read it), and the users it covers who have not turned it on yet.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{form_messages, manager, page_error, reader, see_other, unprocessable};
use crate::console::settings;
use crate::console::ConsoleError;
use crate::http::error::AppResult;
use crate::http::i18n::Tr;
use crate::http::session::Auth;
use crate::http::templates::{page, role_label, Chrome};
use crate::http::AppState;
use crate::totp::{self, TwoStepRule};

crate::http::i18n::catalogue! {
    con_two_step => "Connexion en deux étapes", "Two-step login";
    con_two_step_intro => "Le réseau peut demander la connexion en deux étapes (un code d'une application d'authentification après le mot de passe). Un utilisateur concerné qui ne l'a pas activée n'accède qu'à la page qui l'active, et ne peut plus la désactiver. Les jetons d'API ne sont pas concernés.", "The network may require two-step login (a code from an authenticator app after the password). A user it covers who has not turned it on reaches only the page that turns it on, and can no longer turn it off. API tokens are not affected.";
    con_two_step_rule => "Demandée à", "Required of";
    con_two_step_nobody => "personne (au choix de chacun)", "nobody (each user's choice)";
    con_two_step_network_staff => "l'équipe du réseau (gestionnaires et comptables)", "the network's staff (managers and accountants)";
    con_two_step_everyone => "tous les utilisateurs, ceux des membres compris", "every user, the members' included";
    con_two_step_without => "Concernés sans connexion en deux étapes", "Covered without two-step login";
    con_two_step_none_without => "Aucun : tous les utilisateurs concernés l'ont activée.", "None: every user covered has turned it on.";
    con_two_step_listed => "Les premiers par adresse :", "The first by address:";
    con_two_step_lost => "Un utilisateur d'un membre qui a perdu son téléphone et ses codes de secours : la page du membre permet de la désactiver. Pour un gestionnaire ou un comptable du réseau : troc admin two-step-off.", "A member's user who lost its phone and recovery codes: the member's page turns it off. For a manager or accountant of the network: troc admin two-step-off.";
}

/// The rule in the reader's language.
pub(crate) fn rule_text(t: Tr, rule: TwoStepRule) -> &'static str {
    match rule {
        TwoStepRule::Nobody => t.con_two_step_nobody(),
        TwoStepRule::NetworkStaff => t.con_two_step_network_staff(),
        TwoStepRule::Everyone => t.con_two_step_everyone(),
    }
}

pub struct Choice {
    value: &'static str,
    label: &'static str,
    current: bool,
}

pub struct Line {
    email: String,
    name: String,
    role: &'static str,
    member: Option<(i64, String)>,
}

#[derive(Template)]
#[template(path = "console/two_step.html")]
struct TwoStepTemplate {
    c: Chrome,
    rule: &'static str,
    choices: Vec<Choice>,
    without_count: i64,
    without: Vec<Line>,
    reason: String,
    messages: Vec<String>,
    can_act: bool,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    reason: String,
    failure: Option<ConsoleError>,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let rule = totp::rule(&state.store).await?;
    let (without_count, without) = totp::without(&state.store, rule).await?;
    let failed = failure.is_some();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let response = page(TwoStepTemplate {
        c: auth.chrome(),
        rule: rule_text(t, rule),
        choices: TwoStepRule::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: rule_text(t, r),
                current: r == rule,
            })
            .collect(),
        without_count,
        without: without
            .into_iter()
            .map(|w| Line {
                email: w.email,
                name: w.display_name,
                role: role_label(t, w.role),
                member: w.member,
            })
            .collect(),
        reason,
        messages,
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, String::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    reason: String,
}

pub async fn set(
    State(state): State<AppState>,
    auth: Auth,
    Form(form): Form<RuleForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match settings::set_two_step_rule(&state.store, &actor, &form.rule, &form.reason).await {
        Ok(_) => Ok(see_other("/admin/two-step")),
        Err(error @ ConsoleError::Invalid(_)) => {
            draw(&state, &auth, form.reason, Some(error)).await
        }
        Err(error) => Err(page_error(error)),
    }
}
