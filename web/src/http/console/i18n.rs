//! The console's messages (French and English), beside its pages. Every method is prefixed
//! `con_` so that other features' catalogues never collide with these.

use ledger::{AccountStatus, Rejection};

use crate::console::{Conflict, ConsoleError, Field, LineIssue, Problem};
use crate::http::i18n::{catalogue, Lang, Tr};

catalogue! {
    con_console => "Console du réseau", "Network console";
    con_members => "Membres", "Members";
    con_member => "Membre", "Member";
    con_new_member => "Nouvelle entreprise membre", "New member company";
    con_applications => "Candidatures", "Applications";
    con_application => "Candidature", "Application";
    con_import => "Import CSV de membres", "CSV import of members";
    con_categories => "Catégories de membres", "Member categories";
    con_reviews => "Revues et alertes", "Reviews and alerts";
    con_log => "Journal des actions", "Action log";
    con_transaction => "Opération", "Transaction";
    con_latest_transactions => "Dernières opérations", "Latest transactions";
    con_find_transaction => "Ouvrir l'opération n°", "Open transaction no.";
    con_reverses => "Annule l'opération", "Reverses";
    con_reversed_by => "Annulée par", "Reversed by";
    con_postings => "Écritures", "Postings";
    con_account => "Compte", "Account";
    con_leg => "Nature", "Leg";
    con_reverse => "Annuler cette opération", "Reverse this transaction";
    con_reverse_intro => "L'annulation passe l'opération inverse : chaque écriture est contre-passée, frais compris, et les deux membres lisent le motif dans leur historique. Une opération ne s'annule qu'une fois ; l'annulation respecte les limites comme tout débit et figure au journal des actions.", "The reversal posts the opposite transaction: every posting is negated, fees included, and both members read the reason in their history. A transaction is reversed only once; the reversal obeys limits like any debit and is recorded in the action log.";
    con_fees => "Commissions", "Fees";
    con_fund => "Fonds de garantie", "Guarantee fund";
    con_stats => "Santé du réseau", "Network health";
    con_settings => "Réglages des revues et suggestions", "Review and suggestion settings";
    con_status => "Statut", "Status";
    con_status_active => "Actif", "Active";
    con_status_frozen => "Gelé", "Frozen";
    con_status_closed => "Clôturé", "Closed";
    con_all => "Tous", "All";
    con_category => "Catégorie", "Category";
    con_search => "Recherche (nom, SIREN, ville)", "Search (name, SIREN, city)";
    con_max_balance => "Plafond (solde maximal)", "Upper limit (largest balance)";
    con_no_max => "aucun", "none";
    con_turnover => "Chiffre d'affaires annuel déclaré", "Declared annual turnover";
    con_next_review => "Prochaine revue du découvert", "Next limit review";
    con_reason => "Motif", "Reason";
    con_reason_optional => "Motif (facultatif)", "Reason (optional)";
    con_limits => "Découvert et plafond", "Credit and upper limits";
    con_set_limits => "Modifier les limites", "Change the limits";
    con_limit_history => "Historique des limites", "Limit history";
    con_before => "Avant", "Before";
    con_after => "Après", "After";
    con_author => "Auteur", "Author";
    con_freeze => "Geler (peut recevoir, ne peut plus payer)", "Freeze (may receive, may not pay)";
    con_unfreeze => "Dégeler", "Unfreeze";
    con_close_member => "Clôturer (solde nul uniquement)", "Close (zero balance only)";
    con_default_workflow => "Défaillance : passage en perte", "Default: write-off";
    con_change_category => "Changer de catégorie", "Change category";
    con_set_turnover => "Enregistrer le chiffre d'affaires", "Record the turnover";
    con_set_review => "Planifier la revue", "Schedule the review";
    con_new_invitation => "Nouveau lien d'invitation pour le dirigeant", "New invitation link for the owner";
    con_users => "Utilisateurs", "Users";
    con_member_log => "Actions sur ce membre", "Actions on this member";
    con_whole_log => "Tout le journal de ce membre", "This member's whole log";
    con_suggestion => "Découvert suggéré", "Suggested credit limit";
    con_use_suggestion => "Reprendre la suggestion dans le formulaire", "Put the suggestion in the form";
    con_use_defaults => "Reprendre les valeurs de la catégorie", "Put the category's defaults in the form";
    con_no_suggestion => "Pas de suggestion : aucun chiffre d'affaires déclaré.", "No suggestion: no declared turnover.";
    con_suggestion_rule => "Règle : part du chiffre d'affaires déclaré, plafonnée par les ventes récentes (jamais sous le découvert par défaut de la catégorie), arrondie à l'unité inférieure. Rien ne change sans votre décision.", "Rule: a share of the declared turnover, capped by recent sales (never below the category's default limit), rounded down to a unit. Nothing changes until you decide.";
    con_from_turnover => "Part du chiffre d'affaires", "Share of turnover";
    con_sales => "Ventes", "Sales";
    con_trading_cap => "Plafond par l'historique", "Cap from trading history";
    con_category_default => "Découvert par défaut de la catégorie", "Category's default limit";
    con_done => "C'est fait.", "Done.";
    con_not_finished => "Création inachevée : voir l'import.", "Creation unfinished: see the import page.";
    con_create => "Créer et inviter", "Create and invite";
    con_created_links => "Liens d'invitation (à usage unique, à transmettre à chaque dirigeant ; ils ne seront plus affichés) :", "Invitation links (single use, give each to the owner; they will not be shown again):";
    con_file => "Fichier CSV (UTF-8, séparateur , ou ;)", "CSV file (UTF-8, separator , or ;)";
    con_import_help => "En-tête obligatoire : name, siren, email ; facultatifs : category, credit_limit, max_balance, opening_balance. Une seule ligne invalide et rien n'est importé.", "Required header: name, siren, email; optional: category, credit_limit, max_balance, opening_balance. One bad line and nothing is imported.";
    con_import_button => "Vérifier et importer", "Check and import";
    con_import_failed => "Rien n'a été importé. Corrigez ces lignes et recommencez :", "Nothing was imported. Fix these lines and try again:";
    con_unfinished => "Créations interrompues", "Interrupted creations";
    con_finish => "Terminer", "Finish";
    con_lines => "Lignes", "Lines";
    con_line => "Ligne", "Line";
    con_file_level => "Fichier", "File";
    con_code => "Code", "Code";
    con_name => "Nom", "Name";
    con_add => "Ajouter", "Add";
    con_count => "Nombre", "Count";
    con_near_limit => "Membres proches de leur découvert", "Members near their credit limit";
    con_leaving => "Membres qui quittent le réseau (préavis en attente)", "Members leaving the network (notice waiting)";
    con_leaving_badge => "quitte le réseau", "leaving the network";
    con_leaving_count => "Membres qui quittent le réseau", "Members leaving the network";
    con_disputes_count => "Contestations ouvertes", "Open disputes";
    con_disputes_open => "Contestations ouvertes (les plus anciennes d'abord)", "Open disputes (oldest first)";
    con_disputes_decided => "Contestations closes (les plus récentes d'abord)", "Closed disputes (newest first)";
    con_dispute_note => "Note de décision (lue par les deux entreprises ; mémo de l'annulation)", "Decision note (both companies read it; the reversal's memo)";
    con_dispute_reverse => "Annuler le paiement", "Reverse the payment";
    con_dispute_dismiss => "Rejeter la contestation", "Dismiss the dispute";
    con_dispute_hint => "Annuler le paiement rend au payeur tout ce qu'il a payé, frais compris, et le reprend au bénéficiaire (qui doit en avoir le crédit). Rejeter laisse le paiement tel quel.", "Reversing gives the payer back all it paid, fees included, and takes it back from the payee (who needs the credit for it). Dismissing leaves the payment as it is.";
    con_leaving_detail => "Préavis · ce qui bloque la fermeture", "Notice · what blocks the closing";
    con_departure => "Préavis de départ", "Notice of departure";
    con_departure_in_debt => "Solde négatif : le membre le rembourse en vendant dans le réseau, ou il est déclaré défaillant.", "Negative balance: the member pays it back by selling in the network, or is declared in default.";
    con_departure_default_link => "Défaillance…", "Default…";
    con_departure_orders => "Des commandes sont en cours : elles doivent être livrées ou annulées avant la fermeture.", "Orders are under way: they must be delivered or cancelled before the closing.";
    con_departure_to_fund => "Le solde restant est versé au fonds de garantie (ajustement visible dans l'historique du membre, avec la raison) :", "The remaining balance goes to the guarantee fund (an adjustment the member sees in its history, with the reason):";
    con_departure_settle_close => "Verser le solde au fonds et fermer le compte", "Move the balance to the fund and close the account";
    con_departure_close => "Fermer le compte", "Close the account";
    con_near_max_count => "Membres proches de leur plafond", "Members near their upper limit";
    con_near_max => "Membres proches de leur plafond (ils ne pourront bientôt plus être payés)", "Members near their upper limit (soon nobody can pay them)";
    con_used => "Utilisé", "Used";
    con_negative_long => "Membres négatifs depuis trop longtemps", "Members negative for too long";
    con_negative_since => "Négatif depuis", "Negative since";
    con_ageing => "Ancienneté des soldes négatifs", "Ageing of the negative balances";
    con_ageing_text => "Les membres dont le solde est négatif, selon le temps depuis lequel il l'est, aux étapes de la règle de retour à zéro : un rappel leur est envoyé par e-mail au quart, à la moitié et aux trois quarts de la règle, et un dernier au-delà.", "The members whose balance is negative, by how long it has been, in the steps of the return-to-zero rule: they are reminded by e-mail at a quarter, a half and three quarters of the rule, and once more past it.";
    con_ageing_days => "Négatif depuis (jours)", "Negative for (days)";
    con_ageing_step => "Étape", "Step";
    con_ageing_members => "Membres", "Members";
    con_ageing_debt => "Dette", "Debt";
    con_ageing_share => "Part de la dette", "Share of the debt";
    con_ageing_step_none => "pas encore de rappel", "no reminder yet";
    con_ageing_step_past => "au-delà de la règle", "past the rule";
    con_days => "Jours", "Days";
    con_growing => "Soldes positifs toujours en hausse (ils doivent acheter)", "Positive balances that keep growing (they need to buy)";
    con_growth_balances => "Soldes aux points de contrôle", "Balances at the checkpoints";
    con_reviews_due => "Revues de découvert à faire", "Limit reviews due";
    con_near_limit_pct => "Seuil « proche du découvert » (%)", "\"Near the limit\" threshold (%)";
    con_negative_days => "Règle de retour à zéro (jours)", "Return-to-zero rule (days)";
    con_growth_months => "Hausse continue sur (périodes de 30 jours)", "Growing over (30-day periods)";
    con_turnover_share_bp => "Part du chiffre d'affaires (points de base, 500 = 5 %)", "Share of turnover (basis points, 500 = 5%)";
    con_sales_months => "Ventes prises en compte (périodes de 30 jours)", "Sales counted (30-day periods)";
    con_sales_share_bp => "Part des ventes (points de base, 10 000 = 100 %)", "Share of sales (basis points, 10,000 = 100%)";
    con_time => "Date (UTC)", "Time (UTC)";
    con_actor => "Auteur", "Actor";
    con_action => "Action", "Action";
    con_member_id => "N° de membre", "Member no.";
    con_details => "Avant → après", "Before → after";
    con_older => "Plus anciennes", "Older";
    con_approve => "Accepter et inviter", "Approve and invite";
    con_refuse => "Refuser", "Refuse";
    con_pending => "En attente", "Pending";
    con_approved => "Acceptée", "Approved";
    con_refused => "Refusée", "Refused";
    con_message => "Message", "Message";
    con_apply_title => "Demander à rejoindre le réseau", "Apply to join the network";
    con_apply_text => "Votre demande sera examinée par le gestionnaire du réseau, qui vous enverra un lien d'accès si elle est acceptée.", "The network manager will review your application and send you an access link if it is accepted.";
    con_apply_button => "Envoyer la candidature", "Send the application";
    con_apply_done => "Candidature envoyée. Merci !", "Application sent. Thank you!";
    con_applicant_email => "Votre e-mail (dirigeant)", "Your email (owner)";
    con_decision => "Décision", "Decision";
    con_received => "Reçue le", "Received";
    con_download_csv => "Exporter en CSV", "Export as CSV";
    con_period_from => "Depuis le (AAAA-MM-JJ)", "From (YYYY-MM-DD)";
    con_period_to => "Jusqu'au (exclu)", "To (excluded)";
    con_read_only => "Lecture seule : seuls les gestionnaires du réseau peuvent agir.", "Read only: only network managers can act.";
    con_frozen_count => "Membres gelés", "Frozen members";
    con_open => "Ouvrir", "Open";
    con_below_debt => "sous la dette", "below the debt";
    con_empty_default => "Vide : la valeur de la catégorie.", "Empty: the category's value.";
    con_invitation_sent => "Nouveau lien d'invitation (à usage unique) :", "New invitation link (single use):";
    con_clear_empty => "Vide pour effacer.", "Empty to clear.";
    con_limit_requests => "Demandes de découvert ou de plafond", "Limit requests";
    con_limit_request => "Demande de découvert ou de plafond", "Limit request";
    con_asked => "Demandé", "Asked";
    con_asked_by => "Demandé par", "Asked by";
    con_limit_then => "Découvert lors de la demande", "Limit when asked";
    con_limit_now => "Découvert actuel", "Limit now";
    con_grant => "Accorder", "Grant";
    con_decline => "Refuser la demande", "Decline the request";
    con_granted => "Accordé", "Granted";
    con_decided_by => "Décidé par", "Decided by";
    con_grant_help => "Le montant demandé, ou un autre, pour chaque limite demandée ; l'autre ne change pas. Le membre lit le motif.", "The amount asked, or another, for each limit asked; the other does not change. The member reads the reason.";
    con_member_limit_request => "Demande de découvert ou de plafond en attente", "Limit request waiting";
    con_standing => "Virements permanents actifs", "Active standing orders";
    con_standing_paid => "payé à", "paid to";
    con_standing_received => "reçu de", "received from";
}

impl Tr {
    pub fn con_status_label(&self, status: AccountStatus) -> &'static str {
        match status {
            AccountStatus::Active => self.con_status_active(),
            AccountStatus::Frozen => self.con_status_frozen(),
            AccountStatus::Closed => self.con_status_closed(),
        }
    }

    pub fn con_field(&self, field: Field) -> &'static str {
        let fr = self.lang == Lang::Fr;
        let (f, e) = match field {
            Field::Name => ("Raison sociale", "Company name"),
            Field::Siren => ("SIREN", "SIREN"),
            Field::Email => ("E-mail", "Email"),
            Field::Category => ("Catégorie", "Category"),
            Field::CreditLimit => ("Découvert autorisé", "Credit limit"),
            Field::MaxBalance => ("Plafond", "Upper limit"),
            Field::OpeningBalance => ("Solde d'ouverture", "Opening balance"),
            Field::Turnover => ("Chiffre d'affaires", "Turnover"),
            Field::Reason => ("Motif", "Reason"),
            Field::ReviewDate => ("Date de revue", "Review date"),
            Field::Address => ("Adresse", "Address"),
            Field::City => ("Ville", "City"),
            Field::Postcode => ("Code postal", "Postcode"),
            Field::Sector => ("Secteur", "Sector"),
            Field::Description => ("Description", "Description"),
            Field::Contact => ("Contact", "Contact"),
            Field::Message => ("Message", "Message"),
            Field::Code => ("Code", "Code"),
            Field::File => ("Fichier", "File"),
            Field::RequestKey => ("Jeton", "Token"),
            Field::Payee => ("Bénéficiaire", "Payee"),
            Field::Amount => ("Montant", "Amount"),
            Field::Balance => ("Solde", "Balance"),
            Field::Reply => ("Réponse", "Answer"),
            Field::Decision => ("Décision", "Decision"),
            Field::Every => ("Périodicité", "Frequency"),
            Field::FirstDate => ("Première échéance", "First payment"),
            Field::EndDate => ("Dernière échéance", "Last payment"),
            Field::VatRate => ("Taux de TVA", "VAT rate"),
            Field::Lines => ("Lignes", "Lines"),
            Field::Mentions => ("Mentions légales", "Legal mentions"),
            Field::Url => ("Adresse", "Address"),
            Field::TwoStepRule => ("Règle", "Rule"),
            Field::Title => ("Titre", "Title"),
            Field::ShownUntil => ("Affichée jusqu'au", "Shown until"),
            Field::Debtor => ("Débiteur", "Debtor"),
            Field::Number => ("Numéro de facture", "Invoice number"),
            Field::DueOn => ("Échéance", "Due date"),
            // The settings form's own labels.
            Field::NearLimitPct => return self.con_near_limit_pct(),
            Field::NegativeDays => return self.con_negative_days(),
            Field::GrowthMonths => return self.con_growth_months(),
            Field::TurnoverShareBp => return self.con_turnover_share_bp(),
            Field::SalesMonths => return self.con_sales_months(),
            Field::SalesShareBp => return self.con_sales_share_bp(),
        };
        if fr {
            f
        } else {
            e
        }
    }

    /// A problem as a sentence.
    pub fn con_problem(&self, problem: &Problem) -> String {
        let a = |amount: ledger::Amount| self.lang.amount(amount);
        let fr = self.lang == Lang::Fr;
        let pick = |f: &str, e: &str| if fr { f.to_owned() } else { e.to_owned() };
        match problem {
            Problem::Required => pick("obligatoire.", "required."),
            Problem::TooLong { max } => {
                if fr {
                    format!("{max} caractères au plus.")
                } else {
                    format!("at most {max} characters.")
                }
            }
            Problem::InvalidSiren => pick(
                "SIREN invalide (9 chiffres, clé de Luhn).",
                "invalid SIREN (9 digits, Luhn check).",
            ),
            Problem::SirenTaken => pick(
                "ce SIREN est déjà membre.",
                "this SIREN is already a member.",
            ),
            Problem::SirenPending => pick(
                "une candidature de ce SIREN est déjà en attente.",
                "an application for this SIREN is already pending.",
            ),
            Problem::InvalidEmail => pick("adresse e-mail invalide.", "invalid email address."),
            Problem::EmailTaken => pick(
                "adresse e-mail déjà utilisée ou déjà invitée.",
                "email address already used or already invited.",
            ),
            Problem::InvalidAmount => pick(
                "montant invalide (exemple : 1 234,50).",
                "invalid amount (for example 1234.50).",
            ),
            Problem::NegativeAmount => pick("ne peut pas être négatif.", "cannot be negative."),
            Problem::AmountAboveMax { max } => {
                if fr {
                    format!("au plus {}.", a(*max))
                } else {
                    format!("at most {}.", a(*max))
                }
            }
            Problem::OverPaymentMax { max } => {
                if fr {
                    format!(
                        "au-delà de votre plafond par opération ({}) : le titulaire du compte \
                         peut le faire, ou relever votre plafond.",
                        a(*max)
                    )
                } else {
                    format!(
                        "over your limit per operation ({}): the account's owner can do it, \
                         or raise your limit.",
                        a(*max)
                    )
                }
            }
            Problem::OverMonthMax { max } => {
                if fr {
                    format!(
                        "au-delà de votre plafond par mois ({}) : chaque échéance y compte, \
                         le titulaire du compte peut le mettre en place, ou relever votre \
                         plafond.",
                        a(*max)
                    )
                } else {
                    format!(
                        "over your limit per month ({}): each due date counts in it; the \
                         account's owner can set it up, or raise your limit.",
                        a(*max)
                    )
                }
            }
            Problem::UnknownCategory => pick("catégorie inconnue.", "unknown category."),
            Problem::InvalidPostcode => pick("5 chiffres.", "5 digits."),
            Problem::InvalidChoice => pick("choix invalide.", "invalid choice."),
            Problem::InvalidDate => {
                pick("date invalide (AAAA-MM-JJ).", "invalid date (YYYY-MM-DD).")
            }
            Problem::OutOfRange { min, max } => {
                if fr {
                    format!("entre {min} et {max}.")
                } else {
                    format!("between {min} and {max}.")
                }
            }
            Problem::InvalidCode => pick(
                "1 à 32 caractères parmi a-z, 0-9, - et _.",
                "1 to 32 characters of a-z, 0-9, - and _.",
            ),
            Problem::CodeTaken => pick("ce code existe déjà.", "this code exists already."),
            Problem::DuplicateInFile { line } => {
                if fr {
                    format!("déjà présent à la ligne {line} du fichier.")
                } else {
                    format!("already on line {line} of the file.")
                }
            }
            Problem::OpeningDebtAboveLimit { limit } => {
                if fr {
                    format!(
                        "dette d'ouverture supérieure au découvert autorisé ({}).",
                        a(*limit)
                    )
                } else {
                    format!("opening debt above the credit limit ({}).", a(*limit))
                }
            }
            Problem::OpeningAboveMax { max } => {
                if fr {
                    format!("solde d'ouverture au-dessus du plafond ({}).", a(*max))
                } else {
                    format!("opening balance above the upper limit ({}).", a(*max))
                }
            }
            Problem::FileTooLarge { max } => {
                if fr {
                    format!("fichier trop volumineux ({max} octets au plus).")
                } else {
                    format!("file too large (at most {max} bytes).")
                }
            }
            Problem::TooManyLines { max } => {
                if fr {
                    format!("trop de lignes ({max} membres au plus par fichier).")
                } else {
                    format!("too many lines (at most {max} members per file).")
                }
            }
            Problem::NoLines => pick("aucune ligne à importer.", "no line to import."),
            Problem::NotUtf8 => pick(
                "le fichier n'est pas en UTF-8 (enregistrez-le en « CSV UTF-8 »).",
                "the file is not UTF-8 (save it as \"CSV UTF-8\").",
            ),
            Problem::MissingColumn { column } => {
                if fr {
                    format!("colonne obligatoire absente : {column}.")
                } else {
                    format!("required column missing: {column}.")
                }
            }
            Problem::UnknownColumn { column } => {
                if fr {
                    format!("colonne inconnue ou en double : « {column} ».")
                } else {
                    format!("unknown or repeated column: \"{column}\".")
                }
            }
            Problem::MalformedLine => pick(
                "ligne mal formée (nombre de colonnes).",
                "malformed line (number of columns).",
            ),
            Problem::Rejected(rejection) => self.con_rejection(rejection),
            Problem::SameAsCurrent => pick(
                "c'est déjà la valeur en vigueur.",
                "that is already the value in force.",
            ),
            Problem::NotAsked => pick(
                "la demande ne porte pas sur cette limite.",
                "the request does not ask for that limit.",
            ),
            Problem::NotTheBalance => pick(
                "ce n'est plus le solde du compte : il a changé, relisez la page.",
                "that is no longer the account's balance: it changed, read the page again.",
            ),
            Problem::LinesDoNotAddUp { sum, expected } => {
                if fr {
                    format!(
                        "les montants des lignes font {}, le paiement {} : ils doivent être égaux.",
                        a(*sum),
                        a(*expected)
                    )
                } else {
                    format!(
                        "the lines add up to {}, the payment is {}: they must be equal.",
                        a(*sum),
                        a(*expected)
                    )
                }
            }
            Problem::InvalidUrl => pick(
                "une adresse https:// complète est attendue (sans identifiant ni mot de passe, \
                 sans #).",
                "a full https:// address is expected (no user or password, no #).",
            ),
            Problem::PrivateAddress => pick(
                "cette adresse désigne ce serveur ou un réseau privé : donnez l'adresse \
                 publique de votre serveur.",
                "this address names this server or a private network: give your server's \
                 public address.",
            ),
        }
    }

    /// The ledger's refusals of manager operations, worded; others as the member pages
    /// word them.
    pub fn con_rejection(&self, rejection: &Rejection) -> String {
        let fr = self.lang == Lang::Fr;
        let a = |amount: ledger::Amount| self.lang.amount(amount);
        match rejection {
            Rejection::NonZeroBalance { balance } => {
                if fr {
                    format!(
                        "Le grand livre refuse : un membre ne peut être clôturé qu'à solde nul (solde {}).",
                        a(*balance)
                    )
                } else {
                    format!(
                        "The ledger refuses: a member can only be closed at a zero balance (balance {}).",
                        a(*balance)
                    )
                }
            }
            Rejection::OpenHolds { pending } => {
                if fr {
                    format!(
                        "Le grand livre refuse : {} sont réservés par des commandes en cours.",
                        a(*pending)
                    )
                } else {
                    format!(
                        "The ledger refuses: {} is held by open orders.",
                        a(*pending)
                    )
                }
            }
            Rejection::StatusUnchanged => if fr {
                "Le membre a déjà ce statut."
            } else {
                "The member already has this status."
            }
            .into(),
            Rejection::AccountClosed { .. } => if fr {
                "Le compte de ce membre est clôturé."
            } else {
                "This member's account is closed."
            }
            .into(),
            other => self.rejection(other),
        }
    }

    fn con_conflict(&self, conflict: Conflict) -> String {
        let fr = self.lang == Lang::Fr;
        match conflict {
            Conflict::AlreadyDecided => {
                if fr {
                    "Cette candidature a déjà été traitée."
                } else {
                    "This application was already decided."
                }
            }
            Conflict::BatchNotUnfinished => {
                if fr {
                    "Cette création n'est pas (ou plus) interrompue."
                } else {
                    "This creation is not (or no longer) interrupted."
                }
            }
            Conflict::TooManyPending => {
                if fr {
                    "Trop de candidatures en attente : réessayez dans quelques jours."
                } else {
                    "Too many applications are waiting: please try again in a few days."
                }
            }
            Conflict::LimitRequestDecided => {
                if fr {
                    "Cette demande de découvert a déjà été traitée ou retirée."
                } else {
                    "This credit-limit request was already decided or withdrawn."
                }
            }
            Conflict::TooManyLimitRequests => {
                if fr {
                    "Vous avez fait le nombre maximal de demandes de découvert sur 30 jours : \
                     contactez le gestionnaire du réseau."
                } else {
                    "You made the most credit-limit requests allowed in 30 days: contact the \
                     network's manager."
                }
            }
            Conflict::DeparturePending => {
                if fr {
                    "Votre demande de départ est déjà en attente."
                } else {
                    "Your notice of departure is already waiting."
                }
            }
            Conflict::DepartureDecided => {
                if fr {
                    "Cette demande de départ a déjà été retirée, ou le compte est fermé."
                } else {
                    "This notice of departure was already withdrawn, or the account is closed."
                }
            }
            Conflict::DepartureInDebt => {
                if fr {
                    "Le solde du membre est négatif : il le rembourse en vendant dans le \
                     réseau, ou il est déclaré défaillant."
                } else {
                    "The member's balance is negative: it pays it back by selling in the \
                     network, or it is declared in default."
                }
            }
            Conflict::OrdersUnderWay => {
                if fr {
                    "Des commandes du membre sont en cours : elles doivent être livrées ou \
                     annulées avant la fermeture."
                } else {
                    "Some of the member's orders are under way: they must be delivered or \
                     cancelled before the closing."
                }
            }
            Conflict::DisputeOpen => {
                if fr {
                    "Une contestation est déjà ouverte sur ce paiement."
                } else {
                    "A dispute is already open on this payment."
                }
            }
            Conflict::DisputeDecided => {
                if fr {
                    "Cette contestation est déjà close (retirée, remboursée, annulée ou rejetée \
                     par le réseau)."
                } else {
                    "This dispute is closed already (withdrawn, refunded, reversed or dismissed \
                     by the network)."
                }
            }
            Conflict::TooManyDisputes => {
                if fr {
                    "Vous avez ouvert le nombre maximal de contestations sur 30 jours : \
                     contactez le gestionnaire du réseau."
                } else {
                    "You opened the most disputes allowed in 30 days: contact the network's \
                     manager."
                }
            }
            Conflict::DisputeTooLate => {
                if fr {
                    "Ce paiement a plus de 90 jours : il ne peut plus être contesté ici. \
                     Contactez le gestionnaire du réseau."
                } else {
                    "This payment is more than 90 days old: it can no longer be disputed here. \
                     Contact the network's manager."
                }
            }
            Conflict::TooManyDepartures => {
                if fr {
                    "Vous avez fait le nombre maximal de demandes de départ sur 30 jours : \
                     contactez le gestionnaire du réseau."
                } else {
                    "You gave the most notices of departure allowed in 30 days: contact the \
                     network's manager."
                }
            }
            Conflict::TooManyStandingOrders => {
                if fr {
                    "Vous avez déjà le nombre maximal de virements permanents actifs : \
                     arrêtez-en un d'abord."
                } else {
                    "You already have the most active standing orders allowed: stop one first."
                }
            }
            Conflict::StandingOrderEnded => {
                if fr {
                    "Ce virement permanent est déjà arrêté ou terminé."
                } else {
                    "This standing order was already stopped or finished."
                }
            }
            Conflict::AlreadyInvoiced => {
                if fr {
                    "Ce paiement a déjà sa facture."
                } else {
                    "This payment already has its invoice."
                }
            }
            Conflict::PaymentRefunded => {
                if fr {
                    "Ce paiement a été remboursé : il n'y a pas de vente à facturer."
                } else {
                    "This payment was refunded: there is no sale to invoice."
                }
            }
            Conflict::TooManyInvoices => {
                if fr {
                    "Vous avez émis le nombre maximal de factures pour cette année."
                } else {
                    "You issued the most invoices this year's numbers allow."
                }
            }
            Conflict::AlreadyCredited | Conflict::AlreadyNumbered => {
                if fr {
                    "Cette facture a déjà son avoir."
                } else {
                    "This invoice already has its credit note."
                }
            }
            Conflict::NotCreditable => {
                if fr {
                    "Un avoir ne s'annule pas par un autre avoir."
                } else {
                    "A credit note is not cancelled by another one."
                }
            }
            Conflict::PaymentNotRefunded => {
                if fr {
                    "Le paiement de cette facture n'a pas été remboursé : il n'y a rien à annuler."
                } else {
                    "This invoice's payment was not refunded: there is nothing to cancel."
                }
            }
            Conflict::TooManyWebhooks => {
                if fr {
                    "Votre entreprise a déjà le nombre maximal de webhooks : supprimez-en un \
                     d'abord."
                } else {
                    "Your company already has the most webhooks allowed: delete one first."
                }
            }
            Conflict::TooManyAnnouncements => {
                if fr {
                    "Le réseau affiche déjà le nombre maximal d'annonces : retirez-en une d'abord, \
                     ou attendez qu'une se termine."
                } else {
                    "The network shows as many announcements as it may: withdraw one first, or \
                     wait for one to end."
                }
            }
            Conflict::AnnouncementWithdrawn => {
                if fr {
                    "Cette annonce a déjà été retirée."
                } else {
                    "This announcement was withdrawn already."
                }
            }
            Conflict::InvoiceNumberTaken => {
                if fr {
                    "Vous avez déjà déclaré une facture sous ce numéro."
                } else {
                    "You declared an invoice with this number already."
                }
            }
            Conflict::TooManyOutsideInvoices => {
                if fr {
                    "Votre entreprise a déjà le nombre maximal de factures en attente ou dues : \
                     attendez une compensation, ou clôturez-en une."
                } else {
                    "Your company has as many invoices waiting or owed as it may: wait for a \
                     set-off, or close one."
                }
            }
            Conflict::OutsideInvoiceDecided => {
                if fr {
                    "Cette facture a déjà été confirmée, refusée, clôturée ou compensée."
                } else {
                    "This invoice was confirmed, rejected, closed or cleared already."
                }
            }
            Conflict::NothingToSetOff => {
                if fr {
                    "Aucune compensation n'est possible sur les factures confirmées : rien n'a \
                     été enregistré."
                } else {
                    "No set-off is possible on the confirmed invoices: nothing was recorded."
                }
            }
            Conflict::LimitRequestPending => {
                if fr {
                    "Une demande de découvert est déjà en attente : retirez-la ou attendez la \
                     décision."
                } else {
                    "A credit-limit request is already waiting: withdraw it or wait for the \
                     decision."
                }
            }
        }
        .into()
    }

    fn con_line_issue(&self, issue: &LineIssue) -> String {
        let place = match issue.line {
            Some(line) => format!("{} {line}", self.con_line()),
            None => self.con_file_level().to_owned(),
        };
        match issue.field {
            Some(field) => format!(
                "{place} — {}{}{}",
                self.con_field(field),
                self.con_colon(),
                self.con_problem(&issue.problem)
            ),
            None => format!("{place} — {}", self.con_problem(&issue.problem)),
        }
    }

    /// French puts a space before a colon; English does not.
    fn con_colon(&self) -> &'static str {
        match self.lang {
            Lang::Fr => " : ",
            Lang::En => ": ",
        }
    }

    /// Every message of an error a form shows (server errors are not worded here).
    pub fn con_messages(&self, error: &ConsoleError) -> Vec<String> {
        match error {
            ConsoleError::Invalid(issues) => issues
                .iter()
                .map(|i| {
                    let place = match i.line {
                        Some(line) => format!("{} {line} — ", self.con_line()),
                        None => String::new(),
                    };
                    format!(
                        "{place}{}{}{}",
                        self.con_field(i.field),
                        self.con_colon(),
                        self.con_problem(&i.problem)
                    )
                })
                .collect(),
            ConsoleError::InvalidFile(issues) => {
                issues.iter().map(|i| self.con_line_issue(i)).collect()
            }
            ConsoleError::Rejected(rejection) => vec![self.con_rejection(rejection)],
            ConsoleError::Conflict(conflict) => vec![self.con_conflict(*conflict)],
            ConsoleError::Forbidden => vec![self.error_forbidden().to_owned()],
            ConsoleError::NotFound => vec![self.error_not_found().to_owned()],
            ConsoleError::Store(_) => vec![self.error_internal().to_owned()],
        }
    }
}
