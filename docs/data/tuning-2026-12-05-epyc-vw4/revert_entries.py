# The thirty-ninth session's step after tune.sh: put six re-tuned entries back to their text of
# 77bb720 (tune.sh says why), keeping the file's formatting. Run from the repository root:
#   python3 docs/data/tuning-2026-12-05-epyc-vw4/revert_entries.py TUNED.json > autotune/db/tuning.json
# Replace some entries of a tuning.json text with another file's text of the same entries (keeps formatting).
import json,sys,subprocess
def spans(raw):
    dec=json.JSONDecoder(); i=raw.index('"entries": [')+len('"entries": [')
    out=[]
    while True:
        while raw[i] in ' \n,': i+=1
        if raw[i]==']': break
        o,j=dec.raw_decode(raw,i); out.append((o,i,j)); i=j
    return out
def key(e): return (e['layer'],e['direction'],e['m'],e['device'],e['bucket'],e['target'])
head=subprocess.check_output(['git','show','77bb720:autotune/db/tuning.json']).decode()
cur=open(sys.argv[1]).read()
hs={key(o):head[a:b] for o,a,b in spans(head)}
revert={('bdlru','backward',3,'wide'),('hlru','forward',7,'mid'),('hlru','forward',8,'mid'),('hlru','backward',8,'mid'),('hlru','backward',5,'mid'),('hlru','backward',7,'mid')}
T='x86-64-linux-avx-avx2-f16c-fma-sse41'
out=cur; n=0
for o,a,b in reversed(spans(cur)):
    k=key(o)
    if (k[0],k[1],k[2],k[4]) in revert and k[5]==T:
        out=out[:a]+hs[k]+out[b:]; n+=1
print('reverted',n, file=sys.stderr)
sys.stdout.write(out)
