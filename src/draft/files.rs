//! Drafting on disk: reading an article (text or HTML), the sheets of a data directory as what
//! is known, and writing the archived text and the draft sheet — all checked before anything is
//! written.
//!
//! Invariant: either both files (`texts/KEY.txt`, the draft sheet) are written, or neither.

use super::{draft, evaluate, html, Article, Draft, Upstream};
use crate::claims::sheet::Sheet;
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Articles larger than this are refused (a book is not an article).
pub const MAX_ARTICLE_BYTES: usize = 2 * 1024 * 1024;

/// The options of one draft, as the command line and `POST /drafts` give them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub key: String,
    pub publisher: String,
    pub date: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub kind: Option<String>,
    pub reposts: Option<String>,
    pub quotes: Option<String>,
    /// Replace a draft or text of the same key, and allow a key already in use.
    pub force: bool,
}

/// The article's text from its bytes: UTF-8 required; HTML reduced to its main text.
/// `name` is how errors name the input (a file path, a form field).
pub fn article_text(name: &str, bytes: &[u8]) -> Result<String> {
    if bytes.len() > MAX_ARTICLE_BYTES {
        return Err(Error::Invalid(format!(
            "{name}: the article is {} bytes, over the limit of {MAX_ARTICLE_BYTES}",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let text = String::from_utf8_lossy(valid);
        let (line, column) = crate::claims::sheet::line_col(&text, text.len());
        Error::Parse {
            path: PathBuf::from(name),
            line,
            column,
            message: "the article is not UTF-8 text: convert it (e.g. `iconv -t UTF-8`) and \
                      try again"
                .into(),
        }
    })?;
    let text = if html::is_html(text) {
        html::main_text(text)
    } else {
        text.to_owned()
    };
    if text.trim().is_empty() {
        return Err(Error::Invalid(format!("{name}: the article is empty")));
    }
    Ok(text)
}

/// `YYYY-MM-DD` as a day.
pub fn parse_date(value: &str) -> Result<(i32, u32, u32)> {
    let bad = || {
        Error::Invalid(format!(
            "--date {value:?} is not a date: write it as YYYY-MM-DD, e.g. 2024-04-02"
        ))
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d): (i32, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y.to_string().len() != 4 || d == 0 || d > days {
        return Err(bad());
    }
    Ok((y, m, d))
}

/// The claim sheets of a data directory: its `.toml` files, drafts left out.
pub fn sheets_under(data: &Path) -> Result<Vec<Sheet>> {
    let mut paths = crate::loader::data_files(data)?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    crate::claims::read_sheets(&paths).map_err(Error::Multiple)
}

/// Checks the options against what is known and drafts `text`.
pub fn draft_article(text: String, options: &Options, known: &super::Known) -> Result<Draft> {
    if !crate::claims::is_slug(&options.key) {
        return Err(Error::Invalid(format!(
            "--key {:?} is not a key: use lower-case letters, digits and hyphens",
            options.key
        )));
    }
    if known.keys.contains(&options.key) && !options.force {
        return Err(Error::Invalid(format!(
            "--key {:?} is already in use in the data: choose another key, or pass --force",
            options.key
        )));
    }
    if options.publisher.trim().is_empty() {
        return Err(Error::Invalid(
            "--publisher is empty: name the outlet".into(),
        ));
    }
    let date = parse_date(&options.date)?;
    let kind = options.kind.clone().unwrap_or_else(|| "NewsArticle".into());
    if crate::vocab::SOURCE_TYPES
        .iter()
        .all(|(name, _)| *name != kind)
    {
        return Err(Error::Invalid(format!(
            "--kind {kind:?} is not a source type: use one of {}",
            crate::vocab::SOURCE_TYPES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let upstream = match (&options.reposts, &options.quotes) {
        (Some(_), Some(_)) => {
            return Err(Error::Invalid(
                "give --reposts or --quotes, not both".into(),
            ))
        }
        (Some(key), None) => Some((Upstream::Reposts, key.clone())),
        (None, Some(key)) => Some((Upstream::Quotes, key.clone())),
        (None, None) => None,
    };
    if let Some((_, key)) = &upstream {
        if !known.sources.iter().any(|s| &s.key == key) {
            return Err(Error::Invalid(format!(
                "upstream source {key:?} is not a source key in the data: check the key (see \
                 [[sources]] in data/claims/)"
            )));
        }
    }
    let title = options.title.clone().or_else(|| headline(&text));
    let article = Article {
        key: options.key.clone(),
        text,
        publisher: options.publisher.clone(),
        date,
        title,
        url: options.url.clone(),
        kind,
        upstream,
    };
    draft(&article, known)
}

/// The first line, when it stands alone as a headline.
fn headline(text: &str) -> Option<String> {
    let mut lines = text.lines();
    let first = lines.next()?.trim();
    let blank_after = lines.next().is_none_or(|l| l.trim().is_empty());
    (blank_after
        && !first.is_empty()
        && first.split_whitespace().count() <= 25
        && !first.ends_with('.'))
    .then(|| first.to_owned())
}

/// What is known from the sheets under `data`.
pub fn known_under(data: &Path) -> Result<super::Known> {
    Ok(evaluate::known_from_sheets(
        &sheets_under(data)?,
        &BTreeSet::new(),
    ))
}

/// Writes the archived text (`data/texts/KEY.txt`) and the draft sheet (`out`, by default
/// `data/drafts/KEY.toml`); refuses to replace either unless `force`.
pub fn write(
    data: &Path,
    draft: &Draft,
    text: &str,
    out: Option<&Path>,
    force: bool,
) -> Result<(PathBuf, PathBuf)> {
    let key = &draft.source.key;
    let text_path = data.join("texts").join(format!("{key}.txt"));
    let sheet_path = out.map_or_else(
        || {
            data.join(crate::loader::DRAFTS_DIR)
                .join(format!("{key}.toml"))
        },
        Path::to_owned,
    );
    for path in [&text_path, &sheet_path] {
        if path.exists() && !force {
            return Err(Error::Invalid(format!(
                "{} exists: choose another --key, or pass --force to replace it",
                path.display()
            )));
        }
    }
    write_whole(&text_path, text.as_bytes())?;
    let relative = sheet_path
        .parent()
        .and_then(|dir| relative_path(dir, &text_path))
        .unwrap_or_else(|| text_path.display().to_string());
    let sheet = super::sheet::to_toml_with_text(draft, &relative);
    if let Err(error) = write_whole(&sheet_path, sheet.as_bytes()) {
        let _ = std::fs::remove_file(&text_path);
        return Err(error);
    }
    Ok((text_path, sheet_path))
}

/// `to` as a path relative to the directory `from` (both made absolute), with `/` separators.
fn relative_path(from: &Path, to: &Path) -> Option<String> {
    std::fs::create_dir_all(from).ok()?;
    let (from, to) = (from.canonicalize().ok()?, to.canonicalize().ok()?);
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count() - common;
    let downs: Vec<String> = to
        .components()
        .skip(common)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(
        std::iter::repeat_n("..".to_owned(), ups)
            .chain(downs)
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Writes a file aside and renames it, so that a reader never sees half of it.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Error::io(format!("cannot write {}", path.display()), e)
        })
}
