# Where issue #11's CPU goals stand, from `statemix bench` JSON rows (batch-major, the layout the
# issue's table measured): per layer and m, forward, backward and forward+backward as % of each
# run's copy ceiling (for m >= 8 also of the arithmetic ceiling: the binding one is the larger
# fraction), the goal, and whether every run given reached it.
# Usage: python3 status.py RUN.json [RUN.json ...] > status.md
import json, sys
runs = [json.load(open(f)) for f in sys.argv[1:]]

def goal(layer, m, d):
    if d == 'fwd+bwd':
        return 55 if m == 1 else None
    if d == 'bwd':
        if m <= 2: return 60
        return 40 if (layer == 'hlru' and m <= 8) or (layer == 'bdlru' and m <= 4) else None
    if (layer == 'hlru' and m <= 8) or (layer == 'bdlru' and m <= 4): return 60
    return 50 if layer == 'bdlru' and m >= 8 else None

rows = {}
for r in runs:
    for x in r:
        if x['algorithm'] != 'sequential' or x['device'] != 'cpu': continue
        pct = 100 * x['fraction_of_copy']
        if x['m'] >= 8 and x['layer'] == 'bdlru':
            pct = max(pct, 100 * x['fraction_of_arith'])
        rows.setdefault((x['layer'], x['m']), {}).setdefault(x['direction'], []).append(pct)
print('| layer | m | forward % | backward % | fwd+bwd % | goals (fwd / bwd / fwd+bwd) | met |')
print('|---|---|---|---|---|---|---|')
for (layer, m), d in sorted(rows.items()):
    cells, goals, met = [], [], []
    for k in ('fwd', 'bwd', 'fwd+bwd'):
        v = d.get(k, [])
        cells.append(' / '.join(f'{p:.0f}' for p in v) or '-')
        g = goal(layer, m, k)
        goals.append(f'{g}' if g else '-')
        if g: met.append(('yes' if min(v) >= g else ('some runs' if max(v) >= g else 'no')) if v else '?')
    print(f"| {'BD-LRU' if layer == 'bdlru' else 'H-LRU'} | {m} | {' | '.join(cells)} | {' / '.join(goals)} | {', '.join(met) or '-'} |")
