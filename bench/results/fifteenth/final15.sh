#!/usr/bin/env bash
# final15.sh OUT: purged stack; g1024 warm-up (discarded); g1024 old/new x3; ladders old, new
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-15
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
/work/notes/g1024-env.sh /work/main fw$RANDOM $out/gwarm "" "" > $out/gwarm.log 2>&1
for r in 1 2 3; do
  /work/notes/g1024-env.sh $old fo$r$RANDOM $out/go$r "" "" > $out/go$r.log 2>&1
  /work/notes/g1024-env.sh /work/main fn$r$RANDOM $out/gn$r "" "" > $out/gn$r.log 2>&1
done
L="--rates 500,2000,4000,1 --first-warmup 60 --duration 15 --max-p99 10"
/work/notes/sbs-ladder.sh $old lo$RANDOM $out/lo $L > $out/lo.log 2>&1
/work/notes/sbs-ladder.sh /work/main ln$RANDOM $out/ln $L > $out/ln.log 2>&1
echo finished > $out/done
