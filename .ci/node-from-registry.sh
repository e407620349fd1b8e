#!/usr/bin/env bash
# Provides Node.js VERSION from the npm registry (the node-<os>-<arch> packages carry the
# official binary) in a cache outside the repository, and prints the directory holding
# `node`, for `PATH="$(...):$PATH"`. Used by .ci/run to run the unit suite on the Node line
# the image ships (Dockerfile, ARG NODE_IMAGE), whatever Node the machine has.
set -euo pipefail
version=${1:?usage: node-from-registry.sh VERSION (e.g. 24.21.0)}
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "node-from-registry: unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "node-from-registry: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
dir=${PRACTICE_GATE_CACHE:-${HOME:?HOME is not set}/.cache/practice-gate}/node/v$version-$os-$arch
bin=$dir/node_modules/node-$os-$arch/bin
if ! [[ -x $bin/node && $("$bin/node" --version 2>/dev/null) == "v$version" ]]; then
  echo "node-from-registry: installing node-$os-$arch@$version into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-$os-$arch@$version" >&2
fi
printf '%s\n' "$bin"
