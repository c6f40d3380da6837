#!/usr/bin/env python3
# perfsum.py perf.script PID [N]: self and inclusive top frames of one process; share of samples per pid
import sys, re, collections
path, pid = sys.argv[1], sys.argv[2]; n = int(sys.argv[3]) if len(sys.argv) > 3 else 60
head = re.compile(r'^\s*(\S.*?)\s+(\d+)/(\d+)\s')
per_pid = collections.Counter(); selfc = collections.Counter(); incl = collections.Counter(); total = 0
cur = None; frames = []
def flush():
    global total
    if cur is None: return
    per_pid[cur] += 1
    if cur == pid and frames:
        total += 1
        selfc[frames[0]] += 1
        for f in set(frames): incl[f] += 1
for line in open(path, errors='replace'):
    if not line.strip():
        flush(); cur = None; frames = []; continue
    if not line.startswith((' ', '\t')):
        m = head.match(line); cur = m.group(2) if m else None; frames = []; continue
    parts = line.strip().split(' ', 1)
    sym = parts[1] if len(parts) > 1 else parts[0]
    sym = re.sub(r'\s+\(\S*\)$', '', sym); sym = re.sub(r'\+0x[0-9a-f]+$', '', sym)
    frames.append(sym[:150])
flush()
alls = sum(per_pid.values())
for p, c in per_pid.most_common(12): print(f"{100*c/alls:6.2f}% pid {p}")
print(f"pid {pid}: {total} samples\n--- self")
for s, c in selfc.most_common(n): print(f"{100*c/total:5.1f}% {s}")
print("--- inclusive")
for s, c in incl.most_common(n*2): print(f"{100*c/total:5.1f}% {s}")
