import re,sys,collections
lines=open(sys.argv[1]).read().split('\n')
labels={}
for i,l in enumerate(lines):
    m=re.match(r'^(\.?[A-Za-z0-9_$.]+):',l)
    if m: labels[m.group(1)]=i
loops=[]
for i,l in enumerate(lines):
    m=re.match(r'^\s+j[a-z]+\s+(\.?[A-Za-z0-9_$.]+)',l)
    if m and m.group(1) in labels and labels[m.group(1)]<i:
        s=labels[m.group(1)]
        body=[x.split()[0] for x in lines[s+1:i+1] if x.startswith('\t') and not x.strip().startswith('.') and not x.strip().startswith('#')]
        loops.append((s,i,body))
for s,e,body in loops:
    if len(body)<40: continue
    c=collections.Counter(body)
    print(f"loop {lines[s].split(':')[0]} lines {s}-{e}: {len(body)} instr; div {c['vdivps']} exp-cvt {c['vcvttps2dq']} perm {c['vpermt2ps']+c['vpermps']+c['vpermi2ps']} fma {sum(v for k,v in c.items() if 'fma' in k or 'fnma' in k or 'fms' in k)} mul {c['vmulps']} ins {c['vinsertps']+c['vinsertf128']+c['vinsertf64x4']} mov {c['vmovaps']+c['vmovups']} gather {c['vgatherdps']} bcast {c['vbroadcastss']}")
