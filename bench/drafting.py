#!/usr/bin/env python3
"""Drafting and matching, measured: `./dev bench --drafting [--claims N]`.

1. Drafting speed: `claimgraph draft` on a 10,000-word article made of the fixture articles
   (tests/fixtures/drafting/texts, cycled), against the seed's claims and against the N claims
   of the generated corpus; the time `draft` reports covers drafting only (reading the sheets
   that say what is known is not counted). Median of 7 runs (3 against the corpus).
2. Matching: `POST /match` of sentences taken from the corpus's claims and changed (a number
   swapped, the first word dropped), 8 clients (wrk), against `claimgraph serve` on the corpus;
   beside it, the same sentences as the obvious SPARQL (claims whose text CONTAINS the
   sentence's two longest words) on `oxigraph serve` over the same N-Quads. The first /match
   after start builds the matcher from the store: its time and the server's memory are
   reported too.

Invariants: the corpus, stores and wrk script are bench.py's (`claimgraph gen --seed 1`, each
tool's bulk loader, bench/wrk/mix.lua); every answer's status is counted; results go to
target/bench/drafting-N.json and between the `bench:drafting-N` markers of docs/drafting.md.
"""

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as b  # noqa: E402

ROOT = b.ROOT
FIXTURES = ROOT / "tests/fixtures/drafting/texts"


def article(words=10_000):
    """Paragraphs of the fixture articles (not their headline/byline blocks), cycled."""
    paragraphs = []
    for path in sorted(FIXTURES.glob("*.txt")):
        paragraphs += [p for p in path.read_text().split("\n\n")[2:] if p.strip()]
    out, count, i = [], 0, 0
    while count < words:
        p = paragraphs[i % len(paragraphs)]
        out.append(p.strip())
        count += len(p.split())
        i += 1
    return "Bench article made of the fixture articles\n\n" + "\n\n".join(out) + "\n", count


def draft_ms(cg, text_path, data, out, runs):
    times = []
    for i in range(runs):
        r = subprocess.run([str(cg), "draft", str(text_path), "--key", f"bench-article-{i}",
                            "--publisher", "Bench", "--date", "2025-01-01", "--data", str(data),
                            "--out", str(out), "--force"],
                           capture_output=True, text=True, env={"CLAIMGRAPH_LOG": "warn", "PATH": "/usr/bin:/bin"})
        if r.returncode:
            raise SystemExit(f"draft failed: {r.stderr}")
        m = re.search(r"drafted (\d+) candidates .* in ([\d.]+) ms", r.stderr)
        times.append((float(m.group(2)), int(m.group(1))))
        # The text it archives is not wanted here.
        (data / "texts" / f"bench-article-{i}.txt").unlink(missing_ok=True)
    return statistics.median(t for t, _ in times), times[0][1]


def sentences(corpus, count, seed=1):
    """Claim texts and quotes from the corpus sheets, each changed a little."""
    rng = random.Random(seed)
    batches = sorted((corpus / "claims").glob("batch-*.toml"))
    picked = []
    for path in rng.sample(batches, min(10, len(batches))):
        sheet = tomllib.loads(path.read_text())
        for claim in rng.sample(sheet["claims"], min(count // 10 + 1, len(sheet["claims"]))):
            quotes = [a["quote"] for a in claim.get("appearances", [])]
            text = rng.choice(quotes) if quotes else claim["text"]
            words = text.split()
            if len(words) > 6:
                words = words[1:]
            text = re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), " ".join(words), count=1)
            picked.append((claim["key"], text))
    return picked[:count]


def contains_query(text):
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)}, key=len, reverse=True)[:2]
    filters = " && ".join(f'CONTAINS(LCASE(?t), "{w}")' for w in words) or "true"
    return ("SELECT ?claim WHERE { ?claim a <http://schema.org/Claim> ; <http://schema.org/text> ?t . "
            f"FILTER({filters}) }} LIMIT 3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--claimgraph", required=True)
    ap.add_argument("--oxigraph", required=True)
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    cg, oxi = Path(args.claimgraph), Path(args.oxigraph)
    work = ROOT / "target/bench"
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": b.machine(), "claims": args.claims}

    # 1. Drafting speed.
    text, words = article()
    text_path = work / "article-10k.txt"
    text_path.write_text(text)
    seed_data = work / "draft-seed-data"
    shutil.rmtree(seed_data, ignore_errors=True)
    shutil.copytree(ROOT / "data", seed_data)
    corpus, _ = b.generate(cg, args.claims, work)
    ms_seed, candidates = draft_ms(cg, text_path, seed_data, work / "draft-seed.toml", 7)
    # The command reads what is known from the sheets, all of them in memory: past a few hundred
    # thousand claims that is the server's job (POST /drafts, timed below, knows from the store).
    ms_corpus = None
    if args.claims <= 200_000:
        ms_corpus, _ = draft_ms(cg, text_path, corpus, work / "draft-corpus.toml", 3)
    results["drafting"] = {"words": words, "candidates": candidates,
                           "ms_against_seed": ms_seed, "ms_against_corpus": ms_corpus}
    b.say(f"drafting {words} words: {ms_seed:.1f} ms (seed known), {ms_corpus} ms "
          f"({args.claims:,} claims known), {candidates} candidates")

    # 2. Matching, beside the obvious SPARQL on Oxigraph's server.
    quads, keys = b.scan_corpus(corpus)
    keys_file = work / f"keys-{args.claims}.txt"
    b.write_keys(keys_file, keys)
    cg_store, ox_store = work / f"draft-cg.db-{args.claims}", work / f"draft-ox.db-{args.claims}"
    nq = corpus / "corpus.nq"
    # Loaded once per N (a store is marked once its load has finished).
    loaded = work / f"draft-stores-{args.claims}.loaded"
    if not loaded.exists():
        for d in (cg_store, ox_store):
            shutil.rmtree(d, ignore_errors=True)
        b.timed([cg, "load", "--store", cg_store, nq], stdout=subprocess.DEVNULL)
        b.timed([oxi, "load", "--location", ox_store, "--file", nq], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        loaded.write_text("loaded\n")
    else:
        b.say(f"reusing {cg_store} and {ox_store}")
    picked = sentences(corpus, 300)
    match_lines = [("match", "POST", "/match", "application/json", "application/json",
                    json.dumps({"text": t}, ensure_ascii=False)) for _, t in picked]
    sparql_lines = [("contains", "GET", "/query?query=" + urllib.parse.quote(contains_query(t)),
                     b.SPARQL_JSON, "", "") for _, t in picked]
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    port = b.free_port()
    cgs = b.Server("claimgraph", [cg, "serve", "--store", cg_store, "--data", empty, "--ontology", empty,
                                  "--bind", f"127.0.0.1:{port}", "--reload-interval", 0,
                                  "--write-token", b.TOKEN],
                   port, "/sparql", "/healthz", work / "claimgraph-drafting.log")
    try:
        started = time.monotonic()
        # The first /match starts the build; until it is done the answer is 503 + Retry-After.
        while True:
            request = urllib.request.Request(cgs.url + "/match", data=json.dumps({"text": picked[0][1]}).encode(),
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=3600) as r:
                    first = json.loads(r.read())
                break
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise
                time.sleep(1)
        build = time.monotonic() - started
        # Quality on the way: how often the claim a sentence was made from ranks first.
        top1 = 0
        for key, sentence in picked:
            request = urllib.request.Request(cgs.url + "/match", data=json.dumps({"text": sentence}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as r:
                found = json.loads(r.read())["matches"]
            top1 += bool(found) and found[0]["claim"] == key
        # POST /drafts of the same article, with the store's N claims known.
        body = json.dumps({"text": text, "key": "bench-article-http", "publisher": "Bench",
                           "date": "2025-01-01"}).encode()
        times = []
        for _ in range(5):
            request = urllib.request.Request(cgs.url + "/drafts", data=body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {b.TOKEN}"})
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=600) as r:
                r.read()
            times.append((time.monotonic() - started) * 1000)
        results["drafts_http_ms"] = round(statistics.median(times), 1)
        results["match_build_seconds"] = round(build, 2)
        results["match_top1"] = round(top1 / len(picked), 3)
        results["match"] = b.wrk(cgs, match_lines, keys_file, 8, args.seconds, work, "match")
        results["claimgraph_rss_mib"] = round(b.rss(cgs.proc.pid)[0] / 1024, 1)
        assert first["matches"] is not None
    finally:
        cgs.stop()
    port = b.free_port()
    oxs = b.Server("oxigraph", [oxi, "serve", "--location", ox_store, "--bind", f"127.0.0.1:{port}",
                                "--union-default-graph"],
                   port, "/query", "/query?query=ASK%7B%7D", work / "oxigraph-drafting.log")
    try:
        results["contains"] = b.wrk(oxs, sparql_lines, keys_file, 8, args.seconds, work, "contains")
    finally:
        oxs.stop()
    out = work / f"drafting-{args.claims}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    fill(args.claims, results)
    b.say(f"wrote {out}")


def fill(claims, r):
    m, c = r["match"], r["contains"]
    rows = [
        "| | claimgraph | Oxigraph server |",
        "|---|---:|---:|",
        f"| draft a {r['drafting']['words']:,}-word article ({r['drafting']['candidates']} candidates): "
        f"`draft`, seed known / {claims:,} claims known | {r['drafting']['ms_against_seed']:.1f} ms / "
        + (f"{r['drafting']['ms_against_corpus']:.1f} ms" if r['drafting']['ms_against_corpus'] else "not run")
        + " | — |",
        f"| … `POST /drafts` on the server, {claims:,} claims known (whole request) | "
        f"{r['drafts_http_ms']:.1f} ms | — |",
        f"| match a sentence, 8 clients: requests/s | {m['per_second']:,.0f} | {c['per_second']:,.1f} "
        "(SPARQL `CONTAINS` of its two longest words) |",
        f"| … p50 / p99 | {m['p50_ms']:.1f} / {m['p99_ms']:.1f} ms | "
        + (f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms |" if c["requests"] >= 100 else
           f"{c['requests']} answered in {c['seconds']:.0f} s (too few for percentiles) |"),
        f"| … errors (non-2xx, socket) | {m['non_2xx']}, {m['socket_errors']} | {c['non_2xx']}, {c['socket_errors']} |",
        f"| matcher built from the store at the first /match | {r['match_build_seconds']} s | — |",
        f"| server memory after the run (RSS) | {r['claimgraph_rss_mib']:,} MiB | — |",
        f"| the claim a changed sentence was made from ranked first | {r['match_top1'] * 100:.1f}% | — |",
    ]
    b.write_between_markers(ROOT / "docs/drafting.md", f"drafting-{claims}", rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:  # the tables of saved runs: drafting.py --render N...
        for n in sys.argv[2:]:
            fill(int(n), json.loads((ROOT / f"target/bench/drafting-{n}.json").read_text()))
    else:
        main()
