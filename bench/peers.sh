#!/usr/bin/env bash
# Sets up the peers that bench/compare measures berth against, on a Debian machine as root.
# Idempotent: every step checks first and does nothing when already done.
#
#   bench/peers.sh install        install the peers (podman, crun, runc, podman-compose, docker.io,
#                                 docker-compose) and make podman and crun usable on this host
#   bench/peers.sh dockerd-start  start dockerd in the background (no flags), wait for its socket;
#                                 prints "started" or "running"; exits 1 when it cannot start
#   bench/peers.sh dockerd-stop   stop the dockerd that dockerd-start started (and its containerd)
#
# Never part of CI: compare calls it only when not --smoke.
set -euo pipefail

DOCKER_PIDFILE=/run/berth-bench-dockerd.pid
DOCKER_LOG=/tmp/berth-bench-dockerd.log
DOCKER_SOCK=/var/run/docker.sock
DOCKER_BEFORE=/run/berth-bench-dockerd.before  # what the host looked like before we started it

log() { echo "peers: $*" >&2; }

install_packages() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v crun >/dev/null 2>&1 || need+=(crun)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v podman-compose >/dev/null 2>&1 || need+=(podman-compose)
  # podman 4 picks netavark when it is installed and no CNI config exists.
  command -v netavark >/dev/null 2>&1 || [ -x /usr/lib/podman/netavark ] || need+=(netavark aardvark-dns)
  [ -x /usr/sbin/dockerd ] || need+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  if [ ${#need[@]} -eq 0 ]; then
    return 0
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# podman (as root) asks the runtime for RLIMIT_NOFILE 1048576 and a large RLIMIT_NPROC unless told
# otherwise; without CAP_SYS_RESOURCE a hard limit cannot be raised (setrlimit(2): EPERM), so every
# container would fail to start. Pin the defaults to what conmon can pass on: the hard limits, and
# for nproc no more than kernel.pid_max (conmon runs with RLIMIT_NPROC capped there on this host).
configure_podman_ulimits() {
  local conf=/etc/containers/containers.conf
  local nofile nproc pidmax line
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  pidmax=$(cat /proc/sys/kernel/pid_max)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ] && nproc=$pidmax
  line="default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]  # berth bench/peers.sh"
  mkdir -p /etc/containers
  touch "$conf"
  if grep -qF "$line" "$conf"; then
    return 0
  fi
  if grep -q '^[[:space:]]*default_ulimits' "$conf"; then
    if ! grep -q '^[[:space:]]*default_ulimits.*# berth bench/peers.sh' "$conf" &&
      ! grep -q '^default_ulimits = \["nofile=[0-9]*:[0-9]*", "nproc=[0-9]*:[0-9]*"\]$' "$conf"; then
      log "$conf already sets default_ulimits; leaving it as it is"
      return 0
    fi
    sed -i '/^[[:space:]]*default_ulimits/d' "$conf"
  fi
  if grep -q '^\[containers\]' "$conf"; then
    sed -i "/^\[containers\]/a $line" "$conf"
  else
    printf '\n[containers]\n%s\n' "$line" >>"$conf"
  fi
  log "set podman default_ulimits nofile=$nofile nproc=$nproc in $conf"
}

# This host is cgroup v1 hybrid: a cgroup2 mount at /sys/fs/cgroup/unified holds only hugetlb.
# crun then finds no hugetlb v1 hierarchy and fails to create the container's cgroup; mounting
# hugetlb as a v1 hierarchy (cgroups(7): a controller is free to move while unused in v2) fixes it.
mount_hugetlb_v1() {
  local dir=/sys/fs/cgroup/hugetlb
  if grep -qE '^[^ ]+ /sys/fs/cgroup/hugetlb cgroup ' /proc/mounts; then
    return 0
  fi
  [ -d /sys/fs/cgroup/cpu ] || return 0 # pure v2 host: nothing to do
  mkdir -p "$dir"
  if mount -t cgroup -o hugetlb cgroup "$dir"; then
    log "mounted hugetlb as a cgroup v1 hierarchy at $dir"
  else
    log "could not mount hugetlb v1 at $dir (crun may fail to create cgroups)"
  fi
}

dockerd_start() {
  if [ ! -x /usr/sbin/dockerd ]; then
    log "dockerd is not installed"
    return 1
  fi
  if [ -S "$DOCKER_SOCK" ] && /usr/bin/docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; then
    echo running
    return 0
  fi
  # Remember what dockerd will change on the host, so dockerd-stop can put it back.
  {
    echo "forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '/^-P FORWARD/ {print $3}')"
    if ip link show docker0 >/dev/null 2>&1; then echo "docker0=existed"; else echo "docker0=new"; fi
  } >"$DOCKER_BEFORE"
  # No flags, as a user would run it; its containerd is started by dockerd itself.
  setsid /usr/sbin/dockerd >"$DOCKER_LOG" 2>&1 </dev/null &
  echo $! >"$DOCKER_PIDFILE"
  local i
  for i in $(seq 1 120); do
    if [ -S "$DOCKER_SOCK" ] && /usr/bin/docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; then
      echo started
      return 0
    fi
    if ! kill -0 "$(cat "$DOCKER_PIDFILE")" 2>/dev/null; then
      break
    fi
    sleep 0.25
  done
  log "dockerd did not come up; last lines of $DOCKER_LOG:"
  tail -n 15 "$DOCKER_LOG" >&2 || true
  dockerd_stop
  return 1
}

dockerd_stop() {
  [ -f "$DOCKER_PIDFILE" ] || return 0
  local pid i
  pid=$(cat "$DOCKER_PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DOCKER_PIDFILE" "$DOCKER_LOG"
  restore_host_network
  log "dockerd stopped"
}

# dockerd sets the FORWARD policy to DROP (and br_netfilter sends bridged traffic through it),
# adds DOCKER* chains and a docker0 bridge. Left behind, the DROP policy would cut traffic
# between containers on every other bridge of this machine (berth's tests included), so undo
# exactly those changes: the policy as it was, docker's own rules and chains, docker0 if new.
restore_host_network() {
  [ -f "$DOCKER_BEFORE" ] || return 0
  local policy docker0 table rule chain
  policy=$(sed -n 's/^forward_policy=//p' "$DOCKER_BEFORE")
  docker0=$(sed -n 's/^docker0=//p' "$DOCKER_BEFORE")
  if command -v iptables >/dev/null 2>&1; then
    for table in filter nat; do
      iptables -t "$table" -S 2>/dev/null | grep -E '^-A ' | grep -E 'DOCKER|docker0' |
        grep -vE '^-A DOCKER' | sed 's/^-A /-D /' | while read -r rule; do
          eval "iptables -t $table $rule" 2>/dev/null || true
        done
      for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N DOCKER/ {print $2}'); do
        iptables -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N DOCKER/ {print $2}'); do
        iptables -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
    [ -n "$policy" ] && iptables -P FORWARD "$policy"
  fi
  if [ "$docker0" = new ]; then
    ip link del docker0 2>/dev/null || true
  fi
  rm -f "$DOCKER_BEFORE"
}

case "${1:-install}" in
  install)
    install_packages
    configure_podman_ulimits
    mount_hugetlb_v1
    ;;
  dockerd-start) dockerd_start ;;
  dockerd-stop) dockerd_stop ;;
  restore-network) restore_host_network ;;
  *)
    echo "usage: $0 [install|dockerd-start|dockerd-stop]" >&2
    exit 2
    ;;
esac
