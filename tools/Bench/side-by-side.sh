#!/usr/bin/env bash
# Services of one build on their own namespace of a running stack, for old/new comparisons when the
# stack is shared and must not be purged (docs/benchmarks.md, "How to run"):
#   side-by-side.sh start TREE NAME [VAR=VALUE...]   2 Edge nodes, Router, Projections of TREE
#   side-by-side.sh stop NAME
# Like make run (environment Local, Release build of TREE), but with topic prefix NAME-, database
# schema NAME, ports $SBS_PORTS (default 8180 8181 8190 8191) and pid files in
# ${SBS_DIR:-/tmp/side-by-side}/NAME/pids, to pass to `run --service-pids`. VAR=VALUE pairs go to every
# service; $SBS_EDGE_ENV / $SBS_ROUTER_ENV / $SBS_PROJECTIONS_ENV (space-separated VAR=VALUE) to
# Edge, Router or Projections only.
# The stack itself is neither started nor stopped. NAME may only hold [a-z0-9_].
set -euo pipefail

dir="${SBS_DIR:-/tmp/side-by-side}"
read -ra ports <<<"${SBS_PORTS:-8180 8181 8190 8191}"

usage() { echo "usage: $0 start TREE NAME [VAR=VALUE...] | stop NAME" >&2; exit 2; }

stop() {
  local f pid
  for f in "$dir/$1"/pids/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
  done
  for f in "$dir/$1"/pids/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f")"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$f"
  done
}

[[ $# -ge 1 ]] || usage
case "$1" in
  stop) [[ $# -eq 2 ]] || usage; stop "$2"; exit 0 ;;
  start) [[ $# -ge 3 ]] || usage ;;
  *) usage ;;
esac
tree="$(cd "$2" && pwd)"; name="$3"; shift 3
[[ "$name" =~ ^[a-z0-9_]+$ ]] || { echo "NAME must match [a-z0-9_]+" >&2; exit 2; }
mkdir -p "$dir/$name/pids" "$dir/$name/logs"
tfm="bin/Release/net10.0/linux-x64"
read -ra edge_env <<<"${SBS_EDGE_ENV:-}"
read -ra router_env <<<"${SBS_ROUTER_ENV:-}"
read -ra projections_env <<<"${SBS_PROJECTIONS_ENV:-}"

# launch SERVICE PORT DLL VAR=VALUE...: the dll's folder is the content root (appsettings*.json).
launch() {
  local service="$1" port="$2" dll="$3"; shift 3
  [[ -f "$dll" ]] || { echo "missing $dll: build $tree in Release first" >&2; exit 1; }
  (cd "$(dirname "$dll")" && exec env ASPNETCORE_ENVIRONMENT=Local DOTNET_ENVIRONMENT=Local \
    ASPNETCORE_URLS="http://127.0.0.1:$port" Urls="http://127.0.0.1:$port" \
    Kafka__TopicPrefix="$name-" Postgres__Schema="$name" "$@" dotnet "$dll") \
    >"$dir/$name/logs/$service.log" 2>&1 &
  echo "$!" >"$dir/$name/pids/$service.pid"
}

launch edge-0 "${ports[0]}" "$tree/src/Edge/$tfm/Messaging.Edge.dll" Edge__NodeId=0 "$@" "${edge_env[@]}"
launch edge-1 "${ports[1]}" "$tree/src/Edge/$tfm/Messaging.Edge.dll" Edge__NodeId=1 "$@" "${edge_env[@]}"
launch router "${ports[2]}" "$tree/src/Router/$tfm/Messaging.Router.dll" "$@" "${router_env[@]}"
launch projections "${ports[3]}" "$tree/src/Projections/$tfm/Messaging.Projections.dll" "$@" "${projections_env[@]}"

for _ in $(seq 1 180); do
  ready=0
  for port in "${ports[@]}"; do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && ready=$((ready + 1))
  done
  if ((ready == ${#ports[@]})); then
    echo "$name: ready; pid files in $dir/$name/pids, logs in $dir/$name/logs"
    exit 0
  fi
  sleep 1
done
echo "$name: not ready after 180 s; see $dir/$name/logs" >&2
stop "$name"
exit 1
