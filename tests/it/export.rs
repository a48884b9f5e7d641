//! Exports over real HTTP on a real RocksDB store holding the seed corpus: dumps that load back
//! into a fresh store unchanged, the ClaimReview feed, nanopublications, the VoID description,
//! the CLI giving the same bytes' meaning as the server, and a client that goes away stopping
//! its export.

use crate::common::{claimgraph, repo, Options, ServeProcess, TestServer};
use claimgraph::canonical::canonical_nquads;
use claimgraph::ClaimStore;
use oxigraph::io::{JsonLdProfileSet, RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::{GraphName, NamedNode, Quad, Term};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SCHEMA: &str = "http://schema.org/";
const NP: &str = "http://www.nanopub.org/nschema#";
const VOID: &str = "http://rdfs.org/ns/void#";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

async fn seeded() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

/// A GET with optional headers: status, headers, body bytes.
async fn fetch(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn get(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    fetch(&server.url(path), headers).await
}

/// The body of a 200 answer, with its Content-Type.
async fn fetch_ok(url: &str, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
    let (status, response_headers, body) = fetch(url, headers).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    let content_type = response_headers["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, body)
}

async fn get_ok(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
    fetch_ok(&server.url(path), headers).await
}

/// A `claimgraph serve` process on the seed data: the tests that must open its store afterwards
/// (RocksDB admits one process) stop it first.
struct Served {
    process: ServeProcess,
    /// `http://127.0.0.1:PORT/`; the base IRI is the default one.
    url: String,
    store: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let mut command = claimgraph();
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--reload-interval", "0"])
            .arg("--store")
            .arg(&store)
            .arg("--data")
            .arg(repo().join("data"))
            .arg("--ontology")
            .arg(repo().join("ontology"));
        let process = ServeProcess::spawn(command);
        let url = process.url.clone();
        Self {
            process,
            url,
            store,
            _dir: dir,
        }
    }

    async fn get_ok(&self, path: &str, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
        fetch_ok(&format!("{}{path}", self.url), headers).await
    }

    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        fetch(&format!("{}{path}", self.url), headers).await
    }

    /// Stops the server (SIGTERM: a graceful shutdown that closes the store).
    fn stop(mut self) -> (PathBuf, tempfile::TempDir) {
        self.process.terminate();
        (self.store, self._dir)
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a complete gzip stream");
    out
}

/// The parser every test reads exports with: a JSON-LD document that names the schema.org
/// context gets the product's local copy of it (`entities::schema_context_only`, which the
/// ClaimReview importer reads feeds with: this machine cannot fetch https://schema.org); any
/// other remote context is refused.
fn parser(format: RdfFormat, bytes: &[u8]) -> Vec<Quad> {
    RdfParser::from_format(format)
        .for_reader(bytes)
        .with_document_loader(claimgraph::entities::schema_context_only)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("the {format} export does not parse: {e}"))
}

fn to_nquads(quads: &[Quad]) -> String {
    let mut serializer = RdfSerializer::from_format(RdfFormat::NQuads).for_writer(Vec::new());
    for quad in quads {
        serializer.serialize_quad(quad).unwrap();
    }
    String::from_utf8(serializer.finish().unwrap()).unwrap()
}

/// RDFC-1.0 canonical N-Quads of an export in `format`.
fn canonical(format: RdfFormat, bytes: &[u8]) -> String {
    canonical_nquads(&to_nquads(&parser(format, bytes))).unwrap()
}

/// The same quads with every graph name dropped: the union of all graphs as triples.
fn as_triples(quads: &[Quad]) -> Vec<Quad> {
    quads
        .iter()
        .map(|q| {
            Quad::new(
                q.subject.clone(),
                q.predicate.clone(),
                q.object.clone(),
                GraphName::DefaultGraph,
            )
        })
        .collect()
}

fn jsonld() -> RdfFormat {
    RdfFormat::JsonLd {
        profile: JsonLdProfileSet::empty(),
    }
}

fn store_quads(store: &ClaimStore) -> Vec<Quad> {
    store.quads(None).map(Result::unwrap).collect()
}

fn iri(value: &str) -> Term {
    NamedNode::new(value).unwrap().into()
}

/// The values of `var` in SELECT JSON results.
fn values(results: &serde_json::Value, var: &str) -> Vec<String> {
    results["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b[var]["value"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dump_loads_back_into_a_fresh_store_unchanged() {
    let server = Served::start();
    let (content_type, nquads) = server.get_ok("export", &[]).await;
    assert_eq!(content_type, "application/n-quads", "N-Quads by default");
    let (_, headers, _) = server.get("export?format=trig", &[]).await;
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"claimgraph.trig\""
    );
    let (content_type, trig) = server.get_ok("export?format=trig", &[]).await;
    assert_eq!(content_type, "application/trig");
    let (content_type, json) = server.get_ok("export?format=jsonld", &[]).await;
    assert_eq!(content_type, "application/ld+json");
    let (content_type, turtle) = server.get_ok("export?format=turtle", &[]).await;
    assert!(content_type.starts_with("text/turtle"), "{content_type}");
    // Negotiated by Accept when no format is named.
    let (content_type, negotiated) = server
        .get_ok("export", &[("Accept", "application/trig")])
        .await;
    assert_eq!(content_type, "application/trig");

    // Compressed on request, and when the client offers gzip.
    let (_, headers, gzipped) = server.get("export?format=nquads&compress=gzip", &[]).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"claimgraph.nq.gz\""
    );
    let (_, headers, offered) = server
        .get(
            "export?format=trig",
            &[("Accept-Encoding", "br;q=1, gzip;q=0.5")],
        )
        .await;
    assert_eq!(headers["content-encoding"], "gzip");
    let (_, headers, _) = server
        .get("export", &[("Accept-Encoding", "gzip;q=0")])
        .await;
    assert!(
        headers.get("content-encoding").is_none(),
        "gzip;q=0 refuses gzip"
    );

    let (store_dir, _dir) = server.stop();
    let original = ClaimStore::open(&store_dir, claimgraph::DEFAULT_BASE).unwrap();
    let original_quads = store_quads(&original);
    assert!(original_quads.len() > 1000, "the seed corpus is loaded");
    let expected = canonical_nquads(&to_nquads(&original_quads)).unwrap();

    // N-Quads into a fresh RocksDB store, then that store's contents.
    let dir = tempfile::tempdir().unwrap();
    let fresh = ClaimStore::open(&dir.path().join("fresh"), claimgraph::DEFAULT_BASE).unwrap();
    fresh
        .write(|transaction| {
            transaction
                .load_from_slice(RdfParser::from_format(RdfFormat::NQuads), &nquads)
                .map_err(|e| claimgraph::Error::Invalid(e.to_string()))
        })
        .unwrap();
    assert_eq!(
        canonical_nquads(&to_nquads(&store_quads(&fresh))).unwrap(),
        expected,
        "the N-Quads export loaded into a fresh store is the original dataset"
    );
    assert_eq!(canonical(RdfFormat::TriG, &trig), expected, "TriG");
    assert_eq!(canonical(jsonld(), &json), expected, "JSON-LD");
    assert_eq!(canonical(RdfFormat::TriG, &negotiated), expected);
    assert_eq!(canonical(RdfFormat::NQuads, &gunzip(&gzipped)), expected);
    assert_eq!(canonical(RdfFormat::TriG, &gunzip(&offered)), expected);
    // Turtle has no graphs: it is the union of all graphs as triples.
    assert_eq!(
        canonical(RdfFormat::Turtle, &turtle),
        canonical_nquads(&to_nquads(&as_triples(&original_quads))).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_formats_and_compressions_are_refused_naming_the_valid_ones() {
    let server = seeded().await;
    for (path, accept, status, names) in [
        (
            "export?format=rdfxml",
            None,
            400,
            "nquads, trig, turtle, jsonld",
        ),
        (
            "export?format=nquads&format=trig",
            None,
            400,
            "more than once",
        ),
        ("export?compress=zip", None, 400, "compress=gzip"),
        ("export", Some("image/png"), 406, "application/n-quads"),
        ("export/nanopubs?format=turtle", None, 400, "trig, nquads"),
        (".well-known/void", Some("text/csv"), 406, "text/turtle"),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let (got, _, body) = get(&server, path, &headers).await;
        assert_eq!(got, status, "{path}");
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(names), "{path}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_claimreview_feed_has_one_complete_claimreview_per_review() {
    let server = seeded().await;
    // A second review, of a claim quoted twice in the same article, written over SPARQL.
    let base = &server.base;
    let response = server
        .update(&format!(
            "PREFIX schema: <http://schema.org/>
             INSERT DATA {{ GRAPH <{base}graphs/reviews/extra> {{
               <{base}reviews/extra> a schema:ClaimReview ;
                 schema:itemReviewed <{base}claims/netflix-saw-private-messages> ;
                 schema:author <{base}entities/claimgraph-editors> ;
                 schema:datePublished \"2026-11-30\"^^<http://www.w3.org/2001/XMLSchema#date> ;
                 schema:reviewRating <{base}reviews/extra#rating> .
               <{base}reviews/extra#rating> a schema:Rating ; schema:ratingValue 3 ;
                 schema:bestRating 5 ; schema:worstRating 1 ; schema:alternateName \"Unproven\" .
             }} }}"
        ))
        .await;
    assert_eq!(response.status(), 204);

    let (content_type, body) = get_ok(&server, "export/claimreview", &[]).await;
    assert_eq!(content_type, "application/ld+json");
    let (_, openapi) = get_ok(&server, "openapi.json", &[]).await;
    let openapi: serde_json::Value = serde_json::from_slice(&openapi).unwrap();
    assert!(
        openapi["paths"]["/export/claimreview"]["get"].is_object(),
        "the feed is described in /openapi.json"
    );
    let feed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(feed["@context"], "https://schema.org");
    let reviews = server
        .select(
            "SELECT DISTINCT ?review ?text ?label ?value WHERE {
               ?review a <http://schema.org/ClaimReview> ;
                       <http://schema.org/itemReviewed>/<http://schema.org/text> ?text ;
                       <http://schema.org/reviewRating> ?r .
               ?r <http://schema.org/alternateName> ?label ; <http://schema.org/ratingValue> ?value .
             } ORDER BY ?review",
        )
        .await;
    let iris = values(&reviews, "review");
    assert_eq!(iris.len(), 2);
    let elements = feed["@graph"].as_array().unwrap();
    assert_eq!(elements.len(), iris.len(), "one element per review");
    for (i, element) in elements.iter().enumerate() {
        assert_eq!(element["@type"], "ClaimReview");
        assert_eq!(element["url"], iris[i].as_str());
        assert_eq!(
            element["claimReviewed"],
            values(&reviews, "text")[i].as_str()
        );
        assert!(element["datePublished"].is_string(), "{element}");
        assert_eq!(element["author"]["@type"], "Organization");
        assert_eq!(element["author"]["name"], "claimgraph editors");
        let rating = &element["reviewRating"];
        assert_eq!(rating["@type"], "Rating");
        assert_eq!(
            rating["alternateName"],
            values(&reviews, "label")[i].as_str()
        );
        assert_eq!(
            rating["ratingValue"].to_string(),
            values(&reviews, "value")[i]
        );
        assert_eq!(rating["bestRating"], 5);
        assert_eq!(rating["worstRating"], 1);
        let claim = &element["itemReviewed"];
        assert_eq!(claim["@type"], "Claim");
        assert!(claim["author"]["name"].is_string(), "{claim}");
        assert!(
            ["Person", "Organization"].contains(&claim["author"]["@type"].as_str().unwrap()),
            "{claim}"
        );
        assert_eq!(claim["datePublished"], "2024-04-02");
        google_fields(element);
        // Both claims appear only in the ZeroHedge repost (one of them twice): one document.
        let appearances = claim["appearance"].as_array().unwrap();
        assert_eq!(appearances.len(), 1, "{claim}");
        for work in appearances.iter().chain([&claim["firstAppearance"]]) {
            assert_eq!(work["@type"], "NewsArticle");
            // Where the claim appeared for a reader: the page's address, our IRI as `@id`.
            assert_eq!(
                work["url"],
                "https://www.zerohedge.com/technology/facebook-shared-private-dms-netflix-nearly-decade-according-lawsuit"
            );
            assert_eq!(
                work["@id"],
                format!("{base}sources/zerohedge-2024-04-02-facebook-netflix-dms")
            );
            assert!(work["headline"]
                .as_str()
                .unwrap()
                .starts_with("Facebook Shared"));
            assert_eq!(work["datePublished"], "2024-04-02");
            assert_eq!(work["author"]["name"], "Tyler Durden");
            assert_eq!(work["publisher"]["name"], "ZeroHedge");
        }
    }

    // As JSON-LD: exactly the store's reviews are ClaimReviews, each with its properties.
    let quads = parser(jsonld(), &body);
    let has = |s: &Term, p: &str| {
        quads.iter().any(|q| {
            Term::from(q.subject.clone()) == *s && q.predicate.as_str() == format!("{SCHEMA}{p}")
        })
    };
    let typed: BTreeSet<String> = quads
        .iter()
        .filter(|q| {
            q.predicate.as_str() == RDF_TYPE && q.object == iri(&format!("{SCHEMA}ClaimReview"))
        })
        .map(|q| q.subject.to_string())
        .collect();
    let expected: BTreeSet<String> = iris.iter().map(|i| format!("<{i}>")).collect();
    assert_eq!(typed, expected);
    for review in &iris {
        let review = iri(review);
        for property in [
            "url",
            "claimReviewed",
            "datePublished",
            "author",
            "reviewRating",
            "itemReviewed",
        ] {
            assert!(has(&review, property), "{review} has no schema:{property}");
        }
    }
}

/// The fields Google's fact-check structured data documentation lists for a ClaimReview:
/// required `claimReviewed`, `reviewRating` (with its required `alternateName`) and `url` (an
/// absolute http(s) address); recommended `author` (with `name`), `itemReviewed` (a `Claim` with
/// `author`, `datePublished`, `appearance` and `firstAppearance`, each appearance with a `url`),
/// and the rating's `ratingValue`, `bestRating` and `worstRating`.
pub fn google_fields(element: &serde_json::Value) {
    let url = element["url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with("https://") || url.starts_with("http://"),
        "required url: {element}"
    );
    assert!(
        element["claimReviewed"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "required claimReviewed: {element}"
    );
    let rating = &element["reviewRating"];
    assert_eq!(
        rating["@type"], "Rating",
        "required reviewRating: {element}"
    );
    assert!(
        rating["alternateName"].is_string(),
        "required alternateName: {element}"
    );
    for field in ["ratingValue", "bestRating", "worstRating"] {
        assert!(rating[field].is_number(), "recommended {field}: {element}");
    }
    assert!(
        element["author"]["name"].is_string(),
        "recommended author: {element}"
    );
    let claim = &element["itemReviewed"];
    assert_eq!(
        claim["@type"], "Claim",
        "recommended itemReviewed: {element}"
    );
    assert!(claim["author"]["name"].is_string(), "{claim}");
    assert!(claim["datePublished"].is_string(), "{claim}");
    let appearances = claim["appearance"].as_array().expect("appearance");
    assert!(!appearances.is_empty(), "{claim}");
    for work in appearances.iter().chain([&claim["firstAppearance"]]) {
        assert!(
            work["url"].as_str().is_some_and(|u| u.starts_with("http")),
            "an appearance's url: {claim}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_nanopublication_per_claim_with_its_assertion_graph() {
    let server = seeded().await;
    let (content_type, trig) = get_ok(&server, "export/nanopubs", &[]).await;
    assert_eq!(content_type, "application/trig");
    let quads = parser(RdfFormat::TriG, &trig);
    let claims = server
        .select(
            "SELECT ?claim ?assertion ?claimant ?hash WHERE {
               ?claim a <http://schema.org/Claim> ;
                      <https://w3id.org/claimgraph/ns#assertion> ?assertion ;
                      <https://w3id.org/claimgraph/ns#assertionHash> ?hash ;
                      <http://schema.org/author> ?claimant .
             }",
        )
        .await;
    let claim_iris = values(&claims, "claim");
    assert_eq!(claim_iris.len(), 23);
    let nanopubs: Vec<&Quad> = quads
        .iter()
        .filter(|q| {
            q.predicate.as_str() == RDF_TYPE && q.object == iri(&format!("{NP}Nanopublication"))
        })
        .collect();
    assert_eq!(
        nanopubs.len(),
        claim_iris.len(),
        "one nanopublication per claim"
    );

    let mut graphs_in_export: BTreeSet<String> = BTreeSet::new();
    for quad in &quads {
        graphs_in_export.insert(quad.graph_name.to_string());
    }
    assert_eq!(graphs_in_export.len(), 4 * claim_iris.len());

    let in_graph = |graph: &Term| -> Vec<&Quad> {
        quads
            .iter()
            .filter(|q| {
                Term::from(match &q.graph_name {
                    GraphName::NamedNode(n) => n.clone(),
                    _ => return false,
                }) == *graph
            })
            .collect()
    };
    let object = |graph: &[&Quad], s: &Term, p: &str| -> Vec<Term> {
        graph
            .iter()
            .filter(|q| Term::from(q.subject.clone()) == *s && q.predicate.as_str() == p)
            .map(|q| q.object.clone())
            .collect()
    };
    for (i, claim) in claim_iris.iter().enumerate() {
        let key = claim
            .strip_prefix(&format!("{}claims/", server.base))
            .unwrap();
        let np = iri(&format!("{}nanopubs/{key}", server.base));
        let head = in_graph(&iri(&format!("{}nanopubs/{key}#head", server.base)));
        assert_eq!(
            head.len(),
            4,
            "{key}: the head has the type and three links"
        );
        assert_eq!(
            object(&head, &np, RDF_TYPE),
            vec![iri(&format!("{NP}Nanopublication"))]
        );
        let assertion = iri(&values(&claims, "assertion")[i]);
        assert_eq!(
            object(&head, &np, &format!("{NP}hasAssertion")),
            vec![assertion.clone()]
        );
        let provenance = object(&head, &np, &format!("{NP}hasProvenance"));
        let pubinfo = object(&head, &np, &format!("{NP}hasPublicationInfo"));
        assert_eq!((provenance.len(), pubinfo.len()), (1, 1));

        // The assertion is exactly the claim's assertion graph in the store.
        let stored = server
            .client
            .post(server.url("sparql"))
            .header("Accept", "application/n-triples")
            .form(&[(
                "query",
                format!(
                    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{}> {{ ?s ?p ?o }} }}",
                    values(&claims, "assertion")[i]
                ),
            )])
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let exported: Vec<Quad> = as_triples(
            &in_graph(&assertion)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert!(!exported.is_empty(), "{key}: an empty assertion");
        assert_eq!(
            canonical_nquads(&to_nquads(&exported)).unwrap(),
            canonical(RdfFormat::NTriples, &stored),
            "{key}: the assertion graph"
        );

        let provenance = in_graph(&provenance[0]);
        assert_eq!(
            object(
                &provenance,
                &assertion,
                "http://www.w3.org/ns/prov#wasAttributedTo"
            ),
            vec![iri(&values(&claims, "claimant")[i])],
            "{key}: attributed to its claimant"
        );
        let pubinfo = in_graph(&pubinfo[0]);
        assert_eq!(
            object(&pubinfo, &np, "http://purl.org/dc/terms/created").len(),
            1
        );
        let hash = object(
            &pubinfo,
            &iri(claim),
            "https://w3id.org/claimgraph/ns#assertionHash",
        );
        assert_eq!(hash.len(), 1);
        assert_eq!(
            hash[0].to_string(),
            format!("\"{}\"", values(&claims, "hash")[i])
        );
    }

    // N-Quads holds the same nanopublications (each export has its own creation time).
    let (content_type, nquads) = get_ok(&server, "export/nanopubs?format=nquads", &[]).await;
    assert_eq!(content_type, "application/n-quads");
    assert_eq!(
        without_created(&canonical(RdfFormat::NQuads, &nquads)),
        without_created(&canonical(RdfFormat::TriG, &trig))
    );
}

/// A claim's own downloads are its part of the whole exports: its nanopublication (all four
/// graphs) and the ClaimReviews of its reviews.
#[tokio::test(flavor = "multi_thread")]
async fn a_claims_downloads_are_its_part_of_the_exports() {
    let server = seeded().await;
    let (_, whole) = get_ok(&server, "export/nanopubs?format=nquads", &[]).await;
    let whole: BTreeSet<String> = without_created(&canonical(RdfFormat::NQuads, &whole))
        .lines()
        .map(str::to_owned)
        .collect();
    let key = "netflix-inbox-api";
    let (content_type, one) = get_ok(&server, &format!("claims/{key}/nanopub"), &[]).await;
    assert!(
        content_type.starts_with("application/trig"),
        "{content_type}"
    );
    let quads = parser(RdfFormat::TriG, &one);
    let graphs: BTreeSet<String> = quads.iter().map(|q| q.graph_name.to_string()).collect();
    let np = format!("{}nanopubs/{key}", server.base);
    for part in ["head", "provenance", "pubinfo"] {
        assert!(graphs.contains(&format!("<{np}#{part}>")), "{graphs:?}");
    }
    assert!(graphs.contains(&format!("<{}graphs/assertions/{key}>", server.base)));
    for line in without_created(&canonical(RdfFormat::TriG, &one)).lines() {
        assert!(whole.contains(line), "not in the whole export: {line}");
    }
    let (status, _, _) = get(&server, "claims/no-such-claim/nanopub", &[]).await;
    assert_eq!(status, 404);

    let (_, feed) = get_ok(&server, "export/claimreview", &[]).await;
    let feed: serde_json::Value = serde_json::from_slice(&feed).unwrap();
    let reviewed = feed["@graph"][0]["itemReviewed"]["@id"].as_str().unwrap();
    let reviewed_key = reviewed.rsplit('/').next().unwrap();
    let (content_type, own) =
        get_ok(&server, &format!("claims/{reviewed_key}/claimreview"), &[]).await;
    assert!(
        content_type.starts_with("application/ld+json"),
        "{content_type}"
    );
    let own: serde_json::Value = serde_json::from_slice(&own).unwrap();
    let own = own["@graph"].as_array().unwrap();
    assert!(!own.is_empty());
    for review in own {
        assert!(
            feed["@graph"].as_array().unwrap().contains(review),
            "{review}"
        );
    }
}

/// Canonical N-Quads without the `dct:created` lines (the time of each export).
fn without_created(canonical: &str) -> String {
    canonical
        .lines()
        .filter(|l| !l.contains("<http://purl.org/dc/terms/created>"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn void_counts_are_the_stores_counts() {
    let server = seeded().await;
    let (content_type, turtle) = get_ok(&server, ".well-known/void", &[]).await;
    assert!(content_type.starts_with("text/turtle"), "{content_type}");
    let quads = parser(RdfFormat::Turtle, &turtle);
    let dataset = iri(&server.base);
    let objects = |s: &Term, p: &str| -> Vec<Term> {
        quads
            .iter()
            .filter(|q| Term::from(q.subject.clone()) == *s && q.predicate.as_str() == p)
            .map(|q| q.object.clone())
            .collect()
    };
    let number = |terms: Vec<Term>| -> u64 {
        assert_eq!(terms.len(), 1, "{terms:?}");
        match &terms[0] {
            Term::Literal(l) => l.value().parse().unwrap(),
            other => panic!("not a number: {other}"),
        }
    };
    assert!(objects(&dataset, RDF_TYPE).contains(&iri(&format!("{VOID}Dataset"))));
    assert!(objects(&dataset, RDF_TYPE).contains(&iri(&format!("{DCAT}Dataset"))));
    assert_eq!(
        objects(&dataset, &format!("{VOID}sparqlEndpoint")),
        vec![iri(&server.url("sparql"))]
    );
    assert_eq!(
        number(objects(&dataset, &format!("{VOID}triples"))),
        server.count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").await
    );

    // Class partitions: claims, reviews and each kind of source.
    let mut partitions = BTreeMap::new();
    for partition in objects(&dataset, &format!("{VOID}classPartition")) {
        let class = objects(&partition, &format!("{VOID}class"));
        let entities = number(objects(&partition, &format!("{VOID}entities")));
        partitions.insert(class[0].to_string(), entities);
    }
    for class in [
        "http://schema.org/Claim",
        "http://schema.org/ClaimReview",
        "http://schema.org/NewsArticle",
        "https://w3id.org/claimgraph/ns#CourtFiling",
        "https://w3id.org/claimgraph/ns#Statement",
    ] {
        let counted = server
            .count(&format!(
                "SELECT (COUNT(DISTINCT ?x) AS ?n) {{ ?x a <{class}> }}"
            ))
            .await;
        assert!(counted > 0, "{class}");
        assert_eq!(
            partitions.get(&format!("<{class}>")),
            Some(&counted),
            "{class}"
        );
    }
    assert_eq!(partitions["<http://schema.org/Claim>"], 23);

    // One subset per named graph, with its size.
    let graphs = server
        .select("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        .await;
    let mut expected = BTreeMap::new();
    for (g, n) in values(&graphs, "g").into_iter().zip(values(&graphs, "n")) {
        expected.insert(format!("<{g}>"), n.parse::<u64>().unwrap());
    }
    let mut described = BTreeMap::new();
    for subset in objects(&dataset, &format!("{VOID}subset")) {
        let name = objects(
            &subset,
            "http://www.w3.org/ns/sparql-service-description#name",
        );
        described.insert(
            name[0].to_string(),
            number(objects(&subset, &format!("{VOID}triples"))),
        );
    }
    assert_eq!(described, expected);

    // A distribution per export, each downloadable with its media type.
    let distributions = objects(&dataset, &format!("{DCAT}distribution"));
    assert_eq!(distributions.len(), 11);
    for distribution in &distributions {
        let url = objects(distribution, &format!("{DCAT}downloadURL"));
        let media_type = objects(distribution, &format!("{DCAT}mediaType"));
        assert_eq!((url.len(), media_type.len()), (1, 1), "{distribution}");
        let Term::NamedNode(url) = &url[0] else {
            panic!()
        };
        let path = url.as_str().strip_prefix(&server.base).unwrap();
        let (status, headers, _) = get(&server, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        let Term::NamedNode(media_type) = &media_type[0] else {
            panic!()
        };
        assert!(
            media_type.as_str().ends_with(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
            ),
            "{path}: {media_type}"
        );
    }
    assert!(objects(&dataset, &format!("{VOID}dataDump"))
        .contains(&iri(&server.url("export?format=nquads"))));

    // Other RDF syntaxes by negotiation.
    let (content_type, json) = get_ok(
        &server,
        ".well-known/void",
        &[("Accept", "application/ld+json")],
    )
    .await;
    assert_eq!(content_type, "application/ld+json");
    assert_eq!(parser(jsonld(), &json).len(), quads.len());
}

fn claimgraph_export(store: &Path, base: &str, args: &[&str]) -> Vec<u8> {
    let output = claimgraph()
        .args(["export", "--store"])
        .arg(store)
        .args(["--base", base])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "claimgraph export {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_exports_what_the_server_exports() {
    let server = Served::start();
    let mut served = Vec::new();
    for path in [
        "export?format=nquads",
        "export?format=trig",
        "export?format=turtle",
        "export?format=jsonld",
        "export/claimreview",
        "export/nanopubs?format=trig",
        "export/nanopubs?format=nquads",
        ".well-known/void",
    ] {
        served.push(server.get_ok(path, &[]).await.1);
    }
    let (store, _dir) = server.stop();
    let cli = |args: &[&str]| claimgraph_export(&store, claimgraph::DEFAULT_BASE, args);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.nq.gz");
    cli(&["--format", "nquads", "--gzip", "-o", file.to_str().unwrap()]);
    let from_file = gunzip(&std::fs::read(&file).unwrap());
    assert_eq!(
        canonical(RdfFormat::NQuads, &from_file),
        canonical(RdfFormat::NQuads, &served[0])
    );
    for (i, (format, syntax)) in [
        ("nquads", RdfFormat::NQuads),
        ("trig", RdfFormat::TriG),
        ("turtle", RdfFormat::Turtle),
        ("jsonld", jsonld()),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(
            canonical(syntax, &cli(&["--format", format])),
            canonical(syntax, &served[i]),
            "{format}"
        );
    }
    let feed: serde_json::Value =
        serde_json::from_slice(&cli(&["--format", "claimreview"])).unwrap();
    assert_eq!(
        feed,
        serde_json::from_slice::<serde_json::Value>(&served[4]).unwrap()
    );
    assert_eq!(
        without_created(&canonical(RdfFormat::TriG, &cli(&["--format", "nanopubs"]))),
        without_created(&canonical(RdfFormat::TriG, &served[5]))
    );
    assert_eq!(
        without_created(&canonical(
            RdfFormat::NQuads,
            &cli(&["--format", "nanopubs", "--rdf-format", "nquads"])
        )),
        without_created(&canonical(RdfFormat::NQuads, &served[6]))
    );
    assert_eq!(
        canonical(RdfFormat::Turtle, &cli(&["--format", "void"])),
        canonical(RdfFormat::Turtle, &served[7])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_goes_away_stops_its_export() {
    let server = TestServer::start(Options::default()).await;
    let nodes: String = (0..500)
        .map(|i| format!("<http://example.org/n{i}> <http://example.org/i> {i} .\n"))
        .collect();
    let response = server
        .update(&format!(
            "INSERT DATA {{ GRAPH <http://example.org/nodes> {{ {nodes} }} }}"
        ))
        .await;
    assert_eq!(response.status(), 204);
    // 250,000 quads, about 20 MB of N-Quads: far more than the buffers between us and the store.
    let response = server
        .update(
            "INSERT { GRAPH <http://example.org/big> { ?a <http://example.org/p> ?b } }
             WHERE { ?a <http://example.org/i> ?x . ?b <http://example.org/i> ?y }",
        )
        .await;
    assert_eq!(response.status(), 204);

    let mut response = server
        .client
        .get(server.url("export"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.unwrap().is_some());
    assert_eq!(server.running_queries().await, 1, "the export is streaming");
    drop(response);
    let started = Instant::now();
    while server.running_queries().await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the export kept running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
