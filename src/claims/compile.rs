//! Checked sheets to RDF, per docs/claim-sheets.md and the data model in ARCHITECTURE.md.

use super::anchor::Anchor;
use super::sheet::AppearanceFields;
use super::validate::{expand, lookup, Checked, ENTITY_TYPES, SOURCE_TYPES};
use crate::error::{Error, Result};
use crate::vocab::{CG, CITO, OA, OWL_SAME_AS, PROV, SCHEMA, WIKIDATA_ENTITY};
use oxigraph::io::{RdfFormat, RdfSerializer};
use oxigraph::model::vocab::{rdf, xsd};
use oxigraph::model::{GraphName, Literal, NamedNode, NamedOrBlankNode, Quad, Term, Triple};
use toml::value::Datetime;

/// One sheet as RDF: every quad it contributes and every graph those quads are in.
#[derive(Debug)]
pub struct CompiledSheet {
    /// The sheet's id (file stem).
    pub id: String,
    /// The sheet's file, for records and messages.
    pub path: std::path::PathBuf,
    /// SHA-256 over the sheet and the texts it anchors in.
    pub fingerprint: String,
    pub quads: Vec<Quad>,
    pub graphs: Vec<NamedNode>,
    pub claims: usize,
}

struct Iris<'a> {
    base: &'a str,
}

impl Iris<'_> {
    fn node(&self, path: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("{}{path}", self.base))
    }
    fn source(&self, key: &str) -> NamedNode {
        self.node(&format!("sources/{key}"))
    }
    fn entity(&self, key: &str) -> NamedNode {
        self.node(&format!("entities/{key}"))
    }
    fn claim(&self, key: &str) -> NamedNode {
        self.node(&format!("claims/{key}"))
    }
    fn review(&self, key: &str) -> NamedNode {
        self.node(&format!("reviews/{key}"))
    }
    fn assertion(&self, key: &str) -> NamedNode {
        self.node(&format!("graphs/assertions/{key}"))
    }
}

fn term(namespace: &str, local: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{namespace}{local}"))
}

fn date(value: &Datetime) -> Literal {
    let date = value.date.expect("checked: a date");
    Literal::new_typed_literal(
        format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
        xsd::DATE,
    )
}

/// Collects quads of one graph.
struct GraphWriter<'a> {
    graph: GraphName,
    quads: &'a mut Vec<Quad>,
}

impl GraphWriter<'_> {
    fn add(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, o: impl Into<Term>) {
        self.quads
            .push(Quad::new(s.into(), p, o.into(), self.graph.clone()));
    }
}

/// Compiles every checked sheet.
pub fn compile(checked: &Checked<'_>, base: &str) -> Result<Vec<CompiledSheet>> {
    let iris = Iris { base };
    checked
        .sheets
        .iter()
        .enumerate()
        .map(|(index, sheet)| compile_sheet(checked, &iris, index, sheet))
        .collect()
}

fn compile_sheet(
    checked: &Checked<'_>,
    iris: &Iris<'_>,
    index: usize,
    sheet: &super::sheet::Sheet,
) -> Result<CompiledSheet> {
    let id = sheet.id();
    let file = &sheet.file;
    let graph_of = |kind: &str| iris.node(&format!("graphs/{kind}/{id}"));
    let (sources_graph, entities_graph, claims_graph, reviews_graph) = (
        graph_of("sources"),
        graph_of("entities"),
        graph_of("claims"),
        graph_of("reviews"),
    );
    let mut quads = Vec::new();
    let mut graphs = Vec::new();

    let mut g = GraphWriter {
        graph: sources_graph.clone().into(),
        quads: &mut quads,
    };
    for source in &file.sources {
        let s = iris.source(source.key.get_ref());
        let kind = lookup(SOURCE_TYPES, source.kind.get_ref()).expect("checked");
        g.add(s.clone(), rdf::TYPE.into(), NamedNode::new_unchecked(kind));
        g.add(s.clone(), rdf::TYPE.into(), term(PROV, "Entity"));
        if let Some(headline) = &source.headline {
            g.add(
                s.clone(),
                term(SCHEMA, "headline"),
                Literal::from(headline.as_str()),
            );
        }
        if let Some(name) = &source.name {
            g.add(
                s.clone(),
                term(SCHEMA, "name"),
                Literal::from(name.as_str()),
            );
        }
        if let Some(description) = &source.description {
            g.add(
                s.clone(),
                term(SCHEMA, "description"),
                Literal::from(description.as_str()),
            );
        }
        if let Some(author) = &source.author {
            g.add(
                s.clone(),
                term(SCHEMA, "author"),
                iris.entity(author.get_ref()),
            );
        }
        if let Some(publisher) = &source.publisher {
            g.add(
                s.clone(),
                term(SCHEMA, "publisher"),
                iris.entity(publisher.get_ref()),
            );
        }
        if let Some(published) = &source.published {
            g.add(
                s.clone(),
                term(SCHEMA, "datePublished"),
                date(published.get_ref()),
            );
        }
        if let Some(url) = &source.url {
            g.add(
                s.clone(),
                term(SCHEMA, "url"),
                NamedNode::new_unchecked(url.get_ref()),
            );
        }
        if let Some(text) = checked.texts.get(source.key.get_ref()) {
            g.add(
                s.clone(),
                term(CG, "archivedText"),
                Literal::from(text.relative_path.as_str()),
            );
            g.add(
                s.clone(),
                term(CG, "textSha256"),
                Literal::from(text.sha256.as_str()),
            );
        }
        for upstream in &source.reposts {
            g.add(
                s.clone(),
                term(CG, "repostOf"),
                iris.source(upstream.get_ref()),
            );
        }
        for upstream in &source.quoted_from {
            g.add(
                s.clone(),
                term(PROV, "wasQuotedFrom"),
                iris.source(upstream.get_ref()),
            );
        }
        // prov:wasDerivedFrom is materialised for every relation, so chains can be followed
        // with one property path.
        for upstream in source
            .reposts
            .iter()
            .chain(&source.derived_from)
            .chain(&source.quoted_from)
        {
            g.add(
                s.clone(),
                term(PROV, "wasDerivedFrom"),
                iris.source(upstream.get_ref()),
            );
        }
        if let Some(case) = &source.case {
            g.add(s.clone(), term(CG, "case"), iris.entity(case.get_ref()));
        }
        if let Some(filed) = &source.filed {
            g.add(s.clone(), term(CG, "dateFiled"), date(filed.get_ref()));
        }
        if let Some(unsealed) = &source.unsealed {
            g.add(
                s.clone(),
                term(CG, "dateUnsealed"),
                date(unsealed.get_ref()),
            );
        }
    }

    g.graph = entities_graph.clone().into();
    for entity in &file.entities {
        let e = iris.entity(entity.key.get_ref());
        let kind = lookup(ENTITY_TYPES, entity.kind.get_ref()).expect("checked");
        g.add(e.clone(), rdf::TYPE.into(), NamedNode::new_unchecked(kind));
        g.add(
            e.clone(),
            term(SCHEMA, "name"),
            Literal::from(entity.name.as_str()),
        );
        if let Some(description) = &entity.description {
            g.add(
                e.clone(),
                term(SCHEMA, "description"),
                Literal::from(description.as_str()),
            );
        }
        if let Some(id) = &entity.wikidata {
            g.add(
                e.clone(),
                NamedNode::new_unchecked(OWL_SAME_AS),
                NamedNode::new_unchecked(format!("{WIKIDATA_ENTITY}{}", id.get_ref())),
            );
        }
        if let Some(court) = &entity.court {
            g.add(e.clone(), term(CG, "court"), iris.entity(court.get_ref()));
        }
        if let Some(docket) = &entity.docket {
            g.add(
                e.clone(),
                term(CG, "docketNumber"),
                Literal::from(docket.as_str()),
            );
        }
        for plaintiff in &entity.plaintiffs {
            g.add(
                e.clone(),
                term(CG, "plaintiff"),
                iris.entity(plaintiff.get_ref()),
            );
        }
        for defendant in &entity.defendants {
            g.add(
                e.clone(),
                term(CG, "defendant"),
                iris.entity(defendant.get_ref()),
            );
        }
        if let Some(amount) = &entity.amount {
            g.add(
                e.clone(),
                term(SCHEMA, "value"),
                Literal::new_typed_literal(amount.get_ref(), xsd::DECIMAL),
            );
        }
        if let Some(currency) = &entity.currency {
            g.add(
                e.clone(),
                term(SCHEMA, "currency"),
                Literal::from(currency.get_ref().as_str()),
            );
        }
    }

    let mut claim_quads = Vec::new();
    for (c, claim) in file.claims.iter().enumerate() {
        let key = claim.key.get_ref();
        let claim_iri = iris.claim(key);
        let assertion = iris.assertion(key);

        // The assertion graph: the claim's content, and its resolved times.
        let mut content = Vec::new();
        for triple in &claim.content {
            let triple = triple.get_ref();
            let object: Term = match (&triple.o, &triple.value) {
                (Some(o), _) => iris.entity(o.get_ref()).into(),
                (None, Some(value)) => literal(
                    value.get_ref(),
                    triple.datatype.as_ref().map(|d| d.get_ref().as_str()),
                    triple.lang.as_ref().map(|l| l.get_ref().as_str()),
                )?,
                (None, None) => unreachable!("checked: an object"),
            };
            content.push(Triple::new(
                iris.entity(triple.s.get_ref()),
                NamedNode::new_unchecked(expand(triple.p.get_ref()).expect("checked")),
                object,
            ));
        }
        for (t, time) in claim.times.iter().enumerate() {
            let time = time.get_ref();
            let node = NamedNode::new_unchecked(format!("{}#time-{}", claim_iri.as_str(), t + 1));
            content.push(Triple::new(
                node.clone(),
                rdf::TYPE,
                term(CG, "TimeExpression"),
            ));
            content.push(Triple::new(
                node.clone(),
                term(CG, "wording"),
                Literal::from(time.wording.as_str()),
            ));
            content.push(Triple::new(
                node.clone(),
                term(CG, "resolvedTime"),
                literal(time.resolved.get_ref(), Some(time.datatype.get_ref()), None)?,
            ));
            if let Some(relative) = &time.relative_to {
                content.push(Triple::new(
                    node,
                    term(CG, "relativeTo"),
                    iris.source(relative.get_ref()),
                ));
            }
        }
        let hash = assertion_hash(&content)?;
        for triple in content {
            quads.push(triple.in_graph(assertion.clone()));
        }
        graphs.push(assertion.clone());

        let mut g = GraphWriter {
            graph: claims_graph.clone().into(),
            quads: &mut claim_quads,
        };
        g.add(claim_iri.clone(), rdf::TYPE.into(), term(SCHEMA, "Claim"));
        g.add(
            claim_iri.clone(),
            term(SCHEMA, "text"),
            Literal::from(claim.text.as_str()),
        );
        g.add(
            claim_iri.clone(),
            term(SCHEMA, "author"),
            iris.entity(claim.claimant.get_ref()),
        );
        g.add(
            claim_iri.clone(),
            term(CG, "status"),
            term(CG, claim.status.get_ref()),
        );
        g.add(claim_iri.clone(), term(CG, "assertion"), assertion.clone());
        g.add(
            claim_iri.clone(),
            term(CG, "assertionHash"),
            Literal::from(hash),
        );
        if let Some(primary) = &claim.primary_source {
            g.add(
                claim_iri.clone(),
                term(PROV, "hadPrimarySource"),
                iris.source(primary.get_ref()),
            );
        }
        for about in &claim.about {
            g.add(
                claim_iri.clone(),
                term(SCHEMA, "about"),
                iris.entity(about.get_ref()),
            );
        }
        for disputed in &claim.disputes {
            g.add(
                claim_iri.clone(),
                term(CITO, "disputes"),
                iris.claim(disputed.get_ref()),
            );
        }
        for (a, appearance) in claim.appearances.iter().enumerate() {
            let ap =
                NamedNode::new_unchecked(format!("{}#appearance-{}", claim_iri.as_str(), a + 1));
            let anchor = &checked.anchors[&(index, c, a)];
            add_appearance(
                &mut g,
                iris,
                &claim_iri,
                (&ap, a == 0),
                appearance.fields(),
                anchor,
            );
        }
    }
    // New appearances of claims described in any sheet: in this sheet's claims graph, under IRIs
    // of their own (`#appearance-SHEET-N`, N counting this sheet's appearances of that claim),
    // so re-ingesting this sheet replaces exactly them.
    let mut g = GraphWriter {
        graph: claims_graph.clone().into(),
        quads: &mut claim_quads,
    };
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    for (a, appearance) in file.appearances.iter().enumerate() {
        let key = appearance.claim.get_ref();
        let n = counts.entry(key).or_default();
        *n += 1;
        let claim_iri = iris.claim(key);
        let ap = NamedNode::new_unchecked(format!(
            "{}#appearance-{}-{n}",
            claim_iri.as_str(),
            crate::ledger::percent_encode(&id)
        ));
        let anchor = &checked.sheet_anchors[&(index, a)];
        add_appearance(
            &mut g,
            iris,
            &claim_iri,
            (&ap, false),
            appearance.fields(),
            anchor,
        );
    }
    quads.extend(claim_quads);

    let mut g = GraphWriter {
        graph: reviews_graph.clone().into(),
        quads: &mut quads,
    };
    for review in &file.reviews {
        let r = iris.review(review.key.get_ref());
        let rating = NamedNode::new_unchecked(format!("{}#rating", r.as_str()));
        let claim = iris.claim(review.claim.get_ref());
        g.add(r.clone(), rdf::TYPE.into(), term(SCHEMA, "ClaimReview"));
        g.add(r.clone(), term(SCHEMA, "itemReviewed"), claim.clone());
        // The reviewed claim may be defined in any sheet of the set.
        if let Some(text) = checked
            .sheets
            .iter()
            .flat_map(|s| &s.file.claims)
            .find(|c| c.key.get_ref() == review.claim.get_ref())
            .map(|c| c.text.as_str())
        {
            g.add(
                r.clone(),
                term(SCHEMA, "claimReviewed"),
                Literal::from(text),
            );
        }
        g.add(
            r.clone(),
            term(SCHEMA, "author"),
            iris.entity(review.author.get_ref()),
        );
        g.add(
            r.clone(),
            term(SCHEMA, "datePublished"),
            date(review.published.get_ref()),
        );
        if let Some(text) = &review.text {
            g.add(
                r.clone(),
                term(SCHEMA, "reviewBody"),
                Literal::from(text.as_str()),
            );
        }
        g.add(r.clone(), term(SCHEMA, "reviewRating"), rating.clone());
        g.add(rating.clone(), rdf::TYPE.into(), term(SCHEMA, "Rating"));
        g.add(
            rating.clone(),
            term(SCHEMA, "ratingValue"),
            Literal::from(review.rating.value),
        );
        g.add(
            rating.clone(),
            term(SCHEMA, "bestRating"),
            Literal::from(review.rating.best),
        );
        g.add(
            rating.clone(),
            term(SCHEMA, "worstRating"),
            Literal::from(review.rating.worst),
        );
        g.add(
            rating.clone(),
            term(SCHEMA, "alternateName"),
            Literal::from(review.rating.label.as_str()),
        );
        for evidence in &review.evidence {
            let key = evidence.get_ref();
            // Evidence is a source where a source has that key, otherwise an entity (checked).
            let target = if checked
                .sheets
                .iter()
                .flat_map(|s| &s.file.sources)
                .any(|s| s.key.get_ref() == key)
            {
                iris.source(key)
            } else {
                iris.entity(key)
            };
            g.add(r.clone(), term(CITO, "citesAsEvidence"), target);
        }
    }

    for (graph, present) in [
        (sources_graph, !file.sources.is_empty()),
        (entities_graph, !file.entities.is_empty()),
        (
            claims_graph,
            !file.claims.is_empty() || !file.appearances.is_empty(),
        ),
        (reviews_graph, !file.reviews.is_empty()),
    ] {
        if present {
            graphs.push(graph);
        }
    }
    Ok(CompiledSheet {
        id,
        path: sheet.path.clone(),
        fingerprint: super::fingerprint(sheet),
        quads,
        graphs,
        claims: file.claims.len(),
    })
}

/// The local names of the `cg:DifferenceKind` concepts, by a sheet's `kind`.
const DIFFERENCE_CONCEPTS: &[(&str, &str)] = &[
    ("amount", "DifferentAmount"),
    ("number", "DifferentNumber"),
    ("date", "DifferentDate"),
    ("name", "DifferentName"),
    ("qualifier", "DifferentQualifier"),
    ("status", "DifferentStatus"),
];

/// One appearance `ap` of `claim` (its first, `schema:firstAppearance`, if `first`): the link
/// from the claim, the source, both selectors, the upstream document, the status it is asserted
/// in here, and how it differs.
fn add_appearance(
    g: &mut GraphWriter<'_>,
    iris: &Iris<'_>,
    claim: &NamedNode,
    (ap, first): (&NamedNode, bool),
    appearance: AppearanceFields<'_>,
    anchor: &Anchor,
) {
    let fragment = |suffix: &str| NamedNode::new_unchecked(format!("{}{suffix}", ap.as_str()));
    let (quote, position) = (fragment("-quote"), fragment("-position"));
    g.add(claim.clone(), term(SCHEMA, "appearance"), ap.clone());
    if first {
        g.add(claim.clone(), term(SCHEMA, "firstAppearance"), ap.clone());
    }
    g.add(ap.clone(), rdf::TYPE.into(), term(OA, "SpecificResource"));
    g.add(
        ap.clone(),
        term(OA, "hasSource"),
        iris.source(appearance.source.get_ref()),
    );
    g.add(ap.clone(), term(OA, "hasSelector"), quote.clone());
    g.add(ap.clone(), term(OA, "hasSelector"), position.clone());
    g.add(
        quote.clone(),
        rdf::TYPE.into(),
        term(OA, "TextQuoteSelector"),
    );
    g.add(
        quote.clone(),
        term(OA, "exact"),
        Literal::from(appearance.quote.get_ref().as_str()),
    );
    g.add(
        quote.clone(),
        term(OA, "prefix"),
        Literal::from(anchor.prefix.as_str()),
    );
    g.add(
        quote.clone(),
        term(OA, "suffix"),
        Literal::from(anchor.suffix.as_str()),
    );
    g.add(
        position.clone(),
        rdf::TYPE.into(),
        term(OA, "TextPositionSelector"),
    );
    g.add(
        position.clone(),
        term(OA, "start"),
        Literal::new_typed_literal(anchor.start.to_string(), xsd::NON_NEGATIVE_INTEGER),
    );
    g.add(
        position.clone(),
        term(OA, "end"),
        Literal::new_typed_literal(anchor.end.to_string(), xsd::NON_NEGATIVE_INTEGER),
    );
    if let Some(upstream) = appearance.upstream {
        let upstream = iris.source(upstream.get_ref());
        g.add(ap.clone(), term(PROV, "wasDerivedFrom"), upstream.clone());
        match appearance.relation.map(|r| r.get_ref().as_str()) {
            Some("quoted") => g.add(ap.clone(), term(PROV, "wasQuotedFrom"), upstream),
            Some("reposted") => g.add(ap.clone(), term(CG, "repostOf"), upstream),
            _ => {}
        }
    }
    if let Some(status) = appearance.status {
        g.add(ap.clone(), term(CG, "status"), term(CG, status.get_ref()));
    }
    for (d, difference) in appearance.differences.iter().enumerate() {
        let difference = difference.get_ref();
        let node = fragment(&format!("-difference-{}", d + 1));
        let concept = lookup(DIFFERENCE_CONCEPTS, difference.kind.get_ref()).expect("checked");
        g.add(ap.clone(), term(CG, "difference"), node.clone());
        g.add(node.clone(), rdf::TYPE.into(), term(CG, "Difference"));
        g.add(node.clone(), term(CG, "differenceKind"), term(CG, concept));
        g.add(
            node.clone(),
            term(CG, "here"),
            Literal::from(difference.here.as_str()),
        );
        g.add(
            node,
            term(CG, "known"),
            Literal::from(difference.known.as_str()),
        );
    }
}

fn literal(value: &str, datatype: Option<&str>, lang: Option<&str>) -> Result<Term> {
    Ok(match (datatype, lang) {
        (Some(datatype), _) => Literal::new_typed_literal(
            value,
            NamedNode::new_unchecked(expand(datatype).expect("checked")),
        )
        .into(),
        (None, Some(lang)) => Literal::new_language_tagged_literal(value, lang)
            .map_err(|e| Error::Invalid(format!("language tag {lang:?}: {e}")))?
            .into(),
        (None, None) => Literal::from(value).into(),
    })
}

/// RDFC-1.0 hash of an assertion graph's triples (as a graph, i.e. in the default graph).
pub fn assertion_hash(triples: &[Triple]) -> Result<String> {
    let mut serializer = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(Vec::new());
    for triple in triples {
        serializer
            .serialize_triple(triple)
            .map_err(|e| Error::io("serialising an assertion graph", e))?;
    }
    let ntriples = serializer
        .finish()
        .map_err(|e| Error::io("serialising an assertion graph", e))?;
    crate::canonical::canonical_sha256(&String::from_utf8_lossy(&ntriples))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_difference_kind_has_a_concept() {
        let kinds: Vec<&str> = super::DIFFERENCE_CONCEPTS.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, super::super::sheet::DIFFERENCE_KINDS);
    }
}
