//! A reviewed draft saved as a claim sheet: what the workspace's review of drafts sends
//! (`PUT /sheets/{key}`) becomes the TOML a curator would have written (docs/claim-sheets.md),
//! its article archived beside it, checked together with every sheet of the data directory,
//! and loaded into the store.
//!
//! Invariants: nothing is written unless the whole data directory, new sheet included, checks
//! (a failed check leaves the directory as it was); files are only ever written at
//! `DATA/claims/KEY.toml` and `DATA/texts/KEY.txt` for a key that is a slug; an existing sheet or
//! text is replaced only when the caller names the sheet's current hash ([`Saved::etag`]); every
//! check error is reported against the field of the review it comes from, by the line the field
//! was written on.

use super::files::write_whole;
use super::sheet::{list, s};
use crate::claims::{self, sheet::Sheet};
use crate::error::{Error, Result};
use crate::store::ClaimStore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A reviewed draft: the article as a source, its text, the new entities kept, the candidates
/// accepted as new claims, and those linked to claims already known.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reviewed {
    pub source: ReviewedSource,
    /// The article's text, exactly as drafted (the quotes are anchored in it).
    pub text: String,
    #[serde(default)]
    pub entities: Vec<ReviewedEntity>,
    #[serde(default)]
    pub claims: Vec<ReviewedClaim>,
    #[serde(default)]
    pub appearances: Vec<ReviewedAppearance>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedSource {
    /// The source's key, which also names the sheet and the archived text.
    pub key: String,
    /// NewsArticle, CourtFiling, Statement or WebPage.
    pub kind: String,
    pub headline: Option<String>,
    /// An entity key.
    pub publisher: String,
    /// `YYYY-MM-DD`.
    pub published: String,
    pub url: Option<String>,
    /// The document the article reposts or quotes: `{"relation": "reposts"|"quotes", "key": …}`.
    pub upstream: Option<ReviewedUpstream>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedUpstream {
    pub relation: String,
    pub key: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedEntity {
    pub key: String,
    pub kind: String,
    pub name: String,
    /// A `MonetaryAmount`'s value and currency (ISO 4217).
    pub amount: Option<String>,
    pub currency: Option<String>,
}

/// A candidate accepted as a new claim.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedClaim {
    /// The candidate's key in the draft (errors name it).
    pub candidate: String,
    pub key: String,
    /// The proposition, in plain words.
    pub text: String,
    pub claimant: String,
    pub status: String,
    #[serde(default)]
    pub about: Vec<String>,
    #[serde(default)]
    pub content: Vec<ReviewedTriple>,
    #[serde(default)]
    pub times: Vec<ReviewedTime>,
    /// The quote, verbatim from the text, and which of its occurrences (1-based) when it
    /// occurs more than once.
    pub quote: String,
    pub occurrence: Option<u32>,
}

/// A triple of a claim's content: `o` an entity key, or `value` a literal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedTriple {
    pub s: String,
    pub p: String,
    pub o: Option<String>,
    pub value: Option<String>,
    pub datatype: Option<String>,
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedTime {
    pub wording: String,
    pub resolved: String,
    pub datatype: String,
}

/// A candidate linked to a claim already known: a new appearance of it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedAppearance {
    pub candidate: String,
    /// The known claim's key.
    pub claim: String,
    pub quote: String,
    pub occurrence: Option<u32>,
    /// The status this article asserts it with, where it differs from the claim's.
    pub status: Option<String>,
    #[serde(default)]
    pub differences: Vec<ReviewedDifference>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewedDifference {
    pub kind: String,
    pub here: String,
    pub known: String,
}

/// A problem with one field of the review (or of the whole, when `field` is absent).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FieldError {
    /// The candidate it concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// The field: `key`, `text`, `claimant`, `status`, `about`, `content`, `quote`, `claim`,
    /// or `source.FIELD` for the article's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// Why a review was not saved.
#[derive(Debug)]
pub enum Refused {
    /// A sheet (or text) with this key exists, and the caller did not name its current hash.
    Exists { etag: String, path: PathBuf },
    /// The check found problems (nothing was written).
    Invalid(Vec<FieldError>),
    /// Something else went wrong (nothing was written).
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

/// A saved review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Saved {
    /// The sheet's path, relative to the data directory.
    pub sheet: String,
    /// The archived text's path, relative to the data directory.
    pub text: String,
    /// The sheet's hash, to send as `If-Match` to replace it.
    pub etag: String,
    /// The keys of the claims it describes or adds appearances to.
    pub claims: Vec<String>,
    /// What the store gained: files loaded.
    pub loaded: usize,
}

/// The sheet's text, and the field each line begins (for locating check errors).
pub struct Rendered {
    pub toml: String,
    fields: Vec<(u64, Option<String>, String)>,
}

impl Rendered {
    /// The field written on `line` or most recently before it.
    fn field_at(&self, line: u64) -> (Option<String>, Option<String>) {
        self.fields
            .iter()
            .rev()
            .find(|(l, _, _)| *l <= line)
            .map_or((None, None), |(_, candidate, field)| {
                (candidate.clone(), Some(field.clone()))
            })
    }
}

/// Writes lines and remembers which field each begins.
struct Writer {
    out: String,
    fields: Vec<(u64, Option<String>, String)>,
}

impl Writer {
    fn line(&mut self) -> u64 {
        self.out.matches('\n').count() as u64 + 1
    }

    fn field(&mut self, candidate: Option<&str>, field: &str, line: String) {
        let at = self.line();
        self.fields
            .push((at, candidate.map(str::to_owned), field.to_owned()));
        self.out.push_str(&line);
        self.out.push('\n');
    }

    fn plain(&mut self, line: &str) {
        self.out.push_str(line);
        self.out.push('\n');
    }
}

/// `YYYY-MM-DD` written as a TOML date; anything else as a string (which the check refuses,
/// naming the field), never as raw TOML.
fn date(value: &str) -> String {
    let bytes = value.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if shaped {
        value.to_owned()
    } else {
        s(value)
    }
}

/// The review as a claim sheet, the text archived at `../texts/KEY.txt` beside it.
pub fn render(review: &Reviewed) -> Rendered {
    render_with(review, &[])
}

/// [`render`], with entity tables of the sheet it replaces (`carried`, TOML as written there).
fn render_with(review: &Reviewed, carried: &[(String, String)]) -> Rendered {
    let mut w = Writer {
        out: String::new(),
        fields: Vec::new(),
    };
    let source = &review.source;
    let key = &source.key;
    w.plain(&format!(
        "# Claim sheet for {key}, reviewed in the claimgraph workspace from a draft of the article."
    ));
    w.plain("\n[[sources]]");
    w.field(None, "source.key", format!("key = {}", s(key)));
    w.field(None, "source.kind", format!("type = {}", s(&source.kind)));
    match source.headline.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(headline) => w.field(
            None,
            "source.headline",
            format!("headline = {}", s(headline)),
        ),
        None => w.field(
            None,
            "source.headline",
            format!("name = {}", s(&format!("Article {key}"))),
        ),
    }
    w.field(
        None,
        "source.publisher",
        format!("publisher = {}", s(&source.publisher)),
    );
    w.field(
        None,
        "source.published",
        format!("published = {}", date(&source.published)),
    );
    if let Some(url) = source.url.as_deref().filter(|u| !u.trim().is_empty()) {
        w.field(None, "source.url", format!("url = {}", s(url)));
    }
    w.field(
        None,
        "source.text",
        format!("text = {}", s(&format!("../texts/{key}.txt"))),
    );
    let sha = format!("{:x}", Sha256::digest(review.text.as_bytes()));
    w.plain(&format!("text_sha256 = {}", s(&sha)));
    // The appearances' hop upstream: the relation the appearance has to the article's upstream.
    let upstream = match &source.upstream {
        Some(up) if up.relation == "reposts" => {
            w.field(
                None,
                "source.upstream",
                format!("reposts = {}", list(std::slice::from_ref(&up.key))),
            );
            Some(("reposted", up.key.as_str()))
        }
        Some(up) => {
            w.field(
                None,
                "source.upstream",
                format!("quoted_from = {}", list(std::slice::from_ref(&up.key))),
            );
            Some(("quoted", up.key.as_str()))
        }
        None => None,
    };
    for entity in &review.entities {
        w.plain("\n[[entities]]");
        let field = format!("entity {}", entity.key);
        w.field(None, &field, format!("key = {}", s(&entity.key)));
        w.field(None, &field, format!("type = {}", s(&entity.kind)));
        w.field(None, &field, format!("name = {}", s(&entity.name)));
        for (name, value) in [("amount", &entity.amount), ("currency", &entity.currency)] {
            if let Some(value) = value {
                w.field(None, &field, format!("{name} = {}", s(value)));
            }
        }
    }
    for (key, table) in carried {
        w.plain("");
        for line in table.lines() {
            w.field(None, &format!("entity {key}"), line.to_owned());
        }
    }
    for claim in &review.claims {
        let c = Some(claim.candidate.as_str());
        w.plain("\n[[claims]]");
        w.field(c, "key", format!("key = {}", s(&claim.key)));
        w.field(c, "text", format!("text = {}", s(&claim.text)));
        w.field(c, "claimant", format!("claimant = {}", s(&claim.claimant)));
        w.field(c, "status", format!("status = {}", s(&claim.status)));
        w.field(c, "about", format!("about = {}", list(&claim.about)));
        if claim.content.is_empty() {
            w.field(c, "content", "content = []".to_owned());
        } else {
            w.field(c, "content", "content = [".to_owned());
            for triple in &claim.content {
                let mut parts = vec![
                    format!("s = {}", s(&triple.s)),
                    format!("p = {}", s(&triple.p)),
                ];
                for (name, value) in [
                    ("o", &triple.o),
                    ("value", &triple.value),
                    ("datatype", &triple.datatype),
                    ("lang", &triple.lang),
                ] {
                    if let Some(value) = value {
                        parts.push(format!("{name} = {}", s(value)));
                    }
                }
                w.field(c, "content", format!("  {{ {} }},", parts.join(", ")));
            }
            w.plain("]");
        }
        if !claim.times.is_empty() {
            w.field(c, "times", "times = [".to_owned());
            for time in &claim.times {
                w.field(
                    c,
                    "times",
                    format!(
                        "  {{ wording = {}, resolved = {}, datatype = {}, relative_to = {} }},",
                        s(&time.wording),
                        s(&time.resolved),
                        s(&time.datatype),
                        s(key)
                    ),
                );
            }
            w.plain("]");
        }
        w.plain("\n[[claims.appearances]]");
        quote(&mut w, c, key, &claim.quote, claim.occurrence, upstream);
    }
    for appearance in &review.appearances {
        let c = Some(appearance.candidate.as_str());
        w.plain("\n[[appearances]]");
        w.field(c, "claim", format!("claim = {}", s(&appearance.claim)));
        quote(
            &mut w,
            c,
            key,
            &appearance.quote,
            appearance.occurrence,
            upstream,
        );
        if let Some(status) = &appearance.status {
            w.field(c, "status", format!("status = {}", s(status)));
        }
        if !appearance.differences.is_empty() {
            w.plain("differences = [");
            for d in &appearance.differences {
                w.plain(&format!(
                    "  {{ kind = {}, here = {}, known = {} }},",
                    s(&d.kind),
                    s(&d.here),
                    s(&d.known)
                ));
            }
            w.plain("]");
        }
    }
    Rendered {
        toml: w.out,
        fields: w.fields,
    }
}

fn quote(
    w: &mut Writer,
    candidate: Option<&str>,
    source: &str,
    quote: &str,
    occurrence: Option<u32>,
    upstream: Option<(&str, &str)>,
) {
    w.plain(&format!("source = {}", s(source)));
    w.field(candidate, "quote", format!("quote = {}", s(quote)));
    if let Some(n) = occurrence.filter(|n| *n > 1) {
        w.field(candidate, "quote", format!("occurrence = {n}"));
    }
    if let Some((relation, key)) = upstream {
        w.plain(&format!("upstream = {}", s(key)));
        w.plain(&format!("relation = {}", s(relation)));
    }
}

/// The `ETag` of a file's bytes: its SHA-256, quoted.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{:x}\"", Sha256::digest(bytes))
}

/// One save at a time: two reviews of one key must not interleave their checks and writes.
static SAVING: Mutex<()> = Mutex::new(());

/// Saves `review` into the data directory `data` (`claims/KEY.toml`, `texts/KEY.txt`) if the
/// directory checks with it, then loads `dirs` (the server's data directories) into `store`.
/// An existing sheet or text of this key is replaced only if `if_match` is the sheet's current
/// [`etag`].
pub fn save(
    store: &ClaimStore,
    data: &Path,
    dirs: &[PathBuf],
    review: &Reviewed,
    if_match: Option<&str>,
) -> std::result::Result<Saved, Refused> {
    let _one = SAVING.lock().unwrap_or_else(|e| e.into_inner());
    let key = &review.source.key;
    if !claims::is_slug(key) {
        return Err(Refused::Invalid(vec![FieldError {
            candidate: None,
            field: Some("source.key".into()),
            message: format!("{key:?} is not a key: use lower-case letters, digits and hyphens"),
        }]));
    }
    let open = open_fields(review);
    if !open.is_empty() {
        return Err(Refused::Invalid(open));
    }
    let sheet_path = data.join("claims").join(format!("{key}.toml"));
    let text_path = data.join("texts").join(format!("{key}.txt"));
    let old_sheet = read_if_exists(&sheet_path)?;
    let old_text = read_if_exists(&text_path)?;
    let text_differs = old_text
        .as_ref()
        .is_some_and(|bytes| bytes != review.text.as_bytes());
    if old_sheet.is_some() || text_differs {
        // An archived text without its sheet has no hash to name: its own stands in.
        let current = etag(
            old_sheet
                .as_ref()
                .or(old_text.as_ref())
                .expect("one exists"),
        );
        if if_match.map(str::trim) != Some(current.as_str()) {
            let path = if old_sheet.is_some() {
                sheet_path
            } else {
                text_path
            };
            return Err(Refused::Exists {
                etag: current,
                path,
            });
        }
    }
    let carried = match &old_sheet {
        Some(bytes) => carried_entities(&sheet_path, bytes, review),
        None => Vec::new(),
    };
    let rendered = render_with(review, &carried);
    // The text must be in place for the check to anchor the quotes in it.
    write_whole(&text_path, review.text.as_bytes())?;
    let restore = |refused: Refused| {
        match &old_text {
            Some(bytes) => {
                let _ = write_whole(&text_path, bytes);
            }
            None => {
                let _ = std::fs::remove_file(&text_path);
            }
        }
        refused
    };
    if let Err(errors) = check_with(data, &sheet_path, &rendered, store.base()) {
        return Err(restore(Refused::Invalid(errors)));
    }
    if let Err(error) = write_whole(&sheet_path, rendered.toml.as_bytes()) {
        return Err(restore(Refused::Failed(error)));
    }
    let report = match crate::loader::sync_dirs(store, dirs) {
        Ok(report) => report,
        Err(error) => {
            // The store did not change (one transaction): take the sheet back out with it.
            match &old_sheet {
                Some(bytes) => {
                    let _ = write_whole(&sheet_path, bytes);
                }
                None => {
                    let _ = std::fs::remove_file(&sheet_path);
                }
            }
            return Err(restore(Refused::Failed(error)));
        }
    };
    let mut keys: Vec<String> = review
        .claims
        .iter()
        .map(|c| c.key.clone())
        .chain(review.appearances.iter().map(|a| a.claim.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    Ok(Saved {
        sheet: format!("claims/{key}.toml"),
        text: format!("texts/{key}.txt"),
        etag: etag(rendered.toml.as_bytes()),
        claims: keys,
        loaded: report.loaded.len(),
    })
}

/// The entities the sheet being replaced defines that the review uses but does not define:
/// drafted again, the article found them known (that sheet defined them), so without them the
/// new sheet would name entities no sheet defines. Their tables are kept as written (a
/// curator's description or Wikidata ID with them). Keys and tables, in the old sheet's order.
fn carried_entities(path: &Path, old: &[u8], review: &Reviewed) -> Vec<(String, String)> {
    let Ok(text) = String::from_utf8(old.to_vec()) else {
        return Vec::new();
    };
    let Ok(sheet) = claims::parse_sheet(path, text.clone()) else {
        return Vec::new();
    };
    let mut used: std::collections::HashSet<&str> =
        std::collections::HashSet::from([review.source.publisher.as_str()]);
    for claim in &review.claims {
        used.insert(&claim.claimant);
        used.extend(claim.about.iter().map(String::as_str));
        for triple in &claim.content {
            used.insert(&triple.s);
            used.extend(triple.o.as_deref());
        }
    }
    let mut carried = Vec::new();
    for entity in &sheet.file.entities {
        let key = entity.key.get_ref();
        if !used.contains(key.as_str()) || review.entities.iter().any(|e| &e.key == key) {
            continue;
        }
        let at = entity.key.span().start;
        let (Some(start), end) = (
            text[..at].rfind("[[entities]]"),
            text[at..].find("\n[[").map_or(text.len(), |i| at + i),
        ) else {
            continue;
        };
        carried.push((key.clone(), text[start..end].trim_end().to_owned()));
    }
    carried
}

/// The fields a draft leaves open that a new claim cannot do without: its proposition and its
/// content (the check would name the claim, not the field).
fn open_fields(review: &Reviewed) -> Vec<FieldError> {
    let mut open = Vec::new();
    for claim in &review.claims {
        let mut missing = |field: &str, message: &str| {
            open.push(FieldError {
                candidate: Some(claim.candidate.clone()),
                field: Some(field.to_owned()),
                message: message.to_owned(),
            })
        };
        if claim.text.trim().is_empty() {
            missing("text", "write the proposition in plain words");
        }
        if claim.content.is_empty() {
            missing(
                "content",
                "give the claim's content as triples: what it says, in the graph's terms",
            );
        }
    }
    open
}

/// Checks every sheet of `data` with the rendered one in place of `sheet_path`; the errors in
/// the rendered sheet are located by field.
fn check_with(
    data: &Path,
    sheet_path: &Path,
    rendered: &Rendered,
    base: &str,
) -> std::result::Result<(), Vec<FieldError>> {
    let general = |error: Error| FieldError {
        candidate: None,
        field: None,
        message: error.to_string(),
    };
    let mut paths = crate::loader::data_files(data).map_err(|e| vec![general(e)])?;
    paths.retain(|path| path.extension().is_some_and(|e| e == "toml") && path != sheet_path);
    let mut sheets: Vec<Sheet> = claims::read_sheets(&paths)
        .map_err(|errors| errors.into_iter().map(general).collect::<Vec<_>>())?;
    let new =
        claims::parse_sheet(sheet_path, rendered.toml.clone()).map_err(|e| vec![general(e)])?;
    sheets.push(new);
    match claims::prepare_sheets(&sheets, data, base) {
        Ok(_) => Ok(()),
        Err(errors) => Err(errors
            .into_iter()
            .map(|error| match &error {
                Error::Parse {
                    path,
                    line,
                    message,
                    ..
                } if path == sheet_path => {
                    let (candidate, field) = rendered.field_at(*line);
                    FieldError {
                        candidate,
                        field,
                        message: message.clone(),
                    }
                }
                _ => general(error),
            })
            .collect()),
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review() -> Reviewed {
        serde_json::from_value(serde_json::json!({
            "source": {"key": "a-b", "kind": "NewsArticle", "headline": "H \"q\"",
                       "publisher": "daily-mail", "published": "2024-04-02",
                       "upstream": {"relation": "reposts", "key": "x"}},
            "text": "Text.",
            "claims": [{"candidate": "c1", "key": "k1", "text": "T", "claimant": "p",
                        "status": "Alleged", "about": ["e"], "quote": "Text",
                        "content": [{"s": "e", "p": "cg:p", "value": "1", "datatype": "xsd:integer"}]}],
            "appearances": [{"candidate": "c2", "claim": "known", "quote": "ext", "occurrence": 2}]
        }))
        .unwrap()
    }

    #[test]
    fn a_review_renders_as_a_sheet_with_its_fields_located() {
        let rendered = render(&review());
        let parsed = claims::parse_sheet(Path::new("x.toml"), rendered.toml.clone()).unwrap();
        assert_eq!(parsed.file.claims.len(), 1);
        assert!(rendered.toml.contains("published = 2024-04-02\n"));
        assert!(rendered.toml.contains("reposts = [\"x\"]"));
        assert!(rendered.toml.contains("relation = \"reposted\""));
        let line = |needle: &str| {
            rendered.toml[..rendered.toml.find(needle).unwrap()]
                .matches('\n')
                .count() as u64
                + 1
        };
        assert_eq!(
            rendered.field_at(line("claimant = ")),
            (Some("c1".into()), Some("claimant".into()))
        );
        assert_eq!(
            rendered.field_at(line("occurrence = 2")),
            (Some("c2".into()), Some("quote".into()))
        );
        assert_eq!(
            rendered.field_at(line("publisher =")),
            (None, Some("source.publisher".into()))
        );
    }

    #[test]
    fn a_date_that_is_not_one_is_written_as_a_string_never_as_toml() {
        let mut review = review();
        review.source.published = "2024-04-02\n[[claims]]".into();
        let rendered = render(&review);
        assert_eq!(rendered.toml.matches("\n[[claims]]\n").count(), 1);
        let refused = claims::parse_sheet(Path::new("x.toml"), rendered.toml.clone()).unwrap_err();
        let Error::Parse { line, .. } = refused else {
            panic!("{refused}")
        };
        assert_eq!(
            rendered.field_at(line).1.as_deref(),
            Some("source.published")
        );
    }

    #[test]
    fn a_replaced_sheet_keeps_the_entities_it_defined_that_are_still_used() {
        let old = "[[entities]]\nkey = \"daily-mail\"\n\
                   type = \"NewsMediaOrganization\"\nname = \"Daily Mail\"\n\
                   description = \"A curator's note.\"\n\n[[entities]]\nkey = \"unused\"\n\
                   type = \"Person\"\nname = \"Nobody\"\n";
        let carried = carried_entities(Path::new("x.toml"), old.as_bytes(), &review());
        assert_eq!(carried.len(), 1, "{carried:?}");
        assert_eq!(carried[0].0, "daily-mail");
        assert!(carried[0].1.starts_with("[[entities]]"));
        assert!(carried[0]
            .1
            .ends_with("description = \"A curator's note.\""));
        let rendered = render_with(&review(), &carried);
        let parsed = claims::parse_sheet(Path::new("x.toml"), rendered.toml).unwrap();
        assert_eq!(parsed.file.entities.len(), 1);
    }
}
