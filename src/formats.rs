//! The serialisation formats claimgraph reads and writes, by name, file extension and media type.
//!
//! Invariant: this is the only table of formats. The CLI (`--format`), file loading (by extension)
//! and HTTP content negotiation all look formats up here, so a format added here is added everywhere.

use oxigraph::io::RdfFormat;
use oxigraph::sparql::results::QueryResultsFormat;

/// An RDF serialisation with the media types that name it (the first is canonical).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdfSyntax {
    pub format: RdfFormat,
    pub name: &'static str,
    pub media_types: &'static [&'static str],
    pub extensions: &'static [&'static str],
}

/// A SPARQL query results serialisation (for SELECT and ASK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultsSyntax {
    pub format: QueryResultsFormat,
    pub name: &'static str,
    pub media_types: &'static [&'static str],
    /// CSV and TSV define no serialisation of a boolean (ASK) result.
    pub supports_boolean: bool,
}

/// RDF formats, in the server's order of preference.
pub const RDF_SYNTAXES: &[RdfSyntax] = &[
    RdfSyntax {
        format: RdfFormat::Turtle,
        name: "turtle",
        media_types: &["text/turtle", "application/x-turtle"],
        extensions: &["ttl"],
    },
    RdfSyntax {
        format: RdfFormat::NTriples,
        name: "ntriples",
        media_types: &["application/n-triples", "text/plain"],
        extensions: &["nt"],
    },
    RdfSyntax {
        format: RdfFormat::NQuads,
        name: "nquads",
        media_types: &["application/n-quads", "text/x-nquads"],
        extensions: &["nq"],
    },
    RdfSyntax {
        format: RdfFormat::TriG,
        name: "trig",
        media_types: &["application/trig", "application/x-trig"],
        extensions: &["trig"],
    },
    RdfSyntax {
        format: RdfFormat::RdfXml,
        name: "rdfxml",
        media_types: &["application/rdf+xml"],
        extensions: &["rdf", "owl", "xml"],
    },
    RdfSyntax {
        format: RdfFormat::JsonLd {
            profile: oxigraph::io::JsonLdProfileSet::empty(),
        },
        name: "jsonld",
        media_types: &["application/ld+json"],
        extensions: &["jsonld"],
    },
    RdfSyntax {
        format: RdfFormat::N3,
        name: "n3",
        media_types: &["text/n3"],
        extensions: &["n3"],
    },
];

/// Query results formats, in the server's order of preference.
pub const RESULTS_SYNTAXES: &[ResultsSyntax] = &[
    ResultsSyntax {
        format: QueryResultsFormat::Json,
        name: "json",
        media_types: &["application/sparql-results+json", "application/json"],
        supports_boolean: true,
    },
    ResultsSyntax {
        format: QueryResultsFormat::Xml,
        name: "xml",
        media_types: &[
            "application/sparql-results+xml",
            "application/xml",
            "text/xml",
        ],
        supports_boolean: true,
    },
    ResultsSyntax {
        format: QueryResultsFormat::Csv,
        name: "csv",
        media_types: &["text/csv"],
        supports_boolean: false,
    },
    ResultsSyntax {
        format: QueryResultsFormat::Tsv,
        name: "tsv",
        media_types: &["text/tab-separated-values"],
        supports_boolean: false,
    },
];

impl RdfSyntax {
    pub fn media_type(&self) -> &'static str {
        self.media_types[0]
    }

    pub fn by_name(name: &str) -> Option<&'static RdfSyntax> {
        let name = name.to_ascii_lowercase();
        RDF_SYNTAXES
            .iter()
            .find(|s| s.name == name || s.extensions.contains(&name.as_str()))
    }

    pub fn by_extension(extension: &str) -> Option<&'static RdfSyntax> {
        let extension = extension.to_ascii_lowercase();
        RDF_SYNTAXES
            .iter()
            .find(|s| s.extensions.contains(&extension.as_str()))
    }

    pub fn by_media_type(media_type: &str) -> Option<&'static RdfSyntax> {
        let media_type = essence(media_type);
        RDF_SYNTAXES
            .iter()
            .find(|s| s.media_types.iter().any(|m| *m == media_type))
    }
}

impl ResultsSyntax {
    pub fn media_type(&self) -> &'static str {
        self.media_types[0]
    }

    pub fn by_name(name: &str) -> Option<&'static ResultsSyntax> {
        let name = name.to_ascii_lowercase();
        RESULTS_SYNTAXES.iter().find(|s| s.name == name)
    }
}

/// The media type without parameters, lower-cased: `Text/Turtle; charset=utf-8` → `text/turtle`.
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The names accepted by `--format`, for help texts and error messages.
pub fn rdf_names() -> String {
    RDF_SYNTAXES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn results_names() -> String {
    RESULTS_SYNTAXES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_media_type_finds_its_own_format() {
        for syntax in RDF_SYNTAXES {
            assert_eq!(RdfSyntax::by_name(syntax.name), Some(syntax));
            for media_type in syntax.media_types {
                assert_eq!(RdfSyntax::by_media_type(media_type), Some(syntax));
            }
            for extension in syntax.extensions {
                assert_eq!(RdfSyntax::by_extension(extension), Some(syntax));
            }
        }
        for syntax in RESULTS_SYNTAXES {
            assert_eq!(ResultsSyntax::by_name(syntax.name), Some(syntax));
        }
    }

    #[test]
    fn essence_drops_parameters_and_case() {
        assert_eq!(essence("Text/Turtle; charset=UTF-8"), "text/turtle");
    }
}
