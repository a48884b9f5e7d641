//! The data files: what the data directories hold (`files_under`) and the record of what they
//! put into the store: for each data file or claim sheet (by its path under its data
//! directory), its SHA-256 and the graphs it filled, in the graph `{base}graphs/data-files`. The start-up sync (`loader`) and `claimgraph ingest` (`claims`)
//! read it to know what changed and which graphs a file replaces, and write it in the same
//! transaction as the graphs.
//!
//! Invariant: the only module that reads or writes the data-files graph; a record is written
//! and removed only inside the transaction that changes the graphs it names.

use crate::error::{Error, Result};
use crate::store::ClaimStore;
use crate::vocab::CG;
use oxigraph::model::vocab::rdf;
use oxigraph::model::{
    GraphName, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, QuadRef, Term,
};
use oxigraph::store::Transaction;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// One data file as recorded in the data-files graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub sha256: String,
    pub graphs: BTreeSet<NamedNode>,
}

fn record_iri(store: &ClaimStore, key: &str) -> Result<NamedNode> {
    NamedNode::new(format!(
        "{}data-files/{}",
        store.base(),
        percent_encode(key)
    ))
    .map_err(|e| Error::Invalid(format!("cannot name data file {key:?}: {e}")))
}

fn cg(local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{CG}{local}"))
}

pub fn read_records(
    store: &ClaimStore,
    meta_graph: &NamedNode,
) -> Result<BTreeMap<String, Recorded>> {
    records(store.quads(Some(meta_graph)))
}

/// The record of the file recorded under `key`, if any: a lookup of its own quads, not a read of
/// every record (which grows with the store).
pub fn read_record(
    store: &ClaimStore,
    meta_graph: &NamedNode,
    key: &str,
) -> Result<Option<Recorded>> {
    let subject = record_iri(store, key)?;
    let graph = NamedOrBlankNode::from(meta_graph.clone());
    let quads = store.quads_matching(Some(&subject.into()), None, None, Some(&graph));
    Ok(records(quads)?.remove(key))
}

/// Records from the quads of a bookkeeping graph.
fn records(quads: impl Iterator<Item = Result<Quad>>) -> Result<BTreeMap<String, Recorded>> {
    let (path_p, sha_p, graph_p) = (cg("path"), cg("sha256"), cg("loadedGraph"));
    let mut by_subject: HashMap<NamedOrBlankNode, (Option<String>, Recorded)> = HashMap::new();
    for quad in quads {
        let quad = quad?;
        let entry = by_subject.entry(quad.subject.clone()).or_insert_with(|| {
            (
                None,
                Recorded {
                    sha256: String::new(),
                    graphs: BTreeSet::new(),
                },
            )
        });
        match (&quad.predicate, quad.object) {
            (p, Term::Literal(l)) if *p == path_p => entry.0 = Some(l.value().to_owned()),
            (p, Term::Literal(l)) if *p == sha_p => entry.1.sha256 = l.value().to_owned(),
            (p, Term::NamedNode(g)) if *p == graph_p => {
                entry.1.graphs.insert(g);
            }
            _ => {}
        }
    }
    Ok(by_subject
        .into_values()
        .filter_map(|(key, record)| Some((key?, record)))
        .collect())
}

pub fn write_record(
    transaction: &mut Transaction<'_>,
    store: &ClaimStore,
    meta_graph: &NamedNode,
    key: &str,
    record: &Recorded,
) -> Result<()> {
    let subject = record_iri(store, key)?;
    let graph = GraphName::from(meta_graph.clone());
    let quad = |p: NamedNode, o: Term| Quad::new(subject.clone(), p, o, graph.clone());
    transaction.insert(&quad(rdf::TYPE.into_owned(), cg("DataFile").into()));
    transaction.insert(&quad(cg("path"), Literal::from(key).into()));
    transaction.insert(&quad(
        cg("sha256"),
        Literal::from(record.sha256.as_str()).into(),
    ));
    for g in &record.graphs {
        transaction.insert(&quad(cg("loadedGraph"), g.clone().into()));
    }
    Ok(())
}

pub fn remove_record(
    transaction: &mut Transaction<'_>,
    store: &ClaimStore,
    meta_graph: &NamedNode,
    key: &str,
) -> Result<()> {
    let subject = record_iri(store, key)?;
    let old: Vec<Quad> = transaction
        .quads_for_pattern(
            Some(subject.as_ref().into()),
            None,
            None,
            Some(NamedNodeRef::from(meta_graph).into()),
        )
        .collect::<std::result::Result<_, _>>()?;
    for quad in &old {
        transaction.remove(QuadRef::from(quad));
    }
    Ok(())
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Every file under `dir`, recursively, in a stable order (empty if `dir` does not exist).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let list_error = |e| Error::io(format!("cannot list {}", current.display()), e);
        for entry in std::fs::read_dir(&current).map_err(list_error)? {
            let path = entry.map_err(list_error)?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
