//! Cues: the words that make a clause a claim and say in what capacity it is asserted.
//!
//! Invariant: a cue is found in the clause's own text (its span is a byte range of that text),
//! and maps to exactly one status of `claims::STATUSES`; the order of [`RULES`] is the order of
//! precedence when a clause holds several.

use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;

/// Who a cue attributes the clause to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The party named next to the verb (`Meta said`, `said Meta`, `Meta denied`).
    Named,
    /// The party to a lawsuit or prosecution (`according to the lawsuit`, `is alleged to`).
    Accuser,
    /// A court or tribunal.
    Court,
    /// The outlet reporting it (the document's publisher, or the outlet it credits).
    Outlet,
    /// An outlet named in the cue (`the Daily Mail reports`, `As the Mail notes`).
    NamedOutlet,
}

/// A cue found in a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub status: &'static str,
    /// Byte range of the cue words in the clause.
    pub span: Range<usize>,
    pub speaker: Speaker,
}

struct Rule {
    status: &'static str,
    speaker: Speaker,
    pattern: &'static str,
}

/// In order of precedence. Patterns are matched case-insensitively on word boundaries.
const RULES: &[Rule] = &[
    Rule {
        status: "Adjudicated",
        speaker: Speaker::Court,
        pattern: r"\b(?:(?:judge|court|jury|jurors|tribunal|panel|magistrate|justice)s?\b(?:\s+\S+){0,7}?\s+(?:ruled|rules|found|finds|held|holds|ordered|orders|decided|dismissed|granted|grants|denied|denies|refused|rejected|sentenced|awarded|upheld|overturned|barred|threw out|struck|allowed|acquitted|convicted)|(?:was|were) (?:convicted|acquitted|sentenced|found guilty|found liable|found not guilty)|ruled that)\b",
    },
    Rule {
        status: "Settled",
        speaker: Speaker::Outlet,
        pattern: r"\b(?:agreed(?: \S+){0,3} to pay(?: \S+){0,8} to settle|to settle|settled|settlement|without admitting)\b",
    },
    Rule {
        status: "Denied",
        speaker: Speaker::Named,
        pattern: r"\b(?:denied|denies|deny|denying|rejected|rejects|refuted|refutes|disputed|disputes|dismissed (?:the|those|these) (?:claims?|allegations?|accusations?|reports?)|(?:is|was|were|are) (?:untrue|false|baseless|unfounded)|not true|categorically|(?:said|says|told \S+(?: \S+)?|insisted|insists|maintained|maintains)(?: that)? (?:\S+ ){0,6}?(?:had |has |have |was |were |is )?[“\x22]?(?:never|did not|didn't|didn’t|had not|hadn't|hadn’t|has not|was not|wasn't|wasn’t|were not|no wrongdoing))\b",
    },
    Rule {
        status: "Alleged",
        speaker: Speaker::Accuser,
        pattern: r"\b(?:alleg(?:e|es|ed|edly|ing|ation|ations)|accus(?:e|es|ed|ing) (?:\w+ )?of|is accused|are accused|were accused|according to (?:the |a |an |its |their )?(?:\S+ ){0,3}(?:filing|filings|lawsuit|lawsuits|complaint|indictment|court documents|court papers|court filings?|documents filed|suit|charges|charge sheet|claim|claims)|claims? made in|(?:the )?(?:lawsuit|complaint|suit|filing|indictment|petition|documents|court papers)\b(?:\s+\S+){0,10}?\s+(?:says|said|claims|claimed|states|stated|contends|argues|asserts|describe|describes)|prosecutors? (?:say|said|allege|alleged|argued|argue|told|claim|claimed|contend)|(?:who|plaintiffs|they) (?:claim|claimed|contend|argue|say|said)s?\b)\b",
    },
    Rule {
        status: "PublicRecord",
        speaker: Speaker::Named,
        pattern: r"\baccording to (?:\S+ ){0,3}(?:figures|statistics|data|records) (?:from|published by|released by|of)\b",
    },
    Rule {
        status: "PublicRecord",
        speaker: Speaker::Outlet,
        pattern: r"\b(?:fined|was fined|were fined|(?:was|were) (?:filed|brought) by|filed (?:a|the|an) (?:lawsuit|suit|complaint|motion|petition|appeal)|filed for|(?:was|were) charged|indicted|pleaded (?:not )?guilty|records show|according to (?:public |court |company |official )?records|official (?:figures|statistics|data)|census|(?:was|were) (?:registered|incorporated|founded|elected|appointed)|(?:passed|enacted|signed) (?:the|a) (?:law|bill)|docket|No\. \d|carries a (?:maximum|minimum)|punishable by)\b",
    },
    Rule {
        status: "Stated",
        speaker: Speaker::Named,
        pattern: r"\b(?:said|says|say|told|tells|stated|states|announced|announces|confirmed|confirms|wrote|writes|added|adds|explained|insisted|insists|estimated that|estimates that|warned|warns|noted that|claimed|claims that|claiming that|saying that|adding that|according to (?:[A-Z]\w+|a spokes\w+|(?:the|a) (?:\w+ )?(?:company|ministry|police|agency|department|authority|government|service|coroner|hospital|spokes\w+|official|officials|union|regulator)))\b",
    },
    Rule {
        status: "Reported",
        speaker: Speaker::NamedOutlet,
        pattern: r"\b(?:(?:[A-Z]\w+ )+(?:reports|reported)\b|reported that|reports that|according to (?:a |the )?report|as (?:the )?\S+(?: \S+)? (?:notes|noted|reports|reported)|was first reported by)",
    },
];

fn compiled() -> &'static [(Regex, &'static Rule)] {
    static COMPILED: OnceLock<Vec<(Regex, &'static Rule)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .map(|rule| {
                let regex =
                    crate::draft::regex(&format!("(?i){}", rule.pattern)).expect("a valid pattern");
                (regex, rule)
            })
            .collect()
    })
}

/// The cue of `clause` with the highest precedence, if any. `sentence` (the clause's sentence)
/// tells whether it speaks of a lawsuit.
pub fn find(clause: &str, sentence: &str) -> Option<Cue> {
    all(clause, sentence).into_iter().next()
}

/// Every cue of `clause`, in order of precedence (the first match of each rule).
pub fn all(clause: &str, sentence: &str) -> Vec<Cue> {
    let legal = legal_context(sentence);
    let title_case = is_title_case(sentence);
    compiled()
        .iter()
        .filter_map(|(regex, rule)| {
            // A capitalised match inside running text is a name ("United States"), not a verb.
            let found = regex.find_iter(clause).find(|m| {
                title_case
                    || !matches!(rule.status, "Stated" | "Denied")
                    || m.start() == 0
                    || !m.as_str().starts_with(char::is_uppercase)
                    || rule.speaker == Speaker::NamedOutlet
                    || clause[..m.start()]
                        .trim_end()
                        .ends_with(['.', ',', '“', '"', '—'])
            })?;
            let words = found.as_str().to_lowercase();
            // "claim that" is an allegation only in a legal context; elsewhere it is a statement.
            if rule.status == "Alleged" && words.contains("claim") && !legal {
                return Some(Cue {
                    status: "Stated",
                    span: found.range(),
                    speaker: Speaker::Named,
                });
            }
            Some(Cue {
                status: rule.status,
                span: found.range(),
                speaker: rule.speaker,
            })
        })
        .collect()
}

/// Whether most words are capitalised (a headline in title case).
pub fn is_title_case(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|w| {
            w.trim_start_matches(['\'', '"', '‘', '“'])
                .starts_with(char::is_uppercase)
        })
        .count();
    words.len() >= 3 && capitalised * 10 >= words.len() * 7
}

/// Whether a clause goes on with the ruling of the sentence before it: "She granted a separate
/// request …", "He also ordered …" (a pronoun or the judge, then a ruling verb).
pub fn continues_ruling(clause: &str) -> bool {
    static RULING: OnceLock<Regex> = OnceLock::new();
    RULING
        .get_or_init(|| {
            crate::draft::regex(r"^(?:He|She|The judge|The court|The panel)\s+(?:also\s+)?(?:granted|denied|rejected|ruled|ordered|dismissed|barred|refused|sentenced|upheld|allowed|struck)\b")
                .expect("a valid pattern")
        })
        .is_match(clause.trim_start())
}

/// Whether the words speak of a lawsuit, a prosecution or a court.
pub fn legal_context(text: &str) -> bool {
    static LEGAL: OnceLock<Regex> = OnceLock::new();
    LEGAL
        .get_or_init(|| {
            crate::draft::regex(r"(?i)\b(?:lawsuit|suit|plaintiffs?|complaint|filing|court|prosecut\w*|indictment|class.action|defendants?|petition)\b")
                .expect("a valid pattern")
        })
        .is_match(text)
}

/// Whether the clause is only an attribution (`According to court documents filed …`): its
/// claim, if any, is about the source itself and the outlet makes it.
pub fn is_attribution(clause: &str) -> bool {
    let lower = clause.trim_start().to_lowercase();
    lower.starts_with("according to ") || lower.starts_with("as the ") && lower.contains(" note")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(clause: &str) -> Option<&'static str> {
        find(clause, clause).map(|c| c.status)
    }

    #[test]
    fn statuses_follow_the_cue() {
        assert_eq!(
            status("Meta is alleged to have allowed Netflix to see DMs"),
            Some("Alleged")
        );
        assert_eq!(status("Meta denied the report on Tuesday"), Some("Denied"));
        assert_eq!(
            status("Ireland fined Meta €265 million"),
            Some("PublicRecord")
        );
        assert_eq!(
            status("Meta agreed to pay $725million to settle a case"),
            Some("Settled")
        );
        assert_eq!(
            status("Mike Schroepfer said that 87 million users"),
            Some("Stated")
        );
        assert_eq!(
            status("The judge ruled that the evidence was admissible"),
            Some("Adjudicated")
        );
        assert_eq!(status("The judge denied the motion"), Some("Adjudicated"));
        assert_eq!(
            status("U.S. District Judge Miriam Saltonstall denied a defense motion"),
            Some("Adjudicated")
        );
        assert_eq!(status("The case is United States v. Pell"), None);
        assert_eq!(status("Police said the two men died"), Some("Stated"));
        assert_eq!(status("she agreed in December to pay $1.2 million to settle, without admitting or denying"), Some("Settled"));
        assert_eq!(
            status("Her lawyer told the jury that her client had “never misled” anyone"),
            Some("Denied")
        );
        assert_eq!(status("it received 41 reports of overheating"), None);
        assert_eq!(status("the Daily Mail reports"), Some("Reported"));
        assert_eq!(
            status("In August 2013, Facebook provided Netflix with access"),
            None
        );
    }

    #[test]
    fn a_pronoun_and_a_ruling_verb_continue_a_ruling() {
        assert!(continues_ruling(
            "She granted a separate request by the defence"
        ));
        assert!(continues_ruling("He also ordered the company to pay costs"));
        assert!(!continues_ruling("She said the request was late"));
    }

    #[test]
    fn claim_that_is_an_allegation_only_in_a_legal_context() {
        assert_eq!(
            status("the plaintiffs, who claim that the firms agreed"),
            Some("Alleged")
        );
        assert_eq!(
            status("the analyst, who claims that prices rose"),
            Some("Stated")
        );
    }
}
