#!/usr/bin/env bash
# Starts the local brokers the broker-transport tests use (NATS with JetStream, Redis, Mosquitto)
# when they are not already listening. Safe to run twice. Prints what it did; never fails the run
# by itself: a test that needs a broker that is still down fails with its own message.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.1; done; return 1; }

if up 4222; then echo "services: nats already on 4222"; elif command -v nats-server >/dev/null; then
  dir="${TMPDIR:-/tmp}/jit-nats-js"; mkdir -p "$dir"
  nohup nats-server -a 127.0.0.1 -p 4222 -js -sd "$dir" >"${TMPDIR:-/tmp}/jit-nats.log" 2>&1 &
  wait_up 4222 && echo "services: started nats on 4222" || echo "services: nats did not start (see ${TMPDIR:-/tmp}/jit-nats.log)"
else echo "services: nats-server is not installed"; fi

if up 6379; then echo "services: redis already on 6379"; elif command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_up 6379 && echo "services: started redis on 6379" || echo "services: redis did not start"
else echo "services: redis-server is not installed"; fi

if up 1883; then echo "services: mosquitto already on 1883"; elif command -v mosquitto >/dev/null; then
  conf=/etc/mosquitto/mosquitto.conf
  if [ -f "$conf" ]; then mosquitto -d -c "$conf"; else mosquitto -d; fi
  wait_up 1883 && echo "services: started mosquitto on 1883" || echo "services: mosquitto did not start"
else echo "services: mosquitto is not installed"; fi
exit 0
