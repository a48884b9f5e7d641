//! The abuse suite: hostile queries, uploads and HTTP against the real server with the seed
//! loaded. Each gets its documented error within its limit, and throughout a watchdog polls
//! `/healthz` every 200 ms: every poll must be answered within 2 s, and the server task must
//! still be running at the end.

use crate::common::{repo, Options, TestServer, TOKEN};
use claimgraph::http::Limits;
use futures_util::StreamExt;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(2);

fn limits() -> Limits {
    Limits {
        query_timeout: Some(TIMEOUT),
        max_result_rows: Some(5_000),
        max_result_bytes: Some(8 << 20),
        max_upload_bytes: 16 << 20,
        header_timeout: Some(Duration::from_secs(1)),
        ..Limits::default()
    }
}

/// A seeded server and a watchdog polling its `/healthz`.
struct Suite {
    server: TestServer,
    slowest: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
    watchdog: tokio::task::JoinHandle<()>,
}

impl Suite {
    async fn start() -> Self {
        let server = TestServer::start(Options {
            data_dirs: vec![repo().join("ontology"), repo().join("data")],
            limits: limits(),
            ..Options::default()
        })
        .await;
        let (slowest, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let url = server.url("healthz");
        let watchdog = tokio::spawn({
            let (slowest, failures) = (slowest.clone(), failures.clone());
            async move {
                loop {
                    let start = Instant::now();
                    let ok = matches!(client.get(&url).send().await, Ok(r) if r.status() == 200);
                    if !ok {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                    slowest.fetch_max(start.elapsed().as_millis() as u64, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Self {
            server,
            slowest,
            failures,
            watchdog,
        }
    }

    /// The server stayed up and `/healthz` always answered within 2 s.
    async fn finish(mut self) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.watchdog.abort();
        let slowest = self.slowest.load(Ordering::SeqCst);
        eprintln!("slowest /healthz: {slowest} ms");
        assert_eq!(
            self.failures.load(Ordering::SeqCst),
            0,
            "/healthz went unanswered"
        );
        assert!(slowest < 2000, "/healthz took {slowest} ms");
        assert!(self.server.is_running(), "the server task ended");
        self.server.shutdown().await;
    }

    async fn query(&self, query: &str, accept: &str) -> reqwest::Response {
        self.server
            .client
            .post(self.server.url("sparql"))
            .header("Content-Type", "application/sparql-query")
            .header("Accept", accept)
            .body(query.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn put(
        &self,
        graph: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.server
            .client
            .put(self.server.url(&format!("store?graph={graph}")))
            .bearer_auth(TOKEN)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    fn address(&self) -> String {
        self.server
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    }
}

/// The JSON error message, after checking the status.
async fn message(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: serde_json::Value = response.json().await.unwrap();
    body["message"].as_str().unwrap().to_owned()
}

/// Either a complete 200 or the time limit's 500, within the limit plus slack.
async fn answered_within_limit(suite: &Suite, query: &str) -> Duration {
    let start = Instant::now();
    let response = suite.query(query, "application/sparql-results+json").await;
    match response.status().as_u16() {
        200 => {
            let body = response.bytes().await;
            // Streaming past the limit is aborted: never a complete-looking body after it.
            assert!(body.is_ok() || start.elapsed() >= TIMEOUT, "{query}");
        }
        500 => {
            let message = message(response, 500).await;
            assert!(message.contains("--query-timeout"), "{message}");
        }
        other => panic!("{query}: unexpected {other}"),
    }
    let elapsed = start.elapsed();
    assert!(elapsed < TIMEOUT * 2, "{query}: answered after {elapsed:?}");
    elapsed
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_queries_get_their_documented_errors_within_their_limits() {
    let suite = Suite::start().await;

    // A cartesian join over the whole store: results stream, then the time limit (or the row
    // cap) aborts the response.
    let start = Instant::now();
    let response = suite
        .query(
            "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
            "application/sparql-results+json",
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.is_err(),
        "an aborted result must not look complete"
    );
    assert!(start.elapsed() < TIMEOUT * 2, "{:?}", start.elapsed());

    // Exploding property paths, over everything.
    let elapsed = answered_within_limit(
        &suite,
        "SELECT (COUNT(*) AS ?n) { ?a (<http://example.org/p>|!<http://example.org/p>)* ?b }",
    )
    .await;
    eprintln!("exploding property path answered in {elapsed:?}");

    // 10,000-deep nesting: refused before parsing.
    let deep = format!("SELECT * {}{}", "{".repeat(10_000), "}".repeat(10_000));
    let message_ = message(
        suite.query(&deep, "application/sparql-results+json").await,
        400,
    )
    .await;
    assert!(message_.contains("limit is 200"), "{message_}");

    // Catastrophic regexes: Rust's regex engine does not backtrack.
    let long = "a".repeat(200_000);
    answered_within_limit(
        &suite,
        &format!("SELECT ?m {{ BIND(REGEX(\"{long}!\", \"(a+)+$\") AS ?m) }}"),
    )
    .await;
    answered_within_limit(
        &suite,
        "SELECT ?o { ?s ?p ?o FILTER REGEX(STR(?o), \"^(a|a?)+$\") }",
    )
    .await;

    // A gigantic literal: 16 doublings of 1 KiB (64 MiB) are past the 8 MiB result cap. The
    // serialiser writes it piecemeal, so the first chunk may already be out: then the body is
    // aborted; otherwise the answer is a 500 naming the cap.
    let mut doubling = format!("BIND(\"{}\" AS ?x0)", "x".repeat(1024));
    for i in 1..=16 {
        doubling.push_str(&format!(" BIND(CONCAT(?x{p}, ?x{p}) AS ?x{i})", p = i - 1));
    }
    let start = Instant::now();
    let response = suite
        .query(
            &format!("SELECT ?x16 {{ {doubling} }}"),
            "application/sparql-results+json",
        )
        .await;
    if response.status() == 200 {
        assert!(
            response.bytes().await.is_err(),
            "a capped result must not look complete"
        );
    } else {
        let message_ = message(response, 500).await;
        assert!(message_.contains("--max-result-bytes"), "{message_}");
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed < TIMEOUT * 2,
        "64 MiB literal answered after {elapsed:?}"
    );
    eprintln!("64 MiB literal refused after {elapsed:?}");

    // GROUP_CONCAT over everything, squared: the time limit.
    answered_within_limit(
        &suite,
        "SELECT (GROUP_CONCAT(STR(?o)) AS ?all) { ?s ?p ?o . ?a ?b ?c }",
    )
    .await;

    suite.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn results_past_the_row_and_byte_caps_end_in_an_error_never_truncated() {
    let suite = Suite::start().await;
    let tsv = "text/tab-separated-values";

    // Exactly the cap: complete.
    let response = suite
        .query("SELECT ?a { ?a ?b ?c . ?d ?e ?f } LIMIT 5000", tsv)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap().lines().count(), 1 + 5000);

    // One row over, all within the first chunk: a 500 naming the cap.
    let response = suite
        .query("SELECT ?x { ?a ?b ?c . ?d ?e ?f } LIMIT 5001", tsv)
        .await;
    let message_ = message(response, 500).await;
    assert!(message_.contains("--max-result-rows"), "{message_}");
    assert!(message_.contains("5000"), "{message_}");

    // One row over once results stream: the body is aborted.
    let response = suite
        .query("SELECT ?a ?b ?c { ?a ?b ?c . ?d ?e ?f } LIMIT 5001", tsv)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.is_err(),
        "a capped result must not look complete"
    );

    // Bytes past the cap once streaming (2 KiB rows, 8 MiB cap): aborted too.
    let pad = "y".repeat(2048);
    let rows =
        format!("SELECT ?a ?pad {{ ?a ?b ?c . ?d ?e ?f BIND(\"{pad}\" AS ?pad) }} LIMIT 4999");
    let response = suite.query(&rows, tsv).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.is_err(),
        "a capped result must not look complete"
    );

    // curl sees an incomplete transfer and exits non-zero.
    let url = suite.server.url("sparql");
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-H",
                "Accept: text/tab-separated-values",
            ])
            .arg("--data-urlencode")
            .arg(format!("query={rows}"))
            .arg(&url)
            .status()
    })
    .await
    .unwrap();
    match status {
        Ok(status) => assert!(
            !status.success(),
            "curl took an aborted result for complete"
        ),
        Err(error) => eprintln!("curl not run: {error}"),
    }

    suite.finish().await;
}

fn billion_laughs() -> String {
    let mut doctype = String::from("<!ENTITY lol0 \"lol\">\n");
    for level in 1..=9 {
        let refs = format!("&lol{};", level - 1).repeat(10);
        doctype.push_str(&format!("<!ENTITY lol{level} \"{refs}\">\n"));
    }
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF [\n{doctype}]>\n\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
         xmlns:ex=\"http://example.org/\">\n<rdf:Description rdf:about=\"http://example.org/s\">\
         <ex:p>&lol9;</ex:p></rdf:Description></rdf:RDF>\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_uploads_are_refused_naming_the_problem_and_change_nothing() {
    let suite = Suite::start().await;
    let graph = "http://example.org/hostile";
    let graph_is_absent = || async {
        let response = suite
            .server
            .client
            .get(suite.server.url(&format!("store?graph={graph}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "a refused upload changed the store");
    };

    // Billion laughs: refused before the parser expands anything.
    let start = Instant::now();
    let message_ = message(
        suite
            .put(graph, "application/rdf+xml", billion_laughs())
            .await,
        400,
    )
    .await;
    assert!(message_.contains("lol"), "{message_}");
    assert!(message_.contains("expand"), "{message_}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    graph_is_absent().await;

    // And through `claimgraph load`.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("laughs.rdf");
    std::fs::write(&file, billion_laughs()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .arg("load")
        .arg("--store")
        .arg(dir.path().join("store"))
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("laughs.rdf") && stderr.contains("expand"),
        "{stderr}"
    );

    // A remote JSON-LD context is never fetched: a listener at its address sees nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let context = format!("http://{}/context.jsonld", listener.local_addr().unwrap());
    let document = format!(
        "{{\"@context\": \"{context}\", \"@id\": \"http://example.org/s\", \"name\": \"x\"}}"
    );
    let message_ = message(suite.put(graph, "application/ld+json", document).await, 400).await;
    assert!(message_.contains(&context), "{message_}");
    assert!(
        listener.accept().is_err(),
        "the server fetched the remote context"
    );
    graph_is_absent().await;

    // Invalid UTF-8 and malformed documents: 400 with line:col.
    for (content_type, body, position) in [
        (
            "text/turtle",
            b"<http://a> <http://b> \"caf\xff\" .\n".to_vec(),
            ":1:",
        ),
        (
            "application/n-quads",
            b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> \"\xc3\x28\" .\n".to_vec(),
            ":2:",
        ),
        (
            "text/turtle",
            b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> .\n".to_vec(),
            ":2:",
        ),
        (
            "application/ld+json",
            b"{\"@id\": \"http://a\",\n \"http://b\": [}\n".to_vec(),
            ":2:",
        ),
    ] {
        let message_ = message(suite.put(graph, content_type, body).await, 400).await;
        assert!(
            message_.contains("request body") && message_.contains(position),
            "{content_type}: {message_}"
        );
    }
    graph_is_absent().await;

    // A 200 MB body of undeclared length: 413 once it passes the limit, not read to its end.
    let sent = Arc::new(AtomicU64::new(0));
    let chunks = {
        let sent = sent.clone();
        futures_util::stream::iter(0..200).map(move |_| {
            sent.fetch_add(1 << 20, Ordering::SeqCst);
            Ok::<_, std::io::Error>(vec![b'#'; 1 << 20])
        })
    };
    let response = suite
        .server
        .client
        .put(suite.server.url(&format!("store?graph={graph}")))
        .bearer_auth(TOKEN)
        .header("Content-Type", "text/turtle")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    let sent = sent.load(Ordering::SeqCst);
    match response {
        Ok(response) => {
            let message_ = message(response, 413).await;
            assert!(message_.contains("--max-upload-bytes"), "{message_}");
        }
        // The server may close the connection while the client is still sending.
        Err(error) => eprintln!("the 200 MB upload ended with {error}"),
    }
    assert!(
        sent < 100 << 20,
        "the server read {sent} bytes of a body over its limit"
    );
    graph_is_absent().await;

    // The same body on /sparql: its limit is 1 MiB.
    let response = suite
        .server
        .client
        .post(suite.server.url("sparql"))
        .header("Content-Type", "application/sparql-query")
        .body(vec![b' '; 200 << 20])
        .send()
        .await;
    if let Ok(response) = response {
        let message_ = message(response, 413).await;
        assert!(message_.contains("--max-body-bytes"), "{message_}");
    }

    suite.finish().await;
}

/// Sends `request` on a raw socket and returns what the server answered before closing (or
/// before `wait` passed).
fn raw(address: &str, request: &[u8], wait: Duration) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_http_is_refused_and_slow_clients_are_dropped() {
    let suite = Suite::start().await;
    let address = suite.address();

    // Slowloris: headers a byte at a time are cut off by the 1 s header timeout.
    let slow = tokio::task::spawn_blocking({
        let address = address.clone();
        move || {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let start = Instant::now();
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            {
                if stream.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
                if start.elapsed() > Duration::from_secs(4) {
                    break;
                }
            }
            let mut rest = Vec::new();
            let closed = stream.read_to_end(&mut rest).is_ok();
            (
                closed,
                start.elapsed(),
                String::from_utf8_lossy(&rest).into_owned(),
            )
        }
    });
    let (closed, elapsed, answer) = slow.await.unwrap();
    assert!(closed, "the slow connection was left open");
    assert!(
        elapsed < Duration::from_secs(4),
        "dropped after {elapsed:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    eprintln!("slowloris client dropped after {elapsed:?}");

    // Oversized headers: 431 or a closed connection, never a crash.
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let answer = tokio::task::spawn_blocking({
        let address = address.clone();
        move || raw(&address, big_header.as_bytes(), Duration::from_secs(5))
    })
    .await
    .unwrap();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    // A huge URL: refused the same way.
    let huge_url = format!(
        "GET /sparql?query={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let answer = tokio::task::spawn_blocking({
        let address = address.clone();
        move || raw(&address, huge_url.as_bytes(), Duration::from_secs(5))
    })
    .await
    .unwrap();
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 414")
            || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    // Malformed query strings: 400 naming the problem.
    for (query, expected) in [
        ("query=%ZZ", "malformed percent-escape"),
        ("query=%FF%FE", "UTF-8"),
        ("query=ASK%20%7B%7D&query=ASK%20%7B%7D", "more than once"),
    ] {
        let response = suite
            .server
            .client
            .get(format!("{}?{query}", suite.server.url("sparql")))
            .send()
            .await
            .unwrap();
        let message_ = message(response, 400).await;
        assert!(message_.contains(expected), "{query}: {message_}");
    }

    // Many slow clients at once do not starve the others.
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let address = address.clone();
            tokio::task::spawn_blocking(move || {
                raw(
                    &address,
                    b"GET /healthz HTTP/1.1\r\n",
                    Duration::from_secs(3),
                )
            })
        })
        .collect();
    let healthz = suite
        .server
        .client
        .get(suite.server.url("healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    futures_util::stream::iter(clients)
        .for_each_concurrent(None, |client| async {
            let _ = client.await;
        })
        .await;

    suite.finish().await;
}
