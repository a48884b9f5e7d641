//! A read-only replica (`serve --follow PUBLISH_DIR`): serves the newest published version and
//! moves to a newer one when it appears.
//!
//! Invariants: a version is opened only once every file its manifest lists has the listed size
//! and SHA-256; each request is answered wholly by the version that was current when it
//! arrived (it holds that version's router, and so its store, until its response ends), so no
//! response mixes two; a version is closed once its last request has ended; writes are refused
//! (the store is opened read-only, and the routes say 403 naming the primary).

use super::{close_store, AppState};
use crate::error::{Error, Result};
use crate::store::{list_versions, verify_version, version_data_dir, ClaimStore, Manifest};
use arc_swap::ArcSwapOption;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What `serve --follow` is told.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// The publish directory (`claimgraph publish --to`).
    pub dir: PathBuf,
    /// How often it is looked at.
    pub interval: Duration,
    /// Where writes go, named in the 403 a replica answers them with.
    pub primary: Option<String>,
}

/// The version a replica serves.
#[derive(Debug)]
pub struct VersionInfo {
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// The publish directory it is in.
    pub publish_dir: PathBuf,
    /// When it was published (its manifest's `created`): HTTP's `Last-Modified`.
    pub published: SystemTime,
}

/// Makes a version's state from its store, data directory and description.
type MakeState = dyn Fn(Arc<ClaimStore>, PathBuf, Arc<VersionInfo>) -> AppState + Send + Sync;

/// The version being served: its router (with its state, and so its store).
struct Current {
    info: Arc<VersionInfo>,
    router: Router,
    store: Arc<ClaimStore>,
}

/// The replica: the current version, and how to make the state of a new one.
pub(crate) struct Follower {
    config: FollowConfig,
    current: ArcSwapOption<Current>,
    make_state: Box<MakeState>,
    /// Versions that could not be opened: the size and time of their manifest then, when to try
    /// again, and the wait after that. A version still being copied in is tried again, ever
    /// less often (its check may read gigabytes); a new manifest is tried at once.
    refused: std::sync::Mutex<HashMap<PathBuf, Refused>>,
    /// Versions being closed once their last request ends.
    closing: tokio::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Whether the removal of the version being served has been logged.
    reported_gone: std::sync::atomic::AtomicBool,
}

impl Follower {
    pub(crate) fn new(
        config: FollowConfig,
        make_state: impl Fn(Arc<ClaimStore>, PathBuf, Arc<VersionInfo>) -> AppState
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Self {
            config,
            current: ArcSwapOption::empty(),
            make_state: Box::new(make_state),
            refused: std::sync::Mutex::default(),
            closing: tokio::sync::Mutex::default(),
            reported_gone: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The router answering every request: the current version's, or 503 before there is one.
    pub(crate) fn router(self: &Arc<Self>) -> Router {
        let follower = self.clone();
        Router::new().fallback(move |request: Request| {
            let follower = follower.clone();
            async move {
                // Cloned out, so the request holds its version however long it streams.
                let router = follower.current.load().as_ref().map(|c| c.router.clone());
                match router {
                    Some(router) => {
                        use tower::ServiceExt;
                        match router.oneshot(request).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        }
                    }
                    None => super::ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "no version has been published in {} yet (claimgraph publish --to \
                             it); this replica serves the first one as soon as it appears",
                            follower.config.dir.display()
                        ),
                    )
                    .into_response(),
                }
            }
        })
    }

    /// Looks at the publish directory: moves to the newest complete version if it is newer than
    /// the current one, or if the current one was removed. Logs what it does.
    pub(crate) async fn look(self: &Arc<Self>) {
        let dir = self.config.dir.clone();
        let listed = tokio::task::spawn_blocking(move || list_versions(&dir)).await;
        let versions = match listed {
            Ok(Ok(versions)) => versions,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot look for published versions");
                return;
            }
            Err(error) => {
                tracing::error!(%error, "looking for published versions failed");
                return;
            }
        };
        let current = self.current.load_full();
        let current_gone = current
            .as_ref()
            .is_some_and(|c| !c.info.dir.join(crate::store::MANIFEST).is_file());
        // Said once per version removed.
        if current_gone
            && !self
                .reported_gone
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            let current = current.as_ref().expect("checked");
            tracing::warn!(
                version = current.info.manifest.generation,
                dir = %current.info.dir.display(),
                "the version being served was removed: serving on from its open files until \
                 another is complete"
            );
        }
        let newest_generation = current
            .as_ref()
            .filter(|_| !current_gone)
            .map(|c| c.info.manifest.generation);
        // Newest first: a version that cannot be opened gives way to the one before it.
        for version in versions.iter().rev() {
            if newest_generation.is_some_and(|g| version.generation <= g) {
                return;
            }
            if current
                .as_ref()
                .is_some_and(|c| c.info.dir == version.dir && !current_gone)
            {
                return;
            }
            if version.manifest().is_err() || self.was_refused(&version.dir) {
                continue;
            }
            match self.open(&version.dir).await {
                Ok(()) => return,
                Err(error) => self.refuse(&version.dir, &error),
            }
        }
    }

    /// Checks and opens the version in `dir`, then makes it the current one.
    async fn open(self: &Arc<Self>, dir: &Path) -> Result<()> {
        let started = std::time::Instant::now();
        let version_dir = dir.to_owned();
        let (manifest, store) = tokio::task::spawn_blocking(move || {
            let manifest = verify_version(&version_dir)?;
            let store = ClaimStore::open_version(&version_dir, &manifest)?;
            Ok::<_, Error>((manifest, store))
        })
        .await
        .map_err(|e| Error::Internal(format!("opening a version failed: {e}")))??;
        let info = Arc::new(VersionInfo {
            published: crate::audit::parse_time(&manifest.created).unwrap_or_else(SystemTime::now),
            manifest,
            dir: dir.to_owned(),
            publish_dir: self.config.dir.clone(),
        });
        let store = Arc::new(store);
        let state = (self.make_state)(store.clone(), version_data_dir(dir), info.clone());
        let router = super::app(state);
        tracing::info!(
            version = info.manifest.generation,
            digest = %info.manifest.digest,
            quads = info.manifest.quads,
            claims = info.manifest.claims,
            seconds = started.elapsed().as_secs_f64(),
            "serving version {}",
            dir.display()
        );
        self.reported_gone
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let old = self.current.swap(Some(Arc::new(Current {
            info,
            router,
            store,
        })));
        if let Some(old) = old {
            // Requests that started on it hold its router; it closes once the last one ends.
            let store = old.store.clone();
            drop(old);
            let mut closing = self.closing.lock().await;
            // Those closed already are let go of, so a long-lived replica keeps no record of them.
            while closing.try_join_next().is_some() {}
            closing.spawn(close_store(store));
        }
        Ok(())
    }

    /// Whether `dir` was refused and is not due to be tried again.
    fn was_refused(&self, dir: &Path) -> bool {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.get(dir).is_some_and(|r| {
            manifest_stamp(dir).as_ref() == Some(&r.stamp) && std::time::Instant::now() < r.again_at
        })
    }

    /// Records that `dir` could not be opened, and logs why (once per reason).
    fn refuse(&self, dir: &Path, error: &Error) {
        let Some(stamp) = manifest_stamp(dir) else {
            return;
        };
        let error = error.to_string();
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        let (wait, said) = match refused.get(dir) {
            Some(r) if r.stamp == stamp => ((r.wait * 2).min(LONGEST_WAIT), r.error == error),
            _ => (Duration::from_secs(5), false),
        };
        if !said {
            tracing::warn!(
                dir = %dir.display(),
                %error,
                "this version cannot be served (incomplete or damaged): not opened; checked \
                 again in {wait:?}, or when its manifest changes"
            );
        }
        refused.insert(
            dir.to_owned(),
            Refused {
                stamp,
                again_at: std::time::Instant::now() + wait,
                wait,
                error,
            },
        );
    }

    /// Looks every `interval`, forever.
    pub(crate) async fn follow(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(self.config.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut said_waiting = false;
        loop {
            ticks.tick().await;
            self.look().await;
            if self.current.load().is_none() && !said_waiting {
                tracing::info!(
                    dir = %self.config.dir.display(),
                    "waiting for a version to be published"
                );
                said_waiting = true;
            }
        }
    }

    /// Closes every version (when serving has ended).
    pub(crate) async fn close(&self) {
        if let Some(current) = self.current.swap(None) {
            let store = current.store.clone();
            drop(current);
            close_store(store).await;
        }
        let mut closing = self.closing.lock().await;
        while closing.join_next().await.is_some() {}
    }
}

/// A version that could not be opened.
struct Refused {
    stamp: (u64, SystemTime),
    again_at: std::time::Instant,
    wait: Duration,
    error: String,
}

/// The longest wait before a refused version is checked again.
const LONGEST_WAIT: Duration = Duration::from_secs(300);

/// The size and time of a version's manifest: what says it changed.
fn manifest_stamp(dir: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(dir.join(crate::store::MANIFEST)).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The media type of RDF Patch (Apache Jena's RDF Delta).
const RDF_PATCH: &str = "application/rdf-patch";

#[derive(serde::Deserialize)]
pub(crate) struct ChangesParams {
    since: Option<String>,
}

/// `GET /changes?since=GENERATION` on a replica: the RDF Patch from that published version to
/// the one served, each published step's `changes.rdfp` in turn (one transaction each).
pub(crate) async fn changes(
    axum::extract::State(state): axum::extract::State<AppState>,
    params: Result<axum::extract::Query<ChangesParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, super::ApiError> {
    use super::ApiError;
    let axum::extract::Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let Some(version) = state.version.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this server serves no published versions: GET /changes is answered by replicas \
             (claimgraph serve --follow PUBLISH_DIR)",
        ));
    };
    let since = params.since.ok_or_else(|| {
        ApiError::bad_request("since is missing: give the generation the changes start from")
    })?;
    let since: u64 = since.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "since={since:?} is not a generation (a whole number)"
        ))
    })?;
    let current = version.manifest.generation;
    if since > current {
        return Err(ApiError::bad_request(format!(
            "since={since} is newer than the version this replica serves ({current})"
        )));
    }
    let publish_dir = version.publish_dir.clone();
    let steps = tokio::task::spawn_blocking(move || -> Result<Vec<PathBuf>, ApiError> {
        let versions = list_versions(&publish_dir)?;
        let mut steps = Vec::new();
        for generation in since + 1..=current {
            let step = versions.iter().find(|v| {
                v.generation == generation
                    && v.manifest()
                        .is_ok_and(|m| m.previous == Some(generation - 1))
            });
            let Some(step) = step else {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    format!(
                        "the changes from version {} to {generation} are no longer published \
                         (pruned); start from a dump of version {current} (GET /export)",
                        generation - 1
                    ),
                ));
            };
            steps.push(step.dir.join(crate::store::CHANGES));
        }
        Ok(steps)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    // A file at a time, each read whole: one published step's changes.
    let body =
        futures_util::stream::iter(steps).then(|path| async move {
            tokio::fs::read(&path).await.map(bytes::Bytes::from).inspect_err(|error| {
            tracing::error!(%error, path = %path.display(), "cannot read published changes");
        })
        });
    Ok((
        [(axum::http::header::CONTENT_TYPE, RDF_PATCH)],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}
