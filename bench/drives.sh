#!/usr/bin/env bash
# Drive copy benchmark: a full and an incremental drive_copy of an image
# through the real drover binary, against dd, cp --sparse, cat and rsync in
# the same run, printing ratios. The image (default 4 GiB) is random data;
# each incremental copy follows a change of 1% of it in scattered 64 KiB
# regions (4 KiB aligned, as file systems write). Every step runs ROUNDS
# times (default 3) and the best time counts: the machine is shared.
#
#   bench/drives.sh                 # warm page cache
#   COLD=1 bench/drives.sh          # drop the page cache before each step (root)
#   SIZE_MIB=1024 bench/drives.sh   # a smaller image
#   ROUNDS=5 bench/drives.sh        # more rounds
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${SIZE_MIB:-4096}
rounds=${ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/drover-bench-drives.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/drover" ./cmd/drover
cd "$work"
mkdir -p sim/fs1/srv

cold() {
  if [ -n "${COLD:-}" ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
}
# run CMD...: runs CMD with the cache state of this run; sets t (seconds).
run() {
  cold
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
}
# written CMD...: runs CMD (and its children) under strace and prints how
# many bytes they wrote to files: what reaches storage, before the file
# system's own metadata. (The kernel's write_bytes counts whole large
# folios for a 4 KiB write, so it cannot tell.)
written() {
  rm -rf strace.out; mkdir strace.out
  strace -f -ff -y -qq -e trace=write,pwrite64,pwritev,pwritev2 -e signal=none -o strace.out/t "$@" >/dev/null 2>&1
  cat strace.out/t.* | awk -F'= ' '/^(write|pwrite64|pwritev|pwritev2)\([0-9]+<\// && !/^[a-z0-9]+\([0-9]+<\/dev\// {n += $NF} END {print n + 0}'
}
# keep NAME: keeps the lowest time of NAME.
declare -A best
keep() {
  if [ -z "${best[$1]:-}" ] || [ "$(echo "$t < ${best[$1]}" | bc -l)" = 1 ]; then best[$1]=$t; fi
}
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
mbs() { printf '%.0f' "$(echo "$size_mib * 1.048576 / $1" | bc -l)"; }

src=sim/fs1/srv/system.img
echo "image: ${size_mib} MiB of random data; best of $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
{ openssl enc -aes-128-ctr -pass pass:drover -nosalt -pbkdf2 </dev/zero 2>/dev/null || true; } | head -c "${size_mib}M" >"$src"
sync
cat >main.dr.hcl <<HCL
host "fs1" {
  root = "sim/fs1"
}

resource "drive" "dpsr" {
  host = host.fs1
  path = "/srv/dpsr.img"
  size = "${size_mib}MiB"
}

resource "drive_copy" "dpsr" {
  host     = host.fs1
  source   = "/srv/system.img"
  target   = drive.dpsr.path
  refresh  = "quick"
  snapshot = "none"
}
HCL

# Full copies, each to a new sparse target. dd and cp leave dirty pages
# behind; the drover copy syncs before it records the copy, so dd with
# conv=fsync is listed too. Each step's output is removed (and synced)
# before the next, so that none pays for another's writeback.
for _ in $(seq "$rounds"); do
  rm -f dd.img; truncate -s "${size_mib}M" dd.img; sync
  run dd if="$src" of=dd.img bs=4M conv=notrunc; keep dd
  rm -f dd.img; truncate -s "${size_mib}M" dd.img; sync
  run dd if="$src" of=dd.img bs=4M conv=notrunc,fsync; keep ddsync
  rm -f dd.img; sync
  run cp --sparse=always "$src" cp.img; keep cp
  rm -f cp.img; sync
  rm -rf sim/fs1/srv/dpsr.img* drover.state.json*; sync
  run ./drover apply --auto-approve; keep full
  cmp -s "$src" sim/fs1/srv/dpsr.img || { echo "the full copy differs from the source" >&2; exit 1; }
done
have_rsync=""
if command -v rsync >/dev/null; then
  have_rsync=1
  cp "$src" rsync.img
fi

# Incremental copies: each round changes 1% in scattered 64 KiB regions
# of random bytes.
regions=$((size_mib * 1024 / 64 / 100))
for _ in $(seq "$rounds"); do
  for i in $(seq "$regions"); do
    off=$(( (RANDOM * 32768 + RANDOM) % (size_mib * 256 - 16) ))
    dd if=/dev/urandom of="$src" bs=4k seek="$off" count=16 conv=notrunc status=none
  done
  sync
  run sh -c "cat '$src' >/dev/null"; keep cat
  run ./drover apply --auto-approve; keep incr
  cmp -s "$src" sim/fs1/srv/dpsr.img || { echo "the incremental copy differs from the source" >&2; exit 1; }
  if [ -n "$have_rsync" ]; then
    run rsync --inplace --no-whole-file --ignore-times "$src" rsync.img; keep rsync
  fi
done
if command -v strace >/dev/null; then
  # One more round, not timed, to count what the copy writes.
  : >pages
  for i in $(seq "$regions"); do
    off=$(( (RANDOM * 32768 + RANDOM) % (size_mib * 256 - 16) ))
    dd if=/dev/urandom of="$src" bs=4k seek="$off" count=16 conv=notrunc status=none
    seq "$off" $((off + 15)) >>pages
  done
  sync
  changed=$(( $(sort -un pages | wc -l) * 4096 ))
  dev=$(df --output=source . | tail -1); stat=/sys/class/block/${dev#/dev/}/stat
  sectors() { if [ -r "$stat" ]; then awk '{print $7}' "$stat"; else echo 0; fi; }
  before=$(sectors)
  wrote=$(written ./drover apply --auto-approve)
  sync
  device=$(( ($(sectors) - before) * 512 ))
  cmp -s "$src" sim/fs1/srv/dpsr.img || { echo "the incremental copy differs from the source" >&2; exit 1; }
fi

mode=warm; [ -n "${COLD:-}" ] && mode=cold
echo "page cache: $mode; best times in seconds (drover includes starting the CLI and its plugin)"
row() { printf '%-40s %8.2f %7s MB/s\n' "$1" "$2" "$(mbs "$2")"; }
row "dd bs=4M conv=notrunc" "${best[dd]}"
row "dd bs=4M conv=notrunc,fsync" "${best[ddsync]}"
row "cp --sparse=always" "${best[cp]}"
row "drover full copy (synced)" "${best[full]}"
row "cat source >/dev/null" "${best[cat]}"
row "drover incremental copy" "${best[incr]}"
[ -n "$have_rsync" ] && row "rsync --inplace --no-whole-file -I" "${best[rsync]}"
if [ -n "${wrote:-}" ]; then
  echo "incremental: $changed bytes changed in $regions regions (the 4 KiB pages they cover); the drover run wrote $wrote bytes to files (data, undo journal, manifest, state)"
  echo "  and $device bytes reached $dev meanwhile (whole pages, the file system's own journal, and anyone else's writes)"
fi
echo "full copy / dd:                 $(ratio "${best[full]}" "${best[dd]}")   (target <= 1.10; dd does not sync)"
echo "full copy / dd conv=fsync:      $(ratio "${best[full]}" "${best[ddsync]}")"
echo "full copy / cp --sparse:        $(ratio "${best[full]}" "${best[cp]}")"
echo "incremental / cat:              $(ratio "${best[incr]}" "${best[cat]}")   (target <= 1.15)"
[ -n "$have_rsync" ] && echo "rsync / incremental:            $(ratio "${best[rsync]}" "${best[incr]}")   (target >= 10)"
if [ -n "${wrote:-}" ]; then
  echo "bytes written / changed:        $(printf "%.3f" "$(echo "$wrote / $changed" | bc -l)")  (target <= 2, journal included; $(printf "%.3f" "$(echo "$device / $changed" | bc -l)") at the device)"
fi
