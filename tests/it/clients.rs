//! Real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore and SPARQLUpdateStore, Comunica's
//! command line) against a real server. `./dev setup` installs them; without them this test fails
//! and says so, rather than passing without having checked anything.

use crate::common::{repo, Options, TestServer, TOKEN};
use std::path::PathBuf;
use std::process::Command;

fn tool(path: &str) -> PathBuf {
    let path = repo().join(path);
    assert!(
        path.exists(),
        "{} is missing: run `./dev setup` to install the client libraries",
        path.display()
    );
    path
}

async fn run(mut command: Command) {
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sparqlwrapper_rdflib_and_comunica_work_unchanged() {
    let python = tool("target/clients-venv/bin/python");
    tool("tests/clients/node_modules/.bin/comunica-sparql");
    let server = TestServer::start(Options::default()).await;
    let endpoint = server.url("sparql");

    let mut command = Command::new(python);
    command
        .arg(repo().join("tests/clients/python_clients.py"))
        .args([&endpoint, TOKEN]);
    run(command).await;

    let mut command = Command::new("bash");
    command
        .arg(repo().join("tests/clients/comunica.sh"))
        .arg(&endpoint);
    run(command).await;
}
