//! The query library: every `queries/*.rq` parses, starts with the question it answers, and gives
//! the results recorded in `tests/expected/<name>.tsv` on the seed data (data/ + ontology/).
//! `CLAIMGRAPH_BLESS=1 cargo test --test it queries::` rewrites those files; review the diff.

use crate::common::repo;
use claimgraph::loader;
use claimgraph::store::{DatasetParams, OutputFormat};
use claimgraph::ClaimStore;
use oxigraph::sparql::results::QueryResultsFormat;
use oxigraph::sparql::CancellationToken;

fn query_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rq"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_query_answers_its_question_on_the_seed_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = ClaimStore::open(dir.path(), claimgraph::DEFAULT_BASE).unwrap();
    loader::sync_dirs(&store, &[repo().join("ontology"), repo().join("data")]).unwrap();
    let files = query_files();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# Question:"),
            "{name}.rq must start with '# Question:'"
        );
        let query = store
            .parse_query(&text)
            .unwrap_or_else(|e| panic!("{name}.rq: {e}"));
        let actual = store
            .start_query(
                query,
                &DatasetParams::default(),
                OutputFormat::Results(QueryResultsFormat::Tsv),
                CancellationToken::new(),
            )
            .and_then(|pending| pending.write_to(Vec::new()))
            .unwrap_or_else(|e| panic!("{name}.rq: {e}"));
        let actual = String::from_utf8(actual).unwrap();
        let expected_path = repo().join("tests/expected").join(format!("{name}.tsv"));
        // After a deliberate change, CLAIMGRAPH_BLESS=1 records the new results for review in git.
        if std::env::var_os("CLAIMGRAPH_BLESS").is_some() {
            std::fs::write(&expected_path, &actual).unwrap();
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!("{name}: expected\n{expected}\ngot\n{actual}")),
            Err(_) => failures.push(format!(
                "{name}: no {} (the results now are:\n{actual})",
                expected_path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The product's own queries (`queries/api/`, run by the API with values bound to their
/// variables) parse, say what they answer, and run on the seed data with nothing bound.
#[test]
fn every_api_query_parses_and_runs_unbound() {
    let dir = tempfile::tempdir().unwrap();
    let store = ClaimStore::open(dir.path(), claimgraph::DEFAULT_BASE).unwrap();
    loader::sync_dirs(&store, &[repo().join("ontology"), repo().join("data")]).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("queries/api"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        assert_eq!(path.extension().unwrap(), "rq", "{}", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Question:"), "{}", path.display());
        let query = store
            .parse_query(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let format = match query {
            spargebra::Query::Construct { .. } | spargebra::Query::Describe { .. } => {
                OutputFormat::Rdf(oxigraph::io::RdfFormat::NTriples)
            }
            _ => OutputFormat::Results(QueryResultsFormat::Tsv),
        };
        store
            .start_query(
                query,
                &DatasetParams::default(),
                format,
                CancellationToken::new(),
            )
            .and_then(|pending| pending.write_to(Vec::new()))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
