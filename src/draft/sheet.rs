//! A draft as a claim sheet (TOML, docs/claim-sheets.md): the same format curators write, with a
//! `draft` table on every candidate that `claimgraph check` refuses until a curator accepts it.
//!
//! Invariant: the output parses as a sheet, and its quotes are the candidates' verbatim spans.

use super::{Candidate, Draft, Upstream};
use std::fmt::Write;

/// TOML string literal (basic string, escaped).
pub(crate) fn s(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

pub(crate) fn list(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| s(v)).collect();
    format!("[{}]", items.join(", "))
}

/// The draft as a sheet stored at `data/drafts/KEY.toml` (its text at `data/texts/KEY.txt`).
pub fn to_toml(draft: &Draft) -> String {
    to_toml_with_text(draft, &format!("../texts/{}.txt", draft.source.key))
}

/// [`to_toml`] for a sheet stored elsewhere: `text` is the archived text's path relative to it.
pub fn to_toml_with_text(draft: &Draft, text: &str) -> String {
    let mut out = String::new();
    let source = &draft.source;
    let _ = writeln!(
        out,
        "# Draft claim sheet for {}, written by `claimgraph draft`.\n\
         # Review each candidate below: fill the fields its `open` list names, then delete its\n\
         # `draft` table to accept it, or delete the candidate. Entities marked \"new\" are\n\
         # proposals: check their type and name. Once no `draft` table is left, move this file\n\
         # to data/claims/ and run `claimgraph check`.\n",
        source.key
    );
    out.push_str("[[sources]]\n");
    let _ = writeln!(out, "key = {}", s(&source.key));
    let _ = writeln!(out, "type = {}", s(&source.kind));
    match &source.headline {
        Some(h) => {
            let _ = writeln!(out, "headline = {}", s(h));
        }
        None => {
            let _ = writeln!(out, "name = {}", s(&format!("Article {}", source.key)));
        }
    }
    let _ = writeln!(out, "publisher = {}", s(&source.publisher));
    let _ = writeln!(out, "published = {}", source.published);
    if let Some(url) = &source.url {
        let _ = writeln!(out, "url = {}", s(url));
    }
    let _ = writeln!(out, "text = {}", s(text));
    let _ = writeln!(out, "text_sha256 = {}", s(&source.text_sha256));
    match &source.upstream {
        Some((Upstream::Reposts, key)) => {
            let _ = writeln!(out, "reposts = {}", list(std::slice::from_ref(key)));
        }
        Some((Upstream::Quotes, key)) => {
            let _ = writeln!(out, "quoted_from = {}", list(std::slice::from_ref(key)));
        }
        None => {}
    }
    for entity in &draft.new_entities {
        out.push_str("\n[[entities]] # new\n");
        let _ = writeln!(out, "key = {}", s(&entity.key));
        let _ = writeln!(out, "type = {}", s(&entity.kind));
        let _ = writeln!(out, "name = {}", s(&entity.name));
        if let (Some(amount), Some(currency)) = (&entity.amount, &entity.currency) {
            let _ = writeln!(out, "amount = {}", s(amount));
            let _ = writeln!(out, "currency = {}", s(currency));
        }
    }
    let upstream = source.upstream.as_ref().map(|(relation, key)| {
        let relation = match relation {
            Upstream::Reposts => "reposted",
            Upstream::Quotes => "quoted",
        };
        (relation, key.as_str())
    });
    for c in &draft.candidates {
        match &c.restates {
            None => new_claim(&mut out, c, &source.key, upstream),
            Some(claim) => appearance(&mut out, c, claim, &source.key, upstream),
        }
    }
    out
}

fn new_claim(out: &mut String, c: &Candidate, source: &str, upstream: Option<(&str, &str)>) {
    // A whole sentence can stand as the proposition; a clause needs one in plain words.
    let proposition = c.quote == c.sentence && c.quote.ends_with(['.', '"', '”']);
    let _ = writeln!(out, "\n[[claims]]");
    let _ = writeln!(out, "key = {}", s(&c.key));
    let _ = writeln!(out, "text = {}", s(if proposition { &c.quote } else { "" }));
    let _ = writeln!(out, "claimant = {}", s(&c.claimant));
    let _ = writeln!(out, "status = {}", s(c.status));
    let _ = writeln!(out, "about = {}", list(&c.about));
    out.push_str("content = []\n");
    times(out, c, source);
    let open: Vec<String> = if proposition {
        vec!["content".into()]
    } else {
        vec!["text".into(), "content".into()]
    };
    draft_table(out, "claims", c, &open);
    let _ = writeln!(out, "\n[[claims.appearances]]");
    quote(out, c, source, upstream);
}

fn appearance(
    out: &mut String,
    c: &Candidate,
    claim: &str,
    source: &str,
    upstream: Option<(&str, &str)>,
) {
    let _ = writeln!(out, "\n[[appearances]]");
    let _ = writeln!(out, "claim = {}", s(claim));
    quote(out, c, source, upstream);
    let best = c.matches.iter().find(|m| m.claim == claim);
    if let Some(status) = best.and_then(|m| m.differences.iter().find(|d| d.kind == "status")) {
        let _ = writeln!(out, "status = {}", s(&status.here));
    }
    if let Some(m) = best.filter(|m| !m.differences.is_empty()) {
        out.push_str("differences = [\n");
        for d in &m.differences {
            let _ = writeln!(
                out,
                "  {{ kind = {}, here = {}, known = {} }},",
                s(d.kind),
                s(&d.here),
                s(&d.known)
            );
        }
        out.push_str("]\n");
    }
    draft_table(out, "appearances", c, &[]);
}

fn quote(out: &mut String, c: &Candidate, source: &str, upstream: Option<(&str, &str)>) {
    let _ = writeln!(out, "source = {}", s(source));
    let _ = writeln!(out, "quote = {}", s(&c.quote));
    if let Some(n) = c.occurrence {
        let _ = writeln!(out, "occurrence = {n}");
    }
    if let Some((relation, key)) = upstream {
        let _ = writeln!(out, "upstream = {}", s(key));
        let _ = writeln!(out, "relation = {}", s(relation));
    }
}

fn times(out: &mut String, c: &Candidate, source: &str) {
    if c.times.is_empty() {
        return;
    }
    out.push_str("times = [\n");
    for t in &c.times {
        let _ = writeln!(
            out,
            "  {{ wording = {}, resolved = {}, datatype = {}, relative_to = {} }},",
            s(&t.wording),
            s(&t.resolved),
            s(t.datatype),
            s(source)
        );
    }
    out.push_str("]\n");
}

fn draft_table(out: &mut String, section: &str, c: &Candidate, open: &[String]) {
    let _ = writeln!(out, "\n[{section}.draft]");
    if let Some(cue) = &c.cue {
        let _ = writeln!(out, "cue = {}", s(cue));
    }
    let _ = writeln!(out, "confidence = {}", c.confidence);
    let _ = writeln!(out, "sentence = {}", s(&c.sentence));
    let figures = c.figures.summary();
    if !figures.is_empty() {
        let _ = writeln!(out, "note = {}", s(&format!("figures: {figures}")));
    }
    if !open.is_empty() {
        let _ = writeln!(out, "open = {}", list(open));
    }
    if !c.matches.is_empty() {
        out.push_str("matches = [\n");
        for m in &c.matches {
            let differences: Vec<String> = m
                .differences
                .iter()
                .map(|d| {
                    format!(
                        "{{ kind = {}, here = {}, known = {} }}",
                        s(d.kind),
                        s(&d.here),
                        s(&d.known)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  {{ claim = {}, score = {}, differences = [{}] }},",
                s(&m.claim),
                m.score,
                differences.join(", ")
            );
        }
        out.push_str("]\n");
    }
}
