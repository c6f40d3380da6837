# shellcheck shell=bash disable=SC2034
# Shared helpers for the infra scripts. Sourced, never executed.
# Everything local lives under $LOCAL (default <repo>/.local, ignored by git).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${MESSAGING_LOCAL_DIR:-$ROOT/.local}"
KAFKA_LIBS="$LOCAL/kafka/libs"
# make test points this (and PG_DATA_DIR) at its own throw-away data, so make run never inherits
# the thousands of test-topic partitions (measured: a broker holding them burned 43 % CPU idle,
# and after many test runs make run's services timed out reading its metadata at start).
DATA_DIR="${MESSAGING_DATA_DIR:-$LOCAL/data}"
LOG_DIR="$LOCAL/logs"
RUN_DIR="$LOCAL/run"
CONF_DIR="$LOCAL/conf"
# A second, separate stack instance (make chaos restarts its broker and its database under load):
# MESSAGING_STACK_DIR holds its data, logs, pid files, lock and config, so its stack.sh never reads
# the usual instance's pid files; it also needs its own ports and PG_DATA_DIR (see make chaos).
if [[ -n "${MESSAGING_STACK_DIR:-}" ]]; then
  DATA_DIR="$MESSAGING_STACK_DIR/data" LOG_DIR="$MESSAGING_STACK_DIR/logs"
  RUN_DIR="$MESSAGING_STACK_DIR/run" CONF_DIR="$MESSAGING_STACK_DIR/conf"
fi
# The AsyncAPI CLI (docs/asyncapi.yaml is validated with it): its own npm prefix, beside s3rver's.
ASYNCAPI_DIR="$LOCAL/tools/asyncapi"
ASYNCAPI_BIN="$ASYNCAPI_DIR/node_modules/.bin/asyncapi"

ZK_PORT="${ZK_PORT:-22181}"
KAFKA_PORT="${KAFKA_PORT:-29092}"
PG_PORT="${PG_PORT:-25432}"
S3_PORT="${S3_PORT:-24569}"
# Seconds any single wait may take before we give up with a pointer to the log.
STACK_TIMEOUT="${STACK_TIMEOUT:-90}"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1 (no nc needed).
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# True when $1 is a live process whose command line contains $2 (guards against pid reuse).
pid_matches() {
  local pid="$1" marker="$2"
  [[ -n "$pid" ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# True while $1 runs. A zombie (exited, not yet reaped: our own child, or an orphan in a
# container whose pid 1 does not reap) counts as gone, although kill -0 still succeeds on it.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat; stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

read_pid() { [[ -f "$1" ]] && head -n1 "$1" | tr -dc '0-9' || true; }

# wait_until TIMEOUT WHAT LOGFILE PID COMMAND...: polls COMMAND every 0.2 s.
# Fails early when PID (if non-empty) dies, and names LOGFILE in every error.
wait_until() {
  local timeout="$1" what="$2" log="$3" pid="$4"; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      tail -n 30 "$log" >&2 2>/dev/null || true
      die "$what: process $pid exited while starting; read $log"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$log" >&2 2>/dev/null || true
      die "$what: not ready after ${timeout}s; read $log"
    fi
    sleep 0.2
  done
}

# stop_pid NAME PIDFILE MARKER [TIMEOUT]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name="$1" pidfile="$2" marker="$3" timeout="${4:-30}" pid
  pid="$(read_pid "$pidfile")"
  if ! pid_matches "$pid" "$marker"; then
    rm -f "$pidfile"
    say "$name: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    say "$name: still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && die "$name: pid $pid survives SIGKILL"
  fi
  rm -f "$pidfile"
  say "$name: stopped"
}

# Kafka/ZooKeeper classpath: every jar of the npm-shipped Kafka 0.9.0.1 except docs/sources/tests.
kafka_classpath() {
  [[ -d "$KAFKA_LIBS" ]] || die "$KAFKA_LIBS missing; run infra/scripts/install-deps.sh (make deps)"
  local jar cp=""
  for jar in "$KAFKA_LIBS"/*.jar; do
    case "$jar" in *-javadoc.jar | *-scaladoc.jar | *-sources.jar | *-test.jar) continue ;; esac
    cp="${cp:+$cp:}$jar"
  done
  printf '%s' "$cp"
}

# Runs a Kafka command-line tool class. Small heap, serial GC and C1 only: these
# JVMs live for a second or two, so start-up time is what matters.
kafka_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/tools-log4j.properties" \
    -cp "$(kafka_classpath)" "$@"
}

# render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ placeholders (pure bash, so paths need no escaping).
render() {
  local template="$1" out="$2" text kv; shift 2
  text="$(<"$template")"
  for kv in "$@"; do text="${text//@${kv%%=*}@/${kv#*=}}"; done
  if grep -qE '@[A-Z_]+@' <<<"$text"; then
    die "unreplaced placeholder in $template: $(grep -oE '@[A-Z_]+@' <<<"$text" | head -n1)"
  fi
  printf '%s\n' "$text" >"$out.tmp" && mv "$out.tmp" "$out"
}
