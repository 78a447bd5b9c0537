import json, glob, sys, re, collections
rows = collections.defaultdict(list)
for f in sorted(glob.glob(sys.argv[1] + '/m*_w*_r*.json')):
    for x in json.load(open(f)):
        if x['implementation'] != 'statemix': continue
        rows[(x['m'], x['N'], x['direction'])].append((x['ms'], x['gbps'], 100 * x['fraction_of_copy'], x['kernel']))
for k in sorted(rows):
    v = rows[k]
    print(k, ' | '.join(f'{ms:.1f}ms {g:.1f}GB/s {p:.0f}%' for ms, g, p, _ in v), v[0][3])
