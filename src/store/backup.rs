//! Backups: a consistent copy of the store and its audit trail, at one instant, into a new
//! directory outside the store.
//!
//! Invariant: a backup never overwrites anything, and leaves nothing behind when it fails.

use super::backend::{checkpoint, open_read_only};
use super::*;

/// What [`ClaimStore::backup`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Quads in the backup.
    pub quads: usize,
    /// Bytes of its files (hard-linked files count in full, though they take no new space).
    pub bytes: u64,
    pub elapsed: std::time::Duration,
}

/// Where a backup asked for as `target` goes: an absolute path (a relative one is taken from the
/// working directory) whose existing part is resolved through symbolic links, naming a new
/// directory outside the store directory `store` (canonical). Refused, before anything is
/// created, when it would lie inside the store, or when the part that does not exist yet holds
/// `..` (which cannot be resolved before it exists).
pub(super) fn backup_target(store: &Path, target: &Path) -> Result<std::path::PathBuf> {
    let refuse =
        |why: &str| Error::Invalid(format!("cannot back up into {}: {why}", target.display()));
    let absolute = std::path::absolute(target).map_err(|e| refuse(&e.to_string()))?;
    // The deepest ancestor that exists, resolved; the rest appended as written.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let resolved = loop {
        match existing.canonicalize() {
            Ok(resolved) => break resolved,
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(refuse("no part of the path exists"));
                };
                rest.push(name);
                existing = parent;
            }
        }
    };
    if rest.is_empty() {
        return Err(refuse(
            "it already exists (a backup goes into a new directory)",
        ));
    }
    let mut resolved = resolved;
    for name in rest.iter().rev() {
        if *name == ".." || *name == "." {
            return Err(refuse(
                "`..` and `.` are not allowed in the part of the path that does not exist yet",
            ));
        }
        resolved.push(name);
    }
    if resolved.starts_with(store) {
        return Err(refuse(&format!(
            "it is inside the store directory {} (back up to a directory outside it)",
            store.display()
        )));
    }
    Ok(resolved)
}

/// A new directory beside `target` for the checkpoints to be written into before they are
/// renamed over it (same file system, so the rename is atomic). Unique within this process; a
/// leftover from a killed process has another process id in its name.
pub(super) fn staging_dir(target: &Path) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let name: String = name.chars().take(64).collect();
    target.with_file_name(format!(
        ".{name}.backup-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

pub(super) fn dir_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

impl ClaimStore {
    /// Copies the store and its audit trail, as they are at one instant, into the new directory
    /// `target`, while the store stays open for reading and writing (RocksDB checkpoints:
    /// immutable files are hard-linked when `target` is on the same file system, copied
    /// otherwise). Writes wait meanwhile, so the copy and its trail agree: a write committed
    /// before the call is in the copy, one asked for during it comes after. The copy is a store
    /// of its own: open it with `--store`. `target` must not exist (a backup never overwrites);
    /// its parent is created if needed. On failure nothing is left at `target`.
    ///
    /// `target` may not lie inside the store's own directory (a checkpoint there would be copied
    /// into itself by the next backup, and would sit among the live store's files). It is
    /// reserved by creating it before anything is copied, so of several backups asked for at once
    /// into one directory exactly one proceeds; the checkpoints are written beside it and renamed
    /// over the empty reservation once complete.
    pub fn backup(&self, target: &Path) -> Result<BackupSummary> {
        let target = backup_target(&self.dir, target)?;
        let named = |what: &str| format!("cannot back up into {}: {what}", target.display());
        let started = std::time::Instant::now();
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Invalid(named(&format!("cannot create its parent: {e}"))))?;
        }
        // The reservation: `mkdir` is atomic, so two backups into one directory cannot both pass.
        std::fs::create_dir(&target).map_err(|e| {
            Error::Invalid(named(&if e.kind() == io::ErrorKind::AlreadyExists {
                "it already exists (a backup goes into a new directory)".to_owned()
            } else {
                format!("cannot create it: {e}")
            }))
        })?;
        let staging = staging_dir(&target);
        let made = (|| {
            {
                let _writes_wait = self.lock_writer();
                checkpoint(&self.store, &staging)?;
                checkpoint(self.audit.store(), &staging.join(AUDIT_DIR))?;
            }
            // Replaces the empty reservation; fails (and leaves it) if anything was put into it.
            std::fs::rename(&staging, &target)
                .map_err(|e| Error::io(named("cannot move the finished copy into place"), e))?;
            // Reopening the copy proves it usable and counts what it holds, not what the live
            // store holds by now.
            Ok(open_read_only(&target)?.len()?)
        })();
        let quads = made.map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            // Only what this backup made: the reservation if it is still empty, else the copy.
            if std::fs::remove_dir(&target).is_err() && target.join(AUDIT_DIR).is_dir() {
                let _ = std::fs::remove_dir_all(&target);
            }
            match e {
                Error::Invalid(message) => Error::Invalid(named(&message)),
                other => other,
            }
        })?;
        Ok(BackupSummary {
            quads,
            bytes: dir_size(&target).map_err(|e| Error::io(named("cannot measure it"), e))?,
            elapsed: started.elapsed(),
        })
    }
}
