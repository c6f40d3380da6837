#!/usr/bin/env bash
# Changes a topic's settings on a running broker: infra/kafka/topic-config.sh TOPIC key=value...
# e.g. infra/kafka/topic-config.sh chat.events retention.ms=604800000 (7 days; the archive keeps
# the rest, docs/operations.md "Archive"). Local Kafka 0.9: kafka.admin.ConfigCommand via
# ZooKeeper (0.9 has no AlterConfigs API); a modern broker: KAFKA_BOOTSTRAP_SERVER=host:port and
# kafka-configs.sh (KAFKA_CONFIGS_SH) on PATH. The broker applies the change without a restart.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../scripts/lib.sh"

(($# >= 2)) || die "usage: $0 TOPIC key=value..."
topic="$1"
shift
configs="$(IFS=,; echo "$*")"
if [[ -n "${KAFKA_BOOTSTRAP_SERVER:-}" ]]; then
  "${KAFKA_CONFIGS_SH:-kafka-configs.sh}" --bootstrap-server "$KAFKA_BOOTSTRAP_SERVER" --alter \
    --entity-type topics --entity-name "$topic" --add-config "$configs"
else
  kafka_tool kafka.admin.ConfigCommand --zookeeper "127.0.0.1:$ZK_PORT" --alter \
    --entity-type topics --entity-name "$topic" --add-config "$configs"
fi
