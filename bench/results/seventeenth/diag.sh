#!/usr/bin/env bash
# diag.sh OUT: one g1024 run (60 s warm-up) on /work/main; per-topic bytes; dotnet-counters on edge-0, router, projections during the measured window
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
export PATH=$PATH:/root/.dotnet/tools
export GENARGS="--first-warmup 60"
name=dg$RANDOM
sizes() { for d in .local/data/kafka/*; do echo "$(du -sb $d | cut -f1) $(basename $d)"; done | sort -k2 > $1; }
( # wait for the services' pid files, then for the measured window
  while [ ! -f /tmp/side-by-side/$name/pids/edge-0.pid ]; do sleep 1; done
  while ! grep -q "step 1" $out/g/a.log 2>/dev/null; do sleep 1; done
  sleep 62; sizes $out/sizes0; date +%s.%N > $out/t0
  for s in edge-0; do
    dotnet-counters collect -p $(cat /tmp/side-by-side/$name/pids/$s.pid) --duration 00:00:25 --format csv -o $out/counters-$s.csv --counters System.Runtime > /dev/null 2>&1 &
  done
  sleep 25; sizes $out/sizes1; date +%s.%N > $out/t1
) & w=$!
/work/notes/g1024-env.sh /work/main $name $out/g "" "" > $out/g.log 2>&1
wait $w
echo finished > $out/done
