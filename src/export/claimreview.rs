//! The schema.org ClaimReview feed: one `ClaimReview` per `schema:ClaimReview` in the store, as
//! Google's fact-check structured data describes it (`url`, `claimReviewed`, `datePublished`,
//! `author`, `reviewRating`, `itemReviewed` as a `Claim` with its claimant, date and
//! appearances).
//!
//! Invariant: the feed is one JSON object `{"@context": "https://schema.org", "@graph": [...]}`
//! whose elements are written one review at a time, each serialised as soon as it is read; a
//! property the store does not know is left out, never invented. Every node carries its IRI as
//! `@id`, so the feed read as RDF links to the same resources as the store.

use super::text;
use crate::error::{Error, Result};
use crate::store::ClaimStore;
use crate::vocab::{SCHEMA, SCHEMA_CONTEXT};
use oxigraph::model::{NamedNode, Term};
use oxigraph::sparql::CancellationToken;
use serde::Serialize;
use std::io::Write;

/// The schema.org types written for an agent that is an organisation (Google accepts
/// `Organization` and `Person` as authors; the subtypes are summarised as `Organization`).
const ORGANIZATIONS: &[&str] = &[
    "Organization",
    "Corporation",
    "NewsMediaOrganization",
    "GovernmentOrganization",
    "EducationalOrganization",
    "NGO",
];

/// The whole feed (described for OpenAPI; it is written element by element, never built).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimReviewFeed {
    /// Always `https://schema.org`.
    #[serde(rename = "@context")]
    pub context: String,
    /// One element per review in the store.
    #[serde(rename = "@graph")]
    pub graph: Vec<ClaimReview>,
}

/// A schema.org `ClaimReview`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimReview {
    /// Always `ClaimReview`.
    #[serde(rename = "@type")]
    pub kind: String,
    /// The review's IRI.
    #[serde(rename = "@id")]
    pub id: String,
    /// Where the review is published: its `schema:url`, else its IRI (a review of this graph
    /// is published at its IRI).
    pub url: String,
    /// The claim in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_reviewed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_body: Option<String>,
    /// The review's language (BCP 47), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Agent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_rating: Option<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_reviewed: Option<ClaimItem>,
    /// The licence of this structured data (an imported review keeps its feed's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd_license: Option<String>,
    /// Who published this structured data (an imported review keeps its feed's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd_publisher: Option<Agent>,
}

/// A `Person` or `Organization` (or the schema.org type the store gives a claimant that is
/// neither).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Other IRIs of the same agent (e.g. Wikidata).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_as: Vec<String>,
}

/// The verdict: a `Rating` on a numeric scale, with its label.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rating {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub rating_value: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub best_rating: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub worst_rating: Option<serde_json::Value>,
    /// The verdict in words, e.g. `Misleading`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternate_name: Option<String>,
}

/// The reviewed `Claim`: who made it, when it first appeared, where.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimItem {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "@id")]
    pub id: String,
    /// The claimant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Agent>,
    /// When it was made: its own date, else that of the document of its first appearance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_published: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appearance: Vec<Document>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_appearance: Option<Document>,
}

/// A document a claim appears in: a `NewsArticle`, or a `CreativeWork`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "@id")]
    pub id: String,
    /// The document's web address (`schema:url`), left out where none is known: our IRI is
    /// the `@id`, not where the claim appeared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<NamedAgent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<NamedAgent>,
}

/// A document's author or publisher: type and name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedAgent {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Writes the feed, one review at a time.
pub fn write(store: &ClaimStore, cancel: &CancellationToken, out: &mut dyn Write) -> Result<()> {
    let io_error = |e| Error::io("writing the ClaimReview feed", e);
    write!(out, "{{\"@context\":\"{SCHEMA_CONTEXT}\",\"@graph\":[").map_err(io_error)?;
    let mut first = true;
    store.select_each(
        include_str!("../../queries/api/export-reviews.rq"),
        &[],
        cancel.clone(),
        |row| {
            let Some(Term::NamedNode(review)) = &row[0] else {
                return Ok(());
            };
            let element = describe_review(store, review)?;
            if !first {
                out.write_all(b",\n").map_err(io_error)?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &element)
                .map_err(|e| Error::io("writing the ClaimReview feed", e.into()))
        },
    )?;
    out.write_all(b"]}\n").map_err(io_error)
}

/// Writes the feed of the reviews of one claim (`reviews`, its reviews' IRIs).
pub fn write_reviews(store: &ClaimStore, reviews: &[NamedNode], out: &mut dyn Write) -> Result<()> {
    let feed = ClaimReviewFeed {
        context: SCHEMA_CONTEXT.to_owned(),
        graph: reviews
            .iter()
            .map(|review| describe_review(store, review))
            .collect::<Result<_>>()?,
    };
    serde_json::to_writer(&mut *out, &feed)
        .map_err(|e| Error::io("writing the ClaimReview feed", e.into()))?;
    out.write_all(b"\n")
        .map_err(|e| Error::io("writing the ClaimReview feed", e))
}

/// One review as a `ClaimReview`, from a handful of small bound queries.
pub fn describe_review(store: &ClaimStore, review: &NamedNode) -> Result<ClaimReview> {
    let rows = super::rows(
        store,
        include_str!("../../queries/api/export-review.rq"),
        &[("review", review.clone().into())],
    )?;
    let row = rows.into_iter().next().unwrap_or_default();
    let get = |i: usize| row.get(i).cloned().flatten();
    let string = |i: usize| get(i).as_ref().map(text);
    let claim = match get(0) {
        Some(Term::NamedNode(claim)) => Some(describe_claim(store, &claim)?),
        _ => None,
    };
    let agent = |i: usize| -> Result<Option<Agent>> {
        match get(i) {
            Some(Term::NamedNode(agent)) => Ok(Some(describe_agent(store, &agent)?)),
            _ => Ok(None),
        }
    };
    let rating = [5, 6, 7, 8]
        .iter()
        .any(|i| get(*i).is_some())
        .then(|| Rating {
            kind: "Rating".to_owned(),
            rating_value: get(5).as_ref().map(number),
            best_rating: get(6).as_ref().map(number),
            worst_rating: get(7).as_ref().map(number),
            alternate_name: string(8),
        });
    Ok(ClaimReview {
        kind: "ClaimReview".to_owned(),
        id: review.as_str().to_owned(),
        url: string(10).unwrap_or_else(|| review.as_str().to_owned()),
        claim_reviewed: string(1),
        date_published: string(2),
        review_body: string(3),
        in_language: string(11),
        author: agent(4)?,
        review_rating: rating,
        item_reviewed: claim,
        sd_license: string(12),
        sd_publisher: agent(13)?,
    })
}

fn describe_claim(store: &ClaimStore, claim: &NamedNode) -> Result<ClaimItem> {
    let bound = [("claim", Term::from(claim.clone()))];
    let row = super::rows(
        store,
        include_str!("../../queries/api/export-claimant.rq"),
        &bound,
    )?
    .into_iter()
    .next()
    .unwrap_or_default();
    let (claimant, date) = (
        row.first().cloned().flatten(),
        row.get(1).cloned().flatten(),
    );
    let author = match claimant {
        Some(Term::NamedNode(claimant)) => Some(describe_agent(store, &claimant)?),
        _ => None,
    };
    let mut appearance: Vec<Document> = Vec::new();
    let mut first_appearance = None;
    let mut seen_appearances: Vec<Term> = Vec::new();
    for row in super::rows(
        store,
        include_str!("../../queries/api/export-appearances.rq"),
        &bound,
    )? {
        let get = |i: usize| row.get(i).cloned().flatten();
        // Several rows for one appearance only when a document has several values of one
        // property: the first row describes it.
        let (Some(ap), Some(Term::NamedNode(document))) = (get(0), get(1)) else {
            continue;
        };
        if seen_appearances.contains(&ap) {
            continue;
        }
        seen_appearances.push(ap);
        let is_first = matches!(get(2), Some(Term::Literal(l)) if l.value() == "true");
        let news = matches!(get(3), Some(Term::Literal(l)) if l.value() == "true");
        let named = |i: usize| -> Result<Option<NamedAgent>> {
            Ok(match get(i) {
                Some(Term::NamedNode(agent)) => {
                    let agent = describe_agent(store, &agent)?;
                    Some(NamedAgent {
                        kind: agent.kind,
                        id: agent.id,
                        name: agent.name,
                    })
                }
                _ => None,
            })
        };
        let described = Document {
            kind: if news { "NewsArticle" } else { "CreativeWork" }.to_owned(),
            id: document.as_str().to_owned(),
            url: get(4).as_ref().map(text),
            headline: get(5).as_ref().map(text),
            name: get(6).as_ref().map(text),
            date_published: get(7).as_ref().map(text),
            author: named(8)?,
            publisher: named(9)?,
        };
        if is_first && first_appearance.is_none() {
            first_appearance = Some(described.clone());
        }
        // A claim quoted twice in one document appears in that document once.
        if !appearance.iter().any(|d| d.id == described.id) {
            appearance.push(described);
        }
    }
    Ok(ClaimItem {
        kind: "Claim".to_owned(),
        id: claim.as_str().to_owned(),
        author,
        date_published: date.as_ref().map(text).or_else(|| {
            first_appearance
                .as_ref()
                .and_then(|d| d.date_published.clone())
        }),
        appearance,
        first_appearance,
    })
}

/// The JSON number of a numeric literal; other values as their text.
fn number(term: &Term) -> serde_json::Value {
    if let Term::Literal(literal) = term {
        if let Ok(integer) = literal.value().parse::<i64>() {
            return integer.into();
        }
        if let Some(float) = literal
            .value()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return float.into();
        }
    }
    text(term).into()
}

fn describe_agent(store: &ClaimStore, agent: &NamedNode) -> Result<Agent> {
    let rows = super::rows(
        store,
        include_str!("../../queries/api/export-agent.rq"),
        &[("agent", agent.clone().into())],
    )?;
    let mut name = None;
    let mut url = None;
    let mut same_as: Vec<String> = Vec::new();
    let mut types = Vec::new();
    for row in rows {
        let get = |i: usize| row.get(i).cloned().flatten();
        let (row_name, row_type, row_url, row_same_as) = (get(0), get(1), get(2), get(3));
        name = name.or(row_name.as_ref().map(text));
        url = url.or(row_url.as_ref().map(text));
        if let Some(Term::NamedNode(kind)) = row_type {
            types.push(kind);
        }
        if let Some(other) = row_same_as.as_ref().map(text) {
            if !same_as.contains(&other) {
                same_as.push(other);
            }
        }
    }
    Ok(Agent {
        kind: agent_type(&types),
        id: agent.as_str().to_owned(),
        name,
        url,
        same_as,
    })
}

/// `Person`, `Organization` (for any organisation type), or else the first schema.org type the
/// agent has (`Thing` when it has none).
fn agent_type(types: &[NamedNode]) -> String {
    let local: Vec<&str> = types
        .iter()
        .filter_map(|t| t.as_str().strip_prefix(SCHEMA))
        .collect();
    if local.contains(&"Person") {
        "Person".to_owned()
    } else if local.iter().any(|t| ORGANIZATIONS.contains(t)) {
        "Organization".to_owned()
    } else {
        local.first().copied().unwrap_or("Thing").to_owned()
    }
}
