//! Drafting arbitrary text (and the same text as HTML): never a panic, and every candidate's
//! quote is the text's own code points `[start, end)`, so it always anchors.
//!
//! Input: the article's bytes (lossily UTF-8). What is known is empty: the rules that slice
//! text (sentences, clauses, cues, names, numbers, dates) run the same with or without it.
#![no_main]

use claimgraph::draft::{draft, html, Article, Known};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let known = Known::new(Vec::new(), Vec::new(), Vec::new(), BTreeSet::new());
    for text in [html::main_text(&text), text] {
        let article = Article {
            key: "fuzzed".into(),
            text: text.clone(),
            publisher: "Newsdesk".into(),
            date: (2024, 4, 2),
            title: None,
            url: None,
            kind: "NewsArticle".into(),
            upstream: None,
        };
        let Ok(drafted) = draft(&article, &known) else {
            continue;
        };
        for candidate in &drafted.candidates {
            let quote: String = text
                .chars()
                .skip(candidate.start)
                .take(candidate.end - candidate.start)
                .collect();
            assert_eq!(quote, candidate.quote);
        }
    }
});
