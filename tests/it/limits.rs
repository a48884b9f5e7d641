//! Bounded queries: the time limit stops evaluation (not just the response), the concurrency cap
//! queues queries in turn (and refuses past its queue) while other routes answer, oversized,
//! over-nested and slowly sent requests are refused, and SERVICE never reaches the network.

use crate::common::{repo, Options, TestServer, TOKEN};
use claimgraph::http::Limits;
use std::time::{Duration, Instant};

/// A cross product of the seed data with itself three times: far too many rows to finish.
const ENDLESS: &str = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }";

async fn seeded(limits: Limits) -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("ontology"), repo().join("data")],
        limits,
        ..Options::default()
    })
    .await
}

async fn post_query(server: &TestServer, query: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "application/sparql-query")
        .header("Accept", "application/sparql-results+json")
        .body(query.to_owned())
        .send()
        .await
        .unwrap()
}

/// Waits until no query is being evaluated: the evaluation threads themselves have ended.
async fn assert_queries_stop(server: &TestServer, within: Duration) {
    let start = Instant::now();
    while server.running_queries().await > 0 {
        assert!(
            start.elapsed() < within,
            "a query was still being evaluated {within:?} after its response ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The JSON error message, after checking the status.
async fn error_message(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body["message"].as_str().unwrap().to_owned()
}

fn with_timeout(seconds: u64) -> Limits {
    Limits {
        query_timeout: Some(Duration::from_secs(seconds)),
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streaming_query_past_its_time_limit_is_aborted_and_stops() {
    let server = seeded(with_timeout(2)).await;
    let start = Instant::now();
    let response = post_query(&server, ENDLESS).await;
    assert_eq!(response.status(), 200, "the first rows come at once");
    // The client reads as fast as it can: the body must end in an error, not a complete result.
    let body = response.bytes().await;
    let elapsed = start.elapsed();
    assert!(body.is_err(), "a timed-out result must not look complete");
    assert!(
        elapsed < Duration::from_secs(4),
        "stopped after {elapsed:?}"
    );
    eprintln!("streaming query aborted after {elapsed:?}");
    assert_queries_stop(&server, Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_past_its_time_limit_before_its_first_result_gets_500_naming_the_limit() {
    let server = seeded(with_timeout(2)).await;
    let start = Instant::now();
    let response = post_query(
        &server,
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    )
    .await;
    let elapsed = start.elapsed();
    let message = error_message(response, 500).await;
    assert!(message.contains("--query-timeout"), "{message}");
    assert!(message.contains("2 s"), "{message}");
    assert!(
        elapsed < Duration::from_secs(4),
        "answered after {elapsed:?}"
    );
    eprintln!("counting query refused after {elapsed:?}");
    assert_queries_stop(&server, Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_does_not_keep_a_query_past_its_limit() {
    let server = seeded(with_timeout(2)).await;
    let response = post_query(&server, ENDLESS).await;
    assert_eq!(response.status(), 200);
    // Hold the response unread: the evaluation thread blocks on a full channel until the deadline.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_queries_stop(&server, Duration::from_secs(2)).await;
    assert!(response.bytes().await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_server_queues_queries_in_turn_refuses_past_the_queue_and_keeps_answering() {
    let server = std::sync::Arc::new(
        seeded(Limits {
            max_queries: 1,
            max_queued_queries: 1,
            ..with_timeout(30)
        })
        .await,
    );
    let slow = post_query(&server, ENDLESS).await;
    assert_eq!(slow.status(), 200);

    // The next query waits for the slot...
    let waiting = tokio::spawn({
        let server = server.clone();
        async move { post_query(&server, "ASK {}").await.status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the second query waits its turn");
    // ...and one more than the queue holds is refused at once.
    let start = Instant::now();
    let refused = post_query(&server, "ASK {}").await;
    assert!(start.elapsed() < Duration::from_secs(1), "refused at once");
    assert_eq!(refused.headers()["retry-after"], "1");
    let message = error_message(refused, 503).await;
    assert!(message.contains("--max-queued-queries"), "{message}");

    let health = server
        .client
        .get(server.url("healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(server.running_queries().await, 1);
    let claims = server
        .client
        .get(server.url("claims"))
        .send()
        .await
        .unwrap();
    assert_eq!(claims.status(), 200);

    // The slot passes to the waiting query once the slow query's evaluation has stopped.
    drop(slow);
    assert_eq!(waiting.await.unwrap(), 200);
    assert_queries_stop(&server, Duration::from_secs(3)).await;
    let again = post_query(&server, "ASK {}").await;
    assert_eq!(again.status(), 200);
}

/// Many clients, far more than the slots, each asking again as soon as it has its answer: every
/// query is answered, in turn, none refused (the default queue holds them all).
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_clients_beyond_the_slots_is_answered_in_turn() {
    let server = seeded(Limits {
        max_queries: 2,
        ..with_timeout(30)
    })
    .await;
    let failed = unanswered(server, 32, 20, |_| "SELECT ?s { ?s a ?type } LIMIT 20").await;
    assert!(
        failed.is_empty(),
        "{} refused: {:?}",
        failed.len(),
        failed.first()
    );
}

/// As many clients as slots, each asking again as soon as it has its answer, are never refused:
/// a query's slot is free before the last of its answer reaches the client.
#[tokio::test(flavor = "multi_thread")]
async fn clients_as_many_as_slots_asking_in_turn_are_never_refused() {
    const CLIENTS: usize = 2;
    // No queue: a query that found its slot still taken would be refused at once.
    let server = seeded(Limits {
        max_queries: CLIENTS,
        max_queued_queries: 0,
        ..with_timeout(30)
    })
    .await;
    // Answers that fit in the first chunk: the response ends with the query's work.
    let query = |i: usize| {
        if i.is_multiple_of(2) {
            "ASK {}"
        } else {
            "SELECT ?s { ?s a ?type } LIMIT 3"
        }
    };
    let failed = unanswered(server, CLIENTS, 400, query).await;
    assert!(
        failed.is_empty(),
        "{} not answered: {:?}",
        failed.len(),
        failed.first()
    );
}

/// `clients` clients, each sending `rounds` queries (`query(i)` the i-th) and the next as soon as
/// it has its answer: every answer that was not 200, with its body.
async fn unanswered(
    server: TestServer,
    clients: usize,
    rounds: usize,
    query: fn(usize) -> &'static str,
) -> Vec<(u16, String)> {
    let server = std::sync::Arc::new(server);
    let clients: Vec<_> = (0..clients)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let mut failed = Vec::new();
                for i in 0..rounds {
                    let response = post_query(&server, query(i)).await;
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap();
                    if status != 200 {
                        failed.push((status, body));
                    }
                }
                failed
            })
        })
        .collect();
    let mut failed = Vec::new();
    for client in clients {
        failed.extend(client.await.unwrap());
    }
    failed
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_gets_413_naming_the_limit() {
    let server = seeded(Limits {
        max_body_bytes: 1000,
        ..Limits::default()
    })
    .await;
    let padding = format!("ASK {{}} #{}", "x".repeat(1000));
    let message = error_message(post_query(&server, &padding).await, 413).await;
    assert!(message.contains("--max-body-bytes"), "{message}");
    assert!(message.contains("1000 bytes"), "{message}");
    // The same text by GET is as long, and refused by the same limit.
    let response = server
        .client
        .get(server.url("sparql"))
        .query(&[("query", padding.as_str())])
        .send()
        .await
        .unwrap();
    error_message(response, 413).await;
    let ok = post_query(&server, "ASK {}").await;
    assert_eq!(ok.status(), 200);
}

/// hyper reads a request line of up to 64 KiB; a longer GET is refused by hyper itself with 414
/// (the Limits table in docs/operations.md says so: longer texts go by POST, up to
/// --max-body-bytes).
#[tokio::test(flavor = "multi_thread")]
async fn a_get_query_longer_than_a_request_line_gets_414_and_goes_by_post() {
    let server = seeded(Limits::default()).await;
    let long = format!("ASK {{}} #{}", "x".repeat(70_000));
    // Raw HTTP: HTTP libraries refuse to send a URI this long in the first place.
    let address = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let request = format!(
        "GET /sparql?query={} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
        long.replace(' ', "+")
            .replace('#', "%23")
            .replace('{', "%7B")
            .replace('}', "%7D")
    );
    let status_line = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(status_line.starts_with("HTTP/1.1 414"), "{status_line}");
    assert_eq!(post_query(&server, &long).await.status(), 200);
}

/// A result that breaks its byte cap right after its first 64 KiB chunk must reach the client
/// as a 200 whose body is cut off, every time: hyper had buffered the chunk when the error came,
/// and aborting with it unsent gave an empty reply (about one time in six).
#[tokio::test(flavor = "multi_thread")]
async fn a_result_cut_off_after_its_first_chunk_always_arrives_cut_off() {
    let server = seeded(Limits {
        max_result_bytes: Some(70_000),
        ..Limits::default()
    })
    .await;
    let pad = "z".repeat(1000);
    let query = format!("SELECT ?a ?pad {{ ?a ?b ?c BIND(\"{pad}\" AS ?pad) }} LIMIT 200");
    for attempt in 0..40 {
        let response = server
            .client
            .post(server.url("sparql"))
            .header("Content-Type", "application/sparql-query")
            .header("Accept", "text/tab-separated-values")
            .body(query.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: no response at all: {e}"));
        assert_eq!(response.status(), 200, "attempt {attempt}");
        let mut body = response.bytes_stream();
        let mut received = 0;
        let mut ended_in_error = false;
        while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
            match chunk {
                Ok(bytes) => received += bytes.len(),
                Err(_) => {
                    ended_in_error = true;
                    break;
                }
            }
        }
        assert!(
            ended_in_error,
            "attempt {attempt}: the body looked complete"
        );
        assert!(
            received >= 64 * 1024,
            "attempt {attempt}: only {received} bytes arrived"
        );
    }
}

/// A body sent a byte at a time is cut off at --body-timeout: 408, and the connection closed,
/// for a route that reads the body and for one that does not.
#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_are_refused_at_the_body_timeout_and_their_connections_closed() {
    use std::io::{Read, Write};
    let server = seeded(Limits {
        body_timeout: Some(Duration::from_secs(1)),
        ..Limits::default()
    })
    .await;
    let address = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let slow_clients = ["/sparql", "/sparql", "/store?default", "/healthz"].map(|path| {
        let address = address.clone();
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            let content_type = if path.starts_with("/store") {
                "text/turtle"
            } else {
                "application/sparql-query"
            };
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
                 Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).unwrap();
            let start = Instant::now();
            // A byte every 200 ms, until the server stops listening (at most 10 s).
            let mut writer = stream.try_clone().unwrap();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    if writer.write_all(b" ").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            });
            stream
                .set_read_timeout(Some(Duration::from_secs(8)))
                .unwrap();
            let mut answer = Vec::new();
            // Ends when the server closes the connection (a reset counts as closed too).
            let closed = match stream.read_to_end(&mut answer) {
                Ok(_) => true,
                Err(e) => {
                    e.kind() != std::io::ErrorKind::WouldBlock
                        && e.kind() != std::io::ErrorKind::TimedOut
                }
            };
            (
                path,
                closed,
                start.elapsed(),
                String::from_utf8_lossy(&answer).into_owned(),
            )
        })
    });
    for client in slow_clients {
        let (path, closed, elapsed, answer) = tokio::task::spawn_blocking(move || client.join())
            .await
            .unwrap()
            .unwrap();
        assert!(
            closed,
            "{path}: the connection was still open after {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "{path}: closed after {elapsed:?}"
        );
        if path != "/healthz" {
            assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
            assert!(answer.contains("--body-timeout"), "{path}: {answer}");
        }
    }
    let health = server
        .client
        .get(server.url("healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_nesting_is_refused_before_parsing_and_the_server_stays_up() {
    let server = seeded(Limits::default()).await;
    let braces = format!("ASK {}{}", "{".repeat(10_000), "}".repeat(10_000));
    let parens = format!(
        "ASK {{ FILTER({}1{}) }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let brackets = format!(
        "ASK {{ ?s ?p {} }}",
        "[ ?p ".repeat(10_000) + &"]".repeat(10_000)
    );
    for query in [&braces, &parens, &brackets] {
        let message = error_message(post_query(&server, query).await, 400).await;
        assert!(message.contains("levels deep"), "{message}");
        assert!(message.contains("limit is 200"), "{message}");
    }
    let update = server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "application/sparql-update")
        .bearer_auth(TOKEN)
        .body(format!(
            "INSERT {{}} WHERE {}{}",
            "{".repeat(10_000),
            "}".repeat(10_000)
        ))
        .send()
        .await
        .unwrap();
    let message = error_message(update, 400).await;
    assert!(message.contains("update nests"), "{message}");

    let health = server
        .client
        .get(server.url("healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // Nesting within the limit still works, braces in strings and IRIs do not count.
    let fine = format!(
        "ASK {{ {} FILTER(\"{{{{{{\" != '((((') }}",
        "{ ".repeat(150) + &"} ".repeat(150)
    );
    assert_eq!(post_query(&server, &fine).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn service_is_refused_without_any_connection() {
    let server = seeded(Limits::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/sparql", listener.local_addr().unwrap());
    for query in [
        format!("SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"),
        format!(
            "SELECT * {{ ?a ?b ?c OPTIONAL {{ SERVICE SILENT <{endpoint}> {{ ?s ?p ?o }} }} }}"
        ),
        format!("ASK {{ FILTER EXISTS {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }} }}"),
    ] {
        let message = error_message(post_query(&server, &query).await, 400).await;
        assert_eq!(
            message,
            "federated queries (SERVICE) are disabled on this server"
        );
    }
    let update = server
        .client
        .post(server.url("sparql"))
        .header("Content-Type", "application/sparql-update")
        .bearer_auth(TOKEN)
        .body(format!(
            "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        ))
        .send()
        .await
        .unwrap();
    let message = error_message(update, 400).await;
    assert!(message.contains("(SERVICE) are disabled"), "{message}");
    let connection = tokio::time::timeout(Duration::from_secs(1), listener.accept()).await;
    assert!(connection.is_err(), "the server connected to {endpoint}");
}

/// Long chains of operators parse into trees as deep as they are long (2,000 `+` used to crash
/// the server with a stack overflow): up to the limit they are answered, beyond it refused.
#[tokio::test(flavor = "multi_thread")]
async fn long_operator_chains_are_answered_up_to_the_limit_and_refused_beyond() {
    let server = seeded(Limits::default()).await;
    let chains = |n: usize| {
        [
            format!("ASK {{ FILTER(1{} = {}) }}", " + 1".repeat(n), n + 1),
            format!("ASK {{ {{}}{} }}", " UNION {}".repeat(n)),
            format!("ASK {{ FILTER(true{}) }}", " && true".repeat(n / 2)),
        ]
    };
    for query in chains(190) {
        let response = post_query(&server, &query).await;
        assert_eq!(response.status(), 200, "{}", &query[..40]);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["boolean"], true, "{}", &query[..40]);
    }
    // Paths are chains too (sequence of 480 steps: no match, but evaluated).
    let path = format!("ASK {{ ?s <p>{} ?o }}", "/<p>".repeat(480));
    assert_eq!(post_query(&server, &path).await.status(), 200);
    for query in chains(2_000) {
        let message = error_message(post_query(&server, &query).await, 400).await;
        assert!(message.contains("limit is"), "{message}");
    }
    // Prefix operators recurse too (the parser accepts `!!x`), and count as nesting.
    let nots = format!("ASK {{ FILTER({}true) }}", "!".repeat(100_000));
    let message = error_message(post_query(&server, &nots).await, 400).await;
    assert!(message.contains("levels deep"), "{message}");
    let health = server
        .client
        .get(server.url("healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
