//! Roles, refusals, CORS and the audit trail, over real HTTP on a real store: every write route
//! refused without a token and nothing changed, roles from an `--auth` file, `--read-only`,
//! `LOAD` refused, CORS on reads only, and the audit trail recording who wrote what (and hidden
//! from `/sparql`).

use crate::common::{Options, TestServer, ADMIN_TOKEN, TOKEN};
use reqwest::{Method, StatusCode};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const ALICE: &str = "alice-secret-token";
const ROOT: &str = "root-secret-token";
const DATA: &str = "INSERT DATA { GRAPH <http://example.org/g> { \
    <http://example.org/a> <http://example.org/p> 1 . \
    <http://example.org/b> <http://example.org/p> 2 . \
    <http://example.org/c> <http://example.org/p> 3 } }";

/// An `--auth` file written by `claimgraph hash-token` (so the helper is tested too): `alice`, a
/// writer, and `root`, an admin.
fn auth_file(dir: &std::path::Path) -> PathBuf {
    let mut text = String::new();
    for (token, name, role) in [(ALICE, "alice", "writer"), (ROOT, "root", "admin")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_claimgraph"))
            .args(["hash-token", "--name", name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let block = String::from_utf8(output.stdout).unwrap();
        assert!(
            !block.contains(token),
            "the block holds the hash, not the token"
        );
        text.push_str(&block);
    }
    let path = dir.join("auth.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn with_roles(dir: &tempfile::TempDir) -> TestServer {
    TestServer::start(Options {
        write_token: None,
        auth_file: Some(auth_file(dir.path())),
        ..Options::default()
    })
    .await
}

/// Every quad of the store, sorted: equal before and after means nothing changed.
async fn snapshot(server: &TestServer) -> Vec<String> {
    let response = server
        .client
        .get(server.url("export?format=nquads"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut lines: Vec<String> = response
        .text()
        .await
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    let mut request = server
        .client
        .request(method, server.url(path))
        .header("Content-Type", content_type)
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Every write request there is: (method, path, content type, body).
fn writes() -> Vec<(Method, &'static str, &'static str, &'static str)> {
    let turtle = "<http://example.org/x> <http://example.org/p> <http://example.org/y> .";
    let mut writes = vec![
        (
            Method::POST,
            "sparql",
            "application/sparql-update",
            "DROP ALL",
        ),
        (
            Method::POST,
            "sparql",
            "application/x-www-form-urlencoded",
            "update=DROP%20ALL",
        ),
        (Method::POST, "store", "text/turtle", turtle),
    ];
    for path in [
        "store?graph=http%3A%2F%2Fexample.org%2Fg",
        "store?default",
        "store/some/graph",
    ] {
        writes.push((Method::PUT, path, "text/turtle", turtle));
        writes.push((Method::POST, path, "text/turtle", turtle));
        writes.push((Method::DELETE, path, "text/turtle", ""));
    }
    writes
}

#[tokio::test(flavor = "multi_thread")]
async fn every_write_without_a_valid_token_is_401_and_changes_nothing() {
    let server = TestServer::start(Options::default()).await;
    assert_eq!(server.update(DATA).await.status(), 204);
    let put = send(
        &server,
        Method::PUT,
        "store/some/graph",
        Some(TOKEN),
        "text/turtle",
        "<a> <b> <c> .",
    )
    .await;
    assert_eq!(put.status(), 201);
    let before = snapshot(&server).await;
    assert_eq!(before.len(), 4);
    for (method, path, content_type, body) in writes() {
        for token in [None, Some("not-a-token")] {
            let response = send(&server, method.clone(), path, token, content_type, body).await;
            assert_eq!(response.status(), 401, "{method} {path} with {token:?}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            assert!(response.text().await.unwrap().contains("token"));
        }
    }
    // The protocol allows no update by GET; refused too.
    let get = server
        .client
        .get(server.url("sparql?update=DROP%20ALL"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(snapshot(&server).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_refuses_every_write_whatever_the_token() {
    let server = TestServer::start(Options {
        read_only: true,
        admin_token: Some(ADMIN_TOKEN),
        ..Options::default()
    })
    .await;
    let before = snapshot(&server).await;
    for (method, path, content_type, body) in writes() {
        for token in [None, Some(TOKEN), Some(ADMIN_TOKEN)] {
            let response = send(&server, method.clone(), path, token, content_type, body).await;
            assert_eq!(response.status(), 403, "{method} {path} with {token:?}");
            assert!(response.text().await.unwrap().contains("read-only"));
        }
    }
    assert_eq!(snapshot(&server).await, before);
    // Reads still work, the audit trail included (for its admin).
    let audit = server
        .client
        .get(server.url("audit"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_decide_who_reads_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_roles(&dir).await;
    let get = |path: &'static str, token: Option<&'static str>| {
        let mut request = server.client.get(server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let query = "audit/sparql?query=SELECT%20*%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D";
    for path in ["audit", query] {
        let anonymous = get(path, None).await.unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
        assert!(anonymous.headers().contains_key("www-authenticate"));
        let writer = get(path, Some(ALICE)).await.unwrap();
        assert_eq!(writer.status(), 403, "{path}");
        assert!(writer.text().await.unwrap().contains("admin"));
        assert_eq!(get(path, Some("wrong")).await.unwrap().status(), 401);
        assert_eq!(get(path, Some(ROOT)).await.unwrap().status(), 200, "{path}");
    }
    // A writer writes; an admin is a writer too.
    let alice = send(
        &server,
        Method::POST,
        "sparql",
        Some(ALICE),
        "application/sparql-update",
        DATA,
    )
    .await;
    assert_eq!(alice.status(), 204);
    let root = send(
        &server,
        Method::PUT,
        "store/r",
        Some(ROOT),
        "text/turtle",
        "<a> <b> <c> .",
    )
    .await;
    assert_eq!(root.status(), 201);
    // The audit trail cannot be written, even by an admin.
    let update = send(
        &server,
        Method::POST,
        "audit/sparql",
        Some(ROOT),
        "application/sparql-update",
        "DROP ALL",
    )
    .await;
    assert_eq!(update.status(), 403);
}

/// A record's agent, operation, outcome, quads added and removed.
type Summary = (String, String, String, Option<u64>, Option<u64>);

/// The newest records of `/audit`, read by an admin.
async fn audit(server: &TestServer, token: &str, limit: usize) -> Vec<serde_json::Value> {
    let response = server
        .client
        .get(server.url(&format!("audit?limit={limit}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let list: serde_json::Value = response.json().await.unwrap();
    list["records"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_records_who_wrote_what_and_how_much() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_roles(&dir).await;
    let update = |token: &'static str, text: &'static str| {
        send(
            &server,
            Method::POST,
            "sparql",
            Some(token),
            "application/sparql-update",
            text,
        )
    };
    assert_eq!(update(ALICE, DATA).await.status(), 204);
    let records = audit(&server, ROOT, 1).await;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["agent"], "alice");
    assert_eq!(record["operation"], "sparql-update");
    assert_eq!(record["outcome"], "committed");
    assert_eq!(record["quads_added"], 3);
    assert_eq!(record["quads_removed"], 0);
    assert_eq!(
        record["generated"],
        serde_json::json!(["http://example.org/g"])
    );
    assert!(record["started_at"].as_str().unwrap() <= record["ended_at"].as_str().unwrap());
    assert!(!serde_json::to_string(&records).unwrap().contains(ALICE));

    let delete = "DELETE DATA { GRAPH <http://example.org/g> { \
                  <http://example.org/a> <http://example.org/p> 1 } }";
    assert_eq!(update(ALICE, delete).await.status(), 204);
    // A failing update changes nothing, and says so.
    let failing = "DROP GRAPH <http://example.org/g> ; CREATE GRAPH <http://example.org/g2> ; \
                   CREATE GRAPH <http://example.org/g2>";
    assert_eq!(update(ALICE, failing).await.status(), 400);
    let put = send(
        &server,
        Method::PUT,
        "store?graph=http%3A%2F%2Fexample.org%2Fg",
        Some(ROOT),
        "text/turtle",
        "<http://example.org/z> <http://example.org/p> 9 .",
    )
    .await;
    assert_eq!(put.status(), 204);
    let remove = send(
        &server,
        Method::DELETE,
        "store/nothing",
        Some(ALICE),
        "",
        "",
    )
    .await;
    assert_eq!(remove.status(), 404);

    let records = audit(&server, ROOT, 10).await;
    let summary: Vec<Summary> = records
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_owned(),
                r["operation"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["quads_added"].as_u64(),
                r["quads_removed"].as_u64(),
            )
        })
        .collect();
    let row = |agent: &str, op: &str, outcome: &str, added: Option<u64>, removed: Option<u64>| {
        (agent.into(), op.into(), outcome.into(), added, removed)
    };
    assert_eq!(
        summary,
        vec![
            row("alice", "graph-store-delete", "committed", Some(0), Some(0)),
            row("root", "graph-store-put", "committed", Some(1), Some(2)),
            row("alice", "sparql-update", "failed", None, None),
            row("alice", "sparql-update", "committed", Some(0), Some(1)),
            row("alice", "sparql-update", "committed", Some(3), Some(0)),
        ]
    );
    assert!(records[2]["message"].as_str().unwrap().contains("g2"));
    let sequences: Vec<u64> = records
        .iter()
        .map(|r| r["sequence"].as_u64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] > w[1]), "{sequences:?}");

    // Admins query it with SPARQL; it is PROV-O.
    let response = server
        .client
        .post(server.url("audit/sparql"))
        .bearer_auth(ROOT)
        .header("Accept", "application/sparql-results+json")
        .form(&[(
            "query",
            "PREFIX prov: <http://www.w3.org/ns/prov#> \
             SELECT (COUNT(*) AS ?n) { ?a a prov:Activity ; prov:wasAssociatedWith ?agent }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let results: serde_json::Value = response.json().await.unwrap();
    assert_eq!(results["results"]["bindings"][0]["n"]["value"], "5");
    // The RDF representation holds the whole trail.
    let turtle = server
        .client
        .get(server.url("audit"))
        .bearer_auth(ROOT)
        .header("Accept", "text/turtle")
        .send()
        .await
        .unwrap();
    assert_eq!(turtle.status(), 200);
    assert!(turtle.text().await.unwrap().contains("prov:Activity"));

    // /sparql never sees the trail, in any graph.
    let everything = server
        .select("SELECT * { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } }")
        .await;
    let text = everything.to_string();
    assert!(!text.contains("/audit"), "{text}");
    assert!(
        !text.contains("http://www.w3.org/ns/prov#Activity"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn load_is_refused_for_everyone_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = with_roles(&dir).await;
    let before = snapshot(&server).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let remote = format!("LOAD <http://{}/data.ttl>", listener.local_addr().unwrap());
    let cases: Vec<(String, Option<&str>, StatusCode)> = vec![
        (
            "LOAD <file:///etc/passwd>".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "LOAD <file:///etc/passwd>".into(),
            Some(ROOT),
            StatusCode::BAD_REQUEST,
        ),
        (remote.clone(), None, StatusCode::UNAUTHORIZED),
        (remote.clone(), Some(ALICE), StatusCode::FORBIDDEN),
        (remote.clone(), Some(ROOT), StatusCode::FORBIDDEN),
    ];
    for (update, token, status) in cases {
        let response = send(
            &server,
            Method::POST,
            "sparql",
            token,
            "application/sparql-update",
            &update,
        )
        .await;
        assert_eq!(response.status(), status, "{update} by {token:?}");
        let message = response.text().await.unwrap();
        if token == Some(ROOT) {
            assert!(
                message.contains("local files") || message.contains("outbound"),
                "{message}"
            );
        }
        assert!(
            !message.contains("  "),
            "one sentence, no runs of spaces: {message}"
        );
    }
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(300), listener.accept()).await;
    assert!(accepted.is_err(), "LOAD made a connection");
    assert_eq!(snapshot(&server).await, before);
    assert!(
        audit(&server, ROOT, 10).await.is_empty(),
        "refusals are not recorded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_is_granted_to_reads_only() {
    let server = TestServer::start(Options::default()).await;
    let origin = "https://yasgui.example";
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let get = server
        .client
        .get(server.url("sparql?query=ASK%20%7B%7D"))
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(allowed(&get).as_deref(), Some("*"));
    for content_type in [
        "application/sparql-query",
        "application/x-www-form-urlencoded",
    ] {
        let body = if content_type.ends_with("query") {
            "ASK {}"
        } else {
            "query=ASK%20%7B%7D"
        };
        let query = send(&server, Method::POST, "sparql", None, content_type, body).await;
        assert_eq!(query.status(), 200);
        assert_eq!(allowed(&query).as_deref(), Some("*"), "{content_type}");
    }
    let update = send(
        &server,
        Method::POST,
        "sparql",
        Some(TOKEN),
        "application/sparql-update",
        DATA,
    )
    .await;
    assert_eq!(update.status(), 204);
    assert_eq!(allowed(&update), None);
    let put = send(
        &server,
        Method::PUT,
        "store/x",
        Some(TOKEN),
        "text/turtle",
        "<a> <b> <c> .",
    )
    .await;
    assert_eq!(put.status(), 201);
    assert_eq!(allowed(&put), None);
    let refused = send(&server, Method::PUT, "store/x", None, "text/turtle", "").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(allowed(&refused), None);

    let preflight = |path: &'static str, method: &'static str, headers: &'static str| {
        server
            .client
            .request(Method::OPTIONS, server.url(path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", headers)
            .send()
    };
    let query = preflight("sparql", "POST", "content-type").await.unwrap();
    assert!(query.status().is_success());
    assert_eq!(allowed(&query).as_deref(), Some("*"));
    let methods = query.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let read = preflight("claims", "GET", "accept").await.unwrap();
    assert_eq!(allowed(&read).as_deref(), Some("*"));
    for (path, method, headers) in [
        ("store/x", "PUT", "content-type"),
        ("store", "POST", "content-type"),
        ("store/x", "DELETE", ""),
        // A token is what a write needs; a cross-origin page may not send one.
        ("sparql", "POST", "content-type, authorization"),
    ] {
        let response = preflight(path, method, headers).await.unwrap();
        assert_eq!(allowed(&response), None, "{method} {path} [{headers}]");
        assert!(!response.status().is_success());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_auth_file_stops_the_server_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.toml");
    std::fs::write(
        &path,
        "[[token]]\nname = \"alice\"\nrole = \"superuser\"\nsha256 = \"00\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .args(["serve", "--bind", "127.0.0.1:0", "--reload-interval", "0"])
        .arg("--store")
        .arg(dir.path().join("store"))
        .arg("--data")
        .arg(dir.path().join("none"))
        .arg("--ontology")
        .arg(dir.path().join("none"))
        .arg("--auth")
        .arg(&path)
        .env_remove("CLAIMGRAPH_WRITE_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3:8: unknown role", path.display())),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn command_line_writes_are_recorded_with_the_os_user() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.ttl");
    std::fs::write(
        &file,
        "<http://example.org/a> <http://example.org/p> 1, 2 .\n",
    )
    .unwrap();
    let store = dir.path().join("store");
    let output = Command::new(env!("CARGO_BIN_EXE_claimgraph"))
        .arg("load")
        .arg("--store")
        .arg(&store)
        .arg(&file)
        .env("USER", "curator-carol")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let server = TestServer::start_with_store(
        dir,
        store,
        Options {
            admin_token: Some(ADMIN_TOKEN),
            ..Options::default()
        },
    )
    .await;
    let records = audit(&server, ADMIN_TOKEN, 10).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["agent"], "curator-carol");
    assert_eq!(records[0]["operation"], "cli-load");
    assert_eq!(records[0]["quads_added"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_finds_its_writes_and_their_trail() {
    let options = || Options {
        admin_token: Some(ADMIN_TOKEN),
        ..Options::default()
    };
    let server = TestServer::start(options()).await;
    assert!(server.update(DATA).await.status().is_success());
    // The store is opened again by a new server in the same process: the first one must have
    // closed it (and released RocksDB's lock) when it stopped.
    let server = server.restart(options()).await;
    let count = server
        .select("SELECT (COUNT(*) AS ?n) { GRAPH <http://example.org/g> { ?s ?p ?o } }")
        .await;
    assert_eq!(count["results"]["bindings"][0]["n"]["value"], "3");
    let records = audit(&server, ADMIN_TOKEN, 10).await;
    assert!(
        records
            .iter()
            .any(|r| r["agent"] == "write-token" && r["operation"] == "sparql-update"),
        "{records:?}"
    );
}
