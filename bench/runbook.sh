#!/usr/bin/env bash
# Runbook engine benchmark: a runbook of WAVES x WIDTH `run = ["true"]` steps,
# each step of a wave after every step of the wave before, run by the real
# drover binary (plugin processes, state journal, run record) against
# `make -jPARALLEL` running the same graph of `true` commands: the fork/exec
# floor. Then the time of `drover plan --runbook` for a 100-step runbook.
# The runbook is written in two forms of the same graph: flat, one step
# block per step, each wave's steps naming every step of the wave before;
# and count, one step per wave with count = WIDTH and after = [step.w<k-1>]
# (every instance of the wave before). FORM=flat or FORM=count runs one.
# Each is timed by wall clock and by CPU (user + system, children
# included), the best of the rounds for each: on a shared machine the CPU
# time is the steadier of the two.
#
#   bench/runbook.sh                 # 10 waves of 100, -j10, best of 3
#   WAVES=5 WIDTH=20 bench/runbook.sh
#   FORM=count bench/runbook.sh      # the count form only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out-runbook}
waves=${WAVES:-10}
width=${WIDTH:-100}
par=${PARALLEL:-10}
rounds=${ROUNDS:-3}
forms=${FORM:-flat count}
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover

# gen DIR NAME WAVES WIDTH FORM: the runbook (flat or count) and the
# Makefile of the same graph.
gen() {
  local dir=$1 name=$2 nw=$3 nx=$4 form=$5
  mkdir -p "$dir"
  {
    printf 'host "h" { root = "sim" }\n\nrunbook "%s" {\n' "$name"
    if [ "$form" = count ]; then
      for ((w = 0; w < nw; w++)); do
        printf '  step "w%d" {\n    count = %d\n    host  = host.h\n    run   = ["true"]\n' "$w" "$nx"
        if ((w > 0)); then printf '    after = [step.w%d]\n' "$((w - 1))"; fi
        printf '  }\n'
      done
    else
      for ((w = 0; w < nw; w++)); do
        for ((i = 0; i < nx; i++)); do
          printf '  step "w%d_%d" {\n    host = host.h\n    run  = ["true"]\n' "$w" "$i"
          if ((w > 0)); then
            printf '    after = ['
            for ((j = 0; j < nx; j++)); do printf 'step.w%d_%d%s' "$((w - 1))" "$j" "$([ $j -lt $((nx - 1)) ] && echo ', ')"; done
            printf ']\n'
          fi
          printf '  }\n'
        done
      done
    fi
    printf '}\n'
  } >"$dir/main.dr.hcl"
  {
    printf '.PHONY: all'
    for ((w = 0; w < nw; w++)); do for ((i = 0; i < nx; i++)); do printf ' w%d_%d' "$w" "$i"; done; done
    printf '\nall:'
    for ((i = 0; i < nx; i++)); do printf ' w%d_%d' "$((nw - 1))" "$i"; done
    printf '\n'
    for ((w = 0; w < nw; w++)); do
      for ((i = 0; i < nx; i++)); do
        printf 'w%d_%d:' "$w" "$i"
        if ((w > 0)); then for ((j = 0; j < nx; j++)); do printf ' w%d_%d' "$((w - 1))" "$j"; done; fi
        printf '\n\t@true\n'
      done
    done
  } >"$dir/Makefile"
  mkdir -p "$dir/sim"
}

# best CMD...: the fastest wall time and the least CPU time of $rounds
# runs, in seconds ("WALL CPU").
best() {
  local bw="" bc=""
  for ((r = 0; r < rounds; r++)); do
    local t wall user sys cpu
    if ! t=$({ TIMEFORMAT='%R %U %S'; time "$@" >"$out/last.log" 2>&1; } 2>&1); then
      echo "failed: $* (see $out/last.log)" >&2
      tail -5 "$out/last.log" >&2
      return 1
    fi
    read -r wall user sys <<<"$t"
    cpu=$(echo "$user + $sys" | bc)
    if [ -z "$bw" ] || (($(echo "$wall < $bw" | bc))); then bw=$wall; fi
    if [ -z "$bc" ] || (($(echo "$cpu < $bc" | bc))); then bc=$cpu; fi
  done
  echo "$bw $bc"
}

for form in $forms; do
  gen "$out/graph-$form" bench "$waves" "$width" "$form"
  gen "$out/small-$form" small 10 10 "$form"
done
# make runs the one Makefile both forms share.
maker() { make -s -C "$out/graph-${forms%% *}" -j"$par" all; }
m=$(best maker)
read -r mw mc <<<"$m"
printf '%d steps in %d waves of %d, parallelism %d (best of %d):\n' "$((waves * width))" "$waves" "$width" "$par" "$rounds"
printf '                                   wall       CPU\n'
printf '  make -j%-3d                   %8.3fs %8.3fs\n' "$par" "$mw" "$mc"
for form in $forms; do
  dir=$out/graph-$form
  runit() { rm -rf "$dir/.drover" "$dir"/drover.state.json*; "$out/drover" --chdir "$dir" runbook run bench --auto-approve --parallelism "$par"; }
  d=$(best runit)
  read -r dw dc <<<"$d"
  printf '  drover runbook run (%-5s)  %8.3fs %8.3fs  (%.2fx, %.2fx)\n' "$form" "$dw" "$dc" "$(echo "$dw / $mw" | bc -l)" "$(echo "$dc / $mc" | bc -l)"
done
for form in $forms; do
  p=$(best "$out/drover" --chdir "$out/small-$form" plan --runbook small)
  read -r pw pc <<<"$p"
  printf '100-step runbook plan, %-5s (drover plan --runbook): %.3fs (CPU %.3fs)\n' "$form" "$pw" "$pc"
done
