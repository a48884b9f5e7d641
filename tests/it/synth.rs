//! `claimgraph gen`: the synthetic corpus is deterministic, passes the real checks, and its two
//! forms (claim sheets for `ingest`, N-Quads for `load`) give the same store; its shape follows
//! the seed (status mix, chains of 1–4 hops to a primary source, skewed entity popularity).

use crate::common::{ok_stderr, repo, run};
use claimgraph::ClaimStore;
use oxigraph::model::Term;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn generate(out: &Path, claims: usize, seed: u64) -> String {
    ok_stderr(&[
        "gen",
        "--claims",
        &claims.to_string(),
        "--seed",
        &seed.to_string(),
        "--batch",
        "100",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Every file under `dir`, by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_another_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    generate(&a, 250, 7);
    generate(&b, 250, 7);
    generate(&c, 250, 8);
    let (a, b, c) = (files(&a), files(&b), files(&c));
    assert!(a.contains_key(Path::new("corpus.nq")));
    assert!(a.contains_key(Path::new("claims/entities.toml")));
    assert!(a.contains_key(Path::new("claims/batch-00003.toml")));
    assert!(a.keys().any(|p| p.starts_with("texts")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(
            &b[path] == bytes,
            "{} differs between two runs",
            path.display()
        );
    }
    assert_ne!(a[Path::new("corpus.nq")], c[Path::new("corpus.nq")]);
    assert_ne!(
        a[Path::new("claims/batch-00001.toml")],
        c[Path::new("claims/batch-00001.toml")]
    );
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.nq"), "").unwrap();
    let refused = run(&["gen", "--claims", "10", "--out", out.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));

    let fresh = dir.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    for (args, says) in [
        (vec!["--claims", "10", "--format", "rdf"], "--format rdf"),
        (vec!["--claims", "0"], "--claims must be at least 1"),
        (
            vec!["--claims", "10", "--batch", "0"],
            "--batch must be at least 1",
        ),
    ] {
        let mut all = vec!["gen", "--out", fresh];
        all.extend(args);
        let output = run(&all);
        assert!(!output.status.success(), "{all:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{all:?}: {stderr}");
    }
    let help = String::from_utf8(run(&["gen", "--help"]).stdout).unwrap();
    for flag in ["--claims", "--seed", "--out", "--format", "--batch"] {
        assert!(help.contains(flag), "gen --help does not explain {flag}");
    }
}

/// The store's quads, minus ingest's bookkeeping (which names the sheets' paths on disk), as
/// RDFC-1.0 canonical N-Quads.
fn canonical_without_records(store: &ClaimStore) -> String {
    let records = store.graph_iri("data-files").unwrap();
    let mut nquads = String::new();
    for quad in store.quads(None) {
        let quad = quad.unwrap();
        if quad.graph_name.to_string() != records.to_string() {
            nquads.push_str(&format!("{quad} .\n"));
        }
    }
    claimgraph::canonical::canonical_nquads(&nquads).unwrap()
}

fn string(term: &Option<Term>) -> String {
    match term {
        Some(Term::NamedNode(n)) => n.as_str().to_owned(),
        Some(Term::Literal(l)) => l.value().to_owned(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[test]
fn five_hundred_claims_check_ingest_load_and_verify_alike_and_look_like_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let summary = generate(&out, 500, 42);
    assert!(summary.contains("generated 500 claims"), "{summary}");
    let data = out.to_str().unwrap();
    let mut sheets: Vec<String> = std::fs::read_dir(out.join("claims"))
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_owned())
        .collect();
    sheets.sort();
    assert_eq!(sheets.len(), 6, "entities.toml and five sheets of 100");

    let mut check = vec!["check", "--data", data];
    check.extend(sheets.iter().map(String::as_str));
    assert!(ok_stderr(&check).contains("500 claims"));

    let (ingested, loaded) = (dir.path().join("ingested"), dir.path().join("loaded"));
    let mut ingest = vec![
        "ingest",
        "--store",
        ingested.to_str().unwrap(),
        "--data",
        data,
    ];
    ingest.extend(sheets.iter().map(String::as_str));
    ok_stderr(&ingest);
    let nq = out.join("corpus.nq");
    ok_stderr(&[
        "load",
        "--store",
        loaded.to_str().unwrap(),
        nq.to_str().unwrap(),
    ]);
    for store in [&ingested, &loaded] {
        let report = ok_stderr(&["verify", "--store", store.to_str().unwrap(), "--data", data]);
        assert!(report.contains("500 claims"), "{report}");
        assert!(report.contains(": 0 problem(s)"), "{report}");
    }

    let base = claimgraph::DEFAULT_BASE;
    let ingested = ClaimStore::open(&ingested, base).unwrap();
    let loaded = ClaimStore::open(&loaded, base).unwrap();
    let canonical = canonical_without_records(&ingested);
    assert!(canonical.lines().count() > 10_000);
    assert!(
        canonical == canonical_without_records(&loaded),
        "ingesting the sheets and loading corpus.nq give different stores"
    );

    // The seed's status mix: 10 Alleged : 6 Reported : 3 Stated : 2 PublicRecord : 1 Settled :
    // 1 Denied per 23.
    let statuses = ingested
        .select(
            "PREFIX cg: <https://w3id.org/claimgraph/ns#>
             SELECT ?status (COUNT(DISTINCT ?claim) AS ?n) { ?claim cg:status ?status }
             GROUP BY ?status",
        )
        .unwrap();
    let counts: HashMap<String, f64> = statuses
        .iter()
        .map(|row| {
            let status = string(&row[0]);
            let status = status.rsplit('#').next().unwrap().to_owned();
            (status, string(&row[1]).parse().unwrap())
        })
        .collect();
    for (status, weight) in [
        ("Alleged", 10.0),
        ("Reported", 6.0),
        ("Stated", 3.0),
        ("PublicRecord", 2.0),
        ("Settled", 1.0),
        ("Denied", 1.0),
    ] {
        let expected = 500.0 * weight / 23.0;
        let found = counts.get(status).copied().unwrap_or(0.0);
        assert!(
            (found - expected).abs() <= (expected * 0.25_f64).max(10.0),
            "{status}: {found} claims, expected about {expected:.0} ({counts:?})"
        );
    }
    assert_eq!(counts.values().sum::<f64>(), 500.0);

    // Every denial disputes a claim; about one claim in 20 is reviewed.
    let undisputing = ingested
        .select(
            "PREFIX cg: <https://w3id.org/claimgraph/ns#>
             PREFIX cito: <http://purl.org/spar/cito/>
             SELECT ?c { ?c cg:status cg:Denied FILTER NOT EXISTS { ?c cito:disputes ?d } }",
        )
        .unwrap();
    assert!(undisputing.is_empty(), "denials that dispute nothing");
    let reviews = ingested
        .select("SELECT DISTINCT ?r { ?r a <http://schema.org/ClaimReview> }")
        .unwrap()
        .len();
    assert!(
        (10..=50).contains(&reviews),
        "{reviews} reviews for 500 claims"
    );

    // Every appearance has a chain of 1 to 4 hops that reaches the claim's primary source (a
    // court filing, a statement or a news article), counted by the canned question.
    let chains_query = std::fs::read_to_string(repo().join("queries/claim-chains.rq")).unwrap();
    let chains: BTreeMap<(String, String), u32> = ingested
        .select(&chains_query)
        .unwrap()
        .iter()
        .map(|row| {
            (
                (string(&row[0]), string(&row[1])),
                string(&row[3]).parse().unwrap(),
            )
        })
        .collect();
    let appearances: BTreeSet<(String, String)> = ingested
        .select(
            "PREFIX schema: <http://schema.org/> PREFIX oa: <http://www.w3.org/ns/oa#>
             SELECT DISTINCT ?c ?d { ?c schema:appearance/oa:hasSource ?d }",
        )
        .unwrap()
        .iter()
        .map(|row| (string(&row[0]), string(&row[1])))
        .collect();
    assert!(appearances.len() >= 500);
    for appearance in &appearances {
        let hops = chains.get(appearance).unwrap_or_else(|| {
            panic!("{appearance:?}: the chain does not reach the primary source")
        });
        assert!((1..=4).contains(hops), "{appearance:?}: {hops} hops");
    }
    let hop_counts: BTreeSet<u32> = chains.values().copied().collect();
    assert_eq!(
        hop_counts,
        BTreeSet::from([1, 2, 3, 4]),
        "chains of every length"
    );
    let primary_kinds: BTreeSet<String> = ingested
        .select(
            "PREFIX prov: <http://www.w3.org/ns/prov#>
             SELECT DISTINCT ?kind { ?c prov:hadPrimarySource ?p . ?p a ?kind
               FILTER(?kind != prov:Entity) }",
        )
        .unwrap()
        .iter()
        .map(|row| string(&row[0]))
        .collect();
    assert_eq!(
        primary_kinds,
        BTreeSet::from([
            "http://schema.org/NewsArticle".to_owned(),
            "https://w3id.org/claimgraph/ns#CourtFiling".to_owned(),
            "https://w3id.org/claimgraph/ns#Statement".to_owned(),
        ])
    );

    // Entity popularity is skewed: the top 1% of entities are what ≥ 10% of claims are about.
    let entities = ingested
        .select(&format!(
            "SELECT DISTINCT ?e {{ GRAPH <{base}graphs/entities/entities> {{ ?e a ?t }} }}"
        ))
        .unwrap()
        .len();
    let mut claims_about: HashMap<String, BTreeSet<String>> = HashMap::new();
    for row in ingested
        .select("SELECT DISTINCT ?c ?e { ?c a <http://schema.org/Claim> ; <http://schema.org/about> ?e }")
        .unwrap()
    {
        claims_about
            .entry(string(&row[1]))
            .or_default()
            .insert(string(&row[0]));
    }
    let mut popular: Vec<&BTreeSet<String>> = claims_about.values().collect();
    popular.sort_by_key(|claims| std::cmp::Reverse(claims.len()));
    let top = entities.div_ceil(100);
    let covered: BTreeSet<&String> = popular[..top].iter().flat_map(|c| c.iter()).collect();
    assert!(
        covered.len() * 10 >= 500,
        "the top {top} of {entities} entities are in only {} of 500 claims",
        covered.len()
    );
}
