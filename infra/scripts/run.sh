#!/usr/bin/env bash
# `make run`: the whole system locally, in the foreground.
#   run.sh        start the stack (if needed), two Edge nodes, the Router and Projections;
#                 Ctrl-C stops the services, then the stack if this run started it.
#   run.sh stop   stop services started by run.sh (pid files) and the stack (`make stop`).
# Service output goes to .local/logs/<service>.log and, prefixed, to stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CONFIGURATION="${CONFIGURATION:-Release}"
EDGE_PORTS="${EDGE_PORTS:-8080 8081}"
ROUTER_PORT="${ROUTER_PORT:-8090}"
PROJECTIONS_PORT="${PROJECTIONS_PORT:-8091}"
SVC_RUN="$RUN_DIR/services"
# Present while `make stop` stops the services: the foreground run then reports a stop, not a
# crash, and leaves the stopping to it (both used to stop everything and print each line twice).
STOPPING="$SVC_RUN/stopping"
STACK="$ROOT/infra/scripts/stack.sh"
TFM_DIR="bin/$CONFIGURATION/net10.0/linux-x64"

# stop_services: SIGTERM every recorded service (ASP.NET shuts down gracefully), then wait.
stop_services() {
  local f name
  for f in "$SVC_RUN"/*.pid; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f" .pid)"
    stop_pid "$name" "$f" "Messaging." 20 &
  done
  wait
}

if [[ "${1:-}" == stop ]]; then
  mkdir -p "$SVC_RUN"
  echo "$$" >"$STOPPING"
  stop_services
  "$STACK" down
  rm -f "$STOPPING"
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [stop]"

# --- what to run ---------------------------------------------------------------------------
names=() ports=() dlls=() envs=()
read -ra edge_ports <<<"$EDGE_PORTS"
for i in "${!edge_ports[@]}"; do
  # A draining node (SIGTERM) closes its sockets with 1001 `reconnect {url}`: send them to the
  # next node (with a single node, itself: its clients retry until it is back).
  next="${edge_ports[$(((i + 1) % ${#edge_ports[@]}))]}"
  names+=("edge-$i") ports+=("${edge_ports[$i]}") dlls+=("$ROOT/src/Edge/$TFM_DIR/Messaging.Edge.dll")
  envs+=("Edge__NodeId=$i Edge__DrainReconnectUrl=ws://127.0.0.1:$next/ws")
done
names+=(router) ports+=("$ROUTER_PORT") dlls+=("$ROOT/src/Router/$TFM_DIR/Messaging.Router.dll") envs+=("")
names+=(projections) ports+=("$PROJECTIONS_PORT") dlls+=("$ROOT/src/Projections/$TFM_DIR/Messaging.Projections.dll") envs+=("")

for dll in "${dlls[@]}"; do
  [[ -f "$dll" ]] || die "missing ${dll#"$ROOT"/}; build first: make build CONFIGURATION=$CONFIGURATION"
done
mkdir -p "$SVC_RUN" "$LOG_DIR"
rm -f "$STOPPING"
for n in "${!names[@]}"; do
  if pid_matches "$(read_pid "$SVC_RUN/${names[$n]}.pid")" "Messaging."; then
    die "${names[$n]} is already running (pid file $SVC_RUN/${names[$n]}.pid); run make stop first"
  fi
  if port_open "${ports[$n]}"; then
    die "port ${ports[$n]} (${names[$n]}) is in use by another process"
  fi
done

# --- stack -----------------------------------------------------------------------------------
stack_started=0
"$STACK" status >/dev/null 2>&1 || stack_started=1
"$STACK" up
eval "$("$STACK" env)"

pids=()
shutdown() {
  trap - INT TERM EXIT
  say "run: stopping services"
  stop_services
  if ((stack_started)) && [[ "${MESSAGING_RUN_KEEP_STACK:-}" != 1 ]]; then
    "$STACK" down
  else
    say "run: leaving the stack up (it was running before make run; make infra-down stops it)"
  fi
}
trap 'shutdown; exit 130' INT TERM
trap 'shutdown' EXIT

# --- services --------------------------------------------------------------------------------
for n in "${!names[@]}"; do
  name="${names[$n]}" port="${ports[$n]}" dll="${dlls[$n]}" log="$LOG_DIR/${names[$n]}.log"
  extra=()
  [[ -n "${envs[$n]}" ]] && read -ra extra <<<"${envs[$n]}"
  printf '=== %s start %s\n' "$name" "$(date -Is)" >>"$log"
  # cwd = the dll's folder: the content root, where appsettings*.json are found.
  # The prefixer ignores SIGINT so the services' last log lines still get through on Ctrl-C.
  (cd "$(dirname "$dll")" && exec env ASPNETCORE_ENVIRONMENT=Local DOTNET_ENVIRONMENT=Local \
    ASPNETCORE_URLS="http://127.0.0.1:$port" Urls="http://127.0.0.1:$port" "${extra[@]}" dotnet "$dll") \
    > >(trap '' INT; tee -a "$log" | sed -u "s/^/[$name] /") 2>&1 &
  pids+=("$!")
  echo "$!" >"$SVC_RUN/$name.pid"
done

for n in "${!names[@]}"; do
  wait_until 60 "${names[$n]}" "$LOG_DIR/${names[$n]}.log" "${pids[$n]}" port_open "${ports[$n]}"
done

cat <<INFO

=== Messaging is running ===
Web client:  $(for p in "${edge_ports[@]}"; do printf 'http://127.0.0.1:%s/  ' "$p"; done)
             (open it in two browsers or tabs, sign in as two users; each tab is its own device)
WebSocket:   $(for p in "${edge_ports[@]}"; do printf 'ws://127.0.0.1:%s/ws  ' "$p"; done)
Dev tokens:  POST http://127.0.0.1:${edge_ports[0]}/v1/dev/tokens
Health:
$(for n in "${!names[@]}"; do printf '  %-12s http://127.0.0.1:%s/health/live  http://127.0.0.1:%s/health/ready\n' "${names[$n]}" "${ports[$n]}" "${ports[$n]}"; done)
Metrics:
$(for n in "${!names[@]}"; do printf '  %-12s http://127.0.0.1:%s/metrics\n' "${names[$n]}" "${ports[$n]}"; done)
Logs:        $LOG_DIR/<service>.log
Ctrl-C or \`make stop\` stops everything.

INFO

# Any service exiting (crash or `make stop`) ends the run.
set +e
wait -n "${pids[@]}"
rc=$?
if [[ -e "$STOPPING" ]]; then
  # make stop is stopping every service and the stack: wait for ours to finish their last lines.
  trap - INT TERM EXIT
  wait "${pids[@]}" 2>/dev/null
  say "run: stopped by make stop"
  exit 0
fi
set -e
say "run: a service exited on its own (exit code $rc); stopping the others"
for n in "${!names[@]}"; do
  alive "${pids[$n]}" || say "run: ${names[$n]} exited (see $LOG_DIR/${names[$n]}.log)"
done
exit "$rc"
