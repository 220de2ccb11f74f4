//! The network's announcements: a manager publishes and withdraws them on `/news`, the
//! members read them there and on their dashboards; and the same over the API.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use tests::story;
use web::news;
use web::tokens::Scope;

use crate::web_front::client::Client;
use crate::web_front::PASSWORD;

/// Posts the publishing form of `/news` as `client`.
async fn publish(
    client: &mut Client,
    title: &str,
    message: &str,
    until: &str,
) -> crate::web_front::client::Page {
    client
        .post(
            "/news",
            &[
                ("title", title),
                ("message", message),
                ("shown_until", until),
            ],
        )
        .await
}

story!(the_network_s_announcements, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, state, _alpha, _beta) = crate::web_front::two_members(&url).await;
        crate::api::staff(&store).await;
        let today = Utc::now().date_naive();
        let day = |days: i64| (today + Duration::days(days)).to_string();
        let mut manager = Client::new(state.clone());
        manager.login("gestion@troc.fr", PASSWORD).await;
        let mut member = manager.sibling();
        member.login("owner@alpha.fr", PASSWORD).await;

        // Nothing yet; only a manager gets the form.
        let page = manager.get("/news").await;
        page.assert_contains("Aucune annonce.");
        page.assert_contains("id=\"news-publish\"");
        manager
            .get("/admin")
            .await
            .assert_contains("href=\"/news\"");
        let page = member.get("/news").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("id=\"news-publish\""));
        assert!(!member.get("/dashboard").await.body.contains("id=\"news\""));
        let page = publish(&mut member, "Soirée", "Jeudi", &day(3)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);

        // Refused, each field named, what was typed kept, nothing published: the limits one
        // past, a day before today or past a year, a date that is none.
        let long_title = "t".repeat(news::TITLE_LEN_MAX + 1);
        let long_message = "m".repeat(news::MESSAGE_LEN_MAX + 1);
        let past_a_year = day(news::SHOWN_DAYS_MAX + 1);
        for (title, message, until, says) in [
            ("", "Jeudi", day(3), "Titre"),
            (long_title.as_str(), "Jeudi", day(3), "Titre"),
            ("Soirée", "", day(3), "Message"),
            ("Soirée", long_message.as_str(), day(3), "Message"),
            ("Soirée", "Jeudi", day(-1), "Affichée jusqu&#39;au"),
            ("Soirée", "Jeudi", past_a_year, "Affichée jusqu&#39;au"),
            (
                "Soirée",
                "Jeudi",
                "2026-13-01".to_owned(),
                "Affichée jusqu&#39;au",
            ),
        ] {
            let page = publish(&mut manager, title, message, &until).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
            page.assert_contains(says);
            assert!(news::listed(&store).await.unwrap().is_empty());
        }
        let page = publish(&mut manager, "Soirée <b>", "Jeudi", "x").await;
        page.assert_contains("value=\"Soirée &#60;b&#62;\"");

        // At the limits: a title of 120, a text of 4 000, shown a year ahead. The dashboard
        // shows its first 280 characters and a link to the rest; the markup is text.
        let title = format!("<script>{}", "t".repeat(news::TITLE_LEN_MAX - 8));
        let message = format!("Ligne 1\n{}", "m".repeat(news::MESSAGE_LEN_MAX - 8));
        let page = publish(&mut manager, &title, &message, &day(news::SHOWN_DAYS_MAX)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let first = news::listed(&store).await.unwrap()[0].clone();
        assert_eq!(first.title, title);
        assert_eq!(first.message, message);
        assert_eq!(
            page.location.as_deref(),
            Some(format!("/news#news-{}", first.id).as_str())
        );
        let dashboard = member.get("/dashboard").await;
        dashboard.assert_contains("id=\"news\"");
        dashboard.assert_contains("&#60;script&#62;ttt");
        assert!(!dashboard.body.contains("<script>t"));
        let excerpt: String = message.chars().take(280).collect();
        dashboard.assert_contains(&format!("{excerpt}…"));
        assert!(!dashboard.body.contains(&message));
        dashboard.assert_contains(&format!("href=\"/news#news-{}\">Lire la suite", first.id));
        member.get("/news").await.assert_contains(&message);

        // A short one, shown today only; the newest comes first.
        let page = publish(&mut manager, "Fermeture", "Le 24.", &day(0)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let dashboard = member.get("/dashboard").await;
        let at_short = dashboard.body.find("Fermeture").unwrap();
        let at_long = dashboard.body.find("&#60;script&#62;").unwrap();
        assert!(at_short < at_long);

        // Ten shown at most: the eleventh waits.
        for n in 3..=news::CURRENT_MAX {
            let page = publish(&mut manager, &format!("Annonce {n}"), "Texte", &day(5)).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{n}");
        }
        let page = publish(&mut manager, "Une de trop", "Texte", &day(5)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("nombre maximal d&#39;annonces");
        page.assert_contains("value=\"Une de trop\"");
        assert_eq!(
            news::listed(&store).await.unwrap().len() as i64,
            news::CURRENT_MAX
        );

        // Withdrawn with a reason by a manager only; then off the dashboards, on `/news`
        // with the reason, and not withdrawn twice.
        let path = format!("/news/{}/withdraw", first.id);
        assert_eq!(
            member.post(&path, &[("reason", "x")]).await.status,
            StatusCode::FORBIDDEN
        );
        let page = manager.post(&path, &[("reason", "")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("Motif");
        let page = manager.post(&path, &[("reason", "Erreur de date")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(!member
            .get("/dashboard")
            .await
            .body
            .contains("&#60;script&#62;"));
        let page = member.get("/news").await;
        page.assert_contains("Erreur de date");
        page.assert_contains("Retirée");
        let page = manager.post(&path, &[("reason", "Encore")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        page.assert_contains("déjà été retirée");
        assert_eq!(
            manager
                .post("/news/999999/withdraw", &[("reason", "x")])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // With one withdrawn, there is room for one more.
        let page = publish(&mut manager, "Une de plus", "Texte", &day(5)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let log = manager.get("/admin/log").await;
        log.assert_contains("announcement.publish");
        log.assert_contains("announcement.withdraw");

        // An ended one leaves the dashboards and stays on `/news`.
        web::dispatch!(store.backend(), pool => {
            sqlx::query("UPDATE announcements SET ends_on = $1 WHERE title = 'Fermeture'")
                .bind(day(-1)).execute(pool).await.unwrap();
        });
        assert!(!member.get("/dashboard").await.body.contains("Fermeture"));
        member.get("/news").await.assert_contains("Fermeture");
    }
});

story!(announcements_through_the_api, |db: &tests::TestDb| {
    let url = db.url().to_owned();
    async move {
        let (store, api, _alpha, _beta) = crate::api::setup(&url).await;
        let manage = crate::api::token(&store, "gestion@troc.fr", Scope::Manage).await;
        let accountant = crate::api::token(&store, "compta@troc.fr", Scope::Manage).await;
        let member = crate::api::token(&store, "owner@alpha.fr", Scope::Read).await;
        let pay = crate::api::token(&store, "owner@alpha.fr", Scope::Pay).await;
        let today = Utc::now().date_naive();
        let day = |days: i64| (today + Duration::days(days)).to_string();
        const PATH: &str = "/api/v1/announcements";

        let list = api.get(PATH, &member).await.ok(StatusCode::OK);
        assert_eq!(list["items"], json!([]));
        let body = |title: &str, message: &str, until: &str| json!({"title": title, "message": message, "shown_until": until});
        for token in [&accountant, &pay] {
            api.post(PATH, token, body("Soirée", "Jeudi", &day(3)))
                .await
                .problem(StatusCode::FORBIDDEN, "forbidden");
        }
        // Each bad field named, nothing published.
        let long = "t".repeat(news::TITLE_LEN_MAX + 1);
        for (bad, field, code) in [
            (body("", "Jeudi", &day(3)), "title", "required"),
            (body(&long, "Jeudi", &day(3)), "title", "too_long"),
            (body("Soirée", " ", &day(3)), "message", "required"),
            (
                body("Soirée", "Jeudi", &day(-1)),
                "shown_until",
                "invalid_date",
            ),
        ] {
            let problem = api
                .post(PATH, &manage, bad)
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            assert_eq!(problem["errors"][0]["code"], code, "{problem}");
        }
        assert!(news::listed(&store).await.unwrap().is_empty());

        // Published once per key; read by every token.
        let sent = body("Soirée des membres", "Jeudi à 19 h", &day(3));
        let done = api
            .post_key(PATH, &manage, "news-1", sent.clone())
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(done["title"], "Soirée des membres");
        assert_eq!(done["shown_until"], day(3));
        assert_eq!(done["current"], true);
        assert_eq!(done["author"], "gestion@troc.fr");
        assert!(done["withdrawn_at"].is_null());
        let again = api
            .post_key(PATH, &manage, "news-1", sent)
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(again["id"], done["id"]);
        let list = api.get(PATH, &member).await.ok(StatusCode::OK);
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(
            crate::api::logged(&api, &accountant, "announcement.publish").await,
            1
        );

        // Withdrawn by a manager, with a reason, once.
        let id = done["id"].as_i64().unwrap();
        let withdraw = format!("{PATH}/{id}/withdraw");
        api.post(&withdraw, &pay, json!({"reason": "x"}))
            .await
            .problem(StatusCode::FORBIDDEN, "forbidden");
        let problem = api
            .post(&withdraw, &manage, json!({"reason": ""}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "reason");
        let done = api
            .post(&withdraw, &manage, json!({"reason": "Annulée"}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(done["current"], false);
        assert_eq!(done["withdrawn_reason"], "Annulée");
        assert!(done["withdrawn_at"].is_string());
        api.post(&withdraw, &manage, json!({"reason": "Encore"}))
            .await
            .problem(StatusCode::CONFLICT, "already_withdrawn");
        api.post(
            &format!("{PATH}/999999/withdraw"),
            &manage,
            json!({"reason": "x"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            crate::api::logged(&api, &accountant, "announcement.withdraw").await,
            1
        );
        store.close().await;
    }
});
