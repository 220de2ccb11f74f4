//! `/standing-orders`: a member company's standing orders (`crate::standing`), those it pays
//! and those it receives, each with its next due date and what happened to the last one; its
//! owner and staff set one up (payee, amount, reference, memo, every week or month, first and
//! optional last date) and stop one, paid or received. The member accountant reads. A first
//! date of today is paid at once; later ones by the server's housekeeping.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::console::{form_messages, page_error, time_text};
use super::error::{AppError, AppResult};
use super::i18n::{Lang, Tr};
use super::money::payees;
use super::session::{MemberAuth, MemberReader};
use super::templates::{page, Chrome};
use super::AppState;
use crate::console::{parse_amount, ConsoleError, Field, Problem};
use crate::people::{self, Role};
use crate::standing::{self, Every, NewStanding, Run, StandingOrder, StandingStatus};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/standing-orders", get(standing_page).post(create))
        .route("/standing-orders/{id}/cancel", post(cancel))
}

/// One order as the page shows it.
pub struct OrderLine {
    id: i64,
    /// The other company: the payee on the paid side, the payer on the received side.
    other: String,
    amount: String,
    every: &'static str,
    reference: String,
    memo: String,
    first: String,
    end: String,
    next: String,
    status: &'static str,
    active: bool,
    /// The last due date and its outcome, empty before the first.
    last: String,
}

#[derive(Template)]
#[template(path = "standing_orders.html")]
struct StandingTemplate {
    c: Chrome,
    paid: Vec<OrderLine>,
    received: Vec<OrderLine>,
    payees: Vec<(String, String)>,
    can_act: bool,
    done: Option<String>,
    messages: Vec<String>,
    values: StandingForm,
    today: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct StandingForm {
    #[serde(default)]
    payee: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    every: String,
    #[serde(default)]
    first_date: String,
    #[serde(default)]
    end_date: String,
}

fn date_text(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

fn last_text(t: Tr, run: Option<&Run>) -> String {
    let Some(run) = run else {
        return String::new();
    };
    let outcome = match (&run.tx_id, &run.rejection) {
        (Some(tx), _) => format!("{} n° {tx}", t.so_paid()),
        (None, Some(code)) => format!("{} ({code})", t.so_refused()),
        (None, None) => String::new(),
    };
    format!("{} : {outcome}", date_text(run.due_date))
}

/// The page's lines of one side; `runs` and `names` were read once for both sides.
fn lines(
    t: Tr,
    orders: &[StandingOrder],
    other_of: fn(&StandingOrder) -> i64,
    runs: &HashMap<i64, Run>,
    names: &HashMap<i64, String>,
) -> Vec<OrderLine> {
    orders
        .iter()
        .map(|o| OrderLine {
            id: o.id,
            other: names.get(&other_of(o)).cloned().unwrap_or_default(),
            amount: t.lang.amount(o.amount),
            every: t.so_every(o.every),
            reference: o.reference.clone(),
            memo: o.memo.clone(),
            first: date_text(o.first_date),
            end: o.end_date.map(date_text).unwrap_or_default(),
            next: o.next_date.map(date_text).unwrap_or_default(),
            status: t.so_status(o.status),
            active: o.status == StandingStatus::Active,
            last: last_text(t, runs.get(&o.id)),
        })
        .collect()
}

struct Outcome {
    status: StatusCode,
    done: Option<String>,
    messages: Vec<String>,
    values: StandingForm,
}

impl Outcome {
    fn shown() -> Outcome {
        Outcome {
            status: StatusCode::OK,
            done: None,
            messages: Vec::new(),
            values: StandingForm::default(),
        }
    }
}

async fn draw(state: &AppState, reader: &MemberReader, outcome: Outcome) -> AppResult<Response> {
    let t = reader.tr();
    let (paid, received) = standing::member_orders(&state.store, reader.member.id)
        .await
        .map_err(page_error)?;
    // The last runs and the other companies' names of both sides, one read each.
    let ids: BTreeSet<i64> = paid.iter().chain(&received).map(|o| o.id).collect();
    let runs = standing::last_runs(&state.store, &ids)
        .await
        .map_err(page_error)?;
    let others: BTreeSet<i64> = paid
        .iter()
        .map(|o| o.payee_member_id)
        .chain(received.iter().map(|o| o.payer_member_id))
        .collect();
    let names = people::names_of_members(&state.store, &others).await?;
    let can_act = matches!(reader.auth.user.role, Role::Owner | Role::Staff);
    let payees = if can_act {
        payees(state, &reader.member).await?
    } else {
        Vec::new()
    };
    let mut response = page(StandingTemplate {
        c: reader.chrome(),
        paid: lines(t, &paid, |o| o.payee_member_id, &runs, &names),
        received: lines(t, &received, |o| o.payer_member_id, &runs, &names),
        payees,
        can_act,
        done: outcome.done,
        messages: outcome.messages,
        values: outcome.values,
        today: chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
    })?;
    *response.status_mut() = outcome.status;
    Ok(response)
}

async fn standing_page(State(state): State<AppState>, reader: MemberReader) -> AppResult<Response> {
    draw(&state, &reader, Outcome::shown()).await
}

async fn refused(
    state: &AppState,
    auth: MemberAuth,
    error: ConsoleError,
    values: StandingForm,
) -> AppResult<Response> {
    // 403 and 404 are the error page's (`form_messages` hands them back).
    let outcome = Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        done: None,
        messages: form_messages(auth.tr(), error)?,
        values,
    };
    draw(state, &auth.into(), outcome).await
}

/// The form's fields as the domain takes them, or the first field that does not parse.
fn parsed(form: &StandingForm) -> Result<NewStanding, ConsoleError> {
    let invalid = |field, problem| Err(ConsoleError::invalid(field, problem));
    let Ok(payee_member_id) = form.payee.trim().parse::<i64>() else {
        return invalid(Field::Payee, Problem::Required);
    };
    let amount = match parse_amount(&form.amount) {
        Ok(Some(amount)) => amount,
        Ok(None) => return invalid(Field::Amount, Problem::Required),
        Err(problem) => return invalid(Field::Amount, problem),
    };
    let Some(every) = Every::parse(form.every.trim()) else {
        return invalid(Field::Every, Problem::InvalidChoice);
    };
    let date = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d");
    let Ok(first_date) = date(&form.first_date) else {
        return invalid(Field::FirstDate, Problem::InvalidDate);
    };
    let end_date = if form.end_date.trim().is_empty() {
        None
    } else {
        match date(&form.end_date) {
            Ok(end) => Some(end),
            Err(_) => return invalid(Field::EndDate, Problem::InvalidDate),
        }
    };
    Ok(NewStanding {
        payee_member_id,
        amount,
        reference: form.reference.clone(),
        memo: form.memo.clone(),
        every,
        first_date,
        end_date,
    })
}

async fn create(
    State(state): State<AppState>,
    auth: MemberAuth,
    Form(form): Form<StandingForm>,
) -> AppResult<Response> {
    let new = match parsed(&form) {
        Ok(new) => new,
        Err(error) => return refused(&state, auth, error, form).await,
    };
    let today = chrono::Utc::now().date_naive();
    let created = standing::create(&state.store, &auth.auth.user, &auth.member, &new, today).await;
    let order = match created {
        Ok(order) => order,
        Err(error) => return refused(&state, auth, error, form).await,
    };
    // A first date of today is paid now rather than at the next sweep.
    standing::run_due_of(&state.store, order.id, today)
        .await
        .map_err(page_error)?;
    let t = auth.tr();
    let outcome = Outcome {
        done: Some(format!("{} (n° {})", t.so_created(), order.id)),
        ..Outcome::shown()
    };
    draw(&state, &auth.into(), outcome).await
}

async fn cancel(
    State(state): State<AppState>,
    auth: MemberAuth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    match standing::cancel(&state.store, &auth.auth.user, &auth.member, id).await {
        Ok(order) => {
            let t = auth.tr();
            let outcome = Outcome {
                done: Some(format!(
                    "{} (n° {}, {})",
                    t.so_cancelled(),
                    order.id,
                    order.ended_at.map(time_text).unwrap_or_default()
                )),
                ..Outcome::shown()
            };
            draw(&state, &auth.into(), outcome).await
        }
        Err(error) => refused(&state, auth, error, StandingForm::default()).await,
    }
}

impl Tr {
    pub fn so_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Virements permanents",
            Lang::En => "Standing orders",
        }
    }

    pub fn so_intro(&self) -> &'static str {
        match self.lang {
            Lang::Fr => {
                "Un virement permanent paie un membre le même montant chaque semaine ou chaque \
                 mois (loyer, abonnement, contrat d'entretien), de la première échéance jusqu'à \
                 la dernière ou jusqu'à ce que l'une des deux entreprises l'arrête. Chaque \
                 échéance est un paiement ordinaire, frais compris ; une échéance refusée (crédit \
                 insuffisant, compte gelé) n'est pas représentée : le virement passe à la \
                 suivante."
            }
            Lang::En => {
                "A standing order pays a member the same amount every week or every month \
                 (rent, a subscription, a maintenance contract), from the first payment until \
                 the last or until either company stops it. Each payment is an ordinary one, \
                 fees included; a refused payment (not enough credit, a frozen account) is not \
                 tried again: the order moves on to the next one."
            }
        }
    }

    pub fn so_new(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Nouveau virement permanent",
            Lang::En => "New standing order",
        }
    }

    pub fn so_paid_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Virements que vous payez",
            Lang::En => "Orders you pay",
        }
    }

    pub fn so_received_title(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Virements que vous recevez",
            Lang::En => "Orders you receive",
        }
    }

    pub fn so_every_label(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Périodicité",
            Lang::En => "Frequency",
        }
    }

    pub fn so_every(&self, every: Every) -> &'static str {
        match (self.lang, every) {
            (Lang::Fr, Every::Week) => "chaque semaine",
            (Lang::Fr, Every::Month) => "chaque mois",
            (Lang::En, Every::Week) => "every week",
            (Lang::En, Every::Month) => "every month",
        }
    }

    pub fn so_first(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Première échéance",
            Lang::En => "First payment",
        }
    }

    pub fn so_end(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Dernière échéance (facultative)",
            Lang::En => "Last payment (optional)",
        }
    }

    pub fn so_next(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Prochaine échéance",
            Lang::En => "Next payment",
        }
    }

    pub fn so_last(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Dernière échéance passée",
            Lang::En => "Last payment due",
        }
    }

    pub fn so_other_payee(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Bénéficiaire",
            Lang::En => "Payee",
        }
    }

    pub fn so_other_payer(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Payeur",
            Lang::En => "Payer",
        }
    }

    pub fn so_submit(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Programmer le virement",
            Lang::En => "Set up the order",
        }
    }

    pub fn so_cancel(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Arrêter",
            Lang::En => "Stop",
        }
    }

    pub fn so_created(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Virement permanent programmé",
            Lang::En => "Standing order set up",
        }
    }

    pub fn so_cancelled(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "Virement permanent arrêté",
            Lang::En => "Standing order stopped",
        }
    }

    pub fn so_paid(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "payée",
            Lang::En => "paid",
        }
    }

    pub fn so_refused(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "refusée",
            Lang::En => "refused",
        }
    }

    /// A dashboard reminder: one refused due date of a standing order.
    pub fn reminder_standing_refused(&self, run: &standing::RefusedRun, payee: &str) -> String {
        let why = match (self.lang, run.rejection.as_str()) {
            (Lang::Fr, "insufficient_credit") => "crédit insuffisant".to_owned(),
            (Lang::Fr, "account_frozen") => "compte gelé".to_owned(),
            (Lang::Fr, "account_closed") => "compte clôturé".to_owned(),
            (Lang::Fr, "over_upper_limit") => "plafond du bénéficiaire atteint".to_owned(),
            (Lang::Fr, "over_month_limit") => {
                "plafond par mois de la personne qui l'a mis en place atteint".to_owned()
            }
            (Lang::Fr, code) => format!("refus du grand livre « {code} »"),
            (Lang::En, "insufficient_credit") => "not enough credit".to_owned(),
            (Lang::En, "account_frozen") => "account frozen".to_owned(),
            (Lang::En, "account_closed") => "account closed".to_owned(),
            (Lang::En, "over_upper_limit") => "the payee's upper limit reached".to_owned(),
            (Lang::En, "over_month_limit") => {
                "the monthly limit of whoever set it up reached".to_owned()
            }
            (Lang::En, code) => format!("the ledger refused it: \"{code}\""),
        };
        let amount = self.lang.amount(run.amount);
        let due = date_text(run.due_date);
        match self.lang {
            Lang::Fr => format!(
                "Virement permanent n° {} vers {payee} : l'échéance du {due} ({amount}) n'a \
                 pas été payée ({why}). Elle ne sera pas représentée.",
                run.order_id
            ),
            Lang::En => format!(
                "Standing order no. {} to {payee}: the payment due on {due} ({amount}) was not \
                 made ({why}). It will not be tried again.",
                run.order_id
            ),
        }
    }

    /// A dashboard reminder for the payee: a due date of a standing order it receives was not
    /// paid (why is the payer's business: not said).
    pub fn reminder_standing_unpaid(&self, run: &standing::RefusedRun, payer: &str) -> String {
        let amount = self.lang.amount(run.amount);
        let due = date_text(run.due_date);
        match self.lang {
            Lang::Fr => format!(
                "Virement permanent n° {} de {payer} : l'échéance du {due} ({amount}) ne vous a \
                 pas été payée.",
                run.order_id
            ),
            Lang::En => format!(
                "Standing order no. {} from {payer}: the payment due on {due} ({amount}) was \
                 not made to you.",
                run.order_id
            ),
        }
    }

    pub fn so_status(&self, status: StandingStatus) -> &'static str {
        match (self.lang, status) {
            (Lang::Fr, StandingStatus::Active) => "actif",
            (Lang::Fr, StandingStatus::Cancelled) => "arrêté",
            (Lang::Fr, StandingStatus::Finished) => "terminé",
            (Lang::En, StandingStatus::Active) => "active",
            (Lang::En, StandingStatus::Cancelled) => "stopped",
            (Lang::En, StandingStatus::Finished) => "finished",
        }
    }
}
