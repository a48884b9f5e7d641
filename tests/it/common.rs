//! Shared test set-up: a real server (axum over TCP) on a real RocksDB store in a temp dir.

use claimgraph::http::{self, ServeConfig};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const TOKEN: &str = "test-write-token";
/// The admin token of servers started with `Options::admin()`.
pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestServer {
    /// `http://127.0.0.1:PORT/`, also the server's base IRI.
    pub base: String,
    pub client: reqwest::Client,
    pub store_dir: PathBuf,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<claimgraph::Result<()>>>,
}

pub struct Options {
    pub write_token: Option<&'static str>,
    pub admin_token: Option<&'static str>,
    /// An `--auth` file of named tokens.
    pub auth_file: Option<PathBuf>,
    pub data_dirs: Vec<PathBuf>,
    pub read_only: bool,
    /// Time, concurrency and size bounds (the server's defaults unless a test sets them).
    pub limits: http::Limits,
    /// `--publish-to`.
    pub publish_to: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            write_token: Some(TOKEN),
            admin_token: None,
            auth_file: None,
            data_dirs: Vec::new(),
            read_only: false,
            limits: http::Limits::default(),
            publish_to: None,
        }
    }
}

impl TestServer {
    pub async fn start(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        Self::start_on(dir, store_dir, options).await
    }

    /// Starts a server on a store made beforehand (in `dir`, which the server then owns).
    pub async fn start_with_store(
        dir: tempfile::TempDir,
        store_dir: PathBuf,
        options: Options,
    ) -> Self {
        Self::start_on(dir, store_dir, options).await
    }

    async fn start_on(dir: tempfile::TempDir, store_dir: PathBuf, options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let config = ServeConfig {
            store: store_dir.clone(),
            bind: String::new(),
            base: base.clone(),
            data_dirs: options.data_dirs,
            reload_interval: None,
            read_only: options.read_only,
            write_token: options.write_token.map(str::to_owned),
            admin_token: options.admin_token.map(str::to_owned),
            auth_file: options.auth_file,
            limits: options.limits,
            caching: None,
            follow: None,
            publish_to: options.publish_to,
            publish_keep: None,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(http::run(listener, config, async {
            let _ = stopped.await;
        }));
        let server = Self {
            base,
            client: reqwest::Client::new(),
            store_dir,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.client.get(self.url("healthz")).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server did not become ready");
    }

    /// Whether the server task is still running (it has not returned or panicked).
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|task| !task.is_finished())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    /// Stops the server and starts a new one on the same store (new port).
    pub async fn restart(mut self, options: Options) -> Self {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
        Self::start_on(dir, self.store_dir.clone(), options).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// The status and JSON body (null if it is not JSON) of `GET path` with `Accept: accept`.
    pub async fn get_json(&self, path: &str, accept: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// A SELECT query's JSON results.
    pub async fn select(&self, query: &str) -> serde_json::Value {
        select_at(&self.client, &self.base, query).await
    }

    /// The value of `?n` in the first solution of a SELECT.
    pub async fn count(&self, query: &str) -> u64 {
        count_at(&self.client, &self.base, query).await
    }

    /// The `claimgraph_queries_running` gauge of `/metrics`: queries (and streamed responses)
    /// still being evaluated.
    pub async fn running_queries(&self) -> u64 {
        let metrics = self
            .client
            .get(self.url("metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("claimgraph_queries_running "))
            .expect("the gauge is exposed")
            .trim()
            .parse()
            .unwrap()
    }

    pub async fn update(&self, update: &str) -> reqwest::Response {
        self.client
            .post(self.url("sparql"))
            .header("Content-Type", "application/sparql-update")
            .bearer_auth(TOKEN)
            .body(update.to_owned())
            .send()
            .await
            .unwrap()
    }
}

/// The repository root (for data/, ontology/, tests/w3c/).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `claimgraph` binary, as users run it (mimalloc, its own process), logging warnings only.
pub fn claimgraph() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_claimgraph"));
    command.env("CLAIMGRAPH_LOG", "warn");
    command
}

/// `claimgraph ARGS`, run to its end.
pub fn run(args: &[&str]) -> std::process::Output {
    claimgraph().args(args).output().unwrap()
}

/// `claimgraph ARGS`, which must succeed: what it printed on stdout and on stderr.
pub fn ok(args: &[&str]) -> (String, String) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "claimgraph {args:?} failed: {stderr}"
    );
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

/// A `claimgraph serve` process, up once it has printed its address. Its stderr is kept (and
/// shown when a test fails), and read to the end so the server never blocks on a full pipe.
pub struct ServeProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServeProcess {
    /// Starts `command` (the binary or a shell that runs it, `serve` and its flags given).
    pub fn spawn(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut before = Vec::new();
        let url = loop {
            let Some(line) = lines.next().map(Result::unwrap) else {
                panic!("serve exited before listening:\n{}", before.join("\n"));
            };
            if let Some(rest) = line.strip_prefix("claimgraph listening on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
            before.push(line);
        };
        let log = std::sync::Arc::new(std::sync::Mutex::new(before));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, url, log }
    }

    /// Stops the server as a service manager does (SIGTERM); it must exit cleanly.
    pub fn terminate(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "serve exited with {status:?}; its last lines:\n{}",
            self.last_lines()
        );
    }

    fn last_lines(&self) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServeProcess {
    /// A failing test must not leave a server behind (it would hold the test's output open).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if std::thread::panicking() {
                eprintln!("server log:\n{}", self.last_lines());
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `claimgraph ARGS`, which must succeed: what it printed on stderr (its report).
pub fn ok_stderr(args: &[&str]) -> String {
    ok(args).1
}

/// The JSON results of a SELECT sent to the server at `base`, which must answer 200.
pub async fn select_at(client: &reqwest::Client, base: &str, query: &str) -> serde_json::Value {
    let response = client
        .post(format!("{base}sparql"))
        .header("Accept", "application/sparql-results+json")
        .form(&[("query", query)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

/// The value of `?n` in the first solution of a SELECT sent to the server at `base`.
pub async fn count_at(client: &reqwest::Client, base: &str, query: &str) -> u64 {
    select_at(client, base, query).await["results"]["bindings"][0]["n"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The quads a server holds (in every graph).
pub const COUNT_ALL: &str = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }";

/// Copies the directory `from`, recursively, to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Claims in the store (typed `schema:Claim`) and in its index, when opened in this process.
pub fn claims_in_store_and_index(store: &std::path::Path, base: &str) -> (u64, u64) {
    let opened = claimgraph::ClaimStore::open(store, base)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", store.display()));
    let rows = opened
        .select("SELECT (COUNT(DISTINCT ?c) AS ?n) { ?c a <http://schema.org/Claim> }")
        .unwrap();
    let Some(oxigraph::model::Term::Literal(n)) = &rows[0][0] else {
        panic!("no count")
    };
    (n.value().parse().unwrap(), opened.index().len())
}
