//! What the graph knows, read from claim sheets; and the evaluation of drafting against a
//! hand-made sheet (`claimgraph draft --evaluate SHEET`).
//!
//! Invariant: evaluation drafts only texts the sheet archives, with the sheet's own claims and
//! appearances hidden from the drafter (its sources and entities stay known, as a curator's
//! would), so no figure is measured on the answers.

use super::matcher::KnownClaim;
use super::mentions::KnownEntity;
use super::{draft, Article, Draft, Known, KnownSource, Upstream};
use crate::claims::sheet::Sheet;
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What `sheets` describe, without the claims (and appearances) of the sheets `hidden` names.
pub fn known_from_sheets(sheets: &[Sheet], hidden: &BTreeSet<String>) -> Known {
    let mut entities = Vec::new();
    let mut sources = Vec::new();
    let mut keys = BTreeSet::new();
    let mut claims: BTreeMap<String, KnownClaim> = BTreeMap::new();
    let mut extra_quotes: Vec<(String, String)> = Vec::new();
    for sheet in sheets {
        let file = &sheet.file;
        for e in &file.entities {
            keys.insert(e.key.get_ref().clone());
            entities.push(KnownEntity {
                key: e.key.get_ref().clone(),
                name: e.name.clone(),
                kind: e.kind.get_ref().clone(),
            });
        }
        for s in &file.sources {
            keys.insert(s.key.get_ref().clone());
            sources.push(KnownSource {
                key: s.key.get_ref().clone(),
                publisher: s.publisher.as_ref().map(|p| p.get_ref().clone()),
            });
        }
        for r in &file.reviews {
            keys.insert(r.key.get_ref().clone());
        }
        for c in &file.claims {
            keys.insert(c.key.get_ref().clone());
        }
        if hidden.contains(&sheet.id()) {
            continue;
        }
        for c in &file.claims {
            claims.insert(
                c.key.get_ref().clone(),
                KnownClaim {
                    key: c.key.get_ref().clone(),
                    text: c.text.clone(),
                    quotes: c
                        .appearances
                        .iter()
                        .map(|a| a.quote.get_ref().clone())
                        .collect(),
                    status: c.status.get_ref().clone(),
                    claimant: c.claimant.get_ref().clone(),
                },
            );
        }
        for a in &file.appearances {
            extra_quotes.push((a.claim.get_ref().clone(), a.quote.get_ref().clone()));
        }
    }
    for (claim, quote) in extra_quotes {
        if let Some(c) = claims.get_mut(&claim) {
            c.quotes.push(quote);
        }
    }
    Known::new(entities, claims.into_values().collect(), sources, keys)
}

/// One thing the sheet says the text claims: a claim of its own or an appearance of a known one.
#[derive(Debug, Clone)]
struct Truth {
    claim: String,
    status: String,
    claimant: String,
    /// Code point ranges of its quotes in this text.
    quotes: Vec<(usize, usize)>,
    /// Whether it restates a claim of another sheet (the drafter should link it).
    restated: bool,
}

/// Figures for one sheet (all its archived texts together).
#[derive(Debug, Default, Serialize)]
pub struct Figures {
    pub sheet: String,
    pub true_claims: usize,
    pub found: usize,
    pub candidates: usize,
    pub correct_candidates: usize,
    pub status_right: usize,
    pub claimant_right: usize,
    pub most_candidates_per_claim: usize,
    /// Found claims whose best candidate's top match is that claim, when the claim was known.
    pub linked_right: usize,
    pub linkable: usize,
}

impl Figures {
    fn ratio(a: usize, b: usize) -> f64 {
        if b == 0 {
            1.0
        } else {
            a as f64 / b as f64
        }
    }
    pub fn recall(&self) -> f64 {
        Self::ratio(self.found, self.true_claims)
    }
    pub fn precision(&self) -> f64 {
        Self::ratio(self.correct_candidates, self.candidates)
    }
    pub fn status_accuracy(&self) -> f64 {
        Self::ratio(self.status_right, self.found)
    }
    pub fn claimant_accuracy(&self) -> f64 {
        Self::ratio(self.claimant_right, self.found)
    }
    pub fn linking(&self) -> f64 {
        Self::ratio(self.linked_right, self.linkable)
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        writeln!(f, "{}", self.sheet)?;
        writeln!(
            f,
            "  recall             {} ({} of {} claims)",
            pct(self.recall()),
            self.found,
            self.true_claims
        )?;
        writeln!(
            f,
            "  precision          {} ({} of {} candidates)",
            pct(self.precision()),
            self.correct_candidates,
            self.candidates
        )?;
        writeln!(
            f,
            "  status accuracy    {} ({} of {} found)",
            pct(self.status_accuracy()),
            self.status_right,
            self.found
        )?;
        writeln!(
            f,
            "  claimant accuracy  {} ({} of {} found)",
            pct(self.claimant_accuracy()),
            self.claimant_right,
            self.found
        )?;
        writeln!(
            f,
            "  candidates/claim   at most {}",
            self.most_candidates_per_claim
        )?;
        write!(
            f,
            "  linking            {} ({} of {} found claims known elsewhere)",
            pct(self.linking()),
            self.linked_right,
            self.linkable
        )
    }
}

fn overlap(a: (usize, usize), b: (usize, usize)) -> usize {
    a.1.min(b.1).saturating_sub(a.0.max(b.0))
}

/// Drafts every archived text of the sheet at `index` of `sheets` twice: with the sheet's claims
/// hidden (recall, precision, status, claimant; linking of its appearances of other sheets'
/// claims), and with them known (linking of its own claims).
pub fn evaluate(sheets: &[Sheet], index: usize) -> Result<Figures> {
    let sheet = &sheets[index];
    let hidden: BTreeSet<String> = [sheet.id()].into();
    let blind = known_from_sheets(sheets, &hidden);
    let seeing = known_from_sheets(sheets, &BTreeSet::new());
    let claim_info: BTreeMap<String, (String, String)> = sheets
        .iter()
        .flat_map(|s| &s.file.claims)
        .map(|c| {
            (
                c.key.get_ref().clone(),
                (c.status.get_ref().clone(), c.claimant.get_ref().clone()),
            )
        })
        .collect();
    let mut figures = Figures {
        sheet: sheet.path.display().to_string(),
        ..Figures::default()
    };
    for source in &sheet.file.sources {
        let Some(text_path) = &source.text else {
            continue;
        };
        let path = sheet.dir().join(text_path.get_ref());
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let key = source.key.get_ref();
        let mut truths: Vec<Truth> = Vec::new();
        let locate = |quote: &str, occurrence: Option<u32>| {
            crate::claims::anchor::anchor(&text, quote, occurrence)
                .ok()
                .map(|a| (a.start, a.end))
        };
        for c in &sheet.file.claims {
            let quotes: Vec<(usize, usize)> = c
                .appearances
                .iter()
                .filter(|a| a.source.get_ref() == key)
                .filter_map(|a| {
                    locate(
                        a.quote.get_ref(),
                        a.occurrence.as_ref().map(|o| *o.get_ref()),
                    )
                })
                .collect();
            if !quotes.is_empty() {
                truths.push(Truth {
                    claim: c.key.get_ref().clone(),
                    status: c.status.get_ref().clone(),
                    claimant: c.claimant.get_ref().clone(),
                    quotes,
                    restated: false,
                });
            }
        }
        for a in sheet
            .file
            .appearances
            .iter()
            .filter(|a| a.source.get_ref() == key)
        {
            let Some(quote) = locate(
                a.quote.get_ref(),
                a.occurrence.as_ref().map(|o| *o.get_ref()),
            ) else {
                continue;
            };
            let (status, claimant) = claim_info
                .get(a.claim.get_ref())
                .cloned()
                .unwrap_or_default();
            let status = a.status.as_ref().map_or(status, |s| s.get_ref().clone());
            match truths.iter_mut().find(|t| &t.claim == a.claim.get_ref()) {
                Some(t) => t.quotes.push(quote),
                None => truths.push(Truth {
                    claim: a.claim.get_ref().clone(),
                    status,
                    claimant,
                    quotes: vec![quote],
                    restated: true,
                }),
            }
        }
        let article = Article {
            key: format!("{key}-evaluated"),
            text: text.clone(),
            publisher: source
                .publisher
                .as_ref()
                .map_or_else(|| "unknown-publisher".into(), |p| p.get_ref().clone()),
            date: source
                .published
                .as_ref()
                .and_then(|d| d.get_ref().date)
                .map_or((2000, 1, 1), |d| {
                    (i32::from(d.year), u32::from(d.month), u32::from(d.day))
                }),
            title: source.headline.clone(),
            url: None,
            kind: source.kind.get_ref().clone(),
            upstream: source
                .reposts
                .first()
                .map(|k| (Upstream::Reposts, k.get_ref().clone()))
                .or_else(|| {
                    source
                        .quoted_from
                        .iter()
                        .chain(&source.derived_from)
                        .next()
                        .map(|k| (Upstream::Quotes, k.get_ref().clone()))
                }),
        };
        let blind_draft = draft(&article, &blind)?;
        let seeing_draft = draft(&article, &seeing)?;
        score(
            &mut figures,
            &truths,
            &blind_draft,
            &blind,
            Some(&seeing_draft),
        );
    }
    Ok(figures)
}

/// The status and claimant a candidate proposes: its own, or, when it is drafted as an
/// appearance of a known claim, that claim's (with the status it hardened to, which the draft
/// records on the appearance).
fn proposed(c: &super::Candidate, known: &Known) -> (String, String) {
    let claim = c
        .restates
        .as_deref()
        .and_then(|k| known.matcher.claim(k).ok().flatten());
    let Some(claim) = claim else {
        return (c.status.to_owned(), c.claimant.clone());
    };
    let hardened = c
        .matches
        .iter()
        .find(|m| m.claim == claim.key)
        .and_then(|m| m.differences.iter().find(|d| d.kind == "status"));
    let status = hardened.map_or_else(|| claim.status.clone(), |d| d.here.clone());
    (status, claim.claimant.clone())
}

/// Adds one text's figures; `known` is what the blind draft was made against.
fn score(
    figures: &mut Figures,
    truths: &[Truth],
    blind: &Draft,
    known: &Known,
    seeing: Option<&Draft>,
) {
    let span = |c: &super::Candidate| (c.start, c.end);
    // A candidate finds a truth when it covers at least half of one of its quotes.
    let finds = |c: (usize, usize), t: &Truth| {
        t.quotes
            .iter()
            .any(|q| 2 * overlap(c, *q) >= (q.1 - q.0).max(1))
    };
    let best_of = |draft: &'_ Draft, t: &Truth| -> Option<usize> {
        draft
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| finds(span(c), t))
            .max_by_key(|(i, c)| {
                let o = t
                    .quotes
                    .iter()
                    .map(|q| overlap(span(c), *q))
                    .max()
                    .unwrap_or(0);
                (o, std::cmp::Reverse(*i))
            })
            .map(|(i, _)| i)
    };
    figures.true_claims += truths.len();
    figures.candidates += blind.candidates.len();
    figures.correct_candidates += blind
        .candidates
        .iter()
        .filter(|c| {
            truths.iter().any(|t| {
                finds(span(c), t)
                    || t.quotes
                        .iter()
                        .any(|q| 2 * overlap(span(c), *q) >= (c.end - c.start).max(1))
            })
        })
        .count();
    for t in truths {
        let per_claim = blind
            .candidates
            .iter()
            .filter(|c| finds(span(c), t))
            .count();
        figures.most_candidates_per_claim = figures.most_candidates_per_claim.max(per_claim);
        let Some(best) = best_of(blind, t) else {
            continue;
        };
        let c = &blind.candidates[best];
        let (status, claimant) = proposed(c, known);
        figures.found += 1;
        figures.status_right += usize::from(status == t.status);
        figures.claimant_right += usize::from(claimant == t.claimant);
        // Linking: a restated claim is known to the blind drafter; the sheet's own claims only
        // to the seeing one.
        let (draft, index) = if t.restated {
            (blind, Some(best))
        } else {
            match seeing {
                Some(seeing) => (seeing, best_of(seeing, t)),
                None => continue,
            }
        };
        if let Some(index) = index {
            figures.linkable += 1;
            let top = draft.candidates[index]
                .matches
                .first()
                .map(|m| m.claim.as_str());
            figures.linked_right += usize::from(top == Some(t.claim.as_str()));
        }
    }
}
