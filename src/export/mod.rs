//! Exports of the whole store: dumps (N-Quads, TriG, JSON-LD, Turtle), the schema.org
//! ClaimReview feed, one nanopublication per claim, and the VoID + DCAT description.
//!
//! Invariants: every export is written to a `&mut dyn Write` as it is read, one quad, review or
//! claim at a time, so memory does not grow with the store (what is held is the few rows
//! describing the one review or claim being written; inside the SPARQL evaluator, the review and
//! claim IRIs that an `ORDER BY` sorts and the VoID counts per class and per graph). Nothing here
//! knows HTTP: the same functions serve
//! `GET /export…` (on the blocking thread of `ClaimStore::stream`) and `claimgraph export`. The
//! store's data is read with the SPARQL of `queries/api/export-*.rq` or by iterating quads.

pub mod claimreview;
pub mod nanopub;
pub mod void;

use crate::error::{Error, Result};
use crate::formats::RdfSyntax;
use crate::store::{ClaimStore, WriteBuffer};
use flate2::write::GzEncoder;
use flate2::Compression;
use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::{NamedNode, Term};
use oxigraph::sparql::CancellationToken;
use std::io::Write;

/// The formats of the whole-store dump, in the server's order of preference (the first is the
/// default).
pub const DUMP_FORMATS: &[&str] = &["nquads", "trig", "turtle", "jsonld"];
/// The formats of the nanopublication export (each nanopublication is four named graphs).
pub const NANOPUB_FORMATS: &[&str] = &["trig", "nquads"];
/// Every `--format` of `claimgraph export`.
pub const EXPORT_NAMES: &[&str] = &[
    "nquads",
    "trig",
    "turtle",
    "jsonld",
    "claimreview",
    "nanopubs",
    "void",
];

/// The prefixes written into Turtle, TriG and JSON-LD output, so exports stay readable.
pub(crate) const PREFIXES: &[(&str, &str)] = crate::vocab::PREFIXES;

/// One export: what is written and in which syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Every quad of the store. Dataset formats keep the graphs; Turtle writes the union of all
    /// graphs as triples (graph names dropped; a triple held in several graphs is written once
    /// per graph, which a Turtle reader takes as one triple).
    Dump(&'static RdfSyntax),
    /// The schema.org ClaimReview feed (JSON-LD, `"@context": "https://schema.org"`).
    ClaimReview,
    /// One nanopublication per claim (TriG or N-Quads).
    Nanopubs(&'static RdfSyntax),
    /// The VoID + DCAT description of the dataset (any RDF syntax).
    Void(&'static RdfSyntax),
}

impl Export {
    /// The export a `--format` name (CLI) stands for; `void` and `nanopubs` take their RDF
    /// syntax from `syntax` (default Turtle and TriG).
    pub fn by_name(name: &str, syntax: Option<&str>) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "claimreview" => Ok(Self::ClaimReview),
            "nanopubs" => Ok(Self::Nanopubs(nanopub_syntax(syntax.unwrap_or("trig"))?)),
            "void" => Ok(Self::Void(rdf_syntax(syntax.unwrap_or("turtle"))?)),
            _ => dump_syntax(name).map(Self::Dump).map_err(|_| {
                Error::Invalid(format!(
                    "unknown export format {name:?}: choose one of {}",
                    EXPORT_NAMES.join(", ")
                ))
            }),
        }
    }

    /// The media type of the export's body.
    pub fn media_type(&self) -> &'static str {
        match self {
            Self::Dump(syntax) | Self::Nanopubs(syntax) | Self::Void(syntax) => syntax.media_type(),
            Self::ClaimReview => jsonld().media_type(),
        }
    }

    /// The file name a download of the export is offered under.
    pub fn file_name(&self) -> String {
        let extension = |syntax: &RdfSyntax| syntax.extensions.first().copied().unwrap_or("rdf");
        match self {
            Self::Dump(syntax) => format!("claimgraph.{}", extension(syntax)),
            Self::ClaimReview => "claimgraph-claimreview.jsonld".to_owned(),
            Self::Nanopubs(syntax) => format!("claimgraph-nanopubs.{}", extension(syntax)),
            Self::Void(syntax) => format!("claimgraph-void.{}", extension(syntax)),
        }
    }

    /// Writes the export into `out`, gzip-compressed if `gzip`. `cancel` stops the queries the
    /// export runs (a write into a closed response stops it too).
    pub fn write(
        &self,
        store: &ClaimStore,
        cancel: &CancellationToken,
        gzip: bool,
        out: &mut dyn Write,
    ) -> Result<()> {
        if gzip {
            let mut encoder = GzEncoder::new(out, Compression::default());
            self.write_plain(store, cancel, &mut encoder)?;
            // `finish` writes the gzip trailer; without it the file would be truncated.
            encoder
                .finish()
                .map_err(|e| Error::io("writing the export", e))?;
            Ok(())
        } else {
            self.write_plain(store, cancel, out)
        }
    }

    fn write_plain(
        &self,
        store: &ClaimStore,
        cancel: &CancellationToken,
        out: &mut dyn Write,
    ) -> Result<()> {
        match self {
            Self::Dump(syntax) => dump(store, syntax, out),
            Self::ClaimReview => claimreview::write(store, cancel, out),
            Self::Nanopubs(syntax) => nanopub::write(store, syntax, cancel, out),
            Self::Void(syntax) => void::write(store, syntax, cancel, out),
        }
    }
}

/// The dump syntax called `name`, or an error listing the valid ones.
pub fn dump_syntax(name: &str) -> Result<&'static RdfSyntax> {
    named_syntax(name, DUMP_FORMATS, "the dump")
}

/// The nanopublication syntax called `name`, or an error listing the valid ones.
pub fn nanopub_syntax(name: &str) -> Result<&'static RdfSyntax> {
    named_syntax(name, NANOPUB_FORMATS, "nanopublications")
}

fn rdf_syntax(name: &str) -> Result<&'static RdfSyntax> {
    RdfSyntax::by_name(name).ok_or_else(|| {
        Error::Invalid(format!(
            "unknown RDF format {name:?}: choose one of {}",
            crate::formats::rdf_names()
        ))
    })
}

fn named_syntax(name: &str, allowed: &[&str], what: &str) -> Result<&'static RdfSyntax> {
    let lower = name.to_ascii_lowercase();
    allowed
        .iter()
        .find(|allowed| **allowed == lower)
        .and_then(|name| RdfSyntax::by_name(name))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "format={name} is not a format of {what}: choose one of {}",
                allowed.join(", ")
            ))
        })
}

/// The syntaxes of [`DUMP_FORMATS`], in order (for content negotiation).
pub fn dump_syntaxes() -> Vec<&'static RdfSyntax> {
    DUMP_FORMATS
        .iter()
        .filter_map(|name| RdfSyntax::by_name(name))
        .collect()
}

fn jsonld() -> &'static RdfSyntax {
    RdfSyntax::by_name("jsonld").expect("the formats table has JSON-LD")
}

/// A serializer for `format` that writes [`PREFIXES`] where the syntax has prefixes.
pub(crate) fn serializer(format: RdfFormat) -> RdfSerializer {
    let mut serializer = RdfSerializer::from_format(format);
    if matches!(
        format,
        RdfFormat::Turtle | RdfFormat::TriG | RdfFormat::N3 | RdfFormat::RdfXml
    ) {
        for (prefix, iri) in PREFIXES {
            serializer = serializer
                .with_prefix(*prefix, *iri)
                .expect("the prefix table holds valid IRIs");
        }
    }
    serializer
}

/// Every quad of the store, read from one snapshot. A syntax without named graphs gets the union
/// of all graphs as triples.
fn dump(store: &ClaimStore, syntax: &RdfSyntax, out: &mut dyn Write) -> Result<()> {
    let io_error = |e| Error::io("writing the dump", e);
    let mut writer = serializer(syntax.format).for_writer(WriteBuffer::new(out));
    let keep_graphs = syntax.format.supports_datasets();
    for quad in store.quads(None) {
        let quad = quad?;
        if keep_graphs {
            writer.serialize_quad(&quad).map_err(io_error)?;
        } else {
            writer
                .serialize_triple(oxigraph::model::TripleRef::from(quad.as_ref()))
                .map_err(io_error)?;
        }
    }
    writer
        .finish()
        .map_err(io_error)?
        .into_inner()
        .map_err(io_error)?;
    Ok(())
}

/// An IRI minted under the store's base.
pub(crate) fn minted(store: &ClaimStore, path: &str) -> Result<NamedNode> {
    NamedNode::new(format!("{}{path}", store.base()))
        .map_err(|e| Error::Invalid(format!("cannot mint an IRI for {path:?}: {e}")))
}

pub(crate) fn named(namespace: &str, local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{namespace}{local}"))
}

/// What the store says about the dataset itself, and the time of the export.
pub(crate) struct DatasetInfo {
    pub title: Option<Term>,
    pub license: Option<Term>,
    pub modified: Option<Term>,
    pub now: Option<Term>,
}

pub(crate) fn dataset_info(store: &ClaimStore) -> Result<DatasetInfo> {
    let dataset = minted(store, "")?;
    let rows = rows(
        store,
        include_str!("../../queries/api/export-dataset.rq"),
        &[("dataset", dataset.into())],
    )?;
    let mut row = rows.into_iter().next().unwrap_or_default().into_iter();
    let mut next = || row.next().flatten();
    Ok(DatasetInfo {
        title: next(),
        license: next(),
        modified: next(),
        now: next(),
    })
}

/// The rows of one small bound lookup (a review, an agent, a claim's appearances), collected:
/// they describe one item. Values are substituted into the patterns ([`ClaimStore::select_each`]), so a lookup reads
/// only its item's data.
pub(crate) fn rows(
    store: &ClaimStore,
    query: &str,
    bindings: &[(&str, Term)],
) -> Result<Vec<Vec<Option<Term>>>> {
    let mut rows = Vec::new();
    store.select_each(query, bindings, CancellationToken::new(), |row| {
        rows.push(row.to_vec());
        Ok(())
    })?;
    Ok(rows)
}

/// The lexical form of a literal, or the IRI of a named node.
pub(crate) fn text(term: &Term) -> String {
    match term {
        Term::Literal(literal) => literal.value().to_owned(),
        Term::NamedNode(node) => node.as_str().to_owned(),
        other => other.to_string(),
    }
}
