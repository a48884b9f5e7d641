//! The SPARQL 1.1 Service Description of the endpoint, as RDF triples.
//!
//! Invariant: describes only what the endpoint really does; it is built from the same format
//! table the endpoint negotiates with.

use crate::formats::{RDF_SYNTAXES, RESULTS_SYNTAXES};
use crate::vocab::{OWL_VERSION_INFO, OWL_VERSION_IRI, SD, SIMPLE_ENTAILMENT, W3C_FORMATS};
use oxigraph::io::RdfFormat;
use oxigraph::model::vocab::rdf;
use oxigraph::model::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};

fn sd(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{SD}{local}"))
}

/// The W3C format IRI (<http://www.w3.org/ns/formats/>) of an RDF format.
fn rdf_format_iri(format: RdfFormat) -> NamedNode {
    match format {
        // Oxigraph names JSON-LD with an IRI outside the W3C formats registry.
        RdfFormat::JsonLd { .. } => NamedNode::new_unchecked(format!("{W3C_FORMATS}JSON-LD")),
        other => NamedNode::new_unchecked(other.iri()),
    }
}

/// The description of the endpoint at `endpoint` (the IRI clients use to reach it). A
/// published version (`version`: generation and IRI) is read-only: no updates, and its version
/// is named.
pub fn describe(endpoint: &NamedNode, version: Option<(u64, &str)>) -> Vec<Triple> {
    let service = NamedNode::new_unchecked(format!("{}#service", endpoint.as_str()));
    let mut triples = Vec::new();
    let mut add = |s: NamedOrBlankNode, p: NamedNode, o: Term| triples.push(Triple::new(s, p, o));
    let s: NamedOrBlankNode = service.clone().into();

    add(s.clone(), rdf::TYPE.into(), sd("Service").into());
    add(s.clone(), sd("endpoint"), endpoint.clone().into());
    add(
        s.clone(),
        sd("supportedLanguage"),
        sd("SPARQL11Query").into(),
    );
    match version {
        None => add(
            s.clone(),
            sd("supportedLanguage"),
            sd("SPARQL11Update").into(),
        ),
        Some((generation, iri)) => {
            add(
                s.clone(),
                NamedNode::new_unchecked(OWL_VERSION_INFO),
                Literal::new_simple_literal(generation.to_string()).into(),
            );
            add(
                s.clone(),
                NamedNode::new_unchecked(OWL_VERSION_IRI),
                NamedNode::new_unchecked(iri).into(),
            );
        }
    }
    add(s.clone(), sd("feature"), sd("UnionDefaultGraph").into());
    add(s.clone(), sd("feature"), sd("EmptyGraphs").into());
    add(
        s.clone(),
        sd("defaultEntailmentRegime"),
        NamedNode::new_unchecked(SIMPLE_ENTAILMENT).into(),
    );
    for syntax in RESULTS_SYNTAXES {
        add(
            s.clone(),
            sd("resultFormat"),
            NamedNode::new_unchecked(syntax.format.iri()).into(),
        );
    }
    for syntax in RDF_SYNTAXES.iter().filter(|s| s.format != RdfFormat::N3) {
        add(
            s.clone(),
            sd("resultFormat"),
            rdf_format_iri(syntax.format).into(),
        );
    }

    // The default dataset: a default graph that is the union of all named graphs.
    let dataset = BlankNode::default();
    let default_graph = BlankNode::default();
    add(s, sd("defaultDataset"), dataset.clone().into());
    add(
        dataset.clone().into(),
        rdf::TYPE.into(),
        sd("Dataset").into(),
    );
    add(
        dataset.into(),
        sd("defaultGraph"),
        default_graph.clone().into(),
    );
    add(default_graph.into(), rdf::TYPE.into(), sd("Graph").into());
    triples
}
