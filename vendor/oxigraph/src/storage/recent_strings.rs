//! claimgraph patch (not in oxigraph 0.5.13; see vendor/README.md in claimgraph): a string
//! lookup that keeps the strings it read last.
//!
//! Every IRI, and every literal longer than 15 bytes, is stored once under its hash, and decoding
//! a term reads it from the `id2str` column family: three or four RocksDB point lookups a quad.
//! Consecutive quads of an index scan share their graph name and subject, and mostly their
//! predicate, and many objects recur (types, concepts, the documents and entities of a graph);
//! the rows of a query answer repeat terms the same way. [`RecentStrings`] keeps the last string
//! read for each slot of a table (chosen by the hash), so those are read once per run instead of
//! once per use. The table starts small, so that a read of a handful of quads or a small query
//! costs next to nothing, and grows once it has missed often. Strings longer than
//! `KEPT_STRING_MAX_LEN` bytes (long literals, archived texts) are not kept, which bounds its
//! memory to `LARGE_TABLE * KEPT_STRING_MAX_LEN` bytes (1 MiB). A hash names one string, and
//! what is stored under a hash is never replaced by another string, so a kept string is always
//! the answer, in a snapshot as in a transaction that adds strings.
//!
//! Used by `QuadIter` (`Store::quads_for_pattern`, the dumps) and by the SPARQL `DatasetView`.

use crate::storage::StorageError;
use crate::storage::numeric_encoder::{StrHash, StrLookup};
use std::cell::{Cell, RefCell};
use std::ops::Deref;

const SMALL_TABLE: usize = 256;
const LARGE_TABLE: usize = 4096;
const MISSES_BEFORE_LARGE_TABLE: usize = 4096;
const KEPT_STRING_MAX_LEN: usize = 256;

pub struct RecentStrings<L> {
    lookup: L,
    // Empty until the first string is kept; `SMALL_TABLE` slots, then `LARGE_TABLE`.
    slots: RefCell<Vec<Option<(StrHash, String)>>>,
    misses: Cell<usize>,
}

impl<L> RecentStrings<L> {
    pub fn new(lookup: L) -> Self {
        Self {
            lookup,
            slots: RefCell::new(Vec::new()),
            misses: Cell::new(0),
        }
    }
}

/// The wrapped lookup's other methods (a `StorageReader`'s pattern reads) stay callable as they
/// were, which keeps the patch to the type of a field where it is used.
impl<L> Deref for RecentStrings<L> {
    type Target = L;

    fn deref(&self) -> &L {
        &self.lookup
    }
}

impl<L: StrLookup> StrLookup for RecentStrings<L> {
    fn get_str(&self, key: &StrHash) -> Result<Option<String>, StorageError> {
        let bytes = key.to_be_bytes();
        let hash = usize::from(u16::from_be_bytes([bytes[14], bytes[15]]));
        let mut slots = self.slots.borrow_mut();
        // Both table sizes are powers of two; an empty table has no slot to look at.
        let slot = hash & slots.len().wrapping_sub(1);
        if let Some(Some((kept, value))) = slots.get(slot) {
            if kept == key {
                return Ok(Some(value.clone()));
            }
        }
        let value = self.lookup.get_str(key)?;
        let misses = self.misses.get() + 1;
        self.misses.set(misses);
        if let Some(value) = &value {
            if value.len() <= KEPT_STRING_MAX_LEN {
                if slots.is_empty() {
                    *slots = vec![None; SMALL_TABLE];
                } else if misses >= MISSES_BEFORE_LARGE_TABLE && slots.len() < LARGE_TABLE {
                    *slots = vec![None; LARGE_TABLE];
                }
                let slot = hash & (slots.len() - 1);
                slots[slot] = Some((*key, value.clone()));
            }
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A lookup that counts the reads that reach it.
    #[derive(Default)]
    struct Counting {
        strings: HashMap<StrHash, String>,
        reads: Cell<usize>,
    }

    impl StrLookup for Counting {
        fn get_str(&self, key: &StrHash) -> Result<Option<String>, StorageError> {
            self.reads.set(self.reads.get() + 1);
            Ok(self.strings.get(key).cloned())
        }
    }

    /// A hash whose last two bytes (the slot) are `slot`, the rest `rest`.
    fn hash(rest: u8, slot: u16) -> StrHash {
        let mut bytes = [rest; 16];
        bytes[14..].copy_from_slice(&slot.to_be_bytes());
        StrHash::from_be_bytes(bytes)
    }

    fn table(entries: &[(StrHash, String)]) -> RecentStrings<Counting> {
        RecentStrings::new(Counting {
            strings: entries.iter().cloned().collect(),
            reads: Cell::new(0),
        })
    }

    fn get(strings: &RecentStrings<Counting>, key: StrHash) -> Option<String> {
        strings.get_str(&key).unwrap()
    }

    #[test]
    fn a_string_read_again_is_answered_from_the_table() {
        let a = hash(1, 7);
        let strings = table(&[(a, "a".into())]);
        assert_eq!(get(&strings, a).as_deref(), Some("a"));
        assert_eq!(get(&strings, a).as_deref(), Some("a"));
        assert_eq!(strings.reads.get(), 1);
    }

    #[test]
    fn strings_of_one_slot_replace_each_other_and_each_answer_stays_right() {
        let (a, b) = (hash(1, 7), hash(2, 7));
        let strings = table(&[(a, "a".into()), (b, "b".into())]);
        for _ in 0..3 {
            assert_eq!(get(&strings, a).as_deref(), Some("a"));
            assert_eq!(get(&strings, b).as_deref(), Some("b"));
        }
        assert_eq!(strings.reads.get(), 6);
    }

    #[test]
    fn long_strings_and_absent_ones_are_not_kept() {
        let (longest, too_long, absent) = (hash(1, 1), hash(2, 2), hash(3, 3));
        let strings = table(&[
            (longest, "x".repeat(KEPT_STRING_MAX_LEN)),
            (too_long, "y".repeat(KEPT_STRING_MAX_LEN + 1)),
        ]);
        for _ in 0..2 {
            assert_eq!(get(&strings, longest).map(|s| s.len()), Some(KEPT_STRING_MAX_LEN));
            assert_eq!(
                get(&strings, too_long).map(|s| s.len()),
                Some(KEPT_STRING_MAX_LEN + 1)
            );
            assert_eq!(get(&strings, absent), None);
        }
        // The longest string kept was read once; the others each time.
        assert_eq!(strings.reads.get(), 1 + 2 + 2);
    }

    #[test]
    fn the_table_grows_once_it_has_missed_often() {
        // One slot of the small table, two of the large one.
        let (a, b) = (hash(1, 0x005), hash(2, 0x105));
        let mut entries = vec![(a, "a".to_owned()), (b, "b".to_owned())];
        let fillers: Vec<StrHash> = (0..MISSES_BEFORE_LARGE_TABLE as u16)
            .map(|i| hash(3 + (i % 200) as u8, i))
            .collect();
        entries.extend(fillers.iter().map(|h| (*h, "filler".to_owned())));
        let strings = table(&entries);
        // Small table: a and b keep pushing each other out.
        for _ in 0..2 {
            get(&strings, a);
            get(&strings, b);
        }
        assert_eq!(strings.reads.get(), 4);
        for filler in &fillers {
            get(&strings, *filler);
        }
        assert_eq!(strings.slots.borrow().len(), LARGE_TABLE);
        // Large table: each is read once, then kept.
        let before = strings.reads.get();
        for _ in 0..3 {
            assert_eq!(get(&strings, a).as_deref(), Some("a"));
            assert_eq!(get(&strings, b).as_deref(), Some("b"));
        }
        assert_eq!(strings.reads.get() - before, 2);
    }
}
