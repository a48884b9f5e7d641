//! Claims from claim sheets: `check` errors located as file:line:col, the seed corpus as served,
//! atomic and replacing ingest on a RocksDB store, and `verify` finding drift.

use crate::common::{repo, run, Options, TestServer};
use claimgraph::{claims, loader, ClaimStore};
use std::path::{Path, PathBuf};

const SHEET: &str = "data/claims/zerohedge-2024-04-02.toml";

#[test]
fn the_seed_sheets_check() {
    let data = repo().join("data");
    let sheet = repo().join(SHEET);
    let output = run(&[
        "check",
        "--data",
        data.to_str().unwrap(),
        sheet.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A scratch data directory with one archived text and a sheet around it.
struct Scratch {
    dir: tempfile::TempDir,
}

const TEXT: &str = "Alpha said the fine was €5 million. Alpha denied “everything”.";

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data/texts")).unwrap();
        std::fs::write(dir.path().join("data/texts/a.txt"), TEXT).unwrap();
        Self { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sheet(&self, name: &str, claims: &str) -> PathBuf {
        use sha2::Digest;
        let sha = format!("{:x}", sha2::Sha256::digest(TEXT.as_bytes()));
        let text = format!(
            r#"[[sources]]
key = "doc"
type = "NewsArticle"
headline = "A document"
published = 2024-04-02
text = "../texts/a.txt"
text_sha256 = "{sha}"

[[entities]]
key = "alpha"
type = "Person"
name = "Alpha"
{claims}"#
        );
        let path = self.data().join("sheets").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `claimgraph check` on a sheet and returns its stderr, asserting failure.
    fn check_fails(&self, sheet: &Path) -> String {
        let output = run(&[
            "check",
            "--data",
            self.data().to_str().unwrap(),
            sheet.to_str().unwrap(),
        ]);
        assert!(
            !output.status.success(),
            "check accepted {}",
            sheet.display()
        );
        String::from_utf8(output.stderr).unwrap()
    }
}

fn claim(key: &str, quote: &str, extra: &str) -> String {
    format!(
        r#"
[[claims]]
key = "{key}"
text = "A claim."
claimant = "alpha"
status = "Stated"
content = [{{ s = "alpha", p = "schema:description", value = "x" }}]
{extra}
[[claims.appearances]]
source = "doc"
quote = "{quote}"
"#
    )
}

#[test]
fn check_locates_every_kind_of_mistake() {
    let scratch = Scratch::new();
    // The sheet's fixed head is 12 lines; the claim's table starts on line 14.
    let cases = [
        (
            "wrong-quote.toml",
            claim("c", "the fine was €6 million", ""),
            ":23:9: the quote is not in the archived text",
        ),
        (
            "twice.toml",
            claim("c", "Alpha", ""),
            ":23:9: the quote occurs 2 times (at code points 0, 36)",
        ),
        (
            "unknown-entity.toml",
            claim("c", "€5 million", "").replace("claimant = \"alpha\"", "claimant = \"beta\""),
            ":17:12: unknown key \"beta\"",
        ),
        (
            "bad-status.toml",
            claim("c", "€5 million", "").replace("\"Stated\"", "\"Rumoured\""),
            ":18:10: unknown status \"Rumoured\"",
        ),
        (
            "bad-date.toml",
            claim("c", "€5 million", "")
                .replace("\"x\"", "\"2024-02-30\", datatype = \"xsd:date\""),
            ":19:61: \"2024-02-30\" is not a valid xsd:date",
        ),
        (
            "bad-toml-date.toml",
            claim("c", "€5 million", "").replace(
                "text = \"A claim.\"",
                "text = \"A claim.\"\nwhen = 2024-13-01",
            ),
            ":17:",
        ),
    ];
    for (name, claims, expected) in cases {
        let sheet = scratch.sheet(name, &claims);
        let stderr = scratch.check_fails(&sheet);
        assert!(
            stderr.contains(&format!("{name}{expected}")),
            "{name}: {stderr}"
        );
    }
    // A repeated quote passes once the occurrence is named, and offsets are code points.
    let sheet = scratch.sheet(
        "occurrence.toml",
        &claim("c", "Alpha", "").replace("quote = \"Alpha\"", "quote = \"Alpha\"\noccurrence = 2"),
    );
    let compiled = claims::prepare(&[sheet], &scratch.data(), "http://example.org/").unwrap();
    let starts: Vec<String> = compiled[0]
        .quads
        .iter()
        .filter(|q| q.predicate.as_str() == "http://www.w3.org/ns/oa#start")
        .map(|q| q.object.to_string())
        .collect();
    assert_eq!(
        starts,
        ["\"36\"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>"]
    );
}

fn values(results: &serde_json::Value, var: &str) -> Vec<String> {
    results["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[var]["value"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_served_seed_corpus_holds_anchored_hashed_claims_with_their_chains() {
    let server = TestServer::start(Options {
        data_dirs: vec![repo().join("ontology"), repo().join("data")],
        ..Options::default()
    })
    .await;
    let claims = server
        .count("SELECT (COUNT(DISTINCT ?c) AS ?n) { ?c a <http://schema.org/Claim> }")
        .await;
    assert!(claims >= 15, "{claims} claims");

    // Every claim has a claimant, a status and an assertion graph whose RDFC-1.0 hash matches.
    let rows = server
        .select(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#>
             SELECT ?c ?author ?status ?g ?hash { ?c a schema:Claim .
               OPTIONAL { ?c schema:author ?author } OPTIONAL { ?c cg:status ?status }
               OPTIONAL { ?c cg:assertion ?g } OPTIONAL { ?c cg:assertionHash ?hash } }",
        )
        .await;
    for binding in rows["results"]["bindings"].as_array().unwrap() {
        for var in ["author", "status", "g", "hash"] {
            assert!(
                binding.get(var).is_some(),
                "{} has no {var}",
                binding["c"]["value"]
            );
        }
        let graph = binding["g"]["value"].as_str().unwrap();
        let ntriples = server
            .client
            .get(server.url("sparql"))
            .query(&[(
                "query",
                format!("CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"),
            )])
            .header("Accept", "application/n-triples")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!ntriples.is_empty(), "{graph} is empty");
        let hash = claimgraph::canonical::canonical_sha256(&ntriples).unwrap();
        assert_eq!(hash, binding["hash"]["value"].as_str().unwrap(), "{graph}");
    }

    // For every appearance, the archived text's code points [start, end) are the exact quote.
    let rows = server
        .select(include_str!("../../queries/appearances.rq"))
        .await;
    let appearances = rows["results"]["bindings"].as_array().unwrap();
    assert!(appearances.len() >= 15);
    for binding in appearances {
        let text = std::fs::read_to_string(
            repo()
                .join("data")
                .join(binding["text"]["value"].as_str().unwrap()),
        )
        .unwrap();
        let start: usize = binding["start"]["value"].as_str().unwrap().parse().unwrap();
        let end: usize = binding["end"]["value"].as_str().unwrap().parse().unwrap();
        let slice: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(slice, binding["exact"]["value"].as_str().unwrap());
    }

    // From a filing allegation to its primary source: repost → Daily Mail → court filing.
    let chain = server
        .select(
            "PREFIX schema: <http://schema.org/> PREFIX prov: <http://www.w3.org/ns/prov#>
             PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX cg: <https://w3id.org/claimgraph/ns#>
             SELECT ?claim ?document ?upstream ?primary {
               ?claim cg:status cg:Alleged ; prov:hadPrimarySource ?primary ;
                      schema:appearance/oa:hasSource ?document .
               ?document prov:wasDerivedFrom ?upstream .
               ?upstream prov:wasDerivedFrom ?primary .
             }",
        )
        .await;
    let base = &server.base;
    let documents = values(&chain, "document");
    assert!(documents.len() >= 5, "{chain}");
    assert!(documents
        .iter()
        .all(|d| *d == format!("{base}sources/zerohedge-2024-04-02-facebook-netflix-dms")));
    assert!(values(&chain, "upstream")
        .iter()
        .all(|d| *d == format!("{base}sources/dailymail-2024-04-02-facebook-netflix-dms")));
    assert!(values(&chain, "primary")
        .iter()
        .all(|d| *d == format!("{base}sources/klein-v-meta-letter-2023-04-14")));

    // The denial disputes what it denies; the review rates the "explosive new lawsuit".
    assert!(server
        .count("PREFIX cito: <http://purl.org/spar/cito/> PREFIX cg: <https://w3id.org/claimgraph/ns#>
                SELECT (COUNT(*) AS ?n) { ?d cg:status cg:Denied ; cito:disputes ?c . ?c cg:status cg:Alleged }")
        .await
        >= 1);
    assert_eq!(
        server
            .count(
                "PREFIX schema: <http://schema.org/>
                    SELECT (COUNT(*) AS ?n) { ?r a schema:ClaimReview ; schema:itemReviewed ?c ;
                      schema:reviewRating/schema:alternateName ?label ; schema:datePublished ?d }"
            )
            .await,
        1
    );
}

fn canonical_dump(store: &ClaimStore) -> String {
    let nquads = store
        .dump(oxigraph::io::RdfFormat::NQuads, None, Vec::new())
        .unwrap();
    claimgraph::canonical::canonical_nquads(&String::from_utf8(nquads).unwrap()).unwrap()
}

#[test]
fn a_write_that_fails_halfway_leaves_the_rocksdb_store_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = ClaimStore::open(&dir.path().join("db"), claimgraph::DEFAULT_BASE).unwrap();
    let sheet = repo().join(SHEET);
    let compiled = claims::prepare(
        std::slice::from_ref(&sheet),
        &repo().join("data"),
        store.base(),
    )
    .unwrap();
    claims::ingest(
        &store,
        &compiled[0],
        "data/claims/zerohedge-2024-04-02.toml",
    )
    .unwrap();
    let before = canonical_dump(&store);

    // Half of a new ingest is written, then it fails: nothing of it remains.
    let outcome = store.write(|transaction| {
        for quad in compiled[0].quads.iter().take(compiled[0].quads.len() / 2) {
            let mut quad = quad.clone();
            quad.graph_name = oxigraph::model::NamedNode::new("http://example.org/half")
                .unwrap()
                .into();
            transaction.insert(&quad);
        }
        transaction.clear_graph(
            oxigraph::model::NamedNode::new(format!(
                "{}graphs/claims/zerohedge-2024-04-02",
                store.base()
            ))
            .unwrap()
            .as_ref(),
        )?;
        Err::<(), _>(claimgraph::Error::Invalid("failed halfway".into()))
    });
    assert!(outcome.is_err());
    assert_eq!(canonical_dump(&store), before);

    // Reopened from disk, it is still the same.
    drop(store);
    let store = ClaimStore::open(&dir.path().join("db"), claimgraph::DEFAULT_BASE).unwrap();
    assert_eq!(canonical_dump(&store), before);

    // A set of sheets with an error anywhere ingests nothing.
    let scratch = Scratch::new();
    let good = scratch.sheet("good.toml", &claim("good", "€5 million", ""));
    let bad = scratch.sheet(
        "bad.toml",
        &claim("bad", "no such words", "")
            .replace("key = \"doc\"", "key = \"doc2\"")
            .replace("key = \"alpha\"", "key = \"alpha2\"")
            .replace("\"alpha\"", "\"alpha2\"")
            .replace("source = \"doc\"", "source = \"doc2\""),
    );
    let output = run(&[
        "ingest",
        "--store",
        dir.path().join("db").to_str().unwrap(),
        "--data",
        scratch.data().to_str().unwrap(),
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    drop(store);
    assert!(!output.status.success());
    let store = ClaimStore::open(&dir.path().join("db"), claimgraph::DEFAULT_BASE).unwrap();
    assert_eq!(canonical_dump(&store), before);
}

#[test]
fn re_ingesting_a_changed_sheet_replaces_exactly_its_graphs() {
    let scratch = Scratch::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let ingest = |sheet: &Path| {
        let output = run(&[
            "ingest",
            "--store",
            db.to_str().unwrap(),
            "--data",
            scratch.data().to_str().unwrap(),
            sheet.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let other = scratch.sheet("other.toml", "");
    std::fs::write(
        &other,
        "[[entities]]\nkey = \"gamma\"\ntype = \"Person\"\nname = \"Gamma\"\n",
    )
    .unwrap();
    ingest(&other);
    let sheet = scratch.sheet(
        "s.toml",
        &(claim("one", "€5 million", "") + &claim("two", "“everything”", "")),
    );
    ingest(&sheet);
    let sheet = scratch.sheet("s.toml", &claim("one", "fine was €5 million", ""));
    ingest(&sheet);

    let store = ClaimStore::open(&db, claimgraph::DEFAULT_BASE).unwrap();
    let rows = store.select("SELECT ?c ?exact { ?c <http://schema.org/appearance>/<http://www.w3.org/ns/oa#hasSelector>/<http://www.w3.org/ns/oa#exact> ?exact }").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0][1].as_ref().unwrap().to_string(),
        "\"fine was €5 million\""
    );
    let graphs = store
        .select("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
        .unwrap();
    let graphs: Vec<String> = graphs
        .iter()
        .map(|r| r[0].as_ref().unwrap().to_string())
        .collect();
    assert!(
        !graphs.iter().any(|g| g.contains("assertions/two")),
        "{graphs:?}"
    );
    assert!(graphs.iter().any(|g| g.contains("assertions/one")));
    assert!(
        graphs.iter().any(|g| g.contains("entities/other")),
        "the other sheet's graphs stay"
    );
}

#[test]
fn verify_reports_moved_quotes_and_tampered_assertions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("claims")).unwrap();
    std::fs::create_dir_all(data.join("texts")).unwrap();
    for path in [
        "claims/zerohedge-2024-04-02.toml",
        "texts/zerohedge-2024-04-02-facebook-netflix-dms.txt",
    ] {
        std::fs::copy(repo().join("data").join(path), data.join(path)).unwrap();
    }
    let store = ClaimStore::open(&dir.path().join("db"), claimgraph::DEFAULT_BASE).unwrap();
    loader::sync_dirs(&store, std::slice::from_ref(&data)).unwrap();
    let drift = claims::verify(&store, &data).unwrap();
    assert!(drift.problems.is_empty(), "{:?}", drift.problems);
    assert!(drift.checked_claims >= 15 && drift.checked_appearances >= 15);

    // Someone edits an assertion graph behind the sheet's back.
    store
        .write(|t| {
            t.insert(oxigraph::model::QuadRef::new(
                oxigraph::model::NamedNodeRef::new("http://example.org/x").unwrap(),
                oxigraph::model::NamedNodeRef::new("http://example.org/y").unwrap(),
                oxigraph::model::NamedNodeRef::new("http://example.org/z").unwrap(),
                oxigraph::model::NamedNodeRef::new(&format!(
                    "{}graphs/assertions/netflix-inbox-api",
                    store.base()
                ))
                .unwrap(),
            ));
            Ok(())
        })
        .unwrap();
    // And the archived text is re-saved with one character added at the start.
    let text_path = data.join("texts/zerohedge-2024-04-02-facebook-netflix-dms.txt");
    let text = std::fs::read_to_string(&text_path).unwrap();
    std::fs::write(&text_path, format!(" {text}")).unwrap();
    let drift = claims::verify(&store, &data).unwrap();
    let report = drift.problems.join("\n");
    assert!(
        report.contains("netflix-inbox-api") && report.contains("hashes to"),
        "{report}"
    );
    assert!(report.contains("no longer has SHA-256"), "{report}");
}
