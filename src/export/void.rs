//! The VoID + DCAT description of the dataset, served at `/.well-known/void`: the dataset
//! `<base>` with its size, a class partition per class (claims, reviews, each kind of source…),
//! a subset per named graph, the SPARQL endpoint, and a distribution per export.
//!
//! Invariant: every number is counted in the store when the description is written (nothing is
//! cached), and every media type comes from the `formats` table.

use super::{dataset_info, minted, named, serializer, text, DUMP_FORMATS, NANOPUB_FORMATS};
use crate::error::{Error, Result};
use crate::formats::RdfSyntax;
use crate::store::ClaimStore;
use crate::vocab::{
    CG, CITO, DCAT, DCT, IANA_MEDIA_TYPES, OA, OWL_VERSION_INFO, OWL_VERSION_IRI, PROV, SCHEMA, SD,
    SKOS, VOID,
};
use oxigraph::model::vocab::{rdf, xsd};
use oxigraph::model::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use oxigraph::sparql::CancellationToken;
use std::io::Write;

/// The vocabularies the data model is built from (`void:vocabulary`).
const VOCABULARIES: &[&str] = &[SCHEMA, PROV, OA, DCT, CITO, CG, SKOS];

/// The dataset's title when the store gives it none.
const DEFAULT_TITLE: &str = "claimgraph: claims with provenance";

/// One download the server offers.
struct Distribution {
    /// Fragment of the distribution's IRI in the VoID document.
    id: String,
    /// Path and query under the base IRI.
    path: String,
    title: String,
    media_type: &'static str,
    gzip: bool,
    /// A dump of the whole dataset (`void:dataDump`), not a view of it.
    dump: bool,
}

fn distributions() -> Vec<Distribution> {
    let mut all = Vec::new();
    for name in DUMP_FORMATS {
        let Some(syntax) = RdfSyntax::by_name(name) else {
            continue;
        };
        for gzip in [false, true] {
            all.push(Distribution {
                id: format!("dump-{name}{}", if gzip { "-gzip" } else { "" }),
                path: format!(
                    "export?format={name}{}",
                    if gzip { "&compress=gzip" } else { "" }
                ),
                title: format!(
                    "The whole dataset as {name}{}",
                    if gzip { ", gzip-compressed" } else { "" }
                ),
                media_type: syntax.media_type(),
                gzip,
                dump: true,
            });
        }
    }
    if let Some(jsonld) = RdfSyntax::by_name("jsonld") {
        all.push(Distribution {
            id: "claimreview".to_owned(),
            path: "export/claimreview".to_owned(),
            title: "Every review as a schema.org ClaimReview (JSON-LD)".to_owned(),
            media_type: jsonld.media_type(),
            gzip: false,
            dump: false,
        });
    }
    for name in NANOPUB_FORMATS {
        let Some(syntax) = RdfSyntax::by_name(name) else {
            continue;
        };
        all.push(Distribution {
            id: format!("nanopubs-{name}"),
            path: format!("export/nanopubs?format={name}"),
            title: format!("One nanopublication per claim ({name})"),
            media_type: syntax.media_type(),
            gzip: false,
            dump: false,
        });
    }
    all
}

/// Writes the description in `syntax`.
pub fn write(
    store: &ClaimStore,
    syntax: &RdfSyntax,
    cancel: &CancellationToken,
    out: &mut dyn Write,
) -> Result<()> {
    let io_error = |e| Error::io("writing the VoID description", e);
    let mut writer = serializer(syntax.format).for_writer(out);
    let mut put = |s: NamedOrBlankNode, p: NamedNode, o: Term| {
        writer
            .serialize_triple(&Triple::new(s, p, o))
            .map_err(io_error)
    };
    let dataset: NamedOrBlankNode = minted(store, "")?.into();
    let document = minted(store, ".well-known/void")?;
    let void = |local: &str| named(VOID, local);
    let count = |n: &Term| -> Term { Literal::new_typed_literal(text(n), xsd::INTEGER).into() };

    let info = dataset_info(store)?;
    put(dataset.clone(), rdf::TYPE.into(), void("Dataset").into())?;
    put(
        dataset.clone(),
        rdf::TYPE.into(),
        named(DCAT, "Dataset").into(),
    )?;
    put(
        dataset.clone(),
        named(DCT, "title"),
        info.title.unwrap_or_else(|| {
            Literal::new_language_tagged_literal_unchecked(DEFAULT_TITLE, "en").into()
        }),
    )?;
    if let Some(license) = info.license {
        put(dataset.clone(), named(DCT, "license"), license)?;
    }
    if let Some(modified) = info.modified {
        put(dataset.clone(), named(DCT, "modified"), modified)?;
    }
    if let Some((generation, iri)) = store.published_version() {
        put(
            dataset.clone(),
            NamedNode::new_unchecked(OWL_VERSION_INFO),
            Literal::new_simple_literal(generation.to_string()).into(),
        )?;
        put(
            dataset.clone(),
            NamedNode::new_unchecked(OWL_VERSION_IRI),
            NamedNode::new_unchecked(iri).into(),
        )?;
    }
    put(
        dataset.clone(),
        void("sparqlEndpoint"),
        minted(store, "sparql")?.into(),
    )?;
    put(
        dataset.clone(),
        void("uriSpace"),
        Literal::from(store.base()).into(),
    )?;
    for vocabulary in VOCABULARIES {
        put(
            dataset.clone(),
            void("vocabulary"),
            NamedNode::new_unchecked(*vocabulary).into(),
        )?;
    }

    let triples = super::rows(
        store,
        include_str!("../../queries/api/export-void-triples.rq"),
        &[],
    )?
    .into_iter()
    .next()
    .and_then(|row| row.into_iter().next().flatten());
    if let Some(triples) = triples {
        put(dataset.clone(), void("triples"), count(&triples))?;
    }

    let distributions = distributions();
    let node_of = |distribution: &Distribution| -> NamedOrBlankNode {
        NamedNode::new_unchecked(format!("{}#{}", document.as_str(), distribution.id)).into()
    };
    // The dataset's own links first, so that readers see it described in one piece.
    for distribution in &distributions {
        if distribution.dump {
            put(
                dataset.clone(),
                void("dataDump"),
                minted(store, &distribution.path)?.into(),
            )?;
        }
        put(
            dataset.clone(),
            named(DCAT, "distribution"),
            node_of(distribution).into(),
        )?;
    }
    for distribution in distributions {
        let node = node_of(&distribution);
        let url: Term = minted(store, &distribution.path)?.into();
        put(
            node.clone(),
            rdf::TYPE.into(),
            named(DCAT, "Distribution").into(),
        )?;
        put(
            node.clone(),
            named(DCT, "title"),
            Literal::new_language_tagged_literal_unchecked(distribution.title, "en").into(),
        )?;
        put(node.clone(), named(DCAT, "downloadURL"), url)?;
        put(
            node.clone(),
            named(DCAT, "mediaType"),
            NamedNode::new_unchecked(format!("{IANA_MEDIA_TYPES}{}", distribution.media_type))
                .into(),
        )?;
        if distribution.gzip {
            put(
                node,
                named(DCAT, "compressFormat"),
                NamedNode::new_unchecked(format!("{IANA_MEDIA_TYPES}application/gzip")).into(),
            )?;
        }
    }

    let mut classes = 0u64;
    store.select_each(
        include_str!("../../queries/api/export-void-classes.rq"),
        &[],
        cancel.clone(),
        |row| {
            let (Some(class @ Term::NamedNode(_)), Some(n)) = (&row[0], &row[1]) else {
                return Ok(());
            };
            classes += 1;
            let partition: NamedOrBlankNode = BlankNode::default().into();
            put(
                dataset.clone(),
                void("classPartition"),
                partition.clone().into(),
            )?;
            put(partition.clone(), void("class"), class.clone())?;
            put(partition, void("entities"), count(n))
        },
    )?;
    put(
        dataset.clone(),
        void("classes"),
        Literal::new_typed_literal(classes.to_string(), xsd::INTEGER).into(),
    )?;

    store.select_each(
        include_str!("../../queries/api/export-void-graphs.rq"),
        &[],
        cancel.clone(),
        |row| {
            let (Some(graph @ Term::NamedNode(_)), Some(n)) = (&row[0], &row[1]) else {
                return Ok(());
            };
            let subset: NamedOrBlankNode = BlankNode::default().into();
            put(dataset.clone(), void("subset"), subset.clone().into())?;
            put(subset.clone(), rdf::TYPE.into(), void("Dataset").into())?;
            put(
                subset.clone(),
                rdf::TYPE.into(),
                named(SD, "NamedGraph").into(),
            )?;
            put(subset.clone(), named(SD, "name"), graph.clone())?;
            put(subset, void("triples"), count(n))
        },
    )?;
    writer.finish().map_err(io_error)?;
    Ok(())
}
