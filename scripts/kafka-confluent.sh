#!/usr/bin/env bash
# Installs the optional Kafka client @confluentinc/kafka-javascript (kafka.client: confluent) on a
# machine where its prebuilt binary cannot be downloaded: builds it from source with the librdkafka
# it bundles, linked dynamically against the system's OpenSSL (CKJS_LINKING=dynamic; the default
# static build downloads OpenSSL and zstd sources and fails offline). A plain `npm ci` only tries
# and gives up (the dependency is optional), and the suite then runs on kafkajs.
#
# The native build takes about 2 CPU-minutes; its result is cached per package version, Node ABI
# and architecture in ${KAFKA_CONFLUENT_CACHE:-~/.cache/legacy-sync}, so later runs on the same
# machine (CI included) take seconds. Exits non-zero when the client cannot be loaded afterwards.
# Needs gcc, g++, make, python3 and libssl-dev (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

pkg='@confluentinc/kafka-javascript'
dir="node_modules/$pkg"
loads() { node -e "require('$pkg').KafkaJS.Kafka" >/dev/null 2>&1; }

if loads; then
  echo "kafka-confluent: $pkg already installed and loadable"
  exit 0
fi

version=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].version")
cache_dir="${KAFKA_CONFLUENT_CACHE:-$HOME/.cache/legacy-sync}"
cache="$cache_dir/kafka-javascript-$version-node$(node -p process.versions.modules)-$(uname -m).tar.gz"

if [[ ! -f "$dir/package.json" ]] || [[ "$(node -p "require('./$dir/package.json').version")" != "$version" ]]; then
  # The package and its dependencies, without running its install script (that is the build below).
  npm install --no-save --no-audit --no-fund --ignore-scripts "$pkg@$version"
fi

if [[ -f "$cache" ]]; then
  echo "kafka-confluent: using the build cached in $cache"
  rm -rf "$dir/build"
  tar -xzf "$cache" -C "$dir"
  if loads; then exit 0; fi
  echo "kafka-confluent: the cached build does not load; building again" >&2
fi

if ! [[ -f /usr/include/openssl/ssl.h ]]; then
  # A fresh machine installs what it needs itself, as scripts/test.sh does for Chromium.
  echo "kafka-confluent: OpenSSL headers missing: apt-get install libssl-dev" >&2
  sudo_cmd=(); if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev >/dev/null \
    || { echo "kafka-confluent: could not install libssl-dev (Debian); the Confluent client cannot be built" >&2; exit 1; }
fi

echo "kafka-confluent: building $pkg $version from source (librdkafka linked dynamically)"
start=$SECONDS
# librdkafka's own make runs with an unbounded -j: -l keeps it from swamping a shared machine.
(cd "$dir" && CKJS_LINKING=dynamic MAKEFLAGS="${MAKEFLAGS:--l $(nproc)}" \
  npx --no-install node-pre-gyp install --build-from-source --update-binary)
echo "kafka-confluent: built in $((SECONDS - start)) s"

if ! loads; then
  echo "kafka-confluent: $pkg was built but does not load:" >&2
  node -e "require('$pkg')" >&2 || true
  exit 1
fi
mkdir -p "$cache_dir"
tar -czf "$cache.tmp" -C "$dir" build && mv "$cache.tmp" "$cache"
echo "kafka-confluent: cached the build in $cache"
