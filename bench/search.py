#!/usr/bin/env python3
"""Search, facets, matching and the whole-store questions, measured: `./dev bench --search
[--claims N]`.

1. The claims index: `claimgraph reindex` of the corpus store, three times (the median time;
   size on disk).
2. `GET /claims?q=WORD&facets=status,claimant`, facet counts alone (`/claims?facets=…&limit=1`,
   with or without a status filter) and `POST /match` of a changed sentence, 32 clients (wrk),
   against `claimgraph serve` on the corpus, after a warm-up (the first search of each word,
   whose facet counts are not kept yet, is timed apart, one client); beside them, the search done the obvious way in
   SPARQL (claims whose text CONTAINS the word, 50 of them) on `oxigraph serve` over the same
   N-Quads.
3. Search quality on the corpus and on the seed: the claim a query was made from is in the top
   3, for queries made of its own words (the quote of its first appearance, through
   `/claims?q=`) and for paraphrases of them (`/match`): words swapped for synonyms from a fixed
   list of common news words (SYNONYMS below, not chosen from the corpus), the first number
   changed by one; and, apart, paraphrases whose first number is drawn at random.
4. `claimgraph ingest` of the corpus's entities and first 10 claim sheets (10,000 claims) into
   an empty store, with the claims index and with writes leaving it behind
   (`CLAIMGRAPH_BENCH_NO_INDEX`), in turn, twice each (medians). `--ingest-only` runs just this
   and adds it to the saved results; `--index-only` runs just the index build and claimgraph's
   answers to the library's questions, keeping the saved results' other figures (Oxigraph's
   answers among them: its store and the questions' SPARQL do not change).

Invariants: the corpus and stores are drafting.py's (`claimgraph gen --seed 1`, each tool's bulk
loader); every answer's status is counted; results go to target/bench/search-N.json and
between the `bench:search-N` markers of docs/search.md.
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
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as b  # noqa: E402

ROOT = b.ROOT

# Common news words and a synonym each: general English, written before looking at any corpus.
SYNONYMS = {
    "said": "stated", "says": "states", "paid": "gave", "company": "firm", "shared": "passed",
    "records": "files", "role": "part", "bought": "acquired", "sold": "offloaded",
    "agreed": "consented", "received": "got", "million": "mn", "hid": "concealed",
    "knew": "was aware of", "began": "started", "ended": "stopped", "signed": "inked",
    "data": "information", "users": "customers", "customers": "clients", "money": "funds",
    "report": "account", "lawsuit": "suit", "court": "tribunal", "judge": "justice",
    "secret": "covert", "deal": "agreement", "agreement": "deal", "worked": "collaborated",
    "funded": "financed", "approved": "cleared", "denied": "rejected", "claimed": "asserted",
    "large": "big", "small": "little", "with": "alongside", "from": "since", "had": "held",
    "access": "entry", "private": "personal", "messages": "texts", "fined": "penalised",
    "misled": "deceived", "regulators": "watchdogs", "investors": "backers",
}


def paraphrase(text, rng):
    words = text.split()
    for i, w in enumerate(words):
        core = w.strip(".,;:'\"()").lower()
        if core in SYNONYMS and rng.random() < 0.7:
            words[i] = w.lower().replace(core, SYNONYMS[core])
    text = " ".join(words)
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text, count=1)


def far_paraphrase(text, rng):
    """`paraphrase`, but with its first number replaced by one of as many digits drawn at random
    (where `paraphrase` adds 1): how matching fares when the number tells nothing."""
    text = paraphrase(text, rng)

    def other(m):
        digits = len(m.group(0))
        low = 10 ** (digits - 1) if digits > 1 else 0
        return str(rng.randrange(low, 10 ** digits))
    return re.sub(r"\d+", other, text, count=1)


def corpus_claims(corpus, count, seed=1):
    rng = random.Random(seed)
    batches = sorted((corpus / "claims").glob("batch-*.toml"))
    picked = []
    for path in rng.sample(batches, min(10, len(batches))):
        sheet = tomllib.loads(path.read_text())
        picked += rng.sample(sheet["claims"], min(count // 10 + 1, len(sheet["claims"])))
    return [(c["key"], own_words(c), c["text"]) for c in picked[:count]]


def own_words(claim):
    """A claim's own words as a reader meets them: the quote of its first appearance (a
    generated corpus repeats propositions, so two claims can share a text, never a quote)."""
    quotes = [a["quote"] for a in claim.get("appearances", []) if a.get("quote")]
    return quotes[0] if quotes else claim["text"]


def seed_claims():
    sheet = tomllib.loads((ROOT / "data/claims/zerohedge-2024-04-02.toml").read_text())
    return [(c["key"], own_words(c), c["text"]) for c in sheet["claims"]]


def get_json(url, body=None):
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=600) as r:
        return json.loads(r.read())


def quality(url, claims, seed=2):
    """Top-3 rates: own words through /claims?q=, paraphrases through /match. A generated corpus
    states some propositions in several claims (other claimants, other documents), and a
    paraphrase cannot tell them apart: `paraphrase_same_proposition_top3` also counts a claim
    with the very same text. Some claims even share their quote but for its numbers ("... (exhibit
    193)", "... (exhibit 647)"): a paraphrase that changes the number then restates each of them
    as much, and `identifiable_paraphrase_top3` is the rate over the other queries
    (`identifiable` of them). `far_number_paraphrase_top3` is the rate for paraphrases whose
    number is drawn at random instead (`far_paraphrase`), on its own random numbers."""
    rng, far_rng = random.Random(seed), random.Random(seed + 1)
    own = para = same = identifiable = found_identifiable = far = 0
    texts = {}

    def text_of(key):
        if key not in texts:
            texts[key] = get_json(f"{url}/claims/{urllib.parse.quote(key)}")["text"]
        return texts[key]

    for key, words, text in claims:
        query = " ".join(re.findall(r"\w+", words))
        found = get_json(f"{url}/claims?" + urllib.parse.urlencode({"q": query, "limit": 3}))
        own += key in [c["id"] for c in found["claims"]]
        found = [m["claim"] for m in get_json(f"{url}/match", {"text": paraphrase(words, rng), "limit": 3})["matches"]]
        para += key in found
        far_found = get_json(f"{url}/match", {"text": far_paraphrase(words, far_rng), "limit": 3})["matches"]
        far += key in [m["claim"] for m in far_found]
        same += key in found or any(text_of(k) == text for k in found)
        if not quote_shared_but_for_numbers(url, key, words):
            identifiable += 1
            found_identifiable += key in found
    n = len(claims)
    return {"queries": n, "own_words_top3": round(own / n, 3), "paraphrase_top3": round(para / n, 3),
            "paraphrase_same_proposition_top3": round(same / n, 3), "identifiable": identifiable,
            "identifiable_paraphrase_top3": round(found_identifiable / max(identifiable, 1), 3),
            "far_number_paraphrase_top3": round(far / n, 3)}


def quote_shared_but_for_numbers(url, key, quote):
    """Whether a claim other than `key` has `quote` among its quotes, numbers aside: every claim
    holding the quote's words as a phrase (a search), each quote compared with its digits out."""
    def masked(text):
        return re.sub(r"\d+", "#", text)

    phrase = " ".join(re.findall(r"[^\W\d]+", quote))
    page = "/claims?" + urllib.parse.urlencode({"q": f'"{phrase}"', "limit": 500})
    while page:
        found = get_json(url + page)
        for other in found["claims"]:
            if other["id"] == key:
                continue
            claim = get_json(f"{url}/claims/{urllib.parse.quote(other['id'])}")
            if any(masked(a.get("exact") or "") == masked(quote) for a in claim.get("appearances", [])):
                return True
        page = found.get("next")
    return False


def timed_answer(url, accept, timeout):
    """(seconds to the first body bytes, seconds in all, rows) of one GET, or None on time-out."""
    import http.client
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers={"Accept": accept})
        r = conn.getresponse()
        if r.status != 200:
            raise SystemExit(f"{url}: {r.status} {r.read()[:300]!r}")
        first = r.read1(65536)
        ttfb = time.monotonic() - started
        lines = first.count(b"\n")
        while chunk := r.read1(1 << 20):
            lines += chunk.count(b"\n")
        return ttfb, time.monotonic() - started, max(lines - 1, 0)
    except TimeoutError:
        return None
    except OSError as e:
        # A server still busy with the last answer that timed out may drop the connection.
        return str(e)
    finally:
        conn.close()


def first_searches(url, paths):
    """Milliseconds of the first request of each distinct search (one client): median, p90, max."""
    times = []
    for path in dict.fromkeys(paths):
        started = time.monotonic()
        get_json(url + path)
        times.append((time.monotonic() - started) * 1000)
    times.sort()
    return {"searches": len(times), "median_ms": round(times[len(times) // 2], 1),
            "p90_ms": round(times[int(len(times) * 0.9)], 1), "max_ms": round(times[-1], 1)}


def questions(url, query_url, names, sparql, timeout):
    """Each library question, timed: median of 3 when quick, else once."""
    out = {}
    for name in names:
        target = url(name) if sparql is None else query_url + "?query=" + urllib.parse.quote(sparql[name])
        runs = []
        for _ in range(3):
            r = timed_answer(target, "text/tab-separated-values", timeout)
            if r is None or isinstance(r, str):
                runs = r
                break
            runs.append(r)
            if r[1] > 5:
                break
        if runs is None:
            out[name] = {"timed_out_after_s": timeout}
        elif isinstance(runs, str):
            out[name] = {"failed": runs}
        else:
            runs.sort(key=lambda r: r[1])
            ttfb, total, rows = runs[len(runs) // 2]
            out[name] = {"first_bytes_ms": round(ttfb * 1000, 1), "total_ms": round(total * 1000, 1),
                         "rows": rows, "rows_per_s": round(rows / total) if total else None}
        b.say(f"{name}: {out[name]}")
    return out


def ingest(cg, corpus, work, sheets=10, rounds=2):
    """Ingest with and without the claims index following, in turn (seconds, medians)."""
    claims = corpus / "claims"
    files = [claims / "entities.toml", *sorted(claims.glob("batch-*.toml"))[:sheets]]
    store = work / "ingest-index.db"
    times = {"with_index": [], "without_index": []}
    for _ in range(rounds):
        for kind in ("without_index", "with_index"):
            shutil.rmtree(store, ignore_errors=True)
            env = {"CLAIMGRAPH_LOG": "warn", "PATH": "/usr/bin:/bin"}
            if kind == "without_index":
                env["CLAIMGRAPH_BENCH_NO_INDEX"] = "1"
            times[kind].append(b.timed([cg, "ingest", "--store", store, "--data", corpus, *files],
                                       stderr=subprocess.DEVNULL, env=env))
    shutil.rmtree(store, ignore_errors=True)
    claims_in = sum(len(tomllib.loads(f.read_text()).get("claims", [])) for f in files)
    r = {"claims": claims_in, "sheets": len(files),
         **{k: round(statistics.median(v), 2) for k, v in times.items()}}
    r["ratio"] = round(r["without_index"] / r["with_index"], 2)
    b.say(f"ingest: {r}")
    return r


def du(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--claimgraph", required=True)
    ap.add_argument("--oxigraph", required=True)
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--question-timeout", type=int, default=300,
                    help="seconds one answer of a library question may take")
    ap.add_argument("--ingest-only", action="store_true",
                    help="measure only ingest with and without the index, into the saved results")
    ap.add_argument("--index-only", action="store_true",
                    help="measure only the index build and claimgraph's answers to the questions, "
                         "into the saved results")
    args = ap.parse_args()
    cg, oxi = Path(args.claimgraph), Path(args.oxigraph)
    work = ROOT / "target/bench"
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": b.machine(), "claims": args.claims, "connections": args.connections}
    corpus, _ = b.generate(cg, args.claims, work)
    out = work / f"search-{args.claims}.json"
    if args.ingest_only:
        results = json.loads(out.read_text())
        results["ingest"] = ingest(cg, corpus, work)
        out.write_text(json.dumps(results, indent=2) + "\n")
        fill(args.claims, results)
        return
    cg_store, ox_store = work / f"draft-cg.db-{args.claims}", work / f"draft-ox.db-{args.claims}"
    loaded = work / f"draft-stores-{args.claims}.loaded"
    if not loaded.exists():
        for d in (cg_store, ox_store):
            shutil.rmtree(d, ignore_errors=True)
        nq = corpus / "corpus.nq"
        b.timed([cg, "load", "--store", cg_store, nq], stdout=subprocess.DEVNULL)
        b.timed([oxi, "load", "--location", ox_store, "--file", nq], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        loaded.write_text("loaded\n")

    if args.index_only:
        results = json.loads(out.read_text())
        results["index_run"] = {"at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                "commit": b.sh("git rev-parse --short HEAD")}
    # 1. The index, built from the store three times (the median: the build is bound by the CPU,
    # and the machine's other load moves one build by a fifth).
    builds = []
    for _ in range(3):
        r = subprocess.run([str(cg), "reindex", "--store", str(cg_store)], capture_output=True,
                           text=True, env={"CLAIMGRAPH_LOG": "warn", "PATH": "/usr/bin:/bin"})
        if r.returncode:
            raise SystemExit(f"reindex failed: {r.stderr}")
        m = re.search(r"indexed (\d+) claims in ([\d.]+)(m?s)", r.stderr)
        builds.append(round(float(m.group(2)) / (1000 if m.group(3) == "ms" else 1), 1))
        b.say(f"index build: {builds[-1]} s")
    results["index"] = {"claims": int(m.group(1)), "build_seconds": statistics.median(builds),
                        "builds_seconds": builds, "mib": round(du(cg_store / "index") / 2**20, 1)}
    b.say(f"index: {results['index']}")

    picked = corpus_claims(corpus, 300)
    rng = random.Random(3)
    words = [rng.choice([w for w in re.findall(r"[A-Za-z]{4,}", t)] or ["claim"]).lower() for _, t, _ in picked]
    search_lines = [("search", "GET", "/claims?" + urllib.parse.urlencode(
        {"q": w, "facets": "status,claimant", "limit": 20}), "application/json", "", "") for w in words]
    statuses = ["", "Alleged", "Reported", "Stated", "Denied", "Adjudicated"]
    facet_lines = [("facets", "GET", "/claims?" + urllib.parse.urlencode(
        {k: v for k, v in {"status": s, "facets": "status,claimant", "limit": 1}.items() if v}),
        "application/json", "", "") for s in statuses]
    match_lines = [("match", "POST", "/match", "application/json", "application/json",
                    json.dumps({"text": paraphrase(t, rng)}, ensure_ascii=False)) for _, t, _ in picked]
    contains_lines = [("contains", "GET", "/query?query=" + urllib.parse.quote(
        "SELECT ?claim ?text WHERE { ?claim a <http://schema.org/Claim> ; <http://schema.org/text> ?text . "
        f'FILTER(CONTAINS(LCASE(?text), "{w}")) }} LIMIT 50'), b.SPARQL_JSON, "", "") for w in words]
    keys_file = work / f"keys-{args.claims}.txt"
    if not keys_file.exists():
        b.write_keys(keys_file, b.scan_corpus(corpus)[1])
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    conns = args.connections
    library = {p.stem: p.read_text() for p in sorted((ROOT / "queries").glob("*.rq"))}
    names = list(library)

    port = b.free_port()
    cgs = b.Server("claimgraph", [cg, "serve", "--store", cg_store, "--data", empty, "--ontology", empty,
                                  "--bind", f"127.0.0.1:{port}", "--reload-interval", 0,
                                  "--write-token", b.TOKEN, "--max-queries", 64, "--query-timeout", 0,
                                  # Whole-store answers run past the defaults' caps, as on Oxigraph's server.
                                  "--max-result-rows", 0, "--max-result-bytes", 0],
                   port, "/sparql", "/healthz", work / "claimgraph-search.log")
    try:
        if args.index_only:
            # The full run's figure stands: after the questions alone, the server has not
            # searched or matched.
            results["questions"]["claimgraph"] = questions(lambda n: f"{cgs.url}/questions/{n}", None,
                                                           names, None, args.question_timeout)
            out.write_text(json.dumps(results, indent=2) + "\n")
            fill(args.claims, results)
            return
        results["corpus_quality"] = quality(cgs.url, corpus_claims(corpus, 200, seed=7))
        b.say(f"quality on the corpus: {results['corpus_quality']}")
        # A word's first search counts its facets; later ones, until the next write, read the
        # counts kept. Each word's first search is timed alone, then the 32 clients measure the
        # steady state after a warm-up, as the SPARQL mix does (bench.py).
        results["first_search"] = first_searches(cgs.url, [line[2] for line in search_lines])
        b.say(f"first search of each word: {results['first_search']}")
        b.wrk(cgs, search_lines, keys_file, 8, 5, work, "warmup-search")
        results["search"] = b.wrk(cgs, search_lines, keys_file, conns, args.seconds, work, "search")
        results["facets"] = b.wrk(cgs, facet_lines, keys_file, conns, args.seconds, work, "facets")
        results["match"] = b.wrk(cgs, match_lines, keys_file, conns, args.seconds, work, "match")
        results["claimgraph_rss_mib"] = round(b.rss(cgs.proc.pid)[0] / 1024, 1)
        results["questions"] = {"claimgraph": questions(lambda n: f"{cgs.url}/questions/{n}", None, names, None,
                                                        args.question_timeout)}
    finally:
        cgs.stop()

    port = b.free_port()
    oxs = b.Server("oxigraph", [oxi, "serve", "--location", ox_store, "--bind", f"127.0.0.1:{port}",
                                "--union-default-graph"],
                   port, "/query", "/query?query=ASK%7B%7D", work / "oxigraph-search.log")
    try:
        results["contains"] = b.wrk(oxs, contains_lines, keys_file, conns, args.seconds, work, "contains")
        results["questions"]["oxigraph"] = questions(None, oxs.url + "/query", names, library,
                                                     args.question_timeout)
    finally:
        oxs.stop()

    # Quality on the seed: a server of its own on the seed's data.
    seed_store = work / "search-seed.db"
    shutil.rmtree(seed_store, ignore_errors=True)
    port = b.free_port()
    seed = b.Server("claimgraph-seed", [cg, "serve", "--store", seed_store, "--data", ROOT / "data",
                                        "--ontology", ROOT / "ontology", "--bind", f"127.0.0.1:{port}"],
                    port, "/sparql", "/healthz", work / "claimgraph-search-seed.log")
    try:
        results["seed_quality"] = quality(seed.url, seed_claims())
        b.say(f"quality on the seed: {results['seed_quality']}")
    finally:
        seed.stop()
    results["ingest"] = ingest(cg, corpus, work)
    out.write_text(json.dumps(results, indent=2) + "\n")
    fill(args.claims, results)
    b.say(f"wrote {out}")


def pct(q):
    rates = ", ".join(f"{q[k] * 100:.1f}%" for k in ("own_words_top3", "paraphrase_top3",
                                                     "paraphrase_same_proposition_top3") if k in q)
    if "identifiable" in q:
        rates += (f"; paraphrase, the {q['identifiable']} queries whose claim no other claim's quote "
                  f"matches but for its numbers: {q['identifiable_paraphrase_top3'] * 100:.1f}%")
    if "far_number_paraphrase_top3" in q:
        rates += f"; paraphrase with a random number: {q['far_number_paraphrase_top3'] * 100:.1f}%"
    return rates


def cell(r):
    if r["requests"] < 100:
        return f"{r['requests']} answered in {r['seconds']:.0f} s"
    return f"{r['per_second']:,.0f}/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"


def fill(claims, r):
    i, c = r["index"], r["contains"]
    build = f"{i['build_seconds']} s"
    if len(i.get("builds_seconds", [])) > 1:
        build += f" (median of {', '.join(map(str, i['builds_seconds']))})"
    rows = [
        f"| at {claims:,} claims, {r['connections']} clients | claimgraph | Oxigraph server |",
        "|---|---:|---:|",
        f"| `/claims?q=WORD&facets=status,claimant` | {cell(r['search'])} | {cell(c)} "
        "(SPARQL `CONTAINS`, 50 claims, no counts) |",
        *([f"| … the first search of each of its {f['searches']} words, one client (counts not kept yet): "
            f"median, p90, max | {f['median_ms']} ms, {f['p90_ms']} ms, {f['max_ms']} ms | — |"]
          if (f := r.get("first_search")) else []),
        f"| facet counts alone (`facets=status,claimant&limit=1`) | {cell(r['facets'])} | — |",
        f"| `POST /match` of a changed sentence | {cell(r['match'])} | — |",
        "| errors (non-2xx, socket): search, facets, match / CONTAINS | "
        + ", ".join(f"{r[k]['non_2xx']}+{r[k]['socket_errors']}" for k in ("search", "facets", "match"))
        + f" | {c['non_2xx']}+{c['socket_errors']} |",
        f"| index build (`claimgraph reindex`), size on disk | {build}, {i['mib']:,} MiB | — |",
        *([f"| `ingest` of {r['ingest']['claims']:,} claims ({r['ingest']['sheets']} sheets) into an empty store: "
            f"with the index, without (÷) | {r['ingest']['with_index']} s, {r['ingest']['without_index']} s "
            f"({r['ingest']['ratio']}×) | — |"] if "ingest" in r else []),
        f"| server memory after the run (its own: RSS less the files it maps, the index's and the store's) | "
        + (f"{r['claimgraph_rss_mib']:,} MiB" if r.get("claimgraph_rss_mib") else "not recorded") + " | — |",
        f"| top 3 holds the claim: own words (`q=`), paraphrase (`/match`), paraphrase counting a claim of the same text; "
        f"corpus, {r['corpus_quality']['queries']} queries | {pct(r['corpus_quality'])} | — |",
        f"| … on the seed, {r['seed_quality']['queries']} queries | {pct(r['seed_quality'])} | — |",
    ]
    q = r.get("questions", {})
    if q:
        rows += ["", f"| question, whole store, {claims:,} claims | claimgraph `/questions/NAME`: first bytes, all, rows/s "
                 "| Oxigraph server (its SPARQL): first bytes, all, rows/s | rows |", "|---|---:|---:|---:|"]
        def qcell(x):
            if "timed_out_after_s" in x:
                return f"over {x['timed_out_after_s']} s"
            if "failed" in x:
                return f"failed: {x['failed']}"
            return f"{x['first_bytes_ms']:,.0f} ms, {x['total_ms']:,.0f} ms, {x['rows_per_s'] or 0:,}/s"
        for name, c in q["claimgraph"].items():
            o = q.get("oxigraph", {}).get(name, {})
            count = c.get("rows", o.get("rows"))
            rows.append(f"| {name} | {qcell(c)} | {qcell(o) if o else '—'} | "
                        f"{'—' if count is None else format(count, ',')} |")
    if run := r.get("index_run"):
        rows += ["", f"_The index build and claimgraph's answers to the questions: "
                 f"an `--index-only` run of {run['at']} (`{run['commit']}`); the other figures, Oxigraph's "
                 "among them, from the full run before it._"]
    b.write_between_markers(ROOT / "docs/search.md", f"search-{claims}", rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:
        for n in sys.argv[2:]:
            fill(int(n), json.loads((ROOT / f"target/bench/search-{n}.json").read_text()))
    else:
        main()
