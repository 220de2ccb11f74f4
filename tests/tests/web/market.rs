//! Offers and wants: create, edit, close, search; escaping; limits; ownership.

use axum::http::StatusCode;
use tests::story;

use super::client::Client;
use super::{two_members, PASSWORD};

fn listing<'a>(title: &'a str, city: &'a str, category: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "offer"),
        ("title", title),
        ("description", "Description"),
        ("category", category),
        ("price", ""),
        ("vat", "5,5"),
        ("city", city),
        ("active_until", "2099-06-30"),
    ]
}

story!(
    listings_search_escape_and_ownership,
    |db: &tests::TestDb| {
        let url = db.url().to_owned();
        async move {
            let (store, state, _alpha, _beta) = two_members(&url).await;
            let mut alpha = Client::new(state);
            alpha.login("staff@alpha.fr", PASSWORD).await;
            alpha.get("/market/new").await;
            let first_token = alpha.form_token.clone().unwrap();
            let page = alpha
                .post(
                    "/market",
                    &listing(
                        "<script>alert('x')</script> Impression",
                        "Lyon",
                        "imprimerie",
                    ),
                )
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            let path = page.location.clone().unwrap();
            // A double submit of the same form (same token) creates one listing.
            let mut fields = listing(
                "<script>alert('x')</script> Impression",
                "Lyon",
                "imprimerie",
            );
            fields.push(("token", first_token.as_str()));
            let again = alpha.post("/market", &fields).await;
            assert_eq!(again.location.as_deref(), Some(path.as_str()));
            let mut fields = listing("Sans jeton", "Lyon", "imprimerie");
            fields.push(("token", ""));
            assert_eq!(
                alpha.post("/market", &fields).await.status,
                StatusCode::BAD_REQUEST
            );
            alpha.get("/market/new").await;
            assert_eq!(
                alpha
                    .post(
                        "/market",
                        &listing("Nettoyage bureaux 50%", "Paris", "nettoyage")
                    )
                    .await
                    .status,
                StatusCode::SEE_OTHER
            );

            let mut beta = alpha.sibling();
            beta.login("owner@beta.fr", PASSWORD).await;
            // The title stays text everywhere.
            let page = beta.get("/market").await;
            assert!(!page.body.contains("<script>alert"));
            page.assert_contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; Impression");
            page.assert_contains("Sur devis");
            let page = beta.get(&path).await;
            assert!(!page.body.contains("<script>alert"));
            page.assert_contains("5,50 %");
            // Newest first; search by text, category and city (case-insensitive).
            let page = beta.get("/market").await;
            assert!(page.body.find("Nettoyage").unwrap() < page.body.find("Impression").unwrap());
            let page = beta.get("/market?q=impression").await;
            assert!(page.body.contains("Impression") && !page.body.contains("Nettoyage bureaux"));
            let page = beta.get("/market?q=50%25").await;
            assert!(!page.body.contains("Impression") && page.body.contains("Nettoyage bureaux"));
            let page = beta.get("/market?category=nettoyage&city=paris").await;
            assert!(!page.body.contains("Impression") && page.body.contains("Nettoyage bureaux"));
            assert_eq!(
                beta.get("/market?category=bogus").await.status,
                StatusCode::BAD_REQUEST
            );
            let long = "q".repeat(web::market::SEARCH_TEXT_LEN_MAX + 1);
            assert_eq!(
                beta.get(&format!("/market?q={long}")).await.status,
                StatusCode::BAD_REQUEST
            );
            let at_max = "q".repeat(web::market::SEARCH_TEXT_LEN_MAX);
            assert_eq!(
                beta.get(&format!("/market?q={at_max}")).await.status,
                StatusCode::OK
            );

            // Another member can neither edit nor close it.
            assert_eq!(
                beta.get(&format!("{path}/edit")).await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                beta.post(&path, &listing("pirate", "Lyon", "imprimerie"))
                    .await
                    .status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(
                beta.post(&format!("{path}/close"), &[]).await.status,
                StatusCode::NOT_FOUND
            );
            // The owner edits (title at its maximum; one more is refused) and closes it.
            let title_max = "T".repeat(web::market::TITLE_LEN_MAX);
            assert_eq!(
                alpha
                    .post(&path, &listing(&title_max, "Lyon", "imprimerie"))
                    .await
                    .status,
                StatusCode::SEE_OTHER
            );
            let title_long = "T".repeat(web::market::TITLE_LEN_MAX + 1);
            let page = alpha
                .post(&path, &listing(&title_long, "Lyon", "imprimerie"))
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("120 caractères au plus.");
            alpha.get("/market/new").await;
            let page = alpha
                .post(
                    "/market",
                    &[
                        ("kind", "offer"),
                        ("title", ""),
                        ("category", "x"),
                        ("price", "abc"),
                        ("active_until", "2001-01-01"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            page.assert_contains("Ce champ est obligatoire.");
            page.assert_contains("La date doit être dans le futur.");
            assert_eq!(
                alpha.post(&format!("{path}/close"), &[]).await.status,
                StatusCode::SEE_OTHER
            );
            assert_eq!(beta.get(&path).await.status, StatusCode::NOT_FOUND);
            // A closed offer cannot be ordered.
            let token = "ab".repeat(32);
            let page = beta
                .post(&format!("{path}/order"), &[("token", token.as_str())])
                .await;
            assert_eq!(page.status, StatusCode::NOT_FOUND);
            assert_eq!(alpha.get(&path).await.status, StatusCode::OK);
            alpha.get("/market/mine").await.assert_contains("Clôturée");
            assert!(!beta.get("/market").await.body.contains(&title_max));
            store.close().await;
        }
    }
);

story!(search_pages_are_limited, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, alpha, _beta) = two_members(&url).await;
        let total = web::market::SEARCH_PAGE_SIZE + 1;
        for n in 0..total {
            let content = web::market::ListingContent {
                kind: web::market::Kind::Want,
                title: format!("Besoin {n:03}"),
                description: String::new(),
                category: "transport".into(),
                price_minor: Some(1_000),
                vat_bp: 2_000,
                city: "Nantes".into(),
                active_until: "2099-01-01".into(),
            };
            web::market::create(&store, alpha.id, &content, None)
                .await
                .unwrap();
        }
        let mut browser = Client::new(state);
        browser.login("owner@beta.fr", PASSWORD).await;
        let page = browser.get("/market").await;
        assert_eq!(
            page.body.matches("class=\"listing\"").count() as i64,
            web::market::SEARCH_PAGE_SIZE
        );
        assert!(!page.body.contains("Besoin 000"));
        let start = page.body.find("href=\"/market?q=").unwrap() + 6;
        let href =
            page.body[start..][..page.body[start..].find('"').unwrap()].replace("&#38;", "&");
        let page = browser.get(&href).await;
        assert_eq!(page.body.matches("class=\"listing\"").count(), 1);
        page.assert_contains("Besoin 000");
        store.close().await;
    }
});
