//! claimgraph: a fact-checking knowledge graph. Claims with provenance, stored in an embedded
//! Oxigraph store and served as SPARQL 1.1 and linked data. See ARCHITECTURE.md for the map.

pub mod audit;
pub mod canonical;
pub mod catalog;
pub mod claims;
pub mod draft;
pub mod entities;
pub mod error;
pub mod export;
pub mod formats;
pub mod http;
pub mod import;
pub mod index;
pub mod ledger;
pub mod loader;
pub mod provenance;
pub mod questions;
pub mod service_description;
pub mod store;
pub mod synth;
mod threads;
pub mod vocab;

pub use error::{Error, Result};
pub use store::ClaimStore;

/// The default base IRI of everything the project mints.
pub const DEFAULT_BASE: &str = "http://localhost:7878/";

/// Checks a base IRI and gives it the trailing `/` every minted IRI is appended to.
pub fn normalise_base(base: &str) -> Result<String> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    oxigraph::model::NamedNode::new(base.as_str())
        .map_err(|e| Error::Invalid(format!("--base {base} is not an absolute IRI: {e}")))?;
    Ok(base)
}

/// Entry points for the cargo-fuzz targets in `fuzz/`; not an API (hidden, may change).
///
/// Invariant: each function runs the product's own code on its input, in the order the product
/// runs it (the CLI's sheet path; the `/sparql` handlers' decoding, then the pre-parse limits,
/// then Oxigraph's parser); nothing here decides anything the product does not.
#[doc(hidden)]
pub mod fuzzing {
    use crate::http::limits;
    use crate::http::sparql::Params;
    use std::path::Path;

    pub use crate::claims::anchor::{anchor, occurrences, slice, Anchor, AnchorError};

    /// A claim sheet's text as `claimgraph check` sees it when read from `path`: parsed, checked
    /// against the archived texts under `data_root`, compiled and validated against the shapes.
    /// The number of quads it compiles to, or every error found.
    pub fn claim_sheet(
        path: &Path,
        source: String,
        data_root: &Path,
    ) -> Result<usize, Vec<crate::Error>> {
        let sheet = crate::claims::parse_sheet(path, source).map_err(|e| vec![e])?;
        let compiled = crate::claims::prepare_sheets(
            std::slice::from_ref(&sheet),
            data_root,
            crate::DEFAULT_BASE,
        )?;
        Ok(compiled.iter().map(|s| s.quads.len()).sum())
    }

    /// How a request reaches `/sparql`.
    #[derive(Debug, Clone, Copy)]
    pub enum Request {
        /// `GET /sparql?…`: everything in the URL.
        Get,
        /// `POST` `application/x-www-form-urlencoded`: the form body plus the URL's parameters.
        Form,
        /// `POST` `application/sparql-query`: the query is the body.
        DirectQuery,
        /// `POST` `application/sparql-update`: the update is the body.
        DirectUpdate,
    }

    /// The `name=value` pairs `/sparql` decodes from a query string or form body.
    pub fn form_pairs(input: &[u8]) -> Result<Vec<(String, String)>, String> {
        Params::decode(input)
            .map(|p| p.pairs)
            .map_err(|e| e.message)
    }

    /// What `/sparql` does with a request before it touches the store: decode the operation and
    /// its dataset, check the text's size and shape, and only then parse it (on a thread with a
    /// tokio worker's 2 MiB stack, where the handlers parse) and look for `SERVICE`. `Ok(None)`
    /// is a GET without parameters (the service description).
    pub fn sparql_request(
        request: Request,
        url: &[u8],
        body: &[u8],
        max_bytes: usize,
    ) -> Result<Option<()>, String> {
        let operation = decode(request, url, body).map_err(|e| e.message)?;
        let Some((text, is_update)) = operation else {
            return Ok(None);
        };
        let what = if is_update { "update" } else { "query" };
        limits::check_text(&text, what, max_bytes).map_err(|e| e.message)?;
        let parse = move || -> Result<(), crate::http::ApiError> {
            let parser = spargebra::SparqlParser::new()
                .with_base_iri(crate::DEFAULT_BASE)
                .expect("the default base is an absolute IRI");
            if is_update {
                let update = parser.parse_update(&text).map_err(crate::Error::from)?;
                limits::refuse_service_in_update(&update)
            } else {
                let query = parser.parse_query(&text).map_err(crate::Error::from)?;
                limits::refuse_service_in_query(&query)
            }
        };
        std::thread::Builder::new()
            .stack_size(TOKIO_WORKER_STACK)
            .spawn(parse)
            .expect("a thread can be spawned")
            .join()
            .expect("parsing does not panic")
            .map(Some)
            .map_err(|e| e.message)
    }

    /// tokio's default stack for runtime worker threads, on which the handlers parse.
    const TOKIO_WORKER_STACK: usize = 2 * 1024 * 1024;

    /// The operation text of a request and whether it is an update, decoded by the handlers'
    /// own [`crate::http::sparql::decode`].
    fn decode(
        request: Request,
        url: &[u8],
        body: &[u8],
    ) -> Result<Option<(String, bool)>, crate::http::ApiError> {
        use crate::http::sparql::{decode, Operation};
        use axum::http::Method;
        let (method, content_type) = match request {
            Request::Get => (Method::GET, None),
            Request::Form => (Method::POST, Some("application/x-www-form-urlencoded")),
            Request::DirectQuery => (Method::POST, Some("application/sparql-query")),
            Request::DirectUpdate => (Method::POST, Some("application/sparql-update")),
        };
        let body = bytes::Bytes::copy_from_slice(body);
        Ok(match decode(&method, content_type, url, body)? {
            Operation::ServiceDescription => None,
            Operation::Query { text, .. } => Some((text, false)),
            Operation::Update { text, .. } => Some((text, true)),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn data() -> std::path::PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
        }

        #[test]
        fn the_seed_sheet_compiles_and_a_broken_one_is_refused() {
            let path = data().join("claims/zerohedge-2024-04-02.toml");
            let source = std::fs::read_to_string(&path).unwrap();
            let quads = claim_sheet(&path, source.clone(), &data()).unwrap();
            assert!(quads > 500, "{quads} quads");
            let broken = source.replacen("type = \"NewsArticle\"", "type = 7", 1);
            let errors = claim_sheet(&path, broken, &data()).unwrap_err();
            assert!(errors[0]
                .to_string()
                .contains("zerohedge-2024-04-02.toml:13:"));
        }

        #[test]
        fn requests_are_decoded_checked_then_parsed() {
            let query = |request, url: &str, body: &str| {
                sparql_request(request, url.as_bytes(), body.as_bytes(), 1 << 20)
            };
            assert_eq!(query(Request::Get, "", ""), Ok(None));
            assert_eq!(query(Request::Get, "query=ASK%7B%7D", ""), Ok(Some(())));
            let deep = format!("SELECT * {}{}", "{".repeat(10_000), "}".repeat(10_000));
            assert!(query(Request::DirectQuery, "", &deep)
                .unwrap_err()
                .contains("10000 levels deep"));
            // Just under the limit, the parser runs on a worker-sized stack and survives.
            let deepest = format!("ASK {}{}", "{".repeat(200), "}".repeat(200));
            assert_eq!(query(Request::DirectQuery, "", &deepest), Ok(Some(())));
            let update = "update=INSERT+DATA+%7B%3Cs%3E+%3Cp%3E+%3Co%3E%7D&using-graph-uri=nope";
            assert!(query(Request::Form, "", update)
                .unwrap_err()
                .contains("using-graph-uri=nope is not an absolute IRI"));
            assert!(query(
                Request::DirectUpdate,
                "",
                "INSERT { ?s ?p ?o } WHERE { SERVICE <http://x/> { ?s ?p ?o } }"
            )
            .unwrap_err()
            .contains("SERVICE"));
            assert!(query(Request::DirectQuery, "query=x", "ASK {}").is_err());
            // As the handler answers it (405 there), not a decoding of the fuzzer's own.
            assert!(query(Request::Get, "update=x", "")
                .unwrap_err()
                .contains("must be sent with POST"));
        }
    }
}
