//! Quote anchoring: where a quote sits in an archived text, in Unicode code points.
//!
//! Invariant: offsets are computed here and nowhere else, counted in code points from 0 with the
//! end exclusive (Web Annotation's TextPositionSelector over the text as Unicode characters);
//! byte offsets never leave this module.

/// How many code points of context the TextQuoteSelector keeps on each side.
pub const CONTEXT: usize = 32;

/// A quote located in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Code point offset of the first character.
    pub start: usize,
    /// Code point offset just after the last character.
    pub end: usize,
    /// Up to [`CONTEXT`] code points before the quote.
    pub prefix: String,
    /// Up to [`CONTEXT`] code points after the quote.
    pub suffix: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorError {
    Empty,
    NotFound,
    /// The quote occurs more than once and no occurrence was chosen; the code point starts.
    Ambiguous(Vec<usize>),
    /// The chosen occurrence does not exist; how many there are.
    NoSuchOccurrence {
        chosen: u32,
        count: usize,
    },
}

impl std::fmt::Display for AnchorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "the quote is empty"),
            Self::NotFound => write!(
                f,
                "the quote is not in the archived text: copy it exactly, with its quotation marks \
                 and apostrophes (’ “ ” differ from ' \")"
            ),
            Self::Ambiguous(starts) => write!(
                f,
                "the quote occurs {} times (at code points {}): add occurrence = N (1-based) to \
                 say which",
                starts.len(),
                starts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::NoSuchOccurrence { chosen, count } => write!(
                f,
                "occurrence = {chosen}, but the quote occurs {count} time(s) in the archived text"
            ),
        }
    }
}

/// Every code point offset where `quote` starts in `text` (overlapping matches included).
pub fn occurrences(text: &str, quote: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    if quote.is_empty() {
        return starts;
    }
    let mut from = 0;
    let mut chars_before = 0;
    let mut counted_to = 0;
    while let Some(found) = text[from..].find(quote) {
        let byte = from + found;
        chars_before += text[counted_to..byte].chars().count();
        counted_to = byte;
        starts.push(chars_before);
        // Step one character forward to find overlapping matches too.
        from = byte + text[byte..].chars().next().map_or(1, char::len_utf8);
    }
    starts
}

/// Locates `quote` in `text`: the only occurrence, or the `occurrence`-th (1-based).
pub fn anchor(text: &str, quote: &str, occurrence: Option<u32>) -> Result<Anchor, AnchorError> {
    if quote.is_empty() {
        return Err(AnchorError::Empty);
    }
    let starts = occurrences(text, quote);
    let start = match (starts.as_slice(), occurrence) {
        ([], _) => return Err(AnchorError::NotFound),
        ([only], None) => *only,
        (_, None) => return Err(AnchorError::Ambiguous(starts)),
        (_, Some(n)) => {
            *starts
                .get((n as usize).wrapping_sub(1))
                .ok_or(AnchorError::NoSuchOccurrence {
                    chosen: n,
                    count: starts.len(),
                })?
        }
    };
    let end = start + quote.chars().count();
    Ok(Anchor {
        start,
        end,
        prefix: slice(text, start.saturating_sub(CONTEXT), start),
        suffix: slice(text, end, end + CONTEXT),
    })
}

/// The code points `[start, end)` of `text` (clamped to its length).
pub fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_code_points_not_bytes() {
        let text = "Ireland fined Meta €265 million — “a record”.";
        let anchor = anchor(text, "€265 million", None).unwrap();
        assert_eq!((anchor.start, anchor.end), (19, 31));
        assert_eq!(slice(text, anchor.start, anchor.end), "€265 million");
        assert_eq!(anchor.prefix, "Ireland fined Meta ");
        assert_eq!(anchor.suffix, " — “a record”.");
        let quoted = super::anchor(text, "“a record”", None).unwrap();
        assert_eq!(slice(text, quoted.start, quoted.end), "“a record”");
    }

    #[test]
    fn repeated_quotes_need_an_occurrence() {
        let text = "abc abc abc";
        assert_eq!(
            anchor(text, "abc", None),
            Err(AnchorError::Ambiguous(vec![0, 4, 8]))
        );
        assert_eq!(anchor(text, "abc", Some(2)).unwrap().start, 4);
        assert_eq!(
            anchor(text, "abc", Some(4)),
            Err(AnchorError::NoSuchOccurrence {
                chosen: 4,
                count: 3
            })
        );
        assert_eq!(
            anchor(text, "abc", Some(0)),
            Err(AnchorError::NoSuchOccurrence {
                chosen: 0,
                count: 3
            })
        );
        assert_eq!(anchor(text, "xyz", None), Err(AnchorError::NotFound));
        assert_eq!(anchor(text, "", None), Err(AnchorError::Empty));
        assert_eq!(occurrences("aaa", "aa"), vec![0, 1]);
    }

    #[test]
    fn context_is_clamped_at_the_edges() {
        let anchor = anchor("short", "short", None).unwrap();
        assert_eq!((anchor.prefix.as_str(), anchor.suffix.as_str()), ("", ""));
    }
}
