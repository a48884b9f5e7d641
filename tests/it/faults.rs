//! Faults of the store's disk and of the operator, against the real binary (which runs with
//! mimalloc as its allocator, as users run it): a store another process holds, backups the
//! server cannot or must not make, a disk that fills up during a write. Each ends in an error
//! that names the problem, never in a signal; the server stays up and loses no committed write.

use crate::common::{claimgraph, count_at, repo, ServeProcess, COUNT_ALL};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const WRITER: &str = "faults-writer-token";
const ADMIN: &str = "faults-admin-token";

/// The exit code, failing the test if the process was ended by a signal.
fn exit_code(output: &Output, what: &str) -> i32 {
    match output.status.code() {
        Some(code) => code,
        None => panic!(
            "{what} was ended by a signal ({:?}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// A `claimgraph serve` process on `store`, with empty data directories.
struct Server {
    process: ServeProcess,
    url: String,
    client: reqwest::Client,
    _empty: tempfile::TempDir,
}

impl Server {
    fn start(store: &Path, flags: &[&str]) -> Self {
        Self::start_command(claimgraph(), store, flags)
    }

    /// Starts `command` (the binary, or a shell that runs it) with `serve` and its flags.
    fn start_command(mut command: Command, store: &Path, flags: &[&str]) -> Self {
        let empty = tempfile::tempdir().unwrap();
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--reload-interval", "0"])
            .arg("--store")
            .arg(store)
            .arg("--data")
            .arg(empty.path())
            .arg("--ontology")
            .arg(empty.path())
            .args(["--write-token", WRITER, "--admin-token", ADMIN])
            .args(flags);
        let process = ServeProcess::spawn(command);
        let url = process.url.clone();
        Self {
            process,
            url,
            client: reqwest::Client::new(),
            _empty: empty,
        }
    }

    /// `/healthz` answers and the process is still running.
    async fn assert_up(&mut self) {
        assert!(
            self.process.child.try_wait().unwrap().is_none(),
            "the server process ended"
        );
        let health = self
            .client
            .get(format!("{}healthz", self.url))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(health.status(), 200);
    }

    async fn backup(&self, dir: &str) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}admin/backup", self.url))
            .query(&[("dir", dir)])
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("the server answers");
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn update(&self, update: &str) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}sparql", self.url))
            .header("Content-Type", "application/sparql-update")
            .bearer_auth(WRITER)
            .body(update.to_owned())
            .send()
            .await
            .expect("the server answers");
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn count(&self) -> u64 {
        count_at(&self.client, &self.url, COUNT_ALL).await
    }

    /// Stops the server with SIGTERM; it must exit cleanly.
    fn stop(mut self) {
        self.process.terminate();
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_on_a_store_in_use_exits_1_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut server = Server::start(&store, &[]);
    let data = repo().join("data");
    let sheet = data.join("claims/zerohedge-2024-04-02.toml");
    let turtle = dir.path().join("one.ttl");
    std::fs::write(
        &turtle,
        "<http://example.org/a> <http://example.org/b> \"c\" .\n",
    )
    .unwrap();
    let backup = dir.path().join("backup");
    let commands: Vec<Vec<&str>> = vec![
        vec!["query", "--store", s(&store), "ASK {}"],
        vec!["load", "--store", s(&store), s(&turtle)],
        vec!["dump", "--store", s(&store)],
        vec!["export", "--store", s(&store), "--format", "claimreview"],
        vec!["backup", "--store", s(&store), s(&backup)],
        vec![
            "ingest",
            "--store",
            s(&store),
            "--data",
            s(&data),
            s(&sheet),
        ],
        vec!["verify", "--store", s(&store), "--data", s(&data)],
    ];
    for args in commands {
        let output = claimgraph().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(exit_code(&output, args[0]), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("the store is in use by another process"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!backup.exists(), "a refused backup leaves nothing");
    server.assert_up().await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_the_server_cannot_or_must_not_make_are_refused_and_it_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut server = Server::start(&store, &[]);
    let (status, _) = server
        .update("INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> 1 } }")
        .await;
    assert_eq!(status, 204);

    let long_name = dir.path().join("n".repeat(300));
    let inside = store.join("copy");
    let in_audit = store.join("audit").join("copy");
    let dotted = format!("{}/../escape", s(&store));
    let cases: [(&str, &str, u16); 6] = [
        ("/proc/self/x", "cannot create it", 400),
        ("/sys/x", "cannot create it", 400),
        (s(&long_name), "cannot create it", 400),
        (s(&inside), "inside the store directory", 400),
        (s(&in_audit), "inside the store directory", 400),
        (&dotted, "contains `..`", 400),
    ];
    for (target, expected, status) in cases {
        let (got, body) = server.backup(target).await;
        assert_eq!(got, status, "{target}: {body}");
        assert!(body.contains(expected), "{target}: {body}");
        server.assert_up().await;
    }
    assert!(!inside.exists() && !in_audit.exists());

    // Four backups into one new directory at once: exactly one is made.
    let target = dir.path().join("backups/one");
    let attempts = (0..4).map(|_| {
        let (client, url, target) = (server.client.clone(), server.url.clone(), target.clone());
        tokio::spawn(async move {
            let response = client
                .post(format!("{url}admin/backup"))
                .query(&[("dir", s(&target))])
                .bearer_auth(ADMIN)
                .send()
                .await
                .expect("the server answers");
            (response.status().as_u16(), response.text().await.unwrap())
        })
    });
    let mut answers = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        answers.push(attempt.await.unwrap());
    }
    let made = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(made, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 400, "{body}");
        assert!(body.contains("already exists"), "{body}");
    }
    server.assert_up().await;
    // Nothing but the backup is left beside it (no half-made copy).
    let beside: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("one")]);
    server.stop();
    // The backup is a store that opens and holds the write.
    let output = claimgraph()
        .args(["query", "--store", s(&target), "--format", "tsv"])
        .arg("SELECT ?o { <http://example.org/a> <http://example.org/b> ?o }")
        .output()
        .unwrap();
    assert_eq!(exit_code(&output, "query"), 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains('1'));

    // `claimgraph backup` refuses the same names with exit code 1.
    for target in [s(&long_name), s(&inside)] {
        let output = claimgraph()
            .args(["backup", "--store", s(&store), target])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(exit_code(&output, "backup"), 1, "{stderr}");
        assert!(stderr.contains("cannot back up into"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_server_takes_no_backup() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("store"), &["--read-only"]);
    let target = dir.path().join("backup");
    let (status, body) = server.backup(s(&target)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--read-only"), "{body}");
    assert!(!target.exists());
    server.assert_up().await;
    server.stop();
}

/// A file system that fills up: a small tmpfs where this process may mount one (root), else a
/// limit on the size of any file the server writes (`ulimit -f`, with SIGXFSZ ignored so that a
/// write past it fails with EFBIG instead of killing the process).
enum SmallDisk {
    Tmpfs(PathBuf),
    FileSizeLimit,
}

impl SmallDisk {
    fn new(dir: &Path) -> Self {
        let mount_point = dir.join("disk");
        std::fs::create_dir(&mount_point).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
            .arg(&mount_point)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if mounted {
            SmallDisk::Tmpfs(mount_point)
        } else {
            eprintln!("cannot mount a tmpfs here: limiting the server's file sizes instead");
            SmallDisk::FileSizeLimit
        }
    }

    fn store(&self, dir: &Path) -> PathBuf {
        match self {
            SmallDisk::Tmpfs(mount_point) => mount_point.join("store"),
            SmallDisk::FileSizeLimit => dir.join("store"),
        }
    }

    /// The server, started so that it runs out of space once the disk is filled.
    fn serve(&self, store: &Path) -> Server {
        match self {
            SmallDisk::Tmpfs(_) => Server::start(store, &[]),
            SmallDisk::FileSizeLimit => {
                let mut shell = Command::new("sh");
                // 8 MiB per file, in 512-byte blocks.
                shell
                    .args(["-c", "trap '' XFSZ; ulimit -f 16384; exec \"$0\" \"$@\""])
                    .arg(env!("CARGO_BIN_EXE_claimgraph"))
                    .env("CLAIMGRAPH_LOG", "warn");
                Server::start_command(shell, store, &[])
            }
        }
    }

    /// Takes all the space left (tmpfs); the file-size limit is always there.
    fn fill(&self) -> Option<PathBuf> {
        let SmallDisk::Tmpfs(mount_point) = self else {
            return None;
        };
        let filler = mount_point.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 1 << 16];
        loop {
            use std::io::Write;
            if file.write_all(&block).is_err() {
                break;
            }
        }
        // Leave a little room, as a disk that is nearly full has: small writes may still fit.
        let length = file.metadata().unwrap().len();
        file.set_len(length.saturating_sub(64 << 10)).unwrap();
        Some(filler)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let SmallDisk::Tmpfs(mount_point) = self {
            let _ = Command::new("umount").arg("-l").arg(&*mount_point).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disk_that_fills_up_during_a_write_fails_the_write_and_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::new(dir.path());
    let store = disk.store(dir.path());
    let mut server = disk.serve(&store);
    let (status, body) = server
        .update("INSERT DATA { GRAPH <http://example.org/kept> { <http://example.org/a> <http://example.org/b> \"committed\" } }")
        .await;
    assert_eq!(status, 204, "{body}");
    let committed = server.count().await;
    let filler = disk.fill();

    // Far more than the space left (and than the file-size limit): 12 MiB of literals.
    let big = "x".repeat(1 << 10);
    let triples: String = (0..12 * 1024)
        .map(|i| format!("<http://example.org/s{i}> <http://example.org/p> \"{big}\" .\n"))
        .collect();
    let mut failed = None;
    for attempt in 0..3 {
        let response = server
            .client
            .post(format!("{}store", server.url))
            .query(&[("graph", format!("http://example.org/big{attempt}"))])
            .header("Content-Type", "application/n-triples")
            .bearer_auth(WRITER)
            .body(triples.clone())
            .send()
            .await
            .expect("the server answers");
        let (status, body) = (response.status().as_u16(), response.text().await.unwrap());
        server.assert_up().await;
        if status != 204 {
            failed = Some((status, body));
            break;
        }
    }
    let (status, body) = failed.expect("a write larger than the disk's free space failed");
    assert!((500..600).contains(&status), "{status}: {body}");
    assert!(!body.trim().is_empty(), "the error names the problem");
    eprintln!("the write failed with {status}: {body}");

    // Reads go on, and the committed write is there.
    assert!(server.count().await >= committed);
    let kept = server
        .client
        .get(format!("{}sparql", server.url))
        .query(&[(
            "query",
            "ASK { GRAPH <http://example.org/kept> { ?s ?p \"committed\" } }",
        )])
        .header("Accept", "application/sparql-results+json")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(kept["boolean"], true);
    if let Some(filler) = filler {
        std::fs::remove_file(filler).unwrap();
    }
    // A server whose writes failed may hold RocksDB's background error: it must still stop
    // cleanly; the store then opens and holds the committed write.
    server.stop();
    let output = claimgraph()
        .args(["query", "--store", s(&store), "--format", "tsv"])
        .arg("SELECT ?o { GRAPH <http://example.org/kept> { ?s ?p ?o } }")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        exit_code(&output, "query"),
        0,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("committed"), "{stdout}");
}

/// A query that computes for seconds without reading storage, so nothing cancels it early.
fn long_computation() -> String {
    let values = (0..150)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ {values} }} }}"
    )
}

/// Query threads are not tokio's. Had the server returned while one still held the store, the
/// process would exit with RocksDB open (exit's destructors then abort it: "pthread lock: Invalid
/// argument", status 6), and the store could not be opened again at once.
#[tokio::test(flavor = "multi_thread")]
async fn shutdown_waits_for_abandoned_queries_then_releases_the_store() {
    use crate::common::{Options, TestServer};
    let mut server = TestServer::start(Options::default()).await;
    // The client gives up long before the answer; its query goes on computing on a query thread.
    let abandoned = server
        .client
        .get(server.url("sparql"))
        .query(&[("query", long_computation())])
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(
        abandoned.is_err(),
        "the query was meant to outlast its client"
    );
    server.shutdown().await;
    // The server returned with the store closed: it opens at once, here.
    claimgraph::store::ClaimStore::open(&server.store_dir, &server.base)
        .expect("the store must be free once the server has returned");
}
