//! `POST /drafts` (an article in, its draft out) and `POST /match` (a sentence in, the known
//! claims it likely restates out), over what the store knows.
//!
//! Invariants: nothing here writes — a draft is returned, never stored, so a curator's editor or
//! the workspace decides what becomes a sheet; drafting needs a writer's token (it is the first
//! step of a write), matching is an open read; the matcher is rebuilt from the store only when
//! the store has been written since it was built (`ClaimStore::generation`).

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::draft::{self, files, matcher::Match, Known};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::{Arc, Mutex};

/// The known claims and entities, as of one store generation.
#[derive(Default)]
pub struct KnownCache(Mutex<Option<(u64, Arc<Known>)>>);

impl KnownCache {
    /// What the store knows now (built on a blocking thread by the caller).
    fn get(&self, store: &crate::ClaimStore) -> crate::Result<Arc<Known>> {
        // Held while building, so concurrent requests after a write build once.
        let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let generation = store.generation();
        if let Some((built, known)) = cached.as_ref() {
            if *built == generation {
                return Ok(known.clone());
            }
        }
        let known = Arc::new(draft::known::known_in_store(store)?);
        *cached = Some((generation, known.clone()));
        Ok(known)
    }
}

/// An article to draft, as JSON (`text` or `html`), or as multipart/form-data with the article
/// in the `article` field and the other fields beside it.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The article as plain UTF-8 text.
    text: Option<String>,
    /// The article as an HTML page (its main text is extracted).
    html: Option<String>,
    /// The source key to give the article (lower-case letters, digits, hyphens).
    key: String,
    /// The publisher: an entity key or name the store knows, or a new outlet's name.
    publisher: String,
    /// Publication date, `YYYY-MM-DD`; relative dates in the text resolve against it.
    date: String,
    title: Option<String>,
    url: Option<String>,
    /// NewsArticle (default), CourtFiling, Statement or WebPage.
    kind: Option<String>,
    /// Key of the source the article reposts.
    reposts: Option<String>,
    /// Key of the source the article quotes from.
    quotes: Option<String>,
    /// Allow a key already in use.
    #[serde(default)]
    force: bool,
}

#[utoipa::path(
    post,
    path = "/drafts",
    tag = "drafting",
    request_body(
        description = "JSON, or multipart/form-data with the article (text or HTML) in the \
            `article` field and the other fields of DraftRequest as form fields",
        content((DraftRequest = "application/json"), (String = "multipart/form-data")),
    ),
    responses(
        (status = 200, description = "The draft: the article as a source (with its text's \
            SHA-256), new entities, and one candidate per check-worthy clause with its quote, \
            code-point offsets, cue, proposed status and claimant, entities, resolved dates, \
            confidence, the three known claims it most likely restates with the differences, \
            and the claim it restates if any. `text` is the text the offsets count in (archive \
            it as `data/texts/KEY.txt`). As a claim sheet with `Accept: application/toml`.",
            content((Object = "application/json"), (String = "application/toml"))),
        (status = 400, description = "A field missing or invalid, the article not UTF-8, empty, \
            too large or without a check-worthy sentence, the key in use, the upstream source \
            unknown (the message names the field)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token is not a writer's", body = ErrorBody),
        (status = 413, description = "The body is over --max-body-bytes", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    state.authorise(&headers, Need::Write, "drafting")?;
    let (request, article) = read_request(&state, request).await?;
    let options = files::Options {
        key: request.key,
        publisher: request.publisher,
        date: request.date,
        title: request.title,
        url: request.url,
        kind: request.kind,
        reposts: request.reposts,
        quotes: request.quotes,
        force: request.force,
    };
    use super::negotiate::{pick, Offer};
    let offers = [
        Offer::new("json", &["application/json"], false),
        Offer::new("toml", &["application/toml"], true),
    ];
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (toml, _) = pick(None, accept, &offers)?;
    let store = state.store.clone();
    let cache = state.known.clone();
    let (draft, text) = super::blocking(&state, move || {
        let (name, bytes) = article;
        let text = files::article_text(&name, &bytes)?;
        let known = cache.get(&store)?;
        let draft = files::draft_article(text.clone(), &options, &known)?;
        Ok((draft, text))
    })
    .await?;
    if toml {
        return Ok((
            [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
            draft::sheet::to_toml(&draft),
        )
            .into_response());
    }
    let mut body = serde_json::to_value(&draft)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    body["text"] = serde_json::Value::String(text);
    Ok(Json(body).into_response())
}

/// Reads a JSON or multipart draft request: the fields, and the article's name and bytes.
async fn read_request(
    state: &AppState,
    request: Request,
) -> Result<(DraftRequest, (String, Vec<u8>)), ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let body =
            super::limits::read_body(request.into_body(), state.limits.max_body_bytes).await?;
        let mut fields: DraftRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body must be a JSON object with `text` or `html`, `key`, `publisher` and \
                 `date` (or multipart/form-data): {e}"
            ))
        })?;
        let article = match (fields.text.take(), fields.html.take()) {
            (Some(text), None) => ("text".to_owned(), text.into_bytes()),
            (None, Some(html)) => ("html".to_owned(), html.into_bytes()),
            _ => {
                return Err(ApiError::bad_request(
                    "give the article as exactly one of `text` or `html`",
                ))
            }
        };
        return Ok((fields, article));
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::bad_request(format!("multipart body: {}", e.body_text())))?;
    let mut fields = DraftRequest::default();
    let mut article = None;
    let mut total = 0usize;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("multipart body: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("field `{name}`: {}", e.body_text())))?;
        total += bytes.len();
        if total > state.limits.max_body_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the limit of {} bytes (--max-body-bytes)",
                    state.limits.max_body_bytes
                ),
            ));
        }
        let value = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::bad_request(format!("field `{name}` is not UTF-8")))
        };
        match name.as_str() {
            "article" => article = Some(("article".to_owned(), bytes.to_vec())),
            "key" => fields.key = value()?,
            "publisher" => fields.publisher = value()?,
            "date" => fields.date = value()?,
            "title" => fields.title = Some(value()?),
            "url" => fields.url = Some(value()?),
            "kind" => fields.kind = Some(value()?),
            "reposts" => fields.reposts = Some(value()?),
            "quotes" => fields.quotes = Some(value()?),
            "force" => fields.force = value()? == "true",
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown field `{other}`: the fields are article, key, publisher, date, \
                     title, url, kind, reposts, quotes, force"
                )))
            }
        }
    }
    let article = article.ok_or_else(|| ApiError::bad_request("the `article` field is missing"))?;
    Ok((fields, article))
}

/// A sentence to match.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// The sentence (or clause), as it appears.
    text: String,
    /// The status it is asserted with, if known: a hardened or softened status is then named
    /// as a difference.
    status: Option<String>,
    /// How many claims to return, 1 to 20 (default 3).
    limit: Option<usize>,
}

/// The known claims a sentence likely restates.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MatchResponse {
    /// Best first; `claim` is the claim's key (its IRI is `BASE/claims/KEY`), `score` a cosine
    /// similarity in [0, 1], `differences` what differs (amount, number, date, name, qualifier,
    /// status) with the wording here and as known.
    #[schema(value_type = Vec<Object>)]
    matches: Vec<Match>,
    /// The claim it restates: the best match, when it scores at least 0.45.
    restates: Option<String>,
}

#[utoipa::path(
    post,
    path = "/match",
    tag = "drafting",
    request_body(content((MatchRequest = "application/json"))),
    responses(
        (status = 200, description = "The known claims the sentence most likely restates, best \
            first, with scores and differences (an empty list when none shares a word)",
            body = MatchResponse),
        (status = 400, description = "Not a JSON object with `text`; `text` empty; `limit` not \
            in 1..=20; `status` not a claim status (the message names the field)",
            body = ErrorBody),
    )
)]
pub async fn find(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let body = super::limits::read_body(request.into_body(), state.limits.max_body_bytes).await?;
    let request: MatchRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be a JSON object with `text` (and optionally `status`, `limit`): {e}"
        ))
    })?;
    if request.text.trim().is_empty() {
        return Err(ApiError::bad_request("`text` is empty"));
    }
    let limit = request.limit.unwrap_or(3);
    if !(1..=20).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` is {limit}: ask for 1 to 20 claims"
        )));
    }
    if let Some(status) = &request.status {
        if !crate::claims::STATUSES.contains(&status.as_str()) {
            return Err(ApiError::bad_request(format!(
                "`status` {status:?} is not a claim status: use one of {}",
                crate::claims::STATUSES.join(", ")
            )));
        }
    }
    let store = state.store.clone();
    let cache = state.known.clone();
    let matches = super::blocking(&state, move || {
        let known = cache.get(&store)?;
        Ok(known
            .matcher
            .best(&request.text, request.status.as_deref(), limit))
    })
    .await?;
    let restates = draft::restated(&matches);
    Ok(Json(MatchResponse { matches, restates }).into_response())
}
