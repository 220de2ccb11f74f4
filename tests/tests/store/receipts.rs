//! API receipts (`Submission::receipted`): the answer of a keyed API write is stored in
//! `api_idempotency` by the batch that decides the operation, in the same database
//! transaction, accepted or rejected; a receipt whose key is already stored (a concurrent
//! request won) is skipped without failing the batch, and within a batch the first receipt
//! of a (user, key) wins.

use ledger::{Account, AccountId, Outcome, Rejection};
use tests::story;
use web::people::{self, Role};
use web::store::{AllOrNone, ApiReceipt, Store, Submission};
use web::tokens::{self, Remembered};

use super::{assert_invariants, balance, key, network, payment};

/// A renderer as the API would supply: the decision and the payer's balance right after it.
fn render(decision: &Result<Outcome, Rejection>, payer: Option<&Account>) -> (u16, String) {
    match decision {
        Ok(outcome) => (
            201,
            format!(
                "tx={} balance={}",
                outcome.tx().map(|t| t.0).unwrap_or_default(),
                payer.map(|a| a.balance().minor()).unwrap_or(i64::MIN)
            ),
        ),
        Err(rejection) => (422, rejection.code().to_owned()),
    }
}

async fn user(store: &Store) -> i64 {
    people::create_user(
        store,
        "gestion@example.fr",
        "a long enough password",
        "Gestion",
        Role::Manager,
        None,
    )
    .await
    .unwrap()
    .unwrap()
}

fn receipt(user: i64, idem: &str, hash: &str, payer: AccountId) -> ApiReceipt {
    ApiReceipt::new(user, idem, "/api/v1/payments", hash, payer, render).unwrap()
}

story!(
    a_receipt_is_stored_with_its_operation,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let user = user(&store).await;
            let (_, members) = network(&store, 2, 100).await;
            let (a, b) = (members[0].id(), members[1].id());
            let first = receipt(user, "k-1", "h1", a);
            assert_eq!(
                first.stored_answer(),
                None,
                "nothing stored before the batch"
            );
            let answer = store
                .submit(Submission::new(key("pay-1"), payment(a, b, 10)).receipted(first.clone()))
                .await
                .unwrap();
            let tx = answer.as_ref().unwrap().tx().unwrap().0;
            // Right after `submit` returns: the row is there, rendered with the payer's state
            // right after the payment.
            let stored = tokens::remembered(&store, user, "k-1").await.unwrap();
            let payer_after = balance(&store, a).await;
            assert_eq!(
                stored,
                Some(Remembered {
                    request_hash: "h1".into(),
                    status: 201,
                    response: format!("tx={tx} balance={payer_after}"),
                })
            );
            // The committed batch handed the same answer back to the caller's receipt.
            assert_eq!(
                first.stored_answer(),
                Some((201, format!("tx={tx} balance={payer_after}")))
            );
            // A rejection is an answer too.
            let second = receipt(user, "k-2", "h2", a);
            let refused = store
                .submit(
                    Submission::new(key("pay-2"), payment(a, b, 1_000)).receipted(second.clone()),
                )
                .await
                .unwrap();
            assert!(matches!(refused, Err(Rejection::InsufficientCredit { .. })));
            let stored = tokens::remembered(&store, user, "k-2")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (stored.status, stored.response.as_str()),
                (422, "insufficient_credit")
            );
            assert_eq!(
                second.stored_answer(),
                Some((422, "insufficient_credit".to_owned()))
            );
            // A ledger replay writes no receipt of its own: the first one stands, and the
            // replay's receipt holds no answer (its caller must read the stored one).
            let third = receipt(user, "k-3", "h3", a);
            let again = store
                .submit(Submission::new(key("pay-1"), payment(a, b, 10)).receipted(third.clone()))
                .await
                .unwrap();
            assert_eq!(again, answer);
            assert_eq!(tokens::remembered(&store, user, "k-3").await.unwrap(), None);
            assert_eq!(third.stored_answer(), None);
            assert_eq!(balance(&store, a).await, payer_after);
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);

story!(
    a_duplicate_receipt_never_fails_its_batch,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let user = user(&store).await;
            let (_, members) = network(&store, 2, 1_000).await;
            let (a, b) = (members[0].id(), members[1].id());
            // Another request already stored its answer under "taken".
            let earlier = Remembered {
                request_hash: "earlier".into(),
                status: 201,
                response: "{}".into(),
            };
            tokens::remember(&store, user, "taken", "/api/v1/payments", &earlier)
                .await
                .unwrap();
            let before = balance(&store, a).await;
            // One call: the operations are queued together, so they share a batch (or a few).
            let (late, first, second) = (
                receipt(user, "taken", "late", a),
                receipt(user, "twice", "first", a),
                receipt(user, "twice", "second", a),
            );
            let answers = store
                .submit_batch(vec![
                    Submission::new(key("dup-1"), payment(a, b, 1)).receipted(late.clone()),
                    Submission::new(key("dup-2"), payment(a, b, 2)).receipted(first.clone()),
                    Submission::new(key("dup-3"), payment(a, b, 3)).receipted(second.clone()),
                    Submission::new(key("dup-4"), payment(a, b, 4))
                        .receipted(receipt(user, "fresh", "h4", a)),
                ])
                .await
                .unwrap();
            for answer in &answers {
                assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
            }
            // Every payment committed: 1 + 2 + 3 + 4 units.
            assert_eq!(balance(&store, a).await, before - 1_000);
            // The stored answer stays; within the batch, the first receipt of a key wins.
            assert_eq!(
                tokens::remembered(&store, user, "taken").await.unwrap(),
                Some(earlier.clone())
            );
            let twice = tokens::remembered(&store, user, "twice")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(twice.request_hash, "first");
            // Receipts that were not stored hold no answer; one that was may hold it (not if
            // its batch also met the stored key: which row went in is then unknown), and
            // then it is exactly the stored one.
            assert_eq!(late.stored_answer(), None);
            assert_eq!(second.stored_answer(), None);
            if let Some((status, body)) = first.stored_answer() {
                assert_eq!((status, body), (twice.status, twice.response));
            }
            let fresh = tokens::remembered(&store, user, "fresh")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(fresh.request_hash, "h4");
            // A group is always ONE batch: a stored key and a key twice in it, and it commits.
            let one = receipt(user, "group-key", "one", a);
            let group = store
                .submit_all_or_none(vec![
                    Submission::new(key("group-1"), payment(a, b, 5))
                        .receipted(receipt(user, "taken", "group", a)),
                    Submission::new(key("group-2"), payment(a, b, 6)).receipted(one.clone()),
                    Submission::new(key("group-3"), payment(a, b, 7)).receipted(receipt(
                        user,
                        "group-key",
                        "two",
                        a,
                    )),
                ])
                .await
                .unwrap();
            assert!(matches!(group, AllOrNone::Committed(ref outcomes) if outcomes.len() == 3));
            assert_eq!(balance(&store, a).await, before - 2_800);
            assert_eq!(
                tokens::remembered(&store, user, "taken").await.unwrap(),
                Some(earlier)
            );
            // Its batch met the stored key "taken": no receipt of it holds an answer, even
            // the one that went in (its caller reads it back).
            assert_eq!(one.stored_answer(), None);
            let one = tokens::remembered(&store, user, "group-key")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(one.request_hash, "one");
            // Rendered with the payer's state right after ITS operation, not the batch's end.
            assert!(one
                .response
                .ends_with(&format!("balance={}", before - 1_000 - 500 - 600)));
            // A group rolled back takes its receipts with it: they live in its transaction.
            let refused = store
                .submit_all_or_none(vec![
                    Submission::new(key("undone-1"), payment(a, b, 1))
                        .receipted(receipt(user, "undone-1", "u1", a)),
                    Submission::new(key("undone-2"), payment(a, b, 1_000_000))
                        .receipted(receipt(user, "undone-2", "u2", a)),
                ])
                .await
                .unwrap();
            assert!(matches!(refused, AllOrNone::Refused(_)));
            for idem in ["undone-1", "undone-2"] {
                assert_eq!(tokens::remembered(&store, user, idem).await.unwrap(), None);
            }
            assert_eq!(balance(&store, a).await, before - 2_800);
            assert_invariants(&store).await;
            store.close().await;
        }
    }
);
