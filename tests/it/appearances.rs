//! Top-level `[[appearances]]` (a new appearance of a claim described in another sheet), with
//! `status` and `differences`; draft tables that `check` refuses; `data/drafts/` left out of the
//! data sync. Over the seed sheet plus a second sheet in a scratch data directory.

use crate::common::{copy_dir, repo, run, Options, TestServer};
use serde_json::Value;
use std::path::{Path, PathBuf};

const CLAIM: &str = "netflix-paid-over-100-million";
const SOURCE: &str = "newsdesk-2024-04-03-netflix";
const TEXT: &str = "Newsdesk, 3 April 2024. Netflix paid $150 million to Facebook for access to \
                    private messages, the lawsuit says.\n";
const CG: &str = "https://w3id.org/claimgraph/ns#";

/// A copy of the repository's `data/` plus one archived text of a second outlet.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("data"), &dir.path().join("data"));
        std::fs::write(dir.path().join(format!("data/texts/{SOURCE}.txt")), TEXT).unwrap();
        Self { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn seed(&self) -> PathBuf {
        self.data().join("claims/zerohedge-2024-04-02.toml")
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Writes `data/RELATIVE`: the second outlet's source and publisher (lines 1–15), then `rest`
    /// from line 16 on.
    fn sheet(&self, relative: &str, rest: &str) -> PathBuf {
        use sha2::Digest;
        let sha = format!("{:x}", sha2::Sha256::digest(TEXT.as_bytes()));
        let text = format!(
            r#"[[sources]]
key = "{SOURCE}"
type = "NewsArticle"
headline = "Netflix paid Facebook for private messages, lawsuit says"
publisher = "newsdesk"
published = 2024-04-03
text = "../texts/{SOURCE}.txt"
text_sha256 = "{sha}"
derived_from = ["dailymail-2024-04-02-facebook-netflix-dms"]

[[entities]]
key = "newsdesk"
type = "NewsMediaOrganization"
name = "Newsdesk"

{rest}"#
        );
        let path = self.data().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `claimgraph ARGS --data DATA SHEETS…` (`--store` too for `ingest`).
    fn run(&self, command: &str, sheets: &[&Path]) -> std::process::Output {
        let (data, store) = (self.data(), self.store());
        let mut args = vec![command, "--data", data.to_str().unwrap()];
        if command == "ingest" {
            args.extend(["--store", store.to_str().unwrap()]);
        }
        args.extend(sheets.iter().map(|s| s.to_str().unwrap()));
        run(&args)
    }

    /// Runs `command` on the seed and `sheet`, which must fail: its stderr.
    fn fails(&self, command: &str, sheet: &Path) -> String {
        let output = self.run(command, &[&self.seed(), sheet]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "{command} accepted: {stderr}");
        stderr
    }
}

/// The second outlet's appearance of the seed's claim (from line 16 of the sheet).
fn appearance(claim: &str, status: &str, kind: &str) -> String {
    format!(
        r#"[[appearances]]
claim = "{claim}"
source = "{SOURCE}"
quote = "Netflix paid $150 million"
upstream = "dailymail-2024-04-02-facebook-netflix-dms"
relation = "derived"
status = "{status}"
differences = [
  {{ kind = "{kind}", here = "$150 million", known = "over $100 million" }},
  {{ kind = "status", here = "Reported", known = "Alleged" }},
]
"#
    )
}

#[tokio::test]
async fn a_restatement_in_another_sheet_shows_in_the_claims_provenance() {
    let scratch = Scratch::new();
    scratch.sheet(
        "claims/newsdesk-2024-04-03.toml",
        &appearance(CLAIM, "Reported", "amount"),
    );
    // A draft that is not data: were it synced, its draft table would fail the whole sync.
    scratch.sheet(
        "drafts/newsdesk-draft.toml",
        "[[claims]]\nkey = \"x\"\ntext = \"\"\nclaimant = \"\"\nstatus = \"Alleged\"\n\
         [claims.draft]\nopen = [\"text\"]\n",
    );
    std::fs::write(
        scratch.data().join("drafts/notes.ttl"),
        "<urn:draft> <urn:p> <urn:o> .",
    )
    .unwrap();

    let server = TestServer::start(Options {
        data_dirs: vec![scratch.data()],
        ..Options::default()
    })
    .await;
    let response = server
        .client
        .get(server.url(&format!("claims/{CLAIM}/provenance")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let chains = body["appearances"].as_array().unwrap();
    let documents: Vec<&str> = chains
        .iter()
        .map(|c| c["document"].as_str().unwrap())
        .collect();
    let source = |key: &str| format!("{}sources/{key}", server.base);
    assert_eq!(
        documents,
        [
            source("zerohedge-2024-04-02-facebook-netflix-dms"),
            source(SOURCE)
        ],
        "{body:#}"
    );
    let restated = &chains[1];
    assert_eq!(
        restated["appearance"],
        format!(
            "{}claims/{CLAIM}#appearance-newsdesk-2024-04-03-1",
            server.base
        )
    );
    let in_hand = &restated["hops"][0];
    assert_eq!(in_hand["document"]["publishers"][0]["name"], "Newsdesk");
    assert_eq!(in_hand["status"]["name"], "Reported", "{restated:#}");
    assert_eq!(in_hand["quote"]["exact"], "Netflix paid $150 million");
    assert_eq!(in_hand["quote"]["start"], 24);
    // Through the Daily Mail report to the primary source, the court filing.
    assert_eq!(restated["hop_count"], 2, "{restated:#}");
    assert_eq!(chains[0]["hops"][0]["status"]["name"], "Alleged");

    // The appearance and its differences live in the restating sheet's claims graph.
    let graph = format!("{}graphs/claims/newsdesk-2024-04-03", server.base);
    let kinds = server
        .select(&format!(
            "SELECT ?kind {{ GRAPH <{graph}> {{ ?a <{CG}difference> ?d . ?d a <{CG}Difference> ; \
             <{CG}differenceKind> ?kind ; <{CG}here> ?here ; <{CG}known> ?known }} }} ORDER BY ?kind"
        ))
        .await;
    let kinds: Vec<&str> = kinds["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            format!("{CG}DifferentAmount"),
            format!("{CG}DifferentStatus")
        ]
    );
    // Nothing of data/drafts/ was loaded.
    assert_eq!(
        server
            .count("SELECT (COUNT(*) AS ?n) { <urn:draft> ?p ?o }")
            .await,
        0
    );
    assert_eq!(
        server
            .count("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), \"draft\")) }")
            .await,
        0
    );
}

#[test]
fn ingest_writes_the_restatement_and_replaces_it() {
    let scratch = Scratch::new();
    let newsdesk = scratch.sheet(
        "claims/newsdesk-2024-04-03.toml",
        &appearance(CLAIM, "Reported", "amount"),
    );
    let output = scratch.run("ingest", &[&scratch.seed(), &newsdesk]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dump = || {
        let store = scratch.store();
        let output = run(&["dump", "--store", store.to_str().unwrap()]);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let graph = "graphs/claims/newsdesk-2024-04-03>";
    let in_graph = |dump: &str| {
        dump.lines()
            .filter(|l| l.ends_with(&format!("{graph} .")))
            .count()
    };
    let before = dump();
    assert!(before.contains("#appearance-newsdesk-2024-04-03-1-difference-2>"));

    // Without its differences, the sheet re-ingested replaces exactly its own graphs.
    let newsdesk = scratch.sheet(
        "claims/newsdesk-2024-04-03.toml",
        &appearance(CLAIM, "Reported", "amount").replace(
            "differences = [\n  { kind = \"amount\", here = \"$150 million\", known = \"over $100 million\" },\n  { kind = \"status\", here = \"Reported\", known = \"Alleged\" },\n]\n",
            "",
        ),
    );
    let output = scratch.run("ingest", &[&scratch.seed(), &newsdesk]);
    assert!(output.status.success());
    let after = dump();
    assert!(!after.contains("-difference-"));
    // Each difference: the link to it, its type, kind, here and known.
    assert_eq!(in_graph(&before) - in_graph(&after), 2 * 5);
    let others = |dump: &str| -> Vec<String> {
        let mut lines: Vec<String> = dump
            .lines()
            .filter(|l| !l.contains("newsdesk-2024-04-03") && !l.contains("graphs/data-files"))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(others(&before), others(&after));
}

#[test]
fn bad_restatements_are_refused_located_and_nothing_is_written() {
    let scratch = Scratch::new();
    // The [[appearances]] entry starts on line 16: claim on 17, status on 22, the first
    // difference's kind on 24.
    let cases = [
        (
            appearance("netflix-paid-over-100-milion", "Reported", "amount"),
            "newsdesk-2024-04-03.toml:17:9: unknown key \"netflix-paid-over-100-milion\": define it \
             in [[claims]] (did you mean \"netflix-paid-over-100-million\"?)",
        ),
        (
            appearance(CLAIM, "Reported", "sum"),
            "newsdesk-2024-04-03.toml:24:12: unknown difference kind \"sum\": use one of amount, \
             number, date, name, qualifier, status",
        ),
        (
            appearance(CLAIM, "Rumoured", "amount"),
            "newsdesk-2024-04-03.toml:22:10: unknown status \"Rumoured\": use one of Alleged, \
             Reported, Stated, Quoted, Denied, Adjudicated, Settled, PublicRecord",
        ),
    ];
    for (rest, expected) in cases {
        let sheet = scratch.sheet("claims/newsdesk-2024-04-03.toml", &rest);
        for command in ["check", "ingest"] {
            let stderr = scratch.fails(command, &sheet);
            assert!(stderr.contains(expected), "{command}: {stderr}");
        }
        assert!(!scratch.store().exists() || store_is_empty(&scratch.store()));
    }
    // The same mistakes in a nested appearance are refused the same way.
    let nested = appearance(CLAIM, "Rumoured", "sum").replace(
        "[[appearances]]\nclaim = \"netflix-paid-over-100-million\"\n",
        "",
    );
    let sheet = scratch.sheet(
        "claims/newsdesk-2024-04-03.toml",
        &format!(
            "[[claims]]\nkey = \"newsdesk-claim\"\ntext = \"Netflix paid $150 million.\"\n\
             claimant = \"newsdesk\"\nstatus = \"Reported\"\n\
             content = [{{ s = \"netflix\", p = \"cg:paid\", value = \"150000000\" }}]\n\n\
             [[claims.appearances]]\n{nested}"
        ),
    );
    let stderr = scratch.fails("check", &sheet);
    assert!(
        stderr.contains(":28:10: unknown status \"Rumoured\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(":30:12: unknown difference kind \"sum\""),
        "{stderr}"
    );
}

fn store_is_empty(store: &Path) -> bool {
    let output = run(&["dump", "--store", store.to_str().unwrap()]);
    output.status.success() && output.stdout.is_empty()
}

/// A draft as `claimgraph draft` writes it: a candidate claim and a candidate appearance.
fn draft(claim_draft: &str, appearance_draft: &str) -> String {
    format!(
        r#"[[claims]]
key = "netflix-paid-150-million"
text = "Netflix paid Facebook $150 million for access to private messages."
claimant = "newsdesk"
status = "Reported"
content = []
{claim_draft}
[[claims.appearances]]
source = "{SOURCE}"
quote = "Netflix paid $150 million to Facebook"

[[appearances]]
claim = "{CLAIM}"
source = "{SOURCE}"
quote = "Netflix paid $150 million"
{appearance_draft}"#
    )
}

const CLAIM_DRAFT: &str = r#"
[claims.draft]
cue = "paid"
confidence = 0.82
sentence = "Netflix paid $150 million to Facebook for access to private messages, the lawsuit says."
open = ["text", "content"]
matches = [ { claim = "netflix-paid-over-100-million", score = 0.91, differences = [ { kind = "amount", here = "$150 million", known = "over $100 million" } ] } ]
note = "restates the lawsuit's figure?"
"#;

const APPEARANCE_DRAFT: &str = r#"
[appearances.draft]
open = ["status"]
"#;

#[test]
fn check_refuses_a_draft_until_every_candidate_is_accepted() {
    let scratch = Scratch::new();
    let sheet = scratch.sheet(
        "drafts/newsdesk-2024-04-03.toml",
        &draft(CLAIM_DRAFT, APPEARANCE_DRAFT),
    );
    let stderr = scratch.fails("check", &sheet);
    let name = sheet.display().to_string();
    // The claim's draft table starts on line 23, its `open` on line 27; the appearance's
    // table on line 40, its `open` on line 41.
    for expected in [
        format!(
            "{name}:27:9: claims[0] `netflix-paid-150-million` still has `text` open: write the \
             claim in plain words, then remove \"text\" from `open`"
        ),
        format!(
            "{name}:27:17: claims[0] `netflix-paid-150-million` still has `content` open: write \
             its content triples, then remove \"content\" from `open`"
        ),
        format!(
            "{name}:23:1: candidate `netflix-paid-150-million` is not accepted yet: accept it by \
             deleting its [claims.draft] table, or delete the candidate"
        ),
        format!(
            "{name}:41:9: appearances[0] (of `{CLAIM}`) still has `status` open: choose its status"
        ),
        format!(
            "{name}:40:1: candidate appearance 0 of `{CLAIM}` is not accepted yet: accept it by \
             deleting its [appearances.draft] table, or delete the candidate"
        ),
    ] {
        assert!(stderr.contains(&expected), "{expected}\nnot in:\n{stderr}");
    }
    // An open field is reported as open, not also as wrong (content = [] is open here).
    assert_eq!(stderr.lines().count(), 5, "{stderr}");

    // The curator fills the open fields and deletes both tables: the sheet checks.
    let accepted = draft("", "status = \"Reported\"\n").replace(
        "content = []",
        "content = [{ s = \"netflix\", p = \"cg:paid\", value = \"150000000\", datatype = \"xsd:decimal\" }]",
    );
    let sheet = scratch.sheet("claims/newsdesk-2024-04-03.toml", &accepted);
    let output = scratch.run("check", &[&scratch.seed(), &sheet]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Deleting the table without filling `content` leaves the ordinary error.
    let unfilled = draft("", "");
    let sheet = scratch.sheet("claims/newsdesk-2024-04-03.toml", &unfilled);
    let stderr = scratch.fails("check", &sheet);
    assert!(
        stderr.contains(":17:7: a claim needs its content as triples"),
        "{stderr}"
    );
}
