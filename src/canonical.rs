//! RDF Dataset Canonicalization (RDFC-1.0) with sophia: canonical N-Quads and their SHA-256.
//!
//! Invariant: the one place that turns RDF into canonical text. Whole-store comparisons (dumps,
//! backups) and hashes of graphs go through it. It works in memory and refuses pathological
//! blank-node structures (sophia's limits) rather than running for ever.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sophia::api::parser::QuadParser;
use sophia::api::source::QuadSource;
use sophia::inmem::dataset::LightDataset;
use sophia::turtle::parser::nq::NQuadsParser;

/// RDFC-1.0 canonical N-Quads of an N-Quads document: blank nodes relabelled canonically, quads
/// sorted, duplicates removed. Two documents describe the same dataset exactly when their
/// canonical forms are equal.
pub fn canonical_nquads(nquads: &str) -> Result<String> {
    let dataset: LightDataset = NQuadsParser::new()
        .parse_str(nquads)
        .collect_quads()
        .map_err(|e| Error::Invalid(format!("cannot canonicalise: {e}")))?;
    let mut out = Vec::new();
    sophia::c14n::rdfc10::normalize(&dataset, &mut out)
        .map_err(|e| Error::Invalid(format!("cannot canonicalise: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::Invalid(format!("cannot canonicalise: {e}")))
}

/// Lower-case hexadecimal SHA-256 of the canonical N-Quads.
pub fn canonical_sha256(nquads: &str) -> Result<String> {
    Ok(format!(
        "{:x}",
        Sha256::digest(canonical_nquads(nquads)?.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_node_labels_and_order_do_not_matter() {
        let a = "_:x <http://e/p> \"1\" <http://e/g> .\n<http://e/s> <http://e/p> _:x .\n";
        let b = "<http://e/s> <http://e/p> _:y .\n_:y <http://e/p> \"1\" <http://e/g> .\n";
        assert_eq!(canonical_nquads(a).unwrap(), canonical_nquads(b).unwrap());
        assert_eq!(canonical_sha256(a).unwrap(), canonical_sha256(b).unwrap());
        let c = "<http://e/s> <http://e/p> _:y .\n_:y <http://e/p> \"2\" <http://e/g> .\n";
        assert_ne!(canonical_sha256(a).unwrap(), canonical_sha256(c).unwrap());
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(canonical_nquads("<http://e/s> <http://e/p> .").is_err());
    }
}
