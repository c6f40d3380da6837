#!/usr/bin/env bash
# s15b.sh: purged stack, then base vs Projections pages of ~1 s (FetchMinBytes 4 MiB, FetchWaitMaxMs 1000), alternated
o=/tmp/s15/b
mkdir -p $o
cd /work/main && infra/scripts/stack.sh purge >/dev/null 2>&1; make -s infra-up >/dev/null 2>&1
P="Projections__FetchMinBytes=4194304 Projections__FetchWaitMaxMs=1000"
/work/notes/g1024-env.sh /work/main warm $o/warm "" "" > $o/warm.log 2>&1
for r in 1 2; do
  /work/notes/g1024-env.sh /work/main b$r $o/b$r "" "" > $o/b$r.log 2>&1
  SBS_PROJECTIONS_ENV="$P" /work/notes/g1024-env.sh /work/main p$r $o/p$r "" "" > $o/p$r.log 2>&1
done
touch $o/done
