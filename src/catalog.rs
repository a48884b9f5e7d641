//! What the claims API and the linked-data pages show: claims listed and filtered, one claim in
//! full, any resource described, an archived text read back.
//!
//! Invariants: read-only; no HTTP types; every SPARQL text is a `queries/api/catalog-*.rq` file,
//! and user input reaches it only as terms bound to variables, never spliced into query text.

use crate::error::{Error, Result};
use crate::store::ClaimStore;
use crate::vocab::{CG_ARCHIVED_TEXT, CG_ASSERTION, CG_TEXT_SHA256, SCHEMA_ABOUT};
use oxigraph::model::{NamedNode, NamedOrBlankNode, Quad, Term};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use utoipa::ToSchema;

const CLAIM: &str = include_str!("../queries/api/catalog-claim.rq");
const APPEARANCES: &str = include_str!("../queries/api/catalog-appearances.rq");
const REVIEWS: &str = include_str!("../queries/api/catalog-reviews.rq");
const LINKED_REVIEWS: &str = include_str!("../queries/api/catalog-linked-reviews.rq");
const RELATED: &str = include_str!("../queries/api/catalog-related-claims.rq");
const MENTIONS: &str = include_str!("../queries/api/catalog-mentions.rq");
const LABELS: &str = include_str!("../queries/api/catalog-labels.rq");
const COUNT_CLAIMS: &str = include_str!("../queries/api/catalog-count-claims.rq");

/// The cg: vocabulary (OWL + SKOS), compiled in so `/ns` answers whatever the data directories hold.
pub const ONTOLOGY: &str = include_str!("../ontology/claimgraph.ttl");

/// The most claims one page of `GET /claims` holds.
pub const MAX_PAGE: usize = 500;

/// A resource with its name, when the store has one.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Link {
    pub iri: String,
    pub label: Option<String>,
}

/// The filters of `GET /claims`, already parsed into terms.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub status: Option<NamedNode>,
    pub source: Option<NamedNode>,
    pub outlet: Option<NamedNode>,
    pub entity: Option<NamedNode>,
    pub claimant: Option<NamedNode>,
    /// A review's verdict label (any case).
    pub rating: Option<String>,
    /// A fact-checker whose imported review rated the claim or a claim linked to it.
    pub checker: Option<NamedNode>,
    /// Only claims another fact-checker rated (an imported review, of it or a linked claim).
    pub rated_elsewhere: bool,
    /// Dates (`YYYY-MM-DD`, inclusive) of the documents a claim appears in.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Words, phrases, prefixes: ranked full-text search (see [`crate::index::search`]).
    pub search: Option<String>,
    /// The cursor of the previous page (`next_after`).
    pub after: Option<String>,
    pub limit: usize,
    /// Facets to count (from [`crate::index::search::FACETS`]) and values per facet.
    pub facets: Vec<String>,
    pub facet_limit: usize,
}

/// The filters of a request for claims (`/claims?status=…&source=…`) as they were given: empty
/// values mean no filter.
#[derive(Debug, Default)]
pub struct FilterValues<'a> {
    /// A status's local name (any case) or its IRI.
    pub status: Option<&'a str>,
    /// A source document's key or IRI.
    pub source: Option<&'a str>,
    /// A publisher's key or IRI.
    pub outlet: Option<&'a str>,
    /// An entity's key or IRI (what the claim is about).
    pub entity: Option<&'a str>,
    /// The claimant's key or IRI.
    pub claimant: Option<&'a str>,
    pub rating: Option<&'a str>,
    /// A fact-checker's key or IRI.
    pub checker: Option<&'a str>,
    pub rated_elsewhere: bool,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub search: Option<&'a str>,
    /// The cursor of the previous page.
    pub after: Option<&'a str>,
    pub limit: Option<usize>,
    /// Comma-separated facet names.
    pub facets: Option<&'a str>,
    pub facet_limit: Option<usize>,
}

/// How many values a facet lists when the request does not say.
pub const DEFAULT_FACET_VALUES: usize = 10;

/// How many claims a page holds when the request does not say.
pub const DEFAULT_PAGE: usize = 50;

impl ClaimFilter {
    /// The filter `values` describe, keys resolved under `base`; a value that names nothing
    /// valid is an `Error::Invalid` naming the parameter.
    pub fn parse(base: &str, values: &FilterValues<'_>) -> Result<Self> {
        fn given(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.is_empty())
        }
        let key_or_iri = |kind: &str, parameter: &str, value: Option<&str>| {
            given(value)
                .map(|value| key_or_iri(base, kind, parameter, value))
                .transpose()
        };
        Ok(Self {
            status: given(values.status).map(status_iri).transpose()?,
            source: key_or_iri("sources", "source", values.source)?,
            outlet: key_or_iri("entities", "outlet", values.outlet)?,
            entity: key_or_iri("entities", "entity", values.entity)?,
            claimant: key_or_iri("entities", "claimant", values.claimant)?,
            rating: given(values.rating).map(str::to_owned),
            checker: key_or_iri("entities", "checker", values.checker)?,
            rated_elsewhere: values.rated_elsewhere,
            from: given(values.from).map(str::to_owned),
            to: given(values.to).map(str::to_owned),
            search: values
                .search
                .filter(|q| !q.trim().is_empty())
                .map(str::to_owned),
            after: values.after.filter(|a| !a.is_empty()).map(str::to_owned),
            facets: given(values.facets)
                .map(|f| {
                    f.split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            facet_limit: match values.facet_limit {
                Some(n) if n == 0 || n > crate::index::search::MAX_FACET_VALUES => {
                    return Err(Error::Invalid(format!(
                        "facet_limit={n} is not between 1 and {}",
                        crate::index::search::MAX_FACET_VALUES
                    )))
                }
                Some(n) => n,
                None => DEFAULT_FACET_VALUES,
            },
            limit: match values.limit {
                Some(0) => return Err(Error::Invalid("limit must be at least 1".into())),
                Some(n) if n > MAX_PAGE => {
                    return Err(Error::Invalid(format!(
                        "limit={n} is more than the {MAX_PAGE} claims a page may hold"
                    )))
                }
                Some(n) => n,
                None => DEFAULT_PAGE,
            },
        })
    }
}

/// A filter value: a key under `<base>KIND/`, or an absolute IRI.
fn key_or_iri(base: &str, kind: &str, parameter: &str, value: &str) -> Result<NamedNode> {
    let iri = if value.contains(':') {
        value.to_owned()
    } else {
        format!("{base}{kind}/{value}")
    };
    NamedNode::new(iri).map_err(|e| {
        Error::Invalid(format!(
            "{parameter}={value:?} is neither a key nor an absolute IRI: {e}"
        ))
    })
}

/// A status given by its local name (any case) or its IRI.
fn status_iri(value: &str) -> Result<NamedNode> {
    let known = crate::claims::STATUSES;
    let name = known
        .iter()
        .find(|s| s.eq_ignore_ascii_case(value) || format!("{}{s}", crate::vocab::CG) == value);
    match name {
        Some(name) => Ok(NamedNode::new_unchecked(format!(
            "{}{name}",
            crate::vocab::CG
        ))),
        None => Err(Error::Invalid(format!(
            "status={value:?} is not a claim status; use one of {}",
            known.join(", ")
        ))),
    }
}

/// One claim in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimSummary {
    /// The claim's key (the last segment of its IRI) when it is minted under this server's base.
    pub id: Option<String>,
    pub iri: String,
    /// The proposition in plain words.
    pub text: String,
    /// The local name of its `cg:status` (Alleged, Reported, Stated…).
    pub status: String,
    pub claimant: Link,
    pub primary_source: Option<String>,
    /// Its first quote, as it appears in a document.
    pub quote: Option<String>,
    /// How many outlets published a document it appears in.
    pub outlets: usize,
    /// Relevance to the search's words (BM25), when it had words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// One page of claims; `next_after` is the cursor of the next page, if there is one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimPage {
    pub claims: Vec<ClaimSummary>,
    pub next_after: Option<String>,
    /// How many claims match in all.
    pub total: usize,
    /// The counts of each facet asked for, over every claim that matches.
    pub facets: Vec<Facet>,
}

/// The values of one facet among the claims that match, most frequent first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Facet {
    /// `status`, `claimant`, `source`, `outlet`, `entity` or `rating`.
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetValue {
    /// The value as a filter takes it: a status's name, an IRI, a verdict.
    pub value: String,
    /// Its name, for IRIs that have one.
    pub label: Option<String>,
    pub count: u64,
}

/// Everything the store says about one claim.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimDetail {
    pub id: Option<String>,
    pub iri: String,
    pub text: String,
    pub status: String,
    pub status_iri: String,
    pub status_label: Option<String>,
    pub claimant: Link,
    pub primary_source: Option<Link>,
    pub about: Vec<Link>,
    pub assertion: Option<Assertion>,
    pub appearances: Vec<Appearance>,
    pub reviews: Vec<Review>,
    /// Claims saying the same (`cg:sameClaimAs`, found when ClaimReviews were imported), with
    /// other fact-checkers' reviews of them.
    pub same_claims: Vec<SameClaim>,
    pub related: Vec<RelatedClaim>,
}

/// A claim saying the same as this one, and how other fact-checkers rated it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SameClaim {
    pub claim: Link,
    /// The matcher's score when the link was made (0 to 1).
    pub score: Option<String>,
    pub reviews: Vec<ElsewhereReview>,
}

/// Another fact-checker's review (imported).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ElsewhereReview {
    #[serde(flatten)]
    pub review: Review,
    /// Where the fact-checker published it.
    pub url: Option<String>,
    /// Its verdict on claimgraph's scale (`cg:RatingScale`), when the crosswalk knows the label.
    pub normalized: Option<String>,
    pub language: Option<String>,
}

/// The claim's content: its assertion graph and the triples in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assertion {
    pub graph: String,
    /// SHA-256 of the graph's RDFC-1.0 canonical form, as recorded at ingest.
    pub hash: Option<String>,
    /// The graph's triples in N-Triples syntax, sorted.
    pub triples: Vec<String>,
}

/// One place the claim appears: a document and the exact words, anchored in its archived text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Appearance {
    pub iri: String,
    pub source: Link,
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    /// Code-point offsets in the archived text, end exclusive.
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// The archived text's path under the data directory, and its SHA-256.
    #[serde(skip)]
    pub archived_text: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    pub iri: String,
    /// The verdict label (`schema:alternateName` of the rating).
    pub rating: Option<String>,
    pub rating_value: Option<String>,
    pub best_rating: Option<String>,
    pub worst_rating: Option<String>,
    pub author: Option<Link>,
    pub date_published: Option<String>,
    pub body: Option<String>,
}

/// A claim linked to this one by `cito:disputes`, `cito:supports` or `cito:refutes`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelatedClaim {
    /// `disputes`, `supports` or `refutes`.
    pub relation: String,
    /// `outgoing` (this claim disputes the other) or `incoming` (the other disputes this one).
    pub direction: String,
    pub claim: Link,
}

/// A claim that concerns a resource, and how.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Mention {
    /// `claimant`, `about`, `appears in`, `primary source` or `reviewed by`.
    pub role: String,
    pub claim: Link,
    pub status: String,
}

/// The IRI of the claim with this key.
pub fn claim_iri(store: &ClaimStore, key: &str) -> Result<NamedNode> {
    minted(store, "claims", key)
}

/// The IRI `<base>KIND/KEY`; a key that cannot be part of an IRI is not found.
pub fn minted(store: &ClaimStore, kind: &str, key: &str) -> Result<NamedNode> {
    NamedNode::new(format!("{}{kind}/{key}", store.base()))
        .map_err(|_| Error::NotFound(format!("no {kind} has the key {key:?}")))
}

/// The key of an IRI minted as `<base>KIND/KEY`.
pub fn key_of(store: &ClaimStore, kind: &str, iri: &str) -> Option<String> {
    iri.strip_prefix(store.base())?
        .strip_prefix(kind)?
        .strip_prefix('/')
        .filter(|key| !key.is_empty() && !key.contains(['/', '#']))
        .map(str::to_owned)
}

/// The claims matching `filter`, from the claims index: ranked by relevance when it has words,
/// else in IRI order; from `filter.after` on; with the facet counts it asks for.
pub fn list_claims(store: &ClaimStore, filter: &ClaimFilter) -> Result<ClaimPage> {
    let iri = |node: &Option<NamedNode>| node.as_ref().map(|n| n.as_str().to_owned());
    let search = crate::index::search::Search {
        q: filter.search.clone(),
        status: filter
            .status
            .as_ref()
            .map(|s| local_name(s.as_str()).to_owned()),
        claimant: iri(&filter.claimant),
        source: iri(&filter.source),
        outlet: iri(&filter.outlet),
        entity: iri(&filter.entity),
        rating: filter.rating.clone(),
        checker: iri(&filter.checker),
        rated_elsewhere: filter.rated_elsewhere,
        from: filter.from.clone(),
        to: filter.to.clone(),
        after: filter.after.clone(),
        limit: filter.limit.clamp(1, MAX_PAGE),
        facets: filter.facets.clone(),
        facet_limit: filter.facet_limit,
    };
    let found = store.index().search(&search)?;
    let claims = found
        .hits
        .into_iter()
        .map(|hit| {
            let claim = hit.summary;
            ClaimSummary {
                id: key_of(store, "claims", &claim.claim),
                text: claim.text,
                status: claim.status,
                claimant: Link {
                    iri: claim.claimant.unwrap_or_default(),
                    label: claim.claimant_name,
                },
                primary_source: claim.primary,
                quote: claim.quotes.into_iter().next(),
                outlets: hit.outlets,
                score: hit.score,
                iri: claim.claim,
            }
        })
        .collect();
    let mut facets = Vec::with_capacity(found.facets.len());
    for (name, values) in found.facets {
        let mut listed = Vec::with_capacity(values.len());
        for (value, count) in values {
            let label = if value.contains(':') {
                store
                    .index()
                    .facet_label(&value, || Ok(link(store, &value)?.label))?
            } else {
                None
            };
            listed.push(FacetValue {
                value,
                label,
                count,
            });
        }
        facets.push(Facet {
            name,
            values: listed,
        });
    }
    Ok(ClaimPage {
        claims,
        next_after: found.next_after,
        total: found.total,
        facets,
    })
}

/// One claim in full; `NotFound` if the store has no `schema:Claim` with this IRI.
pub fn claim(store: &ClaimStore, claim: &NamedNode) -> Result<ClaimDetail> {
    let bound = [("claim", Term::from(claim.clone()))];
    let row = store
        .select_rows(CLAIM, &bound, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("no claim <{}> in this store", claim.as_str())))?;
    let status_iri = iri_or_empty(&row[2]);
    let assertion = match iri(&row[8]) {
        Some(graph) => Some(Assertion {
            triples: assertion_triples(store, &graph)?,
            graph,
            hash: text(&row[9]),
        }),
        None => None,
    };
    let mut about = Vec::new();
    for quad in store.quads_about(&claim.clone().into())? {
        if quad.predicate.as_str() == SCHEMA_ABOUT {
            if let Term::NamedNode(entity) = quad.object {
                if !about.iter().any(|l: &Link| l.iri == entity.as_str()) {
                    about.push(link(store, entity.as_str())?);
                }
            }
        }
    }
    about.sort_by(|a, b| a.iri.cmp(&b.iri));
    Ok(ClaimDetail {
        id: key_of(store, "claims", claim.as_str()),
        iri: claim.as_str().to_owned(),
        text: text(&row[1]).unwrap_or_default(),
        status: local_name(&status_iri).to_owned(),
        status_label: text(&row[3]),
        status_iri,
        claimant: Link {
            iri: iri(&row[4]).unwrap_or_default(),
            label: text(&row[5]),
        },
        primary_source: iri(&row[6]).map(|iri| Link {
            iri,
            label: text(&row[7]),
        }),
        about,
        assertion,
        appearances: appearances(store, &bound)?,
        reviews: reviews(store, &bound)?,
        same_claims: same_claims(store, &bound)?,
        related: related(store, &bound)?,
    })
}

fn same_claims(store: &ClaimStore, bound: &[(&str, Term)]) -> Result<Vec<SameClaim>> {
    let mut same: Vec<SameClaim> = Vec::new();
    for row in store.select_with(LINKED_REVIEWS, bound)? {
        let linked = iri_or_empty(&row[1]);
        if same.last().is_none_or(|s| s.claim.iri != linked) {
            same.push(SameClaim {
                claim: Link {
                    iri: linked,
                    label: text(&row[2]),
                },
                score: text(&row[3]),
                reviews: Vec::new(),
            });
        }
        let Some(review) = iri(&row[4]) else {
            continue;
        };
        let entry = same.last_mut().expect("pushed above");
        if entry.reviews.iter().any(|r| r.review.iri == review) {
            continue;
        }
        let normalized = text(&row[8]).or_else(|| {
            iri(&row[7]).map(|c| {
                let local = local_name(&c);
                local.strip_prefix("Rated").unwrap_or(local).to_lowercase()
            })
        });
        entry.reviews.push(ElsewhereReview {
            review: Review {
                iri: review,
                rating: text(&row[6]),
                rating_value: text(&row[9]),
                best_rating: text(&row[10]),
                worst_rating: text(&row[11]),
                author: iri(&row[12]).map(|iri| Link {
                    iri,
                    label: text(&row[13]),
                }),
                date_published: text(&row[14]),
                body: None,
            },
            url: iri(&row[5]).or_else(|| text(&row[5])),
            normalized,
            language: text(&row[15]),
        });
    }
    Ok(same)
}

fn appearances(store: &ClaimStore, bound: &[(&str, Term)]) -> Result<Vec<Appearance>> {
    let mut appearances: Vec<Appearance> = Vec::new();
    for row in store.select_with(APPEARANCES, bound)? {
        let iri = iri_or_empty(&row[1]);
        // An appearance with several names or selectors yields several rows: keep the first.
        if appearances.iter().any(|a| a.iri == iri) {
            continue;
        }
        appearances.push(Appearance {
            iri,
            source: Link {
                iri: iri_or_empty(&row[2]),
                label: text(&row[3]),
            },
            exact: text(&row[4]),
            prefix: text(&row[5]),
            suffix: text(&row[6]),
            start: text(&row[7]).and_then(|v| v.parse().ok()),
            end: text(&row[8]).and_then(|v| v.parse().ok()),
            archived_text: text(&row[9]).zip(text(&row[10])),
        });
    }
    Ok(appearances)
}

fn reviews(store: &ClaimStore, bound: &[(&str, Term)]) -> Result<Vec<Review>> {
    let mut reviews: Vec<Review> = Vec::new();
    for row in store.select_with(REVIEWS, bound)? {
        let review = iri_or_empty(&row[1]);
        if reviews.iter().any(|r| r.iri == review) {
            continue;
        }
        reviews.push(Review {
            iri: review,
            rating: text(&row[2]),
            rating_value: text(&row[3]),
            best_rating: text(&row[4]),
            worst_rating: text(&row[5]),
            author: iri(&row[6]).map(|iri| Link {
                iri,
                label: text(&row[7]),
            }),
            date_published: text(&row[8]),
            body: text(&row[9]),
        });
    }
    Ok(reviews)
}

fn related(store: &ClaimStore, bound: &[(&str, Term)]) -> Result<Vec<RelatedClaim>> {
    Ok(store
        .select_with(RELATED, bound)?
        .into_iter()
        .map(|row| RelatedClaim {
            relation: local_name(&iri_or_empty(&row[1])).to_owned(),
            direction: text(&row[2]).unwrap_or_default(),
            claim: Link {
                iri: iri_or_empty(&row[3]),
                label: text(&row[4]),
            },
        })
        .collect())
}

/// The triples of an assertion graph in N-Triples syntax, sorted.
fn assertion_triples(store: &ClaimStore, graph: &str) -> Result<Vec<String>> {
    let graph = NamedNode::new(graph)
        .map_err(|e| Error::Invalid(format!("invalid assertion graph {graph}: {e}")))?;
    let mut triples = store
        .quads(Some(&graph))
        .map(|quad| quad.map(|q| format!("{} {} {} .", q.subject, q.predicate, q.object)))
        .collect::<Result<Vec<_>>>()?;
    triples.sort();
    Ok(triples)
}

/// How many claims the store holds.
pub fn count_claims(store: &ClaimStore) -> Result<usize> {
    let rows = store.select(COUNT_CLAIMS)?;
    Ok(rows
        .first()
        .and_then(|row| text(&row[0]))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

/// The cg: vocabulary as quads (in the default graph).
pub fn vocabulary() -> Result<Vec<Quad>> {
    oxigraph::io::RdfParser::from_format(oxigraph::io::RdfFormat::Turtle)
        .for_slice(ONTOLOGY.as_bytes())
        .map(|quad| quad.map_err(|e| Error::Invalid(format!("ontology/claimgraph.ttl: {e}"))))
        .collect()
}

/// The claims that concern a resource (as claimant, topic, document, primary source, reviewer).
pub fn mentions(store: &ClaimStore, resource: &NamedNode) -> Result<Vec<Mention>> {
    let bound = [("resource", Term::from(resource.clone()))];
    Ok(store
        .select_with(MENTIONS, &bound)?
        .into_iter()
        .map(|row| Mention {
            role: text(&row[1]).unwrap_or_default(),
            claim: Link {
                iri: iri_or_empty(&row[2]),
                label: text(&row[3]),
            },
            status: local_name(&iri_or_empty(&row[4])).to_owned(),
        })
        .collect())
}

/// A resource with its name (`schema:name`, `schema:headline`, `skos:prefLabel`, `rdfs:label`, or
/// a claim's text), if it has one.
pub fn link(store: &ClaimStore, iri: &str) -> Result<Link> {
    let label = match NamedNode::new(iri) {
        Ok(node) => store
            .select_rows(LABELS, &[("resource", node.into())], 1)?
            .into_iter()
            .next()
            .and_then(|row| text(&row[1])),
        Err(_) => None,
    };
    Ok(Link {
        iri: iri.to_owned(),
        label,
    })
}

/// What the store says about a resource, as quads (graphs kept): every quad whose subject is the
/// resource, and, followed from there, those of its blank nodes and of its own hash IRIs
/// (`<iri#…>`: a claim's appearances and selectors, a review's rating). For a claim, also its
/// assertion graph. Empty when the store does not describe it.
pub fn describe(store: &ClaimStore, resource: &NamedNode) -> Result<Vec<Quad>> {
    let own_fragment = format!("{}#", resource.as_str());
    let mut seen: HashSet<NamedOrBlankNode> = HashSet::new();
    let mut todo: Vec<NamedOrBlankNode> = vec![resource.clone().into()];
    let mut quads = Vec::new();
    let mut assertions = Vec::new();
    while let Some(subject) = todo.pop() {
        if !seen.insert(subject.clone()) {
            continue;
        }
        for quad in store.quads_about(&subject)? {
            match &quad.object {
                Term::BlankNode(node) => todo.push(node.clone().into()),
                Term::NamedNode(node) if node.as_str().starts_with(&own_fragment) => {
                    todo.push(node.clone().into())
                }
                Term::NamedNode(node)
                    if quad.predicate.as_str() == CG_ASSERTION
                        && matches!(&subject, NamedOrBlankNode::NamedNode(s) if s == resource) =>
                {
                    assertions.push(node.clone())
                }
                _ => {}
            }
            quads.push(quad);
        }
    }
    for graph in assertions {
        for quad in store.quads(Some(&graph)) {
            quads.push(quad?);
        }
    }
    Ok(quads)
}

/// The archived text of a source document, exactly as hashed at ingest. `NotFound` when the
/// document has none or no data directory of this server holds it; an error when the file no longer
/// has the recorded SHA-256 (it was edited after ingest: `claimgraph verify` reports it too).
pub fn archived_text(
    store: &ClaimStore,
    source: &NamedNode,
    data_dirs: &[PathBuf],
) -> Result<String> {
    let mut path = None;
    let mut sha256 = None;
    for quad in store.quads_about(&source.clone().into())? {
        if let Term::Literal(value) = &quad.object {
            match quad.predicate.as_str() {
                CG_ARCHIVED_TEXT => path = Some(value.value().to_owned()),
                CG_TEXT_SHA256 => sha256 = Some(value.value().to_owned()),
                _ => {}
            }
        }
    }
    let (Some(path), Some(sha256)) = (path, sha256) else {
        return Err(Error::NotFound(format!(
            "no archived text is recorded for <{}>",
            source.as_str()
        )));
    };
    read_archived(&path, &sha256, data_dirs)
}

/// Reads an archived text recorded as `path` (relative to a data directory) with its SHA-256.
pub fn read_archived(path: &str, sha256: &str, data_dirs: &[PathBuf]) -> Result<String> {
    let relative = Path::new(path);
    if relative.is_absolute() || relative.components().any(|c| c.as_os_str() == "..") {
        return Err(Error::Invalid(format!(
            "the archived text path {path:?} leaves the data directory"
        )));
    }
    let Some((dir, file)) = data_dirs
        .iter()
        .map(|dir| (dir, dir.join(relative)))
        .find(|(_, candidate)| candidate.is_file())
    else {
        return Err(Error::NotFound(format!(
            "the archived text {path} is not in this server's data directories"
        )));
    };
    // A symbolic link in the data directory may point anywhere: only a file that is inside the
    // directory once every link is resolved is served, and nothing of any other is read.
    let inside = match (dir.canonicalize(), file.canonicalize()) {
        (Ok(dir), Ok(file)) => file.starts_with(dir),
        _ => false,
    };
    if !inside {
        return Err(Error::Invalid(format!(
            "the archived text {path} resolves (through a symbolic link) to a file outside the \
             data directory; it is not served"
        )));
    }
    let bytes = std::fs::read(&file).map_err(|e| Error::io(format!("reading {path}"), e))?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    if actual != sha256 {
        // The hash found is the operator's to see (`claimgraph verify` prints it), not a caller's.
        tracing::warn!(%path, found = %actual, recorded = %sha256, "an archived text has changed");
        return Err(Error::Invalid(format!(
            "the archived text {path} has changed since it was ingested (it no longer has the \
             recorded SHA-256); run `claimgraph verify`"
        )));
    }
    String::from_utf8(bytes).map_err(|e| Error::Invalid(format!("{path} is not UTF-8: {e}")))
}

/// The archived words around one appearance's quote, for highlighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteContext {
    pub before: String,
    pub exact: String,
    pub after: String,
}

/// How many code points of archived text are shown around a quote.
const CONTEXT_CHARS: usize = 240;

/// For each of a claim's appearances, its quote in the archived text with the words around
/// it; `None` where the text is not archived here, does not have its recorded SHA-256, or the
/// offsets do not fit it (the page then shows the quote alone).
pub fn quote_contexts(claim: &ClaimDetail, data_dirs: &[PathBuf]) -> Vec<Option<QuoteContext>> {
    claim
        .appearances
        .iter()
        .map(|appearance| {
            let (path, sha256) = appearance.archived_text.as_ref()?;
            let text = read_archived(path, sha256, data_dirs).ok()?;
            let (start, end) = (appearance.start?, appearance.end?);
            let (before, exact, after) = quote_in_context(
                &text,
                usize::try_from(start).ok()?,
                usize::try_from(end).ok()?,
                CONTEXT_CHARS,
            )?;
            Some(QuoteContext {
                before,
                exact,
                after,
            })
        })
        .collect()
}

/// The text around a quote at code-point offsets `start..end`: up to `around` code points before
/// and after. `None` when the offsets do not fit the text.
pub fn quote_in_context(
    text: &str,
    start: usize,
    end: usize,
    around: usize,
) -> Option<(String, String, String)> {
    let chars: Vec<char> = text.chars().collect();
    if start > end || end > chars.len() {
        return None;
    }
    let from = start.saturating_sub(around);
    let to = (end + around).min(chars.len());
    Some((
        chars[from..start].iter().collect(),
        chars[start..end].iter().collect(),
        chars[end..to].iter().collect(),
    ))
}

/// The part of an IRI after its last `#` or `/`.
pub fn local_name(iri: &str) -> &str {
    iri.rsplit(['#', '/']).next().unwrap_or(iri)
}

fn iri(term: &Option<Term>) -> Option<String> {
    match term {
        Some(Term::NamedNode(node)) => Some(node.as_str().to_owned()),
        _ => None,
    }
}

fn iri_or_empty(term: &Option<Term>) -> String {
    iri(term).unwrap_or_default()
}

fn text(term: &Option<Term>) -> Option<String> {
    match term {
        Some(Term::Literal(literal)) => Some(literal.value().to_owned()),
        Some(Term::NamedNode(node)) => Some(node.as_str().to_owned()),
        _ => None,
    }
}

/// How each appearance's quote differs from the first appearance's (amounts, numbers, dates,
/// names, qualifiers: what drafting names when an article restates a known claim); nothing for
/// the first, or for an appearance without a quote.
pub fn versions(claim: &ClaimDetail) -> Vec<Vec<crate::draft::matcher::Difference>> {
    let first = claim.appearances.iter().find_map(|a| a.exact.clone());
    let Some(first) = first else {
        return vec![Vec::new(); claim.appearances.len()];
    };
    let known = crate::draft::matcher::KnownClaim {
        text: first.clone(),
        status: claim.status.clone(),
        ..Default::default()
    };
    claim
        .appearances
        .iter()
        .map(|appearance| match &appearance.exact {
            // A headline's capitals are not a different version.
            Some(exact) if *exact != first => {
                crate::draft::matcher::differences(exact, None, &known)
                    .into_iter()
                    .filter(|d| d.here.to_lowercase() != d.known.to_lowercase())
                    .collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_in_context_count_code_points() {
        let text = "ab‘c’de";
        assert_eq!(
            quote_in_context(text, 2, 5, 1),
            Some(("b".into(), "‘c’".into(), "d".into()))
        );
        assert_eq!(quote_in_context(text, 0, 7, 10).unwrap().1, text);
        assert_eq!(quote_in_context(text, 3, 8, 1), None);
    }

    #[test]
    fn local_names() {
        assert_eq!(
            local_name(&format!("{}Alleged", crate::vocab::CG)),
            "Alleged"
        );
        assert_eq!(local_name(crate::vocab::SCHEMA_ABOUT), "about");
    }
}
