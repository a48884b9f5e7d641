//! The claims index beside the store: one tantivy document per claim (its words, quotes, names,
//! status, claimant, sources, outlets, entities, verdicts, dates), for ranked search, facet
//! counts and matching. `document` reads a claim's document from the store; `search` answers
//! `GET /claims` and `/match` from the index; `resources` keeps the records of documents and
//! reviews the library's questions about them read, beside the claims' documents.
//!
//! Invariants:
//! - derived data: it lives in `<store>/index` and can always be rebuilt from the store
//!   (`claimgraph reindex`, or by itself at open);
//! - written only by the store's writer, under its lock, after each write: the documents that
//!   write changed are read again before the write returns. Its commit records the audit
//!   sequence it follows; at open, an index that does not follow the store's last write (a
//!   crash between the two, a copy, an older binary's store, a corrupt or other-version index)
//!   is rebuilt, with a log line, before anything reads it.

pub mod document;
pub mod resources;
pub mod search;

pub use document::ClaimDocument;
use document::{subject_string, Reader, Whole};

use crate::error::{Error, Result};
use crate::store::ClaimStore;
use oxigraph::model::{BlankNode, GraphName, NamedNode, NamedOrBlankNode, Quad, Term, Triple};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    WhitespaceTokenizer,
};
use tantivy::{
    DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term as IndexTerm,
};

/// The index's directory inside the store's.
pub const INDEX_DIR: &str = "index";

/// Bumped whenever the documents or the schema change: an index of another version is rebuilt.
const VERSION: u32 = 15;

/// Claims read by one thread at a time in a rebuild, and the threads reading.
const REBUILD_CHUNK: usize = 500;
const REBUILD_THREADS: usize = 2;

/// Memory the index writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 128 * 1024 * 1024;

/// The fields of a claim's document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub claim: Field,
    /// The searched words (`q=`): the claim's text twice (a word of it counts twice in BM25),
    /// its quotes, and every name and literal found with it. One field, so that one word is one
    /// term's postings, ranked with block-max WAND over a single scorer.
    pub body: Field,
    /// The matcher's tokens and word pairs of the text and quotes (`draft::matcher::tokens`,
    /// `draft::matcher::pairs`), and the cells of their numbers (`draft::matcher::nearness`).
    pub words: Field,
    pub status: Field,
    pub claimant: Field,
    pub source: Field,
    pub outlet: Field,
    pub entity: Field,
    pub rating: Field,
    /// Fact-checkers that rated it or a claim linked to it ([`document::ClaimDocument`]).
    pub checker: Field,
    /// Dates as the number `YYYYMMDD`.
    pub date: Field,
    pub assertion: Field,
    pub refs: Field,
    /// The statuses of the claims sharing a content triple with it (itself included).
    pub shared_with: Field,
    /// The claim's [`document::Record`] ([`document::Record::encode`]), for the library's
    /// whole-store questions, pages of hits and a match's candidates: the one stored field.
    pub record: Field,
    /// What the claim has that questions ask about: `primary` (a primary source).
    pub has: Field,
}

/// How both indexes store their records. A page of hits or a match's candidates reads each
/// claim's block: small blocks (tantivy's default is 16 KiB) copy less for each. Blocks are not
/// compressed: a streamed question reads a block for nearly every record it sends, and LZ4's
/// decompression was a quarter of its time; the records take about three times the space.
pub(crate) fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: 4096,
        docstore_compression: tantivy::store::Compressor::None,
        ..tantivy::IndexSettings::default()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |tokenizer: &str, positions: bool| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(if positions {
                    IndexRecordOption::WithFreqsAndPositions
                } else {
                    IndexRecordOption::WithFreqs
                }),
        )
    };
    let fields = Fields {
        claim: b.add_text_field("claim", STRING | FAST),
        body: b.add_text_field("body", words(ANALYZER, true)),
        words: b.add_text_field("words", words("whitespace", false)),
        status: b.add_text_field("status", STRING | FAST),
        claimant: b.add_text_field("claimant", STRING | FAST),
        source: b.add_text_field("source", STRING | FAST),
        outlet: b.add_text_field("outlet", STRING | FAST),
        entity: b.add_text_field("entity", STRING | FAST),
        rating: b.add_text_field("rating", STRING | FAST),
        checker: b.add_text_field("checker", STRING | FAST),
        date: b.add_u64_field("date", NumericOptions::default().set_indexed().set_fast()),
        assertion: b.add_text_field("assertion", STRING),
        refs: b.add_text_field("refs", STRING),
        shared_with: b.add_text_field("shared_with", STRING),
        record: b.add_text_field("record", STORED),
        has: b.add_text_field("has", STRING),
    };
    (b.build(), fields)
}

/// The analyzer of the searched words: split at anything not a letter or digit, lower-cased,
/// accents folded (`Müller` is found by `muller`).
pub(crate) const ANALYZER: &str = "claimgraph";

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// What the index's commit records: its version and the audit sequence of the next write.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    version: u32,
    next_write: u64,
}

pub struct ClaimIndex {
    index: Index,
    pub(crate) reader: IndexReader,
    /// `None` in a published version, opened read-only.
    writer: Option<Mutex<IndexWriter>>,
    pub(crate) fields: Fields,
    dir: PathBuf,
    /// Set when a write's documents could not be updated: searches are refused (never answered
    /// from an index that misses a write) until a rebuild succeeds.
    broken: AtomicBool,
    /// Counts of recent searches, for this version of the index.
    counts: Mutex<search::CountsCache>,
    /// What searches read of each segment's claims ([`ClaimIndex::segment_claims`]).
    segments: Mutex<std::collections::HashMap<tantivy::index::SegmentId, search::SegmentClaims>>,
    /// The records of documents and reviews, written with the claims' documents.
    resources: resources::Resources,
}

impl ClaimIndex {
    /// Opens the index in `dir` (creating it if absent; one that cannot be opened, or of another
    /// version, is replaced by an empty one). Returns it with the audit sequence its last commit
    /// followed, if it is whole.
    pub fn open(dir: &Path) -> Result<(Self, Option<u64>)> {
        let (schema, fields) = schema();
        let opened = if dir.join("meta.json").exists() {
            match Index::open_in_dir(dir) {
                Ok(index) if index.schema() == schema && *index.settings() == settings() => {
                    Some(index)
                }
                Ok(_) => {
                    tracing::warn!(dir = %dir.display(), "the claims index has another schema or settings: rebuilding it");
                    None
                }
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "the claims index cannot be opened: rebuilding it");
                    None
                }
            }
        } else {
            None
        };
        let index = match opened {
            Some(index) => index,
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(|e| {
                        Error::io(format!("cannot remove the index {}", dir.display()), e)
                    })?;
                }
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::io(format!("cannot create the index {}", dir.display()), e)
                })?;
                Index::builder()
                    .schema(schema)
                    .settings(settings())
                    .create_in_dir(dir)
                    .map_err(index_error)?
            }
        };
        let following = following(&index);
        let (resources, resources_following) = resources::Resources::open(dir, true)?;
        let following = following.filter(|f| Some(*f) == resources_following);
        Ok((
            Self::with(index, fields, dir.to_owned(), resources, true)?,
            following,
        ))
    }

    /// Opens the index of a published version, read-only: it is searched, never written (a
    /// version's index is never rebuilt: one that cannot be opened is an error).
    pub(crate) fn open_read_only(dir: &Path) -> Result<(Self, Option<u64>)> {
        let (schema, fields) = schema();
        let index = Index::open_in_dir(dir).map_err(index_error)?;
        if index.schema() != schema {
            return Err(Error::Invalid(format!(
                "the claims index {} has another schema",
                dir.display()
            )));
        }
        let following = following(&index);
        let (resources, resources_following) = resources::Resources::open(dir, false)?;
        let following = following.filter(|f| Some(*f) == resources_following);
        Ok((
            Self::with(index, fields, dir.to_owned(), resources, false)?,
            following,
        ))
    }

    fn with(
        mut index: Index,
        fields: Fields,
        dir: PathBuf,
        resources: resources::Resources,
        writable: bool,
    ) -> Result<Self> {
        // A search reads the segments on the cores there are, side by side: a request's facet
        // counts over a million claims (most of a first search's time) take about half as long.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if cores > 1 {
            index.set_multithread_executor(cores).map_err(index_error)?;
        }
        index.tokenizers().register(ANALYZER, analyzer());
        index.tokenizers().register(
            "whitespace",
            TextAnalyzer::from(WhitespaceTokenizer::default()),
        );
        let (reader, writer) = reader_and_writer(&index, writable, WRITER_MEMORY)?;
        Ok(Self {
            index,
            reader,
            writer,
            fields,
            dir,
            broken: AtomicBool::new(false),
            counts: Mutex::default(),
            segments: Mutex::default(),
            resources,
        })
    }

    /// Where the index lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn searcher(&self) -> Result<tantivy::Searcher> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(Error::Unavailable(
                "the claims index missed a write and is being rebuilt; try again shortly".into(),
            ));
        }
        Ok(self.reader.searcher())
    }

    /// How many claims the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        let writer = self.writer.as_ref().ok_or_else(|| {
            Error::Invalid(format!(
                "the claims index {} is a published version's: it is never written",
                self.dir.display()
            ))
        })?;
        Ok(writer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces every document by one read from `store`, and commits as following the write
    /// `next_write`. Called under the store's writer lock (or before anything else uses the
    /// store).
    pub(crate) fn rebuild(&self, store: &ClaimStore, next_write: u64) -> Result<u64> {
        let started = std::time::Instant::now();
        let mut writer = self.writer()?;
        // Segments written while rebuilding are merged once, at the end, in IRI order.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let _warming = WarmUp::start(store.dir());
        let result = (|| {
            writer.delete_all_documents().map_err(index_error)?;
            // Both are reads waiting on RocksDB, on threads of their own.
            let (whole, claims) = std::thread::scope(|scope| {
                let listed = scope.spawn(|| -> Result<Vec<NamedOrBlankNode>> {
                    let mut claims: Vec<NamedOrBlankNode> = Reader::new(store, None)
                        .all_claims()
                        .collect::<Result<_>>()?;
                    // Added in IRI order, documents are stored in it: the questions that read
                    // every claim in that order (`questions`) then read the store of documents
                    // in sequence.
                    claims.sort_by_cached_key(subject_string);
                    Ok(claims)
                });
                let whole = Whole::read(store);
                let claims = listed.join().unwrap_or_else(|_| {
                    Err(Error::Internal("the thread listing claims panicked".into()))
                });
                (whole, claims)
            });
            let (whole, claims) = (whole?, claims?);
            tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "listed every claim, and read the content of corroborated claims and every review"
            );
            let total = claims.len();
            read_documents(store, &claims, Some(&whole), true, |n, doc| {
                if n % 100_000 == 0 && n > 0 {
                    tracing::info!(claims = n, of = total, "indexing claims");
                }
                writer
                    .add_document(self.tantivy_document(&doc))
                    .map_err(index_error)?;
                Ok(())
            })?;
            // Writing the segment, and merging segments if there are several, are one thread
            // of tantivy's each: the documents and reviews are read beside them.
            let (committed, resources) = std::thread::scope(|scope| {
                let resources = scope.spawn(|| self.resources.rebuild(store, next_write));
                let committed = commit(&mut writer, next_write).map(|()| {
                    // The index is whole without it: a failed merge only leaves searches slower.
                    if let Err(error) = self.merge_in_iri_order(&mut writer) {
                        tracing::warn!(%error, "the rebuilt claims index stays in segments");
                    }
                });
                let resources = resources.join().unwrap_or_else(|_| {
                    Err(Error::Internal(
                        "the thread reading documents and reviews panicked".into(),
                    ))
                });
                (committed, resources)
            });
            committed?;
            tracing::info!(
                documents_and_reviews = resources?,
                seconds = started.elapsed().as_secs_f64(),
                "read the documents and reviews"
            );
            Ok(total as u64)
        })();
        writer.set_merge_policy(Box::new(tantivy::indexer::LogMergePolicy::default()));
        match &result {
            Ok(total) => {
                self.reload()?;
                self.broken.store(false, Ordering::SeqCst);
                tracing::info!(
                    claims = total,
                    seconds = started.elapsed().as_secs_f64(),
                    "claims index built"
                );
            }
            Err(_) => {
                let _ = writer.rollback();
                self.broken.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    /// Merges the committed segments into one, in the order of their first claims' IRIs. A
    /// rebuild writes claims in IRI order, segment after segment, so the merged segment holds
    /// them in that order: the questions read its stored documents in sequence, and a ranked
    /// search skips the claims that tie with the last on a page ([`search`]'s `ranked_top`).
    /// Tantivy's own merges take segments in no particular order.
    fn merge_in_iri_order(&self, writer: &mut IndexWriter) -> Result<()> {
        self.reload()?;
        let searcher = self.reader.searcher();
        let mut segments = Vec::new();
        for reader in searcher.segment_readers() {
            let mut first = String::new();
            if let Some(claims) = reader.fast_fields().str("claim").map_err(index_error)? {
                claims
                    .ord_to_str(0, &mut first)
                    .map_err(|e| index_error(e.into()))?;
            }
            segments.push((first, reader.segment_id()));
        }
        if segments.len() < 2 {
            return Ok(());
        }
        segments.sort();
        let ids: Vec<_> = segments.into_iter().map(|(_, id)| id).collect();
        let started = std::time::Instant::now();
        writer.merge(&ids).wait().map_err(index_error)?;
        tracing::info!(
            segments = ids.len(),
            seconds = started.elapsed().as_secs_f64(),
            "merged the claims index in IRI order"
        );
        Ok(())
    }

    /// Updates the documents a write changed: `diff` holds the quads it added or removed (all
    /// of them, in the graphs it touched). Commits as following the write `next_write`.
    pub(crate) fn follow(
        &self,
        store: &ClaimStore,
        diff: &[&Quad],
        next_write: u64,
    ) -> Result<usize> {
        let affected = self
            .affected(store, diff, true)
            .and_then(|claims| Ok((claims, self.resources.affected(diff)?)));
        let (affected, resources) = match affected {
            Ok(affected) => affected,
            Err(error) => {
                self.broken.store(true, Ordering::SeqCst);
                return Err(error);
            }
        };
        self.read_again(store, &affected, &resources, next_write)
    }

    /// The documents and reviews whose records `diff` may change ([`ClaimIndex::follow`] reads
    /// them again with the claims).
    pub(crate) fn affected_resources(&self, diff: &[&Quad]) -> Result<Vec<NamedOrBlankNode>> {
        self.resources.affected(diff)
    }

    /// The documents and reviews whose records a write to `graphs` that says only which claims
    /// it changed (an import) may change; `None` if that is not known (the default graph).
    pub(crate) fn resources_in(
        &self,
        store: &ClaimStore,
        graphs: &[GraphName],
    ) -> Result<Option<Vec<NamedOrBlankNode>>> {
        self.resources.in_graphs(store, graphs)
    }

    /// Reads the documents of `claims` and the records of `resources` (documents and reviews)
    /// again (one no longer in the store loses them) and commits as following the write
    /// `next_write`: for a write that knows which claims it changed (an import), instead of
    /// comparing the quads of the graphs it touched.
    pub(crate) fn read_again(
        &self,
        store: &ClaimStore,
        affected: &[NamedOrBlankNode],
        resources: &[NamedOrBlankNode],
        next_write: u64,
    ) -> Result<usize> {
        let mut writer = self.writer()?;
        let result = (|| {
            self.resources.read_again(store, resources, next_write)?;
            // A delete applies to the documents added before it: all of them first.
            for claim in affected {
                writer.delete_term(IndexTerm::from_field_text(
                    self.fields.claim,
                    &subject_string(claim),
                ));
            }
            // Many claims at once (an ingest into a new store): what every claim shares is read
            // once, as a rebuild reads it, instead of the holders of each content triple claim
            // by claim (a dozen reads a claim). Its cost grows with the store's claims, bounded
            // here by four times those read.
            let many = affected.len() as u64 * 4 >= self.reader.searcher().num_docs();
            let whole = if many && !affected.is_empty() {
                Some(Whole::read(store)?)
            } else {
                None
            };
            read_documents(store, affected, whole.as_ref(), false, |_, doc| {
                writer
                    .add_document(self.tantivy_document(&doc))
                    .map_err(index_error)?;
                Ok(())
            })?;
            commit(&mut writer, next_write)?;
            Ok(affected.len())
        })();
        match &result {
            Ok(_) => self.reload()?,
            Err(_) => {
                let _ = writer.rollback();
                self.broken.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    /// Records that the write `next_write` changed nothing (it failed): the index still follows
    /// the store.
    pub(crate) fn unchanged(&self, next_write: u64) -> Result<()> {
        self.resources.unchanged(next_write)?;
        commit(&mut *self.writer()?, next_write)
    }

    /// Calls `visit` with each record of the library question `question` (`documents`,
    /// `source-chains`, `reviews`), in its `ORDER BY`; `None` if its records cannot be put in
    /// that order (a date of another kind than `xsd:date`): its SPARQL answers it.
    pub fn each_resource_record(
        &self,
        question: &str,
        visit: impl FnMut(&resources::Record<'_>) -> Result<()>,
    ) -> Result<Option<()>> {
        self.searcher()?;
        self.resources.each(question, visit)
    }

    /// Whether the records of `question` are in its `ORDER BY` (see
    /// [`ClaimIndex::each_resource_record`]).
    pub(crate) fn resource_records_ordered(&self, question: &str) -> Result<bool> {
        self.searcher()?;
        Ok(!self.resources.unordered(question)?)
    }

    fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(index_error)
    }

    /// The claims whose documents `diff` may change: claims among its subjects and objects,
    /// claims whose documents were read from a subject it describes anew, or from a graph it
    /// changes, and the claims sharing content with those (corroboration). (Subjects of an
    /// assertion graph are what a claim says, not descriptions of them: a claim naming a
    /// company does not make every claim about it out of date.) With `sharers` false, the
    /// claims sharing the content the others hold now are left out: the caller adds them later
    /// ([`ClaimIndex::sharers`]); those sharing content the write removed are in.
    pub(crate) fn affected(
        &self,
        store: &ClaimStore,
        diff: &[&Quad],
        sharers: bool,
    ) -> Result<Vec<NamedOrBlankNode>> {
        let reader = &Reader::new(store, None);
        let searcher = self.reader.searcher();
        // Deleted documents count until their segment merges: a claim or reference found here
        // may no longer be indexed, which costs one needless read, never a missed document.
        let indexed = |field: Field, value: &str| -> Result<bool> {
            let term = IndexTerm::from_field_text(field, value);
            Ok(searcher.doc_freq(&term).map_err(index_error)? > 0)
        };
        let mut assertion_graphs: HashSet<&NamedNode> = HashSet::new();
        let mut graphs: HashSet<&NamedNode> = HashSet::new();
        for quad in diff {
            if let GraphName::NamedNode(g) = &quad.graph_name {
                graphs.insert(g);
            }
        }
        for graph in &graphs {
            if reader.is_assertion_graph(graph)? || indexed(self.fields.assertion, graph.as_str())?
            {
                assertion_graphs.insert(graph);
            }
        }
        let mut refs: HashSet<String> = graphs.iter().map(|g| g.as_str().to_owned()).collect();
        // A claim's document reads the quads about it and the reviews naming it
        // (`schema:itemReviewed`): the claims a write concerns directly are among their subjects
        // (claims already indexed, or typed `schema:Claim` by the write) and those objects.
        let rdf_type = NamedNode::new_unchecked(crate::vocab::RDF_TYPE);
        let claim_type: Term = NamedNode::new_unchecked(crate::vocab::SCHEMA_CLAIM).into();
        let reviewed = NamedNode::new_unchecked(crate::vocab::SCHEMA_ITEM_REVIEWED);
        let same_claim_as = NamedNode::new_unchecked(crate::vocab::CG_SAME_CLAIM_AS);
        let mut subjects: HashSet<&NamedOrBlankNode> = HashSet::new();
        let mut typed: HashSet<&NamedOrBlankNode> = HashSet::new();
        let mut reviewed_claims: HashSet<NamedOrBlankNode> = HashSet::new();
        for quad in diff {
            let in_assertion =
                matches!(&quad.graph_name, GraphName::NamedNode(g) if assertion_graphs.contains(g));
            if !in_assertion {
                refs.insert(subject_string(&quad.subject));
            }
            subjects.insert(&quad.subject);
            if quad.predicate == rdf_type && quad.object == claim_type {
                typed.insert(&quad.subject);
            }
            // A link made by an import changes the claim it points to (its fact-checkers).
            if quad.predicate == same_claim_as {
                if let Term::NamedNode(n) = &quad.object {
                    reviewed_claims.insert(n.clone().into());
                }
            }
            if quad.predicate == reviewed {
                match &quad.object {
                    Term::NamedNode(n) => reviewed_claims.insert(n.clone().into()),
                    Term::BlankNode(b) => reviewed_claims.insert(b.clone().into()),
                    _ => false,
                };
            }
        }
        let mut affected: HashSet<NamedOrBlankNode> = HashSet::new();
        for subject in subjects {
            if typed.contains(subject) || indexed(self.fields.claim, &subject_string(subject))? {
                affected.insert(subject.clone());
            }
        }
        for claim in reviewed_claims {
            if indexed(self.fields.claim, &subject_string(&claim))? || reader.is_claim(&claim)? {
                affected.insert(claim);
            }
        }
        affected.extend(self.claims_naming(&searcher, refs)?);
        // What corroborates a claim is read from the claims sharing its content: theirs change
        // with its content or status, and with the content a write removed.
        let mut found = Vec::new();
        if sharers {
            for claim in &affected {
                found.extend(reader.sharing(claim)?);
            }
        }
        // A triple the write added to the assertion graph of a claim found above was just read
        // by `sharing`: only removed triples, and those of other graphs, are looked up here.
        let mut covered: std::collections::HashMap<&NamedNode, bool> = Default::default();
        for quad in diff {
            let GraphName::NamedNode(graph) = &quad.graph_name else {
                continue;
            };
            if !assertion_graphs.contains(graph) {
                continue;
            }
            let owners_affected = match covered.get(graph) {
                Some(covered) => *covered,
                None => {
                    let owners = reader.assertion_owners(graph)?;
                    let all = !owners.is_empty() && owners.iter().all(|o| affected.contains(o));
                    *covered.entry(graph).or_insert(all)
                }
            };
            if owners_affected && store.contains_quad(quad)? {
                continue;
            }
            found.extend(reader.claims_holding(&Triple::from((*quad).clone()))?);
        }
        affected.extend(found);
        let mut affected: Vec<NamedOrBlankNode> = affected.into_iter().collect();
        affected.sort_by_key(subject_string);
        Ok(affected)
    }

    /// `claims` with the claims sharing content with them, in IRI order (read on threads of
    /// their own, as documents are).
    pub(crate) fn sharers(
        &self,
        store: &ClaimStore,
        claims: HashSet<NamedOrBlankNode>,
    ) -> Result<Vec<NamedOrBlankNode>> {
        let listed: Vec<&NamedOrBlankNode> = claims.iter().collect();
        let found = std::thread::scope(|scope| -> Result<Vec<NamedOrBlankNode>> {
            let chunk = listed.len().div_ceil(REBUILD_THREADS).max(1);
            let threads: Vec<_> = listed
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || -> Result<Vec<NamedOrBlankNode>> {
                        let reader = Reader::new(store, None);
                        let mut found = Vec::new();
                        for claim in part {
                            found.extend(reader.sharing(claim)?);
                        }
                        Ok(found)
                    })
                })
                .collect();
            let mut found = Vec::new();
            for thread in threads {
                found.extend(thread.join().map_err(|_| {
                    Error::Internal("a thread reading shared content panicked".into())
                })??);
            }
            Ok(found)
        })?;
        let mut claims = claims;
        claims.extend(found);
        let mut claims: Vec<NamedOrBlankNode> = claims.into_iter().collect();
        claims.sort_by_cached_key(subject_string);
        Ok(claims)
    }

    /// The claims whose documents were read from any of `refs`, found in each segment's
    /// postings and claim column: thousands of one-term searches, each handed to the search
    /// threads and each loading a stored document, took most of a sheet's index update.
    fn claims_naming(
        &self,
        searcher: &tantivy::Searcher,
        refs: HashSet<String>,
    ) -> Result<HashSet<NamedOrBlankNode>> {
        let segments = self.segment_claims(searcher)?;
        let mut claims = HashSet::new();
        let mut iri = String::new();
        docs_holding(searcher, self.fields.refs, &refs, |ord, _, doc| {
            let Some(column) = segments.get(ord as usize).and_then(|s| s.iris.as_ref()) else {
                return Ok(());
            };
            // Deleted documents count until their segment merges: at worst a claim is read
            // again needlessly, never missed.
            for term in column.term_ords(doc) {
                iri.clear();
                if column
                    .ord_to_str(term, &mut iri)
                    .map_err(|e| index_error(e.into()))?
                {
                    claims.insert(parse_subject(&iri));
                }
            }
            Ok(())
        })?;
        Ok(claims)
    }

    fn tantivy_document(&self, doc: &ClaimDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        // The one stored value (`search`'s `stored_record`): pages, matches and the questions
        // read what they show from it.
        d.add_text(f.record, doc.record.encode());
        d.add_text(f.claim, &doc.claim);
        // Twice: values of one field are apart by a position, so a phrase never spans the two.
        d.add_text(f.body, &doc.text);
        d.add_text(f.body, &doc.text);
        for quote in &doc.quotes {
            d.add_text(f.body, quote);
        }
        for words in &doc.context {
            d.add_text(f.body, words);
        }
        let mut tokens = Vec::new();
        for text in std::iter::once(&doc.text).chain(&doc.quotes) {
            let (words, pairs) = crate::draft::matcher::tokens_and_pairs(text);
            let cells: Vec<String> = words
                .iter()
                .flat_map(|w| crate::draft::matcher::nearness(w))
                .collect();
            tokens.extend(words);
            tokens.extend(cells);
            tokens.extend(pairs);
        }
        d.add_text(f.words, tokens.join(" "));
        for status in &doc.statuses {
            d.add_text(f.status, status);
        }
        for status in &doc.shared_with {
            d.add_text(f.shared_with, status);
        }
        if let Some(claimant) = &doc.claimant {
            d.add_text(f.claimant, claimant);
        }
        for (field, values) in [
            (f.source, &doc.sources),
            (f.outlet, &doc.outlets),
            (f.entity, &doc.entities),
            (f.rating, &doc.ratings),
            (f.checker, &doc.checkers),
            (f.refs, &doc.refs),
        ] {
            for value in values {
                d.add_text(field, value);
            }
        }
        for date in &doc.dates {
            if let Some(n) = date_number(date) {
                d.add_u64(f.date, n);
            }
        }
        if !doc.checkers.is_empty() {
            d.add_text(f.has, search::RATED_ELSEWHERE);
        }
        if doc.imported {
            d.add_text(f.has, search::IMPORTED);
        }
        if doc.primary.is_some() {
            d.add_text(f.has, "primary");
        }
        if let Some(assertion) = &doc.assertion {
            d.add_text(f.assertion, assertion);
        }
        d
    }
}

/// Reads the store's table files once, in sequence, on a thread of its own, while a rebuild
/// reads them claim by claim: a rebuild reads nearly every block of the store, in no order, and
/// from a cold page cache each read waited on the disk, where reading in sequence does not.
/// Only when the files fit in half the memory available, else they would push each other out;
/// it stops when dropped.
struct WarmUp(std::sync::Arc<AtomicBool>);

impl WarmUp {
    fn start(dir: &Path) -> Self {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (mut tables, mut size) = (Vec::new(), 0);
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sst") {
                size += entry.metadata().map_or(0, |m| m.len());
                tables.push(path);
            }
        }
        let room = available_memory().unwrap_or(0) / 2;
        if size > room {
            tracing::debug!(size, room, "the store's files are not read ahead");
            return Self(stop);
        }
        let stopped = stop.clone();
        let reading = std::thread::Builder::new()
            .name("claimgraph-warm-up".into())
            .spawn(move || {
                use std::io::Read;
                let mut buffer = vec![0u8; 1 << 20];
                for path in tables {
                    // A file compacted away meanwhile is simply not read.
                    let Ok(mut file) = std::fs::File::open(&path) else {
                        continue;
                    };
                    while !stopped.load(Ordering::Relaxed) {
                        match file.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                }
            });
        if let Err(error) = reading {
            tracing::debug!(%error, "the store's files are not read ahead");
        }
        Self(stop)
    }
}

impl Drop for WarmUp {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `MemAvailable` of /proc/meminfo, in bytes (Linux; `None` elsewhere).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The documents of `claims` (those still in the store), handed to `add` in the order of
/// `claims` with how many came before. Reading is most of the work, and each claim's reads wait
/// on RocksDB: chunks are read on threads of their own. `whole`: what every claim shares, read
/// once; `known`: every claim is known to be one (a rebuild), else each is checked.
fn read_documents(
    store: &ClaimStore,
    claims: &[NamedOrBlankNode],
    whole: Option<&Whole>,
    known: bool,
    mut add: impl FnMut(usize, ClaimDocument) -> Result<()>,
) -> Result<()> {
    let chunks: Vec<&[NamedOrBlankNode]> = claims.chunks(REBUILD_CHUNK).collect();
    let next_chunk = std::sync::atomic::AtomicUsize::new(0);
    let (sender, receiver) = std::sync::mpsc::sync_channel(REBUILD_THREADS * 2);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..REBUILD_THREADS.min(chunks.len()) {
            let (sender, chunks, next_chunk) = (sender.clone(), &chunks, &next_chunk);
            scope.spawn(move || {
                let mut reader = Reader::new(store, whole);
                loop {
                    let n = next_chunk.fetch_add(1, Ordering::SeqCst);
                    let Some(chunk) = chunks.get(n) else { return };
                    let docs: Result<Vec<ClaimDocument>> = chunk
                        .iter()
                        .filter_map(|claim| reader.read(claim, known).transpose())
                        .collect();
                    let failed = docs.is_err();
                    if sender.send((n, docs)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = std::collections::BTreeMap::new();
        let (mut next, mut added) = (0, 0);
        for (n, docs) in receiver {
            waiting.insert(n, docs?);
            while let Some(docs) = waiting.remove(&next) {
                for doc in docs {
                    add(added, doc)?;
                    added += 1;
                }
                next += 1;
            }
        }
        Ok(())
    })
}

/// Calls `visit` with (segment ordinal, segment, document) for each document, deleted or not,
/// holding any of `values` in `field`: each segment's postings looked up term by term, in
/// dictionary order, which reads each block of the dictionary once.
pub(crate) fn docs_holding(
    searcher: &tantivy::Searcher,
    field: Field,
    values: &HashSet<String>,
    mut visit: impl FnMut(u32, &tantivy::SegmentReader, tantivy::DocId) -> Result<()>,
) -> Result<()> {
    let mut terms: Vec<IndexTerm> = values
        .iter()
        .map(|v| IndexTerm::from_field_text(field, v))
        .collect();
    terms.sort_unstable();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let postings = segment.inverted_index(field).map_err(index_error)?;
        for term in &terms {
            let Some(mut docs) = postings
                .read_postings(term, IndexRecordOption::Basic)
                .map_err(|e| index_error(e.into()))?
            else {
                continue;
            };
            let mut doc = docs.doc();
            while doc != tantivy::TERMINATED {
                visit(ord as u32, segment, doc)?;
                doc = docs.advance();
            }
        }
    }
    Ok(())
}

/// An index's reader, reloaded by hand after each commit, and its one writer (one thread,
/// buffering `memory` bytes) if it is `writable`.
fn reader_and_writer(
    index: &Index,
    writable: bool,
    memory: usize,
) -> Result<(IndexReader, Option<Mutex<IndexWriter>>)> {
    let writer = if writable {
        Some(Mutex::new(
            index
                .writer_with_num_threads(1, memory)
                .map_err(index_error)?,
        ))
    } else {
        None
    };
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(index_error)?;
    Ok((reader, writer))
}

/// The places among the terms of a column's dictionary (their ordinals) of those within `from`
/// and `to`.
pub(crate) fn places_within(
    column: &tantivy::columnar::StrColumn,
    from: std::ops::Bound<&[u8]>,
    to: std::ops::Bound<&[u8]>,
) -> Result<std::ops::Range<u64>> {
    use std::ops::Bound;
    let (first, end) = column
        .dictionary()
        .term_bounds_to_ord(from, to)
        .map_err(|e| index_error(e.into()))?;
    let first = match first {
        Bound::Included(first) => first,
        Bound::Excluded(before) => before + 1,
        Bound::Unbounded => 0,
    };
    let end = match end {
        Bound::Included(last) => last + 1,
        Bound::Excluded(end) => end,
        Bound::Unbounded => column.num_terms() as u64,
    }
    .min(column.num_terms() as u64)
    .max(first);
    Ok(first..end)
}

/// Calls `visit` with each live document holding a term of `field` between `from` and `to`, in
/// the order of those terms, with the term, until it answers `false`: the segments' sorted
/// dictionaries are read side by side, so the first comes at once and nothing is sorted or
/// collected.
pub(crate) fn walk_terms(
    searcher: &tantivy::Searcher,
    field: Field,
    from: std::ops::Bound<&[u8]>,
    to: std::ops::Bound<&[u8]>,
    mut visit: impl FnMut(&[u8], tantivy::DocAddress) -> Result<bool>,
) -> Result<()> {
    use std::ops::Bound;
    let readers = searcher.segment_readers();
    let mut indexes = Vec::with_capacity(readers.len());
    for reader in readers {
        indexes.push(reader.inverted_index(field).map_err(index_error)?);
    }
    // Per segment: its terms in the range, and the one it is at.
    let mut streams = Vec::with_capacity(readers.len());
    for index in &indexes {
        let range = index.terms().range();
        let range = match from {
            Bound::Included(from) => range.ge(from),
            Bound::Excluded(from) => range.gt(from),
            Bound::Unbounded => range,
        };
        let range = match to {
            Bound::Included(to) => range.le(to),
            Bound::Excluded(to) => range.lt(to),
            Bound::Unbounded => range,
        };
        let mut terms = range.into_stream().map_err(|e| index_error(e.into()))?;
        let current = terms.advance().then(|| terms.key().to_vec());
        streams.push((terms, current));
    }
    loop {
        let Some(next) = streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.1.as_ref().map(|k| (i, k)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i)
        else {
            return Ok(());
        };
        let (terms, current) = &mut streams[next];
        let key = current.take().unwrap_or_default();
        let info = terms.value().clone();
        *current = terms.advance().then(|| terms.key().to_vec());
        let mut postings = indexes[next]
            .read_postings_from_terminfo(&info, IndexRecordOption::Basic)
            .map_err(|e| index_error(e.into()))?;
        // A document written again in the same segment has its old, deleted, one too.
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if !readers[next].is_deleted(doc)
                && !visit(&key, tantivy::DocAddress::new(next as u32, doc))?
            {
                return Ok(());
            }
            doc = postings.advance();
        }
    }
}

/// The audit sequence the index's last commit followed, if it is of this version.
fn following(index: &Index) -> Option<u64> {
    index
        .load_metas()
        .ok()
        .and_then(|m| m.payload)
        .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
        .filter(|p| p.version == VERSION)
        .map(|p| p.next_write)
}

fn commit(writer: &mut IndexWriter, next_write: u64) -> Result<()> {
    let payload = serde_json::to_string(&Payload {
        version: VERSION,
        next_write,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut prepared = writer.prepare_commit().map_err(index_error)?;
    prepared.set_payload(&payload);
    prepared.commit().map_err(index_error)?;
    Ok(())
}

/// `YYYY-MM-DD` (or a longer date-time) as the number `YYYYMMDD`.
pub(crate) fn date_number(date: &str) -> Option<u64> {
    let bytes = date.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |s: &str| s.parse::<u64>().ok();
    let (y, m, d) = (
        digits(&date[0..4])?,
        digits(&date[5..7])?,
        digits(&date[8..10])?,
    );
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(y * 10_000 + m * 100 + d)
}

pub(crate) fn parse_subject(value: &str) -> NamedOrBlankNode {
    match value.strip_prefix("_:") {
        Some(id) => BlankNode::new_unchecked(id).into(),
        None => NamedNode::new_unchecked(value).into(),
    }
}

pub(crate) fn index_error(error: tantivy::TantivyError) -> Error {
    Error::Internal(format!("claims index: {error}"))
}
