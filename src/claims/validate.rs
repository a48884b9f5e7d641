//! `claimgraph check`: everything that can be wrong in a set of sheets, each error located.

use super::anchor::{self, Anchor};
use super::sheet::{AppearanceFields, DraftEntry, Sheet, SheetFile, DIFFERENCE_KINDS};
use crate::error::Error;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use toml::value::Datetime;
use toml::Spanned;

/// The vocabulary a sheet may use, with the IRIs it stands for.
pub use crate::vocab::{ENTITY_TYPES, SOURCE_TYPES};
pub const STATUSES: &[&str] = &[
    "Alleged",
    "Reported",
    "Stated",
    "Quoted",
    "Denied",
    "Adjudicated",
    "Settled",
    "PublicRecord",
];
pub const RELATIONS: &[&str] = &["reposted", "derived", "quoted"];
/// The prefixes a sheet's prefixed names may use (namespaces in `vocab::PREFIXES`).
pub const SHEET_PREFIXES: &[&str] = &[
    "schema", "cg", "prov", "dct", "rdf", "rdfs", "xsd", "owl", "skos", "cito",
];

/// The IRI a prefixed name stands for, if its prefix is known and its local name plain.
pub fn expand(prefixed: &str) -> Option<String> {
    let (prefix, local) = prefixed.split_once(':')?;
    if !SHEET_PREFIXES.contains(&prefix) {
        return None;
    }
    let namespace = crate::vocab::namespace(prefix)?;
    let plain = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then(|| format!("{namespace}{local}"))
}

pub fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, iri)| *iri)
}

/// An archived text as the graph records it.
#[derive(Debug, Clone)]
pub struct ArchivedText {
    /// Path relative to the data root, with `/` separators.
    pub relative_path: String,
    pub sha256: String,
    pub content: String,
}

/// Sheets that passed every check, with what the checks computed.
#[derive(Debug)]
pub struct Checked<'a> {
    pub sheets: &'a [Sheet],
    /// Archived texts by source key.
    pub texts: HashMap<String, ArchivedText>,
    /// Anchors by (sheet, claim, appearance) index.
    pub anchors: HashMap<(usize, usize, usize), Anchor>,
    /// Anchors of top-level `[[appearances]]` by (sheet, appearance) index.
    pub sheet_anchors: HashMap<(usize, usize), Anchor>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Source,
    Entity,
    Claim,
    Review,
}

impl Kind {
    fn section(self) -> &'static str {
        match self {
            Kind::Source => "[[sources]]",
            Kind::Entity => "[[entities]]",
            Kind::Claim => "[[claims]]",
            Kind::Review => "[[reviews]]",
        }
    }
}

struct Checker<'a> {
    sheets: &'a [Sheet],
    errors: Vec<Error>,
    keys: HashMap<(Kind, String), (usize, Range<usize>)>,
    entity_types: HashMap<String, String>,
}

/// Checks sheets together (they may refer to each other's keys). `data_root` is where archived
/// texts must live. Every problem is reported, not just the first.
pub fn check<'a>(sheets: &'a [Sheet], data_root: &Path) -> Result<Checked<'a>, Vec<Error>> {
    let mut checker = Checker {
        sheets,
        errors: Vec::new(),
        keys: HashMap::new(),
        entity_types: HashMap::new(),
    };
    checker.collect_keys();
    let mut texts = HashMap::new();
    let mut anchors = HashMap::new();
    let mut sheet_anchors = HashMap::new();
    // Every sheet's sources first: a quote may be anchored in a source of any sheet of the set.
    for index in 0..sheets.len() {
        checker.check_sources(index, data_root, &mut texts);
    }
    for index in 0..sheets.len() {
        checker.check_entities(index);
        checker.check_claims(index, &texts, &mut anchors);
        checker.check_sheet_appearances(index, &texts, &mut sheet_anchors);
        checker.check_reviews(index);
        checker.check_drafts(index);
    }
    if checker.errors.is_empty() {
        Ok(Checked {
            sheets,
            texts,
            anchors,
            sheet_anchors,
        })
    } else {
        Err(checker.errors)
    }
}

impl Checker<'_> {
    fn error(&mut self, sheet: usize, span: Range<usize>, message: impl Into<String>) {
        let sheet = &self.sheets[sheet];
        let (line, column) = sheet.line_col(span.start);
        self.errors.push(Error::Parse {
            path: sheet.path.clone(),
            line,
            column,
            message: message.into(),
        });
    }

    fn collect_keys(&mut self) {
        for (index, sheet) in self.sheets.iter().enumerate() {
            let file: &SheetFile = &sheet.file;
            let keys = file
                .sources
                .iter()
                .map(|s| (Kind::Source, &s.key))
                .chain(file.entities.iter().map(|e| (Kind::Entity, &e.key)))
                .chain(file.claims.iter().map(|c| (Kind::Claim, &c.key)))
                .chain(file.reviews.iter().map(|r| (Kind::Review, &r.key)));
            for (kind, key) in keys {
                if !is_slug(key.get_ref()) {
                    self.error(
                        index,
                        key.span(),
                        format!(
                            "key {:?}: use lower-case ASCII letters, digits and hyphens",
                            key.get_ref()
                        ),
                    );
                    continue;
                }
                if key.get_ref().starts_with(crate::import::IMPORTED) {
                    self.error(
                        index,
                        key.span(),
                        format!(
                            "key {:?}: keys starting with {:?} are those of imported \
                             ClaimReviews; choose another",
                            key.get_ref(),
                            crate::import::IMPORTED
                        ),
                    );
                    continue;
                }
                let entry = (kind, key.get_ref().clone());
                if let Some((other, span)) = self.keys.get(&entry).cloned() {
                    let (line, column) = self.sheets[other].line_col(span.start);
                    let first = format!("{}:{line}:{column}", self.sheets[other].path.display());
                    self.error(
                        index,
                        key.span(),
                        format!(
                            "{} key {:?} is already defined at {first}",
                            kind.section(),
                            key.get_ref()
                        ),
                    );
                } else {
                    self.keys.insert(entry, (index, key.span()));
                }
            }
            for entity in &file.entities {
                self.entity_types
                    .insert(entity.key.get_ref().clone(), entity.kind.get_ref().clone());
            }
        }
    }

    /// A reference to a key of one of `kinds`.
    fn reference(&mut self, sheet: usize, key: &Spanned<String>, kinds: &[Kind]) {
        if kinds
            .iter()
            .any(|k| self.keys.contains_key(&(*k, key.get_ref().clone())))
        {
            return;
        }
        let sections: Vec<&str> = kinds.iter().map(|k| k.section()).collect();
        let mut known: Vec<&str> = self
            .keys
            .keys()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(_, name)| name.as_str())
            .collect();
        known.sort_by_key(|k| edit_distance(k, key.get_ref()));
        let hint = known
            .first()
            .map(|k| format!(" (did you mean {k:?}?)"))
            .unwrap_or_default();
        self.error(
            sheet,
            key.span(),
            format!(
                "unknown key {:?}: define it in {}{hint}",
                key.get_ref(),
                sections.join(" or ")
            ),
        );
    }

    fn date(&mut self, sheet: usize, value: &Spanned<Datetime>) {
        let datetime = value.get_ref();
        if datetime.date.is_none() || datetime.time.is_some() || datetime.offset.is_some() {
            self.error(
                sheet,
                value.span(),
                format!("{datetime} is not a date: write it as YYYY-MM-DD, unquoted"),
            );
        }
    }

    fn one_of(&mut self, sheet: usize, value: &Spanned<String>, allowed: &[&str], what: &str) {
        if !allowed.contains(&value.get_ref().as_str()) {
            self.error(
                sheet,
                value.span(),
                format!(
                    "unknown {what} {:?}: use one of {}",
                    value.get_ref(),
                    allowed.join(", ")
                ),
            );
        }
    }

    fn check_sources(
        &mut self,
        index: usize,
        data_root: &Path,
        texts: &mut HashMap<String, ArchivedText>,
    ) {
        let sheet = &self.sheets[index];
        for source in &sheet.file.sources {
            let kinds: Vec<&str> = SOURCE_TYPES.iter().map(|(n, _)| *n).collect();
            self.one_of(index, &source.kind, &kinds, "source type");
            if source.headline.is_none() && source.name.is_none() {
                self.error(
                    index,
                    source.key.span(),
                    "a source needs a headline or a name",
                );
            }
            for key in [&source.author, &source.publisher].into_iter().flatten() {
                self.reference(index, key, &[Kind::Entity]);
            }
            for key in source
                .reposts
                .iter()
                .chain(&source.derived_from)
                .chain(&source.quoted_from)
            {
                self.reference(index, key, &[Kind::Source]);
            }
            if let Some(case) = &source.case {
                self.reference(index, case, &[Kind::Entity]);
                if self
                    .entity_types
                    .get(case.get_ref())
                    .is_some_and(|t| t != "CourtCase")
                {
                    self.error(
                        index,
                        case.span(),
                        "case must be an entity of type CourtCase",
                    );
                }
            }
            for date in [&source.published, &source.filed, &source.unsealed]
                .into_iter()
                .flatten()
            {
                self.date(index, date);
            }
            if let Some(url) = &source.url {
                if oxigraph::model::NamedNode::new(url.get_ref().as_str()).is_err() {
                    self.error(index, url.span(), "url is not an absolute IRI");
                }
            }
            match (&source.text, &source.text_sha256) {
                (None, None) => {}
                (Some(text), None) => self.error(
                    index,
                    text.span(),
                    "an archived text needs its text_sha256 (run sha256sum on the file)",
                ),
                (None, Some(sha)) => self.error(index, sha.span(), "text_sha256 without a text"),
                (Some(text), Some(sha)) => {
                    let path = sheet.dir().join(text.get_ref());
                    let Some(relative) = relative_to(&path, data_root) else {
                        self.error(
                            index,
                            text.span(),
                            format!(
                                "archived texts must live under the data directory {}",
                                data_root.display()
                            ),
                        );
                        continue;
                    };
                    let bytes = match std::fs::read(&path) {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            self.error(
                                index,
                                text.span(),
                                format!("cannot read {}: {e}", path.display()),
                            );
                            continue;
                        }
                    };
                    let actual = format!("{:x}", Sha256::digest(&bytes));
                    if &actual != sha.get_ref() {
                        self.error(
                            index,
                            sha.span(),
                            format!(
                                "{} has SHA-256 {actual}, not the one written here: the archived \
                                 text changed, or the hash is wrong",
                                path.display()
                            ),
                        );
                        continue;
                    }
                    let Ok(content) = String::from_utf8(bytes) else {
                        self.error(index, text.span(), "the archived text is not UTF-8");
                        continue;
                    };
                    texts.insert(
                        source.key.get_ref().clone(),
                        ArchivedText {
                            relative_path: relative,
                            sha256: actual,
                            content,
                        },
                    );
                }
            }
        }
    }

    fn check_entities(&mut self, index: usize) {
        for entity in &self.sheets[index].file.entities {
            let kinds: Vec<&str> = ENTITY_TYPES.iter().map(|(n, _)| *n).collect();
            self.one_of(index, &entity.kind, &kinds, "entity type");
            if let Some(id) = &entity.wikidata {
                let valid = id.get_ref().strip_prefix('Q').is_some_and(|n| {
                    !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
                });
                if !valid {
                    self.error(index, id.span(), "wikidata must be an item id like Q907311");
                }
            }
            if let Some(court) = &entity.court {
                self.reference(index, court, &[Kind::Entity]);
            }
            for party in entity.plaintiffs.iter().chain(&entity.defendants) {
                self.reference(index, party, &[Kind::Entity]);
            }
            if let Some(amount) = &entity.amount {
                if !is_decimal(amount.get_ref()) {
                    self.error(
                        index,
                        amount.span(),
                        "amount must be a decimal number, e.g. \"265000000\"",
                    );
                }
            }
            if let Some(currency) = &entity.currency {
                let c = currency.get_ref();
                if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    self.error(
                        index,
                        currency.span(),
                        "currency must be an ISO 4217 code such as EUR or USD",
                    );
                }
            }
            if entity.kind.get_ref() == "MonetaryAmount"
                && (entity.amount.is_none() || entity.currency.is_none())
            {
                self.error(
                    index,
                    entity.key.span(),
                    "a MonetaryAmount needs amount and currency",
                );
            }
        }
    }

    fn check_claims(
        &mut self,
        index: usize,
        texts: &HashMap<String, ArchivedText>,
        anchors: &mut HashMap<(usize, usize, usize), Anchor>,
    ) {
        for (c, claim) in self.sheets[index].file.claims.iter().enumerate() {
            // A field a draft leaves open is reported as open (`check_drafts`), not as wrong.
            let open = open_fields(claim.draft.as_ref().map(Spanned::get_ref));
            if !open.contains("claimant") {
                self.reference(index, &claim.claimant, &[Kind::Entity]);
            }
            if !open.contains("status") {
                self.one_of(index, &claim.status, STATUSES, "status");
            }
            if let Some(primary) = &claim.primary_source {
                self.reference(index, primary, &[Kind::Source]);
            }
            for about in &claim.about {
                self.reference(index, about, &[Kind::Entity]);
            }
            for disputed in &claim.disputes {
                self.reference(index, disputed, &[Kind::Claim]);
            }
            if claim.content.is_empty() && !open.contains("content") {
                self.error(
                    index,
                    claim.key.span(),
                    "a claim needs its content as triples (content = [...])",
                );
            }
            for triple in &claim.content {
                let span = triple.span();
                let triple = triple.get_ref();
                self.reference(index, &triple.s, &[Kind::Entity]);
                if expand(triple.p.get_ref()).is_none() {
                    self.error(
                        index,
                        triple.p.span(),
                        prefixed_name_help(triple.p.get_ref()),
                    );
                }
                match (&triple.o, &triple.value) {
                    (Some(o), None) => self.reference(index, o, &[Kind::Entity]),
                    (None, Some(value)) => {
                        self.literal(index, value, triple.datatype.as_ref());
                    }
                    _ => self.error(
                        index,
                        span,
                        "give the object as o = \"entity-key\" or value = \"literal\", not both",
                    ),
                }
            }
            for time in &claim.times {
                let time = time.get_ref();
                self.literal(index, &time.resolved, Some(&time.datatype));
                if let Some(relative) = &time.relative_to {
                    self.reference(index, relative, &[Kind::Source]);
                }
            }
            for (a, appearance) in claim.appearances.iter().enumerate() {
                if let Some(found) =
                    self.appearance(index, appearance.fields(), texts, &Default::default())
                {
                    anchors.insert((index, c, a), found);
                }
            }
        }
    }

    /// Top-level `[[appearances]]`: new appearances of claims of any sheet of the set.
    fn check_sheet_appearances(
        &mut self,
        index: usize,
        texts: &HashMap<String, ArchivedText>,
        anchors: &mut HashMap<(usize, usize), Anchor>,
    ) {
        let sheet = &self.sheets[index];
        // `<claim>#appearance-ID-N-difference-M` must never be another sheet's
        // `<claim>#appearance-ID2-N` (with ID2 = `ID-N-difference`).
        if let Some(first) = sheet.file.appearances.first() {
            if sheet.id().ends_with("-difference") {
                self.error(
                    index,
                    first.claim.span(),
                    "a sheet whose name ends in \"-difference\" cannot hold [[appearances]]: \
                     rename the file",
                );
            }
        }
        for (a, appearance) in sheet.file.appearances.iter().enumerate() {
            let open = open_fields(appearance.draft.as_ref().map(Spanned::get_ref));
            if !open.contains("claim") {
                self.reference(index, &appearance.claim, &[Kind::Claim]);
            }
            if let Some(found) = self.appearance(index, appearance.fields(), texts, &open) {
                anchors.insert((index, a), found);
            }
        }
    }

    /// One appearance, nested or top-level: references, vocabulary and its anchor (if the quote
    /// anchors). Fields a draft leaves `open` are not checked.
    fn appearance(
        &mut self,
        index: usize,
        appearance: AppearanceFields<'_>,
        texts: &HashMap<String, ArchivedText>,
        open: &std::collections::HashSet<String>,
    ) -> Option<Anchor> {
        if !open.contains("source") {
            self.reference(index, appearance.source, &[Kind::Source]);
        }
        if let Some(upstream) = appearance.upstream.filter(|_| !open.contains("upstream")) {
            self.reference(index, upstream, &[Kind::Source]);
        }
        if let Some(relation) = appearance.relation.filter(|_| !open.contains("relation")) {
            self.one_of(index, relation, RELATIONS, "relation");
        }
        if let Some(status) = appearance.status.filter(|_| !open.contains("status")) {
            self.one_of(index, status, STATUSES, "status");
        }
        if !open.contains("differences") {
            for difference in appearance.differences {
                self.one_of(
                    index,
                    &difference.get_ref().kind,
                    DIFFERENCE_KINDS,
                    "difference kind",
                );
            }
        }
        if ["source", "quote", "occurrence"]
            .iter()
            .any(|f| open.contains(*f))
        {
            return None;
        }
        let Some(text) = texts.get(appearance.source.get_ref()) else {
            if self
                .keys
                .contains_key(&(Kind::Source, appearance.source.get_ref().clone()))
            {
                self.error(
                    index,
                    appearance.source.span(),
                    "this source has no archived text (text and text_sha256): a quote can only be anchored in a text we hold",
                );
            }
            return None;
        };
        let occurrence = appearance.occurrence.map(|o| *o.get_ref());
        match anchor::anchor(&text.content, appearance.quote.get_ref(), occurrence) {
            Ok(found) => Some(found),
            Err(problem) => {
                let span = match (&problem, appearance.occurrence) {
                    (anchor::AnchorError::NoSuchOccurrence { .. }, Some(o)) => o.span(),
                    _ => appearance.quote.span(),
                };
                self.error(index, span, problem.to_string());
                None
            }
        }
    }

    /// A sheet with any `draft` table left is a draft, not data: one error per field still
    /// open, and one per candidate not yet accepted.
    fn check_drafts(&mut self, index: usize) {
        let sheet = &self.sheets[index];
        let claims = sheet
            .file
            .claims
            .iter()
            .enumerate()
            .filter_map(|(c, claim)| {
                let draft = claim.draft.as_ref()?;
                Some((
                    format!("claims[{c}] `{}`", claim.key.get_ref()),
                    format!("candidate `{}`", claim.key.get_ref()),
                    "[claims.draft]",
                    CLAIM_FIELDS,
                    draft,
                ))
            });
        let appearances =
            sheet
                .file
                .appearances
                .iter()
                .enumerate()
                .filter_map(|(a, appearance)| {
                    let draft = appearance.draft.as_ref()?;
                    let claim = appearance.claim.get_ref();
                    Some((
                        format!("appearances[{a}] (of `{claim}`)"),
                        format!("candidate appearance {a} of `{claim}`"),
                        "[appearances.draft]",
                        SHEET_APPEARANCE_FIELDS,
                        draft,
                    ))
                });
        let drafts: Vec<_> = claims.chain(appearances).collect();
        for (entry, candidate, table, fields, draft) in drafts {
            for field in &draft.get_ref().open {
                let name = field.get_ref();
                let message = if fields.contains(&name.as_str()) {
                    format!(
                        "{entry} still has `{name}` open: {}, then remove {name:?} from `open`",
                        fill_hint(name)
                    )
                } else {
                    format!(
                        "{entry}: `open` names {name:?}, which is not one of its fields ({})",
                        fields.join(", ")
                    )
                };
                self.error(index, field.span(), message);
            }
            self.error(
                index,
                draft.span(),
                format!(
                    "{candidate} is not accepted yet: accept it by deleting its {table} table, \
                     or delete the candidate"
                ),
            );
        }
    }

    fn check_reviews(&mut self, index: usize) {
        for review in &self.sheets[index].file.reviews {
            self.reference(index, &review.claim, &[Kind::Claim]);
            self.reference(index, &review.author, &[Kind::Entity]);
            self.date(index, &review.published);
            for evidence in &review.evidence {
                self.reference(index, evidence, &[Kind::Source, Kind::Entity]);
            }
            let rating = &review.rating;
            if !(rating.worst <= rating.value && rating.value <= rating.best)
                || rating.worst == rating.best
            {
                self.error(
                    index,
                    review.key.span(),
                    format!(
                        "rating value {} must lie between worst {} and best {}",
                        rating.value, rating.worst, rating.best
                    ),
                );
            }
        }
    }

    /// A literal with an optional datatype: the datatype must be known and the value valid for it.
    fn literal(
        &mut self,
        index: usize,
        value: &Spanned<String>,
        datatype: Option<&Spanned<String>>,
    ) {
        let Some(datatype) = datatype else { return };
        if expand(datatype.get_ref()).is_none() {
            self.error(
                index,
                datatype.span(),
                prefixed_name_help(datatype.get_ref()),
            );
            return;
        }
        if let Some(problem) = lexical_problem(datatype.get_ref(), value.get_ref()) {
            self.error(index, value.span(), problem);
        }
    }
}

/// The fields of a `[[claims]]` entry (what a draft's `open` may name).
pub const CLAIM_FIELDS: &[&str] = &[
    "key",
    "text",
    "claimant",
    "status",
    "primary_source",
    "about",
    "disputes",
    "content",
    "times",
    "appearances",
];

/// The fields of a top-level `[[appearances]]` entry (what a draft's `open` may name).
pub const SHEET_APPEARANCE_FIELDS: &[&str] = &[
    "claim",
    "source",
    "quote",
    "occurrence",
    "upstream",
    "relation",
    "status",
    "differences",
];

/// The fields a draft table leaves open (none without one).
fn open_fields(draft: Option<&DraftEntry>) -> std::collections::HashSet<String> {
    draft
        .map(|d| d.open.iter().map(|f| f.get_ref().clone()).collect())
        .unwrap_or_default()
}

/// What to do about an open field, in words.
fn fill_hint(field: &str) -> String {
    match field {
        "content" => "write its content triples".into(),
        "text" => "write the claim in plain words".into(),
        "claimant" => "name the entity that asserts it".into(),
        "status" => format!("choose its status ({})", STATUSES.join(", ")),
        "quote" => "copy the quote exactly from the archived text".into(),
        other => format!("fill in `{other}`"),
    }
}

fn prefixed_name_help(name: &str) -> String {
    format!(
        "{name:?} is not a prefixed name with a known prefix: write prefix:localName with one of \
         {}",
        SHEET_PREFIXES.join(", ")
    )
}

/// Why `value` is not a valid lexical form of `datatype`, for the datatypes sheets use.
pub fn lexical_problem(datatype: &str, value: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let month_ok = |m: &str| digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0));
    let valid = match datatype {
        "xsd:gYear" => digits(value, 4),
        "xsd:gYearMonth" => value
            .split_once('-')
            .is_some_and(|(y, m)| digits(y, 4) && month_ok(m)),
        "xsd:date" => {
            let parts: Vec<&str> = value.split('-').collect();
            parts.len() == 3
                && digits(parts[0], 4)
                && month_ok(parts[1])
                && digits(parts[2], 2)
                && (1..=days_in_month(parts[0], parts[1])).contains(&parts[2].parse().unwrap_or(0))
        }
        "xsd:decimal" => is_decimal(value),
        "xsd:integer" | "xsd:nonNegativeInteger" => {
            let v = value.strip_prefix(['-', '+']).unwrap_or(value);
            !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_digit())
                && !(datatype == "xsd:nonNegativeInteger" && value.starts_with('-'))
        }
        "xsd:boolean" => ["true", "false", "1", "0"].contains(&value),
        _ => true,
    };
    (!valid).then(|| format!("{value:?} is not a valid {datatype}"))
}

fn days_in_month(year: &str, month: &str) -> u32 {
    let year: u32 = year.parse().unwrap_or(1);
    match month.parse::<u32>().unwrap_or(1) {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_decimal(value: &str) -> bool {
    let v = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (whole, fraction) = v.split_once('.').unwrap_or((v, "0"));
    !(whole.is_empty() && fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !fraction.is_empty()
}

/// Whether `key` is a valid key: lower-case ASCII letters, digits and inner hyphens.
pub fn is_slug(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('-')
        && !key.ends_with('-')
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `path` relative to `root` (both resolved lexically), with `/` separators.
fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let normal = |p: &Path| -> Option<PathBuf> {
        let absolute = if p.is_absolute() {
            p.to_owned()
        } else {
            std::env::current_dir().ok()?.join(p)
        };
        let mut out = PathBuf::new();
        for component in absolute.components() {
            match component {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
        }
        Some(out)
    };
    let relative = normal(path)?.strip_prefix(normal(root)?).ok()?.to_owned();
    Some(
        relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_forms() {
        assert!(lexical_problem("xsd:date", "2024-03-23").is_none());
        assert!(lexical_problem("xsd:date", "2024-02-30").is_some());
        assert!(lexical_problem("xsd:date", "2024-13-01").is_some());
        assert!(lexical_problem("xsd:gYearMonth", "2023-04").is_none());
        assert!(lexical_problem("xsd:gYear", "22").is_some());
        assert!(lexical_problem("xsd:decimal", "265000000").is_none());
        assert!(lexical_problem("xsd:decimal", "2.5e3").is_some());
    }

    #[test]
    fn prefixed_names_and_slugs() {
        assert_eq!(
            expand("schema:about").as_deref(),
            Some(crate::vocab::SCHEMA_ABOUT)
        );
        assert!(expand("ex:thing").is_none());
        assert!(expand("schema:").is_none());
        assert!(is_slug("klein-v-meta"));
        assert!(!is_slug("Klein"));
        assert!(!is_slug("-x"));
        assert_eq!(edit_distance("netflix", "netflx"), 1);
    }
}
