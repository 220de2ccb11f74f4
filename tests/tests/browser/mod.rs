//! Acceptance stories in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, with fantoccini) against the real app served on 127.0.0.1, each on a fresh
//! SQLite database. A story that fails (an error or a panic) leaves a screenshot and the page
//! source in `target/browser-screenshots/<story>.png` and `.html`, then fails.
//!
//! Chromium and chromedriver are Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them). When they are missing the stories fail if `CI` is set and are skipped, loudly,
//! elsewhere (`tests::external_tool`, as for the export tests' checkers).

mod screenshots;
mod stories;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::json;
use web::http::AppState;

/// How long a step waits for an element, a page or a download before it fails.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long chromedriver may take to listen.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// Where failing stories leave their screenshot and page source: `target/browser-screenshots`
/// (or under `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // The workspace's `target/`, beside `tests/`.
            let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
            tests.parent().unwrap_or(tests).join("target")
        });
    target.join("browser-screenshots")
}

/// The real app on a free port of 127.0.0.1, stopped when dropped. This is `troc serve`'s
/// server (`web::http::bind`, the app with the peer address as connection info) without
/// `serve_on`'s Ctrl-C and SIGTERM handlers, which in a test binary would take those signals
/// from the whole process.
pub struct Site {
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Site {
    pub async fn serve(state: AppState) -> Site {
        let listener = web::http::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let app = web::http::app(state).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serve");
        });
        Site {
            base: format!("http://{addr}"),
            server,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A headless Chromium session: chromedriver (a child process, killed when dropped), the
/// WebDriver client, a fresh profile directory and a download directory.
pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A free TCP port on 127.0.0.1 (for chromedriver, which takes a port number).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium. `None` when they are not installed and
    /// `CI` is not set (a message says the story is skipped); with `CI` set, a missing
    /// browser fails the test.
    pub async fn start() -> Option<Browser> {
        let chromium = tests::external_tool("chromium")?;
        let chromedriver = tests::external_tool("chromedriver")?;
        // The free port may be taken between the check and chromedriver's bind: try again.
        let mut tries = 0;
        loop {
            tries += 1;
            match Browser::launch(&chromium, &chromedriver).await {
                Ok(browser) => return Some(browser),
                Err(error) if tries < 3 => eprintln!("starting the browser again: {error:#}"),
                Err(error) => panic!("start headless Chromium through chromedriver: {error:#}"),
            }
        }
    }

    async fn launch(chromium: &Path, chromedriver: &Path) -> Result<Browser> {
        let port = free_port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawn chromedriver")?;
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = driver.try_wait()? {
                bail!("chromedriver exited before listening: {status}");
            }
            if started.elapsed() > DRIVER_START_TIMEOUT {
                let _ = driver.kill();
                let _ = driver.wait();
                bail!("chromedriver is not listening on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir()?;
        let downloads = tempfile::tempdir()?;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    // No connection leaves the machine: the network is closed, and Chromium's
                    // own background connections would fail or stall.
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-proxy-server",
                    "--window-size=1280,1024",
                    // The site is in French by default; Accept-Language says so.
                    "--lang=fr-FR",
                    "--accept-lang=fr-FR,fr",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "intl.accept_languages": "fr-FR,fr",
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                let _ = driver.kill();
                let _ = driver.wait();
                bail!("chromedriver could not start Chromium: {error}");
            }
        };
        Ok(Browser {
            client,
            driver,
            _profile: profile,
            downloads,
        })
    }

    /// Runs one story on `site`; on failure, leaves the screenshot and the page source
    /// (`target/browser-screenshots/<name>.png`, `.html`) and panics with the cause.
    pub async fn story<F, Fut>(self, name: &str, site: &Site, body: F)
    where
        F: FnOnce(Page) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        if let Err(failure) = self.try_story(name, site, body).await {
            panic!("{failure}");
        }
    }

    /// Like `story`, returning the failure (with where its screenshot went) instead of
    /// panicking. The browser is closed either way.
    pub async fn try_story<F, Fut>(self, name: &str, site: &Site, body: F) -> Result<(), String>
    where
        F: FnOnce(Page) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let page = Page {
            client: self.client.clone(),
            base: site.base().to_owned(),
            downloads: self.downloads.path().to_owned(),
            timeout: STEP_TIMEOUT,
        };
        let started = Instant::now();
        let outcome = AssertUnwindSafe(body(page)).catch_unwind().await;
        let cause = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(format!("{error:#}")),
            Err(panic) => Some(panic_message(panic.as_ref())),
        };
        let result = match cause {
            None => {
                eprintln!(
                    "browser story {name}: passed in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Some(cause) => {
                let saved = self.save_failure(name).await;
                Err(format!("browser story {name} failed: {cause}\n{saved}"))
            }
        };
        let _ = self.client.clone().close().await;
        result
    }

    /// Writes the screenshot and the page source of the current page; says where (or why
    /// not).
    async fn save_failure(&self, name: &str) -> String {
        let dir = screenshot_dir();
        let mut report = Vec::new();
        if let Err(error) = std::fs::create_dir_all(&dir) {
            return format!("could not create {}: {error}", dir.display());
        }
        if let Ok(url) = self.client.current_url().await {
            report.push(format!("page: {url}"));
        }
        let png = dir.join(format!("{name}.png"));
        match self.client.screenshot().await {
            Ok(bytes) => match std::fs::write(&png, bytes) {
                Ok(()) => report.push(format!("screenshot: {}", png.display())),
                Err(error) => report.push(format!("could not write {}: {error}", png.display())),
            },
            Err(error) => report.push(format!("no screenshot: {error}")),
        }
        let html = dir.join(format!("{name}.html"));
        match self.client.source().await {
            Ok(source) => match std::fs::write(&html, source) {
                Ok(()) => report.push(format!("page source: {}", html.display())),
                Err(error) => report.push(format!("could not write {}: {error}", html.display())),
            },
            Err(error) => report.push(format!("no page source: {error}")),
        }
        let report = report.join("\n");
        eprintln!("browser story {name} failed; {report}");
        report
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        format!("panicked: {text}")
    } else if let Some(text) = panic.downcast_ref::<String>() {
        format!("panicked: {text}")
    } else {
        "panicked".to_owned()
    }
}

/// What a story holds: the browser, the site's address, the download directory. Each step
/// waits up to `timeout` for what it needs.
#[derive(Clone)]
pub struct Page {
    pub client: Client,
    base: String,
    downloads: PathBuf,
    pub timeout: Duration,
}

impl Page {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) -> Result<()> {
        self.client
            .goto(&self.url(path))
            .await
            .with_context(|| format!("open {path}"))
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(self.timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element {css:?} on the page"))
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        self.on_element(css, "type into", |field| async move {
            field.clear().await?;
            field.send_keys(text).await
        })
        .await
    }

    /// Picks the option whose value is `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) -> Result<()> {
        self.on_element(css, "choose an option in", |element| async move {
            element.select_by_value(value).await
        })
        .await
    }

    /// Runs `step` on the element `css`, finding it again when the page was replaced between
    /// finding it and using it (a "stale element": after a form posts or a redirect, the
    /// old page may still be there when the element is found). Other errors end at once.
    async fn on_element<T, F, Fut>(&self, css: &str, what: &str, step: F) -> Result<T>
    where
        F: Fn(Element) -> Fut,
        Fut: Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let started = Instant::now();
        loop {
            let element = self.find(css).await?;
            match step(element).await {
                Ok(value) => return Ok(value),
                Err(error) if is_stale(&error) && started.elapsed() < self.timeout => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(error).with_context(|| format!("{what} {css}")),
            }
        }
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.on_element(css, "click", |element| async move { element.click().await })
            .await
    }

    /// The text of the element `css`, as displayed.
    pub async fn text(&self, css: &str) -> Result<String> {
        let text = self
            .on_element(css, "read the text of", |element| async move {
                element.text().await
            })
            .await?;
        Ok(text.trim().to_owned())
    }

    /// The attribute `name` of the element `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        self.on_element(css, "read an attribute of", |element| async move {
            element.attr(name).await
        })
        .await
    }

    /// Waits until the element `css` shows exactly `expected` (after a form posts, the next
    /// page may still be loading).
    pub async fn wait_text(&self, css: &str, expected: &str) -> Result<()> {
        let started = Instant::now();
        let mut seen = String::new();
        while started.elapsed() < self.timeout {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    seen = text.trim().to_owned();
                    if seen == expected {
                        return Ok(());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{css} shows {seen:?}, expected {expected:?}")
    }

    /// The current page's path.
    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Waits until the browser is on a page whose path `matches`.
    pub async fn wait_path(&self, what: &str, matches: impl Fn(&str) -> bool) -> Result<String> {
        let started = Instant::now();
        loop {
            let path = self.path().await?;
            if matches(&path) {
                return Ok(path);
            }
            if started.elapsed() > self.timeout {
                bail!("still on {path}, expected {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The whole page's visible text.
    pub async fn body_text(&self) -> Result<String> {
        self.text("body").await
    }

    /// Fails unless the page shows `text`.
    pub async fn expect_text(&self, text: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            // The body may belong to a page being replaced: read it again then.
            let body = match self.body_text().await {
                Ok(body) => body,
                Err(_) if started.elapsed() < self.timeout => String::new(),
                Err(error) => return Err(error),
            };
            if body.contains(text) {
                return Ok(());
            }
            if started.elapsed() > self.timeout {
                bail!("the page does not show {text:?}:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Logs in through the login form and waits to leave it.
    pub async fn login(&self, email: &str, password: &str) -> Result<()> {
        self.goto("/login").await?;
        self.fill("#email", email).await?;
        self.fill("#password", password).await?;
        self.click("form[action='/login'] button[type=submit]")
            .await?;
        self.wait_path("a page after the login", |p| p != "/login")
            .await
            .with_context(|| format!("log in as {email}"))?;
        Ok(())
    }

    /// Logs out with the layout's button (which leads to the login page).
    pub async fn logout(&self) -> Result<()> {
        self.click("form[action='/logout'] button").await?;
        self.wait_path("the login page", |p| p == "/login").await?;
        Ok(())
    }

    /// Sets a date field (`<input type=date>`, by id) to `YYYY-MM-DD`. Typing into a date
    /// field follows the browser's locale (the order of day, month and year), so the value is
    /// set the way the date picker sets it.
    pub async fn set_date(&self, id: &str, date: &str) -> Result<()> {
        self.find(&format!("#{id}")).await?;
        self.client
            .execute(
                "const field = document.getElementById(arguments[0]);\
                 field.value = arguments[1];\
                 field.dispatchEvent(new Event('change', { bubbles: true }));\
                 return field.value;",
                vec![id.into(), date.into()],
            )
            .await
            .with_context(|| format!("set #{id} to {date}"))
            .and_then(|set| {
                if set.as_str() == Some(date) {
                    Ok(())
                } else {
                    Err(anyhow!("#{id} holds {set} instead of {date}"))
                }
            })
    }

    /// Waits for one finished download in the browser's download directory: its name and
    /// content.
    pub async fn downloaded(&self) -> Result<(String, Vec<u8>)> {
        let started = Instant::now();
        loop {
            let mut done = Vec::new();
            let mut partial = false;
            for entry in std::fs::read_dir(&self.downloads)? {
                let name = entry?.file_name().to_string_lossy().into_owned();
                if name.ends_with(".crdownload") || name.starts_with('.') {
                    partial = true;
                } else {
                    done.push(name);
                }
            }
            if !partial && done.len() == 1 {
                let name = done.remove(0);
                let bytes = std::fs::read(self.downloads.join(&name))?;
                return Ok((name, bytes));
            }
            if done.len() > 1 {
                bail!("several downloads: {done:?}");
            }
            if started.elapsed() > self.timeout {
                return Err(anyhow!(
                    "no finished download in {} (partial: {partial})",
                    self.downloads.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Whether a WebDriver error says the element belongs to a page that was replaced.
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    error.to_string().contains("stale element")
}
