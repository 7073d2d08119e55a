#!/usr/bin/env bash
# Sourced by scripts/dts and scripts/test: puts a Deno 2 on PATH, installing
# the npm package "deno" into .tools/ (git-ignored) when none is found.
# The npm package ships the real Deno binary; only the npm registry is needed.
dts_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q '^deno 2\.'; then
  if [ ! -x "$dts_root/.tools/node_modules/.bin/deno" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "dts: Deno is missing and npm is not here to install it; install Node.js (npm) or Deno 2" >&2
      exit 1
    fi
    echo "dts: installing Deno into .tools/ (npm install deno@2.9.6)" >&2
    mkdir -p "$dts_root/.tools"
    (cd "$dts_root/.tools" && npm install --silent --no-audit --no-fund --no-save deno@2.9.6 >&2) || {
      echo "dts: could not install Deno from the npm registry" >&2
      exit 1
    }
  fi
  export PATH="$dts_root/.tools/node_modules/.bin:$PATH"
fi
