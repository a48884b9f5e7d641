//! What parsers of uploaded RDF may not do: expand XML entities without bound, or fetch
//! JSON-LD contexts.
//!
//! A remote `@context` is never fetched (no outbound requests, no SSRF): the parser is given a
//! document loader, [`refuse_remote_context`], that refuses every URL, naming it.
//!
//! Oxigraph's RDF/XML parser never fetches external entities, but it expands internal ones
//! (`<!ENTITY a "&b;&b;">`) eagerly and without a cap: ten levels of ten references each (the
//! "billion laughs") make one entity of 3 GB. This module measures what the parser would expand
//! — every declared entity's expanded size, and every reference to one in the document — in one
//! linear pass, without expanding anything.
//!
//! Invariant: a document accepted here expands to at most [`MAX_ENTITY_EXPANSION`] bytes of
//! entity text in total; the check over-counts rather than under-counts (references inside
//! comments or CDATA count too).

use std::collections::HashMap;

/// The JSON-LD document loader of every parser: refuses to fetch, so the parse fails with a
/// message naming the context's URL.
pub fn refuse_remote_context(
    url: &str,
) -> Result<oxigraph::io::LoadedDocument, Box<dyn std::error::Error + Send + Sync>> {
    Err(format!(
        "remote JSON-LD contexts are never fetched ({url}); put the context inline in the document"
    )
    .into())
}

/// The addresses schema.org's JSON-LD context is published at (with and without TLS and the
/// trailing slash, and the file they redirect to).
const SCHEMA_CONTEXTS: &[&str] = &[
    "https://schema.org",
    "https://schema.org/",
    "http://schema.org",
    "http://schema.org/",
    "https://schema.org/docs/jsonldcontext.json",
    "http://schema.org/docs/jsonldcontext.json",
    "https://schema.org/docs/jsonldcontext.jsonld",
];

/// The part of schema.org's context that decides how a ClaimReview reads as RDF: every term in
/// the vocabulary `http://schema.org/` (the IRIs the store uses), and the properties whose values
/// are addresses read as IRIs, as schema.org's own context types them.
const SCHEMA_CONTEXT_DOCUMENT: &str = r#"{"@context": {
  "@vocab": "http://schema.org/",
  "schema": "http://schema.org/",
  "url": {"@id": "http://schema.org/url", "@type": "@id"},
  "sameAs": {"@id": "http://schema.org/sameAs", "@type": "@id"},
  "sdLicense": {"@id": "http://schema.org/sdLicense", "@type": "@id"},
  "license": {"@id": "http://schema.org/license", "@type": "@id"}
}}"#;

/// The document loader of the ClaimReview importer: schema.org's context is known locally (this
/// machine makes no request for it); every other remote context is refused, naming it.
pub fn schema_context_only(
    url: &str,
) -> Result<oxigraph::io::LoadedDocument, Box<dyn std::error::Error + Send + Sync>> {
    if !SCHEMA_CONTEXTS.contains(&url) {
        return Err(format!(
            "the remote JSON-LD context {url} is not schema.org's, and remote contexts are never \
             fetched"
        )
        .into());
    }
    Ok(oxigraph::io::LoadedDocument {
        url: url.to_owned(),
        content: SCHEMA_CONTEXT_DOCUMENT.as_bytes().to_vec(),
        format: oxigraph::io::RdfFormat::JsonLd {
            profile: oxigraph::io::JsonLdProfile::Context.into(),
        },
    })
}

/// Bytes of entity text (declarations and references together) a document may expand to.
/// Ordinary RDF/XML uses entities for namespace IRIs (`&rdf;`, ~40 bytes): a hundred thousand
/// references stay well under it.
pub const MAX_ENTITY_EXPANSION: u64 = 16 * 1024 * 1024;

/// Refuses an RDF/XML document whose internal entities would expand past
/// [`MAX_ENTITY_EXPANSION`] bytes; the message names the entity that crossed it.
pub fn check_rdfxml(document: &[u8]) -> Result<(), String> {
    let over = |name: &[u8], size: u64| {
        format!(
            "the RDF/XML entity {:?} would expand to more than {MAX_ENTITY_EXPANSION} bytes \
             ({size} bytes or more): entity expansion is bounded (an entity bomb?)",
            String::from_utf8_lossy(name)
        )
    };
    // Every `<!ENTITY` anywhere (a comment or CDATA too) counts as a declaration and every
    // `&name;` outside one as a reference: over-counting is safe, under-counting would not be.
    let mut sizes: HashMap<&[u8], u64> = HashMap::new();
    let mut total = 0u64;
    let mut i = 0;
    while let Some(next) = document[i..].iter().position(|b| matches!(b, b'<' | b'&')) {
        i += next;
        let rest = &document[i..];
        if let Some(declaration) = rest.strip_prefix(b"<!ENTITY") {
            let (name, value, length) = entity(declaration);
            let size = expanded_size(value, &sizes);
            total = total.saturating_add(size);
            if size > MAX_ENTITY_EXPANSION || total > MAX_ENTITY_EXPANSION {
                return Err(over(name, size));
            }
            sizes.insert(name, size);
            i += b"<!ENTITY".len() + length;
        } else if rest[0] == b'&' && !sizes.is_empty() {
            let name = rest[1..]
                .iter()
                .take(256)
                .position(|b| *b == b';')
                .map(|end| &rest[1..1 + end]);
            if let Some((name, size)) = name.and_then(|n| sizes.get(n).map(|s| (n, *s))) {
                total = total.saturating_add(size);
                if total > MAX_ENTITY_EXPANSION {
                    return Err(over(name, size));
                }
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// The name and quoted value of an `<!ENTITY name "value">` declaration (after `<!ENTITY`), and
/// the bytes it spans up to its `>`. Malformed ones yield what they can; the parser refuses them.
fn entity(declaration: &[u8]) -> (&[u8], &[u8], usize) {
    let start = declaration
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(declaration.len());
    let end = declaration[start..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(declaration.len(), |n| start + n);
    let name = &declaration[start..end];
    let (value, after) = match declaration[end..].iter().position(|b| *b == b'"') {
        Some(open) => {
            let open = end + open + 1;
            let close = declaration[open..]
                .iter()
                .position(|b| *b == b'"')
                .map_or(declaration.len(), |n| open + n);
            (&declaration[open..close], close)
        }
        None => (&[][..], end),
    };
    let length = declaration[after..]
        .iter()
        .position(|b| *b == b'>')
        .map_or(declaration.len(), |n| after + n + 1);
    (name, value, length)
}

/// The size of `value` with references to known entities replaced by their expanded sizes.
fn expanded_size(value: &[u8], sizes: &HashMap<&[u8], u64>) -> u64 {
    let mut size = 0u64;
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'&' {
            if let Some(semicolon) = value[i + 1..].iter().position(|b| *b == b';') {
                if let Some(known) = sizes.get(&value[i + 1..i + 1 + semicolon]) {
                    size = size.saturating_add(*known);
                    i += semicolon + 2;
                    continue;
                }
            }
        }
        size += 1;
        i += 1;
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `levels` entities, each referencing the previous one ten times, the last used once.
    pub(crate) fn laughs(levels: usize) -> String {
        let mut doctype = String::from("<!ENTITY lol0 \"lol\">\n");
        for level in 1..=levels {
            let refs = format!("&lol{};", level - 1).repeat(10);
            doctype.push_str(&format!("<!ENTITY lol{level} \"{refs}\">\n"));
        }
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF [\n{doctype}]>\n\
             <rdf:RDF xmlns:rdf=\"{rdf}\" \
             xmlns:ex=\"http://example.org/\">\n<rdf:Description rdf:about=\"http://example.org/s\">\
             <ex:p>&lol{levels};</ex:p></rdf:Description></rdf:RDF>\n",
            rdf = crate::vocab::RDF
        )
    }

    #[test]
    fn a_billion_laughs_is_refused_and_a_few_are_not() {
        let error = check_rdfxml(laughs(9).as_bytes()).unwrap_err();
        assert!(error.contains("lol"), "{error}");
        assert!(check_rdfxml(laughs(3).as_bytes()).is_ok());
    }

    #[test]
    fn many_references_add_up() {
        let value = "x".repeat(1000);
        let body = "<ex:p>&big;</ex:p>".repeat(20_000);
        let document = format!("<!DOCTYPE r [ <!ENTITY big \"{value}\"> ]><r>{body}</r>");
        assert!(check_rdfxml(document.as_bytes()).is_err());
        let document =
            format!("<!DOCTYPE r [ <!-- ]> --> <!ENTITY big \"{value}\"> ]><r>&big;</r>");
        assert!(check_rdfxml(document.as_bytes()).is_ok());
        assert!(check_rdfxml(b"<r>&amp;&lt;</r>").is_ok());
    }
}
