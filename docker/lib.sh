# docker/lib.sh: shared by docker/build.sh and docker/test.sh (sourced).
DOCKER_CLI=${DOCKER_CLI:-docker}
OUT_DIR=${DOCKER_OUT:-build/docker}

# suite_base SUITE: the official base image each suite builds on by default.
suite_base() {
  case $1 in
    bookworm) echo "${DEBIAN12:-debian:12.15}" ;;
    trixie) echo "${DEBIAN13:-debian:13.8}" ;;
    *) echo "docker: unknown suite $1 (bookworm, trixie)" >&2; return 1 ;;
  esac
}
suite_name() { case $1 in bookworm) echo debian12 ;; trixie) echo debian13 ;; esac; }

# resolve_base SUITE: print the base to build on: the official one when it is
# here or can be pulled, else ludvae-base:SUITE (made by docker/base.sh when
# missing, which needs root and debootstrap).
resolve_base() {
  local suite=$1 official err
  official=$(suite_base "$suite") || return 1
  if $DOCKER_CLI image inspect "$official" >/dev/null 2>&1; then echo "$official"; return; fi
  if err=$(timeout 120 $DOCKER_CLI pull -q "$official" 2>&1); then echo "$official"; return; fi
  echo "docker: $official cannot be pulled ($(tail -n 1 <<<"$err" | sed 's/^Error response from daemon: //' | cut -c1-160)); using ludvae-base:$suite from Debian's archive" >&2
  if ! $DOCKER_CLI image inspect "ludvae-base:$suite" >/dev/null 2>&1; then
    "$(dirname "${BASH_SOURCE[0]}")/base.sh" "$suite" >&2 || return 1
  fi
  echo "ludvae-base:$suite"
}

# docker_build ARGS...: `docker build` with BuildKit (stages a target does
# not need are skipped; BuildKit reads Dockerfile.*.dockerignore): through
# buildx when the client has it, else a client that has BuildKit built in
# (Docker before 23, e.g. Debian 12's docker.io at /usr/bin/docker).
docker_build() {
  if $DOCKER_CLI buildx version >/dev/null 2>&1; then
    $DOCKER_CLI buildx build --load "$@"
    return
  fi
  local cli=$DOCKER_CLI v
  v=$($cli version -f '{{.Client.Version}}' 2>/dev/null || echo 0)
  if [ "${v%%.*}" -ge 23 ] 2>/dev/null; then
    if [ -x /usr/bin/docker ] && v=$(/usr/bin/docker version -f '{{.Client.Version}}' 2>/dev/null) && [ "${v%%.*}" -lt 23 ]; then
      cli=/usr/bin/docker
    else
      echo "docker: $DOCKER_CLI $v has no buildx: install docker-buildx (BuildKit)" >&2
      return 1
    fi
  fi
  DOCKER_BUILDKIT=1 $cli build "$@"
}

# human SECONDS: 1 min 05 s
human() { local s=$1; if [ "$s" -ge 60 ]; then printf '%d min %02d s' $((s / 60)) $((s % 60)); else printf '%d s' "$s"; fi; }
# image_size TAG: its size in MB, as `docker images` counts it
image_size() { $DOCKER_CLI image inspect -f '{{.Size}}' "$1" 2>/dev/null | awk '{ printf "%.0f MB", $1 / 1e6 }'; }
