//! The claims API and linked data: `GET /claims`, `GET /claims/{id}`, the archived texts, the
//! vocabulary at `/ns`, and every other IRI under the base.
//!
//! Dereferencing policy (slash IRIs, 200): every thing the project mints has a slash IRI
//! (`<base>claims/KEY`), and its parts hash IRIs of it (`…#appearance-1`), so a client that
//! dereferences a part gets the whole description it belongs to. A GET on the IRI answers 200
//! with the representation content negotiation picks (HTML for browsers, Turtle for `*/*`,
//! any RDF format, JSON for claims), `Vary: Accept`, and `Link: rel="alternate"` headers naming
//! the others; `?format=` overrides `Accept` for links and browsers. We do not answer 303: the
//! description is served at the IRI itself, the practice of schema.org and Wikidata's entity
//! pages, which saves clients a round trip. Unknown IRIs are 404.

use super::html::{self, Alternate, ResourcePage};
use super::negotiate::{self, Offer};
use super::{blocking, graph_store, sparql, AppState};
use crate::catalog::{self, ClaimFilter, ClaimPage, ClaimSummary, FilterValues};
use crate::error::Error;
use crate::formats::{RdfSyntax, RDF_SYNTAXES};
use crate::http::error::{ApiError, ErrorBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::{NamedNode, Quad};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};

/// The filters and paging of `GET /claims`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimsParams {
    /// A status: Alleged, Reported, Stated, Quoted, Denied, Adjudicated, Settled, PublicRecord
    /// (case-insensitive), or the status concept's IRI.
    status: Option<String>,
    /// A document the claim appears in or rests on: its key (`dailymail-2024-04-02-…`) or IRI.
    source: Option<String>,
    /// What the claim is about or mentions in its content: an entity key or any IRI.
    entity: Option<String>,
    /// Who asserts the claim: an entity key or IRI.
    claimant: Option<String>,
    /// The outlet that published a document the claim appears in: an entity key or IRI.
    outlet: Option<String>,
    /// A review's verdict (`False`, `Misleading`…; any case).
    rating: Option<String>,
    /// A fact-checker (an organisation whose ClaimReview was imported): claims it rated, or
    /// linked to claims it rated. Its key (`imported-…`) or IRI.
    checker: Option<String>,
    /// `true`: only claims another fact-checker rated (an imported ClaimReview of the claim or
    /// of a claim linked to it).
    rated_elsewhere: Option<bool>,
    /// Documents the claim appears in published (or filed) on or after this date (YYYY-MM-DD).
    from: Option<String>,
    /// … on or before this date (YYYY-MM-DD).
    to: Option<String>,
    /// Ranked full-text search of the claim's text, quotes, claimant, entities, outlets and
    /// verdicts: words (all must match; case and accents aside), `"exact phrases"`, `prefix*`,
    /// `-excluded`. With words, claims come best first; without, in IRI order.
    q: Option<String>,
    /// The cursor from the previous page's `next` link.
    after: Option<String>,
    /// Claims per page, 1 to 500 (default 50).
    limit: Option<usize>,
    /// Facets to count over every matching claim, comma-separated: status, claimant, source,
    /// outlet, entity, rating, checker.
    facets: Option<String>,
    /// Values listed per facet, 1 to 100 (default 10).
    facet_limit: Option<usize>,
    /// `json` or `html`, overriding `Accept`.
    format: Option<String>,
}

/// A page of claims.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimList {
    pub claims: Vec<ClaimSummary>,
    /// The URL of the next page (same filters), absent on the last page.
    pub next: Option<String>,
    /// How many claims match in all.
    pub total: usize,
    /// The counts asked for with `facets=`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub facets: Vec<catalog::Facet>,
}

/// `?format=` on a resource.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `html`, `json` (claims only) or an RDF format name (`turtle`, `ntriples`, `nquads`, `trig`,
    /// `jsonld`, `rdfxml`, `n3`), overriding `Accept`.
    format: Option<String>,
}

/// What a resource is sent as.
#[derive(Debug, Clone, Copy)]
enum Representation {
    Html,
    Json,
    Rdf(&'static RdfSyntax, &'static str),
}

const JSON: &[&str] = &["application/json"];

/// Picks the representation from `?format=` or else `Accept`. RDF (Turtle first) is the default,
/// so `*/*` gets Turtle; browsers name `text/html` and get HTML.
fn representation(
    headers: &HeaderMap,
    format: Option<&str>,
    json: bool,
) -> Result<Representation, ApiError> {
    #[derive(Clone, Copy)]
    enum Kind {
        Html,
        Json,
        Rdf(&'static RdfSyntax),
    }
    let mut offers: Vec<Offer<Kind>> = RDF_SYNTAXES
        .iter()
        .map(|syntax| negotiate::rdf_offer(syntax, Kind::Rdf(syntax)))
        .collect();
    offers.push(Offer::new("html", negotiate::HTML, Kind::Html));
    if json {
        offers.push(Offer::new("json", JSON, Kind::Json));
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    Ok(match negotiate::pick(format, accept, &offers)? {
        (Kind::Html, _) => Representation::Html,
        (Kind::Json, _) => Representation::Json,
        (Kind::Rdf(syntax), media_type) => Representation::Rdf(syntax, media_type),
    })
}

/// The `?format=` links to every representation of the resource at `path`.
fn alternates(path: &str, json: bool) -> Vec<Alternate> {
    let mut links = Vec::new();
    if json {
        links.push(Alternate {
            label: "JSON",
            href: format!("{path}?format=json"),
        });
    }
    for (label, name) in [
        ("Turtle", "turtle"),
        ("JSON-LD", "jsonld"),
        ("N-Triples", "ntriples"),
        ("N-Quads", "nquads"),
        ("RDF/XML", "rdfxml"),
    ] {
        links.push(Alternate {
            label,
            href: format!("{path}?format={name}"),
        });
    }
    links
}

/// `Link` header naming the other representations, and `Vary: Accept`.
fn negotiated(mut response: Response, path: &str, json: bool) -> Response {
    let mut links: Vec<String> = vec![format!(
        "<{path}?format=html>; rel=\"alternate\"; type=\"text/html\""
    )];
    if json {
        links.push(format!(
            "<{path}?format=json>; rel=\"alternate\"; type=\"application/json\""
        ));
    }
    for syntax in RDF_SYNTAXES {
        links.push(format!(
            "<{path}?format={}>; rel=\"alternate\"; type=\"{}\"",
            syntax.name,
            syntax.media_type()
        ));
    }
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert(header::LINK, value);
    }
    response
}

fn html_response(markup: maud::Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// Serialises a description: graphs kept in dataset formats, triples (each once) otherwise.
fn rdf_response(
    quads: &[Quad],
    syntax: &RdfSyntax,
    media_type: &str,
) -> Result<Response, ApiError> {
    let mut serializer = RdfSerializer::from_format(syntax.format);
    if matches!(
        syntax.format,
        RdfFormat::Turtle | RdfFormat::TriG | RdfFormat::N3
    ) {
        let names = crate::claims::SHEET_PREFIXES.iter().chain(&["oa"]);
        for (prefix, namespace) in names.map(|name| (name, crate::vocab::namespace(name))) {
            let namespace = namespace.expect("every prefix named is in vocab::PREFIXES");
            serializer = serializer
                .with_prefix(*prefix, namespace)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        }
    }
    let mut writer = serializer.for_writer(Vec::new());
    let io = |e: std::io::Error| ApiError::from(Error::io("serialising", e));
    if syntax.format.supports_datasets() {
        for quad in quads {
            writer.serialize_quad(quad).map_err(io)?;
        }
    } else {
        let mut seen = HashSet::new();
        for quad in quads {
            let triple: oxigraph::model::TripleRef<'_> = quad.as_ref().into();
            if seen.insert(triple) {
                writer.serialize_triple(triple).map_err(io)?;
            }
        }
    }
    let body = writer.finish().map_err(io)?;
    Ok((
        [(header::CONTENT_TYPE, sparql::with_charset(media_type))],
        body,
    )
        .into_response())
}

/// `GET /claims`: the claims, filtered, in a stable order, a page at a time.
#[utoipa::path(
    get,
    path = "/claims",
    params(ClaimsParams),
    responses(
        (status = 200, description = "A page of claims (JSON; HTML for browsers)", body = ClaimList),
        (status = 400, description = "A malformed filter", body = ErrorBody),
    ),
    tag = "claims"
)]
pub async fn list_claims(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    params: Result<Query<ClaimsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let base = state.store.base().to_owned();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let offers = [
        Offer::new("json", JSON, false),
        Offer::new("html", negotiate::HTML, true),
    ];
    let (html, _) = negotiate::pick(params.format.as_deref(), accept, &offers)?;
    // The search form sends its empty fields too (`status=&from=`): a page for people is sent to
    // the same search without them, so the URL it keeps and shares says only what was asked.
    let raw = uri.query().unwrap_or("");
    if html && form_urlencoded::parse(raw.as_bytes()).any(|(_, value)| value.is_empty()) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if !value.is_empty() {
                query.append_pair(&name, &value);
            }
        }
        let query = query.finish();
        let target = if query.is_empty() {
            "/claims".to_owned()
        } else {
            format!("/claims?{query}")
        };
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response());
    }
    let filter = ClaimFilter::parse(
        &base,
        &FilterValues {
            status: params.status.as_deref(),
            source: params.source.as_deref(),
            outlet: params.outlet.as_deref(),
            entity: params.entity.as_deref(),
            claimant: params.claimant.as_deref(),
            rating: params.rating.as_deref(),
            checker: params.checker.as_deref(),
            rated_elsewhere: params.rated_elsewhere == Some(true),
            from: params.from.as_deref(),
            to: params.to.as_deref(),
            search: params.q.as_deref(),
            after: params.after.as_deref(),
            limit: params.limit,
            // A page for people always shows the counts it can narrow by. Documents (one value
            // per article: the costliest to count) are counted once the search names one.
            facets: match (html, params.facets.as_deref()) {
                (true, None) if params.source.is_some() => {
                    Some("status,claimant,outlet,source,entity,rating,checker")
                }
                (true, None) => Some("status,claimant,outlet,entity,rating,checker"),
                (_, facets) => facets,
            },
            facet_limit: params.facet_limit,
        },
    )?;
    let store = state.store.clone();
    let page: ClaimPage =
        blocking(&state, move || Ok(catalog::list_claims(&store, &filter)?)).await?;
    let filters = filter_query(&params);
    let next = page.next_after.as_ref().map(|after| {
        let mut query = form_urlencoded::Serializer::new(filters.clone());
        if let Some(format) = &params.format {
            query.append_pair("format", format);
        }
        query.append_pair("after", after);
        format!("/claims?{}", query.finish())
    });
    let response = if html {
        html_response(html::claim_list(&base, &page, next.as_deref(), &filters))
    } else {
        axum::Json(ClaimList {
            claims: page.claims,
            next,
            total: page.total,
            facets: page.facets,
        })
        .into_response()
    };
    let mut response = response;
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The filters of a `/claims` request as a query string, without the cursor and the format.
fn filter_query(params: &ClaimsParams) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("status", &params.status),
        ("source", &params.source),
        ("outlet", &params.outlet),
        ("entity", &params.entity),
        ("claimant", &params.claimant),
        ("rating", &params.rating),
        ("checker", &params.checker),
        (
            "rated_elsewhere",
            &params.rated_elsewhere.map(|r| r.to_string()),
        ),
        ("from", &params.from),
        ("to", &params.to),
        ("q", &params.q),
        ("facets", &params.facets),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            query.append_pair(name, value);
        }
    }
    for (name, value) in [("limit", params.limit), ("facet_limit", params.facet_limit)] {
        if let Some(value) = value {
            query.append_pair(name, &value.to_string());
        }
    }
    query.finish()
}

/// `GET /claims/{id}`: one claim, as a page, JSON or RDF (its description and, in its own named
/// graph, its content).
#[utoipa::path(
    get,
    path = "/claims/{id}",
    params(("id" = String, Path, description = "The claim's key"), FormatParam),
    responses(
        (status = 200, description = "The claim (JSON; also HTML and every RDF format by content negotiation)", body = catalog::ClaimDetail),
        (status = 404, description = "No such claim", body = ErrorBody),
        (status = 406, description = "No acceptable representation", body = ErrorBody),
    ),
    tag = "claims"
)]
pub async fn get_claim(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    format: Result<Query<FormatParam>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(format) = format.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let representation = representation(&headers, format.format.as_deref(), true)?;
    let path = format!("/claims/{id}");
    let store = state.store.clone();
    let data_dirs = state.data_dirs.clone();
    let response = blocking(&state, move || {
        let iri = catalog::claim_iri(&store, &id)?;
        let detail = catalog::claim(&store, &iri)?;
        Ok(match representation {
            Representation::Json => axum::Json(detail).into_response(),
            Representation::Rdf(syntax, media_type) => {
                rdf_response(&catalog::describe(&store, &iri)?, syntax, media_type)?
            }
            Representation::Html => {
                let contexts = catalog::quote_contexts(&detail, &data_dirs);
                let base = store.base().to_owned();
                let provenance = crate::provenance::claim_provenance(&store, &id)?;
                let picture = super::provenance::svg::render(&provenance);
                html_response(html::claim(
                    &html::ClaimView {
                        base: &base,
                        id: &id,
                        claim: &detail,
                        contexts: &contexts,
                        versions: &catalog::versions(&detail),
                        provenance: &provenance,
                        picture: &picture,
                    },
                    &alternates(&format!("/claims/{id}"), true),
                ))
            }
        })
    })
    .await?;
    Ok(negotiated(response, &path, true))
}

/// `GET /sources/{id}/text`: the archived text of a document, byte for byte as hashed at ingest.
pub async fn source_text(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let data_dirs = state.data_dirs.clone();
    let text = blocking(&state, move || {
        let source = catalog::minted(&store, "sources", &id)?;
        Ok(catalog::archived_text(&store, &source, &data_dirs)?)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `GET /`: the home page.
pub async fn home(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let (claims, quads) = blocking(&state, move || {
        let claims = catalog::count_claims(&store)?;
        Ok((claims, store.len()?))
    })
    .await?;
    Ok(html_response(html::home(state.store.base(), claims, quads)))
}

/// `GET /ns`: the cg: vocabulary (OWL + SKOS), as a page or in any RDF format.
pub async fn vocabulary(
    State(state): State<AppState>,
    headers: HeaderMap,
    format: Result<Query<FormatParam>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(format) = format.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let representation = representation(&headers, format.format.as_deref(), false)?;
    let quads = blocking(&state, || Ok(catalog::vocabulary()?)).await?;
    let response = match representation {
        Representation::Rdf(syntax, media_type) if syntax.format == RdfFormat::Turtle => (
            [(header::CONTENT_TYPE, sparql::with_charset(media_type))],
            catalog::ONTOLOGY,
        )
            .into_response(),
        Representation::Rdf(syntax, media_type) => rdf_response(&quads, syntax, media_type)?,
        Representation::Html | Representation::Json => {
            let namespace = crate::vocab::CG;
            let no_labels = |_: &str| None;
            html_response(html::resource(
                &ResourcePage {
                    base: namespace,
                    iri: namespace,
                    title: "The claimgraph vocabulary (cg:)",
                    quads: &quads,
                    labels: &no_labels,
                    mentions: &[],
                    text_href: None,
                },
                &alternates("/ns", false),
            ))
        }
    };
    Ok(negotiated(response, "/ns", false))
}

/// Every other GET: the IRI `<base><path>` described, a named graph's content, or 404.
pub async fn resource(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    format: Result<Query<FormatParam>, QueryRejection>,
) -> Result<Response, ApiError> {
    let path = uri.path().to_owned();
    let iri_text = format!("{}{}", state.store.base(), path.trim_start_matches('/'));
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("nothing is known about <{iri_text}> on this server"),
        )
    };
    let Ok(iri) = NamedNode::new(iri_text.clone()) else {
        return Err(not_found());
    };
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on a linked-data resource: use GET or HEAD"),
        )
        .with_header(header::ALLOW, "GET, HEAD"));
    }
    let Query(format) = format.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let representation = representation(&headers, format.format.as_deref(), false)?;
    let store = state.store.clone();
    let lookup_iri = iri.clone();
    let (quads, is_graph) = blocking(&state, move || {
        let quads = catalog::describe(&store, &lookup_iri)?;
        let is_graph = quads.is_empty() && store.contains_graph(lookup_iri.as_ref().into())?;
        Ok((quads, is_graph))
    })
    .await?;
    if is_graph {
        return graph(&state, iri, representation, &path).await;
    }
    if quads.is_empty() {
        return Err(not_found());
    }
    let response = match representation {
        Representation::Rdf(syntax, media_type) => rdf_response(&quads, syntax, media_type)?,
        Representation::Html | Representation::Json => {
            let store = state.store.clone();
            let page_path = path.clone();
            blocking(&state, move || {
                let base = store.base().to_owned();
                let mentions = catalog::mentions(&store, &iri)?;
                let title = catalog::link(&store, iri.as_str())?
                    .label
                    .unwrap_or_else(|| iri.as_str().to_owned());
                let has_text = catalog::key_of(&store, "sources", iri.as_str()).is_some()
                    && quads
                        .iter()
                        .any(|q| q.predicate.as_str().ends_with("#archivedText"));
                let labels =
                    |linked: &str| catalog::link(&store, linked).ok().and_then(|l| l.label);
                Ok(html_response(html::resource(
                    &ResourcePage {
                        base: &base,
                        iri: iri.as_str(),
                        title: &title,
                        quads: &quads,
                        labels: &labels,
                        mentions: &mentions,
                        text_href: has_text.then(|| format!("{page_path}/text")),
                    },
                    &alternates(&page_path, false),
                )))
            })
            .await?
        }
    };
    Ok(negotiated(response, &path, false))
}

/// A named graph: its triples streamed in the negotiated RDF format, or a page saying what it is.
async fn graph(
    state: &AppState,
    graph: NamedNode,
    representation: Representation,
    path: &str,
) -> Result<Response, ApiError> {
    let response = match representation {
        Representation::Rdf(syntax, media_type) => {
            graph_store::send_graph(state, graph.into(), syntax, media_type, false).await?
        }
        Representation::Html | Representation::Json => {
            let store = state.store.clone();
            let iri = graph.as_str().to_owned();
            let count = blocking(state, move || {
                // An error (a cancelled read) is the answer's, never counted as a quad.
                Ok(store
                    .quads(Some(&graph))
                    .try_fold(0usize, |count, quad| quad.map(|_| count + 1))?)
            })
            .await?;
            html_response(html::graph(&iri, count, &alternates(path, false)))
        }
    };
    Ok(negotiated(response, path, false))
}
