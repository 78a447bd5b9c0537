#!/usr/bin/env python3
"""Turn `statemix bench --json` rows into the Markdown tables of docs/benchmarks.md.

Scan layers (hlru, bdlru): one table as before. RNN cores (elman, wcrnn, lstm) and their peers
(oneDNN / cuDNN rows, which have a non-empty "peer"): a second table, then a summary of statemix
against each peer (peer ms / statemix ms, > 1 means statemix is faster).
Usage: scripts/bench_table.py ROWS.json
       scripts/bench_table.py --peers ROWS.json...   (one summary table of statemix vs the peers,
                                                     a row per shape, core, direction and peer)
       scripts/bench_table.py --goals ROWS.json...   (issue #11's CPU goals: each run's % of its
                                                     ceiling per layer and m, the goal, met or not)
       scripts/bench_table.py --compare OLD.json... --vs NEW.json...
                                                    (two builds side by side: each run's ms, the
                                                     ratio of the medians, new % of its run's copy)
"""
import json
import statistics
import sys

RNN_CORES = ("elman", "wcrnn", "lstm")


def scan_table(rows):
    print("| layer | m | forward algorithm | dir | ms | M tokens/s | GB/s | copy GB/s (same run) | % of copy | reference ms | × reference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = r["reference_ms"]
        print("| {layer} | {m} | {algorithm} | {direction} | {ms:.2f} | {mtokens_per_s:.2f} | {gbps:.0f} | {copy_gbps:.0f} | {pct:.0f}% | {ref} | {x} |".format(
            pct=100 * r["fraction_of_copy"], ref=f"{ref:.0f}" if ref > 0 else "-",
            x=f"{ref / r['ms']:.1f}" if ref > 0 else "-", **r))


def implementation(r):
    if r.get("peer"):
        return "{} ({})".format(r["peer"], r["algorithm"])
    # the CPU RNN cores name how they ran: "stepped" (a step kernel per step) or "scan"
    alg = r.get("algorithm", "")
    return "statemix ({})".format(alg) if alg.startswith(("stepped", "scan")) else "statemix"


def rnn_table(rows):
    order = {c: i for i, c in enumerate(RNN_CORES)}
    rows = sorted(rows, key=lambda r: (r["device"], order[r["layer"]], bool(r.get("peer"))))
    print("| device | core | implementation | dir | ms | M tokens/s | GB/s | copy GB/s (same run) | % of copy | input GEMM ms | statemix speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gemm = r.get("input_gemm_ms", 0)
        ratio = r.get("statemix_over_peer", 0)
        print("| {device} | {layer} | {impl} | {direction} | {ms:.2f} | {mtokens_per_s:.3f} | {gbps:.2f} | {copy_gbps:.0f} | {pct:.1f}% | {gemm} | {ratio} |".format(
            impl=implementation(r), pct=100 * r["fraction_of_copy"],
            gemm=f"{gemm:.2f}" if gemm > 0 else "-", ratio=f"{ratio:.2f}×" if ratio > 0 else "-", **r))


def peer_pairs(rows):
    """(statemix row, peer row, core) for each peer row of one bench run."""
    own = {(r["device"], r["layer"], r["direction"]): r for r in rows
           if r["layer"] in RNN_CORES and not r.get("peer")}
    for p in rows:
        if not p.get("peer"):
            continue
        core = p["layer"] if (p["device"], p["layer"], p["direction"]) in own else "wcrnn"
        s = own.get((p["device"], core, p["direction"]))
        if s is not None:
            yield s, p, core


def peer_summary(paths):
    """statemix's cores against each peer row of the same shape, core and direction. "w/o input
    GEMM": the peer's time less its input projection measured alone (oneDNN), where it has one.
    Files of the same shape are repeated runs: a row then gives the medians over the runs (ms
    and each run's speed-up) and the range of the speed-ups, "median (min-max)"."""
    groups = {}  # (device, B, T, H, core, direction, peer) -> [(s, p), ...] in file order
    for path in paths:
        for s, p, core in peer_pairs(json.load(open(path))):
            key = (s["device"], s["B"], s["T"], s["N"], core, p["direction"], implementation(p))
            groups.setdefault(key, []).append((s, p))
    runs = max((len(v) for v in groups.values()), default=1)
    if runs > 1:
        print(f"Medians over {runs} runs; speed-ups as median (min-max).\n")
    print("| B, T, H | core | dir | statemix ms | statemix M tok/s | peer | peer ms | peer M tok/s | statemix speed-up | peer ms w/o input GEMM | speed-up vs that |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")

    def spread(xs):
        m = statistics.median(xs)
        return f"{m:.2f}×" if len(xs) == 1 else f"{m:.2f}× ({min(xs):.2f}-{max(xs):.2f})"

    for key, pairs in groups.items():
        _, B, T, H, core, direction, peer = key
        sms = statistics.median(s["ms"] for s, _ in pairs)
        pms = statistics.median(p["ms"] for _, p in pairs)
        tok = B * T / 1e3
        nets = [p["ms"] - p["input_gemm_ms"] for _, p in pairs if p.get("input_gemm_ms", 0) > 0]
        xn = [(p["ms"] - p["input_gemm_ms"]) / s["ms"] for s, p in pairs if p.get("input_gemm_ms", 0) > 0]
        print("| {B}, {T}, {H} | {core} | {dir} | {sms:.1f} | {stok:.3f} | {peer} | {pms:.1f} | {ptok:.3f} | {x} | {net} | {xn} |".format(
            B=B, T=T, H=H, core=core, dir=direction, sms=sms, stok=tok / sms, peer=peer, pms=pms, ptok=tok / pms,
            x=spread([p["ms"] / s["ms"] for s, p in pairs]),
            net=f"{statistics.median(nets):.1f}" if nets else "-", xn=spread(xn) if xn else "-"))


def goal(layer, m, direction):
    """Issue #11's CPU goal for a row, % of the same-run ceiling (None: no goal)."""
    if direction == "fwd+bwd":
        return 55 if m == 1 else None
    small = (layer == "hlru" and m <= 8) or (layer == "bdlru" and m <= 4)
    if direction == "bwd":
        return 60 if m <= 2 else (40 if small else None)
    return 60 if small else (50 if layer == "bdlru" and m >= 8 else None)


def goals_table(paths):
    """Batch-major CPU rows of several runs: % of each run's copy ceiling (BD-LRU m >= 8: of the
    binding ceiling, the larger of the copy and arithmetic fractions), one entry per run, the goal
    and whether every run (or some) reached it."""
    rows = {}
    for path in paths:
        for x in json.load(open(path)):
            if x["algorithm"] != "sequential" or x["device"] != "cpu" or x["layer"] in RNN_CORES:
                continue
            pct = 100 * x["fraction_of_copy"]
            if x["layer"] == "bdlru" and x["m"] >= 8:
                pct = max(pct, 100 * x["fraction_of_arith"])
            rows.setdefault((x["layer"], x["m"]), {}).setdefault(x["direction"], []).append(pct)
    print("| layer | m | forward % | backward % | fwd+bwd % | goals (fwd / bwd / fwd+bwd) | met |")
    print("|---|---|---|---|---|---|---|")
    for (layer, m), by_dir in sorted(rows.items()):
        cells, goals, met = [], [], []
        for d in ("fwd", "bwd", "fwd+bwd"):
            v = by_dir.get(d, [])
            cells.append(" / ".join(f"{p:.0f}" for p in v) or "-")
            g = goal(layer, m, d)
            goals.append(f"{g}" if g else "-")
            if g and v:
                met.append("yes" if min(v) >= g else ("some runs" if max(v) >= g else "no"))
        name = "BD-LRU" if layer == "bdlru" else "H-LRU"
        print(f"| {name} | {m} | {' | '.join(cells)} | {' / '.join(goals)} | {', '.join(met) or '-'} |")


def compare_table(old_paths, new_paths):
    """Old/new builds of the same bench: per layer, layout, direction and m, every run's ms of
    each build, old median / new median (> 1: the new build is faster), the new build's % of its
    own run's copy ceiling, and the kernel the new build ran. Runs should alternate old and new."""
    acc, ceil = {}, []
    for side, paths in (("old", old_paths), ("new", new_paths)):
        for path in paths:
            rows = json.load(open(path))
            if rows:
                ceil.append(f"{path} {rows[0]['copy_gbps']:.1f}")
            for x in rows:
                key = (x["layer"], x["algorithm"], x["direction"], x["m"])
                acc.setdefault(key, {}).setdefault(side, []).append(x)
    print("same-run copy ceilings (GB/s): " + ", ".join(ceil))
    print()
    print("| layer | layout | dir | m | old ms (runs) | new ms (runs) | old/new (medians) | new, % of its run's copy | new kernel |")
    print("|---|---|---|---|---|---|---|---|---|")
    dirs = ["fwd", "bwd", "fwd+bwd"]
    for (layer, alg, d, m), v in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1], dirs.index(kv[0][2]), kv[0][3])):
        if "old" not in v or "new" not in v:
            continue
        o = statistics.median(x["ms"] for x in v["old"])
        n = statistics.median(x["ms"] for x in v["new"])
        lay = "time-major" if alg == "time_major" else "batch-major"
        runs = lambda side, f: " / ".join(f(x) for x in v[side])
        old_ms = runs("old", lambda x: f"{x['ms']:.1f}")
        new_ms = runs("new", lambda x: f"{x['ms']:.1f}")
        new_pct = runs("new", lambda x: f"{100 * x['fraction_of_copy']:.0f}%")
        print(f"| {layer} | {lay} | {d} | {m} | {old_ms} | {new_ms} | {o / n:.2f}x | {new_pct} | {v['new'][0]['kernel']} |")


def main(path):
    rows = json.load(open(path))
    scans = [r for r in rows if r["layer"] not in RNN_CORES]
    cores = [r for r in rows if r["layer"] in RNN_CORES]
    if scans:
        scan_table(scans)
    if scans and cores:
        print()
    if cores:
        rnn_table(cores)


if __name__ == "__main__":
    if sys.argv[1] == "--peers":
        peer_summary(sys.argv[2:])
    elif sys.argv[1] == "--compare":
        if "--vs" not in sys.argv:
            sys.exit("--compare OLD.json... --vs NEW.json...: expected --vs between the two builds' runs")
        cut = sys.argv.index("--vs")
        compare_table(sys.argv[2:cut], sys.argv[cut + 1:])
    elif sys.argv[1] == "--goals":
        goals_table(sys.argv[2:])
    else:
        main(sys.argv[1])
