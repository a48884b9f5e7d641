//! The pages in a real browser: headless Chromium (Debian's `chromium`) driven through WebDriver
//! by `chromedriver` (Debian's `chromium-driver`), both installed by `./dev setup` and started
//! here. Every page a test visits is checked for console errors and, with axe-core (npm, pinned in
//! tests/clients/), for serious or critical accessibility violations. The browser can reach
//! nothing but the test server (every other host name resolves to nothing), so a page that needs
//! the network fails here.
//!
//! Screenshots of the key screens go to `target/screens/`, and to `docs/screens/` (shown in the
//! README) when `CLAIMGRAPH_UPDATE_SCREENS=1`.

use crate::common::{repo, Options, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A headless Chromium session, and the `chromedriver` that drives it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn installed(program: &str) -> std::path::PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{program} is not installed: run `./dev setup` (Debian: chromium, chromium-driver)")
    })
}

impl Browser {
    pub async fn start() -> Self {
        let chromium = installed("chromium");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new(installed("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let webdriver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..200 {
            if let Ok(response) = http.get(format!("{webdriver}/status")).send().await {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == json!(true) {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not start on port {port}");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    // Tests run as root in CI containers, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,1000",
                    "--lang=en-GB",
                    format!("--user-data-dir={}", profile.path().display()),
                    // No network but the test server's address.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session from chromedriver: {e}"));
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The page's console messages of level SEVERE (errors, CSP violations, failed loads) since
    /// the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap();
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// axe-core's serious and critical violations on the page as it is now.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let path = repo().join("tests/clients/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `./dev setup` (npm axe-core)",
                path.display()
            )
        });
        // A WebDriver script is not subject to the page's Content-Security-Policy.
        self.client.execute(&axe, vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(
                   (r) => done(r.violations.map((v) => ({
                     id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
                   }))),
                   (e) => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .unwrap();
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                format!(
                    "{} ({}): {} at {}",
                    v["id"], v["impact"], v["help"], v["nodes"]
                )
            })
            .collect()
    }

    /// Checks the page as it is now: no console error, no serious accessibility violation.
    pub async fn assert_clean(&self, what: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors on {what}: {errors:#?}");
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "accessibility violations on {what}: {violations:#?}"
        );
    }

    /// Saves a screenshot as `NAME.png` in target/screens/ (and docs/screens/ when
    /// `CLAIMGRAPH_UPDATE_SCREENS=1`).
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let mut dirs = vec![repo().join("target/screens")];
        if std::env::var("CLAIMGRAPH_UPDATE_SCREENS").as_deref() == Ok("1") {
            dirs.push(repo().join("docs/screens"));
        }
        for dir in dirs {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
    }

    /// Waits (up to 20 s) for an element to be there.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no {css} on the page ({e}); its console errors: {:#?}",
                self.console_errors().await
            ),
        }
    }

    /// Waits (up to 20 s) until the page's URL is one `wanted` accepts.
    pub async fn wait_for_url(&self, wanted: impl Fn(&str) -> bool) {
        for _ in 0..200 {
            let url = self.client.current_url().await.unwrap();
            if wanted(url.as_str()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the page stayed at {}",
            self.client.current_url().await.unwrap()
        );
    }

    /// The text of every element `css` selects.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            texts.push(element.text().await.unwrap());
        }
        texts
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver takes its Chromium with it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// chromedriver's log of the page's console (`goog:loggingPrefs`), which WebDriver itself does
/// not define.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_owned()),
        )
    }
}

/// A server on the seed data (`data/`) and the vocabulary (`ontology/`: the statuses' labels).
async fn seed_server() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

/// The number of rows in YASGUI's results table, once it shows some.
async fn yasr_rows(browser: &Browser) -> usize {
    browser.wait_for(".yasr_results table tbody tr").await;
    browser
        .client
        .find_all(Locator::Css(".yasr_results table tbody tr"))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_query_editor_works_offline_and_runs_the_library() {
    let server = seed_server().await;
    let browser = Browser::start().await;
    let statuses = server
        .count(
            "PREFIX cg: <https://w3id.org/claimgraph/ns#>
             SELECT (COUNT(DISTINCT ?status) AS ?n) WHERE { ?claim cg:status ?status }",
        )
        .await;
    assert!(statuses > 1);

    browser.goto(&server.url("query")).await;
    browser.wait_for(".yasqe .CodeMirror").await;
    let button = browser
        .wait_for("button[data-question='claims-by-status']")
        .await;
    button.click().await.unwrap();
    assert_eq!(yasr_rows(&browser).await as u64, statuses);
    browser.screenshot("query").await;
    browser.assert_clean("the query editor").await;

    // Everything the page loaded came from the server itself.
    let origins = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').map((e) => new URL(e.name).origin)",
            vec![],
        )
        .await
        .unwrap();
    let own = server.base.trim_end_matches('/');
    for origin in origins.as_array().unwrap() {
        assert_eq!(origin, own, "the editor loaded something from elsewhere");
    }

    // A query typed into the address bar ends in the editor, as a table: never as raw XML.
    let query = "SELECT ?claim WHERE { ?claim a <http://schema.org/Claim> } LIMIT 3";
    let url = format!(
        "{}?{}",
        server.url("sparql"),
        form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .finish()
    );
    browser.goto(&url).await;
    let current = browser.client.current_url().await.unwrap();
    assert_eq!(current.path(), "/query");
    assert_eq!(yasr_rows(&browser).await, 3);
    browser.assert_clean("a query sent to the editor").await;
    browser.close().await;
}

/// The claims of the seed whose text, quotes or subjects' names contain `word`, with `status`
/// and `claimant`: what the search box and two facets should narrow the list to.
async fn claims_with(server: &TestServer, word: &str, status: &str, claimant: &str) -> Vec<String> {
    let results = server
        .select(&format!(
            "PREFIX schema: <http://schema.org/>
             PREFIX cg: <https://w3id.org/claimgraph/ns#>
             PREFIX oa: <http://www.w3.org/ns/oa#>
             SELECT DISTINCT ?claim WHERE {{
               ?claim a schema:Claim ; cg:status cg:{status} ; schema:author <{claimant}> .
               {{ ?claim schema:text ?said }}
               UNION {{ ?claim schema:appearance/oa:hasSelector/oa:exact ?said }}
               UNION {{ ?claim schema:about/schema:name ?said }}
               FILTER(CONTAINS(LCASE(STR(?said)), \"{word}\"))
             }} ORDER BY ?claim"
        ))
        .await;
    results["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["claim"]["value"].as_str().unwrap().to_owned())
        .collect()
}

/// The claims the page lists, as IRIs (their links' titles).
async fn listed(browser: &Browser) -> Vec<String> {
    let mut claims = Vec::new();
    for link in browser
        .client
        .find_all(Locator::Css(".results li .text a"))
        .await
        .unwrap()
    {
        claims.push(link.attr("title").await.unwrap().unwrap());
    }
    claims.sort();
    claims
}

#[tokio::test(flavor = "multi_thread")]
async fn search_and_two_facets_narrow_the_claims_and_the_url_keeps_them() {
    let server = seed_server().await;
    let browser = Browser::start().await;
    browser.goto(&server.url("claims")).await;
    browser.assert_clean("the claims page").await;

    let search = browser.wait_for("input[name=q]").await;
    search.send_keys("inbox").await.unwrap();
    browser
        .client
        .find(Locator::Css("form.searchbox button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The search's own page, not the one it was typed on.
    browser.wait_for_url(|url| url.contains("q=inbox")).await;
    browser.wait_for("[data-facet=status] a").await;
    browser
        .client
        .find(Locator::LinkText("Alleged"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for(".active").await;
    let one_facet = browser.client.current_url().await.unwrap();
    let claimant = browser.wait_for("[data-facet=claimant] a").await;
    claimant.click().await.unwrap();
    browser.wait_for("[data-facet=claimant] strong").await;

    let url = browser.client.current_url().await.unwrap();
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(params.get("q").map(String::as_str), Some("inbox"));
    assert_eq!(params.get("status").map(String::as_str), Some("Alleged"));
    let expected = claims_with(&server, "inbox", "Alleged", &params["claimant"]).await;
    assert!(!expected.is_empty());
    assert_eq!(listed(&browser).await, expected);
    let count = browser.texts("p.count").await.join("");
    assert_eq!(count, format!("{} claims", expected.len()));
    browser.screenshot("claims").await;
    browser.assert_clean("a narrowed search").await;

    // The URL is the search: opened afresh it lists the same claims; back is one facet less.
    // (The search form's empty fields are left out of it.)
    assert_eq!(one_facet.query(), Some("q=inbox&status=Alleged"));
    browser.goto(url.as_str()).await;
    assert_eq!(listed(&browser).await, expected);
    browser.client.back().await.unwrap();
    assert_eq!(browser.client.current_url().await.unwrap(), one_facet);
    assert!(listed(&browser).await.len() >= expected.len());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_claim_page_shows_its_quote_in_the_text_and_its_provenance_picture() {
    let server = seed_server().await;
    let browser = Browser::start().await;
    browser.goto(&server.base).await;
    browser.wait_for("h1").await;
    browser.screenshot("home").await;
    browser.assert_clean("the home page").await;

    let claim = server.url("claims/netflix-inbox-api");
    let (status, detail) = server
        .get_json("claims/netflix-inbox-api", "application/json")
        .await;
    assert_eq!(status, 200);
    let appearances = detail["appearances"].as_array().unwrap();
    browser.goto(&claim).await;
    // Each quote is highlighted in its archived text, exactly.
    let marked = browser.texts(".context mark").await;
    let quotes: Vec<String> = appearances
        .iter()
        .map(|a| a["exact"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(marked, quotes);
    // The provenance picture is in the page, a row per appearance, ending at the primary source.
    browser.wait_for(".picture svg").await;
    let rows = browser.texts(".picture svg g.appearance").await;
    assert_eq!(rows.len(), appearances.len());
    let primary = detail["primary_source"]["label"].as_str().unwrap();
    let picture = browser.texts(".picture svg").await.join(" ");
    assert!(
        picture.contains(&primary[..20]),
        "{primary} not in the picture: {picture}"
    );
    browser.screenshot("claim").await;
    browser
        .client
        .execute(
            "document.querySelector('.picture').scrollIntoView({ block: 'start' })",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("provenance").await;
    browser.assert_clean("a claim's page").await;

    // Its downloads are there and answer.
    for link in browser
        .client
        .find_all(Locator::Css(".downloads a"))
        .await
        .unwrap()
    {
        let href = link.attr("href").await.unwrap().unwrap();
        let response = server.client.get(server.url(&href)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{href}");
    }
    browser.close().await;
}

/// Sets a form field's value as a paste would (long texts typed key by key take seconds).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .client
        .execute(
            "const field = document.querySelector(arguments[0]);
             field.value = arguments[1];
             field.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

/// The index (in the queue) of the first candidate whose quote contains `words`.
async fn candidate_with(browser: &Browser, words: &str) -> usize {
    let found = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#queue > li'))
               .findIndex((li) => li.querySelector('input[name=quote]').value.includes(arguments[0]))",
            vec![json!(words)],
        )
        .await
        .unwrap();
    let index = found.as_i64().unwrap();
    assert!(index >= 0, "no candidate quotes {words:?}");
    index as usize
}

async fn click(browser: &Browser, css: &str) {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits (up to 20 s) until the text of `css` is one `wanted` accepts, and returns it.
async fn text_when(browser: &Browser, css: &str, wanted: impl Fn(&str) -> bool) -> String {
    let mut said = String::new();
    for _ in 0..200 {
        said = browser.texts(css).await.join("");
        if wanted(&said) {
            return said;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} still says {said:?}");
}

/// What `#save-result` says once the save has answered.
async fn save_result(browser: &Browser) -> String {
    text_when(browser, "#save-result", |said| {
        !said.is_empty() && !said.starts_with("Saving")
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_article_becomes_reviewed_checked_claims_without_toml_or_sparql() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::common::copy_dir(&repo().join("data"), &data);
    let server = TestServer::start(Options {
        data_dirs: vec![data.clone()],
        ..Options::default()
    })
    .await;
    let browser = Browser::start().await;
    browser.goto(&server.url("review")).await;
    browser.assert_clean("the review page").await;

    let article = std::fs::read_to_string(
        repo().join("tests/fixtures/drafting/texts/repost-netflix-changed.txt"),
    )
    .unwrap();
    let key = "ledger-2024-04-04-netflix";
    browser
        .wait_for("#token")
        .await
        .send_keys(crate::common::TOKEN)
        .await
        .unwrap();
    set_value(&browser, "#article-text", &article).await;
    set_value(&browser, "#key", key).await;
    set_value(&browser, "#publisher", "The Daily Ledger").await;
    set_value(&browser, "#date", "2024-04-04").await;
    set_value(&browser, "#relation", "reposts").await;
    set_value(
        &browser,
        "#upstream",
        "dailymail-2024-04-02-facebook-netflix-dms",
    )
    .await;
    click(&browser, "#article button[type=submit]").await;
    browser.wait_for("#queue > li").await;
    browser.wait_for("#text mark").await;

    // One candidate restates a known claim: accepted, it becomes a new appearance of it.
    let paid = candidate_with(&browser, "$150 million").await;
    let linked = browser
        .client
        .execute(
            "return document.querySelectorAll('#queue > li')[arguments[0]]
               .querySelector('input[type=radio]:checked').value",
            vec![json!(paid)],
        )
        .await
        .unwrap();
    assert_eq!(linked, "netflix-paid-over-100-million");
    click(
        &browser,
        &format!("#queue > li:nth-child({}) button", paid + 1),
    )
    .await;

    // Another is a new claim: accepted with its content still open, the save is refused
    // next to that field and writes nothing.
    let fine = candidate_with(&browser, "256 million").await;
    let card = format!("#queue > li:nth-child({})", fine + 1);
    click(&browser, &format!("{card} input[type=radio][value='']")).await;
    click(&browser, &format!("{card} button")).await;
    set_value(
        &browser,
        &format!("{card} textarea[name=text]"),
        "Ireland's data regulator fined Meta 256 million euros in 2022.",
    )
    .await;
    // The third is rejected from the keyboard.
    let rejected = candidate_with(&browser, "Hastings sat on").await;
    browser
        .client
        .execute(
            "document.querySelectorAll('#queue > li')[arguments[0]].focus()",
            vec![json!(rejected)],
        )
        .await
        .unwrap();
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys("r")
        .await
        .unwrap();
    let decision = browser
        .texts(&format!(
            "#queue > li:nth-child({}) .decision",
            rejected + 1
        ))
        .await;
    assert_eq!(decision, ["rejected"]);

    click(&browser, "#save").await;
    let said = save_result(&browser).await;
    assert!(said.contains("does not check"), "{said}");
    let next_to_content = browser
        .texts(&format!("{card} .error[data-field=content]"))
        .await
        .join("");
    assert!(next_to_content.contains("content"), "{next_to_content:?}");
    let sheet = data.join(format!("claims/{key}.toml"));
    assert!(!sheet.exists(), "a refused save wrote the sheet");
    assert!(!data.join(format!("texts/{key}.txt")).exists());
    // The browser logs the refusal (422) itself, and nothing else.
    for error in browser.console_errors().await {
        assert!(error.contains("422"), "{error}");
    }
    browser
        .client
        .execute(
            "document.querySelector(arguments[0] + ' .error[data-field=content]')
               .scrollIntoView({ block: 'center' })",
            vec![json!(card)],
        )
        .await
        .unwrap();
    browser.screenshot("review").await;

    // With the content written, it checks, is saved and loaded.
    set_value(
        &browser,
        &format!("{card} textarea[name=content]"),
        "meta-platforms cg:amount \"256000000\"^^xsd:decimal",
    )
    .await;
    click(&browser, "#save").await;
    let said = save_result(&browser).await;
    assert!(
        said.starts_with("Saved"),
        "{said}: {:?}",
        browser.texts(".error").await
    );
    browser.assert_clean("a saved review").await;

    let written = std::fs::read_to_string(&sheet).unwrap();
    assert!(written.contains("claim = \"netflix-paid-over-100-million\""));
    assert!(written.contains("256 million"));
    assert!(
        !written.contains("Hastings sat on"),
        "a rejected candidate was saved"
    );
    let checked = crate::common::claimgraph()
        .arg("check")
        .arg("--data")
        .arg(&data)
        .arg(&sheet)
        .args(
            std::fs::read_dir(data.join("claims"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p != &sheet),
        )
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // The new claim is in the graph and among the claims.
    let new_key = browser
        .client
        .find(Locator::Css(&format!("{card} input[name=key]")))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let (status, listed) = server
        .get_json("claims?q=256&format=json", "application/json")
        .await;
    assert_eq!(status, 200);
    assert!(
        listed["claims"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == new_key.as_str()),
        "{listed}"
    );

    // Drafted again (the key is in use now), the sheet is replaced only once confirmed.
    click(&browser, "#force").await;
    browser
        .client
        .execute("document.getElementById('status').textContent = ''", vec![])
        .await
        .unwrap();
    click(&browser, "#article button[type=submit]").await;
    text_when(&browser, "#status", |said| {
        said.contains("candidates drafted")
    })
    .await;
    let decisions = browser.texts(".decision").await;
    assert!(decisions.iter().all(|d| d == "to review"), "{decisions:?}");
    let paid = candidate_with(&browser, "$150 million").await;
    click(
        &browser,
        &format!("#queue > li:nth-child({}) button", paid + 1),
    )
    .await;
    click(&browser, "#save").await;
    let said = save_result(&browser).await;
    assert!(
        said.contains("exists"),
        "{said}: {:?}",
        browser
            .texts(".error")
            .await
            .into_iter()
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
    );
    assert_eq!(std::fs::read_to_string(&sheet).unwrap(), written);
    for error in browser.console_errors().await {
        assert!(error.contains("412"), "{error}");
    }
    click(&browser, "#save-result button").await;
    text_when(&browser, "#save-result", |said| said.starts_with("Saved")).await;
    let now = std::fs::read_to_string(&sheet).unwrap();
    assert!(now.contains("claim = \"netflix-paid-over-100-million\""));
    assert!(
        !now.contains("256 million"),
        "the replaced sheet kept a claim not accepted"
    );
    browser.close().await;
}
