#!/usr/bin/env bash
# Brings up fundpass as a city fund would run it, on this machine, from nothing:
# etcd; PostgreSQL as a Patroni-managed pair (leader + synchronous standby); HAProxy
# sending fundpass to the leader (by Patroni's REST health check) and members to three
# fundpass instances (by /readyz); one Redis for captchas and rate limits; and the
# three instances, sharing one key file, the database and Redis.
#
#   deploy/cluster/up.sh          # prints the folder and the addresses
#   deploy/cluster/down.sh        # stops everything and removes the folder
#
# Settings (environment):
#   FUNDPASS_BIN                   the fundpass binary (default: built with
#                                  `cargo build --release -p fundpass` if missing)
#   FUNDPASS_CLUSTER_PORT_BASE     first port (default 27100; lib.sh lists the rest)
#   FUNDPASS_CLUSTER_CONFIG        a TOML file put at the top of every instance's
#                                  configuration (mode, [sms], [portal], …; not
#                                  [database], [redis] or [server], which this script
#                                  writes). Default: dev mode with the dev SMS outbox.
#   FUNDPASS_CLUSTER_IMPORT        a members file to `fundpass import` before starting
#   FUNDPASS_CLUSTER_KEY_FILE      the key file the instances share (default: a new one)
#
# Needs root (PostgreSQL runs as the postgres user) and Debian's patroni, etcd-server
# and haproxy, which it installs when they are missing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

if [[ $EUID -ne 0 ]]; then
  echo "up.sh runs as root (it starts PostgreSQL as the postgres user)" >&2
  exit 1
fi

missing=()
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[[ -x "$PG_BIN/postgres" ]] || { echo "no PostgreSQL server programs under /usr/lib/postgresql" >&2; exit 1; }

if [[ -z "${FUNDPASS_BIN:-}" ]]; then
  target="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
  FUNDPASS_BIN="$target/release/fundpass"
  if [[ ! -x "$FUNDPASS_BIN" ]]; then
    say "building fundpass (release)"
    (cd "$REPO_ROOT" && cargo build --release --locked -p fundpass)
  fi
fi
FUNDPASS_BIN="$(cd "$(dirname "$FUNDPASS_BIN")" && pwd)/$(basename "$FUNDPASS_BIN")"

BASE="${FUNDPASS_CLUSTER_PORT_BASE:-27100}"
for offset in 0 1 10 11 20 21 30 40 41 50 61 62 63 71 72 73; do
  port_free $((BASE + offset)) || { echo "port $((BASE + offset)) is taken (set FUNDPASS_CLUSTER_PORT_BASE)" >&2; exit 1; }
done

DIR="$(mktemp -d /tmp/fundpass-cluster.XXXXXX)"
chmod 755 "$DIR"
export FUNDPASS_CLUSTER_DIR="$DIR"
echo "$DIR" >"$CLUSTER_POINTER"

# Anything failing from here on takes down what was started.
trap 'status=$?; if ((status)); then say "failed; the logs are in $DIR, stopping"; tail -n 20 "$DIR"/*/*.log 2>/dev/null >&2 || true; FUNDPASS_CLUSTER_KEEP="${FUNDPASS_CLUSTER_KEEP:-}" "$CLUSTER_SCRIPTS/down.sh" >&2 || true; fi' EXIT

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
cat >"$DIR/cluster.env" <<EOF
FUNDPASS_BIN='$FUNDPASS_BIN'
ETCD_PORT=$((BASE + 0))
ETCD_PEER_PORT=$((BASE + 1))
PG_PORT_1=$((BASE + 10))
PG_PORT_2=$((BASE + 11))
PATRONI_PORT_1=$((BASE + 20))
PATRONI_PORT_2=$((BASE + 21))
LEADER_PORT=$((BASE + 30))
HTTP_PORT=$((BASE + 40))
STATS_PORT=$((BASE + 41))
REDIS_PORT=$((BASE + 50))
FUNDPASS_PORT_1=$((BASE + 61))
FUNDPASS_PORT_2=$((BASE + 62))
FUNDPASS_PORT_3=$((BASE + 63))
METRICS_PORT_1=$((BASE + 71))
METRICS_PORT_2=$((BASE + 72))
METRICS_PORT_3=$((BASE + 73))
SUPERUSER_PASSWORD=$(secret)
REPLICATION_PASSWORD=$(secret)
OWNER_DB_PASSWORD=$(secret)
APP_DB_PASSWORD=$(secret)
REDIS_PASSWORD=$(secret)
EOF
chmod 600 "$DIR/cluster.env"
load_cluster
# The instances log in as fundpass_app (the grants of postgres-app-role.sql: no DDL,
# audit events append-only); the owner role only migrates and imports.
DATABASE_URL="postgres://fundpass_app:$APP_DB_PASSWORD@127.0.0.1:$LEADER_PORT/fundpass"
OWNER_URL="postgres://fundpass:$OWNER_DB_PASSWORD@127.0.0.1:$LEADER_PORT/fundpass"
REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
printf "DATABASE_URL='%s'\nOWNER_URL='%s'\nREDIS_URL='%s'\n" "$DATABASE_URL" "$OWNER_URL" "$REDIS_URL" >>"$DIR/cluster.env"

# --- etcd: the store Patroni keeps the leader key in -------------------------------
say "starting etcd on $ETCD_PORT"
mkdir -p "$DIR/etcd"
nohup etcd --name etcd1 --data-dir "$DIR/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "etcd1=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state new --initial-cluster-token "fundpass-$(basename "$DIR")" \
  >>"$DIR/etcd/etcd.log" 2>&1 &
echo $! >"$DIR/etcd/etcd.pid"
wait_for "curl -fsS --max-time 1 http://127.0.0.1:$ETCD_PORT/health | grep -q true" 30 ||
  { echo "etcd did not start" >&2; exit 1; }

# --- PostgreSQL pair under Patroni ---------------------------------------------------
for n in 1 2; do
  pg="PG_PORT_$n" rest="PATRONI_PORT_$n"
  mkdir -p "$DIR/pg$n"
  cat >"$DIR/pg$n/patroni.yml" <<EOF
scope: fundpass
namespace: /fundpass-cluster/
name: pg$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${!rest}
  connect_address: 127.0.0.1:${!rest}
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    # The leader key lives 10 s: a dead leader is replaced within about that.
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # A commit is acknowledged only once the standby has it: a failover loses nothing
    # acknowledged.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        synchronous_commit: "on"
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
postgresql:
  listen: 127.0.0.1:${!pg}
  connect_address: 127.0.0.1:${!pg}
  data_dir: $DIR/pg$n/data
  bin_dir: $PG_BIN
  pgpass: $DIR/pg$n/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: $SUPERUSER_PASSWORD
    replication:
      username: replicator
      password: $REPLICATION_PASSWORD
  parameters:
    unix_socket_directories: $DIR/pg$n
    password_encryption: scram-sha-256
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
  chown -R postgres:postgres "$DIR/pg$n"
  chmod 700 "$DIR/pg$n"
done
say "starting Patroni pg1 (PostgreSQL on $PG_PORT_1)"
start_patroni 1
wait_for "[[ \"\$(pg_leader)\" == pg1 ]] && curl -fsS --max-time 1 http://127.0.0.1:$PATRONI_PORT_1/primary" 90 ||
  { echo "pg1 did not become the leader" >&2; exit 1; }
say "starting Patroni pg2 (PostgreSQL on $PG_PORT_2), the synchronous standby"
start_patroni 2
sync_ready() {
  curl -fsS --max-time 1 "http://127.0.0.1:$PATRONI_PORT_1/cluster" | python3 -c '
import json, sys
m = json.load(sys.stdin)["members"]
sys.exit(0 if any(x["role"] == "sync_standby" and x["state"] in ("streaming", "running") for x in m) else 1)'
}
wait_for sync_ready 120 || { echo "pg2 did not become the synchronous standby" >&2; exit 1; }

# --- Redis -------------------------------------------------------------------------
say "starting Redis on $REDIS_PORT"
mkdir -p "$DIR/redis"
# The password in a file of its own (not on a command line); every key kept until it
# expires (no eviction: a limit evicted would be a limit skipped) and written to the
# append-only file, so that a restart keeps the day's counts.
cat >"$DIR/redis/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
daemonize yes
dir $DIR/redis
pidfile $DIR/redis/redis.pid
logfile $DIR/redis/redis.log
save ""
appendonly yes
appendfsync everysec
maxmemory-policy noeviction
requirepass $REDIS_PASSWORD
EOF
chmod 600 "$DIR/redis/redis.conf"
redis-server "$DIR/redis/redis.conf"
export REDISCLI_AUTH="$REDIS_PASSWORD"
wait_for "redis-cli -p $REDIS_PORT ping | grep -q PONG" 20 ||
  { echo "Redis did not start" >&2; exit 1; }

# --- HAProxy -----------------------------------------------------------------------
say "starting HAProxy: PostgreSQL leader on $LEADER_PORT, fundpass on $HTTP_PORT"
mkdir -p "$DIR/haproxy"
# While no instance is ready (the database is switching over, say), HAProxy answers
# as fundpass itself does when it is busy: 503, Retry-After, the API's error body.
# An instance lost under a request (502) or too slow (504) gets the same body, with its
# own status: the request may or may not have been done.
busy='{"error":{"code":"busy","message":"The service is busy. Try again in a moment."}}'
for answer in "502 Bad Gateway" "503 Service Unavailable" "504 Gateway Timeout"; do
  printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nRetry-After: 2\r\nCache-Control: no-store\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$answer" "${#busy}" "$busy" >"$DIR/haproxy/${answer%% *}.http"
done
cat >"$DIR/haproxy/haproxy.cfg" <<EOF
global
  maxconn 2000
  log stdout format raw local0 warning

defaults
  log global
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout check 1s

# fundpass's database connections go to whichever node Patroni says is the leader
# (GET /primary answers 200 there only); when the leader changes, the old
# connections are cut so that fundpass reconnects to the new one.
listen postgres_leader
  bind 127.0.0.1:$LEADER_PORT
  mode tcp
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:$PG_PORT_1 maxconn 200 check port $PATRONI_PORT_1
  server pg2 127.0.0.1:$PG_PORT_2 maxconn 200 check port $PATRONI_PORT_2

# Members' HTTP, to the instances whose /readyz answers 200.
listen fundpass
  bind 127.0.0.1:$HTTP_PORT
  mode http
  balance roundrobin
  # The client's address as HAProxy saw it, replacing any X-Forwarded-For the
  # client sent (fundpass trusts this header: a member must not choose their address).
  http-request set-header X-Forwarded-For %[src]
  option httpchk GET /readyz
  http-check expect status 200
  timeout client 35s
  timeout server 35s
  # A request that could not reach an instance (killed, say) goes to another one.
  retries 2
  retry-on conn-failure
  option redispatch
  errorfile 502 $DIR/haproxy/502.http
  errorfile 503 $DIR/haproxy/503.http
  errorfile 504 $DIR/haproxy/504.http
  default-server inter 1s fall 2 rise 1
  server fundpass1 127.0.0.1:$FUNDPASS_PORT_1 check
  server fundpass2 127.0.0.1:$FUNDPASS_PORT_2 check
  server fundpass3 127.0.0.1:$FUNDPASS_PORT_3 check

listen stats
  bind 127.0.0.1:$STATS_PORT
  mode http
  stats enable
  stats uri /
EOF
haproxy -c -q -f "$DIR/haproxy/haproxy.cfg"
haproxy -D -f "$DIR/haproxy/haproxy.cfg" -p "$DIR/haproxy/haproxy.pid" >>"$DIR/haproxy/haproxy.log" 2>&1
# HAProxy counts a server up until its first check fails: wait until several
# connections in a row all reach the leader.
leader_only() {
  local i
  for i in 1 2 3 4 5 6; do
    PGPASSWORD="$SUPERUSER_PASSWORD" psql -h 127.0.0.1 -p "$LEADER_PORT" -U postgres -d postgres \
      -Atqc 'select not pg_is_in_recovery()' 2>/dev/null | grep -qx t || return 1
  done
}
wait_for leader_only 30 || { echo "HAProxy does not reach the PostgreSQL leader" >&2; exit 1; }

# --- the fundpass database: its own role, not a superuser ---------------------------
# The passwords go through standard input, never a command line.
PGPASSWORD="$SUPERUSER_PASSWORD" psql -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LEADER_PORT" -U postgres -d postgres -q <<EOF
CREATE ROLE fundpass LOGIN PASSWORD '$OWNER_DB_PASSWORD';
CREATE ROLE fundpass_app LOGIN PASSWORD '$APP_DB_PASSWORD';
CREATE DATABASE fundpass OWNER fundpass;
GRANT CONNECT ON DATABASE fundpass TO fundpass_app;
EOF

# --- three fundpass instances --------------------------------------------------------
# write_config FILE DATABASE_URL [METRICS_PORT]
write_config() {
  {
    if [[ -n "${FUNDPASS_CLUSTER_CONFIG:-}" ]]; then
      cat "$FUNDPASS_CLUSTER_CONFIG"
    else
      printf 'mode = "dev"\n'
    fi
    printf '\n[database]\nurl = "%s"\n\n[redis]\nurl = "%s"\n\n' "$2" "$REDIS_URL"
    printf '[server]\n'
    [[ -n "${3:-}" ]] && printf 'metrics_bind = "127.0.0.1:%s"\n' "$3"
    printf '# HAProxy sets X-Forwarded-For; the instances listen on 127.0.0.1 only.\n'
    printf 'trust_forwarded_for = true\n'
  } >"$1"
  chmod 600 "$1"
}
for n in 1 2 3; do
  metrics="METRICS_PORT_$n"
  mkdir -p "$DIR/fundpass$n/data"
  write_config "$DIR/fundpass$n/fundpass.toml" "$DATABASE_URL" "${!metrics}"
done
# The owner's configuration, for the schema and the import only.
mkdir -p "$DIR/owner"
write_config "$DIR/owner/fundpass.toml" "$OWNER_URL"
as_owner() { "$FUNDPASS_BIN" --data-dir "$DIR/fundpass1/data" --config "$DIR/owner/fundpass.toml" "$@"; }
# One key file for all three, receipt-signing key included (so that every instance
# signs with the same key): FUNDPASS_CLUSTER_KEY_FILE (production: the key
# custodian's), or a new one.
key_file="$DIR/fundpass1/data/keys.json"
if [[ -n "${FUNDPASS_CLUSTER_KEY_FILE:-}" ]]; then
  install -m 600 "$FUNDPASS_CLUSTER_KEY_FILE" "$key_file"
else
  say "creating the key file"
  as_owner keys init >>"$DIR/owner/commands.log" 2>&1
  as_owner keys rotate-signing >>"$DIR/owner/commands.log" 2>&1
fi
for n in 2 3; do install -m 600 "$key_file" "$DIR/fundpass$n/data/keys.json"; done
say "creating the schema and the application role's grants"
as_owner migrate >>"$DIR/owner/commands.log" 2>&1
PGPASSWORD="$OWNER_DB_PASSWORD" psql -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LEADER_PORT" -U fundpass -d fundpass -q \
  -f "$REPO_ROOT/crates/fundpass-store/sql/postgres-app-role.sql" >>"$DIR/owner/commands.log" 2>&1
if [[ -n "${FUNDPASS_CLUSTER_IMPORT:-}" ]]; then
  say "importing $FUNDPASS_CLUSTER_IMPORT"
  as_owner import "$FUNDPASS_CLUSTER_IMPORT" --quiet >>"$DIR/owner/commands.log" 2>&1
fi
for n in 1 2 3; do
  start_instance "$n"
done
for n in 1 2 3; do
  wait_for "instance_ready $n" 60 || { echo "fundpass instance $n is not ready" >&2; exit 1; }
done
wait_for "curl -fsS --max-time 1 -o /dev/null http://127.0.0.1:$HTTP_PORT/readyz" 20 ||
  { echo "HAProxy does not reach fundpass" >&2; exit 1; }

trap - EXIT
say "up: $DIR"
cat <<EOF
cluster folder:      $DIR   (FUNDPASS_CLUSTER_DIR; cluster.env has the ports and passwords)
members:             http://127.0.0.1:$HTTP_PORT/   (HAProxy → fundpass 1..3)
instances:           http://127.0.0.1:$FUNDPASS_PORT_1/ :$FUNDPASS_PORT_2 :$FUNDPASS_PORT_3   metrics :$METRICS_PORT_1 :$METRICS_PORT_2 :$METRICS_PORT_3
PostgreSQL leader:   127.0.0.1:$LEADER_PORT (HAProxy; Patroni REST :$PATRONI_PORT_1 :$PATRONI_PORT_2)
HAProxy statistics:  http://127.0.0.1:$STATS_PORT/
stop:                deploy/cluster/down.sh
EOF
