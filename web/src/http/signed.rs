//! `/pay/signed`: a member cashes a payment order signed by its payer, like a cheque (or pays
//! one its own key signed), from the web. The owner or staff pastes the order as `troc order
//! sign` prints it; the page checks it first without paying (fields, key, signature, expiry:
//! `Store::check_signed_order`) and shows who pays whom how much; a second button checks it
//! again, holds the key's registering user to its payment limit, and pays the checked order
//! (`Store::submit_checked_order`), the same path as `POST /api/v1/signed-payments`.
//! The order is paid at most once under its key, whoever submits it and however often.
//! Forms carry the CSRF token like every form; refusals are in the user's language and
//! change nothing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use ledger::audit::{PaymentOrder, SignatureError};
use ledger::{AccountId, Rejection};
use serde::Deserialize;

use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::session::MemberAuth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::audit::orders::{OrderField, SignedOrderBody};
use crate::people;
use crate::spending::OverLimit;
use crate::store::{CheckedOrder, OrderError, ORDER_LIFETIME_MAX};

/// Longest order text the page reads (a signed order is about 450 bytes; more room for
/// indentation and line breaks).
pub const SIGNED_ORDER_TEXT_LEN_MAX: usize = 4_096;

pub fn router() -> Router<AppState> {
    Router::new().route("/pay/signed", get(cash_page).post(cash))
}

/// A checked order, as the page shows it.
pub struct OrderView {
    pub payer: String,
    pub payee: String,
    pub amount: String,
    pub reference: String,
    pub expires: String,
    pub public_key: String,
    /// The caller pays it (its own signed order) rather than cashes it.
    pub paying: bool,
}

#[derive(Template)]
#[template(path = "signed_order.html")]
struct SignedOrderTemplate {
    c: Chrome,
    /// The order text as pasted, kept (escaped) after a check or a refusal.
    text: String,
    text_len_max: usize,
    error: Option<String>,
    /// The order checked and ready to pay.
    checked: Option<OrderView>,
    /// The transaction that paid it.
    paid: Option<String>,
}

#[derive(Deserialize)]
struct CashForm {
    #[serde(default)]
    order: String,
    /// `check` (the default) or `pay`.
    #[serde(default)]
    step: String,
}

fn draw(
    auth: &MemberAuth,
    status: StatusCode,
    text: String,
    error: Option<String>,
    checked: Option<OrderView>,
    paid: Option<String>,
) -> AppResult<Response> {
    let mut response = page(SignedOrderTemplate {
        c: auth.chrome(),
        text,
        text_len_max: SIGNED_ORDER_TEXT_LEN_MAX,
        error,
        checked,
        paid,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

async fn cash_page(auth: MemberAuth) -> AppResult<Response> {
    draw(&auth, StatusCode::OK, String::new(), None, None, None)
}

/// The order the text holds, between the caller and a member, or the refusal to show.
async fn read_order(
    state: &AppState,
    auth: &MemberAuth,
    text: &str,
) -> AppResult<Result<(SignedOrderBody, PaymentOrder, OrderView), String>> {
    let t = auth.tr();
    if text.len() > SIGNED_ORDER_TEXT_LEN_MAX {
        return Ok(Err(t.signed_too_long(SIGNED_ORDER_TEXT_LEN_MAX)));
    }
    let Ok(body) = serde_json::from_str::<SignedOrderBody>(text.trim()) else {
        return Ok(Err(t.signed_not_an_order().to_owned()));
    };
    let order = match body.order() {
        Ok(order) => order,
        Err(fault) => return Ok(Err(t.signed_field(fault.field))),
    };
    let own = auth.member.account();
    if order.payer != own && order.payee != own {
        return Ok(Err(t.signed_not_yours().to_owned()));
    }
    let accounts = [order.payer, order.payee].into_iter().collect();
    let holders = people::holders_of_accounts(&state.store, &accounts).await?;
    let name = |account: AccountId| holders.get(&account).map(|(_, name)| name.clone());
    let Some(payer) = name(order.payer) else {
        return Ok(Err(t.signed_field(OrderField::Payer)));
    };
    let Some(payee) = name(order.payee) else {
        return Ok(Err(t.signed_field(OrderField::Payee)));
    };
    let view = OrderView {
        payer,
        payee,
        amount: t.lang.amount(order.amount),
        reference: order.reference.clone(),
        expires: super::tokens::day_time(order.expires_at.timestamp()),
        public_key: body.public_key.trim().to_ascii_lowercase(),
        paying: order.payer == own,
    };
    Ok(Ok((body, order, view)))
}

async fn cash(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<CashForm>,
) -> AppResult<Response> {
    let t = auth.tr();
    // What is shown back is cut at the limit: a refused text is never echoed whole.
    let shown: String = form.order.chars().take(SIGNED_ORDER_TEXT_LEN_MAX).collect();
    let refused = |message: String| {
        draw(
            &auth,
            StatusCode::UNPROCESSABLE_ENTITY,
            shown.clone(),
            Some(message),
            None,
            None,
        )
    };
    let (body, order, view) = match read_order(&state, &auth, &form.order).await? {
        Ok(read) => read,
        Err(message) => return refused(message),
    };
    let (public_key, signature) = (&body.public_key, &body.signature);
    match form.step.as_str() {
        "pay" => match signer_limit(&state, &order, public_key, signature).await {
            // The key signs for whoever registered it: a staff user's limits hold.
            Ok(Err(OverLimit::Operation(over))) => refused(t.over_payment_max(over.max)),
            Ok(Err(OverLimit::Month(over))) => refused(t.over_payment_month_max(&over)),
            Ok(Ok((checked, held))) => {
                let decision = state.store.submit_checked_order(checked).await?;
                held.after(&state.store, &decision).await?;
                match decision {
                    Ok(outcome) => {
                        let tx = outcome.tx().map(|t| t.to_string()).unwrap_or_default();
                        draw(
                            &auth,
                            StatusCode::OK,
                            String::new(),
                            None,
                            Some(view),
                            Some(tx),
                        )
                    }
                    Err(Rejection::IdempotencyConflict) => refused(t.signed_key_used().to_owned()),
                    Err(rejection) => refused(t.rejection(&rejection)),
                }
            }
            Err(error) => refused(order_refusal(&t, error)?),
        },
        "check" | "" => match state
            .store
            .check_signed_order(&order, public_key, signature)
            .await
        {
            Ok(_) => draw(&auth, StatusCode::OK, shown.clone(), None, Some(view), None),
            Err(error) => refused(order_refusal(&t, error)?),
        },
        _ => Err(AppError::BadRequest),
    }
}

/// The order as checked and held in its signer's month, if the user who registered its key
/// may commit the payer to its amount (`spending::hold_for_signer`); the order's own
/// refusal (unknown key, bad signature...) if it does not check.
async fn signer_limit(
    state: &AppState,
    order: &ledger::audit::PaymentOrder,
    public_key: &str,
    signature: &str,
) -> Result<Result<(CheckedOrder, crate::spending::Held), OverLimit>, OrderError> {
    let checked = state
        .store
        .check_signed_order(order, public_key, signature)
        .await?;
    let now = crate::people::now_unix();
    let held = crate::spending::hold_for_signer(&state.store, checked.key(), order, now).await?;
    Ok(held.map(|held| (checked, held)))
}

/// Why the order was refused, in the user's language; a store failure stays an error.
fn order_refusal(t: &Tr, error: OrderError) -> AppResult<String> {
    Ok(match error {
        OrderError::Store(error) => return Err(AppError::Store(error)),
        OrderError::KeyOutsideNamespace => t.signed_field(OrderField::IdempotencyKey),
        OrderError::Signature(SignatureError::BadKey) => t.signed_field(OrderField::PublicKey),
        OrderError::Signature(SignatureError::MalformedSignature) => {
            t.signed_field(OrderField::Signature)
        }
        OrderError::Signature(SignatureError::Mismatch) => t.signed_bad_signature().to_owned(),
        OrderError::UnknownKey(_) => t.signed_unknown_key().to_owned(),
        OrderError::RevokedKey(_) => t.signed_key_revoked().to_owned(),
        OrderError::Expired | OrderError::Signature(SignatureError::Expired) => {
            t.signed_expired().to_owned()
        }
        OrderError::ExpiryTooFar => t.signed_expiry_too_far(ORDER_LIFETIME_MAX.num_days()),
    })
}

impl Tr {
    pub fn signed_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Encaisser un ordre de paiement signé",
            Lang::En => "Cash a signed payment order",
        }
    }

    pub fn signed_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Un membre vous a remis un ordre de paiement signé avec sa clé, comme un \
                 chèque ? Collez-le ici tel que « troc order sign » l'a écrit. Troc vérifie \
                 la signature et l'échéance avant de vous montrer l'ordre ; rien n'est payé \
                 avant que vous confirmiez. Un ordre n'est payé qu'une fois."
            }
            Lang::En => {
                "Did a member hand you a payment order signed with its key, like a cheque? \
                 Paste it here as \"troc order sign\" wrote it. Troc checks the signature and \
                 the expiry before showing you the order; nothing is paid until you confirm. \
                 An order is paid only once."
            }
        }
    }

    pub fn signed_order_label(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Ordre signé (JSON)",
            Lang::En => "Signed order (JSON)",
        }
    }

    pub fn signed_check(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Vérifier l'ordre",
            Lang::En => "Check the order",
        }
    }

    pub fn signed_checked(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Signature vérifiée : l'ordre est valable.",
            Lang::En => "Signature verified: the order is valid.",
        }
    }

    pub fn signed_cash(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Encaisser",
            Lang::En => "Cash it",
        }
    }

    pub fn signed_pay(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Payer",
            Lang::En => "Pay it",
        }
    }

    pub fn signed_paid(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Ordre payé",
            Lang::En => "Order paid",
        }
    }

    pub fn signed_payer(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Payeur",
            Lang::En => "Payer",
        }
    }

    pub fn signed_expires(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Valable jusqu'au",
            Lang::En => "Valid until",
        }
    }

    pub fn signed_key(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Clé du payeur",
            Lang::En => "Payer's key",
        }
    }

    pub fn signed_too_long(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => format!("L'ordre collé dépasse {max} caractères : ce n'est pas un ordre."),
            Lang::En => format!("The pasted order is over {max} characters: it is not an order."),
        }
    }

    pub fn signed_not_an_order(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Ce texte n'est pas un ordre signé : collez tout le JSON écrit par « troc order \
                 sign », accolades comprises."
            }
            Lang::En => {
                "This text is not a signed order: paste the whole JSON \"troc order sign\" \
                 wrote, braces included."
            }
        }
    }

    pub fn signed_field(&self, field: OrderField) -> String {
        let name = field.name();
        match self.lang {
            Lang::Fr => format!(
                "L'ordre n'est pas valable : le champ « {name} » est incorrect. Demandez au \
                 payeur un nouvel ordre."
            ),
            Lang::En => format!(
                "The order is not valid: its field \"{name}\" is wrong. Ask the payer for a \
                 new order."
            ),
        }
    }

    pub fn signed_not_yours(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Cet ordre ne concerne pas votre compte : ni payeur, ni bénéficiaire.",
            Lang::En => "This order is not about your account: neither its payer nor its payee.",
        }
    }

    pub fn signed_bad_signature(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "La signature ne correspond pas à l'ordre : il a été modifié après sa \
                 signature. Ne l'encaissez pas ; demandez au payeur un nouvel ordre."
            }
            Lang::En => {
                "The signature does not match the order: it was changed after it was signed. \
                 Do not cash it; ask the payer for a new order."
            }
        }
    }

    pub fn signed_unknown_key(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "La clé qui a signé n'est pas enregistrée pour le compte du payeur.",
            Lang::En => "The key that signed is not registered to the payer's account.",
        }
    }

    pub fn signed_key_revoked(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Le payeur a révoqué la clé qui a signé cet ordre.",
            Lang::En => "The payer revoked the key that signed this order.",
        }
    }

    pub fn signed_expired(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Cet ordre a expiré ; demandez au payeur un nouvel ordre.",
            Lang::En => "This order has expired; ask the payer for a new order.",
        }
    }

    pub fn signed_expiry_too_far(&self, days: i64) -> String {
        match self.lang {
            Lang::Fr => format!("Un ordre ne peut pas être valable plus de {days} jours."),
            Lang::En => format!("An order cannot be valid for more than {days} days."),
        }
    }

    pub fn signed_key_used(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Un autre ordre a déjà été payé sous la même clé d'idempotence : celui-ci ne \
                 le sera pas."
            }
            Lang::En => {
                "Another order was already paid under the same idempotency key: this one will \
                 not be."
            }
        }
    }
}
