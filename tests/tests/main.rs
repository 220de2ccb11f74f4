//! The integration suite: one test binary, each story on both backends.

use tests::story;

story!(store_connects_and_migrates, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let store = web::store::Store::connect(&url).await.unwrap();
        // Migrating again is a no-op.
        store.migrate().await.unwrap();
        let rows: i64 = web::dispatch!(store.backend(), pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM network").fetch_one(pool).await.unwrap()
        });
        assert_eq!(rows, 0);
        store.close().await;
    }
});

mod api;
mod audit;
mod browser;
mod console;
mod console_fund;
mod exports;
mod ops;
mod store;

// The web front's stories live in `web/`; the module has another name so that `web::`
// keeps meaning the crate.
#[path = "web/mod.rs"]
mod web_front;
