#!/usr/bin/env bash
# s15a.sh: transport options, alternated: base, wait-off, inline, both
o=/tmp/s15/a
mkdir -p $o
I="Edge__InlineSocketContinuations=true DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"
W="Edge__SocketReadsWaitForData=false"
for r in 1 2; do
  /work/notes/g1024-env.sh /work/main b$r $o/b$r "" "" > $o/b$r.log 2>&1
  /work/notes/g1024-env.sh /work/main w$r $o/w$r "$W" "" > $o/w$r.log 2>&1
  /work/notes/g1024-env.sh /work/main i$r $o/i$r "$I" "" > $o/i$r.log 2>&1
  /work/notes/g1024-env.sh /work/main x$r $o/x$r "$I $W" "" > $o/x$r.log 2>&1
done
touch $o/done
