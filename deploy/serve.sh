#!/bin/sh
# Starts `batchgen serve` from the source folder with the narrowest Deno
# permissions this configuration needs, computed from the same environment
# variables BatchGen reads (README, Configuration). batchgen.service and the
# Dockerfile start BatchGen through it, and so do tests/e2e/caddy_test.ts
# and nginx_test.ts.
#
#   net    listen on HOST:PORT; connect only to the Gemini API host, and to
#          the libSQL server and S3 endpoint when those are configured
#   read   the source folder (code, static files, migrations, node_modules),
#          the data dir, the TLS files and a file: database outside the data dir
#   write  the data dir (and a file: database's folder)
#   run    this Deno binary only (the generator child, engine/runner.ts)
#   ffi    node_modules only (libSQL's native module)
#   sys    hostname, memory, cpus, network interfaces, statfs (the instance id,
#          the default BATCHGEN_MAX_RUNNING, libSQL's loader, /readyz's free disk)
#   env    all: BatchGen reads its whole configuration from it
#
# Extra variables, read only here:
#   BATCHGEN_DENO        the deno binary (default: `deno` on PATH)
#   BATCHGEN_EXTRA_NET   more hosts to connect to, comma-separated
# `deploy/serve.sh --print` (or BATCHGEN_PRINT_ONLY=1) prints the command
# instead of running it.
set -eu

print_only=${BATCHGEN_PRINT_ONLY:-0}
if [ "${1:-}" = "--print" ]; then print_only=1; fi

app_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)

deno_bin=${BATCHGEN_DENO:-$(command -v deno || true)}
if [ -z "$deno_bin" ]; then
  echo "Cannot start BatchGen: no deno on PATH (set BATCHGEN_DENO)" >&2
  exit 2
fi
# The binary itself, as Deno.execPath() names it (not a symlink, nor npm's
# bin.cjs shim): --allow-run is checked against that path.
deno_bin=$("$deno_bin" eval --no-config 'console.log(Deno.execPath())')

# An absolute path, as config.ts resolves it (against the working directory).
absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd -P)" "${1#./}" ;;
  esac
}

# host[:port] of a URL.
url_host() {
  printf '%s\n' "$1" | sed -E 's#^[A-Za-z][A-Za-z0-9+.-]*://##; s#[/?#].*$##; s#^.*@##'
}

host=${HOST:-127.0.0.1}
port=${PORT:-8000}
case "$host" in
  *:*) case "$host" in \[*) ;; *) host="[$host]" ;; esac ;;
esac
data_dir=$(absolute "${BATCHGEN_DATA_DIR:-./data}")

net="$host:$port"
net="$net,$(url_host "${BATCHGEN_GEMINI_BASE_URL:-https://generativelanguage.googleapis.com}")"
read_paths="$app_dir,$data_dir"
write_paths="$data_dir"

database_url=${BATCHGEN_DATABASE_URL:-}
case "$database_url" in
  libsql:* | http:* | https:* | ws:* | wss:*)
    net="$net,$(url_host "$database_url")"
    ;;
  file:*)
    db_dir=$(dirname -- "$(absolute "${database_url#file:}")")
    read_paths="$read_paths,$db_dir"
    write_paths="$write_paths,$db_dir"
    ;;
esac

if [ -n "${BATCHGEN_STORAGE_URL:-}" ]; then
  if [ -n "${BATCHGEN_S3_ENDPOINT:-}" ]; then
    net="$net,$(url_host "$BATCHGEN_S3_ENDPOINT")"
  else
    region=${BATCHGEN_S3_REGION:-us-east-1}
    bucket=$(printf '%s\n' "$BATCHGEN_STORAGE_URL" | sed -E 's#^s3://##; s#/.*$##')
    net="$net,s3.$region.amazonaws.com,$bucket.s3.$region.amazonaws.com"
  fi
fi

for tls_file in "${BATCHGEN_TLS_CERT_FILE:-}" "${BATCHGEN_TLS_KEY_FILE:-}"; do
  if [ -n "$tls_file" ]; then read_paths="$read_paths,$(absolute "$tls_file")"; fi
done

if [ -n "${BATCHGEN_EXTRA_NET:-}" ]; then net="$net,$BATCHGEN_EXTRA_NET"; fi

set -- "$deno_bin" run \
  --no-prompt \
  --cached-only \
  --config="$app_dir/deno.json" \
  --allow-net="$net" \
  --allow-read="$read_paths" \
  --allow-write="$write_paths" \
  --allow-env \
  --allow-sys=hostname,systemMemoryInfo,cpus,networkInterfaces,statfs,setPriority \
  --allow-ffi="$app_dir/node_modules" \
  --allow-run="$deno_bin" \
  "$app_dir/main.ts" serve

if [ "$print_only" = 1 ]; then
  printf '%s\n' "$*"
  exit 0
fi
exec "$@"
