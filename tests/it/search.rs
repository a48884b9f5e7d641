//! The claims index: ranked search, phrases, prefixes, accents, facet counts that equal SPARQL's,
//! stable cursors, bad input as 400 — and the index following every write path (data sync,
//! SPARQL Update, Graph Store, `ingest`), repaired when it misses a write.

use crate::common::{
    claims_in_store_and_index, copy_dir, ok_stderr, repo, Options, TestServer, TOKEN,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

async fn seeded() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    server.get_json(path, "application/json").await
}

async fn found(server: &TestServer, path: &str) -> Value {
    let (status, body) = get(server, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The keys of the claims of one page, in order.
fn keys(page: &Value) -> Vec<String> {
    page["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every claim of a search, following `next` links: none twice.
async fn every_page(server: &TestServer, path: &str) -> Vec<String> {
    let mut path = path.to_owned();
    let mut all = Vec::new();
    for _ in 0..1000 {
        let page = found(server, &path).await;
        all.extend(keys(&page));
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "pages of {path} overlap: {all:?}"
    );
    all
}

const PREFIXES: &str =
    "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#> ";

#[tokio::test]
async fn words_phrases_and_prefixes_find_the_claims_best_first() {
    let server = seeded().await;
    // All words must match; the claim that says them in its own text comes first.
    let page = found(&server, "/claims?q=netflix+paid+million").await;
    assert_eq!(keys(&page)[0], "netflix-paid-over-100-million", "{page}");
    assert!(page["claims"][0]["score"].as_f64().unwrap() > 0.0);
    // Case and accents aside: the Irish fine is in euros, written "€265 million"; "Commission".
    let page = found(&server, "/claims?q=COMMISSION+fined").await;
    assert_eq!(page["total"], 1, "{page}");
    // A phrase must appear as written; its words apart do not match.
    let phrase = found(&server, "/claims?q=%22bespoke+access%22").await;
    let apart = found(&server, "/claims?q=%22access+bespoke%22").await;
    assert!(phrase["total"].as_u64().unwrap() >= 1, "{phrase}");
    assert_eq!(apart["total"], 0, "{apart}");
    // A claim's text is searched twice (its words count twice), never as one run of words: a
    // phrase over its end and its start ("... user data." "Netflix paid ...") does not find it.
    let seam = every_page(&server, "/claims?q=%22data+netflix%22").await;
    assert!(!seam.is_empty());
    assert!(
        !seam
            .iter()
            .any(|key| key == "netflix-paid-over-100-million"),
        "{seam:?}"
    );
    // A prefix; an excluded word.
    let prefix = every_page(&server, "/claims?q=cambridg*&limit=2").await;
    let words = every_page(&server, "/claims?q=cambridge").await;
    assert_eq!(
        prefix.iter().collect::<BTreeSet<_>>(),
        words.iter().collect::<BTreeSet<_>>()
    );
    assert!(words.len() >= 3, "{words:?}");
    let without = every_page(&server, "/claims?q=cambridge+-bosworth").await;
    assert!(without.len() < words.len() && !without.is_empty());
    // Quotes, names and outlets are searched too: the claimant's name finds its claims.
    let by_name = every_page(&server, "/claims?q=schroepfer").await;
    assert!(by_name.len() >= 2, "{by_name:?}");

    // Paging a ranked search: the same claims as one page, in the same order.
    let one = keys(&found(&server, "/claims?q=netflix+facebook&limit=100").await);
    let paged = every_page(&server, "/claims?q=netflix+facebook&limit=3").await;
    assert_eq!(one, paged);
    assert!(one.len() > 6);
}

#[tokio::test]
async fn facet_counts_equal_what_sparql_counts() {
    let server = seeded().await;
    let page = found(
        &server,
        "/claims?facets=status,claimant&limit=1&facet_limit=100",
    )
    .await;
    let counted = |facet: &str| -> BTreeMap<String, u64> {
        page["facets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == facet)
            .unwrap()["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap().to_owned(),
                    v["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let by_sparql = |results: Value, strip: &str| -> BTreeMap<String, u64> {
        results["results"]["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["v"]["value"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches(strip)
                        .to_owned(),
                    b["n"]["value"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    let statuses = server
        .select(&format!(
            "{PREFIXES} SELECT ?v (COUNT(DISTINCT ?c) AS ?n) {{ ?c a schema:Claim ; cg:status ?v }} GROUP BY ?v"
        ))
        .await;
    assert_eq!(
        counted("status"),
        by_sparql(statuses, "https://w3id.org/claimgraph/ns#")
    );
    let claimants = server
        .select(&format!(
            "{PREFIXES} SELECT ?v (COUNT(DISTINCT ?c) AS ?n) {{ ?c a schema:Claim ; schema:author ?v }} GROUP BY ?v"
        ))
        .await;
    assert_eq!(counted("claimant"), by_sparql(claimants, ""));
    assert_eq!(page["total"], 23);
    // Facet values carry their names, and counts follow the filters.
    let alleged = found(&server, "/claims?status=alleged&facets=claimant").await;
    let values = alleged["facets"][0]["values"].as_array().unwrap();
    let sum: u64 = values.iter().map(|v| v["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, alleged["total"].as_u64().unwrap());
    assert!(values.iter().all(|v| v["label"].is_string()), "{values:?}");
}

#[tokio::test]
async fn bad_searches_are_400_naming_the_problem_or_searched_literally() {
    let server = seeded().await;
    // Unbalanced quotes and other engines' operators are words, never a 500.
    for q in [
        "%22netflix",
        "netflix+AND+(meta",
        "%3A%3A%3A",
        "*",
        "-",
        "%22%22",
        "a*b*c",
    ] {
        let (status, body) = get(&server, &format!("/claims?q={q}")).await;
        assert_eq!(status, 200, "q={q}: {body}");
    }
    for (query, named) in [
        ("facets=status,colour", "colour"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("facet_limit=0", "facet_limit"),
        ("from=yesterday", "from"),
        ("to=2024-13-45", "to"),
        ("q=netflix&after=garbage", "after"),
        ("status=rumoured", "status"),
    ] {
        let (status, body) = get(&server, &format!("/claims?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{query}: {message}");
    }
}

/// A claim written through SPARQL Update: its description and content in graphs of their own.
fn claim_update(base: &str, key: &str, text: &str, entity_name: &str) -> String {
    format!(
        "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#>
         INSERT DATA {{
           GRAPH <{base}graphs/claims/{key}> {{
             <{base}claims/{key}> a schema:Claim ; schema:text \"{text}\" ; cg:status cg:Alleged ;
               schema:author <{base}entities/{key}-claimant> ; cg:assertion <{base}graphs/assertions/{key}> .
           }}
           GRAPH <{base}graphs/entities/{key}> {{
             <{base}entities/{key}-claimant> a schema:Person ; schema:name \"{entity_name}\" .
           }}
           GRAPH <{base}graphs/assertions/{key}> {{
             <{base}entities/{key}-claimant> schema:knows <{base}entities/{key}-other> .
           }}
         }}"
    )
}

#[tokio::test]
async fn the_index_follows_sparql_updates_graph_store_writes_and_data_sync() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    copy_dir(&repo().join("data"), &data);
    let server = TestServer::start(Options {
        data_dirs: vec![data.clone()],
        ..Options::default()
    })
    .await;
    let base = server.base.clone();
    let total = |page: &Value| page["total"].as_u64().unwrap();

    // SPARQL Update: found by its words and its claimant's name as soon as the update answers.
    let response = server
        .update(&claim_update(
            &base,
            "zeppelin-fleet",
            "A fleet of zeppelins was ordered.",
            "Ottoline Quarrier",
        ))
        .await;
    assert!(response.status().is_success());
    assert_eq!(
        keys(&found(&server, "/claims?q=zeppelins").await),
        ["zeppelin-fleet"]
    );
    assert_eq!(total(&found(&server, "/claims?q=quarrier").await), 1);
    // Renaming the claimant (a graph other than the claim's) changes what finds the claim.
    let response = server
        .update(&format!(
            "PREFIX schema: <http://schema.org/>
             DELETE DATA {{ GRAPH <{base}graphs/entities/zeppelin-fleet> {{ <{base}entities/zeppelin-fleet-claimant> schema:name \"Ottoline Quarrier\" }} }} ;
             INSERT DATA {{ GRAPH <{base}graphs/entities/zeppelin-fleet> {{ <{base}entities/zeppelin-fleet-claimant> schema:name \"Ottoline Vantablack\" }} }}"
        ))
        .await;
    assert!(response.status().is_success());
    assert_eq!(total(&found(&server, "/claims?q=quarrier").await), 0);
    assert_eq!(
        keys(&found(&server, "/claims?q=vantablack").await),
        ["zeppelin-fleet"]
    );
    // An update whose graphs are only known as it runs (GRAPH ?g): the whole index is rebuilt.
    let response = server
        .update(&format!(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#>
             DELETE {{ GRAPH ?g {{ <{base}claims/zeppelin-fleet> cg:status cg:Alleged }} }}
             INSERT {{ GRAPH ?g {{ <{base}claims/zeppelin-fleet> cg:status cg:Denied }} }}
             WHERE {{ GRAPH ?g {{ <{base}claims/zeppelin-fleet> cg:status cg:Alleged }} }}"
        ))
        .await;
    assert!(response.status().is_success());
    let page = found(&server, "/claims?q=zeppelins").await;
    assert_eq!(page["claims"][0]["status"], "Denied", "{page}");

    // Graph Store: replacing the claim's graph without it, then removing its content graph.
    let put = server
        .client
        .put(server.url(&format!("store?graph={base}graphs/claims/zeppelin-fleet")))
        .bearer_auth(TOKEN)
        .header("Content-Type", "text/turtle")
        .body(format!("<{base}claims/zeppelin-fleet-2> a <http://schema.org/Claim> ; <http://schema.org/text> \"Airships, again.\" ."))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    assert_eq!(total(&found(&server, "/claims?q=zeppelins").await), 0);
    assert_eq!(
        keys(&found(&server, "/claims?q=airships").await),
        ["zeppelin-fleet-2"]
    );
    let delete = server
        .client
        .delete(server.url(&format!("store?graph={base}graphs/claims/zeppelin-fleet")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(delete.status().is_success());
    assert_eq!(total(&found(&server, "/claims?q=airships").await), 0);

    // Data sync: a sheet's claim reworded on disk, picked up by SIGHUP's sync path.
    let sheet = data.join("claims/zerohedge-2024-04-02.toml");
    let text = std::fs::read_to_string(&sheet).unwrap();
    let reworded = text.replace(
        "Netflix paid Facebook more than $100 million for its bespoke access to user data.",
        "Netflix paid Facebook more than $100 million for its bespoke access to dirigible data.",
    );
    assert_ne!(text, reworded);
    std::fs::write(&sheet, reworded).unwrap();
    assert_eq!(total(&found(&server, "/claims?q=dirigible").await), 0);
    // The start-up sync reloads the changed sheet (a running server's SIGHUP runs the same).
    let server = server
        .restart(Options {
            data_dirs: vec![data],
            ..Options::default()
        })
        .await;
    assert_eq!(
        keys(&found(&server, "/claims?q=dirigible").await),
        ["netflix-paid-over-100-million"]
    );
}

fn s(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn an_index_that_missed_a_write_or_is_corrupt_is_rebuilt_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let data = repo().join("data");
    let base = claimgraph::DEFAULT_BASE;
    let seed = data.join("claims/zerohedge-2024-04-02.toml");
    let corpus = dir.path().join("corpus");
    ok_stderr(&["gen", "--claims", "40", "--seed", "3", "--out", s(&corpus)]);
    ok_stderr(&["ingest", "--store", s(&store), "--data", s(&data), s(&seed)]);
    assert_eq!(claims_in_store_and_index(&store, base), (23, 23));
    // What a crash between the store's commit and the index's leaves: an index one write behind.
    let before = dir.path().join("index-before");
    copy_dir(&store.join("index"), &before);
    let mut sheets: Vec<String> = std::fs::read_dir(corpus.join("claims"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    sheets.sort();
    let mut args = vec!["ingest", "--store", s(&store), "--data", s(&corpus)];
    args.extend(sheets.iter().map(String::as_str));
    ok_stderr(&args);
    assert_eq!(claims_in_store_and_index(&store, base), (63, 63));
    std::fs::remove_dir_all(store.join("index")).unwrap();
    copy_dir(&before, &store.join("index"));
    assert_eq!(claims_in_store_and_index(&store, base), (63, 63));

    // A corrupt index (its metadata overwritten) and a missing one are rebuilt alike.
    std::fs::write(store.join("index/meta.json"), b"{ not json").unwrap();
    assert_eq!(claims_in_store_and_index(&store, base), (63, 63));
    std::fs::remove_dir_all(store.join("index")).unwrap();
    let (_, log) = crate::common::ok(&["reindex", "--store", s(&store)]);
    assert!(log.contains("indexed 63 claims"), "{log}");
    assert_eq!(claims_in_store_and_index(&store, base), (63, 63));
}

#[tokio::test]
async fn a_server_killed_while_writing_reopens_with_an_index_that_follows_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut command = crate::common::claimgraph();
    command.args([
        "serve",
        "--store",
        s(&store),
        "--bind",
        "127.0.0.1:0",
        "--write-token",
        TOKEN,
    ]);
    let server = crate::common::ServeProcess::spawn(command);
    let base = server.url.clone();
    let client = reqwest::Client::new();
    // Writes one after another until the kill; each a claim of its own.
    let writer = {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            for n in 0.. {
                let key = format!("killed-{n}");
                let sent = client
                    .post(format!("{base}sparql"))
                    .bearer_auth(TOKEN)
                    .header("Content-Type", "application/sparql-update")
                    .body(claim_update(
                        &base,
                        &key,
                        &format!("Claim number w{n}x."),
                        "Some One",
                    ))
                    .send()
                    .await;
                if sent.is_err() {
                    return n;
                }
            }
            unreachable!()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL: no destructor, no flush
    server.child.wait().unwrap();
    let sent = writer.await.unwrap();
    assert!(sent > 3, "only {sent} writes were made before the kill");
    let (in_store, in_index) = claims_in_store_and_index(&store, &base);
    assert!(in_store >= 3, "{in_store}");
    assert_eq!(
        in_store, in_index,
        "the reopened index does not follow the store"
    );
}

/// What the index says of every claim: each record, the counts of every facet, and the claims
/// resting on allegations (read from the statuses of the claims sharing their content); and
/// the records of documents and reviews.
fn index_contents(store: &std::path::Path) -> (Vec<String>, String, Vec<String>, Vec<String>) {
    use claimgraph::index::document::Appearances;
    use claimgraph::index::search::{Only, Search, FACETS};
    let opened = claimgraph::ClaimStore::open(store, claimgraph::DEFAULT_BASE)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", store.display()));
    assert!(!opened.index_rebuilt_at_open(), "the index did not follow");
    let records = |only| {
        let mut all = Vec::new();
        opened
            .index()
            .each_record(only, Appearances::Read, |r| {
                all.push(r.encode());
                Ok(())
            })
            .unwrap();
        all
    };
    let found = opened
        .index()
        .search(&Search {
            limit: 1,
            facets: FACETS.iter().map(|f| f.to_string()).collect(),
            facet_limit: 100,
            ..Search::default()
        })
        .unwrap();
    let mut resources = Vec::new();
    for question in ["documents", "source-chains", "reviews"] {
        let visited = opened
            .index()
            .each_resource_record(question, |r| {
                resources.push(r.lines.join("\n"));
                Ok(())
            })
            .unwrap();
        assert!(visited.is_some(), "{question} is not in order");
    }
    assert!(!resources.is_empty());
    (
        records(None),
        format!("{} {:?}", found.total, found.facets),
        records(Some(Only::RestingOnAllegations)),
        resources,
    )
}

#[test]
fn an_ingest_of_many_sheets_indexes_each_claim_as_a_rebuild_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let data = dir.path().join("data");
    copy_dir(&repo().join("data"), &data);
    let seed = data.join("claims/zerohedge-2024-04-02.toml");
    let corpus = dir.path().join("corpus");
    ok_stderr(&[
        "gen",
        "--claims",
        "300",
        "--batch",
        "40",
        "--seed",
        "5",
        "--out",
        s(&corpus),
    ]);
    let mut sheets: Vec<String> = std::fs::read_dir(corpus.join("claims"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    sheets.sort();
    assert!(sheets.len() >= 8, "{sheets:?}");
    // `ingest` reads the documents once, after its last sheet: they must be those a rebuild
    // reads, claims sharing content across sheets included.
    let check = || {
        let ingested = index_contents(&store);
        ok_stderr(&["reindex", "--store", s(&store)]);
        assert!(
            ingested == index_contents(&store),
            "ingest and rebuild differ"
        );
        ingested
    };
    ok_stderr(&["ingest", "--store", s(&store), "--data", s(&data), s(&seed)]);
    // In two runs: the second's claims share content with the first's, whose documents change.
    // (Each run checks its sheets with the entities they name.)
    let entities = sheets.pop().unwrap();
    assert!(entities.ends_with("entities.toml"), "{entities}");
    let (first, second) = sheets.split_at(sheets.len() / 2);
    let mut resting = Vec::new();
    // The first run brings more claims than the seed's indexed: the index is rebuilt. The
    // second brings fewer than the index holds: the claims each sheet changed are read again.
    for (part, index_said) in [(first, "rebuilding"), (second, "updating")] {
        let mut args = vec![
            "ingest",
            "--store",
            s(&store),
            "--data",
            s(&corpus),
            &entities,
        ];
        args.extend(part.iter().map(String::as_str));
        let said = ok_stderr(&args);
        assert!(
            said.contains(&format!("{index_said} the claims index")),
            "{said}"
        );
        resting = check().2;
    }
    assert_eq!(
        claims_in_store_and_index(&store, claimgraph::DEFAULT_BASE),
        (323, 323)
    );

    // A claim adjudicating what an alleged claim of the seed says, written in a batch that
    // defers the index: the alleged claim, which the batch never names, is read again at its
    // end because it shares that content.
    {
        let opened = claimgraph::ClaimStore::open(&store, claimgraph::DEFAULT_BASE).unwrap();
        let shared = opened
            .select(
                "PREFIX cg: <https://w3id.org/claimgraph/ns#>
                 SELECT ?s ?p ?o { ?c cg:status cg:Alleged ; cg:assertion ?g .
                   GRAPH ?g { ?s ?p ?o } } ORDER BY ?c LIMIT 1",
            )
            .unwrap();
        let [Some(subject), Some(predicate), Some(object)] = &shared[0][..] else {
            panic!("no alleged content: {shared:?}")
        };
        let base = claimgraph::DEFAULT_BASE;
        let update = format!(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#>
             INSERT DATA {{
               GRAPH <{base}graphs/claims/ruling> {{
                 <{base}claims/ruling> a schema:Claim ; schema:text \"The court so found.\" ;
                   cg:status cg:Adjudicated ; cg:assertion <{base}graphs/assertions/ruling> .
               }}
               GRAPH <{base}graphs/assertions/ruling> {{ {subject} {predicate} {object} . }}
             }}"
        );
        let update = opened.parse_update(&update).unwrap();
        opened
            .with_index_deferred(
                1,
                || opened.update(update, &claimgraph::store::DatasetParams::default()),
                |_| {},
            )
            .unwrap();
    }
    let resting_before = resting.len();
    resting = check().2;
    assert!(
        resting.len() < resting_before,
        "{resting_before} then {}",
        resting.len()
    );

    // A sheet ingested again with its public records' statuses changed: the claims sharing
    // their content change too (a public record no longer backs them).
    let text = std::fs::read_to_string(&seed).unwrap();
    assert!(text.contains("status = \"PublicRecord\""));
    std::fs::write(
        &seed,
        text.replace("status = \"PublicRecord\"", "status = \"Alleged\""),
    )
    .unwrap();
    ok_stderr(&["ingest", "--store", s(&store), "--data", s(&data), s(&seed)]);
    let (_, _, resting_after, _) = check();
    assert!(
        resting_after.len() > resting.len(),
        "{} then {}",
        resting.len(),
        resting_after.len()
    );
}

/// Every claim's document read with the store's pattern reads claim by claim, and read with what
/// every claim shares read once (`Whole`, as a rebuild and an update of many claims read it).
fn documents_both_ways(store: &std::path::Path) -> (Vec<String>, Vec<String>) {
    use claimgraph::index::document::{Reader, Whole};
    let opened = claimgraph::ClaimStore::open(store, claimgraph::DEFAULT_BASE).unwrap();
    let whole = Whole::read(&opened).unwrap();
    let claims: Vec<_> = Reader::new(&opened, None)
        .all_claims()
        .collect::<Result<_, _>>()
        .unwrap();
    let read = |whole| {
        let mut reader = Reader::new(&opened, whole);
        claims
            .iter()
            .map(|claim| format!("{:?}", reader.read(claim, false).unwrap()))
            .collect::<Vec<_>>()
    };
    (read(None), read(Some(&whole)))
}

/// An import links reviews' claims to ours (`cg:sameClaimAs`): a rebuild reads every link at
/// once, and the import indexes the same fact-checkers. An update reads the links claim by claim
/// or at once by how many claims it reads (this small store's import: at once), so both ways are
/// compared on the same store too.
#[test]
fn an_import_indexes_the_linked_claims_as_a_rebuild_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let data = repo().join("data");
    let seed = data.join("claims/zerohedge-2024-04-02.toml");
    ok_stderr(&["ingest", "--store", s(&store), "--data", s(&data), s(&seed)]);
    let feed = repo().join("tests/fixtures/claimreview/datafeed.json");
    ok_stderr(&["import", "claimreview", "--store", s(&store), s(&feed)]);
    let (one_by_one, at_once) = documents_both_ways(&store);
    assert!(one_by_one.len() > 20, "{}", one_by_one.len());
    assert!(one_by_one == at_once, "claim by claim and at once differ");
    let imported = index_contents(&store);
    assert!(
        imported.1.contains("imported-northfield-fact-desk"),
        "{}",
        imported.1
    );
    ok_stderr(&["reindex", "--store", s(&store)]);
    assert!(
        imported == index_contents(&store),
        "import and rebuild differ"
    );
}

/// A store of 2,000 generated claims, bulk loaded (its index rebuilt in IRI order), opened here.
fn generated_store(dir: &std::path::Path, seed: u32) -> claimgraph::ClaimStore {
    let (corpus, store) = (dir.join("corpus"), dir.join("store"));
    let seed = seed.to_string();
    ok_stderr(&[
        "gen",
        "--claims",
        "2000",
        "--seed",
        &seed,
        "--out",
        s(&corpus),
    ]);
    ok_stderr(&["load", "--store", s(&store), s(&corpus.join("corpus.nq"))]);
    claimgraph::ClaimStore::open(&store, claimgraph::DEFAULT_BASE).unwrap()
}

#[test]
fn pages_without_words_come_in_iri_order_as_sparql_orders_them() {
    use claimgraph::index::search::Search;
    use oxigraph::model::Term;
    let dir = tempfile::tempdir().unwrap();
    let opened = generated_store(dir.path(), 6);
    let check = |label: &str| {
        for status in ["Alleged", "Reported", "Denied"] {
            let expected: Vec<String> = opened
                .select(&format!(
                    "PREFIX cg: <https://w3id.org/claimgraph/ns#>
                     SELECT ?c {{ ?c a <http://schema.org/Claim> ; cg:status cg:{status} }}
                     ORDER BY STR(?c)"
                ))
                .unwrap()
                .into_iter()
                .map(|row| match &row[0] {
                    Some(Term::NamedNode(n)) => n.as_str().to_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert!(expected.len() > 50, "{status}: {}", expected.len());
            // A page of one walks the claims for the commonest statuses; longer pages sort the
            // matches: both give SPARQL's order, page after page.
            for limit in [1, 7, 500] {
                let (mut paged, mut after) = (Vec::new(), None);
                loop {
                    let found = opened
                        .index()
                        .search(&Search {
                            status: Some(status.into()),
                            limit,
                            after: after.clone(),
                            ..Search::default()
                        })
                        .unwrap();
                    assert_eq!(found.total, expected.len(), "{label} {status}");
                    paged.extend(found.hits.into_iter().map(|h| h.summary.claim));
                    match found.next_after {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert!(paged == expected, "{label} {status}, pages of {limit}");
            }
        }
    };
    check("one segment");
    // Statuses changed in writes of their own: the index's later segments hold those claims.
    for (i, claim) in opened
        .select(
            "SELECT ?c ?g { GRAPH ?g { ?c a <http://schema.org/Claim> } } ORDER BY DESC(?c) LIMIT 40",
        )
        .unwrap()
        .into_iter()
        .enumerate()
    {
        let [Some(Term::NamedNode(claim)), Some(Term::NamedNode(graph))] = &claim[..] else {
            panic!("{claim:?}")
        };
        // The graph named: a write to known graphs updates the documents it changed.
        let status = ["Alleged", "Denied"][i % 2];
        set_status(&opened, &claim.to_string(), &graph.to_string(), status);
    }
    check("after 40 writes");
}

#[test]
fn ranked_pages_hold_every_match_once_best_first() {
    use claimgraph::index::search::Search;
    let dir = tempfile::tempdir().unwrap();
    let opened = generated_store(dir.path(), 7);
    let search = |q: &str, limit: usize, after: Option<String>| {
        opened
            .index()
            .search(&Search {
                q: Some(q.into()),
                limit,
                after,
                ..Search::default()
            })
            .unwrap()
    };
    // A word most claims share (their scores tie in runs), one a few share, two words.
    let check = |label: &str| {
        for q in ["plaintiffs", "foundation", "data records"] {
            let total = search(q, 1, None).total;
            assert!(total > 20, "{q}: {total}");
            // A page longer than the matches: every one is compared, none skipped.
            let whole: Vec<(String, f32)> = search(q, total + 1, None)
                .hits
                .into_iter()
                .map(|h| (h.summary.claim, h.score.unwrap()))
                .collect();
            assert_eq!(whole.len(), total, "{q}");
            assert!(
                whole
                    .windows(2)
                    .all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0)),
                "{label} {q}: not best first, then in IRI order"
            );
            for limit in [1, 7] {
                let (mut paged, mut after) = (Vec::new(), None);
                loop {
                    let found = search(q, limit, after.take());
                    paged.extend(
                        found
                            .hits
                            .into_iter()
                            .map(|h| (h.summary.claim, h.score.unwrap())),
                    );
                    match found.next_after {
                        Some(next) if paged.len() < 600 => after = Some(next),
                        _ => break,
                    }
                }
                paged.truncate(600);
                let distinct: BTreeSet<&String> = paged.iter().map(|(c, _)| c).collect();
                assert_eq!(
                    distinct.len(),
                    paged.len(),
                    "{q}: a claim twice in pages of {limit}"
                );
                assert_eq!(paged.len(), total.min(600), "{q}: pages of {limit}");
                assert!(
                    paged.windows(2).all(|w| w[0].1 >= w[1].1),
                    "{q}: not best first"
                );
                let n = whole.len().min(paged.len());
                assert!(
                    paged[..n] == whole[..n],
                    "{label} {q}: pages of {limit} differ from one page"
                );
            }
        }
    };
    check("rebuilt");
    // Claims re-indexed by writes of their own: later segments, and deleted documents in the
    // first, whose documents are in IRI order.
    for claim in opened
        .select("SELECT ?c { ?c a <http://schema.org/Claim> } ORDER BY DESC(?c) LIMIT 12")
        .unwrap()
        .into_iter()
        .filter_map(|row| row[0].clone())
    {
        set_status(&opened, &claim.to_string(), "?g", "Denied");
    }
    check("after 12 writes");
}

/// Sets a claim's (`<IRI>`) status to `cg:STATUS` in a SPARQL Update of its own, in `graph`
/// (`<IRI>`, or a variable for whichever graph holds it).
fn set_status(opened: &claimgraph::ClaimStore, claim: &str, graph: &str, status: &str) {
    let update = format!(
        "PREFIX cg: <https://w3id.org/claimgraph/ns#>
         DELETE {{ GRAPH {graph} {{ {claim} cg:status ?s }} }}
         INSERT {{ GRAPH {graph} {{ {claim} cg:status cg:{status} }} }}
         WHERE {{ GRAPH {graph} {{ {claim} cg:status ?s }} }}"
    );
    opened
        .update(
            opened.parse_update(&update).unwrap(),
            &claimgraph::store::DatasetParams::default(),
        )
        .unwrap();
}

#[test]
fn a_claim_is_found_by_the_word_pairs_of_its_quote_alone() {
    use claimgraph::draft::matcher::pairs;
    use claimgraph::index::search::Search;
    let dir = tempfile::tempdir().unwrap();
    let opened = generated_store(dir.path(), 8);
    let matcher = opened.index().matcher(opened.base());
    let claims_at = format!("{}claims/", opened.base());
    let hits = opened
        .index()
        .search(&Search {
            limit: 40,
            ..Search::default()
        })
        .unwrap()
        .hits;
    assert_eq!(hits.len(), 40);
    for hit in hits {
        let claim = hit.summary;
        let key = claim.claim.strip_prefix(&claims_at).unwrap();
        let quote = claim.quotes.into_iter().next().unwrap_or(claim.text);
        // Generated claims share most words, and often a text; never a quote.
        let found = matcher.candidates(&[], &pairs(&quote), 3).unwrap();
        assert!(
            found.claims.iter().any(|c| c.key == key),
            "{key} not found by the pairs of {quote:?}: {:?}",
            found.claims.iter().map(|c| &c.key).collect::<Vec<_>>()
        );
    }
}
