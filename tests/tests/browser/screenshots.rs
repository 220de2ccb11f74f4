//! The failure mechanism itself: a story whose step fails, or whose assertion panics, still
//! fails, and leaves a PNG screenshot and the page source of where it was.

use std::time::Duration;

use anyhow::bail;

use super::{screenshot_dir, Browser, Site};

/// Runs a failing story called `name` and checks what it left; removes the files after.
async fn check_failure_leaves_a_screenshot<F, Fut>(name: &str, site: &Site, body: F, cause: &str)
where
    F: FnOnce(super::Page) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let Some(browser) = Browser::start().await else {
        return;
    };
    let png = screenshot_dir().join(format!("{name}.png"));
    let html = screenshot_dir().join(format!("{name}.html"));
    let _ = std::fs::remove_file(&png);
    let _ = std::fs::remove_file(&html);

    let failure = browser
        .try_story(name, site, body)
        .await
        .expect_err("a story whose step fails must fail");
    assert!(failure.contains(cause), "the failure says why: {failure}");
    assert!(
        failure.contains(&png.display().to_string()),
        "the failure says where the screenshot is: {failure}"
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1_000,
        "a PNG image ({} bytes)",
        bytes.len()
    );
    let source = std::fs::read_to_string(&html).expect("the page source was written");
    assert!(
        source.contains("action=\"/login\""),
        "the source of the page the story was on"
    );
    std::fs::remove_file(&png).unwrap();
    std::fs::remove_file(&html).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_story_leaves_a_screenshot() {
    let db = tests::TestDb::sqlite().await;
    let (store, state) = crate::web_front::client::state(db.url()).await;
    crate::web_front::network(&store).await;
    let site = Site::serve(state).await;

    // A step that cannot find its element (an error).
    check_failure_leaves_a_screenshot(
        "selftest-missing-element",
        &site,
        |mut page| async move {
            page.timeout = Duration::from_secs(1);
            page.goto("/login").await?;
            page.fill("#email", "nobody@troc.test").await?;
            page.click("#no-such-button").await?;
            bail!("unreachable: the click must fail")
        },
        "#no-such-button",
    )
    .await;

    // An assertion that panics.
    check_failure_leaves_a_screenshot(
        "selftest-panic",
        &site,
        |page| async move {
            page.goto("/login").await?;
            let title = page.text("h1").await?;
            assert_eq!(title, "Not the login page", "deliberate");
            Ok(())
        },
        "deliberate",
    )
    .await;
    store.close().await;
    db.cleanup().await;
}
