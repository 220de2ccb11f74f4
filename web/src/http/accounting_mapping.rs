//! The account mapping page (`/accounting/mapping`): which general-ledger account each kind
//! of line of the exports goes to, and its forms (docs/exports.md, "Configuration").
//!
//! Who may do what:
//! - the network's manager and accountant see and change the network's mapping (the
//!   guarantee fund's treatment, the operator's accounts, the members' default barter
//!   position and accounts); they see any member's effective mapping (`?member=<id>`), read
//!   only;
//! - a member company's owner and its member accountant see their company's effective
//!   mapping and choose its override (517 or the 467/468 split, its own accounts), or go
//!   back to the network's default; another member's page is 404, the network's form 403;
//! - staff: 403.
//!
//! The mapping is stored by [`crate::store::Store::set_network_mapping`] and
//! [`crate::store::Store::set_member_mapping`] (action-logged) and read back by
//! `Store::account_mapping`, the one lookup every export uses.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::accounting::{choose, viewer, Chosen, Viewer};
use super::error::{AppError, AppResult};
use super::i18n::{catalogue, FieldError, Lang, Tr};
use super::session::Auth;
use super::templates::{page, Chrome};
use super::AppState;
use crate::export::mapping::{
    FundTreatment, GlAccount, MemberMapping, OperatorMapping, Position, SplitAccount,
    ACCOUNT_LABEL_LEN_MAX, ACCOUNT_NUM_LEN_MAX,
};
use crate::export::ExportError;
use crate::people::{Member, Role};
use crate::store::{ActionNote, MAPPING_ACTION, MEMBER_MAPPING_ACTION};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounting/mapping", get(mapping).post(save_network))
        .route("/accounting/mapping/member", post(save_member))
}

catalogue! {
    mapping_title => "Plan de comptes des exports", "Export account mapping";
    mapping_link => "Plan de comptes des exports (467/468 ou 517, fonds de garantie)", "Export account mapping (467/468 or 517, guarantee fund)";
    mapping_help => "Chaque ligne des exports (FEC, hledger, Beancount) et de la balance générale est comptabilisée sur le compte indiqué ici. Numéro : 3 à 20 lettres ou chiffres, commençant par trois chiffres dont le premier est une classe du PCG (1 à 8) ; libellé : 1 à 100 caractères.", "Each line of the exports (FEC, hledger, Beancount) and of the trial balance is booked on the account given here. Number: 3 to 20 letters or digits, starting with three digits whose first is a PCG class (1 to 8); label: 1 to 100 characters.";
    mapping_effective => "Comptes utilisés par les exports", "Accounts the exports use";
    mapping_line_kind => "Nature de la ligne", "Kind of line";
    mapping_operator => "Livres de l'opérateur du réseau", "The network operator's books";
    mapping_members_default => "Livres des membres (par défaut)", "Members' books (default)";
    mapping_member_books => "Livres de l'entreprise", "The company's books";
    mapping_saved => "Plan de comptes enregistré.", "Account mapping saved.";
    mapping_reset_done => "Votre entreprise utilise de nouveau le plan de comptes du réseau.", "Your company uses the network's mapping again.";
    mapping_uses_default => "Cette entreprise utilise le plan de comptes par défaut du réseau.", "This company uses the network's default mapping.";
    mapping_uses_own => "Cette entreprise a choisi son propre plan de comptes.", "This company chose its own mapping.";
    mapping_defaults_note => "Aucun choix enregistré : ce sont les valeurs par défaut (PCG 2025).", "Nothing saved yet: these are the defaults (PCG 2025).";
    mapping_reset => "Revenir au plan de comptes du réseau", "Go back to the network's mapping";
    mapping_errors => "Le plan de comptes n'a pas été enregistré : corrigez les champs signalés.", "The mapping was not saved: correct the fields marked.";
    mapping_fund => "Fonds de garantie (selon ses statuts)", "Guarantee fund (per its statute)";
    mapping_fund_deposits => "Dépôts remboursables des membres (165)", "Members' refundable deposits (165)";
    mapping_fund_provision => "Provision de l'opérateur (1518 / 6815 / 7815)", "The operator's provision (1518 / 6815 / 7815)";
    mapping_barter => "Position barter", "Barter position";
    mapping_split => "Deux comptes : débiteur (467) / créditeur (468)", "Two accounts: in debit (467) / in credit (468)";
    mapping_single => "Un seul compte (517)", "One account (517)";
    mapping_number => "Numéro", "Number";
    mapping_label => "Libellé", "Label";
    slot_members_debit => "Membres en débit (si deux comptes)", "Members in debit (two accounts)";
    slot_members_credit => "Membres en crédit (si deux comptes)", "Members in credit (two accounts)";
    slot_members_single => "Membres (si un seul compte)", "Members (one account)";
    slot_op_commission => "Commissions sur les échanges", "Commissions on trades";
    slot_op_membership_fee => "Cotisations et autres frais", "Membership and other fees";
    slot_fund_deposits => "Fonds de garantie : dépôts reçus (si dépôts)", "Guarantee fund: deposits received (deposits)";
    slot_fund_provision => "Fonds de garantie : provision (si provision)", "Guarantee fund: provision (provision)";
    slot_fund_allocation => "Dotation à la provision (si provision)", "Allocation to the provision (provision)";
    slot_fund_reversal => "Reprise de la provision (si provision)", "Reversal of the provision (provision)";
    slot_fund_revenue => "Contributions au fonds, produit (si provision)", "Fund contributions, revenue (provision)";
    slot_fund_loss => "Perte couverte par le fonds (si provision)", "Loss covered by the fund (provision)";
    slot_op_losses => "Pertes non couvertes par le fonds", "Losses the fund did not cover";
    slot_op_migration => "Reprises de soldes et recouvrements", "Balances brought in and recoveries";
    slot_retained_debit => "Report à nouveau débiteur", "Retained earnings, debit";
    slot_retained_credit => "Report à nouveau créditeur", "Retained earnings, credit";
    slot_barter_debit => "Compte barter en débit (si deux comptes)", "Barter account in debit (two accounts)";
    slot_barter_credit => "Compte barter en crédit (si deux comptes)", "Barter account in credit (two accounts)";
    slot_barter_single => "Compte barter (si un seul compte)", "Barter account (one account)";
    slot_customers => "Ventes : clients « à compenser » (un auxiliaire par acheteur)", "Sales: customers \"to be offset\" (one auxiliary per buyer)";
    slot_suppliers => "Achats : fournisseurs « à compenser » (un auxiliaire par vendeur)", "Purchases: suppliers \"to be offset\" (one auxiliary per seller)";
    slot_commission => "Commissions versées au réseau", "Commissions paid to the network";
    slot_membership_fee => "Cotisations", "Membership fees";
    slot_fund_contribution => "Contributions au fonds de garantie", "Guarantee fund contributions";
    slot_opening => "Reprise de solde barter", "Barter balance brought in";
    slot_debt_forgiven => "Dette abandonnée par le réseau", "Debt written off by the network";
    invalid_account_number => "Numéro de compte invalide : 3 à 20 lettres ou chiffres, commençant par trois chiffres dont le premier est une classe du PCG (1 à 8).", "Invalid account number: 3 to 20 letters or digits, starting with three digits whose first is a PCG class (1 to 8).";
}

impl Tr {
    pub fn invalid_account_label(&self, max: usize) -> String {
        match self.lang {
            Lang::Fr => format!("Le libellé est obligatoire, {max} caractères au plus."),
            Lang::En => format!("The label is required, at most {max} characters."),
        }
    }
}

/// Which alternative of a choice an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alt {
    Always,
    Split,
    Single,
    Deposits,
    Provision,
}

/// One account of a form: its field names' stem, what it books, when it is used.
struct Slot {
    key: &'static str,
    title: fn(&Tr) -> &'static str,
    alt: Alt,
}

const fn slot(key: &'static str, title: fn(&Tr) -> &'static str, alt: Alt) -> Slot {
    Slot { key, title, alt }
}

const OPERATOR_SLOTS: &[Slot] = &[
    slot("op_members_debit", Tr::slot_members_debit, Alt::Split),
    slot("op_members_credit", Tr::slot_members_credit, Alt::Split),
    slot("op_members_single", Tr::slot_members_single, Alt::Single),
    slot("op_commission", Tr::slot_op_commission, Alt::Always),
    slot("op_membership_fee", Tr::slot_op_membership_fee, Alt::Always),
    slot("fund_deposits", Tr::slot_fund_deposits, Alt::Deposits),
    slot("fund_provision", Tr::slot_fund_provision, Alt::Provision),
    slot("fund_allocation", Tr::slot_fund_allocation, Alt::Provision),
    slot("fund_reversal", Tr::slot_fund_reversal, Alt::Provision),
    slot("fund_revenue", Tr::slot_fund_revenue, Alt::Provision),
    slot("fund_loss", Tr::slot_fund_loss, Alt::Provision),
    slot("op_losses", Tr::slot_op_losses, Alt::Always),
    slot("op_migration", Tr::slot_op_migration, Alt::Always),
    slot("op_retained_debit", Tr::slot_retained_debit, Alt::Always),
    slot("op_retained_credit", Tr::slot_retained_credit, Alt::Always),
];

const MEMBER_SLOTS: &[Slot] = &[
    slot("m_barter_debit", Tr::slot_barter_debit, Alt::Split),
    slot("m_barter_credit", Tr::slot_barter_credit, Alt::Split),
    slot("m_barter_single", Tr::slot_barter_single, Alt::Single),
    slot("m_customers", Tr::slot_customers, Alt::Always),
    slot("m_suppliers", Tr::slot_suppliers, Alt::Always),
    slot("m_commission", Tr::slot_commission, Alt::Always),
    slot("m_membership_fee", Tr::slot_membership_fee, Alt::Always),
    slot(
        "m_fund_contribution",
        Tr::slot_fund_contribution,
        Alt::Always,
    ),
    slot("m_opening", Tr::slot_opening, Alt::Always),
    slot("m_debt_forgiven", Tr::slot_debt_forgiven, Alt::Always),
    slot("m_retained_debit", Tr::slot_retained_debit, Alt::Always),
    slot("m_retained_credit", Tr::slot_retained_credit, Alt::Always),
];

/// The choices of a form (`op_members`, `fund`, `barter`) and each account's number and
/// label (`<key>_num`, `<key>_label`), as typed or as stored.
type Values = HashMap<String, String>;

/// The form value `<key>_<part>` (`part` is `num` or `label`), empty when absent.
fn slot_value(values: &Values, key: &str, part: &str) -> String {
    values
        .get(&format!("{key}_{part}"))
        .cloned()
        .unwrap_or_default()
}

fn put(values: &mut Values, key: &str, account: &GlAccount) {
    values.insert(format!("{key}_num"), account.num().to_owned());
    values.insert(format!("{key}_label"), account.label().to_owned());
}

/// Both sides of a position; the side not in use takes the default's accounts, so that a
/// switch in the form starts from sensible values.
fn put_position(
    values: &mut Values,
    choice: &str,
    stem: &str,
    position: &Position,
    default_split: &SplitAccount,
    default_single: &GlAccount,
) {
    let (alt, split, single) = match position {
        Position::Split(split) => ("split", split, default_single),
        Position::Single(single) => ("single", default_split, single),
    };
    values.insert(choice.to_owned(), alt.to_owned());
    put(values, &format!("{stem}_debit"), &split.debit);
    put(values, &format!("{stem}_credit"), &split.credit);
    put(values, &format!("{stem}_single"), single);
}

fn split_of(position: Position) -> SplitAccount {
    match position {
        Position::Split(split) => split,
        Position::Single(_) => unreachable!("the defaults are split"),
    }
}

fn single_of(position: Position) -> GlAccount {
    match position {
        Position::Single(single) => single,
        Position::Split(_) => unreachable!("517 is one account"),
    }
}

fn operator_values(values: &mut Values, m: &OperatorMapping) {
    let defaults = OperatorMapping::default();
    let single = single_of(MemberMapping::single_barter_account());
    put_position(
        values,
        "op_members",
        "op_members",
        &m.members,
        &split_of(defaults.members),
        &single,
    );
    put(values, "op_commission", &m.commission);
    put(values, "op_membership_fee", &m.membership_fee);
    let FundTreatment::Deposits {
        account: default_deposits,
    } = defaults.fund
    else {
        unreachable!("the default fund is deposits")
    };
    let FundTreatment::Provision {
        provision,
        allocation,
        reversal,
        contribution_revenue,
        realised_loss,
    } = OperatorMapping::provision_fund()
    else {
        unreachable!("a provision")
    };
    let mut provision = [
        provision,
        allocation,
        reversal,
        contribution_revenue,
        realised_loss,
    ];
    let mut deposits = default_deposits;
    match &m.fund {
        FundTreatment::Deposits { account } => {
            values.insert("fund".into(), "deposits".into());
            deposits = account.clone();
        }
        FundTreatment::Provision {
            provision: p,
            allocation,
            reversal,
            contribution_revenue,
            realised_loss,
        } => {
            values.insert("fund".into(), "provision".into());
            provision = [
                p.clone(),
                allocation.clone(),
                reversal.clone(),
                contribution_revenue.clone(),
                realised_loss.clone(),
            ];
        }
    }
    put(values, "fund_deposits", &deposits);
    for (key, account) in [
        "fund_provision",
        "fund_allocation",
        "fund_reversal",
        "fund_revenue",
        "fund_loss",
    ]
    .iter()
    .zip(provision.iter())
    {
        put(values, key, account);
    }
    put(values, "op_losses", &m.losses);
    put(values, "op_migration", &m.migration);
    put(values, "op_retained_debit", &m.retained.debit);
    put(values, "op_retained_credit", &m.retained.credit);
}

fn member_values(values: &mut Values, m: &MemberMapping) {
    let defaults = MemberMapping::default();
    put_position(
        values,
        "barter",
        "m_barter",
        &m.barter,
        &split_of(defaults.barter),
        &single_of(MemberMapping::single_barter_account()),
    );
    put(values, "m_customers", &m.customers);
    put(values, "m_suppliers", &m.suppliers);
    put(values, "m_commission", &m.commission);
    put(values, "m_membership_fee", &m.membership_fee);
    put(values, "m_fund_contribution", &m.fund_contribution);
    put(values, "m_opening", &m.opening);
    put(values, "m_debt_forgiven", &m.debt_forgiven);
    put(values, "m_retained_debit", &m.retained.debit);
    put(values, "m_retained_credit", &m.retained.credit);
}

/// Reads a typed form into accounts; each problem is kept under its field's stem.
struct Parser<'a> {
    values: &'a Values,
    t: Tr,
    errors: BTreeMap<String, String>,
}

impl Parser<'_> {
    fn text(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn account(&mut self, key: &str) -> Option<GlAccount> {
        let num = self.text(&format!("{key}_num")).trim().to_owned();
        let label = self.text(&format!("{key}_label")).trim().to_owned();
        match GlAccount::new(&num, &label) {
            Ok(account) => Some(account),
            Err(ExportError::InvalidAccountLabel { max, .. }) => {
                let message = self.t.invalid_account_label(max);
                self.errors.insert(key.to_owned(), message);
                None
            }
            Err(_) => {
                let message = self.t.invalid_account_number().to_owned();
                self.errors.insert(key.to_owned(), message);
                None
            }
        }
    }

    fn choice(&mut self, name: &str, options: [&'static str; 2]) -> Option<&'static str> {
        let typed = self.text(name).trim();
        let found = options.into_iter().find(|o| *o == typed);
        if found.is_none() {
            let message = self.t.field_error(FieldError::InvalidChoice);
            self.errors.insert(name.to_owned(), message);
        }
        found
    }

    fn position(&mut self, choice: &str, stem: &str) -> Option<Position> {
        match self.choice(choice, ["split", "single"])? {
            "split" => {
                let debit = self.account(&format!("{stem}_debit"));
                let credit = self.account(&format!("{stem}_credit"));
                Some(Position::Split(SplitAccount {
                    debit: debit?,
                    credit: credit?,
                }))
            }
            _ => self
                .account(&format!("{stem}_single"))
                .map(Position::Single),
        }
    }

    fn retained(&mut self, stem: &str) -> Option<SplitAccount> {
        let debit = self.account(&format!("{stem}_debit"));
        let credit = self.account(&format!("{stem}_credit"));
        Some(SplitAccount {
            debit: debit?,
            credit: credit?,
        })
    }

    fn operator(&mut self) -> Option<OperatorMapping> {
        let members = self.position("op_members", "op_members");
        let commission = self.account("op_commission");
        let membership_fee = self.account("op_membership_fee");
        let fund = match self.choice("fund", ["deposits", "provision"]) {
            Some("deposits") => self
                .account("fund_deposits")
                .map(|account| FundTreatment::Deposits { account }),
            Some(_) => {
                let provision = self.account("fund_provision");
                let allocation = self.account("fund_allocation");
                let reversal = self.account("fund_reversal");
                let contribution_revenue = self.account("fund_revenue");
                let realised_loss = self.account("fund_loss");
                (|| {
                    Some(FundTreatment::Provision {
                        provision: provision?,
                        allocation: allocation?,
                        reversal: reversal?,
                        contribution_revenue: contribution_revenue?,
                        realised_loss: realised_loss?,
                    })
                })()
            }
            None => None,
        };
        let losses = self.account("op_losses");
        let migration = self.account("op_migration");
        let retained = self.retained("op_retained");
        Some(OperatorMapping {
            members: members?,
            commission: commission?,
            membership_fee: membership_fee?,
            fund: fund?,
            losses: losses?,
            migration: migration?,
            retained: retained?,
        })
    }

    fn member(&mut self) -> Option<MemberMapping> {
        let barter = self.position("barter", "m_barter");
        let customers = self.account("m_customers");
        let suppliers = self.account("m_suppliers");
        let commission = self.account("m_commission");
        let membership_fee = self.account("m_membership_fee");
        let fund_contribution = self.account("m_fund_contribution");
        let opening = self.account("m_opening");
        let debt_forgiven = self.account("m_debt_forgiven");
        let retained = self.retained("m_retained");
        Some(MemberMapping {
            barter: barter?,
            customers: customers?,
            suppliers: suppliers?,
            commission: commission?,
            membership_fee: membership_fee?,
            fund_contribution: fund_contribution?,
            opening: opening?,
            debt_forgiven: debt_forgiven?,
            retained: retained?,
        })
    }
}

struct FieldView {
    key: &'static str,
    title: &'static str,
    num: String,
    label: String,
    error: Option<String>,
}

struct ChoiceView {
    name: &'static str,
    title: &'static str,
    options: Vec<(&'static str, &'static str, bool)>,
    error: Option<String>,
}

/// One row of the effective mapping: a kind of line and the account it goes to.
struct EffectiveRow {
    key: &'static str,
    title: &'static str,
    num: String,
    label: String,
}

struct Section {
    title: &'static str,
    choices: Vec<ChoiceView>,
    fields: Vec<FieldView>,
}

fn chosen_alts(values: &Values, choices: &[&str]) -> Vec<Alt> {
    let mut alts = vec![Alt::Always];
    for choice in choices {
        match values.get(*choice).map(String::as_str) {
            Some("split") => alts.push(Alt::Split),
            Some("single") => alts.push(Alt::Single),
            Some("deposits") => alts.push(Alt::Deposits),
            Some("provision") => alts.push(Alt::Provision),
            _ => {}
        }
    }
    alts
}

/// The accounts in use, from stored values (each choice has one alternative).
fn effective(t: &Tr, slots: &[Slot], values: &Values, choices: &[&str]) -> Vec<EffectiveRow> {
    // `op_members` and `barter` share the split/single alternatives: each slot list has
    // only one of them, so reading the choices of its own list is exact.
    let alts = chosen_alts(values, choices);
    slots
        .iter()
        .filter(|s| alts.contains(&s.alt))
        .map(|s| EffectiveRow {
            key: s.key,
            title: (s.title)(t),
            num: slot_value(values, s.key, "num"),
            label: slot_value(values, s.key, "label"),
        })
        .collect()
}

fn fields(
    t: &Tr,
    slots: &[Slot],
    values: &Values,
    errors: &BTreeMap<String, String>,
) -> Vec<FieldView> {
    slots
        .iter()
        .map(|s| FieldView {
            key: s.key,
            title: (s.title)(t),
            num: slot_value(values, s.key, "num"),
            label: slot_value(values, s.key, "label"),
            error: errors.get(s.key).cloned(),
        })
        .collect()
}

fn choice_view(
    values: &Values,
    errors: &BTreeMap<String, String>,
    name: &'static str,
    title: &'static str,
    options: [(&'static str, &'static str); 2],
) -> ChoiceView {
    let current = values.get(name).map(String::as_str).unwrap_or("");
    ChoiceView {
        name,
        title,
        options: options
            .into_iter()
            .map(|(value, label)| (value, label, value == current))
            .collect(),
        error: errors.get(name).cloned(),
    }
}

fn position_choice(
    t: &Tr,
    values: &Values,
    errors: &BTreeMap<String, String>,
    name: &'static str,
) -> ChoiceView {
    choice_view(
        values,
        errors,
        name,
        t.mapping_barter(),
        [("split", t.mapping_split()), ("single", t.mapping_single())],
    )
}

fn network_sections(t: &Tr, values: &Values, errors: &BTreeMap<String, String>) -> Vec<Section> {
    vec![
        Section {
            title: t.mapping_operator(),
            choices: vec![
                choice_view(
                    values,
                    errors,
                    "fund",
                    t.mapping_fund(),
                    [
                        ("deposits", t.mapping_fund_deposits()),
                        ("provision", t.mapping_fund_provision()),
                    ],
                ),
                position_choice(t, values, errors, "op_members"),
            ],
            fields: fields(t, OPERATOR_SLOTS, values, errors),
        },
        member_section(t, t.mapping_members_default(), values, errors),
    ]
}

fn member_section(
    t: &Tr,
    title: &'static str,
    values: &Values,
    errors: &BTreeMap<String, String>,
) -> Section {
    Section {
        title,
        choices: vec![position_choice(t, values, errors, "barter")],
        fields: fields(t, MEMBER_SLOTS, values, errors),
    }
}

/// One table of the effective mapping.
struct EffectiveTable {
    id: &'static str,
    title: &'static str,
    rows: Vec<EffectiveRow>,
}

#[derive(Template)]
#[template(path = "mapping.html")]
struct MappingTemplate {
    c: Chrome,
    /// Whose mapping: the network's, or a member's name.
    member_name: Option<String>,
    member_id: String,
    note: Option<&'static str>,
    tables: Vec<EffectiveTable>,
    /// The form's action, when the viewer may change this mapping.
    form_action: Option<&'static str>,
    can_reset: bool,
    sections: Vec<Section>,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    num_len_max: usize,
    label_len_max: usize,
}

/// What to draw: whose mapping, the stored values, and what was typed (after a refusal).
struct Shown {
    status: StatusCode,
    typed: Option<(Values, BTreeMap<String, String>)>,
    notice: Option<&'static str>,
}

impl Shown {
    fn ok(notice: Option<&'static str>) -> Shown {
        Shown {
            status: StatusCode::OK,
            typed: None,
            notice,
        }
    }
}

async fn network_page(state: &AppState, auth: &Auth, shown: Shown) -> AppResult<Response> {
    let t = auth.tr();
    let mapping = state.store.account_mapping().await?;
    let mut stored = Values::new();
    operator_values(&mut stored, &mapping.operator);
    member_values(&mut stored, &mapping.member_default);
    let tables = vec![
        EffectiveTable {
            id: "effective-operator",
            title: t.mapping_operator(),
            rows: effective(&t, OPERATOR_SLOTS, &stored, &["fund", "op_members"]),
        },
        EffectiveTable {
            id: "effective-members",
            title: t.mapping_members_default(),
            rows: effective(&t, MEMBER_SLOTS, &stored, &["barter"]),
        },
    ];
    let note = (!state.store.network_mapping_stored().await?).then(|| t.mapping_defaults_note());
    let failed = shown.typed.is_some();
    let (values, errors) = shown.typed.unwrap_or((stored, BTreeMap::new()));
    let mut response = page(MappingTemplate {
        c: auth.chrome(),
        member_name: None,
        member_id: String::new(),
        note,
        tables,
        form_action: Some("/accounting/mapping"),
        can_reset: false,
        sections: network_sections(&t, &values, &errors),
        error: failed.then(|| t.mapping_errors()),
        notice: shown.notice,
        num_len_max: ACCOUNT_NUM_LEN_MAX,
        label_len_max: ACCOUNT_LABEL_LEN_MAX,
    })?;
    *response.status_mut() = shown.status;
    Ok(response)
}

/// A member's page: its effective mapping, and its form when `editable`.
async fn member_page(
    state: &AppState,
    auth: &Auth,
    member: &Member,
    editable: bool,
    shown: Shown,
) -> AppResult<Response> {
    let t = auth.tr();
    let account = member.account();
    let mapping = state.store.account_mapping().await?;
    let own = mapping.member_override(account).is_some();
    let mut stored = Values::new();
    member_values(&mut stored, mapping.for_member(account));
    let tables = vec![EffectiveTable {
        id: "effective-member",
        title: t.mapping_member_books(),
        rows: effective(&t, MEMBER_SLOTS, &stored, &["barter"]),
    }];
    let failed = shown.typed.is_some();
    let (values, errors) = shown.typed.unwrap_or((stored, BTreeMap::new()));
    let sections = if editable {
        vec![member_section(
            &t,
            t.mapping_member_books(),
            &values,
            &errors,
        )]
    } else {
        Vec::new()
    };
    let mut response = page(MappingTemplate {
        c: auth.chrome(),
        member_name: Some(member.name.clone()),
        member_id: member.id.to_string(),
        note: Some(if own {
            t.mapping_uses_own()
        } else {
            t.mapping_uses_default()
        }),
        tables,
        form_action: editable.then_some("/accounting/mapping/member"),
        can_reset: editable && own,
        sections,
        error: failed.then(|| t.mapping_errors()),
        notice: shown.notice,
        num_len_max: ACCOUNT_NUM_LEN_MAX,
        label_len_max: ACCOUNT_LABEL_LEN_MAX,
    })?;
    *response.status_mut() = shown.status;
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
struct MappingQuery {
    #[serde(default)]
    member: String,
}

async fn mapping(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MappingQuery>,
) -> AppResult<Response> {
    let viewer = viewer(&state, &auth).await?;
    match choose(&state, &viewer, &query.member).await? {
        Chosen::Network => network_page(&state, &auth, Shown::ok(None)).await,
        Chosen::Member(member) => {
            let editable = matches!(viewer, Viewer::Member(_));
            member_page(&state, &auth, &member, editable, Shown::ok(None)).await
        }
    }
}

/// The network's manager or accountant changes the network's mapping.
async fn save_network(
    State(state): State<AppState>,
    auth: Auth,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    auth.require(&[Role::Manager, Role::Accountant])?;
    let t = auth.tr();
    let mut parser = Parser {
        values: &values,
        t,
        errors: BTreeMap::new(),
    };
    let operator = parser.operator();
    let member_default = parser.member();
    let errors = parser.errors;
    let (Some(operator), Some(member_default), true) =
        (operator, member_default, errors.is_empty())
    else {
        let shown = Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            typed: Some((values, errors)),
            notice: None,
        };
        return network_page(&state, &auth, shown).await;
    };
    let note = ActionNote::new(Some(auth.user.id), &auth.user.email, MAPPING_ACTION, "")?;
    state
        .store
        .set_network_mapping(operator, member_default, note)
        .await?;
    network_page(&state, &auth, Shown::ok(Some(t.mapping_saved()))).await
}

/// A member's owner or member accountant chooses its company's override (or drops it with
/// `action=reset`). The company is the user's own; naming another is 403.
async fn save_member(
    State(state): State<AppState>,
    auth: Auth,
    Form(values): Form<Values>,
) -> AppResult<Response> {
    auth.require(&[Role::Owner, Role::MemberAccountant])?;
    let Viewer::Member(member) = viewer(&state, &auth).await? else {
        return Err(AppError::Forbidden);
    };
    let named = values.get("member").map(|m| m.trim()).unwrap_or("");
    if !named.is_empty() && named != member.id.to_string() {
        return Err(AppError::Forbidden);
    }
    let t = auth.tr();
    let account = member.account();
    let note = ActionNote::new(
        Some(auth.user.id),
        &auth.user.email,
        MEMBER_MAPPING_ACTION,
        "",
    )?
    .member(member.id);
    if values.get("action").map(String::as_str) == Some("reset") {
        state.store.set_member_mapping(account, None, note).await?;
        let shown = Shown::ok(Some(t.mapping_reset_done()));
        return member_page(&state, &auth, &member, true, shown).await;
    }
    let mut parser = Parser {
        values: &values,
        t,
        errors: BTreeMap::new(),
    };
    let mapping = parser.member();
    let errors = parser.errors;
    let (Some(mapping), true) = (mapping, errors.is_empty()) else {
        let shown = Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            typed: Some((values, errors)),
            notice: None,
        };
        return member_page(&state, &auth, &member, true, shown).await;
    };
    state
        .store
        .set_member_mapping(account, Some(mapping), note)
        .await?;
    member_page(
        &state,
        &auth,
        &member,
        true,
        Shown::ok(Some(t.mapping_saved())),
    )
    .await
}
