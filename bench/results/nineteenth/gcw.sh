#!/usr/bin/env bash
# gcw.sh TREE NAME OUT [EDGEENV]: managed heap per idle socket on edge-0: gcdump at 0 and at 2,000 sockets
set -uo pipefail
tree="$1"; name="$2"; out="$3"; edgeenv="${4:-}"
cd /work/main; mkdir -p "$out"
eval "$(infra/scripts/stack.sh env)"
SBS_EDGE_ENV="$edgeenv" tools/Bench/side-by-side.sh start "$tree" "$name" > "$out/sbs.log" 2>&1
trap 'tools/Bench/side-by-side.sh stop "$name"' EXIT
pid=$(cat /tmp/side-by-side/$name/pids/edge-0.pid)
for i in $(seq 1 60); do curl -s -o /dev/null http://127.0.0.1:8180/ >/dev/null 2>&1 && break; sleep 1; done
sleep 20
/root/.dotnet/tools/dotnet-gcdump collect -p $pid -o "$out/zero.gcdump" > "$out/gc0.log" 2>&1
dotnet tools/Bench/bin/Release/net10.0/linux-x64/Messaging.Bench.dll run --edge ws://127.0.0.1:8180 --edge ws://127.0.0.1:8181 \
  --user-prefix "g$name" --results "$out" --chart '' --service-pids "/tmp/side-by-side/$name/pids" \
  --scenario connect --users 4000 --settle 100 > "$out/bench.log" 2>&1 &
bp=$!
for i in $(seq 1 120); do n=$(ls /proc/$pid/fd 2>/dev/null | wc -l); [ "$n" -gt 2050 ] && break; sleep 1; done
sleep 30
ls /proc/$pid/fd | wc -l > "$out/fds"
grep VmRSS /proc/$pid/status > "$out/rss"
/root/.dotnet/tools/dotnet-gcdump collect -p $pid -o "$out/full.gcdump" > "$out/gc1.log" 2>&1
wait $bp
echo done > "$out/done"
