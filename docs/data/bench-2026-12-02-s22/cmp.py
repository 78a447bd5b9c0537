import json,sys
def load(f):
    out={}
    for r in json.load(open(f+'.json')):
        if r.get('device')!='cpu' or r.get('implementation','statemix')!='statemix' and r.get('peer'): continue
        out[(r['layer'],r['m'],r['algorithm'],r['direction'])]=r
    return out
names=sys.argv[1:]
R=[load(n) for n in names]
keys=sorted(R[0].keys())
print('| layer | m | layout | dir | ' + ' | '.join(names) + ' | old/new (median of each side) | kernel |')
for k in keys:
    if k[3]=='fwd+bwd': continue
    vals=[r[k]['ms'] if k in r else float('nan') for r in R]
    olds=sorted(v for n,v in zip(names,vals) if n.startswith('old')); news=sorted(v for n,v in zip(names,vals) if n.startswith('new'))
    mo=olds[len(olds)//2] if len(olds)%2 else sum(olds)/len(olds); mn=news[len(news)//2] if len(news)%2 else sum(news)/len(news)
    print('| %s | %d | %s | %s | %s | %.2fx | %s |'%(k[0],k[1],k[2],k[3],' | '.join('%.1f'%v for v in vals),mo/mn,R[-1][k]['kernel']))
