//! `GET /claims/{id}/provenance` (JSON, SVG, Turtle and the other RDF formats) and
//! `GET /provenance?iri=…` / `?s=…&p=…&o=…` (JSON).
//!
//! Invariant: handlers decode (terms parsed with oxigraph's N-Triples parser, so nothing the
//! client sends reaches a query as text), make one call into `crate::provenance` on a blocking
//! thread, and encode. The SVG is drawn here, with maud (which escapes every text and
//! attribute); no script, no external resource.

use super::error::{ApiError, ErrorBody};
use super::negotiate::{self, Offer};
use super::AppState;
use crate::formats::{RdfSyntax, RDF_SYNTAXES};
use crate::provenance::{self, ClaimProvenance, ProvenanceLookup};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use oxigraph::model::{NamedNode, Term};
use std::str::FromStr;

const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

/// The representation `?format=` names.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json`, `svg`, or an RDF format (`turtle`, `ntriples`, `nquads`, `trig`, `rdfxml`,
    /// `jsonld`, `n3`); overrides `Accept`.
    format: Option<String>,
}

/// The representations of a claim's provenance.
enum Representation {
    Json,
    Svg,
    Rdf(&'static RdfSyntax, &'static str),
}

/// The provenance of a claim: the chain from every appearance to the primary source.
#[utoipa::path(
    get,
    path = "/claims/{id}/provenance",
    tag = "provenance",
    params(
        ("id" = String, Path, description = "The claim's key, e.g. `netflix-inbox-api`"),
        FormatParam,
    ),
    responses(
        (status = 200, description = "The claim and, for every appearance, the chain of documents \
            from the document in hand to the primary source, with relations, the quote and its \
            code-point offsets, statuses, the hop count, or where the chain breaks off. Also as an \
            SVG picture (`image/svg+xml`) and as RDF (`text/turtle` and the other RDF formats).",
            content(
                (ClaimProvenance = "application/json"),
                (String = "image/svg+xml"),
                (String = "text/turtle"),
            )),
        (status = 400, description = "Malformed claim key or unknown `format`", body = ErrorBody),
        (status = 404, description = "No such claim", body = ErrorBody),
        (status = 406, description = "No acceptable representation", body = ErrorBody),
    )
)]
pub async fn claim_provenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Result<Query<FormatParam>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let representation = choose(params.format.as_deref(), &headers)?;
    let store = state.store.clone();
    match representation {
        Representation::Rdf(syntax, media_type) => {
            // A lookup like the JSON's: a slot, the time limit, cancelled if the client leaves.
            let format = syntax.format;
            let body = super::blocking(&state, move || {
                Ok(provenance::claim_provenance_rdf(&store, &id, format)?)
            })
            .await?;
            Ok(response(media_type, Body::from(body)))
        }
        Representation::Json | Representation::Svg => {
            let provenance = super::blocking(&state, move || {
                Ok(provenance::claim_provenance(&store, &id)?)
            })
            .await?;
            Ok(match representation {
                Representation::Svg => response(SVG, Body::from(svg::render(&provenance))),
                _ => {
                    let body = serde_json::to_vec(&provenance).map_err(|e| {
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                    })?;
                    response(JSON, Body::from(body))
                }
            })
        }
    }
}

fn response(media_type: &str, body: Body) -> Response {
    let content_type = if media_type.starts_with("text/") || media_type == SVG {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_owned()
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::VARY, "Accept".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `?format=` if given, else `Accept`: JSON (the default), SVG, or an RDF format.
fn choose(format: Option<&str>, headers: &HeaderMap) -> Result<Representation, ApiError> {
    #[derive(Clone, Copy)]
    enum Kind {
        Json,
        Svg,
        Rdf(&'static RdfSyntax),
    }
    let mut offers = vec![
        Offer::new("json", &[JSON], Kind::Json),
        Offer::new("svg", &[SVG], Kind::Svg),
    ];
    offers.extend(
        RDF_SYNTAXES
            .iter()
            .map(|syntax| negotiate::rdf_offer(syntax, Kind::Rdf(syntax))),
    );
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    Ok(match negotiate::pick(format, accept, &offers)? {
        (Kind::Json, _) => Representation::Json,
        (Kind::Svg, _) => Representation::Svg,
        (Kind::Rdf(syntax), media_type) => Representation::Rdf(syntax, media_type),
    })
}

/// What `/provenance` looks up: one resource, or one triple.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// A resource: an IRI in N-Triples syntax (`<http://…>`) or a bare absolute IRI.
    iri: Option<String>,
    /// The triple's subject, an IRI in N-Triples syntax.
    s: Option<String>,
    /// The triple's predicate, an IRI in N-Triples syntax.
    p: Option<String>,
    /// The triple's object in N-Triples syntax: an IRI or a literal (`"text"@en`,
    /// `"5"^^<http://www.w3.org/2001/XMLSchema#integer>`).
    o: Option<String>,
}

/// The claims, graphs, documents and quotes behind a resource or a triple.
#[utoipa::path(
    get,
    path = "/provenance",
    tag = "provenance",
    params(LookupParams),
    responses(
        (status = 200, description = "Every named graph that mentions the resource (or holds the \
            triple) and every claim that asserts it, is about it, appears in it or rests on it, \
            with claimant, status, documents and quotes. Empty lists when nothing mentions it.",
            body = ProvenanceLookup),
        (status = 400, description = "Neither or both forms given, or a malformed term (the \
            message names the parameter)", body = ErrorBody),
    )
)]
pub async fn lookup(
    State(state): State<AppState>,
    params: Result<Query<LookupParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let request = LookupRequest::decode(params)?;
    let store = state.store.clone();
    let found = super::blocking(&state, move || {
        Ok(match request {
            LookupRequest::Resource(term) => provenance::resource_provenance(&store, &term)?,
            LookupRequest::Triple(s, p, o) => provenance::triple_provenance(&store, &s, &p, &o)?,
        })
    })
    .await?;
    Ok(axum::Json(found).into_response())
}

enum LookupRequest {
    Resource(Term),
    Triple(Term, NamedNode, Term),
}

impl LookupRequest {
    fn decode(params: LookupParams) -> Result<Self, ApiError> {
        let triple_given = params.s.is_some() || params.p.is_some() || params.o.is_some();
        match (params.iri, triple_given) {
            (Some(_), true) => Err(ApiError::bad_request(
                "give either iri= (a resource) or s=, p= and o= (a triple), not both",
            )),
            (Some(iri), false) => Ok(Self::Resource(Term::NamedNode(parse_iri("iri", &iri)?))),
            (None, true) => {
                let missing: Vec<&str> = [("s", &params.s), ("p", &params.p), ("o", &params.o)]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(n, _)| *n)
                    .collect();
                if !missing.is_empty() {
                    return Err(ApiError::bad_request(format!(
                        "a triple needs s, p and o; missing: {}",
                        missing.join(", ")
                    )));
                }
                let s = parse_term("s", params.s.as_deref().unwrap_or_default())?;
                if !matches!(s, Term::NamedNode(_)) {
                    return Err(ApiError::bad_request(format!(
                        "s={}: a subject must be an IRI (<http://…>)",
                        shown(params.s.as_deref().unwrap_or_default())
                    )));
                }
                let p = match parse_term("p", params.p.as_deref().unwrap_or_default())? {
                    Term::NamedNode(p) => p,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "p={}: a predicate must be an IRI (<http://…>)",
                            shown(params.p.as_deref().unwrap_or_default())
                        )))
                    }
                };
                let o = parse_term("o", params.o.as_deref().unwrap_or_default())?;
                Ok(Self::Triple(s, p, o))
            }
            (None, false) => Err(ApiError::bad_request(
                "nothing to look up: give iri=<IRI>, or s=, p= and o= (terms in N-Triples \
                 syntax, e.g. <http://…>, \"text\"@en)",
            )),
        }
    }
}

/// An IRI in N-Triples syntax, or a bare absolute IRI.
fn parse_iri(name: &str, value: &str) -> Result<NamedNode, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{name} is empty: give an IRI"
        )));
    }
    let parsed = if trimmed.starts_with('<') {
        NamedNode::from_str(trimmed).map_err(|e| e.to_string())
    } else {
        NamedNode::new(trimmed).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        ApiError::bad_request(format!(
            "{name}={} is not an absolute IRI (write <http://…> or http://…): {e}",
            shown(value)
        ))
    })
}

/// A term in N-Triples syntax; blank nodes are refused (their labels mean nothing outside one
/// document, so they cannot name anything in the store).
fn parse_term(name: &str, value: &str) -> Result<Term, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{name} is empty: give a term in N-Triples syntax"
        )));
    }
    match Term::from_str(trimmed) {
        Ok(Term::BlankNode(_)) => Err(ApiError::bad_request(format!(
            "{name}={}: blank nodes cannot be looked up (their labels are local to a document); \
             give an IRI or a literal",
            shown(value)
        ))),
        Ok(term) => Ok(term),
        Err(e) => Err(ApiError::bad_request(format!(
            "{name}={} is not a term in N-Triples syntax (<http://…>, \"text\", \"text\"@en, \
             \"5\"^^<{}integer>): {e}",
            shown(value),
            crate::vocab::XSD
        ))),
    }
}

/// A parameter value for an error message: quoted, and cut short if long.
fn shown(value: &str) -> String {
    const MAX: usize = 200;
    if value.chars().count() > MAX {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    } else {
        format!("{value:?}")
    }
}

/// The provenance picture. One row per appearance: a box per document from the one in hand
/// (left) to the primary source (right), arrows labelled with the relation, the quote under the
/// document where it is anchored, and a red mark where a chain breaks off.
pub(super) mod svg {
    use crate::provenance::{Chain, ClaimProvenance, Document, Hop};
    use maud::{html, Markup, PreEscaped};

    const MARGIN: usize = 24;
    const BOX_W: usize = 270;
    const BOX_H: usize = 132;
    const GAP: usize = 130;
    const LINE: usize = 15;
    /// Characters per line inside a box, at 12px (a conservative average glyph width).
    const BOX_CHARS: usize = 38;
    const QUOTE_LINES: usize = 5;

    pub fn render(provenance: &ClaimProvenance) -> String {
        let claim = &provenance.claim;
        let columns = provenance
            .appearances
            .iter()
            .map(|c| c.hops.len() + usize::from(c.broken.is_some()))
            .max()
            .unwrap_or(1)
            .max(1);
        let width = (2 * MARGIN + columns * BOX_W + (columns - 1) * GAP).max(900);
        let text_chars = (width - 2 * MARGIN) / 7;
        let claim_lines = wrap(claim.text.as_deref().unwrap_or("(no text)"), text_chars, 3);
        let header_h = MARGIN + 24 + claim_lines.len() * 18 + 2 * LINE + 16;
        let row_h = 28 + BOX_H + 20 + (QUOTE_LINES + 1) * LINE + 24;
        let rows = provenance.appearances.len().max(1);
        let height = header_h + rows * row_h + MARGIN;
        let status = claim
            .status
            .as_ref()
            .map_or("unknown".to_owned(), |s| s.name.clone());
        let claimant = claim
            .claimant
            .as_ref()
            .map(|c| c.name.clone().unwrap_or_else(|| c.iri.clone()))
            .unwrap_or_else(|| "unknown".into());
        let primary = claim.primary_source.as_ref().map_or_else(
            || "none recorded".to_owned(),
            |d| d.title().unwrap_or(&d.iri).to_owned(),
        );
        let markup = html! {
            (PreEscaped("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"))
            svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
                viewBox={ "0 0 " (width) " " (height) } role="img"
                font-family="Helvetica, Arial, sans-serif" font-size="12" {
                title { "Provenance of " (clean(&claim.iri)) }
                defs {
                    marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8"
                        markerHeight="8" orient="auto-start-reverse" {
                        path d="M 0 0 L 10 5 L 0 10 z" fill="#333" {}
                    }
                }
                rect x="0" y="0" width=(width) height=(height) fill="#ffffff" {}
                text class="claim-text" x=(MARGIN) y=(MARGIN + 16) font-size="15" font-weight="bold" {
                    @for (i, line) in claim_lines.iter().enumerate() {
                        tspan x=(MARGIN) dy=(if i == 0 { 0 } else { 18 }) { (line) }
                    }
                }
                @let info_y = MARGIN + 16 + claim_lines.len() * 18 + 6;
                text class="claim-info" x=(MARGIN) y=(info_y) fill="#333" {
                    tspan x=(MARGIN) dy="0" {
                        "Claimant: " (clip(&claimant, 60)) " · status: "
                        tspan class="claim-status" font-weight="bold" { (clean(&status)) }
                    }
                    tspan x=(MARGIN) dy=(LINE) {
                        "Primary source: " (clip(&primary, text_chars.saturating_sub(20)))
                    }
                }
                @if provenance.appearances.is_empty() {
                    text x=(MARGIN) y=(header_h + 20) fill="#666" {
                        "No appearance is recorded for this claim: there is no chain to draw."
                    }
                }
                @for (index, chain) in provenance.appearances.iter().enumerate() {
                    (row(chain, index, header_h + index * row_h, claim.primary_source.as_ref()))
                }
            }
        };
        markup.into_string()
    }

    fn row(chain: &Chain, index: usize, top: usize, primary: Option<&Document>) -> Markup {
        let summary = match chain.hop_count {
            Some(hops) => format!(
                "{hops} hop{} to the primary source",
                if hops == 1 { "" } else { "s" }
            ),
            None => "chain breaks off before the primary source".to_owned(),
        };
        let box_top = top + 28;
        html! {
            g class="appearance" data-appearance=(clean(&chain.appearance)) {
                line x1=(MARGIN) y1=(top + 2) x2=(MARGIN + 400) y2=(top + 2) stroke="#ddd" {}
                text class="appearance-title" x=(MARGIN) y=(top + 18) font-weight="bold" {
                    "Appearance " (index + 1) " · "
                    tspan class="hop-count" { (summary) }
                }
                @for (i, hop) in chain.hops.iter().enumerate() {
                    @let x = MARGIN + i * (BOX_W + GAP);
                    (document_box(hop, x, box_top, primary.is_some_and(|p| p.iri == hop.document.iri)))
                    @if let Some(quote) = &hop.quote {
                        (quote_block(quote, x, box_top + BOX_H + 18))
                    }
                    @if let Some(relation) = hop.relation {
                        @let (x1, x2, y) = (x + BOX_W, x + BOX_W + GAP, box_top + BOX_H / 2);
                        g class="link" {
                            line x1=(x1) y1=(y) x2=(x2 - 2) y2=(y) stroke="#333" stroke-width="1.5"
                                marker-end="url(#arrow)" {}
                            text class="relation" x=((x1 + x2) / 2) y=(y - 8) text-anchor="middle"
                                font-style="italic" { (relation.label()) }
                        }
                    }
                }
                @if let Some(broken) = &chain.broken {
                    @let x = MARGIN + chain.hops.len() * (BOX_W + GAP);
                    @let (x1, y) = (x.saturating_sub(GAP), box_top + BOX_H / 2);
                    g class="broken" {
                        @if !chain.hops.is_empty() {
                            line x1=(x1) y1=(y) x2=(x - 2) y2=(y) stroke="#c00" stroke-width="1.5"
                                stroke-dasharray="6 4" {}
                        }
                        rect x=(x) y=(box_top) width=(BOX_W) height=(BOX_H) rx="6" fill="#fff0f0"
                            stroke="#c00" stroke-dasharray="6 4" {}
                        text x=(x + 10) y=(box_top + 20) fill="#c00" font-weight="bold" {
                            "✕ chain breaks off here"
                        }
                        text class="break-reason" x=(x + 10) y=(box_top + 20 + LINE) fill="#600" {
                            @for (i, line) in wrap(&broken.reason, BOX_CHARS, 6).iter().enumerate() {
                                tspan x=(x + 10) dy=(if i == 0 { 0 } else { LINE }) { (line) }
                            }
                        }
                    }
                }
            }
        }
    }

    fn document_box(hop: &Hop, x: usize, y: usize, is_primary: bool) -> Markup {
        let d = &hop.document;
        let title = d.title().unwrap_or(&d.iri);
        let kind = d.type_name.as_deref().unwrap_or("Document");
        let publisher = d
            .publishers
            .iter()
            .map(|p| p.name.clone().unwrap_or_else(|| p.iri.clone()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut dates = Vec::new();
        if let Some(date) = &d.published {
            dates.push(format!("published {date}"));
        }
        if let Some(date) = &d.filed {
            dates.push(format!("filed {date}"));
        }
        if let Some(date) = &d.unsealed {
            dates.push(format!("unsealed {date}"));
        }
        let by = if !publisher.is_empty() {
            format!("Publisher: {publisher}")
        } else if let Some(case) = &d.case {
            format!("Case: {}", case.name.as_deref().unwrap_or(&case.iri))
        } else {
            "Publisher: unknown".to_owned()
        };
        let status = hop.status.as_ref().map_or("unknown", |s| s.name.as_str());
        let title_lines = wrap(title, BOX_CHARS - 4, 3);
        html! {
            g class="document" data-iri=(clean(&d.iri)) {
                title { (clean(title)) }
                rect x=(x) y=(y) width=(BOX_W) height=(BOX_H) rx="6"
                    fill=(if is_primary { "#eef7ee" } else { "#f4f6fb" })
                    stroke=(if is_primary { "#2a7a2a" } else { "#456" })
                    stroke-width=(if is_primary { "2.5" } else { "1" }) {}
                text class="doc-type" x=(x + 10) y=(y + 17) fill="#555" font-size="11" {
                    (clean(kind))
                    @if d.archived { " · text archived" }
                    @if is_primary { " · primary source" }
                }
                text class="doc-title" x=(x + 10) y=(y + 17 + LINE + 2) font-weight="bold" {
                    @for (i, line) in title_lines.iter().enumerate() {
                        tspan x=(x + 10) dy=(if i == 0 { 0 } else { LINE }) { (line) }
                    }
                }
                text class="doc-publisher" x=(x + 10) y=(y + 17 + 4 * LINE + 6) fill="#333" {
                    (clip(&by, BOX_CHARS))
                }
                text class="doc-date" x=(x + 10) y=(y + 17 + 5 * LINE + 6) fill="#333" {
                    (clip(&if dates.is_empty() { "date unknown".to_owned() } else { dates.join(", ") }, BOX_CHARS))
                }
                text class="doc-status" x=(x + 10) y=(y + 17 + 6 * LINE + 6) fill="#333" {
                    "Status here: " tspan font-weight="bold" { (clean(status)) }
                }
            }
        }
    }

    fn quote_block(quote: &crate::provenance::Quote, x: usize, y: usize) -> Markup {
        let offsets = match (quote.start, quote.end) {
            (Some(start), Some(end)) => format!("code points {start}–{end} of the archived text"),
            _ => "offsets unknown".to_owned(),
        };
        let lines = wrap(&format!("“{}”", quote.exact), BOX_CHARS + 4, QUOTE_LINES);
        html! {
            g class="quote" {
                text class="quote-text" x=(x) y=(y) font-style="italic" fill="#222" {
                    @for (i, line) in lines.iter().enumerate() {
                        tspan x=(x) dy=(if i == 0 { 0 } else { LINE }) { (line) }
                    }
                }
                text class="quote-offsets" x=(x) y=(y + lines.len() * LINE) fill="#555" font-size="11" {
                    (offsets)
                }
            }
        }
    }

    /// Text safe for XML 1.0: characters XML forbids (most C0 controls, U+FFFE/U+FFFF) become
    /// U+FFFD; runs of whitespace become one space. maud escapes the rest.
    pub fn clean(text: &str) -> String {
        let replaced: String = text
            .chars()
            .map(|c| match c {
                '\t' | '\n' | '\r' => ' ',
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
                c => c,
            })
            .collect();
        replaced.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// One line of at most `max` characters, ellipsised.
    fn clip(text: &str, max: usize) -> String {
        let text = clean(text);
        if text.chars().count() <= max {
            text
        } else {
            let cut: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{}…", cut.trim_end())
        }
    }

    /// Word-wraps into at most `lines` lines of at most `width` characters; the last line is
    /// ellipsised if the text does not fit. Words longer than a line are cut.
    pub fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
        let text = clean(text);
        let mut out: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split(' ') {
            let word_len = word.chars().count();
            let current_len = current.chars().count();
            if current.is_empty() {
                current = word.to_owned();
            } else if current_len + 1 + word_len <= width {
                current.push(' ');
                current.push_str(word);
            } else {
                out.push(std::mem::take(&mut current));
                current = word.to_owned();
            }
            while current.chars().count() > width {
                let head: String = current.chars().take(width).collect();
                let tail: String = current.chars().skip(width).collect();
                out.push(head);
                current = tail;
            }
        }
        if !current.is_empty() || out.is_empty() {
            out.push(current);
        }
        if out.len() > lines {
            out.truncate(lines);
            if let Some(last) = out.last_mut() {
                let cut: String = last.chars().take(width.saturating_sub(1)).collect();
                *last = format!("{}…", cut.trim_end());
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn wrapping_keeps_words_and_ellipsises() {
            assert_eq!(wrap("a bb ccc", 4, 3), vec!["a bb", "ccc"]);
            assert_eq!(wrap("a bb ccc dddd", 4, 2), vec!["a bb", "ccc…"]);
            assert_eq!(wrap("", 4, 2), vec![""]);
            assert_eq!(wrap("abcdefghij", 4, 5), vec!["abcd", "efgh", "ij"]);
        }

        #[test]
        fn cleaning_removes_what_xml_forbids() {
            assert_eq!(clean("a\u{1}b\n\n c"), "a\u{FFFD}b c");
        }
    }
}
