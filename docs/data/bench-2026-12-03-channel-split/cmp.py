# The old/new table of docs/benchmarks.md (cmp.txt) from bench.sh's JSON rows: per layer, layout, m
# and direction both runs of each build, the ratio of their medians (min of two runs: 2 values, so
# the median is their mean), the new kernel's % of its run's copy ceiling.
# Run in this folder: python3 cmp.py > cmp.txt
import json, statistics as st
acc, ceil = {}, {}
for w in ('old', 'new'):
    for r in (1, 2):
        for x in json.load(open(f'{w}_{r}.json')):
            key = (x['layer'], x['algorithm'], x['direction'], x['m'])
            acc.setdefault(key, {}).setdefault(w, []).append((x['ms'], 100 * x['fraction_of_copy'], x['kernel']))
            ceil.setdefault(f'{w}{r}', x['copy_gbps'])
print('ceilings (GB/s): ' + ', '.join(f'{k} {v:.1f}' for k, v in ceil.items()))
print()
print("| layer | layout | dir | m | old ms (2 runs) | new ms (2 runs) | old/new (medians) | new, % of its run's ceiling | kernel |")
print('|---|---|---|---|---|---|---|---|---|')
for (layer, alg, dr, m), v in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1], ['fwd', 'bwd', 'fwd+bwd'].index(kv[0][2]), kv[0][3])):
    if 'old' not in v or 'new' not in v:
        continue
    o = st.median([a for a, _, _ in v['old']]); n = st.median([a for a, _, _ in v['new']])
    lay = 'time-major' if alg == 'time_major' else 'batch-major'
    print(f"| {layer} | {lay} | {dr} | {m} | {' / '.join(f'{a:.1f}' for a, _, _ in v['old'])} | "
          f"{' / '.join(f'{a:.1f}' for a, _, _ in v['new'])} | {o/n:.2f}x | {' / '.join(f'{p:.0f}%' for _, p, _ in v['new'])} | {v['new'][0][2]} |")
