#!/usr/bin/env bash
# final17.sh OUT: purged stack; groups of 1,024 at half rate (RATE=5 per generator), new/old alternated x2; then make bench-idle's flags new/old
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-17
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
export RATE=5
for r in 1 2; do
  /work/notes/g1024-env.sh /work/main hn$r$RANDOM $out/hn$r "" "" > $out/hn$r.log 2>&1
  /work/notes/g1024-env.sh $old ho$r$RANDOM $out/ho$r "" "" > $out/ho$r.log 2>&1
done
I="--rates 1 --first-warmup 180 --duration 60"
/work/notes/sbs-ladder.sh /work/main in$RANDOM $out/in $I > $out/in.log 2>&1
/work/notes/sbs-ladder.sh $old io$RANDOM $out/io $I > $out/io.log 2>&1
echo finished > $out/done
