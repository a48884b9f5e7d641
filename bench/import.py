#!/usr/bin/env python3
"""ClaimReview import, timed: `./dev bench --import [--claims N]`.

Generated DataFeeds (`claimgraph gen --reviews R`: fictional reviews by 40 fact-checkers) are
imported into a copy of the N-claim store that `./dev bench --search` builds, with matching on,
with matching off (the cost of reading, mapping and writing alone), a second time (the
same file again: nothing to write), then removed. Each run is one `claimgraph import claimreview` process
under `/usr/bin/time`: wall time and peak RSS.

Invariants: every run starts from a fresh copy of the same store with its index already built
(the copy's open is not what is timed); the feeds are deterministic (seed 1); the table goes
between the `bench:import` markers of docs/import.md and the raw figures to
target/bench/import-N.json.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as b  # noqa: E402

ROOT = b.ROOT
SIZES = (10_000, 100_000)


def run(command):
    timed = ["/usr/bin/time", "-f", "TIME %e %M"] + [str(c) for c in command]
    done = subprocess.run(timed, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    seconds, kib = re.search(r"TIME ([\d.]+) (\d+)", done.stderr).groups()
    result = {"seconds": float(seconds), "rss_mib": int(kib) / 1024}
    summary = [line for line in done.stderr.splitlines() if " reviews, " in line]
    if summary:
        result["summary"] = summary[0]
        result["links"] = int(re.search(r"(\d+) linked", summary[0]).group(1))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--claimgraph", required=True)
    parser.add_argument("--oxigraph")  # ./dev passes it to every benchmark; not used here
    parser.add_argument("--claims", type=int, default=100_000)
    args = parser.parse_args()
    work = ROOT / "target/bench"
    source = work / f"draft-cg.db-{args.claims}"
    if not source.exists():
        sys.exit(f"{source} is missing: run `./dev bench --search --claims {args.claims}` first")
    copy = work / "import-store"
    cg = args.claimgraph

    def fresh_copy():
        shutil.rmtree(copy, ignore_errors=True)
        subprocess.run([cg, "backup", "--store", source, copy], check=True, capture_output=True)
        # The copy's index is rebuilt here if its version is older, not inside a timed run.
        subprocess.run([cg, "reindex", "--store", copy], check=True, capture_output=True)

    results = {"claims": args.claims, "runs": []}
    for reviews in SIZES:
        feed_dir = work / f"reviews-{reviews}"
        feed = feed_dir / "reviews.json"
        if not feed.exists():
            shutil.rmtree(feed_dir, ignore_errors=True)
            subprocess.run([cg, "gen", "--claims", "1", "--out", feed_dir, "--reviews",
                            str(reviews)], check=True, capture_output=True)
        for mode, extra in (("matching on", []), ("matching off", ["--no-link"])):
            fresh_copy()
            b.say(f"importing {reviews} reviews, {mode}")
            first = run([cg, "import", "claimreview", "--store", copy, feed] + extra)
            again = run([cg, "import", "claimreview", "--store", copy, feed] + extra)
            removed = run([cg, "import", "remove", "--store", copy, "reviews"])
            results["runs"].append({"reviews": reviews, "mode": mode, "first": first,
                                    "again": again, "removed": removed})
    shutil.rmtree(copy, ignore_errors=True)
    (work / f"import-{args.claims}.json").write_text(json.dumps(results, indent=2))
    rows = [f"_Into a copy of the {args.claims:,}-claim store; "
            f"`{b.sh(f'git -C {ROOT} describe --always --dirty')}`._",
            "",
            "| reviews | matching | first import | reviews/s | peak RSS | links | "
            "same file again | removed |",
            "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        first, again, removed = r["first"], r["again"], r["removed"]
        rows.append(f"| {r['reviews']:,} | {r['mode'].split()[1]} | {first['seconds']:.1f} s | "
                    f"{r['reviews'] / first['seconds']:,.0f} | {first['rss_mib']:,.0f} MiB | "
                    f"{first['links']:,} | {again['seconds']:.1f} s, "
                    f"{again['rss_mib']:,.0f} MiB | {removed['seconds']:.1f} s, "
                    f"{removed['rss_mib']:,.0f} MiB |")
    b.write_between_markers(ROOT / "docs/import.md", "import", rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
