#!/usr/bin/env python3
"""Published versions and replicas, timed: `./dev bench --deploy [--claims N]`.

1. `claimgraph publish` of the N-claim store `./dev bench --search` builds (no data sync: the
   store is the generated corpus, its texts in the corpus directory): wall time, peak RSS, the
   version's bytes (what a copy to another machine moves) and the new disk space it took on this
   file system (hard links: RocksDB's files and the index's are shared with the store).
2. A claim page (HTML) and `/claims/{id}/provenance` (JSON), claims drawn at random per request,
   and one claim's page asked again and again (a viral claim), 32 connections, each side by side in one run: direct to one replica (`serve --follow`),
   through nginx to two replicas (docs/deploy/nginx.conf with its cache turned off), and through
   nginx's cache (the configuration as it is).

Invariants: the same wrk script and keys as bench.py (bench/wrk/mix.lua); every non-2xx answer
and socket error counted; the nginx configuration is docs/deploy/nginx.conf, changed only by
`proxy_cache off` for the uncached row; the table goes between the `bench:deploy` markers of
BENCHMARKS.md (`deploy-N`), the raw figures to target/bench/deploy-N.json.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as b  # noqa: E402

ROOT = b.ROOT
CONNECTIONS = 32
LOAD = [
    ("claim page", ("r:claim-page", "GET", "/claims/@CLAIMKEY@", "text/html", "", "")),
    ("provenance", ("r:claim-provenance", "GET", "/claims/@CLAIMKEY@/provenance", "application/json", "", "")),
]
# The ports docs/deploy/nginx.conf names.
FRONT, REPLICAS = 7870, (7871, 7872)


def slug(name):
    return re.sub(r"\W+", "-", name).strip("-")


def timed(command):
    run = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + [str(c) for c in command],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{run.stderr}")
    seconds, kib = re.search(r"TIME ([\d.]+) (\d+)", run.stderr).groups()
    return float(seconds), int(kib) / 1024, run.stdout.strip()


def used_bytes(path):
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def nginx_binary():
    for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/usr/local/sbin"]:
        if (Path(d) / "nginx").is_file():
            return Path(d) / "nginx"
    sys.exit("nginx is not installed: ./dev setup installs it")


def start_nginx(work, cached):
    """nginx with docs/deploy/nginx.conf (its cache off when not `cached`), as the test runs it."""
    prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=work))
    os.chmod(prefix, 0o777)
    conf = (ROOT / "docs/deploy/nginx.conf").read_text()
    if not cached:
        conf = conf.replace("proxy_cache claimgraph;", "proxy_cache off;")
    (prefix / "claimgraph.conf").write_text(conf)
    (prefix / "nginx.conf").write_text(f"""daemon off;
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=claimgraph:64m max_size=2g inactive=1h use_temp_path=off;
    include {prefix}/claimgraph.conf;
}}
""")
    cmd = [nginx_binary(), "-p", prefix, "-c", prefix / "nginx.conf", "-e", prefix / "error.log"]
    return b.Server("nginx (cache)" if cached else "nginx", cmd, FRONT, "/sparql", "/healthz",
                    work / f"nginx-{'cached' if cached else 'balanced'}.log")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--claimgraph", required=True)
    parser.add_argument("--oxigraph")  # ./dev passes it to every benchmark; not used here
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    work = ROOT / "target/bench"
    store = work / f"draft-cg.db-{args.claims}"
    corpus = work / f"corpus-{args.claims}"
    if not store.exists():
        sys.exit(f"{store} is missing: run `./dev bench --search --claims {args.claims}` first")
    versions = work / f"versions-{args.claims}"
    shutil.rmtree(versions, ignore_errors=True)
    results = {"claims": args.claims, "machine": b.machine()}

    publish = [args.claimgraph, "publish", "--store", store, "--no-sync", "--data", corpus,
               "--to", versions]
    before = used_bytes(work)
    seconds, rss, version = timed(publish)
    manifest = json.loads((Path(version) / "manifest.json").read_text())
    results["publish"] = {
        "seconds": seconds, "rss_mib": round(rss), "quads": manifest["quads"],
        "version_bytes": sum(f["bytes"] for f in manifest["files"]),
        "new_disk_bytes": used_bytes(work) - before,
    }
    # The next publish also writes the RDF Patch from the first (here empty): every later one does.
    before = used_bytes(work)
    seconds, rss, _ = timed(publish)
    results["publish_again"] = {"seconds": seconds, "rss_mib": round(rss),
                                "new_disk_bytes": used_bytes(work) - before}
    b.say(f"published {manifest['quads']} quads: {results['publish']}, again: {results['publish_again']}")

    _, keys = b.scan_corpus(corpus)
    # A viral claim: every request for the same page (what a cache is for).
    viral = keys["claim"][len(keys["claim"]) // 2]
    load = LOAD + [("one viral claim's page", ("r:viral", "GET", f"/claims/{viral}", "text/html", "", ""))]
    keys_file = work / f"deploy-keys-{args.claims}.txt"
    b.write_keys(keys_file, keys)
    replicas = [b.Server(f"replica {port}", [args.claimgraph, "serve", "--follow", versions,
                                             "--bind", f"127.0.0.1:{port}"],
                         port, "/sparql", "/healthz", work / f"replica-{port}.log")
                for port in REPLICAS]
    rows = {}
    try:
        for name, line in load:
            rows[name] = {}
            rows[name]["direct to one replica"] = b.wrk(
                replicas[0], [line], keys_file, CONNECTIONS, args.seconds, work, f"deploy-direct-{slug(name)}")
        for cached in (False, True):
            front = start_nginx(work, cached)
            label = "nginx cache, two replicas" if cached else "nginx, two replicas"
            try:
                for name, line in load:
                    rows[name][label] = b.wrk(front, [line], keys_file, CONNECTIONS, args.seconds,
                                              work, f"deploy-{'cache' if cached else 'nginx'}-{slug(name)}")
            finally:
                front.stop()
    finally:
        for replica in replicas:
            replica.stop()
    results["load"] = rows
    (work / f"deploy-{args.claims}.json").write_text(json.dumps(results, indent=2))
    rows = render(results)
    print("\n".join(rows))
    b.write_between_markers(ROOT / "BENCHMARKS.md", f"deploy-{args.claims}", rows)


def render(results):
    p, again = results["publish"], results["publish_again"]
    lines = [
        f"Publish of {results['claims']:,} claims ({p['quads']:,} quads): {p['seconds']:.1f} s, "
        f"peak RSS {p['rss_mib']:,} MiB; the version is {p['version_bytes'] / 2**30:.2f} GiB "
        f"(what a copy to another machine moves) and took {p['new_disk_bytes'] / 2**20:,.0f} MiB "
        f"of new disk here (hard links). The next publish, which also compares with the last "
        f"version for its RDF Patch: {again['seconds']:.1f} s, peak RSS {again['rss_mib']:,} MiB.",
        "",
        "| route, 32 connections | path | requests/s | p50 | p99 | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, paths in results["load"].items():
        for path, r in paths.items():
            errors = r["non_2xx"] + r["socket_errors"]
            lines.append(f"| {name} | {path} | {r['per_second']:,.0f} | {r['p50_ms']:.1f} ms "
                         f"| {r['p99_ms']:.1f} ms | {errors} |")
    return lines


if __name__ == "__main__":
    main()
