//! The records the library's questions about documents and reviews read (`documents`,
//! `source-chains`, `reviews`), in a tantivy index of their own beside the claims' documents
//! (`<store>/index/resources`). Each record is stored under a key that sorts as its question's
//! `ORDER BY`, so an answer streams by walking the keys: its first row leaves before the rest is
//! read, where the SPARQL sorts every document of the store first.
//!
//! Invariants:
//! - written with the claims index, by the store's writer: the same rebuilds and commits, each
//!   recording the write it follows; the claims index only counts as following a write when
//!   these records follow it too (else both are rebuilt at open);
//! - a resource's records name in `refs` every other node they were read from, and in
//!   `graphs` every graph a quad read for them is in: a write to either reads them again;
//! - a question with a date its key cannot sort as SPARQL does (anything but an `xsd:date`
//!   written `YYYY-MM-DD`) is marked `unordered`, and answered by its SPARQL instead.

use super::document::{as_subject, subject_string, term_string, Predicates};
use super::{commit, following, index_error, parse_subject};
use crate::error::{Error, Result};
use crate::store::ClaimStore;
use crate::vocab;
use oxigraph::model::{GraphName, Literal, NamedNode, NamedOrBlankNode, Quad, Term, TermRef};
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::schema::{Field, Schema, FAST, STORED, STRING};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, TantivyDocument};

/// The directory of the records inside the claims index's.
const DIR: &str = "resources";

/// Memory the writer may buffer: records are small, and the claims' writer holds its own.
const WRITER_MEMORY: usize = 32 * 1024 * 1024;

/// The questions answered from these records, each the prefix of its keys.
pub const DOCUMENTS: &str = "documents";
pub const SOURCE_CHAINS: &str = "source-chains";
pub const REVIEWS: &str = "reviews";

/// What ends a question's name in a key: below every character a key holds after it.
const AFTER_QUESTION: char = '\u{1}';

/// The predicates these records read from a resource itself: a write of another predicate
/// about a node changes them only if they read that node (`refs`).
const READ: &[&str] = &[
    vocab::RDF_TYPE,
    vocab::SCHEMA_DATE_PUBLISHED,
    vocab::CG_DATE_FILED,
    vocab::SCHEMA_PUBLISHER,
    vocab::CG_TEXT_SHA256,
    vocab::PROV_WAS_DERIVED_FROM,
    vocab::SCHEMA_ITEM_REVIEWED,
    vocab::SCHEMA_AUTHOR,
    vocab::SCHEMA_REVIEW_RATING,
    vocab::CITO_CITES_AS_EVIDENCE,
];

/// The predicates records read from the nodes they name (`refs`): an outlet's or author's
/// names, the steps of a derivation, a rating's values. A write of these about a node reads
/// again the records that name it.
const READ_THROUGH: &[&str] = &[
    vocab::SCHEMA_NAME,
    vocab::PROV_WAS_DERIVED_FROM,
    vocab::SCHEMA_ALTERNATE_NAME,
    vocab::SCHEMA_RATING_VALUE,
    vocab::SCHEMA_BEST_RATING,
    vocab::SCHEMA_WORST_RATING,
];

/// The kinds of document `queries/documents.rq` lists.
const DOCUMENT_KINDS: &[&str] = &[
    vocab::SCHEMA_NEWS_ARTICLE,
    vocab::CG_COURT_FILING,
    vocab::CG_STATEMENT,
];

#[derive(Debug, Clone, Copy)]
struct Fields {
    /// The resource (a document or a review), as [`subject_string`] writes it.
    iri: Field,
    /// The question and the record's place in its order ([`entry`]).
    key: Field,
    refs: Field,
    graphs: Field,
    /// The questions this record's dates cannot be ordered for.
    unordered: Field,
    /// The record's lines ([`Record`]).
    record: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        iri: b.add_text_field("iri", STRING | STORED),
        // A column too: a segment's records are put in the order of their keys from it.
        key: b.add_text_field("key", STRING | FAST),
        refs: b.add_text_field("refs", STRING),
        graphs: b.add_text_field("graphs", STRING),
        unordered: b.add_text_field("unordered", STRING),
        record: b.add_text_field("record", STORED),
    };
    (b.build(), fields)
}

pub struct Resources {
    reader: IndexReader,
    writer: Option<Mutex<IndexWriter>>,
    fields: Fields,
}

impl Resources {
    /// Opens the records under the claims index's directory `parent` (creating them, or
    /// replacing ones that cannot be opened or are of another schema, when `writable`), with
    /// the audit sequence their last commit followed.
    pub(super) fn open(parent: &Path, writable: bool) -> Result<(Self, Option<u64>)> {
        let dir = parent.join(DIR);
        let (schema, fields) = schema();
        let opened = match Index::open_in_dir(&dir) {
            Ok(index) if index.schema() == schema && *index.settings() == super::settings() => {
                Ok(index)
            }
            Ok(_) => Err(format!(
                "the records in {} have another schema",
                dir.display()
            )),
            Err(error) => Err(error.to_string()),
        };
        let index = match opened {
            Ok(index) => index,
            Err(error) if !writable => return Err(Error::Invalid(error)),
            Err(error) => {
                if dir.join("meta.json").exists() {
                    tracing::warn!(%error, "the records of documents and reviews cannot be opened: replacing them");
                }
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).map_err(|e| {
                        Error::io(format!("cannot remove the records {}", dir.display()), e)
                    })?;
                }
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::io(format!("cannot create the records {}", dir.display()), e)
                })?;
                Index::builder()
                    .schema(schema)
                    .settings(super::settings())
                    .create_in_dir(&dir)
                    .map_err(index_error)?
            }
        };
        let following = following(&index);
        let (reader, writer) = super::reader_and_writer(&index, writable, WRITER_MEMORY)?;
        Ok((
            Self {
                reader,
                writer,
                fields,
            },
            following,
        ))
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        let writer = self.writer.as_ref().ok_or_else(|| {
            Error::Invalid("a published version's records are never written".into())
        })?;
        Ok(writer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces every record by those read from `store` and commits as following `next_write`.
    pub(super) fn rebuild(&self, store: &ClaimStore, next_write: u64) -> Result<usize> {
        let mut writer = self.writer()?;
        let result = (|| {
            writer.delete_all_documents().map_err(index_error)?;
            let p = Predicates::new();
            let mut resources: Vec<NamedOrBlankNode> = Vec::new();
            for kind in DOCUMENT_KINDS
                .iter()
                .chain([&vocab::PROV_ENTITY, &vocab::SCHEMA_CLAIM_REVIEW])
            {
                let kind: Term = NamedNode::new_unchecked(*kind).into();
                for quad in store.quads_matching(None, Some(&p.rdf_type), Some(&kind), None) {
                    resources.push(quad?.subject);
                }
            }
            resources.sort_by_cached_key(subject_string);
            resources.dedup();
            let total = resources.len();
            self.add_read(&mut writer, store, &resources)?;
            commit(&mut writer, next_write)?;
            Ok(total)
        })();
        self.after_write(&mut writer, &result)?;
        result
    }

    /// Reads `resources` again (one no longer a document or review loses its records) and
    /// commits as following `next_write`.
    pub(super) fn read_again(
        &self,
        store: &ClaimStore,
        resources: &[NamedOrBlankNode],
        next_write: u64,
    ) -> Result<()> {
        let mut writer = self.writer()?;
        let result = (|| {
            for resource in resources {
                writer.delete_term(tantivy::Term::from_field_text(
                    self.fields.iri,
                    &subject_string(resource),
                ));
            }
            self.add_read(&mut writer, store, resources)?;
            commit(&mut writer, next_write)
        })();
        self.after_write(&mut writer, &result)?;
        result
    }

    /// Records that the write `next_write` changed nothing here.
    pub(super) fn unchanged(&self, next_write: u64) -> Result<()> {
        commit(&mut *self.writer()?, next_write)
    }

    fn after_write<T>(&self, writer: &mut IndexWriter, result: &Result<T>) -> Result<()> {
        match result {
            Ok(_) => self.reader.reload().map_err(index_error),
            Err(_) => {
                let _ = writer.rollback();
                Ok(())
            }
        }
    }

    /// Reads the records of `resources` on threads of their own (each read waits on RocksDB)
    /// and adds them in the order of their keys: a question then reads its records in the
    /// order they are stored, each block of them decompressed once (read in the order of the
    /// resources' IRIs, each `reviews` record decompressed a block of its own, a quarter of the
    /// answer's time).
    fn add_read(
        &self,
        writer: &mut IndexWriter,
        store: &ClaimStore,
        resources: &[NamedOrBlankNode],
    ) -> Result<()> {
        let threads = super::REBUILD_THREADS;
        let chunk = resources.len().div_ceil(threads).max(1);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Read>>(1024);
        std::thread::scope(|scope| -> Result<()> {
            for part in resources.chunks(chunk) {
                let sender = sender.clone();
                scope.spawn(move || {
                    let mut reader = ResourceReader::new(store);
                    for resource in part {
                        let read = reader.read(resource);
                        let failed = read.is_err();
                        if sender.send(read).is_err() || failed {
                            return;
                        }
                    }
                });
            }
            drop(sender);
            let mut documents = Vec::new();
            for read in receiver {
                let read = read?;
                for entry in &read.entries {
                    documents.push((entry.key.clone(), self.tantivy_document(&read, entry)));
                }
            }
            documents.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (_, document) in documents {
                writer.add_document(document).map_err(index_error)?;
            }
            Ok(())
        })
    }

    fn tantivy_document(&self, read: &Read, entry: &Entry) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.iri, &read.iri);
        d.add_text(f.key, &entry.key);
        d.add_text(f.record, &entry.record);
        if entry.unordered {
            d.add_text(f.unordered, entry.question);
        }
        for value in &read.refs {
            d.add_text(f.refs, value);
        }
        for value in &read.graphs {
            d.add_text(f.graphs, value);
        }
        d
    }

    /// The resources whose records `diff` (quads a write added or removed) may change: the
    /// subjects of its quads of the predicates records read, and the resources whose records
    /// were read through a subject of its quads of the predicates read through nodes (a sheet
    /// of claims writes hundreds of thousands of quads, few of them about those nodes).
    pub(super) fn affected(&self, diff: &[&Quad]) -> Result<Vec<NamedOrBlankNode>> {
        let read: HashSet<&str> = READ.iter().copied().collect();
        let read_through: HashSet<&str> = READ_THROUGH.iter().copied().collect();
        let mut affected: HashSet<NamedOrBlankNode> = HashSet::new();
        let mut subjects: HashSet<String> = HashSet::new();
        for quad in diff {
            if read.contains(quad.predicate.as_str()) {
                affected.insert(quad.subject.clone());
            }
            if read_through.contains(quad.predicate.as_str()) {
                subjects.insert(subject_string(&quad.subject));
            }
        }
        affected.extend(self.naming(self.fields.refs, subjects)?);
        Ok(sorted(affected))
    }

    /// The resources whose records a write to `graphs` that says only which claims it changed
    /// (an import) may change: the subjects of those graphs' quads of the predicates records
    /// read, and the resources read from them. `None` for the default graph, which is not read
    /// on its own: every record is read again.
    pub(super) fn in_graphs(
        &self,
        store: &ClaimStore,
        graphs: &[GraphName],
    ) -> Result<Option<Vec<NamedOrBlankNode>>> {
        let read: HashSet<&str> = READ.iter().copied().collect();
        let mut affected: HashSet<NamedOrBlankNode> = HashSet::new();
        for graph in graphs {
            let graph: NamedOrBlankNode = match graph {
                GraphName::NamedNode(n) => n.clone().into(),
                GraphName::BlankNode(b) => b.clone().into(),
                GraphName::DefaultGraph => return Ok(None),
            };
            for quad in store.quads_matching(None, None, None, Some(&graph)) {
                let quad = quad?;
                if read.contains(quad.predicate.as_str()) {
                    affected.insert(quad.subject);
                }
            }
        }
        let graphs = graphs.iter().map(graph_string).collect();
        affected.extend(self.naming(self.fields.graphs, graphs)?);
        Ok(Some(sorted(affected)))
    }

    /// The resources with a record holding any of `values` in `field`.
    fn naming(&self, field: Field, values: HashSet<String>) -> Result<HashSet<NamedOrBlankNode>> {
        let searcher = self.reader.searcher();
        let mut found = HashSet::new();
        super::docs_holding(&searcher, field, &values, |ord, segment, doc| {
            if !segment.is_deleted(doc) {
                let stored: TantivyDocument = searcher
                    .doc(DocAddress::new(ord, doc))
                    .map_err(index_error)?;
                found.insert(parse_subject(stored_text(&stored, self.fields.iri)));
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Whether `question`'s records hold a date their keys cannot order as its SPARQL does.
    pub(crate) fn unordered(&self, question: &str) -> Result<bool> {
        self.unordered_in(&self.reader.searcher(), question)
    }

    fn unordered_in(&self, searcher: &tantivy::Searcher, question: &str) -> Result<bool> {
        let term = tantivy::Term::from_field_text(self.fields.unordered, question);
        Ok(searcher.doc_freq(&term).map_err(index_error)? > 0)
    }

    /// Calls `visit` with each record of `question`, in the order of their keys (the question's
    /// `ORDER BY`): each segment's records put in that order by its column of keys
    /// ([`in_key_order`]), and the segments merged by their keys. `None` (and nothing visited)
    /// if the question is [`Resources::unordered`].
    pub(crate) fn each(
        &self,
        question: &str,
        mut visit: impl FnMut(&Record<'_>) -> Result<()>,
    ) -> Result<Option<()>> {
        let searcher = self.reader.searcher();
        if self.unordered_in(&searcher, question)? {
            return Ok(None);
        }
        let from = format!("{question}{AFTER_QUESTION}");
        let to = format!("{question}{}", char::from(AFTER_QUESTION as u8 + 1));
        let (from, to) = (
            Bound::Included(from.as_bytes()),
            Bound::Excluded(to.as_bytes()),
        );
        let segments = searcher.segment_readers();
        let mut columns = Vec::with_capacity(segments.len());
        for (ord, segment) in segments.iter().enumerate() {
            // A segment none of whose records has a key has no column of them.
            if let Some(keys) = segment.fast_fields().str("key").map_err(index_error)? {
                columns.push((ord as u32, segment, keys));
            }
        }
        // Keys are only read to compare one segment's with another's.
        let compared = columns.len() > 1;
        let mut ordered = Vec::with_capacity(columns.len());
        for (ord, segment, keys) in &columns {
            ordered.push((*ord, in_key_order(segment, keys, from, to, compared)?));
        }
        loop {
            for (_, segment) in &mut ordered {
                segment.read_keys()?;
            }
            // The segment whose next key is first (the first segment of equal ones).
            let next = ordered
                .iter_mut()
                .filter(|(_, s)| s.at < s.docs.len())
                .min_by(|(_, a), (_, b)| a.key().cmp(b.key()));
            let Some((ord, segment)) = next else {
                return Ok(Some(()));
            };
            let address = DocAddress::new(*ord, segment.docs[segment.at]);
            segment.at += 1;
            let stored: TantivyDocument = searcher.doc(address).map_err(index_error)?;
            visit(&Record::decode(stored_text(&stored, self.fields.record))?)?;
        }
    }
}

/// How many keys [`InKeyOrder`] reads at a time: the first row waits for no more.
const KEYS_READ: usize = 1024;

/// A segment's records of a question in the order of their keys, and where a walk is among
/// them; with its column of keys when they are compared with another segment's, read a few
/// at a time.
struct InKeyOrder<'a> {
    docs: Vec<tantivy::DocId>,
    /// Each document's key's place among the segment's keys.
    places: Vec<u64>,
    at: usize,
    column: Option<&'a tantivy::columnar::StrColumn>,
    /// The keys of the documents from `read_from` on, one after another, and where each ends.
    read_from: usize,
    keys: Vec<u8>,
    ends: Vec<usize>,
}

impl InKeyOrder<'_> {
    /// Reads the keys from the next document's on, when they are needed and not read yet.
    fn read_keys(&mut self) -> Result<()> {
        let Some(column) = self.column else {
            return Ok(());
        };
        if self.at < self.read_from + self.ends.len() || self.at >= self.docs.len() {
            return Ok(());
        }
        let (keys, ends) = (&mut self.keys, &mut self.ends);
        keys.clear();
        ends.clear();
        self.read_from = self.at;
        let places = &self.places[self.at..(self.at + KEYS_READ).min(self.docs.len())];
        let found = column
            .dictionary()
            .sorted_ords_to_term_cb(places.iter().copied(), |key| {
                keys.extend_from_slice(key);
                ends.push(keys.len());
                Ok(())
            })
            .map_err(|e| index_error(e.into()))?;
        if !found {
            return Err(Error::Internal(
                "a record's key is missing from its column's dictionary".into(),
            ));
        }
        Ok(())
    }

    /// The next document's key (empty for a segment alone).
    fn key(&self) -> &[u8] {
        let i = self.at - self.read_from;
        match self.ends.get(i) {
            Some(&end) => &self.keys[if i == 0 { 0 } else { self.ends[i - 1] }..end],
            None => &[],
        }
    }
}

/// The live documents of `segment` whose keys (in `column`) are within `from`..`to`, in the
/// order of their keys, then of the documents: each one's place among the segment's keys is
/// read from the column once, and they are put in order by counting. The segment's
/// term dictionary of keys gives the same order, but it is an FST, streamed key by key with
/// each compared to the bound: a third of a question's time. With `compared`, the keys are
/// read as the walk goes, for comparing with another segment's.
fn in_key_order<'a>(
    segment: &tantivy::SegmentReader,
    column: &'a tantivy::columnar::StrColumn,
    from: Bound<&[u8]>,
    to: Bound<&[u8]>,
    compared: bool,
) -> Result<InKeyOrder<'a>> {
    let std::ops::Range { start: first, end } = super::places_within(column, from, to)?;
    let ords = column.ords();
    let found: Vec<(u64, tantivy::DocId)> = (0..segment.max_doc())
        .filter(|&doc| !segment.is_deleted(doc))
        .filter_map(|doc| ords.first(doc).map(|ord| (ord, doc)))
        .filter(|(ord, _)| (first..end).contains(ord))
        .collect();
    // How many documents each place holds, then where each place's first goes.
    let mut starts = vec![0usize; (end - first) as usize + 1];
    for (ord, _) in &found {
        starts[(ord - first) as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let (mut docs, mut places) = (vec![0; found.len()], vec![0; found.len()]);
    for (ord, doc) in found {
        let slot = &mut starts[(ord - first) as usize];
        docs[*slot] = doc;
        places[*slot] = ord;
        *slot += 1;
    }
    Ok(InKeyOrder {
        docs,
        places,
        at: 0,
        column: compared.then_some(column),
        read_from: 0,
        keys: Vec::new(),
        ends: Vec::new(),
    })
}

fn stored_text(stored: &TantivyDocument, field: Field) -> &str {
    use tantivy::schema::document::Value;
    stored
        .get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

fn sorted(nodes: HashSet<NamedOrBlankNode>) -> Vec<NamedOrBlankNode> {
    let mut nodes: Vec<NamedOrBlankNode> = nodes.into_iter().collect();
    nodes.sort_by_cached_key(subject_string);
    nodes
}

/// A record as stored: its terms in N-Triples syntax, one a line (N-Triples never holds a raw
/// line break), an empty line for a value left unbound. The first line is the resource; what
/// follows is each question's own:
/// - `documents`: the date, then the kinds, publishers' names and text hashes, each list after
///   its length: a row for each combination;
/// - `source-chains`: `upstream hops` pairs, by hops;
/// - `reviews`: the date, then one group of seven lines a row (claim, label, value, best,
///   worst, author, evidences or an empty line).
pub struct Record<'a> {
    pub lines: Vec<&'a str>,
}

impl<'a> Record<'a> {
    fn encode(lines: &[String]) -> String {
        let mut out = String::new();
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    fn decode(text: &'a str) -> Result<Self> {
        let lines: Vec<&str> = match text.strip_suffix('\n') {
            Some(text) => text.split('\n').collect(),
            None => Vec::new(),
        };
        if lines.is_empty() {
            return Err(Error::Internal(
                "the index holds a bad record of a document or review".into(),
            ));
        }
        Ok(Self { lines })
    }

    /// The lists after the first `skip` lines, each after its length.
    pub fn lists(&self, skip: usize) -> Result<Vec<Vec<&'a str>>> {
        let bad = || Error::Internal("the index holds a bad record of a document".into());
        let mut lines = self.lines.iter().skip(skip).copied();
        let mut lists = Vec::new();
        while let Some(count) = lines.next() {
            let n: usize = count.parse().map_err(|_| bad())?;
            let list: Vec<&str> = lines.by_ref().take(n).collect();
            if list.len() != n {
                return Err(bad());
            }
            lists.push(list);
        }
        Ok(lists)
    }
}

/// A resource's records, with what they were read from.
struct Read {
    iri: String,
    entries: Vec<Entry>,
    refs: Vec<String>,
    graphs: Vec<String>,
}

struct Entry {
    question: &'static str,
    key: String,
    record: String,
    unordered: bool,
}

/// Reads resources' records with pattern reads, remembering what many of them share (an
/// outlet's names, a document's derivations) for the batch.
struct ResourceReader<'a> {
    store: &'a ClaimStore,
    p: std::rc::Rc<Predicates>,
    /// Objects of `(node, predicate)` with the graphs they are in, read once per batch.
    values: HashMap<(Term, NamedNode), (Vec<Term>, Vec<String>)>,
}

impl<'a> ResourceReader<'a> {
    fn new(store: &'a ClaimStore) -> Self {
        Self {
            store,
            p: std::rc::Rc::new(Predicates::new()),
            values: HashMap::new(),
        }
    }

    /// The objects of `node`'s `predicate` quads (one per quad, as SPARQL's triple patterns
    /// count them over the union of the graphs), with `node` among `refs` and their graphs.
    fn values(&mut self, node: &Term, predicate: &NamedNode, read: &mut Read) -> Result<Vec<Term>> {
        let key = (node.clone(), predicate.clone());
        if !self.values.contains_key(&key) {
            let (mut objects, mut graphs) = (Vec::new(), Vec::new());
            if let Some(subject) = as_subject(node) {
                for quad in self
                    .store
                    .quads_matching(Some(&subject), Some(predicate), None, None)
                {
                    let quad = quad?;
                    graphs.push(graph_string(&quad.graph_name));
                    objects.push(quad.object);
                }
            }
            // A batch reading a whole store keeps at most this many.
            if self.values.len() > 200_000 {
                self.values.clear();
            }
            self.values.insert(key.clone(), (objects, graphs));
        }
        let (objects, graphs) = &self.values[&key];
        read.refs.push(term_string(node));
        read.graphs.extend(graphs.iter().cloned());
        Ok(objects.clone())
    }

    /// What `node` reaches in one `prov:wasDerivedFrom` step, once each.
    fn upstream(&mut self, node: &Term, read: &mut Read) -> Result<Vec<Term>> {
        let p = std::rc::Rc::clone(&self.p);
        let mut next = self.values(node, &p.derived_from, read)?;
        next.sort_by_key(ToString::to_string);
        next.dedup();
        Ok(next)
    }

    /// Every node `from` reaches in one or more steps (`prov:wasDerivedFrom+`).
    fn reach(&mut self, from: &Term, read: &mut Read) -> Result<HashSet<Term>> {
        let mut seen = HashSet::new();
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for next in self.upstream(&node, read)? {
                if seen.insert(next.clone()) {
                    todo.push(next);
                }
            }
        }
        Ok(seen)
    }

    fn read(&mut self, resource: &NamedOrBlankNode) -> Result<Read> {
        let mut read = Read {
            iri: subject_string(resource),
            entries: Vec::new(),
            refs: Vec::new(),
            graphs: Vec::new(),
        };
        let p = std::rc::Rc::clone(&self.p);
        let node: Term = resource.clone().into();
        let mut quads: HashMap<NamedNode, Vec<Term>> = HashMap::new();
        for quad in self.store.quads_matching(Some(resource), None, None, None) {
            let quad = quad?;
            read.graphs.push(graph_string(&quad.graph_name));
            quads.entry(quad.predicate).or_default().push(quad.object);
        }
        let of = |p: &NamedNode| quads.get(p).cloned().unwrap_or_default();
        let types = of(&p.rdf_type);
        let is = |kind: &str| -> Vec<Term> {
            types
                .iter()
                .filter(|t| matches!(t, Term::NamedNode(n) if n.as_str() == kind))
                .cloned()
                .collect()
        };
        let kinds: Vec<Term> = DOCUMENT_KINDS.iter().flat_map(|k| is(k)).collect();
        let node_key = node_key(&node);
        if !kinds.is_empty() {
            // `schema:datePublished|cg:dateFiled` is a path: each date once.
            let mut dates = of(&p.date_published);
            dates.extend(of(&p.date_filed));
            dates.sort_by_key(ToString::to_string);
            dates.dedup();
            let mut publishers = Vec::new();
            for publisher in of(&p.publisher) {
                publishers.extend(self.values(&publisher, &p.name, &mut read)?);
            }
            let hashes = of(&p.text_sha256);
            for date in optional(&dates) {
                let mut lines = vec![
                    resource.to_string(),
                    date.map(ToString::to_string).unwrap_or_default(),
                ];
                for list in [&kinds, &publishers, &hashes] {
                    lines.push(list.len().to_string());
                    lines.extend(list.iter().map(ToString::to_string));
                }
                read.entries.push(entry(DOCUMENTS, date, &node_key, &lines));
            }
        }
        if !is(vocab::PROV_ENTITY).is_empty() {
            let upstream = self.reach(&node, &mut read)?;
            if !upstream.is_empty() {
                // `COUNT(DISTINCT ?step)`: the nodes reached in zero or more steps from which
                // each upstream node is reached in one or more.
                let mut steps = upstream.clone();
                steps.insert(node.clone());
                let mut hops: HashMap<Term, u64> = HashMap::new();
                for step in &steps {
                    for reached in self.reach(step, &mut read)? {
                        *hops.entry(reached).or_default() += 1;
                    }
                }
                let mut rows: Vec<(u64, String)> = upstream
                    .iter()
                    .map(|u| (hops.get(u).copied().unwrap_or_default(), u.to_string()))
                    .collect();
                rows.sort();
                let mut lines = vec![resource.to_string()];
                for (hops, upstream) in rows {
                    lines.push(upstream);
                    lines.push(hops.to_string());
                }
                read.entries.push(Entry {
                    question: SOURCE_CHAINS,
                    key: format!("{SOURCE_CHAINS}{AFTER_QUESTION}{node_key}"),
                    record: Record::encode(&lines),
                    unordered: false,
                });
            }
        }
        let reviews = is(vocab::SCHEMA_CLAIM_REVIEW).len();
        if reviews > 0 {
            self.read_review(resource, &node_key, reviews, &of, &mut read)?;
        }
        for list in [&mut read.refs, &mut read.graphs] {
            list.sort();
            list.dedup();
        }
        Ok(read)
    }

    /// The rows of `queries/reviews.rq` for `review` (typed `schema:ClaimReview` `typed`
    /// times), one entry for each of its dates: every combination of its values makes a group,
    /// and each solution of a group adds its evidence (`STR`) to the group's list.
    fn read_review(
        &mut self,
        review: &NamedOrBlankNode,
        node_key: &str,
        typed: usize,
        of: &dyn Fn(&NamedNode) -> Vec<Term>,
        read: &mut Read,
    ) -> Result<()> {
        let p = std::rc::Rc::clone(&self.p);
        let mut authors = Vec::new();
        for author in of(&p.author) {
            authors.extend(self.values(&author, &p.name, read)?);
        }
        // Each rating's (label, value, best, worst).
        let mut ratings = Vec::new();
        for rating in of(&p.review_rating) {
            let labels = self.values(&rating, &p.alternate_name, read)?;
            let values = self.values(&rating, &p.rating_value, read)?;
            let bests = self.values(&rating, &p.best_rating, read)?;
            let worsts = self.values(&rating, &p.worst_rating, read)?;
            for label in &labels {
                for value in &values {
                    for best in &bests {
                        for worst in &worsts {
                            ratings.push([
                                label.clone(),
                                value.clone(),
                                best.clone(),
                                worst.clone(),
                            ]);
                        }
                    }
                }
            }
        }
        let evidences: Vec<Option<String>> = of(&p.cites_as_evidence)
            .iter()
            .map(|e| match e {
                Term::NamedNode(n) => Some(n.as_str().to_owned()),
                Term::Literal(l) => Some(l.value().to_owned()),
                _ => None,
            })
            .collect();
        let evidence_rows = if evidences.is_empty() {
            vec![None]
        } else {
            evidences
        };
        let claims = of(&p.item_reviewed);
        let all_dates = of(&p.date_published);
        let mut dates = all_dates.clone();
        dates.sort_by_key(ToString::to_string);
        dates.dedup();
        for date in &dates {
            // A solution whose evidence is unbound or a blank node (`STR` fails) leaves the
            // group's `GROUP_CONCAT` unbound, as Oxigraph evaluates it.
            let mut groups: Vec<([&Term; 6], Option<Vec<String>>)> = Vec::new();
            for _ in 0..typed {
                for claim in &claims {
                    for _ in all_dates.iter().filter(|d| *d == date) {
                        for author in &authors {
                            for [label, value, best, worst] in &ratings {
                                let group = [claim, label, value, best, worst, author];
                                let at = match groups.iter().position(|(g, _)| *g == group) {
                                    Some(at) => at,
                                    None => {
                                        groups.push((group, Some(Vec::new())));
                                        groups.len() - 1
                                    }
                                };
                                let concat = &mut groups[at].1;
                                for evidence in &evidence_rows {
                                    match (concat.as_mut(), evidence) {
                                        (Some(list), Some(e)) => list.push(e.clone()),
                                        _ => *concat = None,
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if groups.is_empty() {
                continue;
            }
            let mut lines = vec![review.to_string(), date.to_string()];
            for (group, evidences) in &groups {
                lines.extend(group.iter().map(ToString::to_string));
                lines.push(match evidences {
                    Some(list) => Literal::new_simple_literal(list.join(" ")).to_string(),
                    None => String::new(),
                });
            }
            read.entries
                .push(entry(REVIEWS, Some(date), node_key, &lines));
        }
        Ok(())
    }
}

/// An entry of a question ordered by a date, then by the resource.
fn entry(question: &'static str, date: Option<&Term>, node_key: &str, lines: &[String]) -> Entry {
    let (date_key, unordered) = match date_key(date) {
        Some(key) => (key, false),
        None => (String::from("2"), true),
    };
    Entry {
        question,
        key: format!("{question}{AFTER_QUESTION}{date_key}\u{0}{node_key}"),
        record: Record::encode(lines),
        unordered,
    }
}

/// The values of an `OPTIONAL { … }` with one variable: each value, or one unbound row.
fn optional(values: &[Term]) -> Vec<Option<&Term>> {
    if values.is_empty() {
        vec![None]
    } else {
        values.iter().map(Some).collect()
    }
}

/// A date's place in `ORDER BY`: unbound first, then `xsd:date`s written `YYYY-MM-DD`, whose
/// text sorts as their values do. `None` for any other value, whose order SPARQL decides by
/// comparing values of several types.
fn date_key(date: Option<&Term>) -> Option<String> {
    let Some(date) = date else {
        return Some("0".into());
    };
    let Term::Literal(l) = date else { return None };
    let shaped = l.value().len() == 10
        && l.value().bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    (shaped && l.datatype().as_str() == concat!("http://www.w3.org/2001/XMLSchema#", "date"))
        .then(|| format!("1{}", l.value()))
}

/// A subject's place in `ORDER BY`: blank nodes first, by label, then IRIs by their text.
fn node_key(node: &Term) -> String {
    match node.as_ref() {
        TermRef::BlankNode(b) => format!("0{}", b.as_str()),
        TermRef::NamedNode(n) => format!("1{}", n.as_str()),
        other => format!("2{other}"),
    }
}

/// A graph as the `graphs` field holds it: its IRI, `_:label`, or empty for the default graph.
fn graph_string(graph: &GraphName) -> String {
    match graph {
        GraphName::NamedNode(n) => n.as_str().to_owned(),
        GraphName::BlankNode(b) => format!("_:{}", b.as_str()),
        GraphName::DefaultGraph => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_as_order_by_sorts_dates_and_resources() {
        let date = |d: &str| -> Term {
            Literal::new_typed_literal(d, NamedNode::new_unchecked(format!("{}date", vocab::XSD)))
                .into()
        };
        let iri = |i: &str| -> Term { NamedNode::new_unchecked(i).into() };
        let mut keys = vec![
            (
                date_key(Some(&date("2024-04-02"))),
                node_key(&iri("http://e.org/d-10")),
            ),
            (
                date_key(Some(&date("2024-04-02"))),
                node_key(&iri("http://e.org/d-1")),
            ),
            (date_key(None), node_key(&iri("http://e.org/z"))),
            (
                date_key(Some(&date("2023-12-31"))),
                node_key(&iri("http://e.org/a")),
            ),
            (
                date_key(Some(&date("2024-04-02"))),
                node_key(&oxigraph::model::BlankNode::new_unchecked("b9").into()),
            ),
        ];
        keys.sort_by_key(|(d, n)| format!("{}\u{0}{n}", d.clone().unwrap()));
        let order: Vec<String> = keys.into_iter().map(|(_, n)| n).collect();
        assert_eq!(
            order,
            [
                "1http://e.org/z",
                "1http://e.org/a",
                "0b9",
                "1http://e.org/d-1",
                "1http://e.org/d-10"
            ]
        );
        // Values SPARQL compares across types are not keyed: their question runs its SPARQL.
        let plain: Term = Literal::new_simple_literal("2024-04-02").into();
        assert_eq!(date_key(Some(&plain)), None);
        assert_eq!(date_key(Some(&date("2024-4-2"))), None);
        let time: Term = Literal::new_typed_literal(
            "2024-04-02T10:00:00Z",
            NamedNode::new_unchecked(format!("{}dateTime", vocab::XSD)),
        )
        .into();
        assert_eq!(date_key(Some(&time)), None);
    }

    #[test]
    fn a_record_reads_back_its_lists() {
        let lines: Vec<String> = ["<http://e.org/d>", "", "2", "<a>", "<b>", "0", "1", "\"x\""]
            .map(String::from)
            .to_vec();
        let text = Record::encode(&lines);
        let record = Record::decode(&text).unwrap();
        assert_eq!(record.lines.len(), lines.len());
        assert_eq!(record.lines[1], "");
        assert_eq!(
            record.lists(2).unwrap(),
            vec![vec!["<a>", "<b>"], vec![], vec!["\"x\""]]
        );
        assert!(Record::decode("").is_err());
        let cut = Record::decode("<http://e.org/d>\n\n3\n<a>\n").unwrap();
        assert!(cut.lists(2).is_err());
    }
}
