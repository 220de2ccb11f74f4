//! The message catalogue: French by default, English available.
//!
//! Each message is a method of [`Tr`], so a template that names a missing message does not
//! compile. Messages with data (rejections, amounts) are built by functions here rather than
//! by string templates, so each language can order its words freely.

use ledger::{Amount, Rejection};

/// A user-interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == text)
    }

    /// The first supported language of an `Accept-Language` header, honouring q-values;
    /// French when nothing matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(Lang, u32)> = None;
        // Bounded: a header with more than 32 entries is read only up to its 32nd.
        for entry in header.split(',').take(32) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u32)
                .unwrap_or(1000);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang).unwrap_or(Lang::Fr)
    }

    /// Amounts as each language writes them: « 1 234,50 » or "1,234.50".
    pub fn amount(self, amount: Amount) -> String {
        match self {
            Lang::Fr => amount.to_french(),
            Lang::En => amount.to_french().replace(',', ".").replace(' ', ","),
        }
    }
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

/// Defines messages as methods of [`Tr`]: `catalogue! { name => "français", "English"; }`.
/// Feature modules may hold their own catalogue (another `impl Tr` block), so that their
/// messages live beside their pages.
macro_rules! catalogue {
    ($($name:ident => $fr:expr, $en:expr;)*) => {
        impl $crate::http::i18n::Tr {
            $(
                pub fn $name(&self) -> &'static str {
                    match self.lang {
                        $crate::http::i18n::Lang::Fr => $fr,
                        $crate::http::i18n::Lang::En => $en,
                    }
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use catalogue;

catalogue! {
    lang_code => "fr", "en";
    app_name => "Troc", "Troc";
    tagline => "Le réseau d'échange inter-entreprises", "The business-to-business barter network";
    skip_to_content => "Aller au contenu", "Skip to content";
    nav_dashboard => "Tableau de bord", "Dashboard";
    nav_pay => "Payer", "Pay";
    nav_requests => "Demandes de paiement", "Payment requests";
    nav_orders => "Commandes", "Orders";
    nav_market => "Annonces", "Marketplace";
    nav_my_listings => "Mes annonces", "My listings";
    nav_history => "Historique", "History";
    nav_directory => "Annuaire", "Directory";
    nav_rules => "Règles du réseau", "Network rules";
    nav_account => "Mon compte", "My account";
    nav_company => "Mon entreprise", "My company";
    nav_admin => "Administration", "Administration";
    login => "Connexion", "Log in";
    logout => "Déconnexion", "Log out";
    email => "Adresse e-mail", "Email address";
    password => "Mot de passe", "Password";
    password_current => "Mot de passe actuel", "Current password";
    password_new => "Nouveau mot de passe", "New password";
    password_confirm => "Confirmer le mot de passe", "Confirm password";
    password_change => "Changer le mot de passe", "Change password";
    password_changed => "Mot de passe modifié.", "Password changed.";
    password_hint => "12 caractères au moins.", "At least 12 characters.";
    login_failed => "E-mail ou mot de passe incorrect.", "Wrong email or password.";
    login_throttled => "Trop de tentatives. Réessayez dans quelques minutes.", "Too many attempts. Try again in a few minutes.";
    forgot_link => "Mot de passe oublié ?", "Forgot your password?";
    forgot_title => "Mot de passe oublié", "Forgotten password";
    forgot_intro => "Indiquez l'adresse e-mail de votre compte : nous y enverrons un lien pour choisir un nouveau mot de passe.", "Enter your account's email address: we will send it a link to choose a new password.";
    forgot_send => "Envoyer le lien", "Send the link";
    forgot_sent => "Si un compte utilise cette adresse, un lien vient d'y être envoyé. Il fonctionne une heure, une seule fois.", "If an account uses this address, a link is on its way to it. It works for one hour, once.";
    forgot_no_mail => "Ce réseau n'envoie pas d'e-mails : demandez au gestionnaire de votre réseau un lien pour choisir un nouveau mot de passe.", "This network sends no email: ask your network's manager for a link to choose a new password.";
    reset_title => "Choisir un nouveau mot de passe", "Choose a new password";
    reset_save => "Enregistrer le mot de passe", "Save the password";
    reset_gone => "Ce lien ne fonctionne plus : il a déjà servi ou il a expiré.", "This link no longer works: it was used or it expired.";
    reset_ask_again => "Demander un nouveau lien", "Ask for a new link";
    reset_sessions_closed => "Mot de passe enregistré. Vos autres sessions ont été fermées ; vos jetons d'API restent valides.", "Password saved. Your other sessions were closed; your API tokens still work.";
    con_reset_link => "Lien de nouveau mot de passe", "New password link";
    con_reset_link_made => "Lien pour choisir un nouveau mot de passe (à usage unique, valable 24 heures, à transmettre à la personne seule) :", "Link to choose a new password (single use, valid 24 hours, give it to the person alone):";
    con_reset_link_mailed => "Un lien pour choisir un nouveau mot de passe (valable 24 heures) a été envoyé par e-mail à", "A link to choose a new password (valid 24 hours) was emailed to";
    notices_title => "Avis par e-mail", "Email notices";
    notices_intro => "M'envoyer un e-mail pour :", "Email me:";
    notices_label => "ce qui attend mon action (une demande de paiement reçue, un paiement à approuver) et les changements que le réseau fait sur le compte (limites, statut) ou sur ses frais", "what waits for my action (a payment request received, a payment to approve) and the network's changes to the account (limits, status) or to its fees";
    receipts_label => "un résumé des paiements reçus par mon entreprise, au plus un par heure", "a summary of the payments my company received, at most one an hour";
    listings_label => "chaque lundi, les nouvelles annonces qui peuvent intéresser mon entreprise", "every Monday, the new listings that may interest my company";
    statements_label => "chaque mois, le relevé du compte de mon entreprise (au titulaire et au comptable de l'entreprise)", "every month, the statement of my company's account (to the company's owner and accountant)";
    record_title => "Journal du réseau", "Network record";
    record_intro => "Tout ce que le gestionnaire du réseau a fait sur votre entreprise et son compte (limites, statut, catégorie, invitations…), avec qui et pourquoi, du plus récent au plus ancien. Vos propres opérations sont dans l'historique.", "Everything the network's manager did to your company and its account (limits, status, category, invitations…), with who and why, newest first. Your own operations are in the history.";
    record_none => "Le réseau n'a encore rien fait sur votre entreprise.", "The network has done nothing to your company yet.";
    record_action => "Action", "Action";
    record_change => "Changement", "Change";
    invitation_mailed => "L'invitation a aussi été envoyée par e-mail.", "The invitation was also emailed.";
    language => "Langue", "Language";
    save => "Enregistrer", "Save";
    saved => "Enregistré.", "Saved.";
    cancel => "Annuler", "Cancel";
    confirm => "Confirmer", "Confirm";
    back => "Retour", "Back";
    submit => "Valider", "Submit";
    search => "Rechercher", "Search";
    next_page => "Page suivante", "Next page";
    none => "Aucun élément.", "Nothing here.";
    signed_by_payer => "Ordre signé par le payeur", "Order signed by the payer";
    error_title => "Erreur", "Error";
    error_not_found => "Cette page n'existe pas, ou vous n'y avez pas accès.", "This page does not exist, or you cannot see it.";
    error_forbidden => "Vous n'avez pas le droit de faire cela.", "You are not allowed to do this.";
    error_csrf => "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.", "The form expired or did not come from this site. Reload the page and try again.";
    error_too_large => "La requête est trop volumineuse.", "The request is too large.";
    error_internal => "Une erreur interne s'est produite. Réessayez plus tard.", "An internal error occurred. Please try again later.";
    error_bad_request => "La requête est invalide.", "The request is invalid.";
    error_nul_character => "Le texte envoyé contient un caractère invisible interdit (le caractère nul) : retapez-le sans le copier-coller d'un autre logiciel. Rien n'a été enregistré.", "The text sent holds a forbidden invisible character (the NUL character): type it again rather than pasting it from another program. Nothing was saved.";
    error_unavailable => "Ce service n'est pas encore disponible.", "This service is not available yet.";
    home_title => "Bienvenue sur Troc", "Welcome to Troc";
    home_text => "Les entreprises membres échangent biens et services sans trésorerie : une vente crédite le vendeur, un achat débite l'acheteur.", "Member companies trade goods and services without cash: a sale credits the seller, a purchase debits the buyer.";
    balance => "Solde", "Balance";
    credit_limit => "Découvert autorisé", "Credit limit";
    available => "Disponible", "Available";
    pending => "Réservé", "Held";
    amount => "Montant", "Amount";
    reference => "Référence de facture", "Invoice reference";
    memo => "Libellé", "Memo";
    payee => "Bénéficiaire", "Payee";
    payer => "Payeur", "Payer";
    counterparty => "Contrepartie", "Counterparty";
    date => "Date", "Date";
    kind => "Type", "Kind";
    status => "Statut", "Status";
    commission => "Commission", "Commission";
    fund_contribution => "Contribution au fonds de garantie", "Guarantee fund contribution";
    resulting_balance => "Solde après paiement", "Balance after payment";
    resulting_available => "Disponible après paiement", "Available after payment";
    pay_title => "Payer un membre", "Pay a member";
    pay_confirm_title => "Confirmer le paiement", "Confirm the payment";
    pay_done => "Paiement effectué.", "Payment made.";
    choose => "Choisir…", "Choose…";
    recent_transactions => "Dernières opérations", "Recent transactions";
    requests_waiting => "Demandes à payer", "Requests to pay";
    reminders => "Rappels", "Reminders";
    balance_chart => "Évolution du solde", "Balance over time";
    invitations => "Invitations", "Invitations";
    invite => "Inviter", "Invite";
    invite_staff => "Inviter un collaborateur", "Invite a staff member";
    invite_member => "Inviter une entreprise membre", "Invite a member company";
    invitation_link => "Lien d'invitation (à usage unique, à transmettre à la personne invitée) :", "Invitation link (single use, give it to the person invited):";
    invitation_invalid => "Cette invitation est invalide, expirée ou déjà utilisée.", "This invitation is invalid, expired or already used.";
    accept_invitation => "Accepter l'invitation", "Accept the invitation";
    display_name => "Nom affiché", "Display name";
    company_name => "Raison sociale", "Company name";
    siren => "SIREN", "SIREN";
    address => "Adresse", "Address";
    city => "Ville", "City";
    postcode => "Code postal", "Postcode";
    sector => "Secteur", "Sector";
    description => "Description", "Description";
    contact => "Contact", "Contact";
    hide_balance => "Masquer mon solde dans l'annuaire", "Hide my balance in the directory";
    leave_directory => "Ne pas figurer dans l'annuaire", "Leave the directory";
    owner_email => "E-mail du dirigeant", "Owner's email";
    credit_limit_initial => "Découvert autorisé initial", "Initial credit limit";
    fee_rules => "Règles de commission et de fonds de garantie", "Fee and guarantee fund rules";
    offers => "Offres", "Offers";
    wants => "Demandes", "Wants";
    offer => "Offre", "Offer";
    want => "Demande", "Want";
    title => "Titre", "Title";
    category => "Catégorie", "Category";
    price => "Prix", "Price";
    on_quote => "Sur devis", "On quote";
    vat_rate => "Taux de TVA (%)", "VAT rate (%)";
    active_until => "Valable jusqu'au", "Active until";
    new_listing => "Nouvelle annonce", "New listing";
    edit => "Modifier", "Edit";
    close => "Clôturer", "Close";
    closed => "Clôturée", "Closed";
    open => "Ouverte", "Open";
    all => "Toutes", "All";
    text => "Texte", "Text";
    order => "Commander", "Order";
    place_order => "Passer commande", "Place an order";
    confirm_delivery => "Confirmer la livraison", "Confirm delivery";
    request_payment => "Demander un paiement", "Request a payment";
    buyer => "Acheteur", "Buyer";
    seller => "Vendeur", "Seller";
    due_date => "Échéance", "Due date";
    accept => "Accepter et payer", "Accept and pay";
    decline => "Refuser", "Decline";
    to_pay => "À payer", "To pay";
    sent => "Envoyées", "Sent";
    statement => "Relevé mensuel", "Monthly statement";
    download_csv => "Télécharger en CSV", "Download as CSV";
    period_from => "Du", "From";
    period_to => "Au", "To";
    filter => "Filtrer", "Filter";
    print => "Imprimer", "Print";
    members => "Membres", "Members";
    hidden => "masqué", "hidden";
    role_manager => "Gestionnaire du réseau", "Network manager";
    role_accountant => "Comptable", "Accountant";
    role_owner => "Dirigeant", "Owner";
    role_staff => "Collaborateur", "Staff";
    role => "Rôle", "Role";
    opening_balance => "Solde d'ouverture", "Opening balance";
    closing_balance => "Solde de clôture", "Closing balance";
    month => "Mois", "Month";
    total_debited => "Total débité de votre compte", "Total debited from your account";
    payee_receives => "Le bénéficiaire reçoit", "The payee receives";
    paid_by_buyer => "payée par l'acheteur", "paid by the buyer";
    paid_by_seller => "payée par le vendeur", "paid by the seller";
    commission_rate => "Commission sur les ventes", "Commission on sales";
    commission_minimum => "Commission minimale", "Minimum commission";
    fund_rate => "Contribution au fonds de garantie", "Guarantee fund contribution";
    amount_per_tx_max => "Montant maximal par opération", "Largest amount per transaction";
    rules_text => "Ces règles s'appliquent à chaque échange ; la commission et la contribution sont calculées au centime près, arrondies au demi-centime supérieur.", "These rules apply to every trade; the commission and the contribution are computed to the cent, half up.";
    zero_title => "Retour à zéro", "Return to zero";
    reminder_near_limit => "Vous avez utilisé plus de 80 % de votre découvert autorisé.", "You have used more than 80% of your credit limit.";
    reminder_near_max => "Votre solde dépasse 80 % de votre plafond : au-delà, vous ne pourrez plus être payé. Achetez dans le réseau, ou demandez un autre plafond.", "Your balance is above 80% of your upper limit: beyond it, you cannot be paid. Buy in the network, or ask for another upper limit.";
    upper_limit => "Plafond", "Upper limit";
    reminder_deliveries => "Des commandes attendent votre confirmation de livraison.", "Orders are waiting for you to confirm delivery.";
    no_reminder => "Rien à signaler.", "Nothing to report.";
    see_all => "Tout voir", "See all";
    times_utc => "Heures en UTC.", "Times in UTC.";
    price_hint => "Laisser vide pour « sur devis ».", "Leave empty for \"on quote\".";
    staff => "Utilisateurs", "Users";
    privacy => "Confidentialité", "Privacy";
    read_only_owner => "Seul le dirigeant peut modifier ces informations.", "Only the owner can change this.";
    member_created => "Entreprise créée. Transmettez ce lien à son dirigeant :", "Company created. Give this link to its owner:";
    no_member_account => "Ce compte utilisateur n'est rattaché à aucune entreprise membre.", "This user account belongs to no member company.";
}

impl Tr {
    /// The dashboard's and the statement's reminder of the return-to-zero rule, for a
    /// spell that reached a step (`crate::zero`).
    pub fn reminder_return_to_zero(
        &self,
        spell: &crate::zero::Spell,
        rule: crate::zero::Rule,
    ) -> String {
        use crate::zero::Past;
        let days = spell.days;
        let rule_days = rule.days();
        match (self.lang, spell.past()) {
            (Lang::Fr, Past::Within) => format!(
                "Votre solde est négatif depuis {days} jours : la règle du réseau demande d'y \
                 revenir à zéro en {rule_days} jours, soit avant le {}. Vendez aux membres \
                 pour revenir à zéro.",
                spell.deadline.format("%d/%m/%Y")
            ),
            (Lang::Fr, Past::Beyond) => format!(
                "Votre solde est négatif depuis {days} jours, au-delà des {rule_days} jours de \
                 la règle du réseau : le gestionnaire du réseau va revoir votre compte avec \
                 vous. Vendez aux membres pour revenir à zéro."
            ),
            (Lang::En, Past::Within) => format!(
                "Your balance has been negative for {days} days: the network's rule asks you to \
                 bring it back to zero within {rule_days} days, by {}. Sell to members to get \
                 back to zero.",
                spell.deadline.format("%Y-%m-%d")
            ),
            (Lang::En, Past::Beyond) => format!(
                "Your balance has been negative for {days} days, past the network's rule of \
                 {rule_days} days: the network's manager will review your account with you. \
                 Sell to members to get back to zero."
            ),
        }
    }

    /// The return-to-zero rule as `/rules` states it.
    pub fn zero_rule(&self, rule: crate::zero::Rule) -> String {
        let [first, second, third, past] = [1, 2, 3, 4].map(|s| rule.step_days(s));
        let days = rule.days();
        match self.lang {
            Lang::Fr => format!(
                "Un solde négatif revient à zéro en {days} jours : le crédit d'un membre lui \
                 est avancé par les autres, il le rembourse en leur vendant ses biens et \
                 services. Un rappel est envoyé par e-mail après {first}, {second} et {third} \
                 jours de solde négatif ; à partir de {past} jours, le gestionnaire du réseau \
                 revoit le compte avec le membre (sa limite de crédit, la façon de revenir à \
                 zéro)."
            ),
            Lang::En => format!(
                "A negative balance comes back to zero within {days} days: a member's credit \
                 is advanced by the others, and it repays it by selling them its goods and \
                 services. A reminder is e-mailed after {first}, {second} and {third} days of \
                 negative balance; from {past} days, the network's manager reviews the account \
                 with the member (its credit limit, how to come back to zero)."
            ),
        }
    }

    pub fn tx_kind(&self, kind: ledger::TxKind) -> &'static str {
        use ledger::TxKind::*;
        let fr = self.lang == Lang::Fr;
        match kind {
            Payment => {
                if fr {
                    "Paiement"
                } else {
                    "Payment"
                }
            }
            Fee => {
                if fr {
                    "Frais"
                } else {
                    "Fee"
                }
            }
            FundContribution => {
                if fr {
                    "Contribution au fonds"
                } else {
                    "Fund contribution"
                }
            }
            HoldCapture => {
                if fr {
                    "Commande livrée"
                } else {
                    "Delivered order"
                }
            }
            Reversal => {
                if fr {
                    "Annulation"
                } else {
                    "Reversal"
                }
            }
            WriteOff => {
                if fr {
                    "Passage en perte"
                } else {
                    "Write-off"
                }
            }
            Recovery => {
                if fr {
                    "Recouvrement"
                } else {
                    "Recovery"
                }
            }
            OpeningBalance => {
                if fr {
                    "Solde d'ouverture"
                } else {
                    "Opening balance"
                }
            }
            Adjustment => {
                if fr {
                    "Régularisation"
                } else {
                    "Adjustment"
                }
            }
        }
    }
}

/// Field-level validation errors, in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    Required,
    TooLong { max: usize },
    InvalidAmount,
    InvalidEmail,
    InvalidSiren,
    InvalidPostcode,
    InvalidChoice,
    InvalidDate,
    DateInPast,
    PasswordTooShort { min: usize },
    PasswordMismatch,
    PasswordWrong,
    EmailTaken,
    SirenTaken,
    UnknownMember,
}

impl Tr {
    pub fn field_error(&self, error: FieldError) -> String {
        use FieldError::*;
        match (self.lang, error) {
            (Lang::Fr, Required) => "Ce champ est obligatoire.".into(),
            (Lang::En, Required) => "This field is required.".into(),
            (Lang::Fr, TooLong { max }) => format!("{max} caractères au plus."),
            (Lang::En, TooLong { max }) => format!("At most {max} characters."),
            (Lang::Fr, InvalidAmount) => {
                "Montant invalide (exemple : 1 234,50, deux décimales au plus).".into()
            }
            (Lang::En, InvalidAmount) => {
                "Invalid amount (for example 1234.50, at most two decimals).".into()
            }
            (Lang::Fr, InvalidEmail) => "Adresse e-mail invalide.".into(),
            (Lang::En, InvalidEmail) => "Invalid email address.".into(),
            (Lang::Fr, InvalidSiren) => {
                "Le SIREN doit comporter 9 chiffres et être valide (clé de Luhn).".into()
            }
            (Lang::En, InvalidSiren) => {
                "The SIREN must have 9 digits and pass the Luhn check.".into()
            }
            (Lang::Fr, InvalidPostcode) => "Le code postal doit comporter 5 chiffres.".into(),
            (Lang::En, InvalidPostcode) => "The postcode must have 5 digits.".into(),
            (Lang::Fr, InvalidChoice) => "Choix invalide.".into(),
            (Lang::En, InvalidChoice) => "Invalid choice.".into(),
            (Lang::Fr, InvalidDate) => "Date invalide (AAAA-MM-JJ).".into(),
            (Lang::En, InvalidDate) => "Invalid date (YYYY-MM-DD).".into(),
            (Lang::Fr, DateInPast) => "La date doit être dans le futur.".into(),
            (Lang::En, DateInPast) => "The date must be in the future.".into(),
            (Lang::Fr, PasswordTooShort { min }) => format!("{min} caractères au moins."),
            (Lang::En, PasswordTooShort { min }) => format!("At least {min} characters."),
            (Lang::Fr, PasswordMismatch) => "Les mots de passe ne correspondent pas.".into(),
            (Lang::En, PasswordMismatch) => "The passwords do not match.".into(),
            (Lang::Fr, PasswordWrong) => "Mot de passe incorrect.".into(),
            (Lang::En, PasswordWrong) => "Wrong password.".into(),
            (Lang::Fr, EmailTaken) => "Cette adresse e-mail est déjà utilisée.".into(),
            (Lang::En, EmailTaken) => "This email address is already used.".into(),
            (Lang::Fr, SirenTaken) => "Ce SIREN est déjà enregistré.".into(),
            (Lang::En, SirenTaken) => "This SIREN is already registered.".into(),
            (Lang::Fr, UnknownMember) => "Membre inconnu.".into(),
            (Lang::En, UnknownMember) => "Unknown member.".into(),
        }
    }

    /// A ledger rejection as a sentence, with its data (« Crédit insuffisant : disponible
    /// 340,00, demandé 500,00 »). Account ids are not shown: the user knows which account.
    pub fn rejection(&self, rejection: &Rejection) -> String {
        let a = |amount: Amount| self.lang.amount(amount);
        let fr = self.lang == Lang::Fr;
        match rejection {
            Rejection::InsufficientCredit {
                available,
                requested,
                ..
            } => {
                if fr {
                    format!(
                        "Crédit insuffisant : disponible {}, demandé {}",
                        a(*available),
                        a(*requested)
                    )
                } else {
                    format!(
                        "Insufficient credit: available {}, requested {}",
                        a(*available),
                        a(*requested)
                    )
                }
            }
            // The payee's figures are not the payer's to read: its upper limit and the
            // balance it would reach tell its balance, which it may hide.
            Rejection::OverUpperLimit { .. } => if fr {
                "Le bénéficiaire dépasserait son plafond (le solde le plus élevé qu'il peut \
                 détenir) : il ne peut pas recevoir ce montant maintenant."
            } else {
                "The payee would exceed its upper limit (the largest balance it may hold): it \
                 cannot receive this amount now."
            }
            .to_owned(),
            Rejection::AccountFrozen { .. } => if fr {
                "Le compte est gelé : il peut recevoir mais pas payer."
            } else {
                "The account is frozen: it may receive but not pay."
            }
            .into(),
            Rejection::AccountClosed { .. } => if fr {
                "Le compte est clôturé."
            } else {
                "The account is closed."
            }
            .into(),
            Rejection::SameAccount => if fr {
                "Vous ne pouvez pas vous payer vous-même."
            } else {
                "You cannot pay yourself."
            }
            .into(),
            Rejection::ZeroAmount | Rejection::NegativeAmount => if fr {
                "Le montant doit être supérieur à zéro."
            } else {
                "The amount must be greater than zero."
            }
            .into(),
            Rejection::AmountAboveMaximum { amount, max } => {
                if fr {
                    format!(
                        "Le montant {} dépasse le maximum par opération ({})",
                        a(*amount),
                        a(*max)
                    )
                } else {
                    format!(
                        "The amount {} is above the per-transaction maximum ({})",
                        a(*amount),
                        a(*max)
                    )
                }
            }
            Rejection::MemoTooLong { len, max } => {
                if fr {
                    format!("Le libellé fait {len} caractères, le maximum est {max}.")
                } else {
                    format!("The memo is {len} characters long, the maximum is {max}.")
                }
            }
            Rejection::ReferenceTooLong { len, max } => {
                if fr {
                    format!("La référence fait {len} caractères, le maximum est {max}.")
                } else {
                    format!("The reference is {len} characters long, the maximum is {max}.")
                }
            }
            Rejection::HoldExpired { .. } => if fr {
                "La réservation a expiré."
            } else {
                "The hold has expired."
            }
            .into(),
            Rejection::HoldAlreadyResolved { .. } => if fr {
                "Cette commande est déjà réglée ou annulée."
            } else {
                "This order is already settled or cancelled."
            }
            .into(),
            Rejection::PeriodLocked { through } => {
                if fr {
                    format!(
                        "La période est verrouillée jusqu'au {} : rien ne peut plus y être daté. Passez la correction dans une période ouverte.",
                        through.format("%d/%m/%Y")
                    )
                } else {
                    format!(
                        "The period is locked through {}: nothing can be dated in it any more. Book the correction in an open period.",
                        through.format("%Y-%m-%d")
                    )
                }
            }
            Rejection::NulCharacter => if fr {
                "La référence ou le libellé contient un caractère invisible interdit (le caractère nul)."
            } else {
                "The reference or memo holds a forbidden invisible character (the NUL character)."
            }
            .into(),
            Rejection::AlreadyReversed { transaction, by } => {
                if fr {
                    format!("L'opération n° {transaction} a déjà été annulée (n° {by}).")
                } else {
                    format!("Transaction {transaction} was already reversed (by {by}).")
                }
            }
            Rejection::IdempotencyConflict | Rejection::IdempotencyKeyFailed => if fr {
                "Ce formulaire a déjà été utilisé pour une autre opération. Rechargez la page."
            } else {
                "This form was already used for another operation. Reload the page."
            }
            .into(),
            other => {
                // The remaining rejections come from manager operations or from bugs; the
                // stable code lets support find the cause.
                if fr {
                    format!("Opération refusée ({}).", other.code())
                } else {
                    format!("Operation refused ({}).", other.code())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::AccountId;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("de, en;q=0.5, fr;q=0.8"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::Fr);
        assert_eq!(Lang::from_accept_language(""), Lang::Fr);
        assert_eq!(Lang::from_accept_language("en;q=0"), Lang::Fr);
    }

    #[test]
    fn rejections_read_naturally_in_both_languages() {
        let rejection = Rejection::InsufficientCredit {
            account: AccountId(1),
            available: Amount::from_minor(34_000),
            requested: Amount::from_minor(50_000),
        };
        assert_eq!(
            Tr { lang: Lang::Fr }.rejection(&rejection),
            "Crédit insuffisant : disponible 340,00, demandé 500,00"
        );
        assert_eq!(
            Tr { lang: Lang::En }.rejection(&rejection),
            "Insufficient credit: available 340.00, requested 500.00"
        );
        assert_eq!(
            Lang::En.amount(Amount::from_minor(-123_456_789)),
            "-1,234,567.89"
        );
        let locked = Rejection::PeriodLocked {
            through: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        };
        assert_eq!(locked.code(), "period_locked");
        assert!(Tr { lang: Lang::Fr }
            .rejection(&locked)
            .starts_with("La période est verrouillée jusqu'au 30/06/2025"));
        assert!(Tr { lang: Lang::En }
            .rejection(&locked)
            .starts_with("The period is locked through 2025-06-30"));
    }
}
