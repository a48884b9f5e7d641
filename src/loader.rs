//! RDF files into the store: format detection (by extension, `.gz` too), the graph each file
//! fills, parse errors located as `file:line:col`, and the start-up sync of `data/` and
//! `ontology/`.
//!
//! Invariants:
//! - a file is loaded all or nothing;
//! - a triple file (Turtle, N-Triples, RDF/XML, N3) fills the graph `{base}graphs/{stem}`
//!   (`data/sources.ttl` → `graphs/sources`) unless a graph is given; a dataset file (TriG,
//!   N-Quads, JSON-LD) keeps its graphs and its default-graph triples go to that same graph, so
//!   the store's own default graph stays empty and the union default graph sees everything once;
//! - the sync replaces exactly the graphs of the files that changed, in one transaction, and
//!   records what it loaded (path, SHA-256, graphs) in the graph `{base}graphs/data-files`;
//! - drafts are not data: a `drafts` directory directly under a data directory (`data/drafts/`,
//!   where `claimgraph draft` writes draft claim sheets) is neither synced nor listed, so editing
//!   a draft never triggers a reload.

use crate::error::{Error, Result};
use crate::formats::RdfSyntax;
use crate::ledger::{
    files_under, percent_encode, read_records, remove_record, write_record, Recorded,
};
use crate::store::{ClaimStore, Touched};
use oxigraph::io::{RdfFormat, RdfParseError};
use oxigraph::model::{GraphName, NamedNode, Quad};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// An RDF file as the loader sees it.
#[derive(Debug, Clone)]
pub struct RdfFile {
    pub path: PathBuf,
    pub syntax: &'static RdfSyntax,
    pub gzipped: bool,
}

impl RdfFile {
    /// Recognises an RDF file by its extension (`x.ttl`, `x.nq.gz`…); `None` for other files.
    pub fn detect(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        let (name, gzipped) = match name.strip_suffix(".gz") {
            Some(inner) => (inner, true),
            None => (name, false),
        };
        let extension = Path::new(name).extension()?.to_str()?;
        Some(Self {
            path: path.to_owned(),
            syntax: RdfSyntax::by_extension(extension)?,
            gzipped,
        })
    }

    /// Like [`RdfFile::detect`], with an error that says what is accepted.
    pub fn detect_or_explain(path: &Path) -> Result<Self> {
        Self::detect(path).ok_or_else(|| {
            Error::Invalid(format!(
                "{}: unknown RDF format; use one of the extensions {} (optionally followed by .gz)",
                path.display(),
                crate::formats::RDF_SYNTAXES
                    .iter()
                    .flat_map(|s| s.extensions.iter().map(|e| format!(".{e}")))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        })
    }

    /// The file name without its RDF and `.gz` extensions.
    pub fn stem(&self) -> String {
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(name);
        Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned()
    }

    /// The graph the file's triples go to unless told otherwise.
    pub fn default_graph(&self, store: &ClaimStore) -> Result<NamedNode> {
        store.graph_iri(&percent_encode(&self.stem()))
    }

    /// Opens the file for reading, decompressing if needed; `on_read` sees the count of (compressed)
    /// bytes read so far, for progress bars.
    pub fn open<'a>(&self, on_read: impl FnMut(u64) + 'a) -> Result<Box<dyn Read + 'a>> {
        let file = File::open(&self.path)
            .map_err(|e| Error::io(format!("cannot open {}", self.path.display()), e))?;
        let counted = CountingReader {
            inner: BufReader::new(file),
            read: 0,
            on_read,
        };
        Ok(if self.gzipped {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(counted)))
        } else {
            Box::new(counted)
        })
    }

    fn parse_error(&self, error: RdfParseError) -> Error {
        match error {
            RdfParseError::Syntax(e) => {
                let (line, column) = e
                    .location()
                    .map_or((0, 0), |l| (l.start.line + 1, l.start.column + 1));
                // The parsers repeat the position in their message; the path prefix already says it.
                let message = e.to_string();
                let message = match message.split_once(": ") {
                    Some((head, rest)) if head.starts_with("Parser error") => rest.to_owned(),
                    _ => message,
                };
                Error::Parse {
                    path: self.path.clone(),
                    line,
                    column,
                    message,
                }
            }
            RdfParseError::Io(e) => Error::io(format!("cannot read {}", self.path.display()), e),
        }
    }

    /// The parsed quads, triples placed in `graph`.
    fn quads<'a>(
        &'a self,
        store: &ClaimStore,
        graph: &NamedNode,
        mut reader: impl Read + 'a,
    ) -> Result<impl Iterator<Item = Result<Quad>> + 'a> {
        // RDF/XML is read whole first: its entity expansion is bounded before it is parsed
        // (`entities`), which needs the declarations and every reference.
        let reader: Box<dyn Read + 'a> = if self.syntax.format == RdfFormat::RdfXml {
            let mut document = Vec::new();
            reader
                .read_to_end(&mut document)
                .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
            crate::entities::check_rdfxml(&document)
                .map_err(|message| Error::Invalid(format!("{}: {message}", self.path.display())))?;
            Box::new(std::io::Cursor::new(document))
        } else {
            Box::new(reader)
        };
        let parser = store
            .rdf_parser(self.syntax.format)?
            .rename_blank_nodes()
            .with_default_graph(graph.clone());
        let parser = if self.syntax.format.supports_datasets() {
            parser
        } else {
            parser.without_named_graphs()
        };
        Ok(parser
            .for_reader(reader)
            .with_document_loader(crate::entities::refuse_remote_context)
            .map(move |q| q.map_err(|e| self.parse_error(e))))
    }
}

struct CountingReader<R, F> {
    inner: R,
    read: u64,
    on_read: F,
}

impl<R: Read, F: FnMut(u64)> Read for CountingReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.on_read)(self.read);
        Ok(n)
    }
}

/// Loads one file with the bulk loader, all or nothing. Returns the number of quads read.
pub fn load_file(
    store: &ClaimStore,
    file: &RdfFile,
    graph: Option<&NamedNode>,
    on_read: impl FnMut(u64),
) -> Result<u64> {
    let graph = match graph {
        Some(graph) => graph.clone(),
        None => file.default_graph(store)?,
    };
    let reader = file.open(on_read)?;
    let mut count = 0;
    store.bulk_load(|loader| {
        let quads = file.quads(store, &graph, reader)?.inspect(|_| count += 1);
        loader.load_ok_quads::<Error, Error>(quads)
    })?;
    Ok(count)
}

/// What a data sync did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub loaded: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// Brings the store up to date with the RDF files and claim sheets under `dirs`: new and changed
/// files are (re)loaded, replacing the graphs they filled before; files that disappeared have
/// their graphs dropped; unchanged files are not read beyond hashing. Claim sheets are checked
/// as a whole first (a sheet's fingerprint covers the archived texts it anchors quotes in). One
/// transaction: a bad file changes nothing and the error names it.
pub fn sync_dirs(store: &ClaimStore, dirs: &[PathBuf]) -> Result<SyncReport> {
    let files = discover(dirs)?;
    let meta_graph = store.graph_iri("data-files")?;
    let recorded = read_records(store, &meta_graph)?;

    let mut current = BTreeMap::new();
    for (key, file) in &files {
        let bytes = std::fs::read(&file.path)
            .map_err(|e| Error::io(format!("cannot read {}", file.path.display()), e))?;
        current.insert(key.clone(), format!("{:x}", Sha256::digest(&bytes)));
    }
    check_graph_conflicts(store, &files)?;
    // Sheets are parsed and fingerprinted cheaply; only if one changed or disappeared are they
    // all checked and compiled (they may refer to each other's keys).
    let mut parsed_dirs = Vec::new();
    for dir in dirs {
        let mut paths = data_files(dir)?;
        paths.retain(|path| path.extension().is_some_and(|e| e == "toml"));
        if paths.is_empty() {
            continue;
        }
        let parsed = crate::claims::read_sheets(&paths).map_err(Error::Multiple)?;
        for sheet in &parsed {
            current.insert(
                record_key(dir, &sheet.path),
                crate::claims::fingerprint(sheet),
            );
        }
        parsed_dirs.push((dir, parsed));
    }
    let sheets_stale = current
        .iter()
        .filter(|(key, _)| key.ends_with(".toml"))
        .any(|(key, sha)| recorded.get(key).is_none_or(|r| &r.sha256 != sha))
        || recorded
            .keys()
            .any(|key| key.ends_with(".toml") && !current.contains_key(key));
    let mut sheets = BTreeMap::new();
    if sheets_stale {
        for (dir, parsed) in &parsed_dirs {
            let compiled = crate::claims::prepare_sheets(parsed, dir, store.base())
                .map_err(Error::Multiple)?;
            for sheet in compiled {
                sheets.insert(record_key(dir, &sheet.path), sheet);
            }
        }
    }

    let changed: Vec<&String> = current
        .iter()
        .filter(|(key, sha)| recorded.get(*key).is_none_or(|r| &r.sha256 != *sha))
        .map(|(key, _)| key)
        .collect();
    let removed: Vec<&String> = recorded
        .keys()
        .filter(|key| !current.contains_key(*key))
        .collect();
    let report = SyncReport {
        loaded: changed.iter().map(|k| (*k).clone()).collect(),
        removed: removed.iter().map(|k| (*k).clone()).collect(),
        unchanged: current.len() - changed.len(),
    };
    if changed.is_empty() && removed.is_empty() {
        return Ok(report);
    }

    // RDF files are parsed before the write, so that it names every graph it fills: the audit
    // trail records them, and the claims index reads again only what they changed.
    let mut parsed_files: BTreeMap<&String, (Vec<Quad>, BTreeSet<NamedNode>)> = BTreeMap::new();
    for key in &changed {
        if sheets.contains_key(*key) {
            continue;
        }
        let file = &files[*key];
        let default_graph = file.default_graph(store)?;
        let mut graphs = BTreeSet::new();
        let mut quads = Vec::new();
        for quad in file.quads(store, &default_graph, file.open(|_| ())?)? {
            let quad = quad?;
            if let GraphName::NamedNode(g) = &quad.graph_name {
                graphs.insert(g.clone());
            }
            quads.push(quad);
        }
        parsed_files.insert(*key, (quads, graphs));
    }
    let mut old_graphs = vec![meta_graph.clone()];
    let mut new_graphs = vec![meta_graph.clone()];
    for key in changed.iter().chain(&removed) {
        if let Some(record) = recorded.get(*key) {
            old_graphs.extend(record.graphs.iter().cloned());
        }
    }
    for key in &changed {
        match sheets.get(*key) {
            Some(sheet) => new_graphs.extend(sheet.graphs.iter().cloned()),
            None => new_graphs.extend(parsed_files[*key].1.iter().cloned()),
        }
    }
    let mut default_graph_written = false;
    for (quads, _) in parsed_files.values() {
        default_graph_written |= quads.iter().any(|q| q.graph_name.is_default_graph());
    }
    let touched = if default_graph_written {
        // A file filling the default graph: not a named graph the trail can list.
        Touched::everything()
    } else {
        // Net counts, as before the graphs were named: the records graph keeps the records of
        // the files that did not change.
        let named = |list: Vec<NamedNode>| list.into_iter().map(GraphName::NamedNode).collect();
        Touched {
            used: named(old_graphs),
            generated: named(new_graphs),
            anywhere: false,
            replaces: false,
        }
    };
    store.write_touching(touched, |transaction| {
        // First drop everything the outdated records filled, then load: a graph may move from
        // one file to another.
        for key in changed.iter().chain(&removed) {
            if let Some(record) = recorded.get(*key) {
                for graph in &record.graphs {
                    transaction.remove_named_graph(graph)?;
                }
                remove_record(transaction, store, &meta_graph, key)?;
            }
        }
        for key in &changed {
            let record = if let Some(sheet) = sheets.get(*key) {
                for quad in &sheet.quads {
                    transaction.insert(quad);
                }
                Recorded {
                    sha256: sheet.fingerprint.clone(),
                    graphs: sheet.graphs.iter().cloned().collect(),
                }
            } else {
                let (quads, graphs) = &parsed_files[*key];
                for quad in quads {
                    transaction.insert(quad);
                }
                Recorded {
                    sha256: current[*key].clone(),
                    graphs: graphs.clone(),
                }
            };
            write_record(transaction, store, &meta_graph, key, &record)?;
        }
        Ok(())
    })?;
    Ok(report)
}

/// The key a file under a data directory is recorded under: `data/claims/x.toml`.
pub fn record_key(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    format!("{}/{}", root_name(dir), relative.to_string_lossy())
}

/// The name a data directory's files are keyed under (`data`, `ontology`).
fn root_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "data".into())
}

/// The directory, directly under a data directory, that holds drafts (`data/drafts/`): never
/// synced, never listed.
pub const DRAFTS_DIR: &str = "drafts";

/// Every file under the data directory `dir` that is data, in a stable order: all but those
/// under `dir/drafts/` ([`DRAFTS_DIR`]).
pub fn data_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let drafts = dir.join(DRAFTS_DIR);
    let mut files = files_under(dir)?;
    files.retain(|path| !path.starts_with(&drafts));
    Ok(files)
}

/// RDF files under `dirs`, keyed by `dir-name/relative/path`, in a stable order. Missing
/// directories are skipped; other files (archived texts, READMEs) are not RDF and are ignored,
/// and so are drafts (`drafts/` directly under a data directory).
fn discover(dirs: &[PathBuf]) -> Result<BTreeMap<String, RdfFile>> {
    let mut files = BTreeMap::new();
    for dir in dirs {
        if !dir.is_dir() {
            tracing::debug!(dir = %dir.display(), "no such data directory; skipped");
            continue;
        }
        for path in data_files(dir)? {
            if let Some(file) = RdfFile::detect(&path) {
                files.insert(record_key(dir, &path), file);
            }
        }
    }
    Ok(files)
}

/// Path, size and modification time of every file under the data directories.
pub type Listing = Vec<(PathBuf, u64, Option<std::time::SystemTime>)>;

/// A cheap signature of the files under `dirs` (path, size, modification time), to notice changes
/// without reading them; drafts (`drafts/` directly under a data directory) are left out, so a
/// draft being edited does not trigger a reload.
pub fn listing(dirs: &[PathBuf]) -> Result<Listing> {
    let mut listing = Vec::new();
    for dir in dirs {
        for path in data_files(dir)? {
            let metadata = std::fs::metadata(&path).ok();
            let size = metadata.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = metadata.and_then(|m| m.modified().ok());
            listing.push((path, size, modified));
        }
    }
    Ok(listing)
}

fn check_graph_conflicts(store: &ClaimStore, files: &BTreeMap<String, RdfFile>) -> Result<()> {
    let mut owners: BTreeMap<NamedNode, &String> = BTreeMap::new();
    for (key, file) in files {
        if let Some(other) = owners.insert(file.default_graph(store)?, key) {
            return Err(Error::Invalid(format!(
                "{other} and {key} would both fill the graph named after their file name; \
                 rename one of them"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_not_data() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "claims/a.toml",
            "drafts/b.toml",
            "drafts/deeper/c.ttl",
            "claims/drafts/d.toml",
            "x.ttl",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let relative = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        // Only `drafts/` directly under the data directory is left out.
        let data = vec!["claims/a.toml", "claims/drafts/d.toml", "x.ttl"];
        assert_eq!(relative(data_files(root).unwrap()), data);
        let listed = listing(&[root.to_owned()]).unwrap();
        assert_eq!(
            relative(listed.into_iter().map(|(p, _, _)| p).collect()),
            data
        );
        let discovered = discover(&[root.to_owned()]).unwrap();
        assert_eq!(discovered.len(), 1, "{discovered:?}");
    }
}
