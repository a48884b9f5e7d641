//! The `claimgraph` binary as users and scripts run it: serve (with the data sync), load, query,
//! dump, help.

use crate::common::{claimgraph, copy_dir, count_at, repo, run, ServeProcess, COUNT_ALL};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `claimgraph ARGS`, which must succeed: what it printed on stdout.
fn ok(args: &[&str]) -> String {
    crate::common::ok(args).0
}

/// A `claimgraph serve` process and the address it printed.
struct Served {
    process: ServeProcess,
    url: String,
}

impl Served {
    fn start(store: &Path, data: &Path, ontology: &Path) -> Self {
        Self::start_with(store, data, ontology, &[])
    }

    /// [`Served::start`] with more flags.
    fn start_with(store: &Path, data: &Path, ontology: &Path, flags: &[&str]) -> Self {
        let mut command = claimgraph();
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--reload-interval", "1"])
            .arg("--store")
            .arg(store)
            .arg("--data")
            .arg(data)
            .arg("--ontology")
            .arg(ontology)
            .args(flags)
            .env("CLAIMGRAPH_LOG", "info");
        let process = ServeProcess::spawn(command);
        let url = process.url.clone();
        Self { process, url }
    }

    async fn count(&self) -> u64 {
        count_at(&reqwest::Client::new(), &self.url, COUNT_ALL).await
    }

    async fn ask(&self, query: &str) -> bool {
        let response = reqwest::Client::new()
            .get(format!("{}sparql", self.url))
            .query(&[("query", query)])
            .header("Accept", "application/sparql-results+json")
            .send()
            .await
            .unwrap();
        let json: serde_json::Value = response.json().await.unwrap();
        json["boolean"].as_bool().unwrap()
    }

    /// Waits (up to 10 s) until the ASK query answers `expected`; false if it never does.
    async fn wait_for(&self, query: &str, expected: bool) -> bool {
        for _ in 0..100 {
            if self.ask(query).await == expected {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }

    /// Stops the server the way a service manager does (SIGTERM) and waits for it.
    fn stop(mut self) {
        self.process.terminate();
    }
}

/// A temp dir with copies of data/ and ontology/ and room for a store: (dir, store, data, ontology).
fn seed_copy() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (store, data, ontology) = (
        dir.path().join("db"),
        dir.path().join("data"),
        dir.path().join("ontology"),
    );
    copy_dir(&repo().join("data"), &data);
    copy_dir(&repo().join("ontology"), &ontology);
    (dir, store, data, ontology)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_loads_the_seed_once_and_follows_changes_to_data_files() {
    let (_dir, store, data, ontology) = seed_copy();

    let served = Served::start(&store, &data, &ontology);
    let seeded = served.count().await;
    assert!(seeded > 0);
    assert!(
        served
            .ask("ASK { ?a a <http://schema.org/NewsArticle> ; <http://schema.org/headline> ?h }")
            .await
    );
    served.stop();

    // A restart on an unchanged store loads nothing and loses nothing.
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);
    served.stop();

    // Loading a data file again by hand adds nothing either.
    let vocabulary = ontology.join("claimgraph.ttl");
    ok(&[
        "load",
        "--store",
        store.to_str().unwrap(),
        vocabulary.to_str().unwrap(),
    ]);
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);
    served.stop();

    // Nor does ingesting the claim sheets again.
    let sheet = data.join("claims/zerohedge-2024-04-02.toml");
    ok(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        sheet.to_str().unwrap(),
    ]);
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);

    // A running server syncs again on SIGHUP.
    std::fs::write(
        ontology.join("extra.ttl"),
        "<http://e/s> <http://e/p> <http://e/o> .\n",
    )
    .unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &served.process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let extra = "ASK { <http://e/s> <http://e/p> <http://e/o> }";
    assert!(
        served.wait_for(extra, true).await,
        "SIGHUP did not sync the data directories"
    );
    // And by itself when a file changes: the file's removal takes its triple away.
    std::fs::remove_file(ontology.join("extra.ttl")).unwrap();
    assert!(
        served.wait_for(extra, false).await,
        "the removal of a data file was not noticed"
    );
    served.stop();
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);
    served.stop();

    // A changed file replaces exactly its graphs: the new triple is there, the old one gone.
    let text = std::fs::read_to_string(&sheet).unwrap();
    let changed = text.replace("name = \"Daily Mail\"\n", "name = \"The Daily Mail\"\n");
    assert_ne!(text, changed);
    std::fs::write(&sheet, changed).unwrap();
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);
    assert!(
        served
            .ask("ASK { ?o <http://schema.org/name> \"The Daily Mail\" }")
            .await
    );
    assert!(
        !served
            .ask("ASK { ?o <http://schema.org/name> \"Daily Mail\" }")
            .await
    );
    served.stop();

    // A removed file takes its graphs with it.
    std::fs::remove_file(&sheet).unwrap();
    let served = Served::start(&store, &data, &ontology);
    assert!(served.count().await < seeded);
    assert!(
        !served
            .ask("ASK { ?a a <http://schema.org/NewsArticle> }")
            .await
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_data_file_stops_the_start_and_changes_nothing() {
    let (_dir, store, data, ontology) = seed_copy();
    let served = Served::start(&store, &data, &ontology);
    let seeded = served.count().await;
    served.stop();

    std::fs::write(
        data.join("broken.ttl"),
        "<http://e/s> <http://e/p> <http://e/o> .\n<http://e/s> <http://e/p> .\n",
    )
    .unwrap();
    std::fs::write(data.join("claims/zerohedge-2024-04-02.toml"), "").unwrap();
    let output = claimgraph()
        .args(["serve", "--bind", "127.0.0.1:0", "--store"])
        .arg(&store)
        .arg("--data")
        .arg(&data)
        .arg("--ontology")
        .arg(&ontology)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.ttl:2:"), "{stderr}");

    std::fs::remove_file(data.join("broken.ttl")).unwrap();
    copy_dir(&repo().join("data"), &data);
    let served = Served::start(&store, &data, &ontology);
    assert_eq!(served.count().await, seeded);
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_largest_concurrency_caps_are_taken_as_no_cap() {
    // Past what a tokio semaphore holds (usize::MAX >> 3), which panicked at start.
    let (_dir, store, data, ontology) = seed_copy();
    let huge = u64::MAX.to_string();
    let served = Served::start_with(
        &store,
        &data,
        &ontology,
        &["--max-queries", &huge, "--max-lookups", &huge],
    );
    assert!(served.ask("ASK { ?s ?p ?o }").await);
    let claim = reqwest::get(format!("{}claims/netflix-inbox-api", served.url))
        .await
        .unwrap();
    assert_eq!(claim.status(), 200);
    served.stop();
}

#[test]
fn load_names_file_line_and_column_and_loads_nothing_from_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let bad = dir.path().join("bad.ttl");
    std::fs::write(
        &bad,
        "@prefix ex: <http://example.org/> .\nex:a ex:p ex:b .\nex:c ex:p \"unterminated .\n",
    )
    .unwrap();
    let output = run(&[
        "load",
        "--store",
        store.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.ttl:3:"), "{stderr}");
    let count = ok(&[
        "query",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    ]);
    assert_eq!(count, "n\r\n0\r\n");

    let output = run(&["load", "--store", store.to_str().unwrap(), "notes.docx"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown RDF format"));
}

#[test]
fn load_gzip_query_and_dump_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let file = dir.path().join("quads.nq.gz");
    let nquads =
        "<http://e/s> <http://e/p> \"é €\" <http://e/g> .\n_:b <http://e/p> <http://e/o> .\n";
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(nquads.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let store_arg = store.to_str().unwrap();
    ok(&["load", "--store", store_arg, file.to_str().unwrap()]);

    // Default-graph triples of a quad file go to the graph named after the file.
    let csv = ok(&[
        "query",
        "--store",
        store_arg,
        "--format",
        "csv",
        "SELECT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
    ]);
    assert_eq!(
        csv,
        "g\r\nhttp://e/g\r\nhttp://localhost:7878/graphs/quads\r\n"
    );
    let turtle = ok(&[
        "query",
        "--store",
        store_arg,
        "CONSTRUCT WHERE { <http://e/s> ?p ?o }",
    ]);
    assert!(turtle.contains("\"é €\""), "{turtle}");

    let dump = dir.path().join("dump.trig");
    ok(&[
        "dump",
        "--store",
        store_arg,
        "--format",
        "trig",
        "--output",
        dump.to_str().unwrap(),
    ]);
    let copy = dir.path().join("copy");
    ok(&[
        "load",
        "--store",
        copy.to_str().unwrap(),
        dump.to_str().unwrap(),
    ]);
    let original = ok(&["dump", "--store", store_arg, "--canonical"]);
    let reloaded = ok(&["dump", "--store", copy.to_str().unwrap(), "--canonical"]);
    assert_eq!(original, reloaded);
    assert_eq!(original.lines().count(), 2);

    let output = run(&["dump", "--store", store_arg, "--format", "turtle"]);
    assert!(
        !output.status.success(),
        "Turtle cannot hold a whole dataset"
    );
    ok(&[
        "dump",
        "--store",
        store_arg,
        "--format",
        "turtle",
        "--graph",
        "http://e/g",
    ]);
}

#[test]
fn seed_text_is_archived_exactly_and_its_hash_recorded() {
    use sha2::{Digest, Sha256};
    let text =
        std::fs::read(repo().join("data/texts/zerohedge-2024-04-02-facebook-netflix-dms.txt"))
            .unwrap();
    let sha = format!("{:x}", Sha256::digest(&text));
    let sheet =
        std::fs::read_to_string(repo().join("data/claims/zerohedge-2024-04-02.toml")).unwrap();
    assert!(
        sheet.contains(&format!("text_sha256 = \"{sha}\"")),
        "the sheet records another hash"
    );
    let shared = repo().join("../shared/seed/article.txt");
    if shared.exists() {
        assert_eq!(
            std::fs::read(shared).unwrap(),
            text,
            "data/texts differs from the shared seed"
        );
    }
}

#[test]
fn every_command_explains_every_flag() {
    for (command, flags) in [
        (
            "serve",
            &[
                "--store",
                "--base",
                "--bind",
                "--data",
                "--ontology",
                "--reload-interval",
                "--read-only",
                "--write-token",
                "--max-queries",
                "--max-lookups",
            ][..],
        ),
        ("load", &["--store", "--base", "--graph"][..]),
        (
            "query",
            &[
                "--store",
                "--base",
                "--file",
                "--format",
                "--default-graph",
                "--named-graph",
            ][..],
        ),
        (
            "dump",
            &["--store", "--format", "--graph", "--output", "--canonical"][..],
        ),
        ("check", &["--data", "CLAIMGRAPH_DATA"][..]),
        (
            "ingest",
            &["--store", "--base", "--data", "CLAIMGRAPH_STORE"][..],
        ),
        (
            "verify",
            &["--store", "--base", "--data", "CLAIMGRAPH_STORE"][..],
        ),
    ] {
        let help = ok(&[command, "--help"]);
        for flag in flags {
            assert!(
                help.contains(flag),
                "{command} --help does not mention {flag}"
            );
        }
        assert!(
            help.contains("[env: CLAIMGRAPH_"),
            "{command} --help names the environment variables"
        );
    }
}
