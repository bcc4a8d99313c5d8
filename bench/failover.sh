#!/usr/bin/env bash
# Failover benchmarks. First the guest failover (issue 19): from the start of `drover failover`
# of examples/guest-failover (fence fs1's guest, then boot the replica on
# fs2 from its drive copy, accelerator = "tcg") to the replica's boot
# marker in its console file, against the replica's own QEMU command line
# started by hand (read from /proc/PID/cmdline of a failover, with its
# pidfile, QMP socket and console moved to files of its own). Both are
# polled the same way: the console file every 2 ms from the command's
# start. The run's record breaks drover's time down: the fence step (a
# boot sector ignores the ACPI power button, so the stop waits out the
# guest's stop_timeout before QMP quit) and the replica step. By hand does
# what an admin would: stops fs1's guest as the fence does (QMP
# system_powerdown, its stop_timeout, QMP quit: bench/qmp_stop.go), then
# runs the replica's command line; its start alone is set against
# drover's time from the replica step's start. Each round fails back
# afterwards, and after the start by hand fs1's guest is started again
# with its own command line (untimed), so that both sides begin with fs1's
# guest up and idle. ROUNDS rounds (default 5), best counts. Two guest images
# (IMAGE, default both): the boot sector, and a kernel guest (Debian's
# cloud kernel whose init prints the marker, bench/vm_kernel.go; it ignores
# the power button too), its drive and memory enlarged to fit.
#
# Then the identity failover (issue 17), with bench/identity_failover.go:
# from the start of examples/identity-failover's identity step to a
# client's first TCP connect to the moved address that fs2 answers (needs
# root, iproute2, knotd, smbd; PARTS=guest skips it).
#
#   bench/failover.sh
#   ROUNDS=10 PARTS="guest identity" bench/failover.sh
#   IMAGE=kernel PARTS=guest bench/failover.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/failover}
rounds=${ROUNDS:-5}
parts=${PARTS:-"guest identity"}
images=${IMAGE:-"bootsector kernel"}
marker="FS1 READY"
tools="qemu-system-x86_64:qemu-system-x86 jq:jq bc:bc"
if [[ " $parts " == *" guest "* && " $images " == *" kernel "* ]]; then
  tools+=" mkfs.fat:dosfstools syslinux:syslinux mcopy:mtools"
fi
for tool in $tools; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover
go build -o "$out/qmp_stop" bench/qmp_stop.go
ex=
drover() { "$out/drover" --chdir="$ex" "$@"; }

# stop DIR: ends the QEMU whose pidfile is DIR/qemu.pid, if any.
stop() {
  local pid
  pid=$(cat "$1/qemu.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 500); do [ -e "/proc/$pid" ] || break; sleep 0.01; done
    if [ -e "/proc/$pid" ]; then kill -9 "$pid"; fi
  fi
}
# cleanup: destroys the example run last, and stops its QEMUs.
cleanup() {
  [ -n "$ex" ] || return 0
  drover destroy --auto-approve >/dev/null 2>&1 || true
  stop "$out/hand"
  stop "$ex/sim/fs1/fs1.serial.qemu"
  stop "$ex/sim/fs2/fs1.serial.qemu"
}
trap cleanup EXIT
now() { date +%s.%N; }
# await FILE T0: seconds from T0 until FILE holds the marker.
await() {
  until grep -qs "$marker" "$1"; do sleep 0.002; done
  echo "$(now) - $2" | bc -l
}
epoch() { date -d "$1" +%s.%N; }

if [[ " $parts " == *" identity "* ]]; then
  cp -r examples/identity-failover "$out/identity"
  go build -o "$out/identity_failover" bench/identity_failover.go
  unshare --uts "$out/identity_failover" "$out/drover" "$out/identity" "$rounds"
fi
[[ " $parts " == *" guest "* ]] || exit 0

summary=()
for img in $images; do
  cleanup
  ex=$out/$img/ex
  mkdir -p "$out/$img"
  cp -r examples/guest-failover "$ex"
  mkdir -p "$ex/sim/fs1/srv"
  if [ "$img" = kernel ]; then
    CGO_ENABLED=0 go build -ldflags=-s -o "$out/vm_kernel" bench/vm_kernel.go
    "$out/vm_kernel" "$ex/sim/fs1/srv/fs1.img" "$marker" "$root/bench/out/kernel"
    truncate -s %1M "$ex/sim/fs1/srv/fs1.img"
    sed -i "s/\"1MiB\"/\"$(($(stat -c %s "$ex/sim/fs1/srv/fs1.img") >> 20))MiB\"/; s/\"32MiB\"/\"128MiB\"/" "$ex/main.dr.hcl"
  else
    printf '\372\374\061\300\216\330\276\027\174\272\370\003\254\204\300\164\003\356\353\370\364\353\375%s\r\n\0' "$marker" >"$ex/sim/fs1/srv/fs1.img"
    printf '\125\252' | dd of="$ex/sim/fs1/srv/fs1.img" bs=1 seek=510 conv=notrunc status=none
    truncate -s 1M "$ex/sim/fs1/srv/fs1.img"
  fi
  echo "== $img"
  drover apply --auto-approve >/dev/null
  fs1=$ex/sim/fs1/fs1.serial.qemu
  mapfile -d '' -t fs1argv <"/proc/$(cat "$fs1/qemu.pid")/cmdline"
  best_drover=999 best_hand=999 best_fence=999 best_replica=999 best_from_replica=999 best_hand_start=999
  for round in $(seq "$rounds"); do
    rm -f "$ex/sim/fs2/fs1.serial"
    t0=$(now)
    drover failover --auto-approve >"$out/$img/failover.$round.log" 2>&1 &
    d=$(await "$ex/sim/fs2/fs1.serial" "$t0")
    wait $!
    rec=$(ls -d "$ex"/.drover/runs/* | tail -1)/record.json
    step() { jq -r --arg s "$1" '.steps[] | select(.name == $s) | "\(.started_at) \(.finished_at)"' "$rec"; }
    read -r fs ff < <(step fence)
    read -r rs rf < <(step replica)
    fence=$(echo "$(epoch "$ff") - $(epoch "$fs")" | bc -l)
    replica=$(echo "$(epoch "$rf") - $(epoch "$rs")" | bc -l)
      from_replica=$(echo "$d - ($(epoch "$rs") - $t0)" | bc -l)
    if [ ! -e "$out/$img/cmdline" ]; then
      tr '\0' '\n' <"/proc/$(cat "$ex/sim/fs2/fs1.serial.qemu/qemu.pid")/cmdline" |
        sed "s|$ex/sim/fs2/fs1.serial.qemu|$out/hand|g; s|$ex/sim/fs2/fs1.serial|$out/hand.serial|g" >"$out/$img/cmdline"
    fi
    drover failback --auto-approve >/dev/null

    mkdir -p "$out/hand" && rm -f "$out/hand.serial"
    mapfile -t argv <"$out/$img/cmdline"
    t0=$(now)
    "$out/qmp_stop" "$fs1/qmp.sock" "$fs1/qemu.pid" 2s
    t1=$(now)
    "${argv[@]}"
    h=$(await "$out/hand.serial" "$t0")
    hand_start=$(echo "$h - ($t1 - $t0)" | bc -l)
    stop "$out/hand"
    "${fs1argv[@]}"
    await "$ex/sim/fs1/fs1.serial" "$t0" >/dev/null

    printf 'round %d: drover failover %.3f s (fence step %.3f s, replica step %.3f s; from the replica step to the marker %.3f s), by hand %.3f s (its start %.3f s)\n' \
      "$round" "$d" "$fence" "$replica" "$from_replica" "$h" "$hand_start"
    best_drover=$(echo "if ($d < $best_drover) $d else $best_drover" | bc -l)
    best_hand=$(echo "if ($h < $best_hand) $h else $best_hand" | bc -l)
    best_fence=$(echo "if ($fence < $best_fence) $fence else $best_fence" | bc -l)
    best_replica=$(echo "if ($replica < $best_replica) $replica else $best_replica" | bc -l)
    best_hand_start=$(echo "if ($hand_start < $best_hand_start) $hand_start else $best_hand_start" | bc -l)
    best_from_replica=$(echo "if ($from_replica < $best_from_replica) $from_replica else $best_from_replica" | bc -l)
  done
  summary+=("$(printf '%-10s best of %d: drover failover to the marker %.3f s (fence step %.3f s, replica step %.3f s), by hand %.3f s: %.2f x; from the replica step %.3f s, by hand from the stop %.3f s: %.2f x' \
    "$img" "$rounds" "$best_drover" "$best_fence" "$best_replica" "$best_hand" "$(echo "$best_drover / $best_hand" | bc -l)" \
    "$best_from_replica" "$best_hand_start" "$(echo "$best_from_replica / $best_hand_start" | bc -l)")")
done
echo
for s in "${summary[@]}"; do echo "$s"; done
echo "target: drover / by hand <= 1.2x, to the marker"
