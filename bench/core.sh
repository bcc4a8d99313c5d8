#!/usr/bin/env bash
# Core engine benchmark: plan on empty state, apply, and a no-op plan of
# three shapes of the built-in `value` resource, through the real drover
# binary and its plugin processes. When `tofu` or `terraform` is on PATH the
# same shapes run with `terraform_data` in the same run and ratios are
# printed.
#
#   bench/core.sh            # N = 1000 and 10000 (chain: 1000)
#   SIZES="1000" bench/core.sh
#   PEER=none bench/core.sh  # skip the peer tool
#   ROUNDS=5 bench/core.sh   # best of 5 drover runs per step (default 3;
#                            # the peer runs once: its runs take minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out}
sizes=${SIZES:-"1000 10000"}
rounds=${ROUNDS:-3}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover

peer=${PEER:-}
if [ -z "$peer" ]; then
  peer=$(command -v tofu || command -v terraform || true)
elif [ "$peer" = none ]; then
  peer=""
fi

# gen TOOL SHAPE N DIR: write the configuration of one shape.
gen() {
  local tool=$1 shape=$2 n=$3 dir=$4 type=value ext=dr.hcl
  if [ "$tool" = peer ]; then type=terraform_data; ext=tf; fi
  mkdir -p "$dir"
  case $shape in
    count)
      printf 'resource "%s" "r" {\n  count = %d\n  input = "v${count.index}"\n}\n' "$type" "$n" >"$dir/main.$ext" ;;
    blocks)
      for ((i = 0; i < n; i++)); do
        printf 'resource "%s" "r%d" {\n  input = "v%d"\n}\n' "$type" "$i" "$i"
      done >"$dir/main.$ext" ;;
    chain)
      {
        printf 'resource "%s" "r0" {\n  input = "start"\n}\n' "$type"
        for ((i = 1; i < n; i++)); do
          printf 'resource "%s" "r%d" {\n  input = %s.r%d.output\n}\n' "$type" "$i" "$type" "$((i - 1))"
        done
      } >"$dir/main.$ext" ;;
  esac
}

# measure LABEL CMD...: run CMD, print seconds and peak RSS (MiB).
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time" "$@" >"$out/$label.log" 2>&1 || {
    echo "failed: $label (see $out/$label.log)" >&2; tail -5 "$out/$label.log" >&2; return 1; }
  read -r secs kib <"$out/time"
  echo "$secs $((kib / 1024))"
}

# best DIR STEP LABEL CMD...: the fastest of $rounds runs of CMD (and the
# peak RSS of that run); plan and apply start each run from an empty state.
best() {
  local dir=$1 step=$2 label=$3; shift 3
  local bs="" bm="" s m
  for _ in $(seq "$rounds"); do
    [ "$step" = noop-plan ] || rm -f "$dir"/drover.state.json*
    read -r s m < <(measure "$label" "$@")
    if [ -z "$bs" ] || [ "$(echo "$s < $bs" | bc -l)" = 1 ]; then bs=$s bm=$m; fi
  done
  echo "$bs $bm"
}

echo "best of $rounds drover runs per step (the peer runs once); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %6s  %-10s %8s %8s' shape N step drover_s MiB
[ -n "$peer" ] && printf ' %8s %8s %7s' "$(basename "$peer")_s" MiB ratio
printf '\n'
for shape in count blocks chain; do
  for n in $sizes; do
    [ "$shape" = chain ] && [ "$n" -gt 1000 ] && continue
    d="$out/$shape-$n/drover"; gen drover "$shape" "$n" "$d"
    p="$out/$shape-$n/peer"
    if [ -n "$peer" ]; then
      gen peer "$shape" "$n" "$p"
      (cd "$p" && "$peer" init -input=false >/dev/null 2>&1)
    fi
    for step in plan apply noop-plan; do
      case $step in
        plan|noop-plan) dargs=(plan); pargs=(plan -input=false -lock=false) ;;
        apply) dargs=(apply --auto-approve); pargs=(apply -input=false -auto-approve -lock=false) ;;
      esac
      read -r ds dm < <(best "$d" "$step" "$shape-$n-$step-drover" "$out/drover" --chdir="$d" "${dargs[@]}")
      printf '%-8s %6s  %-10s %8s %8s' "$shape" "$n" "$step" "$ds" "$dm"
      if [ -n "$peer" ]; then
        read -r ps pm < <(cd "$p" && measure "$shape-$n-$step-peer" "$peer" "${pargs[@]}")
        printf ' %8s %8s %6.1fx' "$ps" "$pm" "$(echo "$ps / ($ds + 0.001)" | bc -l)"
      fi
      printf '\n'
    done
  done
done
