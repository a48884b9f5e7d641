//! Every vocabulary IRI the code uses: the namespaces, the terms it names one by one, the types a
//! claim sheet may use, and the one table of prefixes.
//!
//! Invariant (like `formats` for media types): no other module spells a vocabulary IRI; they
//! take it from here (SPARQL texts in `queries/` and the ontology's Turtle are data, not code).
//! Each namespace is spelled once, in its macro; a term is its namespace plus its local name.

macro_rules! rdf {
    ($local:literal) => {
        concat!("http://www.w3.org/1999/02/22-rdf-syntax-ns#", $local)
    };
}
macro_rules! rdfs {
    ($local:literal) => {
        concat!("http://www.w3.org/2000/01/rdf-schema#", $local)
    };
}
macro_rules! xsd {
    ($local:literal) => {
        concat!("http://www.w3.org/2001/XMLSchema#", $local)
    };
}
macro_rules! owl {
    ($local:literal) => {
        concat!("http://www.w3.org/2002/07/owl#", $local)
    };
}
macro_rules! skos {
    ($local:literal) => {
        concat!("http://www.w3.org/2004/02/skos/core#", $local)
    };
}
macro_rules! schema {
    ($local:literal) => {
        concat!("http://schema.org/", $local)
    };
}
macro_rules! prov {
    ($local:literal) => {
        concat!("http://www.w3.org/ns/prov#", $local)
    };
}
macro_rules! oa {
    ($local:literal) => {
        concat!("http://www.w3.org/ns/oa#", $local)
    };
}
macro_rules! dct {
    ($local:literal) => {
        concat!("http://purl.org/dc/terms/", $local)
    };
}
macro_rules! cito {
    ($local:literal) => {
        concat!("http://purl.org/spar/cito/", $local)
    };
}
macro_rules! cg {
    ($local:literal) => {
        concat!("https://w3id.org/claimgraph/ns#", $local)
    };
}
macro_rules! np {
    ($local:literal) => {
        concat!("http://www.nanopub.org/nschema#", $local)
    };
}
macro_rules! void {
    ($local:literal) => {
        concat!("http://rdfs.org/ns/void#", $local)
    };
}
macro_rules! dcat {
    ($local:literal) => {
        concat!("http://www.w3.org/ns/dcat#", $local)
    };
}
macro_rules! sd {
    ($local:literal) => {
        concat!("http://www.w3.org/ns/sparql-service-description#", $local)
    };
}
macro_rules! sh {
    ($local:literal) => {
        concat!("http://www.w3.org/ns/shacl#", $local)
    };
}

// Namespaces.
pub const RDF: &str = rdf!("");
pub const RDFS: &str = rdfs!("");
pub const XSD: &str = xsd!("");
pub const OWL: &str = owl!("");
pub const SKOS: &str = skos!("");
pub const SCHEMA: &str = schema!("");
pub const PROV: &str = prov!("");
/// The W3C Web Annotation vocabulary (quote selectors).
pub const OA: &str = oa!("");
pub const DCT: &str = dct!("");
pub const CITO: &str = cito!("");
pub const CITO_DISPUTES: &str = cito!("disputes");
/// claimgraph's own vocabulary (`ontology/claimgraph.ttl`).
pub const CG: &str = cg!("");
pub const NP: &str = np!("");
pub const VOID: &str = void!("");
pub const DCAT: &str = dcat!("");
/// SPARQL 1.1 Service Description.
pub const SD: &str = sd!("");
pub const SH: &str = sh!("");
/// IANA's media types, as VoID names a dump's format.
pub const IANA_MEDIA_TYPES: &str = "https://www.iana.org/assignments/media-types/";
/// The W3C's names of RDF syntaxes (`http://www.w3.org/ns/formats/Turtle`…), for the service
/// description.
pub const W3C_FORMATS: &str = "http://www.w3.org/ns/formats/";
/// The simple entailment regime, the only one the endpoint supports.
pub const SIMPLE_ENTAILMENT: &str = "http://www.w3.org/ns/entailment/Simple";
/// Wikidata's entities (a sheet's `wikidata = "Q…"`).
pub const WIKIDATA_ENTITY: &str = "http://www.wikidata.org/entity/";
/// The JSON-LD `@context` of schema.org, as the ClaimReview feed names it.
pub const SCHEMA_CONTEXT: &str = "https://schema.org";

// Terms the code names one by one.
pub const RDF_TYPE: &str = rdf!("type");
pub const OWL_SAME_AS: &str = owl!("sameAs");
/// A published version's generation (service description, VoID).
pub const OWL_VERSION_INFO: &str = owl!("versionInfo");
/// A published version's IRI, `urn:claimgraph:version:GENERATION:DIGEST` (as in RDF Patch).
pub const OWL_VERSION_IRI: &str = owl!("versionIRI");
pub const SKOS_PREF_LABEL: &str = skos!("prefLabel");
pub const SCHEMA_ABOUT: &str = schema!("about");
pub const SCHEMA_NAME: &str = schema!("name");
pub const SCHEMA_HEADLINE: &str = schema!("headline");
pub const CG_ASSERTION: &str = cg!("assertion");
pub const CG_ASSERTION_HASH: &str = cg!("assertionHash");
pub const CG_ARCHIVED_TEXT: &str = cg!("archivedText");
pub const CG_TEXT_SHA256: &str = cg!("textSha256");
pub const CG_STATUS: &str = cg!("status");
pub const CG_DATE_FILED: &str = cg!("dateFiled");
pub const CG_SAME_CLAIM_AS: &str = cg!("sameClaimAs");
pub const SCHEMA_CLAIM: &str = schema!("Claim");
pub const SCHEMA_TEXT: &str = schema!("text");
pub const SCHEMA_AUTHOR: &str = schema!("author");
pub const SCHEMA_APPEARANCE: &str = schema!("appearance");
pub const SCHEMA_PUBLISHER: &str = schema!("publisher");
pub const SCHEMA_DATE_PUBLISHED: &str = schema!("datePublished");
pub const SCHEMA_ALTERNATE_NAME: &str = schema!("alternateName");
pub const SCHEMA_ITEM_REVIEWED: &str = schema!("itemReviewed");
pub const SCHEMA_REVIEW_RATING: &str = schema!("reviewRating");
pub const OA_HAS_SOURCE: &str = oa!("hasSource");
pub const OA_HAS_SELECTOR: &str = oa!("hasSelector");
pub const OA_EXACT: &str = oa!("exact");
pub const OA_START: &str = oa!("start");
pub const OA_END: &str = oa!("end");
pub const PROV_HAD_PRIMARY_SOURCE: &str = prov!("hadPrimarySource");
pub const PROV_WAS_DERIVED_FROM: &str = prov!("wasDerivedFrom");
pub const PROV_ENTITY: &str = prov!("Entity");
pub const SCHEMA_NEWS_ARTICLE: &str = schema!("NewsArticle");
pub const CG_COURT_FILING: &str = cg!("CourtFiling");
pub const CG_STATEMENT: &str = cg!("Statement");
pub const SCHEMA_CLAIM_REVIEW: &str = schema!("ClaimReview");
pub const SCHEMA_RATING_VALUE: &str = schema!("ratingValue");
pub const SCHEMA_BEST_RATING: &str = schema!("bestRating");
pub const SCHEMA_WORST_RATING: &str = schema!("worstRating");
pub const CITO_CITES_AS_EVIDENCE: &str = cito!("citesAsEvidence");

/// The kinds of document a claim sheet may name, with the IRIs they stand for.
pub const SOURCE_TYPES: &[(&str, &str)] = &[
    ("NewsArticle", schema!("NewsArticle")),
    ("CourtFiling", cg!("CourtFiling")),
    ("Statement", cg!("Statement")),
    ("WebPage", schema!("WebPage")),
];

/// The kinds of entity a claim sheet may name, with the IRIs they stand for.
pub const ENTITY_TYPES: &[(&str, &str)] = &[
    ("Person", schema!("Person")),
    ("Organization", schema!("Organization")),
    ("Corporation", schema!("Corporation")),
    ("NewsMediaOrganization", schema!("NewsMediaOrganization")),
    ("GovernmentOrganization", schema!("GovernmentOrganization")),
    ("CourtCase", cg!("CourtCase")),
    ("Country", schema!("Country")),
    ("Thing", schema!("Thing")),
    ("MonetaryAmount", schema!("MonetaryAmount")),
];

/// The one prefix table: every prefix the project reads or writes, with its namespace, in the
/// order exports declare them. Each use that declares only some of them names them
/// ([`prefixes`]).
pub const PREFIXES: &[(&str, &str)] = &[
    ("rdf", RDF),
    ("rdfs", RDFS),
    ("xsd", XSD),
    ("owl", OWL),
    ("skos", SKOS),
    ("schema", SCHEMA),
    ("prov", PROV),
    ("oa", OA),
    ("dct", DCT),
    ("cito", CITO),
    ("cg", CG),
    ("np", NP),
    ("void", VOID),
    ("dcat", DCAT),
    ("sd", SD),
];

/// The namespace of a prefix of [`PREFIXES`].
pub fn namespace(prefix: &str) -> Option<&'static str> {
    PREFIXES
        .iter()
        .find(|(known, _)| *known == prefix)
        .map(|(_, namespace)| *namespace)
}

/// The entries of [`PREFIXES`] for `names`, in the order given.
pub fn prefixes(
    names: &'static [&'static str],
) -> impl Iterator<Item = (&'static str, &'static str)> {
    names.iter().map(|name| {
        (
            *name,
            namespace(name).expect("every prefix a module names is in vocab::PREFIXES"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_once_and_every_namespace_once() {
        for (i, (prefix, namespace)) in PREFIXES.iter().enumerate() {
            for (other_prefix, other_namespace) in &PREFIXES[i + 1..] {
                assert_ne!(prefix, other_prefix);
                assert_ne!(namespace, other_namespace);
            }
        }
        assert_eq!(namespace("cg"), Some("https://w3id.org/claimgraph/ns#"));
        assert_eq!(RDF_TYPE, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type");
        assert_eq!(namespace("nope"), None);
    }
}
