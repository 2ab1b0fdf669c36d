# docker/host-apt.sh: apt_install PACKAGE..., for the scripts that set up
# this machine's Docker engine and base images (sourced; root only):
# installs the packages from the host's own apt sources, updating the lists
# first, and names what failed in one line.
apt_install() {
  local log
  log=$(mktemp)
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } >"$log" 2>&1; then
    tail -n 8 "$log" >&2
    rm -f "$log"
    echo "apt: installing $* on this machine failed (above: the end of apt's output)" >&2
    return 1
  fi
  rm -f "$log"
}
