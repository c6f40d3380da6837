#!/usr/bin/env bash
# Local infrastructure for development and tests, without Docker:
#   ZooKeeper 3.4.6 + Kafka 0.9.0.1 (jars from npm), PostgreSQL 15 (Debian), s3rver (npm).
# Usage: stack.sh up|down|status|env|purge, or stack.sh stop kafka|postgres (one component; a
# later `up` starts it again: the chaos suite's broker and database restarts).
# Data under .local/data, logs under .local/logs, pid files under .local/run. PostgreSQL's data
# and socket live OUTSIDE the clone (PG_DATA_DIR, default /tmp/messaging-pg-<hash>): it must run
# as the unprivileged `postgres` user when we are root, and that user may not be able to
# traverse the clone's parent directories.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# A separate instance (MESSAGING_STACK_DIR) never defaults to the usual instance's directory.
PG_DATA_DIR="${PG_DATA_DIR:-/tmp/messaging-pg-$(printf '%s' "${MESSAGING_STACK_DIR:-$ROOT}" | sha256sum | cut -c1-8)}"
PGDATA="$PG_DATA_DIR/data"
PG_LOG="$PG_DATA_DIR/postgres.log"
S3_BUCKET="${S3_BUCKET:-messaging-media}"
# The broker's JVM flags (heap and collector); KAFKA_JVM_OPTS replaces them (infra/kafka/README.md).
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--Xmx512m -Xms512m -XX:+UseParallelGC}"
S3RVER_BIN="$LOCAL/tools/node_modules/.bin/s3rver"

ZK_PID="$RUN_DIR/zookeeper.pid" ZK_LOG="$LOG_DIR/zookeeper.log" ZK_MARK=QuorumPeerMain
KAFKA_PID="$RUN_DIR/kafka.pid" KAFKA_LOG="$LOG_DIR/kafka.log" KAFKA_MARK=kafka.Kafka
S3_PID="$RUN_DIR/s3rver.pid" S3_LOG="$LOG_DIR/s3rver.log" S3_MARK=s3rver

# --- helpers ---------------------------------------------------------------------------------

# Starts "$@" detached from our session and process group (setsid), so Ctrl-C in a terminal
# running `make run` does not hit the infra directly (run.sh stops it in order), and records
# the real pid: `exec` keeps the pid of the bash that wrote it. fd 9 (the stack lock) is
# closed so the daemon does not hold the lock forever.
spawn() {
  local pidfile="$1" log="$2"; shift 2
  rm -f "$pidfile"
  # Logs are appended across restarts; keep one previous generation once they get big.
  if [[ -f "$log" ]] && (($(stat -c %s "$log") > 64 * 1024 * 1024)); then mv -f "$log" "$log.1"; fi
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
    >>"$log" 2>&1 </dev/null 9>&- &
  wait_until 10 "spawn $(basename "$pidfile" .pid)" "$log" "" test -s "$pidfile"
}

# ZooKeeper four-letter-word commands over bash's /dev/tcp (no nc on a fresh machine).
zk_cmd() {
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf %s "$1" >&3 && cat <&3' "$ZK_PORT" "$1" 2>/dev/null
}
zk_ok() { [[ "$(zk_cmd ruok)" == imok ]]; }
# Broker 0 is registered when its ephemeral znode shows up in the session dump.
# (Captured first: with pipefail, grep -q closing the pipe early could fail the check.)
kafka_registered() { grep -q '/brokers/ids/0$' <<<"$(zk_cmd dump)"; }
kafka_ready() { port_open "$KAFKA_PORT" && kafka_registered; }

running() { pid_matches "$(read_pid "$1")" "$2"; }

# need_start NAME PIDFILE MARKER PORTVAR: 0 = start it, 1 = already running.
# Dies when the port belongs to some other process.
need_start() {
  local name="$1" pidfile="$2" mark="$3" portvar="$4"
  if running "$pidfile" "$mark"; then
    say "$name: already running (pid $(read_pid "$pidfile"))"
    return 1
  fi
  rm -f "$pidfile"
  if port_open "${!portvar}"; then
    die "$name: port ${!portvar} is in use by another process (set $portvar to use another port)"
  fi
  return 0
}

# PostgreSQL refuses to run as root: use the postgres user then; otherwise ourselves.
as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_running() { [[ -f "$PGDATA/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }
psql_admin() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

# --- ZooKeeper -------------------------------------------------------------------------------
zk_start() {
  need_start zookeeper "$ZK_PID" "$ZK_MARK" ZK_PORT || return 0
  render "$ROOT/infra/kafka/zookeeper.properties" "$CONF_DIR/zookeeper.properties" \
    "DATA_DIR=$DATA_DIR" "ZK_PORT=$ZK_PORT"
  say "zookeeper: starting on 127.0.0.1:$ZK_PORT"
  spawn "$ZK_PID" "$ZK_LOG" java -Xmx256m -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -cp "$(kafka_classpath)" org.apache.zookeeper.server.quorum.QuorumPeerMain "$CONF_DIR/zookeeper.properties"
}
zk_wait() {
  wait_until "$STACK_TIMEOUT" zookeeper "$ZK_LOG" "$(read_pid "$ZK_PID")" zk_ok
  say "zookeeper: ready"
}

# --- Kafka -----------------------------------------------------------------------------------
kafka_start() {
  need_start kafka "$KAFKA_PID" "$KAFKA_MARK" KAFKA_PORT || return 0
  # After a hard kill the old broker's ephemeral znode lingers until its ZooKeeper session
  # expires (6 s); starting earlier would make kafka_registered() true too soon.
  local deadline=$((SECONDS + 30))
  while kafka_registered && ((SECONDS < deadline)); do sleep 0.2; done
  render "$ROOT/infra/kafka/server.properties" "$CONF_DIR/server.properties" \
    "DATA_DIR=$DATA_DIR" "ZK_PORT=$ZK_PORT" "KAFKA_PORT=$KAFKA_PORT"
  say "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  # shellcheck disable=SC2086 # KAFKA_JVM_OPTS is a list of flags
  spawn "$KAFKA_PID" "$KAFKA_LOG" java $KAFKA_JVM_OPTS \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -Dkafka.logs.dir="$LOG_DIR" -cp "$(kafka_classpath)" kafka.Kafka "$CONF_DIR/server.properties"
}
kafka_wait() {
  wait_until "$STACK_TIMEOUT" kafka "$KAFKA_LOG" "$(read_pid "$KAFKA_PID")" kafka_ready
  say "kafka: broker 0 registered"
  "$ROOT/infra/kafka/provision.sh"
  # Leaders are assigned asynchronously by the controller; wait until every partition
  # (ours and any left by tests) has one, so clients never start on LEADER_NOT_AVAILABLE.
  no_unavailable() { [[ -z "$(kafka_tool kafka.admin.TopicCommand --zookeeper "127.0.0.1:$ZK_PORT" --describe --unavailable-partitions 2>>"$KAFKA_LOG")" ]]; }
  wait_until "$STACK_TIMEOUT" "kafka (partition leaders)" "$KAFKA_LOG" "$(read_pid "$KAFKA_PID")" no_unavailable
  say "kafka: ready"
}

# --- s3rver ----------------------------------------------------------------------------------
s3_start() {
  need_start s3rver "$S3_PID" "$S3_MARK" S3_PORT || return 0
  [[ -x "$S3RVER_BIN" ]] || die "$S3RVER_BIN missing; run infra/scripts/install-deps.sh (make deps)"
  mkdir -p "$DATA_DIR/s3"
  say "s3rver: starting on 127.0.0.1:$S3_PORT"
  # CORS (infra/s3/cors.xml): the web client served by an Edge node PUTs attachments to
  # pre-signed URLs of another origin (s3rver's port); without it the browser refuses the upload.
  spawn "$S3_PID" "$S3_LOG" "$S3RVER_BIN" --directory "$DATA_DIR/s3" --port "$S3_PORT" \
    --address 127.0.0.1 --silent --configure-bucket "$S3_BUCKET" "$ROOT/infra/s3/cors.xml"
}
s3_wait() {
  wait_until "$STACK_TIMEOUT" s3rver "$S3_LOG" "$(read_pid "$S3_PID")" port_open "$S3_PORT"
  say "s3rver: ready (bucket $S3_BUCKET)"
}

# --- PostgreSQL ------------------------------------------------------------------------------
pg_prepare_dir() {
  local owner
  if [[ ! -d "$PG_DATA_DIR" ]]; then
    mkdir -p "$PG_DATA_DIR"
    ((EUID == 0)) && chown postgres:postgres "$PG_DATA_DIR"
    chmod 700 "$PG_DATA_DIR"
  fi
  owner="$(stat -c %U "$PG_DATA_DIR")"
  local want=postgres
  ((EUID == 0)) || want="$(id -un)"
  [[ "$owner" == "$want" ]] || die "postgres: $PG_DATA_DIR belongs to $owner, not $want; set PG_DATA_DIR to another directory"
  ln -sfn "$PG_LOG" "$LOG_DIR/postgres.log"
}
pg_up() {
  [[ -x "$PG_BIN/pg_ctl" ]] || die "$PG_BIN/pg_ctl missing; run infra/scripts/install-deps.sh (make deps)"
  pg_prepare_dir
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    say "postgres: initdb $PGDATA"
    # Its output goes to a file we write (pg_ctl below writes PG_LOG as the postgres user).
    as_pg "$PG_BIN/initdb" -D "$PGDATA" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PG_DATA_DIR/initdb.log" 2>&1 \
      || { tail -n 30 "$PG_DATA_DIR/initdb.log" >&2; die "postgres: initdb failed; read $PG_DATA_DIR/initdb.log"; }
  fi
  if pg_running; then
    say "postgres: already running (pid $(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null))"
  else
    if port_open "$PG_PORT"; then
      die "postgres: port $PG_PORT is in use by another process (set PG_PORT to use another port)"
    fi
    say "postgres: starting on 127.0.0.1:$PG_PORT"
    # Settings on the command line (kept in postmaster.opts) so a changed PG_PORT applies on restart.
    as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA" -l "$PG_LOG" -w -t "$STACK_TIMEOUT" -o \
      "-c port=$PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$PG_DATA_DIR' -c shared_buffers=256MB -c max_connections=200" \
      >/dev/null 9>&- || { tail -n 30 "$PG_LOG" >&2; die "postgres: failed to start (or not within ${STACK_TIMEOUT}s); read $PG_LOG"; }
  fi
  wait_until "$STACK_TIMEOUT" postgres "$PG_LOG" "" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
  if [[ "$(psql_admin -tAc "select 1 from pg_database where datname = 'messaging'")" != 1 ]]; then
    psql_admin -c "create database messaging" || die "postgres: cannot create database messaging; read $PG_LOG"
    say "postgres: created database messaging"
  fi
  say "postgres: ready"
}
pg_down() {
  if pg_running; then
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t "$STACK_TIMEOUT" >/dev/null \
      || die "postgres: did not stop within ${STACK_TIMEOUT}s; read $PG_LOG"
    say "postgres: stopped"
  else
    say "postgres: not running"
  fi
}

# --- commands --------------------------------------------------------------------------------
cmd_up() {
  local t0=$SECONDS
  # Start the slow JVM first and let the others come up while it boots.
  zk_start
  s3_start
  pg_up
  zk_wait
  kafka_start
  s3_wait
  kafka_wait
  say "stack: up in $((SECONDS - t0))s (logs in $LOG_DIR)"
}

cmd_down() {
  # Kafka before ZooKeeper: the broker deregisters and shuts down cleanly through ZooKeeper.
  stop_pid kafka "$KAFKA_PID" "$KAFKA_MARK" 60
  stop_pid zookeeper "$ZK_PID" "$ZK_MARK" 30
  stop_pid s3rver "$S3_PID" "$S3_MARK" 15
  pg_down
}

cmd_status() {
  local rc=0 pid
  line() { printf '%-10s %-8s %s\n' "$1" "$2" "$3"; }
  for c in "zookeeper $ZK_PID $ZK_MARK $ZK_PORT" "kafka $KAFKA_PID $KAFKA_MARK $KAFKA_PORT" "s3rver $S3_PID $S3_MARK $S3_PORT"; do
    set -- $c
    pid="$(read_pid "$2")"
    if pid_matches "$pid" "$3" && port_open "$4"; then
      line "$1" up "pid $pid, 127.0.0.1:$4"
    elif pid_matches "$pid" "$3"; then
      line "$1" starting "pid $pid, port $4 not answering (log: $LOG_DIR/$1.log)"; rc=1
    else
      line "$1" down "port $4"; rc=1
    fi
  done
  if pg_running && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    line postgres up "pid $(head -n1 "$PGDATA/postmaster.pid"), 127.0.0.1:$PG_PORT, data $PGDATA"
  else
    line postgres down "port $PG_PORT, data $PGDATA"; rc=1
  fi
  return $rc
}

# What the .NET services and tests read (eval "$(infra/scripts/stack.sh env)").
# Values are single-quoted: the connection string contains ';'.
cmd_env() {
  cat <<ENV
export Kafka__BootstrapServers='127.0.0.1:$KAFKA_PORT'
export Kafka__Profile='Legacy09'
export ConnectionStrings__Messaging='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=messaging'
export S3__ServiceUrl='http://127.0.0.1:$S3_PORT'
export S3__Bucket='$S3_BUCKET'
export S3__AccessKey='S3RVER'
export S3__SecretKey='S3RVER'
export MESSAGING_ZOOKEEPER='127.0.0.1:$ZK_PORT'
ENV
}

# Stops one component; `up` starts what is not running.
cmd_stop() {
  case "${1:-}" in
    kafka) stop_pid kafka "$KAFKA_PID" "$KAFKA_MARK" 60 ;;
    postgres) pg_down ;;
    *) die "usage: $0 stop kafka|postgres" ;;
  esac
}

# Stops the stack and deletes its data (Kafka, ZooKeeper, S3, PostgreSQL).
cmd_purge() {
  cmd_down
  rm -rf "$DATA_DIR"
  if [[ -d "$PG_DATA_DIR" ]]; then
    if ((EUID == 0)); then rm -rf "$PG_DATA_DIR"; else rm -rf "$PG_DATA_DIR" 2>/dev/null || say "postgres: cannot remove $PG_DATA_DIR"; fi
  fi
  # A separate instance's logs, pid files and config go with it (the lock file stays open: fd 9).
  [[ -n "${MESSAGING_STACK_DIR:-}" ]] && rm -rf "$LOG_DIR" "$CONF_DIR"
  say "stack: data removed"
}

cmd="${1:-}"
case "$cmd" in
  up | down | purge | stop)
    mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR" "$CONF_DIR"
    # Serialise concurrent up/down calls (several engineers or test runs on one machine).
    exec 9>"$RUN_DIR/stack.lock"
    flock -w "$STACK_TIMEOUT" 9 || die "another stack.sh holds $RUN_DIR/stack.lock"
    "cmd_$cmd" "${@:2}"
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) die "usage: $0 up|down|status|env|purge|stop kafka|postgres" ;;
esac
