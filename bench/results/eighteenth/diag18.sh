#!/usr/bin/env bash
# diag18.sh OUT: one g1024 run (RATE env, default 10; 60 s warm-up) on /work/main; utime/stime of every service and generator, and dotnet-counters on edge-0 in the measured window
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
export PATH=$PATH:/root/.dotnet/tools
export GENARGS="--first-warmup ${WARMUP:-60}"
name=dg$RANDOM
stat() { for f in /tmp/side-by-side/$name/pids/*.pid; do p=$(cat $f); echo "$(basename $f .pid) $(awk '{print $14, $15}' /proc/$p/stat)"; done
  for p in $(pgrep -f "Messaging.Bench.dll run"); do echo "gen-$p $(awk '{print $14, $15}' /proc/$p/stat)"; done
  for p in $(pgrep -f "kafka.Kafka"); do echo "kafka $(awk '{print $14, $15}' /proc/$p/stat)"; done; }
( while [ ! -f /tmp/side-by-side/$name/pids/edge-0.pid ]; do sleep 1; done
  while ! grep -q "step 1" $out/g/a.log 2>/dev/null; do sleep 1; done
  sleep $(( ${WARMUP:-60} + 2 )); stat > $out/stat0; date +%s.%N > $out/t0
  dotnet-counters collect -p $(cat /tmp/side-by-side/$name/pids/edge-0.pid) --duration 00:00:25 --format csv -o $out/counters-edge0.csv --counters System.Runtime > $out/counters.log 2>&1 &
  sleep 25; stat > $out/stat1; date +%s.%N > $out/t1
) & w=$!
/work/notes/g1024-env.sh /work/main $name $out/g "" "" > $out/g.log 2>&1
wait $w
echo finished > $out/done
