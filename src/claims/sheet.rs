//! Claim sheets as written by curators: the TOML shape (serde), with the source span of every
//! value that can be wrong, so that errors name `file:line:col`.
//!
//! Invariant: this module only reads TOML; it knows nothing of RDF or of the store.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::value::Datetime;
use toml::Spanned;

type S<T> = Spanned<T>;

/// One sheet file, parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetFile {
    #[serde(default)]
    pub sources: Vec<SourceEntry>,
    #[serde(default)]
    pub entities: Vec<EntityEntry>,
    #[serde(default)]
    pub claims: Vec<ClaimEntry>,
    #[serde(default)]
    pub reviews: Vec<ReviewEntry>,
    /// New appearances of claims described in any sheet of the same run.
    #[serde(default)]
    pub appearances: Vec<SheetAppearanceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    pub key: S<String>,
    #[serde(rename = "type")]
    pub kind: S<String>,
    pub headline: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub author: Option<S<String>>,
    pub publisher: Option<S<String>>,
    pub published: Option<S<Datetime>>,
    pub url: Option<S<String>>,
    pub text: Option<S<String>>,
    pub text_sha256: Option<S<String>>,
    #[serde(default)]
    pub reposts: Vec<S<String>>,
    #[serde(default)]
    pub derived_from: Vec<S<String>>,
    #[serde(default)]
    pub quoted_from: Vec<S<String>>,
    pub case: Option<S<String>>,
    pub filed: Option<S<Datetime>>,
    pub unsealed: Option<S<Datetime>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityEntry {
    pub key: S<String>,
    #[serde(rename = "type")]
    pub kind: S<String>,
    pub name: String,
    pub description: Option<String>,
    pub wikidata: Option<S<String>>,
    pub court: Option<S<String>>,
    pub docket: Option<String>,
    #[serde(default)]
    pub plaintiffs: Vec<S<String>>,
    #[serde(default)]
    pub defendants: Vec<S<String>>,
    pub amount: Option<S<String>>,
    pub currency: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimEntry {
    pub key: S<String>,
    pub text: String,
    pub claimant: S<String>,
    pub status: S<String>,
    pub primary_source: Option<S<String>>,
    #[serde(default)]
    pub about: Vec<S<String>>,
    #[serde(default)]
    pub disputes: Vec<S<String>>,
    #[serde(default)]
    pub content: Vec<S<TripleEntry>>,
    #[serde(default)]
    pub times: Vec<S<TimeEntry>>,
    #[serde(default)]
    pub appearances: Vec<AppearanceEntry>,
    /// Present only in a draft: what the drafting tool knows of this candidate.
    pub draft: Option<S<DraftEntry>>,
}

/// A triple of a claim's content: subject and object are entity keys, or the object a literal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripleEntry {
    pub s: S<String>,
    pub p: S<String>,
    pub o: Option<S<String>>,
    pub value: Option<S<String>>,
    pub datatype: Option<S<String>>,
    pub lang: Option<S<String>>,
}

/// Relative time in the text ("last April") resolved to a date, with the original wording.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeEntry {
    pub wording: String,
    pub resolved: S<String>,
    pub datatype: S<String>,
    pub relative_to: Option<S<String>>,
}

/// A `[[claims.appearances]]` entry: where the claim defined around it appears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppearanceEntry {
    pub source: S<String>,
    pub quote: S<String>,
    pub occurrence: Option<S<u32>>,
    pub upstream: Option<S<String>>,
    pub relation: Option<S<String>>,
    /// The capacity this document asserts the claim in, where it differs from the claim's.
    pub status: Option<S<String>>,
    #[serde(default)]
    pub differences: Vec<S<DifferenceEntry>>,
}

/// A top-level `[[appearances]]` entry: a new appearance of a claim described in any sheet of
/// the same run (`claim` is its key). The other fields are those of [`AppearanceEntry`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetAppearanceEntry {
    pub claim: S<String>,
    pub source: S<String>,
    pub quote: S<String>,
    pub occurrence: Option<S<u32>>,
    pub upstream: Option<S<String>>,
    pub relation: Option<S<String>>,
    pub status: Option<S<String>>,
    #[serde(default)]
    pub differences: Vec<S<DifferenceEntry>>,
    /// Present only in a draft: what the drafting tool knows of this candidate.
    pub draft: Option<S<DraftEntry>>,
}

/// The fields an appearance has wherever it is written (nested or top-level), borrowed.
#[derive(Debug, Clone, Copy)]
pub struct AppearanceFields<'a> {
    pub source: &'a S<String>,
    pub quote: &'a S<String>,
    pub occurrence: Option<&'a S<u32>>,
    pub upstream: Option<&'a S<String>>,
    pub relation: Option<&'a S<String>>,
    pub status: Option<&'a S<String>>,
    pub differences: &'a [S<DifferenceEntry>],
}

impl AppearanceEntry {
    pub fn fields(&self) -> AppearanceFields<'_> {
        AppearanceFields {
            source: &self.source,
            quote: &self.quote,
            occurrence: self.occurrence.as_ref(),
            upstream: self.upstream.as_ref(),
            relation: self.relation.as_ref(),
            status: self.status.as_ref(),
            differences: &self.differences,
        }
    }
}

impl SheetAppearanceEntry {
    pub fn fields(&self) -> AppearanceFields<'_> {
        AppearanceFields {
            source: &self.source,
            quote: &self.quote,
            occurrence: self.occurrence.as_ref(),
            upstream: self.upstream.as_ref(),
            relation: self.relation.as_ref(),
            status: self.status.as_ref(),
            differences: &self.differences,
        }
    }
}

/// How an appearance differs from the claim as known: `kind` is one of [`DIFFERENCE_KINDS`];
/// `here` is what this document says, `known` what the claim says.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DifferenceEntry {
    pub kind: S<String>,
    pub here: String,
    pub known: String,
}

/// The kinds of [`DifferenceEntry`].
pub const DIFFERENCE_KINDS: &[&str] = &["amount", "number", "date", "name", "qualifier", "status"];

/// A candidate's `draft` table (`[claims.draft]`, `[appearances.draft]`), written only by
/// `claimgraph draft`. A sheet holding one is a draft: `check` refuses it until a curator has
/// filled the `open` fields and deleted the table (or deleted the candidate).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftEntry {
    /// The words that made it a claim ("is alleged to").
    pub cue: Option<String>,
    pub confidence: Option<f64>,
    /// The sentence of the article it sits in.
    pub sentence: Option<String>,
    /// Fields of the candidate only a human can fill, still open.
    #[serde(default)]
    pub open: Vec<S<String>>,
    /// Known claims this candidate may restate.
    #[serde(default)]
    pub matches: Vec<DraftMatch>,
    pub note: Option<String>,
}

/// A known claim a candidate may restate, how closely, and how it differs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftMatch {
    pub claim: S<String>,
    pub score: Option<f64>,
    #[serde(default)]
    pub differences: Vec<S<DifferenceEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewEntry {
    pub key: S<String>,
    pub claim: S<String>,
    pub author: S<String>,
    pub published: S<Datetime>,
    pub rating: RatingEntry,
    pub text: Option<String>,
    #[serde(default)]
    pub evidence: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingEntry {
    pub value: i64,
    pub best: i64,
    pub worst: i64,
    pub label: String,
}

/// A sheet with its file name and text (for locating errors).
#[derive(Debug)]
pub struct Sheet {
    pub path: PathBuf,
    pub source: String,
    pub file: SheetFile,
}

impl Sheet {
    /// The sheet's id: its file name without `.toml`.
    pub fn id(&self) -> String {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// The directory relative paths in the sheet are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// 1-based line and column (in characters) of a byte offset of the sheet.
    pub fn line_col(&self, offset: usize) -> (u64, u64) {
        line_col(&self.source, offset)
    }
}

/// 1-based line and column (in characters) of a byte offset of `text`.
pub fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
    (line, column)
}
