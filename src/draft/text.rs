//! Paragraphs, sentences and clauses of an article, as byte ranges of its text.
//!
//! Invariant: every span returned is a byte range of the text given, on character boundaries,
//! trimmed of surrounding white space; nothing here copies or normalises the text, so a span's
//! text is always found verbatim by `claims::anchor`.

use std::ops::Range;

/// Abbreviations after which a full stop does not end a sentence (compared lower-case, without
/// the final stop). Titles, initials, corporate suffixes, months, and the like.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "rev", "gen", "gov", "sen", "rep", "col",
    "lt", "capt", "sgt", "insp", "supt", "det", "hon", "inc", "ltd", "corp", "co", "plc", "llc",
    "bros", "no", "nos", "vs", "v", "etc", "e.g", "i.e", "approx", "est", "dept", "univ", "fig",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
    "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "u.s", "u.k", "u.n", "e.u",
    "a.m", "p.m", "ave", "blvd", "rd", "mt", "ft", "al",
];

/// Words after which a comma-led clause is a proposition of its own (`, which Netflix paid …`).
const CLAUSE_OPENERS: &[&str] = &[
    "which",
    "who",
    "whom",
    "including",
    "in exchange for which",
    "in which",
    "under which",
    "after which",
    "while",
    "whereas",
    "but",
    "although",
    "though",
    "claiming that",
    "saying that",
    "adding that",
    "and that",
    "and said",
    "and added",
];

/// A sentence with the paragraph it sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub span: Range<usize>,
    /// Index of its paragraph (blocks of text separated by blank lines), from 0.
    pub paragraph: usize,
}

/// Byte ranges of the paragraphs of `text`: runs of non-blank lines.
pub fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut paragraphs = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        match (blank, start) {
            (false, None) => start = Some(offset),
            (true, Some(s)) => {
                paragraphs.push(trim(text, s..offset));
                start = None;
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some(s) = start {
        paragraphs.push(trim(text, s..text.len()));
    }
    paragraphs.retain(|r| !r.is_empty());
    paragraphs
}

/// Every sentence of `text`, in order.
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    for (index, paragraph) in paragraphs(text).into_iter().enumerate() {
        for span in split_sentences(text, paragraph) {
            out.push(Sentence {
                span,
                paragraph: index,
            });
        }
    }
    out
}

/// Splits one paragraph into sentences: after `.`, `!` or `?` (and any closing quotes or
/// brackets) followed by white space and a capital, a digit or an opening quote — unless the
/// stop ends an abbreviation, an initial (`J. R. Okafor`) or a number (`3.5`).
fn split_sentences(text: &str, paragraph: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[paragraph.clone()];
    let chars: Vec<(usize, char)> = slice.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if c == '\n' && i + 1 < chars.len() && ends_a_line_sentence(slice, &chars, i) {
            out.push(start..chars[i].0);
            start = chars[i].0 + 1;
            i += 1;
            continue;
        }
        if !matches!(c, '.' | '!' | '?') {
            i += 1;
            continue;
        }
        // Absorb closing quotes and brackets.
        let mut j = i + 1;
        while j < chars.len() && is_closing(chars[j].1) {
            j += 1;
        }
        if j < chars.len() && !chars[j].1.is_whitespace() {
            i += 1;
            continue;
        }
        let mut k = j;
        while k < chars.len() && chars[k].1.is_whitespace() {
            k += 1;
        }
        if k >= chars.len() {
            break;
        }
        let next = chars[k].1;
        let starts_sentence = next.is_uppercase()
            || next.is_ascii_digit()
            || is_opening(next)
            || matches!(next, '-' | '—' | '–');
        if !starts_sentence || (c == '.' && !ends_sentence_at_stop(slice, &chars, i, k)) {
            i += 1;
            continue;
        }
        let end = if j < chars.len() {
            chars[j].0
        } else {
            slice.len()
        };
        out.push(start..end);
        start = chars[k].0;
        i = k;
    }
    out.push(start..slice.len());
    out.into_iter()
        .map(|r| trim(text, paragraph.start + r.start..paragraph.start + r.end))
        .filter(|r| !r.is_empty())
        .collect()
}

/// A line break inside a paragraph ends a sentence when the line does not read on: a headline,
/// a byline, a date line (no final punctuation and a short line, or a colon).
fn ends_a_line_sentence(slice: &str, chars: &[(usize, char)], at: usize) -> bool {
    let line_start = slice[..chars[at].0].rfind('\n').map_or(0, |p| p + 1);
    let line = slice[line_start..chars[at].0].trim();
    line.ends_with(':') || line.split_whitespace().count() < 12 || line.ends_with(['.', '"', '”'])
}

/// Whether the `.` at `chars[at]` ends a sentence, the next sentence starting at `chars[next]`.
fn ends_sentence_at_stop(slice: &str, chars: &[(usize, char)], at: usize, next: usize) -> bool {
    // The word before the stop, with inner stops (`U.S`, `e.g`).
    let mut w = at;
    while w > 0 && (chars[w - 1].1.is_alphanumeric() || chars[w - 1].1 == '.') {
        w -= 1;
    }
    let word = &slice[chars[w].0..chars[at].0];
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        // "in the U.S. The next…" is ambiguous; a following capitalised function word means a
        // new sentence more often than not.
        let next_word: String = slice[chars[next].0..]
            .chars()
            .take_while(|c| c.is_alphabetic())
            .collect();
        let month_or_title = !matches!(lower.as_str(), "u.s" | "u.k" | "u.n" | "e.u" | "etc");
        return !month_or_title && is_function_word(&next_word);
    }
    // An initial: one capital letter (`J.`), or a run of them (`J.R.`).
    if word.chars().all(|c| c.is_uppercase() || c == '.') && word.replace('.', "").len() <= 2 {
        return false;
    }
    // `No. 4`, `p. 12` are abbreviations above; a number like `3.` followed by a digit never
    // reaches here (no white space).
    true
}

fn is_function_word(word: &str) -> bool {
    matches!(
        word,
        "The"
            | "A"
            | "An"
            | "It"
            | "He"
            | "She"
            | "They"
            | "We"
            | "I"
            | "This"
            | "That"
            | "In"
            | "On"
            | "But"
            | "And"
            | "Its"
            | "Their"
            | "His"
            | "Her"
            | "There"
            | "At"
            | "As"
    )
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '»')
}

fn is_opening(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '‘' | '(' | '[' | '«')
}

/// `range` without the white space at its ends.
pub fn trim(text: &str, range: Range<usize>) -> Range<usize> {
    let slice = &text[range.clone()];
    let start = range.start + (slice.len() - slice.trim_start().len());
    let end = range.start + slice.trim_end().len();
    start..end.max(start)
}

/// Splits a sentence into the clauses that may each be a claim of their own: a leading or
/// trailing attribution (`According to …,` / `, according to …`), a comma-led relative or
/// subordinate clause (`, which …`, `, who claim that …`), an appositive with a relative clause
/// of its own (`…, the British company that was …`), and the parts of a semicolon list.
/// Parts shorter than four words stay with their neighbour.
pub fn clauses(text: &str, sentence: Range<usize>) -> Vec<Range<usize>> {
    let s = &text[sentence.clone()];
    let mut cuts: Vec<usize> = Vec::new();
    let lower = s.to_lowercase();
    // Byte offsets in `lower` equal those in `s` only for ASCII case changes; guard by length.
    let same_offsets = lower.len() == s.len();
    if same_offsets {
        if lower.starts_with("according to ") {
            if let Some(comma) = s.find(", ") {
                cuts.push(comma + 2);
            }
        }
        if let Some(at) = lower.rfind(", according to ") {
            cuts.push(at + 2);
        }
        for opener in CLAUSE_OPENERS {
            let needle = format!(", {opener} ");
            let mut from = 0;
            while let Some(found) = lower[from..].find(&needle) {
                let at = from + found;
                cuts.push(at + 2);
                from = at + needle.len();
            }
        }
        // An appositive that says something of its own: ", the … company that was …".
        for article in [", the ", ", a ", ", an "] {
            let mut from = 0;
            while let Some(found) = lower[from..].find(article) {
                let at = from + found;
                let rest = &lower[at + 2..];
                let window: Vec<&str> = rest.split_whitespace().take(9).collect();
                if window
                    .iter()
                    .skip(1)
                    .any(|w| matches!(*w, "that" | "which" | "who"))
                    && !rest.split_whitespace().take(9).any(|w| w.ends_with(','))
                {
                    // Cut before the appositive's head noun phrase: the clause keeps the noun
                    // it describes (`Cambridge Analytica, the British company that …`).
                    let head_start = lower[..at]
                        .char_indices()
                        .rev()
                        .find(|(_, c)| !(c.is_alphanumeric() || *c == ' ' || *c == '\''))
                        .map_or(0, |(p, c)| p + c.len_utf8());
                    // Words of the head with their offsets; the cut goes before the run of
                    // capitalised words that ends it (the name).
                    let head = &s[head_start..at];
                    let words: Vec<(usize, &str)> = head
                        .split(' ')
                        .scan(0, |offset, w| {
                            let start = *offset;
                            *offset += w.len() + 1;
                            Some((start, w))
                        })
                        .filter(|(_, w)| !w.is_empty())
                        .collect();
                    let name_start = words
                        .iter()
                        .rev()
                        .take_while(|(_, w)| w.starts_with(char::is_uppercase))
                        .last()
                        .map(|(offset, _)| head_start + offset);
                    if let Some(cut) = name_start {
                        cuts.push(cut);
                    }
                }
                from = at + article.len();
            }
        }
    }
    // ", and …" starts a proposition of its own when a new fact follows: a number, a year, money
    // (", and the same year it paid $725 million to settle").
    let mut from = 0;
    while let Some(found) = s[from..].find(", and ") {
        let at = from + found + 2;
        let next = s[at..].find(", ").map_or(s.len(), |n| at + n);
        if s[at..next].chars().any(|c| c.is_ascii_digit()) && words(&s[at..next]) >= 6 {
            cuts.push(at);
        }
        from = at;
    }
    let mut from = 0;
    while let Some(found) = s[from..].find("; ") {
        cuts.push(from + found + 2);
        from += found + 2;
    }
    cuts.sort_unstable();
    cuts.dedup();
    // Never inside a quotation: a speaker's words are one claim ("“The roof came down, which
    // made it dangerous,” she said.").
    cuts.retain(|&cut| !inside_quotes(&s[..cut]));
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        if cut <= start || !s.is_char_boundary(cut) {
            continue;
        }
        let before = &s[start..cut];
        let after = &s[cut..];
        if words(before) >= 4 && words(after) >= 4 {
            parts.push(start..cut);
            start = cut;
        }
    }
    parts.push(start..s.len());
    parts
        .into_iter()
        .map(|r| {
            let r = trim(text, sentence.start + r.start..sentence.start + r.end);
            strip_edges(text, r)
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Whether a quotation is open at the end of `before`: curly quotes by balance, straight
/// double quotes by parity.
fn inside_quotes(before: &str) -> bool {
    let opened = before.matches('“').count();
    let closed = before.matches('”').count();
    opened > closed || before.matches('"').count() % 2 == 1
}

/// A dateline's length (`HALVERMOUTH — `): a word in capitals and a dash opening the text.
fn dateline(s: &str) -> usize {
    let Some(dash) = s.find(" — ").or_else(|| s.find(" -- ")) else {
        return 0;
    };
    let place = &s[..dash];
    let letters: Vec<char> = place.chars().filter(|c| c.is_alphabetic()).collect();
    if !letters.is_empty()
        && letters.iter().all(|c| c.is_uppercase())
        && place.split_whitespace().count() <= 3
    {
        dash + if s[dash..].starts_with(" — ") {
            " — ".len()
        } else {
            4
        }
    } else {
        0
    }
}

/// Drops a clause's dateline and joining punctuation: a trailing comma, semicolon or colon, and
/// a trailing `-Outlet` credit line.
fn strip_edges(text: &str, mut r: Range<usize>) -> Range<usize> {
    r.start += dateline(&text[r.clone()]);
    loop {
        let s = &text[r.clone()];
        if let Some(stripped) = s.strip_suffix([',', ';', ':']) {
            r = trim(text, r.start..r.start + stripped.len());
            continue;
        }
        if let Some(dash) = s.rfind(" -") {
            let credit = &s[dash + 2..];
            if !credit.is_empty()
                && credit.split_whitespace().count() <= 4
                && credit.starts_with(char::is_uppercase)
            {
                r = trim(text, r.start..r.start + dash);
                continue;
            }
        }
        return r;
    }
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|s| &text[s.span]).collect()
    }

    fn split_clauses(text: &str) -> Vec<&str> {
        clauses(text, 0..text.len())
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn abbreviations_initials_and_numbers_do_not_end_sentences() {
        let text = "Mr. Okafor of Acme Inc. said the U.S. plant made 3.5 million units. \
                    Dr. J. R. Smith disagreed. Case No. 4 was filed on Jan. 3, and \
                    “it is over.” The court agreed.";
        assert_eq!(
            split(text),
            vec![
                "Mr. Okafor of Acme Inc. said the U.S. plant made 3.5 million units.",
                "Dr. J. R. Smith disagreed.",
                "Case No. 4 was filed on Jan. 3, and “it is over.”",
                "The court agreed."
            ]
        );
    }

    #[test]
    fn a_sentence_may_end_after_an_abbreviation_of_a_country() {
        let text = "The plant is in the U.S. The owners are not.";
        assert_eq!(
            split(text),
            vec!["The plant is in the U.S.", "The owners are not."]
        );
    }

    #[test]
    fn headline_and_byline_lines_are_sentences_of_their_own() {
        let text = "Big Fire At The Port\n\nby Jo Bloggs\nTuesday, Apr 02, 2024\n\nIt burned.";
        assert_eq!(
            split(text),
            vec![
                "Big Fire At The Port",
                "by Jo Bloggs",
                "Tuesday, Apr 02, 2024",
                "It burned."
            ]
        );
    }

    #[test]
    fn spans_are_exact_over_multibyte_text() {
        let text = "Ireland fined Meta €265 million. “A record,” it said.";
        for s in sentences(text) {
            assert!(text.is_char_boundary(s.span.start) && text.is_char_boundary(s.span.end));
        }
        assert_eq!(split(text)[1], "“A record,” it said.");
    }

    #[test]
    fn clauses_split_attributions_and_relative_clauses() {
        let text = "According to court documents filed last April, the firms agreed a deal, \
                    which Acme paid over $100 million for.";
        assert_eq!(
            split_clauses(text),
            vec![
                "According to court documents filed last April",
                "the firms agreed a deal",
                "which Acme paid over $100 million for."
            ]
        );
    }

    #[test]
    fn an_appositive_with_a_relative_clause_is_a_clause_and_credits_are_dropped() {
        let text = "Meta agreed to pay $725million to settle a case related to Cambridge \
                    Analytica, the British company that was exposed in 2018. -Daily Mail";
        assert_eq!(
            split_clauses(text),
            vec![
                "Meta agreed to pay $725million to settle a case related to",
                "Cambridge Analytica, the British company that was exposed in 2018."
            ]
        );
    }
}
