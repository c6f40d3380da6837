import json,sys,glob
for d in sys.argv[1:]:
    for g in 'ab':
        for f in sorted(glob.glob(f'{d}/{g}/*.jsonl')):
            for line in open(f):
                r=json.loads(line)
                sc={x['process']:x for x in r['serverCpu']}
                tot=sum(x['microsPerDelivery'] for x in r['serverCpu'] if x['process']!='total')
                totp=sum(x['cpuPercent'] for x in r['serverCpu'] if x['process']!='total')
                gen=[p for p in r['processes'] if p['kind'] in ('generator','bench')]
                print(f"{d.split('/')[-1]}{g} rate {r['offeredRate']} del/s {r['deliveriesPerSecond']:.0f} p50 {r['latencyMs']['p50']:.0f} p99 {r['latencyMs']['p99']:.0f} miss {r['missing']} dup {r['duplicates']} edge {sc['edge-0']['cpuPercent']+sc['edge-1']['cpuPercent']:.1f}% servers {totp:.1f}% us/copy {tot:.1f} kafka {sc['kafka']['cpuPercent']}% pg {sc['postgres']['cpuPercent']}% router {sc['router']['cpuPercent']}% proj {sc['projections']['cpuPercent']}% gen {r.get('generatorCpuPercent','')}")
