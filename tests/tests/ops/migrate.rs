//! `troc migrate-data`: a SQLite network moved to PostgreSQL with every id, hash and balance
//! intact; the copy list checked against both schemas; non-empty targets refused.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use ledger::audit::{public_key_hex, sign_order, PaymentOrder};
use ledger::{
    AccountId, AccountStatus, Amount, ChargeKind, HoldId, IdempotencyKey, Operation, Outcome,
};
use tests::{story, TestDb};
use web::ops::migrate::{self, MigrateError, TableReport, COPY_PAGE_ROWS, TABLES};
use web::people::{self, Role};
use web::store::{ActionNote, Store, Submission};

use crate::audit::signing_key;
use crate::store::{key, payment};
use crate::web_front::client::{hidden_value, Client};
use crate::web_front::{member, staff_of, two_members, PASSWORD};

async fn raw(store: &Store, sql: &str) {
    web::dispatch!(store.backend(), pool => {
        sqlx::query(sql).execute(pool).await.unwrap();
    });
}

story!(
    migrate_data_covers_every_table_and_column,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            // Fails when a migration adds a table or a column that the copy list lacks:
            // add it to `web::ops::migrate::TABLES`.
            let gaps = migrate::schema_gaps(&store).await.unwrap();
            assert!(gaps.is_empty(), "the copy list misses: {gaps:#?}");
            // The check sees what a future migration would add.
            raw(
                &store,
                "CREATE TABLE future_feature (id BIGINT PRIMARY KEY)",
            )
            .await;
            raw(&store, "ALTER TABLE members ADD COLUMN nickname TEXT").await;
            let gaps = migrate::schema_gaps(&store).await.unwrap();
            assert!(
                gaps.iter().any(|g| g.contains("table future_feature")),
                "{gaps:?}"
            );
            assert!(
                gaps.iter().any(|g| g.contains("column members.nickname")),
                "{gaps:?}"
            );
            if store.kind() == web::store::BackendKind::Postgres {
                raw(&store, "CREATE SEQUENCE future_seq").await;
                let gaps = migrate::schema_gaps(&store).await.unwrap();
                assert!(
                    gaps.iter().any(|g| g.contains("sequence future_seq")),
                    "{gaps:?}"
                );
            }
            store.close().await;
        }
    }
);

fn id(account_id: i64) -> AccountId {
    AccountId(account_id as u64)
}

async fn accepted(store: &Store, submission: Submission) -> Outcome {
    let what = format!("{:?}", submission.op());
    store
        .submit(submission)
        .await
        .unwrap()
        .unwrap_or_else(|r| panic!("{what} refused: {r}"))
}

/// Pays through the web form.
async fn pay(browser: &mut Client, payee: i64, amount: &str) {
    let page = browser.get("/pay").await;
    let token = hidden_value(&page.body, "token").unwrap();
    let payee = payee.to_string();
    let page = browser
        .post(
            "/pay",
            &[
                ("payee", payee.as_str()),
                ("amount", amount),
                ("reference", "FA-1"),
                ("memo", "prestation « été »"),
                ("token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
}

/// A network with some of everything, written through the real write paths (the web front
/// and `Store::submit`): payments (more than one copy page), a rejected one, a payment
/// request accepted, orders delivered, cancelled and still open, a reversal, a limit lowered
/// below a debt (with its action-log record), a freeze, a write-off and a recovery, a
/// standalone fee, an adjustment, an opening balance, old transactions in a locked period,
/// a signed payment order, a new policy version, checkpoints, invitations and sessions.
async fn seed(url: &str) -> Store {
    let (store, state, alpha, beta) = two_members(url).await;
    let gamma = member(&store, 3, "Gamma", "gamma", 2_000).await;
    let delta = member(&store, 4, "Delta défaillant", "delta", 300).await;
    // A staff user's payment limit (migration 0025).
    let alpha_staff = staff_of(&store, &alpha, Some(50_000)).await;
    // Its limit per month, and what it holds of it (migration 0038).
    assert!(
        web::spending::set_month_max(&store, alpha.id, alpha_staff.id, Some(200_000))
            .await
            .unwrap()
    );
    let month_staff = web::people::user(&store, alpha_staff.id)
        .await
        .unwrap()
        .unwrap();
    let _held = web::spending::hold(
        &store,
        &month_staff,
        "seed-month",
        ledger::Amount::from_minor(1_000),
        web::people::now_unix(),
    )
    .await
    .unwrap()
    .unwrap();
    // Its two-step login, and a login waiting for its code (migration 0039).
    let now = web::people::now_unix();
    let secret = web::totp::start(&store, alpha_staff.id).await.unwrap();
    let code = web::totp::code_at(&secret, now);
    assert!(web::totp::confirm(&store, alpha_staff.id, &code, now)
        .await
        .unwrap()
        .is_some());
    web::totp::begin_challenge(&store, alpha_staff.id, now)
        .await
        .unwrap();

    // The web front.
    let mut alpha_owner = Client::new(state.clone());
    alpha_owner.login("owner@alpha.fr", PASSWORD).await;
    let mut beta_owner = alpha_owner.sibling();
    beta_owner.login("owner@beta.fr", PASSWORD).await;
    let mut gamma_owner = alpha_owner.sibling();
    gamma_owner.login("owner@gamma.fr", PASSWORD).await;
    pay(&mut alpha_owner, beta.id, "120,50").await;
    pay(&mut beta_owner, gamma.id, "30").await;
    // A payment request, accepted.
    let page = beta_owner.get("/requests").await;
    let token = hidden_value(&page.body, "token").unwrap();
    let alpha_id = alpha.id.to_string();
    beta_owner
        .post(
            "/requests",
            &[
                ("payee", alpha_id.as_str()),
                ("amount", "15"),
                ("reference", "DEV-9"),
                ("memo", ""),
                ("due_date", "2099-01-31"),
                ("token", token.as_str()),
            ],
        )
        .await;
    let request: i64 = web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT MAX(id) FROM payment_requests").fetch_one(pool).await.unwrap()
    });
    alpha_owner.get(&format!("/requests/{request}")).await;
    let page = alpha_owner
        .post(&format!("/requests/{request}/accept"), &[])
        .await;
    assert_eq!(
        page.status,
        axum::http::StatusCode::SEE_OTHER,
        "{}",
        page.body
    );
    // An offer; orders delivered, cancelled, and one left open (pending on its payer).
    alpha_owner.get("/market/new").await;
    let page = alpha_owner
        .post(
            "/market",
            &[
                ("kind", "offer"),
                ("title", "Révision de chaudière"),
                ("description", "Une visite"),
                ("category", "informatique"),
                ("price", "40"),
                ("vat", "20"),
                ("city", "Lyon"),
                ("active_until", "2099-12-31"),
            ],
        )
        .await;
    let listing = page.location.clone().unwrap();
    let mut orders = Vec::new();
    for buyer in [&mut beta_owner, &mut gamma_owner] {
        for _ in 0..2 {
            let page = buyer.get(&listing).await;
            let token = hidden_value(&page.body, "token").unwrap();
            let page = buyer
                .post(&format!("{listing}/order"), &[("token", token.as_str())])
                .await;
            orders.push(page.location.clone().unwrap());
        }
    }
    alpha_owner
        .post(&format!("{}/deliver", orders[0]), &[])
        .await;
    beta_owner.post(&format!("{}/cancel", orders[1]), &[]).await;
    alpha_owner
        .post(&format!("{}/deliver", orders[2]), &[])
        .await;
    let (owner, _) = people::find_login(&store, "owner@alpha.fr")
        .await
        .unwrap()
        .unwrap();
    people::create_invitation(
        &store,
        "new@alpha.fr",
        Role::Staff,
        Some(alpha.id),
        owner.id,
    )
    .await
    .unwrap();

    // The console: a member created by a manager (a creation batch: `members.batch_id`
    // points at `member_batches`, copied after `users`), and an application.
    let manager = people::create_user(
        &store,
        "gestion@troc.fr",
        PASSWORD,
        "Gestion",
        Role::Manager,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let actor = web::console::Actor::new(manager, "gestion@troc.fr", Role::Manager);
    let created = web::console::members::create_member(
        &store,
        &actor,
        web::console::NewMember {
            name: "Epsilon par la console".into(),
            siren: "812345676".into(),
            email: "owner@epsilon.fr".into(),
            address: "1 rue de la Console".into(),
            city: "Lyon".into(),
            postcode: "69001".into(),
            sector: "informatique".into(),
            contact: "Eve".into(),
            ..web::console::NewMember::default()
        },
    )
    .await
    .unwrap();
    assert!(created.member_id > 0);
    web::console::applications::apply(
        &store,
        &web::console::applications::ApplicationForm {
            name: "Zeta candidate".into(),
            siren: "812345684".into(),
            email: "owner@zeta.fr".into(),
            contact: "Zoé".into(),
            address: "2 rue de la Demande".into(),
            city: "Lyon".into(),
            postcode: "69002".into(),
            sector: "informatique".into(),
            description: "".into(),
            declared_turnover: Some(Amount::from_units(100_000)),
            message: "Nous voulons rejoindre le réseau".into(),
        },
    )
    .await
    .unwrap();
    // A limit request of Alpha's owner for both limits, granted (the NULL-able columns
    // filled: Alpha has an upper limit first).
    web::console::members::set_limits(
        &store,
        &actor,
        web::console::Target::Member(alpha.id),
        web::console::members::LimitsChange {
            credit_limit: Amount::from_units(1_000),
            max_balance: Some(Amount::from_units(60_000)),
            reason: "Plafond du réseau".into(),
        },
        &web::console::RequestKey::random(),
    )
    .await
    .unwrap();
    let asked = web::console::limit_requests::ask(
        &store,
        &owner,
        &alpha,
        web::console::limit_requests::Wanted {
            credit_limit: Some(Amount::from_units(7_777)),
            max_balance: Some(Amount::from_units(88_888)),
        },
        "Nouveaux achats prévus",
    )
    .await
    .unwrap();
    web::console::limit_requests::grant(
        &store,
        &actor,
        asked.id,
        &web::console::limit_requests::Grant {
            credit_limit: None,
            max_balance: None,
            reason: "Bon historique".into(),
        },
    )
    .await
    .unwrap();
    // A notice of departure given then withdrawn (the NULL-able columns filled).
    let notice = web::console::departures::ask(&store, &owner, &alpha, "Départ envisagé")
        .await
        .unwrap();
    web::console::departures::withdraw(&store, &owner, &alpha, notice.id)
        .await
        .unwrap();
    // A standing order paid once, then stopped (the NULL-able columns filled).
    let today = chrono::Utc::now().date_naive();
    let standing = web::standing::create(
        &store,
        &owner,
        &alpha,
        &web::standing::NewStanding {
            payee_member_id: beta.id,
            amount: Amount::from_units(12),
            reference: "LOYER".into(),
            memo: "Bureau".into(),
            every: web::standing::Every::Month,
            first_date: today,
            end_date: Some(today + chrono::Duration::days(400)),
        },
        today,
    )
    .await
    .unwrap();
    web::standing::run_due(&store, today).await.unwrap();
    web::standing::cancel(&store, &owner, &alpha, standing.id)
        .await
        .unwrap();
    // Beta invoices the standing order's payment in two lines (append-only tables).
    let paid = web::standing::runs(&store, standing.id).await.unwrap();
    let paid = paid[0].tx_id.expect("the first due date was paid");
    let (beta_user, _) = people::find_login(&store, "owner@beta.fr")
        .await
        .unwrap()
        .unwrap();
    let invoice = web::invoices::issue(
        &store,
        &beta_user,
        &beta,
        &web::invoices::NewInvoice {
            tx: ledger::TxId(paid as u64),
            supply: Some(web::invoices::Supply::Services),
            lines: vec![
                web::invoices::NewLine {
                    description: "Loyer du bureau".into(),
                    vat_bp: 2_000,
                    total: Some(ledger::Amount::from_minor(1_000)),
                },
                web::invoices::NewLine {
                    description: "Charges".into(),
                    vat_bp: 550,
                    total: Some(ledger::Amount::from_minor(200)),
                },
            ],
        },
        today,
    )
    .await
    .unwrap();
    // Alpha disputes the payment, Beta answers and a manager dismisses it (the NULL-able
    // columns filled); the refund below finds no open dispute.
    let dispute = web::console::disputes::open(
        &store,
        &owner,
        &alpha,
        ledger::TxId(paid as u64),
        "Bureau non chauffé",
    )
    .await
    .unwrap();
    web::console::disputes::reply(&store, &beta_user, &beta, dispute.id, "Chauffage réparé")
        .await
        .unwrap();
    web::console::disputes::decide(
        &store,
        &actor,
        dispute.id,
        web::console::disputes::Decision::Dismiss,
        "Réglé à l'amiable",
        &web::console::RequestKey::random(),
    )
    .await
    .unwrap();
    // Beta hears of its account's transactions through a webhook whose server is not
    // there: the refund waits in its queue, the failed attempt is recorded (migration 0034).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    web::webhooks::create(
        &store,
        &beta_user,
        &beta,
        &format!("http://{closed}/hook"),
        web::webhooks::Targets::Any,
    )
    .await
    .unwrap();
    // Refunded, and cancelled by a credit note (`invoices.credits` filled).
    let refundable = web::trade::refundable(&store, &beta, ledger::TxId(paid as u64))
        .await
        .unwrap()
        .unwrap();
    let author = beta_user.author();
    web::trade::refund(
        &store,
        key("refund-rent"),
        &refundable,
        "Annulé".into(),
        author,
    )
    .await
    .unwrap()
    .unwrap();
    web::invoices::credit(&store, &beta_user, &beta, invoice.id, today)
        .await
        .unwrap();
    let sender = web::webhooks::Sender::new(
        ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        web::webhooks::Targets::Any,
    )
    .unwrap();
    let round = web::webhooks::run_round(&store, &sender).await.unwrap();
    assert_eq!((round.queued, round.failed), (1, 1));
    // A password reset link asked for, its e-mail waiting for a relay that is not there
    // (migration 0035).
    let now = people::now_unix();
    people::create_password_reset(&store, beta_user.id, now)
        .await
        .unwrap()
        .unwrap();
    let message = web::mail::password_reset(
        web::http::i18n::Lang::Fr,
        &beta_user.email,
        "http://troc.test/password/reset/0",
        60,
        web::mail::AskedBy::User,
    )
    .unwrap();
    web::mail::enqueue(&store, &message, now)
        .await
        .unwrap()
        .unwrap();
    let mailer = web::mail::Mailer::new(&format!("smtp://{closed}"), "noreply@troc.test").unwrap();
    let round = web::mail::run_round(&store, &mailer, now).await.unwrap();
    assert_eq!(round.retried, 1);

    // A staff payment over its limit, approved by the owner, and another still waiting
    // (migration 0026).
    let (alpha_user, _) = people::find_login(&store, "owner@alpha.fr")
        .await
        .unwrap()
        .unwrap();
    for (token, amount) in [("approval-1", 60_000), ("approval-2", 70_000)] {
        let order = web::trade::PaymentOrder {
            amount: Amount::from_minor(amount),
            reference: "DEVIS-9".into(),
            memo: "au-delà du plafond".into(),
        };
        web::approvals::create(
            &store,
            &web::approvals::NewApproval {
                payer: &alpha,
                payee: &gamma,
                order: &order,
                requested_by: &alpha_staff,
                form_token: token,
            },
        )
        .await
        .unwrap()
        .unwrap();
    }
    let (waiting, _) = web::approvals::page(
        &store,
        alpha.id,
        None,
        web::approvals::Filter::Pending,
        None,
        10,
    )
    .await
    .unwrap();
    let first = waiting.last().unwrap();
    web::approvals::approve(&store, first, &alpha_user, &alpha, &gamma)
        .await
        .unwrap()
        .unwrap();

    // The store's write path.
    let bulk = store
        .open_accounts(10, Amount::from_units(10_000), None)
        .await
        .unwrap();
    let bulk: Vec<AccountId> = bulk.iter().map(|a| a.id()).collect();
    accepted(
        &store,
        Submission::new(
            key("opening-1"),
            Operation::OpeningBalance {
                account: bulk[9],
                amount: Amount::from_units(250),
                memo: "solde repris de l'ancien système".into(),
            },
        ),
    )
    .await;
    // Old payments, in a period then locked.
    let old = Utc.with_ymd_and_hms(2020, 6, 1, 9, 30, 0).unwrap();
    for n in 0..3 {
        accepted(
            &store,
            Submission::new(key(&format!("old-{n}")), payment(bulk[0], bulk[1], 5)).at(old),
        )
        .await;
    }
    store
        .lock_period(
            NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
            "comptable@troc.fr",
            Utc::now(),
        )
        .await
        .unwrap();
    let count = COPY_PAGE_ROWS + 250;
    let submissions: Vec<Submission> = (0..count)
        .map(|n| {
            let (a, b) = (bulk[n % 9], bulk[(n * 7 + 1) % 9]);
            let (a, b) = if a == b {
                (a, bulk[(n + 1) % 9])
            } else {
                (a, b)
            };
            Submission::new(
                key(&format!("bulk-{n}")),
                payment(a, b, 1 + (n % 17) as i64),
            )
        })
        .collect();
    for chunk in submissions.chunks(web::store::SUBMISSIONS_PER_CALL_MAX) {
        for answer in store.submit_batch(chunk.to_vec()).await.unwrap() {
            answer.unwrap().unwrap();
        }
    }
    // A refusal is a decision too.
    assert!(store
        .submit(Submission::new(
            key("too-much"),
            payment(bulk[0], bulk[1], 1_000_000)
        ))
        .await
        .unwrap()
        .is_err());
    let Outcome::Posted { tx } = accepted(
        &store,
        Submission::new(key("to-reverse"), payment(bulk[2], bulk[3], 42)),
    )
    .await
    else {
        panic!("a payment posts")
    };
    accepted(
        &store,
        Submission::new(
            key("reversal"),
            Operation::Reverse {
                transaction: tx,
                memo: "erreur de saisie".into(),
            },
        ),
    )
    .await;
    accepted(
        &store,
        Submission::new(
            key("membership"),
            Operation::Charge {
                kind: ChargeKind::Fee,
                payer: bulk[4],
                amount: Amount::from_units(60),
                reference: "COTIS-2026".into(),
                memo: "cotisation".into(),
            },
        ),
    )
    .await;
    accepted(
        &store,
        Submission::new(
            key("adjust"),
            Operation::Adjustment {
                from: bulk[5],
                to: bulk[6],
                amount: Amount::from_units(3),
                reference: "CORR-1".into(),
                memo: "correction".into(),
            },
        ),
    )
    .await;
    // A hold placed through the store and voided.
    let Outcome::HoldPlaced { hold } = accepted(
        &store,
        Submission::new(
            key("hold-1"),
            Operation::PlaceHold {
                hold: HoldId(0),
                payer: bulk[7],
                payee: bulk[8],
                amount: Amount::from_units(9),
                expires_at: Utc::now() + Duration::days(3),
                reference: "RES".into(),
                memo: String::new(),
            },
        ),
    )
    .await
    else {
        panic!("a hold is placed")
    };
    accepted(
        &store,
        Submission::new(key("hold-1-void"), Operation::VoidHold { hold }),
    )
    .await;
    // An older troc kept hold expiries to the nanosecond on SQLite; PostgreSQL keeps
    // microseconds (holds have no update trigger: this stands for such a database).
    raw(
        &store,
        &format!(
            "UPDATE holds SET expires_at = '2030-01-01T00:00:00.123456789+00:00' WHERE id = {}",
            hold.0
        ),
    )
    .await;

    // An account owes, then its limit is lowered below its debt, with its action-log
    // record (the copy must set that balance past the credit-limit trigger).
    let owing = store
        .open_accounts(1, Amount::from_units(300), None)
        .await
        .unwrap()[0]
        .id();
    accepted(
        &store,
        Submission::new(key("owing-buys"), payment(owing, bulk[0], 250)),
    )
    .await;
    let note = ActionNote::new(Some(owner.id), "gestion@troc.fr", "limits.set", "retards")
        .unwrap()
        .account(owing.0);
    accepted(
        &store,
        Submission::new(
            key("owing-limit"),
            Operation::SetLimits {
                account: owing,
                credit_limit: Amount::from_units(100),
                max_balance: None,
                reason: "retards de paiement".into(),
                actor: "gestion@troc.fr".into(),
            },
        )
        .noted(note),
    )
    .await;
    // Delta buys, is frozen, written off, and something is recovered.
    accepted(
        &store,
        Submission::new(
            key("delta-buys"),
            payment(id(delta.account_id), bulk[0], 250),
        ),
    )
    .await;
    accepted(
        &store,
        Submission::new(
            key("delta-freeze"),
            Operation::SetStatus {
                account: id(delta.account_id),
                status: AccountStatus::Frozen,
                reason: "impayés".into(),
                actor: "gestion@troc.fr".into(),
            },
        ),
    )
    .await;
    accepted(
        &store,
        Submission::new(
            key("delta-write-off"),
            Operation::WriteOff {
                account: id(delta.account_id),
                reason: "liquidation judiciaire".into(),
                actor: "gestion@troc.fr".into(),
            },
        ),
    )
    .await;
    accepted(
        &store,
        Submission::new(
            key("delta-recovery"),
            Operation::Recovery {
                account: id(delta.account_id),
                amount: Amount::from_units(20),
                memo: "dividende du liquidateur".into(),
            },
        ),
    )
    .await;
    // A payment order signed by its payer.
    let member_key = signing_key(21);
    store
        .register_member_key(
            id(gamma.account_id),
            &public_key_hex(&member_key),
            "owner@example.com",
        )
        .await
        .unwrap();
    let order = PaymentOrder {
        payer: id(gamma.account_id),
        payee: id(alpha.account_id),
        amount: Amount::from_units(7),
        reference: "PO-1".into(),
        idempotency_key: IdempotencyKey::new("order-signed-1").unwrap(),
        expires_at: Utc::now() + Duration::minutes(10),
    };
    let signature = sign_order(&member_key, &order);
    store
        .submit_signed_order(&order, &public_key_hex(&member_key), &signature)
        .await
        .unwrap()
        .unwrap();
    // The account mapping (migration 0016): the network's (provision fund) and one
    // member's override (517).
    let operator = web::export::mapping::OperatorMapping {
        fund: web::export::mapping::OperatorMapping::provision_fund(),
        ..web::export::mapping::OperatorMapping::default()
    };
    store
        .set_network_mapping(
            operator,
            web::export::mapping::MemberMapping::default(),
            ActionNote::new(None, "gestion@troc.fr", web::store::MAPPING_ACTION, "").unwrap(),
        )
        .await
        .unwrap();
    let single = web::export::mapping::MemberMapping {
        barter: web::export::mapping::MemberMapping::single_barter_account(),
        ..web::export::mapping::MemberMapping::default()
    };
    store
        .set_member_mapping(
            id(alpha.account_id),
            Some(single),
            ActionNote::new(
                None,
                "owner@alpha.fr",
                web::store::MEMBER_MAPPING_ACTION,
                "",
            )
            .unwrap()
            .member(alpha.id),
        )
        .await
        .unwrap();
    // An API token (one revoked) and a remembered API answer (migration 0015).
    let (owner, _) = people::find_login(&store, "owner@alpha.fr")
        .await
        .unwrap()
        .unwrap();
    // One expires (migration 0020), one never does.
    let lifetime = web::tokens::Lifetime::days(30).unwrap();
    let (row, _) = web::tokens::create(&store, &owner, "ci", web::tokens::Scope::Read, lifetime)
        .await
        .unwrap();
    let unlimited = web::tokens::Lifetime::UNLIMITED;
    web::tokens::create(&store, &owner, "old", web::tokens::Scope::Pay, unlimited)
        .await
        .unwrap();
    assert!(web::tokens::revoke(&store, owner.id, row.id).await.unwrap());
    let answer = web::tokens::Remembered {
        request_hash: "00".repeat(32),
        status: 201,
        response: r#"{"transaction_id":1}"#.to_owned(),
    };
    web::tokens::remember(&store, owner.id, "key-1", "/api/v1/payments", &answer)
        .await
        .unwrap();
    // A new policy version, checkpoints signed by the network key, a last payment after.
    let mut policy = store.policy().await.unwrap();
    policy.amount_per_tx_max = Amount::from_units(50_000);
    store.set_policy(policy).await.unwrap();
    // The statistics' monthly aggregates, counted up to here (the last payment is not).
    web::network::stats_cache::refresh(&store, Utc::now())
        .await
        .unwrap();
    let network_key = signing_key(99);
    store.ensure_network_key(&network_key).await.unwrap();
    store
        .create_checkpoint(&network_key, Utc::now())
        .await
        .unwrap()
        .unwrap();
    accepted(
        &store,
        Submission::new(key("after-checkpoint"), payment(bulk[1], bulk[2], 2)),
    )
    .await;
    store
        .create_checkpoint(&network_key, Utc::now())
        .await
        .unwrap()
        .unwrap();
    // The network's two-step rule (migration 0040), last: the seed's web clients logged in
    // before it.
    web::console::settings::set_two_step_rule(&store, &actor, "network_staff", "Sécurité")
        .await
        .unwrap();
    // An announcement, and one withdrawn (migration 0041).
    let today = chrono::Utc::now().date_naive();
    for title in ["Soirée des membres", "Fermeture d'août"] {
        let new = web::news::NewAnnouncement {
            title: title.into(),
            message: "Jeudi à 19 h\nau siège.".into(),
            shown_until: (today + chrono::Duration::days(10)).to_string(),
        };
        web::news::publish(&store, &actor, &new, today)
            .await
            .unwrap();
    }
    let last = web::news::listed(&store).await.unwrap()[0].id;
    web::news::withdraw(&store, &actor, last, "Annulée")
        .await
        .unwrap();
    // Outside invoices in a cycle, one rejected, and a set-off run (migration 0042).
    let today = chrono::Utc::now().date_naive();
    let mut declared = Vec::new();
    for (creditor, debtor, number, amount) in [
        (&alpha, &beta, "A-1", "100"),
        (&beta, &gamma, "B-1", "70"),
        (&gamma, &alpha, "G-1", "50"),
        (&alpha, &gamma, "A-2", "30"),
    ] {
        let owner = owner_of(&store, creditor).await;
        let new = web::setoff::NewInvoice {
            debtor: debtor.id.to_string(),
            number: number.into(),
            amount: amount.into(),
            due_on: today.to_string(),
        };
        let invoice = web::setoff::declare(&store, &owner, creditor, &new, today)
            .await
            .unwrap();
        declared.push((invoice, debtor));
    }
    for (n, (invoice, debtor)) in declared.iter().enumerate() {
        let owner = owner_of(&store, debtor).await;
        let answer = if n == 3 {
            web::setoff::Answer::Reject
        } else {
            web::setoff::Answer::Confirm
        };
        web::setoff::answer(&store, &owner, debtor, invoice.id, answer, "Inconnue")
            .await
            .unwrap();
    }
    let run = web::setoff::run(&store, &actor, "Compensation du mois")
        .await
        .unwrap();
    assert_eq!(run.cleared, ledger::Amount::from_units(150));
    // A reminder of the return-to-zero rule told to a company below zero.
    let rule = web::zero::Rule::new(1).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::days(400);
    let due = web::zero::due(&store, rule, later, 1).await.unwrap();
    let due = due.first().expect("a member below zero");
    web::zero::told(&store, due.account_id, due.since, 4, 0)
        .await
        .unwrap();
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the seeded network is sound");
    store
        .verify_ledger()
        .await
        .unwrap()
        .expect("the seeded chain verifies");
    store
}

/// `member`'s owner.
async fn owner_of(store: &Store, member: &web::people::Member) -> web::people::User {
    web::people::users_of_member(store, member.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Owner)
        .expect("the member has an owner")
}

fn rows(reports: &[TableReport], table: &str) -> u64 {
    reports.iter().find(|r| r.name == table).unwrap().rows
}

async fn max_id(store: &Store, sql: &str) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(pool).await.unwrap().unwrap_or(0)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_network_moves_to_postgres_with_every_id_hash_and_balance() {
    let Some(target_db) = TestDb::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: the migration to PostgreSQL is skipped");
        return;
    };
    let source_db = TestDb::sqlite().await;
    let source = seed(source_db.url()).await;
    let before = migrate::table_digests(&source).await.unwrap();
    let source_head = source.chain_head().await.unwrap();
    let source_accounts = source.accounts().await.unwrap();
    let maxima = (
        max_id(&source, "SELECT MAX(id) FROM transactions").await,
        max_id(&source, "SELECT MAX(id) FROM holds").await,
        max_id(&source, "SELECT MAX(id) FROM accounts").await,
        max_id(&source, "SELECT MAX(id) FROM action_log").await,
        max_id(&source, "SELECT MAX(id) FROM users").await,
    );
    source.close().await;

    let mut progress = Vec::new();
    let report = migrate::migrate_data(source_db.url(), target_db.url(), &mut progress)
        .await
        .unwrap();
    let progress = String::from_utf8(progress).unwrap();
    assert!(progress.contains("postings"), "{progress}");
    assert!(progress.contains("committed"), "{progress}");
    assert!(
        progress.contains("holds: 1 times had digits below the microsecond"),
        "{progress}"
    );
    // Every table copied, with the source's counts and digests, read back the same.
    assert_eq!(report.tables, before);
    let target = Store::connect(target_db.url()).await.unwrap();
    assert_eq!(migrate::table_digests(&target).await.unwrap(), before);
    for table in TABLES {
        assert!(
            rows(&before, table.name) > 0,
            "the seed leaves {} empty: the test would prove nothing for it",
            table.name
        );
    }
    assert!(rows(&before, "transactions") > COPY_PAGE_ROWS as u64);
    assert_eq!(report.verified.transactions, source_head.0);
    assert_eq!(target.chain_head().await.unwrap(), source_head);
    assert_eq!(target.accounts().await.unwrap(), source_accounts);
    let lowered = source_accounts
        .iter()
        .any(|a| a.balance().minor() < -a.credit_limit().minor());
    assert!(lowered, "one account owes more than its lowered limit");

    // The target keeps working: new ids never collide with copied ones.
    let (tx_max, hold_max, account_max, action_max, user_max) = maxima;
    let fresh = target
        .open_accounts(2, Amount::from_units(1_000), None)
        .await
        .unwrap();
    assert!(fresh[0].id().0 as i64 > account_max);
    let Outcome::Posted { tx } = accepted(
        &target,
        Submission::new(
            key("on-postgres"),
            payment(fresh[0].id(), fresh[1].id(), 10),
        ),
    )
    .await
    else {
        panic!("a payment posts")
    };
    assert!(tx.0 as i64 > tx_max);
    let Outcome::HoldPlaced { hold } = accepted(
        &target,
        Submission::new(
            key("hold-on-postgres"),
            Operation::PlaceHold {
                hold: HoldId(0),
                payer: fresh[1].id(),
                payee: fresh[0].id(),
                amount: Amount::from_units(1),
                expires_at: Utc::now() + Duration::days(1),
                reference: String::new(),
                memo: String::new(),
            },
        ),
    )
    .await
    else {
        panic!("a hold is placed")
    };
    assert!(hold.0 as i64 > hold_max);
    // The statistics go on from the copied mark: a refresh on the target counts what the
    // source had not counted yet and what was posted since, up to the head.
    web::network::stats_cache::refresh(&target, Utc::now())
        .await
        .unwrap();
    let (counted, head) = web::dispatch!(target.backend(), pool => {
        let counted: i64 = sqlx::query_scalar("SELECT seq_through FROM stats_state WHERE id = 1")
            .fetch_one(pool).await.unwrap();
        let head: i64 = sqlx::query_scalar("SELECT seq FROM ledger_head WHERE id = 1")
            .fetch_one(pool).await.unwrap();
        (counted, head)
    });
    assert_eq!(counted, head);
    // A replayed key still answers from the copied decision.
    let replay = target
        .submit(Submission::new(
            key("to-reverse"),
            payment(AccountId(999), AccountId(998), 1),
        ))
        .await
        .unwrap();
    assert_eq!(replay, Err(ledger::Rejection::IdempotencyConflict));
    let user = people::create_user(
        &target,
        "apres@troc.fr",
        PASSWORD,
        "Après",
        Role::Manager,
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(user > user_max);
    target
        .record_action(
            ActionNote::new(Some(user), "apres@troc.fr", "network.moved", "PostgreSQL").unwrap(),
        )
        .await
        .unwrap();
    assert!(max_id(&target, "SELECT MAX(id) FROM action_log").await > action_max);
    people::create_member_with_account(
        &target,
        &people::Profile {
            name: "Epsilon".into(),
            siren: crate::web_front::siren(5),
            address: "2 rue".into(),
            city: "Lyon".into(),
            postcode: "69002".into(),
            sector: "informatique".into(),
            description: String::new(),
            contact: "e@troc.fr".into(),
        },
        Amount::from_units(10),
    )
    .await
    .unwrap();
    target
        .create_checkpoint(&signing_key(99), Utc::now())
        .await
        .unwrap()
        .unwrap();
    target.check_invariants().await.unwrap().unwrap();
    let verified = target.verify_ledger().await.unwrap().unwrap();
    assert_eq!(verified.transactions, source_head.0 + 1);
    // The web front works on the copy: a copied password logs in, the history is there.
    let state = web::http::AppState::new(
        target.clone(),
        web::http::Config::new(web::http::CookieSecurity::Plain, "http://troc.test"),
    );
    let mut browser = Client::new(state);
    browser.login("owner@alpha.fr", PASSWORD).await;
    browser.get("/history").await.assert_contains("FA-1");

    // A second run refuses the now non-empty target and changes nothing.
    let before_refusal = migrate::table_digests(&target).await.unwrap();
    let refused = migrate::migrate_data(source_db.url(), target_db.url(), &mut Vec::new()).await;
    assert!(
        matches!(&refused, Err(MigrateError::TargetNotEmpty(what)) if what.contains("rows")),
        "{refused:?}"
    );
    assert_eq!(
        migrate::table_digests(&target).await.unwrap(),
        before_refusal
    );
    target.close().await;
    source_db.cleanup().await;
    target_db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_data_refuses_what_it_cannot_copy() {
    let source_db = TestDb::sqlite().await;
    let source = source_db.store().await;
    source.close().await;
    let missing = format!("sqlite://{}/nowhere.db", std::env::temp_dir().display());
    let postgres = "postgres://postgres@127.0.0.1:1/none";
    let refused = migrate::migrate_data(postgres, postgres, &mut Vec::new()).await;
    assert!(
        matches!(refused, Err(MigrateError::SourceNotSqlite(_))),
        "{refused:?}"
    );
    let refused = migrate::migrate_data(&missing, postgres, &mut Vec::new()).await;
    assert!(
        matches!(refused, Err(MigrateError::SourceMissing(_))),
        "{refused:?}"
    );
    assert!(
        !std::path::Path::new(&missing[9..]).exists(),
        "no file was created"
    );
    let refused = migrate::migrate_data(source_db.url(), source_db.url(), &mut Vec::new()).await;
    assert!(
        matches!(refused, Err(MigrateError::TargetNotPostgres(_))),
        "{refused:?}"
    );
    let Some(target_db) = TestDb::postgres().await else {
        eprintln!("TROC_TEST_POSTGRES_URL is not set: the PostgreSQL refusals are skipped");
        return;
    };
    // A database holding someone else's table is left alone (not even migrated).
    let admin = sqlx::PgPool::connect(target_db.url()).await.unwrap();
    sqlx::query("CREATE TABLE purchase_ledger (id BIGINT PRIMARY KEY)")
        .execute(&admin)
        .await
        .unwrap();
    let refused = migrate::migrate_data(source_db.url(), target_db.url(), &mut Vec::new()).await;
    assert!(
        matches!(&refused, Err(MigrateError::TargetNotEmpty(what)) if what.contains("purchase_ledger")),
        "{refused:?}"
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(tables, 1, "nothing was created in the refused target");
    admin.close().await;
    // A source that lacks a migration is refused too.
    let source = source_db.store().await;
    raw(
        &source,
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    source.close().await;
    let other = TestDb::postgres().await.unwrap();
    let refused = migrate::migrate_data(source_db.url(), other.url(), &mut Vec::new()).await;
    assert!(
        matches!(refused, Err(MigrateError::SourceMigrations { .. })),
        "{refused:?}"
    );
    other.cleanup().await;
    target_db.cleanup().await;
    source_db.cleanup().await;
}

/// Migration 0019 rebuilds SQLite's `transactions` (without the UNIQUE of its idempotency
/// key) and `idempotency` (as a rowid table) by copying every row: run again through the
/// migrator on the seeded network (which has every kind of row that references a
/// transaction, and transactions inside a locked period), every table reads back the same,
/// every reference holds, the chain verifies, the database's defenses still fire and the
/// write path still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rebuild_of_transactions_keeps_every_row_and_defense() {
    let db = TestDb::sqlite().await;
    let store = seed(db.url()).await;
    let pair = store
        .open_accounts(2, Amount::from_units(100), None)
        .await
        .unwrap();
    let keyed = || Submission::new(key("before-0019"), payment(pair[0].id(), pair[1].id(), 7));
    let decided = accepted(&store, keyed()).await;
    let before = migrate::table_digests(&store).await.unwrap();
    let head = store.chain_head().await.unwrap();
    let tx_max = max_id(&store, "SELECT MAX(id) FROM transactions").await;
    raw(&store, "DELETE FROM _sqlx_migrations WHERE version = 19").await;
    store.close().await;

    let store = Store::connect(db.url()).await.unwrap();
    let applied: i64 = web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 19")
            .fetch_one(pool).await.unwrap()
    });
    assert_eq!(applied, 1, "0019 ran again");
    assert_eq!(migrate::table_digests(&store).await.unwrap(), before);
    assert!(rows(&before, "transactions") > COPY_PAGE_ROWS as u64);
    assert!(rows(&before, "idempotency") > COPY_PAGE_ROWS as u64);
    let (dangling, integrity, unique_key): (i64, String, i64) = web::dispatch!(store.backend(), pool => {
        let dangling = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_check")
            .fetch_one(pool).await.unwrap();
        let integrity = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(pool).await.unwrap();
        let unique_key = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pragma_index_list('transactions') l, \
             pragma_index_info(l.name) i WHERE i.name = 'idempotency_key'",
        )
        .fetch_one(pool).await.unwrap();
        (dangling, integrity, unique_key)
    });
    assert_eq!(dangling, 0, "every reference to a transaction holds");
    assert_eq!(integrity, "ok");
    assert_eq!(
        unique_key, 0,
        "no index on transactions.idempotency_key any more"
    );
    assert_eq!(store.chain_head().await.unwrap(), head);
    store
        .verify_ledger()
        .await
        .unwrap()
        .expect("the chain verifies after the rebuild");

    // The triggers came back: transactions stay append-only, an unbalanced one cannot be
    // sealed, and nothing is dated inside the locked period.
    let refusals = [
        (
            "UPDATE transactions SET memo = 'forged' \
             WHERE id = (SELECT MIN(id) FROM transactions)",
            "append-only",
        ),
        (
            "DELETE FROM transactions WHERE id = (SELECT MIN(id) FROM transactions)",
            "append-only",
        ),
        (
            "INSERT INTO transactions (id, seq, kind, time, reference, memo, posting_count, hash) \
             VALUES (900001, 900001, 'adjustment', '2099-01-01T00:00:00+00:00', '', '', 2, \
             '0000000000000000000000000000000000000000000000000000000000000000')",
            "balance",
        ),
        (
            "INSERT INTO transactions (id, seq, kind, time, reference, memo, posting_count, hash) \
             VALUES (900002, 900002, 'adjustment', '2000-01-01T00:00:00+00:00', '', '', 2, \
             '0000000000000000000000000000000000000000000000000000000000000000')",
            "locked period",
        ),
    ];
    for (sql, refusal) in refusals {
        let refused: String = web::dispatch!(store.backend(), pool => {
            sqlx::query(sql).execute(pool).await.unwrap_err().to_string()
        });
        assert!(refused.contains(refusal), "{sql}: {refused}");
    }
    // The idempotency table still makes a key unique, and still answers replays.
    let duplicate: String = web::dispatch!(store.backend(), pool => {
        sqlx::query(
            "INSERT INTO idempotency (key, fingerprint, result, time) \
             SELECT key, fingerprint, result, time FROM idempotency LIMIT 1",
        )
        .execute(pool).await.unwrap_err().to_string()
    });
    assert!(duplicate.contains("UNIQUE"), "{duplicate}");
    assert_eq!(store.submit(keyed()).await.unwrap(), Ok(decided));
    let other = store
        .submit(Submission::new(
            key("before-0019"),
            payment(pair[1].id(), pair[0].id(), 7),
        ))
        .await
        .unwrap();
    assert_eq!(other, Err(ledger::Rejection::IdempotencyConflict));
    let Outcome::Posted { tx } = accepted(
        &store,
        Submission::new(key("after-0019"), payment(pair[0].id(), pair[1].id(), 3)),
    )
    .await
    else {
        panic!("a payment posts")
    };
    assert!(tx.0 as i64 > tx_max);
    store
        .check_invariants()
        .await
        .unwrap()
        .expect("the invariants hold");
    store.close().await;
    db.cleanup().await;
}
