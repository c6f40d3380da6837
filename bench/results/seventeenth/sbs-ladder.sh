#!/usr/bin/env bash
# sbs-ladder.sh TREE NAME OUTDIR [run args...]: the bench ladder against side-by-side services of TREE
set -euo pipefail
tree="$1"; name="$2"; out="$3"; shift 3
cd /work/main
eval "$(infra/scripts/stack.sh env)"
tools/Bench/side-by-side.sh start "$tree" "$name" >/dev/null
trap 'tools/Bench/side-by-side.sh stop "$name"' EXIT
mkdir -p "$out"
dotnet tools/Bench/bin/Release/net10.0/linux-x64/Messaging.Bench.dll run --edge ws://127.0.0.1:8180 --edge ws://127.0.0.1:8181 \
  --user-prefix "l$name" --results "$out" --chart '' --service-pids "/tmp/side-by-side/$name/pids" "$@"
