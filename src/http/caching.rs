//! HTTP caching of every read: validators derived from the version an answer comes from, and
//! conditional GETs answered 304 before any store work is done.
//!
//! Invariants: an `ETag` names the data version (a published version's generation and digest,
//! or a primary's last write) and the representation asked for (the request URI with its query,
//! `Accept` and `Accept-Encoding`), so two replicas of one version give the same tags and any
//! committed write changes a primary's; a response gets validators only when the version did
//! not move while it was made; requests carrying credentials, and the routes whose answers are
//! not data (health, metrics, the audit trail, admin), are never marked cacheable.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

/// The response header naming the published version (generation) an answer came from.
pub const VERSION_HEADER: &str = "claimgraph-version";
/// The response header giving that version's dataset digest.
pub const DIGEST_HEADER: &str = "claimgraph-digest";

/// How long shared caches and browsers may keep an answer (`--cache-max-age`,
/// `--cache-stale-while-revalidate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caching {
    pub max_age: u64,
    pub stale_while_revalidate: u64,
}

impl Caching {
    /// A primary's answers may change with any write: caches revalidate every time (a 304 when
    /// nothing was written).
    pub const PRIMARY: Self = Self {
        max_age: 0,
        stale_while_revalidate: 0,
    };
    /// A replica's change only when a new version is published.
    pub const REPLICA: Self = Self {
        max_age: 60,
        stale_while_revalidate: 300,
    };

    fn header(&self) -> HeaderValue {
        let value = match (self.max_age, self.stale_while_revalidate) {
            (0, 0) => "public, no-cache".to_owned(),
            (age, 0) => format!("public, max-age={age}"),
            (age, stale) => format!("public, max-age={age}, stale-while-revalidate={stale}"),
        };
        HeaderValue::try_from(value).expect("digits and ASCII")
    }
}

/// What an answer's validators are derived from: the data version it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    /// Short, ASCII: `g12-0a1b2c3d4e5f6a7b` for a published version; `w3.1764950000` for a
    /// primary's store after 3 writes since it started at that second.
    tag: String,
    modified: SystemTime,
}

impl AppState {
    fn validators(&self) -> Validators {
        match &self.version {
            Some(version) => Validators {
                tag: format!(
                    "g{}-{}",
                    version.manifest.generation,
                    &version.manifest.digest[..16]
                ),
                modified: version.published,
            },
            None => Validators {
                tag: format!(
                    "w{}.{}",
                    self.store.writes_ended(),
                    self.started
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_secs()
                ),
                modified: self.store.changed_at(),
            },
        }
    }
}

/// Routes whose answers are not the data's (or need a token): never cacheable.
fn uncached(path: &str) -> bool {
    path == "/healthz"
        || path == "/metrics"
        || path.starts_with("/audit")
        || path.starts_with("/admin")
        || path.starts_with("/import")
}

/// The middleware: 304 for a conditional GET whose validator still holds, else the answer with
/// `ETag`, `Last-Modified`, `Cache-Control` and `Vary`, and on a replica the version headers.
pub(crate) async fn conditional(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let cacheable = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.headers().contains_key(header::AUTHORIZATION)
        && !uncached(request.uri().path());
    if !cacheable {
        let mut response = next.run(request).await;
        version_headers(&state, response.headers_mut());
        return response;
    }
    let before = state.validators();
    let etag = etag(&before, &request);
    // A tag this server gave names a 200 of this very request in this version: answered at
    // once. `*` and dates say nothing of whether the resource exists: the answer is made first,
    // and becomes a 304 only if it is a 200.
    let conditions = Conditions {
        none_match: request.headers().get(header::IF_NONE_MATCH).cloned(),
        modified_since: request.headers().get(header::IF_MODIFIED_SINCE).cloned(),
    };
    let named = conditions
        .none_match
        .as_ref()
        .is_some_and(|tags| tags.as_bytes() != b"*" && matches_tag(tags, &etag));
    if named {
        return not_modified_response(&state, &etag, &before);
    }
    let mut response = next.run(request).await;
    // A write committed meanwhile may or may not be in the answer: no validator vouches for it.
    if response.status() == StatusCode::OK
        && !response.headers().contains_key(header::ETAG)
        && state.validators() == before
    {
        if not_modified(&conditions, &etag, before.modified) {
            return not_modified_response(&state, &etag, &before);
        }
        validator_headers(&state, response.headers_mut(), &etag, &before);
    }
    version_headers(&state, response.headers_mut());
    response
}

fn not_modified_response(
    state: &AppState,
    etag: &HeaderValue,
    validators: &Validators,
) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    validator_headers(state, response.headers_mut(), etag, validators);
    version_headers(state, response.headers_mut());
    response
}

/// A weak tag (the bytes of two equal answers may differ, in whitespace or a streamed
/// chunking): the version's tag and a hash of what selects the representation.
fn etag(validators: &Validators, request: &Request) -> HeaderValue {
    let mut hasher = Sha256::new();
    hasher.update(request.uri().to_string().as_bytes());
    for name in [header::ACCEPT, header::ACCEPT_ENCODING] {
        hasher.update(b"\n");
        if let Some(value) = request.headers().get(name) {
            hasher.update(value.as_bytes());
        }
    }
    let hash: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    HeaderValue::try_from(format!("W/\"{}-{hash}\"", validators.tag)).expect("ASCII")
}

/// A request's conditional headers (kept while the request itself goes to its handler).
struct Conditions {
    none_match: Option<HeaderValue>,
    modified_since: Option<HeaderValue>,
}

/// Whether the request's `If-None-Match` names `etag` (weak comparison), or, when it sends
/// none, its `If-Modified-Since` is not before `modified`.
fn not_modified(conditions: &Conditions, etag: &HeaderValue, modified: SystemTime) -> bool {
    if let Some(tags) = &conditions.none_match {
        return matches_tag(tags, etag);
    }
    let since = conditions
        .modified_since
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    since.is_some_and(|since| since >= modified)
}

/// The `Last-Modified` of data changed at `modified`: the next whole second (HTTP dates have
/// whole seconds), and only once that second is past. A date handed out earlier could be
/// matched by an `If-Modified-Since` after a second change within the same second.
fn last_modified(modified: SystemTime) -> Option<HeaderValue> {
    let since_epoch = modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    let whole =
        Duration::from_secs(since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0));
    let date = SystemTime::UNIX_EPOCH + whole;
    (SystemTime::now() >= date)
        .then(|| HeaderValue::try_from(httpdate::fmt_http_date(date)).ok())
        .flatten()
}

/// Weak comparison of an `If-None-Match` list with `etag` (`*` matches any).
pub(crate) fn matches_tag(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let strip = |tag: &[u8]| -> Vec<u8> { tag.strip_prefix(b"W/").unwrap_or(tag).to_vec() };
    let ours = strip(etag.as_bytes());
    tags.to_str().is_ok_and(|tags| {
        tags.split(',').any(|tag| {
            let tag = tag.trim();
            tag == "*" || strip(tag.as_bytes()) == ours
        })
    })
}

fn validator_headers(
    state: &AppState,
    headers: &mut HeaderMap,
    etag: &HeaderValue,
    validators: &Validators,
) {
    headers.insert(header::ETAG, etag.clone());
    if let Some(date) = last_modified(validators.modified) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(header::CACHE_CONTROL, state.caching.header());
    // One Vary: what the handler varied on, and Accept (which the tag depends on). The tag also
    // depends on Accept-Encoding, which only exports vary on (they say so themselves): other
    // answers are the same bytes whatever the encoding asked for.
    let mut names: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|n| n.trim().to_owned()))
        .filter(|n| !n.is_empty())
        .collect();
    if !names.iter().any(|n| n.eq_ignore_ascii_case("Accept")) {
        names.push("Accept".to_owned());
    }
    if let Ok(vary) = HeaderValue::try_from(names.join(", ")) {
        headers.insert(header::VARY, vary);
    }
}

/// On a replica: which version answered.
fn version_headers(state: &AppState, headers: &mut HeaderMap) {
    if let Some(version) = &state.version {
        headers.insert(
            VERSION_HEADER,
            HeaderValue::from(version.manifest.generation),
        );
        if let Ok(digest) = HeaderValue::try_from(version.manifest.digest.as_str()) {
            headers.insert(DIGEST_HEADER, digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly() {
        let ours = HeaderValue::from_static("W/\"g2-abc-0011\"");
        for matching in [
            "W/\"g2-abc-0011\"",
            "\"g2-abc-0011\"",
            "\"x\", W/\"g2-abc-0011\"",
            "*",
        ] {
            assert!(
                matches_tag(&HeaderValue::from_static(matching), &ours),
                "{matching}"
            );
        }
        for other in ["W/\"g1-abc-0011\"", "\"g2-abc\"", ""] {
            assert!(
                !matches_tag(&HeaderValue::from_static(other), &ours),
                "{other}"
            );
        }
    }

    #[test]
    fn last_modified_is_the_next_whole_second_once_past() {
        let at = |secs, nanos| SystemTime::UNIX_EPOCH + Duration::new(secs, nanos);
        assert_eq!(
            last_modified(at(1_796_487_868, 250_000_000)).unwrap(),
            "Sat, 05 Dec 2026 16:24:29 GMT"
        );
        assert_eq!(
            last_modified(at(1_796_487_868, 0)).unwrap(),
            "Sat, 05 Dec 2026 16:24:28 GMT"
        );
        assert!(last_modified(SystemTime::now() + Duration::from_secs(2)).is_none());
        // A change after the date handed out is never taken for "not modified".
        let conditions = Conditions {
            none_match: None,
            modified_since: last_modified(at(100, 5)),
        };
        let tag = HeaderValue::from_static("W/\"x\"");
        assert!(not_modified(&conditions, &tag, at(100, 5)));
        assert!(not_modified(&conditions, &tag, at(101, 0)));
        assert!(!not_modified(&conditions, &tag, at(101, 1)));
    }

    #[test]
    fn cache_control_follows_the_settings() {
        assert_eq!(Caching::PRIMARY.header(), "public, no-cache");
        assert_eq!(
            Caching::REPLICA.header(),
            "public, max-age=60, stale-while-revalidate=300"
        );
        let fixed = Caching {
            max_age: 5,
            stale_while_revalidate: 0,
        };
        assert_eq!(fixed.header(), "public, max-age=5");
    }
}
