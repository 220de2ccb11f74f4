//! `/payments/{id}/refund`: the payee refunds a payment it received, in full (goods
//! returned, a payment made by mistake). The ledger reverses it (`trade::refund`): the payer
//! gets back all it paid, fees included. The page shows the payment first; the form carries
//! a random token, the refund's idempotency key, so a double click refunds once. Owner and
//! staff only; any other transaction, another member's payment and an unknown id are 404
//! alike. A partial refund is an ordinary payment (`/pay`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use ledger::{IdempotencyKey, Rejection, TxId, MEMO_LEN_MAX};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::money::{account_of, figures, token_is_valid, Figures};
use super::session::MemberAuth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::people;
use crate::trade::{self, Refundable};

pub fn router() -> Router<AppState> {
    Router::new().route("/payments/{id}/refund", get(refund_page).post(refund))
}

#[derive(Template)]
#[template(path = "refund.html")]
struct RefundTemplate {
    c: Chrome,
    id: u64,
    date: String,
    payer: String,
    amount: String,
    reference: String,
    memo: String,
    /// What the refund takes from the caller's account: what it received, net of the
    /// commission (which the network gives back).
    debited: String,
    /// What the payer gets back: what it paid, its fund contribution included.
    credited: String,
    /// The reversal that refunded it already; no form then.
    refunded_by: Option<String>,
    /// The refund just made.
    done: Option<String>,
    error: Option<String>,
    typed_memo: String,
    token: String,
    memo_len_max: usize,
    figures: Figures,
}

#[derive(Deserialize)]
struct RefundForm {
    #[serde(default)]
    memo: String,
    #[serde(default)]
    token: String,
}

/// The payment `id` names, if the caller's company received it.
async fn received(state: &AppState, auth: &MemberAuth, id: &str) -> AppResult<Refundable> {
    let id: u64 = id.parse().map_err(|_| AppError::NotFound)?;
    trade::refundable(&state.store, &auth.member, TxId(id))
        .await?
        .ok_or(AppError::NotFound)
}

struct Outcome {
    done: Option<String>,
    error: Option<String>,
    typed_memo: String,
}

async fn draw(
    state: &AppState,
    auth: &MemberAuth,
    payment: &Refundable,
    status: StatusCode,
    outcome: Outcome,
) -> AppResult<Response> {
    let t = auth.tr();
    let tx = &payment.transaction;
    let payer = people::member_by_account(&state.store, payment.payer.0 as i64)
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let account = account_of(state, &auth.member).await?;
    // Each account's net in the payment, which the reversal negates.
    let net = |account: ledger::AccountId| {
        let minor: i64 = tx
            .postings()
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount.minor())
            .sum();
        t.lang
            .amount(ledger::Amount::from_minor(minor.saturating_abs()))
    };
    let mut response = page(RefundTemplate {
        c: auth.chrome(),
        id: tx.id().0,
        date: tx.time().format("%d/%m/%Y %H:%M").to_string(),
        payer,
        amount: t.lang.amount(payment.amount),
        reference: tx.reference().to_owned(),
        memo: tx.memo().to_owned(),
        debited: net(auth.member.account()),
        credited: net(payment.payer),
        refunded_by: payment.refunded_by.map(|r| r.to_string()),
        done: outcome.done,
        error: outcome.error,
        typed_memo: outcome.typed_memo,
        token: people::random_token(),
        memo_len_max: MEMO_LEN_MAX,
        figures: figures(t.lang, &account),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn refund_page(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let payment = received(&state, &auth, &id).await?;
    let outcome = Outcome {
        done: None,
        error: None,
        typed_memo: String::new(),
    };
    draw(&state, &auth, &payment, StatusCode::OK, outcome).await
}

async fn refund(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> AppResult<Response> {
    if !token_is_valid(&form.token) {
        return Err(AppError::BadRequest);
    }
    let payment = received(&state, &auth, &id).await?;
    let t = auth.tr();
    let typed_memo: String = form.memo.chars().take(MEMO_LEN_MAX + 1).collect();
    let memo = form.memo.trim().to_owned();
    let key = IdempotencyKey::new(format!("web-refund-{}-{}", auth.member.id, form.token))
        .map_err(|_| AppError::BadRequest)?;
    // A refund debits the company like a payment: a staff user's limits apply (the month's
    // is held last, once nothing else refuses it).
    let refused = if memo.chars().count() > MEMO_LEN_MAX {
        Err(t.refund_memo_too_long(MEMO_LEN_MAX))
    } else if let Err(over) = auth.auth.user.may_commit(payment.amount) {
        Err(t.over_payment_max(over.max))
    } else {
        let now = crate::people::now_unix();
        crate::spending::hold(
            &state.store,
            &auth.auth.user,
            key.as_str(),
            payment.amount,
            now,
        )
        .await?
        .map_err(|over| t.over_payment_month_max(&over))
    };
    let held = match refused {
        Ok(held) => held,
        Err(error) => {
            let outcome = Outcome {
                done: None,
                error: Some(error),
                typed_memo,
            };
            return draw(
                &state,
                &auth,
                &payment,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
            )
            .await;
        }
    };
    let author = auth.auth.user.author();
    let decision = trade::refund(&state.store, key, &payment, memo, author).await?;
    held.after(&state.store, &decision).await?;
    // The page shows the payment as it now is: refunded by this reversal, or by the one the
    // ledger names when it refuses a second.
    let mut payment = payment;
    match &decision {
        Ok(outcome) => payment.refunded_by = outcome.tx(),
        Err(Rejection::AlreadyReversed { by, .. }) => payment.refunded_by = Some(*by),
        Err(_) => {}
    }
    match decision {
        Ok(outcome) => {
            let done = outcome.tx().map(|t| t.to_string());
            let outcome = Outcome {
                done,
                error: None,
                typed_memo: String::new(),
            };
            draw(&state, &auth, &payment, StatusCode::OK, outcome).await
        }
        Err(rejection) => {
            let outcome = Outcome {
                done: None,
                error: Some(t.rejection(&rejection)),
                typed_memo,
            };
            draw(
                &state,
                &auth,
                &payment,
                StatusCode::UNPROCESSABLE_ENTITY,
                outcome,
            )
            .await
        }
    }
}

impl Tr {
    pub fn refund_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Rembourser un paiement reçu",
            Lang::En => "Refund a payment received",
        }
    }

    pub fn line_reversed(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "annulée",
            Lang::En => "reversed",
        }
    }

    pub fn refund_link(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Rembourser",
            Lang::En => "Refund",
        }
    }

    pub fn refund_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Le remboursement annule ce paiement en entier : le payeur récupère tout ce \
                 qu'il a payé, frais compris, et votre compte est débité du montant reçu (il \
                 vous faut le crédit disponible). Un paiement ne se rembourse qu'une fois. \
                 Pour rendre une partie seulement, faites un paiement."
            }
            Lang::En => {
                "A refund cancels this payment in full: the payer gets back all it paid, fees \
                 included, and your account is debited with the amount received (you need the \
                 available credit). A payment is refunded only once. To give back only part \
                 of it, make a payment."
            }
        }
    }

    pub fn refund_debited(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Débité de votre compte (le montant reçu, net de la commission)",
            Lang::En => "Taken from your account (the amount received, net of the commission)",
        }
    }

    pub fn refund_credited(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Rendu au payeur (ce qu'il a payé, contribution au fonds comprise)",
            Lang::En => "Given back to the payer (what it paid, fund contribution included)",
        }
    }

    pub fn refund_payer(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Payé par",
            Lang::En => "Paid by",
        }
    }

    pub fn refund_reason(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Motif (visible par le payeur)",
            Lang::En => "Reason (the payer sees it)",
        }
    }

    pub fn refund_submit(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Rembourser ce paiement",
            Lang::En => "Refund this payment",
        }
    }

    pub fn refund_done(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Paiement remboursé",
            Lang::En => "Payment refunded",
        }
    }

    pub fn refund_already(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Ce paiement a déjà été remboursé",
            Lang::En => "This payment was already refunded",
        }
    }

    pub fn refund_memo_too_long(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => format!("Le motif dépasse {max} caractères."),
            Lang::En => format!("The reason is over {max} characters."),
        }
    }
}
