#!/usr/bin/env bash
# A secured, authorised single-node KRaft Kafka (4.1.x) for tests and local trials, without Docker:
#   - SASL_SSL (SCRAM-SHA-512) listener, SSL listener with client certificates required (mTLS),
#     the controller listener on SSL too (the broker's own certificate), all on 127.0.0.1;
#   - a throwaway CA, a broker certificate for 127.0.0.1/localhost and one client certificate per
#     principal, made with openssl on `up`;
#   - SCRAM-SHA-512 credentials for every principal, written at format time (StorageTool --add-scram);
#   - StandardAuthorizer, super users admin and the broker, allow.everyone.if.no.acl.found=false.
# ACLs are not created here: `sync-ctl acls --apply` does it with the admin credentials
# (docs/security.md). Run `scripts/kafka-secure.sh help` for usage.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

HOST=127.0.0.1
# Below Linux's ephemeral range (32768-60999): a port there can be held by any client socket
# (seen: a PostgreSQL connection on 127.0.0.1:39292 made the broker fail with "Address already in use").
SASL_PORT="${KAFKA_SECURE_SASL_PORT:-19392}"
MTLS_PORT="${KAFKA_SECURE_MTLS_PORT:-19393}"
CONTROLLER_PORT="${KAFKA_SECURE_CONTROLLER_PORT:-19394}"
DEADLINE="${KAFKA_SECURE_DEADLINE:-120}"
STOP_DEADLINE=30
CACHE_ROOT="${SYNC_CACHE_DIR:-$HOME/.cache/legacy-sync}"
# Kafka 4.1 from the cache scripts/infra.sh fills; 3.9 (its jars cached by an older infra.sh) works too.
if [[ -n "${KAFKA_SECURE_LIBS:-}" ]]; then
  LIBS="$KAFKA_SECURE_LIBS"
elif compgen -G "$CACHE_ROOT/kafka-4.1.x/libs/kafka_2.13-4.*.jar" >/dev/null; then
  LIBS="$CACHE_ROOT/kafka-4.1.x/libs"
else
  LIBS="$CACHE_ROOT/kafka-3.9.x/libs"
fi
RUN="${KAFKA_SECURE_DIR:-${SYNC_RUN_DIR:-$REPO_ROOT/.run}/kafka-secure}"
# Every app, the operators' CLI and the status console get a principal; `outsider` has none of the
# ACLs (tests use it), admin is a super user.
PRINCIPALS=(${KAFKA_SECURE_PRINCIPALS:-legacy-import id-translation domain-transform legacy-writeback sync-ctl console outsider})
PROPS="$RUN/server.properties"
LOG4J2="$RUN/log4j2.properties"   # Kafka 4.x (Log4j 2)
LOG4J="$RUN/log4j.properties"     # Kafka 3.x (reload4j)
PIDFILE="$RUN/kafka.pid"
DATA_DIR="$RUN/data"
LOG_DIR="$RUN/logs"
TLS="$RUN/tls"
SECRETS="$RUN/secrets"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf '[kafka-secure] %s\n' "$*" >&2; }
die() { printf '[kafka-secure] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: scripts/kafka-secure.sh <command>

A secured single-node KRaft Kafka on $HOST (jars from \$KAFKA_SECURE_LIBS, default the cache
scripts/infra.sh fills for Kafka 4.1, else its 3.9 cache: run 'KAFKA_VERSION=4.1.1 scripts/infra.sh up'
once). Jars used now: $LIBS

Commands:
  up       make the CA, certificates and SCRAM passwords (first time), format, start, wait until the
           SASL_SSL listener answers; prints the env lines of 'env'
  down     stop the broker started by 'up' (by its pid)
  status   exit 0 if our broker runs, 1 if not
  env      shell lines: KAFKA_SECURE_SASL_BROKERS, KAFKA_SECURE_MTLS_BROKERS, KAFKA_SECURE_DIR
  clean    down, then remove $RUN

Listeners:
  SASL_SSL  $HOST:$SASL_PORT  SCRAM-SHA-512, server certificate from the test CA (KAFKA_SECURE_SASL_PORT)
  SSL       $HOST:$MTLS_PORT  client certificate required; principal = the certificate's CN (KAFKA_SECURE_MTLS_PORT)
  CONTROLLER $HOST:$CONTROLLER_PORT  SSL, the broker's own certificate (KAFKA_SECURE_CONTROLLER_PORT)

Files in \$KAFKA_SECURE_DIR ($RUN):
  tls/ca.crt                   the CA clients trust
  tls/<principal>.crt, .key    client certificate and key (CN=<principal>) for mTLS
  tls/rogue-ca.crt, tls/rogue.crt, rogue.key  a second CA and a client certificate it signed (not trusted by the broker)
  secrets/<principal>.password SCRAM-SHA-512 password (mode 600)
  logs/server.log, kafka.pid
Principals: admin (super user) ${PRINCIPALS[*]} (KAFKA_SECURE_PRINCIPALS)
EOF
}

tcp_open() {
  # shellcheck disable=SC2016
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

our_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(tr -dc '0-9' <"$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s' "$pid"
}

print_env() {
  printf 'KAFKA_SECURE_SASL_BROKERS=%s:%s\n' "$HOST" "$SASL_PORT"
  printf 'KAFKA_SECURE_MTLS_BROKERS=%s:%s\n' "$HOST" "$MTLS_PORT"
  printf 'KAFKA_SECURE_DIR=%s\n' "$RUN"
}

# ---------------------------------------------------------------- certificates and secrets

# sign NAME SUBJECT EXT CA: key NAME.key (PKCS#8) and certificate NAME.crt signed by CA (ca or rogue-ca).
sign() {
  local name="$1" subject="$2" ext="$3" ca="$4"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$TLS/$name.key" -subj "$subject" -out "$TLS/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$TLS/$name.ext"
  openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.crt" -CAkey "$TLS/$ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$TLS/$name.ext" -out "$TLS/$name.crt" 2>/dev/null
  rm -f "$TLS/$name.csr" "$TLS/$name.ext"
  chmod 600 "$TLS/$name.key"
}

make_ca() { # make_ca NAME CN
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$TLS/$1.key" -subj "/CN=$2" -days 30 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$TLS/$1.crt" 2>/dev/null
  chmod 600 "$TLS/$1.key"
}

make_material() {
  [[ -f "$TLS/.complete" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
  rm -rf "$TLS" "$SECRETS"
  mkdir -p "$TLS" "$SECRETS"
  chmod 700 "$TLS" "$SECRETS"
  make_ca ca "legacy-sync test CA"
  make_ca rogue-ca "untrusted test CA"
  local client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
  # The broker's certificate serves its listeners and is its client certificate on the controller listener.
  sign broker "/CN=kafka-broker" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost' ca
  local p pass
  for p in admin "${PRINCIPALS[@]}"; do
    sign "$p" "/CN=$p" "$client_ext" ca
    pass="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
    (umask 077; printf '%s\n' "$pass" >"$SECRETS/$p.password")
  done
  sign rogue "/CN=legacy-import" "$client_ext" rogue-ca
  # Java reads the broker's key pair from PKCS#12 and trusts the CA from PEM (ssl.truststore.type=PEM).
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$SECRETS/keystore.password"
  chmod 600 "$SECRETS/keystore.password"
  openssl pkcs12 -export -in "$TLS/broker.crt" -inkey "$TLS/broker.key" -certfile "$TLS/ca.crt" \
    -name kafka-broker -passout "file:$SECRETS/keystore.password" -out "$TLS/broker.p12"
  chmod 600 "$TLS/broker.p12"
  touch "$TLS/.complete"
  log "certificates and SCRAM passwords made in $RUN (CA $TLS/ca.crt)"
}

# ---------------------------------------------------------------- broker

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  local kspass; kspass="$(cat "$SECRETS/keystore.password")"
  (umask 077; cat >"$PROPS" <<EOF
# Written by scripts/kafka-secure.sh -- rewritten on every start, do not edit.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=SASL_SSL://$HOST:$SASL_PORT,SSL://$HOST:$MTLS_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=SASL_SSL://$HOST:$SASL_PORT,SSL://$HOST:$MTLS_PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$kspass
ssl.key.password=$kspass
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.crt
ssl.endpoint.identification.algorithm=https
ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
# A certificate's principal is its CN, so User:legacy-import is the same over SCRAM and mTLS.
ssl.principal.mapping.rules=RULE:^CN=([^,]+)\$/\$1/,RULE:^CN=([^,]+),.*\$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:kafka-broker
allow.everyone.if.no.acl.found=false
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=16777216
EOF
  )
  cat >"$LOG4J2" <<EOF
appender.file.type=File
appender.file.name=file
appender.file.fileName=$LOG_DIR/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.request.name=kafka.request.logger
logger.request.level=WARN
# Denials are logged at INFO by kafka.authorizer.logger: kept, they say who was refused what.
logger.authorizer.name=kafka.authorizer.logger
logger.authorizer.level=INFO
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
EOF
  cat >"$LOG4J" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOG_DIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.authorizer.logger=INFO
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

format_storage() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cid p
  cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | sed 's/^-/A/')"
  local -a scram=()
  for p in admin "${PRINCIPALS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=$p,password=$(cat "$SECRETS/$p.password")]")
  done
  log "formatting KRaft storage in $DATA_DIR with SCRAM-SHA-512 credentials for admin ${PRINCIPALS[*]}"
  "$JAVA" -Xmx256m -cp "$LIBS/*" "-Dlog4j2.configurationFile=$LOG4J2" "-Dlog4j.configuration=file:$LOG4J" \
    kafka.tools.StorageTool format -t "$cid" -c "$PROPS" "${scram[@]}" >"$LOG_DIR/format.out" 2>&1 \
    || { cat "$LOG_DIR/format.out" >&2; die "kafka.tools.StorageTool format failed"; }
}

# True once a TLS handshake with the SASL_SSL listener succeeds (the broker serves requests then).
listener_ready() {
  tcp_open "$HOST" "$SASL_PORT" || return 1
  timeout 5 openssl s_client -connect "$HOST:$SASL_PORT" -CAfile "$TLS/ca.crt" -verify_return_error \
    </dev/null >/dev/null 2>&1
}

up() {
  local pid
  if pid="$(our_pid)"; then
    log "already running (pid $pid)"
    print_env
    return 0
  fi
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 17+; apt-get install openjdk-17-jre-headless)"
  compgen -G "$LIBS/kafka_2.13-[34].*.jar" >/dev/null \
    || die "no Kafka jars in $LIBS: run 'KAFKA_VERSION=4.1.1 scripts/infra.sh up' once (it caches them), or set KAFKA_SECURE_LIBS"
  local p
  for p in "$SASL_PORT" "$MTLS_PORT" "$CONTROLLER_PORT"; do
    tcp_open "$HOST" "$p" && die "port $HOST:$p is already in use (set KAFKA_SECURE_SASL_PORT / _MTLS_PORT / _CONTROLLER_PORT)"
  done
  mkdir -p "$RUN"
  make_material
  write_config
  format_storage
  local t0=$SECONDS
  nohup "$JAVA" -Xms192m -Xmx384m -XX:+UseG1GC -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J2" "-Dlog4j.configuration=file:$LOG4J" -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    >>"$LOG_DIR/kafka.out" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + DEADLINE))
  until listener_ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      tail -n 30 "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      die "Kafka exited during start-up (logs in $LOG_DIR)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      die "Kafka did not answer TLS on $HOST:$SASL_PORT within ${DEADLINE}s (pid $pid still running; stop it with scripts/kafka-secure.sh down)"
    fi
    sleep 0.5
  done
  # The listener accepts TLS before the broker has caught up with its metadata: wait for the log line.
  until grep -q 'Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started' "$LOG_DIR/server.log" 2>/dev/null; do
    ((SECONDS < deadline)) || die "Kafka did not log its start within ${DEADLINE}s (pid $pid)"
    sleep 0.5
  done
  log "started (pid $pid) in $((SECONDS - t0))s: SASL_SSL $HOST:$SASL_PORT, mTLS $HOST:$MTLS_PORT"
  print_env
}

down() {
  local pid
  if ! pid="$(our_pid)"; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_DEADLINE))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid did not stop within ${STOP_DEADLINE}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.3
  done
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

case "${1:-help}" in
  up) up ;;
  down) down ;;
  status) our_pid >/dev/null ;;
  env) print_env ;;
  clean) down; rm -rf "$RUN" ;;
  help | -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
