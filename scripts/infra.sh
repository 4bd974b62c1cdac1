#!/usr/bin/env bash
# Local infrastructure for legacy-sync without Docker:
#   - PostgreSQL on 127.0.0.1:5432 (the machine's own cluster, started via pg_ctlcluster)
#   - a single-node KRaft Apache Kafka 4.1.x (default) or 3.9.x (KAFKA_VERSION=3.9.1) assembled from
#     Maven Central (scripts/kafka/pom.xml for 4.x, scripts/kafka/pom-3.x.xml for 3.x)
# Run `scripts/infra.sh help` for usage.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

HOST=127.0.0.1
PG_PORT=5432
PG_DEADLINE=60
KAFKA_DEADLINE=90
STOP_DEADLINE=30
# Versions tried in order; the first one that resolves on Maven Central wins. KAFKA_VERSION
# picks one exactly (e.g. 3.9.1 for the 3.x line, which scripts/test-matrix.sh runs too).
if [[ -n "${KAFKA_VERSION:-}" ]]; then
  [[ "$KAFKA_VERSION" =~ ^[34]\.[0-9]+\.[0-9]+$ ]] \
    || { printf '[infra] ERROR: KAFKA_VERSION=%s: want a 3.x.y or 4.x.y release, e.g. 4.1.1 or 3.9.1\n' "$KAFKA_VERSION" >&2; exit 2; }
  KAFKA_VERSIONS=("$KAFKA_VERSION")
else
  KAFKA_VERSIONS=(4.1.1 4.1.0)
fi
KAFKA_LINE="${KAFKA_VERSIONS[0]%.*}"            # 4.1 or 3.9: one jar cache per line
if [[ "${KAFKA_VERSIONS[0]}" == 3.* ]]; then
  POM="$SCRIPT_DIR/kafka/pom-3.x.xml"; LOG_BINDING="slf4j-reload4j"
else
  POM="$SCRIPT_DIR/kafka/pom.xml"; LOG_BINDING="log4j-slf4j-impl"
fi

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
CACHE_ROOT="${SYNC_CACHE_DIR:-$HOME/.cache/legacy-sync}"
KAFKA_CACHE="$CACHE_ROOT/kafka-$KAFKA_LINE.x"
LIBS="$KAFKA_CACHE/libs"
MARKER="$KAFKA_CACHE/.complete"
RUN_ROOT="${SYNC_RUN_DIR:-$REPO_ROOT/.run}"
KRUN="$RUN_ROOT/kafka"
PROPS="$KRUN/server.properties"
LOG4J="$KRUN/log4j.properties"        # Kafka 3.x (reload4j)
LOG4J2="$KRUN/log4j2.properties"      # Kafka 4.x (Log4j 2)
PIDFILE="$KRUN/kafka.pid"
DATA_DIR="$KRUN/data"
LOG_DIR="$KRUN/logs"
CLUSTER_ID_FILE="$KRUN/cluster.id"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  cat <<EOF
Usage: scripts/infra.sh <command>

Local infrastructure without Docker: PostgreSQL on $HOST:$PG_PORT and a
single-node KRaft Apache Kafka ${KAFKA_VERSIONS[*]} (the first that resolves) assembled from
Maven Central. Kafka 4.1 is the default; KAFKA_VERSION=3.9.1 runs the 3.x line.

Commands:
  up           Ensure PostgreSQL answers on $HOST:$PG_PORT (starts the local cluster with
               pg_ctlcluster if needed, waits up to ${PG_DEADLINE}s), then ensure Kafka runs:
               download the jars once (mvn, cached), format KRaft storage once, start
               the broker in the background and wait until it answers metadata
               requests (up to ${KAFKA_DEADLINE}s). A no-op if our broker already runs.
  down         Stop the Kafka broker started by this script (pid file; SIGTERM, up to
               ${STOP_DEADLINE}s, then SIGKILL). PostgreSQL is never stopped. Data is kept.
  kafka-start  Like 'up' but Kafka only (restarts the broker keeping its data).
  kafka-stop   Like 'down' (Kafka only; data is kept).
  status       Print what runs. Exit code 0 if Kafka answers, 3 if not.
  env          Print 'export KAFKA_BROKERS=...' for the broker, e.g.
                 eval "\$(scripts/infra.sh env)"
  help         This text (also -h, --help).

Environment:
  KAFKA_BROKERS     Comma-separated host:port list of an existing broker. When set, 'up'
                    and 'kafka-start' only check that each one answers TCP and start
                    nothing. (If it is exactly $HOST:\$KAFKA_PORT, i.e. what 'env' prints,
                    and nothing else listens there, the local broker is managed as usual.)
  KAFKA_PORT        PLAINTEXT listener port of the local broker (default 19092).
  KAFKA_CONTROLLER_PORT
                    KRaft controller listener port (default 19093).
  KAFKA_VERSION     Exact Kafka release to assemble and run (default: 4.1.1, else 4.1.0).
                    3.x releases use scripts/kafka/pom-3.x.xml. A run folder formatted by
                    one version is started by a newer one as Kafka allows (3.9 -> 4.1), not back.
  SYNC_CACHE_DIR    Cache root (default \$HOME/.cache/legacy-sync); jars go to
                    \$SYNC_CACHE_DIR/kafka-<major.minor>.x/libs.
  SYNC_RUN_DIR      Run folder (default <repo>/.run); the broker's config, data, logs
                    and pid file live in \$SYNC_RUN_DIR/kafka/.
  SKIP_PG=1         Skip the PostgreSQL step of 'up'.
  JAVA_HOME         Java to run Kafka with (default: java on PATH).

Files:
  $KRUN/server.properties, log4j2.properties (4.x) or log4j.properties (3.x), kafka.pid, cluster.id
  $KRUN/data/      (KRaft metadata + topic data)
  $KRUN/logs/server.log, kafka.out
EOF
}

# ---------------------------------------------------------------- helpers

# tcp_open HOST PORT: true if a TCP connection can be made within ~1s.
tcp_open() {
  # shellcheck disable=SC2016  # $1/$2 expand in the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Who listens on a local port (best effort, for error messages).
port_owner() {
  local port="$1" line
  if command -v ss >/dev/null 2>&1; then
    line="$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 3 || true)"
    [[ -n "$line" ]] && printf '%s\n' "$line"
  fi
}

# Kafka Metadata v0 request; exit 0 if the broker answers with >= 1 live broker.
# Plain node `net`, no npm dependencies.
kafka_metadata_ok() {
  command -v node >/dev/null 2>&1 || return 2
  node -e '
const net = require("net");
const host = process.argv[1], port = Number(process.argv[2]);
const cid = Buffer.from("infra-sh-probe");
const body = Buffer.alloc(2 + 2 + 4 + 2 + cid.length + 4);
let o = 0;
o = body.writeInt16BE(3, o);            // api_key Metadata
o = body.writeInt16BE(0, o);            // api_version 0
o = body.writeInt32BE(4242, o);         // correlation id
o = body.writeInt16BE(cid.length, o);   // client id
o += cid.copy(body, o);
body.writeInt32BE(0, o);                // topics: [] = all
const size = Buffer.alloc(4); size.writeInt32BE(body.length);
const s = net.connect({ host, port });
let buf = Buffer.alloc(0);
const timer = setTimeout(() => { s.destroy(); process.exit(3); }, 3000);
s.on("connect", () => s.write(Buffer.concat([size, body])));
s.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length >= 12) {
    const ok = buf.readInt32BE(4) === 4242 && buf.readInt32BE(8) > 0;
    clearTimeout(timer); s.destroy(); process.exit(ok ? 0 : 1);
  }
});
s.on("error", () => { clearTimeout(timer); process.exit(1); });
s.on("close", () => { clearTimeout(timer); process.exit(1); });
' "$1" "$2" 2>/dev/null
}

# Pid of the broker started by us, or nothing (exit 1).
our_kafka_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PIDFILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  printf '%s' "$pid"
}

# host:port the running broker advertises (from its properties), else the configured one.
our_kafka_address() {
  local a=""
  if [[ -f "$PROPS" ]]; then
    a="$(sed -n 's#^advertised\.listeners=PLAINTEXT://##p' "$PROPS" | head -n 1)"
  fi
  printf '%s' "${a:-$HOST:$KAFKA_PORT}"
}

with_lock() { # with_lock FILE: take an exclusive lock on fd 9 (kept until exit)
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 9 || die "could not lock $1 within 300s (another infra.sh running?)"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_up() {
  if [[ "${SKIP_PG:-}" == "1" ]]; then
    log "PostgreSQL: skipped (SKIP_PG=1)"
    return 0
  fi
  command -v pg_isready >/dev/null 2>&1 || die "pg_isready not found (apt-get install postgresql-client)"
  if pg_isready -q -h "$HOST" -p "$PG_PORT"; then
    log "PostgreSQL: answering on $HOST:$PG_PORT"
    return 0
  fi
  command -v pg_ctlcluster >/dev/null 2>&1 \
    || die "PostgreSQL does not answer on $HOST:$PG_PORT and pg_ctlcluster is not installed"
  local ver
  # shellcheck disable=SC2012
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$ver" ]] || die "PostgreSQL does not answer on $HOST:$PG_PORT and /etc/postgresql has no cluster"
  log "PostgreSQL: not answering, starting cluster $ver/main"
  local t0; t0="$(now)"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start \
    || log "pg_ctlcluster returned non-zero (maybe already starting); waiting anyway"
  local deadline=$((SECONDS + PG_DEADLINE))
  until pg_isready -q -h "$HOST" -p "$PG_PORT"; do
    ((SECONDS < deadline)) || die "PostgreSQL did not answer on $HOST:$PG_PORT within ${PG_DEADLINE}s"
    sleep 0.5
  done
  log "PostgreSQL: answering on $HOST:$PG_PORT (started in $(elapsed "$t0")s)"
}

# ---------------------------------------------------------------- Kafka: jars

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

libs_complete() {
  [[ -f "$MARKER" ]] || return 1
  local v h
  v="$(sed -n 's/^kafka.version=//p' "$MARKER")"
  h="$(sed -n 's/^pom.sha256=//p' "$MARKER")"
  [[ -n "$v" && "$h" == "$(pom_hash)" ]] || return 1
  compgen -G "$LIBS/kafka_2.13-$v.jar" >/dev/null || return 1
  compgen -G "$LIBS/$LOG_BINDING-*.jar" >/dev/null || return 1
}

cached_kafka_version() { sed -n 's/^kafka.version=//p' "$MARKER" 2>/dev/null || true; }

ensure_libs() {
  if libs_complete; then
    log "Kafka $(cached_kafka_version): jars cached in $LIBS"
    return 0
  fi
  with_lock "$KAFKA_CACHE/.lock"   # serialises concurrent downloads into the same cache
  if libs_complete; then
    log "Kafka $(cached_kafka_version): jars cached in $LIBS"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found and $LIBS is not populated (apt-get install maven)"
  local t0 v tmp mlog
  t0="$(now)"
  mlog="$KAFKA_CACHE/mvn.log"
  for v in "${KAFKA_VERSIONS[@]}"; do
    tmp="$KAFKA_CACHE/libs.partial"
    rm -rf "$tmp"
    log "Kafka $v: resolving jars from Maven Central (one-time, cached in $KAFKA_CACHE)"
    if mvn -q -B --no-transfer-progress -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -Dkafka.version="$v" -DincludeScope=runtime -DoutputDirectory="$tmp" \
        -Dmdep.overWriteReleases=true >"$mlog" 2>&1 \
        && [[ -f "$tmp/kafka_2.13-$v.jar" ]]; then
      rm -rf "$LIBS"
      mv "$tmp" "$LIBS"
      printf 'kafka.version=%s\npom.sha256=%s\ncompleted=%s\n' "$v" "$(pom_hash)" "$(date -u +%FT%TZ)" >"$MARKER"
      log "Kafka $v: $(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS (mvn took $(elapsed "$t0")s)"
      return 0
    fi
    log "Kafka $v: could not be resolved (see $mlog):"
    tail -n 15 "$mlog" >&2 || true
  done
  rm -rf "$KAFKA_CACHE/libs.partial"
  die "no Kafka version of ${KAFKA_VERSIONS[*]} could be resolved from Maven Central"
}

# ---------------------------------------------------------------- Kafka: config

write_config() {
  mkdir -p "$KRUN" "$DATA_DIR" "$LOG_DIR"
  cat >"$PROPS" <<EOF
# Written by scripts/infra.sh -- rewritten on every start, do not edit.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
log.retention.hours=168
EOF
  cat >"$LOG4J" <<EOF
# Written by scripts/infra.sh (reload4j / log4j 1.x syntax).
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG_DIR/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
  cat >"$LOG4J2" <<EOF
# Written by scripts/infra.sh (Log4j 2 properties syntax).
appender.file.type=RollingFile
appender.file.name=file
appender.file.fileName=$LOG_DIR/server.log
appender.file.filePattern=$LOG_DIR/server.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=20MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=3
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.authorizer.name=kafka.authorizer.logger
logger.authorizer.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
EOF
}

# JVM options naming the logging configuration (each line reads only its own).
log_config_opts() {
  printf '%s\n' "-Dlog4j.configuration=file:$LOG4J" "-Dlog4j2.configurationFile=$LOG4J2"
}

new_cluster_id() {
  # Kafka Uuid: 16 random bytes, URL-safe base64 without padding, must not start with '-'.
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "${#id}" == 22 && "$id" != -* && "$id" != AAAAAAAAAAAAAAAAAAAAA* ]] && break
  done
  printf '%s' "$id"
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  local cid
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cid="$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")"
  else
    cid="$(new_cluster_id)"
    printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
  fi
  log "Kafka: formatting KRaft storage in $DATA_DIR (cluster id $cid)"
  local -a logopts; mapfile -t logopts < <(log_config_opts)
  "$JAVA" -Xmx256m -cp "$LIBS/*" "${logopts[@]}" \
    kafka.tools.StorageTool format -t "$cid" -c "$PROPS" --ignore-formatted \
    >"$LOG_DIR/format.out" 2>&1 9>&- \
    || { cat "$LOG_DIR/format.out" >&2; die "kafka.tools.StorageTool format failed"; }
}

# ---------------------------------------------------------------- Kafka: start/stop

kafka_external() { # true if KAFKA_BROKERS names a broker we do not manage
  [[ -n "${KAFKA_BROKERS:-}" ]] || return 1
  local ours="$HOST:$KAFKA_PORT" b
  b="$(printf '%s' "$KAFKA_BROKERS" | tr -d '[:space:]')"
  b="${b#PLAINTEXT://}"
  if [[ "$b" == "$ours" ]]; then
    # What `env` prints: manage our own broker unless a foreign one already listens there.
    our_kafka_pid >/dev/null && return 1
    tcp_open "$HOST" "$KAFKA_PORT" && return 0
    return 1
  fi
  return 0
}

check_external() {
  local b host port failed=0 deadline
  IFS=',' read -r -a brokers <<<"$KAFKA_BROKERS"
  for b in "${brokers[@]}"; do
    b="$(printf '%s' "$b" | tr -d '[:space:]')"
    [[ -n "$b" ]] || continue
    b="${b#*://}"
    host="${b%:*}"; port="${b##*:}"
    host="${host#[}"; host="${host%]}"
    [[ "$port" =~ ^[0-9]+$ && -n "$host" ]] || die "bad entry in KAFKA_BROKERS: '$b' (want host:port)"
    deadline=$((SECONDS + 10))
    until tcp_open "$host" "$port"; do
      if ((SECONDS >= deadline)); then
        log "Kafka: $host:$port (from KAFKA_BROKERS) does not answer TCP"
        failed=1
        break
      fi
      sleep 0.5
    done
    ((failed)) || log "Kafka: $host:$port (from KAFKA_BROKERS) answers TCP"
  done
  ((failed == 0)) || die "KAFKA_BROKERS=$KAFKA_BROKERS: not all brokers answer (nothing was started)"
  log "KAFKA_BROKERS is set: using the external broker(s), nothing started"
}

wait_ready() { # wait_ready PID LOGOFFSET T0
  local pid="$1" off="$2" t0="$3" deadline=$((SECONDS + KAFKA_DEADLINE)) probe
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "Kafka: process $pid exited during startup; last log lines:"
      tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      tail -n 30 "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      die "Kafka failed to start (logs in $LOG_DIR)"
    fi
    if tcp_open "$HOST" "$KAFKA_PORT"; then
      probe=0
      kafka_metadata_ok "$HOST" "$KAFKA_PORT" || probe=$?
      if ((probe == 0)); then
        return 0
      elif ((probe == 2)); then # no node: fall back to the log line
        tail -c +"$((off + 1))" "$LOG_DIR/server.log" 2>/dev/null | grep -q 'Kafka Server started' && return 0
      fi
    fi
    if ((SECONDS >= deadline)); then
      log "Kafka: not ready after ${KAFKA_DEADLINE}s (pid $pid, still running); last log lines:"
      tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      die "Kafka did not become ready within ${KAFKA_DEADLINE}s (logs in $LOG_DIR; stop it with: scripts/infra.sh kafka-stop)"
    fi
    sleep 0.5
  done
}

kafka_start() {
  if kafka_external; then
    check_external
    return 0
  fi
  with_lock "$RUN_ROOT/.infra.lock"
  mkdir -p "$KRUN"
  local pid t0
  t0="$(now)"
  if pid="$(our_kafka_pid)"; then
    local addr; addr="$(our_kafka_address)"
    [[ "$addr" == "$HOST:$KAFKA_PORT" ]] \
      || log "Kafka: note: running broker listens on $addr, not on KAFKA_PORT=$KAFKA_PORT"
    wait_ready "$pid" 0 "$t0"
    log "Kafka: already running (pid $pid) on $addr; nothing to do"
    return 0
  fi
  rm -f "$PIDFILE"
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 11+; apt-get install openjdk-17-jre-headless)"

  local p owner
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if tcp_open "$HOST" "$p"; then
      owner="$(port_owner "$p")"
      die "port $HOST:$p is already in use by another process (not a broker started by this script):
${owner:-  (owner unknown)}
Stop that process, or pick other ports: KAFKA_PORT=... KAFKA_CONTROLLER_PORT=... scripts/infra.sh up,
or point KAFKA_BROKERS at an existing broker."
    fi
  done

  ensure_libs
  local version; version="$(cached_kafka_version)"
  local t1; t1="$(now)"
  write_config
  format_storage

  local off=0
  local -a logopts; mapfile -t logopts < <(log_config_opts)
  [[ -f "$LOG_DIR/server.log" ]] && off="$(stat -c %s "$LOG_DIR/server.log")"
  printf '\n===== %s start (infra.sh) =====\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/kafka.out"
  # fd 9 holds our lock: never let the broker inherit it.
  nohup "$JAVA" -Xms256m -Xmx512m \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" "${logopts[@]}" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOG_DIR/kafka.out" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PIDFILE"
  log "Kafka $version: started pid $pid, waiting for $HOST:$KAFKA_PORT (up to ${KAFKA_DEADLINE}s)"
  wait_ready "$pid" "$off" "$t1"
  log "Kafka $version: ready on $HOST:$KAFKA_PORT (pid $pid) — broker start took $(elapsed "$t1")s, total $(elapsed "$t0")s"
}

kafka_stop() {
  with_lock "$RUN_ROOT/.infra.lock"
  local pid
  if ! pid="$(our_kafka_pid)"; then
    if [[ -f "$PIDFILE" ]]; then
      log "Kafka: stale pid file (process $(tr -dc '0-9' <"$PIDFILE") is not our broker); removed"
      rm -f "$PIDFILE"
    else
      log "Kafka: not running (no broker started by this script)"
    fi
    [[ -n "${KAFKA_BROKERS:-}" && "${KAFKA_BROKERS// /}" != "$HOST:$KAFKA_PORT" ]] \
      && log "Kafka: KAFKA_BROKERS=$KAFKA_BROKERS is external and is not stopped"
    return 0
  fi
  local t0; t0="$(now)"
  log "Kafka: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_DEADLINE))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "Kafka: pid $pid still alive after ${STOP_DEADLINE}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "Kafka: stopped in $(elapsed "$t0")s (data kept in $DATA_DIR)"
}

# ---------------------------------------------------------------- status / env

cmd_status() {
  local rc=3 pid addr
  if [[ "${SKIP_PG:-}" == "1" ]]; then
    echo "postgresql: skipped (SKIP_PG=1)"
  elif command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PG_PORT"; then
    echo "postgresql: up on $HOST:$PG_PORT"
  else
    echo "postgresql: DOWN on $HOST:$PG_PORT"
  fi
  if pid="$(our_kafka_pid)"; then
    addr="$(our_kafka_address)"
    local state="starting (not answering metadata yet)"
    if kafka_metadata_ok "${addr%:*}" "${addr##*:}"; then state="up"; rc=0; fi
    echo "kafka: $state on $addr (pid $pid, running $(ps -o etime= -p "$pid" | tr -d ' '), version $(cached_kafka_version))"
    echo "kafka: config $PROPS, data $DATA_DIR, log $LOG_DIR/server.log"
  elif kafka_external; then
    echo "kafka: external KAFKA_BROKERS=$KAFKA_BROKERS (not managed by this script)"
    ( check_external ) >/dev/null 2>&1 && { echo "kafka: external brokers answer TCP"; rc=0; } \
      || echo "kafka: external brokers do NOT all answer TCP"
  else
    echo "kafka: not running (run dir $KRUN)"
    if [[ -f "$DATA_DIR/meta.properties" ]]; then echo "kafka: formatted data kept in $DATA_DIR"; fi
  fi
  if libs_complete; then
    echo "kafka jars: $(cached_kafka_version) in $LIBS"
  else
    echo "kafka jars: not downloaded yet ($LIBS)"
  fi
  return "$rc"
}

cmd_env() {
  local pid
  if pid="$(our_kafka_pid)"; then
    echo "export KAFKA_BROKERS=$(our_kafka_address)"
  elif [[ -n "${KAFKA_BROKERS:-}" ]]; then
    echo "export KAFKA_BROKERS=$KAFKA_BROKERS"
  else
    log "Kafka is not running (scripts/infra.sh up); printing the address it would use"
    echo "export KAFKA_BROKERS=$HOST:$KAFKA_PORT"
  fi
}

# ---------------------------------------------------------------- main

cmd="${1:-help}"
case "$cmd" in
  up)
    t_up="$(now)"
    pg_up
    kafka_start
    log "up: done in $(elapsed "$t_up")s"
    ;;
  kafka-start) kafka_start ;;
  down | kafka-stop) kafka_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    die "unknown command: $cmd"
    ;;
esac
