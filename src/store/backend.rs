//! Opening a store on disk (RocksDB, or nothing in a build without it), its checkpoints, and
//! the bulk loader's leftovers. Used by the claims store and by the audit trail's store alike,
//! and importing neither, so the two do not import each other.
//!
//! Invariant: the only code that opens a RocksDB store or checkpoints one.

use crate::error::{Error, Result};
use oxigraph::store::Store;
use std::path::Path;

/// Oxigraph's bulk loader writes `bulk-*.sst` files into the store directory and removes them
/// after they are ingested (or when the load fails); a process killed meanwhile leaves them
/// behind. RocksDB never references them by that name (ingesting moves or links them under a
/// number of its own), so they are garbage: without this they would pile up with every
/// interrupted load.
pub(super) fn remove_abandoned_bulk_files(store: &Path) -> Result<()> {
    let entries = std::fs::read_dir(store)
        .map_err(|e| Error::io(format!("cannot list store {}", store.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("bulk-") && name.ends_with(".sst") {
            std::fs::remove_file(entry.path())
                .map_err(|e| Error::io(format!("cannot remove {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}

/// Opens (creating if absent) the RocksDB store in `path`.
#[cfg(feature = "rocksdb")]
pub(crate) fn open_on_disk(path: &Path) -> Result<Store> {
    Ok(Store::open(path)?)
}

#[cfg(feature = "rocksdb")]
pub(crate) fn open_read_only(path: &Path) -> Result<Store> {
    Ok(Store::open_read_only(path)?)
}

#[cfg(feature = "rocksdb")]
pub(super) fn checkpoint(store: &Store, target: &Path) -> Result<()> {
    Ok(store.backup(target)?)
}

// Built without RocksDB (only the fuzz targets are, so that their sanitizer builds need not
// compile its C++): nothing that needs a store on disk can run.
#[cfg(not(feature = "rocksdb"))]
pub(crate) fn open_on_disk(path: &Path) -> Result<Store> {
    Err(without_rocksdb(path))
}

#[cfg(not(feature = "rocksdb"))]
pub(crate) fn open_read_only(path: &Path) -> Result<Store> {
    Err(without_rocksdb(path))
}

#[cfg(not(feature = "rocksdb"))]
pub(super) fn checkpoint(_: &Store, target: &Path) -> Result<()> {
    Err(without_rocksdb(target))
}

#[cfg(not(feature = "rocksdb"))]
pub(super) fn without_rocksdb(path: &Path) -> Error {
    Error::Invalid(format!(
        "cannot open the store {}: this build has no RocksDB (the `rocksdb` feature is off)",
        path.display()
    ))
}
