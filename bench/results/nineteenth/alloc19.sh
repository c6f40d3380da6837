#!/usr/bin/env bash
# alloc19.sh OUT: one g1024 run at RATE (default 2 per generator) on /work/main services; during the measured window
# dotnet-counters and dotnet-trace gc-verbose (both 25 s) on edge-0
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
export PATH=$PATH:/root/.dotnet/tools
export RATE=${RATE:-2}
export GENARGS="--first-warmup ${WARMUP:-60}"
name=al$RANDOM
( while [ ! -f /tmp/side-by-side/$name/pids/edge-0.pid ]; do sleep 1; done
  while ! grep -q "step 1" $out/g/a.log 2>/dev/null; do sleep 1; [ -f $out/done ] && exit 0; done
  sleep $(( ${WARMUP:-60} + 2 ))
  pid=$(cat /tmp/side-by-side/$name/pids/edge-0.pid)
  dotnet-counters collect -p $pid --duration 00:00:25 --format csv -o $out/counters-edge0.csv --counters System.Runtime,Messaging.Edge > $out/counters.log 2>&1 &
  dotnet-trace collect -p $pid --profile gc-verbose --duration 00:00:25 -o $out/edge0-gcverbose.nettrace > $out/trace.log 2>&1
  wait
) & w=$!
/work/notes/g1024-env.sh /work/main $name $out/g "" "" > $out/g.log 2>&1
echo finished > $out/done
wait $w
