#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine that has Node.js and npm: the system tools dit's tests use,
# pnpm, the workspace's packages and the build. Then runs the main job on a real program.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=''
if [ "$(id -u)" != 0 ]; then sudo='sudo'; fi

# gcc/musl-tools build test fixtures and dit.tar's launcher; binutils' readelf and pax-utils'
# lddtree are oracles and peers; strace traces; util-linux's unshare isolates verification runs;
# time measures peak memory in benchmarks; curl, tzdata and ca-certificates are programs and data
# the export tests copy; podman/buildah/runc build the test images from a debootstrap'ed base; the
# JVM is the case of a library loaded by path before those that need it (libjvm.so); nginx and
# Flask on gunicorn are the servers of the service benchmark (bench/service.mjs).
packages=(gcc libc6-dev binutils musl-tools pax-utils strace time patchelf python3 util-linux curl tzdata
  ca-certificates debootstrap podman buildah runc uidmap skopeo umoci openjdk-17-jre-headless
  nginx gunicorn python3-flask
  # @dit/native builds offline from the Rust crates Debian packages (crates.io is not reachable).
  librust-sha2-dev librust-rayon-dev librust-libc-dev)
command -v cargo >/dev/null || packages+=(cargo)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  echo "setup: installing pnpm $want_pnpm" >&2
  npm install -g --silent "pnpm@$want_pnpm" >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm build --output-logs=errors-only

# The main job, on a real program: export what `getent passwd root` needs into a fresh folder,
# prove it runs there, and show the libraries its loader would load.
demo=$(mktemp -d)
node_modules/.bin/dit export --path "$demo/export" --report "$demo/report.json" -- getent passwd root
node_modules/.bin/dit deps "$(command -v getent)"
rm -rf "$demo"
