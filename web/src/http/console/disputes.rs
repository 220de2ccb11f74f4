//! `/admin/disputes`: the network's disputes (`console::disputes`), the open ones oldest
//! first with what the payer says and what the payee answered, then the last decided ones.
//! A manager settles an open dispute with a note both companies read: it reverses the
//! payment (the ledger's reversal, `transaction.reverse`) or dismisses the dispute
//! (`dispute.dismiss`). The form carries a random `token`, the reversal's idempotency key,
//! so a double click reverses once. Accountants read; members get 403.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{form_messages, manager, page_error, reader, request_key, see_other, unprocessable};
use crate::console::disputes::{self, Decision, DISPUTE_NOTE_LEN_MAX};
use crate::console::{ConsoleError, Field, Problem};
use crate::http::disputes::DisputeView;
use crate::http::error::{AppError, AppResult};
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::people;

#[derive(Template)]
#[template(path = "console/disputes.html")]
struct DisputesTemplate {
    c: Chrome,
    open: Vec<DisputeView>,
    decided: Vec<DisputeView>,
    /// How many disputes the network has in each status (its id, its words, the count).
    counts: Vec<(&'static str, &'static str, i64)>,
    can_act: bool,
    messages: Vec<String>,
    /// The note typed for the dispute it was refused on, kept.
    note_for: i64,
    typed_note: String,
    note_len_max: usize,
    token: String,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    failure: Option<(ConsoleError, i64, String)>,
) -> AppResult<Response> {
    let actor = reader(auth)?;
    let t = auth.tr();
    let (open, decided) = disputes::network(&state.store, &actor)
        .await
        .map_err(page_error)?;
    let counts = disputes::counts(&state.store, &actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|(status, count)| (status.as_str(), t.dispute_status(status), count))
        .collect();
    let (messages, note_for, typed_note) = match failure {
        Some((error, id, typed)) => (form_messages(t, error)?, id, typed),
        None => (Vec::new(), 0, String::new()),
    };
    let failed = !messages.is_empty();
    let response = page(DisputesTemplate {
        c: auth.chrome(),
        open: open.iter().map(|d| DisputeView::of(t, d)).collect(),
        decided: decided.iter().map(|d| DisputeView::of(t, d)).collect(),
        counts,
        can_act: actor.require_manager().is_ok(),
        messages,
        note_for,
        typed_note: typed_note.chars().take(DISPUTE_NOTE_LEN_MAX + 1).collect(),
        note_len_max: DISPUTE_NOTE_LEN_MAX,
        token: people::random_token(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, None).await
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    token: String,
}

pub async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let result = match Decision::parse(&form.decision) {
        Some(decision) => {
            let key = request_key(&form.token);
            disputes::decide(&state.store, &actor, id, decision, &form.note, &key).await
        }
        None => Err(ConsoleError::invalid(
            Field::Decision,
            Problem::InvalidChoice,
        )),
    };
    match result {
        Ok(_) => Ok(see_other("/admin/disputes")),
        Err(error) => draw(&state, &auth, Some((error, id, form.note))).await,
    }
}
