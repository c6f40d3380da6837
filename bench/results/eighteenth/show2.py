import json,glob,sys
# show2.py DIR: per step: p50/p99, server total µs per copy, per-process cpu
for f in sorted(glob.glob(sys.argv[1]+'/*.jsonl')):
    for l in open(f):
        d=json.loads(l)
        tot=[x for x in d.get('serverCpu',[]) if x['process']=='total']
        t=tot[0] if tot else {}
        procs=' '.join(f"{x['kind']}={x['cpuPercent']}" for x in d.get('processes',[]))
        br=[x for x in d.get('brokerRequests',[]) if x['process']=='total']
        print(f"rate {d['offeredRate']} del/s {d['deliveriesPerSecond']} p50 {d['latencyMs']['p50']} p99 {d['latencyMs']['p99']} miss {d['missing']} dup {d['duplicates']} total {t.get('cpuPercent')}% {t.get('microsPerDelivery')}us/copy gen {d.get('generatorCpuPercent')} | {procs} | broker {br[0]['requestsPerSecond'] if br else '-'}/s")
