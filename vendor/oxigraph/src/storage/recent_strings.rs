//! claimgraph patch (not in oxigraph 0.5.13; see vendor/README.md in claimgraph): a string
//! lookup that keeps the strings it read last.
//!
//! Every IRI, and every literal longer than 15 bytes, is stored once under its hash, and decoding
//! a term reads it from the `id2str` column family: three or four RocksDB point lookups a quad.
//! Consecutive quads of an index scan share their graph name and subject, and mostly their
//! predicate, and many objects recur (types, concepts, the documents and entities of a graph);
//! the rows of a query answer repeat terms the same way, and so do the many small pattern reads
//! a program makes one after the other (each quad of a claim has one of a dozen predicates).
//! [`RecentStrings`] keeps the last string read for each slot of a table (chosen by the hash),
//! so those are read once per thread instead of once per use. The table belongs to the thread,
//! not to one reader: a hash is a hash of the string (SipHash-2-4 with fixed keys), so it names
//! the same string in every store and snapshot, and what is stored under a hash is never
//! replaced by another string, so a kept string is always the answer. The table starts small,
//! and grows once its thread has missed often. Strings longer than `KEPT_STRING_MAX_LEN` bytes
//! (long literals, archived texts) are not kept, which bounds its memory to `LARGE_TABLE *
//! KEPT_STRING_MAX_LEN` bytes (1 MiB) a thread; it is freed when the thread ends.
//!
//! Used by `QuadIter` (`Store::quads_for_pattern`, the dumps) and by the SPARQL `DatasetView`.

use crate::storage::StorageError;
use crate::storage::numeric_encoder::{StrHash, StrLookup};
use std::cell::RefCell;
use std::ops::Deref;

const SMALL_TABLE: usize = 256;
const LARGE_TABLE: usize = 4096;
const MISSES_BEFORE_LARGE_TABLE: usize = 4096;
const KEPT_STRING_MAX_LEN: usize = 256;

/// The strings a thread read last.
struct Table {
    // Empty until the first string is kept; `SMALL_TABLE` slots, then `LARGE_TABLE`.
    slots: Vec<Option<(StrHash, String)>>,
    misses: usize,
}

thread_local! {
    static KEPT: RefCell<Table> = const {
        RefCell::new(Table {
            slots: Vec::new(),
            misses: 0,
        })
    };
}

/// The slot of `key` in a table of `len` slots (a power of two, or none).
fn slot(key: &StrHash, len: usize) -> usize {
    let bytes = key.to_be_bytes();
    usize::from(u16::from_be_bytes([bytes[14], bytes[15]])) & len.wrapping_sub(1)
}

impl Table {
    fn get(&self, key: &StrHash) -> Option<String> {
        match self.slots.get(slot(key, self.slots.len())) {
            Some(Some((kept, value))) if kept == key => Some(value.clone()),
            _ => None,
        }
    }

    fn missed(&mut self, key: &StrHash, value: Option<&String>) {
        self.misses += 1;
        let Some(value) = value else { return };
        if value.len() > KEPT_STRING_MAX_LEN {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![None; SMALL_TABLE];
        } else if self.misses >= MISSES_BEFORE_LARGE_TABLE && self.slots.len() < LARGE_TABLE {
            self.slots = vec![None; LARGE_TABLE];
        }
        let slot = slot(key, self.slots.len());
        self.slots[slot] = Some((*key, value.clone()));
    }
}

pub struct RecentStrings<L> {
    lookup: L,
}

impl<L> RecentStrings<L> {
    pub fn new(lookup: L) -> Self {
        Self { lookup }
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
        // A thread's table is gone while the thread ends: then every string is read.
        if let Ok(Some(value)) = KEPT.try_with(|kept| kept.borrow().get(key)) {
            return Ok(Some(value));
        }
        let value = self.lookup.get_str(key)?;
        let _ = KEPT.try_with(|kept| kept.borrow_mut().missed(key, value.as_ref()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
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
    fn a_string_one_reader_read_is_kept_for_the_next_reader_of_the_thread() {
        let a = hash(1, 7);
        let first = table(&[(a, "a".into())]);
        assert_eq!(get(&first, a).as_deref(), Some("a"));
        let second = table(&[(a, "a".into())]);
        assert_eq!(get(&second, a).as_deref(), Some("a"));
        assert_eq!(first.reads.get() + second.reads.get(), 1);
        // Another thread has a table of its own.
        std::thread::spawn(move || {
            let third = table(&[(a, "a".into())]);
            assert_eq!(get(&third, a).as_deref(), Some("a"));
            assert_eq!(third.reads.get(), 1);
        })
        .join()
        .unwrap();
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
        assert_eq!(KEPT.with_borrow(|kept| kept.slots.len()), LARGE_TABLE);
        // Large table: each is read once, then kept.
        let before = strings.reads.get();
        for _ in 0..3 {
            assert_eq!(get(&strings, a).as_deref(), Some("a"));
            assert_eq!(get(&strings, b).as_deref(), Some("b"));
        }
        assert_eq!(strings.reads.get() - before, 2);
    }
}
