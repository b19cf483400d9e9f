#!/usr/bin/env bash
# Operates a cluster up.sh started (the folder in FUNDPASS_CLUSTER_DIR, or the last
# one made):
#
#   ctl.sh status             the PostgreSQL leader and which instances are ready
#   ctl.sh leader             the name of the PostgreSQL leader node (pg1 or pg2)
#   ctl.sh sync-standby       the name of the synchronous standby (empty if none)
#   ctl.sh kill-instance N    SIGKILL fundpass instance N (1..3)
#   ctl.sh start-instance N   start fundpass instance N and wait until it is ready
#   ctl.sh kill-leader        SIGKILL the leader node: its Patroni and its PostgreSQL
#                             (prints the node's name); the standby takes over
#   ctl.sh start-node pgN     start that node's Patroni again (it rejoins as standby)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
load_cluster

instance_number() {
  [[ "${1:-}" =~ ^[123]$ ]] || { echo "an instance is 1, 2 or 3" >&2; exit 2; }
  printf '%s' "$1"
}

case "${1:-}" in
  status)
    echo "postgres leader: $(pg_leader || echo unknown)"
    for n in 1 2 3; do
      if instance_ready "$n"; then echo "fundpass$n: ready"; else echo "fundpass$n: not ready"; fi
    done
    ;;
  leader)
    leader="$(pg_leader)" && [[ -n "$leader" ]] || { echo "no leader" >&2; exit 1; }
    echo "$leader"
    ;;
  sync-standby)
    standby="$(curl -fsS --max-time 1 "http://127.0.0.1:$PATRONI_PORT_1/cluster" 2>/dev/null ||
      curl -fsS --max-time 1 "http://127.0.0.1:$PATRONI_PORT_2/cluster")" || { echo "no Patroni answers" >&2; exit 1; }
    python3 -c 'import json,sys; m=[x["name"] for x in json.load(sys.stdin)["members"] if x["role"]=="sync_standby" and x["state"] in ("streaming","running")]; print(m[0] if m else "")' <<<"$standby"
    ;;
  kill-instance)
    n="$(instance_number "${2:-}")"
    signal_pidfile "$DIR/fundpass$n/serve.pid" KILL
    wait_for "! pidfile_alive '$DIR/fundpass$n/serve.pid'" 10
    ;;
  start-instance)
    n="$(instance_number "${2:-}")"
    if pidfile_alive "$DIR/fundpass$n/serve.pid"; then
      echo "fundpass$n is running" >&2
      exit 1
    fi
    start_instance "$n"
    wait_for "instance_ready $n" 60 || { echo "fundpass$n is not ready" >&2; exit 1; }
    ;;
  kill-leader)
    leader="$(pg_leader)" && [[ -n "$leader" ]] || { echo "no leader" >&2; exit 1; }
    # The whole node at once: Patroni, the postmaster and every PostgreSQL process
    # under it (a postmaster killed alone leaves its backends running for a while).
    postmaster="$(pid_of "$DIR/$leader/data/postmaster.pid" || true)"
    patroni="$(pid_of "$DIR/$leader/patroni.pid" || true)"
    children=()
    [[ -n "$postmaster" ]] && mapfile -t children < <(pgrep -P "$postmaster" || true)
    kill -KILL ${patroni:+"$patroni"} ${postmaster:+"$postmaster"} "${children[@]}" 2>/dev/null || true
    echo "$leader"
    ;;
  start-node)
    node="${2:-}"
    [[ "$node" == pg1 || "$node" == pg2 ]] || { echo "a node is pg1 or pg2" >&2; exit 2; }
    pidfile_alive "$DIR/$node/patroni.pid" && { echo "$node is running" >&2; exit 1; }
    start_patroni "${node#pg}"
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
