//! Nanopublications: one per claim, after the nanopub guidelines
//! (<http://nanopub.org/guidelines/working_draft/>).
//!
//! For the claim `<base>claims/KEY` the nanopublication is `<base>nanopubs/KEY`, with
//! - a head graph `<base>nanopubs/KEY#head`: `np:Nanopublication`, `np:hasAssertion`,
//!   `np:hasProvenance`, `np:hasPublicationInfo`;
//! - as its assertion, the claim's own assertion graph `<base>graphs/assertions/KEY`, not a copy:
//!   that IRI is already the name that `cg:assertion` and the RDFC-1.0 `cg:assertionHash` refer
//!   to, so the hash certifies the nanopublication's assertion as it stands, and loading the
//!   export next to a dump adds no second copy of any claim's content;
//! - a provenance graph `#provenance`: the assertion `prov:wasAttributedTo` the claimant,
//!   `prov:hadPrimarySource`, `prov:wasQuotedFrom`/`prov:wasDerivedFrom` every document the
//!   claim appears in, and the claim's description (text, status, appearances with their quote
//!   and position selectors);
//! - a publication-info graph `#pubinfo`: `dct:created` (the time of the export),
//!   `dct:creator`/`prov:wasAttributedTo` the dataset `<base>`, `dct:license` if the store gives
//!   the dataset one, and the claim's `cg:assertion` and `cg:assertionHash`.
//!
//! Invariant: nanopublications are written one claim at a time; claims without an assertion
//! graph have no content to publish and get none.

use super::{dataset_info, minted, named, serializer};
use crate::error::{Error, Result};
use crate::formats::RdfSyntax;
use crate::store::ClaimStore;
use crate::vocab::{CG, DCT, NP, OA, PROV, SCHEMA};
use oxigraph::io::WriterQuadSerializer;
use oxigraph::model::vocab::rdf;
use oxigraph::model::{GraphName, NamedNode, NamedOrBlankNode, Quad, Term};
use oxigraph::sparql::CancellationToken;
use sha2::{Digest, Sha256};
use std::io::Write;

/// Writes one nanopublication per claim in `syntax` (TriG or N-Quads).
pub fn write(
    store: &ClaimStore,
    syntax: &RdfSyntax,
    cancel: &CancellationToken,
    out: &mut dyn Write,
) -> Result<()> {
    if !syntax.format.supports_datasets() {
        return Err(Error::Invalid(format!(
            "a nanopublication is four named graphs: {} cannot hold them",
            syntax.name
        )));
    }
    let info = dataset_info(store)?;
    let dataset = minted(store, "")?;
    let mut writer = serializer(syntax.format).for_writer(out);
    let mut previous: Option<NamedNode> = None;
    store.select_each(
        include_str!("../../queries/api/export-claims.rq"),
        &[],
        cancel.clone(),
        |row| {
            let (Some(Term::NamedNode(claim)), Some(Term::NamedNode(assertion))) =
                (&row[0], &row[1])
            else {
                return Ok(());
            };
            // A claim with two assertion graphs (only possible in hand-written RDF) is
            // published with the first.
            if previous.as_ref() == Some(claim) {
                return Ok(());
            }
            previous = Some(claim.clone());
            let published = Published {
                dataset: &dataset,
                created: info.now.as_ref(),
                license: info.license.as_ref(),
            };
            write_one(store, &mut writer, claim, assertion, &published)
        },
    )?;
    writer
        .finish()
        .map_err(|e| Error::io("writing nanopublications", e))?;
    Ok(())
}

/// Writes the nanopublication of one claim in `syntax` (TriG or N-Quads); `Error::NotFound` if
/// it has no assertion graph (no content to publish).
pub fn write_claim(
    store: &ClaimStore,
    syntax: &RdfSyntax,
    claim: &NamedNode,
    out: &mut dyn Write,
) -> Result<()> {
    let has_assertion = NamedNode::new_unchecked(format!("{CG}assertion"));
    let subject = NamedOrBlankNode::from(claim.clone());
    let mut assertions = Vec::new();
    for quad in store.quads_matching(Some(&subject), Some(&has_assertion), None, None) {
        if let Term::NamedNode(node) = quad?.object {
            assertions.push(node);
        }
    }
    // As in the whole export: a claim with two assertion graphs is published with the first.
    assertions.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let assertion = assertions.into_iter().next().ok_or_else(|| {
        Error::NotFound(format!(
            "{claim} has no assertion graph, so no nanopublication"
        ))
    })?;
    let info = dataset_info(store)?;
    let dataset = minted(store, "")?;
    let published = Published {
        dataset: &dataset,
        created: info.now.as_ref(),
        license: info.license.as_ref(),
    };
    let mut writer = serializer(syntax.format).for_writer(out);
    write_one(store, &mut writer, claim, &assertion, &published)?;
    writer
        .finish()
        .map_err(|e| Error::io("writing a nanopublication", e))?;
    Ok(())
}

/// What every nanopublication of one export says about its publication.
struct Published<'a> {
    dataset: &'a NamedNode,
    created: Option<&'a Term>,
    license: Option<&'a Term>,
}

/// The nanopublication IRI of a claim: `<base>nanopubs/KEY` for `<base>claims/KEY`; a claim
/// named outside the base gets a name derived from the SHA-256 of its IRI.
pub fn nanopub_iri(store: &ClaimStore, claim: &NamedNode) -> Result<NamedNode> {
    let key = claim
        .as_str()
        .strip_prefix(&format!("{}claims/", store.base()))
        .filter(|key| {
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let digest = Sha256::digest(claim.as_str().as_bytes());
            // The first 16 bytes of the digest: 32 hexadecimal digits.
            format!("sha256-{}", &format!("{digest:x}")[..32])
        });
    minted(store, &format!("nanopubs/{key}"))
}

fn write_one<W: Write>(
    store: &ClaimStore,
    writer: &mut WriterQuadSerializer<W>,
    claim: &NamedNode,
    assertion: &NamedNode,
    published: &Published<'_>,
) -> Result<()> {
    let np = nanopub_iri(store, claim)?;
    let part = |name: &str| NamedNode::new_unchecked(format!("{}#{name}", np.as_str()));
    let (head, provenance, pubinfo) = (part("head"), part("provenance"), part("pubinfo"));
    let mut put = |s: NamedOrBlankNode, p: NamedNode, o: Term, g: &NamedNode| {
        writer
            .serialize_quad(&Quad::new(s, p, o, GraphName::from(g.clone())))
            .map_err(|e| Error::io("writing nanopublications", e))
    };

    put(
        np.clone().into(),
        rdf::TYPE.into(),
        named(NP, "Nanopublication").into(),
        &head,
    )?;
    put(
        np.clone().into(),
        named(NP, "hasAssertion"),
        assertion.clone().into(),
        &head,
    )?;
    put(
        np.clone().into(),
        named(NP, "hasProvenance"),
        provenance.clone().into(),
        &head,
    )?;
    put(
        np.clone().into(),
        named(NP, "hasPublicationInfo"),
        pubinfo.clone().into(),
        &head,
    )?;

    for quad in store.quads(Some(assertion)) {
        let quad = quad?;
        put(quad.subject, quad.predicate, quad.object, assertion)?;
    }

    // The claim's description: about the claim and its appearances (to the provenance graph),
    // and its assertion graph and hash (to the publication info, where they certify the
    // assertion).
    let rows = super::rows(
        store,
        include_str!("../../queries/api/export-claim-provenance.rq"),
        &[("claim", claim.clone().into())],
    )?;
    let mut about_assertion: Vec<(NamedNode, Term)> = Vec::new();
    let mut certified = Vec::new();
    for row in rows {
        let (Some(s), Some(Term::NamedNode(p)), Some(o)) = (
            row.first().cloned().flatten(),
            row.get(1).cloned().flatten(),
            row.get(2).cloned().flatten(),
        ) else {
            continue;
        };
        let s = match s {
            Term::NamedNode(node) => NamedOrBlankNode::from(node),
            Term::BlankNode(node) => NamedOrBlankNode::from(node),
            _ => continue,
        };
        let on_claim = matches!(&s, NamedOrBlankNode::NamedNode(n) if n == claim);
        let derived: &[(&str, &str)] = match (on_claim, p.as_str()) {
            (true, p) if p == format!("{SCHEMA}author") => &[(PROV, "wasAttributedTo")],
            (true, p) if p == format!("{PROV}hadPrimarySource") => &[(PROV, "hadPrimarySource")],
            (false, p) if p == format!("{OA}hasSource") => {
                &[(PROV, "wasQuotedFrom"), (PROV, "wasDerivedFrom")]
            }
            _ => &[],
        };
        for (namespace, local) in derived {
            let statement = (named(namespace, local), o.clone());
            if !about_assertion.contains(&statement) {
                about_assertion.push(statement);
            }
        }
        if on_claim
            && (p.as_str() == format!("{CG}assertion")
                || p.as_str() == format!("{CG}assertionHash"))
        {
            certified.push((s, p, o));
        } else {
            put(s, p, o, &provenance)?;
        }
    }
    for (p, o) in about_assertion {
        put(assertion.clone().into(), p, o, &provenance)?;
    }

    if let Some(created) = published.created {
        put(
            np.clone().into(),
            named(DCT, "created"),
            created.clone(),
            &pubinfo,
        )?;
    }
    put(
        np.clone().into(),
        named(DCT, "creator"),
        published.dataset.clone().into(),
        &pubinfo,
    )?;
    put(
        np.clone().into(),
        named(PROV, "wasAttributedTo"),
        published.dataset.clone().into(),
        &pubinfo,
    )?;
    if let Some(license) = published.license {
        put(
            np.clone().into(),
            named(DCT, "license"),
            license.clone(),
            &pubinfo,
        )?;
    }
    put(
        np.clone().into(),
        named(PROV, "wasDerivedFrom"),
        claim.clone().into(),
        &pubinfo,
    )?;
    for (s, p, o) in certified {
        put(s, p, o, &pubinfo)?;
    }
    Ok(())
}
