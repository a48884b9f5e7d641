//! The review of drafts in the browser: the page at `/review`, the entities its fields complete
//! from (`GET /entities`), and `PUT /sheets/{key}`, which saves a reviewed draft as a claim
//! sheet in the data directory (`crate::draft::review`).
//!
//! Invariants: saving needs a writer's token (sent by the page as a header, never a cookie, so
//! no other site can make a browser save); the sheet's key in the path is the one in the body;
//! nothing is written unless the data directory checks with the new sheet, and an existing
//! sheet is replaced only with `If-Match` naming its current hash.

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::draft::review::{self, FieldError, Refused, Reviewed, Saved};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// `GET /review`: the page where a fact-checker drafts an article and reviews its candidates.
pub async fn page() -> Response {
    super::html::scripted_response(super::html::review(crate::claims::STATUSES))
}

/// What `GET /entities` takes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityParams {
    /// Words the entity's name or key contains (case aside); all of them must.
    q: String,
    /// At most this many, 1 to 50 (default 10).
    limit: Option<usize>,
}

/// An entity the graph knows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntityEntry {
    pub key: String,
    pub name: String,
    /// The sheet type (`Person`, `Corporation`, …).
    pub kind: String,
}

/// `GET /entities?q=`: the known entities whose name or key contains the words, names
/// starting with them first (what the review's fields complete from).
#[utoipa::path(get, path = "/entities", params(EntityParams), tag = "drafting",
    responses(
        (status = 200, description = "Matching entities, best first", body = [EntityEntry]),
        (status = 400, description = "`q` missing or `limit` out of range", body = ErrorBody),
        (status = 503, description = "What the store knows is still being read", body = ErrorBody),
    ))]
pub async fn entities(
    State(state): State<AppState>,
    params: Result<Query<EntityParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` is {limit}: ask for 1 to 50 entities"
        )));
    }
    let words: Vec<String> = params.q.split_whitespace().map(str::to_lowercase).collect();
    let store = state.store.clone();
    let cache = state.known.clone();
    let wait = super::drafts::known_wait(&state);
    let found = super::blocking(&state, move || {
        let known = cache.get(&store, wait)?;
        let mut found: Vec<(bool, &crate::draft::mentions::KnownEntity)> = known
            .gazetteer
            .entities
            .iter()
            .filter_map(|entity| {
                let name = entity.name.to_lowercase();
                let all = words
                    .iter()
                    .all(|w| name.contains(w.as_str()) || entity.key.contains(w.as_str()));
                all.then(|| {
                    let starts = words.first().is_some_and(|w| name.starts_with(w.as_str()));
                    (!starts, entity)
                })
            })
            .collect();
        found.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
        Ok(found
            .into_iter()
            .take(limit)
            .map(|(_, e)| EntityEntry {
                key: e.key.clone(),
                name: e.name.clone(),
                kind: e.kind.clone(),
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(found).into_response())
}

/// Why a reviewed sheet was not saved: the problems, each against the field it concerns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SaveRefused {
    pub message: String,
    pub errors: Vec<FieldError>,
    /// For 412: the existing sheet's hash, to send back as `If-Match` to replace it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// `PUT /sheets/{key}`: saves a reviewed draft as `DATA/claims/KEY.toml` (its text as
/// `DATA/texts/KEY.txt`) if the data directory checks with it, and loads it.
#[utoipa::path(put, path = "/sheets/{key}", tag = "drafting",
    params(
        ("key" = String, Path, description = "The article's source key, which names the sheet"),
        ("If-Match" = Option<String>, Header, description = "The current sheet's hash, to replace it"),
    ),
    request_body(content((Reviewed = "application/json"))),
    responses(
        (status = 201, description = "Saved, checked and loaded", body = Saved),
        (status = 400, description = "Not a reviewed draft, or the key differs from the path's", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token is not a writer's", body = ErrorBody),
        (status = 409, description = "The server has no data directory", body = ErrorBody),
        (status = 412, description = "A sheet with this key exists: send its hash (`etag`) as If-Match to replace it", body = SaveRefused),
        (status = 422, description = "The sheet does not check; nothing was written", body = SaveRefused),
    ))]
pub async fn save(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = state.authorise(&headers, Need::Write, "saving a reviewed sheet")?;
    let data = state.data_dirs.first().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "this server has no data directory to save sheets into: start it with --data DIR",
        )
    })?;
    let review: Reviewed = super::drafts::json_body(
        &state,
        request,
        "a reviewed draft: `source`, `text`, `entities`, `claims`, `appearances`",
    )
    .await?;
    if review.source.key != key {
        return Err(ApiError::bad_request(format!(
            "the sheet is {key:?} in the path but {:?} in the body",
            review.source.key
        )));
    }
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let store = state.store.clone();
    let dirs = state.data_dirs.to_vec();
    let outcome = super::writing(&caller, "review-save", move || {
        review::save(&store, &data, &dirs, &review, if_match.as_deref())
    })
    .await?;
    let refused = |status: StatusCode, body: SaveRefused| (status, Json(body)).into_response();
    Ok(match outcome {
        Ok(saved) => {
            let location = format!("/claims?source={}", {
                form_urlencoded::byte_serialize(
                    format!("{}sources/{key}", state.store.base()).as_bytes(),
                )
                .collect::<String>()
            });
            (
                StatusCode::CREATED,
                [
                    (header::ETAG, saved.etag.clone()),
                    (header::LOCATION, location),
                ],
                Json(saved),
            )
                .into_response()
        }
        Err(Refused::Exists { etag, path }) => {
            let mut response = refused(
                StatusCode::PRECONDITION_FAILED,
                SaveRefused {
                    message: format!(
                        "{} exists: send its hash as If-Match to replace it",
                        path.strip_prefix(&state.data_dirs[0])
                            .unwrap_or(&path)
                            .display()
                    ),
                    errors: Vec::new(),
                    etag: Some(etag.clone()),
                },
            );
            if let Ok(value) = etag.parse() {
                response.headers_mut().insert(header::ETAG, value);
            }
            response
        }
        Err(Refused::Invalid(errors)) => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            SaveRefused {
                message: format!(
                    "the sheet does not check ({} problem{}); nothing was written",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                errors,
                etag: None,
            },
        ),
        Err(Refused::Failed(error)) => return Err(error.into()),
    })
}
