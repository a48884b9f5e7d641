//! Answering from the index: ranked search with filters, facet counts and stable cursors
//! (`GET /claims`), and the candidates of a match (`/match`, `POST /drafts`).
//!
//! Invariant: read-only; a request that cannot be answered exactly (an unknown facet, a cursor of
//! another search) is an `Error::Invalid` naming it, never a partial answer.

use super::{date_number, index_error, ClaimIndex, ANALYZER};
use crate::draft::matcher::{central_cell, nearness, KnownClaim, Postings, Scored};
use crate::error::{Error, Result};
use std::ops::Bound;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, Bm25Weight, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, Term};

/// The `has` value of a claim some other fact-checker rated ([`Search::rated_elsewhere`]).
pub const RATED_ELSEWHERE: &str = "rated-elsewhere";
/// The `has` value of a claim the ClaimReview importer made: never a match candidate (a draft
/// links sentences to claims of the sheets; an import, to claims it did not bring itself).
pub const IMPORTED: &str = "imported";

/// What `facets=` may name, with the field each counts.
pub const FACETS: &[&str] = &[
    "status", "claimant", "source", "outlet", "entity", "rating", "checker",
];

/// How many of a sentence's rarest words find the candidates a match scores. The last ones
/// read are the longest postings: at a million claims an eighth made a match a quarter slower
/// and found the claim restated once more in 2,400 paraphrases (docs/search.md, Matching).
const RAREST: usize = 7;
/// How many cells of the sentence's numbers a match searches beside its rarest words: those of
/// its two rarest numbers.
const NEAREST: usize = 2;

/// What walking past one claim in IRI order costs, in claims sorted: a listing without words
/// walks the claims (about `page × claims ÷ matches` of them) when that costs less than sorting
/// every match by IRI. Measured at 1,000,000 claims: about 1 µs a claim walked (its IRI's
/// postings, a seek in the filter's), 14 ns a match sorted.
const WALK_COST: u128 = 64;

/// Whether a page of `limit` of the `total` claims of `claims` that match is found by walking
/// the IRIs in order ([`ClaimIndex::in_iri_order`]) rather than by sorting every match.
fn walks(total: usize, limit: usize, claims: usize) -> bool {
    let (total, limit, claims) = (total as u128, limit as u128, claims as u128);
    total == claims || total * total >= WALK_COST * (limit + 1) * claims
}

/// [`ClaimIndex::each_record`] sorts the claims a filter keeps when they are at most this
/// fraction (1 in N) of all claims, else walks every claim in IRI order; and reads along the
/// ordered segment ([`along_the_spine`]) when the others hold at most this fraction of its
/// documents.
const SORTED_BELOW: usize = 16;

/// The most values one facet lists.
pub const MAX_FACET_VALUES: usize = 100;

/// A search of the claims.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words, `"phrases"`, `prefix*`, `-excluded`: all must match (case and accents aside).
    pub q: Option<String>,
    /// A status's local name (`Alleged`).
    pub status: Option<String>,
    /// IRIs.
    pub claimant: Option<String>,
    pub source: Option<String>,
    pub outlet: Option<String>,
    pub entity: Option<String>,
    /// A verdict label, any case.
    pub rating: Option<String>,
    /// A fact-checker's IRI: claims it rated, or linked to claims it rated (imported reviews).
    pub checker: Option<String>,
    /// Only claims some other fact-checker rated (an imported review, of it or of a claim
    /// linked to it).
    pub rated_elsewhere: bool,
    /// Dates of the documents a claim appears in, inclusive, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The cursor a previous page gave (`next_after`).
    pub after: Option<String>,
    pub limit: usize,
    /// Facets to count (names from [`FACETS`]) and how many values each lists.
    pub facets: Vec<String>,
    pub facet_limit: usize,
}

/// One claim found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// What its record says.
    pub summary: super::document::Summary,
    /// How many outlets published a document it appears in.
    pub outlets: usize,
    /// BM25 relevance, when the search had words.
    pub score: Option<f32>,
}

/// A page of a search.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// The cursor of the next page, if there is one.
    pub next_after: Option<String>,
    /// How many claims match in all.
    pub total: usize,
    /// For each facet asked for: its values with their counts, most first.
    pub facets: Vec<FacetCounts>,
}

/// Counts already made (total and facets), for one version of the index: a write makes a new
/// version, and the first request after it clears them.
#[derive(Default)]
pub(crate) struct CountsCache {
    generation: u64,
    entries: std::collections::HashMap<String, (usize, Vec<FacetCounts>)>,
    /// The names of facet values (read from the store), for the same version.
    labels: std::collections::HashMap<String, Option<String>>,
}

/// How many distinct searches' counts are kept.
const COUNTS_KEPT: usize = 1024;

impl CountsCache {
    fn get(&self, generation: u64, key: &str) -> Option<(usize, Vec<FacetCounts>)> {
        (self.generation == generation)
            .then(|| self.entries.get(key).cloned())
            .flatten()
    }

    fn put(&mut self, generation: u64, key: String, counts: (usize, Vec<FacetCounts>)) {
        self.renew(generation);
        if self.entries.len() >= COUNTS_KEPT {
            self.entries.clear();
        }
        self.entries.insert(key, counts);
    }

    fn renew(&mut self, generation: u64) {
        if self.generation != generation {
            self.entries.clear();
            self.labels.clear();
            self.generation = generation;
        }
    }
}

impl ClaimIndex {
    /// The name of a facet value, read by `read` once per version of the index: a write that
    /// renames a thing claims refer to reads their documents again, which makes a new version.
    pub fn facet_label(
        &self,
        value: &str,
        read: impl FnOnce() -> Result<Option<String>>,
    ) -> Result<Option<String>> {
        let generation = self.reader.searcher().generation().generation_id();
        {
            let mut cache = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            cache.renew(generation);
            if let Some(label) = cache.labels.get(value) {
                return Ok(label.clone());
            }
        }
        let label = read()?;
        let mut cache = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        cache.renew(generation);
        if cache.labels.len() >= COUNTS_KEPT * 8 {
            cache.labels.clear();
        }
        cache.labels.insert(value.to_owned(), label.clone());
        Ok(label)
    }
}

/// A facet's name and its values with their counts, most first.
pub type FacetCounts = (String, Vec<(String, u64)>);

impl ClaimIndex {
    /// One page of `search`.
    pub fn search(&self, search: &Search) -> Result<Found> {
        let searcher = self.searcher()?;
        let f = &self.fields;
        for facet in &search.facets {
            if !FACETS.contains(&facet.as_str()) {
                return Err(Error::Invalid(format!(
                    "facets={facet:?} is not a facet; use any of {}",
                    FACETS.join(", ")
                )));
            }
        }
        let words = match &search.q {
            Some(q) => self.words_query(q)?,
            None => None,
        };
        let filters = self.filters(search)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let ranked = words.is_some();
        if let Some(words) = words {
            clauses.push((Occur::Must, words));
        }
        for filter in filters {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let matching: Box<dyn Query> = if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            all_of(clauses)
        };
        // Counting visits every claim that matches (all of them, without words): the counts are
        // kept per version of the index, for the next request with the same words and filters.
        let key = format!("{matching:?} {:?} {}", search.facets, search.facet_limit);
        let generation = searcher.generation().generation_id();
        let cached = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(generation, &key);
        let (total, facets) = match cached {
            Some(counts) => counts,
            None => {
                let counts = self.count(&searcher, &*matching, search)?;
                self.counts.lock().unwrap_or_else(|e| e.into_inner()).put(
                    generation,
                    key,
                    counts.clone(),
                );
                counts
            }
        };
        let limit = search.limit.max(1);
        let (addresses, next_after) = if ranked {
            let after = search.after.as_deref().map(ranked_cursor).transpose()?;
            let segments = self.segment_claims(&searcher)?;
            let mut found = ranked_top(&searcher, &*matching, limit + 1, after, &segments)?;
            let next = (found.len() > limit).then(|| {
                let ((score, iri), _) = &found[limit - 1];
                format!("r{:08x}.{iri}", score.to_bits())
            });
            found.truncate(limit);
            (
                found
                    .into_iter()
                    .map(|((score, _), a)| (a, Some(score)))
                    .collect::<Vec<_>>(),
                next,
            )
        } else if walks(total, limit, searcher.num_docs() as usize) {
            // Without words, claims come in IRI order, from the cursor (the last IRI) on. When
            // many claims match, the next ones are found by walking the IRIs in order.
            let every = total == searcher.num_docs() as usize;
            let mut found = self.in_iri_order(
                &searcher,
                &*matching,
                every,
                search.after.as_deref(),
                limit + 1,
            )?;
            let next = (found.len() > limit).then(|| found[limit - 1].0.clone());
            found.truncate(limit);
            (found.into_iter().map(|(_, a)| (a, None)).collect(), next)
        } else {
            // Few match: all of them are sorted by IRI.
            let page_query: Box<dyn Query> = match &search.after {
                Some(after) => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, matching.box_clone()),
                    (
                        Occur::Must,
                        Box::new(RangeQuery::new(
                            Bound::Excluded(Term::from_field_text(f.claim, after)),
                            Bound::Unbounded,
                        )),
                    ),
                ])),
                None => matching.box_clone(),
            };
            let top =
                TopDocs::with_limit(limit + 1).order_by_string_fast_field("claim", Order::Asc);
            let mut found: Vec<(String, DocAddress)> =
                searcher.search(&page_query, &top).map_err(index_error)?;
            let next = (found.len() > limit).then(|| found[limit - 1].0.clone());
            found.truncate(limit);
            (found.into_iter().map(|(_, a)| (a, None)).collect(), next)
        };
        let mut hits = Vec::with_capacity(addresses.len());
        // Each segment's outlet column, opened once for the page.
        let mut outlet_columns = vec![None; searcher.segment_readers().len()];
        for (address, score) in addresses {
            let summary = summary(&searcher, f.record, address)?;
            let column = match &mut outlet_columns[address.segment_ord as usize] {
                Some(column) => column,
                slot => slot.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .str("outlet")
                        .map_err(index_error)?,
                ),
            };
            let outlets = column
                .as_ref()
                .map_or(0, |column| column.term_ords(address.doc_id).count());
            hits.push(Hit {
                summary,
                outlets,
                score,
            });
        }
        Ok(Found {
            hits,
            next_after,
            total,
            facets,
        })
    }

    /// Up to `limit` claims `matching` matches, in the order of their IRIs, after `after`
    /// ([`ClaimIndex::walk_claims`]), each kept if it matches (`every`: all do). Cheap when many
    /// claims match (a page ends after about `limit` divided by the share that match), which is
    /// when it is used.
    fn in_iri_order(
        &self,
        searcher: &Searcher,
        matching: &dyn Query,
        every: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, DocAddress)>> {
        let mut matches = (!every)
            .then(|| Matches::new(searcher, matching))
            .transpose()?;
        let mut found = Vec::with_capacity(limit);
        self.walk_claims(searcher, after, |key, address| {
            if let Some(matches) = &mut matches {
                if !matches.contains(searcher, address)? {
                    return Ok(true);
                }
            }
            let iri = String::from_utf8(key.to_vec())
                .map_err(|_| Error::Internal("a claim IRI in the index is not UTF-8".into()))?;
            found.push((iri, address));
            Ok(found.len() < limit)
        })?;
        Ok(found)
    }

    /// Calls `visit` with each live claim document in the order of the claims' IRIs (after
    /// `after`), the segments' sorted dictionaries of claim IRIs read side by side, until it
    /// answers `false`: the first comes at once, and nothing is sorted or collected.
    fn walk_claims(
        &self,
        searcher: &Searcher,
        after: Option<&str>,
        visit: impl FnMut(&[u8], DocAddress) -> Result<bool>,
    ) -> Result<()> {
        let from = match after {
            Some(after) => Bound::Excluded(after.as_bytes()),
            None => Bound::Unbounded,
        };
        super::walk_terms(searcher, self.fields.claim, from, Bound::Unbounded, visit)
    }

    /// How many claims `query` matches, and the facet counts `search` asks for.
    fn count(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        search: &Search,
    ) -> Result<(usize, Vec<FacetCounts>)> {
        if search.facets.is_empty() {
            return Ok((
                searcher.search(query, &Count).map_err(index_error)?,
                Vec::new(),
            ));
        }
        let size = search.facet_limit.clamp(1, MAX_FACET_VALUES);
        terms_counts(searcher, query, &search.facets, size)
    }

    /// The filters of `search` as queries that must match.
    fn filters(&self, search: &Search) -> Result<Vec<Box<dyn Query>>> {
        let f = &self.fields;
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        let rating = search.rating.as_ref().map(|r| r.to_lowercase());
        for (field, value) in [
            (f.status, search.status.as_ref()),
            (f.claimant, search.claimant.as_ref()),
            (f.source, search.source.as_ref()),
            (f.outlet, search.outlet.as_ref()),
            (f.entity, search.entity.as_ref()),
            (f.rating, rating.as_ref()),
            (f.checker, search.checker.as_ref()),
        ] {
            if let Some(value) = value {
                filters.push(Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )));
            }
        }
        if search.rated_elsewhere {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_text(f.has, RATED_ELSEWHERE),
                IndexRecordOption::Basic,
            )));
        }
        let date = |name: &str, value: &Option<String>| -> Result<Option<u64>> {
            value
                .as_deref()
                .map(|v| {
                    date_number(v).filter(|_| v.len() == 10).ok_or_else(|| {
                        Error::Invalid(format!("{name}={v:?} is not a date (YYYY-MM-DD)"))
                    })
                })
                .transpose()
        };
        let (from, to) = (date("from", &search.from)?, date("to", &search.to)?);
        if from.is_some() || to.is_some() {
            let bound = |v: Option<u64>| match v {
                Some(v) => Bound::Included(Term::from_field_u64(f.date, v)),
                None => Bound::Unbounded,
            };
            filters.push(Box::new(RangeQuery::new(bound(from), bound(to))));
        }
        Ok(filters)
    }

    /// The words of `q` as a query all of whose parts must match, in the one searched field
    /// (`body`: the text, counted twice, the quotes, names and literals): words, `"phrases"`,
    /// `prefix*`, `-excluded`. An unbalanced quote is read as if absent; operators of other
    /// engines are words.
    fn words_query(&self, q: &str) -> Result<Option<Box<dyn Query>>> {
        let f = &self.fields;
        let mut analyzer = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .ok_or_else(|| Error::Internal("the claims analyzer is not registered".into()))?;
        let mut analyze = |text: &str| -> Vec<String> {
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while let Some(token) = stream.next() {
                out.push(token.text.clone());
            }
            out
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let phrase = |tokens: &[String]| -> Box<dyn Query> {
            let term = |token: &String| Term::from_field_text(f.body, token);
            match tokens {
                [word] => Box::new(TermQuery::new(term(word), IndexRecordOption::WithFreqs)),
                _ => Box::new(PhraseQuery::new(tokens.iter().map(term).collect())),
            }
        };
        for part in split_query(q) {
            match part {
                Part::Words { text, excluded } => {
                    let tokens = analyze(&text);
                    if tokens.is_empty() {
                        continue;
                    }
                    let occur = if excluded {
                        Occur::MustNot
                    } else {
                        Occur::Must
                    };
                    clauses.push((occur, phrase(&tokens)));
                }
                Part::Prefix(text) => {
                    let mut tokens = analyze(&text);
                    let Some(last) = tokens.pop() else { continue };
                    // Analysed tokens are letters and digits only: nothing to escape.
                    let pattern = format!("{last}.*");
                    let mut prefix: Box<dyn Query> =
                        Box::new(RegexQuery::from_pattern(&pattern, f.body).map_err(index_error)?);
                    if !tokens.is_empty() {
                        // `"big tech*"`-like: the leading words must match too.
                        prefix = Box::new(BooleanQuery::new(vec![
                            (Occur::Must, phrase(&tokens)),
                            (Occur::Must, prefix),
                        ]));
                    }
                    clauses.push((Occur::Must, prefix));
                }
            }
        }
        if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
            if clauses.is_empty() {
                return Ok(None);
            }
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)),
            ));
        }
        Ok(Some(all_of(clauses)))
    }
}

/// The clauses as one query; a single required clause is that clause alone, so that one word
/// (a term query) is ranked with block-max WAND ([`ranked_top`]): wrapped in a boolean query,
/// it is read claim by claim.
fn all_of(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    match clauses.pop() {
        Some((Occur::Must, query)) if clauses.is_empty() => query,
        Some(last) => {
            clauses.push(last);
            Box::new(BooleanQuery::new(clauses))
        }
        None => Box::new(BooleanQuery::new(clauses)),
    }
}

/// The number of claims `query` matches and, for each of `fields`, its `size` most frequent
/// values with their counts (count first, then value), exactly: [`FacetCollector`].
fn terms_counts(
    searcher: &Searcher,
    query: &dyn Query,
    fields: &[String],
    size: usize,
) -> Result<(usize, Vec<FacetCounts>)> {
    let segments = searcher
        .search(query, &FacetCollector { fields })
        .map_err(index_error)?;
    let total = segments.iter().map(|s| s.total).sum();
    let counts = fields
        .iter()
        .enumerate()
        .map(|(facet, name)| Ok((name.clone(), top_values(&segments, facet, size)?)))
        .collect::<Result<_>>()?;
    Ok((total, counts))
}

/// Counts the values of string fast fields over the documents a query matches: per segment, a
/// counter per term ordinal (one array each, no hashing, no strings), merged by
/// [`top_values`]. tantivy's terms aggregation does the same work through its general
/// aggregation tree, several times slower: counting was most of a faceted search's time.
struct FacetCollector<'a> {
    fields: &'a [String],
}

/// One segment's counts.
struct SegmentCounts {
    total: usize,
    /// Per facet: the column (absent when no document of the segment has the field) and a
    /// count per term ordinal.
    facets: Vec<Option<(tantivy::columnar::StrColumn, Vec<u32>)>>,
    /// The ordinals of the document being counted (a value given twice counts once).
    scratch: Vec<u64>,
}

impl tantivy::collector::Collector for FacetCollector<'_> {
    type Fruit = Vec<SegmentCounts>;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        _: tantivy::SegmentOrdinal,
        reader: &tantivy::SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let fast = reader.fast_fields();
        let facets = self
            .fields
            .iter()
            .map(|name| {
                Ok(fast.str(name)?.map(|column| {
                    let terms = column.num_terms();
                    (column, vec![0u32; terms])
                }))
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentCounts {
            total: 0,
            facets,
            scratch: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentCounts>) -> tantivy::Result<Vec<SegmentCounts>> {
        Ok(segments)
    }
}

impl tantivy::collector::SegmentCollector for SegmentCounts {
    type Fruit = SegmentCounts;

    fn collect(&mut self, doc: tantivy::DocId, _: tantivy::Score) {
        self.total += 1;
        for (column, counts) in self.facets.iter_mut().flatten() {
            self.scratch.clear();
            self.scratch.extend(column.term_ords(doc));
            if self.scratch.len() > 1 {
                self.scratch.sort_unstable();
                self.scratch.dedup();
            }
            for ord in &self.scratch {
                counts[*ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> SegmentCounts {
        self
    }
}

/// The `size` most frequent values of facet `facet` over every segment, exactly. Each segment
/// offers its most frequent values (twice as many as asked); their totals over all segments are
/// looked up by value; a value no segment offered can total at most the sum of each segment's
/// first count left out, so if the `size`th total reaches that bound the answer is exact, and
/// otherwise (values spread evenly, as documents are over claims) every value counted is read,
/// each segment's in the order of its dictionary (one sequential pass), and summed.
fn top_values(segments: &[SegmentCounts], facet: usize, size: usize) -> Result<Vec<(String, u64)>> {
    let columns: Vec<&(tantivy::columnar::StrColumn, Vec<u32>)> = segments
        .iter()
        .filter_map(|s| s.facets[facet].as_ref())
        .collect();
    let offered = size.saturating_mul(2).max(size + 1);
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    let mut bound = 0u64;
    for (column, counts) in &columns {
        let mut nonzero: Vec<(u32, u64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(ord, c)| (*c, ord as u64))
            .collect();
        if nonzero.len() > offered {
            nonzero.select_nth_unstable_by(offered, |a, b| b.0.cmp(&a.0));
            bound += u64::from(nonzero[offered].0);
            nonzero.truncate(offered);
        }
        let mut ords: Vec<u64> = nonzero.into_iter().map(|(_, ord)| ord).collect();
        ords.sort_unstable();
        read_values(column, ords.into_iter(), |value| {
            candidates.push(value.to_vec())
        })?;
    }
    candidates.sort_unstable();
    candidates.dedup();
    let mut totals = Vec::with_capacity(candidates.len());
    for value in candidates {
        let mut total = 0u64;
        for (column, counts) in &columns {
            if let Some(ord) = column.dictionary().term_ord(&value).map_err(facet_error)? {
                total += u64::from(counts[ord as usize]);
            }
        }
        totals.push((total, value));
    }
    let by_count =
        |a: &(u64, Vec<u8>), b: &(u64, Vec<u8>)| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1));
    totals.sort_unstable_by(by_count);
    let exact = bound == 0
        || totals
            .get(size - 1)
            .is_some_and(|(count, _)| *count >= bound);
    if !exact {
        let mut all: Vec<(Vec<u8>, u32)> = Vec::new();
        for (column, counts) in &columns {
            let ords = counts.iter().enumerate().filter(|(_, c)| **c > 0);
            let mut counted = ords.clone().map(|(_, c)| *c);
            read_values(column, ords.map(|(ord, _)| ord as u64), |value| {
                all.push((value.to_vec(), counted.next().unwrap_or(0)));
            })?;
        }
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        totals.clear();
        for (value, count) in all {
            match totals.last_mut() {
                Some((total, last)) if *last == value => *total += u64::from(count),
                _ => totals.push((u64::from(count), value)),
            }
        }
        let keep = size.min(totals.len());
        if keep > 0 && keep < totals.len() {
            totals.select_nth_unstable_by(keep - 1, by_count);
        }
        totals.truncate(keep);
        totals.sort_unstable_by(by_count);
    }
    totals.truncate(size);
    totals
        .into_iter()
        .map(|(count, value)| {
            String::from_utf8(value)
                .map(|value| (value, count))
                .map_err(|_| Error::Internal("a facet value is not UTF-8".into()))
        })
        .collect()
}

fn facet_error(error: std::io::Error) -> Error {
    Error::Internal(format!("reading a facet's values: {error}"))
}

/// Calls `f` with the value of each of `ords` (sorted) in `column`'s dictionary, read in one
/// sequential pass.
fn read_values(
    column: &tantivy::columnar::StrColumn,
    ords: impl Iterator<Item = u64>,
    mut f: impl FnMut(&[u8]),
) -> Result<()> {
    column
        .dictionary()
        .sorted_ords_to_term_cb(ords, |value| {
            f(value);
            Ok(())
        })
        .map_err(facet_error)?;
    Ok(())
}

/// Which claims [`ClaimIndex::each_record`] visits.
#[derive(Debug, Clone, Copy)]
pub enum Only {
    /// Alleged claims no adjudicated, settled or public-record claim shares a content triple
    /// with (`queries/claims-resting-on-allegations.rq`).
    RestingOnAllegations,
    /// Claims without a primary source (`queries/claims-without-primary-source.rq`).
    WithoutPrimarySource,
    /// Claims whose status is `cg:Denied` (`queries/denials.rq`).
    Denied,
}

impl ClaimIndex {
    /// How many claims have each status (a claim with two is counted under both).
    pub fn status_counts(&self) -> Result<Vec<(String, u64)>> {
        let searcher = self.searcher()?;
        let (_, mut facets) = terms_counts(&searcher, &AllQuery, &["status".to_owned()], 65_000)?;
        Ok(facets.pop().map(|(_, values)| values).unwrap_or_default())
    }

    /// What searches read of each segment of `searcher` ([`SegmentClaims`]), in its order: read
    /// once per segment, and forgotten once the segment is merged away.
    pub(crate) fn segment_claims(&self, searcher: &Searcher) -> Result<Vec<SegmentClaims>> {
        let readers = searcher.segment_readers();
        let mut known = self.segments.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = Vec::with_capacity(readers.len());
        for reader in readers {
            let id = reader.segment_id();
            let claims = match known.get(&id) {
                Some(claims) => claims.clone(),
                None => {
                    let claims = SegmentClaims::read(reader)?;
                    known.insert(id, claims.clone());
                    claims
                }
            };
            found.push(claims);
        }
        // A column keeps its segment's files open: those of segments merged away are let go.
        if known.len() > readers.len() {
            known.retain(|id, _| readers.iter().any(|r| r.segment_id() == *id));
        }
        Ok(found)
    }

    /// Calls `f` with the record of every claim (or of those `only` names), in the order of
    /// their IRIs ([`ClaimIndex::walk_claims`]).
    pub fn each_record(
        &self,
        only: Option<Only>,
        appearances: super::document::Appearances,
        mut f: impl FnMut(&super::document::Record<&str>) -> Result<()>,
    ) -> Result<()> {
        let searcher = self.searcher()?;
        let fields = &self.fields;
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let query: Option<Box<dyn Query>> = match only {
            None => None,
            Some(Only::RestingOnAllegations) => {
                let mut clauses = vec![(Occur::Must, term(fields.status, "Alleged"))];
                for strong in super::document::CORROBORATING {
                    clauses.push((Occur::MustNot, term(fields.shared_with, strong)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Some(Only::Denied) => Some(term(fields.status, "Denied")),
            Some(Only::WithoutPrimarySource) => Some(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, term(fields.has, "primary")),
            ]))),
        };
        let mut decoded = |text: &str| -> Result<bool> {
            // Decoded as slices of the stored text, not copied.
            f(&super::document::Record::decode(text, appearances)?)?;
            Ok(true)
        };
        let segments = self.segment_claims(&searcher)?;
        if along_the_spine(
            &searcher,
            fields.record,
            query.as_deref(),
            &segments,
            |_, text| decoded(text),
        )? {
            return Ok(());
        }
        let mut read = |address: DocAddress| -> Result<bool> {
            decoded(&stored_record(&searcher, fields.record, address)?)
        };
        let Some(query) = query else {
            return self.walk_claims(&searcher, None, |_, address| read(address));
        };
        // Few matches are sorted by IRI, all before the first row (about 0.3 µs each at a
        // million claims); many are found by walking every claim (about 1 µs each), which sends
        // the first row at once. A sixteenth keeps the first row within tens of milliseconds.
        let total = searcher.search(&*query, &Count).map_err(index_error)?;
        if total.saturating_mul(SORTED_BELOW) > searcher.num_docs() as usize {
            let mut wanted = Matches::new(&searcher, &*query)?;
            return self.walk_claims(&searcher, None, |_, address| {
                if wanted.contains(&searcher, address)? {
                    read(address)
                } else {
                    Ok(true)
                }
            });
        }
        let sorted =
            TopDocs::with_limit(total.max(1)).order_by_string_fast_field("claim", Order::Asc);
        let found: Vec<(String, DocAddress)> =
            searcher.search(&*query, &sorted).map_err(index_error)?;
        for (_, address) in found {
            read(address)?;
        }
        Ok(())
    }
}

/// The best `limit` claims `query` matches, by score, ties in the order of their IRIs (so a
/// page's claims and its cursor stay the same while the index does not change, and a write
/// between two pages moves only the claims it changed), after the cursor `after` (a score and
/// an IRI), highest first. Each segment is read with a threshold, the lowest score on the page
/// so far: a query of one word skips the blocks of postings that cannot reach it (block-max
/// WAND). Claims of one template tie by the tens of thousands: in a segment whose documents are
/// in IRI order (a rebuild writes them so, [`ClaimIndex::segment_claims`]), a later claim
/// of equal score ranks below every one on the page, so the threshold is the lowest score itself
/// and ties are skipped too; elsewhere it is just below, and each tied claim is compared.
fn ranked_top(
    searcher: &Searcher,
    query: &dyn Query,
    limit: usize,
    after: Option<(f32, &str)>,
    segments: &[SegmentClaims],
) -> Result<Vec<((f32, String), DocAddress)>> {
    let weight = query
        .weight(tantivy::query::EnableScoring::enabled_from_searcher(
            searcher,
        ))
        .map_err(index_error)?;
    let mut all = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let Some(segment) = segments.get(ord) else {
            continue;
        };
        let Some(claims) = &segment.iris else {
            continue;
        };
        // The cursor as a place among this segment's IRIs: the first one after it.
        let after = match after {
            Some((score, iri)) => Some((score, first_place(claims, Bound::Excluded(iri))?)),
            None => None,
        };
        let mut page = RankedPage {
            limit,
            after,
            ords: claims.ords(),
            ties_skipped: segment.in_iri_order,
            best: std::collections::BinaryHeap::with_capacity(limit + 1),
        };
        let alive = reader.alive_bitset();
        weight
            .for_each_pruning(f32::MIN, reader, &mut |doc, score| {
                if !alive.is_some_and(|alive| alive.is_deleted(doc)) {
                    page.collect(doc, score);
                }
                page.threshold()
            })
            .map_err(index_error)?;
        for std::cmp::Reverse(Ranked((score, term), doc)) in page.best {
            let mut iri = String::new();
            claims
                .ord_to_str(u64::MAX - term, &mut iri)
                .map_err(|e| index_error(e.into()))?;
            all.push(((score, iri), DocAddress::new(ord as u32, doc)));
        }
    }
    all.sort_by(|a, b| (b.0 .0.total_cmp(&a.0 .0)).then_with(|| a.0 .1.cmp(&b.0 .1)));
    all.truncate(limit);
    Ok(all)
}

/// Calls `visit` with each live document `matching` matches (every one without it) and its
/// record (the stored value of field `record`), in the order of its claim's IRI, until it
/// answers `false`, when the largest segment holds its documents in that order (`segments`, as
/// after a rebuild) and the others are few. That segment, the spine, is read in the order of its
/// documents, so nothing is sorted and no dictionary is walked (walking the IRIs was a third of
/// a streamed answer); the others' documents are sorted beforehand and each is visited before
/// the first of the spine's IRIs that follows its own. Answers whether it could (else it
/// visited nothing).
fn along_the_spine(
    searcher: &Searcher,
    record: Field,
    matching: Option<&dyn Query>,
    segments: &[SegmentClaims],
    mut visit: impl FnMut(DocAddress, &str) -> Result<bool>,
) -> Result<bool> {
    use tantivy::DocSet;
    let readers = searcher.segment_readers();
    let Some(spine) = (0..readers.len())
        .filter(|&n| segments.get(n).is_some_and(|s| s.in_iri_order))
        .max_by_key(|&n| readers[n].max_doc())
    else {
        return Ok(false);
    };
    let others: u64 = (0..readers.len())
        .filter(|&n| n != spine)
        .map(|n| u64::from(readers[n].max_doc()))
        .sum();
    if others * SORTED_BELOW as u64 > u64::from(readers[spine].max_doc()) {
        return Ok(false);
    }
    let claims = |n: usize| {
        segments
            .get(n)
            .and_then(|s| s.iris.as_ref())
            .ok_or_else(|| Error::Internal("the claims index has no column of claim IRIs".into()))
    };
    let weight = matching
        .map(|q| {
            q.weight(tantivy::query::EnableScoring::disabled_from_searcher(
                searcher,
            ))
        })
        .transpose()
        .map_err(index_error)?;
    // A segment's live documents the query matches, in the order of their numbers.
    let docs = |reader: &tantivy::SegmentReader| -> Result<Box<dyn DocSet>> {
        Ok(match &weight {
            Some(weight) => Box::new(weight.scorer(reader, 1.0).map_err(index_error)?),
            None => Box::new(tantivy::query::AllScorer::new(reader.max_doc())),
        })
    };
    let spine_claims = claims(spine)?;
    // The others: each document's place among the spine's IRIs (how many come before it).
    let mut placed = Vec::new();
    for (n, reader) in readers.iter().enumerate().filter(|(n, _)| *n != spine) {
        let column = claims(n)?;
        let mut iri = String::new();
        for found in live_claims(docs(reader)?, reader, column) {
            let (doc, ord) = found?;
            column
                .ord_to_str(ord, &mut iri)
                .map_err(|e| index_error(e.into()))?;
            let place = first_place(spine_claims, Bound::Included(&iri))?;
            placed.push((place, iri.clone(), DocAddress::new(n as u32, doc)));
        }
    }
    placed.sort();
    let mut placed = placed.into_iter().peekable();
    // The spine's documents, and their records in one pass over its store when they are many
    // (`in_one_pass`): every live one, or those the query matches, collected first.
    let reader = &readers[spine];
    let store = reader
        .get_store_reader(0)
        .map_err(|e| index_error(e.into()))?;
    let selected;
    type Records<'s> = Box<dyn Iterator<Item = tantivy::Result<FirstValue>> + 's>;
    let (wanted, mut records): (Box<dyn Iterator<Item = _>>, Option<Records>) = match &weight {
        None => (
            Box::new(live_claims(docs(reader)?, reader, spine_claims)),
            Some(Box::new(store.iter(reader.alive_bitset()))),
        ),
        Some(_) => {
            let wanted: Vec<_> =
                live_claims(docs(reader)?, reader, spine_claims).collect::<Result<_>>()?;
            selected = in_one_pass(reader.max_doc(), wanted.iter().map(|(doc, _)| *doc))?;
            let records = selected
                .as_ref()
                .map(|selected| Box::new(store.iter(Some(selected))) as Records);
            (Box::new(wanted.into_iter().map(Ok)), records)
        }
    };
    for found in wanted {
        let (doc, ord) = found?;
        while let Some((_, _, address)) = placed.next_if(|(place, _, _)| *place <= ord) {
            if !visit(address, &stored_record(searcher, record, address)?)? {
                return Ok(true);
            }
        }
        let address = DocAddress::new(spine as u32, doc);
        let text = match &mut records {
            Some(records) => match records.next() {
                Some(first) => record_of(first.map_err(index_error)?, record, address)?,
                None => return Err(Error::Internal("the claims index ended early".into())),
            },
            None => stored_record(searcher, record, address)?,
        };
        if !visit(address, &text)? {
            return Ok(true);
        }
    }
    for (_, _, address) in placed {
        if !visit(address, &stored_record(searcher, record, address)?)? {
            break;
        }
    }
    Ok(true)
}

/// The documents of a segment (of `max_doc`) whose records are read in one pass over its store,
/// when they are at least a tenth of it: a document read alone seeks its block in the store's
/// index, a fifth of a streamed question's time, while a pass copies every block once (all of
/// them at a million claims in about 0.2 s). Fewer are read one by one (`None`).
fn in_one_pass(
    max_doc: u32,
    wanted: impl ExactSizeIterator<Item = tantivy::DocId>,
) -> Result<Option<tantivy::fastfield::AliveBitSet>> {
    if wanted.len() * 10 < max_doc as usize {
        return Ok(None);
    }
    let mut set = tantivy_common::BitSet::with_max_value(max_doc);
    for doc in wanted {
        set.insert(doc);
    }
    let mut bytes = Vec::new();
    set.serialize(&mut bytes)
        .map_err(|e| index_error(e.into()))?;
    Ok(Some(tantivy::fastfield::AliveBitSet::open(
        tantivy::directory::OwnedBytes::new(bytes),
    )))
}

/// The live documents of `set` (in the order of their numbers) with their claim IRI's place
/// among the segment's, `claims`. Every claim document has its IRI: one without is an error.
fn live_claims<'a>(
    mut set: Box<dyn tantivy::DocSet>,
    reader: &'a tantivy::SegmentReader,
    claims: &'a tantivy::columnar::StrColumn,
) -> impl Iterator<Item = Result<(tantivy::DocId, u64)>> + 'a {
    std::iter::from_fn(move || loop {
        let doc = set.doc();
        if doc == tantivy::TERMINATED {
            return None;
        }
        set.advance();
        if !reader.is_deleted(doc) {
            return Some(
                claims
                    .ords()
                    .first(doc)
                    .map(|ord| (doc, ord))
                    .ok_or_else(|| {
                        Error::Internal(format!(
                            "the claims index has a document without its IRI ({doc})"
                        ))
                    }),
            );
        }
    })
}

/// The place among a segment's claim IRIs (`claims`) of the first one within `from`: how many
/// come before it.
fn first_place(claims: &tantivy::columnar::StrColumn, from: Bound<&str>) -> Result<u64> {
    Ok(super::places_within(claims, from.map(str::as_bytes), Bound::Unbounded)?.start)
}

/// What searches read of a segment's claims, kept while it lives
/// ([`ClaimIndex::segment_claims`]): opening the column reads its dictionary's index, about 8% of
/// a ranked search's time at a million claims.
#[derive(Clone)]
pub(crate) struct SegmentClaims {
    /// The column of claim IRIs: each document's IRI and its place among the segment's.
    pub(super) iris: Option<tantivy::columnar::StrColumn>,
    /// Whether its documents, deleted ones included (so it holds while the segment lives), come
    /// in the order of their IRIs.
    in_iri_order: bool,
}

impl SegmentClaims {
    fn read(reader: &tantivy::SegmentReader) -> Result<Self> {
        let iris = reader.fast_fields().str("claim").map_err(index_error)?;
        let in_iri_order = iris.as_ref().is_some_and(|iris| {
            let ords = iris.ords();
            let mut last = 0;
            (0..reader.max_doc()).all(|doc| {
                let ord = ords.first(doc);
                let ordered = ord.is_some_and(|ord| ord >= last);
                last = ord.unwrap_or(u64::MAX);
                ordered
            })
        });
        Ok(SegmentClaims { iris, in_iri_order })
    }
}

/// One segment's best keys so far ([`ranked_top`]): `(score, u64::MAX - ord)`, where `ord` is
/// the claim IRI's place among the segment's, so the greater key ranks first.
struct RankedPage<'a> {
    limit: usize,
    /// The cursor: its score and the first IRI place after its IRI.
    after: Option<(f32, u64)>,
    ords: &'a tantivy::columnar::Column<u64>,
    /// The segment's documents are in IRI order.
    ties_skipped: bool,
    /// The lowest first (a min-heap).
    best: std::collections::BinaryHeap<std::cmp::Reverse<Ranked>>,
}

/// A key and its document, ordered by key.
#[derive(Clone, Copy, PartialEq)]
struct Ranked((f32, u64), tantivy::DocId);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0 .0.total_cmp(&other.0 .0))
            .then(self.0 .1.cmp(&other.0 .1))
            .then(other.1.cmp(&self.1))
    }
}

impl RankedPage<'_> {
    fn key(&self, doc: tantivy::DocId, score: f32) -> (f32, u64) {
        let ord = self.ords.first(doc).unwrap_or(u64::MAX);
        (score, u64::MAX - ord)
    }

    /// The lowest key on a full page.
    fn lowest(&self) -> Option<(f32, u64)> {
        if self.best.len() < self.limit {
            return None;
        }
        self.best
            .peek()
            .map(|std::cmp::Reverse(Ranked(key, _))| *key)
    }

    fn collect(&mut self, doc: tantivy::DocId, score: f32) {
        if let Some((after, first)) = self.after {
            // Only what ranks below the cursor: a higher score does not, a lower one does, an
            // equal one if its IRI comes after the cursor's.
            if score > after || (score == after && self.key(doc, score).1 > u64::MAX - first) {
                return;
            }
        }
        let lowest = self.lowest();
        if lowest.is_some_and(|lowest| score < lowest.0) {
            return;
        }
        let key = self.key(doc, score);
        if lowest.is_some_and(|lowest| key <= lowest) {
            return;
        }
        if lowest.is_some() {
            self.best.pop();
        }
        self.best.push(std::cmp::Reverse(Ranked(key, doc)));
    }

    /// The score a claim must pass to be offered once the page is full: the lowest on it where
    /// documents come in IRI order (a claim of equal score that comes later ranks below all of
    /// them), else just below it, since a claim of equal score may still rank above by its IRI.
    fn threshold(&self) -> f32 {
        match self.lowest() {
            Some((score, _)) if self.ties_skipped => score,
            Some((score, _)) if score > 0.0 && score.is_finite() => {
                f32::from_bits(score.to_bits() - 1)
            }
            _ => f32::MIN,
        }
    }
}

/// Which documents a query matches, segment by segment, asked in the order of a walk
/// ([`SegmentMatches`]).
struct Matches {
    weight: Box<dyn tantivy::query::Weight>,
    segments: Vec<Option<SegmentMatches>>,
}

/// What a segment matches, as the walk asks.
enum SegmentMatches {
    /// The walk has asked in the order of document numbers (a segment written in one go holds
    /// its claims in IRI order): each question is a seek in the postings, so a page costs the
    /// claims it walks past, not every match of the segment.
    Seeking {
        scorer: Box<dyn tantivy::query::Scorer>,
        last: Option<tantivy::DocId>,
    },
    /// Asked out of order (a merged segment): every match, read once into a bit set.
    Bits(Vec<u64>),
}

impl Matches {
    fn new(searcher: &Searcher, query: &dyn Query) -> Result<Self> {
        let scoring = tantivy::query::EnableScoring::disabled_from_searcher(searcher);
        Ok(Self {
            weight: query.weight(scoring).map_err(index_error)?,
            segments: (0..searcher.segment_readers().len())
                .map(|_| None)
                .collect(),
        })
    }

    fn contains(&mut self, searcher: &Searcher, address: DocAddress) -> Result<bool> {
        use tantivy::DocSet;
        let segment = address.segment_ord as usize;
        let target = address.doc_id;
        let reader = searcher.segment_reader(address.segment_ord);
        let matches = match &mut self.segments[segment] {
            Some(matches) => matches,
            slot => slot.insert(SegmentMatches::Seeking {
                scorer: self.weight.scorer(reader, 1.0).map_err(index_error)?,
                last: None,
            }),
        };
        let bit = |bits: &[u64]| bits[target as usize / 64] & (1 << (target % 64)) != 0;
        match matches {
            SegmentMatches::Seeking { scorer, last } if last.is_none_or(|last| last < target) => {
                *last = Some(target);
                let mut doc = scorer.doc();
                if doc < target {
                    doc = scorer.seek(target);
                }
                Ok(doc == target)
            }
            SegmentMatches::Seeking { .. } => {
                let mut bits = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
                let mut scorer = self.weight.scorer(reader, 1.0).map_err(index_error)?;
                let mut doc = scorer.doc();
                while doc != tantivy::TERMINATED {
                    bits[doc as usize / 64] |= 1 << (doc % 64);
                    doc = scorer.advance();
                }
                let found = bit(&bits);
                *matches = SegmentMatches::Bits(bits);
                Ok(found)
            }
            SegmentMatches::Bits(bits) => Ok(bit(bits)),
        }
    }
}

/// A stored document's first value, and nothing after it decoded.
struct FirstValue(Option<(Field, tantivy::schema::OwnedValue)>);

impl tantivy::schema::document::DocumentDeserialize for FirstValue {
    fn deserialize<'de, D>(
        mut deserializer: D,
    ) -> std::result::Result<Self, tantivy::schema::document::DeserializeError>
    where
        D: tantivy::schema::document::DocumentDeserializer<'de>,
    {
        Ok(FirstValue(deserializer.next_field()?))
    }
}

/// The record of the claim document at `address`: its one stored value
/// (`ClaimIndex::tantivy_document`), read without building a whole document.
fn stored_record(searcher: &Searcher, record: Field, address: DocAddress) -> Result<String> {
    record_of(searcher.doc(address).map_err(index_error)?, record, address)
}

/// The record in `first`, the first value of the document at `address`.
fn record_of(first: FirstValue, record: Field, address: DocAddress) -> Result<String> {
    match first.0 {
        Some((field, tantivy::schema::OwnedValue::Str(text))) if field == record => Ok(text),
        _ => Err(Error::Internal(format!(
            "the claims index holds a document without its record ({address:?})"
        ))),
    }
}

/// What a page or a match shows of the claim document at `address`, from its record.
fn summary(
    searcher: &Searcher,
    record: Field,
    address: DocAddress,
) -> Result<super::document::Summary> {
    let text = stored_record(searcher, record, address)?;
    super::document::Record::decode(&text, super::document::Appearances::Read)?.summary()
}

/// The index as the drafting matcher sees it: candidates and statistics, keyed like sheets
/// (`KEY` for `<base>claims/KEY`). Holds no store, only the index's reader.
#[derive(Clone)]
pub struct IndexMatcher {
    reader: tantivy::IndexReader,
    fields: super::Fields,
    claims_at: String,
    entities_at: String,
}

impl ClaimIndex {
    /// A matcher over this index, for a store whose base IRI is `base`.
    pub fn matcher(&self, base: &str) -> IndexMatcher {
        IndexMatcher {
            reader: self.reader.clone(),
            fields: self.fields,
            claims_at: format!("{base}claims/"),
            entities_at: format!("{base}entities/"),
        }
    }
}

impl IndexMatcher {
    fn known(&self, searcher: &Searcher, address: DocAddress) -> Result<KnownClaim> {
        let summary = summary(searcher, self.fields.record, address)?;
        let claimant = summary.claimant.unwrap_or_default();
        Ok(KnownClaim {
            key: summary
                .claim
                .strip_prefix(&self.claims_at)
                .map_or(summary.claim.clone(), str::to_owned),
            text: summary.text,
            quotes: summary.quotes,
            status: summary.status,
            claimant: claimant
                .strip_prefix(&self.entities_at)
                .map_or(claimant.clone(), str::to_owned),
        })
    }

    /// The claims most worth comparing with a sentence whose matcher tokens are `tokens` and
    /// word pairs `pairs` ([`crate::draft::matcher::pairs`]), best first by BM25 (at most
    /// `limit`), with the number of claims and each token's document frequency for the
    /// matcher's own scoring.
    pub fn candidates(
        &self,
        tokens: &[String],
        pairs: &[String],
        limit: usize,
    ) -> Result<Candidates> {
        let searcher = self.reader.searcher();
        let f = &self.fields;
        let total = searcher.num_docs();
        // The cells of the sentence's numbers, as its claims' documents have them.
        let cells: Vec<String> = tokens.iter().flat_map(|t| nearness(t)).collect();
        let mut distinct: Vec<&String> = tokens.iter().chain(&cells).chain(pairs).collect();
        distinct.sort();
        distinct.dedup();
        let mut frequencies = std::collections::HashMap::with_capacity(distinct.len());
        for token in distinct {
            let term = Term::from_field_text(f.words, token);
            frequencies.insert(
                token.clone(),
                searcher.doc_freq(&term).map_err(index_error)?,
            );
        }
        // Words most claims share find nothing worth ranking: while two rarer ones remain, the
        // candidates are found by those alone (the matcher then scores every word).
        // In one order whatever the map's: a claim's shares are summed in the order of the
        // terms, and another order rounds otherwise.
        let mut present: Vec<&String> = frequencies
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(t, _)| t)
            .collect();
        present.sort();
        let central: Vec<String> = tokens.iter().filter_map(|t| central_cell(t)).collect();
        let rarest = |near: bool, keep: usize| {
            let mut rare: Vec<&String> = present
                .iter()
                .copied()
                .filter(|t| {
                    if t.starts_with('~') {
                        near && central.contains(t)
                    } else {
                        !near
                    }
                })
                .filter(|t| frequencies[*t] <= (total / 10).max(1))
                .collect();
            rare.sort_by_key(|t| (frequencies[*t], t.as_str()));
            rare.truncate(keep);
            rare
        };
        // The rarest few words and pairs: their postings are the shortest, and they are what
        // tells a claim from the others (block-max WAND over every rare word was most of a
        // match's time). Claims of one template share most words; the pairs at the seams of
        // the template and the names in it set them apart.
        let mut rare = rarest(false, RAREST);
        let searched = if total >= 10_000 && rare.len() >= 2 {
            // Claims alike but for a number can outnumber the shortlist: the cells of numbers
            // near the sentence's (`central_cell`) bring the nearest into it. Never among the
            // rarest words, they are searched beside them.
            rare.extend(rarest(true, NEAREST));
            rare
        } else {
            present
        };
        // A figure, alone or in a pair, weighs a quarter here as in the scoring: the rarest
        // term of a restatement is often the number it changed.
        let terms: Vec<(Term, f32)> = searched
            .iter()
            .map(|t| {
                let figure = t.split('+').any(crate::draft::matcher::is_figure);
                let boost = if figure { 0.25 } else { 1.0 };
                (Term::from_field_text(f.words, t), boost)
            })
            .collect();
        let mut claims = Vec::new();
        for address in best_by_words(&searcher, f, &terms, limit.max(1))? {
            claims.push(self.known(&searcher, address)?);
        }
        // A candidate is weighed with every word it has, not only those the sentence shares
        // with it: without their frequencies a long claim sharing one word with a short
        // sentence would be scored as if it said nothing else (a cosine of 1).
        let tokens: Vec<Vec<String>> = claims.iter().map(KnownClaim::tokens).collect();
        for word in tokens.iter().flatten() {
            if !frequencies.contains_key(word) {
                let term = Term::from_field_text(f.words, word);
                let df = searcher.doc_freq(&term).map_err(index_error)?;
                frequencies.insert(word.clone(), df);
            }
        }
        Ok(Candidates {
            claims,
            tokens,
            total,
            frequencies,
        })
    }

    /// The claim with this key, as the matcher knows claims.
    pub fn claim(&self, key: &str) -> Result<Option<KnownClaim>> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.claim, &format!("{}{key}", self.claims_at)),
            IndexRecordOption::Basic,
        );
        let found = searcher
            .search(&query, &TopDocs::with_limit(1))
            .map_err(index_error)?;
        match found.first() {
            Some((_, address)) => Ok(Some(self.known(&searcher, *address)?)),
            None => Ok(None),
        }
    }
}

/// The `limit` claims with the highest sums of BM25 over `terms` (each term's score times its
/// boost), then the lowest address: what tantivy's `TopDocs` over a union of boosted
/// `TermQuery`s finds, imported and deleted claims left out (a unit test compares the two).
/// Each term's postings are read a block at a time, its highest score bounded by tantivy's
/// block maxima, and summed by [`crate::draft::matcher::best_sums`], which scores the common
/// terms' postings only for claims that can still make it: tantivy's union merges every posting
/// claim by claim, which was half of a match's time at a million claims, and scoring every
/// posting was a fifth of it after that.
fn best_by_words(
    searcher: &Searcher,
    fields: &super::Fields,
    terms: &[(Term, f32)],
    limit: usize,
) -> Result<Vec<DocAddress>> {
    let mut weights = Vec::with_capacity(terms.len());
    for (term, boost) in terms {
        let weight = Bm25Weight::for_terms(searcher, std::slice::from_ref(term));
        weights.push(weight.map_err(index_error)?.boost_by(*boost));
    }
    // The average field length the weights score with, computed as `for_terms` does.
    let average = {
        use tantivy::query::Bm25StatisticsProvider;
        let tokens = searcher
            .total_num_tokens(fields.words)
            .map_err(index_error)?;
        let docs = Bm25StatisticsProvider::total_num_docs(searcher).map_err(index_error)?;
        tokens as f32 / docs as f32
    };
    let imported = Term::from_field_text(fields.has, IMPORTED);
    // Each segment on the index's pool, as tantivy's own searches: under a burst the matches
    // wait their turn there instead of sharing the cores slice by slice, which tripled p99.
    let segments = searcher.segment_readers().iter().enumerate();
    let per_segment = searcher.index().search_executor().map(
        |(ord, segment)| -> tantivy::Result<Vec<(f32, DocAddress)>> {
            let words = segment.inverted_index(fields.words)?;
            let norms = segment.get_fieldnorms_reader(fields.words)?;
            // Tantivy keeps, for each full block of postings, the claim of the highest score by
            // the segment's own average field length when written; by another average a claim
            // of the block scores at most `stretch` times that claim (both ratios bound how far
            // a field length's share moves), and a little more for rounding.
            let written = words.total_num_tokens() as f32 / norms.num_docs() as f32;
            let stretch = (average / written).max(written / average) * 1.001;
            let mut lists = Vec::with_capacity(terms.len());
            for ((term, _), weight) in terms.iter().zip(&weights) {
                let postings = words.read_block_postings(term, IndexRecordOption::WithFreqs)?;
                let mut list = TermPostings {
                    docs: Vec::new(),
                    freqs: Vec::new(),
                    norms: &norms,
                    weight,
                };
                let mut max = 0.0f32;
                if let Some(mut postings) = postings {
                    list.docs.reserve(postings.doc_freq() as usize);
                    list.freqs.reserve(postings.doc_freq() as usize);
                    while !postings.docs().is_empty() {
                        let bound = postings.block_max_score(&norms, weight) * stretch;
                        // A block with no bound kept (none written, a length unknown): the most
                        // any claim can score.
                        max = max.max(if bound.is_finite() && bound > 0.0 {
                            bound
                        } else {
                            weight.max_score()
                        });
                        list.docs.extend_from_slice(postings.docs());
                        list.freqs.extend_from_slice(postings.freqs());
                        postings.advance();
                    }
                }
                lists.push((max, list));
            }
            let mut left_out = Vec::new();
            let has = segment.inverted_index(fields.has)?;
            let postings = has.read_block_postings(&imported, IndexRecordOption::Basic)?;
            each_block(postings, |docs, _| left_out.extend(docs));
            let alive = segment.alive_bitset();
            let keep = |doc| {
                alive.is_none_or(|alive| alive.is_alive(doc))
                    && left_out.binary_search(&doc).is_err()
            };
            let lists: Vec<Scored<'_, TermPostings<'_>>> = lists
                .iter()
                .map(|(max, claims)| Scored {
                    weight: 1.0,
                    max: *max,
                    claims,
                })
                .collect();
            let found = crate::draft::matcher::best_sums(&lists, limit, keep);
            let address = |(doc, score)| (score, DocAddress::new(ord as u32, doc));
            Ok(found.into_iter().map(address).collect())
        },
        segments,
    );
    let mut best: Vec<(f32, DocAddress)> = per_segment
        .map_err(index_error)?
        .into_iter()
        .flatten()
        .collect();
    best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    best.truncate(limit);
    Ok(best.into_iter().map(|(_, address)| address).collect())
}

/// A term's postings in a segment, each claim scored only when [`best_sums`] asks: the common
/// terms' claims that cannot lift a claim into the best are never scored.
///
/// [`best_sums`]: crate::draft::matcher::best_sums
struct TermPostings<'a> {
    docs: Vec<tantivy::DocId>,
    freqs: Vec<u32>,
    norms: &'a tantivy::fieldnorm::FieldNormReader,
    weight: &'a Bm25Weight,
}

impl Postings for TermPostings<'_> {
    fn count(&self) -> usize {
        self.docs.len()
    }
    fn claim(&self, at: usize) -> u32 {
        self.docs[at]
    }
    fn score(&self, at: usize) -> f32 {
        let doc = self.docs[at];
        self.weight
            .score(self.norms.fieldnorm_id(doc), self.freqs[at])
    }
}

/// Calls `f` with each block of `postings` (its claims, and the term's frequency in each).
fn each_block(
    postings: Option<tantivy::postings::BlockSegmentPostings>,
    mut f: impl FnMut(&[tantivy::DocId], &[u32]),
) {
    let Some(mut postings) = postings else {
        return;
    };
    while !postings.docs().is_empty() {
        f(postings.docs(), postings.freqs());
        postings.advance();
    }
}

/// What the index offers a match: the candidates, and the statistics to weigh words by.
pub struct Candidates {
    pub claims: Vec<KnownClaim>,
    /// Each claim's tokens ([`KnownClaim::tokens`]).
    pub tokens: Vec<Vec<String>>,
    pub total: u64,
    pub frequencies: std::collections::HashMap<String, u64>,
}

impl Candidates {
    /// The matcher's inverse document frequency of `token` over the whole index.
    pub fn idf(&self, token: &str) -> Option<f32> {
        let df = *self.frequencies.get(token)?;
        (df > 0).then(|| (1.0 + self.total.max(1) as f32 / df as f32).ln())
    }
}

/// One part of a search's words.
#[derive(Debug, PartialEq)]
enum Part {
    /// A word or a quoted phrase (its words in order), possibly excluded with `-`.
    Words { text: String, excluded: bool },
    /// `word*` or `"some words*"`: the last word is a prefix.
    Prefix(String),
}

/// Splits a search into words, phrases and prefixes. Never fails: an unbalanced quote is read
/// as if absent, and other engines' operators (`AND`, `(`, `:`) are words.
fn split_query(q: &str) -> Vec<Part> {
    let q = if q.matches('"').count().is_multiple_of(2) {
        q.to_owned()
    } else {
        q.replace('"', " ")
    };
    let mut parts = Vec::new();
    let mut rest = q.trim_start();
    while !rest.is_empty() {
        let (excluded, body) = match rest.strip_prefix('-') {
            Some(b) if !b.is_empty() && !b.starts_with(char::is_whitespace) => (true, b),
            _ => (false, rest),
        };
        let (text, tail, quoted) = match body.strip_prefix('"') {
            Some(inner) => {
                let end = inner.find('"').unwrap_or(inner.len());
                (&inner[..end], inner.get(end + 1..).unwrap_or(""), true)
            }
            None => {
                let end = body
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(body.len());
                (&body[..end], &body[end..], false)
            }
        };
        let (text, prefix, tail) = match (quoted, tail.strip_prefix('*'), text.strip_suffix('*')) {
            (true, Some(tail), _) => (text, true, tail),
            (_, _, Some(text)) => (text, true, tail),
            _ => (text, false, tail),
        };
        parts.push(if prefix && !excluded {
            Part::Prefix(text.to_owned())
        } else {
            Part::Words {
                text: text.to_owned(),
                excluded,
            }
        });
        rest = tail.trim_start();
    }
    parts
}

/// A cursor of a ranked search: the score and the IRI of the last claim of the previous page.
fn ranked_cursor(after: &str) -> Result<(f32, &str)> {
    let invalid = || {
        Error::Invalid(format!(
            "after={after:?} is not a cursor of this search: pass the next_after of its previous page"
        ))
    };
    let (score, iri) = after
        .strip_prefix('r')
        .and_then(|c| c.split_once('.'))
        .ok_or_else(invalid)?;
    if score.len() != 8 || iri.is_empty() {
        return Err(invalid());
    }
    let score = f32::from_bits(u32::from_str_radix(score, 16).map_err(|_| invalid())?);
    Ok((score, iri))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::TantivyDocument;

    /// A match's candidates are those of tantivy's own top documents for a union of boosted
    /// term queries without the imported claims, over segments, deletions, ties and lengths
    /// that differ from segment to segment.
    #[test]
    fn the_best_by_words_are_tantivy_s_top_documents() {
        let (schema, fields) = super::super::schema();
        let index = tantivy::Index::create_in_ram(schema);
        index
            .tokenizers()
            .register(ANALYZER, super::super::analyzer());
        index.tokenizers().register(
            "whitespace",
            tantivy::tokenizer::TextAnalyzer::from(
                tantivy::tokenizer::WhitespaceTokenizer::default(),
            ),
        );
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let mut seed = 5u64;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        let vocabulary: Vec<String> = (0..30).map(|w| format!("w{w}")).collect();
        for segment in 0..3 {
            for doc in 0..3_000 {
                let mut document = TantivyDocument::default();
                let claim = format!("c{segment}-{doc}");
                document.add_text(fields.claim, &claim);
                // Word `w` in about one claim in `w + 1`: rare and common words, some twice.
                let mut words: Vec<&str> = Vec::new();
                for (w, word) in vocabulary.iter().enumerate() {
                    if next(w as u64 + 1) == 0 {
                        words.push(word);
                        if next(4) == 0 {
                            words.push(word);
                        }
                    }
                }
                // Lengths that differ within a segment and between segments: each segment's
                // block maxima were chosen by its own average length, the scores use all three's.
                let filler = next([3, 20, 60][segment as usize]);
                words.extend(std::iter::repeat_n("filler", filler as usize));
                document.add_text(fields.words, words.join(" "));
                if next(9) == 0 {
                    document.add_text(fields.has, IMPORTED);
                }
                writer.add_document(document).unwrap();
            }
            writer.commit().unwrap();
            for _ in 0..200 {
                let claim = format!("c{}-{}", next(segment + 1), next(3_000));
                writer.delete_term(Term::from_field_text(fields.claim, &claim));
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        for round in 0..100 {
            let mut words: Vec<usize> = (0..1 + next(8)).map(|_| next(30) as usize).collect();
            words.dedup();
            let terms: Vec<(Term, f32)> = words
                .iter()
                .map(|w| {
                    let term = Term::from_field_text(fields.words, &vocabulary[*w]);
                    (term, if next(3) == 0 { 0.25 } else { 1.0 })
                })
                .collect();
            let limit = [1, 5, 20, 400][round % 4];
            let union: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|(term, boost)| {
                    let word = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                    let word: Box<dyn Query> =
                        Box::new(tantivy::query::BoostQuery::new(Box::new(word), *boost));
                    (Occur::Should, word)
                })
                .collect();
            let imported = TermQuery::new(
                Term::from_field_text(fields.has, IMPORTED),
                IndexRecordOption::Basic,
            );
            let query = BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(union)) as Box<dyn Query>,
                ),
                (Occur::MustNot, Box::new(imported)),
            ]);
            let top = searcher
                .search(&query, &TopDocs::with_limit(limit))
                .unwrap();
            let expected: Vec<DocAddress> = top.into_iter().map(|(_, address)| address).collect();
            let found = best_by_words(&searcher, &fields, &terms, limit).unwrap();
            assert_eq!(found, expected, "round {round}: {words:?}");
        }
    }

    /// Claims alike but for a number can be more than a match shortlists: the number's cells
    /// ([`crate::draft::matcher`]'s `nearness`) bring the nearest in, and it ranks first.
    #[test]
    fn of_claims_alike_but_for_a_number_the_nearest_is_matched() {
        use super::super::document::ClaimDocument;
        use crate::draft::matcher::{tokens_and_pairs, Claims};
        let dir = tempfile::tempdir().unwrap();
        let (index, _) = super::super::ClaimIndex::open(dir.path()).unwrap();
        let alike = |n: u64| {
            format!("the plaintiffs allege that Zhou Foundation funded Ember Foods (exhibit {n})")
        };
        let mut writer = index.writer().unwrap();
        // From 10,000 claims on, a match shortlists by its rarest words: 60 claims alike, 20
        // shortlisted.
        for n in 0..10_000u64 {
            let text = if n < 60 {
                alike(1 + 16 * n)
            } else {
                format!("report r{n} about river{} and valley{}", n % 97, n % 89)
            };
            let mut doc = ClaimDocument {
                claim: format!("http://example.com/claims/c{n}"),
                text: text.clone(),
                ..ClaimDocument::default()
            };
            doc.record.claim = format!("<{}>", doc.claim);
            doc.record.texts =
                vec![oxigraph::model::Literal::new_simple_literal(&text).to_string()];
            writer.add_document(index.tantivy_document(&doc)).unwrap();
        }
        super::super::commit(&mut writer, 1).unwrap();
        drop(writer);
        index.reload().unwrap();
        let matcher = index.matcher("http://example.com/");
        // 497 is claim 31's number; 498 is no claim's.
        let (tokens, pairs) = tokens_and_pairs(&alike(498));
        let shortlist = matcher.candidates(&tokens, &pairs, 20).unwrap();
        let keys: Vec<&str> = shortlist.claims.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.contains(&"c31"), "{keys:?}");
        let found = Claims::Index(matcher).best(&alike(498), None, 3).unwrap();
        assert_eq!(found[0].claim, "c31", "{found:?}");
        assert!(found[0].score > found[1].score, "{found:?}");
        let changed = &found[0].differences[0];
        assert_eq!(
            (changed.here.as_str(), changed.known.as_str()),
            ("498", "497")
        );
    }

    #[test]
    fn a_document_s_one_stored_value_is_its_record() {
        let (schema, fields) = super::super::schema();
        let index = tantivy::Index::create_in_ram(schema);
        index
            .tokenizers()
            .register(ANALYZER, super::super::analyzer());
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        let mut with = TantivyDocument::default();
        with.add_text(fields.claim, "http://x/c1");
        with.add_text(fields.body, "the claim's text");
        with.add_text(fields.record, "record one");
        with.add_text(fields.status, "Alleged");
        let mut without = TantivyDocument::default();
        without.add_text(fields.claim, "http://x/c2");
        without.add_text(fields.body, "another text");
        for doc in [with, without] {
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let read = |doc| stored_record(&searcher, fields.record, DocAddress::new(0, doc));
        assert_eq!(read(0).unwrap(), "record one");
        // Never an empty record read as if it were one.
        assert!(read(1).is_err());
    }

    #[test]
    fn a_page_walks_the_claims_when_that_reads_fewer_than_sorting_the_matches() {
        let claims = 1_000_000;
        // Every claim, or most, for any page; a twentieth for a short page, not a long one.
        assert!(walks(claims, 500, claims));
        assert!(walks(435_000, 500, claims));
        assert!(walks(43_000, 20, claims));
        assert!(!walks(43_000, 200, claims));
        // A hundredth for the counts alone (a page of one), not for a page of twenty.
        assert!(walks(12_000, 1, claims));
        assert!(!walks(10_000, 20, claims));
        assert!(!walks(0, 1, claims));
    }

    #[test]
    fn queries_split_into_words_phrases_and_prefixes() {
        let words = |t: &str| Part::Words {
            text: t.into(),
            excluded: false,
        };
        assert_eq!(
            split_query(r#"meta "secret project" ghost* -netflix"#),
            vec![
                words("meta"),
                words("secret project"),
                Part::Prefix("ghost".into()),
                Part::Words {
                    text: "netflix".into(),
                    excluded: true
                }
            ]
        );
        // An unbalanced quote is read as if absent.
        assert_eq!(
            split_query(r#"meta "secret project"#),
            vec![words("meta"), words("secret"), words("project")]
        );
        assert_eq!(
            split_query(r#""big tech*""#),
            vec![Part::Prefix("big tech".into())]
        );
        assert_eq!(
            split_query("AND OR ( ) :"),
            vec![
                words("AND"),
                words("OR"),
                words("("),
                words(")"),
                words(":")
            ]
        );
    }

    /// Facet counts over several segments equal counts made by hand: values concentrated (the
    /// candidates suffice) and spread evenly (every value is read), values given twice in one
    /// document counted once.
    #[test]
    fn facet_counts_are_exact_over_segments() {
        use tantivy::schema::{Schema, FAST, STRING};
        let mut builder = Schema::builder();
        let field = builder.add_text_field("f", STRING | FAST);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
        let mut seed = 7u64;
        for segment in 0..4 {
            for doc in 0..400u64 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // A few frequent values, and a long tail spread evenly over the segments.
                let value = if doc % 3 == 0 {
                    format!("common-{}", seed % 4)
                } else {
                    format!("rare-{}", (seed >> 20) % 700)
                };
                let mut document = TantivyDocument::default();
                document.add_text(field, &value);
                document.add_text(field, &value);
                if doc % 5 == 0 {
                    document.add_text(field, format!("segment-{segment}"));
                    *expected.entry(format!("segment-{segment}")).or_default() += 1;
                }
                *expected.entry(value).or_default() += 1;
                writer.add_document(document).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 4);
        let mut by_hand: Vec<(String, u64)> = expected.into_iter().collect();
        by_hand.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for size in [1, 3, 10, 50, 2_000] {
            let (total, counts) =
                terms_counts(&searcher, &AllQuery, &["f".to_owned()], size).unwrap();
            assert_eq!(total, 1_600);
            let wanted: Vec<_> = by_hand.iter().take(size).cloned().collect();
            assert_eq!(counts[0].1, wanted, "size {size}");
        }
    }

    #[test]
    fn ranked_pages_keep_iri_order_within_ties_in_ordered_segments_and_others() {
        use tantivy::schema::{Schema, FAST, STRING, TEXT};
        let mut builder = Schema::builder();
        let claim = builder.add_text_field("claim", STRING | FAST);
        let text = builder.add_text_field("text", TEXT);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        // One segment written in IRI order, one in the reverse order; most claims tie.
        let texts = [
            "alpha beta",
            "alpha beta",
            "alpha beta",
            "alpha",
            "beta beta gamma",
        ];
        for (segment, reversed) in [("a", false), ("b", true)] {
            let mut order: Vec<usize> = (0..300).collect();
            if reversed {
                order.reverse();
            }
            for n in order {
                let mut document = TantivyDocument::default();
                document.add_text(claim, format!("http://x/{segment}{n:04}"));
                document.add_text(text, texts[n % texts.len()]);
                writer.add_document(document).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        let ordered: Vec<SegmentClaims> = searcher
            .segment_readers()
            .iter()
            .map(|r| SegmentClaims::read(r).unwrap())
            .collect();
        let mut sorted: Vec<bool> = ordered.iter().map(|s| s.in_iri_order).collect();
        sorted.sort();
        assert_eq!(sorted, [false, true]);
        let query = BooleanQuery::new(vec![
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(text, "alpha"),
                    IndexRecordOption::WithFreqs,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(text, "beta"),
                    IndexRecordOption::WithFreqs,
                )),
            ),
        ]);
        let key = |found: Vec<((f32, String), DocAddress)>| -> Vec<(f32, String)> {
            found.into_iter().map(|(key, _)| key).collect()
        };
        // A page longer than the matches is never pruned: every match, compared one by one.
        let whole = key(ranked_top(&searcher, &query, 1_000, None, &ordered).unwrap());
        assert_eq!(whole.len(), 600);
        let mut expected = whole.clone();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        assert!(whole == expected, "not best first, then in IRI order");
        for limit in [1, 3, 7, 50] {
            let mut paged: Vec<(f32, String)> = Vec::new();
            loop {
                let after = paged.last().map(|(score, iri)| (*score, iri.as_str()));
                let page = key(ranked_top(&searcher, &query, limit, after, &ordered).unwrap());
                if page.is_empty() {
                    break;
                }
                paged.extend(page);
            }
            assert!(paged == whole, "pages of {limit}");
        }
    }

    #[test]
    fn the_spine_and_the_few_others_come_in_iri_order_with_deletions() {
        use tantivy::schema::{Schema, FAST, STORED, STRING, TEXT};
        let mut builder = Schema::builder();
        let claim = builder.add_text_field("claim", STRING | FAST | STORED);
        let text = builder.add_text_field("text", TEXT);
        let index = tantivy::Index::create_in_ram(builder.build());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let add = |writer: &mut tantivy::IndexWriter, n: usize| {
            let mut document = TantivyDocument::default();
            document.add_text(claim, format!("http://x/{n:04}"));
            document.add_text(text, if n.is_multiple_of(3) { "alpha" } else { "beta" });
            if n.is_multiple_of(50) {
                document.add_text(text, "gamma");
            }
            writer.add_document(document).unwrap();
        };
        // The spine: even claims in IRI order. Then, in a segment out of order, odd claims
        // before, between and after them, and a few of the spine's written again.
        for n in (2..400).step_by(2) {
            add(&mut writer, n);
        }
        writer.commit().unwrap();
        let again = [2, 100, 398];
        for n in [401, 1, 37, 199, 3, 250 + 1] {
            add(&mut writer, n);
        }
        for n in again {
            writer.delete_term(Term::from_field_text(claim, &format!("http://x/{n:04}")));
        }
        writer.commit().unwrap();
        for n in again {
            add(&mut writer, n);
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        // The spine and the segment of claims written again are in IRI order: the largest leads.
        let ordered: Vec<SegmentClaims> = searcher
            .segment_readers()
            .iter()
            .map(|r| SegmentClaims::read(r).unwrap())
            .collect();
        assert_eq!(ordered.iter().filter(|s| s.in_iri_order).count(), 2);
        let iri = |address: DocAddress| -> String {
            let stored: TantivyDocument = searcher.doc(address).unwrap();
            stored
                .get_first(claim)
                .and_then(|v| v.as_str())
                .unwrap()
                .to_owned()
        };
        let alpha = TermQuery::new(
            Term::from_field_text(text, "alpha"),
            IndexRecordOption::Basic,
        );
        let gamma = TermQuery::new(
            Term::from_field_text(text, "gamma"),
            IndexRecordOption::Basic,
        );
        let mut live: Vec<usize> = (2..400).step_by(2).collect();
        live.extend([401, 1, 37, 199, 3, 251]);
        live.sort();
        let only = |keep: fn(&usize) -> bool| live.iter().copied().filter(keep).collect();
        // All the spine's records and a third of them are read in one pass over its store; a
        // fiftieth one by one.
        for (query, expected) in [
            (None, live.clone()),
            (Some(&alpha as &dyn Query), only(|n| n.is_multiple_of(3))),
            (Some(&gamma as &dyn Query), only(|n| n.is_multiple_of(50))),
        ] {
            let expected: Vec<String> = expected
                .iter()
                .map(|n| format!("http://x/{n:04}"))
                .collect();
            let mut found = Vec::new();
            // The claim's IRI is the test's stored record: each comes with its own document.
            assert!(
                along_the_spine(&searcher, claim, query, &ordered, |a, record| {
                    assert_eq!(record, iri(a));
                    found.push(iri(a));
                    Ok(true)
                })
                .unwrap()
            );
            assert_eq!(found, expected);
            // It stops when asked to.
            let mut first = Vec::new();
            along_the_spine(&searcher, claim, query, &ordered, |a, _| {
                first.push(iri(a));
                Ok(first.len() < 2)
            })
            .unwrap();
            assert_eq!(first, expected[..2]);
        }
        // Without an ordered segment, or with too many documents beside it, it leaves the walk
        // to the dictionaries.
        let never = |_, _: &str| -> Result<bool> { panic!("visited") };
        let marked = |ordered: &dyn Fn(&tantivy::SegmentReader) -> bool| -> Vec<SegmentClaims> {
            searcher
                .segment_readers()
                .iter()
                .map(|r| SegmentClaims {
                    in_iri_order: ordered(r),
                    ..SegmentClaims::read(r).unwrap()
                })
                .collect()
        };
        let none = marked(&|_| false);
        assert!(!along_the_spine(&searcher, claim, None, &none, never).unwrap());
        let small = marked(&|r| r.max_doc() == 6);
        assert!(!along_the_spine(&searcher, claim, None, &small, never).unwrap());
    }
}
