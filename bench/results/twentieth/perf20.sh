#!/usr/bin/env bash
# perf20.sh OUT: one g1024 run at RATE (default 3 per generator) on /work/main services, Edge JIT-only with perf maps;
# perf record -a -g for 15 s of the measured window, then per-process frame tables for edge-0
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
export RATE=${RATE:-3}
export GENARGS="--first-warmup ${WARMUP:-60}"
name=pf$RANDOM
( while [ ! -f /tmp/side-by-side/$name/pids/edge-0.pid ]; do sleep 1; done
  while ! grep -q "step 1" $out/g/a.log 2>/dev/null; do sleep 1; [ -f $out/done ] && exit 0; done
  sleep $(( ${WARMUP:-60} + 5 ))
  cp -r /tmp/side-by-side/$name/pids $out/pids
  perf record -F 499 -a -g -o $out/perf.data -- sleep 15 > $out/perf.log 2>&1
  perf script -F comm,pid,tid,cpu,time,event,ip,sym,dso -i $out/perf.data > $out/perf.script 2>/dev/null
) & w=$!
/work/notes/g1024-env.sh /work/main $name $out/g "DOTNET_ReadyToRun=0 DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0" "" > $out/g.log 2>&1
echo finished > $out/done
wait $w
