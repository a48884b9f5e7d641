//! `claimgraph draft`: its quality on the seed and on the fixture articles (tests/fixtures/
//! drafting, written for the tests), a restating article drafted, accepted and served with the
//! new outlet in the claim's provenance, and bad input refused with nothing written. The real
//! binary throughout.

use crate::common::{claimgraph, copy_dir, repo, run, ServeProcess};
use serde_json::Value;
use std::path::{Path, PathBuf};

const SEED_SHEET: &str = "data/claims/zerohedge-2024-04-02.toml";
const UPSTREAM: &str = "dailymail-2024-04-02-facebook-netflix-dms";
const FIXTURES: &str = "tests/fixtures/drafting";

/// `claimgraph draft --evaluate SHEET --json` with `data/` as what is known.
fn figures(sheet: &str) -> Value {
    let output = claimgraph()
        .current_dir(repo())
        .args(["draft", "--data", "data", "--json", "--evaluate", sheet])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "evaluating {sheet}: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn ratio(figures: &Value, a: &str, b: &str) -> f64 {
    let (a, b) = (figures[a].as_f64().unwrap(), figures[b].as_f64().unwrap());
    if b == 0.0 {
        1.0
    } else {
        a / b
    }
}

#[test]
fn the_seed_article_is_drafted_to_the_quality_bar() {
    let f = figures(SEED_SHEET);
    assert!(f["true_claims"].as_u64().unwrap() >= 20, "{f}");
    assert!(ratio(&f, "found", "true_claims") >= 0.9, "recall: {f}");
    assert!(ratio(&f, "status_right", "found") >= 0.8, "status: {f}");
    assert!(ratio(&f, "claimant_right", "found") >= 0.8, "claimant: {f}");
    assert!(f["most_candidates_per_claim"].as_u64().unwrap() <= 2, "{f}");
    assert!(ratio(&f, "linked_right", "linkable") >= 0.9, "linking: {f}");
}

/// The fixtures were written by someone who had not seen the drafter; these floors sit a little
/// under the figures measured when they were added, so a change that makes drafting worse on
/// articles it was not written for fails here.
#[test]
fn articles_beyond_the_seed_are_drafted_well_too() {
    for (name, recall, status, claimant) in [
        ("wire-harbour-fire", 0.9, 0.8, 0.8),
        ("court-fraud-trial", 0.9, 0.65, 0.7),
        ("press-release-recall", 0.9, 0.8, 0.75),
        ("repost-netflix-changed", 0.9, 0.7, 0.55),
        // Written after the rules, as a held-out test, and never tuned on.
        ("regulator-report-airline", 0.9, 0.6, 0.5),
        ("investigation-charity", 0.9, 0.6, 0.35),
        // The second held-out pair, taken once as they came.
        ("election-count-dispute", 0.9, 0.35, 0.45),
        ("recall-lawsuit-settlement", 0.9, 0.5, 0.6),
    ] {
        let f = figures(&format!("{FIXTURES}/claims/{name}.toml"));
        assert!(
            ratio(&f, "found", "true_claims") >= recall,
            "{name} recall: {f}"
        );
        assert!(
            ratio(&f, "status_right", "found") >= status,
            "{name} status: {f}"
        );
        assert!(
            ratio(&f, "claimant_right", "found") >= claimant,
            "{name} claimant: {f}"
        );
        assert!(
            ratio(&f, "correct_candidates", "candidates") >= 0.75,
            "{name} precision: {f}"
        );
        assert!(
            f["most_candidates_per_claim"].as_u64().unwrap() <= 3,
            "{name}: {f}"
        );
    }
}

/// A scratch copy of `data/`.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&repo().join("data"), &data);
    (dir, data)
}

fn draft(data: &Path, article: &Path, key: &str, extra: &[&str]) -> std::process::Output {
    let mut command = claimgraph();
    command
        .arg("draft")
        .arg(article)
        .args(["--key", key, "--publisher", "The Daily Ledger"]);
    if !extra.contains(&"--date") {
        command.args(["--date", "2024-04-04"]);
    }
    command.arg("--data").arg(data).args(extra);
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restating_article_becomes_new_appearances_that_show_in_provenance() {
    let (dir, data) = scratch();
    let article = repo()
        .join(FIXTURES)
        .join("texts/repost-netflix-changed.txt");
    let key = "ledger-2024-04-04-netflix";
    let output = draft(&data, &article, key, &["--reposts", UPSTREAM]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The text is archived byte for byte; the draft restates the seed's claims, differences named.
    let archived = std::fs::read(data.join(format!("texts/{key}.txt"))).unwrap();
    assert_eq!(archived, std::fs::read(&article).unwrap());
    let path = data.join(format!("drafts/{key}.toml"));
    let sheet: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let appearances = sheet["appearances"].as_array().unwrap();
    let paid = appearances
        .iter()
        .find(|a| a["claim"].as_str() == Some("netflix-paid-over-100-million"))
        .expect("the $150 million sentence restates the seed's claim");
    let differences = paid["differences"].as_array().unwrap();
    assert!(
        differences
            .iter()
            .any(|d| d["kind"].as_str() == Some("amount")
                && d["here"].as_str() == Some("$150 million")
                && d["known"]
                    .as_str()
                    .is_some_and(|k| k.ends_with("than $100 million") || k == "over $100 million")),
        "{differences:?}"
    );
    // The seed calls it alleged; the repost states it as fact.
    assert_eq!(paid["status"].as_str(), Some("Reported"));

    // As drafted, check names every candidate still to review, located.
    let check = check_with_seed(&data, &path);
    assert!(!check.status.success());
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains(&format!("{}:", path.display())), "{stderr}");
    assert!(stderr.contains("not accepted yet"), "{stderr}");

    // The curator accepts the restatements (deleting their draft tables) and removes the new
    // candidates, then moves the sheet into claims/.
    let mut accepted = sheet.clone();
    accepted.remove("claims");
    for appearance in accepted["appearances"].as_array_mut().unwrap() {
        appearance.as_table_mut().unwrap().remove("draft");
    }
    let sheet_path = data.join(format!("claims/{key}.toml"));
    std::fs::write(&sheet_path, toml::to_string(&accepted).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let check = check_with_seed(&data, &sheet_path);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Served, the claim's provenance names the new outlet's document.
    let mut command = claimgraph();
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--reload-interval", "0"])
        .arg("--store")
        .arg(dir.path().join("store"))
        .arg("--data")
        .arg(&data)
        .arg("--ontology")
        .arg(repo().join("ontology"));
    let mut server = ServeProcess::spawn(command);
    let provenance: Value = reqwest::Client::new()
        .get(format!(
            "{}claims/netflix-paid-over-100-million/provenance",
            server.url
        ))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = provenance.to_string();
    assert!(text.contains(&format!("sources/{key}")), "{text}");
    assert!(
        text.contains("sources/zerohedge-2024-04-02-facebook-netflix-dms"),
        "{text}"
    );
    server.terminate();
}

/// `claimgraph check` of the seed sheet and `sheet` in the data directory `data`.
fn check_with_seed(data: &Path, sheet: &Path) -> std::process::Output {
    let seed = data.join("claims/zerohedge-2024-04-02.toml");
    let paths = [data, seed.as_path(), sheet].map(|p| p.to_str().unwrap().to_owned());
    run(&["check", "--data", &paths[0], &paths[1], &paths[2]])
}

#[test]
fn an_html_page_is_drafted_from_its_main_text() {
    let (_dir, data) = scratch();
    let page = repo().join(FIXTURES).join("html/wire-harbour-fire.html");
    let output = draft(&data, &page, "mpa-html-copy", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let archived = std::fs::read_to_string(data.join("texts/mpa-html-copy.txt")).unwrap();
    let plain =
        std::fs::read_to_string(repo().join(FIXTURES).join("texts/wire-harbour-fire.txt")).unwrap();
    // Every paragraph of the article body is there, verbatim; scripts, menus and asides are not.
    for paragraph in plain.split("\n\n").skip(2) {
        assert!(archived.contains(paragraph.trim()), "missing: {paragraph}");
    }
    for furniture in ["<script", "function", "Related", "Subscribe"] {
        assert!(
            !archived.contains(furniture),
            "{furniture} kept:\n{archived}"
        );
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn bad_input_is_refused_naming_the_problem_and_nothing_is_written() {
    let (dir, data) = scratch();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let latin1 = inputs.join("latin1.txt");
    std::fs::write(&latin1, b"Line one.\nCaf\xe9 owners said prices rose.\n").unwrap();
    let empty = inputs.join("empty.txt");
    std::fs::write(&empty, "  \n\n").unwrap();
    let bland = inputs.join("bland.txt");
    std::fs::write(&bland, "hello there\n\nnice day\n").unwrap();
    let good = repo().join(FIXTURES).join("texts/wire-harbour-fire.txt");
    let huge = inputs.join("huge.html");
    let mut page = b"<!doctype html><html><body><p>".to_vec();
    page.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    std::fs::write(&huge, page).unwrap();
    let before = snapshot(&data);
    let cases: Vec<(&Path, &str, Vec<&str>, &str)> = vec![
        (
            &latin1,
            "k-latin1",
            vec![],
            "latin1.txt:2:4: the article is not UTF-8",
        ),
        (&empty, "k-empty", vec![], "the article is empty"),
        (&bland, "k-bland", vec![], "no check-worthy sentence"),
        (
            &good,
            "zerohedge-2024-04-02-facebook-netflix-dms",
            vec![],
            "already in use",
        ),
        (
            &good,
            "k-upstream",
            vec!["--reposts", "no-such-source"],
            "\"no-such-source\" is not a source key",
        ),
        (
            &good,
            "k-date",
            vec!["--date", "2024-02-30"],
            "is not a date",
        ),
        (&good, "Bad Key", vec![], "is not a key"),
        (&huge, "k-huge", vec![], "over the limit"),
    ];
    for (article, key, extra, expected) in cases {
        let output = draft(&data, article, key, &extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{key}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{key}: expected {expected:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(snapshot(&data), before, "{key} wrote something");
    }
    // A draft that exists is not replaced without --force.
    assert!(draft(&data, &good, "k-once", &[]).status.success());
    let again = draft(&data, &good, "k-once", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(draft(&data, &good, "k-once", &["--force"]).status.success());
}

mod http {
    use super::{FIXTURES, UPSTREAM};
    use crate::common::{repo, Options, TestServer, TOKEN};
    use serde_json::{json, Value};

    async fn seeded() -> TestServer {
        TestServer::start(Options {
            data_dirs: vec![repo().join("data"), repo().join("ontology")],
            ..Options::default()
        })
        .await
    }

    fn article() -> String {
        std::fs::read_to_string(
            repo()
                .join(FIXTURES)
                .join("texts/repost-netflix-changed.txt"),
        )
        .unwrap()
    }

    async fn post_draft(
        server: &TestServer,
        body: Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = server.client.post(server.url("drafts")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn post_match(server: &TestServer, body: Value) -> (u16, Value) {
        let response = server
            .client
            .post(server.url("match"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    #[tokio::test]
    async fn drafts_need_a_writer_and_come_as_json_or_a_sheet() {
        let server = seeded().await;
        let body = json!({
            "text": article(), "key": "ledger-http", "publisher": "The Daily Ledger",
            "date": "2024-04-04", "reposts": UPSTREAM,
        });
        assert_eq!(post_draft(&server, body.clone(), None).await.status(), 401);
        let response = post_draft(&server, body.clone(), Some(TOKEN)).await;
        assert_eq!(response.status(), 200);
        let draft: Value = response.json().await.unwrap();
        let candidates = draft["candidates"].as_array().unwrap();
        assert!(candidates.len() >= 10, "{draft}");
        assert!(candidates
            .iter()
            .any(|c| c["restates"] == "netflix-paid-over-100-million"));
        // Offsets count code points in the text returned.
        let text: Vec<char> = draft["text"].as_str().unwrap().chars().collect();
        for c in candidates {
            let (start, end) = (
                c["start"].as_u64().unwrap() as usize,
                c["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                text[start..end].iter().collect::<String>(),
                c["quote"].as_str().unwrap()
            );
        }
        // The same draft as a claim sheet.
        let sheet = server
            .client
            .post(server.url("drafts"))
            .bearer_auth(TOKEN)
            .header("Accept", "application/toml")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(sheet.status(), 200);
        let sheet: toml::Table = sheet.text().await.unwrap().parse().unwrap();
        assert_eq!(sheet["sources"][0]["key"].as_str(), Some("ledger-http"));
        assert!(!sheet["appearances"].as_array().unwrap().is_empty());
        // Multipart, with the article as a file.
        let form = reqwest::multipart::Form::new()
            .part(
                "article",
                reqwest::multipart::Part::bytes(article().into_bytes()).file_name("a.txt"),
            )
            .text("key", "ledger-form")
            .text("publisher", "The Daily Ledger")
            .text("date", "2024-04-04");
        let response = server
            .client
            .post(server.url("drafts"))
            .bearer_auth(TOKEN)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // Described in the API description.
        let api: Value = server
            .client
            .get(server.url("openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(api["paths"]["/drafts"]["post"].is_object());
        assert!(api["paths"]["/match"]["post"].is_object());
    }

    #[tokio::test]
    async fn bad_drafts_are_400_naming_the_field() {
        let server = seeded().await;
        let base =
            json!({"text": article(), "key": "k-http", "publisher": "P", "date": "2024-04-04"});
        let with = |field: &str, value: Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        for (body, expected) in [
            (with("key", json!("zerohedge")), "already in use"),
            (with("date", json!("April 4")), "is not a date"),
            (
                with("reposts", json!("nope")),
                "\"nope\" is not a source key",
            ),
            (with("text", json!("")), "empty"),
            (with("kind", json!("Tweet")), "is not a source type"),
            (
                json!({"key": "k", "publisher": "P", "date": "2024-04-04"}),
                "exactly one of `text` or `html`",
            ),
            (with("colour", json!("red")), "unknown field `colour`"),
        ] {
            let response = post_draft(&server, body, Some(TOKEN)).await;
            assert_eq!(response.status(), 400);
            let error: Value = response.json().await.unwrap();
            let message = error["message"].as_str().unwrap();
            assert!(
                message.contains(expected),
                "expected {expected:?} in {message}"
            );
        }
        let huge = with("html", json!("x".repeat(2 * 1024 * 1024)));
        let mut huge = huge;
        huge.as_object_mut().unwrap().remove("text");
        assert_eq!(post_draft(&server, huge, Some(TOKEN)).await.status(), 413);
    }

    #[tokio::test]
    async fn match_names_the_restated_claim_and_follows_writes() {
        let server = seeded().await;
        let (status, found) = post_match(
            &server,
            json!({"text": "Netflix paid $150 million for that access.", "status": "Reported"}),
        )
        .await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(
            found["matches"][0]["claim"],
            "netflix-paid-over-100-million"
        );
        assert_eq!(found["restates"], "netflix-paid-over-100-million");
        let kinds: Vec<&str> = found["matches"][0]["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, vec!["amount", "status"]);
        // One word shared with a long claim does not make a restatement of it: the claim is
        // weighed with all its words, not only those the text shares with it.
        let (_, found) = post_match(&server, json!({"text": "Netflix"})).await;
        let top = found["matches"][0]["score"].as_f64().unwrap();
        assert!(top > 0.0 && top < 0.45, "{found}");
        assert!(found["restates"].is_null(), "{found}");
        for (body, expected) in [
            (json!({"text": " "}), "`text` is empty"),
            (json!({"text": "x", "limit": 0}), "`limit` is 0"),
            (
                json!({"text": "x", "status": "Rumoured"}),
                "not a claim status",
            ),
            (json!({"sentence": "x"}), "unknown field"),
        ] {
            let (status, body) = post_match(&server, body).await;
            assert_eq!(status, 400);
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(expected), "{expected}: {message}");
        }
        // A claim written after the first match is matched next time.
        let update = server
            .update(
                "PREFIX schema: <http://schema.org/> INSERT DATA { GRAPH <graphs/extra> { \
                 <claims/zebra-crossing> a schema:Claim ; schema:text \"Zebras crossed the \
                 motorway near Tilbury at dawn.\" } }",
            )
            .await;
        assert!(update.status().is_success());
        let (_, found) = post_match(&server, json!({"text": "zebras crossed the motorway"})).await;
        assert_eq!(found["matches"][0]["claim"], "zebra-crossing", "{found}");
    }
}
