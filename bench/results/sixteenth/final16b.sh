#!/usr/bin/env bash
# final16b.sh OUT: purged stack; g1024 new/old x3 alternated with a 60 s first warm-up (--first-warmup 60) instead of the default 5 s
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-16
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
export GENARGS="--first-warmup 60"
for r in 1 2 3; do
  /work/notes/g1024-env.sh /work/main wn$r$RANDOM $out/wn$r "" "" > $out/wn$r.log 2>&1
  /work/notes/g1024-env.sh $old wo$r$RANDOM $out/wo$r "" "" > $out/wo$r.log 2>&1
done
echo finished > $out/done
