//! The SPARQL 1.1 Graph Store HTTP Protocol at `/store`, over real HTTP on a real store: the W3C
//! manifests (`tests/w3c/graph-store-protocol/`) replayed by reading them, then focused tests of
//! authorisation, bad bodies, big bodies, multipart, media types, HEAD, 404 and negotiation.
//!
//! The harness knows every construct the manifests use and fails a test on any other (an unknown
//! predicate, status, feature or header kind), so a changed manifest cannot pass by being skipped.

use crate::common::{Options, TestServer, TOKEN};
use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::vocab::rdf;
use oxigraph::model::{Graph, NamedNode, NamedOrBlankNodeRef, Term, Triple};
use std::path::{Path, PathBuf};

const MF: &str = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const HT: &str = "http://www.w3.org/2011/http#";
const CNT: &str = "http://www.w3.org/2011/content#";
const HTS: &str = "http://www.w3.org/2011/http-statusCodes#";
const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// The features of `mf:requires` (manifest.ttl's comment), all of which `/store` implements.
const FEATURES: &[&str] = &[
    "DirectGraphIdentification",
    "IndirectGraphIdentification",
    "POSTGraphCreation",
];

/// The path prefix the manifests use for the endpoint (manifest.ttl: replace it with ours).
const MANIFEST_PREFIX: &str = "/gsp";

fn iri(namespace: &str, local: &str) -> String {
    format!("{namespace}{local}")
}

/// One manifest file, relative IRIs resolved against its `file:` IRI.
struct Manifest {
    graph: Graph,
    path: PathBuf,
}

impl Manifest {
    fn load(path: &Path) -> Self {
        let base = format!("file://{}", path.display());
        let graph = RdfParser::from_format(RdfFormat::Turtle)
            .with_base_iri(&base)
            .unwrap()
            .for_reader(std::fs::File::open(path).unwrap())
            .map(|q| Triple::from(q.unwrap()))
            .collect();
        Self {
            graph,
            path: path.to_owned(),
        }
    }

    fn subject(node: &Term) -> Result<NamedOrBlankNodeRef<'_>, String> {
        match node {
            Term::NamedNode(n) => Ok(n.as_ref().into()),
            Term::BlankNode(b) => Ok(b.as_ref().into()),
            other => Err(format!("{other} cannot have properties")),
        }
    }

    fn objects(&self, node: &Term, predicate: &str) -> Result<Vec<Term>, String> {
        let predicate = NamedNode::new(predicate).unwrap();
        Ok(self
            .graph
            .objects_for_subject_predicate(Self::subject(node)?, &predicate)
            .map(|t| t.into_owned())
            .collect())
    }

    fn optional(&self, node: &Term, predicate: &str) -> Result<Option<Term>, String> {
        let mut objects = self.objects(node, predicate)?;
        match objects.len() {
            0 | 1 => Ok(objects.pop()),
            n => Err(format!(
                "{node} has {n} values of <{predicate}>, expected one"
            )),
        }
    }

    fn one(&self, node: &Term, predicate: &str) -> Result<Term, String> {
        self.optional(node, predicate)?
            .ok_or_else(|| format!("{node} has no <{predicate}>"))
    }

    fn literal(&self, node: &Term, predicate: &str) -> Result<String, String> {
        match self.one(node, predicate)? {
            Term::Literal(l) => Ok(l.value().to_owned()),
            other => Err(format!("<{predicate}> of {node} is {other}, not a literal")),
        }
    }

    fn list(&self, mut head: Term) -> Result<Vec<Term>, String> {
        let mut items = Vec::new();
        while head != Term::from(rdf::NIL.into_owned()) {
            self.only(&head, &[rdf::FIRST.as_str(), rdf::REST.as_str()])?;
            items.push(self.one(&head, rdf::FIRST.as_str())?);
            head = self.one(&head, rdf::REST.as_str())?;
        }
        Ok(items)
    }

    /// Fails on any property of `node` the harness does not know: an unknown construct must
    /// fail the test, never be ignored.
    fn only(&self, node: &Term, known: &[&str]) -> Result<(), String> {
        for triple in self.graph.triples_for_subject(Self::subject(node)?) {
            let predicate = triple.predicate.as_str();
            if !known.contains(&predicate) {
                return Err(format!("unknown construct: {node} has <{predicate}>"));
            }
        }
        Ok(())
    }

    /// `node` has exactly the `rdf:type` `class`, or none (the manifests type most nodes).
    fn typed(&self, node: &Term, class: &str) -> Result<(), String> {
        for kind in self.objects(node, RDF_TYPE)? {
            if kind != Term::from(NamedNode::new(class).unwrap()) {
                return Err(format!("{node} is a {kind}, expected <{class}>"));
            }
        }
        Ok(())
    }

    fn manifest_node(&self) -> Term {
        let class = NamedNode::new(iri(MF, "Manifest")).unwrap();
        self.graph
            .subjects_for_predicate_object(rdf::TYPE, &class)
            .next()
            .unwrap_or_else(|| panic!("{} has no mf:Manifest", self.path.display()))
            .into_owned()
            .into()
    }

    /// The tests of this manifest: those in `mf:entries`, then any other `mf:GraphStoreProtocolTest`
    /// the file defines (manifest-direct.ttl defines head_non_existing_direct without listing it;
    /// it is run too).
    fn tests(&self) -> Result<Vec<Term>, String> {
        let manifest = self.manifest_node();
        self.only(
            &manifest,
            &[
                RDF_TYPE,
                &iri(RDFS, "label"),
                &iri(RDFS, "comment"),
                &iri(MF, "include"),
                &iri(MF, "entries"),
            ],
        )?;
        let mut tests = match self.optional(&manifest, &iri(MF, "entries"))? {
            Some(head) => self.list(head)?,
            None => Vec::new(),
        };
        let class = NamedNode::new(iri(MF, "GraphStoreProtocolTest")).unwrap();
        for test in self.graph.subjects_for_predicate_object(rdf::TYPE, &class) {
            let test = Term::from(test.into_owned());
            if !tests.contains(&test) {
                tests.push(test);
            }
        }
        Ok(tests)
    }

    fn included(&self) -> Result<Vec<Manifest>, String> {
        let manifest = self.manifest_node();
        let Some(head) = self.optional(&manifest, &iri(MF, "include"))? else {
            return Ok(Vec::new());
        };
        self.list(head)?
            .into_iter()
            .map(|file| match file {
                Term::NamedNode(n) => Ok(Manifest::load(Path::new(
                    n.as_str().strip_prefix("file://").unwrap(),
                ))),
                other => Err(format!("mf:include {other} is not a file")),
            })
            .collect()
    }

    fn name(&self, test: &Term) -> String {
        self.literal(test, &iri(MF, "name"))
            .unwrap_or_else(|_| test.to_string())
    }
}

/// The status (or class of statuses, `StatusCode2xx`) an `hts:` term names.
fn status_matches(term: &Term, status: u16) -> Result<bool, String> {
    let Term::NamedNode(node) = term else {
        return Err(format!("expected status {term} is not an IRI"));
    };
    let local = node
        .as_str()
        .strip_prefix(HTS)
        .ok_or_else(|| format!("expected status {node} is not an hts: term"))?;
    if let Some(class) = local
        .strip_prefix("StatusCode")
        .and_then(|c| c.strip_suffix("xx"))
    {
        let class: u16 = class
            .parse()
            .map_err(|_| format!("unknown status class {local}"))?;
        return Ok(status / 100 == class);
    }
    let code = match local {
        "OK" => 200,
        "Created" => 201,
        "Accepted" => 202,
        "NoContent" => 204,
        "BadRequest" => 400,
        "Unauthorized" => 401,
        "Forbidden" => 403,
        "NotFound" => 404,
        "MethodNotAllowed" => 405,
        "NotAcceptable" => 406,
        "Conflict" => 409,
        "RequestEntityTooLarge" => 413,
        "UnsupportedMediaType" => 415,
        other => return Err(format!("unknown expected status hts:{other}")),
    };
    Ok(status == code)
}

/// A media type as essence plus sorted parameters, for comparing `Content-Type` values.
fn media_type(value: &str) -> (String, Vec<String>) {
    let mut params: Vec<String> = value
        .split(';')
        .skip(1)
        .map(|p| p.trim().to_ascii_lowercase().replace('"', ""))
        .filter(|p| !p.is_empty())
        .collect();
    params.sort();
    (claimgraph::formats::essence(value), params)
}

/// RDFC-1.0 canonical N-Quads of an RDF document (one graph), for comparison by isomorphism.
fn canonical(body: &[u8], content_type: &str, base: Option<&str>) -> Result<String, String> {
    let syntax = claimgraph::formats::RdfSyntax::by_media_type(content_type)
        .ok_or_else(|| format!("{content_type} is not an RDF media type"))?;
    let mut parser = RdfParser::from_format(syntax.format);
    if let Some(base) = base {
        parser = parser.with_base_iri(base).map_err(|e| e.to_string())?;
    }
    let mut serializer = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(Vec::new());
    for quad in parser.for_slice(body) {
        let quad = quad.map_err(|e| format!("the {content_type} does not parse: {e}"))?;
        if !quad.graph_name.is_default_graph() {
            return Err(format!(
                "a graph was expected, got a quad in {}",
                quad.graph_name
            ));
        }
        serializer
            .serialize_triple(&Triple::from(quad))
            .map_err(|e| e.to_string())?;
    }
    let ntriples = String::from_utf8(serializer.finish().unwrap()).unwrap();
    claimgraph::canonical::canonical_nquads(&ntriples).map_err(|e| e.to_string())
}

/// Replaces the template variables set by earlier `mf:expectedLocation`s.
fn substitute(text: &str, variables: &[(String, String)]) -> String {
    variables
        .iter()
        .fold(text.to_owned(), |text, (name, value)| {
            text.replace(name, value)
        })
}

/// The text of a `cnt:ContentAsText` body.
fn body_text(manifest: &Manifest, body: &Term) -> Result<String, String> {
    manifest.only(
        body,
        &[RDF_TYPE, &iri(CNT, "characterEncoding"), &iri(CNT, "chars")],
    )?;
    manifest.typed(body, &iri(CNT, "ContentAsText"))?;
    if let Some(Term::Literal(encoding)) =
        manifest.optional(body, &iri(CNT, "characterEncoding"))?
    {
        if !encoding.value().eq_ignore_ascii_case("UTF-8") {
            return Err(format!("unknown body encoding {}", encoding.value()));
        }
    }
    manifest.literal(body, &iri(CNT, "chars"))
}

/// The `(name, value)` pairs of an `ht:headers` list of `class` headers.
fn headers(manifest: &Manifest, list: Term, class: &str) -> Result<Vec<(String, String)>, String> {
    manifest
        .list(list)?
        .iter()
        .map(|header| {
            manifest.only(
                header,
                &[RDF_TYPE, &iri(HT, "fieldName"), &iri(HT, "fieldValue")],
            )?;
            manifest.typed(header, &iri(HT, class))?;
            Ok((
                manifest.literal(header, &iri(HT, "fieldName"))?,
                manifest.literal(header, &iri(HT, "fieldValue"))?,
            ))
        })
        .collect()
}

/// Sends one `ht:Request` and checks the response against its `ht:resp`.
async fn run_request(
    server: &TestServer,
    manifest: &Manifest,
    request: &Term,
    variables: &mut Vec<(String, String)>,
) -> Result<(), String> {
    manifest.only(
        request,
        &[
            RDF_TYPE,
            &iri(HT, "methodName"),
            &iri(HT, "httpVersion"),
            &iri(HT, "absolutePath"),
            &iri(HT, "headers"),
            &iri(HT, "body"),
            &iri(HT, "resp"),
        ],
    )?;
    manifest.typed(request, &iri(HT, "Request"))?;
    let version = manifest.literal(request, &iri(HT, "httpVersion"))?;
    if version != "1.1" {
        return Err(format!("unknown HTTP version {version}"));
    }
    let method = manifest.literal(request, &iri(HT, "methodName"))?;
    let path = substitute(
        &manifest.literal(request, &iri(HT, "absolutePath"))?,
        variables,
    );
    let rest = path
        .strip_prefix(MANIFEST_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        .ok_or_else(|| format!("{path} does not start with {MANIFEST_PREFIX}"))?;
    let url = server.url(&format!("store{rest}"));
    let method_value = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = server.client.request(method_value, &url);
    if !matches!(method.as_str(), "GET" | "HEAD") {
        builder = builder.bearer_auth(TOKEN);
    }
    if let Some(list) = manifest.optional(request, &iri(HT, "headers"))? {
        for (name, value) in headers(manifest, list, "RequestHeader")? {
            builder = builder.header(name, substitute(&value, variables));
        }
    }
    if let Some(body) = manifest.optional(request, &iri(HT, "body"))? {
        builder = builder.body(substitute(&body_text(manifest, &body)?, variables));
    }
    let response = builder.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let got_headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let context = |problem: String| {
        format!(
            "{method} {url}: {problem} (status {status}, body {:?})",
            String::from_utf8_lossy(&body)
        )
    };

    let expected = manifest.one(request, &iri(HT, "resp"))?;
    manifest.only(
        &expected,
        &[
            RDF_TYPE,
            &iri(MF, "expectedStatus"),
            &iri(MF, "expectedLocation"),
            &iri(HT, "headers"),
            &iri(HT, "body"),
        ],
    )?;
    manifest.typed(&expected, &iri(HT, "Response"))?;
    let statuses = manifest.objects(&expected, &iri(MF, "expectedStatus"))?;
    if statuses.is_empty() {
        return Err("a response without mf:expectedStatus".into());
    }
    let mut matched = false;
    for term in &statuses {
        matched |= status_matches(term, status)?;
    }
    if !matched {
        return Err(context(format!("expected one of {statuses:?}")));
    }
    if method == "HEAD" && !body.is_empty() {
        return Err(context("a HEAD response has a body".into()));
    }
    if let Some(template) = manifest.optional(&expected, &iri(MF, "expectedLocation"))? {
        let Term::Literal(template) = template else {
            return Err("mf:expectedLocation is not a literal".into());
        };
        let location = got_headers
            .get("location")
            .ok_or_else(|| context("no Location header".into()))?
            .to_str()
            .map_err(|e| e.to_string())?;
        variables.push((template.value().to_owned(), location.to_owned()));
    }
    let mut expected_type = None;
    if let Some(list) = manifest.optional(&expected, &iri(HT, "headers"))? {
        for (name, value) in headers(manifest, list, "ResponseHeader")? {
            let got = got_headers
                .get(name.as_str())
                .map(|v| v.to_str().unwrap_or("").to_owned())
                .ok_or_else(|| context(format!("no {name} header")))?;
            let same = if name.eq_ignore_ascii_case("content-type") {
                expected_type = Some(value.clone());
                media_type(&got) == media_type(&value)
            } else {
                got == value
            };
            if !same {
                return Err(context(format!("{name} is {got}, expected {value}")));
            }
        }
    }
    if let Some(expected_body) = manifest.optional(&expected, &iri(HT, "body"))? {
        let text = body_text(manifest, &expected_body)?;
        let expected_type = expected_type
            .ok_or_else(|| "an expected body without an expected content-type".to_owned())?;
        let got_type = got_headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let want = canonical(text.as_bytes(), &expected_type, None)?;
        let got = canonical(&body, got_type, None).map_err(context)?;
        if want != got {
            return Err(context(format!(
                "the graph differs:\n expected {want}\n got {got}"
            )));
        }
    }
    Ok(())
}

/// Runs one test's requests in order (one `ht:Connection`).
async fn run_test(server: &TestServer, manifest: &Manifest, test: &Term) -> Result<(), String> {
    manifest.only(
        test,
        &[
            RDF_TYPE,
            &iri(MF, "name"),
            &iri(MF, "requires"),
            &iri(MF, "action"),
            &iri(RDFS, "comment"),
        ],
    )?;
    manifest.typed(test, &iri(MF, "GraphStoreProtocolTest"))?;
    for feature in manifest.objects(test, &iri(MF, "requires"))? {
        let known = matches!(&feature, Term::NamedNode(n)
            if n.as_str().strip_prefix(MF).is_some_and(|f| FEATURES.contains(&f)));
        if !known {
            return Err(format!("unknown required feature {feature}"));
        }
    }
    let action = manifest.one(test, &iri(MF, "action"))?;
    manifest.only(
        &action,
        &[
            RDF_TYPE,
            &iri(HT, "connectionAuthority"),
            &iri(HT, "requests"),
        ],
    )?;
    manifest.typed(&action, &iri(HT, "Connection"))?;
    // The connection goes to the test server, not to the manifest's authority (`www.example`),
    // just as the path prefix `/gsp` becomes `/store`; graph IRIs in `?graph=` stay as written.
    manifest.literal(&action, &iri(HT, "connectionAuthority"))?;
    let requests = manifest.list(manifest.one(&action, &iri(HT, "requests"))?)?;
    if requests.is_empty() {
        return Err("a test without requests".into());
    }
    let mut variables = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        run_request(server, manifest, request, &mut variables)
            .await
            .map_err(|problem| format!("request {}: {problem}", index + 1))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn w3c_graph_store_protocol_manifests() {
    let top =
        Manifest::load(&crate::common::repo().join("tests/w3c/graph-store-protocol/manifest.ttl"));
    let mut manifests = top.included().unwrap();
    manifests.insert(0, top);
    let server = TestServer::start(Options::default()).await;
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for manifest in &manifests {
        for test in manifest.tests().unwrap() {
            // Each test starts from an empty store (tests reuse graph names and expect 201).
            let reset = server.update("DROP SILENT ALL").await;
            assert!(reset.status().is_success(), "reset failed");
            let name = manifest.name(&test);
            if let Err(problem) = run_test(&server, manifest, &test).await {
                failures.push(format!("{name}: {problem}"));
            }
            ran.push(name);
        }
    }
    // 13 listed in mf:entries (4 direct, 9 indirect) and head_non_existing_direct, defined in
    // manifest-direct.ttl but not listed.
    assert_eq!(ran.len(), 14, "tests found: {ran:#?}");
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        ran.len(),
        failures.join("\n")
    );
}

// --- Focused tests ---

const TURTLE: &str = "text/turtle";
const PERSON: &str = "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n\
                      <http://example.org/alice> a foaf:Person ; foaf:name \"Alice\" ;\n\
                      foaf:knows [ foaf:name \"Bob\" ] .\n";

fn graph_url(server: &TestServer, graph: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(graph.as_bytes()).collect();
    server.url(&format!("store?graph={encoded}"))
}

async fn send(
    server: &TestServer,
    method: reqwest::Method,
    url: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut builder = server.client.request(method, url).body(body);
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    builder.send().await.unwrap()
}

async fn put(server: &TestServer, url: &str, content_type: &str, body: &str) -> reqwest::Response {
    send(
        server,
        reqwest::Method::PUT,
        url,
        Some(content_type),
        body.to_owned(),
        Some(TOKEN),
    )
    .await
}

/// Status and message of an error response (the JSON error shape).
async fn error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    (status, body["message"].as_str().unwrap().to_owned())
}

/// A graph's content, canonicalised, fetched through `/store` as `accept`.
async fn fetch(server: &TestServer, url: &str, accept: &str) -> (String, String) {
    let response = server
        .client
        .get(url)
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {url} as {accept}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.bytes().await.unwrap();
    let canonical = canonical(&body, &content_type, None).unwrap();
    (content_type, canonical)
}

/// Triples in the whole store (the SPARQL default graph is the union of all graphs).
async fn store_size(server: &TestServer) -> u64 {
    server.count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").await
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_need_the_token_and_refusals_change_nothing() {
    let server = TestServer::start(Options::default()).await;
    let url = graph_url(&server, "http://example.org/people");
    assert_eq!(put(&server, &url, TURTLE, PERSON).await.status(), 201);
    let before = fetch(&server, &url, TURTLE).await.1;
    let other = "<http://example.org/x> <http://example.org/p> \"changed\" .";
    for token in [None, Some("wrong-token")] {
        for method in [
            reqwest::Method::PUT,
            reqwest::Method::POST,
            reqwest::Method::DELETE,
        ] {
            let response = send(
                &server,
                method.clone(),
                &url,
                Some(TURTLE),
                other.to_owned(),
                token,
            )
            .await;
            assert!(response.headers().contains_key("www-authenticate"));
            let (status, message) = error(response).await;
            assert_eq!(status, 401, "{method} with token {token:?}: {message}");
            assert!(message.contains("token"), "{message}");
        }
    }
    // Creating a graph by POST to the store needs it too.
    let response = send(
        &server,
        reqwest::Method::POST,
        &server.url("store"),
        Some(TURTLE),
        other.to_owned(),
        None,
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(fetch(&server, &url, TURTLE).await.1, before);
    assert_eq!(store_size(&server).await, 4);

    let read_only = TestServer::start(Options {
        read_only: true,
        ..Options::default()
    })
    .await;
    let url = graph_url(&read_only, "http://example.org/people");
    let (status, message) = error(put(&read_only, &url, TURTLE, PERSON).await).await;
    assert_eq!(status, 403, "{message}");
    assert!(message.contains("read-only"), "{message}");
    assert_eq!(store_size(&read_only).await, 0);
    // Reading needs no token and works on a read-only server.
    let response = read_only
        .client
        .get(read_only.url("store?default"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_body_is_a_400_with_its_position_and_changes_nothing() {
    let server = TestServer::start(Options::default()).await;
    let url = graph_url(&server, "http://example.org/people");
    assert_eq!(put(&server, &url, TURTLE, PERSON).await.status(), 201);
    let before = fetch(&server, &url, TURTLE).await.1;
    let bad = "@prefix ex: <http://example.org/> .\n\
               ex:a ex:b ex:c .\n\
               ex:d ex:e \"unterminated .\n";
    for method in [reqwest::Method::PUT, reqwest::Method::POST] {
        let response = send(
            &server,
            method.clone(),
            &url,
            Some(TURTLE),
            bad.to_owned(),
            Some(TOKEN),
        )
        .await;
        let (status, message) = error(response).await;
        assert_eq!(status, 400, "{message}");
        assert!(
            message.starts_with("request body:3:"),
            "{method}: {message}"
        );
    }
    // A multipart body whose second part is bad: the first is not written either.
    let (content_type, body) = multipart(&[
        (
            "good.ttl",
            Some(TURTLE),
            "<http://example.org/a> <http://example.org/b> \"c\" .",
        ),
        (
            "bad.nt",
            None,
            "<http://example.org/a> <http://example.org/b> \"c\"",
        ),
    ]);
    let response = send(
        &server,
        reqwest::Method::POST,
        &url,
        Some(&content_type),
        body,
        Some(TOKEN),
    )
    .await;
    let (status, message) = error(response).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.starts_with("part \"bad.nt\":1:"), "{message}");
    // A dataset with a named graph cannot be written into one graph.
    let trig = "<http://example.org/a> <http://example.org/b> \"in default\" .\n\
                <http://example.org/g> { <http://example.org/a> <http://example.org/b> \"c\" }";
    let (status, message) = error(put(&server, &url, "application/trig", trig).await).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("<http://example.org/g>"), "{message}");
    assert_eq!(fetch(&server, &url, TURTLE).await.1, before);
    assert_eq!(store_size(&server).await, 4);
    // Quads all in the default graph are the triples of the graph.
    let nquads = "<http://example.org/a> <http://example.org/b> \"c\" .\n";
    assert_eq!(
        put(&server, &url, "application/n-quads", nquads)
            .await
            .status(),
        204
    );
    assert_eq!(store_size(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_put_of_several_megabytes_is_stored_whole() {
    let server = TestServer::start(Options::default()).await;
    let url = server.url("store/big");
    let triples = 60_000;
    let mut body = String::new();
    for i in 0..triples {
        body.push_str(&format!(
            "<http://example.org/s{i}> <http://example.org/text> \"{}\" .\n",
            "a fact-checker's note, repeated to make the body big ".repeat(2)
        ));
    }
    let megabytes = body.len() as f64 / 1e6;
    assert!(megabytes > 8.0, "{megabytes} MB");
    let started = std::time::Instant::now();
    let response = put(&server, &url, "application/n-triples", &body).await;
    let put_time = started.elapsed();
    assert_eq!(response.status(), 201);
    let graph = format!("{}store/big", server.base);
    let count = server
        .count(&format!(
            "SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        ))
        .await;
    assert_eq!(count, triples);
    let started = std::time::Instant::now();
    let response = server
        .client
        .get(&url)
        .header("Accept", "application/n-triples")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        !response.headers().contains_key("content-length"),
        "streamed"
    );
    let text = response.text().await.unwrap();
    let get_time = started.elapsed();
    assert_eq!(text.lines().count() as u64, triples);
    eprintln!(
        "PUT {megabytes:.1} MB ({triples} triples): {put_time:.2?}; GET back: {get_time:.2?}"
    );
}

/// A `multipart/form-data` body of `(file name, Content-Type, content)` parts.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "claimgraph-test-boundary-7d1f";
    let mut body = String::new();
    for (file, content_type, content) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n"
        ));
        if let Some(content_type) = content_type {
            body.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        body.push_str(&format!("\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_posts_add_every_part() {
    let server = TestServer::start(Options::default()).await;
    let url = server.url("store/people");
    // One part typed by its Content-Type, one only by its file name's extension; both use the
    // blank node label _:b, which must stay two different nodes.
    let (content_type, body) = multipart(&[
        (
            "alice.ttl",
            Some("text/turtle; charset=utf-8"),
            "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n<#alice> foaf:knows _:b .",
        ),
        (
            "bob.nt",
            None,
            "_:b <http://xmlns.com/foaf/0.1/name> \"Bob\" .",
        ),
    ]);
    let response = send(
        &server,
        reqwest::Method::POST,
        &url,
        Some(&content_type),
        body,
        Some(TOKEN),
    )
    .await;
    assert_eq!(response.status(), 201);
    let graph = format!("{}store/people", server.base);
    let expected = format!(
        "<{graph}#alice> <http://xmlns.com/foaf/0.1/knows> _:x .\n\
         _:y <http://xmlns.com/foaf/0.1/name> \"Bob\" .\n"
    );
    let expected = canonical(expected.as_bytes(), "application/n-triples", None).unwrap();
    assert_eq!(fetch(&server, &url, TURTLE).await.1, expected);
    // A part with neither an RDF type nor an RDF extension.
    let (content_type, body) = multipart(&[("notes.txt", None, "hello")]);
    let response = send(
        &server,
        reqwest::Method::POST,
        &url,
        Some(&content_type),
        body,
        Some(TOKEN),
    )
    .await;
    let (status, message) = error(response).await;
    assert_eq!(status, 415, "{message}");
    assert!(message.contains("notes.txt"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn relative_iris_resolve_against_the_graph() {
    let server = TestServer::start(Options::default()).await;
    let graph = "http://example.org/docs/notes";
    let url = graph_url(&server, graph);
    let body = "<#a> <p> <> .";
    assert_eq!(put(&server, &url, TURTLE, body).await.status(), 201);
    let expected = "<http://example.org/docs/notes#a> <http://example.org/docs/p> \
                    <http://example.org/docs/notes> .\n";
    let expected = canonical(expected.as_bytes(), "application/n-triples", None).unwrap();
    assert_eq!(fetch(&server, &url, TURTLE).await.1, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_media_types_are_415_naming_the_supported_ones() {
    let server = TestServer::start(Options::default()).await;
    let url = server.url("store/notes");
    for content_type in [
        Some("application/json"),
        Some("text/turtle; charset=iso-8859-1"),
        None,
    ] {
        let response = send(
            &server,
            reqwest::Method::PUT,
            &url,
            content_type,
            PERSON.to_owned(),
            Some(TOKEN),
        )
        .await;
        let (status, message) = error(response).await;
        assert_eq!(status, 415, "{content_type:?}: {message}");
        assert!(
            message.contains("text/turtle") && message.contains("application/ld+json"),
            "{message}"
        );
    }
    assert_eq!(store_size(&server).await, 0);
    let response = server.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn head_answers_like_get_without_a_body() {
    let server = TestServer::start(Options::default()).await;
    let url = server.url("store/people");
    assert_eq!(put(&server, &url, TURTLE, PERSON).await.status(), 201);
    for accept in ["text/turtle", "application/ld+json", "application/rdf+xml"] {
        let get = server
            .client
            .get(&url)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        let head = server
            .client
            .head(&url)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(
            head.headers()["content-type"],
            get.headers()["content-type"]
        );
        assert_eq!(head.headers().get("vary"), get.headers().get("vary"));
        assert_ne!(
            head.headers().get("content-length").map(|v| v.as_bytes()),
            Some(&b"0"[..]),
            "HEAD must not claim an empty graph"
        );
        assert!(!get.bytes().await.unwrap().is_empty());
        assert!(head.bytes().await.unwrap().is_empty());
    }
    let head = server
        .client
        .head(server.url("store/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404);
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_graphs_are_404_and_the_default_graph_always_exists() {
    let server = TestServer::start(Options::default()).await;
    let url = graph_url(&server, "http://example.org/nowhere");
    let (status, message) = error(server.client.get(&url).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert!(
        message.contains("<http://example.org/nowhere>"),
        "{message}"
    );
    let response = send(
        &server,
        reqwest::Method::DELETE,
        &url,
        None,
        "",
        Some(TOKEN),
    )
    .await;
    assert_eq!(response.status(), 404);
    // An empty PUT creates an empty graph, which then exists until deleted.
    assert_eq!(put(&server, &url, TURTLE, "").await.status(), 201);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), 200);
    let response = send(
        &server,
        reqwest::Method::DELETE,
        &url,
        None,
        "",
        Some(TOKEN),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(server.client.get(&url).send().await.unwrap().status(), 404);
    // The store's real default graph: empty, but there.
    let default = server.url("store?default");
    assert_eq!(fetch(&server, &default, TURTLE).await.1, "");
    assert_eq!(put(&server, &default, TURTLE, PERSON).await.status(), 204);
    // SPARQL's default graph is the union, so it sees what was written to the real default graph.
    assert_eq!(
        server
            .count("SELECT (COUNT(*) AS ?n) { <http://example.org/alice> ?p ?o }")
            .await,
        3
    );
    let response = send(
        &server,
        reqwest::Method::DELETE,
        &default,
        None,
        "",
        Some(TOKEN),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(store_size(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn graphs_are_served_in_every_rdf_format() {
    let server = TestServer::start(Options::default()).await;
    let url = graph_url(&server, "http://example.org/people");
    assert_eq!(put(&server, &url, TURTLE, PERSON).await.status(), 201);
    let expected = canonical(PERSON.as_bytes(), TURTLE, None).unwrap();
    for (accept, media_type) in [
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/ld+json", "application/ld+json"),
        (
            "application/n-quads;q=0.9, text/turtle;q=0.5",
            "application/n-quads",
        ),
        ("*/*", "text/turtle; charset=utf-8"),
    ] {
        let (content_type, graph) = fetch(&server, &url, accept).await;
        assert_eq!(content_type, media_type, "Accept: {accept}");
        assert_eq!(graph, expected, "Accept: {accept}");
    }
    // No Accept: Turtle.
    let response = server.client.get(&url).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/turtle; charset=utf-8"
    );
    let (status, message) = error(
        server
            .client
            .get(&url)
            .header("Accept", "image/png")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 406, "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_identification_errors_are_400() {
    let server = TestServer::start(Options::default()).await;
    for (query, expected) in [
        ("store?graph=people", "not an absolute IRI"),
        (
            "store?graph=http%3A%2F%2Fa%2Fb&default",
            "both graph and default",
        ),
        (
            "store?graph=http%3A%2F%2Fa&graph=http%3A%2F%2Fb",
            "more than once",
        ),
        ("store?default=yes", "takes no value"),
        ("store?grpah=http%3A%2F%2Fa", "unknown parameter grpah"),
        ("store", "no graph named"),
        ("store/people?graph=http%3A%2F%2Fa", "direct identification"),
        ("store?graph=http%3A%2F%2Fa%FF", "UTF-8"),
    ] {
        let response = server.client.get(server.url(query)).send().await.unwrap();
        let (status, message) = error(response).await;
        assert_eq!(status, 400, "{query}: {message}");
        assert!(message.contains(expected), "{query}: {message}");
    }
    let response = server
        .client
        .patch(server.url("store/people"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    for method in ["GET", "HEAD", "PUT", "POST", "DELETE"] {
        assert!(allow.contains(method), "Allow: {allow}");
    }
    let (_, message) = error(response).await;
    assert!(message.contains("PUT"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn post_to_the_store_creates_a_graph_at_its_location() {
    let server = TestServer::start(Options::default()).await;
    let response = send(
        &server,
        reqwest::Method::POST,
        &server.url("store"),
        Some(TURTLE),
        PERSON.to_owned(),
        Some(TOKEN),
    )
    .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&server.url("store/")), "{location}");
    // The test server's base IRI is its own URL, so the new graph's IRI is also its address.
    let expected = canonical(PERSON.as_bytes(), TURTLE, None).unwrap();
    assert_eq!(fetch(&server, &location, TURTLE).await.1, expected);
    assert_eq!(
        fetch(&server, &graph_url(&server, &location), TURTLE)
            .await
            .1,
        expected
    );
    // A second POST makes another graph.
    let response = send(
        &server,
        reqwest::Method::POST,
        &server.url("store"),
        Some(TURTLE),
        PERSON.to_owned(),
        Some(TOKEN),
    )
    .await;
    assert_ne!(response.headers()["location"].to_str().unwrap(), location);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_413_before_it_is_read() {
    use std::io::{Read, Write};
    let server = TestServer::start(Options::default()).await;
    let address = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    // 300 MB declared, none sent: the answer must come without waiting for the body. A raw
    // socket, because an HTTP client would insist on sending the body it declared.
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let request = format!(
            "PUT /store?default HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/n-triples\r\nContent-Length: 300000000\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        while !String::from_utf8_lossy(&response).contains("--max-upload-bytes") {
            let mut chunk = vec![0; 4096];
            let read = stream
                .read(&mut chunk)
                .expect("the server answers without reading the body");
            if read == 0 {
                break;
            }
            response.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("--max-upload-bytes"), "{response}");
}
