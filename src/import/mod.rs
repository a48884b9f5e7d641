//! `claimgraph import claimreview` and `POST /import/claimreview`: the world's fact-checks
//! (schema.org ClaimReview, in the shapes `feed` reads) into the graph, linked to the claims
//! already in it.
//!
//! Each file is one import: its reviews, their claims (status `cg:Reported`, by the reviewer: a
//! paraphrase, with no quote and no offsets), the organisations and the documents they name (not
//! archived: an address only) go into the named graph `<base>graphs/imports/NAME`, with the run
//! that made it (`<base>imports/NAME`, a `cg:ImportRun`: file name and SHA-256, times, agent,
//! counts). Ratings are normalised through the crosswalk of `cg:RatingScale` in the ontology;
//! each claim is matched against the claims of the graph that were not imported (the drafting
//! matcher over the claims index) and linked with `cg:sameClaimAs` at or above the threshold,
//! the score in a `cg:ClaimMatch`.
//!
//! Invariants: every IRI is derived from what the file says (a review's from its URL and claim
//! text, a claim's likewise, an organisation's from its name, a document's from its address), and
//! a claim keeps the link an earlier run gave it (unless relinking), so importing the same file
//! again gives the same quads and writes nothing; a new import is one bulk load, a newer file one
//! transaction of what changed; a file-level problem changes nothing; an item-level problem skips
//! that item, named by its position and reason; nothing here is a blank node.

pub mod feed;
pub mod review;

use crate::claims::slug;
use crate::draft::matcher::Claims;
use crate::error::{Error, Result};
use crate::store::{ClaimStore, GraphWrite, Known, Touched};
use crate::vocab::{CG, OA, PROV, RDFS, RDF_TYPE, SCHEMA, SKOS, XSD};
use oxigraph::model::{GraphNameRef, Literal, NamedNode, NamedOrBlankNode, Quad, Term, Triple};
use review::{Agent, Review};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::sync::OnceLock;

/// The score from which an imported claim is linked to a known one. Scores weigh every word
/// alike (see `Claims::similar`): the seed's allegation reworded by a fact-checker scores 0.84;
/// generated reviews sharing a template, a company and a topic with a known claim but saying
/// something else score 0.5 to 0.65 (docs/import.md has the measurement).
pub const THRESHOLD: f64 = 0.7;

/// Keys of imported claims, reviews, organisations and documents start with this (claim sheets
/// may not use it), so that matching can leave imported claims aside.
pub const IMPORTED: &str = "imported-";

/// How many claims the matcher scores for each imported claim (the best by BM25).
const SHORTLIST: usize = 8;

/// Reviews matched at a time, on every core, before their quads are built in file order.
const BATCH: usize = 512;

/// Quads handed to the bulk loader at a time (about 3,700 reviews' worth).
const LOAD_BATCH: usize = 100_000;

/// Quads an import's removal removes in one transaction.
const REMOVE_STEP: usize = 100_000;

/// Held by the import or removal under way (see [`import`]).
static IMPORTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How one file is imported.
#[derive(Debug, Clone)]
pub struct Options {
    /// The import's name (a slug): its graph is `<base>graphs/imports/NAME`.
    pub name: String,
    /// The file's name as recorded (`cg:fileName`).
    pub file_name: String,
    /// Link imported claims to known ones scoring at least this; `None`: no linking.
    pub threshold: Option<f64>,
    /// Match again the claims an earlier run of this import brought (else they keep their
    /// links).
    pub relink: bool,
}

/// What an import did, for the summary.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub name: String,
    pub graph: String,
    pub file: String,
    pub sha256: String,
    /// Items read (DataFeed elements, lines, API entries, objects).
    pub items: u64,
    pub reviews: u64,
    pub claims: u64,
    pub organizations: u64,
    /// Reviews whose rating label the crosswalk knows.
    pub normalized: u64,
    /// Reviews whose rating label it does not know, and those labels with their counts.
    pub unknown_ratings: u64,
    pub unknown_labels: BTreeMap<String, u64>,
    /// Imported claims linked to a claim of the graph.
    pub links: u64,
    pub skipped: Vec<Skipped>,
    /// Quads of the import's graph afterwards.
    pub quads: u64,
    /// False when the graph already held exactly this import (nothing was written).
    pub changed: bool,
}

/// An item left out, where it is and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub position: String,
    pub reason: String,
}

/// An import as the store holds it (`claimgraph import list`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listed {
    pub name: String,
    pub graph: String,
    pub file: Option<String>,
    pub sha256: Option<String>,
    pub ended: Option<String>,
    pub reviews: Option<u64>,
}

/// The rating crosswalk: a label as matched (see [`normalise_label`]) to its concept of
/// `cg:RatingScale`, read from the ontology's `skos:prefLabel` and `skos:hiddenLabel`s.
pub fn crosswalk() -> &'static HashMap<String, NamedNode> {
    static CROSSWALK: OnceLock<HashMap<String, NamedNode>> = OnceLock::new();
    CROSSWALK.get_or_init(|| {
        let ontology = include_str!("../../ontology/claimgraph.ttl");
        let triples: Vec<Triple> =
            oxigraph::io::RdfParser::from_format(oxigraph::io::RdfFormat::Turtle)
                .for_slice(ontology.as_bytes())
                .filter_map(|q| q.ok().map(Triple::from))
                .collect();
        let scale: Term = NamedNode::new_unchecked(format!("{CG}RatingScale")).into();
        let in_scheme = format!("{SKOS}inScheme");
        let concepts: BTreeSet<String> = triples
            .iter()
            .filter(|t| t.predicate.as_str() == in_scheme && t.object == scale)
            .map(|t| t.subject.to_string())
            .collect();
        let labels = [format!("{SKOS}prefLabel"), format!("{SKOS}hiddenLabel")];
        triples
            .iter()
            .filter(|t| labels.contains(&t.predicate.as_str().to_owned()))
            .filter(|t| concepts.contains(&t.subject.to_string()))
            .filter_map(|t| match (&t.subject, &t.object) {
                (oxigraph::model::NamedOrBlankNode::NamedNode(c), Term::Literal(l)) => {
                    Some((normalise_label(l.value()), c.clone()))
                }
                _ => None,
            })
            .collect()
    })
}

/// A rating label as the crosswalk matches it: lower-case, trimmed, runs of spaces as one,
/// curly apostrophes straight, a trailing "." or "!" dropped.
pub fn normalise_label(label: &str) -> String {
    let label = label
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    label.trim_end_matches(['.', '!']).trim_end().to_owned()
}

/// The graph of the import `name`.
pub fn graph_of(store: &ClaimStore, name: &str) -> Result<NamedNode> {
    check_name(name)?;
    store.graph_iri(&format!("imports/{name}"))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || slug(name) != name {
        return Err(Error::Invalid(format!(
            "the import name {name:?} is not a slug (lower-case letters, digits and single \
             hyphens, e.g. \"politifact-2024\")"
        )));
    }
    Ok(())
}

/// The import name a file gets by default: its stem as a slug.
pub fn name_of_file(path: &std::path::Path) -> String {
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem
        .trim_end_matches(".gz")
        .rsplit_once('.')
        .map_or(stem.as_str(), |(s, _)| s)
        .to_owned();
    slug(&stem)
}

/// Imports one file read from `reader` (whose bytes hash to what the report gives). Nothing is
/// written unless the whole file was read. A new import streams into Oxigraph's bulk loader
/// (all or nothing); an import made before is compared with what the file now gives, and only
/// what changed is written, in one transaction (nothing at all when nothing changed). Memory
/// holds a 16-byte hash per quad of the import (to describe shared organisations and documents
/// once, and to find what a newer file no longer says), never the file or its quads.
pub fn import(
    store: &ClaimStore,
    reader: impl BufRead,
    options: &Options,
    on_read: &mut dyn FnMut(u64),
) -> Result<Report> {
    let graph = graph_of(store, &options.name)?;
    let run = NamedNode::new_unchecked(format!("{}imports/{}", store.base(), options.name));
    // One import at a time: an import reads its graph before it writes it (the store's writer
    // lock is taken only for the write), and two of the same name must not interleave.
    let _one_at_a_time = IMPORTING.lock().unwrap_or_else(|e| e.into_inner());
    let exists = store.contains_graph(GraphNameRef::NamedNode(graph.as_ref()))?;
    let hash = std::rc::Rc::new(std::cell::RefCell::new(Sha256::new()));
    let mut reading = Reading {
        store,
        options,
        made_before: exists,
        graph: graph.clone(),
        started: crate::audit::now(),
        hasher: feed::Tap {
            inner: reader,
            seen: {
                let hash = hash.clone();
                Box::new(move |bytes: &[u8]| hash.borrow_mut().update(bytes))
            },
        },
        hash,
        matcher: options
            .threshold
            .map(|_| Claims::Index(store.index().matcher(store.base()))),
        builder: Builder::new(store.base()),
        report: Report {
            name: options.name.clone(),
            graph: graph.as_str().to_owned(),
            file: options.file_name.clone(),
            ..Report::default()
        },
        seen: HashMap::new(),
        pending: Vec::with_capacity(BATCH),
    };
    let touched = Touched::graph(GraphNameRef::NamedNode(graph.as_ref()), GraphWrite::Add);
    let in_graph = |t: Triple| t.in_graph(graph.clone());
    if !exists {
        let known = store.bulk_load_known(touched, LOAD_BATCH, |loader| {
            let mut added = 0u64;
            // The loader writes each call's quads as files of their own: calls of a full batch.
            let mut batch: Vec<Quad> = Vec::with_capacity(LOAD_BATCH);
            reading.read(on_read, &mut |triples| {
                added += triples.len() as u64;
                batch.extend(triples.into_iter().map(in_graph));
                if batch.len() >= LOAD_BATCH {
                    loader.load_quads(batch.drain(..))?;
                }
                Ok(())
            })?;
            let record = reading.run_record(&run);
            added += record.len() as u64;
            batch.extend(record.into_iter().map(in_graph));
            loader.load_quads(batch)?;
            Ok(Known {
                added,
                removed: 0,
                claims: reading.builder.claims(),
            })
        })?;
        reading.report.quads = known.added;
        reading.report.changed = true;
        return Ok(reading.report);
    }
    // Imported before: what the file gives that the store lacks, and what it no longer gives.
    let mut added: Vec<Quad> = Vec::new();
    reading.read(on_read, &mut |triples| {
        for triple in triples {
            let quad = in_graph(triple);
            if !store.contains_quad(&quad)? {
                added.push(quad);
            }
        }
        Ok(())
    })?;
    let mut removed: Vec<Quad> = Vec::new();
    let mut old_record: Vec<Quad> = Vec::new();
    let mut held = 0u64;
    for quad in store.quads(Some(&graph)) {
        let quad = quad?;
        held += 1;
        let triple = Triple::from(quad.clone());
        if is_run_record(&triple, &graph, &run) {
            old_record.push(quad);
        } else if !reading.builder.holds(&triple) {
            removed.push(quad);
        }
    }
    if added.is_empty() && removed.is_empty() {
        reading.report.quads = held;
        return Ok(reading.report);
    }
    // The run's record is replaced whole.
    removed.extend(old_record);
    added.extend(reading.run_record(&run).into_iter().map(in_graph));
    let mut claims = reading.builder.claims();
    claims.extend(claims_of(&removed));
    let known = store.write_known(touched, |transaction| {
        transaction.insert_named_graph(graph.as_ref());
        for quad in &removed {
            transaction.remove(quad);
        }
        for quad in &added {
            transaction.insert(quad);
        }
        Ok(Known {
            added: added.len() as u64,
            removed: removed.len() as u64,
            claims,
        })
    })?;
    reading.report.quads = held + known.added - known.removed;
    reading.report.changed = true;
    Ok(reading.report)
}

/// The claims quads removed from an import concern: the imported claims themselves, and the
/// known claims they were linked to.
fn claims_of(removed: &[Quad]) -> Vec<NamedOrBlankNode> {
    let claim_type = Term::NamedNode(NamedNode::new_unchecked(format!("{SCHEMA}Claim")));
    let same = format!("{CG}sameClaimAs");
    removed
        .iter()
        .filter_map(|q| {
            if q.predicate.as_str() == RDF_TYPE && q.object == claim_type {
                Some(q.subject.clone())
            } else if q.predicate.as_str() == same {
                match &q.object {
                    Term::NamedNode(n) => Some(n.clone().into()),
                    _ => None,
                }
            } else {
                None
            }
        })
        .collect()
}

/// One import as it reads its file.
struct Reading<'a, R> {
    store: &'a ClaimStore,
    options: &'a Options,
    /// Whether this import was made before (its claims keep their links).
    made_before: bool,
    graph: NamedNode,
    started: Literal,
    /// The file, read through a tap that hashes it into `hash`.
    hasher: feed::Watched<'static, R>,
    hash: std::rc::Rc<std::cell::RefCell<Sha256>>,
    matcher: Option<Claims>,
    builder: Builder,
    report: Report,
    /// Each review's position, by IRI (a later item with the same review is skipped).
    seen: HashMap<String, String>,
    pending: Vec<(Review, NamedNode)>,
}

impl<R: BufRead> Reading<'_, R> {
    /// Reads the whole file, handing the triples of each batch of reviews to `sink`; a file
    /// with no importable review is an error.
    fn read(
        &mut self,
        on_read: &mut dyn FnMut(u64),
        sink: &mut dyn FnMut(Vec<Triple>) -> Result<()>,
    ) -> Result<()> {
        let Self {
            store,
            options,
            made_before,
            graph,
            hasher,
            hash,
            matcher,
            builder,
            report,
            seen,
            pending,
            ..
        } = self;
        let linking = Linking {
            matcher: matcher.as_ref(),
            previous: made_before.then_some((*store, &*graph)),
            options,
        };
        feed::read(&options.file_name, &mut *hasher, on_read, &mut |located| {
            report.items += 1;
            let reviews = match review::reviews(&located.item) {
                Ok(reviews) => reviews,
                Err(reason) => {
                    report.skipped.push(Skipped {
                        position: located.position,
                        reason,
                    });
                    return Ok(());
                }
            };
            for review in reviews {
                let iri = builder.review_iri(&review);
                if let Some(first) = seen.get(iri.as_str()) {
                    report.skipped.push(Skipped {
                        position: located.position.clone(),
                        reason: format!("the same review (url and claim) as {first}"),
                    });
                    continue;
                }
                seen.insert(iri.as_str().to_owned(), located.position.clone());
                pending.push((review, iri));
            }
            if pending.len() >= BATCH {
                link_and_add(pending, linking, builder, report)?;
                sink(builder.take())?;
            }
            Ok(())
        })?;
        link_and_add(pending, linking, builder, report)?;
        sink(builder.take())?;
        // Read to the end, so the hash is the file's even when its JSON ended early.
        std::io::copy(&mut *hasher, &mut std::io::sink())
            .map_err(|e| Error::io(format!("cannot read {}", options.file_name), e))?;
        report.sha256 = format!("{:x}", hash.borrow().clone().finalize());
        report.organizations = builder.organizations.len() as u64;
        if report.reviews == 0 {
            return Err(Error::Invalid(format!(
                "{} holds no ClaimReview that could be imported ({} item(s) skipped{}); nothing \
                 was changed",
                options.file_name,
                report.skipped.len(),
                report
                    .skipped
                    .first()
                    .map(|s| format!(", the first at {}: {}", s.position, s.reason))
                    .unwrap_or_default()
            )));
        }
        Ok(())
    }

    fn run_record(&self, run: &NamedNode) -> Vec<Triple> {
        run_record(
            self.store,
            &self.graph,
            run,
            &self.report,
            &self.started,
            self.options,
        )
    }
}

/// How an import links its claims: the matcher (none with `--no-link`), the earlier run of
/// the import whose links are kept, the options.
#[derive(Clone, Copy)]
struct Linking<'a> {
    matcher: Option<&'a Claims>,
    previous: Option<(&'a ClaimStore, &'a NamedNode)>,
    options: &'a Options,
}

/// Matches the pending reviews' claims (split between the cores: the matcher only reads the
/// index), then adds their quads in file order.
fn link_and_add(
    pending: &mut Vec<(Review, NamedNode)>,
    linking: Linking<'_>,
    builder: &mut Builder,
    report: &mut Report,
) -> Result<()> {
    let Linking {
        matcher,
        previous,
        options,
    } = linking;
    let (Some(matcher), Some(threshold)) = (matcher, options.threshold) else {
        for (review, iri) in pending.drain(..) {
            builder.add(&review, &iri, None, report);
        }
        return Ok(());
    };
    // A claim this import brought before keeps the link it got then (unless relinking): a
    // second import of the same file changes nothing, though the claims it added since weigh in
    // the index's statistics.
    let mut links: Vec<Option<Option<(String, f64)>>> = Vec::with_capacity(pending.len());
    for (review, _) in pending.iter() {
        links.push(match previous {
            Some((store, graph)) if !options.relink => {
                previous_link(store, graph, &builder.claim_iri(review))?
            }
            _ => None,
        });
    }
    let unmatched: Vec<usize> = (0..pending.len()).filter(|i| links[*i].is_none()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = unmatched.len().div_ceil(cores).max(1);
    let matched = std::thread::scope(|scope| {
        let handles: Vec<_> = unmatched
            .chunks(chunk)
            .map(|part| {
                let pending = &*pending;
                scope.spawn(move || {
                    part.iter()
                        .map(|i| best_known(matcher, &pending[*i].0, threshold))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut matched = Vec::with_capacity(unmatched.len());
        for handle in handles {
            let part = handle
                .join()
                .map_err(|_| Error::Internal("a matching thread panicked".into()))??;
            matched.extend(part);
        }
        Ok::<_, Error>(matched)
    })?;
    for (i, link) in unmatched.into_iter().zip(matched) {
        links[i] = Some(link);
    }
    for ((review, iri), link) in pending.drain(..).zip(links) {
        builder.add(&review, &iri, link.flatten(), report);
    }
    Ok(())
}

/// The link an earlier run of this import gave `claim`: `None` if the claim was not in it,
/// `Some(None)` if it was, unlinked.
fn previous_link(
    store: &ClaimStore,
    graph: &NamedNode,
    claim: &NamedNode,
) -> Result<Option<Option<(String, f64)>>> {
    let n = |local: &str| NamedNode::new_unchecked(format!("{CG}{local}"));
    let graph = NamedOrBlankNode::from(graph.clone());
    let subject = NamedOrBlankNode::from(claim.clone());
    let typed = store
        .quads_matching(
            Some(&subject),
            Some(&NamedNode::new_unchecked(RDF_TYPE)),
            Some(&NamedNode::new_unchecked(format!("{SCHEMA}Claim")).into()),
            Some(&graph),
        )
        .next()
        .transpose()?
        .is_some();
    if !typed {
        return Ok(None);
    }
    let claims_at = format!("{}claims/", store.base());
    for found in store.quads_matching(Some(&subject), Some(&n("match")), None, Some(&graph)) {
        let Term::NamedNode(matched) = found?.object else {
            continue;
        };
        let matched = NamedOrBlankNode::from(matched);
        let object = |p: &str| -> Result<Option<Term>> {
            Ok(store
                .quads_matching(Some(&matched), Some(&n(p)), None, Some(&graph))
                .next()
                .transpose()?
                .map(|q| q.object))
        };
        if let (Some(Term::NamedNode(known)), Some(Term::Literal(score))) =
            (object("matchedClaim")?, object("matchScore")?)
        {
            if let (Some(key), Ok(score)) = (
                known.as_str().strip_prefix(&claims_at),
                score.value().parse::<f64>(),
            ) {
                return Ok(Some(Some((key.to_owned(), score))));
            }
        }
    }
    Ok(Some(None))
}

/// The best known claim (not itself imported) a review's claim restates, if it scores at least
/// `threshold`.
fn best_known(matcher: &Claims, review: &Review, threshold: f64) -> Result<Option<(String, f64)>> {
    // Imported claims are passed over (a few may outrank the known one).
    let found = matcher.similar(&review.claim_reviewed, SHORTLIST)?;
    Ok(found
        .into_iter()
        .find(|m| !m.claim.starts_with(IMPORTED) && !m.claim.contains('/'))
        .filter(|m| m.score >= threshold)
        .map(|m| (m.claim, m.score)))
}

/// Whether a triple is part of the run's record (about the run, or the graph's
/// `prov:wasGeneratedBy`). Asked of every quad of an import's graph.
fn is_run_record(triple: &Triple, graph: &NamedNode, run: &NamedNode) -> bool {
    let NamedOrBlankNode::NamedNode(subject) = &triple.subject else {
        return false;
    };
    subject == run
        || subject
            .as_str()
            .strip_prefix(run.as_str())
            .is_some_and(|rest| rest.starts_with('#'))
        || (subject == graph
            && triple.predicate.as_str().strip_prefix(PROV) == Some("wasGeneratedBy"))
}

/// The run's record: what was read, by whom, when, with what outcome.
fn run_record(
    store: &ClaimStore,
    graph: &NamedNode,
    run: &NamedNode,
    report: &Report,
    started: &Literal,
    options: &Options,
) -> Vec<Triple> {
    let n = |ns: &str, local: &str| NamedNode::new_unchecked(format!("{ns}{local}"));
    let integer = |v: u64| Literal::new_typed_literal(v.to_string(), n(XSD, "integer"));
    let rdf_type = NamedNode::new_unchecked(RDF_TYPE);
    let actor = crate::audit::current_actor();
    let agent = NamedNode::new_unchecked(format!(
        "{}audit/agents/{}",
        store.base(),
        form_urlencoded::byte_serialize(actor.agent.as_bytes()).collect::<String>()
    ));
    let mut triples = vec![
        Triple::new(graph.clone(), n(PROV, "wasGeneratedBy"), run.clone()),
        Triple::new(run.clone(), rdf_type.clone(), n(CG, "ImportRun")),
        Triple::new(run.clone(), rdf_type, n(PROV, "Activity")),
        Triple::new(
            run.clone(),
            n(RDFS, "label"),
            Literal::new_simple_literal(format!("ClaimReview import {}", report.name)),
        ),
        Triple::new(
            run.clone(),
            n(CG, "fileName"),
            Literal::new_simple_literal(&report.file),
        ),
        Triple::new(
            run.clone(),
            n(CG, "fileSha256"),
            Literal::new_simple_literal(&report.sha256),
        ),
        Triple::new(run.clone(), n(PROV, "startedAtTime"), started.clone()),
        Triple::new(run.clone(), n(PROV, "endedAtTime"), crate::audit::now()),
        // The agent as the audit trail names it (its record there gives its name).
        Triple::new(run.clone(), n(PROV, "wasAssociatedWith"), agent),
    ];
    for (property, value) in [
        ("reviewCount", report.reviews),
        ("claimCount", report.claims),
        ("organizationCount", report.organizations),
        ("normalizedCount", report.normalized),
        ("unknownRatingCount", report.unknown_ratings),
        ("skippedCount", report.skipped.len() as u64),
        ("linkCount", report.links),
    ] {
        triples.push(Triple::new(run.clone(), n(CG, property), integer(value)));
    }
    for label in report.unknown_labels.keys() {
        triples.push(Triple::new(
            run.clone(),
            n(CG, "unknownRatingLabel"),
            Literal::new_simple_literal(label),
        ));
    }
    if let Some(threshold) = options.threshold {
        triples.push(Triple::new(
            run.clone(),
            n(CG, "matchThreshold"),
            Literal::new_typed_literal(format!("{threshold}"), n(XSD, "decimal")),
        ));
    }
    triples
}

/// The quads of an import, built review by review (a set: organisations and documents that
/// several reviews name are described once).
struct Builder {
    base: String,
    /// A hash of every triple emitted (each is emitted once).
    emitted: HashSet<u128>,
    /// Triples emitted since the last [`Builder::take`].
    out: Vec<Triple>,
    organizations: BTreeSet<String>,
    /// The claims made, and the known claims they are linked to.
    claims: Vec<NamedNode>,
}

/// 128 bits of two SipHashes of a triple (fixed keys: the same in every run of the process,
/// which is all the hashes are compared within): a collision among the few million triples of
/// an import has odds near 10⁻²⁶.
fn triple_hash(triple: &Triple) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        salt.hash(&mut hasher);
        triple.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// The first eight hex digits of the SHA-256 of `parts` joined by newlines.
fn short_hash(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// A readable slug of at most `words` words of `text`.
fn words_slug(text: &str, words: usize) -> String {
    let slug = slug(text);
    slug.split('-')
        .filter(|w| !w.is_empty())
        .take(words)
        .collect::<Vec<_>>()
        .join("-")
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.strip_prefix("www.").unwrap_or(host)
}

impl Builder {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            emitted: HashSet::new(),
            out: Vec::new(),
            organizations: BTreeSet::new(),
            claims: Vec::new(),
        }
    }

    fn iri(&self, path: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("{}{path}", self.base))
    }

    fn review_iri(&self, review: &Review) -> NamedNode {
        let hash = short_hash(&[&review.url, &review.claim_reviewed]);
        self.iri(&format!(
            "reviews/{IMPORTED}{}-{hash}",
            words_slug(host_of(&review.url), 4)
        ))
    }

    fn claim_iri(&self, review: &Review) -> NamedNode {
        let hash = short_hash(&[&review.url, &review.claim_reviewed]);
        let words = words_slug(&review.claim_reviewed, 6);
        let words = if words.is_empty() {
            "claim".into()
        } else {
            words
        };
        self.iri(&format!("claims/{IMPORTED}{words}-{hash}"))
    }

    /// An agent's IRI: from its name (its address when it has none).
    fn agent(&mut self, agent: &Agent, default_kind: Option<&str>) -> Option<NamedNode> {
        let key = agent
            .name
            .as_deref()
            .or(agent.url.as_deref())?
            .to_lowercase();
        let name_slug = words_slug(&key, 5);
        let iri = self.iri(&format!(
            "entities/{IMPORTED}{}{}{}",
            name_slug,
            if name_slug.is_empty() { "" } else { "-" },
            short_hash(&[&key])
        ));
        if let Some(kind) = agent.kind.or(default_kind) {
            self.add_triple(&iri, RDF_TYPE, self.n(SCHEMA, kind));
        }
        if let Some(name) = &agent.name {
            self.add_triple(&iri, &format!("{SCHEMA}name"), literal(name));
        }
        if let Some(url) = &agent.url {
            if let Ok(url) = NamedNode::new(url.as_str()) {
                self.add_triple(&iri, &format!("{SCHEMA}url"), url);
            }
        }
        Some(iri)
    }

    fn n(&self, ns: &str, local: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("{ns}{local}"))
    }

    fn add_triple(&mut self, s: &NamedNode, p: &str, o: impl Into<Term>) {
        let triple = Triple::new(s.clone(), NamedNode::new_unchecked(p), o);
        if self.emitted.insert(triple_hash(&triple)) {
            self.out.push(triple);
        }
    }

    /// Whether this triple was emitted.
    fn holds(&self, triple: &Triple) -> bool {
        self.emitted.contains(&triple_hash(triple))
    }

    fn take(&mut self) -> Vec<Triple> {
        std::mem::take(&mut self.out)
    }

    fn claims(&self) -> Vec<NamedOrBlankNode> {
        self.claims.iter().cloned().map(Into::into).collect()
    }

    fn add(
        &mut self,
        review: &Review,
        iri: &NamedNode,
        link: Option<(String, f64)>,
        report: &mut Report,
    ) {
        let s = |local: &str| format!("{SCHEMA}{local}");
        let claim = self.claim_iri(review);
        self.claims.push(claim.clone());
        report.reviews += 1;
        report.claims += 1;
        self.add_triple(iri, RDF_TYPE, self.n(SCHEMA, "ClaimReview"));
        self.add_triple(iri, &s("url"), NamedNode::new_unchecked(&review.url));
        self.add_triple(iri, &s("claimReviewed"), literal(&review.claim_reviewed));
        self.add_triple(iri, &s("itemReviewed"), claim.clone());
        if let Some(date) = &review.date {
            self.add_triple(iri, &s("datePublished"), date_literal(date));
        }
        if let Some(language) = &review.language {
            self.add_triple(iri, &s("inLanguage"), literal(language));
        }
        if let Some(author) = review
            .author
            .as_ref()
            .and_then(|a| self.agent(a, Some("Organization")))
        {
            self.organizations.insert(author.as_str().to_owned());
            self.add_triple(iri, &s("author"), author);
        }
        if let Some(license) = &review.license {
            self.add_triple(iri, &s("sdLicense"), NamedNode::new_unchecked(license));
        }
        if let Some(publisher) = review
            .sd_publisher
            .as_ref()
            .and_then(|a| self.agent(a, None))
        {
            self.add_triple(iri, &s("sdPublisher"), publisher);
        }

        let rating = NamedNode::new_unchecked(format!("{}#rating", iri.as_str()));
        self.add_triple(iri, &s("reviewRating"), rating.clone());
        self.add_triple(&rating, RDF_TYPE, self.n(SCHEMA, "Rating"));
        for (local, value) in [
            ("ratingValue", &review.rating.value),
            ("bestRating", &review.rating.best),
            ("worstRating", &review.rating.worst),
        ] {
            if let Some(value) = value {
                self.add_triple(&rating, &s(local), number_literal(value));
            }
        }
        if let Some(label) = &review.rating.label {
            self.add_triple(&rating, &s("alternateName"), literal(label));
            match crosswalk().get(&normalise_label(label)) {
                Some(concept) => {
                    report.normalized += 1;
                    self.add_triple(&rating, &format!("{CG}normalizedRating"), concept.clone());
                }
                None => {
                    report.unknown_ratings += 1;
                    *report.unknown_labels.entry(label.clone()).or_default() += 1;
                }
            }
        } else {
            report.unknown_ratings += 1;
        }

        self.add_triple(&claim, RDF_TYPE, self.n(SCHEMA, "Claim"));
        self.add_triple(&claim, &s("text"), literal(&review.claim_reviewed));
        self.add_triple(&claim, &format!("{CG}status"), self.n(CG, "Reported"));
        if let Some(claimant) = review.claimant.as_ref().and_then(|a| self.agent(a, None)) {
            self.add_triple(&claim, &s("author"), claimant);
        }
        if let Some(date) = &review.claim_date {
            self.add_triple(&claim, &s("datePublished"), date_literal(date));
        }
        for work in &review.appearances {
            let hash = short_hash(&[&work.url]);
            let document = self.iri(&format!(
                "sources/{IMPORTED}{}-{hash}",
                words_slug(host_of(&work.url), 4)
            ));
            let appearance =
                NamedNode::new_unchecked(format!("{}#appearance-{hash}", claim.as_str()));
            self.add_triple(&claim, &s("appearance"), appearance.clone());
            if review.first_appearance.as_ref() == Some(work) {
                self.add_triple(&claim, &s("firstAppearance"), appearance.clone());
            }
            self.add_triple(&appearance, RDF_TYPE, self.n(OA, "SpecificResource"));
            self.add_triple(&appearance, &format!("{OA}hasSource"), document.clone());
            self.add_triple(&document, RDF_TYPE, self.n(SCHEMA, work.kind));
            self.add_triple(&document, &s("url"), NamedNode::new_unchecked(&work.url));
            self.add_triple(&document, &format!("{CG}archived"), Literal::from(false));
        }
        if let Some((key, score)) = link {
            report.links += 1;
            let known = self.iri(&format!("claims/{key}"));
            self.claims.push(known.clone());
            let matched = NamedNode::new_unchecked(format!("{}#match-{key}", claim.as_str()));
            self.add_triple(&claim, &format!("{CG}sameClaimAs"), known.clone());
            self.add_triple(&claim, &format!("{CG}match"), matched.clone());
            self.add_triple(&matched, RDF_TYPE, self.n(CG, "ClaimMatch"));
            self.add_triple(&matched, &format!("{CG}matchedClaim"), known);
            self.add_triple(
                &matched,
                &format!("{CG}matchScore"),
                // Oxigraph's canonical form of a decimal (no trailing zeros), so a re-import
                // compares equal to what the store gives back.
                Literal::new_typed_literal(score.to_string(), self.n(XSD, "decimal")),
            );
        }
    }
}

fn literal(text: &str) -> Literal {
    Literal::new_simple_literal(text)
}

/// A date as `xsd:date` when it starts with one (`2024-04-03T00:00:00Z` is that day), else the
/// text as given.
fn date_literal(text: &str) -> Literal {
    let day = text.get(..10).unwrap_or(text);
    let shaped = day.len() == 10
        && day.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if shaped && (text.len() == 10 || text.as_bytes()[10] == b'T') {
        Literal::new_typed_literal(day, NamedNode::new_unchecked(format!("{XSD}date")))
    } else {
        literal(text)
    }
}

/// A rating number as `xsd:integer` or `xsd:decimal` (checked to be a number before).
fn number_literal(text: &str) -> Literal {
    let datatype = if text.parse::<i64>().is_ok() {
        "integer"
    } else {
        "decimal"
    };
    let value = if datatype == "decimal" {
        text.parse::<f64>()
            .map(|f| f.to_string())
            .unwrap_or(text.into())
    } else {
        text.to_owned()
    };
    Literal::new_typed_literal(value, NamedNode::new_unchecked(format!("{XSD}{datatype}")))
}

/// Every import the store holds, by name.
pub fn list(store: &ClaimStore) -> Result<Vec<Listed>> {
    let rows = store.select(include_str!("../../queries/api/import-runs.rq"))?;
    let prefix = format!("{}graphs/imports/", store.base());
    let text = |t: &Option<Term>| match t {
        Some(Term::Literal(l)) => Some(l.value().to_owned()),
        _ => None,
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            let Some(Term::NamedNode(graph)) = &row[0] else {
                return None;
            };
            Some(Listed {
                name: graph.as_str().strip_prefix(&prefix)?.to_owned(),
                graph: graph.as_str().to_owned(),
                file: text(&row[1]),
                sha256: text(&row[2]),
                ended: text(&row[3]),
                reviews: text(&row[4]).and_then(|n| n.parse().ok()),
            })
        })
        .collect())
}

/// Removes the import `name` (its graph, with its run record). Returns whether it existed.
pub fn remove(store: &ClaimStore, name: &str) -> Result<bool> {
    let graph = graph_of(store, name)?;
    let _one_at_a_time = IMPORTING.lock().unwrap_or_else(|e| e.into_inner());
    if !store.contains_graph(GraphNameRef::NamedNode(graph.as_ref()))? {
        return Ok(false);
    }
    // In steps of a bounded size: one transaction removing millions of quads holds them all in
    // memory (gigabytes at 100,000 reviews). The run's record goes last, so an import whose
    // removal was interrupted is still listed, and removing it again finishes the work. Each
    // step tells the index the claims it concerns (the import's own, and those its links point
    // to), rather than having the graph's quads compared before and after.
    let run = NamedNode::new_unchecked(format!("{}imports/{name}", store.base()));
    let touched = || Touched::graph(GraphNameRef::NamedNode(graph.as_ref()), GraphWrite::Remove);
    let remove_step = |step: &[Quad]| -> Result<()> {
        let claims = claims_of(step);
        store.write_known(touched(), |transaction| {
            for quad in step {
                transaction.remove(quad);
            }
            Ok(Known {
                added: 0,
                removed: step.len() as u64,
                claims,
            })
        })?;
        Ok(())
    };
    // One pass: the iterator reads the graph as it was when it started.
    let mut step: Vec<Quad> = Vec::with_capacity(REMOVE_STEP);
    for quad in store.quads(Some(&graph)) {
        let quad = quad?;
        if !is_run_record(&Triple::from(quad.clone()), &graph, &run) {
            step.push(quad);
            if step.len() == REMOVE_STEP {
                remove_step(&step)?;
                step.clear();
            }
        }
    }
    remove_step(&step)?;
    store.write_known(touched(), |transaction| {
        let removed = store.quads(Some(&graph)).count() as u64;
        transaction.remove_named_graph(graph.as_ref())?;
        Ok(Known {
            added: 0,
            removed,
            claims: Vec::new(),
        })
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crosswalk_is_read_from_the_ontology() {
        let walk = crosswalk();
        let false_ = NamedNode::new_unchecked(format!("{CG}RatedFalse"));
        assert_eq!(walk.get("false"), Some(&false_));
        assert_eq!(
            walk.get(&normalise_label("  Pants on FIRE! ")),
            Some(&false_)
        );
        assert_eq!(walk.get("falso"), Some(&false_));
        assert!(walk.len() > 100, "{}", walk.len());
        assert!(!walk.contains_key("needs a closer look"));
    }

    #[test]
    fn iris_and_literals_are_derived_from_the_text() {
        assert_eq!(host_of("https://www.check.example/a?b"), "check.example");
        assert_eq!(
            words_slug("Netflix paid Facebook $100m, it says", 4),
            "netflix-paid-facebook-100m"
        );
        assert_eq!(date_literal("2024-04-03T00:00:00Z").value(), "2024-04-03");
        assert_eq!(date_literal("April 2024").value(), "April 2024");
        assert_eq!(
            number_literal("3").datatype().as_str(),
            format!("{XSD}integer")
        );
        assert_eq!(number_literal("2.50").value(), "2.5");
        assert!(check_name("Bad Name").is_err());
        assert_eq!(
            name_of_file(std::path::Path::new("dir/Feed 2024.json.gz")),
            "feed-2024"
        );
    }
}
