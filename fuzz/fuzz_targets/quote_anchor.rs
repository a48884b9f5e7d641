//! Quote anchoring on arbitrary text, quote and occurrence: never a panic, and every anchor it
//! reports is right. The offsets, the context and the list of occurrences are checked against
//! a naive reference (compare at every code point).
//!
//! Input: byte 0 chooses the occurrence (0: none, n: `Some(n - 1)`); the rest is the text, a
//! 0xFF byte (never in UTF-8), then the quote. A quote part of 0xFE and four bytes takes the
//! quote from the text itself, code points `[a, b)` (two little-endian u16), so that the
//! fuzzer finds quotes that occur.
#![no_main]

use claimgraph::fuzzing::{anchor, occurrences, slice, AnchorError};
use libfuzzer_sys::fuzz_target;

const CONTEXT: usize = claimgraph::claims::anchor::CONTEXT;

fuzz_target!(|bytes: &[u8]| {
    let Some((&choice, rest)) = bytes.split_first() else {
        return;
    };
    let occurrence = (choice != 0).then(|| u32::from(choice) - 1);
    let (text, quote) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let quote = match quote {
        [0xFE, a0, a1, b0, b1] => {
            let (a, b) = (u16::from_le_bytes([*a0, *a1]), u16::from_le_bytes([*b0, *b1]));
            slice(&text, a.into(), b.into())
        }
        other => String::from_utf8_lossy(other).into_owned(),
    };

    let chars: Vec<char> = text.chars().collect();
    let wanted: Vec<char> = quote.chars().collect();
    let expected: Vec<usize> = if wanted.is_empty() {
        Vec::new()
    } else {
        (0..chars.len())
            .filter(|&i| chars[i..].starts_with(&wanted))
            .collect()
    };
    assert_eq!(occurrences(&text, &quote), expected, "occurrences");

    match anchor(&text, &quote, occurrence) {
        Ok(found) => {
            assert_eq!(slice(&text, found.start, found.end), quote, "the slice is the quote");
            assert_eq!(found.end - found.start, wanted.len());
            let index = match occurrence {
                None => {
                    assert_eq!(expected.len(), 1, "no occurrence given, so exactly one");
                    0
                }
                Some(n) => n as usize - 1,
            };
            assert_eq!(expected[index], found.start, "the chosen occurrence");
            let before: String = chars[found.start.saturating_sub(CONTEXT)..found.start]
                .iter()
                .collect();
            let after: String = chars[found.end..(found.end + CONTEXT).min(chars.len())]
                .iter()
                .collect();
            assert_eq!(found.prefix, before, "prefix");
            assert_eq!(found.suffix, after, "suffix");
        }
        Err(AnchorError::Empty) => assert!(quote.is_empty()),
        Err(AnchorError::NotFound) => assert!(!quote.is_empty() && expected.is_empty()),
        Err(AnchorError::Ambiguous(starts)) => {
            assert!(occurrence.is_none() && expected.len() > 1);
            assert_eq!(starts, expected);
        }
        Err(AnchorError::NoSuchOccurrence { chosen, count }) => {
            assert_eq!(Some(chosen), occurrence);
            assert_eq!(count, expected.len());
            assert!(chosen == 0 || chosen as usize > count);
        }
    }
});
