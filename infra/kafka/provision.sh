#!/usr/bin/env bash
# Creates every topic listed in topics.tsv that does not exist yet.
#   Local Kafka 0.9 (default): kafka.admin.TopicCommand --zookeeper 127.0.0.1:$ZK_PORT from
#     the jars in .local/kafka/libs (0.9 has no CreateTopics API, so ZooKeeper it is).
#   Modern broker: set KAFKA_BOOTSTRAP_SERVER=host:port (and KAFKA_TOPICS_SH if
#     kafka-topics.sh is not on PATH); uses kafka-topics.sh --bootstrap-server.
# TOPIC_PREFIX (default empty) is prepended to every name. Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../scripts/lib.sh"

TOPICS_FILE="${TOPICS_FILE:-$HERE/topics.tsv}"
TOPIC_PREFIX="${TOPIC_PREFIX:-}"
# Each TopicCommand is a JVM start (~1-2 s, mostly CPU): run a few at a time.
PROVISION_JOBS="${PROVISION_JOBS:-$(($(nproc) * 2))}"

if [[ -n "${KAFKA_BOOTSTRAP_SERVER:-}" ]]; then
  topics_cmd() { "${KAFKA_TOPICS_SH:-kafka-topics.sh}" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVER" "$@"; }
  target="$KAFKA_BOOTSTRAP_SERVER"
  if_not_exists=(--if-not-exists)
else
  topics_cmd() { kafka_tool kafka.admin.TopicCommand --zookeeper "127.0.0.1:$ZK_PORT" "$@"; }
  target="zookeeper 127.0.0.1:$ZK_PORT"
  # 0.9's TopicCommand has no --if-not-exists (added in 0.10); a topic auto-created between
  # --list and --create fails with "already exists", which is treated as success below.
  if_not_exists=()
fi

# One --list call up front; only the missing topics pay for a JVM.
existing="$(topics_cmd --list)" || die "cannot list topics via $target"
declare -A have=()
while read -r name _; do [[ -n "$name" ]] && have["$name"]=1; done <<<"$existing"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
names=()
while read -r name partitions policy retention _; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  topic="$TOPIC_PREFIX$name"
  [[ -n "${have[$topic]:-}" ]] && continue
  args=(--create "${if_not_exists[@]}" --topic "$topic" --partitions "$partitions" --replication-factor 1
    --config "cleanup.policy=$policy")
  [[ "$retention" != "-" ]] && args+=(--config "retention.ms=$retention")
  # Throttle: wait for one job to finish when the pool is full.
  while (($(jobs -rp | wc -l) >= PROVISION_JOBS)); do wait -n || true; done
  # Exit status goes to a file: robust whatever order the jobs are reaped in.
  { rc=0; topics_cmd "${args[@]}" >"$tmp/$topic.log" 2>&1 || rc=$?; echo "$rc" >"$tmp/$topic.rc"; } &
  names+=("$topic")
done < <(tr -d '\r' <"$TOPICS_FILE")

wait
failed=0
for topic in "${names[@]}"; do
  if [[ "$(cat "$tmp/$topic.rc" 2>/dev/null)" != 0 ]] && ! grep -q 'already exists' "$tmp/$topic.log"; then
    failed=1
    say "provision: creating $topic failed:" >&2
    head -n 20 "$tmp/$topic.log" >&2
  fi
done
((failed == 0)) || die "topic provisioning failed ($target)"
if ((${#names[@]})); then
  say "provision: created ${#names[@]} topic(s) via $target: ${names[*]}"
else
  say "provision: all topics present ($target)"
fi
