//! What a clause mentions: known entities (by name and alias), names not known yet, amounts of
//! money, other numbers, and dates (relative ones resolved against the document's date).
//!
//! Invariant: every mention's span is a byte range of the text it was found in; the original
//! wording is always kept beside a normalised value.

use regex::Regex;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

/// An entity the graph already knows.
#[derive(Debug, Clone)]
pub struct KnownEntity {
    pub key: String,
    pub name: String,
    /// The sheet type (`Person`, `Corporation`, …).
    pub kind: String,
}

/// Known entities by the names they go by.
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// Alias → entity index; an alias two entities share is dropped (it names neither).
    aliases: HashMap<String, usize>,
    by_first_word: ByFirstWord,
    /// Role names matched in any case (`the fire service` for "Halvermouth regional fire
    /// service"), lower-case; shared ones dropped likewise.
    roles_by_first_word: ByFirstWord,
    pub entities: Vec<KnownEntity>,
}

/// Nouns of institutions a text names by role alone once the place is clear.
const INSTITUTIONS: &[&str] = &[
    "police",
    "service",
    "ministry",
    "hospital",
    "authority",
    "inspectorate",
    "court",
    "office",
    "department",
    "agency",
    "commission",
    "council",
    "union",
    "brigade",
    "regulator",
    "board",
    "prosecutors",
    "coroner",
    "government",
];

/// Corporate suffixes: a name with one is also known by its first word (`Meta Platforms, Inc.`
/// → `Meta`).
const SUFFIXES: &[&str] = &[
    ", Inc.",
    " Inc.",
    " Inc",
    ", Ltd.",
    " Ltd.",
    " Ltd",
    " plc",
    " PLC",
    " LLC",
    " Corp.",
    " Corporation",
    " Group",
    " Holdings",
    " AG",
    " SA",
    " GmbH",
    " Co.",
];

impl Gazetteer {
    pub fn new(entities: Vec<KnownEntity>) -> Self {
        let mut counts: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, entity) in entities.iter().enumerate() {
            for alias in aliases(entity) {
                let slot = counts.entry(alias).or_default();
                if !slot.contains(&index) {
                    slot.push(index);
                }
            }
        }
        let unique = |counts: HashMap<String, Vec<usize>>| {
            counts
                .into_iter()
                .filter_map(|(alias, owners)| (owners.len() == 1).then(|| (alias, owners[0])))
                .collect()
        };
        let mut role_counts: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, entity) in entities.iter().enumerate() {
            if let Some(role) = role(entity) {
                role_counts.entry(role).or_default().push(index);
            }
        }
        let (aliases, roles) = (unique(counts), unique(role_counts));
        Self {
            by_first_word: by_first_word(&aliases),
            roles_by_first_word: by_first_word(&roles),
            aliases,
            entities,
        }
    }

    /// The entity an exact name or key denotes.
    pub fn by_name(&self, name: &str) -> Option<&KnownEntity> {
        self.aliases
            .get(name)
            .map(|&i| &self.entities[i])
            .or_else(|| self.entities.iter().find(|e| e.key == name))
    }

    /// Known entities mentioned in `text`, left to right, the longest alias at each word, never
    /// overlapping; role names after names. Cost: a hash lookup per word of `text`, however many
    /// entities are known.
    pub fn find(&self, text: &str) -> Vec<(Range<usize>, usize)> {
        let mut found = scan(text, &self.by_first_word);
        let lower = text.to_lowercase();
        if lower.len() == text.len() {
            for (range, index) in scan(&lower, &self.roles_by_first_word) {
                if !found
                    .iter()
                    .any(|(r, _)| r.start < range.end && range.start < r.end)
                {
                    found.push((range, index));
                }
            }
            found.sort_by_key(|(r, _)| r.start);
        }
        found
    }
}

/// Aliases grouped by their first word, longest first in each group.
type ByFirstWord = HashMap<String, Vec<(String, usize)>>;

fn by_first_word(aliases: &HashMap<String, usize>) -> ByFirstWord {
    let mut out: ByFirstWord = HashMap::new();
    for (alias, &index) in aliases {
        out.entry(first_word(alias).to_owned())
            .or_default()
            .push((alias.clone(), index));
    }
    for group in out.values_mut() {
        group.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }
    out
}

fn first_word(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// Every alias of `groups` found in `text` starting at a word's start and ending at a word's end.
fn scan(text: &str, groups: &ByFirstWord) -> Vec<(Range<usize>, usize)> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut skip_to = 0;
    for (start, c) in text.char_indices() {
        let word_start = c.is_alphanumeric() && previous.is_none_or(|p| !p.is_alphanumeric());
        previous = Some(c);
        if !word_start || start < skip_to {
            continue;
        }
        let Some(group) = groups.get(first_word(&text[start..])) else {
            continue;
        };
        for (alias, index) in group {
            let end = start + alias.len();
            let bounded = text[start..].starts_with(alias.as_str())
                && text[end..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
            if bounded {
                found.push((start..end, *index));
                skip_to = end;
                break;
            }
        }
    }
    found
}

/// The role an organisation is called by (`fire service`, `police`, `transport ministry`): the
/// words of its name from the last that is not an institution noun, when it ends in one.
fn role(entity: &KnownEntity) -> Option<String> {
    if !entity.kind.contains("Organization") {
        return None;
    }
    let name = entity.name.split([',', '(']).next()?.trim().to_lowercase();
    let words: Vec<&str> = name.split_whitespace().collect();
    let last = *words.last()?;
    if words.len() < 2 || !INSTITUTIONS.contains(&last) {
        return None;
    }
    // "halvermouth regional fire service" → "fire service"; "halvermouth police" → "police".
    let tail = if words.len() >= 3 && !INSTITUTIONS.contains(&words[words.len() - 2]) {
        &words[words.len() - 2..]
    } else {
        &words[words.len() - 1..]
    };
    Some(tail.join(" "))
}

/// The names an entity goes by in running text.
fn aliases(entity: &KnownEntity) -> Vec<String> {
    let mut out = vec![entity.name.clone()];
    let mut name = entity.name.clone();
    // "Data Protection Commission (Ireland)" → "Data Protection Commission"; "St Brendan’s
    // Hospital, Halvermouth" → "St Brendan’s Hospital".
    for mark in [" (", ", "] {
        if let Some(open) = name.find(mark) {
            if !SUFFIXES.iter().any(|s| name[open..].starts_with(s)) {
                name.truncate(open);
                out.push(name.clone());
            }
        }
    }
    // An organisation is also known without its trade words: "Corrigan Freight Services" →
    // "Corrigan Freight".
    const TRADE: &[&str] = &["Services", "Service", "Company", "Limited", "International"];
    if entity.kind.contains("Organization") || entity.kind == "Corporation" {
        let words: Vec<&str> = name.split_whitespace().collect();
        if words.len() >= 3 && TRADE.contains(&words[words.len() - 1]) {
            out.push(words[..words.len() - 1].join(" "));
        }
    }
    let mut suffixed = false;
    for suffix in SUFFIXES {
        if let Some(stripped) = name.strip_suffix(suffix) {
            out.push(stripped.to_owned());
            name = stripped.to_owned();
            suffixed = true;
        }
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    if suffixed && words.len() > 1 && words[0].len() >= 3 {
        out.push(words[0].to_owned());
    }
    if entity.kind == "Person" && words.len() >= 2 {
        let last = words[words.len() - 1];
        if last.len() >= 3 && last.starts_with(char::is_uppercase) {
            out.push(last.to_owned());
        }
    }
    // "Klein et al. v. Meta Platforms, Inc." → "Klein v. Meta".
    if entity.kind == "CourtCase" {
        let short = name.replace(" et al.", "");
        if let Some(v) = short.find(" v. ") {
            let tail: Vec<&str> = short[v + 4..].split_whitespace().take(1).collect();
            out.push(format!("{} v. {}", &short[..v], tail.join(" ")));
        }
        out.push(short);
    }
    // Apostrophes are typed either way.
    let straight: Vec<String> = out
        .iter()
        .filter(|a| a.contains('’') || a.contains('\''))
        .flat_map(|a| [a.replace('’', "'"), a.replace('\'', "’")])
        .collect();
    out.extend(straight);
    out.retain(|a| a.chars().count() >= 2);
    out
}

/// Names in `text` that no known entity covers: runs of capitalised words (with `of`, `de`,
/// `&` inside), not at a sentence's first word unless two or more long.
pub fn unknown_names(text: &str, known: &[(Range<usize>, usize)]) -> Vec<Range<usize>> {
    static NAME: OnceLock<Regex> = OnceLock::new();
    let regex = NAME.get_or_init(|| {
        crate::draft::regex(r"\b(?:(?:Mr|Mrs|Ms|Dr|Prof)\.\s)?[A-Z][\w’'-]*\.?(?:\s(?:(?:of|de|van|von|and|&|al|the)\s)?[A-Z][\w’'-]*\.?)*")
            .expect("a valid pattern")
    });
    let mut out = Vec::new();
    for found in regex.find_iter(text) {
        let mut range = found.range();
        // Drop a possessive and a trailing full stop.
        let s = &text[range.clone()];
        let trimmed = s
            .trim_end_matches('.')
            .trim_end_matches("'s")
            .trim_end_matches("’s");
        range.end = range.start + trimmed.len();
        let s = &text[range.clone()];
        let words: Vec<&str> = s.split_whitespace().collect();
        let first_in_sentence = text[..range.start].trim_end().is_empty()
            || text[..range.start]
                .trim_end()
                .ends_with(['.', '"', '“', '‘', '\'']);
        if words.is_empty()
            || known
                .iter()
                .any(|(r, _)| r.start < range.end && range.start < r.end)
            || (words.len() == 1 && (first_in_sentence || common(words[0])))
            || words.iter().all(|w| common(w))
            || s.len() < 3
        {
            continue;
        }
        out.push(range);
    }
    out
}

/// Capitalised words that are not names on their own.
const COMMON: &[&str] = &[
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "By",
    "For",
    "From",
    "With",
    "And",
    "But",
    "Or",
    "It",
    "He",
    "She",
    "They",
    "We",
    "I",
    "His",
    "Her",
    "Their",
    "Its",
    "This",
    "That",
    "These",
    "Those",
    "According",
    "As",
    "After",
    "Before",
    "While",
    "When",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Full",
    "Within",
    "That",
    "Last",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "API",
    "CEO",
    "US",
    "UK",
    "EU",
];

/// A capitalised word that is no name on its own: a function word, a weekday, a month.
fn common(word: &str) -> bool {
    COMMON.contains(&word) || month_number(word).is_some_and(|_| word.len() > 3)
}

/// A guess at a new name's type, from its words.
pub fn guess_kind(name: &str) -> &'static str {
    const ORGANISATION: &[&str] = &[
        "Inc",
        "Inc.",
        "Corp",
        "Corp.",
        "Ltd",
        "LLC",
        "plc",
        "Company",
        "Group",
        "Holdings",
        "Agency",
        "Ministry",
        "Department",
        "Commission",
        "Council",
        "Bank",
        "University",
        "Police",
        "Service",
        "Authority",
        "Office",
        "Association",
        "Board",
        "Committee",
        "Institute",
        "Foundation",
        "Union",
        "Party",
        "Bureau",
        "Port",
        "Brigade",
        "Trust",
        "Logistics",
        "Industries",
        "Systems",
        "Partners",
        "Times",
        "News",
        "Post",
        "Ledger",
    ];
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.iter().any(|w| w.contains("Court")) {
        return "GovernmentOrganization";
    }
    if words.iter().any(|w| ORGANISATION.contains(w)) {
        return "Organization";
    }
    if name.starts_with("Mr. ")
        || name.starts_with("Mrs. ")
        || name.starts_with("Ms. ")
        || name.starts_with("Dr. ")
        || (2..=4).contains(&words.len())
            && words
                .iter()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase))
    {
        return "Person";
    }
    "Thing"
}

/// A sum of money, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Money {
    pub span: Range<usize>,
    /// Decimal amount, e.g. `265000000`.
    pub amount: String,
    /// ISO 4217.
    pub currency: &'static str,
    /// `over`, `nearly`, `up to`… when the text qualifies the amount.
    pub qualifier: Option<String>,
}

/// A number that is not money: a count, a percentage.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub span: Range<usize>,
    pub value: f64,
    pub percent: bool,
    pub qualifier: Option<String>,
}

const QUALIFIER: &str = r"(?:(over|more than|nearly|almost|about|around|roughly|approximately|at least|up to|as many as|as much as|less than|fewer than|some)\s+)?";
// `mn` and `bn` as financial news writes them ("$84mn", "£2bn").
const MAGNITUDE: &str = r"(?:\s?(million|billion|trillion|thousand|mn|m|bn|k)\b)?";

fn money_regex() -> &'static Regex {
    static MONEY: OnceLock<Regex> = OnceLock::new();
    MONEY.get_or_init(|| {
        crate::draft::regex(&format!(
            r"(?i){QUALIFIER}(?:(US\$|\$|€|£|¥)\s?(\d[\d,]*(?:\.\d+)?){MAGNITUDE}|(\d[\d,]*(?:\.\d+)?){MAGNITUDE}\s(dollars|euros|pounds|usd|eur|gbp))"
        ))
        .expect("a valid pattern")
    })
}

fn number_regex() -> &'static Regex {
    static NUMBER: OnceLock<Regex> = OnceLock::new();
    NUMBER.get_or_init(|| {
        crate::draft::regex(&format!(
            r"(?i){QUALIFIER}(?:(\d[\d,]*(?:\.\d+)?){MAGNITUDE}\s?(%|percent|per cent)?|(half a|a quarter of a|a third of a)\s(million|billion))"
        ))
        .expect("a valid pattern")
    })
}

fn scale(magnitude: Option<&str>) -> f64 {
    match magnitude.map(str::to_lowercase).as_deref() {
        Some("thousand" | "k") => 1e3,
        Some("million" | "mn" | "m") => 1e6,
        Some("billion" | "bn") => 1e9,
        Some("trillion") => 1e12,
        _ => 1.0,
    }
}

fn parse_number(digits: &str) -> Option<f64> {
    digits.replace(',', "").parse().ok()
}

pub fn decimal(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e18 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Sums of money in `text`.
pub fn money(text: &str) -> Vec<Money> {
    money_regex()
        .captures_iter(text)
        .filter_map(|c| {
            let span = c.get(0)?.range();
            let qualifier = c.get(1).map(|m| m.as_str().to_lowercase());
            let (symbol, digits, magnitude) = match c.get(2) {
                Some(symbol) => (symbol.as_str().to_lowercase(), c.get(3)?, c.get(4)),
                None => (c.get(7)?.as_str().to_lowercase(), c.get(5)?, c.get(6)),
            };
            let currency = match symbol.as_str() {
                "$" | "us$" | "dollars" | "usd" => "USD",
                "€" | "euros" | "eur" => "EUR",
                "£" | "pounds" | "gbp" => "GBP",
                "¥" => "JPY",
                _ => return None,
            };
            let value = parse_number(digits.as_str())? * scale(magnitude.map(|m| m.as_str()));
            Some(Money {
                span,
                amount: decimal(value),
                currency,
                qualifier,
            })
        })
        .collect()
}

/// Counts and percentages in `text` that are not money, years or parts of dates.
pub fn numbers(text: &str, money: &[Money], dates: &[Date]) -> Vec<Number> {
    number_regex()
        .captures_iter(text)
        .filter_map(|c| {
            let span = c.get(0)?.range();
            let covered = money
                .iter()
                .map(|m| &m.span)
                .chain(dates.iter().map(|d| &d.span))
                .any(|r| r.start < span.end && span.start < r.end);
            if covered {
                return None;
            }
            let qualifier = c.get(1).map(|m| m.as_str().to_lowercase());
            let value = match (c.get(2), c.get(5)) {
                (Some(digits), _) => {
                    parse_number(digits.as_str())? * scale(c.get(3).map(|m| m.as_str()))
                }
                (None, Some(fraction)) => {
                    let part = match fraction.as_str().to_lowercase().as_str() {
                        "half a" => 0.5,
                        "a quarter of a" => 0.25,
                        _ => 1.0 / 3.0,
                    };
                    part * scale(c.get(6).map(|m| m.as_str()))
                }
                _ => return None,
            };
            Some(Number {
                span,
                value,
                percent: c.get(4).is_some(),
                qualifier,
            })
        })
        .collect()
}

/// A date or year in the text, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Date {
    pub span: Range<usize>,
    /// `2023-04` (`xsd:gYearMonth`), `2024-03-23` (`xsd:date`) or `2022` (`xsd:gYear`).
    pub resolved: String,
    pub datatype: &'static str,
    /// Whether the wording is relative (`last April`, `that same year`).
    pub relative: bool,
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_number(word: &str) -> Option<u32> {
    let lower = word.to_lowercase();
    let lower = lower.trim_end_matches('.');
    MONTHS
        .iter()
        .position(|m| *m == lower || (lower.len() >= 3 && m.starts_with(lower)))
        .map(|i| i as u32 + 1)
}

/// A document's date: year, month, day.
pub type Day = (i32, u32, u32);

/// Dates in `text`, relative ones resolved against `today` (the document's date) and `last_year`
/// (the latest year the text mentioned before, for `that same year`).
pub fn dates(text: &str, today: Day, last_year: Option<i32>) -> Vec<Date> {
    static DATE: OnceLock<Regex> = OnceLock::new();
    let month = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)";
    let regex = DATE.get_or_init(|| {
        crate::draft::regex(&format!(
            r"\b(?:(\d{{4}})-(\d{{2}})-(\d{{2}})|{month}\s(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s(\d{{4}}))?|(\d{{1,2}})\s{month}(?:\s(\d{{4}}))?|{month}\s(\d{{4}})|(?i:(last|this|next)\s){month}|(?i:(last|this|next|that same|the same|the previous|the following)\s(year|month))|(?:in|since|by|until|from|of|between|and)\s((?:19|20)\d{{2}})|((?:19|20)\d{{2}}))\b"
        ))
        .expect("a valid pattern")
    });
    let (year, month_today, _) = today;
    let mut out = Vec::new();
    for c in regex.captures_iter(text) {
        let whole = c.get(0).expect("the match");
        let get = |i: usize| c.get(i).map(|m| m.as_str());
        let (resolved, datatype, relative, span) =
            if let (Some(y), Some(m), Some(d)) = (get(1), get(2), get(3)) {
                (format!("{y}-{m}-{d}"), "xsd:date", false, whole.range())
            } else if let (Some(m), Some(d)) = (get(4), get(5)) {
                let Some(m) = month_number(m) else { continue };
                let d: u32 = d.parse().unwrap_or(1);
                let y = get(6).and_then(|y| y.parse().ok()).unwrap_or_else(|| {
                    // "March 23" in an April text is this year's; "December 3" in April, last year's.
                    if (m, d) > (month_today, today.2) {
                        year - 1
                    } else {
                        year
                    }
                });
                (
                    format!("{y:04}-{m:02}-{d:02}"),
                    "xsd:date",
                    get(6).is_none(),
                    whole.range(),
                )
            } else if let (Some(d), Some(m)) = (get(7), get(8)) {
                let Some(m) = month_number(m) else { continue };
                let d: u32 = d.parse().unwrap_or(1);
                let y = get(9).and_then(|y| y.parse().ok()).unwrap_or(year);
                (
                    format!("{y:04}-{m:02}-{d:02}"),
                    "xsd:date",
                    get(9).is_none(),
                    whole.range(),
                )
            } else if let (Some(m), Some(y)) = (get(10), get(11)) {
                let Some(m) = month_number(m) else { continue };
                (
                    format!("{y}-{m:02}"),
                    "xsd:gYearMonth",
                    false,
                    whole.range(),
                )
            } else if let (Some(which), Some(m)) = (get(12), get(13)) {
                let Some(m) = month_number(m) else { continue };
                let y = match which.to_lowercase().as_str() {
                    // "last April" said in April 2024 is April 2023; in June 2024, April 2024.
                    "last" if m >= month_today => year - 1,
                    "next" if m <= month_today => year + 1,
                    _ => year,
                };
                (
                    format!("{y:04}-{m:02}"),
                    "xsd:gYearMonth",
                    true,
                    whole.range(),
                )
            } else if let (Some(which), Some(unit)) = (get(14), get(15)) {
                let which = which.to_lowercase();
                if unit != "year" {
                    continue;
                }
                let y = match which.as_str() {
                    "last" | "the previous" => year - 1,
                    "next" | "the following" => year + 1,
                    "this" => year,
                    _ => match last_year {
                        Some(y) => y,
                        None => continue,
                    },
                };
                (format!("{y:04}"), "xsd:gYear", true, whole.range())
            } else if let Some(y) = get(16).or(get(17)) {
                let start = c.get(16).or(c.get(17)).expect("matched").range();
                (y.to_owned(), "xsd:gYear", false, start)
            } else {
                continue;
            };
        out.push(Date {
            span,
            resolved,
            datatype,
            relative,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_normalised_with_its_qualifier() {
        let found = money(
            "Netflix paid over $100 million; Meta paid $725million and €265 million, £84mn, $2 bn",
        );
        let amounts: Vec<(&str, &str, Option<&str>)> = found
            .iter()
            .map(|m| (m.amount.as_str(), m.currency, m.qualifier.as_deref()))
            .collect();
        assert_eq!(
            amounts,
            vec![
                ("100000000", "USD", Some("over")),
                ("725000000", "USD", None),
                ("265000000", "EUR", None),
                ("84000000", "GBP", None),
                ("2000000000", "USD", None)
            ]
        );
    }

    #[test]
    fn relative_dates_resolve_against_the_document_date() {
        let text = "documents filed last April and unsealed on March 23; that same year";
        let found = dates(text, (2024, 4, 2), Some(2022));
        let resolved: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|d| (d.resolved.as_str(), &text[d.span.clone()], d.relative))
            .collect();
        assert_eq!(
            resolved,
            vec![
                ("2023-04", "last April", true),
                ("2024-03-23", "March 23", true),
                ("2022", "that same year", true)
            ]
        );
    }

    #[test]
    fn numbers_skip_money_and_years() {
        let text = "In 2018, as many as 87 million users and 12% of staff; $5 million";
        let m = money(text);
        let d = dates(text, (2024, 1, 1), None);
        let n = numbers(text, &m, &d);
        let values: Vec<(f64, bool)> = n.iter().map(|n| (n.value, n.percent)).collect();
        assert_eq!(values, vec![(87e6, false), (12.0, true)]);
    }

    #[test]
    fn aliases_link_short_names_and_drop_shared_ones() {
        let g = Gazetteer::new(vec![
            KnownEntity {
                key: "meta".into(),
                name: "Meta Platforms, Inc.".into(),
                kind: "Corporation".into(),
            },
            KnownEntity {
                key: "reed".into(),
                name: "Reed Hastings".into(),
                kind: "Person".into(),
            },
        ]);
        let text = "Hastings joined Meta's board";
        let found: Vec<&str> = g.find(text).into_iter().map(|(r, _)| &text[r]).collect();
        assert_eq!(found, vec!["Hastings", "Meta"]);
    }
}
