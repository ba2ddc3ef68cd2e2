#!/usr/bin/env bash
# Start the local servers the integration tests talk to, if one is down.
# Each check is a real connection attempt on 127.0.0.1; each start command is the one our
# machines use (see shared/ARCHITECTURE.md §4). A server that cannot be started makes its
# tests fail with a message naming it, so nothing is skipped silently.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 150); do port_open "$port" && return 0; sleep 0.2; done
  echo "ensure-services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

ensure() {
  local name=$1 port=$2; shift 2
  if port_open "$port"; then return 0; fi
  echo "ensure-services: starting $name"
  "$@" >/dev/null 2>&1 || echo "ensure-services: could not start $name with: $*" >&2
  wait_port "$name" "$port"
}

status=0
ensure postgresql 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
ensure mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || status=1
ensure redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || status=1
ensure rabbitmq 5672 rabbitmq-server -detached || status=1
ensure mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf || status=1
ensure nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
exit $status
