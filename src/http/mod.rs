//! The HTTP server: one router, thin handlers, one error type.
//!
//! Invariant: this is the only module that knows HTTP. Handlers decode, authorise, call into
//! `store`, and encode; blocking work never runs on the async runtime.

mod admin;
mod assets;
mod audit;
pub mod auth;
pub mod caching;
mod drafts;
mod error;
mod export;
pub mod follow;
mod graph_store;
mod html;
mod import;
pub(crate) mod limits;
mod negotiate;
mod openapi;
mod pages;
mod provenance;
mod questions;
mod review;
pub(crate) mod sparql;

pub use caching::Caching;
pub use error::ApiError;
pub use follow::FollowConfig;
pub use limits::Limits;

use crate::error::{Error, Result};
use crate::loader;
use crate::store::ClaimStore;
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Everything `claimgraph serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub store: PathBuf,
    pub bind: String,
    pub base: String,
    /// Directories whose RDF files are synced into the store at start-up.
    pub data_dirs: Vec<PathBuf>,
    /// How often to look for changed data files (`None`: only at start-up and on SIGHUP).
    pub reload_interval: Option<std::time::Duration>,
    pub read_only: bool,
    /// A token for a writer named `write-token` (a shortcut for an `--auth` file).
    pub write_token: Option<String>,
    /// A token for an admin named `admin-token`.
    pub admin_token: Option<String>,
    /// The `--auth` file of named tokens with roles.
    pub auth_file: Option<PathBuf>,
    /// Bounds on each SPARQL request (time, concurrency, size).
    pub limits: Limits,
    /// `Cache-Control` of the answers (`None`: [`Caching::PRIMARY`], or [`Caching::REPLICA`]
    /// with `follow`).
    pub caching: Option<Caching>,
    /// Serve the newest published version in a publish directory, read-only, instead of
    /// `store` (`--follow`): a replica.
    pub follow: Option<FollowConfig>,
    /// Where `POST /admin/publish` publishes (`--publish-to`), and how many versions it keeps.
    pub publish_to: Option<PathBuf>,
    pub publish_keep: Option<usize>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<ClaimStore>,
    pub read_only: bool,
    /// Where archived texts are read from (paths recorded relative to one of these).
    pub data_dirs: Arc<[PathBuf]>,
    /// The tokens accepted, as hashes with names and roles (`auth`).
    tokens: Arc<auth::Tokens>,
    pub limits: Arc<Limits>,
    /// The `--max-queries` slots, shared by every request.
    query_slots: limits::QuerySlots,
    /// The `--max-lookups` slots, taken by [`blocking`].
    lookup_slots: limits::LookupSlots,
    /// What drafting and matching know of the store, rebuilt after writes.
    known: Arc<drafts::KnownCache>,
    /// On a replica, the published version `store` is.
    pub version: Option<Arc<follow::VersionInfo>>,
    /// Where a replica's writes should go (named in its 403s).
    pub primary: Option<String>,
    pub caching: Caching,
    /// When the process started (a primary's validators change with each start).
    pub started: std::time::SystemTime,
    /// Where `POST /admin/publish` publishes, and how many versions it keeps.
    pub publish_to: Option<PathBuf>,
    pub publish_keep: Option<usize>,
}

/// What every version a replica serves shares: its tokens, limits and their slots.
#[derive(Clone)]
struct Shared {
    tokens: Arc<auth::Tokens>,
    limits: Arc<Limits>,
    query_slots: limits::QuerySlots,
    lookup_slots: limits::LookupSlots,
}

impl Shared {
    fn new(tokens: auth::Tokens, limits: Limits) -> Self {
        Self {
            tokens: Arc::new(tokens),
            query_slots: limits::QuerySlots::new(limits.max_queries, limits.max_queued_queries),
            lookup_slots: limits::LookupSlots::new(limits.max_lookups),
            limits: Arc::new(limits),
        }
    }
}

impl AppState {
    pub fn new(
        store: Arc<ClaimStore>,
        data_dirs: &[PathBuf],
        read_only: bool,
        tokens: auth::Tokens,
        limits: Limits,
    ) -> Self {
        Self::assemble(store, data_dirs, read_only, Shared::new(tokens, limits))
    }

    fn assemble(
        store: Arc<ClaimStore>,
        data_dirs: &[PathBuf],
        read_only: bool,
        shared: Shared,
    ) -> Self {
        Self {
            store,
            read_only,
            data_dirs: data_dirs.into(),
            tokens: shared.tokens,
            query_slots: shared.query_slots,
            lookup_slots: shared.lookup_slots,
            limits: shared.limits,
            known: Arc::default(),
            version: None,
            primary: None,
            caching: Caching::PRIMARY,
            started: std::time::SystemTime::now(),
            publish_to: None,
            publish_keep: None,
        }
    }
}

/// Every route of the server. JSON routes go through `routes!`, which also describes them in
/// `/openapi.json`; the others (SPARQL, RDF, HTML, text) through `route`.
pub fn app(state: AppState) -> Router {
    let max_upload = state.limits.max_upload_bytes;
    let body_timeout = state.limits.body_timeout;
    let (router, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .route("/sparql", get(sparql::get).post(sparql::post))
        .routes(routes!(audit::list))
        .route(
            "/audit/sparql",
            get(sparql::audit_get).post(sparql::audit_post),
        )
        .route("/store", graph_store::methods(max_upload))
        .route("/store/{*path}", graph_store::methods(max_upload))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/", get(pages::home))
        .route("/query", get(questions::editor))
        .route("/review", get(review::page))
        .routes(routes!(review::entities))
        .routes(routes!(review::save))
        .route("/assets/{name}", get(assets::serve))
        .routes(routes!(pages::list_claims))
        .routes(routes!(pages::get_claim))
        .routes(routes!(provenance::claim_provenance))
        .routes(routes!(provenance::lookup))
        .route("/sources/{id}/text", get(pages::source_text))
        .route("/ns", get(pages::vocabulary))
        .route("/export", get(export::dump))
        .routes(routes!(export::claimreview))
        .routes(routes!(export::claim_reviews))
        .routes(routes!(export::claim_nanopub))
        .route("/export/nanopubs", get(export::nanopubs))
        .route("/.well-known/void", get(export::void))
        .route("/changes", get(follow::changes))
        .routes(routes!(admin::backup))
        .routes(routes!(admin::publish))
        .routes(routes!(drafts::create))
        .routes(routes!(drafts::find))
        .routes(routes!(questions::list))
        .routes(routes!(questions::answer))
        .routes(routes!(import::claimreview))
        .routes(routes!(import::list))
        .routes(routes!(import::remove))
        .split_for_parts();
    let api = Arc::new(api);
    router
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(api.as_ref().clone()) }),
        )
        // Every other IRI under the base: described if the store knows it, else 404.
        .fallback(pages::resource)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caching::conditional,
        ))
        .layer(axum::middleware::from_fn(auth::cors))
        .layer(axum::middleware::map_response(html::security_headers))
        .layer(axum::middleware::map_request(move |request| {
            limits::limit_body_time(body_timeout, request)
        }))
        .with_state(state)
}

/// Prometheus text exposition of the server's counters.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    use std::sync::atomic::Ordering;
    let metrics = state.store.metrics();
    let body = format!(
        "# HELP claimgraph_queries_running SPARQL queries being evaluated or streamed.\n\
         # TYPE claimgraph_queries_running gauge\n\
         claimgraph_queries_running {}\n\
         # HELP claimgraph_queries_started_total SPARQL queries started since the server started.\n\
         # TYPE claimgraph_queries_started_total counter\n\
         claimgraph_queries_started_total {}\n",
        metrics.running.load(Ordering::SeqCst),
        metrics.started.load(Ordering::Relaxed),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// The body of a response streamed from a query thread: one piece with its length if the
/// result fit in one chunk, else chunks as they come.
pub(crate) fn streamed_body(stream: crate::store::ResultStream) -> axum::body::Body {
    match stream.into_whole() {
        Ok(bytes) => axum::body::Body::from(bytes),
        Err(stream) => axum::body::Body::from_stream(stream),
    }
}

/// Runs a write on a blocking thread, recorded in the audit trail as `operation` by `caller`
/// (writes take the store's writer lock, not a lookup slot, and have no time limit: a write
/// stopped half-way is rolled back whole, so it is not worth stopping).
pub(crate) async fn writing<T: Send + 'static>(
    caller: &auth::Caller,
    operation: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let actor = crate::audit::Actor::new(caller.agent(), operation);
    tokio::task::spawn_blocking(move || crate::audit::as_actor(actor, f))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the write stopped: {e}"),
            )
        })
}

/// Runs a handler's store work (a lookup) on a blocking thread, once one of the `--max-lookups`
/// slots is free (503 if none is within the query time limit), then within the time limit. Its
/// queries share one cancellation token, cancelled when the time is up or the handler is dropped
/// (the client went away), so they stop at their next read from the store.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let slot = state
        .lookup_slots
        .acquire(state.limits.query_timeout)
        .await?;
    let guard = crate::store::CancelOnDrop(oxigraph::sparql::CancellationToken::new());
    let timed_out = Arc::new(AtomicBool::new(false));
    let timer = state.limits.query_timeout.map(|timeout| {
        let (token, timed_out) = (guard.0.clone(), timed_out.clone());
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            timed_out.store(true, Ordering::SeqCst);
            token.cancel();
        })
    });
    let token = guard.0.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        crate::store::with_cancellation(token, f)
    })
    .await;
    if let Some(timer) = timer {
        timer.abort();
    }
    drop(guard);
    let outcome = outcome.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request's task failed: {e}"),
        )
    })?;
    match (outcome, state.limits.query_timeout) {
        (Err(_), Some(timeout)) if timed_out.load(Ordering::SeqCst) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            limits::timed_out(timeout),
        )),
        (outcome, _) => outcome,
    }
}

/// Binds `config.bind`, then [`run`]s until Ctrl-C or SIGTERM.
pub async fn serve(config: ServeConfig) -> Result<()> {
    let listener = TcpListener::bind(&config.bind)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {}", config.bind), e))?;
    let shutdown = shutdown_signal();
    run(listener, config, shutdown).await
}

/// Opens the store, syncs the data directories, and serves on `listener` until `shutdown`
/// completes. Requests are answered only once the store is ready, so `/healthz` answering means
/// ready.
pub async fn run(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let started = std::time::Instant::now();
    let tokens = tokens(&config)?;
    if let Some(follow) = config.follow.clone() {
        return run_replica(listener, config, follow, tokens, shutdown).await;
    }
    let (store, listing) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || -> Result<(ClaimStore, loader::Listing)> {
            let store = ClaimStore::open(&config.store, &config.base)?;
            let listing = loader::listing(&config.data_dirs)?;
            let report = crate::audit::as_actor(sync_actor(), || {
                loader::sync_dirs(&store, &config.data_dirs)
            })?;
            for key in &report.loaded {
                tracing::info!(file = %key, "loaded");
            }
            for key in &report.removed {
                tracing::info!(file = %key, "removed");
            }
            tracing::info!(
                unchanged = report.unchanged,
                quads = store.len()?,
                "store {} ready",
                config.store.display()
            );
            Ok((store, listing))
        })
        .await
        .map_err(|e| Error::Internal(format!("start-up failed: {e}")))??
    };
    let store = Arc::new(store);
    let closing = store.clone();
    let syncer = Arc::new(Syncer {
        store: store.clone(),
        dirs: config.data_dirs.clone(),
        synced: tokio::sync::Mutex::new(listing),
    });
    // The reloaders hold the store: they are stopped when serving ends, so that `run` returns
    // with the store closed (and its RocksDB lock released) for whoever opens it next.
    let mut reloaders = tokio::task::JoinSet::new();
    // Registered before the server announces itself, so a SIGHUP never finds the default action.
    #[cfg(unix)]
    if let Ok(hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        reloaders.spawn(reload_on_hangup(hangups, syncer.clone()));
    }
    if let Some(every) = config.reload_interval {
        reloaders.spawn(reload_when_changed(syncer.clone(), every));
    }
    drop(syncer);
    let mut state = AppState::new(
        store,
        &config.data_dirs,
        config.read_only,
        tokens,
        config.limits.clone(),
    );
    state.caching = config.caching.unwrap_or(Caching::PRIMARY);
    state.publish_to = config.publish_to.clone();
    state.publish_keep = config.publish_keep;
    let address: SocketAddr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the listening address", e))?;
    // Scripts and tests read this line to learn the port when binding to port 0.
    eprintln!(
        "claimgraph listening on http://{address}/ (ready in {:.0?})",
        started.elapsed()
    );
    let header_timeout = state.limits.header_timeout;
    serve_connections(listener, app(state), header_timeout, shutdown).await;
    reloaders.shutdown().await;
    close_store(closing).await;
    Ok(())
}

/// Serves the published versions in `follow.dir` (see [`follow`]): the newest complete one is
/// opened before the server announces itself; with none yet, every request gets 503 until one
/// appears.
async fn run_replica(
    listener: TcpListener,
    config: ServeConfig,
    follow: FollowConfig,
    tokens: auth::Tokens,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let started = std::time::Instant::now();
    let shared = Shared::new(tokens, config.limits.clone());
    let caching = config.caching.unwrap_or(Caching::REPLICA);
    let primary = follow.primary.clone();
    let follower = Arc::new(follow::Follower::new(
        follow.clone(),
        move |store, data_dir, version| {
            let mut state = AppState::assemble(store, &[data_dir], true, shared.clone());
            state.version = Some(version);
            state.primary = primary.clone();
            state.caching = caching;
            state
        },
    ));
    follower.look().await;
    let address: SocketAddr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the listening address", e))?;
    eprintln!(
        "claimgraph listening on http://{address}/ (ready in {:.0?}; following {})",
        started.elapsed(),
        follow.dir.display()
    );
    let watcher = tokio::spawn(follower.clone().follow());
    serve_connections(
        listener,
        follower.router(),
        config.limits.header_timeout,
        shutdown,
    )
    .await;
    watcher.abort();
    let _ = watcher.await;
    follower.close().await;
    Ok(())
}

/// Waits until `store` is the last handle on the store, then closes it.
///
/// Query threads are not tokio's: a query whose client has its answer (or has gone) may still
/// hold the store for a moment. Returning before it lets go would let the process exit with
/// RocksDB open and its background threads running: exit's destructors then abort the process
/// ("pthread lock: Invalid argument"), and the next `open` may find the lock still held.
/// Cancelled queries stop at their next read from storage, so the wait is short.
async fn close_store(mut store: Arc<ClaimStore>) {
    let started = std::time::Instant::now();
    let mut reported = std::time::Duration::ZERO;
    loop {
        match Arc::try_unwrap(store) {
            Ok(store) => {
                // Closing flushes and joins RocksDB's threads: blocking work.
                let _ = tokio::task::spawn_blocking(move || drop(store)).await;
                return;
            }
            Err(shared) => store = shared,
        }
        if started.elapsed() >= reported + std::time::Duration::from_secs(5) {
            reported = started.elapsed();
            tracing::info!(
                holders = Arc::strong_count(&store) - 1,
                "waiting for queries to stop before closing the store"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Accepts connections until `shutdown`, then lets each finish its request in progress.
///
/// In place of `axum::serve`, which gives hyper no timer: without one hyper cannot enforce a
/// header read timeout, and a client sending its headers a byte at a time (slowloris) would hold
/// its connection forever. HTTP/1.1 only, as with axum's default features.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    header_timeout: Option<std::time::Duration>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY a response written in pieces (a streamed body's last chunk) waits
        // for the client's delayed ACK: about 15 ms more per request on a kept-alive connection.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.changed() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(stop_rx);
    // Tell every connection to finish its request in progress, then wait until all have.
    drop(listener);
    stop_tx.send_replace(());
    stop_tx.closed().await;
}

/// The tokens of `--auth`, `--write-token` and `--admin-token` together.
fn tokens(config: &ServeConfig) -> Result<auth::Tokens> {
    let mut tokens = match &config.auth_file {
        Some(path) => auth::Tokens::load(path)?,
        None => auth::Tokens::default(),
    };
    if let Some(token) = &config.write_token {
        tokens.add_token("write-token", auth::Role::Writer, token)?;
    }
    if let Some(token) = &config.admin_token {
        tokens.add_token("admin-token", auth::Role::Admin, token)?;
    }
    Ok(tokens)
}

/// Who the audit trail names for the server's own syncs of the data directories.
fn sync_actor() -> crate::audit::Actor {
    crate::audit::Actor::new("claimgraph (data directories)", "data-sync")
}

/// Re-syncs the data directories of a running server, one sync at a time.
struct Syncer {
    store: Arc<ClaimStore>,
    dirs: Vec<PathBuf>,
    /// The files as they were when the store was last synced with them.
    synced: tokio::sync::Mutex<loader::Listing>,
}

impl Syncer {
    /// The same all-or-nothing sync as at start-up; a bad file is logged and changes nothing
    /// (and is not retried until the files change again). With `only_if_changed`, nothing is done
    /// when the files look as they did at the last sync.
    async fn sync(&self, why: &'static str, only_if_changed: bool) {
        let mut last = self.synced.lock().await;
        let (store, dirs) = (self.store.clone(), self.dirs.clone());
        let previous = last.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let listing = loader::listing(&dirs)?;
            let result = if only_if_changed && listing == previous {
                Ok(None)
            } else {
                crate::audit::as_actor(sync_actor(), || loader::sync_dirs(&store, &dirs)).map(Some)
            };
            Ok::<_, Error>((listing, result))
        })
        .await;
        match outcome {
            // The listing is recorded even when the sync failed: a bad file is not retried until
            // the files change again.
            Ok(Ok((listing, result))) => {
                *last = listing;
                match result {
                    Ok(Some(report)) => tracing::info!(
                        loaded = ?report.loaded,
                        removed = ?report.removed,
                        unchanged = report.unchanged,
                        "data directories synced ({why})"
                    ),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(%error, "data sync ({why}) failed; the store is unchanged")
                    }
                }
            }
            Ok(Err(error)) => tracing::error!(%error, "cannot list the data directories"),
            Err(error) => tracing::error!(%error, "data sync ({why}) aborted"),
        }
    }
}

/// `kill -HUP` makes a running server sync the data directories again.
#[cfg(unix)]
async fn reload_on_hangup(mut hangups: tokio::signal::unix::Signal, syncer: Arc<Syncer>) {
    while hangups.recv().await.is_some() {
        syncer.sync("SIGHUP", false).await;
    }
}

/// Syncs the data directories whenever a file in them is added, removed, resized or touched
/// (a cheap listing every `every`; the sync itself then hashes only what it must).
async fn reload_when_changed(syncer: Arc<Syncer>, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        syncer.sync("files changed", true).await;
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: `serve` calls it before the server announces itself, so a SIGTERM
/// sent as soon as the address is printed (a supervisor, a test) is never met by the default
/// action, which would end the process without closing the store.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
