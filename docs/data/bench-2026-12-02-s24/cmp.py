# The old/new table of docs/benchmarks.md (cmp.txt) from bench_ab.sh's JSON rows: per layout, m and
# direction both runs of each build, the ratio of their medians, the new kernel's % of its run's ceiling.
# Run in this folder: python3 cmp.py > cmp.txt
import json, statistics as st
for lay in ('bm', 'tm'):
    acc = {}
    ceil = {}
    for w in ('old', 'new'):
        for r in (1, 2):
            for x in json.load(open(f'{lay}_{w}_{r}.json')):
                key = (x['m'], x['direction'])
                acc.setdefault(key, {}).setdefault(w, []).append((x['ms'], 100 * x['fraction_of_copy'], x['kernel']))
                ceil.setdefault(f'{w}{r}', x['copy_gbps'])
    print(f'## {lay}  ceilings (GB/s): ' + ', '.join(f'{k} {v:.1f}' for k, v in ceil.items()))
    print('| m | dir | old ms (2 runs) | new ms (2 runs) | old/new (medians) | new, % of its run\'s ceiling | kernel |')
    print('|---|---|---|---|---|---|---|')
    for (m, dr), v in sorted(acc.items()):
        o = st.median([a for a, _, _ in v['old']]); n = st.median([a for a, _, _ in v['new']])
        print(f"| {m} | {dr} | {' / '.join(f'{a:.1f}' for a, _, _ in v['old'])} | {' / '.join(f'{a:.1f}' for a, _, _ in v['new'])} | {o/n:.2f}x | {' / '.join(f'{p:.0f}%' for _, p, _ in v['new'])} | {v['new'][0][2]} |")
