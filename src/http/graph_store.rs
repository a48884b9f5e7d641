//! SPARQL 1.1 Graph Store HTTP Protocol at `/store`
//! (<https://www.w3.org/TR/sparql11-http-rdf-update/>).
//!
//! A request names one graph, indirectly (`/store?graph=IRI`, an absolute IRI percent-decoded
//! once, or `/store?default`) or directly (`/store/PATH` is the graph `<base>store/PATH`, the path
//! kept as sent). `GET`/`HEAD` serve the graph in any RDF format of the `formats` table (Turtle
//! when the client does not say), streamed; `PUT` replaces it, `POST` adds to it, `DELETE` removes
//! it; `POST /store` itself creates a new graph under `<base>store/` and answers 201 with its IRI
//! in `Location`. Writes need a writer's token (`auth`), as SPARQL updates do; reads need none.
//!
//! `?default` is the store's **real default graph**, not the SPARQL endpoint's: SPARQL queries on
//! this server see the union of all graphs, but everything claimgraph loads lives in named graphs,
//! so the real default graph is empty unless written to here (and what is written to it then shows
//! in SPARQL queries like any other graph's triples).
//!
//! Invariants: a write body (every part of a multipart body) is parsed completely before the store
//! is touched, then written in one transaction, so a bad body (400 with `line:col`) changes nothing;
//! relative IRIs in a body resolve against the target graph's IRI (`<base>store` for the default
//! graph); a body holds the triples of one graph: quads in a named graph are refused, never moved.

use super::auth::{Caller, Need};
use super::error::ApiError;
use super::sparql::{negotiate_rdf, with_charset, Params};
use super::AppState;
use crate::error::Error;
use crate::formats::{essence, RdfSyntax, RDF_SYNTAXES};
use crate::store::GraphWrite;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use oxigraph::io::{RdfFormat, RdfParser, RdfSyntaxError};
use oxigraph::model::{GraphName, NamedNode, Triple};
use std::io::Write;

/// The path under which a graph is identified directly.
const DIRECT_PREFIX: &str = "/store/";

const MULTIPART: &str = "multipart/form-data";

/// The methods of `/store` and `/store/{*path}`; any other method gets 405 with `Allow`. A body
/// larger than `max_upload_bytes` (`--max-upload-bytes`) is refused with 413 as soon as it
/// grows past it (at once when its declared length does).
pub(super) fn methods(max_upload_bytes: usize) -> MethodRouter<AppState> {
    get(get_graph_handler)
        .head(head_graph_handler)
        .put(put)
        .post(post)
        .delete(delete)
        .fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "the graph store answers GET, HEAD, PUT, POST and DELETE",
            )
        })
        // Graph uploads are big; axum's default of 2 MiB would refuse ordinary dumps.
        .layer(DefaultBodyLimit::max(max_upload_bytes))
}

async fn get_graph_handler(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let graph = required(target(state.store.base(), &uri)?)?;
    serve_graph(&state, graph, &headers, false).await
}

async fn head_graph_handler(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let graph = required(target(state.store.base(), &uri)?)?;
    serve_graph(&state, graph, &headers, true).await
}

/// Serves a named graph as `GET /store?graph=…` does (for other routes that show graphs); with
/// `head`, the same status and headers without a body.
async fn serve_graph(
    state: &AppState,
    graph: GraphName,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (syntax, media_type) = negotiate_rdf(accept)?;
    send_graph(state, graph, syntax, media_type, head).await
}

/// One graph's triples, streamed in `syntax` (for HEAD, the headers only); 404 if it does not
/// exist. Also serves the named graphs' IRIs as linked data (`/graphs/…`).
pub(super) async fn send_graph(
    state: &AppState,
    graph: GraphName,
    syntax: &'static RdfSyntax,
    media_type: &'static str,
    head: bool,
) -> Result<Response, ApiError> {
    let body = if head {
        let store = state.store.clone();
        let name = graph.clone();
        let exists = tokio::task::spawn_blocking(move || store.contains_graph(name.as_ref()))
            .await
            .map_err(join_error)??;
        if !exists {
            return Err(not_found(&graph).into());
        }
        // A body of unknown length, so that no `Content-Length: 0` claims the graph is empty;
        // axum drops it for HEAD.
        Body::from_stream(futures_util::stream::empty::<Result<Bytes, std::io::Error>>())
    } else {
        let format = syntax.format;
        let store = state.store.clone();
        let stream = state
            .store
            .stream(move |store_ref, _cancel| {
                if !store_ref.contains_graph(graph.as_ref())? {
                    return Err(not_found(&graph));
                }
                Ok(move |writer: &mut dyn Write| {
                    store.dump_graph(format, graph.as_ref(), writer).map(drop)
                })
            })
            .await?;
        super::streamed_body(stream)
    };
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, with_charset(media_type))
        .header(header::VARY, "Accept")
        .body(body)
        .expect("static headers are valid"))
}

/// `PUT`: the body replaces the graph (201 if it did not exist, else 204).
async fn put(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = state.authorise(request.headers(), Need::Write, "a Graph Store PUT")?;
    let graph = required(target(state.store.base(), &uri)?)?;
    let parts = read_parts(request, state.limits.max_upload_bytes).await?;
    let created = write(&state, &caller, Mode::Replace(graph), parts).await?;
    Ok(written(created))
}

/// `POST`: the body is added to the graph (201 if it did not exist, else 204); to the store
/// itself, it becomes a new graph (201 with `Location`).
async fn post(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = state.authorise(request.headers(), Need::Write, "a Graph Store POST")?;
    let graph = target(state.store.base(), &uri)?;
    let parts = read_parts(request, state.limits.max_upload_bytes).await?;
    match graph {
        Some(graph) => {
            let created = write(&state, &caller, Mode::Merge(graph), parts).await?;
            Ok(written(created))
        }
        None => {
            let graph = NamedNode::new(format!("{}store/{}", state.store.base(), fresh_id()))
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            let location = HeaderValue::from_str(graph.as_str())
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            write(&state, &caller, Mode::Create(graph), parts).await?;
            Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
        }
    }
}

/// `DELETE`: removes the graph (204), or 404 if there is none; the default graph is emptied.
async fn delete(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = state.authorise(&headers, Need::Write, "a Graph Store DELETE")?;
    let graph = required(target(state.store.base(), &uri)?)?;
    let store = state.store.clone();
    let name = graph.clone();
    let existed = super::writing(&caller, "graph-store-delete", move || {
        store.remove_graph(name.as_ref())
    })
    .await??;
    if !existed {
        return Err(not_found(&graph).into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The graph a request names; `None` for the graph store itself (`/store` without parameters).
fn target(base: &str, uri: &Uri) -> Result<Option<GraphName>, ApiError> {
    let query = uri.query().unwrap_or("");
    if let Some(path) = uri.path().strip_prefix(DIRECT_PREFIX) {
        if !query.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{} names its graph by its path (direct identification) and takes no query \
                 parameters; to name a graph by IRI use /store?graph=IRI",
                uri.path()
            )));
        }
        let iri = format!("{base}store/{path}");
        return NamedNode::new(iri.as_str())
            .map(|graph| Some(graph.into()))
            .map_err(|e| ApiError::bad_request(format!("<{iri}> is not a valid graph IRI: {e}")));
    }
    let params = Params::decode(query.as_bytes())?;
    let mut graph = None;
    let mut default = false;
    for (name, value) in &params.pairs {
        match name.as_str() {
            "graph" if graph.is_some() => {
                return Err(ApiError::bad_request(
                    "the graph parameter is given more than once: a request names one graph",
                ))
            }
            "graph" => graph = Some(value),
            "default" if !value.is_empty() => {
                return Err(ApiError::bad_request(format!(
                    "the default parameter takes no value (got default={value}): send \
                     /store?default"
                )))
            }
            "default" => default = true,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other}: name the graph with graph=IRI or default"
                )))
            }
        }
    }
    match (graph, default) {
        (Some(_), true) => Err(ApiError::bad_request(
            "both graph and default given: name one graph, with graph=IRI or default",
        )),
        (Some(iri), false) => NamedNode::new(iri.as_str())
            .map(|graph| Some(graph.into()))
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "graph={iri} is not an absolute IRI ({e}); the graph store does not resolve \
                     relative graph IRIs"
                ))
            }),
        (None, true) => Ok(Some(GraphName::DefaultGraph)),
        (None, false) => Ok(None),
    }
}

/// Only `POST` may address the store itself.
fn required(graph: Option<GraphName>) -> Result<GraphName, ApiError> {
    graph.ok_or_else(|| {
        ApiError::bad_request(
            "no graph named: use /store?graph=IRI, /store?default or /store/PATH (only POST may \
             address /store itself, to create a new graph)",
        )
    })
}

/// One RDF document of a request body: the whole body, or one part of a multipart body.
struct Part {
    syntax: &'static RdfSyntax,
    bytes: Bytes,
    /// How errors name it: `request body` or `part "NAME"`.
    label: String,
}

/// Reads the body (refusing one over the limit before reading it, when its length is declared)
/// and identifies the format of each document in it.
async fn read_parts(request: Request, max: usize) -> Result<Vec<Part>, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(too_large(max));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .ok_or_else(|| unsupported("no Content-Type"))?;
    if essence(&content_type) != MULTIPART {
        let syntax = syntax_of(&content_type, "the request body")?;
        let bytes = Bytes::from_request(request, &())
            .await
            .map_err(|rejection| body_error(rejection.status(), &rejection, max))?;
        return Ok(vec![Part {
            syntax,
            bytes,
            label: "request body".into(),
        }]);
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| body_error(rejection.status(), &rejection, max))?;
    let mut parts = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| body_error(e.status(), &e, max))?
    {
        let name = field
            .file_name()
            .or(field.name())
            .map_or_else(|| format!("#{}", parts.len() + 1), str::to_owned);
        let label = format!("part {name:?}");
        let syntax = match field.content_type() {
            // Browsers send files they cannot type as application/octet-stream.
            Some(part_type) if essence(part_type) != "application/octet-stream" => {
                syntax_of(part_type, &label)?
            }
            _ => field
                .file_name()
                .and_then(|file| file.rsplit_once('.'))
                .and_then(|(_, extension)| RdfSyntax::by_extension(extension))
                .ok_or_else(|| {
                    unsupported(&format!(
                        "{label} has neither an RDF Content-Type nor a file name with an RDF \
                         extension ({})",
                        extensions()
                    ))
                })?,
        };
        let bytes = field
            .bytes()
            .await
            .map_err(|e| body_error(e.status(), &e, max))?;
        parts.push(Part {
            syntax,
            bytes,
            label,
        });
    }
    if parts.is_empty() {
        return Err(ApiError::bad_request("the multipart body has no parts"));
    }
    Ok(parts)
}

/// The RDF format a `Content-Type` names; 415 naming the supported ones otherwise.
fn syntax_of(content_type: &str, what: &str) -> Result<&'static RdfSyntax, ApiError> {
    for param in content_type.split(';').skip(1) {
        if let Some((name, value)) = param.split_once('=') {
            let value = value.trim().trim_matches('"');
            if name.trim().eq_ignore_ascii_case("charset") && !value.eq_ignore_ascii_case("utf-8") {
                return Err(unsupported(&format!(
                    "{what} is in charset {value}, but RDF is read as UTF-8"
                )));
            }
        }
    }
    RdfSyntax::by_media_type(content_type).ok_or_else(|| {
        unsupported(&format!(
            "{what} has Content-Type {}, which is not an RDF format",
            essence(content_type)
        ))
    })
}

/// What a write does to its graph.
enum Mode {
    /// `PUT`: the body replaces what the graph held.
    Replace(GraphName),
    /// `POST` to a graph: the body is added.
    Merge(GraphName),
    /// `POST` to the store: a new graph.
    Create(NamedNode),
}

/// Parses every part, then writes the triples in one transaction; returns whether the graph was
/// created. Both run on a blocking thread (parsing a large body is long CPU work).
async fn write(
    state: &AppState,
    caller: &Caller,
    mode: Mode,
    parts: Vec<Part>,
) -> Result<bool, ApiError> {
    let store = state.store.clone();
    let operation = match &mode {
        Mode::Replace(_) => "graph-store-put",
        Mode::Merge(_) | Mode::Create(_) => "graph-store-post",
    };
    let base_iri = match &mode {
        Mode::Replace(GraphName::NamedNode(node))
        | Mode::Merge(GraphName::NamedNode(node))
        | Mode::Create(node) => node.as_str().to_owned(),
        // The default graph has no IRI of its own: the graph store's stands in.
        _ => format!("{}store", store.base()),
    };
    let outcome = super::writing(caller, operation, move || -> crate::Result<bool> {
        let mut triples = Vec::new();
        for part in &parts {
            parse_part(part, &base_iri, &mut triples)?;
        }
        match mode {
            Mode::Replace(graph) => {
                store.put_triples(graph.as_ref(), &triples, GraphWrite::Replace)
            }
            Mode::Merge(graph) => store.put_triples(graph.as_ref(), &triples, GraphWrite::Add),
            Mode::Create(graph) => store.create_graph(&graph, &triples).map(|()| true),
        }
    })
    .await?;
    Ok(outcome?)
}

/// Appends the triples of one part to `triples`; relative IRIs resolve against `base_iri` and
/// blank nodes are renamed apart (two parts, or a POST and the graph it adds to, never share one).
fn parse_part(part: &Part, base_iri: &str, triples: &mut Vec<Triple>) -> crate::Result<()> {
    if part.syntax.format == RdfFormat::RdfXml {
        crate::entities::check_rdfxml(&part.bytes)
            .map_err(|message| Error::Invalid(format!("{}: {message}", part.label)))?;
    }
    let parser = RdfParser::from_format(part.syntax.format)
        .with_base_iri(base_iri)
        .map_err(|e| Error::Invalid(format!("invalid base IRI {base_iri}: {e}")))?
        .rename_blank_nodes();
    let quads = parser
        .for_slice(&part.bytes)
        .with_document_loader(crate::entities::refuse_remote_context);
    for quad in quads {
        let quad = quad.map_err(|e| parse_error(&part.label, e))?;
        if !quad.graph_name.is_default_graph() {
            return Err(Error::Invalid(format!(
                "{} puts triples in the named graph {}, but a graph store request writes one \
                 graph: send triples (or quads in the default graph) only",
                part.label, quad.graph_name
            )));
        }
        triples.push(quad.into());
    }
    Ok(())
}

/// A parse error as `LABEL:line:col: message` (1-based), so the client sees where the body is wrong.
fn parse_error(label: &str, error: RdfSyntaxError) -> Error {
    let (line, column) = error
        .location()
        .map_or((0, 0), |l| (l.start.line + 1, l.start.column + 1));
    // The parsers repeat the position in their message; the prefix already says it.
    let message = error.to_string();
    let message = match message.split_once(": ") {
        Some((head, rest)) if head.starts_with("Parser error") => rest.to_owned(),
        _ => message,
    };
    Error::Parse {
        path: label.into(),
        line,
        column,
        message,
    }
}

fn written(created: bool) -> Response {
    if created {
        StatusCode::CREATED.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// A name for a graph created by `POST /store`: 128 bits from the standard library's randomly
/// keyed hasher (there is no RNG crate here); `create_graph` refuses one that exists.
fn fresh_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (0..2)
        .map(|round| {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(nanos);
            hasher.write_u8(round);
            format!("{:016x}", hasher.finish())
        })
        .collect()
}

fn not_found(graph: &GraphName) -> Error {
    Error::NotFound(format!("the graph store has no graph {graph}"))
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body is larger than the graph store's limit of {max} bytes \
             (--max-upload-bytes); load larger files with `claimgraph load`"
        ),
    )
}

/// A body that could not be read: over the limit (413), or broken (400).
fn body_error(
    status: StatusCode,
    error: &(dyn std::error::Error + 'static),
    max: usize,
) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        super::limits::body_read_error(status, error)
    }
}

fn unsupported(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "{what}: send RDF as one of {}, or several documents as {MULTIPART}",
            RDF_SYNTAXES
                .iter()
                .map(|s| s.media_type())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn extensions() -> String {
    RDF_SYNTAXES
        .iter()
        .flat_map(|s| s.extensions.iter().map(|e| format!(".{e}")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn join_error(error: tokio::task::JoinError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}
