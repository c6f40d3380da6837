import re,sys,collections
def load(p):
    d=collections.defaultdict(lambda:[0,0])
    for line in open(p):
        m=re.match(r'\s*([\d,]+)\s+([\d,]+)\s+(.*?)\s*(\(Bytes > [^)]*\))?\s*\[',line)
        if not m: continue
        b=int(m.group(1).replace(',',''));c=int(m.group(2).replace(',',''));t=m.group(3).strip()
        d[t][0]+=b*c;d[t][1]+=c
    return d
a=load(sys.argv[1]);b=load(sys.argv[2]);n=int(sys.argv[3])
rows=[(b[t][0]-a.get(t,[0,0])[0],b[t][1]-a.get(t,[0,0])[1],t) for t in b]
rows.sort(reverse=True)
tot=sum(r[0] for r in rows)
print(f"total diff {tot} B = {tot/n:.0f} B per socket")
for db,dc,t in rows[:int(sys.argv[4]) if len(sys.argv)>4 else 60]:
    print(f"{db/n:8.0f} B/sock {dc/n:6.2f} obj/sock  {t[:150]}")
