//! `troc serve --demo`: seeds a realistic network into an empty database and prints the
//! logins. The demo password is printed, never built into a real installation: it only
//! exists when `--demo` is asked for on an empty database.

use chrono::{Duration, Utc};
use ledger::{Amount, FeePolicy, FundPayer, IdempotencyKey, Operation, Policy};

use crate::http::AppState;
use crate::market::{self, Kind, ListingContent};
use crate::people::{self, Profile, Role};
use crate::store::{StoreError, Submission, SUBMISSIONS_PER_CALL_MAX};
use crate::trade;

/// The password of every demo login (printed at start).
pub const DEMO_PASSWORD: &str = "demo-troc-2026";
/// Payments seeded over the past months.
pub const DEMO_PAYMENTS: usize = 400;
/// How far back the demo trades go.
pub const DEMO_DAYS: i64 = 120;

/// (name, sector, city, postcode, offer, want)
const COMPANIES: [(&str, &str, &str, &str, &str, &str); 30] = [
    (
        "Boulangerie Martin",
        "hotellerie",
        "Lyon",
        "69003",
        "Plateaux petit-déjeuner pour séminaires",
        "Réfection de la vitrine",
    ),
    (
        "Imprimerie du Rhône",
        "imprimerie",
        "Lyon",
        "69007",
        "Impression de flyers et cartes de visite",
        "Maintenance informatique",
    ),
    (
        "BTP Rénov'Est",
        "btp",
        "Villeurbanne",
        "69100",
        "Travaux de peinture de bureaux",
        "Site internet vitrine",
    ),
    (
        "Cabinet Leroy Avocats",
        "juridique",
        "Lyon",
        "69002",
        "Rédaction de contrats commerciaux",
        "Nettoyage des bureaux",
    ),
    (
        "Net & Clair Services",
        "nettoyage",
        "Vénissieux",
        "69200",
        "Nettoyage de locaux professionnels",
        "Formation bureautique",
    ),
    (
        "Atelier Numérique Saône",
        "informatique",
        "Mâcon",
        "71000",
        "Création de sites web",
        "Traiteur pour inauguration",
    ),
    (
        "Transports Dubois",
        "transport",
        "Saint-Priest",
        "69800",
        "Livraisons régionales",
        "Expertise comptable",
    ),
    (
        "Hôtel des Canuts",
        "hotellerie",
        "Lyon",
        "69004",
        "Nuitées et salles de réunion",
        "Signalétique extérieure",
    ),
    (
        "Formapro Conseil",
        "formation",
        "Lyon",
        "69006",
        "Formations management et vente",
        "Vidéo promotionnelle",
    ),
    (
        "Studio Lumière Com",
        "communication",
        "Lyon",
        "69001",
        "Vidéos et photos d'entreprise",
        "Transport de matériel",
    ),
    (
        "Garage Central Auto",
        "transport",
        "Bron",
        "69500",
        "Entretien de véhicules utilitaires",
        "Impression de catalogues",
    ),
    (
        "Menuiserie Bernard",
        "btp",
        "Oullins",
        "69600",
        "Agencement sur mesure",
        "Assurance et conseil juridique",
    ),
    (
        "Kiné Santé Entreprise",
        "sante",
        "Lyon",
        "69008",
        "Ateliers prévention TMS",
        "Mobilier de salle d'attente",
    ),
    (
        "Compta Plus",
        "juridique",
        "Caluire-et-Cuire",
        "69300",
        "Tenue comptable et bilans",
        "Refonte du logo",
    ),
    (
        "Traiteur Les Halles",
        "hotellerie",
        "Lyon",
        "69003",
        "Buffets et cocktails",
        "Camion frigorifique en location",
    ),
    (
        "Électricité Moreau",
        "btp",
        "Décines-Charpieu",
        "69150",
        "Mise aux normes électriques",
        "Formation sécurité",
    ),
    (
        "Agence Rouge Vif",
        "communication",
        "Lyon",
        "69002",
        "Campagnes sur les réseaux sociaux",
        "Séminaire d'équipe",
    ),
    (
        "Sécurité Alpes Services",
        "conseil",
        "Grenoble",
        "38000",
        "Audit de sécurité des locaux",
        "Impression de badges",
    ),
    (
        "Papeterie Lefèvre",
        "commerce",
        "Lyon",
        "69005",
        "Fournitures de bureau",
        "Livraison du dernier kilomètre",
    ),
    (
        "Evénements & Co",
        "evenementiel",
        "Lyon",
        "69009",
        "Organisation de séminaires",
        "Sonorisation",
    ),
    (
        "Fromagerie Girard",
        "commerce",
        "Villefranche-sur-Saône",
        "69400",
        "Paniers garnis pour clients",
        "Site de vente en ligne",
    ),
    (
        "Industrie Mécanique Perrin",
        "industrie",
        "Saint-Étienne",
        "42000",
        "Usinage de pièces",
        "Nettoyage industriel",
    ),
    (
        "Cloud Lyonnais",
        "informatique",
        "Lyon",
        "69007",
        "Hébergement et sauvegarde",
        "Aménagement de bureaux",
    ),
    (
        "Ostéo Bien-Être",
        "sante",
        "Écully",
        "69130",
        "Séances pour salariés",
        "Comptabilité",
    ),
    (
        "Sport Loisirs Rhône",
        "evenementiel",
        "Lyon",
        "69007",
        "Team building sportif",
        "Flyers et affiches",
    ),
    (
        "Plomberie Roux",
        "btp",
        "Villeurbanne",
        "69100",
        "Dépannage et installation sanitaire",
        "Véhicule de prêt",
    ),
    (
        "Conseil RH Fontaine",
        "conseil",
        "Lyon",
        "69006",
        "Recrutement et bilans de compétences",
        "Traduction anglais",
    ),
    (
        "Traductions Dumas",
        "conseil",
        "Lyon",
        "69001",
        "Traduction technique",
        "Photos professionnelles",
    ),
    (
        "Jardins de l'Ouest",
        "nettoyage",
        "Tassin-la-Demi-Lune",
        "69160",
        "Entretien d'espaces verts",
        "Formation tronçonneuse",
    ),
    (
        "Logistique Garnier",
        "transport",
        "Corbas",
        "69960",
        "Stockage et préparation de commandes",
        "Conseil juridique",
    ),
];

/// A valid SIREN (Luhn) derived from `n`.
fn demo_siren(n: usize) -> String {
    let body = format!("{:08}", 40_000_000 + n * 7_919);
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|s| people::siren_is_valid(s))
        .expect("one check digit in ten passes Luhn")
}

/// A tiny deterministic generator: the demo is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Seeds the demo network when the database has no network and no user yet; does nothing
/// otherwise. Returns whether it seeded.
pub async fn seed_if_empty(state: &AppState, base_url: &str) -> anyhow::Result<bool> {
    let store = &state.store;
    if people::user_count(store).await? > 0 || store.network_name().await?.is_some() {
        println!("Demo: the database is not empty; nothing seeded.");
        return Ok(false);
    }
    let policy = Policy {
        fees: FeePolicy::new(200, Amount::from_units(1), 100, FundPayer::Seller)?,
        amount_per_tx_max: Amount::from_units(50_000),
    };
    store
        .create_network("Troc Rhône-Alpes (démo)", policy)
        .await?;
    people::create_user(
        store,
        "gestion@demo.troc",
        DEMO_PASSWORD,
        "Gestion du réseau",
        Role::Manager,
        None,
    )
    .await?;
    people::create_user(
        store,
        "compta@demo.troc",
        DEMO_PASSWORD,
        "Comptabilité",
        Role::Accountant,
        None,
    )
    .await?;
    // The network's announcement of the month, on every member's dashboard.
    let manager = people::user_by_email(store, "gestion@demo.troc")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo manager missing"))?;
    let today = Utc::now().date_naive();
    let announcement = crate::news::NewAnnouncement {
        title: "Soirée des membres jeudi prochain".into(),
        message: "Rendez-vous à 19 h à la Maison des entreprises de Lyon : présentation des \
                  nouveaux membres, puis buffet (payé en crédits au Traiteur Les Halles).\n\
                  Inscription auprès de l'équipe du réseau."
            .into(),
        shown_until: (today + Duration::days(14)).to_string(),
    };
    crate::news::publish(
        store,
        &crate::console::Actor::from_user(&manager),
        &announcement,
        today,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo announcement: {e}"))?;
    let until = (Utc::now().date_naive() + Duration::days(120))
        .format("%Y-%m-%d")
        .to_string();
    let mut members = Vec::new();
    for (n, (name, sector, city, postcode, offer, want)) in COMPANIES.iter().enumerate() {
        let profile = Profile {
            name: (*name).into(),
            siren: demo_siren(n),
            address: format!("{} rue de la République", 1 + n * 3),
            city: (*city).into(),
            postcode: (*postcode).into(),
            sector: (*sector).into(),
            description: format!("{name} : {offer}."),
            contact: format!("04 78 {:02} {:02} {:02}", 10 + n, 20 + n, 30 + n),
        };
        let limit = Amount::from_units([2_000, 3_000, 5_000][n % 3]);
        let member = people::create_member_with_account(store, &profile, limit).await?;
        let email = format!("membre{:02}@demo.troc", n + 1);
        people::create_user(
            store,
            &email,
            DEMO_PASSWORD,
            name,
            Role::Owner,
            Some(member.id),
        )
        .await?;
        for (kind, title, price) in [
            (Kind::Offer, offer, Some(((n as i64 % 7) + 1) * 15_000)),
            (Kind::Want, want, None),
        ] {
            let content = ListingContent {
                kind,
                title: (*title).into(),
                description: format!("{title} — contactez {name}."),
                category: (*sector).into(),
                price_minor: price,
                vat_bp: 2_000,
                city: (*city).into(),
                active_until: until.clone(),
            };
            market::create(store, member.id, &content, None).await?;
        }
        members.push(member);
    }
    seed_trades(state, &members).await?;
    // Two open payment requests so the "to pay" list is not empty.
    for (seller, buyer, amount) in [(1usize, 0usize, 45_000i64), (5, 0, 120_000)] {
        trade::create_request(
            store,
            &trade::NewRequest {
                seller_member_id: members[seller].id,
                buyer_member_id: members[buyer].id,
                amount_minor: amount,
                reference: &format!("DEMO-{seller}{buyer}"),
                memo: "Facture de démonstration",
                due_date: &until,
                expires_at: people::now_unix() + 60 * 24 * 3600,
                form_token: &format!("demo-request-{seller}-{buyer}"),
            },
        )
        .await?;
    }
    // A credit-limit request waiting, so the console's list is not empty: the third member
    // (limit 5 000) asks for 8 000.
    let asker = members[2].clone();
    let owner = people::user_by_email(store, "membre03@demo.troc")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo owner membre03 missing"))?;
    crate::console::limit_requests::ask(
        store,
        &owner,
        &asker,
        crate::console::limit_requests::Wanted::credit_limit(Amount::from_units(8_000)),
        "Nous préparons la saison : nouveaux achats de matériel auprès des membres du réseau.",
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo credit-limit request: {e}"))?;
    seed_outside_invoices(store, &members).await?;
    // An invoice: the first member (a bakery) invoices the latest payment it received in
    // two lines, its bread at 5,5 % and the drinks at 20 % (a third of the amount).
    let seller = members[0].clone();
    let owner = people::user_by_email(store, "membre01@demo.troc")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo owner membre01 missing"))?;
    let page = store.history(seller.account(), None, 50).await?;
    let received = page.entries.iter().find(|e| {
        crate::trade::principal_legs(&e.transaction)
            .is_some_and(|(_, credited)| credited.account == seller.account())
    });
    let amount = received.and_then(|e| {
        crate::trade::principal_legs(&e.transaction).map(|(_, credited)| credited.amount)
    });
    if let (Some(entry), Some(amount)) = (received, amount) {
        let drinks = amount.minor() / 3;
        let line = |description: String, vat_bp: i64, total: i64| crate::invoices::NewLine {
            description,
            vat_bp,
            total: Some(ledger::Amount::from_minor(total)),
        };
        let bread = format!(
            "Pains et viennoiseries — {} ({})",
            entry.transaction.memo(),
            entry.transaction.reference()
        );
        let mut lines = vec![line(bread, 550, amount.minor() - drinks)];
        if drinks > 0 {
            lines.push(line("Boissons".into(), 2_000, drinks));
        }
        let new = crate::invoices::NewInvoice {
            tx: entry.transaction.id(),
            supply: Some(crate::invoices::Supply::Goods),
            lines,
        };
        crate::invoices::issue(store, &owner, &seller, &new, Utc::now().date_naive())
            .await
            .map_err(|e| anyhow::anyhow!("demo invoice: {e}"))?;
    }
    // A staff user of the first member, whose owner capped its payments at 500,00.
    let staff = people::create_user(
        store,
        "equipe01@demo.troc",
        DEMO_PASSWORD,
        "Équipe Boulangerie Martin",
        Role::Staff,
        Some(seller.id),
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("demo staff user exists already"))?;
    people::set_payment_max(store, seller.id, staff, Some(50_000)).await?;
    crate::spending::set_month_max(store, seller.id, staff, Some(200_000)).await?;
    // It asked its owner to approve a purchase above that limit (docs/web.md).
    let staff = people::user(store, staff)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo staff user missing"))?;
    let order = crate::trade::PaymentOrder {
        amount: ledger::Amount::from_minor(75_000),
        reference: "DEVIS-2026-114".into(),
        memo: "Révision du four mixte".into(),
    };
    crate::approvals::create(
        store,
        &crate::approvals::NewApproval {
            payer: &seller,
            payee: &members[1],
            order: &order,
            requested_by: &staff,
            form_token: "demo-approval-1",
        },
    )
    .await?
    .map_err(|_| anyhow::anyhow!("demo approvals full"))?;
    let creditor = near_upper_limit(store, &members).await?;
    // The last member gave notice that it leaves the network (docs/console.md,
    // "Departures"): the review list and its dashboard show it.
    let leaving = members
        .last()
        .ok_or_else(|| anyhow::anyhow!("demo members missing"))?;
    let last_email = format!("membre{:02}@demo.troc", members.len());
    let owner = people::user_by_email(store, &last_email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo owner missing"))?;
    crate::console::departures::ask(
        store,
        &owner,
        leaving,
        "Cessation d'activité à la fin de l'année : nous dépensons notre solde d'ici là.",
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo departure: {e}"))?;
    // The second member disputes the latest payment it made to another member (docs/web.md,
    // "Disputes"): the payee's dashboard and the console's list show it.
    let disputer = members[1].clone();
    let owner = people::user_by_email(store, "membre02@demo.troc")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo owner membre02 missing"))?;
    let page = store.history(disputer.account(), None, 50).await?;
    let paid = page.entries.iter().find(|e| {
        crate::trade::principal_legs(&e.transaction)
            .is_some_and(|(debited, _)| debited.account == disputer.account())
    });
    if let Some(entry) = paid {
        crate::console::disputes::open(
            store,
            &owner,
            &disputer,
            entry.transaction.id(),
            "Prestation livrée incomplète : la moitié des pièces manquait à la livraison.",
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo dispute: {e}"))?;
    }
    println!(
        "Demo network seeded: {} member companies, {DEMO_PAYMENTS} trades over {DEMO_DAYS} days.",
        members.len()
    );
    println!("Open {base_url}/login and use (password {DEMO_PASSWORD} for all):");
    println!("  network manager: gestion@demo.troc");
    println!("  accountant:      compta@demo.troc");
    println!("  member owners:   membre01@demo.troc … membre30@demo.troc");
    println!(
        "  staff (limits 500,00 per operation and 2 000,00 per month, one payment awaiting approval): equipe01@demo.troc"
    );
    println!("  leaving the network (notice of departure waiting): {last_email}");
    println!("  a dispute of a payment (opened by membre02@demo.troc): /admin/disputes");
    if let Some(n) = creditor {
        println!(
            "  near its upper limit (dashboard reminder, review list): membre{n:02}@demo.troc"
        );
    }
    Ok(true)
}

/// The largest creditor gets an upper limit a little above its balance (110 %, rounded up
/// to ten units), set by the manager with a reason: the console's review list shows it near
/// its upper limit, and its dashboard tells it to buy or ask for more. Its number (1-based,
/// as in its email), or `None` when nobody is in credit.
/// Euro invoices between members for the set-off (`crate::setoff`): one the first member
/// (the bakery) has to confirm, and a cycle of three confirmed ones the manager's set-off
/// would cancel 900,00 on each.
async fn seed_outside_invoices(
    store: &crate::store::Store,
    members: &[people::Member],
) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let owner = |n: usize| async move {
        people::user_by_email(store, &format!("membre{:02}@demo.troc", n + 1))
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo owner {n} missing"))
    };
    for (creditor, debtor, number, amount, confirmed) in [
        (1usize, 0usize, "IMP-2026-331", "1200", false),
        (2, 3, "REN-2026-078", "2400", true),
        (3, 4, "CLA-2026-015", "1800", true),
        (4, 2, "NC-2026-0412", "900", true),
    ] {
        let new = crate::setoff::NewInvoice {
            debtor: members[debtor].id.to_string(),
            number: number.into(),
            amount: amount.into(),
            due_on: (today + Duration::days(30)).to_string(),
        };
        let creditor_user = owner(creditor).await?;
        let invoice =
            crate::setoff::declare(store, &creditor_user, &members[creditor], &new, today)
                .await
                .map_err(|e| anyhow::anyhow!("demo outside invoice: {e}"))?;
        if confirmed {
            let debtor_user = owner(debtor).await?;
            let answer = crate::setoff::Answer::Confirm;
            crate::setoff::answer(
                store,
                &debtor_user,
                &members[debtor],
                invoice.id,
                answer,
                "",
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo outside invoice: {e}"))?;
        }
    }
    Ok(())
}

async fn near_upper_limit(
    store: &crate::store::Store,
    members: &[people::Member],
) -> anyhow::Result<Option<usize>> {
    let mut creditor: Option<(usize, ledger::Account)> = None;
    for (n, member) in members.iter().enumerate() {
        let account = store
            .account(member.account())
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo account missing"))?;
        let larger = creditor
            .as_ref()
            .is_none_or(|(_, best)| account.balance() > best.balance());
        if account.balance().is_positive() && larger {
            creditor = Some((n, account));
        }
    }
    let Some((n, account)) = creditor else {
        return Ok(None);
    };
    let manager = people::user_by_email(store, "gestion@demo.troc")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo manager missing"))?;
    let ten_units = 1_000;
    let max = (account.balance().minor() * 11 / 10 / ten_units + 1) * ten_units;
    let change = crate::console::members::LimitsChange {
        credit_limit: account.credit_limit(),
        max_balance: Some(Amount::from_minor(max)),
        reason: "Solde élevé : à dépenser dans le réseau avant d'en recevoir davantage.".into(),
    };
    let key = crate::console::RequestKey::new("demo-upper-limit").expect("a short key");
    crate::console::members::set_limits(
        store,
        &crate::console::Actor::from_user(&manager),
        crate::console::Target::Member(members[n].id),
        change,
        &key,
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo upper limit: {e}"))?;
    Ok(Some(n + 1))
}

/// A few months of payments between the members, through the store's write path with past
/// times; payments the ledger refuses (a buyer at its limit) are simply skipped.
async fn seed_trades(state: &AppState, members: &[people::Member]) -> anyhow::Result<()> {
    let mut rng = Lcg(2026);
    let start = Utc::now() - Duration::days(DEMO_DAYS);
    let step = Duration::seconds(DEMO_DAYS * 86_400 / DEMO_PAYMENTS as i64);
    let mut submissions = Vec::with_capacity(DEMO_PAYMENTS);
    for n in 0..DEMO_PAYMENTS {
        let payer = rng.next(members.len() as u64) as usize;
        let mut payee = rng.next(members.len() as u64) as usize;
        if payee == payer {
            payee = (payee + 1) % members.len();
        }
        let amount = Amount::from_minor(5_000 + rng.next(200) as i64 * 1_000);
        let op = Operation::Payment {
            payer: ledger::AccountId(members[payer].account_id as u64),
            payee: ledger::AccountId(members[payee].account_id as u64),
            amount,
            reference: format!("F-{:04}", n + 1),
            memo: format!("Prestation {}", COMPANIES[payee].4),
        };
        let key = IdempotencyKey::new(format!("demo-pay-{n}")).expect("short ascii key");
        submissions.push(Submission::new(key, op).at(start + step * n as i32));
    }
    for chunk in submissions.chunks(SUBMISSIONS_PER_CALL_MAX) {
        for answer in state.store.submit_batch(chunk.to_vec()).await? {
            match answer {
                Ok(_) => {}
                Err(StoreError::Invalid(message)) => anyhow::bail!("demo trade refused: {message}"),
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}
