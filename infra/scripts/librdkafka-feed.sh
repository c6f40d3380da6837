#!/usr/bin/env bash
# Builds librdkafka 2.15.1 from the source tree shipped inside the npm package
# @confluentinc/kafka-javascript@1.10.1 and packs it as a local NuGet package
# `librdkafka.redist` 2.15.1, because the NuGet registry here lacks that package and
# Debian's librdkafka1 (2.0.2) is too old for Confluent.Kafka 2.15.1
# (EntryPointNotFoundException: rd_kafka_topic_partition_get_leader_epoch).
# Idempotent: does nothing when the package is already in the feed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCAL="${MESSAGING_LOCAL_DIR:-$ROOT/.local}"
FEED="$LOCAL/nuget-feed"
CACHE="$LOCAL/cache/npm"
VERSION=2.15.1
PKG="$FEED/librdkafka.redist.$VERSION.nupkg"

if [[ -f "$PKG" ]]; then
  echo "librdkafka feed: $PKG present"
  exit 0
fi
mkdir -p "$FEED" "$CACHE"
TGZ="$CACHE/confluentinc-kafka-javascript-1.10.1.tgz"
if [[ ! -f "$TGZ" ]]; then
  (cd "$CACHE" && npm pack --silent @confluentinc/kafka-javascript@1.10.1 >/dev/null)
fi
WORK="$LOCAL/build/librdkafka"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -xzf "$TGZ" -C "$WORK" package/deps/librdkafka
SRC="$WORK/package/deps/librdkafka"
PREFIX="$WORK/install"
echo "librdkafka feed: building librdkafka $VERSION (about a minute on 2 cores)"
(cd "$SRC" && ./configure --prefix="$PREFIX" --disable-curl >"$WORK/configure.log" 2>&1 \
  && make -j"$(nproc)" libs >"$WORK/make.log" 2>&1 \
  && make install-subdirs >"$WORK/install.log" 2>&1) || { tail -50 "$WORK"/*.log; exit 1; }

# A NuGet package is a zip with a nuspec; built by hand so no extra tooling is needed.
STAGE="$WORK/nupkg"
mkdir -p "$STAGE/runtimes/linux-x64/native"
cp -L "$PREFIX/lib/librdkafka.so.1" "$STAGE/runtimes/linux-x64/native/librdkafka.so"
cp "$SRC/LICENSE" "$STAGE/LICENSE"
cat >"$STAGE/librdkafka.redist.nuspec" <<NUSPEC
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>librdkafka.redist</id>
    <version>$VERSION</version>
    <authors>Magnus Edenhill, Confluent (built locally from the npm-shipped source)</authors>
    <license type="file">LICENSE</license>
    <description>librdkafka $VERSION for linux-x64, built locally for the Messaging project.</description>
  </metadata>
</package>
NUSPEC
cat >"$STAGE/[Content_Types].xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="nuspec" ContentType="application/octet" />
  <Default Extension="so" ContentType="application/octet" />
  <Default Extension="xml" ContentType="application/octet" />
  <Default Extension="psmdcp" ContentType="application/octet" />
  <Override PartName="/LICENSE" ContentType="application/octet" />
</Types>
XML
rm -f "$PKG.tmp"
(cd "$STAGE" && python3 - "$PKG.tmp" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for base, _, files in os.walk("."):
        for f in files:
            p = os.path.join(base, f)[2:]
            z.write(p, p)
PY
)
mv "$PKG.tmp" "$PKG"
# Restores cache packages by id+version; drop a stale copy so the new build is used.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/librdkafka.redist/$VERSION"
echo "librdkafka feed: $PKG"
