#!/usr/bin/env bash
# final17b.sh OUT: purged stack; ladder new/old; groups of 1,024 at full rate with a minute of warm-up (make bench-groups-1024's), new/old
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-17
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
L="--rates 500,2000,4000,1 --first-warmup 60 --duration 15 --max-p99 10"
/work/notes/sbs-ladder.sh /work/main ln$RANDOM $out/ln $L > $out/ln.log 2>&1
/work/notes/sbs-ladder.sh $old lo$RANDOM $out/lo $L > $out/lo.log 2>&1
export GENARGS="--first-warmup 60"
/work/notes/g1024-env.sh /work/main fn$RANDOM $out/fn "" "" > $out/fn.log 2>&1
/work/notes/g1024-env.sh $old fo$RANDOM $out/fo "" "" > $out/fo.log 2>&1
echo finished > $out/done
