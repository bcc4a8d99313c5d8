#!/usr/bin/env bash
# Remote benchmark: Drover between two SSH hosts against rsync over ssh,
# both served by two sshd this script starts on 127.0.0.1 high ports (the
# sshd_config of internal/sshtest) and stops on exit. Without the remote
# agent every byte goes through SFTP; with it, fs2's machine hashes the
# drive and only the changed blocks cross (the script prints which).
#   1. a replication set's first sync of a tree of FILES small files
#      (20,000) and LARGE large ones (1 x 128 MiB), fs1 -> fs2, against
#      `rsync -a --delete -e ssh` into fs2 (RUNS times, each into emptied
#      targets); the same first sync with Drover on fs1 (first-local:
#      fs1 a host of the machine running Drover, one SSH hop as rsync's,
#      where the other rows cross two, fs1 -> Drover -> fs2); then the
#      incremental sync after 1% of the small files and 1 MiB of a large
#      file changed;
#   2. an incremental drive_copy of a SIZE_MIB (4096) MiB image on fs2
#      after 1% of it changed in scattered 64 KiB regions, against `rsync
#      --inplace --no-whole-file -e ssh` of the same image into fs2. As in
#      bench/drives.sh, refresh = "quick": plan does not hash the source,
#      which the copy then hashes once (on fs2 with the agent, else here,
#      every byte read through SFTP).
# Each case prints the best of RUNS (3): wall and CPU seconds (user +
# system of the tool and its children: drover's plugins, rsync's ssh; not
# sshd's), and drover / rsync. Drover reads fs1 over SFTP too; rsync
# reads the source here directly, as when it runs on fs1. Then one more
# incremental run of each (and one more first sync of the set) under
# DROVER_CPUPROFILE, and the top of the plugin's profile: where the time
# goes.
#
# PROFILE_AGENTS=1 profiles the agents too (their sshd gives them
# DROVER_CPUPROFILE), and prints the top of each agent's profile of the
# profiled runs: profiling slows every run a little.
#
# CASES (replication drive) selects the cases to run. BASE=FILE, a drover
# binary of another build, runs each case with it too, taking turns with
# this build in the same runs (the machine's load changes between two
# benchmarks): its rows are first-base, incr-base and drive-base, against
# the same rsync runs.
#
#   bench/remote.sh
#   FILES=2000 SIZE_MIB=512 RUNS=1 bench/remote.sh   # a quick run
#   CASES=drive bench/remote.sh                      # the drive copy only
#   DELAY=10ms CASES=replication bench/remote.sh     # over 20 ms round trips
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/remote}
files=${FILES:-20000}
large=${LARGE:-1}
large_mib=${LARGE_MIB:-128}
size_mib=${SIZE_MIB:-4096}
runs=${RUNS:-3}
cases=" ${CASES:-replication drive} "

for tool in rsync:rsync /usr/bin/time:time sshd:openssh-server ssh:openssh-client; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
source bench/trash.sh
toss "$out"
mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover
go build -o "$out/tree" bench/replication_tree.go
work=$out/work
keys=$out/keys
mkdir -p "$work/fs1/srv" "$work/fs2" "$keys"

# Two sshd, as internal/sshtest starts them; stopped by pid on exit.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$keys/id_ed25519"
cp "$keys/id_ed25519.pub" "$keys/authorized_keys"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$trash"
  sync
}
trap stop EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A port hostkey
for name in fs1 fs2; do
  ssh-keygen -q -t ed25519 -N '' -f "$keys/host_$name"
  port[$name]=$(free_port)
  cat >"$keys/sshd_$name.conf" <<CONF
ListenAddress 127.0.0.1:${port[$name]}
HostKey $keys/host_$name
PidFile $keys/sshd_$name.pid
AuthorizedKeysFile $keys/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
MaxSessions 32
Subsystem sftp internal-sftp
CONF
  if [[ -n ${PROFILE_AGENTS:-} ]]; then
    echo "SetEnv DROVER_CPUPROFILE=$out/cpu.$name" >>"$keys/sshd_$name.conf"
  fi
  /usr/sbin/sshd -D -e -f "$keys/sshd_$name.conf" 2>"$out/sshd_$name.log" &
  pids+=($!)
  hostkey[$name]=$(cut -d' ' -f1-2 "$keys/host_$name.pub")
  echo "[127.0.0.1]:${port[$name]} ${hostkey[$name]}" >>"$keys/known_hosts"
done
# Wait (with a deadline) for each to answer with its banner.
for name in fs1 fs2; do
  for i in $(seq 300); do
    if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/${port[$name]} && head -c 7 <&3" 2>/dev/null | grep -q SSH-2.0; then break; fi
    if ((i == 300)); then echo "sshd for $name did not start: $(cat "$out/sshd_$name.log")" >&2; exit 1; fi
    sleep 0.1
  done
done
# DELAY (a Go duration, e.g. 10ms) puts a proxy in front of each sshd that
# holds every chunk that long in each direction (bench/delay_proxy.go):
# Drover and rsync then reach the machines over a link with round trips of
# twice DELAY, as over a network, where loopback has none.
declare -A reach
for name in fs1 fs2; do reach[$name]=${port[$name]}; done
if [[ -n ${DELAY:-} ]]; then
  go build -o "$out/delay_proxy" bench/delay_proxy.go
  for name in fs1 fs2; do
    "$out/delay_proxy" 127.0.0.1:0 "127.0.0.1:${port[$name]}" "$DELAY" >"$out/proxy_$name.addr" 2>"$out/proxy_$name.log" &
    pids+=($!)
    for i in $(seq 300); do
      if [[ -s $out/proxy_$name.addr ]]; then break; fi
      if ((i == 300)); then echo "the proxy for $name did not start: $(cat "$out/proxy_$name.log")" >&2; exit 1; fi
      sleep 0.1
    done
    addr=$(head -1 "$out/proxy_$name.addr")
    reach[$name]=${addr##*:}
    echo "[127.0.0.1]:${reach[$name]} ${hostkey[$name]}" >>"$keys/known_hosts"
  done
fi
rsh="ssh -p ${reach[fs2]} -i $keys/id_ed25519 -o UserKnownHostsFile=$keys/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes"

# hosts [LOCAL]: the two hosts; LOCAL (fs1) is the machine running Drover,
# as when Drover runs on the source's server, where rsync runs.
hosts() {
  for name in fs1 fs2; do
    if [[ $name == "${1:-}" ]]; then
      printf 'host "%s" {\n  root = "%s"\n}\n\n' "$name" "$work/$name"
      continue
    fi
    cat <<HCL
host "$name" {
  address       = "127.0.0.1:${reach[$name]}"
  identity_file = "$keys/id_ed25519"
  host_key      = "${hostkey[$name]}"
  root          = "$work/$name"
}

HCL
  done
}

# timed CMD...: runs CMD; prints its wall and CPU seconds (user + system,
# children included).
timed() {
  if ! /usr/bin/time -f '%e %U %S' -o "$out/time" "$@" >"$out/last.log" 2>&1; then
    echo "failed: $* (see $out/last.log)" >&2
    tail -5 "$out/last.log" >&2
    exit 1
  fi
  awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$out/time"
}
# best RESULTS...: the least wall and the least CPU of "wall cpu" pairs.
best() {
  printf '%s\n' "$@" | awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < c { c = $2 } END { printf "%.3f %.3f", w, c }'
}
# row CASE DROVER RSYNC NOTE: prints a case's best figures and ratios.
row() {
  read -r dw dc <<<"$2"
  read -r rw rc <<<"$3"
  printf '%-14s %8.2f %8.2f %8.2f %8.2f %6.2f %6.2f  %s\n' "$1" "$dw" "$rw" "$dc" "$rc" \
    "$(awk "BEGIN { print $dw / $rw }")" "$(awk "BEGIN { print $dc / $rc }")" "$4"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
# profile DIR NAME: one more apply in DIR under DROVER_CPUPROFILE, and
# the top of its plugin's profile.
profile() {
  rm -f "$out"/cpu.fs[12].agent-*
  DROVER_CPUPROFILE="$out/cpu.$2" "$out/drover" --chdir="$1" apply --auto-approve >"$out/last.log" 2>&1
  # An agent writes its profile as it exits, after the apply's end.
  for i in $(seq 100); do
    empty=$(find "$out" -maxdepth 1 -name 'cpu.fs[12].agent-*' -empty | wc -l)
    ((empty == 0)) && break
    sleep 0.1
  done
  for p in "$out/cpu.$2".plugin-* "$out"/cpu.fs[12].agent-*; do
    [[ -e $p ]] || continue
    echo "--- $2: $(basename "$p") (go tool pprof -top $p)"
    go tool pprof -top -cum -nodecount=25 "$p" 2>/dev/null | sed -n "2,32p"
  done
}
# both DIR RSYNC...: runs drover's apply in DIR and rsync, taking turns at
# going first; sets d and r. Each starts with nothing dirty in the page
# cache (drover syncs what it wrote, rsync does not).
turn=0
both() {
  local dir=$1
  shift
  if ((turn++ % 2 == 0)); then
    sync
    d=$(timed "$out/drover" --chdir="$dir" apply --auto-approve)
    sync
    r=$(timed "$@")
  else
    sync
    r=$(timed "$@")
    sync
    d=$(timed "$out/drover" --chdir="$dir" apply --auto-approve)
  fi
}

echo "(machine: $(nproc) cores, load $(load) before; sshd on 127.0.0.1:${port[fs1]} and :${port[fs2]}${DELAY:+, reached through proxies delaying each direction by $DELAY})"
printf '%-14s %8s %8s %8s %8s %6s %6s  %s\n' case drover_s rsync_s drover_c rsync_c wall cpu "s = wall seconds, c = CPU seconds; ratios drover / rsync"

profiles=
# 1. Replication.
if [[ $cases == *" replication "* ]]; then
rep=$work/replication
mkdir -p "$rep"
set_hcl() {
  cat <<'HCL'
resource "replication_set" "bench" {
  source {
    host = host.fs1
    path = "/srv/set"
  }
  target {
    host = host.fs2
    path = "/replica"
  }
  delete_orphans = true
}
HCL
}
{ hosts; set_hcl; } >"$rep/main.dr.hcl"
# The same set with Drover on fs1 (first-local): one SSH hop, as rsync's.
replocal=$work/replication-local
mkdir -p "$replocal"
{ hosts fs1; set_hcl; } >"$replocal/main.dr.hcl"
src=$work/fs1/srv/set
echo "making $files files and $large x $large_mib MiB..." >&2
"$out/tree" create "$src" "$files" "$large" "$large_mib"
mirror_rsync=(rsync -a --delete -e "$rsh" "$src/" "root@127.0.0.1:$work/fs2/rsync/")
if [[ -n ${BASE:-} ]]; then
  # Its agent is uploaded here, not in a timed run.
  "$BASE" --chdir="$rep" plan >"$out/last.log" 2>&1 || true
fi
# base_turn before|after PREPARE...: called before and after this build's
# turn in run $i; with BASE, runs PREPARE then BASE's apply in $rep before
# this build's turn in odd runs and after it in even ones; appends to bs.
base_turn() {
  local when=$1 turn=before
  shift
  ((i % 2 == 1)) || turn=after
  [[ -n ${BASE:-} && $when == "$turn" ]] || return 0
  "$@" >/dev/null
  sync
  bs+=("$(timed "$BASE" --chdir="$rep" apply --auto-approve)")
}
empty_targets() { toss "$work/fs2/replica" "$work/fs2/rsync" && rm -f "$rep"/drover.state.json* "$replocal"/drover.state.json* && mkdir -p "$work/fs2/rsync"; }
ds=() rs=() bs=()
for i in $(seq "$runs"); do
  base_turn before empty_targets
  empty_targets
  both "$rep" "${mirror_rsync[@]}"
  ds+=("$d") rs+=("$r")
  base_turn after empty_targets
done
row first "$(best "${ds[@]}")" "$(best "${rs[@]}")" "target <= 1 (best of $runs; load $(load))"
[[ -z ${BASE:-} ]] || row first-base "$(best "${bs[@]}")" "$(best "${rs[@]}")" "$BASE, in the same runs"
ds=() rs=()
for i in $(seq "$runs"); do
  empty_targets
  both "$replocal" "${mirror_rsync[@]}"
  ds+=("$d") rs+=("$r")
done
row first-local "$(best "${ds[@]}")" "$(best "${rs[@]}")" "Drover on fs1, one SSH hop as rsync's (best of $runs; load $(load))"
empty_targets
both "$rep" "${mirror_rsync[@]}"
"$out/tree" change "$src" 1 >/dev/null
both "$rep" "${mirror_rsync[@]}"
row incr-manifest "$d" "$r" "(once: the large file's first in-place update records its blocks)"
ds=() rs=() bs=()
for i in $(seq "$runs"); do
  base_turn before "$out/tree" change "$src" 1
  changed=$("$out/tree" change "$src" 1)
  both "$rep" "${mirror_rsync[@]}"
  ds+=("$d") rs+=("$r")
  base_turn after "$out/tree" change "$src" 1
done
row incremental "$(best "${ds[@]}")" "$(best "${rs[@]}")" "target <= 1 ($changed files changed; best of $runs; load $(load))"
[[ -z ${BASE:-} ]] || row incr-base "$(best "${bs[@]}")" "$(best "${rs[@]}")" "$BASE, in the same runs"
if ! diff -r -x '.*.drover-blocks' -x '.*.drover-journal' -x .drover-source "$src" "$work/fs2/replica/srv/set" >/dev/null; then
  echo "the drover replica differs from the source" >&2
  exit 1
fi
"$out/tree" change "$src" 1 >/dev/null
profiles=$(profile "$rep" replication)
toss "$work/fs2/replica" && rm -f "$rep"/drover.state.json*
sync
profiles+=$'\n'$(profile "$rep" replication-first)
fi

# 2. An incremental drive copy.
if [[ $cases == *" drive "* ]]; then
drv=$work/drive
mkdir -p "$drv" "$work/fs2/images"
img=$work/fs2/images/system.img
echo "making a $size_mib MiB image..." >&2
{ openssl enc -aes-128-ctr -pass pass:drover -nosalt -pbkdf2 </dev/zero 2>/dev/null || true; } | head -c "${size_mib}M" >"$img"
truncate -s "${size_mib}M" "$work/fs2/images/backup.img"
{
  hosts
  cat <<'HCL'
resource "drive_copy" "backup" {
  host     = host.fs2
  source   = "/images/system.img"
  target   = "/images/backup.img"
  refresh  = "quick"
  snapshot = "none"
}
HCL
} >"$drv/main.dr.hcl"
echo "the first (full) copies..." >&2
"$out/drover" --chdir="$drv" apply --auto-approve >"$out/last.log" 2>&1
cp "$img" "$work/fs2/images/rsync.img"
drive_rsync=(rsync --inplace --no-whole-file -e "$rsh" "$img" "root@127.0.0.1:$work/fs2/images/rsync.img")
# change: 1% of the image in scattered 64 KiB regions of random bytes.
regions=$((size_mib * 1024 / 64 / 100))
change() {
  for _ in $(seq "$regions"); do
    off=$(((RANDOM * 32768 + RANDOM) % (size_mib * 16 - 1)))
    dd if=/dev/urandom of="$img" bs=64k seek="$off" count=1 conv=notrunc status=none
  done
}
if [[ -n ${BASE:-} ]]; then
  # Its agent is uploaded here, not in a timed run.
  "$BASE" --chdir="$drv" plan >"$out/last.log" 2>&1 || true
fi
ds=() rs=() bs=()
for i in $(seq "$runs"); do
  change
  both "$drv" "${drive_rsync[@]}"
  ds+=("$d") rs+=("$r")
  cmp -s "$img" "$work/fs2/images/backup.img" || { echo "the drive copy differs from the source" >&2; exit 1; }
  if [[ -n ${BASE:-} ]]; then
    change
    sync
    bs+=("$(timed "$BASE" --chdir="$drv" apply --auto-approve)")
  fi
done
row drive-incr "$(best "${ds[@]}")" "$(best "${rs[@]}")" "target <= 0.2 ($size_mib MiB, 1% changed; best of $runs; load $(load))"
if [[ -n ${BASE:-} ]]; then
  row drive-base "$(best "${bs[@]}")" "$(best "${rs[@]}")" "$BASE, in the same runs"
fi
change
how=$("$out/drover" --chdir="$drv" plan 2>&1 | grep -o 'fs2 is reached without the agent[^)]*' || true)
echo "(drive copy: ${how:-the whole copy runs on the machine of fs2 (the agent)})"
profiles+=$'\n'$(profile "$drv" drive)
fi
echo "(machine: load $(load) after)"
echo
echo "where the time goes (CPU profiles of the plugin, one more incremental run each, and a first sync of the set):"
echo "$profiles"
