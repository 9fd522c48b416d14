#!/usr/bin/env bash
# The container's health check: GET /health on pgbailiff's HTTP address (PGBAILIFF_HTTP); healthy
# when it answers 200. The JRE image has no curl or wget, so the request goes over bash's /dev/tcp.
set -u

http=${PGBAILIFF_HTTP:-127.0.0.1:9187}
if [ "$http" = off ]; then
  # no HTTP endpoint to ask: a running container is all there is to know
  exit 0
fi

port=${http##*:}
host=${http%:*}
[ "$host" = "$http" ] && host=
host=${host#[}
host=${host%]}
case $host in
  '' | 0.0.0.0 | '*' | ::) host=127.0.0.1 ;;
esac

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
status=
IFS= read -r -t 4 status <&3
# read the rest until the server closes, so that it never sees its answer cut off by a reset
while IFS= read -r -t 2 _ <&3; do :; done
exec 3<&-
case $status in
  HTTP/*' 200 '* | HTTP/*' 200'$'\r' | HTTP/*' 200') exit 0 ;;
esac
echo "pgbailiff /health at $host:$port answered: ${status:-nothing}" >&2
exit 1
