//! `POST /import/claimreview?name=…` (a writer sends a ClaimReview file: the summary comes
//! back), `GET /imports` (the imports the store holds) and `DELETE /imports/{name}`.
//!
//! Invariant: the writer's token is checked before the body is read; the body is bounded by
//! `--max-upload-bytes`; the import runs on a blocking thread under the writer's name, and a
//! file-level problem is a 400 that changed nothing (`import::import`'s).

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::import::{self, Listed, Report};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

/// Which import a file is.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The import's name (a slug, e.g. `verificahoy-2024`): its graph is
    /// `<base>graphs/imports/NAME`. Sending the same name again replaces that import (and
    /// changes nothing when the file gives the same reviews).
    name: String,
    /// Link imported claims to known ones scoring at least this (0 to 1; default 0.7).
    threshold: Option<f64>,
    /// `false`: do not match imported claims against known ones.
    link: Option<bool>,
    /// `true`: match again the claims an earlier import of this name brought (by default they
    /// keep the link they got then).
    relink: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/import/claimreview",
    tag = "import",
    params(ImportParams),
    request_body(content = String, description = "A ClaimReview file: a Data Commons DataFeed, \
        a dump of one JSON-LD object per line (script tags allowed), a Fact Check Tools \
        `claims:search` answer, or ClaimReview JSON-LD (object, array, @graph)",
        content_type = "application/json"),
    responses(
        (status = 200, description = "Imported (or unchanged: `changed` is false); skipped items \
            are listed with their position and reason", body = Report),
        (status = 400, description = "Not a ClaimReview file, or no review could be imported \
            (the message says why): nothing was changed", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token may not write", body = ErrorBody),
        (status = 413, description = "The file is larger than --max-upload-bytes", body = ErrorBody),
    )
)]
pub async fn claimreview(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ImportParams>, QueryRejection>,
    request: Request,
) -> Result<Json<Report>, ApiError> {
    let caller = state.authorise(&headers, Need::Write, "importing ClaimReviews")?;
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let threshold = params.threshold.unwrap_or(import::THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::bad_request(format!(
            "threshold={threshold} is not between 0 and 1"
        )));
    }
    let body = super::limits::read_body(request.into_body(), state.limits.max_upload_bytes).await?;
    let options = import::Options {
        file_name: params.name.clone(),
        name: params.name,
        threshold: (params.link != Some(false)).then_some(threshold),
        relink: params.relink == Some(true),
    };
    let store = state.store.clone();
    let report = super::writing(&caller, "import-claimreview", move || {
        import::import(&store, &body[..], &options, &mut |_| {})
    })
    .await??;
    Ok(Json(report))
}

#[utoipa::path(
    get,
    path = "/imports",
    tag = "import",
    responses((status = 200, description = "Every ClaimReview import the store holds", body = [Listed]))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Listed>>, ApiError> {
    let store = state.store.clone();
    let listed = super::blocking(&state, move || Ok(import::list(&store)?)).await?;
    Ok(Json(listed))
}

#[utoipa::path(
    delete,
    path = "/imports/{name}",
    tag = "import",
    params(("name" = String, Path, description = "The import's name")),
    responses(
        (status = 204, description = "Removed: its graph, with every review, claim and link"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token may not write", body = ErrorBody),
        (status = 404, description = "No import by that name", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = state.authorise(&headers, Need::Write, "removing an import")?;
    let store = state.store.clone();
    let removed = super::writing(&caller, "import-remove", move || {
        import::remove(&store, &name).map(|r| (r, name))
    })
    .await??;
    match removed {
        (true, _) => Ok(StatusCode::NO_CONTENT),
        (false, name) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("there is no import named {name:?} (GET /imports lists them)"),
        )),
    }
}
