//! SHACL validation of compiled sheets against `ontology/shapes.ttl`.
//!
//! A small SHACL Core engine for the constraint components the shapes use: `sh:targetClass`
//! node shapes with `sh:property` shapes whose `sh:path` is an IRI, constrained by `sh:minCount`,
//! `sh:maxCount`, `sh:datatype`, `sh:class`, `sh:nodeKind` (`sh:IRI`, `sh:Literal`),
//! `sh:in`, `sh:pattern` and `sh:minLength`. A shape using anything else is refused, so a shape
//! can never be ignored silently. (Why not a library: see ARCHITECTURE.md, "SHACL".)

use crate::error::{Error, Result};
use crate::vocab::SH;
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::vocab::rdf;
use oxigraph::model::{
    Graph, NamedNode, NamedOrBlankNodeRef, Quad, Term, TermRef, Triple, TripleRef,
};

/// The shapes, compiled in so that validation never depends on the working directory.
pub const SHAPES: &str = include_str!("../../ontology/shapes.ttl");

fn sh(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{SH}{local}"))
}

/// Every violation of the shapes by `quads` (all graphs merged), as readable sentences.
pub fn validate<'a>(quads: impl IntoIterator<Item = &'a Quad>) -> Result<Vec<String>> {
    let shapes: Graph = RdfParser::from_format(RdfFormat::Turtle)
        .for_slice(SHAPES.as_bytes())
        .map(|q| q.map(Triple::from))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Invalid(format!("ontology/shapes.ttl: {e}")))?;
    let mut data = Graph::new();
    data.extend(quads.into_iter().map(|q| TripleRef::from(q.as_ref())));
    let mut violations = Vec::new();
    let allowed: Vec<NamedNode> = [
        "path",
        "minCount",
        "maxCount",
        "datatype",
        "class",
        "nodeKind",
        "in",
        "pattern",
        "minLength",
    ]
    .iter()
    .map(|l| sh(l))
    .collect();

    for shape in shapes.subjects_for_predicate_object(rdf::TYPE, &sh("NodeShape")) {
        let Some(TermRef::NamedNode(class)) =
            shapes.object_for_subject_predicate(shape, &sh("targetClass"))
        else {
            return Err(Error::Invalid(format!(
                "shape {shape} has no sh:targetClass"
            )));
        };
        let focus_nodes: Vec<NamedOrBlankNodeRef<'_>> = data
            .subjects_for_predicate_object(rdf::TYPE, class)
            .collect();
        for property in shapes.objects_for_subject_predicate(shape, &sh("property")) {
            let property: NamedOrBlankNodeRef<'_> = match property {
                TermRef::NamedNode(n) => n.into(),
                TermRef::BlankNode(b) => b.into(),
                _ => continue,
            };
            for triple in shapes.triples_for_subject(property) {
                if !allowed.iter().any(|a| a.as_ref() == triple.predicate) {
                    return Err(Error::Invalid(format!(
                        "ontology/shapes.ttl uses {}, which claimgraph's SHACL engine does not implement",
                        triple.predicate
                    )));
                }
            }
            let Some(TermRef::NamedNode(path)) =
                shapes.object_for_subject_predicate(property, &sh("path"))
            else {
                return Err(Error::Invalid(
                    "a property shape needs an IRI sh:path".into(),
                ));
            };
            let get = |name: &str| shapes.object_for_subject_predicate(property, &sh(name));
            let integer = |name: &str| match get(name) {
                Some(TermRef::Literal(l)) => l.value().parse::<usize>().ok(),
                _ => None,
            };
            for focus in &focus_nodes {
                let values: Vec<TermRef<'_>> =
                    data.objects_for_subject_predicate(*focus, path).collect();
                let mut fail = |message: String| {
                    violations.push(format!(
                        "{focus} {path}: {message} (shape {})",
                        class.as_str()
                    ));
                };
                if let Some(min) = integer("minCount") {
                    if values.len() < min {
                        fail(format!(
                            "{} value(s), at least {min} required",
                            values.len()
                        ));
                    }
                }
                if let Some(max) = integer("maxCount") {
                    if values.len() > max {
                        fail(format!("{} values, at most {max} allowed", values.len()));
                    }
                }
                for value in &values {
                    if let Some(TermRef::NamedNode(datatype)) = get("datatype") {
                        let actual = match value {
                            TermRef::Literal(l) => Some(l.datatype()),
                            _ => None,
                        };
                        if actual != Some(datatype) {
                            fail(format!("{value} is not a {}", datatype.as_str()));
                        }
                    }
                    if let Some(TermRef::NamedNode(expected)) = get("class") {
                        let typed = match value {
                            TermRef::NamedNode(n) => data
                                .contains(oxigraph::model::TripleRef::new(*n, rdf::TYPE, expected)),
                            TermRef::BlankNode(b) => data
                                .contains(oxigraph::model::TripleRef::new(*b, rdf::TYPE, expected)),
                            _ => false,
                        };
                        if !typed {
                            fail(format!("{value} is not a {}", expected.as_str()));
                        }
                    }
                    if let Some(TermRef::NamedNode(kind)) = get("nodeKind") {
                        let ok = match kind.as_str().strip_prefix(SH) {
                            Some("IRI") => matches!(value, TermRef::NamedNode(_)),
                            Some("Literal") => matches!(value, TermRef::Literal(_)),
                            _ => false,
                        };
                        if !ok {
                            fail(format!("{value} is not of node kind {}", kind.as_str()));
                        }
                    }
                    if let Some(list) = get("in") {
                        let members = list_members(&shapes, list);
                        if !members.iter().any(|m| m.as_ref() == *value) {
                            fail(format!("{value} is not one of the allowed values"));
                        }
                    }
                    let lexical = match value {
                        TermRef::Literal(l) => Some(l.value()),
                        TermRef::NamedNode(n) => Some(n.as_str()),
                        _ => None,
                    };
                    if let (Some(TermRef::Literal(pattern)), Some(lexical)) =
                        (get("pattern"), lexical)
                    {
                        let regex = regex::Regex::new(pattern.value()).map_err(|e| {
                            Error::Invalid(format!("sh:pattern {}: {e}", pattern.value()))
                        })?;
                        if !regex.is_match(lexical) {
                            fail(format!("{value} does not match {}", pattern.value()));
                        }
                    }
                    if let (Some(min), Some(lexical)) = (integer("minLength"), lexical) {
                        if lexical.chars().count() < min {
                            fail(format!("{value} is shorter than {min}"));
                        }
                    }
                }
            }
        }
    }
    Ok(violations)
}

fn list_members<'a>(graph: &'a Graph, mut head: TermRef<'a>) -> Vec<Term> {
    let mut members = Vec::new();
    while let TermRef::NamedNode(_) | TermRef::BlankNode(_) = head {
        if head == TermRef::from(rdf::NIL) {
            break;
        }
        let subject: NamedOrBlankNodeRef<'_> = match head {
            TermRef::NamedNode(n) => n.into(),
            TermRef::BlankNode(b) => b.into(),
            _ => break,
        };
        let Some(first) = graph.object_for_subject_predicate(subject, rdf::FIRST) else {
            break;
        };
        members.push(first.into_owned());
        let Some(rest) = graph.object_for_subject_predicate(subject, rdf::REST) else {
            break;
        };
        head = rest;
    }
    members
}
