#!/usr/bin/env bash
# final16.sh OUT: purged stack; g1024 warm-up (discarded); g1024 old/new x3, the chat list's latency probed every 2 s during each; ladders new and old
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
old=/tmp/old-16
infra/scripts/stack.sh purge > $out/infra.log 2>&1; make -s infra-up >> $out/infra.log 2>&1
probe() { # every 2 s: GET /v1/chats on edge-0 as a user with no chats (the waits do not depend on the user)
  local tok=""
  while [ -z "$tok" ]; do tok=$(curl -s -X POST -H 'content-type: application/json' -d '{"userId":"probe","deviceId":"probe"}' http://127.0.0.1:8180/v1/dev/tokens 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' 2>/dev/null); sleep 1; done
  while :; do echo "$(date +%T) $(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "authorization: Bearer $tok" http://127.0.0.1:8180/v1/chats)"; sleep 2; done
}
run() { # tree name dir
  probe > $3.chats 2>&1 & l=$!
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
/work/notes/sbs-ladder.sh $old lo$RANDOM $out/lo $L > $out/lo.log 2>&1
echo finished > $out/done
