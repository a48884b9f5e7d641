//! Content negotiation: `?format=` by name, else the `Accept` header (RFC 9110 §12.5.1: q-values,
//! wildcards, specificity).
//!
//! Invariant: every route picks its representation through [`pick`], so `?format=` and `Accept`
//! mean the same everywhere (names matched without regard to case; the same 400 and 406); pure
//! functions over what the request says and what the route offers.

use super::error::ApiError;
use crate::formats::{RdfSyntax, RDF_SYNTAXES};
use axum::http::{header, StatusCode};

/// One representation a route offers.
#[derive(Debug, Clone, Copy)]
pub struct Offer<T> {
    /// What `?format=` calls it (lower case).
    pub name: &'static str,
    /// Other names `?format=` may give it (an RDF syntax's file extensions).
    pub aliases: &'static [&'static str],
    /// Its media types, the one sent when it is asked for by name first.
    pub media_types: &'static [&'static str],
    /// What the route makes of the choice.
    pub value: T,
}

impl<T> Offer<T> {
    pub const fn new(name: &'static str, media_types: &'static [&'static str], value: T) -> Self {
        Self {
            name,
            aliases: &[],
            media_types,
            value,
        }
    }
}

/// HTML's media types: what a browser navigating to a page names first.
pub const HTML: &[&str] = &["text/html", "application/xhtml+xml"];

/// Whether a request's `Accept` prefers HTML to every SPARQL results and RDF media type: a
/// browser navigating (its `Accept` names HTML first, anything else through wildcards), not a
/// SPARQL client. Routes that answer results send such a request to the query editor, so a
/// person never gets raw XML.
pub fn prefers_html(headers: &axum::http::HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if accept.is_none_or(|accept| accept.trim().is_empty()) {
        return false;
    }
    // Every query request asks this: the list is made once.
    static OFFERS: std::sync::OnceLock<Vec<&'static [&'static str]>> = std::sync::OnceLock::new();
    let offers = OFFERS.get_or_init(|| {
        let results = crate::formats::RESULTS_SYNTAXES
            .iter()
            .map(|s| s.media_types);
        let rdf = RDF_SYNTAXES.iter().map(|s| s.media_types);
        results.chain(rdf).chain([HTML]).collect()
    });
    choose(accept, offers).is_some_and(|(index, _)| index == offers.len() - 1)
}

/// An RDF syntax as an offer: its name and file extensions, its media types.
pub fn rdf_offer<T>(syntax: &'static RdfSyntax, value: T) -> Offer<T> {
    Offer {
        name: syntax.name,
        aliases: syntax.extensions,
        media_types: syntax.media_types,
        value,
    }
}

/// Every RDF syntax, in the formats table's order (Turtle first).
pub fn rdf_offers() -> Vec<Offer<&'static RdfSyntax>> {
    RDF_SYNTAXES.iter().map(|s| rdf_offer(s, s)).collect()
}

/// The representation of `offers` a request asks for, and the media type to send it as: the
/// one `?format=` names (without regard to case), else the one `Accept` prefers (the first
/// offer when there is no `Accept`). An unknown `?format=` is 400 naming the valid ones;
/// nothing acceptable is 406 listing the media types offered, with `Vary: Accept`.
pub fn pick<T: Copy>(
    format: Option<&str>,
    accept: Option<&str>,
    offers: &[Offer<T>],
) -> Result<(T, &'static str), ApiError> {
    if let Some(name) = format {
        let lower = name.trim().to_ascii_lowercase();
        return offers
            .iter()
            .find(|offer| offer.name == lower || offer.aliases.contains(&lower.as_str()))
            .map(|offer| (offer.value, offer.media_types[0]))
            .ok_or_else(|| {
                let names: Vec<&str> = offers.iter().map(|offer| offer.name).collect();
                ApiError::bad_request(format!(
                    "format={name} is not offered here: use one of {}",
                    names.join(", ")
                ))
            });
    }
    let media_types: Vec<&[&str]> = offers.iter().map(|offer| offer.media_types).collect();
    let (index, media_type) = choose(accept, &media_types).ok_or_else(|| {
        let offered: Vec<&str> = media_types.iter().flat_map(|m| m.iter().copied()).collect();
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "none of the media types in Accept can represent this; available: {}",
                offered.join(", ")
            ),
        )
        .with_header(header::VARY, "Accept")
    })?;
    Ok((offers[index].value, media_type))
}

/// One media range of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    main: String,
    sub: String,
    /// Parameters other than `q`, lower-cased names, e.g. `charset=utf-8`.
    params: Vec<(String, String)>,
    q: f32,
}

impl MediaRange {
    /// How specifically this range matches `offered` (`main/sub`), or `None` if it does not.
    /// Exact type with parameters > exact type > `main/*` > `*/*`.
    fn specificity(&self, offered: &str) -> Option<u8> {
        let (main, sub) = offered.split_once('/')?;
        if self.main == "*" && self.sub == "*" {
            Some(0)
        } else if self.main == main && self.sub == "*" {
            Some(1)
        } else if self.main == main && self.sub == sub {
            Some(if self.params.is_empty() { 2 } else { 3 })
        } else {
            None
        }
    }
}

fn parse_accept(header: &str) -> Vec<MediaRange> {
    header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let (main, sub) = parts.next()?.trim().split_once('/')?;
            let (main, sub) = (
                main.trim().to_ascii_lowercase(),
                sub.trim().to_ascii_lowercase(),
            );
            if main.is_empty() || sub.is_empty() || (main == "*" && sub != "*") {
                return None;
            }
            let mut q = 1.0;
            let mut params = Vec::new();
            for param in parts {
                let Some((name, value)) = param.split_once('=') else {
                    continue;
                };
                let name = name.trim().to_ascii_lowercase();
                let value = value.trim().trim_matches('"').to_ascii_lowercase();
                if name == "q" {
                    // An unparsable q-value makes the range unusable rather than preferred.
                    q = value
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))?;
                } else {
                    params.push((name, value));
                }
            }
            Some(MediaRange {
                main,
                sub,
                params,
                q,
            })
        })
        .collect()
}

/// Chooses among `offers` (each a list of media types naming one representation, in the server's
/// order of preference) the one the client prefers. Returns the index of the offer and the media
/// type the client asked for (to echo in `Content-Type`).
///
/// No `Accept` header (or an empty one) means "anything": the first offer. Returns `None` when
/// nothing offered is acceptable (406).
fn choose<'a>(accept: Option<&str>, offers: &[&'a [&'a str]]) -> Option<(usize, &'a str)> {
    let ranges = match accept {
        Some(header) if !header.trim().is_empty() => parse_accept(header),
        _ => return offers.first().map(|o| (0, o[0])),
    };
    let mut best: Option<(f32, u8, usize, &'a str)> = None;
    for (index, media_types) in offers.iter().enumerate() {
        for (alias, media_type) in media_types.iter().enumerate() {
            // The q-value of the most specific range matching this media type.
            let Some((specificity, q)) = ranges
                .iter()
                .filter_map(|r| r.specificity(media_type).map(|s| (s, r.q)))
                .max_by(|a, b| a.0.cmp(&b.0))
            else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            // Prefer higher q; then an explicit mention over a wildcard; then server order.
            let better = match best {
                None => true,
                Some((best_q, best_spec, _, _)) => {
                    q > best_q || (q == best_q && specificity.min(2) > best_spec.min(2))
                }
            };
            if better {
                // Echo the media type that matched, so `Content-Type` is one the client accepts.
                best = Some((q, specificity, index, media_types[alias]));
            }
        }
    }
    best.map(|(_, _, index, media_type)| (index, media_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &[&str] = &["application/sparql-results+json", "application/json"];
    const XML: &[&str] = &[
        "application/sparql-results+xml",
        "application/xml",
        "text/xml",
    ];
    const CSV: &[&str] = &["text/csv"];

    fn check(accept: Option<&str>, expected: Option<&str>) {
        let chosen = choose(accept, &[JSON, XML, CSV]).map(|(_, m)| m);
        assert_eq!(chosen, expected, "Accept: {accept:?}");
    }

    #[test]
    fn format_names_any_case_and_accept_otherwise() {
        let offers = [
            Offer::new("json", &["application/json"][..], 0),
            Offer::new("html", &["text/html", "application/xhtml+xml"][..], 1),
        ];
        for name in ["html", "HTML", " Html "] {
            assert_eq!(pick(Some(name), None, &offers).unwrap(), (1, "text/html"));
        }
        // ?format= wins over Accept.
        assert_eq!(
            pick(Some("json"), Some("text/html"), &offers).unwrap(),
            (0, "application/json")
        );
        assert_eq!(pick(None, None, &offers).unwrap(), (0, "application/json"));
        assert_eq!(
            pick(None, Some("application/xhtml+xml"), &offers).unwrap(),
            (1, "application/xhtml+xml")
        );
        let unknown = pick(Some("pdf"), None, &offers).unwrap_err();
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(
            unknown.message.contains("format=pdf"),
            "{}",
            unknown.message
        );
        assert!(
            unknown.message.contains("json, html"),
            "{}",
            unknown.message
        );
        let refused = pick(None, Some("image/png"), &offers).unwrap_err();
        assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
        assert!(refused.message.contains("text/html"), "{}", refused.message);
        // An RDF syntax answers to its file extensions too.
        let rdf = rdf_offers();
        assert_eq!(pick(Some("TTL"), None, &rdf).unwrap().1, "text/turtle");
    }

    #[test]
    fn browsers_prefer_html_and_clients_do_not() {
        let with = |accept: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::ACCEPT, accept.parse().unwrap());
            prefers_html(&headers)
        };
        // Chromium's and Firefox's navigations.
        assert!(with("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"));
        assert!(with(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        for client in [
            "*/*",
            "application/sparql-results+json",
            "application/sparql-results+xml, text/html;q=0.5",
            "text/csv, text/html",
            "text/turtle",
        ] {
            assert!(!with(client), "{client}");
        }
        assert!(!prefers_html(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn negotiation() {
        check(None, Some("application/sparql-results+json"));
        check(Some(""), Some("application/sparql-results+json"));
        check(Some("*/*"), Some("application/sparql-results+json"));
        // `text/xml` (an alias of XML results, offered before CSV) is what `text/*` gets.
        check(Some("text/*"), Some("text/xml"));
        check(
            Some("application/sparql-results+xml"),
            Some("application/sparql-results+xml"),
        );
        check(Some("application/json"), Some("application/json"));
        check(
            Some("application/sparql-results+json;q=0.5, text/csv"),
            Some("text/csv"),
        );
        check(
            Some("text/csv;q=0, */*;q=0.1"),
            Some("application/sparql-results+json"),
        );
        // A browser: XML at 0.9 beats the wildcard at 0.8.
        check(
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Some("application/xml"),
        );
        // An explicit mention beats a wildcard of equal q.
        check(Some("*/*, text/csv"), Some("text/csv"));
        check(Some("image/png"), None);
        check(Some("*/*;q=0"), None);
        check(Some("text/csv;q=abc"), None);
        check(Some("TEXT/CSV"), Some("text/csv"));
    }
}
