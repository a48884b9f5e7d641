//! Provenance: where a claim comes from, and which claims assert a resource or a triple.
//!
//! [`claim_provenance`] follows, for every appearance of a claim, the chain of documents from the
//! document in hand to the claim's primary source; [`resource_provenance`] and
//! [`triple_provenance`] find the claims (assertion graphs, `schema:about`, appearances) that
//! mention a term or hold a triple.
//!
//! Invariants:
//! - read only, and by quad pattern from the store's indexes ([`ClaimStore::quads_matching`]),
//!   never through SPARQL: a lookup reads a few dozen small sets of quads, and as queries most
//!   of each one's cost was the query's own (binding, planning, evaluation set-up);
//! - descriptions (names, types, dates, upstream links) are read only from named graphs that are
//!   not assertion graphs, so what a claim asserts never passes for a fact about a document;
//! - a chain either ends at the primary source or says where and why it breaks off
//!   ([`Broken`]); walks are finite (a visited set) and deterministic (documented order).
//!
//! No HTTP here: the result types are plain serde (and OpenAPI schema) types that the HTTP layer
//! and the claim page encode.

use crate::error::{Error, Result};
use crate::store::ClaimStore;
use crate::vocab::{CG, OA, PROV, RDF_TYPE, SCHEMA, SCHEMA_HEADLINE, SCHEMA_NAME, SKOS_PREF_LABEL};
use oxigraph::model::{GraphName, NamedNode, NamedOrBlankNode, Quad, Term, Triple};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use utoipa::ToSchema;

/// The properties [`Describer::describe_names`] reads.
const NAME_PROPERTIES: [&str; 4] = [RDF_TYPE, SCHEMA_NAME, SCHEMA_HEADLINE, SKOS_PREF_LABEL];

/// `prefix` + `local`, the IRIs this module reads (all constants, so never a user's input).
fn iri(prefix: &str, local: &str) -> String {
    format!("{prefix}{local}")
}

// ---------------------------------------------------------------------------------------------
// Result types
// ---------------------------------------------------------------------------------------------

/// The provenance of one claim: what it is, and for every place it appears, the chain of
/// documents back to its primary source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClaimProvenance {
    pub claim: ClaimInfo,
    /// One chain per appearance, in the order of the appearances' IRIs (`#appearance-1`, …).
    /// Empty for a claim recorded without an appearance (e.g. a denial whose text is not held).
    pub appearances: Vec<Chain>,
}

/// A claim: its proposition, who asserts it, in what capacity, and its primary source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClaimInfo {
    pub iri: String,
    /// The proposition in plain words (`schema:text`).
    pub text: Option<String>,
    /// Who asserts it (`schema:author`).
    pub claimant: Option<Named>,
    /// The capacity it is asserted in (`cg:status`).
    pub status: Option<Status>,
    /// `prov:hadPrimarySource`, where known.
    pub primary_source: Option<Document>,
}

/// Anything with an IRI and, where the graph gives one, a name (`schema:name`; for documents the
/// headline if there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Named {
    pub iri: String,
    pub name: Option<String>,
}

/// A concept of the `cg:ClaimStatus` scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Status {
    pub iri: String,
    /// The concept's local name, e.g. `Alleged`.
    pub name: String,
    /// Its `skos:prefLabel`, when the ontology is loaded, e.g. `alleged`.
    pub label: Option<String>,
}

/// A document on a chain, as the graph describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Document {
    pub iri: String,
    /// Its most specific type (`schema:NewsArticle`, `cg:CourtFiling`, `cg:Statement`…), as an
    /// IRI; `prov:Entity` only if it has no other.
    #[serde(rename = "type")]
    pub type_iri: Option<String>,
    /// The type's local name, e.g. `NewsArticle`.
    pub type_name: Option<String>,
    pub headline: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub publishers: Vec<Named>,
    pub authors: Vec<Named>,
    /// `schema:datePublished`, as written (an `xsd:date` lexical form in the seed).
    pub published: Option<String>,
    /// `cg:dateFiled` (court filings).
    pub filed: Option<String>,
    /// `cg:dateUnsealed` (court filings).
    pub unsealed: Option<String>,
    /// The court case of a filing (`cg:case`).
    pub case: Option<Named>,
    /// Whether we hold its text (it has a `cg:textSha256`).
    pub archived: bool,
    pub text_sha256: Option<String>,
}

impl Document {
    /// What to call the document: its headline, else its name.
    pub fn title(&self) -> Option<&str> {
        self.headline.as_deref().or(self.name.as_deref())
    }
}

/// The chain of one appearance: from the document in hand to the primary source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Chain {
    /// The appearance (`<claim>#appearance-N`).
    pub appearance: String,
    /// The document in hand: where the claim appears (`oa:hasSource`).
    pub document: Option<String>,
    /// The documents from the one in hand (first) upstream; each hop's `relation` links it to the
    /// next one.
    pub hops: Vec<Hop>,
    /// Edges from the document in hand to the primary source (0 when the document in hand is the
    /// primary source); `null` when the chain breaks off before reaching it.
    pub hop_count: Option<usize>,
    /// Where and why the chain stops short of the primary source; `null` when it reaches it.
    pub broken: Option<Broken>,
}

/// One document on a chain.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Hop {
    pub document: Document,
    /// The capacity the claim has at this document. A claim keeps the capacity it was asserted
    /// in as it travels (an allegation reposted is still an allegation), so this is the claim's
    /// `cg:status`, except at the document in hand when the appearance itself carries a
    /// `cg:status`, which then wins for that hop.
    pub status: Option<Status>,
    /// The quote, at the hop where it is anchored (the document in hand, whose text we hold).
    pub quote: Option<Quote>,
    /// How this document came from the next one upstream; `null` on the last hop.
    pub relation: Option<Relation>,
}

/// How a document came from the one upstream of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// `cg:repostOf`: copied wholesale.
    Reposted,
    /// `prov:wasQuotedFrom`.
    Quoted,
    /// A plain `prov:wasDerivedFrom`.
    Derived,
}

impl Relation {
    pub fn label(self) -> &'static str {
        match self {
            Self::Reposted => "reposted",
            Self::Quoted => "quoted",
            Self::Derived => "derived",
        }
    }
}

/// A quote with its Web Annotation selectors: offsets in Unicode code points from 0 over the
/// archived text, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Quote {
    pub exact: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub start: Option<u64>,
    pub end: Option<u64>,
}

/// Where a chain stops short of the primary source, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Broken {
    /// The last document reached (or the appearance, when it names no document).
    pub after: String,
    pub kind: BreakKind,
    /// The reason in words.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The claim has no `prov:hadPrimarySource`.
    NoPrimarySource,
    /// No link from the last document leads to the primary source.
    Unreachable,
    /// Every way on leads back to a document already on the chain.
    Cycle,
    /// The appearance has no `oa:hasSource`.
    NoDocument,
}

/// What `/provenance` answers: the graphs that mention a resource (or hold a triple) and the
/// claims that assert it, are about it, appear in it or rest on it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProvenanceLookup {
    /// The resource looked up, in N-Triples syntax (for `?iri=`).
    pub resource: Option<String>,
    /// The triple looked up, each term in N-Triples syntax (for `?s=&p=&o=`).
    pub triple: Option<TripleTerms>,
    /// Every named graph that mentions the resource or holds the triple, in IRI order.
    pub graphs: Vec<String>,
    /// The claims, in IRI order.
    pub claims: Vec<ClaimMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TripleTerms {
    pub s: String,
    pub p: String,
    pub o: String,
}

/// A claim found by a lookup, and how it matched.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClaimMatch {
    pub claim: String,
    pub text: Option<String>,
    pub claimant: Option<Named>,
    pub status: Option<Status>,
    /// Every way the claim matched, in this order: its assertion graph mentions the resource
    /// (or holds the triple), it is `schema:about` it, it appears in it, it has it as its primary
    /// source.
    pub matched: Vec<MatchKind>,
    /// The claim's assertion graph (`cg:assertion`).
    pub assertion_graph: Option<String>,
    /// The triples of its assertion graph that mention the resource (or the triple), in
    /// N-Triples syntax, sorted.
    pub triples: Vec<String>,
    /// Where the claim appears, with the quotes.
    pub appearances: Vec<AppearanceRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    InAssertion,
    About,
    AppearsIn,
    PrimarySource,
}

/// One appearance of a claim: the document and the quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppearanceRef {
    pub appearance: String,
    pub document: Option<Named>,
    pub quote: Option<Quote>,
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// The provenance of the claim `<base>claims/KEY`: the claim, and for every appearance the chain
/// from the document in hand to the primary source.
///
/// How a chain is walked, from the document in hand:
/// - it ends at the primary source (hop count = edges walked) and goes no further;
/// - the links considered are the appearance's own (`cg:repostOf`, `prov:wasQuotedFrom`,
///   `prov:wasDerivedFrom` on the appearance: what the curator recorded for this claim), for the
///   first hop, and the documents' links; the most specific relation of a pair wins
///   (reposted > quoted > derived);
/// - a link is followed only if it carries this claim: it leads to the primary source, or it is
///   the appearance's own, or it is a repost (a wholesale copy carries every claim of the
///   original). A document's other sources (what a report quotes in general) are not assumed to
///   be this claim's;
/// - among the links that may be followed: those leading to the primary source first, then the
///   appearance's own, then IRI order; a document already on the chain is never visited again;
/// - when no link may be followed and the primary source is not reached, the chain is
///   [`Broken`] after the last document: no primary source known, none reachable, or a cycle.
///
/// An unknown claim is [`Error::NotFound`].
pub fn claim_provenance(store: &ClaimStore, key: &str) -> Result<ClaimProvenance> {
    let mut graph = Describer::new(store);
    graph.claim_provenance(key)
}

/// The prefixes [`claim_provenance_rdf`] declares (namespaces in `vocab::PREFIXES`).
const PREFIXES: &[&str] = &["schema", "prov", "oa", "cg", "cito", "dct", "skos", "xsd"];

/// [`claim_provenance_triples`] serialised in `format`, with the usual prefixes (a claim's
/// provenance is a few hundred triples: it is built whole).
pub fn claim_provenance_rdf(
    store: &ClaimStore,
    key: &str,
    format: oxigraph::io::RdfFormat,
) -> Result<Vec<u8>> {
    let triples = claim_provenance_triples(store, key)?;
    let mut serializer = oxigraph::io::RdfSerializer::from_format(format);
    for (prefix, namespace) in crate::vocab::prefixes(PREFIXES) {
        serializer = serializer
            .with_prefix(prefix, namespace)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    let mut serializer = serializer.for_writer(Vec::new());
    for triple in &triples {
        serializer
            .serialize_triple(triple)
            .map_err(|e| Error::io("writing provenance", e))?;
    }
    serializer
        .finish()
        .map_err(|e| Error::io("writing provenance", e))
}

/// [`claim_provenance`] as RDF: the triples of the store (outside assertion graphs) that the
/// chains rest on, so a machine gets the same facts as the JSON: the claim's description, its
/// appearances and their selectors, every document on the chains and the primary source (all
/// their triples, links included), and for the claimant, the publishers, authors, cases and
/// statuses their types and names.
pub fn claim_provenance_triples(store: &ClaimStore, key: &str) -> Result<Vec<Triple>> {
    let mut graph = Describer::new(store);
    let provenance = graph.claim_provenance(key)?;
    let mut full = BTreeSet::new();
    let mut named = BTreeSet::new();
    full.insert(provenance.claim.iri.clone());
    if let Some(claimant) = &provenance.claim.claimant {
        named.insert(claimant.iri.clone());
    }
    if let Some(status) = &provenance.claim.status {
        named.insert(status.iri.clone());
    }
    let mut documents: Vec<&Document> = provenance.claim.primary_source.iter().collect();
    for chain in &provenance.appearances {
        full.insert(chain.appearance.clone());
        let appearance = graph.describe(&node(&chain.appearance)?)?;
        for selector in appearance.iris(&iri(OA, "hasSelector")) {
            full.insert(selector.into_string());
        }
        for hop in &chain.hops {
            documents.push(&hop.document);
            if let Some(status) = &hop.status {
                named.insert(status.iri.clone());
            }
        }
    }
    for document in documents {
        full.insert(document.iri.clone());
        for agent in document
            .publishers
            .iter()
            .chain(&document.authors)
            .chain(&document.case)
        {
            named.insert(agent.iri.clone());
        }
    }
    let name_properties = [
        RDF_TYPE.to_owned(),
        iri(SCHEMA, "name"),
        SKOS_PREF_LABEL.to_owned(),
    ];
    let mut triples = Vec::new();
    for subject in &full {
        let description = graph.describe(&node(subject)?)?;
        description.push_triples(subject, |_| true, &mut triples);
    }
    for subject in named.difference(&full) {
        let description = graph.describe_names(&node(subject)?)?;
        description.push_triples(
            subject,
            |p| name_properties.iter().any(|n| n == p),
            &mut triples,
        );
    }
    Ok(triples)
}

/// Everything the store says about a resource as claims: every assertion graph that mentions it
/// (as subject, predicate or object), the claims `schema:about` it, and, for a document, the
/// claims that appear in it or have it as their primary source; plus every named graph that
/// mentions it. A term nothing mentions gives empty lists (an answer, not an error).
pub fn resource_provenance(store: &ClaimStore, term: &Term) -> Result<ProvenanceLookup> {
    let mut graph = Describer::new(store);
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    // Every named graph that mentions the term; for an assertion graph, its claim and the
    // triples there that mention the term.
    let mut graphs: HashMap<NamedNode, Option<NamedNode>> = HashMap::new();
    for quad in graph.quads_mentioning(term) {
        let quad = quad?;
        let Some(graph_name) = named_graph(quad.graph_name) else {
            continue;
        };
        // Should two claims name the same assertion graph, the first in IRI order is the one
        // reported.
        let claim = match graphs.get(&graph_name) {
            Some(claim) => claim.clone(),
            None => {
                let claim = graph.claims_of_graph(&graph_name)?.into_iter().next();
                graphs.insert(graph_name.clone(), claim.clone());
                claim
            }
        };
        if let Some(claim) = claim {
            let entry = found.entry(claim.into_string()).or_default();
            entry.kinds.insert(MatchKind::InAssertion);
            entry.graph = Some(graph_name.into_string());
            let (s, p, o) = (quad.subject, quad.predicate, quad.object);
            entry.triples.insert(format!("{s} {p} {o} ."));
        }
    }
    let appearances = graph.subjects(&iri(OA, "hasSource"), term)?;
    let mut claims_with = |property: &str, term: &Term, kind: MatchKind| -> Result<()> {
        for subject in graph.subjects(property, term)? {
            let NamedOrBlankNode::NamedNode(claim) = subject else {
                continue;
            };
            if graph.is_claim(&claim)? {
                found
                    .entry(claim.into_string())
                    .or_default()
                    .kinds
                    .insert(kind);
            }
        }
        Ok(())
    };
    claims_with(&iri(SCHEMA, "about"), term, MatchKind::About)?;
    claims_with(
        &iri(PROV, "hadPrimarySource"),
        term,
        MatchKind::PrimarySource,
    )?;
    for appearance in appearances {
        claims_with(
            &iri(SCHEMA, "appearance"),
            &appearance.into(),
            MatchKind::AppearsIn,
        )?;
    }
    Ok(ProvenanceLookup {
        resource: Some(term.to_string()),
        triple: None,
        graphs: graph_names(graphs.into_keys()),
        claims: graph.claim_matches(found)?,
    })
}

/// The claims whose assertion graph holds the triple `s p o`, and every named graph that holds
/// it. A triple no graph holds gives empty lists.
pub fn triple_provenance(
    store: &ClaimStore,
    s: &Term,
    p: &NamedNode,
    o: &Term,
) -> Result<ProvenanceLookup> {
    let mut graph = Describer::new(store);
    let triple = format!("{s} {p} {o} .");
    let mut graphs = Vec::new();
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    // A literal or a quoted triple is never a subject: no graph holds the triple.
    if let Ok(subject) = NamedOrBlankNode::try_from(s.clone()) {
        let quads = store.quads_matching(Some(&subject), Some(p), Some(o), None);
        for quad in quads {
            let Some(graph_name) = named_graph(quad?.graph_name) else {
                continue;
            };
            for claim in graph.claims_of_graph(&graph_name)? {
                let entry = found.entry(claim.into_string()).or_default();
                entry.kinds.insert(MatchKind::InAssertion);
                entry.graph = Some(graph_name.as_str().to_owned());
                entry.triples.insert(triple.clone());
            }
            graphs.push(graph_name);
        }
    }
    Ok(ProvenanceLookup {
        resource: None,
        triple: Some(TripleTerms {
            s: s.to_string(),
            p: p.to_string(),
            o: o.to_string(),
        }),
        graphs: graph_names(graphs),
        claims: graph.claim_matches(found)?,
    })
}

/// A quad's graph, if it is named by an IRI (the answers leave out the default graph and graphs
/// named by blank nodes).
fn named_graph(graph: GraphName) -> Option<NamedNode> {
    match graph {
        GraphName::NamedNode(graph) => Some(graph),
        _ => None,
    }
}

/// Graph IRIs as the answers give them: sorted, each once.
fn graph_names(graphs: impl IntoIterator<Item = NamedNode>) -> Vec<String> {
    let names: BTreeSet<String> = graphs.into_iter().map(NamedNode::into_string).collect();
    names.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Reading descriptions
// ---------------------------------------------------------------------------------------------

/// What a lookup found for one claim, before the claim is described.
#[derive(Default)]
struct Found {
    kinds: BTreeSet<MatchKind>,
    graph: Option<String>,
    triples: BTreeSet<String>,
}

fn node(resource: &str) -> Result<NamedNode> {
    NamedNode::new(resource).map_err(|e| Error::Invalid(format!("{resource} is not an IRI: {e}")))
}

/// The triples about one resource outside assertion graphs: property IRI → values, sorted.
#[derive(Debug, Default)]
struct Description {
    properties: BTreeMap<String, Vec<Term>>,
}

impl Description {
    fn values(&self, property: &str) -> &[Term] {
        self.properties.get(property).map_or(&[], Vec::as_slice)
    }

    fn iris(&self, property: &str) -> Vec<NamedNode> {
        self.values(property)
            .iter()
            .filter_map(|t| match t {
                Term::NamedNode(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    fn first_iri(&self, property: &str) -> Option<NamedNode> {
        self.iris(property).into_iter().next()
    }

    /// The first literal value (values are sorted, so the choice is deterministic); for names, a
    /// literal in English or without language is preferred.
    fn literal(&self, property: &str) -> Option<String> {
        let literals: Vec<_> = self
            .values(property)
            .iter()
            .filter_map(|t| match t {
                Term::Literal(l) => Some(l),
                _ => None,
            })
            .collect();
        literals
            .iter()
            .find(|l| matches!(l.language(), None | Some("en")))
            .or(literals.first())
            .map(|l| l.value().to_owned())
    }

    fn integer(&self, property: &str) -> Option<u64> {
        self.literal(property).and_then(|v| v.trim().parse().ok())
    }

    fn push_triples(&self, subject: &str, keep: impl Fn(&str) -> bool, out: &mut Vec<Triple>) {
        let subject = NamedNode::new_unchecked(subject);
        for (property, values) in &self.properties {
            if !keep(property) {
                continue;
            }
            let predicate = NamedNode::new_unchecked(property.as_str());
            for value in values {
                out.push(Triple::new(
                    subject.clone(),
                    predicate.clone(),
                    value.clone(),
                ));
            }
        }
    }
}

/// Reads the store for one request, each thing once: descriptions of resources, whole (claims,
/// appearances, selectors, documents) or only their names and types (agents, cases, statuses: a
/// popular entity is the subject of triples in thousands of assertion graphs, and reading it
/// whole would cost as much as those), leaving out the default graph and assertion graphs; and
/// which graphs are assertion graphs and which resources are claims.
struct Describer<'a> {
    store: &'a ClaimStore,
    whole: HashMap<String, Rc<Description>>,
    names: HashMap<String, Rc<Description>>,
    /// Graph → whether some claim names it with `cg:assertion`.
    assertion_graphs: HashMap<NamedOrBlankNode, bool>,
    /// Resource → whether it is a `schema:Claim`.
    claims: HashMap<String, bool>,
}

/// A link from a document (or an appearance) to one upstream document.
#[derive(Debug, Clone)]
struct Link {
    target: NamedNode,
    relation: Relation,
    from_appearance: bool,
}

impl<'a> Describer<'a> {
    fn new(store: &'a ClaimStore) -> Self {
        Self {
            store,
            whole: HashMap::new(),
            names: HashMap::new(),
            assertion_graphs: HashMap::new(),
            claims: HashMap::new(),
        }
    }

    /// Everything said about `resource` outside the assertion graphs.
    fn describe(&mut self, resource: &NamedNode) -> Result<Rc<Description>> {
        if let Some(description) = self.whole.get(resource.as_str()) {
            return Ok(description.clone());
        }
        let quads = self
            .store
            .quads_matching(Some(&resource.clone().into()), None, None, None);
        let description = Rc::new(self.description(quads)?);
        self.whole
            .insert(resource.as_str().to_owned(), description.clone());
        Ok(description)
    }

    /// `resource`'s types, names, headlines and preferred labels outside the assertion graphs
    /// (the whole description when it has been read already: a superset).
    fn describe_names(&mut self, resource: &NamedNode) -> Result<Rc<Description>> {
        if let Some(description) = self
            .whole
            .get(resource.as_str())
            .or_else(|| self.names.get(resource.as_str()))
        {
            return Ok(description.clone());
        }
        let (store, subject) = (self.store, resource.clone().into());
        let quads = NAME_PROPERTIES.iter().flat_map(move |property| {
            let property = NamedNode::new_unchecked(*property);
            store.quads_matching(Some(&subject), Some(&property), None, None)
        });
        let description = Rc::new(self.description(quads)?);
        self.names
            .insert(resource.as_str().to_owned(), description.clone());
        Ok(description)
    }

    /// The description made of `quads` (all of one subject): each distinct property and value
    /// once, values sorted, leaving out the default graph and assertion graphs.
    fn description(&mut self, quads: impl Iterator<Item = Result<Quad>>) -> Result<Description> {
        let mut description = Description::default();
        for quad in quads {
            let quad = quad?;
            let graph = match quad.graph_name {
                GraphName::NamedNode(graph) => graph.into(),
                GraphName::BlankNode(graph) => graph.into(),
                GraphName::DefaultGraph => continue,
            };
            if self.is_assertion_graph(graph)? {
                continue;
            }
            description
                .properties
                .entry(quad.predicate.into_string())
                .or_default()
                .push(quad.object);
        }
        for values in description.properties.values_mut() {
            values.sort_by_cached_key(ToString::to_string);
            values.dedup();
        }
        Ok(description)
    }

    /// Whether some claim names `graph` with `cg:assertion` (in any graph).
    fn is_assertion_graph(&mut self, graph: NamedOrBlankNode) -> Result<bool> {
        if let Some(known) = self.assertion_graphs.get(&graph) {
            return Ok(*known);
        }
        let known = self.exists(None, &iri(CG, "assertion"), &graph.clone().into())?;
        self.assertion_graphs.insert(graph, known);
        Ok(known)
    }

    /// The claims (`schema:Claim`s named by IRIs) whose `cg:assertion` is `graph`, in IRI order:
    /// normally one, none for a graph that is not an assertion graph.
    fn claims_of_graph(&mut self, graph: &NamedNode) -> Result<Vec<NamedNode>> {
        let assertion = iri(CG, "assertion");
        let mut claims = Vec::new();
        for subject in self.subjects(&assertion, &graph.clone().into())? {
            if let NamedOrBlankNode::NamedNode(claim) = subject {
                if self.is_claim(&claim)? {
                    claims.push(claim);
                }
            }
        }
        claims.sort();
        Ok(claims)
    }

    /// Whether `resource` is a `schema:Claim` (in any graph).
    fn is_claim(&mut self, resource: &NamedNode) -> Result<bool> {
        if let Some(known) = self.claims.get(resource.as_str()) {
            return Ok(*known);
        }
        let claim = NamedNode::new_unchecked(iri(SCHEMA, "Claim")).into();
        let known = self.exists(Some(&resource.clone().into()), RDF_TYPE, &claim)?;
        self.claims.insert(resource.as_str().to_owned(), known);
        Ok(known)
    }

    /// Whether some quad, in any graph, has `property` and `value` (and `subject`, if given): an
    /// index read that stops at the first.
    fn exists(
        &self,
        subject: Option<&NamedOrBlankNode>,
        property: &str,
        value: &Term,
    ) -> Result<bool> {
        let property = NamedNode::new_unchecked(property);
        let mut quads = self
            .store
            .quads_matching(subject, Some(&property), Some(value), None);
        Ok(quads.next().transpose()?.is_some())
    }

    /// The subjects of `property` with value `value`, in any graph, each once.
    fn subjects(&self, property: &str, value: &Term) -> Result<HashSet<NamedOrBlankNode>> {
        let property = NamedNode::new_unchecked(property);
        (self.store)
            .quads_matching(None, Some(&property), Some(value), None)
            .map(|quad| quad.map(|quad| quad.subject))
            .collect()
    }

    /// The quads, in any graph, that mention `term` as subject, predicate or object (a quad
    /// that mentions it twice comes twice), read as they are needed.
    fn quads_mentioning(&self, term: &Term) -> impl Iterator<Item = Result<Quad>> + use<> {
        let mut scans = Vec::new();
        if let Ok(subject) = NamedOrBlankNode::try_from(term.clone()) {
            scans.push(self.store.quads_matching(Some(&subject), None, None, None));
        }
        if let Term::NamedNode(predicate) = term {
            scans.push(self.store.quads_matching(None, Some(predicate), None, None));
        }
        scans.push(self.store.quads_matching(None, None, Some(term), None));
        scans.into_iter().flatten()
    }

    fn named(&mut self, resource: NamedNode) -> Result<Named> {
        let description = self.describe_names(&resource)?;
        let name = description
            .literal(&iri(SCHEMA, "headline"))
            .or_else(|| description.literal(&iri(SCHEMA, "name")));
        Ok(Named {
            iri: resource.into_string(),
            name,
        })
    }

    fn status(&mut self, concept: NamedNode) -> Result<Status> {
        let description = self.describe_names(&concept)?;
        Ok(Status {
            name: local_name(concept.as_str()).to_owned(),
            label: description.literal(SKOS_PREF_LABEL),
            iri: concept.into_string(),
        })
    }

    fn document(&mut self, resource: &NamedNode) -> Result<Document> {
        let d = self.describe(resource)?;
        let prov_entity = iri(PROV, "Entity");
        let types = d.iris(RDF_TYPE);
        let type_iri = types
            .iter()
            .find(|t| t.as_str() != prov_entity)
            .or(types.first())
            .map(|t| t.as_str().to_owned());
        let agents = |this: &mut Self, property: &str| -> Result<Vec<Named>> {
            d.iris(property)
                .into_iter()
                .map(|agent| this.named(agent))
                .collect()
        };
        let publishers = agents(self, &iri(SCHEMA, "publisher"))?;
        let authors = agents(self, &iri(SCHEMA, "author"))?;
        let case = match d.first_iri(&iri(CG, "case")) {
            Some(case) => Some(self.named(case)?),
            None => None,
        };
        let text_sha256 = d.literal(&iri(CG, "textSha256"));
        let url = d.values(&iri(SCHEMA, "url")).first().map(|v| match v {
            Term::Literal(l) => l.value().to_owned(),
            other => other.to_string().trim_matches(['<', '>']).to_owned(),
        });
        Ok(Document {
            iri: resource.as_str().to_owned(),
            type_name: type_iri.as_deref().map(|t| local_name(t).to_owned()),
            type_iri,
            headline: d.literal(&iri(SCHEMA, "headline")),
            name: d.literal(&iri(SCHEMA, "name")),
            url,
            publishers,
            authors,
            published: d.literal(&iri(SCHEMA, "datePublished")),
            filed: d.literal(&iri(CG, "dateFiled")),
            unsealed: d.literal(&iri(CG, "dateUnsealed")),
            case,
            archived: text_sha256.is_some(),
            text_sha256,
        })
    }

    /// The upstream links stated on a document or an appearance, one per target with the most
    /// specific relation, in IRI order.
    fn links(&mut self, resource: &NamedNode, from_appearance: bool) -> Result<Vec<Link>> {
        let d = self.describe(resource)?;
        let mut links: BTreeMap<String, Link> = BTreeMap::new();
        for (property, relation) in [
            (iri(CG, "repostOf"), Relation::Reposted),
            (iri(PROV, "wasQuotedFrom"), Relation::Quoted),
            (iri(PROV, "wasDerivedFrom"), Relation::Derived),
        ] {
            for target in d.iris(&property) {
                links
                    .entry(target.as_str().to_owned())
                    .and_modify(|l| l.relation = l.relation.min(relation))
                    .or_insert(Link {
                        target,
                        relation,
                        from_appearance,
                    });
            }
        }
        Ok(links.into_values().collect())
    }

    /// Whether `goal` is `from` or upstream of it along any document links (breadth first, each
    /// document once, so cycles end).
    fn leads_to(&mut self, from: &NamedNode, goal: &NamedNode) -> Result<bool> {
        let mut seen = HashSet::from([from.clone()]);
        let mut queue = VecDeque::from([from.clone()]);
        while let Some(document) = queue.pop_front() {
            if &document == goal {
                return Ok(true);
            }
            for link in self.links(&document, false)? {
                if seen.insert(link.target.clone()) {
                    queue.push_back(link.target);
                }
            }
        }
        Ok(false)
    }

    fn quote(&mut self, appearance: &Description) -> Result<Option<Quote>> {
        let mut merged = Description::default();
        for selector in appearance.iris(&iri(OA, "hasSelector")) {
            for (property, values) in &self.describe(&selector)?.properties {
                merged
                    .properties
                    .entry(property.clone())
                    .or_default()
                    .extend(values.iter().cloned());
            }
        }
        Ok(merged.literal(&iri(OA, "exact")).map(|exact| Quote {
            exact,
            prefix: merged.literal(&iri(OA, "prefix")),
            suffix: merged.literal(&iri(OA, "suffix")),
            start: merged.integer(&iri(OA, "start")),
            end: merged.integer(&iri(OA, "end")),
        }))
    }

    fn claim_info(&mut self, claim: &NamedNode) -> Result<(Rc<Description>, ClaimInfo)> {
        let d = self.describe(claim)?;
        let claimant = match d.first_iri(&iri(SCHEMA, "author")) {
            Some(agent) => Some(self.named(agent)?),
            None => None,
        };
        let status = match d.first_iri(&iri(CG, "status")) {
            Some(concept) => Some(self.status(concept)?),
            None => None,
        };
        let primary_source = match d.first_iri(&iri(PROV, "hadPrimarySource")) {
            Some(source) => Some(self.document(&source)?),
            None => None,
        };
        let info = ClaimInfo {
            iri: claim.as_str().to_owned(),
            text: d.literal(&iri(SCHEMA, "text")),
            claimant,
            status,
            primary_source,
        };
        Ok((d, info))
    }

    fn claim_provenance(&mut self, key: &str) -> Result<ClaimProvenance> {
        let claim = NamedNode::new(format!("{}claims/{key}", self.store.base()))
            .map_err(|e| Error::Invalid(format!("{key:?} is not a claim key: {e}")))?;
        let description = self.describe(&claim)?;
        let claim_type = iri(SCHEMA, "Claim");
        if !description
            .iris(RDF_TYPE)
            .iter()
            .any(|t| t.as_str() == claim_type)
        {
            return Err(Error::NotFound(format!(
                "no claim {key} (no {claim} a schema:Claim)"
            )));
        }
        let (description, info) = self.claim_info(&claim)?;
        let primary = description.first_iri(&iri(PROV, "hadPrimarySource"));
        let mut appearances = Vec::new();
        for appearance in appearances_in_order(&description) {
            appearances.push(self.chain(&info, primary.as_ref(), &appearance)?);
        }
        Ok(ClaimProvenance {
            claim: info,
            appearances,
        })
    }

    /// Walks one appearance's chain (the rules are on [`claim_provenance`]).
    fn chain(
        &mut self,
        claim: &ClaimInfo,
        primary: Option<&NamedNode>,
        appearance: &NamedNode,
    ) -> Result<Chain> {
        let described = self.describe(appearance)?;
        let Some(in_hand) = described.first_iri(&iri(OA, "hasSource")) else {
            return Ok(Chain {
                appearance: appearance.as_str().to_owned(),
                document: None,
                hops: Vec::new(),
                hop_count: None,
                broken: Some(Broken {
                    after: appearance.as_str().to_owned(),
                    kind: BreakKind::NoDocument,
                    reason: "the appearance names no document (it has no oa:hasSource)".into(),
                }),
            });
        };
        let status_in_hand = match described.first_iri(&iri(CG, "status")) {
            Some(concept) => Some(self.status(concept)?),
            None => claim.status.clone(),
        };
        let mut hops = vec![Hop {
            document: self.document(&in_hand)?,
            status: status_in_hand,
            quote: self.quote(&described)?,
            relation: None,
        }];
        let mut visited = HashSet::from([in_hand.clone()]);
        let mut current = in_hand.clone();
        let broken = loop {
            if primary == Some(&current) {
                break None;
            }
            let mut candidates = Vec::new();
            if current == in_hand {
                candidates = self.links(appearance, true)?;
            }
            for link in self.links(&current, false)? {
                if !candidates.iter().any(|c| c.target == link.target) {
                    candidates.push(link);
                }
            }
            let mut eligible = Vec::new();
            for link in candidates {
                let leads = match primary {
                    Some(goal) => self.leads_to(&link.target, goal)?,
                    None => false,
                };
                if leads || link.from_appearance || link.relation == Relation::Reposted {
                    eligible.push((!leads, !link.from_appearance, link));
                }
            }
            eligible.sort_by(|a, b| {
                (a.0, a.1, a.2.target.as_str()).cmp(&(b.0, b.1, b.2.target.as_str()))
            });
            let next = eligible
                .iter()
                .map(|(_, _, link)| link)
                .find(|link| !visited.contains(&link.target))
                .cloned();
            let Some(next) = next else {
                let name = hops
                    .last()
                    .and_then(|h| h.document.title().map(str::to_owned))
                    .unwrap_or_else(|| current.as_str().to_owned());
                let (kind, reason) = if !eligible.is_empty() {
                    (
                        BreakKind::Cycle,
                        format!(
                            "the links from {name} lead back to documents already on the chain"
                        ),
                    )
                } else if let Some(goal) = primary {
                    (
                        BreakKind::Unreachable,
                        format!(
                            "no link from {name} leads to the primary source {goal}, and none \
                             carries the claim further"
                        ),
                    )
                } else {
                    (
                        BreakKind::NoPrimarySource,
                        format!(
                            "no primary source is recorded for this claim; the links that carry \
                             it end at {name}"
                        ),
                    )
                };
                break Some(Broken {
                    after: current.as_str().to_owned(),
                    kind,
                    reason,
                });
            };
            if let Some(last) = hops.last_mut() {
                last.relation = Some(next.relation);
            }
            hops.push(Hop {
                document: self.document(&next.target)?,
                status: claim.status.clone(),
                quote: None,
                relation: None,
            });
            visited.insert(next.target.clone());
            current = next.target;
        };
        Ok(Chain {
            appearance: appearance.as_str().to_owned(),
            document: Some(in_hand.into_string()),
            hop_count: broken.is_none().then(|| hops.len() - 1),
            hops,
            broken,
        })
    }

    /// Describes the claims a lookup found, in IRI order.
    fn claim_matches(&mut self, found: BTreeMap<String, Found>) -> Result<Vec<ClaimMatch>> {
        let mut matches = Vec::new();
        for (claim_iri, found) in found {
            let claim = NamedNode::new_unchecked(claim_iri.as_str());
            let (description, info) = self.claim_info(&claim)?;
            let mut appearances = Vec::new();
            for appearance in appearances_in_order(&description) {
                let described = self.describe(&appearance)?;
                let document = match described.first_iri(&iri(OA, "hasSource")) {
                    Some(document) => Some(self.named(document)?),
                    None => None,
                };
                appearances.push(AppearanceRef {
                    appearance: appearance.into_string(),
                    document,
                    quote: self.quote(&described)?,
                });
            }
            let assertion_graph = found.graph.or_else(|| {
                description
                    .first_iri(&iri(CG, "assertion"))
                    .map(NamedNode::into_string)
            });
            matches.push(ClaimMatch {
                claim: claim_iri,
                text: info.text,
                claimant: info.claimant,
                status: info.status,
                matched: found.kinds.into_iter().collect(),
                assertion_graph,
                triples: found.triples.into_iter().collect(),
                appearances,
            });
        }
        Ok(matches)
    }
}

/// A claim's appearances, `#appearance-2` before `#appearance-10`: shorter IRIs first, then in
/// IRI order (the IRIs share the claim's prefix, so this is numeric order).
fn appearances_in_order(claim: &Description) -> Vec<NamedNode> {
    let mut appearances = claim.iris(&iri(SCHEMA, "appearance"));
    appearances.sort_by(|a, b| (a.as_str().len(), a.as_str()).cmp(&(b.as_str().len(), b.as_str())));
    appearances
}

/// The part of an IRI after its last `#` or `/`.
fn local_name(iri: &str) -> &str {
    iri.rsplit(['#', '/']).next().unwrap_or(iri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names() {
        assert_eq!(local_name(&format!("{CG}Alleged")), "Alleged");
        assert_eq!(local_name(&format!("{SCHEMA}NewsArticle")), "NewsArticle");
    }

    #[test]
    fn most_specific_relation_sorts_first() {
        assert!(Relation::Reposted < Relation::Quoted);
        assert!(Relation::Quoted < Relation::Derived);
    }
}
