//! The SPARQL endpoint over real HTTP on a real RocksDB store: negotiation, datasets, errors,
//! authorisation, streaming and cancellation.

use crate::common::{Options, TestServer, TOKEN};
use std::time::{Duration, Instant};

const DATA: &str = "INSERT DATA {
  GRAPH <http://example.org/g1> { <http://example.org/a> <http://example.org/p> \"one\" }
  GRAPH <http://example.org/g2> { <http://example.org/b> <http://example.org/p> \"two\" }
}";

async fn seeded() -> TestServer {
    let server = TestServer::start(Options::default()).await;
    assert_eq!(server.update(DATA).await.status(), 204);
    server
}

async fn get_query(server: &TestServer, query: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = server
        .client
        .get(server.url("sparql"))
        .query(&[("query", query)]);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    request.send().await.unwrap()
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn default_graph_is_the_union_of_named_graphs_unless_a_dataset_is_named() {
    let server = seeded().await;
    let count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }";
    assert_eq!(server.count(count).await, 2);
    let from = "SELECT (COUNT(*) AS ?n) FROM <http://example.org/g1> { ?s ?p ?o }";
    assert_eq!(server.count(from).await, 1);
    let response = server
        .client
        .get(server.url("sparql"))
        .query(&[
            ("query", count),
            ("default-graph-uri", "http://example.org/g2"),
        ])
        .header("Accept", "application/sparql-results+json")
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["results"]["bindings"][0]["n"]["value"], "1");
    let graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }";
    assert_eq!(server.count(graphs).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_results_format_is_negotiated_with_vary() {
    let server = seeded().await;
    let select = "SELECT ?o { ?s ?p ?o } ORDER BY ?o";
    for (accept, expected, marker) in [
        (
            "application/sparql-results+json",
            "application/sparql-results+json",
            "\"bindings\"",
        ),
        (
            "application/sparql-results+xml",
            "application/sparql-results+xml",
            "<sparql",
        ),
        ("text/csv", "text/csv; charset=utf-8", "o\r\none\r\ntwo"),
        (
            "text/tab-separated-values",
            "text/tab-separated-values; charset=utf-8",
            "?o\n\"one\"\n\"two\"",
        ),
        (
            "text/csv;q=0.5, application/sparql-results+xml;q=0.9",
            "application/sparql-results+xml",
            "<sparql",
        ),
        ("*/*", "application/sparql-results+json", "\"bindings\""),
        ("text/*", "text/xml; charset=utf-8", "<sparql"),
        ("text/csv, text/*;q=0.5", "text/csv; charset=utf-8", "one"),
    ] {
        let response = get_query(&server, select, Some(accept)).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(content_type(&response), expected, "{accept}");
        assert_eq!(response.headers()["vary"], "Accept");
        let body = response.text().await.unwrap();
        assert!(body.contains(marker), "{accept}: {body}");
    }
    let response = get_query(&server, select, Some("image/png")).await;
    assert_eq!(response.status(), 406);
    assert_eq!(response.headers()["vary"], "Accept");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("application/sparql-results+json"));
    // CSV has no boolean form.
    let response = get_query(&server, "ASK {}", Some("text/csv")).await;
    assert_eq!(response.status(), 406);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rdf_format_is_negotiated_for_construct() {
    let server = seeded().await;
    let construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }";
    for syntax in claimgraph::formats::RDF_SYNTAXES {
        let response = get_query(&server, construct, Some(syntax.media_type())).await;
        assert_eq!(response.status(), 200, "{}", syntax.name);
        assert!(content_type(&response).starts_with(syntax.media_type()));
        let body = response.bytes().await.unwrap();
        let triples = oxigraph::io::RdfParser::from_format(syntax.format)
            .for_slice(&body)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(triples.len(), 2, "{}", syntax.name);
    }
    let response = get_query(&server, construct, None).await;
    assert!(content_type(&response).starts_with("text/turtle"));
    let response = get_query(&server, construct, Some("application/sparql-results+json")).await;
    assert_eq!(response.status(), 406);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_queries_get_400_with_the_position() {
    let server = seeded().await;
    let response = get_query(&server, "SELECT * WHERE { ?s ?p }", None).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("1:"), "{message}");
    assert_eq!(body["status"], 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_methods_and_media_types_are_refused() {
    let server = seeded().await;
    let response = server
        .client
        .delete(server.url("sparql"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let response = server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "text/plain")
        .body("ASK {}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = server
        .client
        .post(server.url("sparql"))
        .form(&[("query", "ASK {}"), ("update", "CLEAR ALL")])
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = server
        .client
        .get(server.url("sparql"))
        .query(&[("update", "CLEAR ALL")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let response = server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "application/sparql-query")
        .body(vec![0x41u8, 0x53, 0x4b, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        server.count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_need_the_write_token_and_refused_ones_change_nothing() {
    let server = seeded().await;
    let count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }";
    let drop_all = "DROP ALL";
    let anonymous = server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "application/sparql-update")
        .body(drop_all)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let wrong = server
        .client
        .post(server.url("sparql"))
        .form(&[("update", drop_all)])
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(server.count(count).await, 2);

    // A failing update is atomic: the first operation is undone with the second.
    let response = server
        .update("DROP GRAPH <http://example.org/g1> ; CREATE GRAPH <http://example.org/g2>")
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(server.count(count).await, 2);

    assert_eq!(server.update(drop_all).await.status(), 204);
    assert_eq!(server.count(count).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_a_token_or_read_only_refuses_every_update() {
    let server = TestServer::start(Options {
        write_token: None,
        ..Options::default()
    })
    .await;
    assert_eq!(server.update(DATA).await.status(), 401);
    let server = TestServer::start(Options {
        read_only: true,
        ..Options::default()
    })
    .await;
    assert_eq!(server.update(DATA).await.status(), 403);
    assert_eq!(
        server.count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").await,
        0
    );
}

/// A query over a store of `side` subjects whose cross product is `side * side` rows.
async fn grid(side: usize) -> TestServer {
    let server = TestServer::start(Options::default()).await;
    let values: String = (0..side)
        .map(|i| format!("<http://example.org/n{i}> <http://example.org/i> {i} .\n"))
        .collect();
    let response = server
        .update(&format!(
            "INSERT DATA {{ GRAPH <http://example.org/grid> {{ {values} }} }}"
        ))
        .await;
    assert_eq!(response.status(), 204);
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn large_results_stream_complete() {
    let server = grid(300).await;
    let response = get_query(
        &server,
        "SELECT ?a ?b { ?a <http://example.org/i> ?x . ?b <http://example.org/i> ?y }",
        Some("text/tab-separated-values"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let body = response.text().await.unwrap();
    assert_eq!(body.lines().count(), 1 + 300 * 300);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_result_that_fits_in_one_chunk_comes_with_its_length() {
    let server = grid(300).await;
    // 300 rows of about 60 bytes: well under one 64 KiB chunk.
    let response = get_query(
        &server,
        "SELECT ?a { ?a <http://example.org/i> ?x }",
        Some("text/tab-separated-values"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let length = response.headers().get("content-length").cloned();
    let body = response.text().await.unwrap();
    assert_eq!(body.lines().count(), 1 + 300);
    assert_eq!(
        length.map(|v| v.to_str().unwrap().to_owned()),
        Some(body.len().to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_goes_away_stops_its_query() {
    let server = grid(400).await;
    // 400^3 = 64 million rows: far more than the test would ever read.
    let query = "SELECT * { ?a <http://example.org/i> ?x . ?b <http://example.org/i> ?y . ?c <http://example.org/i> ?z }";
    let mut response = get_query(&server, query, Some("text/tab-separated-values")).await;
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.unwrap().is_some());
    assert_eq!(server.running_queries().await, 1);
    drop(response);
    let started = Instant::now();
    while server.running_queries().await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the query kept running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_description_on_a_bare_get() {
    let server = seeded().await;
    let response = server
        .client
        .get(server.url("sparql"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/turtle"));
    assert_eq!(response.headers()["vary"], "Accept");
    let body = response.text().await.unwrap();
    assert!(body.contains(&format!("<{}sparql>", server.base)), "{body}");
    let response = server
        .client
        .get(server.url("sparql"))
        .header("Accept", "application/sparql-results+json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    let response = server
        .client
        .get(server.url("nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
