//! Exports over HTTP: `GET /export` (whole-store dumps), `GET /export/claimreview` (the
//! schema.org ClaimReview feed), `GET /export/nanopubs` (one nanopublication per claim),
//! `GET /.well-known/void` (the VoID + DCAT description), and one claim's reviews and
//! nanopublication (`/claims/{id}/claimreview`, `/claims/{id}/nanopub`).
//!
//! Invariant: handlers only decode parameters, negotiate the format and the compression, and hand
//! the export to `crate::export` on the blocking thread of `ClaimStore::stream`; the body streams
//! (a failure after the first byte aborts it, and a client that goes away stops the export).
//! One claim's files are small: they are made whole on a lookup thread and sent with a length.

use super::error::{ApiError, ErrorBody};
use super::sparql::with_charset;
use super::{negotiate, AppState};
use crate::export::{self, claimreview::ClaimReviewFeed, Export};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use oxigraph::model::NamedNode;
use std::sync::Arc;

/// The decoded query string (unknown parameters are ignored, repeated ones refused).
struct Params(Vec<(String, String)>);

impl Params {
    fn decode(raw: Option<String>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn single(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_request(format!(
                "the {name} parameter is given more than once"
            )));
        }
        Ok(first.map(String::as_str))
    }
}

/// `GET /export?format=nquads|trig|turtle|jsonld[&compress=gzip]`: the whole store.
pub async fn dump(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::decode(raw);
    let offers: Vec<_> = export::dump_syntaxes()
        .into_iter()
        .map(|syntax| negotiate::rdf_offer(syntax, syntax))
        .collect();
    let (syntax, media_type) =
        negotiate::pick(params.single("format")?, accept(&headers), &offers)?;
    respond(
        &state,
        Export::Dump(syntax),
        media_type,
        compression(&params, &headers)?,
        true,
    )
    .await
}

/// `GET /export/claimreview`: every review as a schema.org ClaimReview, in JSON-LD.
#[utoipa::path(
    get,
    path = "/export/claimreview",
    tag = "export",
    params(
        ("compress" = Option<String>, Query, description = "`gzip` to compress the feed"),
    ),
    responses(
        (status = 200, description = "One ClaimReview per review in the store (streamed)",
         body = ClaimReviewFeed, content_type = "application/ld+json"),
        (status = 400, description = "An unknown compress value", body = ErrorBody),
    )
)]
pub async fn claimreview(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::decode(raw);
    let export = Export::ClaimReview;
    respond(
        &state,
        export,
        export.media_type(),
        compression(&params, &headers)?,
        false,
    )
    .await
}

/// `GET /export/nanopubs?format=trig|nquads`: one nanopublication per claim.
pub async fn nanopubs(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::decode(raw);
    let (syntax, media_type) = nanopub_syntax(&params, &headers)?;
    respond(
        &state,
        Export::Nanopubs(syntax),
        media_type,
        compression(&params, &headers)?,
        true,
    )
    .await
}

/// The syntax a nanopublication is asked in (`?format=`, else `Accept`), among those that hold
/// named graphs.
fn nanopub_syntax(
    params: &Params,
    headers: &HeaderMap,
) -> Result<(&'static crate::formats::RdfSyntax, &'static str), ApiError> {
    let offers: Vec<_> = export::NANOPUB_FORMATS
        .iter()
        .filter_map(|name| crate::formats::RdfSyntax::by_name(name))
        .map(|syntax| negotiate::rdf_offer(syntax, syntax))
        .collect();
    negotiate::pick(params.single("format")?, accept(headers), &offers)
}

/// `GET /.well-known/void`: the dataset description, in the RDF syntax `Accept` prefers
/// (Turtle by default).
pub async fn void(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::decode(raw);
    let (syntax, media_type) = negotiate::pick(
        params.single("format")?,
        accept(&headers),
        &negotiate::rdf_offers(),
    )?;
    respond(
        &state,
        Export::Void(syntax),
        media_type,
        compression(&params, &headers)?,
        false,
    )
    .await
}

/// How the body is compressed: `gzip` when asked with `?compress=gzip` (a file to keep
/// compressed) or offered by `Accept-Encoding` (decoded by the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    /// `?compress=gzip`.
    Requested,
    /// `Accept-Encoding: gzip`.
    Negotiated,
}

fn compression(params: &Params, headers: &HeaderMap) -> Result<Compression, ApiError> {
    match params.single("compress")? {
        Some(value) if value.eq_ignore_ascii_case("gzip") => return Ok(Compression::Requested),
        Some(value) => {
            return Err(ApiError::bad_request(format!(
                "compress={value} is not offered: use compress=gzip, or leave it out"
            )))
        }
        None => {}
    }
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name == "gzip" || name == "x-gzip") && !refused
        });
    Ok(if accepts_gzip {
        Compression::Negotiated
    } else {
        Compression::None
    })
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

/// Streams the export with its headers.
async fn respond(
    state: &AppState,
    export: Export,
    media_type: &'static str,
    compression: Compression,
    attachment: bool,
) -> Result<Response, ApiError> {
    let gzip = compression != Compression::None;
    let store = Arc::clone(&state.store);
    let stream = state
        .store
        .stream(move |_, cancel| {
            Ok(move |out: &mut dyn std::io::Write| export.write(&store, &cancel, gzip, out))
        })
        .await?;
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, with_charset(media_type))
        .header(header::VARY, "Accept, Accept-Encoding");
    if gzip {
        response = response.header(header::CONTENT_ENCODING, "gzip");
    }
    if attachment {
        // A file asked for compressed is kept compressed by clients that do not decode
        // `Content-Encoding` (curl without --compressed, wget): name it so.
        let suffix = if compression == Compression::Requested {
            ".gz"
        } else {
            ""
        };
        let disposition = format!("attachment; filename=\"{}{suffix}\"", export.file_name());
        response = response.header(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).expect("file names are ASCII"),
        );
    }
    Ok(response
        .body(super::streamed_body(stream))
        .expect("the headers are valid"))
}

/// `GET /claims/{id}/claimreview`: the reviews of one claim, as a ClaimReview feed (JSON-LD) like
/// `/export/claimreview`'s (an empty `@graph` when it is not reviewed yet).
#[utoipa::path(get, path = "/claims/{id}/claimreview", tag = "export",
    params(("id" = String, Path, description = "The claim's key")),
    responses(
        (status = 200, description = "One ClaimReview per review of the claim",
         body = ClaimReviewFeed, content_type = "application/ld+json"),
        (status = 404, description = "No such claim", body = ErrorBody),
    ))]
pub async fn claim_reviews(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let file = format!("{id}-claimreview.jsonld");
    let body = super::blocking(&state, move || {
        let iri = crate::catalog::claim_iri(&store, &id)?;
        let reviews: Vec<NamedNode> = crate::catalog::claim(&store, &iri)?
            .reviews
            .into_iter()
            .map(|review| NamedNode::new_unchecked(review.iri))
            .collect();
        let mut out = Vec::new();
        export::claimreview::write_reviews(&store, &reviews, &mut out)?;
        Ok(out)
    })
    .await?;
    Ok(download(Export::ClaimReview.media_type(), &file, body))
}

/// `GET /claims/{id}/nanopub?format=trig|nquads`: the claim's nanopublication, as in
/// `/export/nanopubs`.
#[utoipa::path(get, path = "/claims/{id}/nanopub", tag = "export",
    params(
        ("id" = String, Path, description = "The claim's key"),
        ("format" = Option<String>, Query, description = "`trig` (default) or `nquads`"),
    ),
    responses(
        (status = 200, description = "The nanopublication: head, assertion, provenance and publication info graphs", content_type = "application/trig"),
        (status = 404, description = "No such claim, or it has no content to publish", body = ErrorBody),
    ))]
pub async fn claim_nanopub(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::decode(raw);
    let (syntax, media_type) = nanopub_syntax(&params, &headers)?;
    let store = state.store.clone();
    let file = format!("{id}-nanopub.{}", syntax.extensions[0]);
    let body = super::blocking(&state, move || {
        let iri = crate::catalog::claim_iri(&store, &id)?;
        let mut out = Vec::new();
        export::nanopub::write_claim(&store, syntax, &iri, &mut out)?;
        Ok(out)
    })
    .await?;
    Ok(download(media_type, &file, body))
}

/// A whole answer, named as a file for browsers that save it.
fn download(media_type: &str, file: &str, body: Vec<u8>) -> Response {
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, with_charset(media_type)),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}
