//! SPARQL 1.1 Protocol at `/sparql`: queries by GET, form POST and direct POST; updates by form
//! and direct POST; the Service Description on a bare GET. The same decoding serves
//! `/audit/sparql`: queries only, by admins, on the audit trail's store.
//!
//! Invariant: handlers only decode the request, negotiate, authorise and call the store; every
//! evaluation happens in `store`. Authorisation follows what the parsed operation does: a query
//! is a read (by POST too), an update needs a writer, `LOAD` is refused (admins only, and never
//! without an allowlist of sources, which does not exist: the server makes no outbound requests).

use super::auth::{CrossOriginRead, Need};
use super::error::ApiError;
use super::negotiate::{self, Offer};
use super::{limits, AppState};
use crate::formats::{essence, RdfSyntax, RESULTS_SYNTAXES};
use crate::store::{DatasetParams, OutputFormat, QueryBounds};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use oxigraph::io::RdfSerializer;
use oxigraph::model::NamedNode;
use spargebra::Query;

const FORM: &str = "application/x-www-form-urlencoded";
const SPARQL_QUERY: &str = "application/sparql-query";
const SPARQL_UPDATE: &str = "application/sparql-update";

/// The SPARQL endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `/sparql`: the store.
    Main,
    /// `/audit/sparql`: the audit trail, queries only, admins only.
    Audit,
}

/// `GET /sparql`: a query in the URL, or the service description when there is none.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    get_on(Endpoint::Main, &state, &headers, raw).await
}

/// `GET /audit/sparql`: a query on the audit trail, for admins.
pub async fn audit_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    get_on(Endpoint::Audit, &state, &headers, raw).await
}

/// `POST /audit/sparql`: a query on the audit trail, for admins (an update is refused).
pub async fn audit_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    post_on(Endpoint::Audit, &state, &headers, raw, body).await
}

async fn get_on(
    endpoint: Endpoint,
    state: &AppState,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Response, ApiError> {
    let query_string = raw.as_deref().unwrap_or("").as_bytes();
    let operation = decode(&Method::GET, None, query_string, Bytes::new())?;
    perform(endpoint, state, headers, operation).await
}

/// `POST /sparql`: a query or an update, form-encoded or direct.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    post_on(Endpoint::Main, &state, &headers, raw, body).await
}

async fn post_on(
    endpoint: Endpoint,
    state: &AppState,
    headers: &HeaderMap,
    raw: Option<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = limits::read_body(body, state.limits.max_body_bytes).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""));
    let query_string = raw.as_deref().unwrap_or("").as_bytes();
    let operation = decode(&Method::POST, content_type, query_string, body)?;
    perform(endpoint, state, headers, operation).await
}

async fn perform(
    endpoint: Endpoint,
    state: &AppState,
    headers: &HeaderMap,
    operation: Operation,
) -> Result<Response, ApiError> {
    match operation {
        Operation::ServiceDescription if endpoint == Endpoint::Main => {
            service_description(state, headers)
        }
        Operation::ServiceDescription => Err(no_query()),
        Operation::Query { text, dataset }
            if endpoint == Endpoint::Main && negotiate::prefers_html(headers) =>
        {
            Ok(to_editor(&text, &dataset))
        }
        Operation::Query { text, dataset } => {
            run_query(endpoint, state, headers, text, dataset).await
        }
        Operation::Update { text, dataset } => {
            run_update(endpoint, state, headers, text, dataset).await
        }
    }
}

/// A browser's query (its `Accept` prefers HTML) goes to the query editor, which runs it and
/// shows the results as a table: `303 See Other` to `/query` with the query and its dataset in
/// the parameters YASGUI reads.
fn to_editor(text: &str, dataset: &DatasetParams) -> Response {
    let mut target = form_urlencoded::Serializer::for_suffix(String::from("/query?"), 7);
    target.append_pair("query", text);
    for graph in &dataset.default_graphs {
        target.append_pair("defaultGraph", graph.as_str());
    }
    for graph in &dataset.named_graphs {
        target.append_pair("namedGraph", graph.as_str());
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, target.finish()),
            (header::VARY, "Accept".to_owned()),
        ],
    )
        .into_response()
}

/// What a request to a SPARQL endpoint asks for, decoded from it as the SPARQL 1.1 Protocol
/// says, before anything is parsed.
#[derive(Debug, PartialEq)]
pub enum Operation {
    /// A GET without parameters: the service description.
    ServiceDescription,
    Query {
        text: String,
        dataset: DatasetParams,
    },
    Update {
        text: String,
        dataset: DatasetParams,
    },
}

/// Decodes a request to a SPARQL endpoint from its method, `Content-Type` (POST), URL query
/// string and body: GET with `query=` in the URL; POST as a form (`query=` or `update=`, with
/// the URL's parameters), or as a direct `application/sparql-query` or
/// `application/sparql-update` body (UTF-8). The dataset parameters are decoded with it. Pure:
/// the handlers and the fuzz target (`fuzzing::sparql_request`) both call it, so what is
/// fuzzed is what is served.
pub fn decode(
    method: &Method,
    content_type: Option<&str>,
    query_string: &[u8],
    body: Bytes,
) -> Result<Operation, ApiError> {
    let url_params = Params::decode(query_string)?;
    if method == Method::GET {
        if url_params.has("update") {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "a SPARQL update must be sent with POST (as application/sparql-update, or as \
                 update=… in an application/x-www-form-urlencoded body)",
            )
            .with_header(header::ALLOW, "POST"));
        }
        return match url_params.single("query")? {
            Some(text) => Ok(Operation::Query {
                dataset: url_params.dataset("default-graph-uri", "named-graph-uri")?,
                text,
            }),
            None if url_params.pairs.is_empty() => Ok(Operation::ServiceDescription),
            None => Err(no_query()),
        };
    }
    if method != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not a SPARQL protocol operation: use GET or POST"),
        )
        .with_header(header::ALLOW, "GET, POST"));
    }
    let content_type = content_type.ok_or_else(|| unsupported_media_type("no Content-Type"))?;
    check_charset(content_type)?;
    match essence(content_type).as_str() {
        FORM => {
            let mut params = Params::decode(&body)?;
            params.pairs.extend(url_params.pairs);
            match (params.single("query")?, params.single("update")?) {
                (Some(_), Some(_)) => Err(ApiError::bad_request(
                    "both query and update given: send one operation per request",
                )),
                (Some(text), None) => Ok(Operation::Query {
                    dataset: params.dataset("default-graph-uri", "named-graph-uri")?,
                    text,
                }),
                (None, Some(text)) => Ok(Operation::Update {
                    dataset: params.dataset("using-graph-uri", "using-named-graph-uri")?,
                    text,
                }),
                (None, None) => Err(ApiError::bad_request(
                    "the form has neither a query nor an update parameter",
                )),
            }
        }
        SPARQL_QUERY => {
            url_params.refuse_operation_in_url()?;
            Ok(Operation::Query {
                text: utf8_body(body, "query")?,
                dataset: url_params.dataset("default-graph-uri", "named-graph-uri")?,
            })
        }
        SPARQL_UPDATE => {
            url_params.refuse_operation_in_url()?;
            Ok(Operation::Update {
                text: utf8_body(body, "update")?,
                dataset: url_params.dataset("using-graph-uri", "using-named-graph-uri")?,
            })
        }
        other => Err(unsupported_media_type(&format!("Content-Type {other}"))),
    }
}

fn no_query() -> ApiError {
    ApiError::bad_request(
        "no query parameter: send query=… (or GET /sparql without parameters for the \
         service description)",
    )
}

/// A query of the library (`/questions/NAME`) answered as `/sparql` answers it.
pub(super) async fn run_main_query(
    state: &AppState,
    headers: &HeaderMap,
    text: String,
) -> Result<Response, ApiError> {
    run_query(
        Endpoint::Main,
        state,
        headers,
        text,
        DatasetParams::default(),
    )
    .await
}

async fn run_query(
    endpoint: Endpoint,
    state: &AppState,
    headers: &HeaderMap,
    text: String,
    dataset: DatasetParams,
) -> Result<Response, ApiError> {
    limits::check_text(&text, "query", state.limits.max_body_bytes)?;
    let query = state.store.parse_query(&text)?;
    limits::refuse_service_in_query(&query)?;
    if endpoint == Endpoint::Audit {
        state.authorise(headers, Need::AdminRead, "reading the audit trail")?;
        if !dataset.is_empty() {
            return Err(ApiError::bad_request(
                "the audit trail is one graph: send no default-graph-uri or named-graph-uri",
            ));
        }
    }
    let (format, media_type) = negotiate_results(&query, headers)?;
    let timeout = state.limits.query_timeout;
    let bounds = query_bounds(state).await?;
    let stream = match endpoint {
        Endpoint::Main => {
            state
                .store
                .stream_query(query, dataset, format, bounds)
                .await
        }
        Endpoint::Audit => state.store.stream_audit_query(query, format, bounds).await,
    }
    .map_err(|e| limits::query_error(e, timeout))?;
    Ok(results_response(media_type, stream))
}

/// The bounds of one query: a slot of `--max-queries` (the wait for it is not the query's time:
/// once it runs, it has all of its limit), the time limit and the result caps.
pub(super) async fn query_bounds(state: &AppState) -> Result<QueryBounds, ApiError> {
    let timeout = state.limits.query_timeout;
    let slot = state.query_slots.acquire(timeout).await?;
    Ok(QueryBounds {
        deadline: timeout.map(|t| std::time::Instant::now() + t),
        slot: Some(slot),
        max_rows: state.limits.max_result_rows,
        max_bytes: state.limits.max_result_bytes,
    })
}

/// A streamed answer in `media_type`, readable cross-origin.
pub(super) fn results_response(media_type: &str, stream: crate::store::ResultStream) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, with_charset(media_type))
        .header(header::VARY, "Accept")
        .extension(CrossOriginRead)
        .body(super::streamed_body(stream))
        .expect("static headers are valid")
}

async fn run_update(
    endpoint: Endpoint,
    state: &AppState,
    headers: &HeaderMap,
    text: String,
    dataset: DatasetParams,
) -> Result<Response, ApiError> {
    if endpoint == Endpoint::Audit {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the audit trail cannot be changed: /audit/sparql answers queries only",
        ));
    }
    limits::check_text(&text, "update", state.limits.max_body_bytes)?;
    let update = state.store.parse_update(&text)?;
    limits::refuse_service_in_update(&update)?;
    let load = refuse_local_load(&update)?;
    let caller = match &load {
        None => state.authorise(headers, Need::Write, "a SPARQL update")?,
        Some(source) => {
            state.authorise(headers, Need::AdminWrite, &format!("LOAD <{source}>"))?;
            tracing::warn!(%source, "refused: LOAD (no outbound requests)");
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "LOAD <{source}> would fetch it over the network, and this server makes no \
                     outbound requests (no allowlist of sources is configured): upload the data \
                     with the Graph Store Protocol (PUT or POST /store) instead"
                ),
            ));
        }
    };
    let store = state.store.clone();
    super::writing(&caller, "sparql-update", move || {
        store.update(update, &dataset)
    })
    .await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The source of the first `LOAD` in an update, if any; 400 for a `LOAD` of anything but an
/// `http(s)` IRI (whoever asks: the server never reads local files).
fn refuse_local_load(update: &spargebra::Update) -> Result<Option<String>, ApiError> {
    let mut first = None;
    for operation in &update.operations {
        if let spargebra::GraphUpdateOperation::Load { source, .. } = operation {
            let iri = source.as_str();
            if !(iri.starts_with("http://") || iri.starts_with("https://")) {
                tracing::warn!(source = iri, "refused: LOAD of a non-HTTP IRI");
                return Err(ApiError::bad_request(format!(
                    "LOAD <{iri}>: only http(s) IRIs can name a source, and this server never \
                     reads local files"
                )));
            }
            first.get_or_insert_with(|| iri.to_owned());
        }
    }
    Ok(first)
}

/// The format for the query's kind of result that the client's `Accept` prefers.
fn negotiate_results(
    query: &Query,
    headers: &HeaderMap,
) -> Result<(OutputFormat, &'static str), ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match query {
        Query::Select { .. } | Query::Ask { .. } => {
            let (format, media_type) =
                negotiate_results_format(accept, matches!(query, Query::Ask { .. }))?;
            Ok((OutputFormat::Results(format), media_type))
        }
        Query::Construct { .. } | Query::Describe { .. } => {
            let (syntax, media_type) = negotiate_rdf(accept)?;
            Ok((OutputFormat::Rdf(syntax.format), media_type))
        }
    }
}

/// The results format the client's `Accept` prefers (for an ASK, among those with booleans).
pub(super) fn negotiate_results_format(
    accept: Option<&str>,
    boolean: bool,
) -> Result<(oxigraph::sparql::results::QueryResultsFormat, &'static str), ApiError> {
    let offers: Vec<Offer<_>> = RESULTS_SYNTAXES
        .iter()
        .filter(|s| !boolean || s.supports_boolean)
        .map(|s| Offer::new(s.name, s.media_types, s.format))
        .collect();
    negotiate::pick(None, accept, &offers)
}

/// The RDF format the client's `Accept` prefers.
pub fn negotiate_rdf(accept: Option<&str>) -> Result<(&'static RdfSyntax, &'static str), ApiError> {
    negotiate::pick(None, accept, &negotiate::rdf_offers())
}

fn service_description(state: &AppState, headers: &HeaderMap) -> Result<Response, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (syntax, media_type) = negotiate_rdf(accept)?;
    let endpoint = NamedNode::new(format!("{}sparql", state.store.base()))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut serializer = RdfSerializer::from_format(syntax.format)
        .with_prefix("sd", crate::vocab::SD)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .for_writer(Vec::new());
    for triple in crate::service_description::describe(&endpoint, state.store.published_version()) {
        serializer
            .serialize_triple(&triple)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    }
    let body = serializer
        .finish()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, with_charset(media_type)),
            (header::VARY, "Accept".to_owned()),
        ],
        body,
    )
        .into_response())
}

pub(super) fn with_charset(media_type: &str) -> String {
    if media_type.starts_with("text/") {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_owned()
    }
}

fn unsupported_media_type(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("{what}: send {SPARQL_QUERY}, {SPARQL_UPDATE} or {FORM} (UTF-8) to this endpoint"),
    )
}

/// The protocol requires UTF-8; any other declared charset is refused.
fn check_charset(content_type: &str) -> Result<(), ApiError> {
    for param in content_type.split(';').skip(1) {
        if let Some((name, value)) = param.split_once('=') {
            let value = value.trim().trim_matches('"');
            if name.trim().eq_ignore_ascii_case("charset") && !value.eq_ignore_ascii_case("utf-8") {
                return Err(unsupported_media_type(&format!("charset {value}")));
            }
        }
    }
    Ok(())
}

pub(crate) fn utf8_body(body: Bytes, what: &str) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec()).map_err(|e| {
        ApiError::bad_request(format!(
            "the {what} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Decoded `application/x-www-form-urlencoded` pairs (URL query strings or form bodies).
pub(crate) struct Params {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes pairs, refusing percent-escapes that do not decode to UTF-8 (rather than silently
    /// replacing them, which would change the query).
    pub(crate) fn decode(input: &[u8]) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for part in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match part.iter().position(|b| *b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &[][..]),
            };
            pairs.push((decode_component(name)?, decode_component(value)?));
        }
        Ok(Self { pairs })
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The value of a parameter that may appear at most once.
    pub(crate) fn single(&self, name: &str) -> Result<Option<String>, ApiError> {
        let mut values = self.all(name);
        let first = values.next().cloned();
        if values.next().is_some() {
            return Err(ApiError::bad_request(format!(
                "the {name} parameter is given more than once: send one operation per request"
            )));
        }
        Ok(first)
    }

    pub(crate) fn dataset(&self, default: &str, named: &str) -> Result<DatasetParams, ApiError> {
        let iris = |name: &str| {
            self.all(name)
                .map(|v| {
                    NamedNode::new(v.as_str()).map_err(|e| {
                        ApiError::bad_request(format!("{name}={v} is not an absolute IRI: {e}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(DatasetParams {
            default_graphs: iris(default)?,
            named_graphs: iris(named)?,
        })
    }

    /// With a direct POST the operation is the body; one in the URL too would be ambiguous.
    pub(crate) fn refuse_operation_in_url(&self) -> Result<(), ApiError> {
        if self.has("query") || self.has("update") {
            return Err(ApiError::bad_request(
                "the operation is in the body of a direct POST: remove query=/update= from the URL",
            ));
        }
        Ok(())
    }
}

fn decode_component(raw: &[u8]) -> Result<String, ApiError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                // Two hex digits exactly: `u8::from_str_radix` alone would also take a sign
                // (`%+1` as byte 1), which no other decoder does (found by fuzzing).
                let hex = raw
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "malformed percent-escape at byte {i} of a form or URL parameter"
                        ))
                    })?;
                bytes.push(hex);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("a form or URL parameter does not decode to UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        let params = Params::decode(b"query=ASK%20%7B%7D&a=b+c&empty=&flag").unwrap();
        assert_eq!(params.single("query").unwrap().as_deref(), Some("ASK {}"));
        assert_eq!(params.single("a").unwrap().as_deref(), Some("b c"));
        assert_eq!(params.single("empty").unwrap().as_deref(), Some(""));
        assert!(params.has("flag"));
        assert!(Params::decode(b"query=%ZZ").is_err());
        assert!(Params::decode(b"query=%FF").is_err());
        // Regression (fuzz target http_request): a sign is not a hex digit.
        assert!(Params::decode(b"query=%+1").is_err());
        assert!(Params::decode(b"query=%+f").is_err());
        assert!(Params::decode(b"query=a&query=b")
            .unwrap()
            .single("query")
            .is_err());
    }

    #[test]
    fn charset() {
        assert!(check_charset("application/sparql-query").is_ok());
        assert!(check_charset("application/sparql-query; charset=UTF-8").is_ok());
        assert!(check_charset("application/sparql-query; charset=\"utf-8\"").is_ok());
        assert!(check_charset("application/sparql-query; charset=UTF-16").is_err());
    }
}
