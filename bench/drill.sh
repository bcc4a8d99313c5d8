#!/usr/bin/env bash
# Drill clone benchmark: an image of SIZE_MIB MiB (4096 by default) of
# random data, written for real (a ChaCha8 stream, no holes), on an xfs
# made with reflink=1 on a loop device, cloned ROUNDS times (3 by default)
# each way: the drill's clone (drill.Inventory.Clone: the inventory
# journalled and synced, the reflink made and synced), `cp
# --reflink=always` and a full copy (`cp --reflink=never`), both followed by
# a sync of the file system so that all three are durable. Prints the mean
# time of each and the ratios. Target: the drill's clone at most 1 s.
# Then bench/drill-run.sh: the whole drill against the steps alone.
# Needs root (loop devices, mount).
#
#   bench/drill.sh
#   SIZE_MIB=1024 ROUNDS=5 bench/drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${SIZE_MIB:-4096}
rounds=${ROUNDS:-3}
echo "image: ${size_mib} MiB of random data on xfs (reflink=1), mean of $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
DROVER_BENCH_CLONE_MIB=$size_mib go test ./drill -run '^$' -bench '^BenchmarkClone$' -benchtime "${rounds}x" -count 1 |
  awk -F'\t' '/^BenchmarkClone\// {
      name = $1; sub(/^BenchmarkClone\//, "", name); sub(/-[0-9]+ *$/, "", name); gsub(/_/, " ", name)
      split($3, f, " "); s = f[1] / 1e9; t[++n] = s; names[n] = name
    }
    END {
      if (n < 3) { print "the benchmark did not run (root, xfsprogs and losetup are needed)"; exit 1 }
      for (i = 1; i <= n; i++) printf "%-32s %8.3f s\n", names[i], t[i]
      printf "drill clone / cp --reflink=always: %.2f; full copy / drill clone: %.0f\n", t[1] / t[2], t[3] / t[1]
      if (t[1] > 1) { print "drill clone above its target of 1 s"; exit 1 }
    }'

# The whole drill (fingerprint, clone, steps, teardown, proof) against the
# same runbook's steps alone: target at most 2x.
SIZE_MIB=$size_mib ROUNDS=$rounds bench/drill-run.sh
