# Sourced by the benchmarks that empty targets of many files between
# runs, once $out is set: toss moves them aside, and the caller deletes
# "$trash" at its end.
#
# Nothing is deleted until the end: the root file system of these
# machines is an ext4 without a journal, where a file created
# within a minute of many deletions (five, before they are synced) scans
# past each inode deleted for a free one (ext4's recently_deleted), from
# the start of its group, at every create: with the 20,000 files of the
# last run deleted, the target's agent spent some 40% of its CPU there,
# and rsync too when it ran first after the deletion. A first sync into a
# new folder meets no such deletions.
trash=$(dirname "$out")/.trash-$(basename "$out")
mkdir -p "$trash"
# toss PATH...: moves each PATH that exists into the trash, but for its
# large files (a drive image, the set's large file), deleted at once for
# the space: they are a few inodes.
toss() {
  local p
  for p in "$@"; do
    [[ -e $p ]] || continue
    find "$p" -type f -size +1M -delete
    mv "$p" "$trash/$(date +%s%N)-$(basename "$p")"
  done
}
