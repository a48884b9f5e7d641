//! claimgraph: a fact-checking knowledge graph. Claims with provenance, stored in an embedded
//! Oxigraph store and served as SPARQL 1.1 and linked data. See ARCHITECTURE.md for the map.

pub mod canonical;
pub mod catalog;
pub mod claims;
pub mod entities;
pub mod error;
pub mod export;
pub mod formats;
pub mod gen;
pub mod http;
pub mod loader;
pub mod provenance;
pub mod service_description;
pub mod store;

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
