#!/bin/bash
# The image's HEALTHCHECK (installed as /usr/local/bin/dts-readyz): exit 0 when
# the worker's GET /readyz answers 200 (connected to the broker and consuming).
# The runtime image has no curl; bash's /dev/tcp is enough for one request.
# It asks the port the worker serves on (DTS_HEALTH_PORT, default 8080) and the
# address it listens on (DTS_HEALTH_HOST), 127.0.0.1 when that is all interfaces.
port=${DTS_HEALTH_PORT:-8080}
host=${DTS_HEALTH_HOST:-0.0.0.0}
case "$host" in 0.0.0.0 | "::" | "[::]") host=127.0.0.1 ;; esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 2 status_line <&3 || exit 1
case "$status_line" in
"HTTP/1."?" 200 "*) exit 0 ;;
*)
  # The last line of the answer is its body: the reason it is not ready.
  reason=""
  while IFS= read -r -t 1 line; do reason=$line; done <&3
  [ -n "$line" ] && reason=$line # a body without a final newline
  echo "dts-readyz: ${status_line%$'\r'}: ${reason%$'\r'}" >&2
  exit 1
  ;;
esac
