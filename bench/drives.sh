#!/usr/bin/env bash
# Drive copy benchmark: a full and an incremental drive_copy of an image
# through the real drover binary, against dd, cp --sparse, cat and rsync in
# the same run, printing ratios. The image (default 4 GiB) is random data;
# the incremental copy follows a change of 1% of it in scattered 64 KiB
# regions (4 KiB aligned, as file systems write).
#
#   bench/drives.sh                 # warm page cache
#   COLD=1 bench/drives.sh          # drop the page cache before each step (root)
#   SIZE_MIB=1024 bench/drives.sh   # a smaller image
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size_mib=${SIZE_MIB:-4096}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/drover-bench-drives.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/drover" ./cmd/drover
cd "$work"
mkdir -p sim/fs1/srv

cold() {
  if [ -n "${COLD:-}" ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
}
# secs CMD...: runs CMD with the cache state of this run, prints seconds.
secs() {
  cold
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

src=sim/fs1/srv/system.img
echo "image: ${size_mib} MiB of random data"
{ openssl enc -aes-128-ctr -pass pass:drover -nosalt -pbkdf2 </dev/zero 2>/dev/null || true; } | head -c "${size_mib}M" >"$src"
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

# Full copies. dd and cp leave dirty pages behind; the drover copy syncs
# before it records the copy, so dd with conv=fsync is listed too.
truncate -s "${size_mib}M" dd.img
t_dd=$(secs dd if="$src" of=dd.img bs=4M conv=notrunc)
t_ddsync=$(secs dd if="$src" of=dd.img bs=4M conv=notrunc,fsync)
t_cp=$(secs cp --sparse=always "$src" cp.img)
t_full=$(secs ./drover apply --auto-approve)
cmp -s "$src" sim/fs1/srv/dpsr.img || { echo "the full copy differs from the source" >&2; exit 1; }
cp "$src" rsync.img

# Change 1% in scattered 64 KiB regions.
regions=$((size_mib * 1024 / 64 / 100))
changed=$((regions * 64 * 1024))
for i in $(seq "$regions"); do
  off=$(( (RANDOM * 32768 + RANDOM) % (size_mib * 256 - 16) ))
  dd if=/dev/urandom of="$src" bs=4k seek="$off" count=16 conv=notrunc status=none
done
sync

t_cat=$(secs sh -c "cat '$src' >/dev/null")
t_incr=$(secs ./drover apply --auto-approve)
cmp -s "$src" sim/fs1/srv/dpsr.img || { echo "the incremental copy differs from the source" >&2; exit 1; }
written=$(./drover state show drive_copy.dpsr | awk '/bytes_copied/ {print $3}')
t_rsync=""
if command -v rsync >/dev/null; then
  t_rsync=$(secs rsync --inplace --no-whole-file --ignore-times "$src" rsync.img)
fi

mode=warm; [ -n "${COLD:-}" ] && mode=cold
echo "page cache: $mode; times in seconds (drover includes starting the CLI and its plugin)"
printf '%-40s %8.2f\n' "dd bs=4M conv=notrunc" "$t_dd" "dd bs=4M conv=notrunc,fsync" "$t_ddsync" \
  "cp --sparse=always" "$t_cp" "drover full copy" "$t_full" "cat source >/dev/null" "$t_cat" \
  "drover incremental copy" "$t_incr"
[ -n "$t_rsync" ] && printf '%-40s %8.2f\n' "rsync --inplace --no-whole-file -I" "$t_rsync"
echo "changed: $changed bytes in $regions regions; drover wrote $written bytes of blocks ($(ratio "$written" "$changed")x), and as much again to its undo journal"
echo "full copy / dd:                 $(ratio "$t_full" "$t_dd")   (target <= 1.10)"
echo "full copy / dd conv=fsync:      $(ratio "$t_full" "$t_ddsync")"
echo "full copy / cp --sparse:        $(ratio "$t_full" "$t_cp")"
echo "incremental / cat:              $(ratio "$t_incr" "$t_cat")   (target <= 1.15)"
[ -n "$t_rsync" ] && echo "rsync / incremental:            $(ratio "$t_rsync" "$t_incr")   (target >= 10)"
echo "bytes written / changed:        $(ratio "$((written * 2))" "$changed")   (target <= 2, journal included)"
