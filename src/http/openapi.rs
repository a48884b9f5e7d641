//! The OpenAPI 3.1 description served at `/openapi.json`.
//!
//! Invariant: generated from the code. Every JSON route is registered through
//! `utoipa_axum::routes!` in [`super::app`], which adds its `#[utoipa::path]` description (its
//! parameters and response schemas, derived from the Rust types) to this document; a JSON route
//! cannot be added without being described.

use super::error::ErrorBody;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "claimgraph",
        description = "A fact-checking knowledge graph: claims with provenance. The JSON routes \
                       are described here; SPARQL (`/sparql`), the Graph Store Protocol \
                       (`/store`) and the RDF representations follow the W3C specifications.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;
