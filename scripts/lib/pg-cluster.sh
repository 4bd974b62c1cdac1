# shellcheck shell=bash
# Throwaway PostgreSQL clusters for scripts that must not touch the shared one on 5432
# (scripts/debezium.sh: wal_level=logical; scripts/faults.sh: a cluster it stops and starts).
# Source it; the caller defines log() and die(). Everything is by data directory and pid file:
# a cluster started here is stopped with pg_ctl on its own data directory, nothing else.
#   pgc_up BIN DIR PORT DEADLINE [EXTRA_SERVER_OPTIONS]   initdb DIR/data once (trust, 127.0.0.1), start
#   pgc_running BIN DIR                                   true if DIR/data's postmaster runs
#   pgc_stop BIN DIR MODE DEADLINE                        pg_ctl stop -m MODE (fast|immediate|smart)
#   pgc_remove BIN DIR DEADLINE                           stop (fast) and delete DIR

# tcp_open HOST PORT: true if a TCP connection can be made within ~2s.
tcp_open() {
  # shellcheck disable=SC2016  # $1/$2 expand in the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# PostgreSQL refuses to run as root: as root, run its binaries as the postgres OS user.
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Highest installed PostgreSQL's bin directory (Debian layout), or nothing.
pgc_default_bin() {
  local d
  d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  printf '%s' "$d"
}

pgc_running() { # BIN DIR
  [[ -f "$2/data/postmaster.pid" ]] && as_postgres "$1/pg_ctl" -D "$2/data" status >/dev/null 2>&1
}

pgc_up() { # BIN DIR PORT DEADLINE [EXTRA_SERVER_OPTIONS]
  local bin="$1" dir="$2" port="$3" deadline="$4" extra="${5:-}"
  [[ -x "$bin/initdb" ]] || die "no PostgreSQL binaries in $bin (apt-get install postgresql-15, or set PG_BIN)"
  if pgc_running "$bin" "$dir"; then
    log "PostgreSQL ($dir): already running on 127.0.0.1:$port"
    return 0
  fi
  if tcp_open 127.0.0.1 "$port"; then
    die "port 127.0.0.1:$port is in use by something else (pick another port)"
  fi
  mkdir -p "$dir"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    log "PostgreSQL: initdb into $dir/data"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  log "PostgreSQL: starting on 127.0.0.1:$port ($dir/data)"
  # shellcheck disable=SC2086  # extra is a list of server options
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$deadline" start \
    -o "-p $port -c listen_addresses=127.0.0.1 -k /tmp $extra" \
    >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; die "pg_ctl start failed"; }
}

pgc_stop() { # BIN DIR MODE DEADLINE
  local bin="$1" dir="$2" mode="$3" deadline="$4"
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  log "PostgreSQL ($dir): stopping (-m $mode)"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t "$deadline" stop >/dev/null 2>&1 \
    || log "pg_ctl stop returned non-zero"
}

pgc_remove() { # BIN DIR DEADLINE
  pgc_stop "$1" "$2" fast "$3"
  if [[ -d "$2" ]]; then
    rm -rf "$2"
    log "PostgreSQL: removed $2"
  fi
}
