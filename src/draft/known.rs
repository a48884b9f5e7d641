//! What the store knows, for drafting on the server (`POST /drafts`, `POST /match`): its claims
//! with their quotes, its named things, its documents — read with `queries/api/draft-*.rq`.
//!
//! Invariant: read-only; keys are the IRIs' paths under the store's base (`claims/KEY`,
//! `entities/KEY`, `sources/KEY`), so a store and the sheets it was built from give the same
//! `Known`.

use super::matcher::KnownClaim;
use super::mentions::KnownEntity;
use super::{Known, KnownSource};
use crate::error::Result;
use crate::store::ClaimStore;
use crate::vocab::{CG, ENTITY_TYPES};
use oxigraph::model::Term;
use std::collections::{BTreeMap, BTreeSet};

const CLAIMS: &str = include_str!("../../queries/api/draft-claims.rq");
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
    let mut claims: BTreeMap<String, KnownClaim> = BTreeMap::new();
    for row in store.select(CLAIMS)? {
        let Some(claim) = key(row[0].as_ref(), &claims_at) else {
            continue;
        };
        // `claims/KEY#appearance-…` and the like are not claims of their own.
        if claim.contains(['#', '/']) {
            continue;
        }
        let entry = claims
            .entry(claim.to_owned())
            .or_insert_with(|| KnownClaim {
                key: claim.to_owned(),
                ..KnownClaim::default()
            });
        if let Some(text) = literal(row[1].as_ref()) {
            entry.text = text.to_owned();
        }
        if let Some(Term::NamedNode(status)) = row[2].as_ref() {
            entry.status = status
                .as_str()
                .strip_prefix(CG)
                .unwrap_or_default()
                .to_owned();
        }
        if let Some(claimant) = key(row[3].as_ref(), &entities_at) {
            entry.claimant = claimant.to_owned();
        }
        if let Some(exact) = literal(row[4].as_ref()) {
            if !entry.quotes.iter().any(|q| q == exact) {
                entry.quotes.push(exact.to_owned());
            }
        }
    }
    keys.extend(claims.keys().cloned());
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
    Ok(Known::new(
        entities.into_values().collect(),
        claims.into_values().collect(),
        sources.into_values().collect(),
        keys,
    ))
}
