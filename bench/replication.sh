#!/usr/bin/env bash
# Replication benchmark: a tree of FILES small files (100,000) and LARGE
# large ones (4 x 128 MiB) mirrored between two local hosts rooted at
# folders, by `drover apply` of a replication_set (refresh, plan and apply,
# through the real binary and its plugin) and by `rsync -a --delete` on
# the same trees, in one run:
#   1. the first full mirror into an empty target;
#   2. the incremental mirror after 1% of the files (and 1 MiB of a large
#      file) changed, twice: the first also records the block manifests of
#      the large files (their first in-place update writes every block), the
#      second is the steady state;
#   3. `drover replicate` under a writer making RATE (100) changes a second
#      for SECONDS (20), reporting the 99th percentile of the lag.
# Prints times and ratios (drover / rsync; targets: first <= 1, incremental
# <= 0.5, lag p99 < 2 s).
#
#   bench/replication.sh
#   FILES=20000 LARGE=1 bench/replication.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/replication}
files=${FILES:-100000}
large=${LARGE:-4}
large_mib=${LARGE_MIB:-128}
rate=${RATE:-100}
seconds=${SECONDS_LIVE:-20}

if ! command -v rsync >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends rsync >/dev/null
fi
rm -rf "$out" && mkdir -p "$out"
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

# secs CMD...: the wall time of CMD in seconds.
secs() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$out/last.log" 2>&1 || { echo "failed: $* (see $out/last.log)" >&2; tail -5 "$out/last.log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk "BEGIN { printf \"%.3f\", $end - $start }"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

apply() { "$out/drover" --chdir="$work" apply --auto-approve; }
mirror_rsync() { rsync -a --delete "$src/" "$work/rsync/"; }

printf '%-12s %10s %10s %7s %s\n' case drover_s rsync_s ratio target
d=$(secs apply); r=$(secs mirror_rsync)
printf '%-12s %10.2f %10.2f %7s %s\n' first "$d" "$r" "$(ratio "$d" "$r")" "<= 1"

for round in incremental incremental2; do
  changed=$("$out/tree" change "$src" 1)
  sync
  d=$(secs apply); r=$(secs mirror_rsync)
  printf '%-12s %10.2f %10.2f %7s %s\n' "$round" "$d" "$r" "$(ratio "$d" "$r")" "<= 0.5 ($changed files changed)"
done

if ! diff -r -x '.*.drover-blocks' "$src" "$work/sim/fs2/replica/srv/set" >/dev/null; then
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
printf '%-12s %10s %10s %7s %s\n' "lag_p99" "${p99}s" "-" "-" "< 2 s ($rate writes/s for ${seconds}s)"
echo "$summary"
echo "(machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
