#!/bin/bash
# Run in the Containerfile's build stage, from /opt/dts (the project's files,
# Deno and a filled DENO_DIR are there already): make the program as DTS_BUILD
# says and lay out the runtime image's whole filesystem under DEST. The runtime
# stage is FROM scratch and copies DEST to /, so what is not put here is not in
# the image: no package manager, no tools but bash, little to keep patched.
#   compile  dist/dts from `deno task compile` (needs denort, see Containerfile)
#   run      deno + the sources + the npm packages, behind a generated wrapper
# Usage: build_program.sh compile|run DEST
set -euo pipefail
mode=$1
dest=$2
app=/opt/dts # where the run mode's sources live, in this stage and in the image

case "$mode" in
compile)
  target=$(deno eval --quiet 'console.log(Deno.build.target)')
  version=$(deno eval --quiet 'console.log(Deno.version.deno)')
  if [ -n "${DENORT_BIN:-}" ]; then
    echo "build: DENORT_BIN=$DENORT_BIN stands in for denort (a smoke check: dts will not run)" >&2
  else
    unset DENORT_BIN # an empty DENORT_BIN would be taken as a path
    zip="$DENO_DIR/dl/release/v$version/denort-$target.zip"
    if [ ! -f "$zip" ]; then
      echo "build: deno compile needs denort for Deno $version, and the build has no network." >&2
      echo "build: put denort-$target.zip into .cache/image-build/deno_dir/dl/release/v$version/" >&2
      echo "build: (scripts/prepare-image-build copies it from DTS_DENORT_ZIP or your DENO_DIR)," >&2
      echo "build: or build with --build-arg DTS_BUILD=run" >&2
      exit 1
    fi
  fi
  deno task compile
  install -D -m 755 dist/dts "$dest/usr/local/bin/dts"
  binaries=("$dest/usr/local/bin/dts")
  ;;
run)
  install -d "$dest$app/bin" "$dest$app/deno_dir"
  install -m 755 "$(command -v deno)" "$dest$app/bin/deno"
  cp -a deno.json deno.lock src plugins config "$dest$app/"
  # Only the packages; the analysis caches deno writes beside them are rebuilt on use.
  cp -a "$DENO_DIR/npm" "$dest$app/deno_dir/"
  install -d "$dest/usr/local/bin"
  deno run --quiet --allow-read=deno.json scripts/container/run_mode_wrapper.ts "$app" \
    >"$dest/usr/local/bin/dts"
  chmod 755 "$dest/usr/local/bin/dts"
  binaries=("$dest$app/bin/deno")
  ;;
*)
  echo "build: DTS_BUILD must be compile or run, not \"$mode\"" >&2
  exit 2
  ;;
esac

install -m 755 scripts/container/readyz_probe.sh "$dest/usr/local/bin/dts-readyz"
# The wrapper and the probe are bash scripts.
install -D -m 755 /bin/bash "$dest/bin/bash"

# Each executable's shared libraries (glibc, libgcc_s, …), at the paths ldd
# resolves them to, so the dynamic loader finds them as it does here.
for exe in "$dest/bin/bash" "${binaries[@]}"; do
  ldd "$exe" | grep -o '/[^ ]*' | while read -r lib; do
    install -D -m 755 "$(readlink -f "$lib")" "$dest$lib"
  done
done

# A non-root user whose home is the working folder (results/ lives there).
install -d -m 1777 "$dest/tmp"
install -d "$dest/etc"
install -d -o 10001 -g 10001 -m 755 "$dest/home/dts" "$dest/home/dts/results"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ndts:x:10001:10001:dts:/home/dts:/usr/sbin/nologin\n' \
  >"$dest/etc/passwd"
printf 'root:x:0:\ndts:x:10001:\n' >"$dest/etc/group"
# Names: /etc/hosts first (the container's own name), then DNS (compose's service names).
printf 'hosts: files dns\n' >"$dest/etc/nsswitch.conf"

