#!/usr/bin/env bash
# The example client's check, run by .ci/run (and by hand, from any directory):
# install the pinned packages, regenerate src/gql/ and fail if it differs from what is
# committed, type-check and build, then run the program against a real Inkgraph server
# (embedded SQLite, offline LLM: no service needed) on a free loopback port, and again
# against one in trusted-documents mode that loads the manifest codegen wrote.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$here"

echo "== example client: npm ci (versions pinned by package-lock.json)"
npm ci --no-audit --no-fund

echo "== example client: codegen leaves src/gql/ as committed"
npm run --silent codegen
if ! git -C "$repo" diff --exit-code --stat -- examples/client/src/gql \
  || [ -n "$(git -C "$repo" status --porcelain -- examples/client/src/gql)" ]; then
  git -C "$repo" status --porcelain -- examples/client/src/gql
  echo "codegen changed examples/client/src/gql: run 'npm run codegen' in examples/client and commit the result" >&2
  exit 1
fi

echo "== example client: tsc"
npx tsc --noEmit
rm -rf dist
npx tsc

tmp=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== example client: build the server"
go -C "$repo" build -o "$tmp/inkgraph" ./cmd/inkgraph

# start_server NAME [VAR=value…] starts the server with a fresh data directory on a
# port the kernel picks, waits for /readyz and sets $url.
start_server() {
  local name=$1
  shift
  local data="$tmp/$name-data" log="$tmp/$name.log"
  mkdir -p "$data"
  env INKGRAPH_DATA_DIR="$data" INKGRAPH_ADDR=127.0.0.1:0 INKGRAPH_ADMIN_ADDR=off \
    INKGRAPH_BCRYPT_COST=4 "$@" \
    "$tmp/inkgraph" serve >"$log" 2>&1 &
  server_pid=$!
  local addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/.*"msg":"listening","addr":"\([^"]*\)".*/\1/p' "$log" | head -n 1)
    if [ -n "$addr" ] && curl -fsS "http://$addr/readyz" >/dev/null 2>&1; then
      url="http://$addr"
      echo "server ($name) ready at $url"
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  cat "$log" >&2
  echo "the server ($name) did not become ready" >&2
  exit 1
}

# run_client NAME ARGS… runs the program; when it fails, the server's last log lines
# follow its message.
run_client() {
  local name=$1
  shift
  if ! node dist/main.js "$url" "$@"; then
    echo "-- the server's ($name) last log lines:" >&2
    tail -n 40 "$tmp/$name.log" >&2
    exit 1
  fi
}

echo "== example client: against a server that runs any document, with a dev server's origin allowed"
dev_origin=http://localhost:5173
start_server open INKGRAPH_ALLOWED_ORIGINS="$dev_origin"
run_client open --origin="$dev_origin"
stop_server

echo "== example client: against a server in trusted-documents mode"
start_server trusted INKGRAPH_TRUSTED_DOCUMENTS="$here/src/gql/persisted-documents.json"
run_client trusted --trusted
stop_server
