#!/usr/bin/env bash
# Browser tests: builds fundpass, starts it on a free port with a throw-away data
# folder and the demo members, and runs the Playwright tests (Debian's Chromium)
# against it. Screenshots and the server log go to e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing: apt-get install -y chromium" >&2
  exit 1
fi
# Without a CJK font the pages still work (the tests read the DOM), but the
# screenshots show boxes instead of Chinese: install a small one when we can.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; } ||
      echo "warning: no CJK font; screenshots will show boxes for Chinese text" >&2
  else
    echo "warning: no CJK font (apt-get install fonts-wqy-microhei); screenshots will show boxes for Chinese text" >&2
  fi
fi
npm ci --no-audit --no-fund --silent

(cd .. && cargo build --release --locked -p fundpass)
# Cargo ran in the repository's root: a relative CARGO_TARGET_DIR is relative to it.
bin="$(cd .. && realpath "${CARGO_TARGET_DIR:-target}")/release/fundpass"

artifacts="$PWD/artifacts"
rm -rf "$artifacts" && mkdir -p "$artifacts"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

"$bin" --data-dir "$data" serve --demo --bind "127.0.0.1:$port" >"$artifacts/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

# The staff console tests play the administrator: they create staff accounts and
# import members with the binary, on the server's data folder.
status=0
FUNDPASS_URL="http://127.0.0.1:$port" FUNDPASS_ARTIFACTS="$artifacts" \
  FUNDPASS_BIN="$bin" FUNDPASS_DATA_DIR="$data" npm test || status=$?

# What the server complained about during the run (refused forms, missing messages).
plain_log="$(sed 's/\x1b\[[0-9;]*m//g' "$artifacts/server.log")"
if grep -qE ' (WARN|ERROR) ' <<<"$plain_log"; then
  echo "server warnings and errors during the run (full log: $artifacts/server.log):"
  grep -E ' (WARN|ERROR) ' <<<"$plain_log" |
    sed -E 's/^[^ ]+ +//; s/ ?request_id=[0-9a-f-]+//' | sort | uniq -c | sort -rn | head -n 20
fi
exit "$status"
