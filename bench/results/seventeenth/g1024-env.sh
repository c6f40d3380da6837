#!/usr/bin/env bash
# g1024-env.sh TREE NAME OUTDIR "EDGEENV" "GENENV": make bench-groups-1024 (two generators) against side-by-side services of TREE, env to Edge and to the generators
set -euo pipefail
tree="$1"; name="$2"; out="$3"; edgeenv="$4"; genenv="$5"
cd /work/main
eval "$(infra/scripts/stack.sh env)"
SBS_EDGE_ENV="$edgeenv" tools/Bench/side-by-side.sh start "$tree" "$name" >/dev/null
trap 'tools/Bench/side-by-side.sh stop "$name"' EXIT
mkdir -p "$out/a" "$out/b"
dll=${GENDLL:-tools/Bench/bin/Release/net10.0/linux-x64/Messaging.Bench.dll}
common=(--edge ws://127.0.0.1:8180 --edge ws://127.0.0.1:8181 --users 5120 --devices-per-user 2 --group-size 1024 --rates ${RATE:-10} --duration 30 --drain 20 --setup-timeout 900 --settle 10 --chart "" --service-pids /tmp/side-by-side/$name/pids)
env $genenv dotnet $dll run "${common[@]}" ${GENARGS:-} --user-prefix "ga$name" --results "$out/a" > "$out/a.log" 2>&1 & first=$!
env $genenv dotnet $dll run "${common[@]}" ${GENARGS:-} --user-prefix "gb$name" --results "$out/b" > "$out/b.log" 2>&1
wait $first
