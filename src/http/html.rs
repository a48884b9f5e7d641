//! HTML pages for people: the claims browser, a claim, any other resource, the home page, the
//! query editor and the review of drafts.
//!
//! Invariants: every page is built with maud, which escapes every interpolated string, so no
//! text from the store (a claim saying `<script>`) can become markup; an IRI from the store
//! becomes a link only through [`href`] (under the base, or `http`/`https`); pages are plain
//! HTML5 with one stylesheet, sent with a Content-Security-Policy that allows nothing else
//! ([`security_headers`]); the pages that need scripts (the query editor, the review of drafts)
//! load them from `/assets` only, under a policy of their own ([`scripted_response`]) that
//! still runs no inline script; each page links to its machine-readable representations.

use crate::catalog::{self, ClaimDetail, ClaimPage, Link, Mention, QuoteContext};
use crate::provenance::ClaimProvenance;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use oxigraph::model::{Quad, Term};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:1rem auto;\
padding:0 1rem;color:#222}a{color:#0645ad}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #ddd;padding:.3rem .5rem;\
text-align:left;vertical-align:top}th{width:14rem;font-weight:600}.status{display:inline-block;\
padding:0 .5rem;border-radius:.7rem;background:#eef;font-size:.9rem}.context{background:#f7f7f7;\
padding:.7rem;white-space:pre-wrap;border-left:3px solid #ccc}mark{background:#ffe08a}\
nav{font-size:.9rem;margin-bottom:1rem}code{font-size:.85rem;word-break:break-all}\
.formats a{margin-right:.6rem}.chain li{margin:.3rem 0}\
.search{display:grid;grid-template-columns:14rem 1fr;gap:1.5rem;align-items:start}\
.facets h2{font-size:1rem;margin:.8rem 0 .2rem;text-transform:capitalize}\
.facets ul{list-style:none;padding:0;margin:0}.facets li{margin:.15rem 0}.n{color:#595959;font-size:.85rem}\
.results{list-style:none;padding:0;margin:0}.results li{border-top:1px solid #ddd;padding:.5rem 0}\
.results p{margin:.1rem 0}.results .text{font-weight:600}.results blockquote{margin:.3rem 0 0 1rem;\
color:#444;font-size:.9rem}.meta{font-size:.9rem}.active{list-style:none;padding:0;display:flex;\
flex-wrap:wrap;gap:.4rem 1rem;font-size:.9rem}.searchbox input[type=search]{width:20rem;max-width:100%}\
.s-alleged{background:#fde4bf}.s-reported{background:#dbe8ff}.s-stated,.s-quoted{background:#e8e8e8}\
.picture{border:1px solid #ddd;margin:.5rem 0}.picture svg{display:block;width:100%;height:auto}\
.versions{font-size:.9rem;background:#fff8e5;padding:.3rem .7rem;border-left:3px solid #d4a017}\
.error{color:#a00;margin:.1rem 0;font-size:.9rem}.error:empty{display:none}\
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.5rem 1rem;margin:.5rem 0}\
.fields label,#article>fieldset>label,.candidate label{display:block;font-size:.9rem;font-weight:600}\
.fields input,.fields select,#article textarea,.candidate textarea,.candidate input[type=text]{width:100%;box-sizing:border-box;font:inherit}\
.review{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem;align-items:start}\
.article{white-space:pre-wrap;border:1px solid #ddd;padding:.7rem;max-height:80vh;overflow:auto}\
.article mark{cursor:pointer}.article mark.rejected{background:#eee;text-decoration:line-through}\
.article mark.current{outline:2px solid #0645ad}\
#queue{list-style:none;padding:0;margin:0;max-height:80vh;overflow:auto}\
.candidate{border:1px solid #ccc;border-radius:.3rem;padding:.5rem .7rem;margin-bottom:.6rem}\
.candidate.current{border-color:#0645ad;box-shadow:0 0 0 2px #0645ad}.candidate.accepted{background:#f1faf3}\
.candidate.rejected{background:#f5f5f5}.candidate.rejected .details{display:none}\
.candidate h3{font-size:1rem;margin:.2rem 0}.candidate fieldset{border:0;padding:0;margin:.3rem 0}\
.candidate fieldset label{display:inline;font-weight:normal}.candidate legend{font-weight:600;font-size:.9rem}\
.decision{font-size:.85rem;font-weight:normal;margin-left:.5rem}\
.s-denied{background:#fbd3d3}.s-adjudicated,.s-publicrecord{background:#d2f0d8}.s-settled{background:#d3eeea}\
@media(max-width:40rem){.search{display:block}}body.wide{max-width:none}\
.editor{display:grid;grid-template-columns:16rem minmax(0,1fr);gap:1rem;align-items:start}\
.questions{list-style:none;padding:0;margin:0}.questions li{margin:0 0 .5rem;line-height:1.2}\
@media(max-width:50rem){.editor{display:block}}\
.questions button{font:inherit;font-size:.9rem;padding:.2rem .6rem;cursor:pointer}";

/// The Content-Security-Policy of every HTML page and SVG picture: nothing may load or run but
/// the page's own stylesheet (allowed by its hash, so no other inline style or script is),
/// images from this server, and forms that submit here; no other site may frame the page. A
/// second line of defence behind escaping and [`href`]: if markup ever slipped through, the
/// browser would still run none of it.
fn content_security_policy() -> &'static axum::http::HeaderValue {
    static POLICY: std::sync::OnceLock<axum::http::HeaderValue> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        axum::http::HeaderValue::try_from(format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'"
        ))
        .expect("the policy is ASCII")
    })
}

/// Adds to every answer `X-Content-Type-Options: nosniff` (a browser takes the media type as
/// sent, so an uploaded text is never run as a script or shown as a page), and to HTML and SVG
/// answers the [`content_security_policy`]. Runs on every response: no allocation.
pub async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let active = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim())
        .is_some_and(|essence| {
            essence.eq_ignore_ascii_case("text/html")
                || essence.eq_ignore_ascii_case("image/svg+xml")
        });
    if active && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy().clone(),
        );
    }
    response
}

/// The policy of a page that runs scripts: scripts from this server only (`/assets`), never
/// inline, never `eval`; requests (the editor's queries) to this server only, so a crafted link
/// cannot make the page send anything elsewhere. YASGUI sets inline styles and adds a `<style>`
/// element (its table's column resizer), hence `'unsafe-inline'` for styles, which cannot run
/// anything.
const SCRIPTED_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A page that runs scripts, with the [`SCRIPTED_POLICY`] (which [`security_headers`] keeps).
pub fn scripted_response(markup: Markup) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, SCRIPTED_POLICY),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A representation other than HTML, for the "also as" links.
pub struct Alternate {
    pub label: &'static str,
    pub href: String,
}

fn page(title: &str, alternates: &[Alternate], body: Markup) -> Markup {
    page_with(title, alternates, &Scripts::default(), body)
}

/// What a page that runs scripts loads, from `/assets`.
#[derive(Default)]
struct Scripts {
    stylesheets: &'static [&'static str],
    scripts: &'static [&'static str],
    /// The page takes the window's whole width (the editor).
    wide: bool,
}

fn page_with(title: &str, alternates: &[Alternate], scripts: &Scripts, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · claimgraph" }
                link rel="icon" href=(super::assets::path("favicon.svg")) type="image/svg+xml";
                style { (PreEscaped(STYLE)) }
                @for stylesheet in scripts.stylesheets {
                    link rel="stylesheet" href=(super::assets::path(stylesheet));
                }
                @for script in scripts.scripts {
                    script src=(super::assets::path(script)) defer {}
                }
            }
            body.wide[scripts.wide] {
                nav {
                    a href="/" { "claimgraph" } " · " a href="/claims" { "claims" } " · "
                    a href="/query" { "query" } " · " a href="/review" { "review" } " · "
                    a href="/export" { "export" } " · "
                    a href="/openapi.json" { "API" }
                }
                (body)
                @if !alternates.is_empty() {
                    p.formats {
                        "Also as: "
                        @for alternate in alternates {
                            a href=(alternate.href) rel="alternate" { (alternate.label) }
                        }
                    }
                }
            }
        }
    }
}

/// A link to a resource: to its page when it is served here, else to the IRI itself.
fn link_to(base: &str, link: &Link) -> Markup {
    let text = link.label.as_deref().unwrap_or(&link.iri);
    iri_link(base, &link.iri, "", html! { (text) })
}

/// `content` as a link to `iri` plus `suffix` (a path under the resource's page, such as
/// `/text`) where [`href`] allows one, else as plain text with the IRI as its title.
fn iri_link(base: &str, iri: &str, suffix: &str, content: Markup) -> Markup {
    match href(base, iri) {
        Some(href) => html! { a href={ (href) (suffix) } title=(iri) { (content) } },
        None => html! { span.iri title=(iri) { (content) } },
    }
}

/// Where a link to `iri` goes: the path of an IRI minted under `base` (so links work whatever
/// host the page was reached by), an `http` or `https` IRI unchanged, and nothing for any other
/// scheme. Anyone who may write can store any IRI (`javascript:`, `data:`, `vbscript:`…): escaping
/// keeps it from becoming markup, but as an `href` the browser would run it, so such IRIs are shown
/// as text, never linked.
pub fn href(base: &str, iri: &str) -> Option<String> {
    if let Some(path) = iri.strip_prefix(base) {
        return Some(format!("/{path}"));
    }
    let scheme = iri.split_once(':')?.0;
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        .then(|| iri.to_owned())
}

pub fn home(base: &str, claims: usize, quads: usize) -> Markup {
    page(
        "claimgraph",
        &[],
        html! {
            h1 { "claimgraph" }
            p { "A fact-checking knowledge graph: claims with their claimants, statuses, exact
                 quotes anchored in archived texts, the chain of documents back to the primary
                 source, and the reviews that rated them." }
            p { (claims) " claims, " (quads) " quads. Base IRI: " code { (base) } }
            ul {
                li { a href="/claims" { "Browse the claims" } " (filter by status, source, entity, claimant, text)" }
                li { a href="/query" { "Query editor" } " (YASGUI on the SPARQL endpoint, with ready-made questions)" }
                li { a href="/review" { "Review an article" } " (draft its claims, review them, save them as a claim sheet)" }
                li { a href="/sparql" { "SPARQL endpoint" } " (SPARQL 1.1 Protocol; a bare GET returns its service description)" }
                li { a href="/store" { "Graph Store" } " (SPARQL 1.1 Graph Store HTTP Protocol)" }
                li { a href="/export" { "Export" } " (N-Quads, TriG, Turtle, JSON-LD), "
                     a href="/export/claimreview" { "ClaimReview feed" } ", "
                     a href="/export/nanopubs" { "nanopublications" } }
                li { a href="/.well-known/void" { "Dataset description" } " (VoID, DCAT)" }
                li { a href="/ns" { "Vocabulary" } " (the cg: ontology)" }
                li { a href="/openapi.json" { "API description" } " (OpenAPI 3.1)" }
            }
            h2 { "Ask the endpoint" }
            p { "In the " a href="/query" { "query editor" } " (with the ready-made questions), or here:" }
            form action="/query" method="get" {
                textarea name="query" rows="8" cols="80" aria-label="SPARQL query" { (sample_query()) }
                br;
                button type="submit" { "Run" }
            }
        },
    )
}

/// The query a new editor shows: the claims, their text and status.
fn sample_query() -> String {
    format!(
        "PREFIX schema: <{}>\nPREFIX cg: <{}>\n\
         SELECT ?claim ?text ?status WHERE {{\n  ?claim a schema:Claim ; schema:text ?text ; cg:status ?status .\n}}\nLIMIT 25",
        crate::vocab::SCHEMA,
        crate::vocab::CG
    )
}

/// A question of the library, as the query editor offers it.
pub struct EditorQuestion<'a> {
    pub name: &'a str,
    pub title: String,
    pub sparql: &'a str,
}

/// The query editor: YASGUI on `/sparql`, the library's questions as buttons that open them.
pub fn query_editor(questions: &[EditorQuestion<'_>]) -> Markup {
    page_with(
        "Query",
        &[],
        &Scripts {
            stylesheets: &["yasgui.min.css", "query.css"],
            scripts: &["yasgui.min.js", "query.js"],
            wide: true,
        },
        html! {
            h1 { "Query the graph" }
            p { "SPARQL 1.1 against " code { "/sparql" } ". Each question of the library opens in a tab of its own and runs." }
            div.editor {
                nav aria-label="the questions of the library" {
                    ul.questions {
                        li { button type="button" #new-query { "+ New query" } }
                        @for question in questions {
                            li {
                                button type="button" data-question=(question.name) data-label=(label(question.name))
                                    data-sparql=(question.sparql) title=(question.title) { (label(question.name)) }
                                br; span.n { (clipped(&question.title, 70)) }
                            }
                        }
                    }
                }
                div #yasgui data-endpoint="/sparql" data-query=(sample_query()) {}
            }
            noscript {
                p { "The editor needs JavaScript. Without it, any SPARQL client can use "
                    code { "/sparql" } ", and the answer to each question is at "
                    code { "/questions/" em { "name" } } ", for each name in " a href="/questions" { "the list" } "." }
            }
        },
    )
}

/// A question's name as a label: `claims-by-status` is "Claims by status".
fn label(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What a facet or filter is called on the page.
fn facet_title(name: &str) -> &str {
    match name {
        "source" => "document",
        "entity" => "about",
        "rating" => "review rating",
        "checker" => "fact-checker",
        "rated_elsewhere" => "rated by another fact-checker",
        "from" => "from",
        "to" => "until",
        other => other,
    }
}

/// A status as a badge, coloured by kind (what was alleged, denied, adjudicated…).
fn status_badge(status: &str, label: Option<&str>) -> Markup {
    let class = format!("status s-{}", status.to_ascii_lowercase());
    html! { span class=(class) { (label.unwrap_or(status)) } }
}

/// The first `max` characters of `text`, with an ellipsis if it was longer.
fn clipped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

/// The review of drafts: the article and its metadata in, the candidates out, highlighted in
/// the text and queued for a decision each, then saved as a claim sheet (`review.js` does the
/// work; without scripts the page says what the API offers instead).
pub fn review(statuses: &[&str]) -> Markup {
    page_with(
        "Review an article",
        &[],
        &Scripts {
            stylesheets: &[],
            scripts: &["review.js"],
            wide: true,
        },
        html! {
            h1 { "Review an article" }
            p { "Paste an article, draft it, then accept, change or reject each candidate claim. "
                "Saving writes a claim sheet into the data directory (the TOML a curator would write) "
                "and loads it, once it checks; nothing reaches the graph before." }
            noscript { p.error { "This page needs JavaScript. Without it, use " code { "POST /drafts" }
                " and write the sheet by hand (docs/drafting.md)." } }
            div.token {
                label for="token" { "Writer token " }
                input #token type="password" autocomplete="off" aria-describedby="token-hint";
                " " span #token-hint .n { "Kept in this browser tab only, and sent as a header." }
            }
            form #article {
                fieldset {
                    legend { "The article" }
                    label for="article-text" { "Text" }
                    textarea #article-text name="text" rows="8" {}
                    p.error data-field="article" {}
                    label for="article-file" { "or a file (.txt or .html) " }
                    input #article-file type="file" accept=".txt,.html,.htm,text/plain,text/html";
                    div.fields {
                        div { label for="key" { "Source key" }
                              input #key name="key" required pattern="[a-z0-9]+(-[a-z0-9]+)*" placeholder="outlet-2024-04-02-topic";
                              p.error data-field="source.key" {} }
                        div { label for="publisher" { "Publisher" }
                              input #publisher name="publisher" required list="entity-options" autocomplete="off";
                              p.error data-field="source.publisher" {} }
                        div { label for="date" { "Published" }
                              input #date name="date" type="date" required;
                              p.error data-field="source.published" {} }
                        div { label for="title" { "Headline" }
                              input #title name="title";
                              p.error data-field="source.headline" {} }
                        div { label for="url" { "URL" }
                              input #url name="url" type="url";
                              p.error data-field="source.url" {} }
                        div { label for="kind" { "Type" }
                              select #kind name="kind" {
                                  @for kind in ["NewsArticle", "CourtFiling", "Statement", "WebPage"] { option { (kind) } }
                              }
                              p.error data-field="source.kind" {} }
                        div { label for="relation" { "It" }
                              select #relation name="relation" {
                                  option value="" { "copies no other document" }
                                  option value="reposts" { "reposts" }
                                  option value="quotes" { "quotes" }
                              }
                              label for="upstream" .n { " the document with key " }
                              input #upstream name="upstream" placeholder="source key";
                              p.error data-field="source.upstream" {} }
                    }
                    p { input #force name="force" type="checkbox" value="true"; " "
                        label for="force" { "The key is already in use: draft this article again (saving will ask before replacing its sheet)" } }
                }
                button type="submit" { "Draft" }
            }
            datalist #entity-options {}
            template #statuses { @for status in statuses { option { (status) } } }
            p #status role="status" aria-live="polite" {}
            section #review hidden aria-labelledby="review-title" {
                h2 #review-title { "Candidates" }
                p.n { "Keys, outside a field: " kbd { "j" } " / " kbd { "k" } " next and previous, "
                      kbd { "a" } " accept, " kbd { "r" } " reject. To change a quote, select its words in the text and press “Use the selected text”." }
                div.review {
                    div #text .article tabindex="0" role="region" aria-label="the article, its candidates highlighted" {}
                    ol #queue aria-label="candidates" {}
                }
                p { button #save type="button" { "Save the sheet" } }
                div #save-result role="status" aria-live="polite" {}
            }
        },
    )
}

/// The claims browser: a search box, the facets to narrow by with their counts, the filters in
/// force (each removable), and a page of claims. Every state is a URL (`filters`, the request's
/// query string without cursor and format), so a search can be bookmarked, shared and gone back
/// to.
pub fn claim_list(base: &str, page_: &ClaimPage, next: Option<&str>, filters: &str) -> Markup {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(filters.as_bytes())
        .into_owned()
        .collect();
    let given = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // The same search with the parameter `name` set to `value`, or dropped (`None`).
    let with = |name: &str, value: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (n, v) in &pairs {
            if n != name {
                query.append_pair(n, v);
            }
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
        format!("/claims?{}", query.finish())
    };
    // A filter's value as the facets name it (an entity's name rather than its IRI).
    let label_of = |name: &str, value: &str| {
        page_
            .facets
            .iter()
            .filter(|facet| facet.name == name)
            .flat_map(|facet| &facet.values)
            .find(|v| v.value == value)
            .and_then(|v| v.label.clone())
            .unwrap_or_else(|| value.to_owned())
    };
    const FILTERS: [&str; 10] = [
        "status",
        "claimant",
        "outlet",
        "source",
        "entity",
        "rating",
        "checker",
        "rated_elsewhere",
        "from",
        "to",
    ];
    let active: Vec<(&str, String)> = FILTERS
        .iter()
        .filter_map(|name| given(name).map(|value| (*name, value)))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let q = given("q").unwrap_or_default();
    let status = given("status").unwrap_or_default();
    page(
        "Claims",
        &[Alternate {
            label: "JSON",
            href: format!(
                "/claims?{filters}{}format=json",
                if filters.is_empty() { "" } else { "&" }
            ),
        }],
        html! {
            h1 { "Claims" }
            form.searchbox action="/claims" method="get" role="search" {
                input type="search" name="q" value=(q) placeholder="words, \"a phrase\", prefix*, -not"
                    aria-label="search the claims: their words, quotes, claimants, entities and outlets";
                " "
                select name="status" aria-label="status" {
                    option value="" { "any status" }
                    @for s in crate::claims::STATUSES {
                        option value=(s) selected[status.eq_ignore_ascii_case(s)] { (s) }
                    }
                }
                " "
                label { "from " input type="date" name="from" value=(given("from").unwrap_or_default()); }
                " "
                label { "until " input type="date" name="to" value=(given("to").unwrap_or_default()); }
                " "
                label {
                    input type="checkbox" name="rated_elsewhere" value="true"
                        checked[given("rated_elsewhere").as_deref() == Some("true")];
                    " rated by another fact-checker"
                }
                @for (name, value) in &pairs {
                    @if !matches!(name.as_str(), "q" | "status" | "from" | "to" | "rated_elsewhere") {
                        input type="hidden" name=(name) value=(value);
                    }
                }
                " " button type="submit" { "Search" }
            }
            @if !active.is_empty() {
                ul.active aria-label="filters in force" {
                    @for (name, value) in &active {
                        li {
                            @if *name == "rated_elsewhere" { strong { (facet_title(name)) } " " }
                            @else { (facet_title(name)) ": " strong { (label_of(name, value)) } " " }
                            a href=(with(name, None)) aria-label={ "remove the filter " (facet_title(name)) } { "✕" }
                        }
                    }
                    li { a href="/claims" { "Clear all" } }
                }
            }
            p.count { (page_.total) @if page_.total == 1 { " claim" } @else { " claims" } }
            div.search {
                @if !page_.facets.is_empty() {
                    nav.facets aria-label="narrow the claims" {
                        @for facet in &page_.facets {
                            @if !facet.values.is_empty() {
                                section data-facet=(facet.name) {
                                    h2 { (facet_title(&facet.name)) }
                                    ul {
                                        @for value in &facet.values {
                                            li {
                                                @let chosen = given(&facet.name).as_deref() == Some(value.value.as_str());
                                                @if chosen {
                                                    strong { (value.label.as_deref().unwrap_or(&value.value)) }
                                                } @else {
                                                    a href=(with(&facet.name, Some(&value.value))) {
                                                        (value.label.as_deref().unwrap_or(&value.value))
                                                    }
                                                }
                                                " " span.n { (value.count) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div {
                    @if page_.claims.is_empty() { p { "No claim matches." } }
                    ol.results {
                        @for claim in &page_.claims {
                            li {
                                p.text { (iri_link(base, &claim.iri, "", html! { (claim.text) })) }
                                p.meta {
                                    (status_badge(&claim.status, None))
                                    " " (link_to(base, &claim.claimant))
                                    @match claim.outlets {
                                        0 => {}
                                        1 => { " · 1 outlet" }
                                        n => { " · " (n) " outlets" }
                                    }
                                }
                                @if let Some(quote) = &claim.quote {
                                    blockquote { "“" (clipped(quote, 240)) "”" }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next { p { a href=(next) rel="next" { "Next page →" } } }
        },
    )
}

/// What a claim's page shows.
pub struct ClaimView<'a> {
    pub base: &'a str,
    /// The claim's key (its downloads are under `/claims/KEY/`).
    pub id: &'a str,
    pub claim: &'a ClaimDetail,
    /// Each appearance's quote in its archived text, where the text is archived.
    pub contexts: &'a [Option<QuoteContext>],
    /// How each appearance's quote differs from the first's.
    pub versions: &'a [Vec<crate::draft::matcher::Difference>],
    pub provenance: &'a ClaimProvenance,
    /// The provenance picture (the server's SVG).
    pub picture: &'a str,
}

/// A claim: who asserts it and how, where it appears (grouped by document, the quote
/// highlighted in the archived text, how each version differs), the provenance picture and
/// chains, reviews, related claims, its content, and downloads.
pub fn claim(view: &ClaimView<'_>, alternates: &[Alternate]) -> Markup {
    let ClaimView {
        base,
        id,
        claim,
        contexts,
        versions,
        provenance,
        picture,
    } = view;
    let base: &str = base;
    // Appearances grouped by document, in the order the documents first appear.
    let mut documents: Vec<(&Link, Vec<usize>)> = Vec::new();
    for (index, appearance) in claim.appearances.iter().enumerate() {
        match documents
            .iter_mut()
            .find(|(d, _)| d.iri == appearance.source.iri)
        {
            Some((_, indexes)) => indexes.push(index),
            None => documents.push((&appearance.source, vec![index])),
        }
    }
    let first_document = claim.appearances.first().map(|a| &a.source);
    // The SVG as the server draws it, without its XML declaration (not allowed inside HTML).
    let svg = picture
        .find("<svg")
        .map_or(*picture, |start| &picture[start..]);
    page(
        &claim.text,
        alternates,
        html! {
            p { "Claim " code { (claim.iri) } }
            h1 { "“" (claim.text) "”" }
            table {
                tr { th { "Claimant" } td { (link_to(base, &claim.claimant)) } }
                tr { th { "Status" } td {
                    (iri_link(base, &claim.status_iri, "", status_badge(&claim.status, claim.status_label.as_deref())))
                } }
                @if let Some(primary) = &claim.primary_source {
                    tr { th { "Primary source" } td { (link_to(base, primary)) } }
                }
                @if !claim.about.is_empty() {
                    tr { th { "About" } td {
                        @for (i, entity) in claim.about.iter().enumerate() {
                            @if i > 0 { ", " } (link_to(base, entity))
                        }
                    } }
                }
            }
            h2 { "Where it appears" }
            @if claim.appearances.is_empty() { p { "No appearance is recorded." } }
            @for (document, indexes) in &documents {
                h3 { "In " (link_to(base, document)) }
                @for index in indexes {
                    @let appearance = &claim.appearances[*index];
                    @match &contexts[*index] {
                        Some(context) => {
                            p.context { "…" (context.before) mark { (context.exact) } (context.after) "…" }
                        }
                        None => @if let Some(exact) = &appearance.exact {
                            blockquote { (exact) }
                        }
                    }
                    @if let (Some(start), Some(end)) = (appearance.start, appearance.end) {
                        p { "Code points " (start) "–" (end) " of the "
                            (iri_link(base, &appearance.source.iri, "/text", html! { "archived text" })) "." }
                    }
                    @if !versions[*index].is_empty() {
                        div.versions {
                            p { "This version differs from the one in "
                                @if let Some(first) = first_document { (link_to(base, first)) } ":" }
                            ul {
                                @for difference in &versions[*index] {
                                    li { (difference.kind) ": “" (difference.here) "” here, “" (difference.known) "” there" }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Chain of sources" }
            // Drawn at the page's width (it scales: it has a viewBox).
            div.picture { (PreEscaped(svg)) }
            (chains(base, provenance))
            p { (iri_link(base, &claim.iri, "/provenance?format=svg", html! { "The picture alone (SVG)" }))
                " · " (iri_link(base, &claim.iri, "/provenance?format=json", html! { "JSON" }))
                " · " (iri_link(base, &claim.iri, "/provenance?format=turtle", html! { "Turtle" })) }
            h2 { "Reviews" }
            @if claim.reviews.is_empty() { p { "Not reviewed yet." } }
            @for review in &claim.reviews {
                div {
                    p {
                        strong { (review.rating.as_deref().unwrap_or("(no verdict label)")) }
                        @if let (Some(value), Some(best)) = (&review.rating_value, &review.best_rating) {
                            " (" (value) " of " (best) ")"
                        }
                        @if let Some(author) = &review.author { " by " (link_to(base, author)) }
                        @if let Some(date) = &review.date_published { ", " (date) }
                        " · " (iri_link(base, &review.iri, "", html! { "review" }))
                    }
                    @if let Some(body) = &review.body { p { (body) } }
                }
            }
            @if !claim.same_claims.is_empty() {
                h2 {
                    @if claim.same_claims.iter().any(|same| !same.reviews.is_empty()) {
                        "Rated by other fact-checkers"
                    } @else { "The same claim" }
                }
                @for same in &claim.same_claims {
                    div.same {
                        p {
                            "The same claim as " (link_to(base, &same.claim))
                            @if let Some(score) = &same.score { " (match score " (score) ")" }
                        }
                        ul {
                            @for elsewhere in &same.reviews {
                                li {
                                    strong { (elsewhere.review.rating.as_deref().unwrap_or("(no verdict label)")) }
                                    @if let Some(normalized) = elsewhere.normalized.as_deref()
                                        .filter(|n| !elsewhere.review.rating.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(n))) {
                                        " (on claimgraph's scale: " (normalized) ")"
                                    }
                                    @if let Some(author) = &elsewhere.review.author { " by " (link_to(base, author)) }
                                    @if let Some(date) = &elsewhere.review.date_published { ", " (date) }
                                    @if let Some(language) = &elsewhere.language { " (" (language) ")" }
                                    @if let Some(url) = elsewhere.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                                        " · " a href=(url) rel="nofollow noopener" { "the fact-check" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !claim.related.is_empty() {
                h2 { "Related claims" }
                ul {
                    @for related in &claim.related {
                        li {
                            @if related.direction == "outgoing" { "This claim " (related.relation) ": " }
                            @else { (related.relation) " this claim: " }
                            (link_to(base, &related.claim))
                        }
                    }
                }
            }
            h2 { "Download" }
            ul.downloads {
                li { a href={ "/claims/" (id) "/claimreview" } { "Its reviews as ClaimReview (JSON-LD)" } }
                @if claim.assertion.is_some() {
                    li { a href={ "/claims/" (id) "/nanopub" } { "Nanopublication (TriG)" } }
                }
                li { a href={ "/claims/" (id) "?format=turtle" } { "Description (Turtle)" } }
                li { a href={ "/claims/" (id) "?format=json" } { "JSON" } }
            }
            @if let Some(assertion) = &claim.assertion {
                h2 { "Content as triples" }
                p { "Assertion graph " (iri_link(base, &assertion.graph, "", html! { code { (assertion.graph) } }))
                    @if let Some(hash) = &assertion.hash { ", RDFC-1.0 SHA-256 " code { (hash) } } }
                ul { @for triple in &assertion.triples { li { code { (triple) } } } }
            }
        },
    )
}

/// Each appearance's chain, from the document in hand to the primary source.
fn chains(base: &str, provenance: &ClaimProvenance) -> Markup {
    html! {
        @if provenance.appearances.is_empty() { p { "No appearance, so no chain." } }
        @for chain in &provenance.appearances {
            ol.chain {
                @for hop in &chain.hops {
                    li {
                        (link_to(base, &Link {
                            iri: hop.document.iri.clone(),
                            label: hop.document.headline.clone().or_else(|| hop.document.name.clone()),
                        }))
                        @for publisher in &hop.document.publishers {
                            " — " (publisher.name.as_deref().unwrap_or(&publisher.iri))
                        }
                        @if let Some(date) = hop.document.published.as_ref().or(hop.document.filed.as_ref()) {
                            " (" (date) ")"
                        }
                        @if let Some(status) = &hop.status {
                            " " span.status { (status.label.as_deref().unwrap_or(&status.name)) }
                        }
                        @if let Some(relation) = hop.relation { " — " em { (relation.label()) " from" } }
                    }
                }
            }
            p {
                @match (&chain.hop_count, &chain.broken) {
                    (_, Some(broken)) => { "The chain breaks off: " (broken.reason) }
                    (Some(1), None) => { "1 hop to the primary source." }
                    (Some(hops), None) => { (hops) " hops to the primary source." }
                    (None, None) => { "No primary source is known." }
                }
            }
        }
    }
}

/// What the page of any other resource shows.
pub struct ResourcePage<'a> {
    pub base: &'a str,
    pub iri: &'a str,
    pub title: &'a str,
    /// What the store says about it (see `catalog::describe`).
    pub quads: &'a [Quad],
    /// The name of a linked resource, if known.
    pub labels: &'a dyn Fn(&str) -> Option<String>,
    /// The claims that concern it.
    pub mentions: &'a [Mention],
    /// The link to its archived text, for a document that has one.
    pub text_href: Option<String>,
}

/// Any other resource: what the store says about it, and the claims that concern it.
pub fn resource(resource: &ResourcePage<'_>, alternates: &[Alternate]) -> Markup {
    let ResourcePage {
        base,
        iri,
        title,
        quads,
        labels,
        mentions,
        text_href,
    } = resource;
    page(
        title,
        alternates,
        html! {
            p { code { (iri) } }
            h1 { (title) }
            @if let Some(href) = text_href { p { a href=(href) { "Archived text" } } }
            table {
                @for quad in quads.iter() {
                    tr {
                        th { (subject_prefix(iri, &quad.subject.to_string())) (short(quad.predicate.as_str())) }
                        td { (term(base, &quad.object, *labels)) }
                    }
                }
            }
            @if !mentions.is_empty() {
                h2 { "Claims" }
                @let browse = facet_links(iri, mentions);
                @if !browse.is_empty() {
                    p { "In the claims browser, with facets: "
                        @for (i, (label, href)) in browse.iter().enumerate() {
                            @if i > 0 { " · " } a href=(href) { (label) }
                        }
                    }
                }
                table {
                    @for mention in mentions.iter() {
                        tr {
                            td { (mention.role) }
                            td { (link_to(base, &mention.claim)) }
                            td { span.status { (mention.status) } }
                        }
                    }
                }
            }
        },
    )
}

/// For each way the resource's claims concern it, the claims browser's search for them: those
/// it asserts (`claimant=`), those about it (`entity=`), those in or resting on it (`source=`).
fn facet_links(iri: &str, mentions: &[Mention]) -> Vec<(String, String)> {
    let mut links = Vec::new();
    for (roles, filter, what) in [
        (&["claimant"][..], "claimant", "it asserts"),
        (&["about"][..], "entity", "about it"),
        (
            &["appears in", "primary source"][..],
            "source",
            "in or resting on it",
        ),
    ] {
        // No count: the browser's (an entity's counts claims mentioning it in their content
        // too) is the one on the next page.
        if mentions.iter().any(|m| roles.contains(&m.role.as_str())) {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair(filter, iri)
                .finish();
            links.push((format!("the claims {what}"), format!("/claims?{query}")));
        }
    }
    links
}

/// `#fragment ` before the predicate when the triple is about a part of the resource.
fn subject_prefix(iri: &str, subject: &str) -> String {
    let subject = subject.trim_start_matches('<').trim_end_matches('>');
    match subject.strip_prefix(iri) {
        Some("") => String::new(),
        Some(fragment) => format!("{fragment} "),
        None => format!("{} ", catalog::local_name(subject)),
    }
}

fn term(base: &str, term: &Term, labels: &dyn Fn(&str) -> Option<String>) -> Markup {
    match term {
        Term::NamedNode(node) => {
            let label = labels(node.as_str());
            iri_link(
                base,
                node.as_str(),
                "",
                html! { (label.as_deref().unwrap_or(node.as_str())) },
            )
        }
        Term::Literal(literal) => html! { (literal.value()) },
        other => html! { code { (other.to_string()) } },
    }
}

/// A predicate IRI shortened with the usual prefixes.
fn short(iri: &str) -> String {
    for (prefix, namespace) in crate::vocab::prefixes(crate::claims::SHEET_PREFIXES) {
        if let Some(local) = iri.strip_prefix(namespace) {
            return format!("{prefix}:{local}");
        }
    }
    iri.to_owned()
}

/// A named graph: its size and how to get it.
pub fn graph(iri: &str, quads: usize, alternates: &[Alternate]) -> Markup {
    page(
        iri,
        alternates,
        html! {
            p { "Named graph" }
            h1 { code { (iri) } }
            p { (quads) " triples." }
        },
    )
}
