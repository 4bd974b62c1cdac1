#!/usr/bin/env bash
# Debezium side of the comparison benchmark (scripts/bench/compare.bench.ts), without Docker:
#   - a throwaway PostgreSQL 15 cluster with wal_level=logical on 127.0.0.1:55432 (.run/pg-logical)
#   - Kafka Connect 3.9.x (standalone mode) with Debezium's PostgreSQL connector, assembled from
#     Maven Central (scripts/debezium/pom.xml), against our broker on 127.0.0.1:19092
# Run `scripts/debezium.sh help` for usage. Never touches the shared broker or the 5432 cluster.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
POM="$SCRIPT_DIR/debezium/pom.xml"

HOST=127.0.0.1
DEBEZIUM_VERSION="$(sed -n 's#.*<debezium.version>\(.*\)</debezium.version>.*#\1#p' "$POM")"
KAFKA_PORT="${KAFKA_PORT:-19092}"
CONNECT_PORT="${CONNECT_PORT:-18083}"
PG_LOGICAL_PORT="${PG_LOGICAL_PORT:-55432}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CONNECT_DEADLINE=90
PG_DEADLINE=60
STOP_DEADLINE=30

CACHE_ROOT="${SYNC_CACHE_DIR:-$HOME/.cache/legacy-sync}"
DBZ_CACHE="$CACHE_ROOT/debezium-$DEBEZIUM_VERSION"
CONNECT_LIBS="$DBZ_CACHE/connect"
PLUGIN_DIR="$DBZ_CACHE/plugins"
MARKER="$DBZ_CACHE/.complete"
RUN_ROOT="${SYNC_RUN_DIR:-$REPO_ROOT/.run}"
DRUN="$RUN_ROOT/debezium"
WORKER_PROPS="$DRUN/worker.properties"
LOG4J="$DRUN/log4j.properties"
PIDFILE="$DRUN/connect.pid"
LOG_DIR="$DRUN/logs"
PG_DIR="$RUN_ROOT/pg-logical"
PG_DATA="$PG_DIR/data"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# The plugin whose presence on /connector-plugins means the worker is ready.
READY_PLUGIN=PostgresConnector

# sink-up/sink-down: the same worker with Debezium's JDBC sink instead (its own cache, run dir, port).
JDBC_VERSION="$(sed -n 's#.*<debezium.jdbc.version>\(.*\)</debezium.jdbc.version>.*#\1#p' "$POM")"
SINK_CACHE="$CACHE_ROOT/debezium-jdbc-$JDBC_VERSION"
use_sink_layout() {
  CONNECT_PORT="${SINK_CONNECT_PORT:-18183}"
  CONNECT_LIBS="$SINK_CACHE/connect"
  PLUGIN_DIR="$SINK_CACHE/plugins"
  MARKER="$SINK_CACHE/.complete"
  DRUN="$RUN_ROOT/debezium-sink"
  WORKER_PROPS="$DRUN/worker.properties"
  LOG4J="$DRUN/log4j.properties"
  PIDFILE="$DRUN/connect.pid"
  LOG_DIR="$DRUN/logs"
  READY_PLUGIN=JdbcSinkConnector
  # Connect 3.9 standalone resolves a connector's SMT classes through the request thread's context
  # class loader when it computes task configs; an SMT only on plugin.path is not found there and
  # PUT /connectors/<name>/config never completes (500 "Request timed out", no task, nothing
  # logged). Debezium's SMTs (ExtractNewRecordState ...) live in debezium-core: it and
  # debezium-api go on the worker's classpath too.
  EXTRA_CLASSPATH="$SINK_CACHE/smt/*"
}
EXTRA_CLASSPATH=""


log() { printf '[debezium] %s\n' "$*" >&2; }
die() { printf '[debezium] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: scripts/debezium.sh <command>

The Debezium side of 'npm run bench' (scripts/bench/compare.bench.ts).

Commands:
  up        Start a throwaway PostgreSQL cluster with wal_level=logical on $HOST:$PG_LOGICAL_PORT
            (initdb into $PG_DATA as the postgres OS user, trust auth on loopback),
            then Kafka Connect $(sed -n 's#.*<kafka.version>\(.*\)</kafka.version>.*#\1#p' "$POM") in standalone mode with Debezium
            $DEBEZIUM_VERSION's PostgreSQL connector on plugin.path, REST on $HOST:$CONNECT_PORT,
            producing to the broker on $HOST:$KAFKA_PORT (start it with scripts/infra.sh up).
            Jars are resolved once with mvn into $DBZ_CACHE.
            Idempotent: what already runs is kept. Connectors are created through the REST API.
  down      Stop Connect (pid file only; SIGTERM, then SIGKILL after ${STOP_DEADLINE}s), stop the
            cluster (pg_ctl stop -m fast) and delete $PG_DIR and Connect's offsets.
  status    Print what runs. Exit code 0 if both answer, 3 if not.
  sink-up   Kafka Connect with Debezium $JDBC_VERSION's JDBC sink connector (and its SMTs, e.g.
            ExtractNewRecordState) on plugin.path, REST on $HOST:\${SINK_CONNECT_PORT:-18183}, no
            PostgreSQL cluster; jars resolved once into $SINK_CACHE (the plugin's own Jackson
            jars left out, so the worker's load). For test/integration/legacy-import/debezium-sink.test.ts.
  sink-down Stop that worker (pid file only).
  sink-classpath  Print the worker's classpath (Connect's jars, resolved if needed).
  help      This text (also -h, --help).

Environment: KAFKA_PORT (19092), CONNECT_PORT (18083), SINK_CONNECT_PORT (18183), PG_LOGICAL_PORT (55432),
PG_BIN ($PG_BIN), SYNC_CACHE_DIR, SYNC_RUN_DIR, JAVA_HOME.
Files: $DRUN/{worker.properties,connect.pid,logs/connect.log}, $PG_DIR/{data,postgres.log}
EOF
}

# shellcheck source=lib/pg-cluster.sh
source "$SCRIPT_DIR/lib/pg-cluster.sh"

# ---------------------------------------------------------------- PostgreSQL (logical)

pg_running() { pgc_running "$PG_BIN" "$PG_DIR"; }

# fsync stays on: both sides of the comparison pay the same commit cost as a real database.
pg_up() {
  pgc_up "$PG_BIN" "$PG_DIR" "$PG_LOGICAL_PORT" "$PG_DEADLINE" \
    "-c wal_level=logical -c max_replication_slots=4 -c max_wal_senders=4 -c max_connections=50"
}

pg_down() { pgc_remove "$PG_BIN" "$PG_DIR" "$STOP_DEADLINE"; }

# ---------------------------------------------------------------- Connect: jars

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

libs_complete() {
  [[ -f "$MARKER" && "$(sed -n 's/^pom.sha256=//p' "$MARKER")" == "$(pom_hash)" ]] || return 1
  compgen -G "$CONNECT_LIBS/connect-runtime-*.jar" >/dev/null || return 1
  compgen -G "$PLUGIN_DIR/debezium-connector-postgres/debezium-connector-postgres-*.jar" >/dev/null || return 1
}

ensure_libs() {
  if libs_complete; then
    log "Connect + Debezium $DEBEZIUM_VERSION: jars cached in $DBZ_CACHE"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found and $DBZ_CACHE is not populated (apt-get install maven)"
  mkdir -p "$DBZ_CACHE"
  local tmp="$DBZ_CACHE/partial" mlog="$DBZ_CACHE/mvn.log"
  rm -rf "$tmp"
  log "Connect + Debezium $DEBEZIUM_VERSION: resolving jars from Maven Central (one-time)"
  mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" -Pconnect dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/connect" >"$mlog" 2>&1 \
    && mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" -Pplugin dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp/plugins/debezium-connector-postgres" >>"$mlog" 2>&1 \
    || { tail -n 20 "$mlog" >&2; die "mvn could not resolve the jars (see $mlog)"; }
  rm -rf "$CONNECT_LIBS" "$PLUGIN_DIR"
  mv "$tmp/connect" "$CONNECT_LIBS"
  mv "$tmp/plugins" "$PLUGIN_DIR"
  rm -rf "$tmp"
  printf 'debezium.version=%s\npom.sha256=%s\ncompleted=%s\n' "$DEBEZIUM_VERSION" "$(pom_hash)" "$(date -u +%FT%TZ)" >"$MARKER"
  log "Connect + Debezium $DEBEZIUM_VERSION: $(find "$DBZ_CACHE" -name '*.jar' | wc -l) jars in $DBZ_CACHE"
}

sink_libs_complete() {
  [[ -f "$MARKER" && "$(sed -n 's/^pom.sha256=//p' "$MARKER")" == "$(pom_hash)" ]] || return 1
  compgen -G "$CONNECT_LIBS/connect-runtime-*.jar" >/dev/null || return 1
  compgen -G "$PLUGIN_DIR/debezium-connector-jdbc/debezium-connector-jdbc-*.jar" >/dev/null || return 1
  compgen -G "$SINK_CACHE/smt/debezium-core-*.jar" >/dev/null || return 1
}

# Connect's own classpath and the JDBC sink plugin. The plugin's Jackson jars are excluded: with
# them, its isolated class loader and the worker's JsonConverter hold two Jacksons.
ensure_sink_libs() {
  if sink_libs_complete; then
    log "Connect + Debezium JDBC sink $JDBC_VERSION: jars cached in $SINK_CACHE"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found and $SINK_CACHE is not populated (apt-get install maven)"
  mkdir -p "$SINK_CACHE"
  local tmp="$SINK_CACHE/partial" mlog="$SINK_CACHE/mvn.log"
  rm -rf "$tmp"
  log "Connect + Debezium JDBC sink $JDBC_VERSION: resolving jars from Maven Central (one-time)"
  mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" -Pconnect dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/connect" >"$mlog" 2>&1 \
    && mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" -Pjdbc-sink dependency:copy-dependencies \
      -DincludeScope=runtime -DexcludeGroupIds=com.fasterxml.jackson.core,com.fasterxml.jackson.datatype,com.fasterxml.jackson.module,com.fasterxml.jackson.jaxrs \
      -DoutputDirectory="$tmp/plugins/debezium-connector-jdbc" >>"$mlog" 2>&1 \
    || { tail -n 20 "$mlog" >&2; die "mvn could not resolve the jars (see $mlog)"; }
  rm -rf "$CONNECT_LIBS" "$PLUGIN_DIR"
  mv "$tmp/connect" "$CONNECT_LIBS"
  mv "$tmp/plugins" "$PLUGIN_DIR"
  rm -rf "$tmp" "$SINK_CACHE/smt"
  mkdir -p "$SINK_CACHE/smt"
  cp "$PLUGIN_DIR"/debezium-connector-jdbc/debezium-core-*.jar "$PLUGIN_DIR"/debezium-connector-jdbc/debezium-api-*.jar "$SINK_CACHE/smt/"
  printf 'debezium.jdbc.version=%s\npom.sha256=%s\ncompleted=%s\n' "$JDBC_VERSION" "$(pom_hash)" "$(date -u +%FT%TZ)" >"$MARKER"
  log "Connect + Debezium JDBC sink $JDBC_VERSION: $(find "$SINK_CACHE" -name '*.jar' | wc -l) jars in $SINK_CACHE"
}

# ---------------------------------------------------------------- Connect: run

our_connect_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'ConnectStandalone' || return 1
  printf '%s' "$pid"
}

connect_ready() { curl -fsS -m 2 "http://$HOST:$CONNECT_PORT/connector-plugins" 2>/dev/null | grep -q "$READY_PLUGIN"; }

write_config() {
  mkdir -p "$DRUN" "$LOG_DIR"
  cat >"$WORKER_PROPS" <<EOF
# Written by scripts/debezium.sh -- rewritten on every start.
bootstrap.servers=$HOST:$KAFKA_PORT
listeners=http://$HOST:$CONNECT_PORT
rest.advertised.host.name=$HOST
# Plain JSON without the embedded schema, like our own events.
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=$DRUN/connect.offsets
offset.flush.interval.ms=1000
plugin.path=$PLUGIN_DIR
EOF
  cat >"$LOG4J" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG_DIR/connect.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.reflections=ERROR
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

connect_up() {
  local pid
  if pid="$(our_connect_pid)"; then
    log "Connect: already running (pid $pid) on $HOST:$CONNECT_PORT"
  else
    rm -f "$PIDFILE"
    tcp_open "$HOST" "$KAFKA_PORT" || die "no broker on $HOST:$KAFKA_PORT (run scripts/infra.sh up first)"
    tcp_open "$HOST" "$CONNECT_PORT" && die "port $HOST:$CONNECT_PORT is in use by something else (set CONNECT_PORT)"
    if [[ "$READY_PLUGIN" == JdbcSinkConnector ]]; then ensure_sink_libs; else ensure_libs; fi
    write_config
    rm -f "$DRUN/connect.offsets"
    # Small heap, as for a sidecar; G1 as the Kafka scripts use.
    nohup "$JAVA" -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$LOG4J" -cp "$CONNECT_LIBS/*${EXTRA_CLASSPATH:+:$EXTRA_CLASSPATH}" \
      org.apache.kafka.connect.cli.ConnectStandalone "$WORKER_PROPS" \
      </dev/null >>"$LOG_DIR/connect.out" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"
    log "Connect: started pid $pid, waiting for REST on $HOST:$CONNECT_PORT (up to ${CONNECT_DEADLINE}s)"
  fi
  local deadline=$((SECONDS + CONNECT_DEADLINE))
  until connect_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG_DIR/connect.log" "$LOG_DIR/connect.out" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      die "Connect exited during startup (logs in $LOG_DIR)"
    fi
    ((SECONDS < deadline)) || die "Connect not ready within ${CONNECT_DEADLINE}s (pid $pid; logs in $LOG_DIR)"
    sleep 0.5
  done
  log "Connect: ready (pid $pid), $READY_PLUGIN loaded"
}

connect_down() {
  local pid
  if ! pid="$(our_connect_pid)"; then
    rm -f "$PIDFILE"
    log "Connect: not running"
    return 0
  fi
  log "Connect: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_DEADLINE))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "Connect: pid $pid still alive after ${STOP_DEADLINE}s, SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE" "$DRUN/connect.offsets"
}

cmd_status() {
  local rc=0 pid
  if pg_running && "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_LOGICAL_PORT"; then
    echo "pg-logical: up on $HOST:$PG_LOGICAL_PORT ($PG_DATA)"
  else
    echo "pg-logical: not running"
    rc=3
  fi
  if pid="$(our_connect_pid)" && connect_ready; then
    echo "connect: up on $HOST:$CONNECT_PORT (pid $pid, Debezium $DEBEZIUM_VERSION)"
  else
    echo "connect: not running"
    rc=3
  fi
  if libs_complete; then echo "jars: $DBZ_CACHE"; else echo "jars: not downloaded yet ($DBZ_CACHE)"; fi
  return "$rc"
}

case "${1:-help}" in
  up) pg_up; connect_up ;;
  down) connect_down; pg_down ;;
  status) cmd_status ;;
  sink-up) use_sink_layout; connect_up ;;
  sink-down) use_sink_layout; connect_down ;;
  sink-classpath) use_sink_layout; ensure_sink_libs; echo "$CONNECT_LIBS/*" ;;
  env) echo "export CONNECT_URL=http://$HOST:$CONNECT_PORT PG_LOGICAL_URL=postgres://postgres@$HOST:$PG_LOGICAL_PORT/postgres" ;;
  help | -h | --help) usage ;;
  *) usage >&2; die "unknown command: $1" ;;
esac
