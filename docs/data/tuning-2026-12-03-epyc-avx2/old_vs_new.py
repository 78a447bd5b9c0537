# Each re-tuned entry's new winner against the entry's previous winner, both as timed in the same
# tuner run (tune.log's tables), and the tuner's copy ceiling of that run. The previous winners are
# read from the database of a given git revision. Halving gives each candidate 1-5 runs (the
# finalists the most): a previous winner timed once is a noisy figure. Run from the repository root:
#   python3 docs/data/tuning-2026-12-03-epyc-avx2/old_vs_new.py REV > docs/data/tuning-2026-12-03-epyc-avx2/old_vs_new.md
import json, re, subprocess, sys
rev = sys.argv[1]
here = 'docs/data/tuning-2026-12-03-epyc-avx2'
old = json.loads(subprocess.check_output(['git', 'show', f'{rev}:autotune/db/tuning.json']))
target = 'x86-64-linux-avx-avx2-f16c-fma-sse41'
prev = {(e['layer'], e['direction'], e['m'], e['bucket']): e['params'] for e in old['entries']
        if e['target'] == target and e['device'] == 'cpu'}
knobs = lambda p: ' '.join(f'{k}={v}' for k, v in sorted(p.items()))
print('| kernel | bucket | previous winner | its ms (runs) | new winner | its ms (runs) | previous/new | new, % of the run\'s copy ceiling |')
print('|---|---|---|---|---|---|---|---|')
for block in open(f'{here}/tune.log').read().split('\n\n'):
    h = re.search(r"^(\w+) (forward|backward) m=(\d+) cpu bucket '(\w+)' .*copy ceiling ([\d.]+) GB/s", block, re.M)
    if not h: continue
    layer, d, m, bucket, ceil = h.group(1), h.group(2), int(h.group(3)), h.group(4), float(h.group(5))
    # columns: ms, GB/s, % ceil, spread, vs dflt, knobs [<- chosen] (runs)
    rows = re.findall(r'^\s+([\d.]+)\s+[\d.]+\s+(\d+)%\s+\d+%\s+([\d.]+)x\s+(\S.*?)(\s+<- chosen)?\s+\((\d+) runs?\)$', block, re.M)
    rows = [(ms, pct, knob, chosen, runs, dflt) for ms, pct, dflt, knob, chosen, runs in rows]
    table = {r[2].strip(): (float(r[0]), r[1], r[4]) for r in rows}
    chosen = next((r for r in rows if r[3]), None)
    p = prev.get((layer, d, m, bucket))
    pk = knobs(p) if p else None
    if not pk:  # no entry before: the default kernel served (the row timed as 1.00x the default)
        pk = next((r[2].strip() for r in rows if r[5] == '1.00'), None)
        pk = pk and pk + ' (default)'
    po = table.get(pk.replace(' (default)', '')) if pk else None
    if not chosen: continue
    print(f"| {layer} {d} m={m} | {bucket} | {pk or 'none'} | {po[0]} ({po[2]}) | {chosen[2].strip()} | {chosen[0]} ({chosen[4]}) | "
          f"{(po[0] / float(chosen[0])):.2f}x | {chosen[1]}% |" if po else
          f"| {layer} {d} m={m} | {bucket} | {pk or 'none'} | - | {chosen[2].strip()} | {chosen[0]} ({chosen[4]}) | - | {chosen[1]}% |")
