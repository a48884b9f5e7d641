//! The library's questions answered from the claims index (`/questions/NAME`) give
//! exactly the rows their SPARQL gives, in the order it asks, on a generated corpus of 10,000
//! claims (and on the seed); the others are answered by their SPARQL.

use crate::common::{ok_stderr, repo, Options, TestServer};
use serde_json::Value;
use std::collections::BTreeMap;

/// A row as its sorted `variable=term` pairs (terms as the JSON results give them).
pub(crate) fn rows(results: &Value) -> Vec<String> {
    results["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let mut pairs: Vec<String> = b
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            pairs.sort();
            pairs.join(" ")
        })
        .collect()
}

fn value(row: &Value, var: &str) -> String {
    row[var]["value"].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn answers(server: &TestServer, name: &str) -> (Value, Value) {
    let (status, from_index) = server
        .get_json(
            &format!("questions/{name}"),
            "application/sparql-results+json",
        )
        .await;
    assert_eq!(status, 200, "{name}: {from_index}");
    let sparql = std::fs::read_to_string(repo().join(format!("queries/{name}.rq"))).unwrap();
    (from_index, server.select(&sparql).await)
}

/// The same rows as a multiset, and the same sequence of `ORDER BY` keys.
pub(crate) fn assert_same(name: &str, index: &Value, sparql: &Value, order: &[&str]) {
    assert_eq!(
        index["head"]["vars"], sparql["head"]["vars"],
        "{name}: variables"
    );
    let (mut a, mut b) = (rows(index), rows(sparql));
    assert!(!b.is_empty(), "{name}: the SPARQL finds nothing to compare");
    let keys = |r: &Value| -> Vec<Vec<String>> {
        r["results"]["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| order.iter().map(|v| value(row, v)).collect())
            .collect()
    };
    assert_eq!(keys(index), keys(sparql), "{name}: rows out of order");
    a.sort();
    b.sort();
    assert_eq!(
        a.len(),
        b.len(),
        "{name}: {} rows from the index, {} from SPARQL",
        a.len(),
        b.len()
    );
    assert_eq!(a, b, "{name}: different rows");
}

#[tokio::test]
async fn whole_store_questions_from_the_index_equal_their_sparql_on_10000_claims() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let store = dir.path().join("store");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    ok_stderr(&[
        "gen",
        "--claims",
        "10000",
        "--seed",
        "4",
        "--out",
        &s(&corpus),
    ]);
    ok_stderr(&["load", "--store", &s(&store), &s(&corpus.join("corpus.nq"))]);
    let server = TestServer::start_with_store(dir, store, Options::default()).await;
    let (index, sparql) = answers(&server, "claims-by-status").await;
    // Equal counts may come in any order of labels; the ORDER BY is by count, then status.
    assert_same("claims-by-status", &index, &sparql, &["claims", "status"]);
    let total: u64 = rows_of(&index)
        .iter()
        .map(|r| value(r, "claims").parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 10_000);
    let (index, sparql) = answers(&server, "claims-resting-on-allegations").await;
    assert_same("claims-resting-on-allegations", &index, &sparql, &["claim"]);
    let (index, sparql) = answers(&server, "claim-chains").await;
    assert_same("claim-chains", &index, &sparql, &["claim"]);
    let hops: BTreeMap<String, usize> = rows_of(&index).iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(value(r, "hops")).or_default() += 1;
        m
    });
    assert!(hops.len() >= 2, "chains of one length only: {hops:?}");
    let (index, sparql) = answers(&server, "appearances").await;
    assert_same("appearances", &index, &sparql, &["claim", "appearance"]);
    let (index, sparql) = answers(&server, "assertion-hashes").await;
    assert_same("assertion-hashes", &index, &sparql, &["claim"]);
    // Every generated claim has a primary source: the answer is empty both ways.
    let (index, sparql) = answers(&server, "claims-without-primary-source").await;
    assert_eq!(rows(&index), rows(&sparql));
    let (index, sparql) = answers(&server, "denials").await;
    assert_same("denials", &index, &sparql, &["denial", "disputed"]);
    // A write about the disputed claims alone: the denials naming them are read again.
    let response = server
        .update(
            "PREFIX cg: <https://w3id.org/claimgraph/ns#>
             PREFIX cito: <http://purl.org/spar/cito/>
             DELETE { ?d cg:status ?s } INSERT { ?d cg:status cg:Adjudicated }
             WHERE { ?denial cito:disputes ?d . ?d cg:status ?s }",
        )
        .await;
    assert!(response.status().is_success());
    let (after, sparql) = answers(&server, "denials").await;
    assert_same("denials", &after, &sparql, &["denial", "disputed"]);
    assert_ne!(rows(&after), rows(&index));
    for (name, order) in RESOURCE_QUESTIONS {
        assert!(from_index(&server, name).await, "{name}");
        let (index, sparql) = answers(&server, name).await;
        assert_same(name, &index, &sparql, order);
    }
}

/// The questions about documents and reviews, with the variables of their `ORDER BY`.
const RESOURCE_QUESTIONS: [(&str, &[&str]); 3] = [
    ("documents", &["date", "document"]),
    ("source-chains", &["document", "hops"]),
    ("reviews", &["date", "review"]),
];

/// Whether `GET /questions` says the question is answered from the index now.
async fn from_index(server: &TestServer, name: &str) -> bool {
    let (status, list) = server.get_json("questions", "application/json").await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    let entry = list.iter().find(|q| q["name"] == name).unwrap();
    entry["from_index"].as_bool().unwrap()
}

/// The answers to the questions about documents and reviews, each checked against its SPARQL.
async fn resource_answers(server: &TestServer) -> Vec<Vec<String>> {
    let mut answered = Vec::new();
    for (name, order) in RESOURCE_QUESTIONS {
        let (index, sparql) = answers(server, name).await;
        assert_same(name, &index, &sparql, order);
        answered.push(rows(&index));
    }
    answered
}

/// Each question about documents and reviews equals its SPARQL after a write to what it reads:
/// the resource itself, a node it reads through (an outlet's name, a step of a derivation, a
/// rating), by SPARQL Update and by the Graph Store; and while a document has a date the index
/// cannot order, the question is answered by its SPARQL.
#[tokio::test]
async fn document_and_review_questions_follow_every_write() {
    let server = seeded().await;
    let check = resource_answers;
    for (name, _) in RESOURCE_QUESTIONS {
        assert!(from_index(&server, name).await, "{name}");
    }
    let mut before = check(&server).await;
    let writes = [
        // The outlets' names: read through `schema:publisher`.
        (
            0,
            "PREFIX schema: <http://schema.org/>
             DELETE { ?p schema:name ?n } INSERT { ?p schema:name \"Renamed Outlet\" }
             WHERE { ?d schema:publisher ?p . ?p schema:name ?n }",
        ),
        // A node between each document and what it derives from: every chain is longer.
        (
            1,
            "PREFIX prov: <http://www.w3.org/ns/prov#>
             INSERT { ?d prov:wasDerivedFrom <urn:test:step> .
                      <urn:test:step> prov:wasDerivedFrom ?u }
             WHERE { ?d prov:wasDerivedFrom ?u }",
        ),
        // That node alone changes: the documents whose chains pass it are read again.
        (
            1,
            "PREFIX prov: <http://www.w3.org/ns/prov#>
             DELETE WHERE { <urn:test:step> prov:wasDerivedFrom ?u }",
        ),
        // The ratings' labels: read through `schema:reviewRating`.
        (
            2,
            "PREFIX schema: <http://schema.org/>
             DELETE { ?r schema:alternateName ?l } INSERT { ?r schema:alternateName \"Relabelled\" }
             WHERE { ?review schema:reviewRating ?r . ?r schema:alternateName ?l }",
        ),
        // A document and a review of their own, in a graph of their own.
        (
            0,
            "PREFIX schema: <http://schema.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
             PREFIX cito: <http://purl.org/spar/cito/>
             INSERT DATA { GRAPH <urn:test:g> {
               <urn:test:doc> a schema:NewsArticle ; schema:datePublished \"2020-01-05\"^^xsd:date .
               <urn:test:review> a schema:ClaimReview ; schema:itemReviewed <urn:test:claim> ;
                 schema:datePublished \"2020-01-06\"^^xsd:date ; schema:author <urn:test:org> ;
                 cito:citesAsEvidence <urn:test:doc>, <urn:test:other> ;
                 schema:reviewRating [ schema:alternateName \"False\" ; schema:ratingValue 1 ;
                                       schema:bestRating 5 ; schema:worstRating 1 ] .
               <urn:test:org> schema:name \"Test Checkers\" } }",
        ),
    ];
    // A document deriving from hundreds of nodes: its record is too long to keep in its key.
    let long: Vec<String> = (0..300)
        .map(|i| format!("<urn:test:source/{}/{i}>", "long-".repeat(20)))
        .collect();
    let long = format!(
        "PREFIX prov: <http://www.w3.org/ns/prov#>
         INSERT DATA {{ <urn:test:long> a prov:Entity ; prov:wasDerivedFrom {} }}",
        long.join(", ")
    );
    let writes = writes.into_iter().chain([(1, long.as_str())]);
    for (changed, update) in writes {
        let response = server.update(update).await;
        assert!(response.status().is_success(), "{update}");
        let after = check(&server).await;
        assert_ne!(after[changed], before[changed], "{update}");
        before = after;
    }
    // The Graph Store replaces that graph: the review goes, the document stays with no date.
    let response = server
        .client
        .put(server.url("store?graph=urn:test:g"))
        .bearer_auth(crate::common::TOKEN)
        .header("Content-Type", "application/n-triples")
        .body(
            "<urn:test:doc> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> \
             <http://schema.org/NewsArticle> .\n",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let after = check(&server).await;
    assert_ne!(after[0], before[0]);
    assert_ne!(after[2], before[2]);
    // A date of another type: SPARQL orders it among the others by comparing values, which
    // the index's keys do not; the question is answered by its SPARQL until it is gone.
    let response = server
        .update(
            "PREFIX schema: <http://schema.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
             INSERT DATA { <urn:test:doc> schema:datePublished \"2020-01-05T10:00:00Z\"^^xsd:dateTime }",
        )
        .await;
    assert!(response.status().is_success());
    assert!(!from_index(&server, "documents").await);
    check(&server).await;
    let response = server
        .update(
            "PREFIX schema: <http://schema.org/>
             DELETE WHERE { <urn:test:doc> schema:datePublished ?date }",
        )
        .await;
    assert!(response.status().is_success());
    assert!(from_index(&server, "documents").await);
    check(&server).await;
}

/// A server of the seed's data and ontology.
async fn seeded() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

fn rows_of(results: &Value) -> Vec<Value> {
    results["results"]["bindings"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_library_is_listed_and_every_question_answers_on_the_seed() {
    let server = seeded().await;
    let (_, list) = server.get_json("questions", "application/json").await;
    let list = list.as_array().unwrap();
    assert_eq!(
        list.len(),
        std::fs::read_dir(repo().join("queries"))
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "rq"))
            .count()
    );
    for entry in list {
        let name = entry["name"].as_str().unwrap();
        assert!(!entry["question"].as_str().unwrap().is_empty(), "{name}");
        let (answered, sparql) = answers(&server, name).await;
        // On the seed, a base other than the default: the library's relative IRIs resolve
        // against it both ways.
        let (mut a, mut b) = (rows(&answered), rows(&sparql));
        a.sort();
        b.sort();
        assert_eq!(a, b, "{name}");
        // CSV and TSV too, by negotiation.
        let csv = server
            .client
            .get(server.url(&format!("questions/{name}")))
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
    }
    let missing = server
        .client
        .get(server.url("questions/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn appearances_follow_a_write_to_a_document_s_archived_text() {
    let server = seeded().await;
    let (index, sparql) = answers(&server, "appearances").await;
    assert_same("appearances", &index, &sparql, &["claim", "appearance"]);
    // A second archived text for every document the claims appear in: the claims naming them
    // are read again, and each appearance's rows double.
    let before = rows(&index).len();
    let response = server
        .update(
            "PREFIX cg: <https://w3id.org/claimgraph/ns#>
             PREFIX oa: <http://www.w3.org/ns/oa#>
             INSERT { GRAPH <urn:test:texts> { ?d cg:archivedText <urn:test:copy> } }
             WHERE { ?a oa:hasSource ?d }",
        )
        .await;
    assert!(response.status().is_success());
    let (index, sparql) = answers(&server, "appearances").await;
    assert_same("appearances", &index, &sparql, &["claim", "appearance"]);
    assert_eq!(rows(&index).len(), 2 * before);
}

#[tokio::test]
async fn claim_chains_follow_a_write_to_any_node_on_the_way() {
    let server = seeded().await;
    let order = ["claim", "document", "primary"];
    let hops = |results: &Value| -> Vec<i64> {
        rows_of(results)
            .iter()
            .map(|row| value(row, "hops").parse().unwrap())
            .collect()
    };
    let (index, sparql) = answers(&server, "claim-chains").await;
    assert_same("claim-chains", &index, &sparql, &order);
    let before = hops(&index);
    // A node no claim appears in, put between each document and what it derives from: every
    // chain through it is one hop longer.
    let response = server
        .update(
            "PREFIX prov: <http://www.w3.org/ns/prov#>
             INSERT { ?d prov:wasDerivedFrom <urn:test:step> .
                      <urn:test:step> prov:wasDerivedFrom ?u }
             WHERE { ?d prov:wasDerivedFrom ?u }",
        )
        .await;
    assert!(response.status().is_success());
    let (index, sparql) = answers(&server, "claim-chains").await;
    assert_same("claim-chains", &index, &sparql, &order);
    assert_ne!(hops(&index), before);
    // A write about that node alone: the claims whose chains pass it are read again.
    let response = server
        .update(
            "PREFIX prov: <http://www.w3.org/ns/prov#>
             DELETE WHERE { <urn:test:step> prov:wasDerivedFrom ?u }",
        )
        .await;
    assert!(response.status().is_success());
    let (index, sparql) = answers(&server, "claim-chains").await;
    assert_same("claim-chains", &index, &sparql, &order);
    assert_eq!(hops(&index), before);
}
