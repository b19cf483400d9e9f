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

PG_BIN="${FUNDPASS_CLUSTER_PG_BIN:-$( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true) | sort -V | tail -n1)}"

# Where up.sh notes the folder it made: under /run, which only root writes.
CLUSTER_POINTER=/run/fundpass-cluster.last

# The folder of a running cluster: given, or the one up.sh made last. Only a folder
# up.sh could have made is accepted (the scripts run as root and act on what is in
# it): /tmp/fundpass-cluster.*, a real folder owned by root, not writable by others.
cluster_dir() {
  local dir
  if [[ -n "${FUNDPASS_CLUSTER_DIR:-}" ]]; then
    dir="$FUNDPASS_CLUSTER_DIR"
  elif [[ -f "$CLUSTER_POINTER" ]]; then
    dir="$(cat "$CLUSTER_POINTER")"
  else
    echo "no cluster: set FUNDPASS_CLUSTER_DIR or run up.sh" >&2
    return 1
  fi
  if [[ "$dir" != /tmp/fundpass-cluster.* || -L "$dir" || ! -d "$dir" ]] ||
    [[ "$(stat -c %u "$dir")" != 0 || -n "$(find "$dir" -maxdepth 0 -perm /022)" ]]; then
    echo "$dir is not a cluster folder up.sh made" >&2
    return 1
  fi
  printf '%s\n' "$dir"
}

# Reads the ports and secrets up.sh wrote (a root-owned file of the checked folder).
load_cluster() {
  DIR="$(cluster_dir)"
  local env="$DIR/cluster.env"
  if [[ ! -f "$env" || -L "$env" || "$(stat -c %u "$env")" != 0 || -n "$(find "$env" -perm /077)" ]]; then
    echo "$DIR is not a fundpass cluster folder" >&2
    return 1
  fi
  # shellcheck disable=SC1090
  source "$env"
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

# The process id in pid file $1 if that process runs and is ours: its command line
# names $2 (default: the cluster folder). A stale file naming a process id that has
# since gone to another program yields nothing.
pid_of() {
  local file="$1" marker="${2:-$DIR}" pid
  [[ -f "$file" ]] || return 1
  pid="$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)"
  [[ -n "$pid" ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  printf '%s\n' "$pid"
}

# Sends signal $2 to the process in pid file $1 (see pid_of for $3), if it runs.
signal_pidfile() {
  local pid
  pid="$(pid_of "$1" "${3:-}")" || return 0
  kill "-$2" "$pid" 2>/dev/null || true
}

# Whether the process in pid file $1 (see pid_of for $2) is alive.
pidfile_alive() {
  pid_of "$1" "${2:-}" >/dev/null
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
