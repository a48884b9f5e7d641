//! The fact-checker's library of questions (`queries/*.rq`). Each stays plain SPARQL for any
//! client; the whole-store ones that Oxigraph answers slowly at scale (counting, or sorting,
//! every claim) are also answered from the claims index, with the same rows: `/questions/NAME`
//! serves the index's answer where there is one, the SPARQL's otherwise.
//!
//! Invariants: an answer from the index has the query's variables and, as a multiset, its rows
//! (tests compare the two on a generated corpus), in the order its `ORDER BY` asks; rows are
//! written as they are found, so the first arrives before the last is read.

use crate::error::{Error, Result};
use crate::index::document::{term, Appearances, Recorded};
use crate::store::ClaimStore;
use crate::vocab;
use oxigraph::model::{Literal, NamedNode, NamedOrBlankNode, Term, TermRef, Variable};
use oxigraph::sparql::results::{QueryResultsFormat, QueryResultsSerializer};
use oxigraph::sparql::CancellationToken;
use std::io::Write;

/// A question of the library.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub name: &'static str,
    pub sparql: &'static str,
    /// Whether `/questions/NAME` answers it from the claims index.
    pub from_index: bool,
}

macro_rules! question {
    ($name:literal, $from_index:literal) => {
        Question {
            name: $name,
            sparql: include_str!(concat!("../queries/", $name, ".rq")),
            from_index: $from_index,
        }
    };
}

/// Every question of `queries/`, by name.
pub const LIBRARY: &[Question] = &[
    question!("appearances", true),
    question!("asserted-about-netflix", false),
    question!("assertion-hashes", true),
    question!("claim-chains", true),
    question!("claims-by-status", true),
    question!("claims-resting-on-allegations", true),
    question!("claims-without-primary-source", true),
    question!("denials", true),
    question!("documents", true),
    question!("money-amounts", false),
    question!("reviews", true),
    question!("source-chains", true),
];

impl Question {
    pub fn find(name: &str) -> Option<&'static Question> {
        LIBRARY.iter().find(|q| q.name == name)
    }

    /// The question in words: the `# Question:` comment it starts with.
    pub fn title(&self) -> String {
        let mut words = Vec::new();
        for line in self.sparql.lines() {
            let Some(comment) = line.strip_prefix('#') else {
                break;
            };
            let comment = comment.trim();
            if comment.starts_with('(') && !words.is_empty() {
                break;
            }
            words.push(comment.strip_prefix("Question:").unwrap_or(comment).trim());
        }
        words.join(" ")
    }
}

/// Writes the answer to `question` from the claims index, as `format` results, to `out`; past
/// `max_rows` rows it fails with a [`crate::store::ResultCap`] (never a truncated answer).
/// `Error::NotFound` if the index does not answer it (its SPARQL does).
pub fn answer_from_index(
    store: &ClaimStore,
    question: &Question,
    format: QueryResultsFormat,
    cancel: &CancellationToken,
    max_rows: Option<u64>,
    out: &mut dyn Write,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("writing an answer", e);
    let variables: Vec<Variable> = match question.name {
        "claims-by-status" => vars(&["status", "label", "claims"]),
        "claims-resting-on-allegations" => vars(&["claim", "claimant", "primary", "text"]),
        "assertion-hashes" => vars(&["claim", "assertion", "hash"]),
        "claims-without-primary-source" => vars(&["claim", "text"]),
        "claim-chains" => vars(&["claim", "document", "primary", "hops"]),
        "denials" => vars(&[
            "denial",
            "denier",
            "denialText",
            "disputed",
            "disputedStatus",
        ]),
        "appearances" => vars(&[
            "claim",
            "appearance",
            "document",
            "exact",
            "start",
            "end",
            "text",
            "textSha256",
        ]),
        "documents" => vars(&["document", "kind", "date", "publisher", "textSha256"]),
        "source-chains" => vars(&["document", "upstream", "hops"]),
        "reviews" => vars(&[
            "review",
            "claim",
            "label",
            "value",
            "best",
            "worst",
            "author",
            "date",
            "evidences",
        ]),
        other => {
            return Err(Error::NotFound(format!(
                "the question {other:?} is answered by its SPARQL, not from the index"
            )))
        }
    };
    let mut writer = QueryResultsSerializer::from_format(format)
        .serialize_solutions_to_writer(crate::store::WriteBuffer::new(out), variables.clone())
        .map_err(io)?;
    let mut rows = 0u64;
    let mut row = |values: &[Option<TermRef<'_>>]| -> Result<()> {
        if cancel.is_cancelled() {
            return Err(Error::Evaluation(
                oxigraph::sparql::QueryEvaluationError::Cancelled,
            ));
        }
        rows += 1;
        if let Some(max) = max_rows.filter(|max| rows > *max) {
            return Err(io(std::io::Error::other(crate::store::ResultCap(format!(
                "the answer has more than {max} rows, the limit of this server \
                 (--max-result-rows)"
            )))));
        }
        writer
            .serialize(
                variables
                    .iter()
                    .zip(values)
                    .filter_map(|(v, t)| t.map(|t| (v.as_ref(), t))),
            )
            .map_err(io)
    };
    match question.name {
        "claims-by-status" => claims_by_status(store, &mut row)?,
        "claims-resting-on-allegations" => resting_on_allegations(store, &mut row)?,
        "claim-chains" => claim_chains(store, &mut row)?,
        "assertion-hashes" => assertion_hashes(store, &mut row)?,
        "claims-without-primary-source" => without_primary_source(store, &mut row)?,
        "denials" => denials(store, &mut row)?,
        "appearances" => appearances(store, &mut row)?,
        _ => resource_rows(store, question.name, &mut row)?,
    }
    writer.finish().map_err(io)?.into_inner().map_err(io)?;
    Ok(())
}

/// Where an answer's rows go, one at a time: each value bound or not, in the order of its variables.
type Row<'r> = dyn FnMut(&[Option<TermRef<'_>>]) -> Result<()> + 'r;

fn vars(names: &[&str]) -> Vec<Variable> {
    names.iter().map(|n| Variable::new_unchecked(*n)).collect()
}

fn terms<'a>(texts: &[&'a str]) -> Result<Vec<Recorded<'a>>> {
    texts.iter().map(|t| term(t)).collect()
}

/// The values of a `OPTIONAL { … }` with one variable: each value, or one unbound row.
fn optional<T>(values: Vec<T>) -> Vec<Option<T>> {
    if values.is_empty() {
        vec![None]
    } else {
        values.into_iter().map(Some).collect()
    }
}

/// A value of `optional`, as a row holds it.
fn bound<'a>(value: &'a Option<Recorded<'_>>) -> Option<TermRef<'a>> {
    value.as_ref().map(Recorded::as_ref)
}

/// `claims-by-status`: the index's counts by status, with each status's English labels.
fn claims_by_status(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    let mut counts: Vec<(NamedNode, u64)> = store
        .index()
        .status_counts()?
        .into_iter()
        .filter_map(|(status, n)| {
            let iri = if status.contains(':') {
                status
            } else {
                format!("{}{status}", vocab::CG)
            };
            NamedNode::new(iri).ok().map(|iri| (iri, n))
        })
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
    let pref_label = NamedNode::new_unchecked(vocab::SKOS_PREF_LABEL);
    for (status, n) in counts {
        let subject: NamedOrBlankNode = status.clone().into();
        let mut labels = Vec::new();
        for quad in store.quads_matching(Some(&subject), Some(&pref_label), None, None) {
            if let Term::Literal(l) = quad?.object {
                if l.language()
                    .is_some_and(|lang| lang.eq_ignore_ascii_case("en"))
                {
                    labels.push(Term::from(l));
                }
            }
        }
        labels.sort_by_key(ToString::to_string);
        labels.dedup();
        let count = Literal::from(n as i64);
        for label in optional(labels) {
            row(&[
                Some(status.as_ref().into()),
                label.as_ref().map(Term::as_ref),
                Some(count.as_ref().into()),
            ])?;
        }
    }
    Ok(())
}

/// `claims-resting-on-allegations`: alleged claims no adjudicated, settled or public-record claim
/// shares a content triple with, in claim order.
fn resting_on_allegations(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store.index().each_record(
        Some(crate::index::search::Only::RestingOnAllegations),
        Appearances::Skipped,
        |record| {
            // The query asks for a content graph, a text and a claimant's name.
            if record.assertions.is_empty() {
                return Ok(());
            }
            let claim = term(record.claim)?;
            let names = terms(&record.claimant_names)?;
            let texts = terms(&record.texts)?;
            let primaries = optional(terms(&record.primaries)?);
            for name in &names {
                for primary in &primaries {
                    for text in &texts {
                        row(&[
                            Some(claim.as_ref()),
                            Some(name.as_ref()),
                            bound(primary),
                            Some(text.as_ref()),
                        ])?;
                    }
                }
            }
            Ok(())
        },
    )
}

/// `assertion-hashes`: every claim with its assertion graphs and recorded hashes.
fn assertion_hashes(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store
        .index()
        .each_record(None, Appearances::Skipped, |record| {
            let claim = term(record.claim)?;
            let hashes = optional(terms(&record.hashes)?);
            for assertion in optional(terms(&record.assertions)?) {
                for hash in &hashes {
                    row(&[Some(claim.as_ref()), bound(&assertion), bound(hash)])?;
                }
            }
            Ok(())
        })
}

/// `claims-without-primary-source`: claims with a text and no primary source.
fn without_primary_source(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store.index().each_record(
        Some(crate::index::search::Only::WithoutPrimarySource),
        Appearances::Skipped,
        |record| {
            let claim = term(record.claim)?;
            for text in terms(&record.texts)? {
                row(&[Some(claim.as_ref()), Some(text.as_ref())])?;
            }
            Ok(())
        },
    )
}

/// `claim-chains`: for each claim, each document it appears in that derives (in zero or more
/// steps) from each of its primary sources, with the number of documents on the way, as the
/// index recorded them when it read the claim.
fn claim_chains(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store
        .index()
        .each_record(None, Appearances::Skipped, |record| {
            if record.chains.is_empty() {
                return Ok(());
            }
            let claim = term(record.claim)?;
            for (document, primary, hops) in &record.chains {
                row(&[
                    Some(claim.as_ref()),
                    Some(term(document)?.as_ref()),
                    Some(term(primary)?.as_ref()),
                    Some(Literal::from(*hops as i64).as_ref().into()),
                ])?;
            }
            Ok(())
        })
}

/// `denials`: each denied claim with its claimants' names and texts, for each claim it disputes
/// and each status of that claim, by denial and disputed claim.
fn denials(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store.index().each_record(
        Some(crate::index::search::Only::Denied),
        Appearances::Skipped,
        |record| {
            if record.disputes.is_empty() {
                return Ok(());
            }
            let denial = term(record.claim)?;
            let names = terms(&record.claimant_names)?;
            let texts = terms(&record.texts)?;
            for (disputed, statuses) in &record.disputes {
                let disputed = term(disputed)?;
                for status in terms(statuses)? {
                    for name in &names {
                        for text in &texts {
                            row(&[
                                Some(denial.as_ref()),
                                Some(name.as_ref()),
                                Some(text.as_ref()),
                                Some(disputed.as_ref()),
                                Some(status.as_ref()),
                            ])?;
                        }
                    }
                }
            }
            Ok(())
        },
    )
}

/// `appearances`: every appearance of every claim, with its quote, offsets and archived text,
/// by claim and appearance.
fn appearances(store: &ClaimStore, row: &mut Row<'_>) -> Result<()> {
    store
        .index()
        .each_record(None, Appearances::Read, |record| {
            let claim = term(record.claim)?;
            for appearance in &record.appearances {
                let node = term(appearance.appearance)?;
                let exacts = optional(terms(&appearance.exacts)?);
                let starts = optional(terms(&appearance.starts)?);
                let ends = optional(terms(&appearance.ends)?);
                for (i, document) in terms(&appearance.documents)?.into_iter().enumerate() {
                    let (archived, hashes) = appearance.archived.get(i).ok_or_else(|| {
                        Error::Internal(format!(
                            "the claims index has no archived texts for {} of {}",
                            document.as_ref(),
                            record.claim
                        ))
                    })?;
                    let (archived, hashes) = (optional(terms(archived)?), optional(terms(hashes)?));
                    for exact in &exacts {
                        for start in &starts {
                            for end in &ends {
                                for text in &archived {
                                    for hash in &hashes {
                                        row(&[
                                            Some(claim.as_ref()),
                                            Some(node.as_ref()),
                                            Some(document.as_ref()),
                                            bound(exact),
                                            bound(start),
                                            bound(end),
                                            bound(text),
                                            bound(hash),
                                        ])?;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Ok(())
        })
}

/// Whether `/questions/NAME` answers `question` from the index now: a question about documents
/// or reviews is answered by its SPARQL while the store holds a date the index cannot order.
pub fn answered_from_index(store: &ClaimStore, question: &Question) -> Result<bool> {
    Ok(question.from_index
        && match question.name {
            "documents" | "source-chains" | "reviews" => {
                store.index().resource_records_ordered(question.name)?
            }
            _ => true,
        })
}

/// `documents`, `source-chains` and `reviews`: the rows of each record of documents and reviews
/// the index keeps in the question's order (`index::resources`).
fn resource_rows(store: &ClaimStore, question: &str, row: &mut Row<'_>) -> Result<()> {
    let visited = store.index().each_resource_record(question, |record| {
        let lines = &record.lines;
        let resource = term(lines[0])?;
        let bad = || Error::Internal(format!("a bad record of {question} for {}", lines[0]));
        match question {
            "documents" => {
                let date = match lines.get(1).copied().ok_or_else(bad)? {
                    "" => None,
                    date => Some(term(date)?),
                };
                let lists = record.lists(2)?;
                let [kinds, publishers, hashes] = lists.as_slice() else {
                    return Err(bad());
                };
                let (publishers, hashes) = (optional(terms(publishers)?), optional(terms(hashes)?));
                for kind in terms(kinds)? {
                    for publisher in &publishers {
                        for hash in &hashes {
                            row(&[
                                Some(resource.as_ref()),
                                Some(kind.as_ref()),
                                bound(&date),
                                bound(publisher),
                                bound(hash),
                            ])?;
                        }
                    }
                }
            }
            "source-chains" => {
                for pair in lines[1..].chunks(2) {
                    let [upstream, hops] = pair else {
                        return Err(bad());
                    };
                    let hops: i64 = hops.parse().map_err(|_| bad())?;
                    row(&[
                        Some(resource.as_ref()),
                        Some(term(upstream)?.as_ref()),
                        Some(Literal::from(hops).as_ref().into()),
                    ])?;
                }
            }
            _ => {
                let date = term(lines.get(1).copied().ok_or_else(bad)?)?;
                for group in lines[2..].chunks(7) {
                    let [claim, label, value, best, worst, author, evidences] = group else {
                        return Err(bad());
                    };
                    let values = terms(&[claim, label, value, best, worst, author])?;
                    let evidences = match *evidences {
                        "" => None,
                        evidences => Some(term(evidences)?),
                    };
                    row(&[
                        Some(resource.as_ref()),
                        Some(values[0].as_ref()),
                        Some(values[1].as_ref()),
                        Some(values[2].as_ref()),
                        Some(values[3].as_ref()),
                        Some(values[4].as_ref()),
                        Some(values[5].as_ref()),
                        Some(date.as_ref()),
                        bound(&evidences),
                    ])?;
                }
            }
        }
        Ok(())
    })?;
    visited.ok_or_else(|| {
        Error::Unavailable(format!(
            "a write gave {question} a date the index cannot order while it was asked; ask again"
        ))
    })
}
