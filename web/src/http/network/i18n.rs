//! The messages of the fees, fund, default, statistics, brokering and open-data pages (all
//! prefixed `net_` so that they never collide with another feature's), and the sentences of
//! the refusals these pages can meet.

use chrono::{DateTime, Utc};
use ledger::{Amount, Rejection, ScheduleError};

use crate::http::i18n::{catalogue, FieldError, Lang, Tr};
use crate::network::{InvalidInput, NetworkError};

catalogue! {
    net_console => "Console du réseau", "Network console";
    net_fees_title => "Commissions et contribution au fonds", "Fees and fund contribution";
    net_fund_title => "Fonds de garantie", "Guarantee fund";
    net_stats_title => "Santé du réseau", "Network health";
    net_brokering_title => "Aide au courtage", "Brokering help";
    net_default_title => "Défaillance d'un membre", "Member default";
    net_open_data_title => "Données ouvertes du réseau", "Network open data";
    net_in_force => "En vigueur", "In force";
    net_upcoming => "Annoncé", "Announced";
    net_past => "Remplacé", "Replaced";
    net_superseded => "Remplacé avant son entrée en vigueur", "Replaced before it took effect";
    net_version => "Version", "Version";
    net_effective_from => "En vigueur à partir du", "Effective from";
    net_since_beginning => "depuis l'origine", "since the beginning";
    net_author => "Auteur", "Author";
    net_reason => "Motif", "Reason";
    net_recorded_at => "Enregistré le", "Recorded on";
    net_history => "Historique", "History";
    net_schedule_change => "Programmer un changement", "Schedule a change";
    net_effective => "Entrée en vigueur", "Takes effect";
    net_effective_now => "Immédiatement", "Immediately";
    net_effective_at => "À la date et l'heure suivantes (UTC)", "At this date and time (UTC)";
    net_fund_payer => "Contribution payée par", "Contribution paid by";
    net_buyer => "l'acheteur", "the buyer";
    net_seller => "le vendeur", "the seller";
    net_rate_hint => "En pour cent, deux décimales au plus (2,50 pour 2,50 %).", "In per cent, at most two decimals (2.50 for 2.50%).";
    net_never_retroactive => "Un changement s'applique aux opérations datées de son entrée en vigueur ou après, jamais aux opérations passées. Programmer un autre changement à la même date remplace celui-ci avant qu'il ne s'applique.", "A change applies to operations dated from when it takes effect, never to past ones. Scheduling another change at the same date replaces it before it applies.";
    net_change_scheduled => "Changement enregistré.", "Change recorded.";
    net_upcoming_changes => "Changements annoncés", "Announced changes";
    net_no_upcoming => "Aucun changement annoncé.", "No change announced.";
    net_fund_balance => "Solde du fonds", "Fund balance";
    net_exposure => "Exposition (total des soldes négatifs)", "Exposure (sum of negative balances)";
    net_coverage => "Taux de couverture (fonds ÷ exposition)", "Coverage ratio (fund ÷ exposure)";
    net_debtors => "Membres débiteurs", "Members in debt";
    net_losses => "Pertes non couvertes (cumul)", "Uncovered losses (to date)";
    net_stress_test => "Test de résistance", "Stress test";
    net_stress_k => "Défaillance des k plus gros débiteurs, k =", "Default of the k largest debtors, k =";
    net_stress_debt => "Dette en défaut", "Debt in default";
    net_absorbed => "Absorbé par le fonds", "Absorbed by the fund";
    net_uncovered => "Non couvert (compte de pertes)", "Uncovered (losses account)";
    net_share_of_fund => "Dette ÷ fonds", "Debt ÷ fund";
    net_run => "Calculer", "Compute";
    net_history_chart => "Fonds et exposition en fin de mois", "Fund and exposure at month ends";
    net_written_off => "Membres passés en perte", "Written-off members";
    net_recovered => "Recouvré", "Recovered";
    net_loss => "Perte", "Loss";
    net_from_fund => "Pris en charge par le fonds", "Paid by the fund";
    net_from_losses => "Passé au compte de pertes", "Taken by the losses account";
    net_default_explain => "Le passage en perte solde la dette du membre : le fonds de garantie l'absorbe d'abord, dans la limite de son solde, puis le compte de pertes prend le reste. Le compte est ensuite clôturé. L'opération est définitive et inscrite au journal des actions.", "The write-off settles the member's debt: the guarantee fund absorbs it first, up to its balance, then the losses account takes the rest. The account is then closed. This is final and recorded in the action log.";
    net_confirm_write_off => "Confirmer le passage en perte", "Confirm the write-off";
    net_write_off_refused => "Le passage en perte n'est pas possible :", "The write-off is not possible:";
    net_written_off_done => "Passage en perte enregistré ; le compte est clôturé.", "Write-off recorded; the account is closed.";
    net_written_off_on => "Passé en perte le", "Written off on";
    net_recovery => "Enregistrer un recouvrement", "Record a recovery";
    net_recovery_explain => "Les sommes recouvrées auprès du membre défaillant (en euros) réalimentent le fonds de garantie.", "Money recovered from the defaulter (in euros) replenishes the guarantee fund.";
    net_recovery_done => "Recouvrement enregistré.", "Recovery recorded.";
    net_fund_after => "Solde du fonds après", "Fund balance after";
    net_member => "Membre", "Member";
    net_months => "Mois couverts", "Months covered";
    net_show => "Afficher", "Show";
    net_members_total => "Membres", "Members";
    net_status_active => "actifs", "active";
    net_status_frozen => "gelés", "frozen";
    net_status_closed => "clôturés", "closed";
    net_active_short => "Ont échangé ces 30 derniers jours", "Traded in the last 30 days";
    net_active_long => "Ont échangé ces 90 derniers jours", "Traded in the last 90 days";
    net_monthly => "Échanges par mois", "Trades per month";
    net_trades => "Échanges", "Trades";
    net_volume => "Volume", "Volume";
    net_traders => "Membres ayant échangé", "Members who traded";
    net_velocity => "Vélocité (par an)", "Velocity (per year)";
    net_velocity_explain => "Volume des 12 derniers mois complets ÷ moyenne des soldes positifs en fin de chacun de ces mois : combien de fois une unité détenue a été dépensée en un an.", "Volume of the last 12 complete months ÷ the average of positive balances at the end of each of those months: how many times a unit held was spent in a year.";
    net_greco => "Indicateur de Greco (jours)", "Greco indicator (days)";
    net_greco_explain => "Dette totale ÷ volume moyen quotidien des 3 derniers mois complets : le nombre de jours d'échanges qu'il faudrait pour solder toutes les dettes.", "Total debt ÷ average daily volume over the last 3 complete months: how many days of trade it would take to clear all debt.";
    net_account_active => "actif", "active";
    net_account_frozen => "gelé", "frozen";
    net_account_closed => "clôturé", "closed";
    net_distribution => "Répartition des soldes (comptes ouverts)", "Distribution of balances (open accounts)";
    net_range => "Tranche", "Range";
    net_sectors => "Déséquilibre par secteur", "Sector imbalance";
    net_net_buyers => "Secteurs acheteurs nets", "Net buyer sectors";
    net_net_sellers => "Secteurs vendeurs nets", "Net seller sectors";
    net_sales => "Ventes", "Sales";
    net_purchases => "Achats", "Purchases";
    net_net => "Ventes − achats", "Sales − purchases";
    net_sector_balance => "Soldes du secteur", "Sector's balances";
    net_money_supply => "Soldes positifs", "Positive balances";
    net_not_available => "—", "—";
    net_download_csv => "CSV", "CSV";
    net_suppressed => "moins de 3 membres", "fewer than 3 members";
    net_other_sectors => "Autres secteurs (regroupés)", "Other sectors (pooled)";
    net_open_data_rule => "Chiffres agrégés et anonymes : aucun nom, aucun chiffre propre à une entreprise ; un chiffre qui porte sur moins de 3 entreprises n'est pas publié.", "Aggregated, anonymous figures: no name, no figure about one company; a figure covering fewer than 3 companies is not published.";
    net_open_data_intro => "Statistiques publiques du réseau d'échange inter-entreprises, à l'intention des collectivités et du public.", "Public statistics of the business barter network, for local authorities and the public.";
    net_creditors_title => "Soldes positifs élevés : des offres qu'ils pourraient acheter", "Large positive balances: offers they could buy";
    net_debtors_title => "Soldes négatifs élevés : des demandes qu'ils pourraient satisfaire", "Deep in debt: wants they could fill";
    net_brokering_explain => "Rapprochement par catégorie et par ville (la même ville d'abord). Un membre sans demande se voit proposer toutes les offres de sa ville d'abord.", "Matched by category and city (the same city first). A member with no want is shown every offer, its city first.";
    net_same_city => "même ville", "same city";
    net_no_match => "Aucune annonce correspondante.", "No matching listing.";
    net_posted_by => "Publiée par", "Posted by";
    net_chart_values => "Valeurs du graphique", "Chart values";
    net_reason_hint => "Obligatoire ; inscrit au journal des actions.", "Required; recorded in the action log.";
    net_amount_euros => "Montant recouvré", "Amount recovered";
    net_memo => "Libellé (obligatoire)", "Memo (required)";
}

impl Tr {
    /// A moment as pages show it (UTC).
    pub fn net_time(&self, time: DateTime<Utc>) -> String {
        match self.lang {
            Lang::Fr => time.format("%d/%m/%Y %H:%M UTC").to_string(),
            Lang::En => time.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// A ratio as each language writes decimals: « 0,2667 » or "0.2667".
    pub fn net_decimal(&self, value: rust_decimal::Decimal) -> String {
        let text = value.to_string();
        match self.lang {
            Lang::Fr => text.replace('.', ","),
            Lang::En => text,
        }
    }

    /// Basis points as a percentage: 250 → « 2,50 % ».
    pub fn net_percent(&self, bp: u32) -> String {
        format!("{} %", self.lang.amount(Amount::from_minor(i64::from(bp))))
    }

    /// A field error of the console's forms.
    pub fn net_invalid(&self, invalid: &InvalidInput) -> String {
        let fr = self.lang == Lang::Fr;
        match invalid {
            InvalidInput::ReasonMissing | InvalidInput::MemoMissing => {
                self.field_error(FieldError::Required)
            }
            InvalidInput::ReasonTooLong { max } | InvalidInput::MemoTooLong { max } => {
                self.field_error(FieldError::TooLong { max: *max })
            }
            InvalidInput::RateTooHigh { max } => {
                let max = self.net_percent(*max);
                if fr {
                    format!("Un taux ne peut dépasser {max}.")
                } else {
                    format!("A rate may not exceed {max}.")
                }
            }
            InvalidInput::NegativeMinimum => self.field_error(FieldError::InvalidAmount),
            InvalidInput::StressCountOutOfRange { max } => {
                if fr {
                    format!("Entre 1 et {max}.")
                } else {
                    format!("Between 1 and {max}.")
                }
            }
            InvalidInput::MonthsOutOfRange { max } => {
                if fr {
                    format!("Entre 1 et {max} mois.")
                } else {
                    format!("Between 1 and {max} months.")
                }
            }
        }
    }

    /// Why the fee schedule refused a date.
    pub fn net_schedule_error(&self, error: &ScheduleError) -> String {
        let fr = self.lang == Lang::Fr;
        match error {
            ScheduleError::EffectiveInPast { .. } => if fr {
                "Cette date est passée : un changement n'est jamais rétroactif."
            } else {
                "This date is in the past: a change is never retroactive."
            }
            .into(),
            ScheduleError::BeforeScheduledChange { latest, .. } => {
                let latest = self.net_time(*latest);
                if fr {
                    format!("Un changement est déjà annoncé pour le {latest} : choisissez cette date ou une date postérieure.")
                } else {
                    format!("A change is already announced for {latest}: choose that date or a later one.")
                }
            }
            other => {
                if fr {
                    format!("Changement refusé ({}).", other.code())
                } else {
                    format!("Change refused ({}).", other.code())
                }
            }
        }
    }

    /// A ledger refusal met by the default and recovery pages, as a sentence.
    pub fn net_rejection(&self, rejection: &Rejection) -> String {
        let fr = self.lang == Lang::Fr;
        let a = |amount: Amount| self.lang.amount(amount);
        match rejection {
            Rejection::NothingToWriteOff { balance } => {
                if fr {
                    format!(
                        "le solde du membre est de {} : il n'y a pas de dette à passer en perte.",
                        a(*balance)
                    )
                } else {
                    format!(
                        "the member's balance is {}: there is no debt to write off.",
                        a(*balance)
                    )
                }
            }
            Rejection::OpenHolds { pending } => {
                if fr {
                    format!("{} sont réservés par des commandes en cours ; annulez-les ou attendez leur expiration.", a(*pending))
                } else {
                    format!(
                        "{} is held by open orders; cancel them or wait for them to expire.",
                        a(*pending)
                    )
                }
            }
            Rejection::AccountClosed { .. } => if fr {
                "le compte est déjà clôturé."
            } else {
                "the account is already closed."
            }
            .into(),
            Rejection::NotWrittenOff { .. } => if fr {
                "un recouvrement ne s'applique qu'à un membre passé en perte."
            } else {
                "a recovery only applies to a written-off member."
            }
            .into(),
            Rejection::InvalidReason { max } => {
                if fr {
                    format!("le motif est obligatoire ({max} caractères au plus).")
                } else {
                    format!("a reason is required (at most {max} characters).")
                }
            }
            other => self.rejection(other),
        }
    }

    /// Any refusal of a console action, as a sentence.
    pub fn net_error(&self, error: &NetworkError) -> String {
        match error {
            NetworkError::Invalid(invalid) => self.net_invalid(invalid),
            NetworkError::Rejected(rejection) => self.net_rejection(rejection),
            NetworkError::Schedule(error) => self.net_schedule_error(error),
            NetworkError::Forbidden => self.error_forbidden().into(),
            NetworkError::UnknownMember => self.error_not_found().into(),
            NetworkError::Store(_) => self.error_internal().into(),
        }
    }
}
