//! The W3C SPARQL 1.1 Protocol and Service Description test manifests, replayed over HTTP against
//! a real server. The harness reads the manifests; nothing is copied by hand. A test the harness
//! does not know fails, so a new manifest entry cannot pass silently.

use crate::common::{repo, Options, TestServer, TOKEN};
use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::vocab::rdf;
use oxigraph::model::{Graph, NamedNode, NamedNodeRef, Term, TermRef, Triple};
use oxigraph::sparql::results::{
    QueryResultsFormat, QueryResultsParser, SliceQueryResultsParserOutput,
};
use std::path::Path;

const MF: &str = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const HT: &str = "http://www.w3.org/2011/http#";
const CNT: &str = "http://www.w3.org/2011/content#";
const UT: &str = "http://www.w3.org/2009/sparql/tests/test-update#";
const HTS: &str = "http://www.w3.org/2011/http-statusCodes#";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const SD: &str = "http://www.w3.org/ns/sparql-service-description#";

fn iri(namespace: &str, local: &str) -> NamedNode {
    NamedNode::new(format!("{namespace}{local}")).unwrap()
}

/// A manifest, with relative IRIs resolved to `file:` IRIs of the files beside it.
struct Manifest {
    graph: Graph,
    dir: &'static Path,
}

impl Manifest {
    fn load(dir: &str) -> Self {
        let dir: &'static Path = Box::leak(repo().join("tests/w3c").join(dir).into_boxed_path());
        let path = dir.join("manifest.ttl");
        let base = format!("file://{}", path.display());
        let parser = RdfParser::from_format(RdfFormat::Turtle)
            .with_base_iri(&base)
            .unwrap();
        let graph = parser
            .for_reader(std::fs::File::open(&path).unwrap())
            .map(|q| Triple::from(q.unwrap()))
            .collect();
        Self { graph, dir }
    }

    fn objects(&self, subject: &Term, predicate: &NamedNode) -> Vec<Term> {
        let subject = match subject {
            Term::NamedNode(n) => oxigraph::model::NamedOrBlankNodeRef::NamedNode(n.as_ref()),
            Term::BlankNode(b) => oxigraph::model::NamedOrBlankNodeRef::BlankNode(b.as_ref()),
            _ => return Vec::new(),
        };
        self.graph
            .objects_for_subject_predicate(subject, predicate)
            .map(|t| t.into_owned())
            .collect()
    }

    fn one(&self, subject: &Term, predicate: &NamedNode) -> Option<Term> {
        self.objects(subject, predicate).into_iter().next()
    }

    fn string(&self, subject: &Term, predicate: &NamedNode) -> Option<String> {
        match self.one(subject, predicate)? {
            Term::Literal(l) => Some(l.value().to_owned()),
            _ => None,
        }
    }

    /// The members of an RDF list.
    fn list(&self, mut head: Term) -> Vec<Term> {
        let mut items = Vec::new();
        while head != Term::from(rdf::NIL.into_owned()) {
            items.push(
                self.one(&head, &rdf::FIRST.into_owned())
                    .expect("rdf:first"),
            );
            head = self.one(&head, &rdf::REST.into_owned()).expect("rdf:rest");
        }
        items
    }

    fn entries(&self) -> Vec<Term> {
        let manifest = self
            .graph
            .subjects_for_predicate_object(
                rdf::TYPE,
                NamedNodeRef::new(&format!("{MF}Manifest")).unwrap(),
            )
            .next()
            .expect("a mf:Manifest")
            .into_owned();
        let manifest = Term::from(manifest);
        let head = self
            .one(&manifest, &iri(MF, "entries"))
            .expect("mf:entries");
        self.list(head)
    }

    fn name(&self, test: &Term) -> String {
        self.string(test, &iri(MF, "name"))
            .unwrap_or_else(|| test.to_string())
    }
}

/// Resets the server to the test's `ut:graphData`: each file loaded into the graph its label names.
async fn reset(server: &TestServer, manifest: &Manifest, test: &Term) {
    let mut update = String::from("DROP SILENT ALL ;\n");
    for data in manifest.objects(test, &iri(UT, "graphData")) {
        let Some(Term::NamedNode(file)) = manifest.one(&data, &iri(UT, "graph")) else {
            panic!("ut:graph");
        };
        let label = manifest
            .string(&data, &NamedNode::new(RDFS_LABEL).unwrap())
            .unwrap();
        let path = file.as_str().strip_prefix("file://").unwrap();
        let triples = std::fs::read_to_string(path).unwrap();
        update.push_str(&format!(
            "INSERT DATA {{ GRAPH <{label}> {{\n{triples}\n}} }} ;\n"
        ));
    }
    update.push_str("INSERT DATA {}");
    let response = server.update(&update).await;
    assert!(
        response.status().is_success(),
        "reset failed: {}",
        response.text().await.unwrap()
    );
}

/// Sends one `ht:Request` and checks the response against its `ht:resp`; returns a complaint.
async fn run_request(
    server: &TestServer,
    manifest: &Manifest,
    request: &Term,
) -> Result<(), String> {
    let method = manifest.string(request, &iri(HT, "methodName")).unwrap();
    let path = manifest.string(request, &iri(HT, "absolutePath")).unwrap();
    let path = path
        .strip_prefix("/sparql/")
        .map_or(path.clone(), |rest| format!("sparql{rest}"));
    let mut builder = server
        .client
        .request(method.parse().unwrap(), server.url(&path))
        .bearer_auth(TOKEN);
    if let Some(headers) = manifest.one(request, &iri(HT, "headers")) {
        for header in manifest.list(headers) {
            let name = manifest.string(&header, &iri(HT, "fieldName")).unwrap();
            let value = manifest.string(&header, &iri(HT, "fieldValue")).unwrap();
            builder = builder.header(name, value);
        }
    }
    if let Some(body) = manifest.one(request, &iri(HT, "body")) {
        builder = builder.body(manifest.string(&body, &iri(CNT, "chars")).unwrap());
    }
    let response = builder.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let expected = manifest.one(request, &iri(HT, "resp")).expect("ht:resp");

    let classes: Vec<String> = manifest
        .objects(&expected, &iri(MF, "expectedStatus"))
        .iter()
        .map(|t| match t {
            Term::NamedNode(n) => n.as_str().strip_prefix(HTS).unwrap().to_owned(),
            other => panic!("unexpected status {other}"),
        })
        .collect();
    let class = format!("StatusCode{}xx", status / 100);
    if !classes.contains(&class) {
        return Err(format!(
            "{method} {path}: status {status}, expected one of {classes:?}; body: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let media_type = claimgraph::formats::essence(&content_type);
    match manifest
        .string(&expected, &iri(MF, "expectedFormat"))
        .as_deref()
    {
        None => {}
        Some("boolean") => {
            let value = parse_results(&media_type, &body, &["json", "xml"])?;
            let Some(actual) = value else {
                return Err("expected a boolean result, got solutions".into());
            };
            if let Some(Term::Literal(expected)) =
                manifest.one(&expected, &iri(MF, "expectedBoolean"))
            {
                let expected = expected.value() == "true";
                if actual != expected {
                    return Err(format!(
                        "{method} {path}: ASK answered {actual}, expected {expected}"
                    ));
                }
            }
        }
        Some("tabular") => {
            let boolean = parse_results(&media_type, &body, &["json", "xml", "csv", "tsv"])?;
            if boolean.is_some() {
                return Err("expected solutions, got a boolean".into());
            }
        }
        Some("RDF") => {
            let syntax = claimgraph::formats::RdfSyntax::by_media_type(&media_type)
                .filter(|s| ["rdfxml", "turtle", "ntriples"].contains(&s.name))
                .ok_or_else(|| {
                    format!("expected RDF/XML, Turtle or N-Triples, got {content_type}")
                })?;
            for quad in RdfParser::from_format(syntax.format).for_slice(&body) {
                quad.map_err(|e| format!("the RDF does not parse: {e}"))?;
            }
        }
        Some(other) => return Err(format!("unknown mf:expectedFormat {other}")),
    }
    Ok(())
}

/// Parses a results document whose media type must be one of `allowed` (by format name);
/// returns the boolean for ASK results, `None` for solutions.
fn parse_results(media_type: &str, body: &[u8], allowed: &[&str]) -> Result<Option<bool>, String> {
    let syntax = claimgraph::formats::RESULTS_SYNTAXES
        .iter()
        .find(|s| s.media_types.contains(&media_type) && allowed.contains(&s.name))
        .ok_or_else(|| {
            format!("unexpected results media type {media_type}, allowed {allowed:?}")
        })?;
    let format: QueryResultsFormat = syntax.format;
    match QueryResultsParser::from_format(format)
        .for_slice(body)
        .map_err(|e| format!("results do not parse: {e}"))?
    {
        SliceQueryResultsParserOutput::Boolean(value) => Ok(Some(value)),
        SliceQueryResultsParserOutput::Solutions(solutions) => {
            for solution in solutions {
                solution.map_err(|e| format!("results do not parse: {e}"))?;
            }
            Ok(None)
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sparql11_protocol_manifest() {
    let manifest = Manifest::load("protocol");
    let server = TestServer::start(Options::default()).await;
    let mut failures = Vec::new();
    let entries = manifest.entries();
    assert!(
        entries.len() >= 30,
        "the manifest lists {} tests",
        entries.len()
    );
    for test in &entries {
        let kind = manifest.one(test, &rdf::TYPE.into_owned());
        assert_eq!(
            kind,
            Some(iri(MF, "ProtocolTest").into()),
            "unknown test kind for {test}"
        );
        reset(&server, &manifest, test).await;
        let action = manifest.one(test, &iri(MF, "action")).expect("mf:action");
        let requests = manifest.list(manifest.one(&action, &iri(HT, "requests")).unwrap());
        for request in &requests {
            if let Err(problem) = run_request(&server, &manifest, request).await {
                failures.push(format!("{}: {problem}", manifest.name(test)));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
    let _ = manifest.dir;
}

/// The vocabulary of SPARQL 1.1 Service Description §3 (classes, properties and instances).
const SD_TERMS: &[&str] = &[
    "Service",
    "Language",
    "Function",
    "Aggregate",
    "EntailmentRegime",
    "EntailmentProfile",
    "GraphCollection",
    "Dataset",
    "Graph",
    "NamedGraph",
    "Feature",
    "endpoint",
    "feature",
    "defaultEntailmentRegime",
    "defaultSupportedEntailmentProfile",
    "supportedEntailmentProfile",
    "extensionFunction",
    "extensionAggregate",
    "languageExtension",
    "supportedLanguage",
    "propertyFeature",
    "defaultDataset",
    "availableGraphs",
    "resultFormat",
    "inputFormat",
    "defaultGraph",
    "namedGraph",
    "name",
    "graph",
    "entailmentRegime",
    "SPARQL10Query",
    "SPARQL11Query",
    "SPARQL11Update",
    "DereferencesURIs",
    "UnionDefaultGraph",
    "RequiresDataset",
    "EmptyGraphs",
    "BasicFederatedQuery",
];

async fn fetch_description(server: &TestServer, accept: &str) -> Result<Graph, String> {
    let response = server
        .client
        .get(server.url("sparql"))
        .header("Accept", accept)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Err(format!("Accept {accept}: status {}", response.status()));
    }
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let syntax = claimgraph::formats::RdfSyntax::by_media_type(&content_type)
        .ok_or_else(|| format!("Accept {accept}: not RDF: {content_type}"))?;
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    RdfParser::from_format(syntax.format)
        .for_slice(&body)
        .map(|q| {
            q.map(Triple::from)
                .map_err(|e| format!("Accept {accept}: {e}"))
        })
        .collect()
}

fn sd(local: &str) -> NamedNode {
    iri(SD, local)
}

fn check_description(test: &str, graph: &Graph, endpoint: &str) -> Result<(), String> {
    match test {
        "returns-rdf" => {
            if graph.is_empty() {
                return Err("empty description".into());
            }
        }
        "has-endpoint-triple" => {
            let endpoint = NamedNode::new(endpoint).unwrap();
            if graph
                .subjects_for_predicate_object(&sd("endpoint"), &endpoint)
                .next()
                .is_none()
            {
                return Err(format!("no sd:endpoint <{}>", endpoint.as_str()));
            }
        }
        "conforms-to-schema" => {
            for triple in graph {
                for term in [
                    Some(triple.predicate.as_str()),
                    match triple.object {
                        TermRef::NamedNode(n) => Some(n.as_str()),
                        _ => None,
                    },
                ]
                .into_iter()
                .flatten()
                {
                    if let Some(local) = term.strip_prefix(SD) {
                        if !SD_TERMS.contains(&local) {
                            return Err(format!("sd:{local} is not in the vocabulary"));
                        }
                    }
                }
            }
            let typed = |node: oxigraph::model::TermRef<'_>, class: &str| match node {
                TermRef::NamedNode(n) => {
                    graph.contains(oxigraph::model::TripleRef::new(n, rdf::TYPE, &sd(class)))
                }
                TermRef::BlankNode(b) => {
                    graph.contains(oxigraph::model::TripleRef::new(b, rdf::TYPE, &sd(class)))
                }
                _ => false,
            };
            // Domains and ranges of SD §3.
            for (property, domain, range) in [
                ("endpoint", "Service", None),
                (
                    "supportedLanguage",
                    "Service",
                    Some(["SPARQL10Query", "SPARQL11Query", "SPARQL11Update"].as_slice()),
                ),
                (
                    "feature",
                    "Service",
                    Some(
                        [
                            "DereferencesURIs",
                            "UnionDefaultGraph",
                            "RequiresDataset",
                            "EmptyGraphs",
                            "BasicFederatedQuery",
                        ]
                        .as_slice(),
                    ),
                ),
                ("resultFormat", "Service", None),
                ("defaultDataset", "Service", None),
                ("defaultGraph", "Dataset", None),
            ] {
                for triple in graph.triples_for_predicate(&sd(property)) {
                    if !typed(triple.subject.into(), domain) {
                        return Err(format!("subject of sd:{property} is not an sd:{domain}"));
                    }
                    if let Some(allowed) = range {
                        let ok = matches!(triple.object, TermRef::NamedNode(n)
                            if allowed.iter().any(|a| n.as_str() == format!("{SD}{a}")));
                        if !ok {
                            return Err(format!(
                                "sd:{property} {} is not one of {allowed:?}",
                                triple.object
                            ));
                        }
                    }
                }
            }
            for triple in graph.triples_for_predicate(&sd("defaultDataset")) {
                if !typed(triple.object, "Dataset") {
                    return Err("the sd:defaultDataset is not an sd:Dataset".into());
                }
            }
            for triple in graph.triples_for_predicate(&sd("defaultGraph")) {
                if !typed(triple.object, "Graph") {
                    return Err("the sd:defaultGraph is not an sd:Graph".into());
                }
            }
            if graph
                .subjects_for_predicate_object(rdf::TYPE, &sd("Service"))
                .count()
                != 1
            {
                return Err("expected exactly one sd:Service".into());
            }
        }
        other => return Err(format!("unknown service description test {other}")),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sparql11_service_description_manifest() {
    let manifest = Manifest::load("service-description");
    let server = TestServer::start(Options::default()).await;
    let endpoint = server.url("sparql");
    let mut failures = Vec::new();
    let entries = manifest.entries();
    assert_eq!(entries.len(), 3);
    // Every RDF format the endpoint offers, and a client that accepts anything.
    let accepts: Vec<&str> = claimgraph::formats::RDF_SYNTAXES
        .iter()
        .map(|s| s.media_type())
        .chain(["*/*"])
        .collect();
    for test in &entries {
        let Term::NamedNode(id) = test else {
            panic!("test IRI")
        };
        let local = id.as_str().rsplit('#').next().unwrap();
        for accept in &accepts {
            let outcome = match fetch_description(&server, accept).await {
                Ok(graph) => check_description(local, &graph, &endpoint),
                Err(e) => Err(e),
            };
            if let Err(problem) = outcome {
                failures.push(format!("{} ({accept}): {problem}", manifest.name(test)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
