#!/usr/bin/env bash
# Stops everything up.sh started (fundpass instances, HAProxy, Redis, Patroni and its
# PostgreSQL servers, etcd) and removes the cluster's folder: nothing is left behind.
# FUNDPASS_CLUSTER_KEEP=1 keeps the folder (logs, data) for a look afterwards.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DIR="$(cluster_dir)" || exit 0
# The ports (for Redis, whose process title names its address, not the folder), when
# up.sh got as far as writing them.
REDIS_PORT=""
load_cluster 2>/dev/null || true

# Waits up to 15 s for the process in pid file $1 to end, then kills it.
stop_pidfile() {
  local file="$1" marker="${2:-}" i
  signal_pidfile "$file" TERM "$marker"
  for ((i = 0; i < 75; i++)); do
    pidfile_alive "$file" "$marker" || return 0
    sleep 0.2
  done
  signal_pidfile "$file" KILL "$marker"
}

for n in 1 2 3; do signal_pidfile "$DIR/fundpass$n/serve.pid" TERM; done
for n in 1 2 3; do stop_pidfile "$DIR/fundpass$n/serve.pid"; done
stop_pidfile "$DIR/haproxy/haproxy.pid"
[[ -n "$REDIS_PORT" ]] && stop_pidfile "$DIR/redis/redis.pid" "127.0.0.1:$REDIS_PORT"
for n in 1 2; do stop_pidfile "$DIR/pg$n/patroni.pid"; done
# A PostgreSQL left running by a Patroni that was killed.
for n in 1 2; do
  if [[ -f "$DIR/pg$n/data/postmaster.pid" ]]; then
    signal_pidfile "$DIR/pg$n/data/postmaster.pid" QUIT
    wait_for "! pidfile_alive '$DIR/pg$n/data/postmaster.pid'" 5 ||
      signal_pidfile "$DIR/pg$n/data/postmaster.pid" KILL
  fi
done
stop_pidfile "$DIR/etcd/etcd.pid"

if [[ "${FUNDPASS_CLUSTER_KEEP:-}" == 1 ]]; then
  say "stopped; kept $DIR"
else
  rm -rf "$DIR"
  say "stopped and removed $DIR"
fi
if [[ "$(cat "$CLUSTER_POINTER" 2>/dev/null)" == "$DIR" ]]; then
  rm -f "$CLUSTER_POINTER"
fi
