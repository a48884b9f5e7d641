//! Claims from claim sheets: validation (`check`), compilation to RDF, ingest and verification.
//!
//! Invariants:
//! - a sheet is checked completely before anything is written: every error is collected, each
//!   located as `file:line:col`, and any error means nothing is ingested;
//! - quote offsets come only from `anchor` (code points over the archived text, whose SHA-256
//!   must match the sheet);
//! - every claim's content lives in its own assertion graph, hashed with RDFC-1.0 (`canonical`);
//! - the graphs of one sheet are derived from its id and keys, so re-ingesting it replaces
//!   exactly them (a sheet's `[[appearances]]` of other sheets' claims included);
//! - a sheet holding a `draft` table (`[claims.draft]`, `[appearances.draft]`) never passes
//!   `check`: one error per field still `open`, one per candidate not yet accepted.

pub mod anchor;
mod compile;
pub mod shapes;
pub mod sheet;
mod validate;

pub use validate::{CLAIM_FIELDS, RELATIONS, SHEET_APPEARANCE_FIELDS, SHEET_PREFIXES, STATUSES};

pub use compile::{compile, CompiledSheet};
pub use validate::{check, is_slug, Checked};

use crate::error::{Error, Result};
use sheet::{Sheet, SheetFile};
use std::path::{Path, PathBuf};

/// Reads and parses sheets; syntax errors are located as `file:line:col`.
pub fn read_sheets(paths: &[PathBuf]) -> std::result::Result<Vec<Sheet>, Vec<Error>> {
    let mut sheets = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match read_sheet(path) {
            Ok(sheet) => sheets.push(sheet),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(sheets)
    } else {
        Err(errors)
    }
}

fn read_sheet(path: &Path) -> Result<Sheet> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    parse_sheet(path, source)
}

/// Parses a sheet's text read from `path`; syntax errors are located as `file:line:col`.
pub(crate) fn parse_sheet(path: &Path, source: String) -> Result<Sheet> {
    match toml::from_str::<SheetFile>(&source) {
        Ok(file) => Ok(Sheet {
            path: path.to_owned(),
            source,
            file,
        }),
        Err(error) => {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| sheet::line_col(&source, span.start));
            Err(Error::Parse {
                path: path.to_owned(),
                line,
                column,
                message: error.message().trim().to_owned(),
            })
        }
    }
}

/// SHA-256 over a sheet's bytes and the archived texts it names, so that a changed text counts
/// as a changed sheet. Cheap: parsing only, no checks; a text that cannot be read is hashed as
/// absent (the check will say why).
pub fn fingerprint(sheet: &Sheet) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(sheet.source.as_bytes());
    for source in &sheet.file.sources {
        if let Some(text) = &source.text {
            hasher.update(text.get_ref().as_bytes());
            if let Ok(bytes) = std::fs::read(sheet.dir().join(text.get_ref())) {
                hasher.update(Sha256::digest(&bytes));
            }
        }
    }
    format!("{:x}", hasher.finalize())
}

/// Reads, checks and compiles sheets in one go; `data_root` is the directory archived-text paths
/// are recorded relative to.
pub fn prepare(
    paths: &[PathBuf],
    data_root: &Path,
    base: &str,
) -> std::result::Result<Vec<CompiledSheet>, Vec<Error>> {
    prepare_sheets(&read_sheets(paths)?, data_root, base)
}

/// Checks and compiles sheets already read (see [`prepare`]).
pub fn prepare_sheets(
    sheets: &[Sheet],
    data_root: &Path,
    base: &str,
) -> std::result::Result<Vec<CompiledSheet>, Vec<Error>> {
    let checked = check(sheets, data_root)?;
    let compiled = compile(&checked, base).map_err(|e| vec![e])?;
    // The shapes see every sheet at once, so references across sheets resolve.
    let violations =
        shapes::validate(compiled.iter().flat_map(|s| &s.quads)).map_err(|e| vec![e])?;
    if violations.is_empty() {
        Ok(compiled)
    } else {
        Err(violations
            .into_iter()
            .map(|v| Error::Invalid(format!("SHACL (ontology/shapes.ttl): {v}")))
            .collect())
    }
}

/// The sheets (`*.toml`) under `dir`, recursively, in a stable order.
/// A key slug made from `text`: lower-case ASCII letters and digits, accented vowels without
/// their accents, every other run of characters one hyphen (what [`is_slug`] accepts, if not
/// empty).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

pub fn find_sheets(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut sheets = crate::ledger::files_under(dir)?;
    sheets.retain(|path| path.extension().is_some_and(|e| e == "toml"));
    Ok(sheets)
}

/// Writes one compiled sheet in one transaction, replacing exactly the graphs the same sheet
/// (recorded under `key`) filled before. Returns the number of quads written.
pub fn ingest(store: &crate::ClaimStore, sheet: &CompiledSheet, key: &str) -> Result<usize> {
    let meta_graph = store.graph_iri("data-files")?;
    let recorded = crate::ledger::read_record(store, &meta_graph, key)?;
    // The audit trail counts the sheet's graphs, before and after (the bookkeeping record in
    // `data-files` is not counted).
    let old: Vec<_> = recorded
        .iter()
        .flat_map(|old| old.graphs.iter().cloned())
        .collect();
    let touched = crate::store::Touched::replacing(&old, &sheet.graphs);
    store.write_touching(touched, |transaction| {
        if let Some(old) = &recorded {
            for graph in &old.graphs {
                transaction.remove_named_graph(graph)?;
            }
            crate::ledger::remove_record(transaction, store, &meta_graph, key)?;
        }
        for quad in &sheet.quads {
            transaction.insert(quad);
        }
        let record = crate::ledger::Recorded {
            sha256: sheet.fingerprint.clone(),
            graphs: sheet.graphs.iter().cloned().collect(),
        };
        crate::ledger::write_record(transaction, store, &meta_graph, key, &record)?;
        Ok(sheet.quads.len())
    })
}

/// What `verify` found wrong.
#[derive(Debug, Default)]
pub struct Drift {
    pub checked_claims: usize,
    pub checked_appearances: usize,
    pub problems: Vec<String>,
}

const CLAIM_HASHES: &str = include_str!("../../queries/assertion-hashes.rq");
const APPEARANCES: &str = include_str!("../../queries/appearances.rq");

/// Recomputes every assertion hash and re-anchors every quote against the archived texts under
/// `data_root`.
pub fn verify(store: &crate::ClaimStore, data_root: &Path) -> Result<Drift> {
    use oxigraph::model::{Term, Triple};
    let mut drift = Drift::default();
    for row in store.select(CLAIM_HASHES)? {
        let (claim, graph, recorded) = (&row[0], &row[1], &row[2]);
        drift.checked_claims += 1;
        let (Some(Term::NamedNode(graph)), Some(Term::Literal(recorded))) = (graph, recorded)
        else {
            drift
                .problems
                .push(format!("{}: no assertion graph or hash", display(claim)));
            continue;
        };
        let triples: Vec<Triple> = store
            .quads(Some(graph))
            .map(|q| q.map(Triple::from))
            .collect::<Result<_>>()?;
        let actual = compile::assertion_hash(&triples)?;
        if actual != recorded.value() {
            drift.problems.push(format!(
                "{}: the assertion graph <{}> hashes to {actual}, the claim records {}",
                display(claim),
                graph.as_str(),
                recorded.value()
            ));
        }
    }
    let mut texts: std::collections::HashMap<String, Option<String>> = Default::default();
    for row in store.select(APPEARANCES)? {
        drift.checked_appearances += 1;
        let value = |i: usize| match &row[i] {
            Some(Term::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        let appearance = display(&row[1]);
        let (Some(exact), Some(start), Some(end)) = (value(3), value(4), value(5)) else {
            drift
                .problems
                .push(format!("{appearance}: incomplete selectors"));
            continue;
        };
        let (Some(path), Some(sha)) = (value(6), value(7)) else {
            drift
                .problems
                .push(format!("{appearance}: its source has no archived text"));
            continue;
        };
        let text = texts.entry(path.clone()).or_insert_with(|| {
            std::fs::read(data_root.join(&path)).ok().and_then(|b| {
                use sha2::Digest;
                (format!("{:x}", sha2::Sha256::digest(&b)) == sha)
                    .then(|| String::from_utf8(b).ok())
                    .flatten()
            })
        });
        let Some(text) = text else {
            drift.problems.push(format!(
                "{appearance}: {} is missing or no longer has SHA-256 {sha}",
                data_root.join(&path).display()
            ));
            continue;
        };
        let (start, end): (usize, usize) = (start.parse().unwrap_or(0), end.parse().unwrap_or(0));
        let found = anchor::slice(text, start, end);
        if found != exact {
            let now = anchor::occurrences(text, &exact);
            drift.problems.push(format!(
                "{appearance}: code points [{start}, {end}) hold {found:?}, not the quote {exact:?} \
                 (the quote now starts at {now:?})"
            ));
        }
    }
    Ok(drift)
}

fn display(term: &Option<oxigraph::model::Term>) -> String {
    term.as_ref()
        .map_or_else(|| "?".into(), ToString::to_string)
}
