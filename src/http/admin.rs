//! `POST /admin/backup?dir=…`: a consistent backup of the store taken while the server keeps
//! serving (a RocksDB checkpoint; one process may open a store, so only the server can copy it
//! online). `POST /admin/publish`: a published version of it, into the server's
//! `--publish-to` directory (docs/deploy.md).
//!
//! Invariant: admins only, decided before anything else happens, and never on a `--read-only`
//! server (a backup changes nothing in the store, but it writes to the server's disk, and a
//! read-only server writes nothing); the target must be an absolute path without `..`, outside
//! the store directory, that does not exist yet, so a backup never overwrites anything (the rest
//! is `ClaimStore::backup`'s); a publish goes only where the operator said at start-up, never
//! where a request says; the copy runs on a blocking thread.

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use std::path::PathBuf;

/// Where to write the backup.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BackupParams {
    /// Absolute path, on the server's file system, of a directory that does not exist yet.
    dir: String,
}

/// A backup that was made.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BackupDone {
    /// The backup directory: open it as a store (`--store`) to restore.
    dir: String,
    /// Quads in the backup.
    quads: usize,
    /// Bytes of its files (hard-linked files count in full).
    bytes: u64,
    /// Seconds the backup took.
    seconds: f64,
}

#[utoipa::path(
    post,
    path = "/admin/backup",
    tag = "admin",
    params(BackupParams),
    responses(
        (status = 201, description = "The backup was made: a complete store, consistent as of \
            one instant during the request", body = BackupDone),
        (status = 400, description = "`dir` missing, relative, holding `..`, inside the store \
            directory, already existing or impossible to create (the message names it)",
            body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token is not an admin's, or the server is read-only",
            body = ErrorBody),
        (status = 500, description = "The copy failed (the message says why); nothing is left \
            at `dir`", body = ErrorBody),
    )
)]
pub async fn backup(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<BackupParams>, QueryRejection>,
) -> Result<(StatusCode, Json<BackupDone>), ApiError> {
    state.authorise(&headers, Need::AdminRead, "taking a backup")?;
    if state.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server is read-only (--read-only): it writes nothing to disk, backups \
             included; back up with `claimgraph backup` while no server has the store open, or \
             through a server that is not read-only",
        ));
    }
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let dir = PathBuf::from(&params.dir);
    if !dir.is_absolute() {
        return Err(ApiError::bad_request(format!(
            "dir {} is not an absolute path",
            params.dir
        )));
    }
    if dir
        .components()
        .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(ApiError::bad_request(format!(
            "dir {} contains `..`: name the backup directory without it",
            params.dir
        )));
    }
    let store = state.store.clone();
    // Not `super::blocking`: a backup of a large store may outlast the query time limit, and
    // stopping it half-way would only leave a directory to clean up.
    let summary = tokio::task::spawn_blocking(move || store.backup(&dir))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the backup task failed: {e}"),
            )
        })??;
    Ok((
        StatusCode::CREATED,
        Json(BackupDone {
            dir: params.dir,
            quads: summary.quads,
            bytes: summary.bytes,
            seconds: summary.elapsed.as_secs_f64(),
        }),
    ))
}

/// A version that was published.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PublishDone {
    /// The version's directory, in the server's `--publish-to` directory.
    dir: String,
    generation: u64,
    /// SHA-256 of the dataset (its N-Quads in the store's order).
    digest: String,
    quads: u64,
    claims: u64,
    /// Quads added and removed since the previous version.
    added: u64,
    removed: u64,
    /// Archived texts the store names that no data directory holds (the version has no copy).
    missing_texts: Vec<String>,
    /// Old versions removed (`--publish-keep`).
    pruned: Vec<String>,
    /// Seconds the publish took.
    seconds: f64,
}

#[utoipa::path(
    post,
    path = "/admin/publish",
    tag = "admin",
    responses(
        (status = 201, description = "A new version was published, consistent as of one instant \
            during the request (writes wait while the store is copied)", body = PublishDone),
        (status = 400, description = "Another publish into the directory is running", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token is not an admin's, or the server is read-only \
            (a replica publishes nothing)", body = ErrorBody),
        (status = 404, description = "The server was started without --publish-to", body = ErrorBody),
        (status = 500, description = "The publish failed (the message says why); no version was \
            added", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PublishDone>), ApiError> {
    state.authorise(&headers, Need::AdminRead, "publishing a version")?;
    if state.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server is read-only: it publishes nothing (publish from the primary)",
        ));
    }
    let Some(to) = state.publish_to.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this server publishes nowhere: start it with --publish-to PUBLISH_DIR",
        ));
    };
    let options = crate::store::PublishOptions {
        keep: state.publish_keep,
        data_dirs: state.data_dirs.to_vec(),
        source_commit: state
            .data_dirs
            .last()
            .and_then(|dir| crate::store::source_commit(dir)),
    };
    let store = state.store.clone();
    // Not `super::blocking`: a publish of a large store may outlast the query time limit.
    let published = tokio::task::spawn_blocking(move || {
        store.publish(&to, &options, &|step| tracing::info!("publishing: {step}"))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the publish task failed: {e}"),
        )
    })??;
    tracing::info!(
        version = published.manifest.generation,
        dir = %published.dir.display(),
        "published"
    );
    let manifest = published.manifest;
    Ok((
        StatusCode::CREATED,
        Json(PublishDone {
            dir: published.dir.display().to_string(),
            generation: manifest.generation,
            digest: manifest.digest,
            quads: manifest.quads,
            claims: manifest.claims,
            added: published.added,
            removed: published.removed,
            missing_texts: published.missing_texts,
            pruned: published
                .pruned
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            seconds: published.elapsed.as_secs_f64(),
        }),
    ))
}
