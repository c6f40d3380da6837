#!/usr/bin/env bash
# size.sh OUT: g1024 at half rate (RATE=5 per generator), default vs a 300 s session lease vs 2 s receipt flushes
set -uo pipefail
out="$1"; mkdir -p $out; cd /work/main
export RATE=5
/work/notes/g1024-env.sh /work/main sb1$RANDOM $out/base1 "" "" > $out/base1.log 2>&1
/work/notes/g1024-env.sh /work/main sl$RANDOM $out/lease "Edge__SessionLeaseSeconds=300" "" > $out/lease.log 2>&1
/work/notes/g1024-env.sh /work/main sf$RANDOM $out/flush "Conversation__ReceiptFlushMs=2000" "" > $out/flush.log 2>&1
/work/notes/g1024-env.sh /work/main sb2$RANDOM $out/base2 "" "" > $out/base2.log 2>&1
echo finished > $out/done
