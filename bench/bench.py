#!/usr/bin/env python3
"""claimgraph side by side with `oxigraph serve`: one run, one machine, same data, same client.

Run through `./dev bench [--claims N] [--quick]`, which builds claimgraph in release, installs
wrk and the pinned `oxigraph` CLI (bench/requirements.txt) and then calls this script.

Invariants:
- both servers get exactly the same corpus (`claimgraph gen --seed 1`, loaded as N-Quads by each
  tool's own bulk loader), the same queries (byte for byte, only the endpoint path differs) and
  the same client (wrk with bench/wrk/mix.lua, which draws parameters per request);
- claimgraph serves with an empty --data and --ontology, so its store holds exactly what
  oxigraph's holds; oxigraph runs with --union-default-graph, claimgraph's semantics;
- every latency is recorded (wrk's histogram), every non-2xx answer and socket error is counted
  and reported; nothing is dropped from a figure;
- the workloads alternate between the two servers, so a change in the shared machine's load
  hits both alike; those that measure claimgraph alone (its routes, the load test) come last,
  with Oxigraph's server stopped, so that its memory does not take the page cache;
- the comparison runs claimgraph without a time limit and with 64 query slots (Oxigraph's
  server has neither bound); the load test restarts it with every limit at its default, as a
  user starts it, and counts every refusal.

Output: a table on stdout, target/bench/results-N.json and bench/throughput-N.svg.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:7878/"
TOKEN = "bench-write-token"
SPARQL_JSON = "application/sparql-results+json"
# The 1-minute load average as each workload starts: the machine is shared.
LOADAVG = []
NQUADS = "application/n-quads"


def say(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def machine():
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "nproc": int(sh("nproc") or 0),
        "cpu": sh("awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo"),
        "memory": mem,
        "disk": sh("df -h --output=source,fstype,size,avail /work | tail -1"),
        "kernel": sh("uname -r"),
    }


def timed(cmd, **kw):
    say(" ".join(str(c) for c in cmd))
    start = time.monotonic()
    subprocess.run([str(c) for c in cmd], check=True, **kw)
    return time.monotonic() - start


# ---------------------------------------------------------------------------------------------
# The corpus


def generate(cg, claims, work):
    """Generates the corpus once per N (gen is deterministic: a finished one is reused)."""
    corpus = work / f"corpus-{claims}"
    done = corpus / ".complete"
    if done.exists():
        say(f"reusing {corpus} (same --claims and --seed give byte-identical output)")
        return corpus, json.loads(done.read_text())["seconds"]
    shutil.rmtree(corpus, ignore_errors=True)
    seconds = timed([cg, "gen", "--claims", claims, "--seed", 1, "--out", corpus])
    done.write_text(json.dumps({"seconds": seconds}))
    return corpus, seconds


def scan_corpus(corpus):
    """Counts quads and collects the keys of claims, entities and sources (documents) from
    corpus.nq: the parameters drawn per request."""
    prefixes = {kind: f"<{BASE}{kind}s/" if kind != "entity" else f"<{BASE}entities/"
                for kind in ("claim", "source", "entity")}
    found = {kind: set() for kind in prefixes}
    quads = 0
    with open(corpus / "corpus.nq", "rb") as f:
        for raw in f:
            quads += 1
            line = raw.decode()
            for kind, prefix in prefixes.items():
                if line.startswith(prefix):
                    key = line[len(prefix):line.index(">")]
                    if "#" not in key and "/" not in key:
                        found[kind].add(key)
                    break
    return quads, {kind: sorted(v) for kind, v in found.items()}


# ---------------------------------------------------------------------------------------------
# The request mix

PLACEHOLDER_ENTITY = re.compile(r"<entities/[^>]*>")

# Library queries left out of the request mix, with the reason (recorded in the results). One
# request that runs for minutes would leave the mix measuring only that request.
# Whole-store questions: one request reads every claim (a dashboard list or count), so in a
# concurrent mix a handful of them would be all that gets measured, and a request abandoned at
# the end of a point keeps a server busy into the next one. They are timed on their own (single
# client, both servers, `per_query`) and left out of the concurrent workloads.
AGGREGATES = {"claims-by-status", "claims-resting-on-allegations"}

EXCLUDED: dict[str, str] = {
    # (claims-resting-on-allegations was here while its FILTER NOT EXISTS took over 60 s per
    # request at 10,000 claims; written with MINUS it takes about a second.)
}


def library_templates():
    """The fact-checker library queries/*.rq, each scoped to one random claim, entity or document
    per request. A query with ?claim gets `VALUES ?claim { <claim> }` first in its WHERE; one
    about a document gets the same for ?document; the entity query has its entity replaced;
    the AGGREGATES stay as they are. Comment lines are dropped
    (the body travels on one line)."""
    out = []
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = "\n".join(l for l in path.read_text().splitlines() if not l.lstrip().startswith("#"))
        name = path.stem
        if name in EXCLUDED:
            continue
        if PLACEHOLDER_ENTITY.search(text):
            text = PLACEHOLDER_ENTITY.sub("@ENTITY@", text)
        else:
            var = None
            if name in AGGREGATES:
                pass  # a whole-store question, asked as it is
            elif name == "denials":
                var = "?disputed"  # who denies this claim
            elif "?claim" in text:
                var = "?claim"
            elif "?document" in text:
                var = "?document"
            if var:
                param = "@DOC@" if var == "?document" else "@CLAIM@"
                text = re.sub(r"WHERE\s*\{", lambda m: m.group(0) + f" VALUES {var} {{ {param} }}",
                              text, count=1, flags=re.I)
        out.append((f"q:{name}", text))
    out.append(("q:claim-lookup", "SELECT * WHERE { @CLAIM@ ?p ?o }"))
    out.append(("q:entity-lookup", "SELECT * WHERE { @ENTITY@ ?p ?o }"))
    return out


def sparql_lines(endpoint, aggregates=True):
    return [(name, "POST", endpoint, SPARQL_JSON, "application/sparql-query", q.replace("\n", " "))
            for name, q in library_templates() if aggregates or name[2:] not in AGGREGATES]


ROUTES = [
    ("r:claim-json", "GET", "/claims/@CLAIMKEY@?format=json", "application/json", "", ""),
    ("r:claim-provenance", "GET", "/claims/@CLAIMKEY@/provenance", "application/json", "", ""),
    ("r:provenance-lookup", "GET", "/provenance?iri=@CLAIMENC@", "application/json", "", ""),
]


def write_keys(path, keys):
    """The keys for mix.lua: per kind a line "KIND COUNT WIDTH", then its keys, one per line,
    padded with spaces to WIDTH. wrk loads the script once per thread, and starts each thread
    as soon as its script is loaded, but times the run only once every thread has started: with
    a key per line to parse (1.4 million at 1,000,000 claims, about 8 s), the first thread ran
    that long untimed. Fixed-width records are read in one piece and indexed, never parsed."""
    with open(path, "wb") as f:  # widths in bytes, as mix.lua indexes them
        for kind, values in keys.items():
            encoded = [v.encode() for v in values]
            width = max(map(len, encoded), default=0)
            f.write(f"{kind} {len(encoded)} {width}\n".encode())
            f.write(b"".join(v.ljust(width) + b"\n" for v in encoded))


def write_templates(path, lines):
    path.write_text("".join("\t".join(fields) + "\n" for fields in lines))


# ---------------------------------------------------------------------------------------------
# Servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    """(resident memory of the process's own, VmHWM) in KiB from /proc. Its own: VmRSS less
    RssFile, the pages of files it maps. claimgraph reads its store's files through mmap
    (vendor/README.md): the pages it has read then count in its VmRSS, where Oxigraph's server
    reads the same pages into the OS's page cache with pread and they do not; both are the page
    cache. VmHWM, the peak, counts them."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:", "RssFile:")):
                k, v = line.split(":")
                values[k] = int(v.split()[0])
    except FileNotFoundError:
        return 0, 0
    return values.get("VmRSS", 0) - values.get("RssFile", 0), values.get("VmHWM", 0)


def record_memory(results, name, pid):
    """A server's own resident memory at the end of its work (`rss`) and its peak (VmHWM,
    mapped files' pages included), in MiB, from one read."""
    now, peak = rss(pid)
    results.setdefault("rss_end_mib", {})[name] = round(now / 1024, 1)
    results.setdefault("peak_rss_mib", {})[name] = round(peak / 1024, 1)


class Server:
    def __init__(self, name, cmd, port, query_path, ready_path, log):
        self.name, self.port, self.query_path = name, port, query_path
        self.url = f"http://127.0.0.1:{port}"
        say(f"starting {name}: {' '.join(str(c) for c in cmd)}")
        self.log = open(log, "w")
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} not ready after 600 s; see {log}")
            time.sleep(0.2)
        say(f"{name} ready at {self.url}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# Workloads


def wrk(server, lines, keys_file, conns, seconds, work, label, token=""):
    templates = work / f"templates-{label}.tsv"
    write_templates(templates, lines)
    out = work / f"wrk-{label}.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ, BENCH_TEMPLATES=str(templates), BENCH_KEYS=str(keys_file),
               BENCH_OUT=str(out), BENCH_BASE=BASE, BENCH_TOKEN=token)
    threads = max(1, min(conns, 2))
    cmd = ["wrk", "-t", threads, "-c", conns, "-d", f"{seconds}s", "--timeout", "120s",
           "-s", ROOT / "bench/wrk/mix.lua", server.url]
    say(f"{label}: wrk -c {conns} -d {seconds}s against {server.name}")
    LOADAVG.append((label, Path("/proc/loadavg").read_text().split()[0]))
    subprocess.run([str(c) for c in cmd], env=env, check=True, stdout=subprocess.DEVNULL)
    r = json.loads(out.read_text())
    if r["requests"] and sum(r["statuses"].values()) != r["requests"]:
        # Every answer is counted by status; a gap means the script lost them (the error
        # column would then read 0 whatever the servers answered).
        raise SystemExit(f"{label}: {r['requests']} requests but statuses {r['statuses']}")
    secs = r["duration_us"] / 1e6
    non2xx = sum(v for k, v in r["statuses"].items() if not k.startswith("2"))
    socket_errors = sum(v for k, v in r["errors"].items() if k != "status")
    return {
        "connections": conns,
        "seconds": round(secs, 2),
        "requests": r["requests"],
        "per_second": round(r["requests"] / secs, 1),
        "p50_ms": r["latency_us"]["p50"] / 1000,
        "p90_ms": r["latency_us"]["p90"] / 1000,
        "p99_ms": r["latency_us"]["p99"] / 1000,
        "max_ms": r["latency_us"]["max"] / 1000,
        "non_2xx": non2xx,
        "socket_errors": socket_errors,
        "statuses": r["statuses"],
    }


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (clock ticks of 1/100 s)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / 100


def wait_idle(servers, quiet_seconds=5, limit=900):
    """Waits until no server uses CPU (RocksDB compacts a freshly loaded store in the background
    for a while after it opens): under 3% of a core each, `quiet_seconds` in a row. Returns the
    seconds waited."""
    began = time.monotonic()
    quiet = 0
    last = {n: cpu_seconds(s.proc.pid) for n, s in servers.items()}
    while quiet < quiet_seconds and time.monotonic() - began < limit:
        time.sleep(1)
        now = {n: cpu_seconds(s.proc.pid) for n, s in servers.items()}
        quiet = quiet + 1 if all(now[n] - last[n] < 0.03 for n in now) else 0
        last = now
    waited = round(time.monotonic() - began, 1)
    say(f"servers idle after {waited} s")
    return waited


# A single-client request unanswered after this long is counted as timed out (a whole-store
# question can take longer at 10⁶ claims); the server goes on until it notices the client left.
PER_QUERY_TIMEOUT = 300


def per_query(servers, lines, keys, rounds):
    """Single-client latency of each template on its own (median of up to `rounds` requests,
    parameters drawn as in the mix): shows which query dominates the mix. Interleaved: each
    round sends the same request to each server in turn, so both meet the same parameters and
    the same state of the machine."""
    import random
    rnd = random.Random(7)
    out = {n: {} for n in servers}
    for name in dict.fromkeys(line[0] for n in servers for line in lines[n]):
        times = {n: [] for n in servers if any(line[0] == name for line in lines[n])}
        failures, timeouts = dict.fromkeys(times, 0), dict.fromkeys(times, 0)
        began = time.monotonic()
        for _ in range(rounds):
            # A query that is O(store) would take minutes here at 10⁶ claims: stop after 30 s.
            if time.monotonic() - began > 30 * len(times) and all(times.values()):
                break
            claim, entity, source = (rnd.choice(keys[k]) for k in ("claim", "entity", "source"))
            claim_iri = f"{BASE}claims/{claim}"
            fill = lambda s: (s.replace("@CLAIMKEY@", urllib.parse.quote(claim, safe=""))
                              .replace("@CLAIMENC@", urllib.parse.quote(claim_iri, safe=""))
                              .replace("@CLAIM@", f"<{claim_iri}>")
                              .replace("@ENTITY@", f"<{BASE}entities/{entity}>")
                              .replace("@DOC@", f"<{BASE}sources/{source}>"))
            for n in times:
                _, method, path, accept, ctype, body = next(l for l in lines[n] if l[0] == name)
                req = urllib.request.Request(servers[n].url + fill(path), method=method,
                                             data=fill(body).encode() if body else None,
                                             headers={"Accept": accept, **({"Content-Type": ctype} if ctype else {})})
                start = time.monotonic()
                try:
                    with urllib.request.urlopen(req, timeout=PER_QUERY_TIMEOUT) as r:
                        r.read()
                except urllib.error.HTTPError as e:
                    e.read()
                    failures[n] += 1
                except (TimeoutError, urllib.error.URLError):
                    # Counted at the timeout: the median then says "at least".
                    timeouts[n] += 1
                times[n].append(time.monotonic() - start)
        for n, ts in times.items():
            ts.sort()
            out[n][name] = {"requests": len(ts), "median_ms": round(ts[len(ts) // 2] * 1000, 2),
                            "max_ms": round(ts[-1] * 1000, 2), "failures": failures[n],
                            "timeouts": timeouts[n]}
        say(f"  {name}: " + ", ".join(f"{n} {out[n][name]['median_ms']} ms" for n in times))
        if any(timeouts.values()):  # the abandoned request may still be running
            wait_idle(servers)
    return out


def export(server, path, accept):
    """Streams the full dump, counts its quads (lines) and samples the server's RSS meanwhile."""
    idle_rss, _ = rss(server.proc.pid)
    peak = [idle_rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss(server.proc.pid)[0])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    req = urllib.request.Request(server.url + path, headers={"Accept": accept})
    start = time.monotonic()
    quads = size = 0
    with urllib.request.urlopen(req, timeout=3600) as r:
        status = r.status
        while chunk := r.read(1 << 20):
            quads += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.monotonic() - start
    stop.set()
    sampler.join()
    return {"status": status, "quads": quads, "bytes": size, "seconds": round(seconds, 2),
            "quads_per_second": round(quads / seconds), "rss_before_mib": round(idle_rss / 1024, 1),
            "peak_rss_mib": round(peak[0] / 1024, 1),
            "peak_above_idle_mib": round((peak[0] - idle_rss) / 1024, 1)}


def writer(server, stop, result):
    """One writer against claimgraph: small authorised SPARQL updates in a loop, one new triple
    each, into a graph of its own."""
    n = ok = failed = 0
    times = []
    statuses = {}
    while not stop.is_set():
        n += 1
        update = (f"INSERT DATA {{ GRAPH <{BASE}graphs/bench-writer> {{ <{BASE}bench/w{n}> "
                  f"<http://schema.org/name> \"write {n}\" }} }}")
        req = urllib.request.Request(server.url + "/sparql",
                                     data=update.encode(), method="POST",
                                     headers={"Content-Type": "application/sparql-update",
                                              "Authorization": f"Bearer {TOKEN}"})
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                r.read()
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            code = type(e).__name__
        times.append(time.monotonic() - start)
        statuses[str(code)] = statuses.get(str(code), 0) + 1
        if isinstance(code, int) and 200 <= code < 300:
            ok += 1
        else:
            failed += 1
    times.sort()
    result.update(writes=n, ok=ok, failed=failed, statuses=statuses,
                  p50_ms=round(times[len(times) // 2] * 1000, 2) if times else None,
                  p99_ms=round(times[int(len(times) * 0.99)] * 1000, 2) if times else None)


# ---------------------------------------------------------------------------------------------
# Report


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def svg(results, path):
    """Throughput and p99 of the SPARQL mix against concurrency, both servers: a hand-written
    SVG (two panels, log-free linear axes) so the harness needs no plotting library."""
    mix = results.get("sparql_mix")
    if not mix or not mix["claimgraph"]:
        return
    conc = [row["connections"] for row in mix["claimgraph"]]
    colours = {"claimgraph": "#1f77b4", "oxigraph": "#d62728"}
    W, H, pad = 360, 260, 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W + 40}" height="{H + 70}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="{W + 20}" y="18" text-anchor="middle" font-size="14">SPARQL mix, '
             f'{results["claims"]:,} claims ({results["quads"]:,} quads)</text>']
    for panel, (key, title) in enumerate([("per_second", "queries/s"), ("p99_ms", "p99 latency (ms)")]):
        ox = 20 + panel * (W + 20)
        top = max(max(r[key] for r in mix[s]) for s in colours) * 1.1 or 1
        x = lambda i: ox + pad + i * (W - pad - 20) / max(1, len(conc) - 1)
        y = lambda v: 40 + (H - pad) * (1 - v / top)
        parts.append(f'<text x="{ox + W / 2}" y="36" text-anchor="middle">{title}</text>')
        parts.append(f'<line x1="{ox + pad}" y1="{y(0)}" x2="{ox + W - 20}" y2="{y(0)}" stroke="black"/>')
        parts.append(f'<line x1="{ox + pad}" y1="{y(0)}" x2="{ox + pad}" y2="40" stroke="black"/>')
        for t in range(5):
            v = top * t / 4
            parts.append(f'<text x="{ox + pad - 4}" y="{y(v) + 4}" text-anchor="end">{v:,.0f}</text>')
            parts.append(f'<line x1="{ox + pad}" y1="{y(v)}" x2="{ox + W - 20}" y2="{y(v)}" stroke="#ddd"/>')
        for i, c in enumerate(conc):
            parts.append(f'<text x="{x(i)}" y="{y(0) + 16}" text-anchor="middle">{c}</text>')
        parts.append(f'<text x="{ox + W / 2}" y="{y(0) + 32}" text-anchor="middle">concurrent connections</text>')
        for s, colour in colours.items():
            pts = " ".join(f"{x(i)},{y(r[key])}" for i, r in enumerate(mix[s]))
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for i, r in enumerate(mix[s]):
                parts.append(f'<circle cx="{x(i)}" cy="{y(r[key])}" r="3" fill="{colour}"/>')
    for i, (s, colour) in enumerate(colours.items()):
        parts.append(f'<rect x="{20 + pad + i * 140}" y="{H + 50}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{20 + pad + i * 140 + 18}" y="{H + 60}">{s}</text>')
    parts.append("</svg>\n")
    path.write_text("\n".join(parts))


def table(results):
    rows = []
    add = lambda *cols: rows.append(cols)
    L = results["load"]
    add("bulk load (quads/s)", L["claimgraph"]["quads_per_second"], L["oxigraph"]["quads_per_second"],
        L["ratio"])
    add(f"ingest of claim sheets (claims/s; {results['ingest']['claims']:,} claims)",
        results["ingest"]["claims_per_second"], "", "")
    mix = results.get("sparql_mix", {"claimgraph": [], "oxigraph": []})
    for cg, ox in zip(mix["claimgraph"], mix["oxigraph"]):
        c = cg["connections"]
        add(f"SPARQL mix c={c}: queries/s", cg["per_second"], ox["per_second"], ratio(cg["per_second"], ox["per_second"]))
        add(f"SPARQL mix c={c}: p50 ms", cg["p50_ms"], ox["p50_ms"], ratio(cg["p50_ms"], ox["p50_ms"]))
        add(f"SPARQL mix c={c}: p99 ms", cg["p99_ms"], ox["p99_ms"], ratio(cg["p99_ms"], ox["p99_ms"]))
        add(f"SPARQL mix c={c}: errors (non-2xx+socket)", cg["non_2xx"] + cg["socket_errors"],
            ox["non_2xx"] + ox["socket_errors"], "")
    for name, r in results.get("routes", {}).items():
        add(f"{name} c=32: requests/s", r["per_second"], "", "")
        add(f"{name} c=32: p99 ms", r["p99_ms"], "", "")
        add(f"{name} c=32: errors", r["non_2xx"] + r["socket_errors"], "", "")
    E = results.get("export", {})
    if len(E) < 2:
        return rows  # a run stopped before its export (see `missing`)
    add("export (quads/s)", E["claimgraph"]["quads_per_second"], E["oxigraph"]["quads_per_second"],
        ratio(E["claimgraph"]["quads_per_second"], E["oxigraph"]["quads_per_second"]))
    add("export peak RSS (MiB)", E["claimgraph"]["peak_rss_mib"], E["oxigraph"]["peak_rss_mib"],
        ratio(E["claimgraph"]["peak_rss_mib"], E["oxigraph"]["peak_rss_mib"]))
    add("idle RSS after load (MiB)", results["idle_rss_mib"]["claimgraph"], results["idle_rss_mib"]["oxigraph"],
        ratio(results["idle_rss_mib"]["claimgraph"], results["idle_rss_mib"]["oxigraph"]))
    T = results.get("load_test")
    if not T:
        return rows
    add(f"load test c=64 {T['wrk']['seconds']:.0f}s: requests/s", T["wrk"]["per_second"], "", "")
    add("load test: p50 / p99 ms", f"{T['wrk']['p50_ms']} / {T['wrk']['p99_ms']}", "", "")
    add("load test: errors (non-2xx+socket)", T["wrk"]["non_2xx"] + T["wrk"]["socket_errors"], "", "")
    add("load test writer: ok / failed", f"{T['writer']['ok']} / {T['writer']['failed']}", "", "")
    return rows


def missing(results):
    """The phases a run stopped early did not reach."""
    return [k for k in ("per_query", "sparql_mix", "routes", "export", "load_test") if k not in results]


def render(path):
    """Tables, picture and BENCHMARKS.md block from a saved results file (one a run stopped early
    wrote too: its missing phases are named)."""
    results = json.loads(Path(path).read_text())
    claims = results["claims"]
    svg(results, ROOT / f"bench/throughput-{claims}.svg")
    tables = markdown(results, table(results))
    fill_benchmarks_md(claims, results, tables)
    print(tables)


def write_between_markers(path, name, rows):
    """Puts `rows` between the `<!-- bench:NAME:begin -->` and `…:end -->` markers of `path`;
    prints them instead if the markers are missing."""
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    doc = path.read_text() if path.exists() else ""
    if begin not in doc:
        say(f"{path.name} has no {begin} marker; table not written")
        print("\n".join(rows))
        return
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + begin + "\n" + "\n".join(rows) + "\n" + end + tail)


def fill_benchmarks_md(claims, results, tables):
    """Writes the tables of a full run (or of a saved results file: `--render`) between the
    markers for this N, in BENCHMARKS.md (1,000,000 claims) or docs/benchmark-figures.md
    (100,000), so the document's figures are exactly what the command printed (the prose
    around them is written by hand)."""
    begin, end = f"<!-- bench:results-{claims}:begin -->", f"<!-- bench:results-{claims}:end -->"
    docs = [ROOT / "BENCHMARKS.md", ROOT / "docs/benchmark-figures.md"]
    doc = next((d for d in docs if d.exists() and begin in d.read_text()), None)
    if doc is None:
        return
    svg = os.path.relpath(ROOT / "bench", doc.parent)
    text = doc.read_text()
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    m = results["machine"]
    stopped = ""
    if missing(results):
        stopped = f" **Stopped early: not measured: {', '.join(missing(results))}.**"
    block = (f"{begin}\n_Run {results['started']} → {results.get('finished', 'stopped')}, "
             f"`{results['versions']['git']}`; "
             f"{m['nproc']} cores ({m['cpu']}), {m['memory']}, disk `{m['disk']}`; "
             f"{results['quads']:,} quads, generated in {results['generate_seconds']} s._{stopped}\n\n"
             f"`uptime` before: `{results['uptime_before']}`  \n"
             f"`uptime` after: `{results.get('uptime_after', '(stopped early)')}`\n\n"
             + (f"![SPARQL mix: queries/s and p99 against concurrency, both servers]"
                f"({svg}/throughput-{claims}.svg)\n\n" if "sparql_mix" in results else "")
             + f"{tables}\n{end}")
    doc.write_text(head + block + tail)
    say(f"figures written into {doc}")


def text_table(rows):
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':{width}}  {'claimgraph':>14}  {'oxigraph':>14}  {'cg÷ox':>7}"]
    for name, a, b, r in rows:
        lines.append(f"{name:{width}}  {a!s:>14}  {b!s:>14}  {r!s:>7}")
    return "\n".join(lines)


def markdown(results, rows):
    """The tables of BENCHMARKS.md, ready to paste: every figure with its ratio."""
    out = ["| measure | claimgraph | oxigraph | claimgraph ÷ oxigraph |", "|---|---:|---:|---:|"]
    out += [f"| {n} | {a} | {b} | {r if r is not None else ''} |" for n, a, b, r in rows]
    if "per_query" not in results:
        return "\n".join(out) + "\n"
    out += ["", "| query or route (1 client, median of single requests) | claimgraph ms | oxigraph ms | ratio |",
            "|---|---:|---:|---:|"]
    def median(r):
        return f"≥ {r['median_ms']} (timed out)" if r.get("timeouts") else r["median_ms"]

    for name, a in results["per_query"]["claimgraph"].items():
        b = results["per_query"]["oxigraph"].get(name)
        timed_out = a.get("timeouts") or (b and b.get("timeouts"))
        out.append(f"| {name} | {median(a)} | {median(b) if b else ''} | "
                   f"{ratio(a['median_ms'], b['median_ms']) if b and not timed_out else ''} |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------


def main():
    # Ctrl-C or kill: stop both servers (the `finally` below) instead of leaving them running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="short runs (5 s per point, 10 s load test)")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="measure nothing: write the tables of a saved results file (also of a run "
                         "stopped early) into BENCHMARKS.md")
    ap.add_argument("--claimgraph", required=True, help="the release binary")
    ap.add_argument("--oxigraph", required=True, help="the oxigraph CLI (PyPI oxigraph==0.5.13)")
    ap.add_argument("--work", default=str(ROOT / "target/bench"))
    ap.add_argument("--ingest-sheets", type=int, default=None,
                    help="ingest only the first N batch sheets (default: all). `ingest` checks "
                         "every sheet it is given in memory before writing, about 55 KB per claim")
    args = ap.parse_args()
    if args.render:
        return render(args.render)
    cg, oxi = Path(args.claimgraph), Path(args.oxigraph)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    point = 5 if args.quick else 30
    route_secs = 5 if args.quick else 20
    load_secs = 10 if args.quick else 60

    results = {
        "claims": args.claims, "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(), "uptime_before": sh("uptime"), "excluded_queries": EXCLUDED,
        "versions": {"claimgraph": sh(f"{cg} --version"), "oxigraph": sh(f"{oxi} --version"),
                     "wrk": sh("wrk -v 2>&1 | head -1"), "git": sh(f"git -C {ROOT} describe --always --dirty"),
                     "python": sys.version.split()[0]},
    }

    corpus, gen_seconds = generate(cg, args.claims, work)
    quads, keys = scan_corpus(corpus)
    results.update(quads=quads, generate_seconds=round(gen_seconds, 1),
                   corpus_bytes=(corpus / "corpus.nq").stat().st_size,
                   keys={k: len(v) for k, v in keys.items()})
    say(f"corpus: {quads:,} quads, {len(keys['claim']):,} claims, {len(keys['entity']):,} entities, "
        f"{len(keys['source']):,} documents")
    keys_file = work / f"keys-{args.claims}.txt"
    write_keys(keys_file, keys)

    # Bulk load of the same N-Quads by each tool's own loader, into fresh stores.
    cg_store, ox_store, ingest_store = (work / f"{n}-{args.claims}" for n in ("cg.db", "ox.db", "ingest.db"))
    for d in (cg_store, ox_store, ingest_store):
        shutil.rmtree(d, ignore_errors=True)
    nq = corpus / "corpus.nq"
    t_cg = timed([cg, "load", "--store", cg_store, nq], stdout=subprocess.DEVNULL)
    t_ox = timed([oxi, "load", "--location", ox_store, "--file", nq], stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    results["load"] = {
        "claimgraph": {"seconds": round(t_cg, 2), "quads_per_second": round(quads / t_cg)},
        "oxigraph": {"seconds": round(t_ox, 2), "quads_per_second": round(quads / t_ox)},
        "ratio": ratio(quads / t_cg, quads / t_ox),
    }
    # entities.toml plus the batches (each batch checks on its own with it: see `gen`).
    batches = sorted((corpus / "claims").glob("batch-*.toml"))
    if args.ingest_sheets is not None:
        batches = batches[:args.ingest_sheets]
    sheets = [corpus / "claims" / "entities.toml", *batches]
    claims = sum(p.read_text().count("[[claims]]") for p in batches)
    t_in = timed([cg, "ingest", "--store", ingest_store, "--data", corpus, *sheets],
                 stdout=subprocess.DEVNULL)
    results["ingest"] = {"sheets": len(sheets), "claims": claims, "seconds": round(t_in, 2),
                         "claims_per_second": round(claims / t_in)}
    shutil.rmtree(ingest_store, ignore_errors=True)
    out = work / f"results-{args.claims}.json"

    def save():  # after each phase, so that a run stopped early keeps what it measured
        out.write_text(json.dumps(results, indent=2) + "\n")

    save()

    empty = work / "empty"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    cgp, oxp = free_port(), free_port()
    cgs = Server("claimgraph", [cg, "serve", "--store", cg_store, "--data", empty, "--ontology", empty,
                                "--bind", f"127.0.0.1:{cgp}", "--query-timeout", 0, "--max-queries", 64,
                                "--reload-interval", 0, "--write-token", TOKEN],
                 cgp, "/sparql", "/healthz", work / "claimgraph.log")
    oxs = Server("oxigraph", [oxi, "serve", "--location", ox_store, "--bind", f"127.0.0.1:{oxp}",
                              "--union-default-graph"],
                 oxp, "/query", "/query?query=ASK%7B%7D", work / "oxigraph.log")
    servers = {"claimgraph": cgs, "oxigraph": oxs}
    # Before each workload: until both servers are idle (a request abandoned when the previous
    # workload stopped can run on for minutes; it would slow the next server measured).
    results["waited_for_idle_seconds"] = waits = {}

    def settle(label):
        waits[label] = wait_idle(servers)

    try:
        settle("start")
        results["idle_rss_mib"] = {n: round(rss(s.proc.pid)[0] / 1024, 1) for n, s in servers.items()}
        mixes = {n: sparql_lines(s.query_path, aggregates=False) for n, s in servers.items()}

        say("per-query single-client latencies")
        rounds = 3 if args.quick else 5
        results["per_query"] = per_query(servers, {n: sparql_lines(s.query_path) + (ROUTES if n == "claimgraph" else [])
                                                    for n, s in servers.items()}, keys, rounds)
        save()

        for n, s in servers.items():  # warm-up, not recorded
            settle(f"warmup-{n}")
            wrk(s, mixes[n], keys_file, 8, 3 if args.quick else 10, work, f"warmup-{n}")
        results["sparql_mix"] = {n: [] for n in servers}
        for conns in (1, 8, 32):
            for n, s in servers.items():
                settle(f"mix-{n}-c{conns}")
                results["sparql_mix"][n].append(wrk(s, mixes[n], keys_file, conns, point, work, f"mix-{n}-c{conns}"))
                save()

        results["export"] = {}
        for n, s, path in (("claimgraph", cgs, "/export?format=nquads"), ("oxigraph", oxs, "/store")):
            settle(f"export-{n}")
            results["export"][n] = export(s, path, NQUADS)
        save()

        # What follows measures claimgraph alone, so Oxigraph's server stops first: after the
        # mix it holds 15 GB at 1,000,000 claims (run 9), which left claimgraph's store too
        # little page cache for its routes. Its memory figures are taken before it stops.
        record_memory(results, "oxigraph", oxs.proc.pid)
        del servers["oxigraph"]
        oxs.stop()

        results["routes"] = {}
        for line in ROUTES:
            settle(f"route-{line[0][2:]}")
            results["routes"][line[0]] = wrk(cgs, [line], keys_file, 32, route_secs, work, f"route-{line[0][2:]}")
        save()

        # The load test measures the server as a user starts it: every limit at its default
        # (time limit, query slots and their queue, lookups), not the comparison's settings.
        del servers["claimgraph"]
        cgs.stop()
        cgs = Server("claimgraph", [cg, "serve", "--store", cg_store, "--data", empty, "--ontology", empty,
                                    "--bind", f"127.0.0.1:{cgp}", "--write-token", TOKEN],
                     cgp, "/sparql", "/healthz", work / "claimgraph-defaults.log")
        servers["claimgraph"] = cgs
        settle("load-test")

        say(f"load test: 64 connections for {load_secs} s plus one writer (claimgraph, default limits)")
        stop, wres = threading.Event(), {}
        w = threading.Thread(target=writer, args=(cgs, stop, wres))
        w.start()
        try:
            mixed = wrk(cgs, mixes["claimgraph"] + ROUTES, keys_file, 64, load_secs, work, "load-test")
        finally:
            stop.set()
            w.join()
        results["load_test"] = {"wrk": mixed, "writer": wres, "limits": "defaults"}
        record_memory(results, "claimgraph", cgs.proc.pid)
    finally:
        for s in servers.values():
            s.stop()
    results["uptime_after"] = sh("uptime")
    results["loadavg_at_start_of_each_workload"] = LOADAVG
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")

    save()
    picture = ROOT / f"bench/throughput-{args.claims}.svg"
    svg(results, picture)
    rows = table(results)
    tables = markdown(results, rows)
    (work / f"results-{args.claims}.md").write_text(tables)
    if not args.quick:
        fill_benchmarks_md(args.claims, results, tables)
    print(text_table(rows))
    print(f"\nper-query single-client medians (ms):")
    for name in results["per_query"]["claimgraph"]:
        a = results["per_query"]["claimgraph"][name]
        b = results["per_query"]["oxigraph"].get(name)
        print(f"  {name:40} {a['median_ms']:>10} {b['median_ms'] if b else '':>10}"
              f"  failures {a['failures']}/{b['failures'] if b else '-'}")
    print(f"\nuptime before: {results['uptime_before']}\nuptime after:  {results['uptime_after']}")
    print(f"results: {out}\npicture: {picture}")
    # The stores are large and rebuilt by every run; the corpus is kept for the next run.
    for d in (cg_store, ox_store):
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
