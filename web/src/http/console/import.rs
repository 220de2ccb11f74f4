//! `/admin/import`: the CSV import form (multipart upload), its line-by-line report, the
//! invitation links of a successful import, and the interrupted creations to finish.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;

use super::{form_messages, manager, page_error, reader, time_text, unprocessable};
use crate::console::import::{import_members, IMPORT_FILE_LEN_MAX, IMPORT_LINES_MAX};
use crate::console::{
    finish_batch, unfinished_batches, ConsoleError, CreatedMember, LineIssue, Problem,
};
use crate::http::error::{AppError, AppResult};
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;

pub struct Unfinished {
    id: i64,
    source: &'static str,
    actor: String,
    lines: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportTemplate {
    c: Chrome,
    messages: Vec<String>,
    links: Vec<(String, String)>,
    /// The links were also e-mailed to the owners.
    mailed: bool,
    unfinished: Vec<Unfinished>,
    file_len_max: usize,
    lines_max: usize,
    can_act: bool,
}

async fn draw(
    state: &AppState,
    auth: &Auth,
    failure: Option<ConsoleError>,
    created: Vec<CreatedMember>,
) -> AppResult<Response> {
    let emailed =
        crate::http::mail_new_owners(state, auth.tr().lang, &auth.user.display_name, &created)
            .await?;
    let actor = reader(auth)?;
    let t = auth.tr();
    let messages = match failure {
        Some(error) => form_messages(t, error)?,
        None => Vec::new(),
    };
    let unfinished = unfinished_batches(&state.store, &actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|b| Unfinished {
            id: b.id,
            source: b.source.as_str(),
            actor: b.actor,
            lines: b.lines,
            created: time_text(b.created_at),
        })
        .collect();
    let links = created
        .into_iter()
        .map(|m| (m.name, m.invitation.link(state.config.base_url())))
        .collect();
    let failed = !messages.is_empty();
    let response = page(ImportTemplate {
        c: auth.chrome(),
        messages,
        links,
        mailed: emailed == crate::http::Emailed::Yes,
        unfinished,
        file_len_max: IMPORT_FILE_LEN_MAX,
        lines_max: IMPORT_LINES_MAX,
        can_act: actor.require_manager().is_ok(),
    })?;
    Ok(if failed {
        unprocessable(response)
    } else {
        response
    })
}

pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    draw(&state, &auth, None, Vec::new()).await
}

/// The uploaded file's bytes (the `file` part), read up to one byte past the limit so that
/// the domain reports a file that is too large.
async fn file_of(mut multipart: Multipart) -> AppResult<Vec<u8>> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest)?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| AppError::TooLarge)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > IMPORT_FILE_LEN_MAX {
                break;
            }
        }
        return Ok(bytes);
    }
    Ok(Vec::new())
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Multipart,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    let bytes = file_of(multipart).await?;
    if bytes.is_empty() {
        let error = ConsoleError::InvalidFile(vec![LineIssue {
            line: None,
            field: None,
            problem: Problem::NoLines,
        }]);
        return draw(&state, &auth, Some(error), Vec::new()).await;
    }
    match import_members(&state.store, &actor, &bytes).await {
        Ok(created) => draw(&state, &auth, None, created).await,
        Err(error) => draw(&state, &auth, Some(error), Vec::new()).await,
    }
}

pub async fn finish(
    State(state): State<AppState>,
    auth: Auth,
    Path(batch): Path<i64>,
) -> AppResult<Response> {
    let actor = manager(&auth)?;
    match finish_batch(&state.store, &actor, batch).await {
        Ok(created) => draw(&state, &auth, None, created).await,
        Err(ConsoleError::NotFound) => Err(AppError::NotFound),
        Err(error) => draw(&state, &auth, Some(error), Vec::new()).await,
    }
}
