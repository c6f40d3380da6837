#!/usr/bin/env bash
# cmp19.sh OUT TREE...: g1024 at RATE (per generator) against side-by-side services of each TREE in turn (main's generator);
# dotnet-counters on edge-0 over 25 s of each measured window
set -uo pipefail
out="$1"; shift; mkdir -p $out; cd /work/main
export PATH=$PATH:/root/.dotnet/tools
export GENARGS="--first-warmup ${WARMUP:-60}"
i=0
for tree in "$@"; do
  i=$((i+1)); tag=$(basename $tree)$i; name=c$RANDOM; d=$out/$tag; mkdir -p $d
  ( while [ ! -f /tmp/side-by-side/$name/pids/edge-0.pid ]; do sleep 1; [ -f $d/done ] && exit 0; done
    while ! grep -q "step 1" $d/g/a.log 2>/dev/null; do sleep 1; [ -f $d/done ] && exit 0; done
    sleep $(( ${WARMUP:-60} + 2 ))
    dotnet-counters collect -p $(cat /tmp/side-by-side/$name/pids/edge-0.pid) --duration 00:00:25 --format csv -o $d/counters-edge0.csv --counters System.Runtime,Messaging.Edge > $d/counters.log 2>&1
  ) & w=$!
  /work/notes/g1024-env.sh $tree $name $d/g "" "" > $d/g.log 2>&1
  echo done > $d/done
  wait $w
done
echo finished > $out/done
