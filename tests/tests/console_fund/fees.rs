//! Fee versioning: a change takes effect at its date and never before; the boundary instant
//! belongs to the new version; a date in the past, or before an already scheduled change, is
//! refused; every change is in the action log; the database refuses to rewrite versions.

use chrono::{DateTime, Duration, Utc};
use ledger::{Amount, FundPayer, Leg, ScheduleError};
use tests::story;
use web::network::fees::{self, FeeChange, VersionStatus};
use web::network::{NetworkError, Reason};
use web::store::{ActionFilter, Effective, Store};

use super::{accountant, company, manager, network, pay, Actor};

/// Whole seconds, an hour from now: what a manager would type.
fn in_an_hour() -> DateTime<Utc> {
    let later = Utc::now() + Duration::hours(1);
    DateTime::from_timestamp(later.timestamp(), 0).unwrap()
}

fn change(commission_bp: u32, min_minor: i64, fund_bp: u32, at: Effective) -> FeeChange {
    let fees = fees::fee_policy(
        commission_bp,
        Amount::from_minor(min_minor),
        fund_bp,
        FundPayer::Seller,
    )
    .unwrap();
    FeeChange::new(
        fees,
        at,
        Reason::parse("Assemblée générale du 12 mars").unwrap(),
    )
}

/// The commission and fund contribution a transaction carried.
async fn fees_of(store: &Store, tx: ledger::TxId) -> (i64, i64) {
    let tx = store.transaction(tx).await.unwrap().unwrap();
    let system = store.system_accounts().await.unwrap();
    let on = |account, leg| -> i64 {
        tx.postings()
            .iter()
            .filter(|p| p.account == account && p.leg == leg)
            .map(|p| p.amount.minor())
            .sum()
    };
    (
        on(system.fees, Leg::Commission),
        on(system.fund, Leg::FundContribution),
    )
}

story!(
    a_fee_change_applies_from_its_effective_instant_and_never_before,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let alpha = company(&store, 1, "alpha", "btp", "Lyon", 10_000).await;
            let beta = company(&store, 2, "beta", "btp", "Lyon", 10_000).await;
            let effective = in_an_hour();
            let record = fees::schedule_change(
                &store,
                &manager(),
                &change(500, 0, 0, Effective::At(effective)),
            )
            .await
            .unwrap();
            assert_eq!(record.version.version, 2);
            assert_eq!(record.version.effective_from, Some(effective));
            assert_eq!(record.actor, "gestion@reseau.fr");
            // The per-transaction maximum is carried over.
            assert_eq!(
                record.version.policy.amount_per_tx_max,
                Amount::from_units(100_000)
            );

            // 100,00 now and one microsecond before the date: 2 % and 1 %, the old rules.
            let now_tx = pay(&store, "now", &alpha, &beta, 10_000, None).await;
            assert_eq!(fees_of(&store, now_tx).await, (200, 100));
            let before = effective - Duration::microseconds(1);
            let before_tx = pay(&store, "before", &alpha, &beta, 10_000, Some(before)).await;
            assert_eq!(fees_of(&store, before_tx).await, (200, 100));
            // At the instant itself and after: 5 %, no contribution.
            let at_tx = pay(&store, "at", &alpha, &beta, 10_000, Some(effective)).await;
            assert_eq!(fees_of(&store, at_tx).await, (500, 0));
            let later = effective + Duration::days(30);
            let later_tx = pay(&store, "later", &alpha, &beta, 10_000, Some(later)).await;
            assert_eq!(fees_of(&store, later_tx).await, (500, 0));
            // An operation dated long ago keeps the founding rules.
            let old = Utc::now() - Duration::days(400);
            let old_tx = pay(&store, "old", &alpha, &beta, 10_000, Some(old)).await;
            assert_eq!(fees_of(&store, old_tx).await, (200, 100));
            // The same batch may hold operations on both sides of the date.
            let answers = store
                .submit_batch(vec![
                    web::store::Submission::new(
                        crate::console_fund::key("batch-before"),
                        payment(&alpha, &beta),
                    )
                    .at(before),
                    web::store::Submission::new(
                        crate::console_fund::key("batch-after"),
                        payment(&alpha, &beta),
                    )
                    .at(effective),
                ])
                .await
                .unwrap();
            let txs: Vec<_> = answers
                .into_iter()
                .map(|a| a.unwrap().unwrap().tx().unwrap())
                .collect();
            assert_eq!(fees_of(&store, txs[0]).await, (200, 100));
            assert_eq!(fees_of(&store, txs[1]).await, (500, 0));

            // The reads agree.
            assert_eq!(store.policy().await.unwrap().fees.commission_bp(), 200);
            assert_eq!(
                store
                    .policy_at(effective)
                    .await
                    .unwrap()
                    .fees
                    .commission_bp(),
                500
            );
            let rules = fees::rules(&store, Utc::now()).await.unwrap();
            assert_eq!(rules.in_force.record.version.version, 1);
            assert_eq!(rules.upcoming.len(), 1);
            assert_eq!(rules.upcoming[0].record.version.version, 2);
            assert_eq!(rules.upcoming[0].status, VersionStatus::Upcoming);
            let after = fees::rules(&store, effective).await.unwrap();
            assert_eq!(after.in_force.record.version.version, 2);
            assert!(after.upcoming.is_empty());

            // The action log has the change, with the rules it replaces and the new ones.
            let filter = ActionFilter {
                action: Some("fees.schedule".into()),
                ..ActionFilter::default()
            };
            let entries = store.actions(&filter, 10).await.unwrap();
            assert_eq!(entries.len(), 1);
            let entry = &entries[0];
            assert_eq!(entry.actor, "gestion@reseau.fr");
            assert_eq!(entry.reason, "Assemblée générale du 12 mars");
            assert_eq!(entry.before["policy"]["fees"]["commission_bp"], 200);
            assert_eq!(entry.before["version"], 1);
            assert_eq!(entry.after["policy"]["fees"]["commission_bp"], 500);
            assert_eq!(entry.after["version"], 2);
            assert_eq!(
                entry.after["effective_from"],
                serde_json::json!(effective.to_rfc3339())
            );
            store
                .check_invariants()
                .await
                .unwrap()
                .expect("invariants hold");
            store.close().await;
        }
    }
);

fn payment(payer: &web::people::Member, payee: &web::people::Member) -> ledger::Operation {
    ledger::Operation::Payment {
        payer: crate::console_fund::account(payer),
        payee: crate::console_fund::account(payee),
        amount: Amount::from_minor(10_000),
        reference: String::new(),
        memo: "batch".into(),
    }
}

story!(
    past_dates_and_dates_before_a_scheduled_change_are_refused,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let past = Utc::now() - Duration::seconds(1);
            let refused =
                fees::schedule_change(&store, &manager(), &change(300, 0, 0, Effective::At(past)))
                    .await;
            assert!(
                matches!(
                    refused,
                    Err(NetworkError::Schedule(
                        ScheduleError::EffectiveInPast { .. }
                    ))
                ),
                "{refused:?}"
            );
            let in_two_hours = in_an_hour() + Duration::hours(1);
            fees::schedule_change(
                &store,
                &manager(),
                &change(300, 0, 0, Effective::At(in_two_hours)),
            )
            .await
            .unwrap();
            let earlier = fees::schedule_change(
                &store,
                &manager(),
                &change(400, 0, 0, Effective::At(in_an_hour())),
            )
            .await;
            assert!(
                matches!(
                    earlier,
                    Err(NetworkError::Schedule(
                        ScheduleError::BeforeScheduledChange { .. }
                    ))
                ),
                "{earlier:?}"
            );
            // Scheduling again at the same date supersedes the announced change: here the
            // manager cancels it by announcing the current rules again.
            fees::schedule_change(
                &store,
                &manager(),
                &change(200, 50, 100, Effective::At(in_two_hours)),
            )
            .await
            .unwrap();
            let history = fees::history(&store, &accountant(), Utc::now())
                .await
                .unwrap();
            let statuses: Vec<(u64, VersionStatus)> = history
                .iter()
                .map(|v| (v.record.version.version, v.status))
                .collect();
            assert_eq!(
                statuses,
                [
                    (3, VersionStatus::Upcoming),
                    (2, VersionStatus::Superseded),
                    (1, VersionStatus::InForce)
                ]
            );
            let rules = fees::rules(&store, Utc::now()).await.unwrap();
            assert_eq!(rules.upcoming.len(), 1);
            assert_eq!(rules.upcoming[0].record.version.version, 3);
            // Two refusals wrote nothing: two versions made, two log entries.
            let entries = store.actions(&ActionFilter::default(), 10).await.unwrap();
            assert_eq!(entries.len(), 2);

            // Only managers change fees; accountants read; members do neither.
            let by_accountant = fees::schedule_change(
                &store,
                &accountant(),
                &change(100, 0, 0, Effective::At(in_two_hours)),
            )
            .await;
            assert!(matches!(by_accountant, Err(NetworkError::Forbidden)));
            let owner = Actor::new(Some(1), "owner@alpha.fr", web::people::Role::Owner);
            assert!(matches!(
                fees::history(&store, &owner, Utc::now()).await,
                Err(NetworkError::Forbidden)
            ));
            store.close().await;
        }
    }
);

story!(
    a_change_effective_now_applies_to_the_next_operation,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let alpha = company(&store, 1, "alpha", "btp", "Lyon", 10_000).await;
            let beta = company(&store, 2, "beta", "btp", "Lyon", 10_000).await;
            let first = pay(&store, "first", &alpha, &beta, 10_000, None).await;
            fees::schedule_change(&store, &manager(), &change(100, 0, 0, Effective::Now))
                .await
                .unwrap();
            let second = pay(&store, "second", &alpha, &beta, 10_000, None).await;
            assert_eq!(fees_of(&store, first).await, (200, 100));
            assert_eq!(fees_of(&store, second).await, (100, 0));
            // Fees already charged are never recomputed.
            assert_eq!(fees_of(&store, first).await, (200, 100));
            store.close().await;
        }
    }
);

story!(
    the_database_refuses_to_rewrite_policy_versions,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let store = Store::connect(&url).await.unwrap();
            network(&store).await;
            let later = in_an_hour();
            fees::schedule_change(&store, &manager(), &change(300, 0, 0, Effective::At(later)))
                .await
                .unwrap();
            let update = web::dispatch!(store.backend(), pool => {
                sqlx::query("UPDATE policies SET effective_from = NULL WHERE version = 2")
                    .execute(pool).await.map(|_| ())
            });
            assert!(update.is_err(), "an UPDATE of policies is refused");
            let delete = web::dispatch!(store.backend(), pool => {
                sqlx::query("DELETE FROM policies WHERE version = 2")
                    .execute(pool).await.map(|_| ())
            });
            assert!(delete.is_err(), "a DELETE of policies is refused");
            // A version taking effect before the scheduled one is refused by the database
            // too, even when the application is bypassed.
            let earlier = later - Duration::minutes(1);
            let insert = web::dispatch!(store.backend(), pool => {
                sqlx::query("INSERT INTO policies (policy, created_at, effective_from) \
                             SELECT policy, created_at, $1 FROM policies WHERE version = 1")
                    .bind(earlier)
                    .execute(pool).await.map(|_| ())
            });
            assert!(insert.is_err(), "an out-of-order version is refused");
            assert_eq!(store.policy_records().await.unwrap().len(), 2);
            store.close().await;
        }
    }
);
