#!/usr/bin/env bash
# final16c.sh OUT: purged stack; g1024 (60 s warm-up) on this build with the inbox linger off (0) and on (1000, the default), the chat list timed every 2 s
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
export GENARGS="--first-warmup 60"
run() { # name dir projections-env
  /work/notes/chatprobe.sh > $2.chats 2>&1 & l=$!
  SBS_PROJECTIONS_ENV="$3" /work/notes/g1024-env.sh /work/main $1 $2 "" "" > $2.log 2>&1
  kill $l; pkill -f chatprobe.sh
}
run l0$RANDOM $out/linger0 "Projections__InboxPageLingerMs=0"
run l1$RANDOM $out/linger1000 ""
echo finished > $out/done
