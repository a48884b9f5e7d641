//! The claims API and linked data on the seed corpus: filters and paging, one claim in every
//! representation, HTML that is well-formed and escapes what it shows, every IRI under the base
//! dereferenceable, archived texts byte for byte, the vocabulary, the OpenAPI description.

use crate::common::{copy_dir, repo, Options, TestServer};
use oxigraph::io::{RdfFormat, RdfParser};
use serde_json::Value;
use std::collections::BTreeSet;

const CLAIM: &str = "netflix-inbox-api";
const TEXT: &str = "data/texts/zerohedge-2024-04-02-facebook-netflix-dms.txt";

async fn seeded() -> TestServer {
    TestServer::start(Options {
        data_dirs: vec![repo().join("data"), repo().join("ontology")],
        ..Options::default()
    })
    .await
}

async fn get(server: &TestServer, path: &str, accept: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(path))
        .header("Accept", accept)
        .send()
        .await
        .unwrap()
}

async fn json(server: &TestServer, path: &str) -> Value {
    let response = get(server, path, "application/json").await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The claim IRIs a SPARQL query selects as `?claim`.
async fn claims_by_sparql(server: &TestServer, query: &str) -> BTreeSet<String> {
    let results = server.select(query).await;
    results["results"]["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["claim"]["value"].as_str().unwrap().to_owned())
        .collect()
}

/// Every claim of `/claims?FILTERS`, following `next` links; checks the order is by IRI.
async fn all_pages(server: &TestServer, filters: &str) -> Vec<String> {
    let mut path = format!("/claims?{filters}");
    let mut iris = Vec::new();
    loop {
        let page = json(server, &path).await;
        for claim in page["claims"].as_array().unwrap() {
            iris.push(claim["iri"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    let mut sorted = iris.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        iris, sorted,
        "pages of /claims?{filters} overlap or are out of order"
    );
    iris
}

const PREFIXES: &str = "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#> \
                        PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX prov: <http://www.w3.org/ns/prov#> ";

#[tokio::test]
async fn claims_are_listed_filtered_and_paged() {
    let server = seeded().await;
    let every = claims_by_sparql(
        &server,
        &format!("{PREFIXES} SELECT ?claim {{ ?claim a schema:Claim }}"),
    )
    .await;
    assert_eq!(every.len(), 23);
    let paged = all_pages(&server, "limit=7").await;
    assert_eq!(paged.iter().cloned().collect::<BTreeSet<_>>(), every);

    let alleged = claims_by_sparql(
        &server,
        &format!("{PREFIXES} SELECT ?claim {{ ?claim a schema:Claim ; cg:status cg:Alleged }}"),
    )
    .await;
    assert_eq!(alleged.len(), 10);
    let listed: BTreeSet<_> = all_pages(&server, "status=alleged&limit=3")
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, alleged);

    let netflix = format!("{}entities/netflix", server.base);
    let about_netflix = claims_by_sparql(
        &server,
        &format!(
            "{PREFIXES} SELECT DISTINCT ?claim {{ ?claim a schema:Claim . \
             {{ ?claim schema:about <{netflix}> }} UNION \
             {{ ?claim cg:assertion ?g GRAPH ?g {{ {{ <{netflix}> ?p ?o }} UNION {{ ?s ?p <{netflix}> }} }} }} }}"
        ),
    )
    .await;
    assert!(about_netflix.len() >= 8, "{about_netflix:?}");
    let listed: BTreeSet<_> = all_pages(&server, "entity=netflix")
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, about_netflix);
    // A key or the full IRI, the same claims.
    let by_iri: BTreeSet<_> = all_pages(&server, &format!("entity={}", urlencode(&netflix)))
        .await
        .into_iter()
        .collect();
    assert_eq!(by_iri, about_netflix);

    let by_plaintiffs = claims_by_sparql(
        &server,
        &format!("{PREFIXES} SELECT ?claim {{ ?claim a schema:Claim ; schema:author <{}entities/klein-plaintiffs> }}", server.base),
    )
    .await;
    let listed: BTreeSet<_> = all_pages(&server, "claimant=klein-plaintiffs")
        .await
        .into_iter()
        .collect();
    assert_eq!(listed, by_plaintiffs);

    let in_repost = claims_by_sparql(
        &server,
        &format!(
            "{PREFIXES} SELECT DISTINCT ?claim {{ ?claim a schema:Claim . \
             {{ ?claim schema:appearance/oa:hasSource <{0}sources/dailymail-2024-04-02-facebook-netflix-dms> }} UNION \
             {{ ?claim prov:hadPrimarySource <{0}sources/dailymail-2024-04-02-facebook-netflix-dms> }} }}",
            server.base
        ),
    )
    .await;
    let listed: BTreeSet<_> =
        all_pages(&server, "source=dailymail-2024-04-02-facebook-netflix-dms")
            .await
            .into_iter()
            .collect();
    assert_eq!(listed, in_repost);

    // Free text looks in the claim and in its quotes, case-insensitively: "programmatic" is only
    // in the quotes of the Inbox API claim, not in its text.
    let found = all_pages(&server, "q=PROGRAMMATIC").await;
    assert!(
        found.contains(&format!("{}claims/{CLAIM}", server.base)),
        "{found:?}"
    );
    assert!(all_pages(&server, "q=no-such-words-anywhere")
        .await
        .is_empty());

    for (filters, problem) in [
        ("status=rumoured", "rumoured"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("limit=ten", "limit"),
        ("entity=%3Cnot%20an%20iri", "entity"),
        ("format=xml", "xml"),
    ] {
        let response = get(&server, &format!("/claims?{filters}"), "application/json").await;
        assert_eq!(response.status(), 400, "{filters}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(problem),
            "{filters}: {body}"
        );
    }
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn a_claim_in_every_representation() {
    let server = seeded().await;
    let path = format!("/claims/{CLAIM}");
    let claim = json(&server, &path).await;
    assert_eq!(claim["status"], "Alleged");
    assert_eq!(
        claim["claimant"]["iri"],
        format!("{}entities/klein-plaintiffs", server.base)
    );
    assert_eq!(claim["appearances"].as_array().unwrap().len(), 2);
    let appearance = &claim["appearances"][0];
    assert_eq!(appearance["start"], 723);
    assert_eq!(appearance["end"], 842);
    let text = std::fs::read_to_string(repo().join(TEXT)).unwrap();
    let exact: String = text.chars().skip(723).take(842 - 723).collect();
    assert_eq!(appearance["exact"], exact);
    assert!(!claim["assertion"]["triples"].as_array().unwrap().is_empty());
    assert_eq!(claim["related"][0]["relation"], "disputes");
    assert_eq!(claim["related"][0]["direction"], "incoming");

    // RDF: the description and the content; N-Quads keeps the assertion graph.
    let assertion_graph = format!("<{}graphs/assertions/{CLAIM}>", server.base);
    for (accept, format) in [
        ("text/turtle", RdfFormat::Turtle),
        ("application/n-triples", RdfFormat::NTriples),
        ("application/n-quads", RdfFormat::NQuads),
        (
            "application/ld+json",
            RdfFormat::JsonLd {
                profile: Default::default(),
            },
        ),
        ("application/rdf+xml", RdfFormat::RdfXml),
    ] {
        let response = get(&server, &path, accept).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(accept));
        assert_eq!(response.headers()["vary"], "Accept");
        assert!(response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"alternate\""));
        let body = response.bytes().await.unwrap();
        let quads: Vec<_> = RdfParser::from_format(format)
            .for_slice(&body)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{accept}: {e}"));
        let subject = format!("<{}claims/{CLAIM}>", server.base);
        assert!(
            quads.iter().any(|q| q.subject.to_string() == subject),
            "{accept}"
        );
        // The claim's appearances come along with it.
        assert!(
            quads
                .iter()
                .any(|q| q.predicate.as_str().ends_with("#appearance")
                    || q.predicate.as_str() == "http://schema.org/appearance"),
            "{accept}"
        );
        if format == RdfFormat::NQuads {
            assert!(quads
                .iter()
                .any(|q| q.graph_name.to_string() == assertion_graph));
        }
    }
    // `*/*` (curl) gets Turtle; a browser gets HTML; `?format=` overrides.
    let response = get(&server, &path, "*/*").await;
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/turtle"));
    let response = get(
        &server,
        &path,
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )
    .await;
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // `?format=` is the same everywhere, in any case.
    let response = get(&server, &format!("{path}?format=HTML"), "*/*").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let response = get(&server, &format!("{path}?format=ntriples"), "text/html").await;
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/n-triples"));

    assert_eq!(get(&server, &path, "image/png").await.status(), 406);
    assert_eq!(
        get(&server, &format!("{path}?format=pdf"), "*/*")
            .await
            .status(),
        400
    );
    assert_eq!(
        get(&server, "/claims/no-such-claim", "application/json")
            .await
            .status(),
        404
    );
    assert_eq!(
        get(&server, "/claims/no-such-claim", "text/turtle")
            .await
            .status(),
        404
    );
}

/// Parses HTML5 and returns the parse errors (none for a well-formed page).
fn html_errors(page: &str) -> Vec<String> {
    use html5ever::tendril::TendrilSink;
    let dom = html5ever::parse_document(
        markup5ever_rcdom::RcDom::default(),
        html5ever::ParseOpts {
            tree_builder: html5ever::tree_builder::TreeBuilderOpts {
                exact_errors: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .one(page);
    let errors = dom.errors.borrow().iter().map(|e| e.to_string()).collect();
    errors
}

#[tokio::test]
async fn html_pages_are_well_formed_and_show_the_quote_in_its_text() {
    let server = seeded().await;
    let page = get(&server, &format!("/claims/{CLAIM}"), "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html_errors(&page), Vec::<String>::new());
    // The quote is highlighted inside the words around it, from the archived text.
    let text = std::fs::read_to_string(repo().join(TEXT)).unwrap();
    let exact: String = text.chars().skip(723).take(842 - 723).collect();
    let before: String = text.chars().skip(723 - 20).take(20).collect();
    assert!(
        page.contains(&format!("<mark>{}</mark>", escape(&exact))),
        "{page}"
    );
    assert!(page.contains(&escape(&before)));
    assert!(page.contains("Klein")); // the claimant's name
                                     // The chain of sources: repost, Daily Mail, the court letter, 2 hops.
    let chain = &page[page.find("Chain of sources").unwrap()..];
    let positions: Vec<usize> = [
        "/sources/zerohedge-2024-04-02-facebook-netflix-dms\"",
        "/sources/dailymail-2024-04-02-facebook-netflix-dms\"",
        "/sources/klein-v-meta-letter-2023-04-14\"",
    ]
    .iter()
    .map(|href| {
        chain
            .find(href)
            .unwrap_or_else(|| panic!("{href} not in the chain"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(chain.contains("2 hops to the primary source"));

    for path in [
        "/",
        "/claims",
        "/sources/dailymail-2024-04-02-facebook-netflix-dms",
        "/entities/netflix",
        "/reviews/explosive-new-lawsuit-review",
        "/graphs/claimgraph",
        "/ns",
    ] {
        let response = get(&server, path, "text/html").await;
        assert_eq!(response.status(), 200, "{path}");
        let page = response.text().await.unwrap();
        assert_eq!(html_errors(&page), Vec::<String>::new(), "{path}");
    }
    // The list page's links (next page, JSON) work as they are.
    let page = get(&server, "/claims?status=alleged&limit=3&format=html", "*/*")
        .await
        .text()
        .await
        .unwrap();
    for rel in ["next", "alternate"] {
        let marker = format!("rel=\"{rel}\"");
        let tag_start = page[..page
            .find(&marker)
            .unwrap_or_else(|| panic!("no {rel} link"))]
            .rfind("<a ")
            .unwrap();
        let tag = &page[tag_start..];
        let href = &tag[tag.find("href=\"").unwrap() + 6..];
        let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
        let response = get(&server, &href, "*/*").await;
        assert_eq!(response.status(), 200, "{rel}: {href}");
    }
    // An entity's page lists the claims about it.
    let page = get(&server, "/entities/netflix", "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/claims/{CLAIM}")));
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn html_escapes_everything_it_shows() {
    let server = seeded().await;
    let hostile = "<script>alert(\"x\")</script> & <b>bold</b>";
    let response = server
        .update(&format!(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#> \
             INSERT DATA {{ GRAPH <{0}graphs/test> {{ <{0}claims/hostile> a schema:Claim ; \
             schema:text \"{1}\" ; cg:status cg:Reported ; schema:author <{0}entities/h> . \
             <{0}entities/h> schema:name \"{1}\" . }} }}",
            server.base,
            hostile.replace('"', "\\\"")
        ))
        .await;
    assert!(response.status().is_success());
    for path in ["/claims/hostile", "/entities/h", "/claims?q=script"] {
        let page = get(&server, path, "text/html").await.text().await.unwrap();
        assert!(!page.contains("<script"), "{path}: {page}");
        assert!(!page.contains("<b>"), "{path}");
        assert!(
            page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;"),
            "{path}: {page}"
        );
        assert_eq!(html_errors(&page), Vec::<String>::new(), "{path}");
    }
}

/// Anyone who may write can store any IRI: those with a scheme a browser would run
/// (`javascript:`, `data:`, `vbscript:`) are shown as text, never as links; `http` and `https`
/// IRIs stay links. Every HTML answer carries a Content-Security-Policy that runs no inline
/// script, and every answer `X-Content-Type-Options: nosniff`.
#[tokio::test]
async fn iris_a_browser_would_run_are_never_links_and_pages_forbid_scripts() {
    let server = seeded().await;
    let hostile = [
        "javascript:alert(1)",
        "JavaScript:alert(2)",
        "data:text/html,<script>alert(3)</script>",
        "vbscript:msgbox(4)",
    ];
    let hostile_iris: Vec<String> = hostile
        .iter()
        .map(|iri| format!("<{}>", iri.replace('<', "%3C").replace('>', "%3E")))
        .collect();
    let response = server
        .update(&format!(
            "PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/claimgraph/ns#> \
             INSERT DATA {{ GRAPH <{0}graphs/test> {{ <{0}claims/{CLAIM}> schema:about {1} . \
             <{0}entities/netflix> schema:url {1} , <https://example.org/netflix> . \
             <{0}claims/evil> a schema:Claim ; schema:text \"evil\" ; cg:status {2} ; \
             schema:author {3} . }} }}",
            server.base,
            hostile_iris.join(" , "),
            hostile_iris[0],
            hostile_iris[3],
        ))
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    for path in [
        format!("/claims/{CLAIM}"),
        "/entities/netflix".into(),
        "/claims/evil".into(),
    ] {
        let response = get(&server, &path, "text/html").await;
        assert_eq!(response.status(), 200, "{path}");
        let page = response.text().await.unwrap();
        let lower = page.to_ascii_lowercase();
        for scheme in ["javascript:", "data:", "vbscript:"] {
            assert!(
                !lower.contains(&format!("href=\"{scheme}")),
                "{path}: a {scheme} link"
            );
        }
        // Still shown, as text.
        assert!(page.contains("javascript:alert(1)"), "{path}");
        assert_eq!(html_errors(&page), Vec::<String>::new(), "{path}");
    }
    let page = get(&server, "/entities/netflix", "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("href=\"https://example.org/netflix\""),
        "http(s) IRIs stay links"
    );

    let html_paths = [
        "/",
        "/claims",
        &format!("/claims/{CLAIM}") as &str,
        "/entities/netflix",
        "/ns",
        "/graphs/claimgraph",
    ];
    for path in html_paths {
        let response = get(&server, path, "text/html").await;
        assert_eq!(response.status(), 200, "{path}");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert!(
            !policy.contains("script-src"),
            "{path}: no script may run: {policy}"
        );
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    // The policy's hash is the stylesheet the pages carry: pages keep their style.
    let page = get(&server, "/", "text/html").await.text().await.unwrap();
    let style = &page[page.find("<style>").unwrap() + 7..page.find("</style>").unwrap()];
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style))
    };
    let policy = get(&server, "/", "text/html").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!("style-src 'sha256-{hash}'")),
        "{policy}"
    );
    let svg = get(
        &server,
        &format!("/claims/{CLAIM}/provenance?format=svg"),
        "*/*",
    )
    .await;
    assert!(svg.headers().contains_key("content-security-policy"));
    for path in [
        "/sparql?query=ASK%7B%7D",
        "/healthz",
        "/no/such/thing",
        "/claims?format=json",
    ] {
        let response = get(&server, path, "*/*").await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_iri_under_the_base_dereferences() {
    let server = seeded().await;
    // The N-Quads dump, as a user downloads it.
    let dump = get(&server, "/export?format=nquads", "*/*").await;
    assert_eq!(dump.status(), 200);
    let mut iris = BTreeSet::new();
    for quad in RdfParser::from_format(RdfFormat::NQuads).for_slice(&dump.bytes().await.unwrap()) {
        let quad = quad.unwrap();
        for term in [
            quad.subject.to_string(),
            quad.predicate.to_string(),
            quad.object.to_string(),
            quad.graph_name.to_string(),
        ] {
            iris.insert(term);
        }
    }
    let under_base: BTreeSet<String> = iris
        .iter()
        .filter_map(|t| t.strip_prefix('<')?.strip_suffix('>'))
        .filter(|iri| iri.starts_with(&server.base))
        .map(|iri| iri.split('#').next().unwrap().to_owned())
        .collect();
    assert!(under_base.len() > 100, "{}", under_base.len());
    for iri in &under_base {
        let response = server
            .client
            .get(iri)
            .header("Accept", "text/turtle")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{iri}");
        let body = response.bytes().await.unwrap();
        let triples = RdfParser::from_format(RdfFormat::Turtle)
            .with_base_iri(iri.as_str())
            .unwrap()
            .for_slice(&body)
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{iri}: {e}"));
        assert!(!triples.is_empty(), "{iri}");
    }
    assert_eq!(
        get(&server, "/entities/nobody", "text/turtle")
            .await
            .status(),
        404
    );
    assert_eq!(
        get(&server, "/no/such/thing", "text/html").await.status(),
        404
    );
    let response = server
        .client
        .delete(server.url("/entities/netflix"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn archived_texts_and_the_vocabulary() {
    let server = seeded().await;
    let response = get(
        &server,
        "/sources/zerohedge-2024-04-02-facebook-netflix-dms/text",
        "*/*",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        response.bytes().await.unwrap(),
        std::fs::read(repo().join(TEXT)).unwrap()
    );
    // A document whose text is not archived here.
    let response = get(
        &server,
        "/sources/dailymail-2024-04-02-facebook-netflix-dms/text",
        "*/*",
    )
    .await;
    assert_eq!(response.status(), 404);

    let response = get(&server, "/ns", "text/turtle").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        std::fs::read_to_string(repo().join("ontology/claimgraph.ttl")).unwrap()
    );
    let response = get(&server, "/ns", "application/n-triples").await;
    let body = response.text().await.unwrap();
    assert!(body.contains("<https://w3id.org/claimgraph/ns#Alleged>"));
}

/// An archived text whose path leads, through a symbolic link, out of the data directory is not
/// served, and the refusal says nothing of the file it found (not even its SHA-256).
#[tokio::test]
async fn an_archived_text_linked_from_outside_the_data_directory_is_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&repo().join("data"), &data);
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "not for the public\n").unwrap();
    let server = TestServer::start(Options {
        data_dirs: vec![data.clone(), repo().join("ontology")],
        ..Options::default()
    })
    .await;
    // The archived text is replaced by a link to a file outside the data directory.
    let text = data.join(TEXT.trim_start_matches("data/"));
    std::fs::remove_file(&text).unwrap();
    std::os::unix::fs::symlink(&secret, &text).unwrap();
    let secret_hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(b"not for the public\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let response = get(
        &server,
        "/sources/zerohedge-2024-04-02-facebook-netflix-dms/text",
        "*/*",
    )
    .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let body = response.text().await.unwrap();
    assert!(body.contains("outside the data directory"), "{body}");
    assert!(
        !body.contains("not for the public") && !body.contains(&secret_hash),
        "{body}"
    );
    // The claim page still answers, without the text around the quote.
    let page = get(&server, &format!("/claims/{CLAIM}"), "text/html").await;
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains("not for the public"));
}

#[tokio::test]
async fn the_openapi_description_covers_the_json_routes() {
    let server = seeded().await;
    let api = json(&server, "/openapi.json").await;
    assert!(api["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/claims", "/claims/{id}"] {
        let operation = &api["paths"][path]["get"];
        assert!(operation.is_object(), "{path} missing from {api}");
        assert!(operation["responses"]["200"].is_object(), "{path}");
    }
    let parameters: Vec<&str> = api["paths"]["/claims"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "status", "source", "entity", "claimant", "q", "after", "limit",
    ] {
        assert!(parameters.contains(&name), "{name}");
    }
    assert!(api["components"]["schemas"]["ClaimDetail"].is_object());
    assert!(api["components"]["schemas"]["ErrorBody"].is_object());
}

/// What a browser's address bar gets: a query, or a question of the library, is sent to the
/// editor (never raw XML); SPARQL clients get results as before.
#[tokio::test]
async fn browsers_are_sent_to_the_editor_and_clients_get_results() {
    let server = seeded().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1";
    let url = format!("{}sparql?query={}", server.base, urlencode(query));
    let response = no_redirects
        .get(format!(
            "{url}&named-graph-uri={}",
            urlencode("http://example.org/g")
        ))
        .header("Accept", browser)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let target = url::Url::parse(&server.url(&location)).unwrap();
    assert_eq!(target.path(), "/query");
    let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    assert!(
        pairs.contains(&("query".into(), query.into())),
        "{location}"
    );
    assert!(pairs.contains(&("namedGraph".into(), "http://example.org/g".into())));
    for accept in [
        "*/*",
        "application/sparql-results+xml",
        "text/csv, text/html",
    ] {
        let response = no_redirects
            .get(&url)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{accept}");
    }
    let response = no_redirects
        .get(server.url("questions/claims-by-status"))
        .header("Accept", browser)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/query?question=claims-by-status"
    );
    // The editor and its files are served by the binary, with a policy that runs them.
    let page = get(&server, "query", "text/html").await;
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"));
    let body = page.text().await.unwrap();
    assert!(body.contains("data-question=\"claims-resting-on-allegations\""));
    assert!(html_errors(&body).is_empty(), "{:?}", html_errors(&body));
}

/// `/assets/NAME`: embedded files, gzip when asked, revalidated by their ETag.
#[tokio::test]
async fn assets_are_served_compressed_and_revalidated() {
    let server = TestServer::start(Options::default()).await;
    let plain = reqwest::Client::builder().no_gzip().build().unwrap();
    let whole = plain
        .get(server.url("assets/yasgui.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    let etag = whole.headers()["etag"].clone();
    assert!(whole.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let bytes = whole.bytes().await.unwrap();
    assert_eq!(
        &bytes[..],
        std::fs::read(repo().join("vendor/yasgui/build/yasgui.min.js")).unwrap()
    );
    let zipped = plain
        .get(server.url("assets/yasgui.min.js"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let compressed = zipped.bytes().await.unwrap();
    assert!(compressed.len() < bytes.len() / 2);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, bytes);
    let again = plain
        .get(server.url("assets/yasgui.min.js"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let missing = plain
        .get(server.url("assets/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
