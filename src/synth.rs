//! `claimgraph gen`: a deterministic, streaming synthetic corpus shaped like the seed sheet, for
//! benchmarks at 10⁵–10⁶ claims.
//!
//! Invariants:
//! - **deterministic**: the output is a function of (claims, seed, batch size, base) only. The
//!   PRNG is implemented here (SplitMix64, a fixed algorithm), each batch draws from its own
//!   stream derived from the seed, and nothing iterates a hash map;
//! - **streaming**: memory is bounded by one batch plus the entity pool (about 10·√N entities);
//!   each batch is generated, written, checked, compiled and dropped before the next;
//! - **the real pipeline**: every batch is rendered as a claim sheet, parsed and run through
//!   `claims::prepare_sheets` (check, anchor, compile, SHACL) exactly as `claimgraph ingest`
//!   would, and `corpus.nq` holds exactly the quads that compilation produced. Quote offsets are
//!   therefore computed by `claims::anchor`, never by this module. (The bookkeeping record that
//!   `ingest` adds to `<base>graphs/data-files` names a sheet's path on disk and is not corpus
//!   data, so it is not in `corpus.nq`.)

use crate::claims::{self, anchor, sheet};
use crate::error::{Error, Result};
use oxigraph::io::{RdfFormat, RdfSerializer};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenFormat {
    NQuads,
    Sheets,
    Both,
}

impl GenFormat {
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "nquads" => Some(Self::NQuads),
            "sheets" => Some(Self::Sheets),
            "both" => Some(Self::Both),
            _ => None,
        }
    }
    fn nquads(self) -> bool {
        self != Self::Sheets
    }
    fn sheets(self) -> bool {
        self != Self::NQuads
    }
}

/// What to generate, and where.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub claims: usize,
    pub seed: u64,
    pub out: PathBuf,
    pub format: GenFormat,
    /// Claims per sheet (and per batch held in memory).
    pub batch: usize,
    /// Base IRI (with its trailing `/`) the quads are minted under.
    pub base: String,
}

/// What was written.
#[derive(Debug, Default, Clone)]
pub struct GenSummary {
    pub claims: usize,
    pub quads: u64,
    pub documents: usize,
    pub texts: usize,
    pub sheets: usize,
    pub entities: usize,
    pub reviews: usize,
    pub bytes: u64,
}

/// The seed sheet's status mix per 23 claims.
const STATUS_WEIGHTS: &[(&str, u64)] = &[
    ("Alleged", 10),
    ("Reported", 6),
    ("Stated", 3),
    ("PublicRecord", 2),
    ("Settled", 1),
    ("Denied", 1),
];

/// SplitMix64: tiny, fast, and a fixed algorithm, so a seed means the same corpus everywhere.
struct Rng(u64);

impl Rng {
    fn stream(seed: u64, stream: u64) -> Self {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), by multiply-high (no modulo bias worth mentioning here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    fn range(&mut self, low: usize, high_inclusive: usize) -> usize {
        low + self.below(high_inclusive - low + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.next() % total;
        for (item, weight) in items {
            if roll < *weight {
                return item;
            }
            roll -= weight;
        }
        &items[items.len() - 1].0
    }
}

/// Zipf-distributed ranks (exponent 1): rank 0 is drawn most often. Kept as a cumulative table
/// over the pool, which is small (√N·10).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, exponent: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(exponent);
                total
            })
            .collect();
        Self { cumulative }
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("a non-empty pool");
        // 53 random bits give a uniform float in [0, 1).
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }
}

#[derive(Debug, Clone)]
enum Extra {
    None,
    Case {
        court: usize,
        docket: String,
        plaintiffs: Vec<usize>,
        defendants: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
struct Entity {
    key: String,
    kind: &'static str,
    name: String,
    description: Option<String>,
    extra: Extra,
}

/// The entity pool and the fixed casts (courts, cases, outlets…), all indices into `entities`.
struct World {
    entities: Vec<Entity>,
    /// Things claims are about, in popularity order (Zipf rank = position).
    pool: Vec<usize>,
    pool_zipf: Zipf,
    cases: Vec<usize>,
    case_zipf: Zipf,
    /// The plaintiffs of `cases[i]`, taken together as a claimant.
    plaintiff_groups: Vec<usize>,
    outlets: Vec<usize>,
    journalists: Vec<usize>,
    spokespeople: Vec<usize>,
    editors: usize,
}

const FIRST: &[&str] = &[
    "Ada", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Marta", "Nikolai", "Olga", "Pedro", "Quentin", "Rosa", "Sven", "Tomás", "Ulla",
    "Viktor", "Wanda", "Xavier", "Yusuf", "Zoë",
];
const LAST: &[&str] = &[
    "Abbott",
    "Brennan",
    "Castell",
    "Duarte",
    "Eriksen",
    "Fontaine",
    "García",
    "Hartmann",
    "Ibarra",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urquhart",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zhou",
];
const ORG_STEMS: &[&str] = &[
    "Northwind",
    "Bluepeak",
    "Corvid",
    "Dunmore",
    "Ember",
    "Fairhaven",
    "Granite",
    "Helix",
    "Ironbridge",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchard",
    "Pinecrest",
    "Quarry",
    "Riverton",
    "Solstice",
    "Tidewater",
    "Umbra",
    "Vantage",
    "Westgate",
    "Zephyr",
];
const ORG_TAILS: &[&str] = &[
    "Holdings",
    "Labs",
    "Media",
    "Systems",
    "Capital",
    "Networks",
    "Foods",
    "Energy",
    "Health",
    "Logistics",
];
const THINGS: &[&str] = &[
    "user data",
    "private messages",
    "location history",
    "ad targeting models",
    "payment records",
    "app API",
    "loyalty programme",
    "data-sharing agreement",
    "security vulnerability",
    "recommendation engine",
    "customer database",
    "pricing algorithm",
];
const AGENCIES: &[&str] = &[
    "Data Protection Authority",
    "Competition Commission",
    "Consumer Protection Office",
    "Financial Conduct Regulator",
    "Communications Agency",
];
const COURTS: &[&str] = &[
    "District Court for the Northern District",
    "District Court for the Southern District",
    "High Court, Commercial Division",
    "Regional Court of Appeal",
    "Superior Court, Complex Litigation",
    "Federal Court, Competition List",
    "Court of Chancery",
    "Circuit Court of Appeals",
];
const OUTLET_WORDS: &[&str] = &[
    "Chronicle",
    "Herald",
    "Ledger",
    "Dispatch",
    "Courier",
    "Observer",
    "Gazette",
    "Wire",
    "Sentinel",
    "Post",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// (predicate, what the quote says, what the proposition says)
const RELATIONS: &[(&str, &str, &str)] = &[
    (
        "cg:sharedWith",
        "quietly shared its records with",
        "shared its records with",
    ),
    ("cg:hadAccessTo", "had direct access to", "had access to"),
    ("cg:paid", "paid undisclosed sums to", "paid"),
    (
        "cg:party",
        "signed a confidential agreement with",
        "is party to an agreement with",
    ),
    ("cg:improved", "used the arrangement to improve", "improved"),
    (
        "prov:wasInfluencedBy",
        "acted at the urging of",
        "was influenced by",
    ),
    ("schema:knows", "kept in close contact with", "knows"),
    (
        "cg:exploited",
        "exploited a loophole involving",
        "exploited",
    ),
    ("cg:roleIn", "played a central role in", "had a role in"),
    ("schema:funder", "secretly funded", "funded"),
];
const FILLER: &[&str] = &[
    "The documents run to several hundred pages.",
    "Neither side responded to requests for comment before publication.",
    "The arrangement was not disclosed to users at the time.",
    "Critics say the case shows how little oversight such deals receive.",
    "Lawyers for the company have called the claims “baseless”.",
    "The filing was heavily redacted when it first appeared on the docket.",
    "It is not the first time the firm has faced questions over its data practices.",
    "Analysts expect the matter to take years to resolve.",
    "Regulators in Europe have opened inquiries of their own.",
    "The company’s shares fell slightly in early trading.",
    "A hearing is scheduled for later this year.",
    "Internal emails cited in the complaint paint a different picture.",
    "Privacy advocates welcomed the disclosure — but said it came too late.",
    "The full text of the exhibits has not been made public.",
];

impl World {
    fn new(claims: usize, rng: &mut Rng) -> Self {
        let root = (claims as f64).sqrt();
        let pool_size = ((root * 10.0) as usize).max(100);
        let case_count = ((root / 2.0) as usize).max(8);
        let mut entities = Vec::new();
        let push = |entities: &mut Vec<Entity>, kind, name: String, description, extra| {
            let key = format!("e{:06}-{}", entities.len(), crate::claims::slug(&name));
            entities.push(Entity {
                key,
                kind,
                name,
                description,
                extra,
            });
            entities.len() - 1
        };
        let person = |rng: &mut Rng| format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let org = |rng: &mut Rng| format!("{} {}", rng.pick(ORG_STEMS), rng.pick(ORG_TAILS));

        let pool: Vec<usize> = (0..pool_size)
            .map(|_| {
                let (kind, name) = match rng.below(10) {
                    0..=2 => ("Person", person(rng)),
                    3..=5 => ("Corporation", org(rng)),
                    6 => (
                        "GovernmentOrganization",
                        format!("{} of {}", rng.pick(AGENCIES), rng.pick(ORG_STEMS)),
                    ),
                    7 => ("Organization", format!("{} Foundation", rng.pick(LAST))),
                    _ => (
                        "Thing",
                        format!("{}’s {}", rng.pick(ORG_STEMS), rng.pick(THINGS)),
                    ),
                };
                push(&mut entities, kind, name, None, Extra::None)
            })
            .collect();
        let courts: Vec<usize> = COURTS
            .iter()
            .map(|court| {
                push(
                    &mut entities,
                    "GovernmentOrganization",
                    format!("{court} of {}", rng.pick(ORG_STEMS)),
                    None,
                    Extra::None,
                )
            })
            .collect();
        let mut cases = Vec::new();
        let mut plaintiff_groups = Vec::new();
        for i in 0..case_count {
            let plaintiffs: Vec<usize> = (0..rng.range(1, 3))
                .map(|_| pool[rng.below(pool.len())])
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let defendant = pool[rng.below(pool.len().min(40))];
            let lead = &entities[plaintiffs[0]];
            // A person's case goes by their surname, an organisation's by its whole name.
            let lead = match lead.kind {
                "Person" => lead
                    .name
                    .rsplit(' ')
                    .next()
                    .unwrap_or(&lead.name)
                    .to_owned(),
                _ => lead.name.clone(),
            };
            let name = format!(
                "{lead} et al. v. {}",
                entities[defendant].name.replace('’', "'")
            );
            let year = 2012 + rng.below(12);
            let docket = format!("{}:{}-cv-{:05}-{}", rng.range(1, 5), year % 100, i, "XX");
            let court = *rng.pick(&courts);
            let case = push(
                &mut entities,
                "CourtCase",
                name.clone(),
                Some(format!("A class action filed in {year}.")),
                Extra::Case {
                    court,
                    docket,
                    plaintiffs,
                    defendants: vec![defendant],
                },
            );
            cases.push(case);
            plaintiff_groups.push(push(
                &mut entities,
                "Organization",
                format!("Plaintiffs in {name}"),
                None,
                Extra::None,
            ));
        }
        let outlets: Vec<usize> = (0..40)
            .map(|_| {
                let name = format!("The {} {}", rng.pick(ORG_STEMS), rng.pick(OUTLET_WORDS));
                push(
                    &mut entities,
                    "NewsMediaOrganization",
                    name,
                    None,
                    Extra::None,
                )
            })
            .collect();
        let journalists: Vec<usize> = (0..40)
            .map(|_| {
                let name = person(rng);
                push(&mut entities, "Person", name, None, Extra::None)
            })
            .collect();
        let spokespeople: Vec<usize> = (0..20)
            .map(|_| {
                let name = person(rng);
                push(
                    &mut entities,
                    "Person",
                    name,
                    Some("A company spokesperson.".into()),
                    Extra::None,
                )
            })
            .collect();
        let editors = push(
            &mut entities,
            "Organization",
            "claimgraph editors".into(),
            Some("The editors who review the synthetic corpus.".into()),
            Extra::None,
        );
        World {
            entities,
            pool_zipf: Zipf::new(pool.len(), 1.0),
            pool,
            case_zipf: Zipf::new(cases.len(), 1.0),
            cases,
            plaintiff_groups,
            outlets,
            journalists,
            spokespeople,
            editors,
        }
    }

    /// The entities sheet, or the part of it a batch refers to (with what those refer to), so a
    /// batch can be checked on its own.
    fn render(&self, only: Option<&BTreeSet<usize>>) -> String {
        let mut wanted: BTreeSet<usize> = match only {
            Some(set) => set.clone(),
            None => (0..self.entities.len()).collect(),
        };
        for &i in wanted.clone().iter() {
            if let Extra::Case {
                court,
                plaintiffs,
                defendants,
                ..
            } = &self.entities[i].extra
            {
                wanted.insert(*court);
                wanted.extend(plaintiffs.iter().chain(defendants));
            }
        }
        let mut out = String::from(
            "# Synthetic entities generated by `claimgraph gen`: fictitious people, organisations,\n\
             # court cases and things. Popularity in claims follows a Zipf law by position.\n",
        );
        for i in wanted {
            let e = &self.entities[i];
            let _ = write!(
                out,
                "\n[[entities]]\nkey = {}\ntype = {}\nname = {}\n",
                toml_str(&e.key),
                toml_str(e.kind),
                toml_str(&e.name)
            );
            if let Some(description) = &e.description {
                let _ = writeln!(out, "description = {}", toml_str(description));
            }
            if let Extra::Case {
                court,
                docket,
                plaintiffs,
                defendants,
            } = &e.extra
            {
                let _ = writeln!(
                    out,
                    "court = {}\ndocket = {}\nplaintiffs = {}\ndefendants = {}",
                    toml_str(&self.entities[*court].key),
                    toml_str(docket),
                    self.keys(plaintiffs),
                    self.keys(defendants)
                );
            }
        }
        out
    }

    fn keys(&self, indices: &[usize]) -> String {
        toml_list(indices.iter().map(|&i| self.entities[i].key.as_str()))
    }
    fn key(&self, i: usize) -> &str {
        &self.entities[i].key
    }
    fn name(&self, i: usize) -> &str {
        &self.entities[i].name
    }
}

/// A TOML basic string.
fn toml_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(toml_str).collect();
    format!("[{}]", items.join(", "))
}

#[derive(Clone, Copy)]
struct Date {
    year: usize,
    month: usize,
    day: usize,
}

impl Date {
    fn random(rng: &mut Rng, from_year: usize, to_year: usize) -> Self {
        Date {
            year: rng.range(from_year, to_year),
            month: rng.range(1, 12),
            day: rng.range(1, 28),
        }
    }
    /// Some days later (months are treated as 28 days long: the dates stay valid).
    fn later(self, days: usize) -> Self {
        let total = (self.month - 1) * 28 + (self.day - 1) + days;
        Date {
            year: self.year + total / (12 * 28),
            month: (total / 28) % 12 + 1,
            day: total % 28 + 1,
        }
    }
    fn toml(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which upstream relation a document (or an appearance in it) has.
#[derive(Clone, Copy)]
enum Relation {
    Reposted,
    Derived,
    Quoted,
}

impl Relation {
    fn sheet_field(self) -> &'static str {
        match self {
            Relation::Reposted => "reposts",
            Relation::Derived => "derived_from",
            Relation::Quoted => "quoted_from",
        }
    }
    fn appearance(self) -> &'static str {
        match self {
            Relation::Reposted => "reposted",
            Relation::Derived => "derived",
            Relation::Quoted => "quoted",
        }
    }
}

struct Doc {
    key: String,
    kind: &'static str,
    title: String,
    headline: bool,
    author: Option<usize>,
    publisher: Option<usize>,
    published: Option<Date>,
    case: Option<(usize, Date, Option<Date>)>,
    upstream: Vec<(Relation, usize)>,
    /// Whether its text is archived (written to `texts/` and anchored in).
    held: bool,
    /// Paragraphs of the archived text, each with the claim whose quote it embeds, if any.
    paragraphs: Vec<(Option<usize>, String)>,
}

struct Appearance {
    doc: usize,
    upstream: usize,
    relation: Relation,
}

struct Claim {
    key: String,
    text: String,
    quote: String,
    claimant: usize,
    status: &'static str,
    primary: usize,
    about: Vec<usize>,
    disputes: Vec<usize>,
    /// (subject, predicate, object): an entity index or a literal (value, datatype or lang).
    content: Vec<(usize, &'static str, Object)>,
    times: Vec<(String, String, &'static str)>,
    appearances: Vec<Appearance>,
}

enum Object {
    Entity(usize),
    Typed(String, &'static str),
    Lang(String),
}

/// One batch: the documents and claims of one sheet.
struct Batch {
    docs: Vec<Doc>,
    claims: Vec<Claim>,
}

/// Generates the stories of one batch: each story is a page in hand (archived text) with a chain
/// of 1–4 hops back to a court filing, and maybe a company statement quoted directly.
fn generate_batch(world: &World, rng: &mut Rng, batch: usize, first: usize, count: usize) -> Batch {
    let mut b = Batch {
        docs: Vec::new(),
        claims: Vec::new(),
    };
    let mut story = 0;
    while b.claims.len() < count {
        let size = rng.range(4, 16).min(count - b.claims.len());
        generate_story(world, rng, &mut b, batch, story, first, size);
        story += 1;
    }
    b
}

fn generate_story(
    world: &World,
    rng: &mut Rng,
    b: &mut Batch,
    batch: usize,
    story: usize,
    first: usize,
    size: usize,
) {
    let case_rank = world.case_zipf.draw(rng);
    let case = world.cases[case_rank];
    let group = world.plaintiff_groups[case_rank];
    let Extra::Case { defendants, .. } = &world.entities[case].extra else {
        unreachable!("cases are CourtCase entities")
    };
    let defendant = defendants[0];
    let doc_key = |n: usize| format!("b{batch:05}-s{story:03}-d{n}");
    let filed = Date::random(rng, 2013, 2023);
    let unsealed = rng.chance(60).then(|| filed.later(rng.range(30, 300)));
    let case_name = world.name(case).to_owned();
    let base_doc = b.docs.len();
    b.docs.push(Doc {
        key: doc_key(0),
        kind: "CourtFiling",
        title: format!("Plaintiffs' filing of {} in {case_name}", filed.toml()),
        headline: false,
        author: None,
        publisher: None,
        published: None,
        case: Some((case, filed, unsealed)),
        upstream: Vec::new(),
        held: false,
        paragraphs: Vec::new(),
    });
    let hops = *rng.weighted(&[(1usize, 3), (2, 4), (3, 2), (4, 1)]);
    let mut date = unsealed.unwrap_or(filed).later(rng.range(1, 20));
    for n in 1..=hops {
        let relation = if n == 1 {
            Relation::Quoted
        } else if rng.chance(50) {
            Relation::Reposted
        } else {
            Relation::Derived
        };
        let outlet = *rng.pick(&world.outlets);
        let subject = world.name(world.pool[world.pool_zipf.draw(rng)]).to_owned();
        b.docs.push(Doc {
            key: doc_key(n),
            kind: "NewsArticle",
            title: format!(
                "{} named in {case_name} filing, {} reports",
                subject,
                world.name(outlet)
            ),
            headline: true,
            author: rng.chance(70).then(|| *rng.pick(&world.journalists)),
            publisher: Some(outlet),
            published: Some(date),
            case: None,
            upstream: vec![(relation, base_doc + n - 1)],
            // The page in hand is always held; the story it copies sometimes.
            held: n == hops || (n == hops - 1 && rng.chance(40)),
            paragraphs: Vec::new(),
        });
        date = date.later(rng.range(0, 3));
    }
    let page = base_doc + hops;
    let before_page = page - 1;

    let mut statuses: Vec<&'static str> =
        (0..size).map(|_| *rng.weighted(STATUS_WEIGHTS)).collect();
    // A denial disputes an earlier claim of the story, so one must come first.
    statuses.sort_by_key(|s| *s == "Denied");
    if statuses[0] == "Denied" {
        statuses[0] = "Alleged";
    }
    let statement = if statuses.iter().any(|s| matches!(*s, "Stated" | "Denied")) {
        let speaker = *rng.pick(&world.spokespeople);
        b.docs.push(Doc {
            key: doc_key(9),
            kind: "Statement",
            title: format!(
                "Statement by {} for {}",
                world.name(speaker),
                world.name(defendant)
            ),
            headline: false,
            author: Some(speaker),
            publisher: Some(defendant),
            published: None,
            case: None,
            upstream: Vec::new(),
            held: false,
            paragraphs: Vec::new(),
        });
        let statement = b.docs.len() - 1;
        b.docs[page].upstream.push((Relation::Quoted, statement));
        Some((statement, speaker))
    } else {
        None
    };

    let story_first = b.claims.len();
    for status in statuses {
        let index = first + b.claims.len();
        let mut about: Vec<usize> = Vec::new();
        for _ in 0..rng.range(2, 3) {
            let e = world.pool[world.pool_zipf.draw(rng)];
            if !about.contains(&e) {
                about.push(e);
            }
        }
        if about.len() < 2 {
            let e = world.pool[rng.below(world.pool.len())];
            if !about.contains(&e) {
                about.push(e);
            }
        }
        if rng.chance(30) {
            about.push(case);
        }
        let (s, o) = (about[0], about[about.len().min(2) - 1]);
        let (predicate, says, proposition) = *rng.pick(RELATIONS);
        let (sn, on) = (world.name(s).to_owned(), world.name(o).to_owned());
        let mut content = vec![(s, predicate, Object::Entity(o))];
        let mut times = Vec::new();
        let mut when = String::new();
        let mut plain_when = String::new();
        if rng.chance(40) {
            let year = 2005 + rng.below(18);
            content.push((
                s,
                "schema:startDate",
                Object::Typed(year.to_string(), "xsd:gYear"),
            ));
            when = format!(" from {year}");
            plain_when = format!(" from {year}");
        } else if rng.chance(20) {
            let month = rng.range(1, 12);
            let year = date.year - 1;
            when = format!(" last {}", MONTHS[month - 1]);
            plain_when = format!(" in {} {year}", MONTHS[month - 1]);
            times.push((
                format!("last {}", MONTHS[month - 1]),
                format!("{year}-{month:02}"),
                "xsd:gYearMonth",
            ));
        }
        let tag = index % 997;
        let (claimant, primary, quote, appear_in_upstream) = match status {
            "Alleged" => (
                Some(group),
                base_doc,
                format!("the plaintiffs allege that {sn} {says} {on}{when} (exhibit {tag})"),
                true,
            ),
            "PublicRecord" => (
                None,
                base_doc,
                format!("court records show that {sn} {says} {on}{when}, docket entry {tag}"),
                true,
            ),
            "Reported" | "Settled" => {
                let text = if status == "Settled" {
                    let amount = rng.range(2, 900);
                    content.push((
                        s,
                        "cg:paid",
                        Object::Typed(format!("{amount}000000"), "xsd:decimal"),
                    ));
                    format!(
                        "{sn} agreed to pay ${amount} million to settle claims that it {says} {on}{when}"
                    )
                } else {
                    format!("{sn} {says} {on}{when}, according to people familiar with the matter ({tag})")
                };
                (None, before_page, text, false)
            }
            _ => {
                let (doc, speaker) = statement.expect("a statement for Stated and Denied");
                let text = if status == "Denied" {
                    format!("{} denied that {sn} {says} {on}", world.name(speaker))
                } else {
                    format!(
                        "“{sn} {says} {on}{when},” {} said in a statement ({tag})",
                        world.name(speaker)
                    )
                };
                (Some(speaker), doc, text, false)
            }
        };
        // News statuses are claimed by the outlet of the document they rest on.
        let claimant = claimant.unwrap_or_else(|| {
            let doc = if status == "PublicRecord" {
                page
            } else {
                primary
            };
            b.docs[doc]
                .publisher
                .unwrap_or_else(|| b.docs[page].publisher.expect("a news page"))
        });
        let mut disputes = Vec::new();
        if status == "Denied" {
            content.clear();
            let target = story_first + rng.below(b.claims.len() - story_first);
            disputes.push(target);
            content.push((
                defendant,
                "schema:description",
                Object::Lang(format!("denies: {}", b.claims[target].text)),
            ));
            if !about.contains(&defendant) {
                about.push(defendant);
            }
        } else if rng.chance(25) {
            content.push((
                o,
                "schema:description",
                Object::Lang(format!("named in {case_name}")),
            ));
        }
        let mut appearances = vec![Appearance {
            doc: page,
            upstream: if statement.is_some_and(|(d, _)| d == primary) {
                primary
            } else {
                before_page
            },
            relation: if statement.is_some_and(|(d, _)| d == primary) {
                Relation::Quoted
            } else {
                b.docs[page].upstream[0].0
            },
        }];
        if appear_in_upstream && b.docs[before_page].held {
            appearances.push(Appearance {
                doc: before_page,
                upstream: before_page - 1,
                relation: b.docs[before_page].upstream[0].0,
            });
        }
        let text = match status {
            "Denied" => format!(
                "{} did not {} {on}.",
                sn,
                proposition.replace("has ", "have ").replace("is ", "be ")
            ),
            _ => format!("{sn} {proposition} {on}{plain_when}."),
        };
        let key = format!("c{index:08}-{}", crate::claims::slug(&sn));
        b.claims.push(Claim {
            key,
            text,
            quote,
            claimant,
            status,
            primary,
            about,
            disputes,
            content,
            times,
            appearances,
        });
    }
    // The prose of each held document: filler, with every quote embedded once.
    for c in story_first..b.claims.len() {
        for a in 0..b.claims[c].appearances.len() {
            let doc = b.claims[c].appearances[a].doc;
            let lead = *rng.pick(FILLER);
            let tail = *rng.pick(FILLER);
            let quote = &b.claims[c].quote;
            b.docs[doc]
                .paragraphs
                .push((Some(c), format!("{lead} Reportedly, {quote}. {tail}")));
        }
    }
    for doc in base_doc..b.docs.len() {
        if b.docs[doc].held {
            for _ in 0..rng.range(1, 3) {
                let p = format!("{} {}", rng.pick(FILLER), rng.pick(FILLER));
                let at = rng.below(b.docs[doc].paragraphs.len() + 1);
                b.docs[doc].paragraphs.insert(at, (None, p));
            }
        }
    }
}

/// The archived text of a held document, and where (in code points) each claim's quote was put.
fn render_text(world: &World, doc: &Doc, claims: &[Claim]) -> (String, Vec<(usize, usize)>) {
    let mut text = String::new();
    let mut chars = 0usize;
    let mut push = |text: &mut String, s: &str| {
        text.push_str(s);
        chars += s.chars().count();
        chars
    };
    push(&mut text, &doc.title);
    push(&mut text, "\n\n");
    if let Some(author) = doc.author {
        push(&mut text, &format!("By {}\n\n", world.name(author)));
    }
    let mut placed = Vec::new();
    for (claim, paragraph) in &doc.paragraphs {
        if let Some(c) = claim {
            let quote = &claims[*c].quote;
            let offset = paragraph
                .find(quote.as_str())
                .expect("the quote is in its paragraph");
            let at = push(&mut text, &paragraph[..offset]);
            placed.push((*c, at));
            push(&mut text, &paragraph[offset..]);
        } else {
            push(&mut text, paragraph);
        }
        push(&mut text, "\n\n");
    }
    (text, placed)
}

/// Writes a batch's texts and renders its sheet. Quotes that occur more than once get the
/// `occurrence` that points at the place this generator put them.
fn render_batch(
    world: &World,
    b: &Batch,
    batch_name: &str,
    out: &Path,
    summary: &mut GenSummary,
    rng: &mut Rng,
) -> Result<(String, BTreeSet<usize>)> {
    let mut sheet = format!(
        "# Synthetic claim sheet generated by `claimgraph gen` ({batch_name}). Fictitious.\n"
    );
    let mut used = BTreeSet::new();
    used.insert(world.editors);
    let texts_dir = out.join("texts").join(batch_name);
    std::fs::create_dir_all(&texts_dir)
        .map_err(|e| Error::io(format!("cannot create {}", texts_dir.display()), e))?;
    // (claim, doc) → occurrence, when a quote is not unique in its text.
    let mut occurrences: Vec<((usize, usize), u32)> = Vec::new();
    for (d, doc) in b.docs.iter().enumerate() {
        let _ = write!(
            sheet,
            "\n[[sources]]\nkey = {}\ntype = {}\n{} = {}\n",
            toml_str(&doc.key),
            toml_str(doc.kind),
            if doc.headline { "headline" } else { "name" },
            toml_str(&doc.title)
        );
        for (field, entity) in [("author", doc.author), ("publisher", doc.publisher)] {
            if let Some(e) = entity {
                used.insert(e);
                let _ = writeln!(sheet, "{field} = {}", toml_str(world.key(e)));
            }
        }
        if let Some(date) = doc.published {
            let _ = writeln!(sheet, "published = {}", date.toml());
        }
        if let Some((case, filed, unsealed)) = doc.case {
            used.insert(case);
            let _ = writeln!(
                sheet,
                "case = {}\nfiled = {}",
                toml_str(world.key(case)),
                filed.toml()
            );
            if let Some(unsealed) = unsealed {
                let _ = writeln!(sheet, "unsealed = {}", unsealed.toml());
            }
        }
        if doc.held {
            let (text, placed) = render_text(world, doc, &b.claims);
            for (c, at) in placed {
                let starts = anchor::occurrences(&text, &b.claims[c].quote);
                let n = starts.iter().position(|&s| s == at).ok_or_else(|| {
                    Error::Invalid(format!("gen: quote of claim {c} not found where placed"))
                })?;
                if starts.len() > 1 {
                    occurrences.push(((c, d), n as u32 + 1));
                }
            }
            let file = format!("{}.txt", doc.key);
            let path = texts_dir.join(&file);
            std::fs::write(&path, text.as_bytes())
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            summary.texts += 1;
            summary.bytes += text.len() as u64;
            let sha = format!("{:x}", Sha256::digest(text.as_bytes()));
            let _ = writeln!(
                sheet,
                "text = {}\ntext_sha256 = {}",
                toml_str(&format!("../texts/{batch_name}/{file}")),
                toml_str(&sha)
            );
        }
        for relation in [Relation::Reposted, Relation::Derived, Relation::Quoted] {
            let keys: Vec<&str> = doc
                .upstream
                .iter()
                .filter(|(r, _)| r.sheet_field() == relation.sheet_field())
                .map(|(_, u)| b.docs[*u].key.as_str())
                .collect();
            if !keys.is_empty() {
                let _ = writeln!(sheet, "{} = {}", relation.sheet_field(), toml_list(keys));
            }
        }
    }
    let mut reviews = String::new();
    for (c, claim) in b.claims.iter().enumerate() {
        used.insert(claim.claimant);
        used.extend(&claim.about);
        let _ = write!(
            sheet,
            "\n[[claims]]\nkey = {}\ntext = {}\nclaimant = {}\nstatus = {}\nprimary_source = {}\nabout = {}\n",
            toml_str(&claim.key),
            toml_str(&claim.text),
            toml_str(world.key(claim.claimant)),
            toml_str(claim.status),
            toml_str(&b.docs[claim.primary].key),
            world.keys(&claim.about),
        );
        if !claim.disputes.is_empty() {
            let _ = writeln!(
                sheet,
                "disputes = {}",
                toml_list(claim.disputes.iter().map(|&d| b.claims[d].key.as_str()))
            );
        }
        sheet.push_str("content = [\n");
        for (s, p, o) in &claim.content {
            used.insert(*s);
            let object = match o {
                Object::Entity(e) => {
                    used.insert(*e);
                    format!("o = {}", toml_str(world.key(*e)))
                }
                Object::Typed(v, t) => {
                    format!("value = {}, datatype = {}", toml_str(v), toml_str(t))
                }
                Object::Lang(v) => format!("value = {}, lang = \"en\"", toml_str(v)),
            };
            let _ = writeln!(
                sheet,
                "  {{ s = {}, p = {}, {object} }},",
                toml_str(world.key(*s)),
                toml_str(p)
            );
        }
        sheet.push_str("]\n");
        if !claim.times.is_empty() {
            sheet.push_str("times = [\n");
            for (wording, resolved, datatype) in &claim.times {
                let _ = writeln!(
                    sheet,
                    "  {{ wording = {}, resolved = {}, datatype = {}, relative_to = {} }},",
                    toml_str(wording),
                    toml_str(resolved),
                    toml_str(datatype),
                    toml_str(&b.docs[claim.appearances[0].doc].key)
                );
            }
            sheet.push_str("]\n");
        }
        for appearance in &claim.appearances {
            let _ = write!(
                sheet,
                "\n[[claims.appearances]]\nsource = {}\nquote = {}\n",
                toml_str(&b.docs[appearance.doc].key),
                toml_str(&claim.quote)
            );
            if let Some((_, n)) = occurrences
                .iter()
                .find(|((oc, od), _)| *oc == c && *od == appearance.doc)
            {
                let _ = writeln!(sheet, "occurrence = {n}");
            }
            let _ = writeln!(
                sheet,
                "upstream = {}\nrelation = {}",
                toml_str(&b.docs[appearance.upstream].key),
                toml_str(appearance.relation.appearance())
            );
        }
        // About one claim in twenty is reviewed, as in the seed.
        if rng.chance(5) {
            let (value, label) = *rng.pick(&[
                (1, "False"),
                (2, "Misleading"),
                (3, "Mixture"),
                (4, "Mostly true"),
                (5, "True"),
            ]);
            let published = Date::random(rng, 2024, 2025);
            let _ = write!(
                reviews,
                "\n[[reviews]]\nkey = {}\nclaim = {}\nauthor = {}\npublished = {}\n\
                 rating = {{ value = {value}, best = 5, worst = 1, label = {} }}\ntext = {}\nevidence = {}\n",
                toml_str(&format!("{}-review", claim.key)),
                toml_str(&claim.key),
                toml_str(world.key(world.editors)),
                published.toml(),
                toml_str(label),
                toml_str(&format!(
                    "Checked against {}: rated {label}.",
                    b.docs[claim.primary].title
                )),
                toml_list([b.docs[claim.primary].key.as_str()]),
            );
            summary.reviews += 1;
        }
    }
    sheet.push_str(&reviews);
    Ok((sheet, used))
}

fn parse_sheet(path: PathBuf, source: String) -> Result<sheet::Sheet> {
    let file: sheet::SheetFile = toml::from_str(&source).map_err(|e| {
        Error::Invalid(format!(
            "gen produced a sheet that does not parse ({}): {}",
            path.display(),
            e.message()
        ))
    })?;
    Ok(sheet::Sheet { path, source, file })
}

/// Runs sheets through check, compile and SHACL; returns the quads of the last sheet.
fn compile_last(
    sheets: &[sheet::Sheet],
    out: &Path,
    base: &str,
) -> Result<Vec<oxigraph::model::Quad>> {
    let mut compiled = claims::prepare_sheets(sheets, out, base).map_err(|errors| {
        Error::Multiple(
            std::iter::once(Error::Invalid(
                "gen produced sheets that do not check (a bug in gen):".into(),
            ))
            .chain(errors)
            .collect(),
        )
    })?;
    Ok(compiled.pop().map(|s| s.quads).unwrap_or_default())
}

/// Counts what passes through a writer.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Generates the corpus into `config.out` (which must be empty or absent), calling `progress`
/// with the number of claims done after every batch.
pub fn generate(config: &GenConfig, mut progress: impl FnMut(usize)) -> Result<GenSummary> {
    if config.claims == 0 {
        return Err(Error::Invalid("--claims must be at least 1".into()));
    }
    if config.batch == 0 {
        return Err(Error::Invalid("--batch must be at least 1".into()));
    }
    let out = &config.out;
    if let Ok(mut entries) = std::fs::read_dir(out) {
        if entries.next().is_some() {
            return Err(Error::Invalid(format!(
                "{} is not empty: gen writes into a new or empty directory, so no file of an \
                 earlier corpus is mixed in",
                out.display()
            )));
        }
    }
    let claims_dir = out.join("claims");
    std::fs::create_dir_all(&claims_dir)
        .map_err(|e| Error::io(format!("cannot create {}", claims_dir.display()), e))?;
    let mut summary = GenSummary::default();
    let write_file = |path: &Path, text: &str, summary: &mut GenSummary| -> Result<()> {
        std::fs::write(path, text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        summary.bytes += text.len() as u64;
        summary.sheets += 1;
        Ok(())
    };

    let world = World::new(config.claims, &mut Rng::stream(config.seed, 0));
    summary.entities = world.entities.len();
    let entities_path = claims_dir.join("entities.toml");
    let entities_sheet = world.render(None);
    let mut nquads = if config.format.nquads() {
        let path = out.join("corpus.nq");
        let file = std::fs::File::create(&path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        Some(
            RdfSerializer::from_format(RdfFormat::NQuads).for_writer(Counting {
                inner: std::io::BufWriter::with_capacity(1 << 20, file),
                bytes: 0,
            }),
        )
    } else {
        None
    };
    let mut emit = |quads: Vec<oxigraph::model::Quad>, summary: &mut GenSummary| -> Result<()> {
        summary.quads += quads.len() as u64;
        if let Some(serializer) = nquads.as_mut() {
            for quad in &quads {
                serializer
                    .serialize_quad(quad)
                    .map_err(|e| Error::io("cannot write corpus.nq", e))?;
            }
        }
        Ok(())
    };
    let quads = compile_last(
        &[parse_sheet(entities_path.clone(), entities_sheet.clone())?],
        out,
        &config.base,
    )?;
    emit(quads, &mut summary)?;
    if config.format.sheets() {
        write_file(&entities_path, &entities_sheet, &mut summary)?;
    }

    let batches = config.claims.div_ceil(config.batch);
    for batch in 0..batches {
        let first = batch * config.batch;
        let count = config.batch.min(config.claims - first);
        let mut rng = Rng::stream(config.seed, batch as u64 + 1);
        let b = generate_batch(&world, &mut rng, batch + 1, first, count);
        let name = format!("batch-{:05}", batch + 1);
        let (sheet_text, used) = render_batch(&world, &b, &name, out, &mut summary, &mut rng)?;
        let path = claims_dir.join(format!("{name}.toml"));
        // The batch is checked with just the entities it uses: the same keys and types as the
        // whole entities sheet, so it compiles to the same quads, at a cost that does not grow
        // with the pool.
        let sheets = [
            parse_sheet(entities_path.clone(), world.render(Some(&used)))?,
            parse_sheet(path.clone(), sheet_text)?,
        ];
        let quads = compile_last(&sheets, out, &config.base)?;
        emit(quads, &mut summary)?;
        if config.format.sheets() {
            write_file(&path, &sheets[1].source, &mut summary)?;
        }
        summary.claims += b.claims.len();
        summary.documents += b.docs.len();
        progress(summary.claims);
    }
    if let Some(serializer) = nquads {
        let mut writer = serializer
            .finish()
            .map_err(|e| Error::io("cannot write corpus.nq", e))?;
        writer
            .flush()
            .map_err(|e| Error::io("cannot write corpus.nq", e))?;
        summary.bytes += writer.bytes;
    }
    Ok(summary)
}

/// The verdicts of the generated review feed: the common English labels and a few in the
/// languages feeds most use, and one in twenty that no crosswalk knows.
const VERDICTS: &[(&str, &str, u64)] = &[
    ("False", "en", 30),
    ("Mostly False", "en", 10),
    ("Half True", "en", 10),
    ("Misleading", "en", 12),
    ("Missing context", "en", 6),
    ("Unproven", "en", 6),
    ("True", "en", 6),
    ("Falso", "es", 8),
    ("Engañoso", "es", 4),
    ("Faux", "fr", 3),
    ("Needs a closer look", "en", 5),
];

/// Writes a schema.org `DataFeed` of `reviews` ClaimReviews (fictional fact-checkers, claimants
/// and claims, like the corpus's), as the Data Commons feed is shaped, for the import
/// benchmark. Deterministic in (reviews, seed); written one review at a time.
pub fn write_review_feed(path: &Path, reviews: usize, seed: u64) -> Result<u64> {
    let file = std::fs::File::create(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    let mut out = Counting {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        bytes: 0,
    };
    let io = |e| Error::io(format!("cannot write {}", path.display()), e);
    let mut rng = Rng::stream(seed, 0xFEED);
    let checkers: Vec<String> = (0..40)
        .map(|i| format!("{} Fact Check {i}", rng.pick(ORG_STEMS)))
        .collect();
    let weights: Vec<((&str, &str), u64)> = VERDICTS
        .iter()
        .map(|(l, lang, w)| ((*l, *lang), *w))
        .collect();
    out.write_all(
        b"{\"@context\": \"https://schema.org\", \"@type\": \"DataFeed\", \"dataFeedElement\": [\n",
    )
    .map_err(io)?;
    for i in 0..reviews {
        let checker = rng.below(checkers.len());
        let (label, language) = *rng.weighted(&weights);
        let person = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
        let thing = rng.pick(THINGS);
        let figure = rng.range(2, 900);
        let claim = format!(
            "{person} said the {} {} shared {thing} with {figure} partners in {}",
            rng.pick(ORG_STEMS),
            rng.pick(ORG_TAILS),
            rng.range(2015, 2025)
        );
        let value = match label {
            "False" | "Falso" | "Faux" => 1,
            "Mostly False" | "Misleading" | "Engañoso" => 2,
            "Half True" | "Missing context" | "Unproven" | "Needs a closer look" => 3,
            _ => 5,
        };
        let day = format!("2024-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28));
        let element = serde_json::json!({
            "@type": "DataFeedItem",
            "dateCreated": day,
            "item": [{
                "@type": "ClaimReview",
                "url": format!("https://check{checker}.example/{i}/review"),
                "claimReviewed": claim,
                "datePublished": day,
                "inLanguage": language,
                "author": {"@type": "Organization", "name": checkers[checker],
                           "url": format!("https://check{checker}.example")},
                "reviewRating": {"@type": "Rating", "ratingValue": value, "bestRating": 5,
                                 "worstRating": 1, "alternateName": label},
                "itemReviewed": {"@type": "Claim",
                    "author": {"@type": "Person", "name": person},
                    "datePublished": day,
                    "appearance": [{"@type": "CreativeWork",
                                    "url": format!("https://posts.example/{}", rng.next() % 1_000_000)}]},
                "sdPublisher": {"@type": "Organization", "name": "Google Fact Check Tools",
                                "url": "https://toolbox.google.com/factcheck"},
                "sdLicense": "https://creativecommons.org/licenses/by/4.0/"
            }]
        });
        if i > 0 {
            out.write_all(b",\n").map_err(io)?;
        }
        serde_json::to_writer(&mut out, &element)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e.into()))?;
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(out.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prng_is_fixed() {
        // SplitMix64's published first output for state 0 after one step.
        let mut rng = Rng(0);
        assert_eq!(rng.next(), 0xE220_A839_7B1D_CDAF);
        let mut a = Rng::stream(7, 3);
        let mut b = Rng::stream(7, 3);
        assert_eq!(a.next(), b.next());
        assert_ne!(Rng::stream(7, 3).next(), Rng::stream(7, 4).next());
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let zipf = Zipf::new(1000, 1.0);
        let mut rng = Rng::stream(1, 1);
        let draws: Vec<usize> = (0..10_000).map(|_| zipf.draw(&mut rng)).collect();
        let top = draws.iter().filter(|&&r| r < 10).count();
        assert!(top > 3000, "top 1% drawn {top} times in 10,000");
        assert!(draws.iter().all(|&r| r < 1000));
    }

    #[test]
    fn dates_stay_valid() {
        let d = Date {
            year: 2023,
            month: 12,
            day: 28,
        };
        let later = d.later(1);
        assert_eq!((later.year, later.month, later.day), (2024, 1, 1));
        assert_eq!(d.later(0).toml(), "2023-12-28");
    }

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_str("a \"b\" \\ c\n"), "\"a \\\"b\\\" \\\\ c\\n\"");
    }
}
