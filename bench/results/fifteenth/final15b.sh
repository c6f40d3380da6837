#!/usr/bin/env bash
# final15b.sh OUT: purged stack; g1024 warm-up (discarded); g1024 old/new x3 with the Projections' consumer lag sampled every 5 s; ladder new
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-15
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
lagloop() { while :; do echo "== $(date +%T)"; curl -s http://127.0.0.1:8191/metrics | grep "^messaging_kafka_consumer_lag" | grep -i "inbox\|chat" ; sleep 5; done; }
run() { # tree name dir
  lagloop > $3.lag 2>&1 & l=$!
  /work/notes/g1024-env.sh $1 $2 $3 "" "" > $3.log 2>&1
  kill $l
}
run /work/main fw$RANDOM $out/gwarm
for r in 1 2 3; do
  run $old fo$r$RANDOM $out/go$r
  run /work/main fn$r$RANDOM $out/gn$r
done
L="--rates 500,2000,4000,1 --first-warmup 60 --duration 15 --max-p99 10"
/work/notes/sbs-ladder.sh /work/main ln$RANDOM $out/ln $L > $out/ln.log 2>&1
echo finished > $out/done
