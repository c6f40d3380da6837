#!/usr/bin/env bash
set -uo pipefail
out=/work/notes/r18; cd /work/main
/work/notes/sbs-ladder.sh /work/main ln$RANDOM $out/ln --rates 500,2000,4000,1 --first-warmup 60 --duration 15 --max-p99 10 > $out/ln.log 2>&1
/work/notes/sbs-ladder.sh /work/main li$RANDOM $out/li --rates 1 --first-warmup 180 --duration 60 > $out/li.log 2>&1
echo finished > $out/ladder-done
