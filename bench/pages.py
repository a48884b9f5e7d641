#!/usr/bin/env python3
"""The workspace's pages, timed: `./dev bench --pages [--claims N]`.

The claims browser (`/claims` as a browser asks for it: HTML, the counts of six facets beside
the list) and a claim's page, one request at a time (the time a person waits, which on localhost
is the server's time), on `claimgraph serve` over the corpus store search.py builds. Each search
is asked twice: the first time its facet counts are computed, the second time they come from the
counts kept for that version of the index. Beside them, the one facet (claims by status) asked
the obvious way, SPARQL `GROUP BY`, of `oxigraph serve` over the same N-Quads.

Invariants: the corpus and stores are search.py's (built by `./dev bench --search` first); the
searches are words drawn from claims of the corpus (seeded), so they differ from run to run
only if the corpus does; results go to target/bench/pages-N.json and between the
`bench:pages-N` markers of docs/workspace.md.
"""

import argparse
import json
import random
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as b  # noqa: E402
from search import corpus_claims  # noqa: E402

ROOT = b.ROOT


def timed_get(url, accept):
    request = urllib.request.Request(url, headers={"Accept": accept})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
        status = response.status
    if status != 200:
        raise SystemExit(f"{url}: {status}")
    return (time.perf_counter() - started) * 1000, len(body)


def summary(times):
    times = sorted(times)
    return {"requests": len(times), "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1), "max_ms": round(times[-1], 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--claimgraph", required=True)
    ap.add_argument("--oxigraph", required=True)
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--searches", type=int, default=40)
    args = ap.parse_args()
    work = ROOT / "target/bench"
    corpus = work / f"corpus-{args.claims}"
    cg_store, ox_store = work / f"draft-cg.db-{args.claims}", work / f"draft-ox.db-{args.claims}"
    if not (work / f"draft-stores-{args.claims}.loaded").exists():
        raise SystemExit(f"no stores for {args.claims} claims: run ./dev bench --search --claims {args.claims} first")
    picked = corpus_claims(corpus, args.searches, seed=11)
    rng = random.Random(11)
    words = [rng.choice(re.findall(r"[A-Za-z]{5,}", t) or ["claim"]).lower() for _, t, _ in picked]
    html = "text/html"
    results = {"machine": b.machine(), "claims": args.claims}
    empty = work / "empty"
    empty.mkdir(exist_ok=True)

    port = b.free_port()
    cgs = b.Server("claimgraph", [args.claimgraph, "serve", "--store", cg_store, "--data", empty,
                                  "--ontology", empty, "--bind", f"127.0.0.1:{port}",
                                  "--reload-interval", 0],
                   port, "/sparql", "/healthz", work / "claimgraph-pages.log")
    try:
        base = cgs.url
        # The first search opens the index's readers: a word no claim has, so nothing is kept.
        timed_get(base + "/claims?q=zzzwarmup", html)
        shapes = {
            "`/claims?q=WORD`": [f"/claims?q={urllib.parse.quote(w)}" for w in words],
            "`/claims?q=WORD&status=Alleged`": [f"/claims?q={urllib.parse.quote(w)}&status=Alleged" for w in words],
            "`/claims?status=S` (no words)": [f"/claims?status={s}" for s in
                                              ("Alleged", "Reported", "Stated", "Denied", "Adjudicated")],
            "`/claims` (every claim)": ["/claims"],
        }
        pages = {}
        for name, paths in shapes.items():
            first, again = [], []
            for path in paths:
                first.append(timed_get(base + path, html)[0])
                again.append(timed_get(base + path, html)[0])
            pages[name] = {"first": summary(first), "again": summary(again)}
            b.say(f"{name}: {pages[name]}")
        claims = [f"/claims/{key}" for key, _, _ in picked]
        pages["a claim's page"] = {"first": summary([timed_get(base + p, html)[0] for p in claims])}
        b.say(f"claim pages: {pages['a claim' + chr(39) + 's page']}")
        results["pages"] = pages
    finally:
        cgs.stop()

    port = b.free_port()
    oxs = b.Server("oxigraph", [args.oxigraph, "serve", "--location", ox_store, "--bind",
                                f"127.0.0.1:{port}", "--union-default-graph"],
                   port, "/query", "/query?query=ASK%7B%7D", work / "oxigraph-pages.log")
    try:
        query = ("SELECT ?status (COUNT(?claim) AS ?n) WHERE { ?claim "
                 "<https://w3id.org/claimgraph/ns#status> ?status } GROUP BY ?status")
        url = oxs.url + "/query?query=" + urllib.parse.quote(query)
        results["oxigraph_status_counts"] = summary([timed_get(url, "application/sparql-results+json")[0]
                                                     for _ in range(3)])
        b.say(f"oxigraph status counts: {results['oxigraph_status_counts']}")
    finally:
        oxs.stop()
    out = work / f"pages-{args.claims}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    fill(args.claims, results)
    b.say(f"wrote {out}")


def fill(claims, r):
    def cell(s):
        return f"{s['median_ms']:,.1f} ms, p95 {s['p95_ms']:,.1f}, max {s['max_ms']:,.1f} ({s['requests']})"

    rows = [f"| at {claims:,} claims, one request at a time | first time | asked again (counts kept) |",
            "|---|---:|---:|"]
    for name, p in r["pages"].items():
        rows.append(f"| {name} | {cell(p['first'])} | {cell(p['again']) if 'again' in p else '—'} |")
    o = r["oxigraph_status_counts"]
    rows.append(f"| beside it: Oxigraph's server, the status counts alone (SPARQL `GROUP BY`) | {cell(o)} | — |")
    b.write_between_markers(ROOT / "docs/workspace.md", f"pages-{claims}", rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:
        for n in sys.argv[2:]:
            fill(int(n), json.loads((ROOT / f"target/bench/pages-{n}.json").read_text()))
    else:
        main()
