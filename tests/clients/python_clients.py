"""SPARQLWrapper and rdflib against a running claimgraph server, unchanged.

Usage: python_clients.py ENDPOINT_URL WRITE_TOKEN
Prints one line per check and exits non-zero if any fails.
"""
import sys
import traceback

import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, JSONLD, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

ENDPOINT, TOKEN = sys.argv[1], sys.argv[2]
G = "http://example.org/clients"
checks = []


def check(function):
    checks.append(function)
    return function


def wrapper(query, fmt):
    client = SPARQLWrapper(ENDPOINT)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client.query().convert()


@check
def sparqlwrapper_update_with_bearer_token():
    client = SPARQLWrapper(ENDPOINT)
    client.setMethod(POST)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    client.setQuery(
        f'INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/s> <http://example.org/p> "café €" }} }}'
    )
    client.query()


@check
def sparqlwrapper_select_json():
    results = wrapper(f"SELECT ?o {{ GRAPH <{G}> {{ ?s ?p ?o }} }}", JSON)
    values = [b["o"]["value"] for b in results["results"]["bindings"]]
    assert values == ["café €"], values


@check
def sparqlwrapper_select_xml():
    document = wrapper(f"SELECT ?o {{ GRAPH <{G}> {{ ?s ?p ?o }} }}", XML)
    assert "café €" in document.toxml(), document.toxml()


@check
def sparqlwrapper_select_csv_and_tsv():
    csv = wrapper(f"SELECT ?o {{ GRAPH <{G}> {{ ?s ?p ?o }} }}", CSV).decode()
    assert "café €" in csv, csv
    tsv = wrapper(f"SELECT ?o {{ GRAPH <{G}> {{ ?s ?p ?o }} }}", TSV).decode()
    assert '"café €"' in tsv, tsv


@check
def sparqlwrapper_ask():
    assert wrapper(f"ASK {{ GRAPH <{G}> {{ ?s ?p ?o }} }}", JSON)["boolean"] is True


@check
def sparqlwrapper_construct_turtle_rdfxml_jsonld():
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"
    for fmt in (TURTLE, RDFXML, JSONLD):
        result = wrapper(query, fmt)
        graph = result if isinstance(result, rdflib.Graph) else rdflib.Graph().parse(
            data=result, format={TURTLE: "turtle", JSONLD: "json-ld"}[fmt]
        )
        assert len(graph) == 1, (fmt, len(graph))


@check
def sparqlwrapper_sees_a_syntax_error():
    try:
        wrapper("SELECT * WHERE { ?s ?p }", JSON)
    except Exception as error:  # SPARQLWrapper raises QueryBadFormed for 400
        assert "QueryBadFormed" in type(error).__name__ or "400" in str(error), repr(error)
    else:
        raise AssertionError("a malformed query was accepted")


@check
def rdflib_sparqlstore_select_ask_construct():
    for method in ("GET", "POST", "POST_FORM"):
        graph = rdflib.Graph(store=SPARQLStore(ENDPOINT, method=method))
        rows = list(graph.query(f"SELECT ?o WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"))
        assert [str(r[0]) for r in rows] == ["café €"], (method, rows)
        assert graph.query(f"ASK {{ GRAPH <{G}> {{ ?s ?p ?o }} }}").askAnswer is True
        constructed = graph.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}")
        assert len(constructed.graph) == 1, method


@check
def rdflib_sparqlupdatestore_with_token():
    store = SPARQLUpdateStore(
        query_endpoint=ENDPOINT,
        update_endpoint=ENDPOINT,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    graph = rdflib.ConjunctiveGraph(store=store)
    graph.update(f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/s> <http://example.org/q> 2 }} }}")
    rows = list(graph.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"))
    assert int(rows[0][0]) == 2, rows


failed = 0
for function in checks:
    try:
        function()
        print(f"ok - {function.__name__}")
    except Exception:
        failed += 1
        print(f"FAIL - {function.__name__}\n{traceback.format_exc()}")
print(f"python clients: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
