//! Published versions and read-only replicas: `claimgraph publish`, `serve --follow`, HTTP
//! caching, the RDF Patch change feed, and two replicas behind a real nginx (Debian's, installed
//! by `./dev setup`) configured with docs/deploy/nginx.conf as it is.

use crate::common::{claimgraph, copy_dir, ok, repo, ServeProcess};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CLAIM: &str = "claims/bosworth-cambridge-analytica-non-event";
/// The triple version 2 adds (in a data file of its own), and the query that finds it.
const MARKER: &str =
    "<http://localhost:7878/published/marker> <http://schema.org/version> \"2\" .\n";
const MARKER_QUERY: &str =
    "SELECT ?v WHERE { <http://localhost:7878/published/marker> <http://schema.org/version> ?v }";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A primary: a store and a copy of the seed data, published into `versions`.
struct Primary {
    dir: tempfile::TempDir,
}

impl Primary {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("data"), &dir.path().join("data"));
        Self { dir }
    }

    fn versions(&self) -> PathBuf {
        self.dir.path().join("versions")
    }

    /// `claimgraph publish`; the new version's directory.
    fn publish(&self, extra: &[&str]) -> PathBuf {
        let (store, data) = (self.dir.path().join("db"), self.dir.path().join("data"));
        let ontology = repo().join("ontology");
        let versions = self.versions();
        let mut args = vec![
            "publish",
            "--store",
            s(&store),
            "--data",
            s(&data),
            "--ontology",
            s(&ontology),
            "--to",
            s(&versions),
        ];
        args.extend_from_slice(extra);
        let (stdout, _) = ok(&args);
        PathBuf::from(stdout.trim())
    }

    /// Adds the marker triple to the data, for the next publish.
    fn change(&self) {
        std::fs::write(self.dir.path().join("data/marker.nt"), MARKER).unwrap();
    }

    /// The store's quads as N-Quads lines (the store is closed between commands).
    fn dump(&self) -> BTreeSet<String> {
        let store = self.dir.path().join("db");
        let (stdout, _) = ok(&["dump", "--store", s(&store), "--format", "nquads"]);
        stdout.lines().map(str::to_owned).collect()
    }
}

/// `serve --follow versions` on `bind`, looking every 0.2 s.
fn replica(versions: &Path, bind: &str, extra: &[&str]) -> ServeProcess {
    let mut command = claimgraph();
    command.env("CLAIMGRAPH_LOG", "info").args([
        "serve",
        "--follow",
        s(versions),
        "--follow-interval",
        "0.2",
        "--bind",
        bind,
        "--primary",
        "https://primary.example/",
    ]);
    command.args(extra);
    ServeProcess::spawn(command)
}

fn version_of(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("claimgraph-version")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Waits until the server at `url` answers `/healthz` with `version`, up to `within`; how long
/// it took.
async fn wait_for_version(
    client: &reqwest::Client,
    url: &str,
    version: u64,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{url}healthz")).send().await {
            if response.status() == 200 && version_of(&response) == Some(version) {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < within,
            "{url} did not serve version {version} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A SPARQL Update sent to the replica at `url` (or nginx before replicas): it must be refused
/// with 403 naming the primary; the message.
async fn update_refused(client: &reqwest::Client, url: &str) -> String {
    let write = client
        .post(format!("{url}sparql"))
        .form(&[("update", "INSERT DATA { <urn:a> <urn:b> <urn:c> }")])
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403, "{url}");
    let message = write.text().await.unwrap();
    assert!(message.contains("https://primary.example/"), "{message}");
    message
}

/// Whether a line the server logged passes `test`.
fn logged(server: &ServeProcess, test: impl Fn(&str) -> bool) -> bool {
    server.log.lock().unwrap().iter().any(|l| test(l))
}

/// A GET of `url` with the conditional header `name: value`.
async fn conditional(
    client: &reqwest::Client,
    url: String,
    name: &str,
    value: &str,
) -> reqwest::Response {
    client.get(url).header(name, value).send().await.unwrap()
}

/// Applies an RDF Patch (`A`/`D` lines of N-Quads, `H`, `TX`, `TC` lines) to `quads`.
fn apply_patch(quads: &mut BTreeSet<String>, patch: &str) {
    let mut in_transaction = false;
    for line in patch.lines() {
        let (op, rest) = line.split_once(' ').unwrap_or((line, ""));
        match op {
            "H" => assert!(!in_transaction, "a header inside a transaction: {line}"),
            "TX" => in_transaction = true,
            "TC" => in_transaction = false,
            "A" | "D" => {
                assert!(in_transaction, "a change outside a transaction: {line}");
                let quad = rest.strip_suffix(" .").expect("a change ends with ` .`");
                let line = format!("{quad} .");
                if op == "A" {
                    assert!(quads.insert(line), "added twice: {quad}");
                } else {
                    assert!(quads.remove(&line), "removed but absent: {quad}");
                }
            }
            _ => panic!("not an RDF Patch line: {line}"),
        }
    }
    assert!(!in_transaction, "the patch ends inside a transaction");
}

/// The two sets of lines are equal (the difference shown if not).
fn assert_same(got: &BTreeSet<String>, expected: &BTreeSet<String>) {
    let extra: Vec<_> = got.difference(expected).take(5).collect();
    let missing: Vec<_> = expected.difference(got).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "extra: {extra:#?}\nmissing: {missing:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_follows_published_versions_and_serves_their_changes() {
    let primary = Primary::new();
    let client = reqwest::Client::new();
    // Following an empty directory: it says it waits, and answers 503 until a version comes.
    std::fs::create_dir_all(primary.versions()).unwrap();
    let mut server = replica(&primary.versions(), "127.0.0.1:0", &[]);
    let url = server.url.clone();
    let waiting = client.get(format!("{url}healthz")).send().await.unwrap();
    assert_eq!(waiting.status(), 503);
    assert!(waiting
        .text()
        .await
        .unwrap()
        .contains("no version has been published"));

    let v1 = primary.publish(&[]);
    let before = primary.dump();
    assert!(v1
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("000001-"));
    wait_for_version(&client, &url, 1, Duration::from_secs(10)).await;
    assert!(logged(&server, |l| l.contains("waiting for a version")));

    // Last-Modified is given once the second the version was published in is past.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Every answer names its version, in a header and in the service description and VoID.
    let page = client.get(format!("{url}{CLAIM}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(version_of(&page), Some(1));
    let digest = page.headers()["claimgraph-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(digest.len(), 64);
    for path in ["sparql", ".well-known/void"] {
        let text = client
            .get(format!("{url}{path}"))
            .header("Accept", "application/n-triples")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains("<http://www.w3.org/2002/07/owl#versionInfo> \"1\"")
                && text.contains(&format!("<urn:claimgraph:version:1:{digest}>")),
            "{path}: {text}"
        );
        assert!(
            !text.contains("SPARQL11Update"),
            "a replica offers no updates: {text}"
        );
    }

    // The archived texts come with the version.
    let text = client
        .get(format!(
            "{url}sources/zerohedge-2024-04-02-facebook-netflix-dms/text"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert!(text.text().await.unwrap().contains("Tyler Durden"));

    // Writes are refused, naming the primary; nothing in the version changes.
    let message = update_refused(&client, &url).await;
    assert!(message.contains("read-only replica"), "{message}");
    let put = client
        .put(format!("{url}store?graph=urn:g"))
        .header("Content-Type", "application/n-triples")
        .body("<urn:a> <urn:b> <urn:c> .\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);

    // Conditional GETs: 304 while the version holds, with the same validators.
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\"g1-"), "{etag}");
    let modified = page.headers()["last-modified"].to_str().unwrap().to_owned();
    assert!(page.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=60"));
    assert!(page.headers()["vary"].to_str().unwrap().contains("Accept"));
    let again = conditional(&client, format!("{url}{CLAIM}"), "If-None-Match", &etag).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let since = conditional(
        &client,
        format!("{url}{CLAIM}"),
        "If-Modified-Since",
        &modified,
    )
    .await;
    assert_eq!(since.status(), 304);
    // `*` and dates match only what exists: a claim that does not is still a 404.
    let any = conditional(&client, format!("{url}{CLAIM}"), "If-None-Match", "*").await;
    assert_eq!(any.status(), 304);
    let missing = format!("{url}claims/no-such-claim");
    let absent = conditional(&client, missing.clone(), "If-None-Match", "*").await;
    assert_eq!(absent.status(), 404);
    let absent = conditional(&client, missing, "If-Modified-Since", &modified).await;
    assert_eq!(absent.status(), 404);
    // Another representation of the same resource has another tag.
    let json = client
        .get(format!("{url}{CLAIM}"))
        .header("Accept", "application/json")
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    assert_ne!(json.headers()["etag"].to_str().unwrap(), etag);
    // SPARQL GET answers are cacheable the same way.
    let query = client
        .get(format!("{url}sparql"))
        .query(&[("query", MARKER_QUERY)])
        .header("Accept", "application/sparql-results+json")
        .send()
        .await
        .unwrap();
    let query_tag = query.headers()["etag"].to_str().unwrap().to_owned();
    let query_again = client
        .get(format!("{url}sparql"))
        .query(&[("query", MARKER_QUERY)])
        .header("Accept", "application/sparql-results+json")
        .header("If-None-Match", &query_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(query_again.status(), 304);

    // Version 2: the replica moves to it; the old validators no longer hold.
    primary.change();
    let v2 = primary.publish(&[]);
    let after = primary.dump();
    wait_for_version(&client, &url, 2, Duration::from_secs(10)).await;
    let moved = conditional(&client, format!("{url}{CLAIM}"), "If-None-Match", &etag).await;
    assert_eq!(moved.status(), 200);
    assert_eq!(version_of(&moved), Some(2));

    // The RDF Patch round trip: applied to version 1's quads, `diff` gives version 2's, and
    // /changes serves the same patch.
    let (patch, _) = ok(&["diff", s(&v1), s(&v2)]);
    assert!(
        patch.starts_with("H id <urn:claimgraph:version:2:"),
        "{patch}"
    );
    assert!(patch.contains(&format!("H prev <urn:claimgraph:version:1:{digest}>")));
    assert!(
        patch.contains("A <http://localhost:7878/published/marker>"),
        "{patch}"
    );
    let mut applied = before.clone();
    apply_patch(&mut applied, &patch);
    assert_same(&applied, &after);
    assert_ne!(before, after);
    let changes = client
        .get(format!("{url}changes?since=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(changes.status(), 200);
    assert_eq!(changes.headers()["content-type"], "application/rdf-patch");
    assert_eq!(changes.text().await.unwrap(), patch);
    // And backwards: the patch from 2 to 1 undoes it.
    let (back, _) = ok(&["diff", s(&v2), s(&v1)]);
    let mut undone = after.clone();
    apply_patch(&mut undone, &back);
    assert_same(&undone, &before);
    for (query, status, says) in [
        ("since=2", 200, ""),
        ("since=0", 410, "no longer published"),
        ("since=3", 400, "newer than the version"),
        ("since=x", 400, "not a generation"),
        ("", 400, "since is missing"),
    ] {
        let response = client
            .get(format!("{url}changes?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{query}");
        assert!(response.text().await.unwrap().contains(says), "{query}");
    }

    // A half-copied version (its manifest there, a file missing) is never opened.
    let half = primary.versions().join("000003-00000000000000aa");
    copy_dir(&v2, &half);
    let manifest = std::fs::read_to_string(half.join("manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    manifest["generation"] = 3.into();
    manifest["digest"] = "00000000000000aa".repeat(4).into();
    std::fs::write(half.join("manifest.json"), manifest.to_string()).unwrap();
    let sst = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .find(|p| p.ends_with(".sst"))
        .unwrap();
    std::fs::remove_file(half.join(sst)).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = client.get(format!("{url}healthz")).send().await.unwrap();
    assert_eq!(version_of(&still), Some(2));
    assert!(logged(&server, |l| l.contains("000003-00000000000000aa")
        && l.contains("cannot be served")));
    // A file with the listed size but other bytes is refused too.
    std::fs::copy(v2.join(sst), half.join(sst)).unwrap();
    let text = half.join("data/texts/zerohedge-2024-04-02-facebook-netflix-dms.txt");
    let mut bytes = std::fs::read(&text).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&text, bytes).unwrap();
    // A manifest written anew makes the replica check the version again at once.
    std::fs::write(half.join("manifest.json"), manifest.to_string() + "\n").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = client.get(format!("{url}healthz")).send().await.unwrap();
    assert_eq!(version_of(&still), Some(2));
    assert!(logged(&server, |l| l
        .contains("does not have the SHA-256 the manifest gives")));
    std::fs::remove_dir_all(&half).unwrap();

    // The version served removed under the replica: it moves to the newest complete one.
    std::fs::remove_dir_all(&v2).unwrap();
    wait_for_version(&client, &url, 1, Duration::from_secs(10)).await;
    let page = client.get(format!("{url}{CLAIM}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(logged(&server, |l| l.contains("was removed")));

    // --keep prunes old versions; generations keep growing past removed ones.
    let v3 = primary.publish(&["--keep", "1"]);
    assert!(v3
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("000003-"));
    let left: Vec<_> = std::fs::read_dir(primary.versions())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(left, [v3.file_name().unwrap().to_str().unwrap()]);
    wait_for_version(&client, &url, 3, Duration::from_secs(10)).await;
    server.terminate();

    // A primary's validators change with every write.
    let server = crate::common::TestServer::start(crate::common::Options {
        data_dirs: vec![repo().join("ontology"), repo().join("data")],
        ..Default::default()
    })
    .await;
    let first = client.get(server.url(CLAIM)).send().await.unwrap();
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "public, no-cache");
    assert!(first.headers().get("claimgraph-version").is_none());
    let same = conditional(&client, server.url(CLAIM), "If-None-Match", &tag).await;
    assert_eq!(same.status(), 304);
    assert_eq!(
        server
            .update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }")
            .await
            .status(),
        204
    );
    let changed = conditional(&client, server.url(CLAIM), "If-None-Match", &tag).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    let nowhere = client
        .get(server.url("changes?since=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), 404);
}

/// nginx from Debian (installed by `./dev setup`), on PATH or in an sbin directory.
fn nginx_binary() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join("nginx"))
        .find(|candidate| candidate.is_file());
    found.expect("nginx is not installed: run ./dev setup (it installs Debian's nginx)")
}

/// nginx in the foreground with docs/deploy/nginx.conf included as it is, inside an `http`
/// block that gives it the cache zone and keeps every file nginx writes in a temp dir.
struct Nginx {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // Run as root, nginx's workers become `nobody`: the temp dir must be theirs to write.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let p = dir.path().display();
        let include = repo().join("docs/deploy/nginx.conf");
        let conf = format!(
            "daemon off;\n\
             worker_processes 2;\n\
             pid {p}/nginx.pid;\n\
             error_log {p}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             \x20   access_log off;\n\
             \x20   client_body_temp_path {p}/client_body;\n\
             \x20   proxy_temp_path {p}/proxy;\n\
             \x20   fastcgi_temp_path {p}/fastcgi;\n\
             \x20   uwsgi_temp_path {p}/uwsgi;\n\
             \x20   scgi_temp_path {p}/scgi;\n\
             \x20   proxy_cache_path {p}/cache levels=1:2 keys_zone=claimgraph:16m max_size=256m \
             inactive=1h use_temp_path=off;\n\
             \x20   include {};\n\
             }}\n",
            include.display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = std::process::Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .spawn()
            .unwrap();
        Self { child, dir }
    }

    fn errors(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    /// SIGTERM: the master stops its workers (a SIGKILLed master would leave them listening).
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("nginx error log:\n{}", self.errors());
        }
    }
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    answers: u64,
    /// Answers to queries no cache held.
    uncached: u64,
    failures: Vec<String>,
    versions: BTreeSet<u64>,
}

/// One client: GETs through nginx until `until`, each answer checked: 200, a version of 1 or
/// 2, and a SPARQL answer that is the data of the version its header names.
async fn load(
    front: String,
    until: Instant,
    client_number: usize,
    seen: std::sync::Arc<std::sync::Mutex<Seen>>,
) {
    let client = reqwest::Client::new();
    let mut n = client_number;
    while Instant::now() < until {
        n += 1;
        let request = match n % 3 {
            0 => client.get(format!("{front}{CLAIM}")),
            1 => client.get(format!("{front}{CLAIM}/provenance")),
            // A text of its own (a comment): never in nginx's cache, always a replica's answer.
            _ => client
                .get(format!("{front}sparql"))
                .query(&[("query", format!("{MARKER_QUERY} # {n}"))])
                .header("Accept", "application/sparql-results+json"),
        };
        let outcome = async {
            let response = request.send().await.map_err(|e| format!("{e}"))?;
            let status = response.status();
            let version = version_of(&response);
            let body = response.text().await.map_err(|e| format!("body: {e}"))?;
            if status != 200 {
                return Err(format!("{status}: {}", &body[..body.len().min(200)]));
            }
            let version = version.ok_or("no version header")?;
            if n % 3 == 2 {
                let marked = body.contains("\"value\":\"2\"");
                if marked != (version == 2) {
                    return Err(format!(
                        "version {version} answered with another's data: {body}"
                    ));
                }
            }
            Ok(version)
        }
        .await;
        let mut seen = seen.lock().unwrap();
        seen.answers += 1;
        seen.uncached += u64::from(n % 3 == 2);
        match outcome {
            Ok(version) if version == 1 || version == 2 => {
                seen.versions.insert(version);
            }
            Ok(version) => seen.failures.push(format!("version {version}")),
            Err(failure) => seen.failures.push(failure),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_behind_nginx_move_to_a_new_version_under_load_and_fail_over() {
    let primary = Primary::new();
    primary.publish(&[]);
    let versions = primary.versions();
    // Caches keep answers a second: a new version reaches clients through nginx quickly.
    let cache = [
        "--cache-max-age",
        "1",
        "--cache-stale-while-revalidate",
        "1",
    ];
    let first = replica(&versions, "127.0.0.1:7871", &cache);
    let mut second = replica(&versions, "127.0.0.1:7872", &cache);
    let nginx = Nginx::start();
    let front = "http://127.0.0.1:7870/".to_owned();
    let client = reqwest::Client::new();
    wait_for_version(&client, &front, 1, Duration::from_secs(10)).await;

    // 16 clients for 20 s; version 2 is published after 5 s, a replica SIGKILLed after 12 s.
    let started = Instant::now();
    let until = started + Duration::from_secs(20);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    let clients: Vec<_> = (0..16)
        .map(|n| tokio::spawn(load(front.clone(), until, n, seen.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    primary.change();
    let published = tokio::task::spawn_blocking(move || {
        primary.publish(&[]);
        (primary, Instant::now())
    });
    let (primary, published_at) = published.await.unwrap();
    for server in [&first, &second] {
        wait_for_version(&client, &server.url, 2, Duration::from_secs(5)).await;
    }
    eprintln!(
        "both replicas serve version 2 {:?} after it was published",
        published_at.elapsed()
    );
    tokio::time::sleep_until((started + Duration::from_secs(12)).into()).await;
    second.child.kill().unwrap();
    second.child.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.failures.is_empty(),
        "{} of {} requests failed through nginx: {:#?}",
        seen.failures.len(),
        seen.answers,
        &seen.failures[..seen.failures.len().min(10)]
    );
    assert!(seen.answers > 500, "only {} answers in 20 s", seen.answers);
    assert_eq!(seen.versions, BTreeSet::from([1, 2]));
    eprintln!(
        "{} answers through nginx ({} from a replica), none failed",
        seen.answers, seen.uncached
    );

    // Conditional GETs through nginx get 304s.
    let page = client.get(format!("{front}{CLAIM}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\"g2-"), "{etag}");
    let again = conditional(&client, format!("{front}{CLAIM}"), "If-None-Match", &etag).await;
    assert_eq!(again.status(), 304);
    // nginx's cache answers too (HIT, or a revalidation the replica answered 304).
    let cached = client.get(format!("{front}{CLAIM}")).send().await.unwrap();
    let status = cached.headers()["x-cache-status"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        ["HIT", "REVALIDATED", "UPDATING", "STALE"].contains(&status.as_str()),
        "{status}"
    );

    // A write sent to a replica, directly or through nginx, gets 403.
    for url in [first.url.clone(), front.clone()] {
        update_refused(&client, &url).await;
    }
    drop(nginx);
    drop(primary);
}

/// Writes `update` to a serving primary, then publishes: its answer, and the new version's
/// changes.
async fn publish_after(
    server: &crate::common::TestServer,
    update: &str,
) -> (serde_json::Value, String) {
    assert_eq!(server.update(update).await.status(), 204);
    let answer: serde_json::Value = server
        .client
        .post(server.url("admin/publish"))
        .bearer_auth(crate::common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = PathBuf::from(answer["dir"].as_str().unwrap());
    let changes = std::fs::read_to_string(dir.join("changes.rdfp")).unwrap();
    (answer, changes)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_serving_primary_publishes_for_admins_only() {
    use crate::common::{Options, TestServer, ADMIN_TOKEN, TOKEN};
    let versions = tempfile::tempdir().unwrap();
    let server = TestServer::start(Options {
        admin_token: Some(ADMIN_TOKEN),
        data_dirs: vec![repo().join("ontology"), repo().join("data")],
        publish_to: Some(versions.path().to_owned()),
        ..Default::default()
    })
    .await;
    let publish = |token: Option<&'static str>| {
        let request = server.client.post(server.url("admin/publish"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    assert_eq!(publish(None).await.unwrap().status(), 401);
    assert_eq!(publish(Some(TOKEN)).await.unwrap().status(), 403);
    let first = publish(Some(ADMIN_TOKEN)).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["generation"], 1);
    assert_eq!(first["claims"], 23);
    assert_eq!(first["missing_texts"], serde_json::json!([]));
    let dir = PathBuf::from(first["dir"].as_str().unwrap());
    assert!(dir.join("manifest.json").is_file() && dir.join("data/texts").is_dir());
    // What is written while it serves is in the next version, and in its changes.
    let (second, changes) = publish_after(
        &server,
        "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }",
    )
    .await;
    assert_eq!(second["generation"], 2);
    assert_eq!(
        (second["added"].as_u64(), second["removed"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(
        changes.contains("A <urn:a> <urn:b> <urn:c> <urn:g> ."),
        "{changes}"
    );
    // A removal: found from the hashes the last publish kept, its line read from that graph.
    let (third, changes) = publish_after(
        &server,
        "DELETE DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }",
    )
    .await;
    assert_eq!(
        (third["added"].as_u64(), third["removed"].as_u64()),
        (Some(0), Some(1))
    );
    let third_dir = PathBuf::from(third["dir"].as_str().unwrap());
    assert!(
        changes.contains("\nTX .\nD <urn:a> <urn:b> <urn:c> <urn:g> .\nTC .\n"),
        "{changes}"
    );
    let second_dir = PathBuf::from(second["dir"].as_str().unwrap());
    let (patch, _) = ok(&["diff", s(&second_dir), s(&third_dir)]);
    assert_eq!(patch, changes);
    assert!(
        server
            .store_dir
            .join("published")
            .read_dir()
            .unwrap()
            .count()
            == 1
    );

    // A server started without --publish-to publishes nowhere.
    let elsewhere = TestServer::start(Options {
        admin_token: Some(ADMIN_TOKEN),
        ..Default::default()
    })
    .await;
    let refused = elsewhere
        .client
        .post(elsewhere.url("admin/publish"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert!(refused.text().await.unwrap().contains("--publish-to"));
}
