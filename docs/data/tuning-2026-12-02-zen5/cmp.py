# The old/new table of docs/benchmarks.md (bench/cmp.txt) from bench.sh's JSON rows: per layer, m and
# direction both runs of each build, the ratio of their medians, the new kernel's % of its run's
# ceiling, and the old and new kernels. Run in this folder: python3 cmp.py > bench/cmp.txt (another
# folder of runs: python3 cmp.py DIR, as the twenty-seventh session's tuning did)
import json, statistics as st, sys
D = sys.argv[1] if len(sys.argv) > 1 else 'bench'  # the folder of the runs
acc, ceil = {}, {}
for w in ('old', 'new'):
    for r in (1, 2):
        for x in json.load(open(f'{D}/{w}_{r}.json')):
            key = (x['layer'], x['m'], x['direction'])
            acc.setdefault(key, {}).setdefault(w, []).append((x['ms'], 100 * x['fraction_of_copy'], x['kernel']))
            ceil.setdefault(f'{w}{r}', x['copy_gbps'])
print('ceilings (GB/s): ' + ', '.join(f'{k} {v:.1f}' for k, v in ceil.items()))
print("| layer | m | dir | old ms (2 runs) | new ms (2 runs) | old/new (medians) | new, % of its run's ceiling | old kernel | new kernel |")
print('|---|---|---|---|---|---|---|---|---|')
for (lay, m, dr), v in sorted(acc.items()):
    o = st.median([a for a, _, _ in v['old']]); n = st.median([a for a, _, _ in v['new']])
    print(f"| {lay} | {m} | {dr} | {' / '.join(f'{a:.1f}' for a, _, _ in v['old'])} | "
          f"{' / '.join(f'{a:.1f}' for a, _, _ in v['new'])} | {o/n:.2f}x | "
          f"{' / '.join(f'{p:.0f}%' for _, p, _ in v['new'])} | {v['old'][0][2]} | {v['new'][0][2]} |")
