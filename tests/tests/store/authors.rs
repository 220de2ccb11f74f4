//! Who entered each operation (`transaction_authors`), written with many operations in one
//! batch: each accepted transaction gets its own author row, a rejected or unauthored one
//! gets none (the PostgreSQL writer sends every row in one statement, SQLite in multi-row
//! statements).

use ledger::{Amount, Operation, Outcome};
use tests::story;
use web::store::{Author, Submission};

use super::key;
use crate::web_front::two_members;

story!(
    a_batch_of_authored_payments_names_each_author_once,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, _state, alpha, beta) = two_members(&url).await;
            let pay = |n: i64, units: i64| Operation::Payment {
                payer: alpha.account(),
                payee: beta.account(),
                amount: Amount::from_units(units),
                reference: format!("R-{n}"),
                memo: String::new(),
            };
            let who = |n: i64| {
                if n % 2 == 0 {
                    "a@alpha.fr"
                } else {
                    "b@alpha.fr"
                }
            };
            // 40 payments entered by two people in turn, one unauthored, one over the credit
            // limit: one call, so one or a few batches.
            let mut submissions: Vec<Submission> = (0..40)
                .map(|n| {
                    Submission::new(key(&format!("authored-{n}")), pay(n, 1))
                        .authored(Some(Author::new(alpha.id, who(n))))
                })
                .collect();
            submissions.push(Submission::new(key("nobody"), pay(40, 1)));
            submissions.push(
                Submission::new(key("too-much"), pay(41, 1_000_000))
                    .authored(Some(Author::new(alpha.id, "a@alpha.fr"))),
            );
            let answers = store.submit_batch(submissions).await.unwrap();
            let mut expected = Vec::new();
            for (n, answer) in answers.into_iter().enumerate() {
                match answer.unwrap() {
                    Ok(Outcome::Posted { tx, .. }) if n < 40 => {
                        expected.push((tx.0 as i64, who(n as i64).to_owned()))
                    }
                    Ok(Outcome::Posted { .. }) => assert_eq!(n, 40, "only the unauthored one"),
                    Err(rejection) => assert_eq!(n, 41, "{rejection:?}"),
                    other => panic!("{n}: {other:?}"),
                }
            }
            assert_eq!(expected.len(), 40);
            let mut written: Vec<(i64, String)> = web::dispatch!(store.backend(), pool => {
                sqlx::query_as(
                    "SELECT tx_id, author FROM transaction_authors WHERE member_id = $1",
                )
                .bind(alpha.id)
                .fetch_all(pool)
                .await
                .unwrap()
            });
            written.sort();
            expected.sort();
            assert_eq!(written, expected);
            store.close().await;
        }
    }
);
