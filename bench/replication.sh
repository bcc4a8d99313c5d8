#!/usr/bin/env bash
# Replication benchmark: a tree of FILES small files (100,000) and LARGE
# large ones (4 x 128 MiB) mirrored between two local hosts rooted at
# folders, by `drover apply` of a replication_set (refresh, plan and apply,
# through the real binary and its plugin) and by `rsync -a --delete` on
# the same trees, in one run:
#   1. the first full mirror into an empty target (RUNS times, each into an
#      emptied target);
#   2. the incremental mirror after 1% of the small files (and 1 MiB of a
#      large file) changed: once while the large file's block manifest is
#      recorded (its first in-place update writes every block), then RUNS
#      times in the steady state;
#   3. `drover replicate` under a writer making RATE (100) changes a second
#      for SECONDS (20), reporting the 99th percentile of the lag.
# Each case prints the best of its runs: wall time and CPU time (user +
# system, of the tool and its child processes, which other work on the
# machine disturbs less), and the ratios drover / rsync. Targets: first
# <= 1, incremental <= 0.5 (wall), lag p99 < 2 s. The two tools take turns
# going first.
#
#   bench/replication.sh
#   FILES=20000 LARGE=1 RUNS=1 bench/replication.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/replication}
files=${FILES:-100000}
large=${LARGE:-4}
large_mib=${LARGE_MIB:-128}
rate=${RATE:-100}
seconds=${SECONDS_LIVE:-20}
runs=${RUNS:-3}

for tool in rsync:rsync /usr/bin/time:time; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
source bench/trash.sh
trap 'rm -rf "$trash"' EXIT
toss "$out"
mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover
go build -o "$out/tree" bench/replication_tree.go

work=$out/work
mkdir -p "$work/sim/fs1/srv" "$work/sim/fs2" "$work/rsync"
cat >"$work/main.dr.hcl" <<'HCL'
host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}

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
src=$work/sim/fs1/srv/set
echo "making $files files and $large x $large_mib MiB..." >&2
"$out/tree" create "$src" "$files" "$large" "$large_mib"
sync

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

apply=("$out/drover" --chdir="$work" apply --auto-approve)
mirror_rsync=(rsync -a --delete "$src/" "$work/rsync/")
# both: runs drover and rsync, taking turns at going first; sets d and r.
# Each starts with nothing dirty in the page cache: drover's final sync
# must not flush what rsync left to write back (rsync does not sync; its
# time does not include making its copy durable, drover's does).
turn=0
both() {
  if ((turn++ % 2 == 0)); then
    sync
    d=$(timed "${apply[@]}")
    sync
    r=$(timed "${mirror_rsync[@]}")
  else
    sync
    r=$(timed "${mirror_rsync[@]}")
    sync
    d=$(timed "${apply[@]}")
  fi
}

echo "(machine: $(nproc) cores, load $(load) before)"
printf '%-14s %8s %8s %8s %8s %6s %6s  %s\n' case drover_s rsync_s drover_c rsync_c wall cpu "target (wall ratio); s = wall seconds, c = CPU seconds"
ds=() rs=()
for i in $(seq "$runs"); do
  if ((i > 1)); then
    toss "$work/sim/fs2/replica" "$work/rsync"
    rm -f "$work"/drover.state.json*
    mkdir -p "$work/rsync"
    sync
  fi
  both
  ds+=("$d") rs+=("$r")
done
row first "$(best "${ds[@]}")" "$(best "${rs[@]}")" "<= 1 (best of $runs; load $(load))"

changed=$("$out/tree" change "$src" 1)
sync
both
row incr-manifest "$d" "$r" "(once: the large file's first in-place update records its blocks)"

ds=() rs=()
for i in $(seq "$runs"); do
  changed=$("$out/tree" change "$src" 1)
  sync
  both
  ds+=("$d") rs+=("$r")
done
row incremental "$(best "${ds[@]}")" "$(best "${rs[@]}")" "<= 0.5 ($changed files changed; best of $runs; load $(load))"

if ! diff -r -x '.*.drover-blocks' -x '.*.drover-journal' -x '.drover-source' "$src" "$work/sim/fs2/replica/srv/set" >/dev/null; then
  echo "the drover replica differs from the source" >&2
  exit 1
fi

"$out/drover" --chdir="$work" replicate replication_set.bench >"$out/replicate.log" 2>&1 &
pid=$!
# Wait for the first round (the whole tree compared) before writing.
for _ in $(seq 600); do
  grep -q 'rounds' "$out/replicate.log" && break
  sleep 0.1
done
"$out/tree" write "$src" "$rate" "$seconds"
sleep 3
kill -TERM $pid
wait $pid
summary=$(grep 'stopped;' "$out/replicate.log")
p99=$(echo "$summary" | sed -n 's/.*p99 \([0-9.]*\)s.*/\1/p')
printf '%-14s %8s %8s %8s %8s %6s %6s  %s\n' lag_p99 "${p99}s" - - - - - "< 2 s ($rate writes/s for ${seconds}s)"
echo "$summary"
echo "(machine: $(nproc) cores, load $(load) after)"
