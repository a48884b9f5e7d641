//! Reading the store: the product's own SELECT queries with bound values, pattern reads of the
//! indexes, dumps; and the cancellation token a request's lookups run under.
//!
//! Invariant: every read made inside `with_cancellation` stops at its next read of the store
//! once the token is cancelled.

use super::*;

impl ClaimStore {
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
    pub(super) fn solutions(
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

    /// Every quad whose subject is `subject`, in any graph, through [`Self::quads_matching`].
    pub fn quads_about(&self, subject: &NamedOrBlankNode) -> Result<Vec<Quad>> {
        self.quads_matching(Some(subject), None, None, None)
            .collect()
    }

    /// The quads whose subject is `subject` and predicate one of `predicates`, in any graph,
    /// through [`Self::quads_matching`]. One read of the subject's quads, where a pattern for
    /// each predicate is a read each; the others are skipped before their objects are decoded
    /// (a long literal or an IRI is a RocksDB read: a quote selector's `oa:prefix` and
    /// `oa:suffix`, a type).
    pub fn quads_about_with(
        &self,
        subject: &NamedOrBlankNode,
        predicates: &[&NamedNode],
    ) -> Result<Vec<Quad>> {
        self.reading(
            Some(subject),
            None,
            None,
            None,
            Some(&predicates.iter().map(|p| p.as_ref()).collect::<Vec<_>>()),
        )
        .collect()
    }

    /// The one pattern reader: the quads matching a pattern (`None`: any term; a `graph` of
    /// `None`: every graph, the default graph included), read from the store's indexes as they
    /// are needed: no query to plan, and nothing decoded beyond the quads that match. Like the
    /// product's queries, the reads stop (with a `Cancelled` error) once the request they work
    /// for is cancelled, and a failed read is an `Err` item, never skipped.
    pub fn quads_matching(
        &self,
        subject: Option<&NamedOrBlankNode>,
        predicate: Option<&NamedNode>,
        object: Option<&Term>,
        graph: Option<&NamedOrBlankNode>,
    ) -> impl Iterator<Item = Result<Quad>> + use<> {
        self.reading(subject, predicate, object, graph, None)
    }

    /// [`Self::quads_matching`], keeping only the quads of `predicates` when given.
    fn reading(
        &self,
        subject: Option<&NamedOrBlankNode>,
        predicate: Option<&NamedNode>,
        object: Option<&Term>,
        graph: Option<&NamedOrBlankNode>,
        predicates: Option<&[oxigraph::model::NamedNodeRef<'_>]>,
    ) -> impl Iterator<Item = Result<Quad>> + use<> {
        let cancel = current_cancellation();
        let quads = self.store.quads_for_pattern(
            subject.map(NamedOrBlankNode::as_ref),
            predicate.map(NamedNode::as_ref),
            object.map(Term::as_ref),
            graph.map(|g| g.as_ref().into()),
        );
        let quads = match predicates {
            Some(predicates) => quads.with_predicates(predicates),
            None => quads,
        };
        quads.map(move |quad| {
            if cancel.is_cancelled() {
                return Err(Error::Evaluation(QueryEvaluationError::Cancelled));
            }
            quad.map_err(Error::from)
        })
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

    /// The quads of one named graph (`None`: of every graph), through [`Self::quads_matching`].
    pub fn quads(&self, graph: Option<&NamedNode>) -> impl Iterator<Item = Result<Quad>> + use<> {
        let graph = graph.map(|g| NamedOrBlankNode::from(g.clone()));
        self.quads_matching(None, None, None, graph.as_ref())
    }

    /// Whether the store holds this quad.
    pub fn contains_quad(&self, quad: &Quad) -> Result<bool> {
        Ok(self.store.contains(quad)?)
    }

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
}

pub(super) fn dump_error(error: oxigraph::store::SerializerError) -> Error {
    match error {
        oxigraph::store::SerializerError::Storage(e) => Error::Storage(e),
        oxigraph::store::SerializerError::Io(e) => Error::io("writing the dump", e),
        other => Error::Invalid(other.to_string()),
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

pub(super) fn current_cancellation() -> CancellationToken {
    CANCELLATION
        .with(|current| current.borrow().clone())
        .unwrap_or_default()
}
