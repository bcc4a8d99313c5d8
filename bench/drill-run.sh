#!/usr/bin/env bash
# Whole-drill benchmark: the dpsr example's drive copy, an image of SIZE_MIB
# MiB (4096 by default) of random data, kept on an xfs made with reflink=1
# on a loop device, and a runbook "check" whose one step reads the copy's
# first MiB. Times ROUNDS runs (3 by default) of the runbook's steps alone
# (drover runbook run check) and of its drill (drover drill check:
# fingerprint, reflink clone, the same step on the clone, teardown, proof,
# fingerprint again), and prints the means and their ratio. Target: the
# drill at most 2x the steps alone. Needs root (loop devices, mount).
#
#   bench/drill-run.sh
#   SIZE_MIB=256 ROUNDS=5 bench/drill-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${SIZE_MIB:-4096}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
mnt=$work/mnt
loop=
cleanup() {
	set +e
	cd /
	mountpoint -q "$mnt" && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop"
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/drover" ./cmd/drover
truncate -s $((size_mib * 2 + 512))M "$work/xfs.img"
mkfs.xfs -q -m reflink=1 "$work/xfs.img"
loop=$(losetup --find --show "$work/xfs.img")
mkdir "$mnt"
mount "$loop" "$mnt"

cfg=$mnt/dpsr
mkdir -p "$cfg/sim/fs1/srv"
head -c $((size_mib << 20)) /dev/urandom > "$cfg/sim/fs1/srv/system.img"
cat > "$cfg/main.dr.hcl" <<HCL
host "fs1" { root = "sim/fs1" }

resource "drive" "dpsr" {
  host = host.fs1
  path = "/srv/dpsr.img"
  size = "${size_mib}MiB"
}

resource "drive_copy" "dpsr" {
  host   = host.fs1
  source = "/srv/system.img"
  target = drive.dpsr.path
}

runbook "check" {
  step "read" {
    host = host.fs1
    run  = ["/bin/sh", "-c", "head -c 1048576 \"\$DROVER_HOST_ROOT\$\${DROVER_DRILL_CLONE_DRIVE_COPY_DPSR:-/srv/dpsr.img}\" > /dev/null"]
  }
}
HCL
cd "$cfg"
"$work/drover" apply --auto-approve > /dev/null
sync

mean() { # command...: the mean wall time of rounds runs, in seconds
	local total=0 start end
	for _ in $(seq "$rounds"); do
		start=$(date +%s.%N)
		"$@" > /dev/null
		end=$(date +%s.%N)
		total=$(echo "$total + $end - $start" | bc -l)
	done
	echo "$total / $rounds" | bc -l
}
steps=$(mean "$work/drover" runbook run check --auto-approve)
drill=$(mean "$work/drover" drill check --auto-approve)
"$work/drover" drill check --auto-approve | grep -E "^ *\+ fs1|reflink|Drill of"
echo "drive copy: ${size_mib} MiB on xfs (reflink=1), mean of $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %8.3f s\n' "the runbook's steps alone" "$steps" "the whole drill" "$drill"
ratio=$(echo "$drill / $steps" | bc -l)
printf 'drill / steps alone: %.2f\n' "$ratio"
if [ "$(echo "$ratio > 2" | bc -l)" = 1 ]; then
	echo "the drill is above its target of 2x the steps alone"
	exit 1
fi
