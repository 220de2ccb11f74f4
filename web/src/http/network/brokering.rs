//! `/admin/brokering`: for members with large positive balances, offers they could buy; for
//! members deep in debt, wants they could fill (managers only).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{actor, page_error};
use crate::http::error::AppResult;
use crate::http::i18n::Tr;
use crate::http::market::sector_label;
use crate::http::session::Auth;
use crate::http::templates::{page, Chrome};
use crate::http::AppState;
use crate::market;
use crate::network::brokering::{self, Suggestion};
use crate::network::Access;

pub struct MatchView {
    listing_id: i64,
    title: String,
    category: String,
    city: String,
    same_city: bool,
    counterparty: String,
    counterparty_balance: String,
}

pub struct SuggestionView {
    member_id: i64,
    name: String,
    city: String,
    balance: String,
    leaving: bool,
    matches: Vec<MatchView>,
}

fn view(t: Tr, s: &Suggestion) -> SuggestionView {
    SuggestionView {
        member_id: s.member.id,
        name: s.member.name.clone(),
        city: s.member.city.clone(),
        balance: t.lang.amount(s.balance),
        leaving: s.leaving,
        matches: s
            .matches
            .iter()
            .map(|m| MatchView {
                listing_id: m.listing.id,
                title: m.listing.title.clone(),
                category: sector_label(t, &m.listing.category),
                city: m.listing.city.clone(),
                same_city: m.same_city,
                counterparty: m.counterparty.name.clone(),
                counterparty_balance: t.lang.amount(m.counterparty_balance),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "net_brokering.html")]
struct BrokeringTemplate {
    c: Chrome,
    creditors: Vec<SuggestionView>,
    debtors: Vec<SuggestionView>,
}

pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let actor = actor(&auth, Access::Act)?;
    let t = auth.tr();
    let today = market::today();
    let lists = brokering::brokering(&state.store, &actor, &today)
        .await
        .map_err(page_error)?;
    page(BrokeringTemplate {
        c: auth.chrome(),
        creditors: lists.creditors.iter().map(|s| view(t, s)).collect(),
        debtors: lists.debtors.iter().map(|s| view(t, s)).collect(),
    })
}
