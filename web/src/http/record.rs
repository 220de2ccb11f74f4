//! `/company/record`: what the network's manager did to the company (its limits and status,
//! its requests for a limit decided, its category, review date and declared turnover, the
//! invitations and password links made for its people...), read from the action log, newest
//! first, for any of its users. The API gives the same entries
//! (`GET /api/v1/company/actions`) and the data package carries them.
//!
//! It changes nothing. The company's own steps (payments, requests, orders) are not in the
//! action log: the history and their own pages show them. The network-wide actions (fees,
//! settings) are on `/rules` and the console, not here.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ledger::Amount;
use serde::Deserialize;
use serde_json::Value;

use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::session::MemberReader;
use super::templates::{page, Chrome};
use super::AppState;
use crate::store::{ActionEntry, ActionFilter};

/// Entries on one page.
pub const RECORD_PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/company/record", get(record))
}

#[derive(Debug, Default, Deserialize)]
pub struct RecordQuery {
    /// Entries older than this one (the previous page's last).
    #[serde(default)]
    before: String,
}

pub struct RecordRow {
    id: i64,
    time: String,
    action: String,
    change: String,
    actor: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordTemplate {
    c: Chrome,
    rows: Vec<RecordRow>,
    next_url: Option<String>,
}

async fn record(
    State(state): State<AppState>,
    reader: MemberReader,
    Query(query): Query<RecordQuery>,
) -> AppResult<Response> {
    let before_id = match query.before.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AppError::BadRequest)?,
        ),
    };
    let filter = ActionFilter {
        member_id: Some(reader.member.id),
        before_id,
        ..ActionFilter::default()
    };
    let mut entries = state.store.actions(&filter, RECORD_PAGE_SIZE + 1).await?;
    let next_url = if entries.len() as i64 > RECORD_PAGE_SIZE {
        entries.truncate(RECORD_PAGE_SIZE as usize);
        entries
            .last()
            .map(|e| format!("/company/record?before={}", e.id))
    } else {
        None
    };
    let t = reader.tr();
    let rows = entries.iter().map(|e| row(t, e)).collect();
    page(RecordTemplate {
        c: reader.chrome(),
        rows,
        next_url,
    })
}

fn row(t: Tr, entry: &ActionEntry) -> RecordRow {
    RecordRow {
        id: entry.id,
        time: entry.time.format("%Y-%m-%d %H:%M").to_string(),
        action: action_label(t.lang, &entry.action),
        change: change_text(t.lang, &entry.action, &entry.before, &entry.after),
        actor: entry.actor.clone(),
        reason: entry.reason.clone(),
    }
}

/// An action's name for members; an action this list does not know shows its code.
pub fn action_label(lang: Lang, action: &str) -> String {
    let (fr, en) = match action {
        "limits.set" => ("Limites fixées", "Limits set"),
        "limit_request.grant" => ("Demande de limite accordée", "Limit request granted"),
        "limit_request.decline" => ("Demande de limite refusée", "Limit request declined"),
        "member.freeze" => ("Compte gelé", "Account frozen"),
        "member.unfreeze" => ("Compte dégelé", "Account unfrozen"),
        "member.close" => ("Compte fermé", "Account closed"),
        "member.create" => ("Adhésion enregistrée", "Membership recorded"),
        "application.approve" => ("Candidature acceptée", "Application approved"),
        "member.category" => ("Catégorie changée", "Category changed"),
        "member.review" => ("Date de revue fixée", "Review date set"),
        "member.turnover" => ("Chiffre d'affaires déclaré", "Turnover declared"),
        "member.invite" => ("Responsable invité", "Owner invited"),
        "member.opening_balance" => ("Solde d'ouverture", "Opening balance"),
        "member.write_off" => ("Dette passée en perte", "Debt written off"),
        "member.departure_settle" => ("Départ soldé", "Departure settled"),
        "transaction.reverse" => ("Opération annulée", "Transaction reversed"),
        "dispute.dismiss" => ("Litige clos par le réseau", "Dispute dismissed"),
        "fund.recovery" => ("Recouvrement", "Recovery"),
        "user.password_reset_link" => ("Lien de mot de passe créé", "Password link made"),
        "user.two_step_off" => (
            "Connexion en deux étapes désactivée",
            "Two-step login turned off",
        ),
        other => return other.to_owned(),
    };
    match lang {
        Lang::Fr => fr.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn status_label(lang: Lang, status: &Value) -> String {
    let text = status.as_str().unwrap_or("");
    let (fr, en) = match text {
        "active" => ("actif", "active"),
        "frozen" => ("gelé", "frozen"),
        "closed" => ("fermé", "closed"),
        other => (other, other),
    };
    match lang {
        Lang::Fr => fr.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// What an entry changed, in words: the account's limits and status when a ledger action
/// moved them, and the few fields other actions set; empty when there is nothing to say.
pub fn change_text(lang: Lang, action: &str, before: &Value, after: &Value) -> String {
    let amount = |value: &Value| -> String {
        match value.as_i64() {
            Some(minor) => lang.amount(Amount::from_minor(minor)),
            None => match lang {
                Lang::Fr => "aucun".to_owned(),
                Lang::En => "none".to_owned(),
            },
        }
    };
    let said = |fr: &str, en: &str, what: String| match lang {
        Lang::Fr => format!("{fr} : {what}"),
        Lang::En => format!("{en}: {what}"),
    };
    let mut parts: Vec<String> = Vec::new();
    let (was, is) = (&before["account"], &after["account"]);
    if is.is_object() {
        let moved = |key: &str| was.is_object() && was[key] != is[key];
        if moved("credit_limit") {
            let what = format!(
                "{} → {}",
                amount(&was["credit_limit"]),
                amount(&is["credit_limit"])
            );
            parts.push(said("limite de crédit", "credit limit", what));
        }
        if moved("max_balance") {
            let what = format!(
                "{} → {}",
                amount(&was["max_balance"]),
                amount(&is["max_balance"])
            );
            parts.push(said("plafond", "upper limit", what));
        }
        if moved("status") {
            let what = format!(
                "{} → {}",
                status_label(lang, &was["status"]),
                status_label(lang, &is["status"])
            );
            parts.push(said("statut", "status", what));
        }
    }
    match action {
        "limit_request.grant" | "limit_request.decline"
            if before["credit_limit_asked"].is_i64() =>
        {
            parts.push(said(
                "demandé",
                "asked",
                amount(&before["credit_limit_asked"]),
            ));
        }
        "member.category" => {
            if let Some(code) = after["category"].as_str() {
                parts.push(said("catégorie", "category", code.to_owned()));
            }
        }
        "member.review" => {
            let when = after["next_review"].as_str().map(str::to_owned);
            let when = when.unwrap_or_else(|| amount(&Value::Null));
            parts.push(said("prochaine revue", "next review", when));
        }
        "member.turnover" => {
            parts.push(said(
                "chiffre d'affaires",
                "turnover",
                amount(&after["declared_turnover"]),
            ));
        }
        "member.invite" | "user.password_reset_link" | "user.two_step_off" => {
            if let Some(email) = after["email"].as_str() {
                parts.push(email.to_owned());
            }
        }
        _ => {}
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_read_in_words() {
        let account = |limit: i64, max: Option<i64>, status: &str| json!({ "account": { "status": status, "credit_limit": limit, "max_balance": max } });
        assert_eq!(
            change_text(
                Lang::Fr,
                "limits.set",
                &account(50_000, None, "active"),
                &account(75_000, Some(100_000), "active")
            ),
            "limite de crédit : 500,00 → 750,00 · plafond : aucun → 1 000,00"
        );
        assert_eq!(
            change_text(
                Lang::En,
                "member.freeze",
                &account(50_000, None, "active"),
                &account(50_000, None, "frozen")
            ),
            "status: active → frozen"
        );
        // A creation has no account before: nothing moved.
        assert_eq!(
            change_text(
                Lang::Fr,
                "limits.set",
                &json!({ "account": null }),
                &account(50_000, None, "active")
            ),
            ""
        );
        assert_eq!(
            change_text(
                Lang::En,
                "limit_request.decline",
                &json!({ "credit_limit_asked": 80_000 }),
                &json!({ "status": "declined" })
            ),
            "asked: 800.00"
        );
        assert_eq!(
            change_text(
                Lang::Fr,
                "member.review",
                &json!({}),
                &json!({ "next_review": null })
            ),
            "prochaine revue : aucun"
        );
        assert_eq!(
            change_text(
                Lang::Fr,
                "member.invite",
                &Value::Null,
                &json!({ "email": "a@b.fr" })
            ),
            "a@b.fr"
        );
        assert_eq!(
            change_text(Lang::Fr, "something.new", &Value::Null, &Value::Null),
            ""
        );
        assert_eq!(action_label(Lang::En, "member.freeze"), "Account frozen");
        assert_eq!(action_label(Lang::Fr, "something.new"), "something.new");
    }
}
