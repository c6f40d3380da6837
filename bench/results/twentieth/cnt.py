#!/usr/bin/env python3
# cnt.py counters-edge0.csv...: allocated bytes per pushed copy, CPU, GC pause share, collections, lock contentions
import sys, csv, collections
for path in sys.argv[1:]:
    s = collections.defaultdict(list)
    for row in csv.reader(open(path)):
        if len(row) < 5 or row[0] == 'Timestamp': continue
        try: s[row[2]].append(float(row[4]))
        except ValueError: pass
    m = lambda k: sum(s[k])/len(s[k]) if s.get(k) else float('nan')
    alloc = m('dotnet.gc.heap.total_allocated (By / 1 sec)'); pushed = m('messaging.edge.deliveries.pushed ({frame} / 1 sec)')
    cpu = m('dotnet.process.cpu.time (s / 1 sec)[cpu.mode=user]') + m('dotnet.process.cpu.time (s / 1 sec)[cpu.mode=system]')
    g0 = m('dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen0]'); g1 = m('dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen1]')
    pause = m('dotnet.gc.pause.time (s / 1 sec)'); acks = m('messaging.edge.frames.in ({frame} / 1 sec)[type=AckFrame]')
    print(f"{path}: pushed {pushed:,.0f}/s acks {acks:,.0f}/s alloc {alloc/1e6:.2f} MB/s = {alloc/pushed:,.0f} B/copy; cpu {100*cpu:.1f}% = {1e6*cpu/pushed:.1f} us/copy; gc pause {100*pause:.2f}%; gen0 {g0:.2f}/s gen1 {g1:.2f}/s")
