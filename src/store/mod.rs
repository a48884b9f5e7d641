//! The embedded Oxigraph store: opening it, evaluating SPARQL on it, writing to it. Its parts:
//! `backend` (opening a store on disk, checkpoints), `backup`, `read` (the product's SELECTs, pattern reads, dumps,
//! the request's cancellation), `write` (updates, transactions, bulk loads, the Graph Store
//! operations, the audit record of each), `stream` (query results and exports as a bounded
//! stream of chunks), `bind` (values bound into parsed queries, pure algebra).
//!
//! Invariants:
//! - this is the only module that opens the store or writes to it; every write goes through
//!   [`ClaimStore::write`] (or the bulk loader), which serialises writers, because RocksDB
//!   transactions in Oxigraph have no write-write conflict detection;
//! - every write is recorded in the audit trail ([`crate::audit`], a store of its own) under the
//!   writer lock: its `started` record commits before the write does, its outcome after;
//! - the SPARQL default graph is the union of all graphs unless the request names a dataset
//!   (protocol parameters or `FROM`/`USING`/`WITH` in the operation itself);
//! - results are produced as bytes on one blocking thread (Oxigraph's `QueryResults` is not
//!   `Send`); only bytes cross to async code, through a bounded channel, so a slow client slows the
//!   query instead of filling memory, and a client that goes away cancels it.

use crate::audit::{AuditLog, Outcome};
use crate::error::{Error, Result};
use crate::index::{ClaimIndex, INDEX_DIR};
use bytes::Bytes;
use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::Variable;
use oxigraph::model::{GraphName, GraphNameRef, NamedNode, NamedOrBlankNode, Quad, Term, Triple};
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::{
    CancellationToken, QueryDatasetSpecification, QueryEvaluationError, QueryResults,
    QuerySolution, QuerySolutionIter, QueryTripleIter, SparqlEvaluator,
};
use oxigraph::store::{BulkLoader, Store, Transaction};
use spargebra::algebra::{Expression, GraphPattern};
use spargebra::term::{GroundTerm, NamedNodePattern, TermPattern};
use spargebra::{Query, SparqlParser, Update};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{mpsc, oneshot};

pub(crate) mod backend;
mod backup;
mod bind;
mod publish;
mod read;
mod stream;
mod write;

pub use backup::BackupSummary;
pub use publish::{
    diff_versions, list_versions, source_commit, verify_version, version_data_dir, FileEntry,
    Manifest, PublishOptions, Published, Version, CHANGES, MANIFEST,
};
pub use read::with_cancellation;
pub(crate) use stream::{CancelOnDrop, WriteBuffer};
pub use stream::{PendingResults, QueryBounds, ResultCap, ResultStream};
pub use write::{GraphWrite, Known, Touched};
// What the submodules share, through their `use super::*`.
use backend::{open_on_disk, remove_abandoned_bulk_files};
use bind::*;

/// The dataset a request names through the SPARQL protocol (`default-graph-uri`,
/// `named-graph-uri`, or for updates `using-graph-uri`, `using-named-graph-uri`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetParams {
    pub default_graphs: Vec<NamedNode>,
    pub named_graphs: Vec<NamedNode>,
}

impl DatasetParams {
    pub fn is_empty(&self) -> bool {
        self.default_graphs.is_empty() && self.named_graphs.is_empty()
    }

    /// Applies the protocol's rule: a dataset named in the request replaces the operation's own;
    /// with none, the operation's own `FROM`/`USING` stands; with neither, the default graph is
    /// the union of all graphs.
    fn apply_to(&self, spec: &mut QueryDatasetSpecification) {
        if !self.is_empty() {
            spec.set_default_graph(
                self.default_graphs
                    .iter()
                    .cloned()
                    .map(GraphName::from)
                    .collect(),
            );
            spec.set_available_named_graphs(
                self.named_graphs
                    .iter()
                    .cloned()
                    .map(NamedOrBlankNode::from)
                    .collect(),
            );
        } else if spec.is_default_dataset() {
            spec.set_default_graph_as_union();
        }
    }
}

/// What a query's results are serialised as: a results format for SELECT/ASK, an RDF format for
/// CONSTRUCT/DESCRIBE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputFormat {
    Results(QueryResultsFormat),
    Rdf(RdfFormat),
}

/// The claimgraph store: an Oxigraph store plus the base IRI everything is minted under, and the
/// audit trail of its writes.
pub struct ClaimStore {
    store: Store,
    /// The store's directory, canonical (a backup may not go inside it).
    dir: std::path::PathBuf,
    base: String,
    writer: Mutex<()>,
    metrics: QueryMetrics,
    audit: AuditLog,
    /// The product's own queries (`queries/api/*.rq`), each parsed once: a page or a provenance
    /// lookup runs them per request, some per graph found.
    parsed: Mutex<HashMap<String, Query>>,
    /// Writes made since the store was opened (committed or not): what is derived from the
    /// store (the drafting matcher) is rebuilt when this moves.
    writes: AtomicU64,
    /// The claims index in `<store>/index`, updated by every write before it returns.
    index: ClaimIndex,
    /// Whether opening the store rebuilt the index (it did not follow the store's last write).
    index_rebuilt: bool,
    /// While a batch of writes runs ([`ClaimStore::with_index_deferred`]): the claims they
    /// changed, read again once when the batch ends.
    deferred: Mutex<Option<write::Deferred>>,
    /// Set by `CLAIMGRAPH_BENCH_NO_INDEX` in the environment: writes leave the claims index
    /// behind (it is rebuilt at the next open). Only for measuring what the index costs a write
    /// (`./dev bench --search`).
    index_skipped: bool,
    /// The published version this store is (its generation and IRI), if it is one: opened
    /// read-only, every write refused.
    version: Option<(u64, String)>,
    /// When the store last changed, as far as this process knows: the last write's end, or
    /// when it was opened (microseconds since the epoch; HTTP's `Last-Modified`).
    changed_at: AtomicU64,
    /// Writes ended (committed or failed) since the store was opened: counted after the write,
    /// so whoever reads a new count reads the data it wrote (HTTP validators).
    writes_ended: AtomicU64,
}

/// The environment variable that has writes leave the claims index behind (benchmarks only).
const SKIP_INDEX: &str = "CLAIMGRAPH_BENCH_NO_INDEX";

/// How many distinct query texts [`ClaimStore::select`] keeps parsed (the product has about 20;
/// texts past the limit are parsed each time, so a caller with ever-new texts grows nothing).
const PARSED_QUERIES: usize = 64;

/// Counters of query activity, for `/metrics` and for tests that check cancellation.
#[derive(Debug, Default)]
pub struct QueryMetrics {
    /// Queries (and other streamed responses) being evaluated or streamed right now.
    pub running: AtomicUsize,
    /// Queries started since the store was opened.
    pub started: AtomicU64,
}

/// Counts a query as running for as long as it lives.
struct RunningQuery<'a>(&'a QueryMetrics);

impl<'a> RunningQuery<'a> {
    fn new(metrics: &'a QueryMetrics) -> Self {
        metrics.running.fetch_add(1, Ordering::SeqCst);
        metrics.started.fetch_add(1, Ordering::Relaxed);
        Self(metrics)
    }
}

impl Drop for RunningQuery<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ClaimStore {
    /// Opens (creating if absent) the RocksDB store in `path`.
    pub fn open(path: &Path, base: &str) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("cannot create store {}", path.display()), e))?;
        let dir = path
            .canonicalize()
            .map_err(|e| Error::io(format!("cannot resolve store {}", path.display()), e))?;
        let store = open_on_disk(path)?;
        // Only now, holding RocksDB's lock, is no other process loading into this directory.
        remove_abandoned_bulk_files(path)?;
        // Inside the store's directory (RocksDB ignores a directory it did not make), so that
        // the trail moves, is backed up and is removed with the store.
        let audit = AuditLog::open(&path.join(AUDIT_DIR), base)?;
        let (index, following) = ClaimIndex::open(&path.join(INDEX_DIR))?;
        let mut store = Self::assemble(store, dir, base, audit, index, None);
        if store.index_skipped {
            tracing::warn!("{SKIP_INDEX} is set: writes leave the claims index behind; it is rebuilt at the next open");
        }
        let next = store.audit.next_sequence();
        if following != Some(next) {
            if following.is_some() || !store.store.is_empty()? {
                tracing::warn!(
                    index = ?following,
                    store = next,
                    "the claims index does not follow the store's last write: rebuilding it"
                );
            }
            store.index.rebuild(&store, next)?;
            store.index_rebuilt = true;
        }
        Ok(store)
    }

    /// A store of these parts (`version`: the published version it is, read-only).
    fn assemble(
        store: Store,
        dir: std::path::PathBuf,
        base: &str,
        audit: AuditLog,
        index: ClaimIndex,
        version: Option<(u64, String)>,
    ) -> Self {
        Self {
            store,
            dir,
            base: base.to_owned(),
            writer: Mutex::new(()),
            metrics: QueryMetrics::default(),
            audit,
            parsed: Mutex::default(),
            writes: AtomicU64::new(0),
            index,
            index_rebuilt: false,
            deferred: Mutex::default(),
            index_skipped: version.is_none() && std::env::var_os(SKIP_INDEX).is_some(),
            version,
            changed_at: AtomicU64::new(unix_now()),
            writes_ended: AtomicU64::new(0),
        }
    }

    /// Whether opening the store rebuilt its claims index.
    pub fn index_rebuilt_at_open(&self) -> bool {
        self.index_rebuilt
    }

    /// The claims index.
    pub fn index(&self) -> &ClaimIndex {
        &self.index
    }

    /// Rebuilds the claims index from the store (`claimgraph reindex`), serialised with writes.
    /// Returns how many claims it holds.
    pub fn reindex(&self) -> Result<u64> {
        let _guard = self.lock_writer();
        self.index.rebuild(self, self.audit.next_sequence())
    }

    /// The audit trail of this store's writes.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn metrics(&self) -> &QueryMetrics {
        &self.metrics
    }

    /// How many writes this store has seen since it was opened: equal numbers mean nothing has
    /// been written in between.
    pub fn generation(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// The published version this store is, if it is one: its generation and its IRI
    /// (`urn:claimgraph:version:GENERATION:DIGEST`).
    pub fn published_version(&self) -> Option<(u64, &str)> {
        self.version.as_ref().map(|(g, iri)| (*g, iri.as_str()))
    }

    /// How many writes have ended since the store was opened (see the field).
    pub fn writes_ended(&self) -> u64 {
        self.writes_ended.load(Ordering::SeqCst)
    }

    /// When the store last changed (see the field).
    pub fn changed_at(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH
            + std::time::Duration::from_micros(self.changed_at.load(Ordering::SeqCst))
    }

    /// The base IRI every IRI the project mints sits under, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The store's directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The IRI of a named graph the project manages, e.g. `graph_iri("sources")`.
    pub fn graph_iri(&self, name: &str) -> Result<NamedNode> {
        NamedNode::new(format!("{}graphs/{name}", self.base))
            .map_err(|e| Error::Invalid(format!("invalid graph name {name:?}: {e}")))
    }

    /// Parses a query; relative IRIs resolve against the base IRI.
    pub fn parse_query(&self, text: &str) -> Result<Query> {
        Ok(self.parser()?.parse_query(text)?)
    }

    /// Parses an update; relative IRIs resolve against the base IRI.
    pub fn parse_update(&self, text: &str) -> Result<Update> {
        Ok(self.parser()?.parse_update(text)?)
    }

    /// [`ClaimStore::parse_query`], from the cache of parsed texts when it holds `text`.
    fn parsed_query(&self, text: &str) -> Result<Query> {
        // A panic while holding the lock leaves the map as it was: every entry is complete.
        if let Some(query) = self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(text)
        {
            return Ok(query.clone());
        }
        let query = self.parse_query(text)?;
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if parsed.len() < PARSED_QUERIES {
            parsed.insert(text.to_owned(), query.clone());
        }
        Ok(query)
    }

    fn parser(&self) -> Result<SparqlParser> {
        SparqlParser::new()
            .with_base_iri(self.base.as_str())
            .map_err(|e| Error::Invalid(format!("invalid base IRI {}: {e}", self.base)))
    }

    /// Number of quads in the store.
    pub fn len(&self) -> Result<usize> {
        Ok(self.store.len()?)
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.store.is_empty()?)
    }
}
/// Microseconds since the epoch, now.
fn unix_now() -> u64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// The audit store's directory inside the store's (see [`crate::audit`]).
pub const AUDIT_DIR: &str = "audit";

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::Literal;
    use oxigraph::sparql::QueryEvaluationError;

    fn select(query: &str, bindings: &[(&str, Term)]) -> Vec<Vec<Option<Term>>> {
        let dir = tempfile::tempdir().unwrap();
        let store = ClaimStore::open(dir.path(), crate::DEFAULT_BASE).unwrap();
        store
            .update(
                store
                    .parse_update("INSERT DATA { GRAPH <g> { <a> <p> 1 . <b> <p> 2 . <c> <p> 3 } }")
                    .unwrap(),
                &DatasetParams::default(),
            )
            .unwrap();
        store.select_with(query, bindings).unwrap()
    }

    #[test]
    fn a_cancelled_request_stops_its_lookups() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClaimStore::open(dir.path(), crate::DEFAULT_BASE).unwrap();
        let update = store.parse_update("INSERT DATA { <a> <p> 1 }").unwrap();
        store.update(update, &DatasetParams::default()).unwrap();
        let token = CancellationToken::new();
        token.cancel();
        let (outcome, read) = with_cancellation(token, || {
            let outcome = store.select_rows("SELECT * { ?s ?p ?o }", &[], usize::MAX);
            let read: Result<Vec<_>> = store.quads_matching(None, None, None, None).collect();
            (outcome, read)
        });
        for outcome in [outcome.map(|_| ()), read.map(|_| ())] {
            assert!(matches!(
                outcome,
                Err(Error::Evaluation(QueryEvaluationError::Cancelled))
            ));
        }
        // Outside the request, lookups run again.
        assert!(store.select_rows("SELECT * { ?s ?p ?o }", &[], 1).is_ok());
        assert_eq!(store.quads_matching(None, None, None, None).count(), 1);
    }

    /// The patched Oxigraph (vendor/README.md) answers the strings of a pattern read or a query
    /// from the last ones it read, in slots chosen by hash (256, then 4,096 once it has missed
    /// 4,096 times): with far more distinct strings than slots, shared ones and strings too long
    /// to keep, every read must still give back exactly what was written.
    #[test]
    fn reads_and_queries_give_back_every_string_as_written() {
        use std::collections::BTreeSet;
        let dir = tempfile::tempdir().unwrap();
        let store = ClaimStore::open(dir.path(), crate::DEFAULT_BASE).unwrap();
        let long = "x".repeat(300);
        let expected: BTreeSet<String> = (0..6000)
            .map(|i| {
                let object = match i % 3 {
                    0 => format!("<http://example.org/object/{i}>"),
                    1 => format!("\"a literal longer than fifteen bytes {}\"", i % 2800),
                    _ => format!("\"{long} {}\"", i % 400),
                };
                format!(
                    "<http://example.org/subject/{}> <http://example.org/predicate/{}> {object} \
                     <http://example.org/graph/{}> .",
                    i % 2100,
                    i % 11,
                    i % 7
                )
            })
            .collect();
        let data = expected.iter().fold(String::new(), |mut data, quad| {
            let (triple, graph) = quad.trim_end_matches(" .").rsplit_once(' ').unwrap();
            data.push_str(&format!("GRAPH {graph} {{ {triple} }}\n"));
            data
        });
        let update = store
            .parse_update(&format!("INSERT DATA {{ {data} }}"))
            .unwrap();
        store.update(update, &DatasetParams::default()).unwrap();

        let read = |quads: Vec<Quad>| -> BTreeSet<String> {
            quads.iter().map(|quad| format!("{quad} .")).collect()
        };
        let all: Vec<Quad> = store.quads(None).collect::<Result<_>>().unwrap();
        assert_eq!(read(all), expected);
        let by_subject = (0..2100).flat_map(|i| {
            let subject = NamedNode::new_unchecked(format!("http://example.org/subject/{i}"));
            store.quads_matching(Some(&subject.into()), None, None, None)
        });
        assert_eq!(read(by_subject.collect::<Result<_>>().unwrap()), expected);
        // SPARQL answers decode through the same table.
        let rows = store
            .select_with("SELECT ?s ?p ?o ?g { GRAPH ?g { ?s ?p ?o } }", &[])
            .unwrap();
        let answered = rows.into_iter().map(|row| {
            let [s, p, o, g] = <[Option<Term>; 4]>::try_from(row)
                .unwrap()
                .map(Option::unwrap);
            let (Term::NamedNode(s), Term::NamedNode(p), Term::NamedNode(g)) = (s, p, g) else {
                panic!("an IRI was expected");
            };
            Quad::new(s, p, o, g)
        });
        assert_eq!(read(answered.collect()), expected);
    }

    #[test]
    fn bound_values_reach_patterns_filters_and_expressions() {
        let two = Term::from(Literal::from(2));
        let b = Term::from(NamedNode::new_unchecked("http://localhost:7878/b"));
        let value = |rows: Vec<Vec<Option<Term>>>| rows[0][0].clone();
        assert_eq!(
            value(select(
                "SELECT ?y { BIND(?x AS ?y) }",
                &[("x", two.clone())]
            )),
            Some(two.clone())
        );
        assert_eq!(
            value(select("SELECT ?o { ?s <p> ?o }", &[("s", b.clone())])),
            Some(two.clone())
        );
        assert_eq!(
            value(select(
                "SELECT ?s { ?s <p> ?o FILTER(?o > ?min) }",
                &[("min", two.clone())]
            )),
            Some(Term::from(NamedNode::new_unchecked(
                "http://localhost:7878/c"
            )))
        );
        assert_eq!(
            value(select(
                "SELECT (COUNT(*) AS ?n) { ?s <p> ?o FILTER(!BOUND(?max) || ?o < ?max) }",
                &[("max", two)]
            )),
            Some(Literal::from(1).into())
        );
        assert_eq!(
            value(select(
                "SELECT (COUNT(*) AS ?n) { ?s <p> ?o FILTER(!BOUND(?max) || ?o < ?max) }",
                &[]
            )),
            Some(Literal::from(3).into())
        );
        // A lookup whose pattern starts with OPTIONAL: one row for the item, even without a value.
        let a = Term::from(NamedNode::new_unchecked("http://localhost:7878/a"));
        let nobody = Term::from(NamedNode::new_unchecked("http://localhost:7878/nobody"));
        assert_eq!(
            select(
                "SELECT ?s ?o { OPTIONAL { ?s <p> ?o } }",
                &[("s", a.clone())]
            ),
            vec![vec![Some(a.clone()), Some(Literal::from(1).into())]]
        );
        assert_eq!(
            select(
                "SELECT ?s ?o { OPTIONAL { ?s <p> ?o } }",
                &[("s", nobody.clone())]
            ),
            vec![vec![Some(nobody), None]]
        );
        // A sub-SELECT's own variable of the same name is not the bound one.
        assert_eq!(
            value(select(
                "SELECT ?m { ?s <p> 1 { SELECT (COUNT(?s) AS ?m) { ?s <p> ?o } } }",
                &[("s", a)]
            )),
            Some(Literal::from(3).into())
        );
        assert_eq!(
            select(
                "SELECT ?o { ?s <p> ?o FILTER EXISTS { ?s <p> ?x } }",
                &[("x", b)]
            )
            .len(),
            0
        );
    }
}
