//! `POST /admin/backup?dir=…`: a consistent backup of the store taken while the server keeps
//! serving (a RocksDB checkpoint; one process may open a store, so only the server can copy it
//! online).
//!
//! Invariant: admins only, decided before anything else happens, and never on a `--read-only`
//! server (a backup changes nothing in the store, but it writes to the server's disk, and a
//! read-only server writes nothing); the target must be an absolute path without `..`, outside
//! the store directory, that does not exist yet, so a backup never overwrites anything (the rest
//! is `ClaimStore::backup`'s); the copy runs on a blocking thread.

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
