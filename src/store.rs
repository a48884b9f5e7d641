//! The embedded Oxigraph store: opening it, evaluating SPARQL on it, writing to it.
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
}

/// How many distinct query texts [`ClaimStore::select`] keeps parsed (the product has about 20;
/// texts past the limit are parsed each time, so a caller with ever-new texts grows nothing).
const PARSED_QUERIES: usize = 64;

/// The graphs a write touches, as far as it is known before it runs: what its audit record names,
/// and what is counted before and after it to give the quads added and removed.
#[derive(Debug, Clone, Default)]
pub struct Touched {
    /// Graphs read from or replaced (`prov:used`).
    pub used: Vec<GraphName>,
    /// Graphs added to (`prov:generated`).
    pub generated: Vec<GraphName>,
    /// The write may touch graphs not listed (a `GRAPH ?g` template, `DROP ALL`, a bulk load):
    /// the whole store is counted.
    pub anywhere: bool,
    /// The write replaces what the graphs held (Graph Store PUT, DELETE): all of it counts as
    /// removed and all it holds afterwards as added. Otherwise the counts are the net change.
    pub replaces: bool,
}

impl Touched {
    fn everything() -> Self {
        Self {
            anywhere: true,
            ..Self::default()
        }
    }

    /// Graphs replaced: those in `old` are emptied, those in `new` filled (a re-ingested claim
    /// sheet). Everything the graphs held before counts as removed, everything after as added.
    pub fn replacing(old: &[NamedNode], new: &[NamedNode]) -> Self {
        let graphs = |list: &[NamedNode]| -> Vec<GraphName> {
            list.iter().cloned().map(GraphName::NamedNode).collect()
        };
        Self {
            used: graphs(old),
            generated: graphs(new),
            anywhere: false,
            replaces: true,
        }
    }

    /// One graph, replaced (`used`) and written (`generated`).
    pub fn graph(graph: GraphNameRef<'_>, replaced: bool, written: bool) -> Self {
        let graph = graph.into_owned();
        Self {
            used: if replaced {
                vec![graph.clone()]
            } else {
                Vec::new()
            },
            generated: if written { vec![graph] } else { Vec::new() },
            anywhere: false,
            replaces: replaced,
        }
    }

    /// The graphs an update names; `anywhere` if one is only known when it runs.
    pub fn of_update(update: &Update) -> Self {
        use spargebra::algebra::GraphTarget;
        use spargebra::term::GraphNamePattern;
        use spargebra::GraphUpdateOperation as Op;
        let mut touched = Self::default();
        let name = |graph: &spargebra::term::GraphName| match graph {
            spargebra::term::GraphName::NamedNode(node) => GraphName::NamedNode(node.clone()),
            spargebra::term::GraphName::DefaultGraph => GraphName::DefaultGraph,
        };
        let pattern = |graph: &GraphNamePattern, anywhere: &mut bool| match graph {
            GraphNamePattern::NamedNode(node) => Some(GraphName::NamedNode(node.clone())),
            GraphNamePattern::DefaultGraph => Some(GraphName::DefaultGraph),
            GraphNamePattern::Variable(_) => {
                *anywhere = true;
                None
            }
        };
        for operation in &update.operations {
            match operation {
                Op::InsertData { data } => touched
                    .generated
                    .extend(data.iter().map(|q| name(&q.graph_name))),
                Op::DeleteData { data } => touched
                    .used
                    .extend(data.iter().map(|q| name(&q.graph_name))),
                Op::DeleteInsert { delete, insert, .. } => {
                    for quad in delete {
                        if let Some(g) = pattern(&quad.graph_name, &mut touched.anywhere) {
                            touched.used.push(g);
                        }
                    }
                    for quad in insert {
                        if let Some(g) = pattern(&quad.graph_name, &mut touched.anywhere) {
                            touched.generated.push(g);
                        }
                    }
                }
                Op::Load { destination, .. } => touched.generated.push(name(destination)),
                Op::Create { graph, .. } => touched.generated.push(graph.clone().into()),
                Op::Clear { graph, .. } | Op::Drop { graph, .. } => match graph {
                    GraphTarget::NamedNode(node) => touched.used.push(node.clone().into()),
                    GraphTarget::DefaultGraph => touched.used.push(GraphName::DefaultGraph),
                    GraphTarget::NamedGraphs | GraphTarget::AllGraphs => touched.anywhere = true,
                },
            }
        }
        for list in [&mut touched.used, &mut touched.generated] {
            let mut seen = std::collections::HashSet::new();
            list.retain(|g| seen.insert(g.clone()));
        }
        touched
    }

    fn iris(graphs: &[GraphName]) -> Vec<NamedNode> {
        graphs
            .iter()
            .filter_map(|g| match g {
                GraphName::NamedNode(node) => Some(node.clone()),
                _ => None,
            })
            .collect()
    }
}

/// What [`ClaimStore::backup`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Quads in the backup.
    pub quads: usize,
    /// Bytes of its files (hard-linked files count in full, though they take no new space).
    pub bytes: u64,
    pub elapsed: std::time::Duration,
}

/// Where a backup asked for as `target` goes: an absolute path (a relative one is taken from the
/// working directory) whose existing part is resolved through symbolic links, naming a new
/// directory outside the store directory `store` (canonical). Refused, before anything is
/// created, when it would lie inside the store, or when the part that does not exist yet holds
/// `..` (which cannot be resolved before it exists).
fn backup_target(store: &Path, target: &Path) -> Result<std::path::PathBuf> {
    let refuse =
        |why: &str| Error::Invalid(format!("cannot back up into {}: {why}", target.display()));
    let absolute = std::path::absolute(target).map_err(|e| refuse(&e.to_string()))?;
    // The deepest ancestor that exists, resolved; the rest appended as written.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let resolved = loop {
        match existing.canonicalize() {
            Ok(resolved) => break resolved,
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(refuse("no part of the path exists"));
                };
                rest.push(name);
                existing = parent;
            }
        }
    };
    if rest.is_empty() {
        return Err(refuse(
            "it already exists (a backup goes into a new directory)",
        ));
    }
    let mut resolved = resolved;
    for name in rest.iter().rev() {
        if *name == ".." || *name == "." {
            return Err(refuse(
                "`..` and `.` are not allowed in the part of the path that does not exist yet",
            ));
        }
        resolved.push(name);
    }
    if resolved.starts_with(store) {
        return Err(refuse(&format!(
            "it is inside the store directory {} (back up to a directory outside it)",
            store.display()
        )));
    }
    Ok(resolved)
}

/// A new directory beside `target` for the checkpoints to be written into before they are
/// renamed over it (same file system, so the rename is atomic). Unique within this process; a
/// leftover from a killed process has another process id in its name.
fn staging_dir(target: &Path) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let name: String = name.chars().take(64).collect();
    target.with_file_name(format!(
        ".{name}.backup-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Oxigraph's bulk loader writes `bulk-*.sst` files into the store directory and removes them
/// after they are ingested (or when the load fails); a process killed meanwhile leaves them
/// behind. RocksDB never references them by that name (ingesting moves or links them under a
/// number of its own), so they are garbage: without this they would pile up with every
/// interrupted load.
fn remove_abandoned_bulk_files(store: &Path) -> Result<()> {
    let entries = std::fs::read_dir(store)
        .map_err(|e| Error::io(format!("cannot list store {}", store.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("bulk-") && name.ends_with(".sst") {
            std::fs::remove_file(entry.path())
                .map_err(|e| Error::io(format!("cannot remove {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}

/// Opens (creating if absent) the RocksDB store in `path`.
#[cfg(feature = "rocksdb")]
pub(crate) fn open_on_disk(path: &Path) -> Result<Store> {
    Ok(Store::open(path)?)
}

#[cfg(feature = "rocksdb")]
fn open_read_only(path: &Path) -> Result<Store> {
    Ok(Store::open_read_only(path)?)
}

#[cfg(feature = "rocksdb")]
fn checkpoint(store: &Store, target: &Path) -> Result<()> {
    Ok(store.backup(target)?)
}

// Built without RocksDB (only the fuzz targets are, so that their sanitizer builds need not
// compile its C++): nothing that needs a store on disk can run.
#[cfg(not(feature = "rocksdb"))]
pub(crate) fn open_on_disk(path: &Path) -> Result<Store> {
    Err(without_rocksdb(path))
}

#[cfg(not(feature = "rocksdb"))]
fn open_read_only(path: &Path) -> Result<Store> {
    Err(without_rocksdb(path))
}

#[cfg(not(feature = "rocksdb"))]
fn checkpoint(_: &Store, target: &Path) -> Result<()> {
    Err(without_rocksdb(target))
}

#[cfg(not(feature = "rocksdb"))]
fn without_rocksdb(path: &Path) -> Error {
    Error::Invalid(format!(
        "cannot open the store {}: this build has no RocksDB (the `rocksdb` feature is off)",
        path.display()
    ))
}

fn dir_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

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
        Ok(Self {
            store,
            dir,
            base: base.to_owned(),
            writer: Mutex::new(()),
            metrics: QueryMetrics::default(),
            audit,
            parsed: Mutex::default(),
        })
    }

    /// Copies the store and its audit trail, as they are at one instant, into the new directory
    /// `target`, while the store stays open for reading and writing (RocksDB checkpoints:
    /// immutable files are hard-linked when `target` is on the same file system, copied
    /// otherwise). Writes wait meanwhile, so the copy and its trail agree: a write committed
    /// before the call is in the copy, one asked for during it comes after. The copy is a store
    /// of its own: open it with `--store`. `target` must not exist (a backup never overwrites);
    /// its parent is created if needed. On failure nothing is left at `target`.
    ///
    /// `target` may not lie inside the store's own directory (a checkpoint there would be copied
    /// into itself by the next backup, and would sit among the live store's files). It is
    /// reserved by creating it before anything is copied, so of several backups asked for at once
    /// into one directory exactly one proceeds; the checkpoints are written beside it and renamed
    /// over the empty reservation once complete.
    pub fn backup(&self, target: &Path) -> Result<BackupSummary> {
        let target = backup_target(&self.dir, target)?;
        let named = |what: &str| format!("cannot back up into {}: {what}", target.display());
        let started = std::time::Instant::now();
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Invalid(named(&format!("cannot create its parent: {e}"))))?;
        }
        // The reservation: `mkdir` is atomic, so two backups into one directory cannot both pass.
        std::fs::create_dir(&target).map_err(|e| {
            Error::Invalid(named(&if e.kind() == io::ErrorKind::AlreadyExists {
                "it already exists (a backup goes into a new directory)".to_owned()
            } else {
                format!("cannot create it: {e}")
            }))
        })?;
        let staging = staging_dir(&target);
        let made = (|| {
            {
                let _writes_wait = self.lock_writer();
                checkpoint(&self.store, &staging)?;
                checkpoint(self.audit.store(), &staging.join(AUDIT_DIR))?;
            }
            // Replaces the empty reservation; fails (and leaves it) if anything was put into it.
            std::fs::rename(&staging, &target)
                .map_err(|e| Error::io(named("cannot move the finished copy into place"), e))?;
            // Reopening the copy proves it usable and counts what it holds, not what the live
            // store holds by now.
            Ok(open_read_only(&target)?.len()?)
        })();
        let quads = made.map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            // Only what this backup made: the reservation if it is still empty, else the copy.
            if std::fs::remove_dir(&target).is_err() && target.join(AUDIT_DIR).is_dir() {
                let _ = std::fs::remove_dir_all(&target);
            }
            match e {
                Error::Invalid(message) => Error::Invalid(named(&message)),
                other => other,
            }
        })?;
        Ok(BackupSummary {
            quads,
            bytes: dir_size(&target).map_err(|e| Error::io(named("cannot measure it"), e))?,
            elapsed: started.elapsed(),
        })
    }

    /// The audit trail of this store's writes.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub fn metrics(&self) -> &QueryMetrics {
        &self.metrics
    }

    /// The base IRI every IRI the project mints sits under, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
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

    /// Runs a SELECT over the union default graph and collects its rows, for the product's own
    /// small queries (from `queries/`), never for user queries, which stream.
    pub fn select(&self, query: &str) -> Result<Vec<Vec<Option<Term>>>> {
        self.select_with(query, &[])
    }

    /// [`ClaimStore::select`] with variables bound to values before evaluation: the way user
    /// input reaches a query (parsed as terms, never spliced into the query text).
    pub fn select_with(
        &self,
        query: &str,
        bindings: &[(&str, Term)],
    ) -> Result<Vec<Vec<Option<Term>>>> {
        self.select_rows(query, bindings, usize::MAX)
    }

    /// [`ClaimStore::select_with`], stopping after `max_rows` rows (for paging: evaluation stops
    /// there too, as far as the query's ORDER BY allows).
    pub fn select_rows(
        &self,
        query: &str,
        bindings: &[(&str, Term)],
        max_rows: usize,
    ) -> Result<Vec<Vec<Option<Term>>>> {
        let solutions = self.solutions(query, bindings, current_cancellation())?;
        let variables = solutions.variables().to_vec();
        solutions
            .take(max_rows)
            .map(|solution| {
                let solution = solution?;
                Ok(variables.iter().map(|v| solution.get(v).cloned()).collect())
            })
            .collect()
    }

    /// A SELECT over the union default graph whose rows (values in the order of the SELECT
    /// clause) go to `row` as they are produced, never collected, so exports walk the store in
    /// memory that does not grow with it. Stops at the first error of `row`, or when `cancel` is
    /// cancelled. Values are bound as by [`ClaimStore::select_with`].
    pub fn select_each(
        &self,
        query: &str,
        bindings: &[(&str, Term)],
        cancel: CancellationToken,
        mut row: impl FnMut(&[Option<Term>]) -> Result<()>,
    ) -> Result<()> {
        let solutions = self.solutions(query, bindings, cancel)?;
        let variables = solutions.variables().to_vec();
        let mut values = Vec::with_capacity(variables.len());
        for solution in solutions {
            let solution = solution?;
            values.clear();
            values.extend(variables.iter().map(|v| solution.get(v).cloned()));
            row(&values)?;
        }
        Ok(())
    }

    /// Evaluates one of the product's own SELECTs with values bound (see [`bind`]).
    fn solutions(
        &self,
        query: &str,
        bindings: &[(&str, Term)],
        cancel: CancellationToken,
    ) -> Result<QuerySolutionIter<'static>> {
        let mut query = self.parsed_query(query)?;
        bind(&mut query, bindings)?;
        let mut prepared = SparqlEvaluator::new()
            .with_cancellation_token(cancel)
            .for_query(query);
        prepared.dataset_mut().set_default_graph_as_union();
        match prepared.on_store(&self.store).execute()? {
            QueryResults::Solutions(solutions) => Ok(solutions),
            _ => Err(Error::Invalid("not a SELECT query".into())),
        }
    }

    /// Every quad whose subject is `subject`, in any graph.
    pub fn quads_about(&self, subject: &NamedOrBlankNode) -> Result<Vec<Quad>> {
        self.quads_matching(Some(subject), None, None, None)
            .collect()
    }

    /// The quads matching a pattern (`None`: any term; a `graph` of `None`: every graph, the
    /// default graph included), read from the store's indexes as they are needed: no query to
    /// plan, and nothing decoded beyond the quads that match. Like the product's queries, the
    /// reads stop (with a `Cancelled` error) once the request they work for is cancelled.
    pub fn quads_matching(
        &self,
        subject: Option<&NamedOrBlankNode>,
        predicate: Option<&NamedNode>,
        object: Option<&Term>,
        graph: Option<&NamedOrBlankNode>,
    ) -> impl Iterator<Item = Result<Quad>> + use<> {
        let cancel = current_cancellation();
        self.store
            .quads_for_pattern(
                subject.map(NamedOrBlankNode::as_ref),
                predicate.map(NamedNode::as_ref),
                object.map(Term::as_ref),
                graph.map(|g| g.as_ref().into()),
            )
            .map(move |quad| {
                if cancel.is_cancelled() {
                    return Err(Error::Evaluation(QueryEvaluationError::Cancelled));
                }
                quad.map_err(Error::from)
            })
    }

    /// Evaluates a query up to its first result, so that errors surface before anything is
    /// written. The returned value must be consumed on the same thread.
    pub fn start_query(
        &self,
        query: Query,
        dataset: &DatasetParams,
        format: OutputFormat,
        cancel: CancellationToken,
    ) -> Result<PendingResults> {
        start_query_on(&self.store, query, dataset, format, cancel)
    }

    /// [`ClaimStore::stream_query`] on the audit trail's store (for admins: `/audit/sparql`).
    pub async fn stream_audit_query(
        self: &Arc<Self>,
        query: Query,
        format: OutputFormat,
        bounds: QueryBounds,
    ) -> Result<ResultStream> {
        self.stream_results(bounds, move |store, cancel| {
            let dataset = DatasetParams::default();
            start_query_on(store.audit.store(), query, &dataset, format, cancel)
        })
        .await
    }

    /// Streams the whole audit trail into `writer` as triples.
    pub fn dump_audit<W: Write>(&self, format: RdfFormat, writer: W) -> Result<W> {
        self.audit
            .store()
            .dump_graph_to_writer(
                GraphNameRef::DefaultGraph,
                RdfSerializer::from_format(format)
                    .with_prefix("prov", crate::vocab::PROV)
                    .and_then(|s| s.with_prefix("cg", crate::vocab::CG))
                    .map_err(|e| Error::Internal(e.to_string()))?,
                writer,
            )
            .map_err(dump_error)
    }
}

/// Evaluates a query on `store` up to its first result (see [`ClaimStore::start_query`]).
fn start_query_on(
    store: &Store,
    query: Query,
    dataset: &DatasetParams,
    format: OutputFormat,
    cancel: CancellationToken,
) -> Result<PendingResults> {
    {
        let mut prepared = SparqlEvaluator::new()
            .with_cancellation_token(cancel)
            .for_query(query);
        dataset.apply_to(prepared.dataset_mut());
        let pending = match prepared.on_store(store).execute()? {
            QueryResults::Boolean(value) => Pending::Boolean(value),
            QueryResults::Solutions(mut solutions) => {
                let first = solutions.next().transpose()?;
                Pending::Solutions(solutions, first)
            }
            QueryResults::Graph(mut triples) => {
                let first = triples.next().transpose()?;
                Pending::Graph(triples, first)
            }
        };
        let valid = matches!(
            (&pending, format),
            (Pending::Graph(..), OutputFormat::Rdf(_))
                | (
                    Pending::Boolean(_) | Pending::Solutions(..),
                    OutputFormat::Results(_)
                )
        );
        if !valid {
            return Err(Error::Invalid(format!(
                "{format:?} cannot serialise the results of this query"
            )));
        }
        Ok(PendingResults { pending, format })
    }
}

impl ClaimStore {
    /// Evaluates a query on a blocking thread and streams its serialised results.
    ///
    /// Errors found before the first result come back as `Err`; later ones end the stream with an
    /// `Err` item, which the HTTP layer turns into an aborted response, never a complete-looking one.
    /// `bounds` may set a deadline and hold a slot until the result is written or has failed
    /// (not merely until the response ends: a client that went away frees it only when the
    /// evaluation has stopped), released before the client gets the last of the answer.
    pub async fn stream_query(
        self: &Arc<Self>,
        query: Query,
        dataset: DatasetParams,
        format: OutputFormat,
        bounds: QueryBounds,
    ) -> Result<ResultStream> {
        self.stream_results(bounds, move |store, cancel| {
            store.start_query(query, &dataset, format, cancel)
        })
        .await
    }

    /// Streams the results of the query `start` begins, within `bounds` (the row cap counted as
    /// they are written).
    async fn stream_results(
        self: &Arc<Self>,
        bounds: QueryBounds,
        start: impl FnOnce(&ClaimStore, CancellationToken) -> Result<PendingResults> + Send + 'static,
    ) -> Result<ResultStream> {
        let max_rows = bounds.max_rows;
        self.stream_bounded(bounds, move |store, cancel| {
            let pending = start(store, cancel)?;
            Ok(move |writer: &mut dyn Write| pending.write_capped(writer, max_rows).map(drop))
        })
        .await
    }

    /// Streams bytes produced on a blocking thread: `start` runs first and may fail (its error is
    /// returned, nothing has been sent); the writer it returns then writes the body, in 64 KiB
    /// chunks: the first with the news that the body started, the rest through a bounded
    /// channel. An error while writing ends the stream with an `Err` item (an aborted response,
    /// never a complete-looking one). When the stream is dropped (the client went away) the next
    /// write fails and the token is cancelled, so the work stops.
    pub async fn stream<S, W>(self: &Arc<Self>, start: S) -> Result<ResultStream>
    where
        S: FnOnce(&ClaimStore, CancellationToken) -> Result<W> + Send + 'static,
        W: FnOnce(&mut dyn Write) -> Result<()>,
    {
        self.stream_bounded(QueryBounds::default(), start).await
    }

    /// [`ClaimStore::stream`] with a deadline: when it passes, the token is cancelled (which stops
    /// evaluation at its next read from storage), the writer fails at its next chunk (which stops
    /// serialisation, and a send blocked on a slow client), and a caller still waiting for the
    /// first result gets `QueryEvaluationError::Cancelled` at once.
    pub async fn stream_bounded<S, W>(
        self: &Arc<Self>,
        bounds: QueryBounds,
        start: S,
    ) -> Result<ResultStream>
    where
        S: FnOnce(&ClaimStore, CancellationToken) -> Result<W> + Send + 'static,
        W: FnOnce(&mut dyn Write) -> Result<()>,
    {
        let QueryBounds {
            deadline,
            slot,
            max_bytes,
            ..
        } = bounds;
        let deadline = deadline.map(tokio::time::Instant::from_std);
        let cancel = CancelOnDrop(CancellationToken::new());
        let token = cancel.0.clone();
        // The timer only cancels; the query thread drops it (stopping it) however it ends.
        let timer = deadline.map(|deadline| {
            let token = token.clone();
            AbortOnDrop(tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                token.cancel();
            }))
        });
        let failed = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = oneshot::channel();
        let (bytes_tx, bytes_rx) = mpsc::channel(CHANNEL_CHUNKS);
        let store = Arc::clone(self);
        let runtime = tokio::runtime::Handle::current();
        let stream_failed = Arc::clone(&failed);
        // A query thread rather than one from tokio's blocking pool: Oxigraph plans and evaluates
        // recursively, and a query near the text limits (`http::limits`) needs more stack than
        // the pool's 2 MiB. The concurrency cap bounds how many run.
        let spawned = crate::threads::spawn(move || {
            let (mut slot, _timer) = (slot, timer);
            let _running = RunningQuery::new(&store.metrics);
            // The product's own lookups made while streaming stop with the stream too.
            with_cancellation(token.clone(), || match start(&store, token) {
                Err(error) => {
                    // The slot is free before the client hears of it: its next request finds
                    // it free.
                    drop(slot.take());
                    let _ = ready_tx.send(Err(error));
                }
                Ok(write) => {
                    // Failed until proven complete: if writing errs or panics, the closed
                    // channel still ends the stream with an error, even when the error item
                    // finds no room in the channel.
                    stream_failed.store(true, Ordering::SeqCst);
                    // The writer reports ready with its first chunk, so an error within the
                    // first 64 KiB (a broken cap, the deadline) still gets a status of its own.
                    let mut writer =
                        ChannelWriter::new(bytes_tx.clone(), deadline, runtime, ready_tx);
                    writer.max_bytes = max_bytes;
                    let outcome = write(&mut writer);
                    // Written or failed, the work is over: the slot is free before the last of
                    // the answer (or the error) goes out.
                    drop(slot.take());
                    let outcome =
                        outcome.and_then(|()| writer.finish().map_err(|e| Error::io("sending", e)));
                    match (outcome, writer.ready.take()) {
                        (Ok(()), _) => stream_failed.store(false, Ordering::SeqCst),
                        (Err(error), Some(ready)) => {
                            let _ = ready.send(Err(error));
                        }
                        (Err(error), None) => {
                            tracing::warn!(%error, "failed while streaming a response");
                            let _ = bytes_tx.try_send(Err(io::Error::other(error.to_string())));
                        }
                    }
                }
            })
        });
        if let Err(error) = spawned {
            return Err(Error::io("cannot start a query thread", error));
        }
        let ready = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, ready_rx)
                .await
                .map_err(|_| Error::Evaluation(QueryEvaluationError::Cancelled))?,
            None => ready_rx.await,
        };
        match ready {
            Ok(Ok(first)) => Ok(ResultStream {
                first: Some(first),
                complete: false,
                receiver: bytes_rx,
                failed,
                held: None,
                after_data: false,
                _cancel: cancel,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(Error::Internal(
                "the streaming thread ended abruptly".into(),
            )),
        }
    }

    /// Executes an update in one transaction; the store is unchanged if it fails.
    ///
    /// A dataset named in the request (`using-graph-uri`…) may not be combined with `USING` or
    /// `WITH` in the update itself (SPARQL 1.1 Protocol §2.2.3).
    pub fn update(&self, update: Update, dataset: &DatasetParams) -> Result<()> {
        let touched = Touched::of_update(&update);
        let mut prepared = SparqlEvaluator::new().for_update(update);
        for spec in prepared.using_datasets_mut() {
            if !dataset.is_empty() && !spec.is_default_dataset() {
                return Err(Error::Invalid(
                    "the request names a dataset (using-graph-uri or using-named-graph-uri) \
                     and the update has USING or WITH: use one or the other"
                        .into(),
                ));
            }
            dataset.apply_to(spec);
        }
        let _guard = self.lock_writer();
        self.recorded(touched, || Ok(prepared.on_store(&self.store).execute()?))
    }

    /// Runs `f` in one transaction, serialised with every other writer; commits only if `f`
    /// succeeds. Recorded in the audit trail as touching any graph.
    pub fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write_touching(Touched::everything(), f)
    }

    /// [`ClaimStore::write`] for a write whose graphs are known: the audit trail names them, and
    /// counts the quads of those graphs only, not of the whole store (which a write of one claim
    /// sheet into a large store must not scan twice).
    pub fn write_touching<T>(
        &self,
        touched: Touched,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let _guard = self.lock_writer();
        self.recorded(touched, || {
            let mut transaction = self.store.start_transaction()?;
            let value = f(&mut transaction)?;
            transaction.commit()?;
            Ok(value)
        })
    }

    /// Loads with Oxigraph's bulk loader (fast, all-or-nothing), serialised with other writers.
    /// `f` feeds the loader; nothing is committed unless it succeeds.
    pub fn bulk_load(&self, f: impl FnOnce(&mut BulkLoader<'_>) -> Result<()>) -> Result<()> {
        let _guard = self.lock_writer();
        self.recorded(Touched::everything(), || {
            let mut loader = self.store.bulk_loader();
            f(&mut loader)?;
            loader.commit()?;
            Ok(())
        })
    }

    /// Runs one write (the writer lock held) between its two audit records: `started`,
    /// committed before the write can commit (if it cannot be, nothing is written), then the
    /// outcome with the quads added and removed, counted in the touched graphs before and after.
    fn recorded<T>(&self, touched: Touched, write: impl FnOnce() -> Result<T>) -> Result<T> {
        let actor = crate::audit::current_actor();
        let activity = self.audit.start(
            &actor,
            &Touched::iris(&touched.used),
            &Touched::iris(&touched.generated),
        )?;
        let outcome = self
            .count_touched(&touched)
            .and_then(|before| write().map(|value| (before, value)));
        let (record, outcome) = match outcome {
            Ok((before, value)) => match self.count_touched(&touched) {
                Ok(after) => (
                    if touched.replaces {
                        Outcome::Committed {
                            added: after,
                            removed: before,
                        }
                    } else {
                        Outcome::Committed {
                            added: after.saturating_sub(before),
                            removed: before.saturating_sub(after),
                        }
                    },
                    Ok(value),
                ),
                Err(error) => (
                    Outcome::Failed(format!("committed, but not counted: {error}")),
                    Ok(value),
                ),
            },
            Err(error) => (Outcome::Failed(error.to_string()), Err(error)),
        };
        if let Err(error) = self.audit.finish(&activity, &record) {
            // The change stands (or failed) either way; the record stays `started`, and the next
            // open marks it unknown.
            tracing::error!(%error, activity = %activity, "cannot record a write's outcome");
        }
        outcome
    }

    /// Quads in the touched graphs (the whole store when they are not all known).
    fn count_touched(&self, touched: &Touched) -> Result<u64> {
        if touched.anywhere {
            return Ok(self.store.len()? as u64);
        }
        let mut graphs: Vec<&GraphName> = touched.used.iter().chain(&touched.generated).collect();
        graphs.sort_by_key(|g| g.to_string());
        graphs.dedup();
        let mut count = 0;
        for graph in graphs {
            for quad in self
                .store
                .quads_for_pattern(None, None, None, Some(graph.as_ref()))
            {
                quad?;
                count += 1;
            }
        }
        Ok(count)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        // A writer that panicked left no transaction behind (dropping one rolls it back).
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Streams the whole store (or one graph) into `writer`.
    pub fn dump<W: Write>(
        &self,
        format: RdfFormat,
        graph: Option<&NamedNode>,
        writer: W,
    ) -> Result<W> {
        let serializer = RdfSerializer::from_format(format);
        Ok(match graph {
            Some(graph) => self.dump_graph(format, graph.into(), writer)?,
            None => {
                if !format.supports_datasets() {
                    return Err(Error::Invalid(format!(
                        "{} cannot hold named graphs: dump the whole store as N-Quads, TriG or \
                         JSON-LD, or choose one graph",
                        format.name()
                    )));
                }
                self.store
                    .dump_to_writer(serializer, writer)
                    .map_err(dump_error)?
            }
        })
    }

    /// All quads matching a pattern (`None` = any), for tools that read the store directly.
    pub fn quads(&self, graph: Option<&NamedNode>) -> impl Iterator<Item = Result<Quad>> + use<> {
        self.store
            .quads_for_pattern(None, None, None, graph.map(|g| g.as_ref().into()))
            .map(|q| q.map_err(Error::from))
    }

    /// The quads of `subject` in `graph` (an index lookup).
    pub fn quads_of(
        &self,
        subject: &NamedNode,
        graph: &NamedNode,
    ) -> impl Iterator<Item = Result<Quad>> + use<> {
        self.store
            .quads_for_pattern(Some(subject.into()), None, None, Some(graph.into()))
            .map(|q| q.map_err(Error::from))
    }

    /// A parser set up the way every RDF input to this store is parsed: relative IRIs against the
    /// base, blank nodes renamed apart.
    pub fn rdf_parser(&self, format: RdfFormat) -> Result<RdfParser> {
        RdfParser::from_format(format)
            .with_base_iri(self.base.as_str())
            .map_err(|e| Error::Invalid(format!("invalid base IRI {}: {e}", self.base)))
    }

    // --- Graph Store Protocol ---

    /// Whether a graph exists: the default graph always does; a named graph from its creation
    /// (even with no triples) until it is removed.
    pub fn contains_graph(&self, graph: GraphNameRef<'_>) -> Result<bool> {
        Ok(match graph {
            GraphNameRef::DefaultGraph => true,
            GraphNameRef::NamedNode(node) => self.store.contains_named_graph(node)?,
            GraphNameRef::BlankNode(node) => self.store.contains_named_graph(node)?,
        })
    }

    /// Streams the triples of one graph, the default graph included, into `writer`.
    pub fn dump_graph<W: Write>(
        &self,
        format: RdfFormat,
        graph: GraphNameRef<'_>,
        writer: W,
    ) -> Result<W> {
        self.store
            .dump_graph_to_writer(graph, RdfSerializer::from_format(format), writer)
            .map_err(dump_error)
    }

    /// Adds `triples` to `graph` in one transaction, after removing what it held if `replace`.
    /// The graph exists afterwards even if `triples` is empty. Returns whether it was created.
    pub fn put_triples(
        &self,
        graph: GraphNameRef<'_>,
        triples: &[Triple],
        replace: bool,
    ) -> Result<bool> {
        self.write_touching(Touched::graph(graph, replace, true), |transaction| {
            let created = !graph_exists(transaction, graph)?;
            if replace {
                transaction.clear_graph(graph)?;
            }
            insert_graph(transaction, graph, triples);
            Ok(created)
        })
    }

    /// Creates the named graph `graph` holding `triples`, in one transaction; fails if it exists.
    pub fn create_graph(&self, graph: &NamedNode, triples: &[Triple]) -> Result<()> {
        self.write_touching(Touched::graph(graph.into(), false, true), |transaction| {
            if transaction.contains_named_graph(graph)? {
                return Err(Error::Invalid(format!(
                    "the graph {graph} exists already; try again"
                )));
            }
            insert_graph(transaction, graph.into(), triples);
            Ok(())
        })
    }

    /// Removes a named graph with its triples (the default graph, which always exists, is
    /// emptied), in one transaction. Returns whether the graph existed.
    pub fn remove_graph(&self, graph: GraphNameRef<'_>) -> Result<bool> {
        self.write_touching(Touched::graph(graph, true, false), |transaction| {
            if !graph_exists(transaction, graph)? {
                return Ok(false);
            }
            match graph {
                GraphNameRef::DefaultGraph => transaction.clear_graph(graph)?,
                GraphNameRef::NamedNode(node) => transaction.remove_named_graph(node)?,
                GraphNameRef::BlankNode(node) => transaction.remove_named_graph(node)?,
            }
            Ok(true)
        })
    }
}

fn graph_exists(transaction: &Transaction<'_>, graph: GraphNameRef<'_>) -> Result<bool> {
    Ok(match graph {
        GraphNameRef::DefaultGraph => true,
        GraphNameRef::NamedNode(node) => transaction.contains_named_graph(node)?,
        GraphNameRef::BlankNode(node) => transaction.contains_named_graph(node)?,
    })
}

/// Inserts `triples` into `graph`, recording the graph even when there are none.
fn insert_graph(transaction: &mut Transaction<'_>, graph: GraphNameRef<'_>, triples: &[Triple]) {
    match graph {
        GraphNameRef::NamedNode(node) => transaction.insert_named_graph(node),
        GraphNameRef::BlankNode(node) => transaction.insert_named_graph(node),
        GraphNameRef::DefaultGraph => {}
    }
    for triple in triples {
        transaction.insert(triple.as_ref().in_graph(graph));
    }
}

/// Binds variables of a query to values, in two ways that together give the meaning of a
/// `VALUES (?v…) { (…) }` at the start of its WHERE clause, evaluated as fast as a query written
/// with the values in it:
/// - the values replace the variables in the clause's triple and path patterns, `GRAPH ?v` and
///   expressions (`BIND(?v AS ?w)` in a UNION branch too; sub-SELECTs only if they project
///   them), so evaluation reads only matching data;
/// - a one-row VALUES is joined under the clause's filters, grouping and projection, so filters,
///   `BIND`s, `EXISTS` and the results see the variables bound.
///
/// (Oxigraph's own `substitute_variable` only sets the projected output of such a variable; the
/// patterns and filters inside do not see it.)
fn bind(query: &mut Query, bindings: &[(&str, Term)]) -> Result<()> {
    if bindings.is_empty() {
        return Ok(());
    }
    let mut variables = Vec::with_capacity(bindings.len());
    let mut row = Vec::with_capacity(bindings.len());
    for (name, value) in bindings {
        variables.push(
            Variable::new(*name)
                .map_err(|e| Error::Invalid(format!("invalid variable name {name}: {e}")))?,
        );
        row.push(Some(match value {
            Term::NamedNode(node) => GroundTerm::NamedNode(node.clone()),
            Term::Literal(literal) => GroundTerm::Literal(literal.clone()),
            other => {
                return Err(Error::Invalid(format!(
                    "{other} cannot be bound to ?{name}: only IRIs and literals can"
                )))
            }
        }));
    }
    let substitutions: Vec<(Variable, Term)> = variables
        .iter()
        .cloned()
        .zip(bindings.iter().map(|(_, value)| value.clone()))
        .collect();
    let values = GraphPattern::Values {
        variables,
        bindings: vec![row],
    };
    let (Query::Select { pattern, .. }
    | Query::Construct { pattern, .. }
    | Query::Describe { pattern, .. }
    | Query::Ask { pattern, .. }) = query;
    let whole = std::mem::replace(
        pattern,
        GraphPattern::Bgp {
            patterns: Vec::new(),
        },
    );
    *pattern = with_values(whole, values);
    substitute(pattern, &substitutions, true);
    Ok(())
}

/// Joins `values` with the pattern of a query's WHERE clause: below the solution modifiers,
/// grouping and projection expressions, and below the clause's own filters (which must see them).
fn with_values(pattern: GraphPattern, values: GraphPattern) -> GraphPattern {
    use GraphPattern as P;
    match pattern {
        P::Slice {
            inner,
            start,
            length,
        } => P::Slice {
            inner: Box::new(with_values(*inner, values)),
            start,
            length,
        },
        P::Distinct { inner } => P::Distinct {
            inner: Box::new(with_values(*inner, values)),
        },
        P::Reduced { inner } => P::Reduced {
            inner: Box::new(with_values(*inner, values)),
        },
        P::Project { inner, variables } => P::Project {
            inner: Box::new(with_values(*inner, values)),
            variables,
        },
        P::OrderBy { inner, expression } => P::OrderBy {
            inner: Box::new(with_values(*inner, values)),
            expression,
        },
        P::Group {
            inner,
            variables,
            aggregates,
        } => P::Group {
            inner: Box::new(with_values(*inner, values)),
            variables,
            aggregates,
        },
        P::Extend {
            inner,
            variable,
            expression,
        } => P::Extend {
            inner: Box::new(with_values(*inner, values)),
            variable,
            expression,
        },
        // HAVING is a filter above the grouping: go through it.
        P::Filter { expr, inner } if matches!(*inner, P::Group { .. }) => P::Filter {
            expr,
            inner: Box::new(with_values(*inner, values)),
        },
        P::Filter { expr, inner } => P::Filter {
            expr,
            inner: Box::new(P::Join {
                left: Box::new(values),
                right: inner,
            }),
        },
        other => P::Join {
            left: Box::new(values),
            right: Box::new(other),
        },
    }
}

/// Replaces bound variables by their values in triple and path patterns, graph names and
/// expressions. A
/// sub-SELECT's variables are its own unless it projects them (`outermost`: the query's own
/// projection, whose variables are the bound ones whatever it projects).
fn substitute(pattern: &mut GraphPattern, values: &[(Variable, Term)], outermost: bool) {
    use GraphPattern as P;
    match pattern {
        P::Bgp { patterns } => {
            for triple in patterns {
                substitute_term(&mut triple.subject, values);
                substitute_named(&mut triple.predicate, values);
                substitute_term(&mut triple.object, values);
            }
        }
        P::Path {
            subject, object, ..
        } => {
            substitute_term(subject, values);
            substitute_term(object, values);
        }
        P::Graph { name, inner } => {
            substitute_named(name, values);
            substitute(inner, values, outermost);
        }
        P::Join { left, right } | P::Union { left, right } | P::Minus { left, right } => {
            substitute(left, values, outermost);
            substitute(right, values, outermost);
        }
        P::LeftJoin {
            left,
            right,
            expression,
        } => {
            substitute(left, values, outermost);
            substitute(right, values, outermost);
            if let Some(expression) = expression {
                substitute_expression(expression, values);
            }
        }
        P::Filter { inner, expr } => {
            substitute_expression(expr, values);
            substitute(inner, values, outermost);
        }
        P::Extend {
            inner, expression, ..
        } => {
            substitute_expression(expression, values);
            substitute(inner, values, outermost);
        }
        P::OrderBy { inner, .. }
        | P::Distinct { inner }
        | P::Reduced { inner }
        | P::Slice { inner, .. }
        | P::Group { inner, .. } => substitute(inner, values, outermost),
        P::Project { inner, variables } => {
            if outermost {
                substitute(inner, values, false);
            } else {
                let projected: Vec<(Variable, Term)> = values
                    .iter()
                    .filter(|(variable, _)| variables.contains(variable))
                    .cloned()
                    .collect();
                substitute(inner, &projected, false);
            }
        }
        // VALUES, SERVICE and anything else keep their variables: the VALUES join still binds
        // them, only less selectively.
        _ => {}
    }
}

/// Replaces bound variables by their values in an expression (`BOUND(?v)` keeps its variable,
/// which the VALUES join binds).
fn substitute_expression(expression: &mut Expression, values: &[(Variable, Term)]) {
    use Expression as E;
    match expression {
        E::Variable(variable) => match values.iter().find(|(v, _)| v == variable).map(|(_, t)| t) {
            Some(Term::NamedNode(node)) => *expression = E::NamedNode(node.clone()),
            Some(Term::Literal(literal)) => *expression = E::Literal(literal.clone()),
            _ => {}
        },
        E::Or(a, b)
        | E::And(a, b)
        | E::Equal(a, b)
        | E::SameTerm(a, b)
        | E::Greater(a, b)
        | E::GreaterOrEqual(a, b)
        | E::Less(a, b)
        | E::LessOrEqual(a, b)
        | E::Add(a, b)
        | E::Subtract(a, b)
        | E::Multiply(a, b)
        | E::Divide(a, b) => {
            substitute_expression(a, values);
            substitute_expression(b, values);
        }
        E::UnaryPlus(a) | E::UnaryMinus(a) | E::Not(a) => substitute_expression(a, values),
        E::In(a, list) => {
            substitute_expression(a, values);
            list.iter_mut()
                .for_each(|e| substitute_expression(e, values));
        }
        E::If(a, b, c) => {
            substitute_expression(a, values);
            substitute_expression(b, values);
            substitute_expression(c, values);
        }
        E::Coalesce(list) | E::FunctionCall(_, list) => {
            list.iter_mut()
                .for_each(|e| substitute_expression(e, values));
        }
        E::Exists(pattern) => substitute(pattern, values, false),
        _ => {}
    }
}

fn substitute_term(term: &mut TermPattern, values: &[(Variable, Term)]) {
    if let TermPattern::Variable(variable) = term {
        match values.iter().find(|(v, _)| v == variable).map(|(_, t)| t) {
            Some(Term::NamedNode(node)) => *term = TermPattern::NamedNode(node.clone()),
            Some(Term::Literal(literal)) => *term = TermPattern::Literal(literal.clone()),
            _ => {}
        }
    }
}

fn substitute_named(name: &mut NamedNodePattern, values: &[(Variable, Term)]) {
    if let NamedNodePattern::Variable(variable) = name {
        if let Some(Term::NamedNode(node)) =
            values.iter().find(|(v, _)| v == variable).map(|(_, t)| t)
        {
            *name = NamedNodePattern::NamedNode(node.clone());
        }
    }
}

fn dump_error(error: oxigraph::store::SerializerError) -> Error {
    match error {
        oxigraph::store::SerializerError::Storage(e) => Error::Storage(e),
        oxigraph::store::SerializerError::Io(e) => Error::io("writing the dump", e),
        other => Error::Invalid(other.to_string()),
    }
}

/// Evaluated results, first item already computed, waiting to be serialised.
pub struct PendingResults {
    pending: Pending,
    format: OutputFormat,
}

enum Pending {
    Boolean(bool),
    Solutions(QuerySolutionIter<'static>, Option<QuerySolution>),
    Graph(QueryTripleIter<'static>, Option<Triple>),
}

impl PendingResults {
    /// Serialises every result into `writer` and returns it (not flushed).
    pub fn write_to<W: Write>(self, writer: W) -> Result<W> {
        self.write_capped(writer, None)
    }

    /// [`PendingResults::write_to`], failing with a [`ResultCap`] error at solution (or triple)
    /// `max_rows + 1`.
    pub fn write_capped<W: Write>(self, writer: W, max_rows: Option<u64>) -> Result<W> {
        let io_error = |e| Error::io("writing results", e);
        let writer = WriteBuffer::new(writer);
        let mut rows = 0u64;
        let mut count_row = || {
            rows += 1;
            match max_rows {
                Some(max) if rows > max => Err(io_error(io::Error::other(ResultCap(format!(
                    "the result has more than {max} rows, the limit of this server \
                     (--max-result-rows): add a LIMIT or narrow the query"
                ))))),
                _ => Ok(()),
            }
        };
        let written = match (self.pending, self.format) {
            (Pending::Boolean(value), OutputFormat::Results(format)) => {
                QueryResultsSerializer::from_format(format)
                    .serialize_boolean_to_writer(writer, value)
                    .map_err(io_error)
            }
            (Pending::Solutions(solutions, first), OutputFormat::Results(format)) => {
                let mut serializer = QueryResultsSerializer::from_format(format)
                    .serialize_solutions_to_writer(writer, solutions.variables().to_vec())
                    .map_err(io_error)?;
                for solution in first.into_iter().map(Ok).chain(solutions) {
                    let solution = solution?;
                    count_row()?;
                    serializer.serialize(&solution).map_err(io_error)?;
                }
                serializer.finish().map_err(io_error)
            }
            (Pending::Graph(triples, first), OutputFormat::Rdf(format)) => {
                let mut serializer = RdfSerializer::from_format(format).for_writer(writer);
                for triple in first.into_iter().map(Ok).chain(triples) {
                    let triple = triple?;
                    count_row()?;
                    serializer.serialize_triple(&triple).map_err(io_error)?;
                }
                serializer.finish().map_err(io_error)
            }
            _ => Err(Error::Invalid(
                "results and output format do not match".into(),
            )),
        }?;
        written.into_inner().map_err(io_error)
    }
}

/// What a serialiser writes, gathered into 8 KiB writes. Serialisers write a few bytes at a
/// time; inside the serialiser's own type each of those is a copy, not a call through the
/// caller's writer (for a stream a `&mut dyn Write`: a fifth of a large JSON result's CPU).
/// Unlike `std::io::BufWriter`, dropping it discards what it holds, so a serialisation that
/// failed writes nothing more (a stream's error before its first chunk keeps its own status).
pub(crate) struct WriteBuffer<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

const WRITE_BUFFER_BYTES: usize = 8 * 1024;

impl<W: Write> WriteBuffer<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            buffer: Vec::with_capacity(WRITE_BUFFER_BYTES),
        }
    }

    /// Writes out what it holds and returns the writer (not flushed).
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        self.drain()?;
        Ok(self.inner)
    }

    fn drain(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.inner.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl<W: Write> Write for WriteBuffer<W> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buffer.len() + data.len() > WRITE_BUFFER_BYTES {
            self.drain()?;
            if data.len() >= WRITE_BUFFER_BYTES {
                return self.inner.write_all(data);
            }
        }
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

thread_local! {
    /// The cancellation token of the request this blocking thread is working for.
    static CANCELLATION: std::cell::RefCell<Option<CancellationToken>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` (on a blocking thread) with `token` as the cancellation token of the product's own
/// queries it runs ([`ClaimStore::select_rows`] and the functions built on it), so that cancelling
/// the request — its client gone, its time up — stops them at their next read from the store.
pub fn with_cancellation<T>(token: CancellationToken, f: impl FnOnce() -> T) -> T {
    crate::threads::with_local(&CANCELLATION, token, f)
}

fn current_cancellation() -> CancellationToken {
    CANCELLATION
        .with(|current| current.borrow().clone())
        .unwrap_or_default()
}

/// The audit store's directory inside the store's (see [`crate::audit`]).
pub const AUDIT_DIR: &str = "audit";

/// How many chunks may wait in the channel between the query thread and the HTTP response.
const CHANNEL_CHUNKS: usize = 4;
/// Size of the chunks sent to the client.
const CHUNK_BYTES: usize = 64 * 1024;

/// Cancels the query when dropped: when the response body is dropped (finished, or the client
/// disconnected), or when the request handler is dropped before the response started.
pub(crate) struct CancelOnDrop(pub(crate) CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Stops a timer task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The bytes of a streamed result; an `Err` item means the result is incomplete.
///
/// Its first chunk comes with the news that the result started, so a result that fits in one
/// chunk costs the query thread one hand-back to the runtime, and [`ResultStream::into_whole`]
/// gives it as one piece (the response can then say its length).
pub struct ResultStream {
    /// The first chunk, until it is taken.
    first: Option<FirstChunk>,
    /// The first chunk was the whole result, and it was taken.
    complete: bool,
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    /// Set when the writer failed: the stream then ends with an error even if the error item
    /// itself could not be queued.
    failed: Arc<AtomicBool>,
    /// An error held back for one poll, because data was handed over on the poll before it.
    held: Option<io::Error>,
    /// What the last poll handed over was data.
    after_data: bool,
    _cancel: CancelOnDrop,
}

/// What bounds one streamed query: a deadline, and a slot (of the server's concurrency cap)
/// released when the evaluation has ended (not merely when the response has: a client that went
/// away does not free it), just before the client gets the last of the answer.
#[derive(Default)]
pub struct QueryBounds {
    pub deadline: Option<std::time::Instant>,
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// Solutions (or triples) a result may hold; one more ends it in a [`ResultCap`] error.
    pub max_rows: Option<u64>,
    /// Bytes a serialised result may take; one more ends it in a [`ResultCap`] error.
    pub max_bytes: Option<u64>,
}

/// A result that broke a cap on its rows or bytes (`QueryBounds`), carried as the source of an
/// [`Error::Io`]; the message names the cap. Never a silent truncation: before the first chunk
/// the request fails with it, after it the response is aborted.
#[derive(Debug)]
pub struct ResultCap(pub String);

impl std::fmt::Display for ResultCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResultCap {}

impl ResultCap {
    /// The cap's message, if `error` is a broken cap.
    pub fn message(error: &Error) -> Option<&str> {
        // Serialisers may wrap the writer's `io::Error` in another one: look through them.
        let Error::Io { source, .. } = error else {
            return None;
        };
        let mut inner = source.get_ref()?;
        loop {
            if let Some(cap) = inner.downcast_ref::<ResultCap>() {
                return Some(&cap.0);
            }
            inner = inner.downcast_ref::<io::Error>()?.get_ref()?;
        }
    }
}

/// What a query thread sends when its result starts: the first chunk, and whether it was the
/// last.
struct FirstChunk {
    bytes: Bytes,
    whole: bool,
}

impl ResultStream {
    /// The whole result, if it fit in the first chunk; else the stream, untouched.
    pub fn into_whole(mut self) -> std::result::Result<Bytes, Self> {
        match self.first.take() {
            Some(FirstChunk { bytes, whole: true }) => Ok(bytes),
            first => {
                self.first = first;
                Err(self)
            }
        }
    }
}

impl futures_util::Stream for ResultStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(error) = self.held.take() {
            return Poll::Ready(Some(Err(error)));
        }
        if let Some(FirstChunk { bytes, whole }) = self.first.take() {
            // After a whole result comes its end, whatever the query thread does next.
            self.complete = whole;
            if !bytes.is_empty() {
                self.after_data = true;
                return Poll::Ready(Some(Ok(bytes)));
            }
        }
        if self.complete {
            return Poll::Ready(None);
        }
        let error = match self.receiver.poll_recv(cx) {
            Poll::Ready(None) if self.failed.swap(false, Ordering::SeqCst) => {
                io::Error::other("the result could not be completed")
            }
            Poll::Ready(Some(Err(error))) => {
                self.failed.store(false, Ordering::SeqCst);
                error
            }
            other => {
                self.after_data = matches!(other, Poll::Ready(Some(Ok(_))));
                return other;
            }
        };
        // hyper pulls body items until one is not ready before it writes what it has buffered,
        // and an error aborts the connection with the buffer unsent: an error ready right after
        // a chunk (a cap broken just past the first 64 KiB) would reach the client as an empty
        // reply instead of a cut-off body. Not ready once, so hyper flushes first; then the
        // error, polled again at once.
        if std::mem::take(&mut self.after_data) {
            self.held = Some(error);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(error)))
    }
}

/// A `Write` that sends fixed-size chunks through a channel, blocking while the channel is full.
/// Dropping it without [`ChannelWriter::finish`] discards the unsent tail, so a failed result is
/// never completed by accident.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
    /// Sent (and taken) the first chunk: until then a failure is the request's.
    ready: Option<oneshot::Sender<Result<FirstChunk>>>,
    /// Bytes written so far, and the most allowed.
    written: u64,
    max_bytes: Option<u64>,
    /// Past it every write fails, and a send waiting for a slow client gives up.
    deadline: Option<tokio::time::Instant>,
    runtime: tokio::runtime::Handle,
}

impl ChannelWriter {
    fn new(
        sender: mpsc::Sender<io::Result<Bytes>>,
        deadline: Option<tokio::time::Instant>,
        runtime: tokio::runtime::Handle,
        ready: oneshot::Sender<Result<FirstChunk>>,
    ) -> Self {
        Self {
            sender,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            ready: Some(ready),
            written: 0,
            max_bytes: None,
            deadline,
            runtime,
        }
    }

    /// Sends what the buffer holds: with the news that the result started if it is the first
    /// chunk (`last`: and the whole result), else through the channel.
    fn send_buffer(&mut self, last: bool) -> io::Result<()> {
        let gone = || io::Error::new(io::ErrorKind::BrokenPipe, "the client went away");
        let capacity = if last { 0 } else { CHUNK_BYTES };
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(capacity),
        ));
        if let Some(ready) = self.ready.take() {
            let first = FirstChunk {
                bytes: chunk,
                whole: last,
            };
            // No receiver: the client went away (or the deadline passed) while we evaluated.
            return ready.send(Ok(first)).map_err(|_| gone());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let Some(deadline) = self.deadline else {
            return self.sender.blocking_send(Ok(chunk)).map_err(|_| gone());
        };
        let past_deadline =
            || io::Error::new(io::ErrorKind::TimedOut, "the query ran past its time limit");
        if tokio::time::Instant::now() >= deadline {
            return Err(past_deadline());
        }
        // The query thread may wait on the runtime's timer: it is not an async context.
        let _runtime = self.runtime.enter();
        self.runtime
            .block_on(tokio::time::timeout_at(
                deadline,
                self.sender.send(Ok(chunk)),
            ))
            .map_err(|_| past_deadline())?
            .map_err(|_| gone())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.send_buffer(true)
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.written += data.len() as u64;
        if let Some(max) = self.max_bytes.filter(|&max| self.written > max) {
            return Err(io::Error::other(ResultCap(format!(
                "the result is larger than {max} bytes, the limit of this server \
                 (--max-result-bytes): add a LIMIT or narrow the query"
            ))));
        }
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send_buffer(false)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are sent when full or at `finish`; flushing early would only make small packets.
        Ok(())
    }
}

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

    #[test]
    fn a_write_buffer_writes_in_order_and_a_dropped_one_writes_nothing() {
        let mut out = Vec::new();
        let mut buffer = WriteBuffer::new(&mut out);
        buffer.write_all(b"ab").unwrap();
        // Past the buffer: what it holds goes first, then the large write itself.
        let large = vec![b'x'; WRITE_BUFFER_BYTES + 1];
        buffer.write_all(&large).unwrap();
        buffer.write_all(b"cd").unwrap();
        buffer.into_inner().unwrap();
        assert_eq!(out.len(), 2 + large.len() + 2);
        assert!(out.starts_with(b"abx") && out.ends_with(b"xcd"));

        let mut out = Vec::new();
        let mut buffer = WriteBuffer::new(&mut out);
        buffer.write_all(b"half a result").unwrap();
        drop(buffer);
        assert!(out.is_empty(), "a dropped buffer discards what it holds");
    }
}
