//! A staff user's payment over its limit, waiting for the owner's approval, on the pages:
//! asked from the pay form, approved (paid once, entered by the staff user), refused by the
//! ledger (still waiting), declined with a note, withdrawn, and withdrawn with its user;
//! expired after 30 days without a decision.

use axum::http::StatusCode;
use tests::story;
use web::approvals::{self, ApprovalStatus, Filter, APPROVAL_NOTE_LEN_MAX, APPROVAL_WAIT_SECS_MAX};
use web::people;

use super::client::{self, hidden_value, Client};
use super::{balance, staff_of, two_members, PASSWORD};

async fn requests_of(store: &web::store::Store, member_id: i64) -> Vec<approvals::Approval> {
    approvals::page(store, member_id, None, Filter::All, None, 50)
        .await
        .unwrap()
        .0
}

/// Draws the pay form, then posts `amount` to `path` with its token; returns the token.
async fn ask(client: &mut Client, path: &str, payee: &str, amount: &str) -> (String, StatusCode) {
    let form = client.get("/pay").await;
    let token = hidden_value(&form.body, "token").unwrap();
    let page = client
        .post(
            path,
            &[
                ("payee", payee),
                ("amount", amount),
                ("reference", "DEVIS-7"),
                ("memo", "Matériel"),
                ("token", &token),
            ],
        )
        .await;
    (token, page.status)
}

/// Two members; Alpha's staff user capped at 100,00, logged in beside Alpha's owner.
struct Capped {
    store: web::store::Store,
    alpha: people::Member,
    beta: people::Member,
    staff_user: people::User,
    owner: Client,
    staff: Client,
}

async fn capped_staff(url: &str) -> Capped {
    let (store, state, alpha, beta) = two_members(url).await;
    let staff_user = staff_of(&store, &alpha, Some(10_000)).await;
    let mut owner = Client::new(state);
    owner.login("owner@alpha.fr", PASSWORD).await;
    let mut staff = owner.sibling();
    staff.login(&staff_user.email, PASSWORD).await;
    Capped {
        store,
        alpha,
        beta,
        staff_user,
        owner,
        staff,
    }
}

story!(staff_payment_approval_on_the_web, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let Capped {
            store,
            alpha,
            beta,
            staff_user,
            mut owner,
            mut staff,
        } = capped_staff(&url).await;
        let mut other = owner.sibling();
        other.login("owner@beta.fr", PASSWORD).await;
        let beta_id = beta.id.to_string();

        // The staff user's pay form says its limit; the owner's says none.
        let form = staff.get("/pay").await;
        form.assert_contains("id=\"payment-max\">Votre plafond par opération : 100,00.");
        assert!(!owner.get("/pay").await.body.contains("id=\"payment-max\""));

        // Over the limit, the pay form offers to ask the owner, with what was typed.
        let token = hidden_value(&form.body, "token").unwrap();
        let fields = [
            ("payee", beta_id.as_str()),
            ("amount", "150,00"),
            ("reference", "DEVIS-7"),
            ("memo", "Matériel"),
            ("token", token.as_str()),
        ];
        let page = staff.post("/pay/confirm", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Ce montant dépasse votre plafond par opération (100,00)");
        page.assert_contains("action=\"/pay/approval\"");
        page.assert_contains("id=\"ask-approval\"");
        page.assert_contains("la demande expire au bout de 30 jours sans décision.");
        // Not offered for another mistake.
        let wrong = [
            ("payee", "0"),
            ("amount", "150,00"),
            ("token", token.as_str()),
        ];
        let page = staff.post("/pay/confirm", &wrong).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!page.body.contains("action=\"/pay/approval\""));

        // Asked: nothing moves; a replay of the same form asks once.
        for _ in 0..2 {
            let page = staff.post("/pay/approval", &fields).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            assert!(page
                .location
                .as_deref()
                .unwrap()
                .starts_with("/approvals?done=asked"));
        }
        let asked = requests_of(&store, alpha.id).await;
        assert_eq!(asked.len(), 1);
        let first = asked[0].clone();
        assert_eq!(first.status, ApprovalStatus::Pending);
        assert_eq!(first.amount_minor, 15_000);
        assert_eq!(first.requested_by_email, staff_user.email);
        assert_eq!(balance(&store, &alpha).await, 0);
        let page = staff.get("/approvals?done=asked").await;
        page.assert_contains("Demande envoyée au titulaire du compte.");
        page.assert_contains("150,00");
        page.assert_contains("En attente");
        page.assert_contains("Retirer la demande");
        assert!(!page.body.contains("Approuver et payer"));

        // The owner: the dashboard says so, the page offers the decision.
        owner
            .get("/dashboard")
            .await
            .assert_contains("1 paiement de votre équipe attend votre accord.");
        assert!(!staff
            .get("/dashboard")
            .await
            .body
            .contains("attend votre accord"));
        let page = owner.get("/approvals").await;
        page.assert_contains("Approuver et payer");
        // What approving would debit: the amount and the buyer's 1 % fund contribution,
        // beside the company's balance and available credit.
        page.assert_contains(&format!("id=\"total-{}\">151,50</td>", first.id));
        page.assert_contains("id=\"available\">1 000,00");
        page.assert_contains(&staff_user.email);
        // Pages go back by id (keyset); a cursor that is not an id is refused.
        assert_eq!(
            owner.get("/approvals?before=abc").await.status,
            StatusCode::BAD_REQUEST
        );
        let older = owner.get(&format!("/approvals?before={}", first.id)).await;
        assert_eq!(older.status, StatusCode::OK);
        assert!(!older.body.contains("DEVIS-7"));
        // Only the owner decides; another company sees nothing of it.
        let approve = format!("/approvals/{}/approve", first.id);
        assert_eq!(
            staff.post(&approve, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            other.post(&approve, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(!other.get("/approvals").await.body.contains("DEVIS-7"));
        assert_eq!(balance(&store, &alpha).await, 0);

        // Approved: paid once (150,00 and the 1 % fund contribution), entered by the staff.
        for _ in 0..2 {
            let page = owner.post(&approve, &[]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            assert_eq!(page.location.as_deref(), Some("/approvals?done=paid"));
        }
        assert_eq!(balance(&store, &alpha).await, -15_150);
        let done = approvals::approval(&store, first.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.status, ApprovalStatus::Approved);
        let tx = done.tx_id.unwrap();
        let page = owner.get("/approvals?done=paid").await;
        page.assert_contains("Paiement approuvé et effectué.");
        page.assert_contains(&format!("Approuvé (n° {tx})"));
        page.assert_contains(&format!("id=\"total-{}\"></td>", first.id));
        owner
            .get("/history")
            .await
            .assert_contains(&format!("par {}", staff_user.email));
        // The staff user's dashboard tells it the answer (escaped: the name holds & and <).
        staff.get("/dashboard").await.assert_contains(
            "Votre paiement de 150,00 à Beta &#38; Fils &#60;SAS&#62; a été approuvé et effectué.",
        );

        // Refused by the ledger: the request keeps waiting, a later approval pays it.
        let (_, status) = ask(&mut staff, "/pay/approval", &beta_id, "2 000,00").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let big = requests_of(&store, alpha.id).await[0].clone();
        let page = owner
            .post(&format!("/approvals/{}/approve", big.id), &[])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Crédit insuffisant");
        let waiting = approvals::approval(&store, big.id).await.unwrap().unwrap();
        assert_eq!(waiting.status, ApprovalStatus::Pending);
        assert_eq!(waiting.attempts, 1);
        assert_eq!(balance(&store, &alpha).await, -15_150);

        // Declined with a note of at most 280 characters; then no longer withdrawable.
        let decline = format!("/approvals/{}/decline", big.id);
        let long = "é".repeat(APPROVAL_NOTE_LEN_MAX + 1);
        let page = owner.post(&decline, &[("note", &long)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Le motif fait au plus 280 caractères.");
        assert!(approvals::approval(&store, big.id)
            .await
            .unwrap()
            .unwrap()
            .is_pending());
        assert_eq!(
            staff.post(&decline, &[("note", "non")]).await.status,
            StatusCode::FORBIDDEN
        );
        let note = "é".repeat(APPROVAL_NOTE_LEN_MAX);
        let page = owner.post(&decline, &[("note", &note)]).await;
        assert_eq!(page.location.as_deref(), Some("/approvals?done=declined"));
        let declined = approvals::approval(&store, big.id).await.unwrap().unwrap();
        assert_eq!(declined.status, ApprovalStatus::Declined);
        assert_eq!(declined.note, note);
        staff.get("/approvals").await.assert_contains("Refusé");
        staff.get("/dashboard").await.assert_contains(&format!(
            "Votre paiement de 2 000,00 à Beta &#38; Fils &#60;SAS&#62; a été refusé par le titulaire ({note})."
        ));
        let page = staff
            .post(&format!("/approvals/{}/withdraw", big.id), &[])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("plus en attente.");
        // Nor approvable.
        let page = owner
            .post(&format!("/approvals/{}/approve", big.id), &[])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(balance(&store, &alpha).await, -15_150);

        // Withdrawn by the staff user who asked, not by the owner.
        let (_, _) = ask(&mut staff, "/pay/approval", &beta_id, "120,00").await;
        let third = requests_of(&store, alpha.id).await[0].clone();
        let withdraw = format!("/approvals/{}/withdraw", third.id);
        assert_eq!(
            owner.post(&withdraw, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        let page = staff.post(&withdraw, &[]).await;
        assert_eq!(page.location.as_deref(), Some("/approvals?done=withdrawn"));
        assert_eq!(
            approvals::approval(&store, third.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            ApprovalStatus::Withdrawn
        );

        // The owner, or a staff user within its limit, just pays.
        let (_, status) = ask(&mut owner, "/pay/approval", &beta_id, "150,00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, status) = ask(&mut staff, "/pay/approval", &beta_id, "100,00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let form = staff.get("/pay").await;
        let token = hidden_value(&form.body, "token").unwrap();
        let page = staff
            .post(
                "/pay/approval",
                &[("payee", &beta_id), ("amount", "100,00"), ("token", &token)],
            )
            .await;
        page.assert_contains("Ce paiement est dans votre plafond : payez-le directement.");
        assert_eq!(requests_of(&store, alpha.id).await.len(), 3);

        // A payment request the staff user sends commits nothing: no limit applies.
        let form = staff.get("/requests").await;
        let token = hidden_value(&form.body, "token").unwrap();
        let today = chrono::Utc::now().date_naive().to_string();
        let page = staff
            .post(
                "/requests",
                &[
                    ("payee", &beta_id),
                    ("amount", "500,00"),
                    ("reference", "FA-9"),
                    ("due_date", &today),
                    ("token", &token),
                ],
            )
            .await;
        assert!(
            !page.body.contains("dépasse votre plafond"),
            "{}",
            page.body
        );
        let sent = web::trade::requests_of(
            &store,
            alpha.id,
            web::trade::Side::Seller,
            web::trade::Scope::All,
            10,
        )
        .await
        .unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].amount_minor, 50_000);

        // Removing the staff user withdraws what it left waiting.
        ask(&mut staff, "/pay/approval", &beta_id, "130,00").await;
        let left = requests_of(&store, alpha.id).await[0].clone();
        assert!(left.is_pending());
        assert!(
            people::remove_member_user(&store, alpha.id, staff_user.id, "owner@alpha.fr")
                .await
                .unwrap()
        );
        let gone = approvals::approval(&store, left.id).await.unwrap().unwrap();
        assert_eq!(gone.status, ApprovalStatus::Withdrawn);
        assert_eq!(gone.decided_by.as_deref(), Some("owner@alpha.fr"));
        assert_eq!(
            web::trade::waiting(&store, alpha.id)
                .await
                .unwrap()
                .approvals,
            0
        );
        // The decided ones stay, with the email of who asked.
        let kept = approvals::approval(&store, first.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.requested_by_email, staff_user.email);
        assert_eq!(balance(&store, &alpha).await, -15_150);
    }
});

/// The row of approval `id` on the approvals page.
fn row(body: &str, id: i64) -> &str {
    let start = body
        .find(&format!("id=\"approval-{id}\""))
        .unwrap_or_else(|| panic!("approval {id} not listed"));
    let end = body[start..].find("</tr>").unwrap() + start;
    &body[start..end]
}

/// The staff user asks twice, 150,00 then 160,00, and the requests are made as old as 30
/// days and a second (the first: overdue) and 30 days less two minutes (the second: still
/// in time). Returns them, and the time they were aged from.
async fn one_late_one_in_time(
    store: &web::store::Store,
    alpha: &people::Member,
    beta: &people::Member,
    staff: &mut Client,
) -> (approvals::Approval, approvals::Approval, i64) {
    let beta_id = beta.id.to_string();
    ask(staff, "/pay/approval", &beta_id, "150,00").await;
    ask(staff, "/pay/approval", &beta_id, "160,00").await;
    let asked = requests_of(store, alpha.id).await;
    let (late, in_time) = (asked[1].clone(), asked[0].clone());
    assert_eq!(late.amount_minor, 15_000);
    let now = chrono::Utc::now().timestamp();
    tests::backdate_approval(store, late.id, now - APPROVAL_WAIT_SECS_MAX - 1).await;
    tests::backdate_approval(store, in_time.id, now - APPROVAL_WAIT_SECS_MAX + 120).await;
    (late, in_time, now)
}

story!(
    a_waiting_approval_expires_after_thirty_days,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let Capped {
                store,
                alpha,
                beta,
                staff_user,
                mut owner,
                mut staff,
            } = capped_staff(&url).await;
            let (late, in_time, now) =
                one_late_one_in_time(&store, &alpha, &beta, &mut staff).await;

            // The dashboards only read: the owner counts one waiting, the staff user is told
            // the other expired with nothing paid, before anything swept it.
            owner
                .get("/dashboard")
                .await
                .assert_contains("1 paiement de votre équipe attend votre accord.");
            assert_eq!(
                approvals::approval(&store, late.id)
                    .await
                    .unwrap()
                    .unwrap()
                    .status,
                ApprovalStatus::Pending
            );
            staff.get("/dashboard").await.assert_contains(
            "Votre demande de paiement de 150,00 à Beta &#38; Fils &#60;SAS&#62; a expiré sans \
             décision du titulaire après 30 jours",
        );

            // The list sweeps it: expired when its 30 days ran out, decided by nobody.
            let page = owner.get("/approvals").await;
            let expired = approvals::approval(&store, late.id).await.unwrap().unwrap();
            assert_eq!(expired.status, ApprovalStatus::Expired);
            assert_eq!(expired.decided_at, Some(expired.expires_at()));
            assert_eq!(expired.decided_by, None);
            let line = row(&page.body, late.id);
            assert!(line.contains("<td>Expiré</td>"), "{line}");
            assert!(!line.contains("/approve"), "{line}");
            let line = row(&page.body, in_time.id);
            assert!(line.contains("<td>En attente</td>"), "{line}");
            let expires = approvals::approval(&store, in_time.id)
                .await
                .unwrap()
                .unwrap()
                .expires_at();
            assert_eq!(expires, now + 120);
            let until = chrono::DateTime::from_timestamp(expires, 0)
                .unwrap()
                .format("expire le %Y-%m-%d %H:%M")
                .to_string();
            assert!(line.contains(&until), "{line}");

            // « En attente seulement » leaves it out, page after page (keyset, 50 a page).
            let order = web::trade::PaymentOrder {
                amount: ledger::Amount::from_minor(12_000),
                reference: String::new(),
                memo: String::new(),
            };
            for n in 0..web::http::approvals::APPROVALS_PAGE_SIZE {
                let form_token = format!("later-{n}");
                let new = approvals::NewApproval {
                    payer: &alpha,
                    payee: &beta,
                    order: &order,
                    requested_by: &staff_user,
                    form_token: &form_token,
                };
                approvals::create(&store, &new).await.unwrap().unwrap();
            }
            let shown = |body: &str, id: i64| body.contains(&format!("id=\"approval-{id}\""));
            let first_page = owner.get("/approvals?status=pending").await;
            first_page.assert_contains(
                "href=\"/approvals?status=pending\" aria-current=\"page\">En attente seulement",
            );
            assert!(!shown(&first_page.body, in_time.id));
            let next = first_page
                .body
                .split("href=\"/approvals?status=pending&amp;before=")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no next page: {}", first_page.body))
                .to_owned();
            let second = owner
                .get(&format!("/approvals?status=pending&before={next}"))
                .await;
            assert!(shown(&second.body, in_time.id));
            assert!(!shown(&second.body, late.id));
            let all = owner.get(&format!("/approvals?before={next}")).await;
            assert!(shown(&all.body, in_time.id) && shown(&all.body, late.id));
            assert_eq!(
                owner.get("/approvals?status=bogus").await.status,
                StatusCode::BAD_REQUEST
            );

            // Neither approved, declined nor withdrawn any more; nothing moves.
            for action in ["approve", "decline", "withdraw"] {
                let client = if action == "withdraw" {
                    &mut staff
                } else {
                    &mut owner
                };
                let page = client
                    .post(&format!("/approvals/{}/{action}", late.id), &[])
                    .await;
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{action}");
                page.assert_contains("Cette demande n&#39;est plus en attente.");
            }
            assert_eq!(
                approvals::approval(&store, late.id)
                    .await
                    .unwrap()
                    .unwrap()
                    .status,
                ApprovalStatus::Expired
            );
            assert_eq!(balance(&store, &alpha).await, 0);

            // The one still in time is approved and paid (160,00 and the 1 % contribution).
            let page = owner
                .post(&format!("/approvals/{}/approve", in_time.id), &[])
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            assert_eq!(balance(&store, &alpha).await, -16_160);
            assert_eq!(
                web::trade::waiting(&store, alpha.id)
                    .await
                    .unwrap()
                    .approvals,
                web::http::approvals::APPROVALS_PAGE_SIZE
            );
        }
    }
);

story!(
    the_running_server_expires_overdue_approvals_by_itself,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let Capped {
                store,
                alpha,
                beta,
                mut staff,
                ..
            } = capped_staff(&url).await;
            let (late, in_time, _) = one_late_one_in_time(&store, &alpha, &beta, &mut staff).await;
            let status = |id| {
                let store = store.clone();
                async move {
                    approvals::approval(&store, id)
                        .await
                        .unwrap()
                        .unwrap()
                        .status
                }
            };
            assert_eq!(status(late.id).await, ApprovalStatus::Pending);

            // The server as `troc serve` runs it, with its housekeeping loop, which sweeps
            // at once and then every `SWEEP_INTERVAL`; nobody opens a page.
            let (_, state) = client::state(&url).await;
            let listener = web::http::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
            let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(web::http::serve_until(state, listener, async move {
                let _ = stop_requested.await;
            }));
            let mut rounds = 0;
            while status(late.id).await == ApprovalStatus::Pending {
                rounds += 1;
                assert!(
                    rounds <= 200,
                    "the housekeeping loop did not sweep within 10 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert_eq!(status(late.id).await, ApprovalStatus::Expired);
            assert_eq!(status(in_time.id).await, ApprovalStatus::Pending);

            // Asked to stop, the server and its loop end, cleanly.
            stop.send(()).unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(30), server)
                .await
                .expect("the server stops within its grace period")
                .unwrap()
                .unwrap();
        }
    }
);
