//! Payments waiting for the owner's approval over the API: a staff user's payment above its
//! limit asked, nothing moving while it waits; approved by the owner (paid, entered by the
//! staff user), declined with a note, withdrawn by the staff user who asked; who sees and
//! does what; a ledger refusal leaving it pending; the cap on pending requests; a removed
//! staff user's requests withdrawn; a request nobody decides expiring after 30 days.

use axum::http::StatusCode;
use ledger::Amount;
use serde_json::{json, Value};
use tests::story;
use web::approvals::{
    self, NewApproval, APPROVALS_PENDING_MAX, APPROVAL_NOTE_LEN_MAX, APPROVAL_WAIT_SECS_MAX,
};
use web::people::{self, Member, Role};
use web::store::Store;
use web::tokens::Scope;

use super::{balance, ids, ledger_state, member_accountant, setup, token, user_id, Api, PASSWORD};

const APPROVALS: &str = "/api/v1/payment-approvals";

fn at(id: &Value, action: &str) -> String {
    format!("{APPROVALS}/{id}/{action}")
}

fn one(id: &Value) -> String {
    format!("{APPROVALS}/{id}")
}

/// The owner (`owner_pay`) caps the staff user `email` of `member` at `limit`.
async fn cap(api: &Api, store: &Store, owner_pay: &str, member: &Member, email: &str, limit: &str) {
    let id = user_id(store, member.id, email).await;
    api.put(
        &format!("/api/v1/company/users/{id}/payment-limit"),
        owner_pay,
        json!({"payment_limit": limit}),
    )
    .await
    .ok(StatusCode::OK);
}

/// A second staff user `staff2@alpha.fr` of `member`, and a pay token of theirs.
async fn second_staff(store: &Store, member: &Member) -> String {
    people::create_user(
        store,
        "staff2@alpha.fr",
        PASSWORD,
        "Staff 2",
        Role::Staff,
        Some(member.id),
    )
    .await
    .unwrap()
    .unwrap();
    token(store, "staff2@alpha.fr", Scope::Pay).await
}

fn body(payee: &Member, amount: &str) -> Value {
    json!({"payee": payee.id, "amount": amount, "reference": "DEVIS-7", "memo": "Serveur"})
}

/// `caller` asks for a payment of `amount` to `payee`: the new request.
async fn ask(api: &Api, caller: &str, payee: &Member, amount: &str) -> Value {
    api.post(APPROVALS, caller, body(payee, amount))
        .await
        .ok(StatusCode::CREATED)
}

/// Minor units of an API amount (`"-151.50"`).
fn cents(text: &str) -> i64 {
    Amount::parse_signed(text)
        .unwrap_or_else(|e| panic!("{text}: {e:?}"))
        .minor()
}

/// The sum of transaction `tx`'s postings on `account`, as `caller` reads it.
async fn posted(api: &Api, caller: &str, tx: i64, account: i64) -> i64 {
    let detail = api
        .get(&format!("/api/v1/transactions/{tx}"), caller)
        .await
        .ok(StatusCode::OK);
    detail["postings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["account_id"] == account)
        .map(|p| cents(p["amount"].as_str().unwrap()))
        .sum()
}

/// Approving or declining request `id` (the owner's token) and withdrawing it (the staff
/// user's) are each 409 `approval_not_pending`, and nothing moves between the two members.
async fn no_longer_pending(
    api: &Api,
    store: &Store,
    id: &Value,
    [owner_pay, staff_pay]: [&str; 2],
    [payer, payee]: [&Member; 2],
) {
    let before = ledger_state(store, payer, payee).await;
    for (caller, action) in [
        (owner_pay, "approve"),
        (owner_pay, "decline"),
        (staff_pay, "withdraw"),
    ] {
        api.post(&at(id, action), caller, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "approval_not_pending");
    }
    assert_eq!(ledger_state(store, payer, payee).await, before);
}

async fn count_approvals(store: &Store) -> i64 {
    web::dispatch!(store.backend(), pool => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM payment_approvals")
            .fetch_one(pool).await.unwrap()
    })
}

story!(payment_approvals_over_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let owner_read = token(&store, "owner@alpha.fr", Scope::Read).await;
        let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let staff_read = token(&store, "staff@alpha.fr", Scope::Read).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
        let expert = member_accountant(&store, &alpha).await;
        let staff2_pay = second_staff(&store, &alpha).await;
        cap(&api, &store, &owner_pay, &alpha, "staff@alpha.fr", "100.00").await;
        cap(
            &api,
            &store,
            &owner_pay,
            &alpha,
            "staff2@alpha.fr",
            "100.00",
        )
        .await;

        // Over its limit, the staff user asks; nothing moves.
        let before = ledger_state(&store, &alpha, &beta).await;
        let first = ask(&api, &staff_pay, &beta, "150.00").await;
        assert_eq!(first["member_id"], alpha.id);
        assert_eq!(first["payee"], beta.id);
        assert_eq!(first["amount"], "150.00");
        assert_eq!(first["reference"], "DEVIS-7");
        assert_eq!(first["memo"], "Serveur");
        assert_eq!(first["requested_by"], "staff@alpha.fr");
        assert_eq!(first["status"], "pending");
        assert_eq!(first["attempts"], 0);
        assert!(first["transaction_id"].is_null());
        assert!(first["decided_by"].is_null());
        assert!(first["decided_at"].is_null());
        assert_eq!(first["note"], "");
        assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

        // Whoever may pay it needs no approval: within the limit, or the owner.
        let asked = count_approvals(&store).await;
        for (caller, amount) in [(&staff_pay, "100.00"), (&owner_pay, "150.00")] {
            api.post(APPROVALS, caller, body(&beta, amount))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "approval_not_needed");
        }
        // Bad input names its field; the wrong callers are refused.
        for (bad, field) in [
            (json!({"payee": alpha.id, "amount": "150.00"}), "payee"),
            (json!({"payee": 999_999, "amount": "150.00"}), "payee"),
            (json!({"payee": beta.id, "amount": "0"}), "amount"),
            (json!({"payee": beta.id, "amount": 150}), "amount"),
            (
                json!({"payee": beta.id, "amount": "150.00", "reference": "R".repeat(65)}),
                "reference",
            ),
            (
                json!({"payee": beta.id, "amount": "150.00", "memo": "m".repeat(281)}),
                "memo",
            ),
        ] {
            let problem = api
                .post(APPROVALS, &staff_pay, bad.clone())
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{bad}");
        }
        for caller in [&staff_read, &expert, &manage] {
            api.post(APPROVALS, caller, body(&beta, "150.00"))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        assert_eq!(count_approvals(&store).await, asked);

        // The same Idempotency-Key asks once; another body under it is a conflict; another
        // user's same key is its own.
        let keyed = api
            .post_key(APPROVALS, &staff_pay, "ask-1", body(&beta, "120.00"))
            .await;
        let again = api
            .post_key(APPROVALS, &staff_pay, "ask-1", body(&beta, "120.00"))
            .await;
        assert_eq!(keyed.status, StatusCode::CREATED, "{}", keyed.text);
        assert_eq!((again.status, &again.text), (keyed.status, &keyed.text));
        let keyed = keyed.json();
        api.post_key(APPROVALS, &staff_pay, "ask-1", body(&beta, "121.00"))
            .await
            .problem(StatusCode::CONFLICT, "idempotency_conflict");
        let other = api
            .post_key(APPROVALS, &staff2_pay, "ask-1", body(&beta, "200.00"))
            .await
            .ok(StatusCode::CREATED);
        assert_ne!(other["id"], keyed["id"]);
        assert_eq!(other["requested_by"], "staff2@alpha.fr");
        assert_eq!(count_approvals(&store).await, asked + 2);

        // The owner sees the company's, each staff user its own; the others none.
        let list = |caller: String, query: &'static str| {
            let api = api.clone();
            async move {
                api.get(&format!("{APPROVALS}{query}"), &caller)
                    .await
                    .ok(StatusCode::OK)
            }
        };
        let (a, b, c) = (
            first["id"].as_i64().unwrap(),
            keyed["id"].as_i64().unwrap(),
            other["id"].as_i64().unwrap(),
        );
        assert_eq!(ids(&list(owner_read.clone(), "").await, "id"), [c, b, a]);
        assert_eq!(ids(&list(staff_read.clone(), "").await, "id"), [b, a]);
        assert_eq!(ids(&list(staff2_pay.clone(), "").await, "id"), [c]);
        assert!(list(beta_pay.clone(), "").await["items"]
            .as_array()
            .unwrap()
            .is_empty());
        for caller in [&expert, &manage] {
            api.get(APPROVALS, caller)
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        // Keyset pages, and the parameters' bounds.
        let page = list(owner_read.clone(), "?limit=2").await;
        assert_eq!(ids(&page, "id"), [c, b]);
        let next = page["next"].as_str().unwrap().to_owned();
        let page = api
            .get(&format!("{APPROVALS}?limit=2&after={next}"), &owner_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(ids(&page, "id"), [a]);
        assert!(page["next"].is_null());
        assert_eq!(
            ids(&list(owner_read.clone(), "?limit=200").await, "id").len(),
            3
        );
        for (query, field) in [
            ("?limit=201", "limit"),
            ("?limit=0", "limit"),
            ("?status=open", "status"),
            ("?after=x", "after"),
        ] {
            let problem = api
                .get(&format!("{APPROVALS}{query}"), &owner_read)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["field"], field, "{query}");
        }

        // One request: the owner's, its asker's; another staff user's, another company's,
        // a bad id are 404.
        assert_eq!(
            api.get(&one(&first["id"]), &owner_read)
                .await
                .ok(StatusCode::OK),
            first
        );
        api.get(&one(&first["id"]), &staff_read)
            .await
            .ok(StatusCode::OK);
        for (caller, path) in [
            (&staff2_pay, one(&first["id"])),
            (&beta_pay, one(&first["id"])),
            (&owner_read, format!("{APPROVALS}/999999")),
            (&owner_read, format!("{APPROVALS}/abc")),
            (&owner_read, format!("{APPROVALS}/0")),
        ] {
            api.get(&path, caller)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }
        api.get(&one(&first["id"]), &expert)
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");

        // Only the owner approves, with a pay token, its own company's requests.
        let approve = at(&first["id"], "approve");
        for caller in [&staff_pay, &owner_read, &expert, &manage] {
            api.post(&approve, caller, json!({}))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        api.post(&approve, &beta_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        api.post(
            &format!("{APPROVALS}/999999/approve"),
            &owner_pay,
            json!({}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

        // Approved: paid from the company's account, entered by the staff user who asked.
        let (alpha_before, beta_before) =
            (balance(&store, &alpha).await, balance(&store, &beta).await);
        let approved = api
            .post(&approve, &owner_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["decided_by"], "owner@alpha.fr");
        assert!(approved["decided_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(approved["attempts"], 0);
        let tx = approved["transaction_id"].as_i64().unwrap();
        let detail = api
            .get(&format!("/api/v1/transactions/{tx}"), &owner_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(detail["entered_by"], "staff@alpha.fr");
        assert_eq!(detail["reference"], "DEVIS-7");
        assert_eq!(detail["memo"], "Serveur");
        let principal: Vec<(i64, i64)> = detail["postings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["leg"] == "principal")
            .map(|p| {
                (
                    p["account_id"].as_i64().unwrap(),
                    cents(p["amount"].as_str().unwrap()),
                )
            })
            .collect();
        assert!(principal.contains(&(alpha.account_id, -15_000)), "{detail}");
        assert!(principal.contains(&(beta.account_id, 15_000)), "{detail}");
        let alpha_moved = balance(&store, &alpha).await - alpha_before;
        let beta_moved = balance(&store, &beta).await - beta_before;
        assert_eq!(
            alpha_moved,
            posted(&api, &owner_read, tx, alpha.account_id).await
        );
        assert_eq!(
            beta_moved,
            posted(&api, &beta_pay, tx, beta.account_id).await
        );
        assert!(alpha_moved <= -15_000, "{alpha_moved}");
        assert!(beta_moved > 0 && beta_moved <= 15_000, "{beta_moved}");
        // The staff user reads it, and the company's history names it as its entry.
        let seen = api
            .get(&one(&first["id"]), &staff_read)
            .await
            .ok(StatusCode::OK);
        assert_eq!(seen, approved);
        // Decided once: approving, declining or withdrawing it again is a conflict and
        // moves nothing.
        let after = ledger_state(&store, &alpha, &beta).await;
        no_longer_pending(
            &api,
            &store,
            &first["id"],
            [&owner_pay, &staff_pay],
            [&alpha, &beta],
        )
        .await;

        // Withdrawn by the staff user who asked: not by the owner, nor another staff user.
        let withdraw = at(&keyed["id"], "withdraw");
        api.post(&withdraw, &owner_pay, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        api.post(&withdraw, &staff2_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let withdrawn = api
            .post(&withdraw, &staff_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(withdrawn["status"], "withdrawn");
        assert_eq!(withdrawn["decided_by"], "staff@alpha.fr");
        assert!(withdrawn["transaction_id"].is_null());
        api.post(&at(&keyed["id"], "approve"), &owner_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "approval_not_pending");
        api.post(&withdraw, &staff_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "approval_not_pending");

        // Declined by the owner with a note of at most 280 characters.
        let decline = at(&other["id"], "decline");
        api.post(&decline, &staff2_pay, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let long = "é".repeat(APPROVAL_NOTE_LEN_MAX + 1);
        let problem = api
            .post(&decline, &owner_pay, json!({"note": long}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "note");
        let problem = api
            .post(&decline, &owner_pay, json!({"note": 12}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["field"], "note");
        api.post(&decline, &beta_pay, json!({}))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        let note = "é".repeat(APPROVAL_NOTE_LEN_MAX);
        let declined = api
            .post(&decline, &owner_pay, json!({"note": note}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(declined["status"], "declined");
        assert_eq!(declined["note"], note);
        assert_eq!(declined["decided_by"], "owner@alpha.fr");
        api.post(&decline, &owner_pay, json!({"note": null}))
            .await
            .problem(StatusCode::CONFLICT, "approval_not_pending");
        api.post(&at(&other["id"], "approve"), &owner_pay, json!({}))
            .await
            .problem(StatusCode::CONFLICT, "approval_not_pending");
        assert_eq!(ledger_state(&store, &alpha, &beta).await, after);

        // Only pending ones, when asked.
        let pending = ask(&api, &staff_pay, &beta, "130.00").await;
        assert_eq!(
            ids(&list(owner_read.clone(), "?status=pending").await, "id"),
            [pending["id"].as_i64().unwrap()]
        );
        assert_eq!(
            ids(&list(owner_read.clone(), "?status=all").await, "id").len(),
            4
        );

        // The company's data package holds them all, whoever asked; Beta's none.
        let package = api.get("/api/v1/company/data", &owner_read).await;
        assert_eq!(package.status, StatusCode::OK);
        let records: Vec<Value> = package
            .text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["record"] == "payment_approval")
            .map(|line| line["data"].clone())
            .collect();
        assert_eq!(records.len(), 4);
        assert!(records.contains(&approved) && records.contains(&declined));
        let package = api.get("/api/v1/company/data", &beta_pay).await;
        assert!(!package.text.contains("payment_approval"));
        store.close().await;
    }
});

story!(
    an_approval_the_ledger_refuses_stays_pending,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let manage = token(&store, "gestion@troc.fr", Scope::Manage).await;
            cap(&api, &store, &owner_pay, &alpha, "staff@alpha.fr", "100.00").await;
            let asked = ask(&api, &staff_pay, &beta, "600.00").await;
            let set_limit = |limit: &'static str| {
                let (api, manage) = (api.clone(), manage.clone());
                let path = format!("/api/v1/accounts/{}/credit-limit", alpha.account_id);
                async move {
                    api.put(
                        &path,
                        &manage,
                        json!({"credit_limit": limit, "reason": "Revue"}),
                    )
                    .await
                    .ok(StatusCode::OK);
                }
            };

            // The company lacks the credit: refused, still pending, nothing moved.
            set_limit("100.00").await;
            let before = ledger_state(&store, &alpha, &beta).await;
            let approve = at(&asked["id"], "approve");
            api.post(&approve, &owner_pay, json!({}))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_credit");
            let seen = api
                .get(&one(&asked["id"]), &staff_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(seen["status"], "pending");
            assert_eq!(seen["attempts"], 1);
            assert!(seen["transaction_id"].is_null());
            assert!(seen["decided_at"].is_null());
            assert_eq!(ledger_state(&store, &alpha, &beta).await, before);

            // With the credit back, it is paid, once.
            set_limit("1000.00").await;
            let approved = api
                .post(&approve, &owner_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(approved["status"], "approved");
            assert_eq!(approved["attempts"], 1);
            let tx = approved["transaction_id"].as_i64().unwrap();
            let moved = balance(&store, &alpha).await - before.0;
            assert_eq!(moved, posted(&api, &owner_pay, tx, alpha.account_id).await);
            assert!(moved <= -60_000, "{moved}");
            api.post(&approve, &owner_pay, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "approval_not_pending");
            let history = api
                .get(
                    &format!("/api/v1/accounts/{}/transactions", alpha.account_id),
                    &owner_pay,
                )
                .await
                .ok(StatusCode::OK);
            assert_eq!(ids(&history, "id"), [tx]);
            assert_eq!(history["items"][0]["entered_by"], "staff@alpha.fr");
            store.close().await;
        }
    }
);

story!(pending_approvals_are_capped, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, alpha, beta) = setup(&url).await;
        let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
        let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
        let beta_pay = token(&store, "owner@beta.fr", Scope::Pay).await;
        cap(&api, &store, &owner_pay, &alpha, "staff@alpha.fr", "100.00").await;
        cap(&api, &store, &beta_pay, &beta, "staff@beta.fr", "100.00").await;
        let (staff, _) = people::find_login(&store, "staff@alpha.fr")
            .await
            .unwrap()
            .unwrap();
        let order = web::trade::PaymentOrder {
            amount: Amount::from_minor(20_000),
            reference: String::new(),
            memo: String::new(),
        };
        // One short of the cap, then the last one through the API.
        for n in 1..APPROVALS_PENDING_MAX {
            let form_token = format!("cap-{n}");
            let new = NewApproval {
                payer: &alpha,
                payee: &beta,
                order: &order,
                requested_by: &staff,
                form_token: &form_token,
            };
            approvals::create(&store, &new).await.unwrap().unwrap();
        }
        let last = ask(&api, &staff_pay, &beta, "200.00").await;
        assert_eq!(
            web::trade::waiting(&store, alpha.id)
                .await
                .unwrap()
                .approvals,
            APPROVALS_PENDING_MAX
        );
        let asked = count_approvals(&store).await;
        api.post(APPROVALS, &staff_pay, body(&beta, "200.00"))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "too_many_pending");
        assert_eq!(count_approvals(&store).await, asked);
        // Another company has its own count.
        let beta_staff = token(&store, "staff@beta.fr", Scope::Pay).await;
        ask(&api, &beta_staff, &alpha, "200.00").await;
        // One decided frees a place.
        api.post(&at(&last["id"], "withdraw"), &staff_pay, json!({}))
            .await
            .ok(StatusCode::OK);
        let newest = ask(&api, &staff_pay, &beta, "200.00").await;
        api.post(APPROVALS, &staff_pay, body(&beta, "200.00"))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "too_many_pending");
        // So does one that expired, swept or not.
        let id = newest["id"].as_i64().unwrap();
        let now = chrono::Utc::now().timestamp();
        tests::backdate_approval(&store, id, now - APPROVAL_WAIT_SECS_MAX - 1).await;
        assert_eq!(
            web::trade::waiting(&store, alpha.id)
                .await
                .unwrap()
                .approvals,
            APPROVALS_PENDING_MAX - 1
        );
        ask(&api, &staff_pay, &beta, "200.00").await;
        api.post(APPROVALS, &staff_pay, body(&beta, "200.00"))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "too_many_pending");
        let expired = api
            .get(&one(&newest["id"]), &staff_pay)
            .await
            .ok(StatusCode::OK);
        assert_eq!(expired["status"], "expired");
        store.close().await;
    }
});

story!(
    a_removed_staff_users_pending_approvals_are_withdrawn,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            let staff2_pay = second_staff(&store, &alpha).await;
            cap(&api, &store, &owner_pay, &alpha, "staff@alpha.fr", "100.00").await;
            cap(
                &api,
                &store,
                &owner_pay,
                &alpha,
                "staff2@alpha.fr",
                "100.00",
            )
            .await;
            let pending = ask(&api, &staff_pay, &beta, "150.00").await;
            let declined = ask(&api, &staff_pay, &beta, "160.00").await;
            let others = ask(&api, &staff2_pay, &beta, "170.00").await;
            api.post(
                &at(&declined["id"], "decline"),
                &owner_pay,
                json!({"note": "Non"}),
            )
            .await
            .ok(StatusCode::OK);

            let staff_id = user_id(&store, alpha.id, "staff@alpha.fr").await;
            api.post(
                &format!("/api/v1/company/users/{staff_id}/remove"),
                &owner_pay,
                json!({}),
            )
            .await
            .ok(StatusCode::OK);
            let read = |id: &Value| {
                let (api, owner_pay, path) = (api.clone(), owner_pay.clone(), one(id));
                async move { api.get(&path, &owner_pay).await.ok(StatusCode::OK) }
            };
            let gone = read(&pending["id"]).await;
            assert_eq!(gone["status"], "withdrawn");
            assert_eq!(gone["decided_by"], "owner@alpha.fr");
            assert_eq!(gone["requested_by"], "staff@alpha.fr");
            assert!(gone["decided_at"].is_string());
            let kept = read(&declined["id"]).await;
            assert_eq!(kept["status"], "declined");
            assert_eq!(kept["note"], "Non");
            assert_eq!(read(&others["id"]).await["status"], "pending");
            api.post(&at(&pending["id"], "approve"), &owner_pay, json!({}))
                .await
                .problem(StatusCode::CONFLICT, "approval_not_pending");
            // The departed user's token is gone with it.
            api.get(APPROVALS, &staff_pay)
                .await
                .problem(StatusCode::UNAUTHORIZED, "unauthorized");
            store.close().await;
        }
    }
);

story!(
    a_waiting_approval_expires_over_the_api,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, api, alpha, beta) = setup(&url).await;
            let owner_pay = token(&store, "owner@alpha.fr", Scope::Pay).await;
            let staff_pay = token(&store, "staff@alpha.fr", Scope::Pay).await;
            cap(&api, &store, &owner_pay, &alpha, "staff@alpha.fr", "100.00").await;
            let late = ask(&api, &staff_pay, &beta, "150.00").await;
            let in_time = ask(&api, &staff_pay, &beta, "160.00").await;
            // Asked 30 days and a second ago, and 30 days less two minutes ago.
            let now = chrono::Utc::now().timestamp();
            let late_id = late["id"].as_i64().unwrap();
            let asked_late = now - APPROVAL_WAIT_SECS_MAX - 1;
            tests::backdate_approval(&store, late_id, asked_late).await;
            let asked_in_time = now - APPROVAL_WAIT_SECS_MAX + 120;
            tests::backdate_approval(&store, in_time["id"].as_i64().unwrap(), asked_in_time).await;
            let time = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };

            // Expired: decided by nobody, at the end of its 30 days; the other still waits.
            let shown = api
                .get(&one(&late["id"]), &owner_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(shown["status"], "expired");
            assert!(shown["decided_by"].is_null());
            assert_eq!(
                shown["decided_at"],
                time(asked_late + APPROVAL_WAIT_SECS_MAX)
            );
            assert_eq!(shown["expires_at"], shown["decided_at"]);
            assert!(shown["transaction_id"].is_null());
            let waiting = api
                .get(&format!("{APPROVALS}?status=pending"), &owner_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(ids(&waiting, "id"), [in_time["id"].as_i64().unwrap()]);
            assert_eq!(
                waiting["items"][0]["expires_at"],
                time(asked_in_time + APPROVAL_WAIT_SECS_MAX)
            );

            // Nothing may be done with it any more, and nothing moves.
            no_longer_pending(
                &api,
                &store,
                &late["id"],
                [&owner_pay, &staff_pay],
                [&alpha, &beta],
            )
            .await;
            let again = api
                .get(&one(&late["id"]), &staff_pay)
                .await
                .ok(StatusCode::OK);
            assert_eq!(again["status"], "expired");

            // The one in time is approved and paid.
            let paid = api
                .post(&at(&in_time["id"], "approve"), &owner_pay, json!({}))
                .await
                .ok(StatusCode::OK);
            assert_eq!(paid["status"], "approved");
            assert_eq!(balance(&store, &alpha).await, -16_160);
            store.close().await;
        }
    }
);
