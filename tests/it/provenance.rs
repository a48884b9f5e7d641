//! The provenance API on the seed corpus: `/claims/{id}/provenance` (JSON, SVG, Turtle) and
//! `/provenance?iri=` / `?s=&p=&o=`, over a real server and a real RocksDB store.
//!
//! The expected chains are curated by hand from `data/claims/zerohedge-2024-04-02.toml`: each
//! appearance's `source`, `upstream` and `relation`, the sources' `reposts`/`quoted_from`, and the
//! claim's `primary_source`. Quote offsets are recomputed here from the archived text.

use crate::common::{repo, Options, TestServer};
use oxigraph::io::{RdfFormat, RdfParser};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

const ZH: &str = "zerohedge-2024-04-02-facebook-netflix-dms";
const DM: &str = "dailymail-2024-04-02-facebook-netflix-dms";
const LETTER: &str = "klein-v-meta-letter-2023-04-14";
const DENIAL: &str = "meta-denial-2024-04";
const TEXT: &str = "data/texts/zerohedge-2024-04-02-facebook-netflix-dms.txt";
const TEXT_SHA256: &str = "81a6a1115b0094f485781a021d4a7a09d79c0623540785317ff6ae10992dddad";

const CG: &str = "https://w3id.org/claimgraph/ns#";
const PROV: &str = "http://www.w3.org/ns/prov#";
const SCHEMA: &str = "http://schema.org/";
const OA: &str = "http://www.w3.org/ns/oa#";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";

/// How a chain ends: at the primary source after N hops, or broken off after a document.
#[derive(Debug, Clone, Copy)]
enum End {
    Hops(u64),
    BrokenAfter(&'static str, &'static str),
}

struct Appearance {
    quote: &'static str,
    /// Document keys from the one in hand to the last one reached.
    chain: &'static [&'static str],
    relations: &'static [&'static str],
    end: End,
}

struct Expected {
    key: &'static str,
    claimant: &'static str,
    status: &'static str,
    primary: Option<&'static str>,
    appearances: &'static [Appearance],
}

const ZH_ONLY: &[&str] = &[ZH];
const ZH_DM: &[&str] = &[ZH, DM];
const ZH_DM_LETTER: &[&str] = &[ZH, DM, LETTER];
const REPOSTED: &[&str] = &["reposted"];
const REPOSTED_QUOTED: &[&str] = &["reposted", "quoted"];

/// An allegation of the filing: repost → Daily Mail → the letter, 2 hops.
const fn filing(quote: &'static str) -> Appearance {
    Appearance {
        quote,
        chain: ZH_DM_LETTER,
        relations: REPOSTED_QUOTED,
        end: End::Hops(2),
    }
}

/// A Daily Mail report, reposted: 1 hop.
const fn daily_mail(quote: &'static str) -> Appearance {
    Appearance {
        quote,
        chain: ZH_DM,
        relations: REPOSTED,
        end: End::Hops(1),
    }
}

/// ZeroHedge's own framing: the repost is its own primary source, 0 hops.
const fn own(quote: &'static str) -> Appearance {
    Appearance {
        quote,
        chain: ZH_ONLY,
        relations: &[],
        end: End::Hops(0),
    }
}

/// A statement with no recorded primary source: the repost carries it from the Daily Mail, and
/// nothing says where the Daily Mail had it from (its quoting of the letter is not this claim's).
const fn unsourced(quote: &'static str) -> Appearance {
    Appearance {
        quote,
        chain: ZH_DM,
        relations: REPOSTED,
        end: End::BrokenAfter(DM, "no_primary_source"),
    }
}

const PLAINTIFFS: &str = "klein-plaintiffs";

/// Every claim of the seed sheet, curated by hand from the TOML.
const EXPECTED: &[Expected] = &[
    Expected {
        key: "explosive-new-lawsuit",
        claimant: "zerohedge",
        status: "Reported",
        primary: Some(ZH),
        appearances: &[own("according to claims made in an explosive new lawsuit")],
    },
    Expected {
        key: "court-documents-filed-and-unsealed",
        claimant: "zerohedge",
        status: "Reported",
        primary: Some(ZH),
        appearances: &[own(
            "According to court documents originally filed last April and finally unsealed on March 23",
        )],
    },
    Expected {
        key: "klein-v-meta-plaintiffs",
        claimant: "zerohedge",
        status: "PublicRecord",
        primary: Some(ZH),
        appearances: &[own(
            "The anti-trust class-action lawsuit was filed by two UC citizens, Maximilian Klein and Sarah Grabert",
        )],
    },
    Expected {
        key: "netflix-saw-private-messages",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[
            filing("Facebook parent Meta is alleged to have allowed Netflix to see private user DMs \"for nearly a decade\" in order to help the streaming giant tailor content to users"),
            filing("Facebook Shared Private DMs With Netflix 'For Nearly A Decade' According To Lawsuit"),
        ],
    },
    Expected {
        key: "netflix-bespoke-access-to-user-data",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "Netflix and Facebook \"enjoyed a special relationship\" for \"bespoke access\" to user data",
        )],
    },
    Expected {
        key: "netflix-paid-over-100-million",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing("which Netflix paid over $100 million for")],
    },
    Expected {
        key: "facebook-extended-api-agreements-by-2013",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "By 2013, Netflix had begun entering into a series of “Facebook Extended API” agreements",
        )],
    },
    Expected {
        key: "netflix-inbox-api",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[
            filing("a so-called ‘Inbox API’ agreement that allowed Netflix programmatic access to Facebook’s user’s private message inboxes"),
            filing("which allowed Netflix \"programmatic access to Facebook’s user’s private message inboxes,\""),
        ],
    },
    Expected {
        key: "netflix-biweekly-written-reports",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "in exchange for which Netflix would “provide to FB a written report every two weeks that shows daily counts of recommendation sends and recipient clicks by interface, initiation surface, and/or implementation variant (e.g., Facebook vs. non-Facebook recommendation recipients).",
        )],
    },
    Expected {
        key: "netflix-fortnightly-usage-reports",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "In exchange for this data, Netflix would provide Facebook a report every fortnight which showed how users interact with the streaming media platform.",
        )],
    },
    Expected {
        key: "netflix-titan-api",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "In August 2013, Facebook provided Netflix with access to its so-called “Titan API,” a private API that allowed a whitelisted partner to access, among other things, Facebook user’s “messaging app and non-app friends.”",
        )],
    },
    Expected {
        key: "netflix-facebook-custom-partnerships",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "the two Silicon Valley behemoths agreed to \"custom partnerships and integrations that helped supercharge Facebook’s ad targeting and ranking models\" from at least 2011 stemming from the personal relationship between Mark Zuckerberg and Netflix co-founder Reed Hastings",
        )],
    },
    Expected {
        key: "inbox-api-within-a-month-of-hastings",
        claimant: PLAINTIFFS,
        status: "Alleged",
        primary: Some(LETTER),
        appearances: &[filing(
            "\"Within a month\" of Hastings joining Facebook's board, the two companies signed an \"Inbox API\"",
        )],
    },
    Expected {
        key: "meta-denies-sharing-messages",
        claimant: "andy-stone",
        status: "Denied",
        primary: Some(DENIAL),
        appearances: &[],
    },
    Expected {
        key: "meta-fined-for-mishandling-user-data",
        claimant: "daily-mail",
        status: "Reported",
        primary: Some(DM),
        appearances: &[daily_mail(
            "Meta and other Silicon Valley companies have been forced to pay millions of dollars in fines for its mishandling of private user information",
        )],
    },
    Expected {
        key: "ireland-fined-meta-2022",
        claimant: "daily-mail",
        status: "PublicRecord",
        primary: Some(DM),
        appearances: &[daily_mail(
            "In 2022, Ireland fined Meta €265 million ($284 million) after data about more than half a billion users leaked online.",
        )],
    },
    Expected {
        key: "leaked-data-details",
        claimant: "daily-mail",
        status: "Reported",
        primary: Some(DM),
        appearances: &[daily_mail(
            "Full names, phone numbers, locations and birthdays of users who used the platform between 2018 and 2019 were leaked online",
        )],
    },
    Expected {
        key: "leak-by-bad-actor-exploiting-vulnerability",
        claimant: "meta-platforms",
        status: "Stated",
        primary: None,
        appearances: &[unsourced(
            "by a 'bad actor' who Meta said exploited a security vulnerability",
        )],
    },
    Expected {
        key: "meta-cambridge-analytica-settlement-2022",
        claimant: "daily-mail",
        status: "Settled",
        primary: Some(DM),
        appearances: &[daily_mail(
            "That same year, Meta agreed to pay $725million to settle a security breach case related to Cambridge Analytica",
        )],
    },
    Expected {
        key: "cambridge-analytica-brexit-2016-role",
        claimant: "daily-mail",
        status: "Reported",
        primary: Some(DM),
        appearances: &[daily_mail(
            "Cambridge Analytica, the British social media engineering company that was brought into the limelight after its role in the Brexit vote and the 2016 presidential election was exposed",
        )],
    },
    Expected {
        key: "schroepfer-87-million-users",
        claimant: "mike-schroepfer",
        status: "Stated",
        primary: None,
        appearances: &[unsourced(
            "In 2018, Facebook's former chief technology officer, Mike Schroepfer, said that as many as 87 million Facebook users had their information improperly shared with Cambridge Analytica.",
        )],
    },
    Expected {
        key: "bosworth-succeeded-schroepfer",
        claimant: "daily-mail",
        status: "Reported",
        primary: Some(DM),
        appearances: &[
            daily_mail("Facebook's former chief technology officer, Mike Schroepfer"),
            daily_mail("Andrew Bosworth, his successor"),
        ],
    },
    Expected {
        key: "bosworth-cambridge-analytica-non-event",
        claimant: "andrew-bosworth",
        status: "Stated",
        primary: None,
        appearances: &[unsourced(
            "Andrew Bosworth, his successor, said in a leaked email that the Cambridge Analytica scandal was a \"non-event,\" claiming that the data mining company \"were snake oil salespeople. The tools they used didn't work, and the scale they used them at wasn't meaningful.\"",
        )],
    },
];

async fn seeded() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

fn archived_text() -> String {
    std::fs::read_to_string(repo().join(TEXT)).unwrap()
}

/// Code-point offsets of the first occurrence of `quote` in `text`.
fn offsets(text: &str, quote: &str) -> (u64, u64) {
    let byte = text
        .find(quote)
        .unwrap_or_else(|| panic!("quote not in the archived text: {quote}"));
    let start = text[..byte].chars().count() as u64;
    (start, start + quote.chars().count() as u64)
}

impl TestServer {
    fn source(&self, key: &str) -> String {
        format!("{}sources/{key}", self.base)
    }

    fn entity(&self, key: &str) -> String {
        format!("{}entities/{key}", self.base)
    }

    fn claim(&self, key: &str) -> String {
        format!("{}claims/{key}", self.base)
    }

    async fn get(&self, path: &str, accept: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        request.send().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        response.json().await.unwrap()
    }

    async fn lookup(&self, params: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(self.url("provenance"))
            .query(params)
            .send()
            .await
            .unwrap()
    }

    async fn quads(&self) -> u64 {
        self.count("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
            .await
    }
}

#[tokio::test]
async fn every_seed_claim_has_its_curated_chains() {
    let server = seeded().await;
    let text = archived_text();

    // The table covers every claim in the store, and nothing else.
    let stored: BTreeSet<String> = server
        .select("PREFIX schema: <http://schema.org/> SELECT ?c { ?c a schema:Claim }")
        .await["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["c"]["value"].as_str().unwrap().to_owned())
        .collect();
    let curated: BTreeSet<String> = EXPECTED.iter().map(|e| server.claim(e.key)).collect();
    assert_eq!(stored, curated);
    assert_eq!(curated.len(), 23);

    for expected in EXPECTED {
        let key = expected.key;
        let body = server.json(&format!("claims/{key}/provenance")).await;
        let claim = &body["claim"];
        assert_eq!(claim["iri"], server.claim(key), "{key}");
        assert_eq!(
            claim["claimant"]["iri"],
            server.entity(expected.claimant),
            "{key}"
        );
        assert!(
            claim["claimant"]["name"].is_string(),
            "{key}: claimant name"
        );
        assert_eq!(
            claim["status"]["iri"],
            format!("{CG}{}", expected.status),
            "{key}"
        );
        assert_eq!(claim["status"]["name"], expected.status, "{key}");
        match expected.primary {
            Some(primary) => assert_eq!(
                claim["primary_source"]["iri"],
                server.source(primary),
                "{key}"
            ),
            None => assert!(claim["primary_source"].is_null(), "{key}"),
        }
        let chains = body["appearances"].as_array().unwrap();
        assert_eq!(
            chains.len(),
            expected.appearances.len(),
            "{key}: appearances"
        );
        for (n, (chain, want)) in chains.iter().zip(expected.appearances).enumerate() {
            let at = format!("{key} appearance {}", n + 1);
            assert_eq!(
                chain["appearance"],
                format!("{}#appearance-{}", server.claim(key), n + 1),
                "{at}"
            );
            assert_eq!(chain["document"], server.source(want.chain[0]), "{at}");
            let hops = chain["hops"].as_array().unwrap();
            let documents: Vec<&str> = hops
                .iter()
                .map(|h| h["document"]["iri"].as_str().unwrap())
                .collect();
            let want_documents: Vec<String> = want.chain.iter().map(|k| server.source(k)).collect();
            assert_eq!(documents, want_documents, "{at}: documents");
            let relations: Vec<&Value> = hops.iter().map(|h| &h["relation"]).collect();
            let mut want_relations: Vec<Value> =
                want.relations.iter().map(|r| Value::from(*r)).collect();
            want_relations.push(Value::Null); // the last hop has no upstream
            assert_eq!(
                relations,
                want_relations.iter().collect::<Vec<_>>(),
                "{at}: relations"
            );
            match want.end {
                End::Hops(count) => {
                    assert_eq!(chain["hop_count"], count, "{at}: hop count");
                    assert!(chain["broken"].is_null(), "{at}: {}", chain["broken"]);
                }
                End::BrokenAfter(after, kind) => {
                    assert!(chain["hop_count"].is_null(), "{at}: hop count");
                    assert_eq!(chain["broken"]["after"], server.source(after), "{at}");
                    assert_eq!(chain["broken"]["kind"], kind, "{at}");
                    assert!(
                        !chain["broken"]["reason"].as_str().unwrap().is_empty(),
                        "{at}: a reason"
                    );
                }
            }
            // The claim keeps its capacity at every hop.
            for hop in hops {
                assert_eq!(hop["status"]["name"], expected.status, "{at}: status");
            }
            // The quote sits at the archived document in hand, nowhere else.
            let quote = &hops[0]["quote"];
            let (start, end) = offsets(&text, want.quote);
            assert_eq!(quote["exact"], want.quote, "{at}: quote");
            assert_eq!(quote["start"], start, "{at}: start");
            assert_eq!(quote["end"], end, "{at}: end");
            let before: String = text.chars().take(start as usize).collect();
            let after: String = text.chars().skip(end as usize).collect();
            let prefix = quote["prefix"].as_str().unwrap();
            let suffix = quote["suffix"].as_str().unwrap();
            assert!(before.ends_with(prefix), "{at}: prefix {prefix:?}");
            assert!(after.starts_with(suffix), "{at}: suffix {suffix:?}");
            assert!(!prefix.is_empty() || before.is_empty(), "{at}: prefix");
            assert!(!suffix.is_empty() || after.is_empty(), "{at}: suffix");
            for hop in &hops[1..] {
                assert!(hop["quote"].is_null(), "{at}: quote only where archived");
            }
        }
    }
}

#[tokio::test]
async fn a_filing_allegation_goes_repost_daily_mail_court_letter() {
    let server = seeded().await;
    let text = archived_text();
    let body = server.json("claims/netflix-inbox-api/provenance").await;
    let chain = &body["appearances"][0];
    assert_eq!(chain["hop_count"], 2);
    let hops = chain["hops"].as_array().unwrap();

    let repost = &hops[0]["document"];
    assert_eq!(repost["type_name"], "NewsArticle");
    assert_eq!(
        repost["headline"],
        "Facebook Shared Private DMs With Netflix 'For Nearly A Decade' According To Lawsuit"
    );
    assert_eq!(repost["publishers"][0]["name"], "ZeroHedge");
    assert_eq!(repost["authors"][0]["name"], "Tyler Durden");
    assert_eq!(repost["published"], "2024-04-02");
    assert_eq!(repost["archived"], true);
    let digest = format!("{:x}", Sha256::digest(text.as_bytes()));
    assert_eq!(digest, TEXT_SHA256);
    assert_eq!(repost["text_sha256"], TEXT_SHA256);
    assert_eq!(hops[0]["relation"], "reposted");

    let report = &hops[1]["document"];
    assert_eq!(
        report["name"],
        "Daily Mail report on the unsealed Klein v. Meta filing"
    );
    assert_eq!(report["publishers"][0]["name"], "Daily Mail");
    assert_eq!(report["published"], "2024-04-02");
    assert_eq!(report["archived"], false);
    assert!(report["text_sha256"].is_null());
    assert_eq!(hops[1]["relation"], "quoted");

    let letter = &hops[2]["document"];
    assert_eq!(letter["type_name"], "CourtFiling");
    assert_eq!(
        letter["name"],
        "Plaintiffs' letter filed 14 April 2023 in Klein et al. v. Meta Platforms, Inc."
    );
    assert_eq!(letter["filed"], "2023-04-14");
    assert_eq!(letter["unsealed"], "2024-03-23");
    assert_eq!(
        letter["case"]["name"],
        "Klein et al. v. Meta Platforms, Inc."
    );
    assert_eq!(letter["iri"], body["claim"]["primary_source"]["iri"]);

    let exact = "a so-called ‘Inbox API’ agreement that allowed Netflix programmatic access to \
                 Facebook’s user’s private message inboxes";
    let (start, end) = offsets(&text, exact);
    assert_eq!(hops[0]["quote"]["exact"], exact);
    assert_eq!(
        (
            hops[0]["quote"]["start"].clone(),
            hops[0]["quote"]["end"].clone()
        ),
        (start.into(), end.into())
    );
    assert_eq!(hops[0]["status"]["name"], "Alleged");
    assert_eq!(hops[2]["status"]["name"], "Alleged");

    // The picture shows the same chain: both the `?format=` and the `Accept` way.
    for (path, accept) in [
        ("claims/netflix-inbox-api/provenance?format=svg", None),
        ("claims/netflix-inbox-api/provenance", Some("image/svg+xml")),
    ] {
        let response = server.get(path, accept).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml"));
        let svg = response.text().await.unwrap();
        let picture = Picture::parse(&svg);
        let row = &picture.rows[0];
        assert_eq!(
            row.documents,
            [
                "Facebook Shared Private DMs With Netflix 'For Nearly A Decade' According To Lawsuit",
                "Daily Mail report on the unsealed Klein v. Meta filing",
                "Plaintiffs' letter filed 14 April 2023 in Klein et al. v. Meta Platforms, Inc.",
            ]
        );
        assert_eq!(row.relations, ["reposted", "quoted"]);
        assert!(row.summary.contains("2 hops"), "{}", row.summary);
        assert!(row.quote.contains(exact), "{}", row.quote);
        assert!(
            row.offsets.contains(&format!("{start}–{end}")),
            "{}",
            row.offsets
        );
        assert!(
            row.statuses.iter().all(|s| s == "Alleged"),
            "{:?}",
            row.statuses
        );
        assert!(!row.broken);
        assert_eq!(picture.rows.len(), 2, "one row per appearance");
    }
}

/// What the test reads back from the SVG picture.
struct Picture {
    rows: Vec<Row>,
}

struct Row {
    documents: Vec<String>,
    relations: Vec<String>,
    summary: String,
    quote: String,
    offsets: String,
    statuses: Vec<String>,
    broken: bool,
}

impl Picture {
    fn parse(svg: &str) -> Self {
        let document = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        assert!(
            !root.descendants().any(|n| n.tag_name().name() == "script"),
            "no script"
        );
        let has_class =
            |node: &roxmltree::Node, class: &str| node.attribute("class") == Some(class);
        // Visible text of an element: its text nodes; wrapped lines (tspans) joined by a space.
        fn texts(node: roxmltree::Node) -> String {
            node.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect()
        }
        let text_of = |node: roxmltree::Node| -> String {
            let lines: Vec<String> = node
                .children()
                .filter(|n| n.tag_name().name() == "tspan")
                .map(texts)
                .collect();
            if lines.len() > 1 {
                lines.join(" ")
            } else {
                texts(node)
            }
        };
        let find = |node: roxmltree::Node, class: &str| -> Vec<String> {
            node.descendants()
                .filter(|n| has_class(n, class))
                .map(text_of)
                .collect()
        };
        let rows = root
            .descendants()
            .filter(|n| has_class(n, "appearance"))
            .map(|row| Row {
                documents: row
                    .descendants()
                    .filter(|n| has_class(n, "document"))
                    .map(|d| find(d, "doc-title").concat())
                    .collect(),
                relations: find(row, "relation"),
                summary: find(row, "hop-count").concat(),
                quote: find(row, "quote-text").concat(),
                offsets: find(row, "quote-offsets").concat(),
                statuses: row
                    .descendants()
                    .filter(|n| has_class(n, "doc-status"))
                    .map(|n| text_of(n).trim_start_matches("Status here: ").to_owned())
                    .collect(),
                broken: row.descendants().any(|n| has_class(&n, "broken")),
            })
            .collect();
        Self { rows }
    }
}

#[tokio::test]
async fn a_chain_without_primary_source_is_marked_broken_in_the_picture() {
    let server = seeded().await;
    let svg = server
        .get(
            "claims/leak-by-bad-actor-exploiting-vulnerability/provenance?format=svg",
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    let picture = Picture::parse(&svg);
    let row = &picture.rows[0];
    assert!(row.broken);
    assert_eq!(row.relations, ["reposted"]);
    assert_eq!(row.documents.len(), 2);
    assert!(row.summary.contains("breaks off"), "{}", row.summary);
    assert!(svg.contains("no primary source"));

    // A claim without appearances still draws (and says so).
    let svg = server
        .get(
            "claims/meta-denies-sharing-messages/provenance?format=svg",
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(Picture::parse(&svg).rows.is_empty());
    assert!(svg.contains("No appearance is recorded"));
}

#[tokio::test]
async fn turtle_holds_the_chain_as_a_subgraph_of_the_store() {
    let server = seeded().await;
    let key = "netflix-inbox-api";
    let mut bodies = Vec::new();
    for (path, accept, format, media_type) in [
        (
            format!("claims/{key}/provenance"),
            Some("text/turtle"),
            RdfFormat::Turtle,
            "text/turtle",
        ),
        (
            format!("claims/{key}/provenance?format=turtle"),
            None,
            RdfFormat::Turtle,
            "text/turtle",
        ),
        (
            format!("claims/{key}/provenance"),
            Some("application/n-triples"),
            RdfFormat::NTriples,
            "application/n-triples",
        ),
    ] {
        let response = server.get(&path, accept).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(media_type));
        let body = response.bytes().await.unwrap();
        let triples: BTreeSet<String> = RdfParser::from_format(format)
            .for_slice(&body)
            .map(|q| q.expect("the RDF parses").to_string())
            .collect();
        bodies.push(triples);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0], bodies[2]);
    let triples = &bodies[0];
    let t = |s: String, p: String, o: String| format!("<{s}> <{p}> {o}");
    let claim = server.claim(key);
    let appearance = format!("{claim}#appearance-1");
    for expected in [
        t(
            server.source(ZH),
            format!("{CG}repostOf"),
            format!("<{}>", server.source(DM)),
        ),
        t(
            server.source(ZH),
            format!("{PROV}wasDerivedFrom"),
            format!("<{}>", server.source(DM)),
        ),
        t(
            server.source(DM),
            format!("{PROV}wasQuotedFrom"),
            format!("<{}>", server.source(LETTER)),
        ),
        t(
            claim.clone(),
            format!("{PROV}hadPrimarySource"),
            format!("<{}>", server.source(LETTER)),
        ),
        t(
            claim.clone(),
            format!("{CG}status"),
            format!("<{CG}Alleged>"),
        ),
        t(
            claim.clone(),
            format!("{SCHEMA}appearance"),
            format!("<{appearance}>"),
        ),
        t(
            appearance.clone(),
            format!("{OA}hasSource"),
            format!("<{}>", server.source(ZH)),
        ),
        t(
            appearance.clone(),
            format!("{CG}repostOf"),
            format!("<{}>", server.source(DM)),
        ),
        t(
            format!("{appearance}-position"),
            format!("{OA}start"),
            format!("\"723\"^^<{XSD_INTEGER}>"),
        ),
        t(
            server.entity("zerohedge"),
            format!("{SCHEMA}name"),
            "\"ZeroHedge\"".into(),
        ),
        t(
            server.entity("daily-mail"),
            format!("{SCHEMA}name"),
            "\"Daily Mail\"".into(),
        ),
        t(
            server.entity(PLAINTIFFS),
            format!("{SCHEMA}name"),
            "\"Plaintiffs in Klein et al. v. Meta Platforms\"".into(),
        ),
    ] {
        assert!(
            triples.iter().any(|x| x.starts_with(&expected)),
            "missing {expected}"
        );
    }
    // Every triple is the store's own: a sub-graph, nothing made up.
    let response = server
        .client
        .post(server.url("sparql"))
        .header("Accept", "application/n-triples")
        .form(&[("query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")])
        .send()
        .await
        .unwrap();
    let all: BTreeSet<String> = RdfParser::from_format(RdfFormat::NTriples)
        .for_slice(&response.bytes().await.unwrap())
        .map(|q| q.unwrap().to_string())
        .collect();
    let extra: Vec<&String> = triples.difference(&all).collect();
    assert!(extra.is_empty(), "not in the store: {extra:?}");
    // And no claim content leaks in as if it were a description.
    assert!(!triples
        .iter()
        .any(|x| x.contains(&format!("{CG}hadAccessTo"))));
}

#[tokio::test]
async fn negotiation_and_errors_of_the_claim_route() {
    let server = seeded().await;
    let path = "claims/netflix-inbox-api/provenance";
    // JSON is the default, also for a browser-like wildcard.
    for accept in [None, Some("*/*"), Some("application/json")] {
        let response = server.get(path, accept).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["vary"], "Accept");
    }
    let response = server
        .get(&format!("{path}?format=json"), Some("text/turtle"))
        .await;
    assert_eq!(response.headers()["content-type"], "application/json");

    let response = server.get(path, Some("image/png")).await;
    assert_eq!(response.status(), 406);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("image/svg+xml"));

    let response = server.get(&format!("{path}?format=pdf"), None).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("format=pdf"),
        "{body}"
    );

    let response = server.get(&format!("{path}?colour=red"), None).await;
    assert_eq!(response.status(), 400);

    for missing in [
        "claims/no-such-claim/provenance",
        "claims/netflix/provenance",
    ] {
        let response = server.get(missing, None).await;
        assert_eq!(response.status(), 404, "{missing}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404);
        assert!(
            body["message"].as_str().unwrap().contains("no claim"),
            "{body}"
        );
    }
    let response = server
        .get("claims/no-such-claim/provenance?format=turtle", None)
        .await;
    assert_eq!(response.status(), 404);

    let api: Value = server.json("openapi.json").await;
    assert!(api["paths"]["/claims/{id}/provenance"]["get"].is_object());
    assert!(api["paths"]["/provenance"]["get"].is_object());
}

#[tokio::test]
async fn netflix_lists_every_claim_about_it_with_claimant_and_status() {
    let server = seeded().await;
    let netflix = server.entity("netflix");
    let response = server.lookup(&[("iri", &format!("<{netflix}>"))]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["resource"], format!("<{netflix}>"));

    // What SPARQL says: claims about Netflix or whose assertion graph mentions it.
    let expected = server
        .select(&format!(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <{CG}>
             SELECT DISTINCT ?claim ?claimant ?name ?status ?about ?asserted WHERE {{
               ?claim a schema:Claim ; schema:author ?claimant ; cg:status ?status .
               ?claimant schema:name ?name .
               OPTIONAL {{ ?claim schema:about <{netflix}> . BIND(true AS ?about) }}
               OPTIONAL {{
                 ?claim cg:assertion ?g .
                 FILTER EXISTS {{ GRAPH ?g {{ {{ <{netflix}> ?p1 ?o1 }} UNION {{ ?s2 <{netflix}> ?o2 }}
                                            UNION {{ ?s3 ?p3 <{netflix}> }} }} }}
                 BIND(true AS ?asserted)
               }}
               FILTER(BOUND(?about) || BOUND(?asserted))
             }}"
        ))
        .await;
    let mut want: BTreeMap<String, (String, String, String, Vec<&str>)> = BTreeMap::new();
    for row in expected["results"]["bindings"].as_array().unwrap() {
        let mut matched = Vec::new();
        if row.get("asserted").is_some() {
            matched.push("in_assertion");
        }
        if row.get("about").is_some() {
            matched.push("about");
        }
        want.insert(
            row["claim"]["value"].as_str().unwrap().to_owned(),
            (
                row["claimant"]["value"].as_str().unwrap().to_owned(),
                row["name"]["value"].as_str().unwrap().to_owned(),
                row["status"]["value"].as_str().unwrap().to_owned(),
                matched,
            ),
        );
    }
    let mut got = BTreeMap::new();
    for claim in body["claims"].as_array().unwrap() {
        let matched: Vec<&str> = claim["matched"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        got.insert(
            claim["claim"].as_str().unwrap().to_owned(),
            (
                claim["claimant"]["iri"].as_str().unwrap().to_owned(),
                claim["claimant"]["name"].as_str().unwrap().to_owned(),
                claim["status"]["iri"].as_str().unwrap().to_owned(),
                matched,
            ),
        );
    }
    assert_eq!(got, want);
    // Curated: the eleven allegations and claims naming Netflix, and Meta's denial.
    for key in [
        "netflix-saw-private-messages",
        "netflix-inbox-api",
        "netflix-titan-api",
        "meta-denies-sharing-messages",
        "netflix-paid-over-100-million",
    ] {
        assert!(got.contains_key(&server.claim(key)), "{key}");
    }
    assert!(!got.contains_key(&server.claim("leaked-data-details")));

    // A claim found through its assertion graph carries the graph, the matching triples and its
    // appearances with quotes.
    let inbox = body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["claim"] == server.claim("netflix-inbox-api"))
        .unwrap();
    assert_eq!(
        inbox["assertion_graph"],
        format!("{}graphs/assertions/netflix-inbox-api", server.base)
    );
    assert!(inbox["triples"]
        .as_array()
        .unwrap()
        .contains(&Value::from(format!(
            "<{netflix}> <{CG}hadAccessTo> <{}> .",
            server.entity("facebook-private-messages")
        ))));
    let appearances = inbox["appearances"].as_array().unwrap();
    assert_eq!(appearances.len(), 2);
    assert_eq!(appearances[0]["document"]["iri"], server.source(ZH));
    let (start, end) = offsets(
        &archived_text(),
        appearances[0]["quote"]["exact"].as_str().unwrap(),
    );
    assert_eq!(appearances[0]["quote"]["start"], start);
    assert_eq!(appearances[0]["quote"]["end"], end);
    assert!(body["graphs"]
        .as_array()
        .unwrap()
        .contains(&Value::from(format!(
            "{}graphs/entities/zerohedge-2024-04-02",
            server.base
        ))));

    // The bare IRI means the same.
    let bare: Value = server
        .lookup(&[("iri", &netflix)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bare, body);
}

#[tokio::test]
async fn documents_list_the_claims_in_them_and_resting_on_them() {
    let server = seeded().await;
    let body: Value = server
        .lookup(&[("iri", &server.source(ZH))])
        .await
        .json()
        .await
        .unwrap();
    let appearing: BTreeSet<&str> = body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["matched"]
                .as_array()
                .unwrap()
                .contains(&Value::from("appears_in"))
        })
        .map(|c| c["claim"].as_str().unwrap())
        .collect();
    let want: BTreeSet<String> = EXPECTED
        .iter()
        .filter(|e| e.appearances.iter().any(|a| a.chain[0] == ZH))
        .map(|e| server.claim(e.key))
        .collect();
    assert_eq!(appearing, want.iter().map(String::as_str).collect());
    assert_eq!(appearing.len(), 22);

    let body: Value = server
        .lookup(&[("iri", &server.source(LETTER))])
        .await
        .json()
        .await
        .unwrap();
    let resting: BTreeSet<&str> = body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["matched"] == serde_json::json!(["primary_source"]))
        .map(|c| c["claim"].as_str().unwrap())
        .collect();
    let want: BTreeSet<String> = EXPECTED
        .iter()
        .filter(|e| e.primary == Some(LETTER))
        .map(|e| server.claim(e.key))
        .collect();
    assert_eq!(resting, want.iter().map(String::as_str).collect());
    assert_eq!(resting.len(), 10);
}

#[tokio::test]
async fn a_triple_lookup_finds_the_claims_whose_assertion_graph_holds_it() {
    let server = seeded().await;
    let cases: [(&str, String, String, &[&str]); 3] = [
        (
            "netflix",
            format!("<{CG}hadAccessTo>"),
            format!("<{}>", server.entity("facebook-private-messages")),
            &["netflix-inbox-api", "netflix-saw-private-messages"],
        ),
        (
            "facebook-user-data-leak",
            format!("<{CG}affectedUsersMoreThan>"),
            format!("\"500000000\"^^<{XSD_INTEGER}>"),
            &["ireland-fined-meta-2022"],
        ),
        (
            "klein-v-meta",
            format!("<{SCHEMA}description>"),
            "\"antitrust class action\"@en".to_owned(),
            &["klein-v-meta-plaintiffs"],
        ),
    ];
    for (subject, p, o, claims) in cases {
        let s = format!("<{}>", server.entity(subject));
        let response = server.lookup(&[("s", &s), ("p", &p), ("o", &o)]).await;
        assert_eq!(response.status(), 200, "{s} {p} {o}");
        let body: Value = response.json().await.unwrap();
        let found: Vec<&str> = body["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["claim"].as_str().unwrap())
            .collect();
        let want: Vec<String> = claims.iter().map(|k| server.claim(k)).collect();
        assert_eq!(found, want, "{s} {p} {o}");
        let graphs: Vec<String> = claims
            .iter()
            .map(|k| format!("{}graphs/assertions/{k}", server.base))
            .collect();
        assert_eq!(body["graphs"], serde_json::json!(graphs));
        for claim in body["claims"].as_array().unwrap() {
            assert_eq!(claim["matched"], serde_json::json!(["in_assertion"]));
            assert_eq!(
                claim["triples"],
                serde_json::json!([format!("{s} {p} {o} .")])
            );
            assert!(claim["claimant"]["name"].is_string());
            assert!(claim["status"]["iri"].is_string());
        }
    }
    // A literal that differs in language or datatype is another term.
    let response = server
        .lookup(&[
            ("s", &format!("<{}>", server.entity("klein-v-meta"))),
            ("p", &format!("<{SCHEMA}description>")),
            ("o", "\"antitrust class action\""),
        ])
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["claims"], serde_json::json!([]));
}

#[tokio::test]
async fn malformed_terms_are_refused_naming_the_parameter_and_injections_change_nothing() {
    let server = seeded().await;
    let before = server.quads().await;
    let a = "<http://example.org/a>";
    let bad: &[(&[(&str, &str)], &str)] = &[
        (&[], "nothing to look up"),
        (&[("iri", "")], "iri is empty"),
        (&[("iri", "<x>")], "iri="),
        (&[("iri", "not an iri")], "iri="),
        (&[("iri", "<x> } ; DROP ALL #")], "iri="),
        (&[("iri", "<http://example.org/a> } ; DROP ALL #")], "iri="),
        (&[("iri", "http://example.org/a> } ; DROP ALL #")], "iri="),
        (&[("iri", a), ("s", a)], "not both"),
        (&[("s", a), ("p", a)], "missing: o"),
        (&[("o", "\"x\"")], "missing: s, p"),
        (&[("s", a), ("p", a), ("o", "\"unterminated")], "o="),
        (&[("s", "\"literal\""), ("p", a), ("o", a)], "s="),
        (&[("s", "_:b0"), ("p", a), ("o", a)], "blank node"),
        (&[("s", a), ("p", "\"p\""), ("o", a)], "p="),
        (&[("s", a), ("p", a), ("o", "<x> } ; DROP ALL #")], "o="),
        (&[("s", a), ("p", a), ("o", "\"x\" } ; DROP ALL #")], "o="),
        (&[("iri", a), ("graph", a)], "unknown field"),
    ];
    for (params, needle) in bad {
        let response = server.lookup(params).await;
        assert_eq!(response.status(), 400, "{params:?}");
        let body: Value = response.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{params:?}: {message}");
    }
    // Well-formed terms that look like SPARQL are just terms that nothing mentions.
    let harmless: &[&[(&str, &str)]] = &[
        &[("iri", "<http://example.org/x%7D%20DROP%20ALL>")],
        &[("s", a), ("p", a), ("o", "\"x\\\" } ; DROP ALL #\"")],
        &[
            ("s", a),
            ("p", a),
            ("o", "\"DELETE WHERE { ?s ?p ?o }\"@en"),
        ],
    ];
    for params in harmless {
        let response = server.lookup(params).await;
        assert_eq!(response.status(), 200, "{params:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["claims"], serde_json::json!([]), "{params:?}");
        assert_eq!(body["graphs"], serde_json::json!([]), "{params:?}");
    }
    assert_eq!(server.quads().await, before, "the store is unchanged");
    assert!(before > 800);
}

/// Chains over data written for the purpose: a cycle, a fork where only one way leads to the
/// primary source, a primary source nothing leads to, and a status stated on an appearance.
#[tokio::test]
async fn walks_end_on_cycles_prefer_the_way_to_the_primary_source_and_say_why_they_stop() {
    let server = TestServer::start(Options::default()).await;
    let response = server
        .update(&format!(
            "PREFIX schema: <{SCHEMA}> PREFIX prov: <{PROV}> PREFIX oa: <{OA}> PREFIX cg: <{CG}>
             INSERT DATA {{ GRAPH <graphs/provenance-test> {{
               <claims/loop> a schema:Claim ; cg:status cg:Reported ;
                 prov:hadPrimarySource <sources/t-p> ; schema:appearance <claims/loop#appearance-1> .
               <claims/loop#appearance-1> oa:hasSource <sources/t-a> ; cg:status cg:Quoted .
               <sources/t-a> cg:repostOf <sources/t-b> .
               <sources/t-b> cg:repostOf <sources/t-a> ; prov:wasDerivedFrom <sources/t-c> .

               <claims/fork> a schema:Claim ; cg:status cg:Alleged ;
                 prov:hadPrimarySource <sources/t-p> ; schema:appearance <claims/fork#appearance-1> .
               <claims/fork#appearance-1> oa:hasSource <sources/t-a2> .
               <sources/t-a2> prov:wasDerivedFrom <sources/t-0> , <sources/t-y> ;
                 prov:wasQuotedFrom <sources/t-z> .
               <sources/t-y> prov:wasDerivedFrom <sources/t-p> .
               <sources/t-z> prov:wasDerivedFrom <sources/t-p> .
               <sources/t-p> schema:name \"The primary source\" .

               <claims/stranded> a schema:Claim ; cg:status cg:Stated ;
                 prov:hadPrimarySource <sources/t-p> ;
                 schema:appearance <claims/stranded#appearance-1> .
               <claims/stranded#appearance-1> oa:hasSource <sources/t-q> .
             }} }}"
        ))
        .await;
    assert_eq!(response.status(), 204);

    let chain_of = |body: &Value| {
        let chain = body["appearances"][0].clone();
        let documents: Vec<String> = chain["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                h["document"]["iri"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(&format!("{}sources/", server.base))
                    .to_owned()
            })
            .collect();
        let relations: Vec<Value> = chain["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["relation"].clone())
            .collect();
        (chain, documents, relations)
    };

    // A repost loop: followed once round, then the chain stops and says it is a cycle.
    let body = server.json("claims/loop/provenance").await;
    let (chain, documents, relations) = chain_of(&body);
    assert_eq!(documents, ["t-a", "t-b"]);
    assert_eq!(relations, [Value::from("reposted"), Value::Null]);
    assert!(chain["hop_count"].is_null());
    assert_eq!(chain["broken"]["kind"], "cycle");
    assert_eq!(chain["broken"]["after"], server.source("t-b"));
    // The appearance's own status wins at the document in hand; the claim's holds upstream.
    assert_eq!(chain["hops"][0]["status"]["name"], "Quoted");
    assert_eq!(chain["hops"][1]["status"]["name"], "Reported");

    // A fork: t-0 comes first in IRI order but leads nowhere (and is not a repost), so it is not
    // this claim's way; of the two ways to the primary source, IRI order picks t-y.
    let body = server.json("claims/fork/provenance").await;
    let (chain, documents, relations) = chain_of(&body);
    assert_eq!(documents, ["t-a2", "t-y", "t-p"]);
    assert_eq!(
        relations,
        [Value::from("derived"), Value::from("derived"), Value::Null]
    );
    assert_eq!(chain["hop_count"], 2);
    assert!(chain["broken"].is_null());
    assert_eq!(chain["hops"][2]["document"]["name"], "The primary source");

    // Nothing leads from the document in hand to the primary source.
    let body = server.json("claims/stranded/provenance").await;
    let (chain, documents, _) = chain_of(&body);
    assert_eq!(documents, ["t-q"]);
    assert_eq!(chain["broken"]["kind"], "unreachable");
    assert_eq!(chain["broken"]["after"], server.source("t-q"));
    assert!(chain["broken"]["reason"]
        .as_str()
        .unwrap()
        .contains(&server.source("t-p")));

    // The picture draws all three without trouble.
    for key in ["loop", "fork", "stranded"] {
        let svg = server
            .get(&format!("claims/{key}/provenance?format=svg"), None)
            .await
            .text()
            .await
            .unwrap();
        let picture = Picture::parse(&svg);
        assert_eq!(picture.rows.len(), 1, "{key}");
        assert_eq!(picture.rows[0].broken, key != "fork", "{key}");
    }
}
