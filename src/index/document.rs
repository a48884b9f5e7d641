//! A claim's search document, read from the store with pattern reads (no SPARQL to plan: a
//! rebuild reads a million claims, an incremental update a few).
//!
//! Invariant: read-only; `refs` names every resource and graph the document was read from, so a
//! change to any of them finds the documents to read again.

use crate::error::Result;
use crate::store::ClaimStore;
use crate::vocab;
use oxigraph::model::{
    GraphName, Literal, LiteralRef, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, Term, TermRef,
    Triple,
};
use std::collections::{HashMap, HashSet};

/// Everything the index holds about one claim.
#[derive(Debug, Clone, Default)]
pub struct ClaimDocument {
    pub claim: String,
    /// Made by the ClaimReview importer (`<base>claims/imported-…`): never a match candidate.
    pub imported: bool,
    /// The proposition in plain words.
    pub text: String,
    /// Every quote of the claim (`oa:exact`), in the order read.
    pub quotes: Vec<String>,
    /// Words found with the claim: its claimant's, entities', outlets' and documents' names,
    /// the literals of its content (amounts, numbers, dates), its reviews' verdicts.
    pub context: Vec<String>,
    /// The local names of its `cg:status` (`Alleged`…); a status outside `cg:` by its IRI.
    pub statuses: Vec<String>,
    pub claimant: Option<String>,
    /// Documents it appears in, and its primary source.
    pub sources: Vec<String>,
    /// The publishers of those documents.
    pub outlets: Vec<String>,
    /// The things its content and `schema:about` name.
    pub entities: Vec<String>,
    /// Its reviews' verdicts (`schema:alternateName` of each rating), lower-cased.
    pub ratings: Vec<String>,
    /// The fact-checkers (authors of imported ClaimReviews) that rated it, or a claim linked to
    /// it by `cg:sameClaimAs`: "rated by another fact-checker".
    pub checkers: Vec<String>,
    /// Publication (or filing) dates of the documents it appears in, `YYYY-MM-DD`.
    pub dates: Vec<String>,
    pub primary: Option<String>,
    /// Its assertion graph.
    pub assertion: Option<String>,
    /// Every resource (and graph) read to make this document.
    pub refs: Vec<String>,
    /// The corroborating statuses ([`CORROBORATING`]) of the claims (itself included) whose
    /// assertion graphs hold a triple of its own.
    pub shared_with: Vec<String>,
    /// What the library's whole-store questions read of it.
    pub record: Record,
}

/// Reviews the importer made: their IRIs are `<base>reviews/imported-…`.
fn imported_review(base: &str, review: &NamedOrBlankNode) -> bool {
    under(base, "reviews/", review)
}

/// Claims the importer made: `<base>claims/imported-…`.
fn doc_is_imported(base: &str, claim: &NamedOrBlankNode) -> bool {
    under(base, "claims/", claim)
}

fn under(base: &str, kind: &str, node: &NamedOrBlankNode) -> bool {
    matches!(node, NamedOrBlankNode::NamedNode(n)
    if n.as_str().strip_prefix(base).is_some_and(|r| {
        r.strip_prefix(kind).is_some_and(|k| k.starts_with(crate::import::IMPORTED))
    }))
}

impl Reader<'_> {
    /// The authors of the imported reviews of a claim (`reviews`, already read) and of the
    /// claims linked to it by `cg:sameClaimAs` either way round (`linked`, those it names).
    fn read_checkers(
        &self,
        claim: &Term,
        reviews: &[NamedOrBlankNode],
        mut linked: Vec<NamedOrBlankNode>,
        doc: &mut ClaimDocument,
    ) -> Result<()> {
        linked.extend(self.naming(&self.p.same_claim_as, claim)?);
        let mut reviews = reviews.to_vec();
        for other in linked {
            doc.refs.push(subject_string(&other));
            for review in self.naming(&self.p.item_reviewed, &other.into())? {
                doc.refs.push(subject_string(&review));
                reviews.push(review);
            }
        }
        for review in reviews {
            if !imported_review(self.store.base(), &review) {
                continue;
            }
            for author in self
                .store
                .quads_matching(Some(&review), Some(&self.p.author), None, None)
            {
                if let Term::NamedNode(author) = author?.object {
                    doc.checkers.push(author.as_str().to_owned());
                }
            }
        }
        Ok(())
    }
}

/// The statuses that corroborate a claim sharing content with it
/// (`queries/claims-resting-on-allegations.rq`).
pub const CORROBORATING: &[&str] = &["Adjudicated", "Settled", "PublicRecord"];

/// What a rebuild (or an update reading many claims) reads once for every claim instead of once
/// per claim.
#[derive(Default)]
pub struct Whole {
    /// The content triples of the claims with a corroborating status, with those statuses.
    corroborated: HashMap<Triple, Vec<String>>,
    /// For `schema:itemReviewed` and `cg:sameClaimAs`, the subjects naming each object (a
    /// claim's reviews, the claims linked to it): few claims have any, and looking for them
    /// claim by claim was a RocksDB seek for every claim ([`Reader::naming`]).
    naming: HashMap<NamedNode, HashMap<Term, Vec<NamedOrBlankNode>>>,
}

impl Whole {
    pub fn read(store: &ClaimStore) -> Result<Self> {
        let reader = Reader::new(store, None);
        let mut whole = Self::default();
        let mut claims = Vec::new();
        for status in CORROBORATING {
            let concept: Term = NamedNode::new_unchecked(format!("{}{status}", vocab::CG)).into();
            for quad in store.quads_matching(None, Some(&reader.p.status), Some(&concept), None) {
                claims.push((quad?.subject, *status));
            }
        }
        // Each claim's content is a read or two waiting on RocksDB: on threads of their own.
        let assertion = &reader.p.assertion;
        let parts = std::thread::scope(|scope| {
            let threads: Vec<_> = claims
                .chunks(claims.len().div_ceil(super::REBUILD_THREADS).max(1))
                .map(|chunk| {
                    scope.spawn(move || -> Result<HashMap<Triple, Vec<&'static str>>> {
                        let mut corroborated: HashMap<Triple, Vec<&'static str>> = HashMap::new();
                        for (claim, status) in chunk {
                            for quad in
                                store.quads_matching(Some(claim), Some(assertion), None, None)
                            {
                                let Term::NamedNode(graph) = quad?.object else {
                                    continue;
                                };
                                let graph = graph.into();
                                for content in store.quads_matching(None, None, None, Some(&graph))
                                {
                                    let statuses =
                                        corroborated.entry(Triple::from(content?)).or_default();
                                    if !statuses.contains(status) {
                                        statuses.push(status);
                                    }
                                }
                            }
                        }
                        Ok(corroborated)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|thread| {
                    thread.join().unwrap_or_else(|_| {
                        Err(crate::Error::Internal(
                            "a thread reading corroboration panicked".into(),
                        ))
                    })
                })
                .collect::<Vec<_>>()
        });
        for part in parts {
            for (triple, statuses) in part? {
                let known = whole.corroborated.entry(triple).or_default();
                for status in statuses {
                    if !known.iter().any(|s| s == status) {
                        known.push(status.to_owned());
                    }
                }
            }
        }
        for predicate in [&reader.p.item_reviewed, &reader.p.same_claim_as] {
            let naming = whole.naming.entry(predicate.clone()).or_default();
            for quad in store.quads_matching(None, Some(predicate), None, None) {
                let quad = quad?;
                naming.entry(quad.object).or_default().push(quad.subject);
            }
        }
        Ok(whole)
    }
}

/// A claim as the library's whole-store questions read it: RDF terms in N-Triples syntax, every
/// value the store has (so answers keep SPARQL's rows, one per combination). Built with owned
/// strings; read back ([`Record::decode`]) as slices of the stored text, without copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record<S = String> {
    pub claim: S,
    pub texts: Vec<S>,
    pub statuses: Vec<S>,
    /// `schema:name` of each `schema:author`.
    pub claimant_names: Vec<S>,
    /// Each `schema:author`, in the order read.
    pub claimants: Vec<S>,
    pub primaries: Vec<S>,
    pub assertions: Vec<S>,
    /// `cg:assertionHash`.
    pub hashes: Vec<S>,
    pub appearances: Vec<AppearanceRecord<S>>,
    /// `(document, primary source, hops)` for each document the claim appears in that derives
    /// (`prov:wasDerivedFrom`, zero or more steps) from each of its primary sources, with the
    /// number of nodes on its paths to it (the `claim-chains` question), by document and primary
    /// source. Every node on the way is among the claim's `refs`: a write to any of them reads
    /// the claim again.
    pub chains: Vec<(S, S, u64)>,
    /// Each claim it disputes (`cito:disputes`) with that claim's statuses (the `denials`
    /// question). The disputed claims are among its `refs`: a write
    /// about one reads it again.
    pub disputes: Vec<(S, Vec<S>)>,
}

/// One `schema:appearance` of a claim: its documents (`oa:hasSource`) and, through any of its
/// selectors, the quotes and offsets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppearanceRecord<S = String> {
    pub appearance: S,
    pub documents: Vec<S>,
    /// For each document, its archived texts (`cg:archivedText`) and their hashes
    /// (`cg:textSha256`), each sorted: the `appearances` question reads them here, not from
    /// the store once per document. A document's description changing reads the claims naming
    /// it again (it is among their `refs`).
    pub archived: Vec<(Vec<S>, Vec<S>)>,
    pub exacts: Vec<S>,
    pub starts: Vec<S>,
    pub ends: Vec<S>,
}

/// How a record is stored: one line per term (N-Triples never holds a raw line break: a
/// literal's is escaped), each list after the line of its length, in the order of the fields but
/// for the appearances, which come last ([`Appearances`]).
/// Decoding borrows every term from the stored text; JSON, used before, allocated each one and
/// was a third of a streamed question's time.
impl<S: AsRef<str>> Record<S> {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        line(self.claim.as_ref());
        for list in [
            &self.texts,
            &self.statuses,
            &self.claimant_names,
            &self.claimants,
            &self.primaries,
            &self.assertions,
            &self.hashes,
        ] {
            list_lines(&mut line, list);
        }
        line(&self.chains.len().to_string());
        for (document, primary, hops) in &self.chains {
            line(document.as_ref());
            line(primary.as_ref());
            line(&hops.to_string());
        }
        line(&self.disputes.len().to_string());
        for (claim, statuses) in &self.disputes {
            line(claim.as_ref());
            list_lines(&mut line, statuses);
        }
        line(&self.appearances.len().to_string());
        for a in &self.appearances {
            line(a.appearance.as_ref());
            list_lines(&mut line, &a.documents);
            line(&a.archived.len().to_string());
            for (texts, hashes) in &a.archived {
                list_lines(&mut line, texts);
                list_lines(&mut line, hashes);
            }
            for list in [&a.exacts, &a.starts, &a.ends] {
                list_lines(&mut line, list);
            }
        }
        out
    }
}

fn list_lines<S: AsRef<str>>(line: &mut impl FnMut(&str), list: &[S]) {
    line(&list.len().to_string());
    for item in list {
        line(item.as_ref());
    }
}

/// Whether [`Record::decode`] reads a record's appearances: they are most of its lines, and
/// last, so a reader that shows none (every question but `appearances`) stops before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appearances {
    Read,
    Skipped,
}

impl<'a> Record<&'a str> {
    /// A record [`Record::encode`] wrote; without its appearances (left empty, and what follows
    /// the record's other fields not checked) when they are [`Appearances::Skipped`].
    pub fn decode(text: &'a str, appearances: Appearances) -> crate::Result<Self> {
        let mut lines = Lines(text.split('\n'));
        let mut record = Record {
            claim: lines.next()?,
            texts: lines.list()?,
            statuses: lines.list()?,
            claimant_names: lines.list()?,
            claimants: lines.list()?,
            primaries: lines.list()?,
            assertions: lines.list()?,
            hashes: lines.list()?,
            ..Record::default()
        };
        for _ in 0..lines.count()? {
            let (document, primary) = (lines.next()?, lines.next()?);
            let hops = lines.next()?.parse().map_err(|_| Lines::bad())?;
            record.chains.push((document, primary, hops));
        }
        for _ in 0..lines.count()? {
            record.disputes.push((lines.next()?, lines.list()?));
        }
        if appearances == Appearances::Skipped {
            return Ok(record);
        }
        for _ in 0..lines.count()? {
            let appearance = lines.next()?;
            let documents = lines.list()?;
            let mut archived = Vec::new();
            for _ in 0..lines.count()? {
                archived.push((lines.list()?, lines.list()?));
            }
            record.appearances.push(AppearanceRecord {
                appearance,
                documents,
                archived,
                exacts: lines.list()?,
                starts: lines.list()?,
                ends: lines.list()?,
            });
        }
        match (lines.0.next(), lines.0.next()) {
            (Some(""), None) => Ok(record),
            _ => Err(Lines::bad()),
        }
    }
}

/// What a page of hits and a match's candidates show of a claim, read from its record: the
/// index stores nothing else, so a claim's text and quotes are stored once (the streamed
/// questions decompress every block of stored records they read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub claim: String,
    /// Its first text that is a literal.
    pub text: String,
    /// The local name of its first status.
    pub status: String,
    pub claimant: Option<String>,
    /// The first name of a claimant.
    pub claimant_name: Option<String>,
    pub primary: Option<String>,
    /// Its quotes (`oa:exact`), by appearance.
    pub quotes: Vec<String>,
}

impl Record<&str> {
    pub fn summary(&self) -> crate::Result<Summary> {
        // Terms written plainly are read without the N-Triples parser (7% of a search's time).
        let parse = |text: &str| -> crate::Result<Term> { Ok(term(text)?.as_ref().into_owned()) };
        let literal = |text: &str| -> crate::Result<Option<String>> {
            Ok(match term(text)?.as_ref() {
                TermRef::Literal(l) => Some(l.value().to_owned()),
                _ => None,
            })
        };
        let first = |list: &[&str]| list.first().map(|t| parse(t)).transpose();
        let first_literal = |list: &[&str]| -> crate::Result<Option<String>> {
            for term in list {
                if let Some(value) = literal(term)? {
                    return Ok(Some(value));
                }
            }
            Ok(None)
        };
        let mut quotes: Vec<String> = Vec::new();
        for appearance in &self.appearances {
            for exact in &appearance.exacts {
                if let Some(quote) = literal(exact)? {
                    quotes.push(quote);
                }
            }
        }
        quotes.dedup();
        Ok(Summary {
            claim: term_string(&parse(self.claim)?),
            text: first_literal(&self.texts)?.unwrap_or_default(),
            status: first(&self.statuses)?
                .map(|s| status_name(&s))
                .unwrap_or_default(),
            claimant: first(&self.claimants)?.map(|c| term_string(&c)),
            claimant_name: first_literal(&self.claimant_names)?,
            primary: first(&self.primaries)?.map(|p| term_string(&p)),
            quotes,
        })
    }
}

/// A term the index recorded in N-Triples syntax, borrowed from the record where it is written
/// plainly: a row of a streamed answer then costs no allocation (cloning owned terms for every
/// row was a fifth of its time).
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded<'a> {
    Borrowed(TermRef<'a>),
    Parsed(Term),
}

impl Recorded<'_> {
    pub fn as_ref(&self) -> TermRef<'_> {
        match self {
            Recorded::Borrowed(t) => *t,
            Recorded::Parsed(t) => t.as_ref(),
        }
    }
}

/// The index wrote `text` from a term of the store, so an IRI or a literal without escapes is
/// taken as written; checking every IRI again was a tenth of a streamed answer's time. Anything
/// else is parsed.
pub fn term(text: &str) -> Result<Recorded<'_>> {
    if let Some(iri) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        if !iri.contains('\\') {
            return Ok(Recorded::Borrowed(NamedNodeRef::new_unchecked(iri).into()));
        }
    } else if let Some((value, suffix)) = text
        .strip_prefix('"')
        .and_then(|t| t.rsplit_once('"'))
        .filter(|(value, _)| !value.contains('\\'))
    {
        if suffix.is_empty() {
            return Ok(Recorded::Borrowed(
                LiteralRef::new_simple_literal(value).into(),
            ));
        }
        if let Some(datatype) = suffix
            .strip_prefix("^^<")
            .and_then(|d| d.strip_suffix('>'))
            .filter(|d| !d.contains('\\'))
        {
            return Ok(Recorded::Borrowed(
                LiteralRef::new_typed_literal(value, NamedNodeRef::new_unchecked(datatype)).into(),
            ));
        }
    }
    text.parse().map(Recorded::Parsed).map_err(|e| {
        crate::Error::Internal(format!("the claims index holds a bad term {text}: {e}"))
    })
}

/// The lines of a stored record.
struct Lines<'a>(std::str::Split<'a, char>);

impl<'a> Lines<'a> {
    fn bad() -> crate::Error {
        crate::Error::Internal("the claims index holds a bad record".into())
    }

    fn next(&mut self) -> crate::Result<&'a str> {
        self.0.next().ok_or_else(Self::bad)
    }

    fn count(&mut self) -> crate::Result<usize> {
        self.next()?.parse().map_err(|_| Self::bad())
    }

    fn list(&mut self) -> crate::Result<Vec<&'a str>> {
        let n = self.count()?;
        (0..n).map(|_| self.next()).collect()
    }
}

/// What one node says that documents repeat (an entity's names, a document's outlet): read once
/// per batch of documents.
#[derive(Debug, Clone, Default)]
struct Node {
    /// `schema:name`.
    names: Vec<Literal>,
    /// `schema:alternateName`, `schema:headline`.
    labels: Vec<String>,
    publisher: Option<Term>,
    dates: Vec<String>,
    /// A document's `cg:archivedText` and `cg:textSha256`, in N-Triples syntax, sorted.
    archived: Vec<String>,
    hashes: Vec<String>,
    /// `prov:wasDerivedFrom`, sorted.
    upstream: Vec<Term>,
}

impl Node {
    fn words(&self) -> impl Iterator<Item = String> + '_ {
        self.names
            .iter()
            .map(|n| n.value().to_owned())
            .chain(self.labels.iter().cloned())
    }
}

/// Reads claims' documents, remembering shared nodes for the batch.
pub struct Reader<'a> {
    store: &'a ClaimStore,
    /// In a rebuild or a large update, what was read once for every claim.
    whole: Option<&'a Whole>,
    nodes: HashMap<Term, Node>,
    /// The statuses of the claims holding a content triple many claims hold.
    shared: HashMap<Triple, Vec<String>>,
    /// The hops from a document to a primary source ([`Reader::hops`]).
    hops: HashMap<(Term, Term), Option<u64>>,
    p: Predicates,
}

/// The predicates the index reads, each made once per reader (claims' documents here, records
/// of documents and reviews in `resources`).
pub(super) struct Predicates {
    text: NamedNode,
    status: NamedNode,
    pub(super) author: NamedNode,
    appearance: NamedNode,
    primary: NamedNode,
    assertion: NamedNode,
    assertion_hash: NamedNode,
    about: NamedNode,
    pub(super) name: NamedNode,
    pub(super) alternate_name: NamedNode,
    headline: NamedNode,
    pub(super) publisher: NamedNode,
    pub(super) date_published: NamedNode,
    pub(super) date_filed: NamedNode,
    has_source: NamedNode,
    has_selector: NamedNode,
    exact: NamedNode,
    start: NamedNode,
    end: NamedNode,
    pub(super) item_reviewed: NamedNode,
    pub(super) review_rating: NamedNode,
    same_claim_as: NamedNode,
    archived_text: NamedNode,
    pub(super) text_sha256: NamedNode,
    pub(super) derived_from: NamedNode,
    disputes: NamedNode,
    pub(super) rdf_type: NamedNode,
    claim_type: Term,
    pub(super) rating_value: NamedNode,
    pub(super) best_rating: NamedNode,
    pub(super) worst_rating: NamedNode,
    pub(super) cites_as_evidence: NamedNode,
}

impl Predicates {
    pub(super) fn new() -> Self {
        let n = NamedNode::new_unchecked;
        Self {
            text: n(vocab::SCHEMA_TEXT),
            status: n(vocab::CG_STATUS),
            author: n(vocab::SCHEMA_AUTHOR),
            appearance: n(vocab::SCHEMA_APPEARANCE),
            primary: n(vocab::PROV_HAD_PRIMARY_SOURCE),
            assertion: n(vocab::CG_ASSERTION),
            assertion_hash: n(vocab::CG_ASSERTION_HASH),
            about: n(vocab::SCHEMA_ABOUT),
            name: n(vocab::SCHEMA_NAME),
            alternate_name: n(vocab::SCHEMA_ALTERNATE_NAME),
            headline: n(vocab::SCHEMA_HEADLINE),
            publisher: n(vocab::SCHEMA_PUBLISHER),
            date_published: n(vocab::SCHEMA_DATE_PUBLISHED),
            date_filed: n(vocab::CG_DATE_FILED),
            has_source: n(vocab::OA_HAS_SOURCE),
            has_selector: n(vocab::OA_HAS_SELECTOR),
            exact: n(vocab::OA_EXACT),
            start: n(vocab::OA_START),
            end: n(vocab::OA_END),
            item_reviewed: n(vocab::SCHEMA_ITEM_REVIEWED),
            review_rating: n(vocab::SCHEMA_REVIEW_RATING),
            same_claim_as: n(vocab::CG_SAME_CLAIM_AS),
            archived_text: n(vocab::CG_ARCHIVED_TEXT),
            text_sha256: n(vocab::CG_TEXT_SHA256),
            derived_from: n(vocab::PROV_WAS_DERIVED_FROM),
            disputes: n(vocab::CITO_DISPUTES),
            rdf_type: n(vocab::RDF_TYPE),
            claim_type: n(vocab::SCHEMA_CLAIM).into(),
            rating_value: n(vocab::SCHEMA_RATING_VALUE),
            best_rating: n(vocab::SCHEMA_BEST_RATING),
            worst_rating: n(vocab::SCHEMA_WORST_RATING),
            cites_as_evidence: n(vocab::CITO_CITES_AS_EVIDENCE),
        }
    }
}

impl<'a> Reader<'a> {
    pub fn new(store: &'a ClaimStore, whole: Option<&'a Whole>) -> Self {
        Self {
            store,
            whole,
            nodes: HashMap::new(),
            shared: HashMap::new(),
            hops: HashMap::new(),
            p: Predicates::new(),
        }
    }

    /// Every claim of the store (`a schema:Claim`), once each.
    pub fn all_claims(&self) -> impl Iterator<Item = Result<NamedOrBlankNode>> + use<'_> {
        let mut last: Option<NamedOrBlankNode> = None;
        self.store
            .quads_matching(None, Some(&self.p.rdf_type), Some(&self.p.claim_type), None)
            .filter_map(move |quad| match quad {
                Ok(quad) if last.as_ref() == Some(&quad.subject) => None,
                Ok(quad) => {
                    last = Some(quad.subject.clone());
                    Some(Ok(quad.subject))
                }
                Err(e) => Some(Err(e)),
            })
    }

    /// Whether `node` is a claim in the store now.
    pub fn is_claim(&self, node: &NamedOrBlankNode) -> Result<bool> {
        Ok(self
            .store
            .quads_matching(
                Some(node),
                Some(&self.p.rdf_type),
                Some(&self.p.claim_type),
                None,
            )
            .next()
            .transpose()?
            .is_some())
    }

    /// Whether `graph` is some claim's assertion graph in the store now.
    pub fn is_assertion_graph(&self, graph: &NamedNode) -> Result<bool> {
        Ok(self
            .store
            .quads_matching(
                None,
                Some(&self.p.assertion),
                Some(&graph.clone().into()),
                None,
            )
            .next()
            .transpose()?
            .is_some())
    }

    /// The quads about `node` with one of `predicates`: those a document is made of, none of
    /// the others decoded.
    fn about(&self, node: &NamedOrBlankNode, predicates: &[&NamedNode]) -> Result<Vec<Quad>> {
        self.store.quads_about_with(node, predicates)
    }

    /// What a shared node says (names, publisher, dates), read once per reader.
    fn node(&mut self, term: &Term) -> Result<&Node> {
        if !self.nodes.contains_key(term) {
            let mut node = Node::default();
            if let Some(subject) = as_subject(term) {
                let p = &self.p;
                let read = [
                    &p.name,
                    &p.alternate_name,
                    &p.headline,
                    &p.publisher,
                    &p.date_published,
                    &p.date_filed,
                    &p.archived_text,
                    &p.text_sha256,
                    &p.derived_from,
                ];
                for quad in self.about(&subject, &read)? {
                    let p = &quad.predicate;
                    if *p == self.p.name {
                        if let Term::Literal(l) = &quad.object {
                            node.names.push(l.clone());
                        }
                    } else if *p == self.p.alternate_name || *p == self.p.headline {
                        if let Term::Literal(l) = &quad.object {
                            node.labels.push(l.value().to_owned());
                        }
                    } else if *p == self.p.publisher {
                        node.publisher = Some(quad.object.clone());
                    } else if *p == self.p.date_published || *p == self.p.date_filed {
                        if let Term::Literal(l) = &quad.object {
                            node.dates.push(l.value().chars().take(10).collect());
                        }
                    } else if *p == self.p.archived_text {
                        node.archived.push(quad.object.to_string());
                    } else if *p == self.p.text_sha256 {
                        node.hashes.push(quad.object.to_string());
                    } else if *p == self.p.derived_from {
                        node.upstream.push(quad.object.clone());
                    }
                }
            }
            for list in [&mut node.archived, &mut node.hashes] {
                list.sort();
                list.dedup();
            }
            node.upstream.sort_by_key(ToString::to_string);
            node.upstream.dedup();
            // A batch reading a whole store keeps at most this many nodes.
            if self.nodes.len() > 200_000 {
                self.nodes.clear();
            }
            self.nodes.insert(term.clone(), node);
        }
        Ok(&self.nodes[term])
    }

    /// The document of `claim`, or `None` if the store has no such claim (`known`: it is one).
    pub fn read(&mut self, claim: &NamedOrBlankNode, known: bool) -> Result<Option<ClaimDocument>> {
        if !known && !self.is_claim(claim)? {
            return Ok(None);
        }
        let mut doc = ClaimDocument {
            claim: subject_string(claim),
            imported: doc_is_imported(self.store.base(), claim),
            ..ClaimDocument::default()
        };
        doc.record.claim = claim.to_string();
        let mut appearances = Vec::new();
        let mut entities: Vec<Term> = Vec::new();
        let mut claimants = Vec::new();
        let mut assertions = Vec::new();
        let mut linked = Vec::new();
        let mut primaries = Vec::new();
        let mut documents = Vec::new();
        let mut disputed = Vec::new();
        let p = &self.p;
        let read = [
            &p.text,
            &p.status,
            &p.author,
            &p.appearance,
            &p.primary,
            &p.assertion,
            &p.about,
            &p.assertion_hash,
            &p.same_claim_as,
            &p.disputes,
        ];
        for quad in self.about(claim, &read)? {
            let (p, o) = (&quad.predicate, &quad.object);
            if *p == self.p.text {
                if let Term::Literal(l) = o {
                    if doc.text.is_empty() {
                        doc.text = l.value().to_owned();
                    }
                    doc.record.texts.push(o.to_string());
                }
            } else if *p == self.p.status {
                doc.statuses.push(status_name(o));
                doc.record.statuses.push(o.to_string());
            } else if *p == self.p.author {
                doc.record.claimants.push(o.to_string());
                claimants.push(o.clone());
            } else if *p == self.p.appearance {
                appearances.push(o.clone());
            } else if *p == self.p.primary {
                doc.primary.get_or_insert_with(|| term_string(o));
                doc.sources.push(term_string(o));
                doc.record.primaries.push(o.to_string());
                primaries.push(o.clone());
            } else if *p == self.p.assertion {
                doc.assertion.get_or_insert_with(|| term_string(o));
                doc.record.assertions.push(o.to_string());
                if let Term::NamedNode(graph) = o {
                    assertions.push(graph.clone());
                }
            } else if *p == self.p.about {
                entities.push(o.clone());
            } else if *p == self.p.assertion_hash {
                doc.record.hashes.push(o.to_string());
            } else if *p == self.p.same_claim_as {
                linked.extend(as_subject(o));
            } else if *p == self.p.disputes {
                disputed.push(o.clone());
            }
        }
        for claimant in claimants {
            let node = self.node(&claimant)?;
            let names: Vec<Literal> = node.names.clone();
            let words: Vec<String> = node.words().collect();
            if doc.claimant.is_none() {
                doc.claimant = Some(term_string(&claimant));
            }
            doc.record
                .claimant_names
                .extend(names.iter().map(ToString::to_string));
            doc.context.extend(words);
            doc.refs.push(term_string(&claimant));
        }
        for graph in &assertions {
            doc.refs.push(graph.as_str().to_owned());
            let quads: Vec<Quad> = self
                .store
                .quads_matching(None, None, None, Some(&graph.clone().into()))
                .collect::<Result<_>>()?;
            for quad in quads {
                entities.push(quad.subject.clone().into());
                match &quad.object {
                    Term::Literal(l) => doc.context.push(l.value().to_owned()),
                    // A class is not something the claim is about.
                    _ if quad.predicate == self.p.rdf_type => {}
                    other => entities.push(other.clone()),
                }
                let statuses = self.holders(&Triple::from(quad))?;
                doc.shared_with.extend(statuses);
            }
        }
        let mut seen = HashSet::new();
        entities.retain(|e| seen.insert(e.clone()));
        for entity in entities {
            let words: Vec<String> = self.node(&entity)?.words().collect();
            // Nodes of the content without a name (an amount, a time) are read for their
            // literals, which the content graph already gave.
            if matches!(entity, Term::NamedNode(_)) {
                doc.entities.push(term_string(&entity));
            }
            doc.refs.push(term_string(&entity));
            doc.context.extend(words);
        }
        for appearance in appearances {
            doc.refs.push(term_string(&appearance));
            let mut record = AppearanceRecord {
                appearance: appearance.to_string(),
                ..AppearanceRecord::default()
            };
            if let Some(subject) = as_subject(&appearance) {
                let read = [&self.p.has_source, &self.p.has_selector];
                for quad in self.about(&subject, &read)? {
                    if quad.predicate == self.p.has_source {
                        let document = quad.object.clone();
                        record.documents.push(document.to_string());
                        documents.push(document.clone());
                        let node = self.node(&document)?.clone();
                        record
                            .archived
                            .push((node.archived.clone(), node.hashes.clone()));
                        doc.sources.push(term_string(&document));
                        doc.refs.push(term_string(&document));
                        doc.dates.extend(node.dates.iter().cloned());
                        doc.context.extend(node.words());
                        if let Some(publisher) = node.publisher {
                            doc.context.extend(self.node(&publisher)?.words());
                            let publisher = term_string(&publisher);
                            doc.refs.push(publisher.clone());
                            doc.outlets.push(publisher);
                        }
                    } else if quad.predicate == self.p.has_selector {
                        doc.refs.push(term_string(&quad.object));
                        let Some(selector) = as_subject(&quad.object) else {
                            continue;
                        };
                        let read = [&self.p.exact, &self.p.start, &self.p.end];
                        for q in self.about(&selector, &read)? {
                            if q.predicate == self.p.exact {
                                if let Term::Literal(l) = &q.object {
                                    doc.quotes.push(l.value().to_owned());
                                }
                                record.exacts.push(q.object.to_string());
                            } else if q.predicate == self.p.start {
                                record.starts.push(q.object.to_string());
                            } else if q.predicate == self.p.end {
                                record.ends.push(q.object.to_string());
                            }
                        }
                    }
                }
            }
            doc.record.appearances.push(record);
        }
        if !primaries.is_empty() {
            for list in [&mut documents, &mut primaries] {
                list.sort_by_key(ToString::to_string);
                list.dedup();
            }
            for document in &documents {
                let reached = self.reach(document)?;
                doc.refs.extend(reached.iter().map(term_string));
                for primary in &primaries {
                    if let Some(hops) = self.hops(document, &reached, primary)? {
                        doc.record
                            .chains
                            .push((document.to_string(), primary.to_string(), hops));
                    }
                }
            }
        }
        disputed.sort_by_key(ToString::to_string);
        disputed.dedup();
        for other in disputed {
            let mut statuses = Vec::new();
            if let Some(subject) = as_subject(&other) {
                for quad in
                    self.store
                        .quads_matching(Some(&subject), Some(&self.p.status), None, None)
                {
                    statuses.push(quad?.object.to_string());
                }
            }
            statuses.sort();
            statuses.dedup();
            doc.refs.push(term_string(&other));
            doc.record.disputes.push((other.to_string(), statuses));
        }
        let claim_term: Term = claim.clone().into();
        let reviews = self.naming(&self.p.item_reviewed, &claim_term)?;
        for review in &reviews {
            doc.refs.push(subject_string(review));
            for rating in
                self.store
                    .quads_matching(Some(review), Some(&self.p.review_rating), None, None)
            {
                let rating = rating?.object;
                doc.refs.push(term_string(&rating));
                let Some(rating) = as_subject(&rating) else {
                    continue;
                };
                for label in self.store.quads_matching(
                    Some(&rating),
                    Some(&self.p.alternate_name),
                    None,
                    None,
                ) {
                    if let Term::Literal(l) = label?.object {
                        doc.ratings.push(l.value().to_lowercase());
                        doc.context.push(l.value().to_owned());
                    }
                }
            }
        }
        self.read_checkers(&claim_term, &reviews, linked, &mut doc)?;
        for list in [
            &mut doc.sources,
            &mut doc.outlets,
            &mut doc.entities,
            &mut doc.ratings,
            &mut doc.checkers,
            &mut doc.dates,
            &mut doc.refs,
            &mut doc.shared_with,
        ] {
            list.sort();
            list.dedup();
        }
        doc.quotes.dedup();
        // Rows come in the order the questions ask for: by appearance, and by disputed claim.
        doc.record
            .appearances
            .sort_by(|a, b| in_sparql_order(&a.appearance).cmp(&in_sparql_order(&b.appearance)));
        doc.record
            .disputes
            .sort_by(|a, b| in_sparql_order(&a.0).cmp(&in_sparql_order(&b.0)));
        Ok(Some(doc))
    }

    /// The subjects of the quads `(?, predicate, object)`: with [`Whole`], from what it read
    /// of every claim at once.
    fn naming(&self, predicate: &NamedNode, object: &Term) -> Result<Vec<NamedOrBlankNode>> {
        if let Some(naming) = self.whole.and_then(|whole| whole.naming.get(predicate)) {
            return Ok(naming.get(object).cloned().unwrap_or_default());
        }
        self.store
            .quads_matching(None, Some(predicate), Some(object), None)
            .map(|quad| quad.map(|q| q.subject))
            .collect()
    }

    /// Every node `from` reaches in zero or more `prov:wasDerivedFrom` steps.
    fn reach(&mut self, from: &Term) -> Result<HashSet<Term>> {
        let mut seen = HashSet::from([from.clone()]);
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for next in self.node(&node)?.upstream.clone() {
                if seen.insert(next.clone()) {
                    todo.push(next);
                }
            }
        }
        Ok(seen)
    }

    /// `None` if `document` does not derive from `primary`; else how many nodes lie on its
    /// paths to it, `primary` excluded: the `COUNT(DISTINCT ?step)` of `claim-chains`, whose
    /// steps are reached from `document` (`reached`, [`Reader::reach`]) in zero or more steps
    /// and reach `primary` in one or more.
    fn hops(
        &mut self,
        document: &Term,
        reached: &HashSet<Term>,
        primary: &Term,
    ) -> Result<Option<u64>> {
        let key = (document.clone(), primary.clone());
        if let Some(hops) = self.hops.get(&key) {
            return Ok(*hops);
        }
        let hops = if reached.contains(primary) {
            let mut steps = 0;
            for step in reached {
                let mut reaches = false;
                for next in self.node(step)?.upstream.clone() {
                    if self.reach(&next)?.contains(primary) {
                        reaches = true;
                        break;
                    }
                }
                steps += u64::from(reaches);
            }
            Some(steps)
        } else {
            None
        };
        // A batch reading a whole store keeps at most this many.
        if self.hops.len() > 200_000 {
            self.hops.clear();
        }
        self.hops.insert(key, hops);
        Ok(hops)
    }

    /// The corroborating statuses of the claims whose assertion graphs hold `triple`.
    fn holders(&mut self, triple: &Triple) -> Result<Vec<String>> {
        if let Some(whole) = self.whole {
            return Ok(whole.corroborated.get(triple).cloned().unwrap_or_default());
        }
        if let Some(statuses) = self.shared.get(triple) {
            return Ok(statuses.clone());
        }
        let mut statuses = Vec::new();
        let mut graphs = 0;
        for claim in self.claims_holding(triple)? {
            graphs += 1;
            for quad in self
                .store
                .quads_matching(Some(&claim), Some(&self.p.status), None, None)
            {
                let status = status_name(&quad?.object);
                if CORROBORATING.contains(&status.as_str()) {
                    statuses.push(status);
                }
            }
        }
        statuses.sort();
        statuses.dedup();
        // Only triples many claims share are worth remembering (and cost reading again).
        if graphs > 8 {
            if self.shared.len() > 100_000 {
                self.shared.clear();
            }
            self.shared.insert(triple.clone(), statuses.clone());
        }
        Ok(statuses)
    }

    /// The claims whose assertion graphs hold `triple`.
    pub fn claims_holding(&self, triple: &Triple) -> Result<Vec<NamedOrBlankNode>> {
        let mut claims = Vec::new();
        for quad in self.store.quads_matching(
            Some(&triple.subject),
            Some(&triple.predicate),
            Some(&triple.object),
            None,
        ) {
            let GraphName::NamedNode(graph) = quad?.graph_name else {
                continue;
            };
            claims.extend(self.assertion_owners(&graph)?);
        }
        Ok(claims)
    }

    /// The claims whose assertion graph `graph` is.
    pub fn assertion_owners(&self, graph: &NamedNode) -> Result<Vec<NamedOrBlankNode>> {
        self.naming(&self.p.assertion, &graph.clone().into())
    }

    /// The claims whose assertion graphs share a triple with those of `claim` (itself included).
    pub fn sharing(&self, claim: &NamedOrBlankNode) -> Result<Vec<NamedOrBlankNode>> {
        let mut found = Vec::new();
        for assertion in self
            .store
            .quads_matching(Some(claim), Some(&self.p.assertion), None, None)
        {
            let Term::NamedNode(graph) = assertion?.object else {
                continue;
            };
            for quad in self
                .store
                .quads_matching(None, None, None, Some(&graph.into()))
            {
                found.extend(self.claims_holding(&Triple::from(quad?))?);
            }
        }
        Ok(found)
    }
}

/// A status's local name in `cg:`, or its IRI; anything else in N-Triples syntax, so that a
/// literal `"Denied"` is never taken for `cg:Denied` (the queries ask for the IRIs).
fn status_name(status: &Term) -> String {
    match status {
        Term::NamedNode(n) => n
            .as_str()
            .strip_prefix(vocab::CG)
            .unwrap_or(n.as_str())
            .to_owned(),
        other => other.to_string(),
    }
}

/// The key `ORDER BY` sorts a recorded node (N-Triples) by: blank nodes first, then IRIs by
/// their text (not by their N-Triples form, whose `>` would put `a-10` before `a-1`).
fn in_sparql_order(recorded: &str) -> (bool, &str) {
    match recorded.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        Some(iri) => (true, iri),
        None => (false, recorded),
    }
}

pub(super) fn as_subject(term: &Term) -> Option<NamedOrBlankNode> {
    match term {
        Term::NamedNode(n) => Some(n.clone().into()),
        Term::BlankNode(b) => Some(b.clone().into()),
        _ => None,
    }
}

/// An IRI as itself, a blank node as `_:id`, a literal as its value.
pub fn term_string(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => n.as_str().to_owned(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.value().to_owned(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

pub fn subject_string(node: &NamedOrBlankNode) -> String {
    match node {
        NamedOrBlankNode::NamedNode(n) => n.as_str().to_owned(),
        NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_term_reads_back_as_the_term_written() {
        let xsd = |name: &str| {
            NamedNode::new_unchecked(format!("http://www.w3.org/2001/XMLSchema#{name}"))
        };
        let written: Vec<Term> = vec![
            NamedNode::new_unchecked("http://example.org/claims/c1#appearance-1").into(),
            oxigraph::model::BlankNode::new_unchecked("b0").into(),
            Literal::new_simple_literal("plain").into(),
            Literal::new_simple_literal("a \"quoted\" word,\tand\na line").into(),
            Literal::new_simple_literal("").into(),
            Literal::new_language_tagged_literal_unchecked("Müller", "de").into(),
            Literal::from(42).into(),
            Literal::new_typed_literal("2024-04-02", xsd("date")).into(),
            Literal::new_typed_literal("3153de89", xsd("string")).into(),
        ];
        for t in written {
            let text = t.to_string();
            assert_eq!(term(&text).unwrap().as_ref(), t.as_ref(), "{t}");
        }
        assert!(term("<not an IRI").is_err());
    }

    #[test]
    fn a_record_reads_back_as_written() {
        // A literal's line breaks are escaped in N-Triples: a term is always one line.
        let multiline = Term::from(Literal::new_language_tagged_literal_unchecked(
            "first line\nsecond \"quoted\"\r\n",
            "en",
        ))
        .to_string();
        assert!(!multiline.contains('\n'), "{multiline}");
        let s = |t: &str| t.to_owned();
        let written = Record {
            claim: s("<http://example.org/claims/c1>"),
            texts: vec![multiline.clone(), s("\"\"")],
            statuses: vec![s("<https://w3id.org/claimgraph/ns#Alleged>")],
            claimant_names: vec![s("\"Ana Lima\"@pt")],
            claimants: vec![s("<http://example.org/entities/ana>"), s("_:who")],
            primaries: vec![s("_:b0")],
            assertions: vec![s("<http://example.org/a/1>")],
            hashes: vec![s("\"3153de89\"")],
            appearances: vec![
                AppearanceRecord {
                    appearance: s("<http://example.org/claims/c1#appearance-1>"),
                    documents: vec![s("<http://example.org/d/1>"), s("<http://example.org/d/2>")],
                    archived: vec![
                        (vec![s("<http://example.org/t/1>")], vec![s("\"ab\"")]),
                        (vec![], vec![]),
                    ],
                    exacts: vec![multiline],
                    starts: vec![s("\"12\"^^<http://www.w3.org/2001/XMLSchema#integer>")],
                    ends: vec![],
                },
                AppearanceRecord::default(),
            ],
            chains: vec![(
                s("<http://example.org/d/1>"),
                s("<http://example.org/p>"),
                3,
            )],
            disputes: vec![
                (s("<http://example.org/claims/c2>"), vec![]),
                (s("_:b1"), vec![s("x")]),
            ],
        };
        let encoded = written.encode();
        let read = Record::decode(&encoded, Appearances::Read).unwrap();
        // Without its appearances, the rest of the record is read all the same.
        let head = Record::decode(&encoded, Appearances::Skipped).unwrap();
        assert!(head.appearances.is_empty());
        assert_eq!(
            head,
            Record {
                appearances: vec![],
                ..read.clone()
            }
        );
        let owned = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(read.claim, written.claim);
        assert_eq!(owned(&read.texts), written.texts);
        assert_eq!(owned(&read.primaries), written.primaries);
        assert_eq!(owned(&read.claimants), written.claimants);
        assert_eq!(owned(&read.hashes), written.hashes);
        assert_eq!(read.appearances.len(), 2);
        let (a, b) = (&read.appearances[0], &written.appearances[0]);
        assert_eq!(owned(&a.documents), b.documents);
        assert_eq!(a.archived.len(), 2);
        assert_eq!(owned(&a.archived[0].1), b.archived[0].1);
        assert_eq!(owned(&a.exacts), b.exacts);
        assert_eq!(owned(&a.starts), b.starts);
        assert_eq!(
            read.chains,
            [("<http://example.org/d/1>", "<http://example.org/p>", 3)]
        );
        assert_eq!(read.disputes[1], ("_:b1", vec!["x"]));
        assert_eq!(read.encode(), encoded);
        // What a page of hits shows: each value as text, the first of each kind.
        assert_eq!(
            read.summary().unwrap(),
            Summary {
                claim: s("http://example.org/claims/c1"),
                text: s("first line\nsecond \"quoted\"\r\n"),
                status: s("Alleged"),
                claimant: Some(s("http://example.org/entities/ana")),
                claimant_name: Some(s("Ana Lima")),
                primary: Some(s("_:b0")),
                quotes: vec![s("first line\nsecond \"quoted\"\r\n")],
            }
        );
        // A record cut short, or with more after it, is an error, never a partial record.
        for bad in [&encoded[..encoded.len() - 3], &format!("{encoded}x\n"), ""] {
            assert!(Record::decode(bad, Appearances::Read).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recorded_nodes_sort_as_sparql_orders_them() {
        let mut nodes = vec![
            "<http://example.org/c#appearance-10>",
            "<http://example.org/c#appearance-1>",
            "_:b1",
            "<http://example.org/c#appearance-1-x>",
        ];
        nodes.sort_by_key(|n| in_sparql_order(n));
        assert_eq!(
            nodes,
            [
                "_:b1",
                "<http://example.org/c#appearance-1>",
                "<http://example.org/c#appearance-1-x>",
                "<http://example.org/c#appearance-10>",
            ]
        );
    }
}
