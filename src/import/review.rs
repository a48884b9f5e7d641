//! One item of a ClaimReview file to the reviews it holds: JSON-LD read as RDF (schema.org's
//! context known locally, no other remote context fetched), the Fact Check Tools API's entries
//! read by their field names; every review checked before it is accepted.
//!
//! Invariant: a review is accepted whole or skipped whole, with a reason a person can act on;
//! nothing is guessed (a missing field stays missing).

use super::feed::Item;
use crate::vocab::{RDF_TYPE, SCHEMA};
use oxigraph::io::{JsonLdProfileSet, RdfFormat, RdfParser};
use oxigraph::model::{NamedOrBlankNode, Term};
use serde_json::Value;
use std::collections::HashMap;

/// A review as read, before it becomes RDF.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Where the review is published (required; what its IRI is derived from).
    pub url: String,
    pub claim_reviewed: String,
    pub date: Option<String>,
    pub language: Option<String>,
    pub author: Option<Agent>,
    pub rating: Rating,
    pub claimant: Option<Agent>,
    pub claim_date: Option<String>,
    /// Where the claim appeared, the first appearance included, in file order.
    pub appearances: Vec<Work>,
    pub first_appearance: Option<Work>,
    pub license: Option<String>,
    pub sd_publisher: Option<Agent>,
}

/// A person or organisation, as much as the item says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Agent {
    pub name: Option<String>,
    pub url: Option<String>,
    /// `Person` or `Organization` when the item says so.
    pub kind: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rating {
    /// The verdict as the fact-checker words it (`alternateName`, else `name`).
    pub label: Option<String>,
    /// Lexical forms of the numbers, as given.
    pub value: Option<String>,
    pub best: Option<String>,
    pub worst: Option<String>,
}

/// A document a claim appeared in, known by its address only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Work {
    pub url: String,
    /// `NewsArticle` when the item says so, else `CreativeWork`.
    pub kind: &'static str,
}

/// The reviews of an item, or why it is skipped.
pub fn reviews(item: &Item) -> Result<Vec<Review>, String> {
    match item {
        Item::Unreadable(why) => Err(why.clone()),
        Item::Api(value) => api_reviews(value),
        Item::JsonLd(value) => json_ld_reviews(value),
    }
}

fn json_ld_reviews(value: &Value) -> Result<Vec<Review>, String> {
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let mut graph = Graph::default();
    let parser = RdfParser::from_format(RdfFormat::JsonLd {
        profile: JsonLdProfileSet::empty(),
    })
    .for_slice(&bytes)
    .with_document_loader(crate::entities::schema_context_only);
    for quad in parser {
        let quad = quad.map_err(|e| format!("not valid JSON-LD: {e}"))?;
        graph
            .about
            .entry(quad.subject.clone())
            .or_default()
            .push((quad.predicate.as_str().to_owned(), quad.object));
    }
    let claim_review = Term::NamedNode(oxigraph::model::NamedNode::new_unchecked(format!(
        "{SCHEMA}ClaimReview"
    )));
    let mut found: Vec<&NamedOrBlankNode> = graph
        .about
        .iter()
        .filter(|(_, values)| {
            values
                .iter()
                .any(|(p, o)| p == RDF_TYPE && *o == claim_review)
        })
        .map(|(s, _)| s)
        .collect();
    if found.is_empty() {
        return Err(if value.get("@context").is_none() {
            "no ClaimReview in it: it has no @context, so none of its terms are schema.org's".into()
        } else {
            "no ClaimReview in it (no node of @type ClaimReview)".into()
        });
    }
    found.sort_by_key(|s| s.to_string());
    found
        .iter()
        .map(|r| graph.review(r))
        .collect::<Result<_, _>>()
        .map_err(|why| {
            // JSON-LD drops an address it cannot read as an IRI ("url": "not a url"): say so
            // rather than that there is none.
            let mut urls = Vec::new();
            review_urls(value, &mut urls);
            urls.iter()
                .find_map(|u| checked_url(u, "its url").err())
                .filter(|_| why.starts_with("no url"))
                .unwrap_or(why)
        })
}

/// The `url` strings of the objects typed `ClaimReview` in an item, as written.
fn review_urls<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if object.get("@type").and_then(Value::as_str) == Some("ClaimReview") {
                out.extend(object.get("url").and_then(Value::as_str));
            }
            object.values().for_each(|v| review_urls(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| review_urls(v, out)),
        _ => {}
    }
}

/// An item's triples by subject.
#[derive(Default)]
struct Graph {
    about: HashMap<NamedOrBlankNode, Vec<(String, Term)>>,
}

impl Graph {
    fn values<'a>(&'a self, node: &Term, local: &'a str) -> impl Iterator<Item = &'a Term> + 'a {
        let subject = match node {
            Term::NamedNode(n) => Some(NamedOrBlankNode::from(n.clone())),
            Term::BlankNode(b) => Some(NamedOrBlankNode::from(b.clone())),
            _ => None,
        };
        subject
            .and_then(|s| self.about.get(&s))
            .into_iter()
            .flatten()
            .filter(move |(p, _)| p.strip_prefix(SCHEMA) == Some(local))
            .map(|(_, o)| o)
    }

    fn text(&self, node: &Term, local: &str) -> Option<String> {
        self.values(node, local).find_map(|o| match o {
            Term::Literal(l) => Some(clean(l.value())),
            Term::NamedNode(n) => Some(n.as_str().to_owned()),
            _ => None,
        })
    }

    fn is(&self, node: &Term, kind: &str) -> bool {
        let subject = match node {
            Term::NamedNode(n) => NamedOrBlankNode::from(n.clone()),
            Term::BlankNode(b) => NamedOrBlankNode::from(b.clone()),
            _ => return false,
        };
        self.about.get(&subject).is_some_and(|values| {
            values.iter().any(|(p, o)| {
                p == RDF_TYPE
                    && matches!(o, Term::NamedNode(t) if t.as_str().strip_prefix(SCHEMA) == Some(kind))
            })
        })
    }

    /// An address: a string, a node's `url`, or else the node's IRI (a node with an `@id`
    /// and a `url`, as our own feed writes documents, is at its `url`).
    fn address(&self, value: &Term) -> Option<String> {
        match value {
            Term::Literal(l) => Some(clean(l.value())),
            node => self.text(node, "url").or(match node {
                Term::NamedNode(n) => Some(n.as_str().to_owned()),
                _ => None,
            }),
        }
    }

    fn agent(&self, value: &Term) -> Agent {
        match value {
            Term::Literal(l) => Agent {
                name: Some(clean(l.value())),
                url: None,
                kind: None,
            },
            _ => {
                let kind = if self.is(value, "Person") {
                    Some("Person")
                } else if self.is(value, "Organization") || self.is(value, "NewsMediaOrganization")
                {
                    Some("Organization")
                } else {
                    None
                };
                Agent {
                    name: self.text(value, "name"),
                    url: self
                        .values(value, "url")
                        .find_map(|u| self.address(u))
                        .or(match value {
                            Term::NamedNode(n) if self.text(value, "name").is_none() => {
                                Some(n.as_str().to_owned())
                            }
                            _ => None,
                        }),
                    kind,
                }
            }
        }
    }

    fn work(&self, value: &Term) -> Result<Work, String> {
        let url = self
            .address(value)
            .ok_or("an appearance has no url".to_owned())?;
        Ok(Work {
            url: checked_url(&url, "an appearance's url")?,
            kind: if self.is(value, "NewsArticle") {
                "NewsArticle"
            } else {
                "CreativeWork"
            },
        })
    }

    fn review(&self, review: &NamedOrBlankNode) -> Result<Review, String> {
        let node = Term::from(review.clone());
        let claim_reviewed = self
            .text(&node, "claimReviewed")
            .filter(|t| !t.is_empty())
            .ok_or("no claimReviewed (what claim it reviews)")?;
        let url = self
            .values(&node, "url")
            .find_map(|u| self.address(u))
            .ok_or("no url (where the review is published)")?;
        let url = checked_url(&url, "its url")?;
        let rating = self
            .values(&node, "reviewRating")
            .next()
            .ok_or("no reviewRating (the verdict)")?;
        let rating = Rating {
            label: self
                .text(rating, "alternateName")
                .or_else(|| self.text(rating, "name"))
                .filter(|t| !t.is_empty()),
            value: self.text(rating, "ratingValue"),
            best: self.text(rating, "bestRating"),
            worst: self.text(rating, "worstRating"),
        };
        check_rating(&rating)?;
        let item = self.values(&node, "itemReviewed").next();
        let mut appearances = Vec::new();
        let mut first_appearance = None;
        let mut claimant = None;
        let mut claim_date = None;
        if let Some(item) = item {
            claimant = self.values(item, "author").next().map(|a| self.agent(a));
            claim_date = self.text(item, "datePublished");
            if let Some(first) = self.values(item, "firstAppearance").next() {
                first_appearance = Some(self.work(first)?);
            }
            let mut listed: Vec<Work> = self
                .values(item, "appearance")
                .map(|a| self.work(a))
                .collect::<Result<_, _>>()?;
            listed.sort_by(|a, b| a.url.cmp(&b.url));
            appearances.extend(first_appearance.clone());
            for work in listed {
                if !appearances.iter().any(|w| w.url == work.url) {
                    appearances.push(work);
                }
            }
        }
        let license = match self
            .values(&node, "sdLicense")
            .find_map(|l| self.address(l))
        {
            Some(l) => Some(checked_url(&l, "its sdLicense")?),
            None => None,
        };
        Ok(Review {
            url,
            claim_reviewed,
            date: self.text(&node, "datePublished"),
            language: self.values(&node, "inLanguage").find_map(|l| match l {
                Term::Literal(l) => Some(clean(l.value())),
                other => self.text(other, "alternateName"),
            }),
            author: self.values(&node, "author").next().map(|a| self.agent(a)),
            rating,
            claimant,
            claim_date,
            appearances,
            first_appearance,
            license,
            sd_publisher: self
                .values(&node, "sdPublisher")
                .next()
                .map(|a| self.agent(a)),
        })
    }
}

/// Whitespace runs as one space, trimmed (feeds carry line breaks and doubled spaces).
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An absolute http(s) URL that is a valid IRI.
fn checked_url(url: &str, what: &str) -> Result<String, String> {
    let url = url.trim();
    let web = url.starts_with("https://") || url.starts_with("http://");
    if web && oxigraph::model::NamedNode::new(url).is_ok() && url.len() > "https://".len() {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "{what} {url:?} is not a URL (an absolute http or https address)"
        ))
    }
}

/// The numbers of a rating are numbers, and the value lies between the worst and best.
fn check_rating(rating: &Rating) -> Result<(), String> {
    let number = |field: &str, value: &Option<String>| -> Result<Option<f64>, String> {
        value
            .as_ref()
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or(format!("its {field} {v:?} is not a number"))
            })
            .transpose()
    };
    let value = number("ratingValue", &rating.value)?;
    let best = number("bestRating", &rating.best)?;
    let worst = number("worstRating", &rating.worst)?;
    if let (Some(value), Some(best), Some(worst)) = (value, best, worst) {
        let (low, high) = (worst.min(best), worst.max(best));
        if value < low || value > high {
            return Err(format!(
                "its ratingValue {value} is outside worstRating {worst} .. bestRating {best}"
            ));
        }
    }
    if rating.label.is_none() && value.is_none() {
        return Err("its reviewRating has neither a label (alternateName) nor a value".into());
    }
    Ok(())
}

/// An entry of the Fact Check Tools API's `claims:search` answer: one review per
/// `claimReview[]`.
fn api_reviews(claim: &Value) -> Result<Vec<Review>, String> {
    let text = |value: &Value, key: &str| -> Option<String> {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(clean)
            .filter(|t| !t.is_empty())
    };
    if !claim.is_object() {
        return Err("not a JSON object".into());
    }
    let claim_reviewed = text(claim, "text").ok_or("no text (what claim it reviews)")?;
    let reviews = claim
        .get("claimReview")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or("no claimReview")?;
    let claimant = text(claim, "claimant").map(|name| Agent {
        name: Some(name),
        url: None,
        kind: None,
    });
    reviews
        .iter()
        .enumerate()
        .map(|(j, review)| {
            let at = |why: String| format!("claimReview[{j}]: {why}");
            let url = text(review, "url").ok_or(at("no url".into()))?;
            let url = checked_url(&url, "its url").map_err(at)?;
            let label = text(review, "textualRating");
            let rating = Rating {
                label: label.clone(),
                ..Rating::default()
            };
            check_rating(&rating).map_err(at)?;
            let publisher = review.get("publisher");
            Ok(Review {
                url,
                claim_reviewed: claim_reviewed.clone(),
                date: text(review, "reviewDate"),
                language: text(review, "languageCode"),
                author: publisher.map(|p| Agent {
                    name: text(p, "name"),
                    url: None,
                    kind: Some("Organization"),
                }),
                rating,
                claimant: claimant.clone(),
                claim_date: text(claim, "claimDate"),
                appearances: Vec::new(),
                first_appearance: None,
                license: None,
                sd_publisher: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(value: Value) -> Result<Review, String> {
        reviews(&Item::JsonLd(value)).map(|mut r| r.remove(0))
    }

    fn review() -> Value {
        json!({"@context": "https://schema.org", "@type": "ClaimReview",
            "url": "https://check.example/1", "claimReviewed": "The  river\nran dry",
            "datePublished": "2024-05-01",
            "author": {"@type": "Organization", "name": "Check", "url": "https://check.example"},
            "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1,
                             "alternateName": "False"},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Mayor"},
                "appearance": [{"@type": "CreativeWork", "url": "https://b.example/2"},
                               "https://a.example/1"],
                "firstAppearance": {"@type": "NewsArticle", "url": "https://c.example/3"}}})
    }

    #[test]
    fn a_review_is_read_as_json_ld() {
        let r = one(review()).unwrap();
        assert_eq!(r.claim_reviewed, "The river ran dry");
        assert_eq!(r.rating.value.as_deref(), Some("1"));
        assert_eq!(r.author.unwrap().kind, Some("Organization"));
        assert_eq!(r.claimant.unwrap().name.as_deref(), Some("A. Mayor"));
        let urls: Vec<&str> = r.appearances.iter().map(|w| w.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://c.example/3",
                "https://a.example/1",
                "https://b.example/2"
            ]
        );
        assert_eq!(r.appearances[0].kind, "NewsArticle");
    }

    #[test]
    fn bad_reviews_are_skipped_with_a_reason() {
        let mut without = review();
        without.as_object_mut().unwrap().remove("claimReviewed");
        assert!(one(without).unwrap_err().contains("no claimReviewed"));
        let mut out_of_range = review();
        out_of_range["reviewRating"]["ratingValue"] = json!(7);
        assert!(one(out_of_range).unwrap_err().contains("outside"));
        let mut not_url = review();
        not_url["url"] = json!("not a url");
        let error = one(not_url).unwrap_err();
        assert!(error.contains("\"not a url\" is not a URL"), "{error}");
        let mut elsewhere = review();
        elsewhere["@context"] = json!("https://evil.example/context.jsonld");
        assert!(one(elsewhere).unwrap_err().contains("evil.example"));
    }

    #[test]
    fn api_entries_give_one_review_per_checker() {
        let claim = json!({"text": "Tap water is unsafe", "claimant": "a post",
            "claimReview": [
                {"publisher": {"name": "A", "site": "a.example"}, "url": "https://a.example/1",
                 "textualRating": "Falso", "languageCode": "es"},
                {"publisher": {"name": "B"}, "url": "https://b.example/1", "textualRating": "False"}]});
        let r = reviews(&Item::Api(claim)).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].language.as_deref(), Some("es"));
        assert_eq!(
            r[1].claimant.as_ref().unwrap().name.as_deref(),
            Some("a post")
        );
    }
}
