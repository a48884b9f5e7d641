//! `POST /drafts` (an article in, its draft out) and `POST /match` (a sentence in, the known
//! claims it likely restates out), over what the store knows.
//!
//! Invariants: nothing here writes — a draft is returned, never stored, so a curator's editor or
//! the workspace decides what becomes a sheet; drafting needs a writer's token (it is the first
//! step of a write), matching is an open read; both match through the claims index; what else
//! drafting knows (entities, documents, keys in use) is read again only when the store has been
//! written since (`ClaimStore::generation`).

use super::auth::Need;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::draft::{self, files, matcher::Match, Known};
use crate::ClaimStore;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What drafting knows of the store (entities, documents, the keys in use; its claims are found
/// through the claims index), as of one store generation, shared by every request.
///
/// Read from the store on first use, on a thread of its own (on a large store it may take longer
/// than a request may: a request waits for it up to the query time limit, then gets 503 and
/// `Retry-After`). After a write, a store that was built in under a second is rebuilt at
/// once, so answers follow the write; a larger one keeps answering from the previous build
/// while a new one is made.
pub struct KnownCache {
    inner: Mutex<Built>,
    ready: Condvar,
    /// Reads what the store knows (`known_in_store`; a test gives a slow or failing one).
    read: fn(&ClaimStore) -> crate::Result<Known>,
}

impl Default for KnownCache {
    fn default() -> Self {
        Self::reading_with(draft::known::known_in_store)
    }
}

#[derive(Default)]
struct Built {
    known: Option<(u64, Arc<Known>)>,
    building: bool,
    /// How long the last build took.
    took: Duration,
    /// Why the last build failed, for the requests that waited for it.
    failed: Option<String>,
}

/// Builds this fast are redone inside the request that finds them stale.
const QUICK_BUILD: Duration = Duration::from_secs(1);

impl KnownCache {
    fn reading_with(read: fn(&ClaimStore) -> crate::Result<Known>) -> Self {
        Self {
            inner: Mutex::default(),
            ready: Condvar::new(),
            read,
        }
    }

    /// What the store knows now (or, for a large store just written to, a moment ago).
    pub(super) fn get(
        self: &Arc<Self>,
        store: &Arc<ClaimStore>,
        wait: Duration,
    ) -> Result<Arc<Known>, ApiError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let generation = store.generation();
        if let Some((built, known)) = &inner.known {
            if *built == generation {
                return Ok(known.clone());
            }
            if inner.took >= QUICK_BUILD {
                let stale = known.clone();
                if !inner.building {
                    self.build(store.clone(), &mut inner);
                }
                return Ok(stale);
            }
            drop(inner);
            let started = Instant::now();
            let known = Arc::new((self.read)(store)?);
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.known = Some((generation, known.clone()));
            inner.took = started.elapsed();
            return Ok(known);
        }
        if !inner.building {
            self.build(store.clone(), &mut inner);
        }
        let deadline = Instant::now() + wait;
        loop {
            if let Some((_, known)) = &inner.known {
                return Ok(known.clone());
            }
            if !inner.building {
                let why = inner.failed.clone().unwrap_or_default();
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("reading what the store knows for drafting failed: {why}"),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "what the store knows is still being read for drafting (once after start, \
                     seconds on a large store): retry shortly",
                )
                .with_header(header::RETRY_AFTER, "10"));
            }
            inner = self
                .ready
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Starts a build on a thread of its own: no request's time limit or cancellation applies.
    fn build(self: &Arc<Self>, store: Arc<ClaimStore>, inner: &mut Built) {
        inner.building = true;
        let cache = self.clone();
        let spawned = std::thread::Builder::new()
            .name("claimgraph-known".into())
            .spawn(move || {
                let generation = store.generation();
                let started = Instant::now();
                let outcome = (cache.read)(&store);
                let mut inner = cache.inner.lock().unwrap_or_else(|e| e.into_inner());
                inner.building = false;
                match outcome {
                    Ok(known) => {
                        inner.known = Some((generation, Arc::new(known)));
                        inner.took = started.elapsed();
                        inner.failed = None;
                        tracing::info!(
                            seconds = inner.took.as_secs_f64(),
                            "read what drafting knows"
                        );
                    }
                    Err(error) => {
                        tracing::error!(%error, "reading what drafting knows failed");
                        inner.failed = Some(error.to_string());
                    }
                }
                cache.ready.notify_all();
            });
        if let Err(error) = spawned {
            inner.building = false;
            inner.failed = Some(format!("cannot start a thread: {error}"));
        }
    }
}

/// How long a request waits for what the store knows: shorter than the time limit, so a wait
/// that runs out says why (503), not "timed out".
pub(super) fn known_wait(state: &AppState) -> Duration {
    state
        .limits
        .query_timeout
        .map_or(Duration::from_secs(30), |t| t.mul_f64(0.9))
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
        (status = 503, description = "What the store knows is still being read for drafting \
            (the first use after start, on a large store): retry after `Retry-After` seconds",
            body = ErrorBody),
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
    let wait = known_wait(&state);
    let (draft, text) = super::blocking(&state, move || {
        let (name, bytes) = article;
        let text = files::article_text(&name, &bytes)?;
        let known = cache.get(&store, wait)?;
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

/// The request's body (within `--max-body-bytes`) as JSON: 400 saying what it must be.
pub(super) async fn json_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    request: Request,
    expected: &str,
) -> Result<T, ApiError> {
    let body = super::limits::read_body(request.into_body(), state.limits.max_body_bytes).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body must be {expected}: {e}")))
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
        let mut fields: DraftRequest = json_body(
            state,
            request,
            "a JSON object with `text` or `html`, `key`, `publisher` and `date` (or \
             multipart/form-data)",
        )
        .await?;
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
        (status = 503, description = "The claims index is being rebuilt (it missed a write): \
            retry shortly", body = ErrorBody),
    )
)]
pub async fn find(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let request: MatchRequest = json_body(
        &state,
        request,
        "a JSON object with `text` (and optionally `status`, `limit`)",
    )
    .await?;
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
    // Straight from the claims index, which every write keeps up to date.
    let matches = super::blocking(&state, move || {
        let claims = draft::matcher::Claims::Index(store.index().matcher(store.base()));
        Ok(claims.best(&request.text, request.status.as_deref(), limit)?)
    })
    .await?;
    let restates = draft::restated(&matches);
    Ok(Json(MatchResponse { matches, restates }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Arc<ClaimStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = ClaimStore::open(&dir.path().join("store"), "http://example.org/").unwrap();
        (dir, Arc::new(store))
    }

    fn slow(store: &ClaimStore) -> crate::Result<Known> {
        std::thread::sleep(Duration::from_millis(400));
        draft::known::known_in_store(store)
    }

    fn failing(_: &ClaimStore) -> crate::Result<Known> {
        Err(crate::Error::Invalid("the disk is on fire".into()))
    }

    fn wait_built(cache: &Arc<KnownCache>, store: &Arc<ClaimStore>) -> Arc<Known> {
        for _ in 0..100 {
            if let Ok(known) = cache.get(store, Duration::from_millis(50)) {
                return known;
            }
        }
        panic!("what drafting knows was never read");
    }

    #[test]
    fn a_build_longer_than_the_wait_is_503_then_serves() {
        let (_dir, store) = store();
        let cache = Arc::new(KnownCache::reading_with(slow));
        let early = cache.get(&store, Duration::from_millis(20)).err().unwrap();
        assert_eq!(early.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(early
            .headers
            .iter()
            .any(|(name, _)| name == header::RETRY_AFTER));
        // One build, in the background; once done it answers at once.
        let built = wait_built(&cache, &store);
        let again = cache.get(&store, Duration::from_millis(1)).unwrap();
        assert!(Arc::ptr_eq(&built, &again));
    }

    #[test]
    fn a_failed_build_is_500_naming_why_and_is_tried_again() {
        let (_dir, store) = store();
        let cache = Arc::new(KnownCache::reading_with(failing));
        let error = cache.get(&store, Duration::from_secs(5)).err().unwrap();
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            error.message.contains("the disk is on fire"),
            "{}",
            error.message
        );
        let again = cache.get(&store, Duration::from_secs(5)).err().unwrap();
        assert!(again.message.contains("the disk is on fire"));
    }

    #[test]
    fn after_a_write_a_slow_build_answers_from_the_previous_one_meanwhile() {
        let (_dir, store) = store();
        let cache = Arc::new(KnownCache::reading_with(slow));
        let first = wait_built(&cache, &store);
        // Pretend the build was slow (the threshold for rebuilding in the background).
        cache.inner.lock().unwrap().took = QUICK_BUILD;
        store
            .write(|t| {
                t.insert(oxigraph::model::QuadRef::new(
                    oxigraph::model::NamedNodeRef::new_unchecked("http://example.org/s"),
                    oxigraph::model::NamedNodeRef::new_unchecked("http://example.org/p"),
                    oxigraph::model::NamedNodeRef::new_unchecked("http://example.org/o"),
                    oxigraph::model::NamedNodeRef::new_unchecked("http://example.org/g"),
                ));
                Ok(())
            })
            .unwrap();
        let stale = cache.get(&store, Duration::from_millis(1)).unwrap();
        assert!(
            Arc::ptr_eq(&first, &stale),
            "the previous build answers while one is made"
        );
        for _ in 0..100 {
            let now = cache.get(&store, Duration::from_millis(1)).unwrap();
            if !Arc::ptr_eq(&first, &now) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("what drafting knows was not read again after the write");
    }
}
