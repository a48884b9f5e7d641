//! Writing the store: SPARQL updates, transactions, the bulk loader and the Graph Store
//! operations, each recorded in the audit trail under the writer lock.
//!
//! Invariant: writers are serialised (Oxigraph's RocksDB transactions do not detect write-write
//! conflicts); every write's `started` record commits before it, its outcome after.

use super::*;

/// What a Graph Store write does to its graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphWrite {
    /// Adds triples to what it holds (POST).
    Add,
    /// Puts triples in place of what it held (PUT).
    Replace,
    /// Removes it with its triples (DELETE).
    Remove,
}

/// What a write that knows its effect changed: quads added and removed, and every claim whose
/// index document may differ (the claims it made, changed or removed, and those it links to).
#[derive(Debug, Default)]
pub struct Known {
    pub added: u64,
    pub removed: u64,
    pub claims: Vec<NamedOrBlankNode>,
}

/// What the claims index does after a write.
enum IndexStep<'a> {
    /// Reads again the claims the quads that differ concern.
    Quads(&'a Quads, &'a Quads),
    /// Reads again these claims (a write that knows what it changed), and the documents and
    /// reviews of the graphs it touched.
    Claims(&'a [NamedOrBlankNode], &'a Touched),
    /// Reads every claim again (a write whose graphs are unknown).
    Everything,
    /// Nothing changed (the write failed).
    Unchanged,
}

/// The quads added or removed, when both sides are known.
fn differing<'a>(before: &'a Quads, after: &'a Quads) -> Option<Vec<&'a Quad>> {
    match (before, after) {
        (Quads::Known(before), Quads::Known(after)) => {
            Some(before.symmetric_difference(after).collect())
        }
        _ => None,
    }
}

/// The writes of a batch that defers the claims index ([`ClaimStore::with_index_deferred`]).
#[derive(Debug, Default)]
pub(super) struct Deferred {
    claims: std::collections::HashSet<NamedOrBlankNode>,
    /// The documents and reviews whose records the batch may have changed.
    resources: std::collections::HashSet<NamedOrBlankNode>,
    /// The audit sequence of the batch's last write, if it wrote.
    next_write: Option<u64>,
    /// The batch ends with a rebuild: it brings at least as many claims as were indexed when it
    /// began, or a write touched graphs known only as it ran. The writes then look for nothing.
    rebuild: bool,
}

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
    /// The graphs it names, read from or added to.
    pub fn graphs(&self) -> Vec<GraphName> {
        let mut graphs: Vec<GraphName> = self.used.iter().chain(&self.generated).cloned().collect();
        graphs.sort_by_key(ToString::to_string);
        graphs.dedup();
        graphs
    }

    /// A write that may touch any graph: the whole store is counted, and the claims index rebuilt.
    pub fn everything() -> Self {
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

    /// One graph, as a Graph Store write changes it: replaced or removed (`used`), added to or
    /// replaced (`generated`).
    pub fn graph(graph: GraphNameRef<'_>, write: GraphWrite) -> Self {
        let replaced = matches!(write, GraphWrite::Replace | GraphWrite::Remove);
        let written = matches!(write, GraphWrite::Add | GraphWrite::Replace);
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

/// The quads of the graphs a write touches, as far as they are known.
pub(super) enum Quads {
    Known(std::collections::HashSet<Quad>),
    /// The write may touch any graph: only the store's size is counted.
    Unknown(u64),
}

impl Quads {
    fn count(&self) -> u64 {
        match self {
            Quads::Known(quads) => quads.len() as u64,
            Quads::Unknown(count) => *count,
        }
    }
}

impl ClaimStore {
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

    /// Writes what RocksDB holds in memory to its files: a process about to exit after a big
    /// write calls it, else the next open replays the write-ahead log (tens of seconds and
    /// gigabytes after an import of 100,000 reviews).
    pub fn flush(&self) -> Result<()> {
        #[cfg(feature = "rocksdb")]
        self.store.flush()?;
        Ok(())
    }

    /// Loads with Oxigraph's bulk loader (all or nothing) a change whose effect `f` knows and
    /// returns ([`Known`]: an import, which streams a file into the loader): the audit trail
    /// gets its counts, and the claims index reads the claims it names again, without the
    /// touched graphs being read before and after (they may hold millions of quads).
    /// `batch` is how many quads `f` hands the loader at a time: the loader is sized for it
    /// (by default it makes room for a million quads on every core, for each call).
    pub fn bulk_load_known(
        &self,
        touched: Touched,
        batch: usize,
        f: impl FnOnce(&mut BulkLoader<'_>) -> Result<Known>,
    ) -> Result<Known> {
        let _guard = self.lock_writer();
        self.recorded_known(touched, || {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            // Oxigraph's batch size is this many megabytes times 1,000 quads, per thread.
            let mut loader = self
                .store
                .bulk_loader()
                .with_max_memory_size_in_megabytes((batch * threads).div_ceil(1000).max(1));
            let known = f(&mut loader)?;
            loader.commit()?;
            Ok(known)
        })
    }

    /// [`ClaimStore::bulk_load_known`] in one transaction (a change that removes quads too).
    pub fn write_known(
        &self,
        touched: Touched,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<Known>,
    ) -> Result<Known> {
        let _guard = self.lock_writer();
        self.recorded_known(touched, || {
            let mut transaction = self.store.start_transaction()?;
            let known = f(&mut transaction)?;
            transaction.commit()?;
            Ok(known)
        })
    }

    /// [`ClaimStore::recorded`] for a write that says what it changed.
    fn recorded_known(
        &self,
        touched: Touched,
        write: impl FnOnce() -> Result<Known>,
    ) -> Result<Known> {
        self.audited(&touched, |next_write| match write() {
            Ok(known) => {
                self.follow_in_index(IndexStep::Claims(&known.claims, &touched), next_write);
                (
                    Outcome::Committed {
                        added: known.added,
                        removed: known.removed,
                    },
                    Ok(known),
                )
            }
            Err(error) => self.failed(error, next_write),
        })
    }

    /// Runs `write` (given the audit sequence it will have) between its two audit records:
    /// `started`, committed before the write can commit (if it cannot be, nothing is written),
    /// then the outcome `write` gives.
    fn audited<T>(
        &self,
        touched: &Touched,
        write: impl FnOnce(u64) -> (Outcome, Result<T>),
    ) -> Result<T> {
        if self.version.is_some() {
            return Err(Error::Invalid(format!(
                "{} is a published version, opened read-only: it is never written",
                self.dir.display()
            )));
        }
        // Counted before the write, so a reader that saw the old generation rebuilds after it.
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let actor = crate::audit::current_actor();
        let activity = self.audit.start(
            &actor,
            &Touched::iris(&touched.used),
            &Touched::iris(&touched.generated),
        )?;
        let (record, outcome) = write(self.audit.next_sequence());
        self.changed_at.store(unix_now(), Ordering::SeqCst);
        self.writes_ended.fetch_add(1, Ordering::SeqCst);
        if let Err(error) = self.audit.finish(&activity, &record) {
            // The change stands (or failed) either way; the record stays `started`, and the next
            // open marks it unknown.
            tracing::error!(%error, activity = %activity, "cannot record a write's outcome");
        }
        outcome
    }

    /// The outcome of a write that failed: nothing changed, and the index still follows.
    fn failed<T>(&self, error: Error, next_write: u64) -> (Outcome, Result<T>) {
        self.follow_in_index(IndexStep::Unchanged, next_write);
        (Outcome::Failed(error.to_string()), Err(error))
    }

    /// Runs one write (the writer lock held) between its two audit records: `started`,
    /// committed before the write can commit (if it cannot be, nothing is written), then the
    /// outcome with the quads added and removed, counted in the touched graphs before and after.
    /// The claims index follows before this returns: the documents of the claims the quads
    /// added and removed concern are read again (after a write to graphs known only as it ran,
    /// every document is).
    pub(super) fn recorded<T>(
        &self,
        touched: Touched,
        write: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.audited(&touched, |next_write| {
            let outcome = self
                .touched_quads(&touched)
                .and_then(|before| write().map(|value| (before, value)));
            match outcome {
                Ok((before, value)) => match self.touched_quads(&touched) {
                    Ok(after) => {
                        self.follow_in_index(IndexStep::Quads(&before, &after), next_write);
                        let (before, after) = (before.count(), after.count());
                        (
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
                        )
                    }
                    Err(error) => {
                        self.follow_in_index(IndexStep::Everything, next_write);
                        (
                            Outcome::Failed(format!("committed, but not counted: {error}")),
                            Ok(value),
                        )
                    }
                },
                Err(error) => self.failed(error, next_write),
            }
        })
    }

    /// Brings the claims index up to a write (`next_write`), or, while a batch defers it, adds
    /// the claims the write changed to those the batch reads again at its end.
    fn follow_in_index(&self, step: IndexStep<'_>, next_write: u64) {
        if self.index_skipped {
            return;
        }
        let mut deferred = self.deferred.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(batch) = deferred.as_mut() {
            batch.next_write = Some(next_write);
            if batch.rebuild {
                return;
            }
            match step {
                IndexStep::Quads(before, after) => match differing(before, after) {
                    // The index does not yet hold the batch's earlier claims; they are read
                    // again at its end whatever this write found.
                    Some(diff) => match self
                        .index
                        .affected(self, &diff, false)
                        .and_then(|claims| Ok((claims, self.index.affected_resources(&diff)?)))
                    {
                        Ok((claims, resources)) => {
                            batch.claims.extend(claims);
                            batch.resources.extend(resources);
                        }
                        Err(error) => {
                            tracing::warn!(%error, "the claims a write changed are unknown: the index will be rebuilt");
                            batch.rebuild = true;
                        }
                    },
                    None => batch.rebuild = true,
                },
                IndexStep::Claims(claims, touched) => {
                    batch.claims.extend(claims.iter().cloned());
                    match self.index.resources_in(self, &touched.graphs()) {
                        Ok(Some(resources)) if !touched.anywhere => {
                            batch.resources.extend(resources)
                        }
                        Ok(_) => batch.rebuild = true,
                        Err(error) => {
                            tracing::warn!(%error, "the documents and reviews a write changed are unknown: the index will be rebuilt");
                            batch.rebuild = true;
                        }
                    }
                }
                IndexStep::Everything => batch.rebuild = true,
                IndexStep::Unchanged => {}
            }
            return;
        }
        drop(deferred);
        match step {
            IndexStep::Quads(before, after) => {
                self.follow_index(next_write, || match differing(before, after) {
                    Some(diff) => self.index.follow(self, &diff, next_write).map(|_| ()),
                    None => self.index.rebuild(self, next_write).map(|_| ()),
                })
            }
            IndexStep::Claims(claims, touched) => self.follow_index(next_write, || {
                match self.index.resources_in(self, &touched.graphs())? {
                    Some(resources) if !touched.anywhere => self
                        .index
                        .read_again(self, claims, &resources, next_write)
                        .map(|_| ()),
                    _ => self.index.rebuild(self, next_write).map(|_| ()),
                }
            }),
            IndexStep::Everything => self.follow_index(next_write, || {
                self.index.rebuild(self, next_write).map(|_| ())
            }),
            IndexStep::Unchanged => {
                if let Err(error) = self.index.unchanged(next_write) {
                    tracing::error!(%error, "cannot record a failed write in the claims index");
                }
            }
        }
    }

    /// Runs `writes` with the claims index following them once, at the end, instead of after
    /// each: a command that writes many claim sheets (`claimgraph ingest`) reads each claim's
    /// document once, not again with every sheet that shares content with it, and commits the
    /// index once. Until the end the index lags the store; a crash in between is repaired like
    /// any other (the index is rebuilt at the next open). For a process that has the store to
    /// itself: a server's writes must each be followed before they are answered.
    ///
    /// `claims`: how many claims the writes bring. When the index holds no more (an ingest into
    /// a new store), it is rebuilt at the end, which reads at most twice the batch's claims, and
    /// the writes spare finding which claims each changed.
    pub fn with_index_deferred<T>(
        &self,
        claims: usize,
        writes: impl FnOnce() -> Result<T>,
        progress: impl FnOnce(usize),
    ) -> Result<T> {
        *self.deferred.lock().unwrap_or_else(|e| e.into_inner()) = Some(Deferred {
            rebuild: self.index.len() <= claims as u64,
            ..Deferred::default()
        });
        let result = writes();
        let _guard = self.lock_writer();
        let batch = self
            .deferred
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(Deferred {
            claims,
            resources,
            next_write: Some(next_write),
            rebuild,
        }) = batch
        {
            if rebuild {
                progress(0);
                self.follow_index(next_write, || {
                    self.index.rebuild(self, next_write).map(|_| ())
                });
            } else {
                // The claims sharing content with the batch's were left out as it ran: each is
                // found once here.
                self.follow_index(next_write, || {
                    let claims = self.index.sharers(self, claims)?;
                    progress(claims.len());
                    let mut resources: Vec<NamedOrBlankNode> = resources.into_iter().collect();
                    resources.sort_by_cached_key(crate::index::document::subject_string);
                    self.index.read_again(self, &claims, &resources, next_write)
                });
            }
        }
        result
    }

    /// Runs `follow` on the claims index after a committed write. A failure is logged (the
    /// write stands), the index refuses searches, and a rebuild is tried at once.
    fn follow_index<T>(&self, next_write: u64, follow: impl FnOnce() -> Result<T>) {
        if let Err(error) = follow() {
            tracing::error!(%error, "the claims index could not follow a write: rebuilding it");
            if let Err(error) = self.index.rebuild(self, next_write) {
                tracing::error!(%error, "the claims index cannot be rebuilt; searches are refused");
            }
        }
    }

    /// The quads of the touched graphs (unknown when the write may touch any graph).
    pub(super) fn touched_quads(&self, touched: &Touched) -> Result<Quads> {
        if touched.anywhere {
            return Ok(Quads::Unknown(self.store.len()? as u64));
        }
        let mut graphs: Vec<&GraphName> = touched.used.iter().chain(&touched.generated).collect();
        graphs.sort_by_key(|g| g.to_string());
        graphs.dedup();
        let mut quads = std::collections::HashSet::new();
        for graph in graphs {
            for quad in self
                .store
                .quads_for_pattern(None, None, None, Some(graph.as_ref()))
            {
                quads.insert(quad?);
            }
        }
        Ok(Quads::Known(quads))
    }

    pub(super) fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        // A writer that panicked left no transaction behind (dropping one rolls it back).
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A parser set up the way every RDF input to this store is parsed: relative IRIs against the
    /// base, blank nodes renamed apart.
    pub fn rdf_parser(&self, format: RdfFormat) -> Result<RdfParser> {
        RdfParser::from_format(format)
            .with_base_iri(self.base.as_str())
            .map_err(|e| Error::Invalid(format!("invalid base IRI {}: {e}", self.base)))
    }

    /// Adds `triples` to `graph` in one transaction (`GraphWrite::Add`), or puts them in place
    /// of what it held (`GraphWrite::Replace`; `Remove` is [`Self::remove_graph`]). The graph
    /// exists afterwards even if `triples` is empty. Returns whether it was created.
    pub fn put_triples(
        &self,
        graph: GraphNameRef<'_>,
        triples: &[Triple],
        write: GraphWrite,
    ) -> Result<bool> {
        if write == GraphWrite::Remove {
            return Err(Error::Internal("put_triples cannot remove a graph".into()));
        }
        let replace = write == GraphWrite::Replace;
        self.write_touching(Touched::graph(graph, write), |transaction| {
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
        self.write_touching(
            Touched::graph(graph.into(), GraphWrite::Add),
            |transaction| {
                if transaction.contains_named_graph(graph)? {
                    return Err(Error::Invalid(format!(
                        "the graph {graph} exists already; try again"
                    )));
                }
                insert_graph(transaction, graph.into(), triples);
                Ok(())
            },
        )
    }

    /// Removes a named graph with its triples (the default graph, which always exists, is
    /// emptied), in one transaction. Returns whether the graph existed.
    pub fn remove_graph(&self, graph: GraphNameRef<'_>) -> Result<bool> {
        self.write_touching(Touched::graph(graph, GraphWrite::Remove), |transaction| {
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

pub(super) fn graph_exists(transaction: &Transaction<'_>, graph: GraphNameRef<'_>) -> Result<bool> {
    Ok(match graph {
        GraphNameRef::DefaultGraph => true,
        GraphNameRef::NamedNode(node) => transaction.contains_named_graph(node)?,
        GraphNameRef::BlankNode(node) => transaction.contains_named_graph(node)?,
    })
}

/// Inserts `triples` into `graph`, recording the graph even when there are none.
pub(super) fn insert_graph(
    transaction: &mut Transaction<'_>,
    graph: GraphNameRef<'_>,
    triples: &[Triple],
) {
    match graph {
        GraphNameRef::NamedNode(node) => transaction.insert_named_graph(node),
        GraphNameRef::BlankNode(node) => transaction.insert_named_graph(node),
        GraphNameRef::DefaultGraph => {}
    }
    for triple in triples {
        transaction.insert(triple.as_ref().in_graph(graph));
    }
}
