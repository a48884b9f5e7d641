//! Matching a sentence against the claims already known: which claims it most likely restates,
//! and how it differs from each.
//!
//! Scores are cosine similarities of TF-IDF vectors over a claim's text and all its quotes (words
//! lower-cased and lightly stemmed, stop words dropped, sums of money as one token each), in
//! [0, 1]. An inverted index keeps a match proportional to the claims sharing a word with the
//! sentence, not to all claims.
//!
//! Invariant: the index is built once from a fixed list of claims and never changes; a new set
//! of claims means a new `Matcher`.

use super::mentions::{self, Money};
use crate::error::Result;
use serde::Serialize;
use std::collections::HashMap;

/// A claim the graph already holds.
#[derive(Debug, Clone, Default)]
pub struct KnownClaim {
    pub key: String,
    pub text: String,
    pub quotes: Vec<String>,
    pub status: String,
    pub claimant: String,
}

impl KnownClaim {
    /// The matcher's tokens ([`tokens`]) of the claim's text and all its quotes.
    pub fn tokens(&self) -> Vec<String> {
        let mut all = tokens(&self.text);
        for quote in &self.quotes {
            all.extend(tokens(quote));
        }
        all
    }
}

/// One way a restatement differs from the claim as known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `amount`, `number`, `date`, `name`, `qualifier` or `status`.
    pub kind: &'static str,
    /// The wording in the new text.
    pub here: String,
    /// The wording (or status) the claim is known with.
    pub known: String,
}

/// A known claim a sentence likely restates.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub claim: String,
    pub score: f64,
    pub differences: Vec<Difference>,
}

pub struct Matcher {
    claims: Vec<KnownClaim>,
    /// Token → (claim, weight) with weights already TF-IDF and normalised per claim.
    postings: HashMap<String, Vec<(u32, f32)>>,
    idf: HashMap<String, f32>,
}

/// From this many claims on, a match shortlists by the words most claims do not share.
const COMMON_WORDS_FROM: usize = 10_000;
/// How many claims the rarer words shortlist for scoring with every word.
const SHORTLIST: usize = 20;

/// How many claims [`best_sums`] adds up at a time: its sums then stay in the core's own cache.
#[cfg(not(test))]
const WINDOW: u32 = 8192;
/// The unit tests' indexes are small: their windows are too, so that MaxScore skips some.
#[cfg(test)]
const WINDOW: u32 = 256;

/// One word's claims for [`best_sums`], sorted by claim, each score positive and at most `max`.
/// A claim's share of its sum is `weight × score`.
pub struct Scored<'a, P: Postings + ?Sized = [(u32, f32)]> {
    pub weight: f32,
    pub max: f32,
    pub claims: &'a P,
}

/// A word's claims in increasing order, each with its score. A score is only asked for where
/// it counts: the index scores its postings as [`best_sums`] reads them, so the claims of the
/// common words that cannot lift a claim into the best cost no scoring.
pub trait Postings {
    /// How many claims the word has.
    fn count(&self) -> usize;
    fn claim(&self, at: usize) -> u32;
    fn score(&self, at: usize) -> f32;
}

impl Postings for [(u32, f32)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn claim(&self, at: usize) -> u32 {
        self[at].0
    }
    fn score(&self, at: usize) -> f32 {
        self[at].1
    }
}

/// The `wanted` claims whose sums of shares in `lists` are highest, then the lowest claim
/// first, best first; claims `keep` refuses are left out. A claim's shares are added in the
/// order of `lists`, so the sums are those of adding the lists one after another.
///
/// The lists are read side by side, a window of claims at a time: summing into one slot per
/// claim of a million (4 MB for each of the server's threads) spent most of a match waiting for
/// memory, and a hash map's inserts were most of a match's time at 100,000 claims. Once
/// `wanted` claims are found, the last lists whose shares together cannot lift a claim past the
/// last of them (MaxScore) no longer add to every claim: only the claims the others found that
/// could still make it get their shares, and a window where none could is skipped. The answer
/// is the same.
pub fn best_sums<P: Postings + ?Sized>(
    lists: &[Scored<'_, P>],
    wanted: usize,
    keep: impl Fn(u32) -> bool,
) -> Vec<(u32, f32)> {
    let mut at = vec![0usize; lists.len()];
    let mut sums = vec![0.0f32; WINDOW as usize];
    let mut touched: Vec<u32> = Vec::new();
    let mut could: Vec<u32> = Vec::new();
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(wanted + 1);
    // The most the lists from `from` on can add to `sum`, rounded as the sums are: adding is
    // monotonic, so no claim's sum exceeds it.
    let most = |sum: f32, from: usize| {
        lists[from..]
            .iter()
            .fold(sum, |sum, list| sum + list.weight * list.max)
    };
    loop {
        // A claim past those found enters only with a sum above the last one's.
        let bar = if best.len() == wanted {
            best.last().map_or(f32::INFINITY, |(_, sum)| *sum)
        } else {
            f32::NEG_INFINITY
        };
        let read = (0..=lists.len())
            .find(|&from| most(0.0, from) <= bar)
            .unwrap_or(lists.len());
        // Only a claim of the lists read can make it.
        let next = lists[..read]
            .iter()
            .zip(&at)
            .filter(|(list, i)| **i < list.claims.count())
            .map(|(list, &i)| list.claims.claim(i));
        let Some(first) = next.min() else {
            break;
        };
        let end = first.saturating_add(WINDOW);
        for (list, i) in lists[..read].iter().zip(&mut at) {
            let claims = list.claims;
            while *i < claims.count() {
                let claim = claims.claim(*i);
                if claim >= end {
                    break;
                }
                let slot = &mut sums[(claim - first) as usize];
                if *slot == 0.0 {
                    touched.push(claim - first);
                }
                *slot += list.weight * claims.score(*i);
                *i += 1;
            }
        }
        // Claims that cannot make it keep no sum: a slot not zero is then one worth completing.
        for &offset in &touched {
            let slot = &mut sums[offset as usize];
            if most(*slot, read) > bar {
                could.push(offset);
            } else {
                *slot = 0.0;
            }
        }
        for (list, i) in lists[read..].iter().zip(&mut at[read..]) {
            let claims = list.claims;
            if could.is_empty() {
                *i = gallop(claims, *i, end);
                continue;
            }
            // Its claims below the window are in no list read.
            *i = gallop(claims, *i, first);
            while *i < claims.count() {
                let claim = claims.claim(*i);
                if claim >= end {
                    break;
                }
                let slot = &mut sums[(claim - first) as usize];
                if *slot != 0.0 {
                    *slot += list.weight * claims.score(*i);
                }
                *i += 1;
            }
        }
        for &offset in &could {
            let (claim, sum) = (first + offset, std::mem::take(&mut sums[offset as usize]));
            if keep(claim) {
                insert_ranked(&mut best, (claim, sum), wanted);
            }
        }
        touched.clear();
        could.clear();
    }
    best
}

/// The first place at or after `from` in `claims` whose claim is not below `claim`: steps that
/// double, then halving, so a short way costs a few reads.
fn gallop<P: Postings + ?Sized>(claims: &P, from: usize, claim: u32) -> usize {
    let mut step = 1;
    let mut low = from;
    while low + step < claims.count() && claims.claim(low + step) < claim {
        low += step;
        step *= 2;
    }
    let high = (low + step + 1).min(claims.count());
    let (mut low, mut high) = (low, high);
    // The first place in low..high not below `claim`.
    while low < high {
        let middle = low + (high - low) / 2;
        if claims.claim(middle) < claim {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// Sorted, for a binary search (a unit test checks).
const STOP: &[&str] = &[
    "a",
    "about",
    "according",
    "after",
    "also",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "her",
    "his",
    "in",
    "into",
    "is",
    "it",
    "its",
    "more",
    "not",
    "of",
    "on",
    "or",
    "our",
    "over",
    "said",
    "says",
    "she",
    "so",
    "some",
    "than",
    "that",
    "the",
    "their",
    "these",
    "they",
    "this",
    "those",
    "to",
    "was",
    "we",
    "were",
    "which",
    "who",
    "whom",
    "will",
    "with",
    "would",
];

/// The words of `text` as matching tokens.
pub fn tokens(text: &str) -> Vec<String> {
    with_money(text, words_in_order(text).collect())
}

/// The matching tokens of `text` ([`tokens`]) and its word pairs ([`pairs`]), its words split
/// once.
pub fn tokens_and_pairs(text: &str) -> (Vec<String>, Vec<String>) {
    let words: Vec<String> = words_in_order(text).collect();
    let pairs = pairs_of(&words);
    (with_money(text, words), pairs)
}

/// `words` with the sums of money in `text` as one token each.
fn with_money(text: &str, mut out: Vec<String>) -> Vec<String> {
    // Money has digits; most texts have none, and the regex is the costly part.
    if text.bytes().any(|b| b.is_ascii_digit()) {
        out.extend(
            mentions::money(text)
                .into_iter()
                .map(|m| format!("#{}{}", m.currency, m.amount)),
        );
    }
    out
}

/// Tokens two numbers share when they are near, for finding the claims with a number near a
/// sentence's: claims alike but for a number can be more than a match shortlists ([`cosine`]
/// then weighs the nearness). A number is put in a cell of its first two digits (of its first for
/// a number of two digits), in two grids, the second shifted by half a cell: 843 gives
/// `~3a84` (840-849) and `~3b84` (835-844), 89 `~2a8` and `~2b9`. Only the index has them (a
/// claim's document, the search for candidates), never [`tokens`]: a sentence searches only its
/// [`central_cell`].
pub fn nearness(word: &str) -> Vec<String> {
    cells(word).map_or_else(Vec::new, |(a, b, _)| vec![a, b])
}

/// The one of a number's two [`nearness`] cells it lies nearest the middle of: it holds every
/// number less than a quarter of a cell away. At a million claims, searching four cells a
/// number (of one digit and of two, both grids) cost a third of the matches a second; the
/// central one costs a twelfth.
pub fn central_cell(word: &str) -> Option<String> {
    cells(word).map(|(a, b, central_a)| if central_a { a } else { b })
}

/// A number's two cells, and whether it is nearer the middle of the first.
fn cells(word: &str) -> Option<(String, String, bool)> {
    if word.len() < 2 || word.len() > 18 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = word.parse::<u64>().ok()?;
    let digits = value.checked_ilog10()? + 1;
    if digits < 2 {
        return None;
    }
    let cell = 10u64.pow(digits.max(3) - 2);
    let within = value % cell;
    Some((
        format!("~{digits}a{}", value / cell),
        format!("~{digits}b{}", (value + cell / 2) / cell),
        (cell / 4..cell - cell / 4).contains(&within),
    ))
}

/// The stemmed words of `text` that are not stop words, in their order. Each word is made
/// once, in place: the candidates of a match are tokenized again at every match, and
/// allocating twice, searching for suffixes and scanning the stop words were much of it.
fn words_in_order(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter_map(|w| {
            let mut w = w.trim_matches(|c| c == '\'' || c == '’');
            while let Some(rest) = w.strip_suffix("'s") {
                w = rest;
            }
            while let Some(rest) = w.strip_suffix("’s") {
                w = rest;
            }
            let mut w = if w.is_ascii() {
                w.to_ascii_lowercase()
            } else {
                w.to_lowercase()
            };
            if w.is_empty() || STOP.binary_search(&w.as_str()).is_ok() {
                return None;
            }
            w.truncate(stemmed_len(&w));
            Some(w)
        })
}

/// Each two words of `text` that follow one another (stop words left out), as one token
/// `first+second`. A pair is far rarer than either word: two claims of one template share
/// most words, but seldom the pairs at the seams between its parts and the names in it.
pub fn pairs(text: &str) -> Vec<String> {
    pairs_of(&words_in_order(text).collect::<Vec<_>>())
}

fn pairs_of(words: &[String]) -> Vec<String> {
    words
        .windows(2)
        .map(|w| format!("{}+{}", w[0], w[1]))
        .collect()
}

/// Whether a token is a bare number, a sum of money ([`tokens`]' `#USD265000000`) or a
/// number's [`nearness`] (searched in the index): what a restatement most often changes, so it
/// weighs a quarter of a word wherever a match weighs words. A sum weighed as a rare word outranked the claim
/// restated: "agreed to pay $115 million to settle" matched another claimant's settlement of
/// that sum before the claim it restates with $114 million.
pub fn is_figure(token: &str) -> bool {
    if token.starts_with('~') {
        return true;
    }
    let number = match token.strip_prefix('#') {
        Some(money) => money.trim_start_matches(|c: char| c.is_ascii_uppercase()),
        None => token,
    };
    number.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The words of `text`, stemmed, for comparing quotes (no money tokens: see [`tokens`]).
fn words(text: &str) -> std::collections::HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(|w| stem(&w.to_lowercase()))
        .collect()
}

fn stem(word: &str) -> String {
    word[..stemmed_len(word)].to_owned()
}

/// How much of `word` its stem keeps: without the first of these endings that leaves four
/// letters or more.
fn stemmed_len(word: &str) -> usize {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(stripped) = word.strip_suffix(suffix) {
            if stripped.chars().count() >= 4 {
                return stripped.len();
            }
        }
    }
    word.len()
}

fn counts(tokens: &[String]) -> Vec<(&str, f32)> {
    // In the order the tokens first come, not a hash map's: the weights are summed in this
    // order, and sums in another order round otherwise, which reordered tied matches from one
    // process to the next. A text has a few dozen tokens: a list is also quicker.
    let mut counts: Vec<(&str, f32)> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match counts.iter_mut().find(|(seen, _)| *seen == t) {
            Some((_, count)) => *count += 1.0,
            None => counts.push((t, 1.0)),
        }
    }
    counts
}

/// The TF-IDF weights of `tokens` (log term frequency), scaled to unit length; tokens `idf`
/// does not know are left out.
fn unit_weights(tokens: &[String], idf: impl Fn(&str) -> Option<f32>) -> Vec<(&str, f32)> {
    let weights: Vec<(&str, f32)> = counts(tokens)
        .into_iter()
        .filter_map(|(t, c)| {
            // A figure is what a restatement most often changes (the differences name it),
            // and a rare one would otherwise outweigh every word: it counts a quarter.
            let figure = if is_figure(t) { 0.25 } else { 1.0 };
            idf(t).map(|idf| (t, (1.0 + c.ln()) * idf * figure))
        })
        .collect();
    let norm = weights
        .iter()
        .map(|(_, w)| w * w)
        .sum::<f32>()
        .sqrt()
        .max(1e-6);
    weights.into_iter().map(|(t, w)| (t, w / norm)).collect()
}

impl Matcher {
    pub fn new(claims: Vec<KnownClaim>) -> Self {
        let documents: Vec<Vec<String>> = claims.iter().map(KnownClaim::tokens).collect();
        let mut df: HashMap<&str, f32> = HashMap::new();
        for doc in &documents {
            for (token, _) in counts(doc) {
                *df.entry(token).or_insert(0.0) += 1.0;
            }
        }
        let n = documents.len().max(1) as f32;
        let idf: HashMap<String, f32> = df
            .iter()
            .map(|(t, d)| ((*t).to_owned(), (1.0 + n / d).ln()))
            .collect();
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        for (index, doc) in documents.iter().enumerate() {
            for (t, w) in unit_weights(doc, |t| idf.get(t).copied()) {
                postings
                    .entry(t.to_owned())
                    .or_default()
                    .push((index as u32, w));
            }
        }
        Self {
            claims,
            postings,
            idf,
        }
    }

    /// The cosine of `query` (unit weights) and the claim at `index`, with every word.
    fn score(&self, index: u32, query: &[(&str, f32)]) -> f32 {
        cosine(&self.claims[index as usize].tokens(), query, |t| {
            self.idf.get(t).copied()
        })
    }

    pub fn claim(&self, key: &str) -> Option<&KnownClaim> {
        self.claims.iter().find(|c| c.key == key)
    }

    /// The `limit` known claims `text` most likely restates, best first, with the differences
    /// from each. `status` is the status the text asserts it with, if known.
    pub fn best(&self, text: &str, status: Option<&str>, limit: usize) -> Vec<Match> {
        let query = tokens(text);
        let all = unit_weights(
            &query,
            with_unknown_numbers(|t| self.idf.get(t).copied(), self.claims.len()),
        );
        // A number no claim has finds none (it only weighs in the scores).
        let mut weights: Vec<(&str, f32)> = all
            .iter()
            .filter(|(t, _)| self.postings.contains_key(*t))
            .copied()
            .collect();
        // In a large store, reading the postings of the words most claims share was most of a
        // match's time at a million claims. The claims worth scoring are found by the rarer
        // words alone (while two remain), and the best of them are then scored with every word.
        let claims = self.claims.len();
        if claims >= COMMON_WORDS_FROM {
            let common = |t: &str| self.postings[t].len() > claims / 10;
            if weights.iter().filter(|(t, _)| !common(t)).count() >= 2 {
                weights.retain(|(t, _)| !common(t));
            }
        }
        // No bound on a word's weights: MaxScore pays for itself at a million claims, in the
        // index, not in sheets.
        let lists: Vec<Scored<'_>> = weights
            .iter()
            .map(|(t, w)| Scored {
                weight: *w,
                max: f32::INFINITY,
                claims: self.postings[*t].as_slice(),
            })
            .collect();
        // The best are scored again with every word, and a number by its nearness to the
        // claim's ([`cosine`]), which the sums leave out.
        let mut ranked = Vec::with_capacity(limit + 1);
        for (claim, _) in best_sums(&lists, limit.max(SHORTLIST), |_| true) {
            insert_ranked(&mut ranked, (claim, self.score(claim, &all)), limit);
        }
        ranked
            .into_iter()
            .map(|(index, score)| {
                let claim = &self.claims[index as usize];
                Match {
                    claim: claim.key.clone(),
                    score: (f64::from(score) * 1000.0).round() / 1000.0,
                    differences: differences(text, status, claim),
                }
            })
            .collect()
    }
}

/// The cosine of `query` (unit weights) and a claim's `tokens` ([`KnownClaim::tokens`]): every
/// word of its text and quotes.
///
/// A number of the query the claim does not have counts as the claim's nearest number, times
/// their [`closeness`]: of claims alike but for a number, the one whose number is nearest is the
/// likelier one restated, where the exact number alone would leave them tied.
fn cosine(tokens: &[String], query: &[(&str, f32)], idf: impl Fn(&str) -> Option<f32>) -> f32 {
    let weights = unit_weights(tokens, idf);
    query
        .iter()
        .filter_map(|(t, w)| match weights.iter().find(|(d, _)| d == t) {
            Some((_, v)) => Some(w * v),
            None => {
                let a = bare_number(t)?;
                weights
                    .iter()
                    .filter_map(|(d, v)| Some(v * closeness(a, bare_number(d)?)))
                    .max_by(f32::total_cmp)
                    .map(|v| w * v)
            }
        })
        .sum()
}

/// How near two numbers are, from 1 (equal) to 0 (a tenth of the larger apart, or more): 89
/// and 88 0.89, 843 and 842 0.99, 498 and 481 0.66.
fn closeness(a: f64, b: f64) -> f32 {
    if a.max(b) > 0.0 {
        (1.0 - 10.0 * (a - b).abs() / a.max(b)).max(0.0) as f32
    } else {
        0.0
    }
}

fn bare_number(token: &str) -> Option<f64> {
    token
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| token.parse().ok())
        .flatten()
}

/// `idf` for a sentence's tokens: a number no claim has is weighed as one a single claim of
/// `claims` has, where it would be left out, so that a claim's nearest number still counts
/// ([`cosine`]).
fn with_unknown_numbers(
    idf: impl Fn(&str) -> Option<f32>,
    claims: usize,
) -> impl Fn(&str) -> Option<f32> {
    move |t| idf(t).or_else(|| bare_number(t).map(|_| (1.0 + claims.max(1) as f32).ln()))
}

/// Where a match looks for known claims: the claims of the data's sheets, in memory
/// (`claimgraph draft`), or the store's claims index (the server).
pub enum Claims {
    Sheets(Matcher),
    Index(crate::index::search::IndexMatcher),
}

impl Claims {
    /// The `limit` known claims `text` most likely restates, best first, with the differences
    /// from each; scored alike whichever the claims come from (cosine of TF-IDF weights, the
    /// index giving the candidates and the words' document frequencies).
    pub fn best(&self, text: &str, status: Option<&str>, limit: usize) -> Result<Vec<Match>> {
        self.rank(text, status, limit, false)
    }

    /// The known claims most like `text` as wholes (without their differences): found like
    /// [`Claims::best`]'s, scored by the cosine of the two texts' words all weighed alike
    /// (figures a quarter, as everywhere).
    /// `best` weighs words by their rarity in the store, which ranks well but changes as the
    /// store grows; this score depends on the two texts alone, so an imported claim's link does
    /// not move when the store changes (re-importing a feed gives the same links).
    pub fn similar(&self, text: &str, limit: usize) -> Result<Vec<Match>> {
        self.rank(text, None, limit, true)
    }

    fn rank(
        &self,
        text: &str,
        status: Option<&str>,
        limit: usize,
        words_alike: bool,
    ) -> Result<Vec<Match>> {
        let index = match self {
            Claims::Sheets(matcher) => return Ok(matcher.best(text, status, limit)),
            Claims::Index(index) => index,
        };
        let (query, pairs) = tokens_and_pairs(text);
        // A link looks at the few best by BM25: loading a candidate is most of a match's time.
        let shortlist = if words_alike {
            limit
        } else {
            limit.max(SHORTLIST)
        };
        let candidates = index.candidates(&query, &pairs, shortlist)?;
        let idf = with_unknown_numbers(
            |t: &str| {
                if words_alike {
                    Some(1.0)
                } else {
                    candidates.idf(t)
                }
            },
            candidates.total as usize,
        );
        let weights = unit_weights(&query, &idf);
        let mut ranked = Vec::with_capacity(limit + 1);
        for (i, tokens) in candidates.tokens.iter().enumerate() {
            insert_ranked(
                &mut ranked,
                (i as u32, cosine(tokens, &weights, &idf)),
                limit,
            );
        }
        Ok(ranked
            .into_iter()
            .filter(|(_, score)| *score > 0.0)
            .map(|(i, score)| {
                let claim = &candidates.claims[i as usize];
                Match {
                    claim: claim.key.clone(),
                    score: (f64::from(score) * 1000.0).round() / 1000.0,
                    // A link needs no differences (and naming them is most of a match's time).
                    differences: if words_alike {
                        Vec::new()
                    } else {
                        differences(text, status, claim)
                    },
                }
            })
            .collect())
    }

    /// The known claim with this key.
    pub fn claim(&self, key: &str) -> Result<Option<KnownClaim>> {
        match self {
            Claims::Sheets(matcher) => Ok(matcher.claim(key).cloned()),
            Claims::Index(index) => index.claim(key),
        }
    }
}

/// Inserts `entry` into `ranked` (best first: higher score, then lower index), keeping at most
/// `limit` entries.
fn insert_ranked(ranked: &mut Vec<(u32, f32)>, entry: (u32, f32), limit: usize) {
    let (claim, score) = entry;
    let better = |other: &(u32, f32)| score > other.1 || score == other.1 && claim < other.0;
    if ranked.len() < limit || ranked.last().is_some_and(better) {
        let at = ranked.iter().position(better).unwrap_or(ranked.len());
        ranked.insert(at, entry);
        ranked.truncate(limit);
    }
}

/// How `text` (asserted as `status`) differs from `claim`: compared with the claim's quote
/// closest to it.
pub fn differences(text: &str, status: Option<&str>, claim: &KnownClaim) -> Vec<Difference> {
    let ours = words(text);
    let closest = claim
        .quotes
        .iter()
        .chain(std::iter::once(&claim.text))
        .max_by_key(|q| words(q).intersection(&ours).count())
        .map_or("", String::as_str);
    let mut out = Vec::new();
    // Amounts, numbers and dates all have digits: most sentences have none, and their regular
    // expressions were most of the time a draft took.
    let digits = |s: &str| s.bytes().any(|b| b.is_ascii_digit());
    if digits(text) && digits(closest) {
        numeric_differences(text, closest, &mut out);
    }
    out.extend(word_differences(text, closest));
    if let Some(status) = status {
        let hardened = claim.status == "Alleged" && !matches!(status, "Alleged" | "Denied");
        let softened = claim.status != status && status == "Denied";
        if hardened || softened {
            out.push(Difference {
                kind: "status",
                here: status.to_owned(),
                known: claim.status.clone(),
            });
        }
    }
    out
}

/// Differences of amounts, numbers and dates between `text` and the known `closest` quote.
fn numeric_differences(text: &str, closest: &str, out: &mut Vec<Difference>) {
    let (here_money, known_money) = (mentions::money(text), mentions::money(closest));
    let wording = |s: &str, m: &Money| s[m.span.clone()].trim().to_owned();
    for ours in &here_money {
        if let Some(theirs) = known_money.iter().find(|t| t.currency == ours.currency) {
            if theirs.amount != ours.amount || theirs.qualifier != ours.qualifier {
                out.push(Difference {
                    kind: "amount",
                    here: wording(text, ours),
                    known: wording(closest, theirs),
                });
            }
        }
    }
    let today = (9999, 12, 31);
    let (here_dates, known_dates) = (
        mentions::dates(text, today, None),
        mentions::dates(closest, today, None),
    );
    let here_numbers = mentions::numbers(text, &here_money, &here_dates);
    let known_numbers = mentions::numbers(closest, &known_money, &known_dates);
    for ours in &here_numbers {
        if let Some(theirs) = known_numbers.iter().find(|t| t.percent == ours.percent) {
            if theirs.value != ours.value || theirs.qualifier != ours.qualifier {
                out.push(Difference {
                    kind: "number",
                    here: text[ours.span.clone()].trim().to_owned(),
                    known: closest[theirs.span.clone()].trim().to_owned(),
                });
            }
        }
    }
    for ours in here_dates.iter().filter(|d| !d.relative) {
        let same = known_dates.iter().any(|t| {
            t.resolved.starts_with(&ours.resolved) || ours.resolved.starts_with(&t.resolved)
        });
        if let (false, Some(theirs)) = (same, known_dates.iter().find(|t| !t.relative)) {
            out.push(Difference {
                kind: "date",
                here: text[ours.span.clone()].to_owned(),
                known: closest[theirs.span.clone()].to_owned(),
            });
        }
    }
}

/// Names one letter apart (`US` / `UC`) and qualifiers before the same word (`nearly a decade`
/// / `more than a decade`).
fn word_differences(here: &str, known: &str) -> Vec<Difference> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (ours, theirs) = (words(here), words(known));
    let mut out = Vec::new();
    for w in ours.iter().filter(|w| !theirs.contains(w)) {
        if w.len() < 2 || !w.starts_with(char::is_uppercase) {
            continue;
        }
        if let Some(t) = theirs
            .iter()
            .find(|t| !ours.contains(t) && t.len() == w.len() && one_apart(w, t))
        {
            out.push(Difference {
                kind: "name",
                here: w.clone(),
                known: t.clone(),
            });
        }
    }
    const HEDGES: &[&str] = &[
        "nearly",
        "almost",
        "over",
        "more than",
        "at least",
        "about",
        "up to",
        "as many as",
        "less than",
        "fewer than",
        "around",
        "roughly",
    ];
    let lower_here = here.to_lowercase();
    let lower_known = known.to_lowercase();
    for head in [
        "decade", "year", "month", "week", "years", "decades", "months",
    ] {
        // Most quotes name no span of time: the hedges' phrases need not be made for them.
        if !lower_here.contains(head) || !lower_known.contains(head) {
            continue;
        }
        let before = |s: &str| -> Option<String> {
            HEDGES
                .iter()
                .find(|h| {
                    s.contains(&format!("{h} a {head}")) || s.contains(&format!("{h} {head}"))
                })
                .map(|h| (*h).to_owned())
        };
        if let (Some(a), Some(b)) = (before(&lower_here), before(&lower_known)) {
            if a != b {
                out.push(Difference {
                    kind: "qualifier",
                    here: format!("{a} a {head}"),
                    known: format!("{b} a {head}"),
                });
            }
        }
    }
    out
}

fn one_apart(a: &str, b: &str) -> bool {
    a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(key: &str, quote: &str, status: &str) -> KnownClaim {
        KnownClaim {
            key: key.into(),
            text: String::new(),
            quotes: vec![quote.into()],
            status: status.into(),
            claimant: "x".into(),
        }
    }

    /// A text's weights come in one order every time: they are summed in it, and a hash map's
    /// order (another in each map) rounded the sums otherwise, which reordered tied matches.
    #[test]
    fn a_text_is_weighed_alike_every_time() {
        let text = "Meridian Bank paid $40mn to settle claims that its traders rigged the \
                    benchmark rate for years, regulators said on Tuesday, while the bank \
                    denied that any trader acted on instructions from senior managers";
        let tokens = tokens(text);
        let idf = |t: &str| Some(1.0 + t.len() as f32 / 7.0);
        let first = unit_weights(&tokens, idf);
        assert!(first.len() > 15, "{first:?}");
        for _ in 0..20 {
            assert_eq!(unit_weights(&tokens, idf), first);
        }
    }

    /// MaxScore leaves lists unread only where that cannot change the answer: over many windows,
    /// with ties (scores from a few values), bounds exact or loose, and claims left out, the
    /// best are those of adding every list up claim by claim.
    #[test]
    fn best_sums_are_those_of_adding_every_list() {
        let mut seed = 11u64;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        for round in 0..60 {
            let claims = [50, 5_000, 40_000][round % 3];
            // Each list's weight and bound, and its claims.
            let mut bounds: Vec<(f32, f32)> = Vec::new();
            let mut lists: Vec<Vec<(u32, f32)>> = Vec::new();
            for _ in 0..1 + next(8) {
                let every = 1 + next(40) as u32;
                let mut list: Vec<(u32, f32)> = Vec::new();
                for claim in 0..claims {
                    if next(every as u64) == 0 {
                        list.push((claim, [0.5, 1.0, 1.5, 2.75][next(4) as usize]));
                    }
                }
                let max = list.iter().fold(0.0f32, |m, (_, s)| m.max(*s));
                let loose = if next(3) == 0 { 2.0 } else { 1.0 };
                bounds.push(([1.0, 0.25, 0.7][next(3) as usize], max * loose));
                lists.push(list);
            }
            let left_out = next(5) as u32 + 2;
            let keep = |claim: u32| !claim.is_multiple_of(left_out);
            let wanted = [1, 3, 20, 500][next(4) as usize];
            let mut by_hand: Vec<(u32, f32)> = (0..claims)
                .filter_map(|claim| {
                    let shares = bounds.iter().zip(&lists).filter_map(|((weight, _), list)| {
                        let at = list.binary_search_by_key(&claim, |(c, _)| *c).ok()?;
                        Some(weight * list[at].1)
                    });
                    let sum = shares.fold(None, |sum: Option<f32>, share| {
                        Some(sum.map_or(share, |sum| sum + share))
                    });
                    sum.filter(|_| keep(claim)).map(|sum| (claim, sum))
                })
                .collect();
            by_hand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            by_hand.truncate(wanted);
            let scored: Vec<Scored<'_>> = bounds
                .iter()
                .zip(&lists)
                .map(|((weight, max), list)| Scored {
                    weight: *weight,
                    max: *max,
                    claims: list.as_slice(),
                })
                .collect();
            assert_eq!(best_sums(&scored, wanted, keep), by_hand, "round {round}");
        }
    }

    #[test]
    fn the_restated_claim_ranks_first_with_its_differences_named() {
        let matcher = Matcher::new(vec![
            claim(
                "paid",
                "which Netflix paid over $100 million for",
                "Alleged",
            ),
            claim(
                "fine",
                "In 2022, Ireland fined Meta €265 million",
                "PublicRecord",
            ),
            claim(
                "filed",
                "filed by two UC citizens, Maximilian Klein and Sarah Grabert",
                "PublicRecord",
            ),
        ]);
        let found = matcher.best(
            "Netflix paid $150 million for the access",
            Some("Reported"),
            3,
        );
        assert_eq!(found[0].claim, "paid");
        let kinds: Vec<(&str, &str, &str)> = found[0]
            .differences
            .iter()
            .map(|d| (d.kind, d.here.as_str(), d.known.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("amount", "$150 million", "over $100 million"),
                ("status", "Reported", "Alleged")
            ]
        );
        let found = matcher.best("the suit was filed by two US citizens", None, 1);
        assert_eq!(found[0].claim, "filed");
        assert_eq!(found[0].differences[0].kind, "name");
        assert_eq!(
            (
                found[0].differences[0].here.as_str(),
                found[0].differences[0].known.as_str()
            ),
            ("US", "UC")
        );
    }

    #[test]
    fn a_large_store_shortlists_by_rare_words_and_scores_with_all() {
        let claims: Vec<KnownClaim> = (0..COMMON_WORDS_FROM + 2_000)
            .map(|n| {
                claim(
                    &format!("c{n}"),
                    &format!("widget report alpha{n} beta{n}"),
                    "Reported",
                )
            })
            .collect();
        let matcher = Matcher::new(claims);
        let found = matcher.best("the widget report on alpha5000 and beta5000", None, 3);
        assert_eq!(found[0].claim, "c5000");
        // The score is the cosine with every word, common ones included.
        let query = tokens("the widget report on alpha5000 and beta5000");
        let all = unit_weights(&query, |t| matcher.idf.get(t).copied());
        let exact = (f64::from(matcher.score(5000, &all)) * 1000.0).round() / 1000.0;
        assert_eq!(found[0].score, exact);
        assert!(exact > 0.9, "{exact}");
    }

    #[test]
    fn pairs_are_the_words_that_follow_one_another_without_stop_words() {
        assert_eq!(
            pairs("Zhou Foundation secretly funded the Kestrel fund (exhibit 12)."),
            [
                "zhou+foundation",
                "foundation+secretly",
                "secretly+fund",
                "fund+kestrel",
                "kestrel+fund",
                "fund+exhibit",
                "exhibit+12"
            ]
        );
        assert!(pairs("the said").is_empty());
    }

    #[test]
    fn words_are_lowercased_stemmed_and_stop_words_found_by_their_sorted_list() {
        assert!(STOP.windows(2).all(|w| w[0] < w[1]), "STOP is not sorted");
        assert!(STOP.iter().all(|w| words_in_order(w).next().is_none()));
        assert_eq!(
            tokens("The Plaintiffs' ÉTÉ funding’s 'quoted' claimed Meta's rulings, About SAID"),
            [
                "plaintiff",
                "été",
                "fund",
                "quot",
                "claim",
                "meta",
                "ruling"
            ]
        );
    }

    #[test]
    fn a_changed_sum_weighs_less_than_the_names_around_it() {
        assert!(is_figure("12") && is_figure("#USD115000000") && is_figure("#EUR2.5"));
        assert!(!is_figure("alpha5000") && !is_figure("#USD") && !is_figure("#") && !is_figure(""));
        // The names are common (many claims about them), each sum is in one claim only: weighed
        // as a word, the sum the restatement shares with the other settlement outranked them.
        let mut claims = vec![
            claim(
                "restated",
                "Kemal Weber agreed to pay $114 million to settle claims that it funded Meridian",
                "Settled",
            ),
            claim(
                "same-sum",
                "Solstice Agency agreed to pay $115 million to settle claims that it funded Lumen",
                "Settled",
            ),
        ];
        for name in ["Kemal Weber", "Meridian", "Solstice Agency", "Lumen"] {
            for i in 0..10 {
                claims.push(claim(
                    &format!("{name}-{i}"),
                    &format!("{name} met officials on day {i}"),
                    "Reported",
                ));
            }
        }
        let matcher = Matcher::new(claims);
        let found = matcher.best(
            "Kemal Weber consented to pay $115 million to settle claims that it funded Meridian",
            None,
            2,
        );
        assert_eq!(found[0].claim, "restated", "{found:?}");
        assert_eq!(found[1].claim, "same-sum", "{found:?}");
    }

    #[test]
    fn of_claims_alike_but_for_a_number_the_nearest_ranks_first() {
        assert_eq!(nearness("843"), ["~3a84", "~3b84"]);
        assert_eq!(nearness("89"), ["~2a8", "~2b9"]);
        assert_eq!(nearness("2013"), ["~4a20", "~4b20"]);
        assert!(nearness("7").is_empty() && nearness("07").is_empty() && nearness("x1").is_empty());
        assert!(is_figure("~3b84"));
        // 843 is nearer the middle of 840-849 than of 835-844; 849 of 845-854.
        assert_eq!(central_cell("843").as_deref(), Some("~3a84"));
        assert_eq!(central_cell("849").as_deref(), Some("~3b85"));
        let quote = |n: u32| format!("Zhou Foundation funded Ember Foods (exhibit {n})");
        let claims = [12, 130, 560, 88, 951, 843, 47]
            .map(|n| claim(&format!("exhibit-{n}"), &quote(n), "Alleged"))
            .to_vec();
        let matcher = Matcher::new(claims);
        let first = |n| matcher.best(&quote(n), None, 1)[0].claim.clone();
        assert_eq!(first(89), "exhibit-88");
        assert_eq!(first(842), "exhibit-843");
        assert_eq!(first(551), "exhibit-560");
        // An exact number still outranks a near one.
        assert_eq!(first(130), "exhibit-130");
    }

    #[test]
    fn nothing_in_common_means_no_match() {
        let matcher = Matcher::new(vec![claim("a", "Netflix paid", "Alleged")]);
        assert!(matcher.best("the weather was fine", None, 3).is_empty());
    }
}
