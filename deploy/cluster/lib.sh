# Shared by up.sh, down.sh and ctl.sh: where the cluster lives, its ports, and how
# each part is started and stopped. Sourced, not run.
#
# Everything is under one folder ($FUNDPASS_CLUSTER_DIR, made by up.sh) and listens on
# 127.0.0.1 only, on ports counted from $FUNDPASS_CLUSTER_PORT_BASE (default 27100):
#
#   base+0   etcd client          base+1   etcd peer
#   base+10  PostgreSQL pg1       base+11  PostgreSQL pg2
#   base+20  Patroni REST pg1     base+21  Patroni REST pg2
#   base+30  HAProxy → the PostgreSQL leader (what fundpass connects to)
#   base+40  HAProxy → the three fundpass instances (what members connect to)
#   base+41  HAProxy statistics page
#   base+50  Redis
#   base+61..63  fundpass instances 1..3   base+71..73  their Prometheus metrics

set -euo pipefail

CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLUSTER_SCRIPTS/../.." && pwd)"

PG_BIN="${FUNDPASS_CLUSTER_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"

# The folder of a running cluster: given, or the one up.sh made last.
cluster_dir() {
  if [[ -n "${FUNDPASS_CLUSTER_DIR:-}" ]]; then
    printf '%s\n' "$FUNDPASS_CLUSTER_DIR"
  elif [[ -f /tmp/fundpass-cluster.last ]]; then
    cat /tmp/fundpass-cluster.last
  else
    echo "no cluster: set FUNDPASS_CLUSTER_DIR or run up.sh" >&2
    return 1
  fi
}

# Reads the ports and secrets up.sh wrote.
load_cluster() {
  DIR="$(cluster_dir)"
  [[ -f "$DIR/cluster.env" ]] || { echo "$DIR is not a fundpass cluster folder" >&2; return 1; }
  # shellcheck disable=SC1091
  source "$DIR/cluster.env"
}

say() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Waits up to $2 seconds for command $1 (a string) to succeed.
wait_for() {
  local what="$1" seconds="$2" i
  for ((i = 0; i < seconds * 5; i++)); do
    if eval "$what" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sends signal $2 to the process whose id is in file $1, if it runs.
signal_pidfile() {
  local file="$1" sig="$2" pid
  [[ -f "$file" ]] || return 0
  pid="$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)"
  [[ -n "$pid" ]] && kill "-$sig" "$pid" 2>/dev/null || true
}

# Whether the process in pid file $1 is alive.
pidfile_alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(head -n1 "$1" 2>/dev/null | tr -dc 0-9)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# The Patroni node (pg1 or pg2) that holds the leader key, from either REST API.
pg_leader() {
  local n
  for n in 1 2; do
    local port="PATRONI_PORT_$n"
    local answer
    answer="$(curl -fsS --max-time 1 "http://127.0.0.1:${!port}/cluster" 2>/dev/null)" || continue
    python3 -c 'import json,sys; m=[x["name"] for x in json.load(sys.stdin)["members"] if x["role"]=="leader"]; print(m[0] if m else "")' <<<"$answer"
    return 0
  done
  return 1
}

# Starts (or restarts) Patroni for node $1 (1 or 2), as the postgres user.
start_patroni() {
  local n="$1"
  runuser -u postgres -- bash -c \
    "nohup patroni '$DIR/pg$n/patroni.yml' >>'$DIR/pg$n/patroni.log' 2>&1 & echo \$! >'$DIR/pg$n/patroni.pid'"
}

# Starts fundpass instance $1 (1..3) in the background, its output in its log.
start_instance() {
  local n="$1" port="FUNDPASS_PORT_$1"
  local home="$DIR/fundpass$n"
  (
    cd "$home"
    nohup "$FUNDPASS_BIN" --data-dir "$home/data" --config "$home/fundpass.toml" \
      serve --bind "127.0.0.1:${!port}" >>"$home/serve.log" 2>&1 &
    echo $! >"$home/serve.pid"
  )
}

# Whether fundpass instance $1 answers /readyz with 200.
instance_ready() {
  local port="FUNDPASS_PORT_$1"
  curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:${!port}/readyz"
}
