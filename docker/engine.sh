#!/usr/bin/env bash
# docker/engine.sh start|stop STATE_FILE: make sure a Docker engine answers.
# start: when `docker info` fails, start Debian's dockerd as this machine
# allows it (--bridge=none --iptables=false --ip-masq=false: containers use
# --network host, no bridge is made), wait until it answers, and write its
# pid to STATE_FILE; an engine that answers already is used and left alone.
# A root caller without dockerd gets Debian's docker.io installed first.
# stop: stop the dockerd whose pid STATE_FILE holds, the one start started,
# and nothing else. Variables: DOCKER_CLI (docker), DOCKERD (dockerd),
# DOCKERD_FLAGS (the flags above), DOCKERD_LOG (STATE_FILE.log).
set -euo pipefail
DOCKER_CLI=${DOCKER_CLI:-docker}
DOCKERD=${DOCKERD:-dockerd}
DOCKERD_FLAGS=${DOCKERD_FLAGS:---bridge=none --iptables=false --ip-masq=false}
. "$(dirname "${BASH_SOURCE[0]}")/host-apt.sh"
cmd=${1:?usage: docker/engine.sh start|stop STATE_FILE}
state=${2:?usage: docker/engine.sh start|stop STATE_FILE}
log=${DOCKERD_LOG:-$state.log}
case $cmd in
start)
  if $DOCKER_CLI info >/dev/null 2>&1; then
    echo "docker engine: $($DOCKER_CLI version -f '{{.Server.Version}}' 2>/dev/null) answers; using it"
    exit 0
  fi
  [ "$(id -u)" = 0 ] || { echo "docker engine: none answers, and starting $DOCKERD needs root" >&2; exit 1; }
  if ! command -v "$DOCKERD" >/dev/null; then
    [ "$DOCKERD" = dockerd ] || { echo "docker engine: none answers and DOCKERD=$DOCKERD is not installed" >&2; exit 1; }
    echo "docker engine: none answers and dockerd is not installed: installing Debian's docker.io"
    apt_install docker.io || exit 1
  fi
  mkdir -p "$(dirname "$state")"
  # setsid: the engine outlives this script and make's process group, until stop.
  setsid "$DOCKERD" $DOCKERD_FLAGS >"$log" 2>&1 </dev/null &
  echo $! >"$state"
  for _ in $(seq 60); do
    if $DOCKER_CLI info >/dev/null 2>&1; then
      echo "docker engine: started $DOCKERD (pid $(cat "$state"), log $log)"
      exit 0
    fi
    kill -0 "$(cat "$state")" 2>/dev/null || break
    sleep 1
  done
  tail -n 5 "$log" >&2
  kill "$(cat "$state")" 2>/dev/null || true
  rm -f "$state"
  echo "docker engine: $DOCKERD did not answer within 60 s (above: the end of $log)" >&2
  exit 1
  ;;
stop)
  [ -f "$state" ] || exit 0
  pid=$(cat "$state")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    echo "docker engine: stopped the $DOCKERD it started (pid $pid)"
  fi
  rm -f "$state"
  ;;
*) echo "usage: docker/engine.sh start|stop STATE_FILE" >&2; exit 2 ;;
esac
