//! Published versions: immutable snapshots of the store that read-only replicas serve
//! (`claimgraph publish`, `claimgraph serve --follow`), and the RDF Patch between two of them.
//!
//! A version is a directory `GENERATION-DIGEST` in a publish directory:
//! - `store/`: a RocksDB checkpoint of the store, with its audit trail (`store/audit`) and
//!   claims index (`store/index`) as they were at the same instant;
//! - `data/`: the archived texts the store's sources name, at the paths recorded for them;
//! - `changes.rdfp`: the RDF Patch from the previous generation (absent in the first);
//! - `manifest.json`, written last: generation, the dataset's digest, counts, base IRI, the
//!   source commit, and every file with its size and SHA-256.
//!
//! Invariants: a version is assembled in a hidden staging directory and renamed into place
//! whole, so a directory with a version's name is complete unless it was copied in by hand (a
//! replica checks every file against the manifest before opening it); an existing version is
//! never modified (pruning removes whole versions); generations only grow (publishes into one
//! directory take a file lock); the digest depends only on the quads (their N-Quads lines in the
//! store's order, which RocksDB keeps by content-derived keys).

use super::backend::{checkpoint, open_read_only};
use super::*;
use crate::index::ClaimIndex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The manifest's name in a version directory.
pub const MANIFEST: &str = "manifest.json";
/// The RDF Patch from the previous generation, in a version directory.
pub const CHANGES: &str = "changes.rdfp";
/// What the manifest's `format` says.
const FORMAT: &str = "claimgraph-version/1";
/// The store's directory inside a version.
const STORE: &str = "store";
/// The archived texts' directory inside a version (a data directory of the replica).
const DATA: &str = "data";
/// The directory in a publishing store where the last version's quad hashes are kept.
const PUBLISHED_HASHES: &str = "published";
/// A publish directory's lock file: one publish at a time.
const LOCK: &str = ".publish.lock";
const STAGING_PREFIX: &str = ".staging-";
/// The last generation published into a publish directory: generations grow even past versions
/// removed since.
const LAST_GENERATION: &str = ".generation";

/// A version's `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub generation: u64,
    /// SHA-256 (hex) of the dataset: its quads' N-Quads lines in the store's order.
    pub digest: String,
    pub quads: u64,
    pub claims: u64,
    /// When it was published, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC).
    pub created: String,
    /// The base IRI of everything the store mints.
    pub base: String,
    /// The commit of the data directory's git checkout, if it is one and was clean.
    pub source_commit: Option<String>,
    /// The generation `changes.rdfp` goes from.
    pub previous: Option<u64>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the version directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// The version's directory name: its generation and the start of its digest.
    pub fn dir_name(&self) -> String {
        format!(
            "{:06}-{}",
            self.generation,
            &self.digest[..16.min(self.digest.len())]
        )
    }

    /// The version's IRI in RDF Patch headers.
    pub fn iri(&self) -> String {
        format!("urn:claimgraph:version:{}:{}", self.generation, self.digest)
    }
}

/// What [`ClaimStore::publish`] is told.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Keep this many newest versions, removing older ones (`None`: keep all).
    pub keep: Option<usize>,
    /// The data directories the archived texts are copied from.
    pub data_dirs: Vec<PathBuf>,
    pub source_commit: Option<String>,
}

/// What a publish made.
#[derive(Debug, Clone)]
pub struct Published {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Quads added and removed since the previous generation.
    pub added: u64,
    pub removed: u64,
    /// Bytes of the version's files (hard-linked files count in full).
    pub bytes: u64,
    /// Archived texts named by the store but found in no data directory.
    pub missing_texts: Vec<String>,
    pub pruned: Vec<PathBuf>,
    pub elapsed: std::time::Duration,
}

impl ClaimStore {
    /// Publishes the store as it is now as a new version in `to` (created if absent): the
    /// store, its audit trail and its claims index copied at one instant (writes wait), the
    /// archived texts beside them, the RDF Patch from the newest version already there, and the
    /// manifest. `progress` is told each step.
    pub fn publish(
        &self,
        to: &Path,
        options: &PublishOptions,
        progress: &dyn Fn(&str),
    ) -> Result<Published> {
        let started = std::time::Instant::now();
        std::fs::create_dir_all(to)
            .map_err(|e| Error::io(format!("cannot create {}", to.display()), e))?;
        let lock = std::fs::File::create(to.join(LOCK))
            .map_err(|e| Error::io(format!("cannot create {}", to.join(LOCK).display()), e))?;
        if lock.try_lock().is_err() {
            return Err(Error::Invalid(format!(
                "another publish into {} is running (it holds {LOCK})",
                to.display()
            )));
        }
        // Holding the lock, every staging directory is a killed publish's leftover.
        for entry in read_dir(to)? {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                remove_dir(&entry.path())?;
            }
        }
        let versions = list_versions(to)?;
        let recorded = std::fs::read_to_string(to.join(LAST_GENERATION))
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok());
        let generation = versions
            .iter()
            .map(|v| v.generation)
            .chain(recorded)
            .max()
            .unwrap_or(0)
            + 1;
        let previous = versions.iter().rev().find_map(|v| v.manifest().ok());
        let previous = previous.as_ref();
        let staging = to.join(format!("{STAGING_PREFIX}{generation}"));
        let made = (|| -> Result<Published> {
            std::fs::create_dir(&staging)
                .map_err(|e| Error::io(format!("cannot create {}", staging.display()), e))?;
            progress("copying the store, its audit trail and its index");
            let claims = self.checkpoint_all(&staging.join(STORE))?;
            // The copy, opened once: the texts it names, then its digest and changes.
            let staged = open_read_only(&staging.join(STORE))?;
            progress("copying the archived texts");
            let missing_texts = copy_texts(&staged, &staging, &options.data_dirs)?;
            progress("reading the dataset (digest and changes)");
            let previous_generation = previous.map(|m| m.generation);
            let previous_store = previous.map(|m| to.join(m.dir_name()).join(STORE));
            let previous = previous_store
                .as_deref()
                .zip(previous)
                .map(|(store, manifest)| {
                    (
                        store,
                        manifest,
                        QuadHashes::read(&self.hashes_file(&manifest.digest)),
                    )
                });
            let scan = scan_new_version(&staged, previous, &staging.join(CHANGES), generation)?;
            drop(staged);
            progress("hashing the files");
            let files = file_entries(&staging)?;
            let manifest = Manifest {
                format: FORMAT.to_owned(),
                generation,
                digest: scan.digest,
                quads: scan.quads,
                claims,
                created: crate::audit::now().value().to_owned(),
                base: self.base.clone(),
                source_commit: options.source_commit.clone(),
                previous: previous_generation,
                files,
            };
            write_manifest(&staging, &manifest)?;
            let dir = to.join(manifest.dir_name());
            std::fs::write(to.join(LAST_GENERATION), format!("{generation}\n")).map_err(|e| {
                Error::io(
                    format!("cannot write {}", to.join(LAST_GENERATION).display()),
                    e,
                )
            })?;
            std::fs::rename(&staging, &dir).map_err(|e| {
                Error::io(format!("cannot move the version to {}", dir.display()), e)
            })?;
            self.keep_hashes(&scan.hashes, &manifest.digest);
            let bytes = manifest.files.iter().map(|f| f.bytes).sum();
            Ok(Published {
                dir,
                manifest,
                added: scan.added,
                removed: scan.removed,
                bytes,
                missing_texts,
                pruned: Vec::new(),
                elapsed: std::time::Duration::ZERO,
            })
        })();
        let mut published = made.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&staging);
        })?;
        if let Some(keep) = options.keep {
            published.pruned = prune(to, keep.max(1))?;
        }
        published.elapsed = started.elapsed();
        Ok(published)
    }

    /// Where this store keeps the hashes of the version with `digest` it published last.
    fn hashes_file(&self, digest: &str) -> PathBuf {
        self.dir
            .join(PUBLISHED_HASHES)
            .join(format!("{digest}.hashes"))
    }

    /// Keeps the hashes of the version just published for the next publish, in place of the
    /// last one's. They only spare work: failing to keep them is logged, not an error.
    fn keep_hashes(&self, hashes: &QuadHashes, digest: &str) {
        let path = self.hashes_file(digest);
        let kept = (|| -> Result<()> {
            let dir = path.parent().expect("a file in a directory");
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            hashes.write(&path)?;
            for entry in read_dir(dir)? {
                if entry.path() != path {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            Ok(())
        })();
        if let Err(error) = kept {
            tracing::warn!(%error, "cannot keep the version's hashes: the next publish reads it again");
        }
    }

    /// Checkpoints the store, its trail and its index into `target` at one instant, and
    /// returns how many claims the copied index holds.
    fn checkpoint_all(&self, target: &Path) -> Result<u64> {
        let _writes_wait = self.lock_writer();
        checkpoint(&self.store, target)?;
        checkpoint(self.audit.store(), &target.join(AUDIT_DIR))?;
        let next = self.audit.next_sequence();
        let source = self.index.dir();
        let copy = target.join(crate::index::INDEX_DIR);
        // Writes wait, but tantivy merges segments on threads of its own, and a merge that ends
        // rewrites the segment list and removes merged files: a copy taken meanwhile may miss a
        // file. The copy is opened and checked, and taken again if it does not hold the index.
        let expected = self.index.len();
        let mut last = String::new();
        for _ in 0..5 {
            if copy.exists() {
                remove_dir(&copy)?;
            }
            link_tree(source, &copy)?;
            match ClaimIndex::open_read_only(&copy) {
                Ok((index, Some(following))) if following == next && index.len() == expected => {
                    return Ok(expected);
                }
                Ok((_, following)) => {
                    last = format!("the copy follows write {following:?}, not {next}");
                }
                Err(error) => last = error.to_string(),
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Err(Error::Internal(format!(
            "cannot copy the claims index {} whole: {last}",
            source.display()
        )))
    }
}

/// The commit checked out in `dir`, if it is a git work tree with nothing uncommitted there (else
/// a version could not be traced back to its sheets, and the manifest names none).
pub fn source_commit(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    match git(&["status", "--porcelain", "--", "."]) {
        Some(changes) if changes.is_empty() => Some(commit),
        _ => {
            tracing::warn!(
                dir = %dir.display(),
                "uncommitted changes: the manifest names no source commit"
            );
            None
        }
    }
}

/// A version directory found in a publish directory.
#[derive(Debug)]
pub struct Version {
    pub generation: u64,
    pub dir: PathBuf,
}

impl Version {
    /// Its manifest, or why it cannot be read (a version still being copied in). Read when
    /// asked: a replica lists the directory every second and needs only the newer ones'.
    pub fn manifest(&self) -> Result<Manifest, String> {
        read_manifest(&self.dir)
    }
}

/// The directories in `dir` named like versions, oldest generation first.
pub fn list_versions(dir: &Path) -> Result<Vec<Version>> {
    let mut versions = Vec::new();
    for entry in read_dir(dir)? {
        let name = entry.file_name();
        let Some(generation) = version_generation(&name.to_string_lossy()) else {
            continue;
        };
        versions.push(Version {
            generation,
            dir: entry.path(),
        });
    }
    versions.sort_by(|a, b| a.generation.cmp(&b.generation).then(a.dir.cmp(&b.dir)));
    Ok(versions)
}

/// The generation of a version directory's name (`000012-0a1b2c3d4e5f6a7b`).
fn version_generation(name: &str) -> Option<u64> {
    let (generation, digest) = name.split_once('-')?;
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if generation.len() < 6 || !generation.bytes().all(|b| b.is_ascii_digit()) || !hex(digest) {
        return None;
    }
    generation.parse().ok()
}

fn read_manifest(version: &Path) -> Result<Manifest, String> {
    let path = version.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "{}: format {:?}, not {FORMAT:?}",
            path.display(),
            manifest.format
        ));
    }
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex(&manifest.digest) {
        return Err(format!(
            "{}: the digest is not a SHA-256 in hex",
            path.display()
        ));
    }
    // A manifest names only files inside its version, never elsewhere on the replica's disk.
    for file in &manifest.files {
        let relative = Path::new(&file.path);
        let inside = relative.components().next().is_some()
            && relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside || !hex(&file.sha256) {
            return Err(format!(
                "{}: {:?} is not a file of the version with a SHA-256",
                path.display(),
                file.path
            ));
        }
    }
    let name = version.file_name().unwrap_or_default().to_string_lossy();
    if manifest.dir_name() != name {
        return Err(format!(
            "{}: the manifest names version {}, not {name}",
            path.display(),
            manifest.dir_name()
        ));
    }
    Ok(manifest)
}

/// Checks that every file the version's manifest lists is there with its size and SHA-256
/// (a version copied in by rsync or from object storage may be incomplete), and returns the
/// manifest.
pub fn verify_version(version: &Path) -> Result<Manifest> {
    let manifest = read_manifest(version).map_err(Error::Invalid)?;
    for file in &manifest.files {
        let path = version.join(&file.path);
        let bytes = std::fs::metadata(&path)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?
            .len();
        if bytes != file.bytes {
            return Err(Error::Invalid(format!(
                "{} has {bytes} bytes, the manifest says {}",
                path.display(),
                file.bytes
            )));
        }
    }
    for file in &manifest.files {
        let path = version.join(&file.path);
        if sha256_file(&path)? != file.sha256 {
            return Err(Error::Invalid(format!(
                "{} does not have the SHA-256 the manifest gives",
                path.display()
            )));
        }
    }
    Ok(manifest)
}

impl ClaimStore {
    /// Opens a published version read-only: its store, trail and index as published (see
    /// [`verify_version`] first). Every write is refused.
    pub fn open_version(version: &Path, manifest: &Manifest) -> Result<Self> {
        let path = version.join(STORE);
        let dir = path
            .canonicalize()
            .map_err(|e| Error::io(format!("cannot resolve {}", path.display()), e))?;
        let store = open_read_only(&path)?;
        let audit = AuditLog::open_read_only(&path.join(AUDIT_DIR), &manifest.base)?;
        let (index, following) = ClaimIndex::open_read_only(&path.join(INDEX_DIR))?;
        if following != Some(audit.next_sequence()) {
            return Err(Error::Invalid(format!(
                "the claims index of {} does not follow its store",
                version.display()
            )));
        }
        Ok(Self::assemble(
            store,
            dir,
            &manifest.base,
            audit,
            index,
            Some((manifest.generation, manifest.iri())),
        ))
    }
}

/// Where a version keeps the archived texts (a data directory for the replica serving it).
pub fn version_data_dir(version: &Path) -> PathBuf {
    version.join(DATA)
}

/// Removes all but the `keep` newest complete versions in `dir`; returns what it removed.
fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let complete: Vec<Version> = list_versions(dir)?
        .into_iter()
        .filter(|v| v.manifest().is_ok())
        .collect();
    let mut removed = Vec::new();
    for version in &complete[..complete.len().saturating_sub(keep)] {
        remove_dir(&version.dir)?;
        removed.push(version.dir.clone());
    }
    Ok(removed)
}

/// What reading a new version found.
struct Scan {
    digest: String,
    quads: u64,
    added: u64,
    removed: u64,
    /// The new version's quads as hashes, for the next publish.
    hashes: QuadHashes,
}

/// Reads the staged store once for its digest, count and hashes and, when there is a previous
/// version, writes the RDF Patch from it to `changes` (with `previous_hashes`, that version's
/// hashes if this store kept them, its quads are read only in the graphs that lost some).
fn scan_new_version(
    new: &Store,
    previous: Option<(&Path, &Manifest, Option<QuadHashes>)>,
    changes: &Path,
    generation: u64,
) -> Result<Scan> {
    let Some((previous_store, previous, previous_hashes)) = previous else {
        let mut hashes = QuadHashes::default();
        let (digest, quads) = digest_of(new, |quad, line| {
            hashes.push(quad, line);
            Ok(())
        })?;
        hashes.entries.sort_unstable();
        return Ok(Scan {
            digest,
            quads,
            added: 0,
            removed: 0,
            hashes,
        });
    };
    let old = open_read_only(previous_store)?;
    let mut out = create(changes)?;
    let from = previous.iri();
    let (counts, hashes) = write_patch(
        &old,
        previous_hashes,
        new,
        &mut out,
        &changes.with_extension("adds"),
        &|digest| {
            format!("H id <urn:claimgraph:version:{generation}:{digest}> .\nH prev <{from}> .\n")
        },
    )?;
    out.flush()
        .map_err(|e| Error::io(format!("cannot write {}", changes.display()), e))?;
    Ok(Scan {
        digest: counts.digest,
        quads: counts.quads,
        added: counts.added,
        removed: counts.removed,
        hashes,
    })
}

/// The RDF Patch from the version in `a` to the one in `b` (version directories), written to
/// `out` with its headers (`claimgraph diff`). Returns quads removed and added. Fails if `b`'s
/// store does not have the digest its manifest gives.
pub fn diff_versions(a: &Path, b: &Path, out: &mut dyn Write) -> Result<(u64, u64)> {
    let ma = read_manifest(a).map_err(Error::Invalid)?;
    let mb = read_manifest(b).map_err(Error::Invalid)?;
    let (old, new) = (
        open_read_only(&a.join(STORE))?,
        open_read_only(&b.join(STORE))?,
    );
    let adds = std::env::temp_dir().join(format!("claimgraph-diff-{}.adds", std::process::id()));
    let header = format!("H id <{}> .\nH prev <{}> .\n", mb.iri(), ma.iri());
    let (counts, _) = write_patch(&old, None, &new, out, &adds, &|_| header.clone())?;
    if counts.digest != mb.digest {
        return Err(Error::Invalid(format!(
            "the store of {} does not have the digest its manifest gives",
            b.display()
        )));
    }
    Ok((counts.removed, counts.added))
}

struct PatchCounts {
    digest: String,
    quads: u64,
    added: u64,
    removed: u64,
}

/// Every quad of a dataset as a 96-bit hash (the first 12 bytes of the SHA-256 of its N-Quads
/// line: the same in every build) and the number of the graph it is in, packed in 16 bytes
/// (hash above, graph below), sorted by hash once complete. A
/// publishing store keeps its last version's in `<store>/published/DIGEST.hashes`, so the next
/// publish compares with them instead of reading that version again, and reads its quads only
/// in the graphs that lost some (for their `D` lines).
#[derive(Default)]
struct QuadHashes {
    /// Graph names as in N-Quads (`<iri>`, `_:id`, or empty for the default graph).
    graphs: Vec<String>,
    graph_numbers: std::collections::HashMap<String, u32>,
    entries: Vec<u128>,
}

/// What a hashes file starts with.
const HASHES_FORMAT: &[u8] = b"claimgraph-quad-hashes/1\n";

impl QuadHashes {
    fn push(&mut self, quad: &Quad, line: &str) {
        let graph = match &quad.graph_name {
            GraphName::DefaultGraph => String::new(),
            other => other.to_string(),
        };
        let next = self.graphs.len() as u32;
        let number = *self.graph_numbers.entry(graph).or_insert_with_key(|graph| {
            self.graphs.push(graph.clone());
            next
        });
        self.entries
            .push((line_hash(line) & !u128::from(u32::MAX)) | u128::from(number));
    }

    fn contains(&self, hash: u128) -> bool {
        self.entries
            .binary_search_by(|entry| (entry >> 32).cmp(&hash))
            .is_ok()
    }

    /// The hashes of a store's quads, read from the store.
    fn of(store: &Store) -> Result<Self> {
        let mut hashes = Self::default();
        for quad in store.iter() {
            let quad = quad?;
            hashes.push(&quad, &quad.to_string());
        }
        hashes.entries.sort_unstable();
        Ok(hashes)
    }

    /// Reads the file `path` wrote; `None` if it is absent or not whole.
    fn read(path: &Path) -> Option<Self> {
        use std::io::Read;
        let file = std::fs::File::open(path).ok()?;
        let length = file.metadata().ok()?.len();
        let mut input = io::BufReader::with_capacity(1 << 20, file);
        let mut format = vec![0; HASHES_FORMAT.len()];
        input.read_exact(&mut format).ok()?;
        if format != HASHES_FORMAT {
            return None;
        }
        let read_number = |input: &mut io::BufReader<std::fs::File>| -> Option<u64> {
            let mut bytes = [0; 8];
            input.read_exact(&mut bytes).ok()?;
            Some(u64::from_le_bytes(bytes))
        };
        let graphs_count = read_number(&mut input)?;
        let mut graphs = Vec::new();
        for _ in 0..graphs_count {
            let size = usize::try_from(read_number(&mut input)?).ok()?;
            if size as u64 > length {
                return None;
            }
            let mut name = vec![0; size];
            input.read_exact(&mut name).ok()?;
            graphs.push(String::from_utf8(name).ok()?);
        }
        let entries_count = read_number(&mut input)?;
        // Refused before anything is allocated for them if the file cannot hold them.
        if entries_count.checked_mul(16)? > length {
            return None;
        }
        let mut entries = Vec::with_capacity(usize::try_from(entries_count).ok()?);
        let mut entry = [0; 16];
        for _ in 0..entries_count {
            input.read_exact(&mut entry).ok()?;
            let entry = u128::from_le_bytes(entry);
            if entry as u32 as usize >= graphs.len() {
                return None;
            }
            entries.push(entry);
        }
        if input.read(&mut [0]).ok()? != 0 || !entries.is_sorted() {
            return None;
        }
        let graph_numbers = graphs
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect();
        Some(Self {
            graphs,
            graph_numbers,
            entries,
        })
    }

    /// Writes them to `path` (through a temporary file renamed over it).
    fn write(&self, path: &Path) -> Result<()> {
        let staged = path.with_extension("partial");
        let written = (|| -> io::Result<()> {
            let mut out = io::BufWriter::new(std::fs::File::create(&staged)?);
            out.write_all(HASHES_FORMAT)?;
            out.write_all(&(self.graphs.len() as u64).to_le_bytes())?;
            for graph in &self.graphs {
                out.write_all(&(graph.len() as u64).to_le_bytes())?;
                out.write_all(graph.as_bytes())?;
            }
            out.write_all(&(self.entries.len() as u64).to_le_bytes())?;
            for entry in &self.entries {
                out.write_all(&entry.to_le_bytes())?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&staged, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&staged);
            Error::io(format!("cannot write {}", path.display()), e)
        })
    }
}

/// The graph an N-Quads graph name (as [`QuadHashes`] keeps it) names.
fn graph_named(name: &str) -> Option<GraphName> {
    if name.is_empty() {
        return Some(GraphName::DefaultGraph);
    }
    if let Some(iri) = name.strip_prefix('<').and_then(|n| n.strip_suffix('>')) {
        return NamedNode::new(iri).ok().map(GraphName::from);
    }
    let id = name.strip_prefix("_:")?;
    oxigraph::model::BlankNode::new(id)
        .ok()
        .map(GraphName::from)
}

/// Writes the RDF Patch from `old` to `new`: `header` (given `new`'s digest), `TX .`, a `D`
/// line for each quad of `old` not in `new`, an `A` line for each quad of `new` not in `old`,
/// and `TC .`. Quads are compared by their hashes, held sorted (16 bytes a quad): `old`'s are
/// `old_hashes` when known, else read from it. The added lines wait in the file `adds` (removed
/// after), since removals come first; the removed ones are read from `old` in the graphs that
/// lost quads only. Returns the counts and `new`'s hashes.
fn write_patch(
    old: &Store,
    old_hashes: Option<QuadHashes>,
    new: &Store,
    out: &mut dyn Write,
    adds: &Path,
    header: &dyn Fn(&str) -> String,
) -> Result<(PatchCounts, QuadHashes)> {
    let failed = |e| Error::io("cannot write the patch", e);
    let old_hashes = match old_hashes {
        Some(hashes) => hashes,
        None => QuadHashes::of(old)?,
    };
    let result = (|| {
        let mut added_out = create(adds)?;
        let mut hashes = QuadHashes::default();
        // About as many quads as last time: room made once (growing by doubling would hold
        // twice the hashes at the end).
        let expected = old_hashes.entries.len();
        hashes.entries.reserve(expected + expected / 16);
        let mut added = 0;
        let (digest, quads) = digest_of(new, |quad, line| {
            hashes.push(quad, line);
            if !old_hashes.contains(hashes.entries.last().expect("pushed") >> 32) {
                added += 1;
                writeln!(added_out, "A {line} .").map_err(failed)?;
            }
            Ok(())
        })?;
        added_out.flush().map_err(failed)?;
        drop(added_out);
        hashes.entries.sort_unstable();
        let mut removed_graphs = std::collections::BTreeSet::new();
        let removed: Vec<u128> = old_hashes
            .entries
            .iter()
            .filter(|entry| !hashes.contains(*entry >> 32))
            .map(|entry| {
                removed_graphs.insert(*entry as u32);
                entry >> 32
            })
            .collect();
        out.write_all(header(&digest).as_bytes()).map_err(failed)?;
        writeln!(out, "TX .").map_err(failed)?;
        for graph in removed_graphs {
            let name = &old_hashes.graphs[graph as usize];
            let graph = graph_named(name).ok_or_else(|| {
                Error::Internal(format!(
                    "the previous version's graph {name} is not a graph name"
                ))
            })?;
            for quad in old.quads_for_pattern(None, None, None, Some(graph.as_ref())) {
                let line = quad?.to_string();
                if removed.binary_search(&(line_hash(&line) >> 32)).is_ok() {
                    writeln!(out, "D {line} .").map_err(failed)?;
                }
            }
        }
        let mut added_in = std::fs::File::open(adds)
            .map_err(|e| Error::io(format!("cannot read {}", adds.display()), e))?;
        io::copy(&mut added_in, out).map_err(failed)?;
        writeln!(out, "TC .").map_err(failed)?;
        Ok((
            PatchCounts {
                digest,
                quads,
                added,
                removed: removed.len() as u64,
            },
            hashes,
        ))
    })();
    let _ = std::fs::remove_file(adds);
    result
}

/// The dataset digest of `store` (SHA-256 of its N-Quads lines, each ending in a newline, in
/// the store's order) and its quad count; `each` sees every quad and its line.
fn digest_of(
    store: &Store,
    mut each: impl FnMut(&Quad, &str) -> Result<()>,
) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut quads = 0;
    let mut line = String::new();
    for quad in store.iter() {
        let quad = quad?;
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(line, "{quad}");
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
        each(&quad, &line)?;
        quads += 1;
    }
    Ok((format!("{:x}", hasher.finalize()), quads))
}

/// The first 16 bytes of the SHA-256 of an N-Quads line: the same in every build (the hashes
/// are kept between publishes). [`QuadHashes`] keeps 96 of its bits: a collision among tens of
/// millions of quads has odds near 10⁻¹⁴.
fn line_hash(line: &str) -> u128 {
    let digest = Sha256::digest(line.as_bytes());
    u128::from_le_bytes(digest[..16].try_into().expect("16 bytes"))
}

/// Copies the archived texts the staged store's sources name from `data_dirs` into the
/// version's `data/`, at their recorded paths. Returns the paths found in no data directory.
fn copy_texts(store: &Store, version: &Path, data_dirs: &[PathBuf]) -> Result<Vec<String>> {
    let predicate = NamedNode::new_unchecked(crate::vocab::CG_ARCHIVED_TEXT);
    let mut paths = std::collections::BTreeSet::new();
    for quad in store.quads_for_pattern(None, Some(predicate.as_ref()), None, None) {
        if let Term::Literal(path) = quad?.object {
            paths.insert(path.value().to_owned());
        }
    }
    let mut missing = Vec::new();
    for path in paths {
        let relative = Path::new(&path);
        if relative.is_absolute() || relative.components().any(|c| c.as_os_str() == "..") {
            missing.push(path);
            continue;
        }
        let Some(source) = data_dirs
            .iter()
            .map(|dir| dir.join(relative))
            .find(|candidate| candidate.is_file())
        else {
            missing.push(path);
            continue;
        };
        let target = version.join(DATA).join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        }
        // A copy, not a link: the data directory's file may be edited in place later.
        std::fs::copy(&source, &target).map_err(|e| {
            Error::io(
                format!("cannot copy {} to {}", source.display(), target.display()),
                e,
            )
        })?;
    }
    Ok(missing)
}

/// Files RocksDB or tantivy write while a version is open (logs, locks): not part of it.
fn is_runtime_file(name: &str) -> bool {
    name == "LOCK" || name == "LOG" || name.starts_with("LOG.old") || name.starts_with(".tantivy-")
}

/// Every file of the staged version with its size and SHA-256, in path order.
fn file_entries(version: &Path) -> Result<Vec<FileEntry>> {
    let mut files = Vec::new();
    let mut pending = vec![version.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in read_dir(&dir)? {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry
                .metadata()
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            if meta.is_dir() {
                pending.push(path);
            } else if !is_runtime_file(&name) && name != MANIFEST {
                let relative = path.strip_prefix(version).unwrap_or(&path);
                files.push(FileEntry {
                    path: relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                    bytes: meta.len(),
                    sha256: sha256_file(&path)?,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn write_manifest(version: &Path, manifest: &Manifest) -> Result<()> {
    let text =
        serde_json::to_string_pretty(manifest).map_err(|e| Error::Internal(e.to_string()))?;
    let path = version.join(MANIFEST);
    std::fs::write(&path, text + "\n")
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Hard-links every file of `from` into the new directory `to` (copies across file systems).
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)
        .map_err(|e| Error::io(format!("cannot create {}", to.display()), e))?;
    for entry in read_dir(from)? {
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let name = entry.file_name().to_string_lossy().into_owned();
        if source.is_dir() {
            link_tree(&source, &target)?;
        } else if !is_runtime_file(&name) && std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target)
                .map_err(|e| Error::io(format!("cannot copy {}", source.display()), e))?;
        }
    }
    Ok(())
}

pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(format!("{:x}", hasher.finalize()))
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))
}

fn remove_dir(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot remove {}", dir.display()), e))
}

fn create(path: &Path) -> Result<io::BufWriter<std::fs::File>> {
    std::fs::File::create(path)
        .map(io::BufWriter::new)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_hashes_round_trip_through_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut hashes = QuadHashes::default();
        let iri = |s: &str| NamedNode::new(format!("http://example.org/{s}")).unwrap();
        for (s, graph) in [
            ("a", GraphName::DefaultGraph),
            ("b", GraphName::from(iri("g"))),
            ("c", GraphName::from(iri("g"))),
            (
                "d",
                GraphName::from(oxigraph::model::BlankNode::new("b0").unwrap()),
            ),
        ] {
            let quad = Quad::new(iri(s), iri("p"), iri("o"), graph);
            hashes.push(&quad, &quad.to_string());
        }
        hashes.entries.sort_unstable();
        let path = dir.path().join("x.hashes");
        hashes.write(&path).unwrap();
        let read = QuadHashes::read(&path).unwrap();
        assert_eq!(read.graphs, hashes.graphs);
        assert_eq!(read.entries, hashes.entries);
        for name in &read.graphs {
            let graph = graph_named(name).unwrap();
            let expected = if name.is_empty() {
                String::new()
            } else {
                graph.to_string()
            };
            assert_eq!(&expected, name);
        }
        // A file cut short is not taken for one.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(QuadHashes::read(&path).is_none());
    }

    #[test]
    fn manifests_naming_what_they_may_not_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let version = dir.path().join("000001-0123456789abcdef");
        std::fs::create_dir(&version).unwrap();
        let digest = format!("0123456789abcdef{}", "0".repeat(48));
        let manifest = |digest: &str, path: &str| {
            serde_json::json!({
                "format": FORMAT, "generation": 1, "digest": digest, "quads": 0, "claims": 0,
                "created": "2026-12-05T16:24:28Z", "base": "http://localhost:7878/",
                "source_commit": null, "previous": null,
                "files": [{"path": path, "bytes": 1, "sha256": "0".repeat(64)}],
            })
            .to_string()
        };
        let read = |text: String| {
            std::fs::write(version.join(MANIFEST), text).unwrap();
            read_manifest(&version)
        };
        assert!(read(manifest(&digest, "store/CURRENT")).is_ok());
        // Not hex (and not ASCII: a name cut inside a character would panic).
        assert!(read(manifest(&"é".repeat(32), "store/CURRENT")).is_err());
        for path in ["../elsewhere", "/etc/passwd", "store/../../x", ""] {
            assert!(read(manifest(&digest, path)).is_err(), "{path}");
        }
    }

    #[test]
    fn version_names_are_generation_and_hex_digest() {
        assert_eq!(version_generation("000012-0a1b2c3d4e5f6a7b"), Some(12));
        assert_eq!(version_generation("1234567-ab"), Some(1_234_567));
        for other in ["12-ab", "000012-", "000012-xyz", ".staging-3", "000012"] {
            assert_eq!(version_generation(other), None, "{other}");
        }
    }
}
