#!/usr/bin/env python3
"""Turn `statemix bench --json` rows into the Markdown tables of docs/benchmarks.md.

Scan layers (hlru, bdlru): one table as before. RNN cores (elman, wcrnn, lstm) and their peers
(oneDNN / cuDNN rows, which have a non-empty "peer"): a second table, then a summary of statemix
against each peer (peer ms / statemix ms, > 1 means statemix is faster).
Usage: scripts/bench_table.py ROWS.json
       scripts/bench_table.py --peers ROWS.json...   (one summary table of statemix vs the peers,
                                                     a row per shape, core, direction and peer)
"""
import json
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
    return "statemix" if not r.get("peer") else "{} ({})".format(r["peer"], r["algorithm"])


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


def peer_summary(paths):
    """statemix's cores against each peer row of the same shape, core and direction. "w/o input
    GEMM": the peer's time less its input projection measured alone (oneDNN), where it has one."""
    print("| B, T, H | core | dir | statemix ms | statemix M tok/s | peer | peer ms | peer M tok/s | statemix speed-up | peer ms w/o input GEMM | speed-up vs that |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        rows = json.load(open(path))
        own = {(r["device"], r["layer"], r["direction"]): r for r in rows
               if r["layer"] in RNN_CORES and not r.get("peer")}
        for p in rows:
            if not p.get("peer"):
                continue
            core = p["layer"] if (p["device"], p["layer"], p["direction"]) in own else "wcrnn"
            s = own.get((p["device"], core, p["direction"]))
            if s is None:
                continue
            gemm = p.get("input_gemm_ms", 0)
            net = p["ms"] - gemm if gemm > 0 else None
            print("| {B}, {T}, {H} | {core} | {dir} | {sms:.1f} | {stok:.3f} | {peer} | {pms:.1f} | {ptok:.3f} | {x:.2f}× | {net} | {xn} |".format(
                B=s["B"], T=s["T"], H=s["N"], core=core, dir=p["direction"], sms=s["ms"], stok=s["mtokens_per_s"],
                peer=implementation(p), pms=p["ms"], ptok=p["mtokens_per_s"], x=p["ms"] / s["ms"],
                net=f"{net:.1f}" if net is not None else "-",
                xn=f"{net / s['ms']:.2f}×" if net is not None else "-"))


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
    else:
        main(sys.argv[1])
