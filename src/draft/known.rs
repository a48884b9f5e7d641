//! What the store knows, for drafting on the server (`POST /drafts`): its named things and its
//! documents, read with `queries/api/draft-*.rq`, its claims' keys, and its claims through the
//! claims index.
//!
//! Invariant: read-only; keys are the IRIs' paths under the store's base (`claims/KEY`,
//! `entities/KEY`, `sources/KEY`), so a store and the sheets it was built from give the same
//! `Known`.

use super::matcher::Claims;
use super::mentions::KnownEntity;
use super::{Known, KnownSource};
use crate::error::Result;
use crate::store::ClaimStore;
use crate::vocab::ENTITY_TYPES;
use oxigraph::model::{NamedNode, NamedOrBlankNode, Term};
use std::collections::{BTreeMap, BTreeSet};

const ENTITIES: &str = include_str!("../../queries/api/draft-entities.rq");
const SOURCES: &str = include_str!("../../queries/api/draft-sources.rq");

/// The key of an IRI under `base` + `section/`.
fn key<'a>(term: Option<&'a Term>, prefix: &str) -> Option<&'a str> {
    match term? {
        Term::NamedNode(n) => n.as_str().strip_prefix(prefix),
        _ => None,
    }
}

fn literal(term: Option<&Term>) -> Option<&str> {
    match term? {
        Term::Literal(l) => Some(l.value()),
        _ => None,
    }
}

/// Reads what `store` knows.
pub fn known_in_store(store: &ClaimStore) -> Result<Known> {
    let base = store.base();
    let (claims_at, entities_at, sources_at) = (
        format!("{base}claims/"),
        format!("{base}entities/"),
        format!("{base}sources/"),
    );
    let mut keys = BTreeSet::new();
    // Claims are matched through the claims index; only their keys are read here, so new keys
    // never collide with them.
    let claim_type: Term = NamedNode::new_unchecked(crate::vocab::SCHEMA_CLAIM).into();
    let rdf_type = NamedNode::new_unchecked(crate::vocab::RDF_TYPE);
    for quad in store.quads_matching(None, Some(&rdf_type), Some(&claim_type), None) {
        if let NamedOrBlankNode::NamedNode(claim) = quad?.subject {
            // `claims/KEY#appearance-…` and the like are not claims of their own.
            if let Some(key) = claim.as_str().strip_prefix(&claims_at) {
                if !key.contains(['#', '/']) {
                    keys.insert(key.to_owned());
                }
            }
        }
    }
    let mut entities: BTreeMap<String, KnownEntity> = BTreeMap::new();
    for row in store.select(ENTITIES)? {
        let (Some(entity), Some(name)) =
            (key(row[0].as_ref(), &entities_at), literal(row[1].as_ref()))
        else {
            continue;
        };
        let kind = match row[2].as_ref() {
            Some(Term::NamedNode(t)) => ENTITY_TYPES
                .iter()
                .find(|(_, iri)| *iri == t.as_str())
                .map(|(name, _)| *name),
            _ => None,
        };
        let entry = entities
            .entry(entity.to_owned())
            .or_insert_with(|| KnownEntity {
                key: entity.to_owned(),
                name: name.to_owned(),
                kind: "Thing".to_owned(),
            });
        // The most specific type wins over `Thing`.
        if let Some(kind) = kind.filter(|k| *k != "Thing") {
            entry.kind = kind.to_owned();
        }
    }
    keys.extend(entities.keys().cloned());
    let mut sources: BTreeMap<String, KnownSource> = BTreeMap::new();
    for row in store.select(SOURCES)? {
        let Some(source) = key(row[0].as_ref(), &sources_at) else {
            continue;
        };
        let entry = sources
            .entry(source.to_owned())
            .or_insert_with(|| KnownSource {
                key: source.to_owned(),
                publisher: None,
            });
        if let Some(publisher) = key(row[1].as_ref(), &entities_at) {
            entry.publisher = Some(publisher.to_owned());
        }
    }
    keys.extend(sources.keys().cloned());
    Ok(Known::with_claims(
        entities.into_values().collect(),
        Claims::Index(store.index().matcher(base)),
        sources.into_values().collect(),
        keys,
    ))
}
