#!/usr/bin/env bash
# Guest start benchmark: from `drover apply` of a `vm_guest` (snapshot =
# true, boot_check on its serial marker) to the marker appearing in the
# console file, against the same QEMU command line started by hand, in one
# run, with accelerator = "tcg", "kvm" and "auto", for two images: a boot
# sector that prints the marker (bench/vm_bootsector.go) and a kernel
# guest, Debian's cloud kernel booted by SYSLINUX whose init prints it
# (bench/vm_kernel.go; the kernel is kept in bench/out/kernel). The
# command line by hand is the one drover's QEMU runs with, read from
# /proc/PID/cmdline of a first (untimed) drover start, with its pidfile,
# QMP socket and console moved to files of its own. Both are polled the
# same way: the console file is read every 2 ms from the command's start.
# With accelerator = "auto" (the default) drover probes KVM (a race of
# KVM against TCG) and may choose either; its runs are compared with TCG's
# by hand. The first, untimed, start probes and keeps the verdict in
# /run/drover/kvm-probe.json, which the timed ones use; PROBE=cold removes
# it before each of them, so that each probes.
# For drover the JSON events of the apply break its time down. Each case
# runs ROUNDS times (default 5), drover and by hand taking turns; the best
# counts. Target (issue 19): drover <= 1.2 x by hand, to the marker.
#
#   bench/vm.sh
#   IMAGE=kernel ACCELS=tcg ROUNDS=10 bench/vm.sh
#   ACCELS="tcg auto" PROBE=cold bench/vm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/vm}
rounds=${ROUNDS:-5}
accels=${ACCELS:-"tcg kvm auto"}
images=${IMAGE:-"bootsector kernel"}
marker="DROVER BENCH READY"
if ! command -v qemu-system-x86_64 >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi
tools="jq:jq bc:bc"
if [[ " $images " == *" kernel "* ]]; then
  tools+=" mkfs.fat:dosfstools syslinux:syslinux mcopy:mtools"
fi
for tool in $tools; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover
go build -o "$out/race" bench/race.go
go build -o "$out/vm_bootsector" bench/vm_bootsector.go
"$out/vm_bootsector" "$out/bootsector.img" "$marker"
if [[ " $images " == *" kernel "* ]]; then
  CGO_ENABLED=0 go build -ldflags=-s -o "$out/vm_kernel" bench/vm_kernel.go
  "$out/vm_kernel" "$out/kernel.img" "$marker" "$root/bench/out/kernel"
fi

# stop DIR: ends the QEMU whose pidfile is DIR/qemu.pid, if any, and
# removes DIR.
stop() {
  local pid
  pid=$(cat "$1/qemu.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 500); do [ -e "/proc/$pid" ] || break; sleep 0.01; done
    if [ -e "/proc/$pid" ]; then kill -9 "$pid"; fi
  fi
  rm -rf "$1"
}
trap 'for d in "$out"/*/*/guest.serial.qemu "$out"/*/*/hand; do stop "$d"; done' EXIT
# epoch TIMESTAMP: seconds since 1970 of an RFC 3339 time.
epoch() { date -d "$1" +%s.%N; }
# at LOG JQ_FILTER T0: seconds from T0 to the first event of LOG matching
# the filter, "-" when none.
at() {
  local ts
  ts=$(jq -rR "fromjson? | select($2) | .\"@timestamp\"" "$1" | sed -n 1p)
  if [ -z "$ts" ]; then echo -; else printf '%.4f' "$(echo "$(epoch "$ts") - $3" | bc -l)"; fi
}

# drover IMAGE/ACCEL: one timed start by drover apply; appends "marker
# exit start launch launched complete" (seconds from the command's start)
# and the accelerator it used to $out/IMAGE/ACCEL/drover.times. Fails when
# the start fails.
drover() {
  local d=$out/$1 times t0 hit exit log
  log=$d/drover.log
  stop "$d/guest.serial.qemu"
  rm -f "$d"/drover.state.json* "$d/guest.serial"
  if ! times=$("$out/race" marker "$d/guest.serial" "$marker" -- \
    "$out/drover" --chdir="$d" apply --auto-approve --json 2>"$log"); then
    return 1
  fi
  read -r t0 hit exit <<<"$times"
  echo "$hit $exit $(at "$log" '.type == "apply_start"' "$t0") \
$(at "$log" '.type == "apply_progress" and (.message | startswith("starting QEMU"))' "$t0") \
$(at "$log" '.type == "apply_progress" and (.message | startswith("waiting for"))' "$t0") \
$(at "$log" '.type == "apply_complete"' "$t0") \
$(jq -rR 'fromjson? | select(.type == "apply_progress" and (.message | startswith("starting QEMU"))) | .message' "$log" | tr -dc A-Z | sed 's/^QEMU//')" >>"$d/drover.times"
}
# hand IMAGE/ACCEL: one timed start of the same command line by hand;
# appends "marker exit" to $out/IMAGE/ACCEL/hand.times.
hand() {
  local d=$out/$1 times
  stop "$d/hand"
  mkdir -p "$d/hand"
  rm -f "$d/hand.serial"
  if ! times=$("$out/race" marker "$d/hand.serial" "$marker" -- "${argv[@]}" 2>"$d/hand.log"); then
    return 1
  fi
  echo "$times" | awk '{print $2, $3}' >>"$d/hand.times"
}

# best FILE COLUMN: the least value of a column of FILE.
best() { awk -v k="$2" 'NR == 1 || $k < m { m = $k } END { printf "%.3f", m }' "$1"; }
# median FILE COLUMN.
median() { awk -v k="$2" '{ print $k }' "$1" | sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; if (m == "-") print m; else printf "%.3f", m }'; }

echo "(machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) before; $(qemu-system-x86_64 --version | sed -n 1p); best of $rounds)"
summary=()
for img in $images; do
  # A kernel needs more memory than a boot sector, and more time: under
  # TCG it boots in seconds, and its first start may wait out a KVM that
  # cannot run it.
  memory=32MiB boot_timeout=20s race=30s
  if [ "$img" = kernel ]; then memory=128MiB boot_timeout=60s race=90s; fi
  for a in $accels; do
    c=$img/$a d=$out/$img/$a
    mkdir -p "$d"
    cat >"$d/main.dr.hcl" <<HCL
host "fs2" {}

resource "vm_guest" "fs1" {
  host        = host.fs2
  disks       = ["$out/$img.img"]
  memory      = "$memory"
  serial      = "$d/guest.serial"
  snapshot    = true
  accelerator = "$a"
  boot_check {
    serial  = "$marker"
    timeout = "$boot_timeout"
  }
}
HCL
    # The first start, untimed, gives the command line.
    if ! RACE_TIMEOUT=$race drover "$c"; then
      why=$(jq -rR 'fromjson? | select(.type == "diagnostic") | .diagnostic.detail // .diagnostic.summary' "$d/drover.log" 2>/dev/null | sed -n 1,3p)
      summary+=("$(printf '%-15s drover failed its first start: %s' "$c" "${why:-see $d/drover.log}")")
      stop "$d/guest.serial.qemu"
      continue
    fi
    rm -f "$d/drover.times"
    if [ "$a" = auto ]; then
      for _ in $(seq "$rounds"); do
        if [ "${PROBE:-}" = cold ]; then rm -f /run/drover/kvm-probe.json; fi
        RACE_TIMEOUT=$race drover "$c" || { summary+=("$c drover failed: see $d/drover.log"); break; }
      done
      stop "$d/guest.serial.qemu"
      continue
    fi
    pid=$(cat "$d/guest.serial.qemu/qemu.pid")
    mapfile -d '' -t argv <"/proc/$pid/cmdline"
    for i in "${!argv[@]}"; do
      argv[i]=${argv[i]//$d\/guest.serial.qemu/$d/hand}
      argv[i]=${argv[i]//$d\/guest.serial/$d/hand.serial}
    done
    printf '%s\n' "${argv[*]}" >"$d/argv"
    for _ in $(seq "$rounds"); do
      if ! RACE_TIMEOUT=$race hand "$c"; then
        summary+=("$(printf '%-15s the start by hand failed: %s' "$c" "$(tail -1 "$d/hand.log")")")
        break
      fi
      RACE_TIMEOUT=$race drover "$c" || { summary+=("$c drover failed: see $d/drover.log"); break; }
    done
    stop "$d/hand"
    stop "$d/guest.serial.qemu"
  done
done

printf '%-10s %-6s %-7s %9s %9s %9s %7s\n' image accel case marker_s median_s exit_s ratio
for img in $images; do
  for a in $accels; do
    d=$out/$img/$a
    h=$d/hand.times
    [ "$a" = auto ] && h=$out/$img/tcg/hand.times
    [ -s "$h" ] && [ -s "$d/drover.times" ] || continue
    if [ "$a" != auto ]; then
      printf '%-10s %-6s %-7s %9s %9s %9s %6.2fx\n' "$img" "$a" hand "$(best "$h" 1)" "$(median "$h" 1)" "$(best "$h" 2)" 1
    fi
    h=$(best "$h" 1)
    printf '%-10s %-6s %-7s %9s %9s %9s %6.2fx\n' "$img" "$a" drover "$(best "$d/drover.times" 1)" "$(median "$d/drover.times" 1)" \
      "$(best "$d/drover.times" 2)" "$(echo "$(best "$d/drover.times" 1) / $h" | bc -l)"
  done
done
echo "marker: the command's start to the marker in the console file; exit: to the command's exit (by hand: QEMU daemonized)"
echo "drover's time (medians, seconds from its start):"
printf '  %-10s %-6s %9s %9s %9s %9s %9s %9s\n' image accel apply_start launch launched marker complete exit
for img in $images; do
  for a in $accels; do
    f=$out/$img/$a/drover.times
    [ -s "$f" ] || continue
    printf '  %-10s %-6s %9s %9s %9s %9s %9s %9s\n' "$img" "$a" "$(median "$f" 3)" "$(median "$f" 4)" "$(median "$f" 5)" \
      "$(median "$f" 1)" "$(median "$f" 6)" "$(median "$f" 2)"
  done
done
echo "  apply_start: CLI, plugin start, refresh and plan done; launch: QEMU about to start; launched: QEMU daemonized;"
echo "  complete: the boot check passed (the provider looks at the console every 10 ms); exit: state saved, plugin stopped"
for img in $images; do
  if [ -s "$out/$img/auto/drover.times" ]; then
    echo "$img auto (against TCG by hand) chose: $(awk '{ n[$7]++ } END { for (a in n) printf "%s %d times; ", a, n[a] }' "$out/$img/auto/drover.times")the KVM probe, when it runs (PROBE=cold), is in its apply_start"
  fi
done
for s in "${summary[@]}"; do echo "$s"; done
echo "target: drover / by hand <= 1.2x, to the marker"
