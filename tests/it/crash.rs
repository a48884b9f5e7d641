//! Crash safety and backups, with real processes: `claimgraph load` (the bulk loader) and
//! `claimgraph ingest` (transactions) killed with SIGKILL mid-way leave a store that opens
//! cleanly and holds all or none of what the killed command was writing; `claimgraph backup`
//! (and a running server's online backup) gives a store canonically identical to the original.

use crate::common::{
    claimgraph, claims_in_store_and_index, copy_dir, ok_stderr, repo, run, Options, TestServer,
    ADMIN_TOKEN, TOKEN,
};
use claimgraph::ClaimStore;
use oxigraph::io::RdfFormat;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Big enough that a debug build loads it in a few seconds and ingests it in several.
const CLAIMS: usize = 2000;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A generated corpus (one sheet of claims plus its entities sheet, and the same as N-Quads)
/// and a store holding the seed corpus, shared by the tests of this file.
struct Fixture {
    _dir: tempfile::TempDir,
    corpus: PathBuf,
    seed_store: PathBuf,
}

/// The tests of this file run one at a time: kill points are timed against an uninterrupted run,
/// which the other tests would slow down unevenly.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        let claims = CLAIMS.to_string();
        ok_stderr(&[
            "gen",
            "--claims",
            &claims,
            "--batch",
            &claims,
            "--seed",
            "5",
            "--out",
            s(&corpus),
        ]);
        let seed_store = dir.path().join("seed.db");
        let data = repo().join("data");
        ok_stderr(&[
            "ingest",
            "--store",
            s(&seed_store),
            "--data",
            s(&data),
            s(&data.join("claims/zerohedge-2024-04-02.toml")),
        ]);
        Fixture {
            _dir: dir,
            corpus,
            seed_store,
        }
    })
}

/// A closed copy of the seed store, for one run.
fn seeded(dir: &Path, name: &str) -> PathBuf {
    let store = dir.join(name);
    copy_dir(&fixture().seed_store, &store);
    store
}

/// What a store holds, as sorted N-Quads lines. Every store compared here descends from one copy
/// of the seed store and the corpus has no blank nodes, so equal data means equal lines (and
/// this is much faster than canonicalising 65,000 quads in a debug build). Opening the store is
/// itself part of the check: it must open cleanly after a crash.
fn contents(store: &Path) -> Vec<String> {
    let opened = ClaimStore::open(store, claimgraph::DEFAULT_BASE)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", store.display()));
    let dump = opened.dump(RdfFormat::NQuads, None, Vec::new()).unwrap();
    let mut lines: Vec<String> = String::from_utf8(dump)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort_unstable();
    lines
}

fn files_matching(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let size = e.metadata().ok()?.len();
                    wanted(&name).then_some((name, size))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn wal_bytes(store: &Path) -> u64 {
    files_matching(store, |n| n.ends_with(".log"))
        .iter()
        .map(|(_, n)| n)
        .sum()
}

/// When to kill the writer.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// After this fraction of an uninterrupted run's time (only small ones: under load the
    /// killed run may be faster than the measured one).
    Fraction(f64),
    /// As soon as the bulk loader has started writing SST files into the store directory.
    BulkFilesAppear,
    /// As soon as the write-ahead log has grown by more than this many bytes.
    WalGrownBy(u64),
}

/// Starts `args`, kills it with SIGKILL at `point`, and returns how long it had run. Fails the
/// test if the process had already exited: the kill must land while it is writing.
fn kill_at(args: &[&str], store: &Path, point: KillPoint, full_run: Duration) -> Duration {
    let wal_before = wal_bytes(store);
    let started = Instant::now();
    let mut child: Child = claimgraph().args(args).spawn().unwrap();
    let deadline = started + full_run * 3;
    loop {
        let due = match point {
            KillPoint::Fraction(f) => started.elapsed() >= full_run.mul_f64(f),
            KillPoint::BulkFilesAppear => {
                !files_matching(store, |n| n.starts_with("bulk-")).is_empty()
            }
            KillPoint::WalGrownBy(bytes) => wal_bytes(store) > wal_before + bytes,
        };
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "claimgraph {args:?} ended ({status}) after {:?}, before the kill point \
                 {point:?} (an uninterrupted run took {full_run:?})",
                started.elapsed()
            );
        }
        if due {
            break;
        }
        assert!(Instant::now() < deadline, "{point:?} never came");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush, no cleanup
    let ran = started.elapsed();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "claimgraph {args:?} finished before the kill landed"
    );
    ran
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn timed(args: &[&str]) -> Duration {
    let started = Instant::now();
    ok_stderr(args);
    started.elapsed()
}

/// The state a killed run left, by name, if it is one of `allowed`.
fn which_state<'a>(store: &Path, allowed: &'a [(&'a str, Vec<String>)]) -> &'a str {
    let found = contents(store);
    assert!(
        files_matching(store, |n| n.starts_with("bulk-") && n.ends_with(".sst")).is_empty(),
        "abandoned bulk-load files were left in {}",
        store.display()
    );
    match allowed.iter().find(|(_, state)| *state == found) {
        Some((name, _)) => name,
        None => panic!(
            "{} holds {} quads, which is none of the allowed states ({})",
            store.display(),
            found.len(),
            allowed
                .iter()
                .map(|(name, state)| format!("{name}: {} quads", state.len()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn a_bulk_load_killed_midway_leaves_all_or_nothing_and_the_store_opens() {
    let _serial = one_at_a_time();
    let fixture = fixture();
    let dir = tempfile::tempdir().unwrap();
    let nquads = fixture.corpus.join("corpus.nq");
    let load = |store: &Path| ["load", "--store", s(store), s(&nquads)].map(str::to_owned);

    let complete = seeded(dir.path(), "complete.db");
    let args = load(&complete);
    let full_run = timed(&args.each_ref().map(String::as_str));
    let states = [
        ("before", contents(&fixture.seed_store)),
        ("after", contents(&complete)),
    ];
    assert!(states[1].1.len() > states[0].1.len() + 60_000);

    let points = [KillPoint::Fraction(0.1), KillPoint::BulkFilesAppear];
    for (i, point) in points.into_iter().enumerate() {
        let store = seeded(dir.path(), &format!("killed-{i}.db"));
        let args = load(&store);
        let ran = kill_at(
            &args.each_ref().map(String::as_str),
            &store,
            point,
            full_run,
        );
        let state = which_state(&store, &states);
        eprintln!("load killed at {point:?} after {ran:?} (full run {full_run:?}): {state}");
        // The store takes writes again after the crash, and the load can be redone whole.
        ok_stderr(&args.each_ref().map(String::as_str));
        assert!(contents(&store) == states[1].1, "reloading after a crash");
    }
}

#[test]
fn an_ingest_killed_midway_leaves_each_sheet_all_or_nothing_and_the_store_opens() {
    let _serial = one_at_a_time();
    let fixture = fixture();
    let dir = tempfile::tempdir().unwrap();
    let data = s(&fixture.corpus).to_owned();
    let entities = s(&fixture.corpus.join("claims/entities.toml")).to_owned();
    let batch = s(&fixture.corpus.join("claims/batch-00001.toml")).to_owned();
    let ingest = |store: &Path, sheets: &[&str]| {
        let mut args = vec!["ingest".to_owned(), "--store".into(), s(store).into()];
        args.extend(["--data".to_owned(), data.clone()]);
        args.extend(sheets.iter().map(|&s| s.to_owned()));
        args
    };

    // `ingest` writes each sheet in a transaction of its own (entities first), so the states a
    // crash may leave are: nothing, the entities sheet, both sheets.
    let entities_only = seeded(dir.path(), "entities.db");
    let wal_before = wal_bytes(&entities_only);
    ok_stderr(&strs(&ingest(&entities_only, &[&entities])));
    let entities_wal = wal_bytes(&entities_only) - wal_before;
    let complete = seeded(dir.path(), "complete.db");
    let full_run = timed(&strs(&ingest(&complete, &[&entities, &batch])));
    let states = [
        ("before", contents(&fixture.seed_store)),
        ("entities sheet only", contents(&entities_only)),
        ("after", contents(&complete)),
    ];
    assert!(states[2].1.len() > states[1].1.len() + 60_000);

    let points = [
        KillPoint::Fraction(0.1),
        // The entities sheet's commit, half written to the log.
        KillPoint::WalGrownBy(entities_wal / 2),
        // The claims sheet's commit, once its first megabyte reached the log: mid-write.
        KillPoint::WalGrownBy(entities_wal + (1 << 20)),
    ];
    for (i, point) in points.into_iter().enumerate() {
        let store = seeded(dir.path(), &format!("killed-{i}.db"));
        let args = ingest(&store, &[&entities, &batch]);
        let ran = kill_at(&strs(&args), &store, point, full_run);
        let state = which_state(&store, &states);
        eprintln!("ingest killed at {point:?} after {ran:?} (full run {full_run:?}): {state}");
        // `ingest` updates the claims index after its last sheet: killed before, the index
        // lags the store, and is rebuilt when the store opens.
        let (claims, indexed) = claims_in_store_and_index(&store, claimgraph::DEFAULT_BASE);
        assert_eq!(
            claims, indexed,
            "the index does not follow the store after a crash"
        );
        ok_stderr(&strs(&args));
        assert!(
            contents(&store) == states[2].1,
            "re-ingesting after a crash"
        );
    }
}

fn canonical(store: &Path) -> String {
    let output = run(&["dump", "--canonical", "--store", s(store)]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_backup_opens_as_an_identical_store_and_never_overwrites() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(dir.path(), "store.db");
    let copy = dir.path().join("backups/first");
    let said = ok_stderr(&["backup", "--store", s(&store), s(&copy)]);
    assert!(said.contains("quads") && said.contains(s(&copy)), "{said}");
    let original = canonical(&store);
    assert!(original.lines().count() > 800);
    assert_eq!(canonical(&copy), original);

    // Into an existing directory: refused, naming it, and nothing in it changes.
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep.txt"), "mine").unwrap();
    let output = run(&["backup", "--store", s(&store), s(&existing)]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(s(&existing)) && stderr.contains("already exists"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(&existing).unwrap().flatten().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(std::fs::read(existing.join("keep.txt")).unwrap(), b"mine");
    assert_eq!(canonical(&store), original);
}

// The guard only keeps the other tests of this file (plain threads) from running meanwhile; no
// task of this runtime ever waits for it.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_backs_itself_up_online_for_admins_only() {
    let _serial = one_at_a_time();
    let data = vec![repo().join("ontology"), repo().join("data")];
    let mut server = TestServer::start(Options {
        data_dirs: data,
        admin_token: Some(ADMIN_TOKEN),
        ..Options::default()
    })
    .await;
    // A write committed just before the backup (still in RocksDB's memtable and log) is in it.
    let response = server
        .update("INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> \"last\" } }")
        .await;
    assert!(response.status().is_success());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("online");
    // POST /admin/backup?dir=PATH, with the token if any.
    let backup = |path: &Path, token: Option<&str>| {
        let url = reqwest::Url::parse_with_params(&server.url("admin/backup"), [("dir", s(path))])
            .unwrap();
        let request = server.client.post(url);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };

    assert_eq!(backup(&copy, None).await.status(), 401);
    assert_eq!(backup(&copy, Some(TOKEN)).await.status(), 403);
    assert!(!copy.exists());

    let made = backup(&copy, Some(ADMIN_TOKEN)).await;
    assert_eq!(made.status(), 201);
    let made: serde_json::Value = made.json().await.unwrap();
    assert_eq!(made["dir"], s(&copy));
    assert!(made["quads"].as_u64().unwrap() > 800, "{made}");

    let again = backup(&copy, Some(ADMIN_TOKEN)).await;
    assert_eq!(again.status(), 400);
    let message = again.text().await.unwrap();
    assert!(message.contains("already exists"), "{message}");
    let relative = backup(Path::new("relative/dir"), Some(ADMIN_TOKEN)).await;
    assert_eq!(relative.status(), 400);

    // The server still has its store open, so its side is read over HTTP.
    let served = server
        .client
        .get(server.url("export?format=nquads"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let original = claimgraph::canonical::canonical_nquads(&served.text().await.unwrap()).unwrap();
    server.shutdown().await;
    assert!(original.contains("\"last\""));
    assert_eq!(canonical(&copy), original);
    // The audit trail is copied with the store, up to the last write.
    let trail = claimgraph::audit::AuditLog::open(&copy.join("audit"), &server.base).unwrap();
    let records = trail.records(10).unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.operation == "sparql-update" && r.agent == "write-token"),
        "{records:?}"
    );
}
