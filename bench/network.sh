#!/usr/bin/env bash
# Address takeover benchmark: how soon a client reaches a service at an
# address that moves from a failed server to its standby, by `drover apply`
# of an `ip_address` (and of a `network_identity` holding only that
# address) and by hand with `ip addr add` and `arping -U -c 1`, in one run.
#
# Namespaces fs1, fs2 and client sit on a bridge (TEST-NET-1 only: fs1
# 192.0.2.1, fs2 .2, the client .3; the service address 192.0.2.10/24).
# Before each run fs1 holds the service address, the client connects to it
# (its neighbour cache then holds fs1's MAC), and fs1 fails (the address
# is removed there). fs2 listens on port 8445 at every address. The clock
# starts as the takeover command starts; from then the client starts a
# connect every 2 ms (each given 100 ms) until fs2 answers one. Until fs2
# announces the address, the client's SYNs go to fs1's MAC and are lost.
# hand_probed first probes by hand as iputils can, the least it can do:
# one ARP probe (arping -D) answered within a second, then the same.
# ip_address_force is the same ip_address with force = true, which skips
# the ARP probe: the floor of drover's time, not a way to run a takeover.
# For drover the JSON events of the apply give the resource's own time.
# Every case runs ROUNDS times (default 5), taking turns; the best counts.
# Targets (issue 17): drover <= 1.5 x by hand, and under 200 ms.
#
#   bench/network.sh
#   ROUNDS=10 bench/network.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/bench/out/network}
rounds=${ROUNDS:-5}
if [ "$(id -u)" != 0 ]; then
  echo "bench/network.sh makes network namespaces: run it as root" >&2
  exit 1
fi
for tool in arping:iputils-arping ip:iproute2 jq:jq bc:bc tcpdump:tcpdump; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/drover" ./cmd/drover
go build -o "$out/race" bench/race.go

suffix=$$
sw=drover-b-sw-$suffix fs1=drover-b-fs1-$suffix fs2=drover-b-fs2-$suffix client=drover-b-client-$suffix
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  for ns in "$client" "$fs2" "$fs1" "$sw"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
i=0
for ns in "$fs1" "$fs2" "$client"; do
  i=$((i + 1))
  ip netns add "$ns"
  ip -n "$sw" link add "p$i" type veth peer name eth0 netns "$ns"
  ip -n "$sw" link set "p$i" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "192.0.2.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
service=192.0.2.10
ip netns exec "$fs2" "$out/race" serve 0.0.0.0:8445 fs2 &
server=$!
fs1_mac=$(ip -n "$fs1" -o link show eth0 | sed -n 's|.*link/ether \([^ ]*\).*|\1|p')

cases="ip_address network_identity ip_address_force"
for kind in $cases; do
  mkdir -p "$out/$kind"
  {
    printf 'host "fs2" {\n  netns = "%s"\n}\n\n' "$fs2"
    if [ "$kind" != network_identity ]; then
      printf 'resource "ip_address" "service" {\n  host      = host.fs2\n  interface = "eth0"\n  address   = "%s/24"\n' "$service"
      # Without the ARP probe: the floor of drover's time, not a way to run.
      [ "$kind" = ip_address_force ] && printf '  force     = true\n'
      printf '}\n'
    else
      printf 'resource "network_identity" "fs1" {\n  host = host.fs2\n  address {\n    interface = "eth0"\n    address   = "%s/24"\n  }\n}\n' "$service"
    fi
  } >"$out/$kind/main.dr.hcl"
done

# fail_fs1: fs1 holds the service address, the client learns fs1's MAC
# for it (what it learnt of fs2 in the last run forgotten), fs2 does not
# hold it, then fs1 drops it.
fail_fs1() {
  ip -n "$fs2" addr del "$service/24" dev eth0 2>/dev/null || true
  ip -n "$fs1" addr add "$service/24" dev eth0
  ip -n "$client" neigh flush to "$service"
  ip netns exec "$client" "$out/race" warm "$service:8445"
  if ! ip -n "$client" neigh show "$service" dev eth0 | grep -q "$fs1_mac"; then
    echo "the client did not learn fs1's MAC ($fs1_mac) for $service: $(ip -n "$client" neigh show "$service")" >&2
    exit 1
  fi
  ip -n "$fs1" addr del "$service/24" dev eth0
}
# capture CMD...: runs CMD while tcpdump records ARP and the service's
# TCP on the bridge; prints CMD's output, then appends to $out/trace the
# seconds from CMD's start (its first number) to the first and the last ARP
# probe for the service, its first announcement and fs2's first SYN-ACK.
capture() {
  local pcap=$out/take.pcap cap line
  rm -f "$pcap" "$out/tcpdump.err"
  ip netns exec "$sw" tcpdump -i br0 -n -U --immediate-mode -Z root -w "$pcap" "arp or tcp port 8445" 2>"$out/tcpdump.err" &
  cap=$!
  for _ in $(seq 500); do grep -q listening "$out/tcpdump.err" && break; sleep 0.01; done
  line=$("$@")
  kill "$cap"; wait "$cap" 2>/dev/null || true
  echo "$line"
  tcpdump -r "$pcap" -n -tt 2>/dev/null | awk -v t0="${line%% *}" -v ip="$service" '
    $0 ~ "who-has " ip " .*tell 0.0.0.0" { if (p == "") p = $1 - t0; l = $1 - t0 }
    $0 ~ "who-has " ip " .*tell " ip "," && !a { a = $1 - t0 }
    $0 ~ "IP " ip ".8445 > .*Flags \\[S\\.\\]" && !s { s = $1 - t0 }
    END { printf "%s %s %s %s\n", p == "" ? "-" : p, l == "" ? "-" : l, a == "" ? "-" : a, s == "" ? "-" : s }' >>"$out/$c.trace"
}
# epoch TIMESTAMP: seconds since 1970 of an RFC 3339 time.
epoch() { date -d "$1" +%s.%N; }

# take CASE: one takeover; appends "connect exit [start_offset resource_s]"
# (seconds) to $out/CASE.times.
take() {
  local c=$1 times
  fail_fs1
  case $c in
    hand|hand_probed)
      local probe=""
      [ "$c" = hand_probed ] && probe="arping -D -q -c 1 -w 1 -I eth0 $service && "
      times=$(capture ip netns exec "$client" "$out/race" race "$service:8445" fs2 -- \
        ip netns exec "$fs2" sh -c "${probe}ip addr add $service/24 dev eth0 && arping -q -U -c 1 -I eth0 $service" 2>"$out/$c.log")
      echo "$times" | awk '{print $2, $3}' >>"$out/$c.times" ;;
    ip_address|network_identity|ip_address_force)
      rm -f "$out/$c"/drover.state.json*
      times=$(capture ip netns exec "$client" "$out/race" race "$service:8445" fs2 -- \
        "$out/drover" --chdir="$out/$c" apply --auto-approve --json 2>"$out/$c.log")
      read -r t0 conn exit <<<"$times"
      local started finished
      started=$(jq -rR 'fromjson? | select(.type == "apply_start") | ."@timestamp"' "$out/$c.log")
      finished=$(jq -rR 'fromjson? | select(.type == "apply_complete") | ."@timestamp"' "$out/$c.log")
      if [ -z "$started" ] || [ -z "$finished" ]; then
        echo "no apply events from drover (see $out/$c.log)" >&2
        exit 1
      fi
      echo "$conn $exit $(echo "$(epoch "$started") - $t0" | bc -l) $(echo "$(epoch "$finished") - $(epoch "$started")" | bc -l)" >>"$out/$c.times" ;;
  esac
}

echo "(machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) before; best of $rounds, cases taking turns)"
for _ in $(seq "$rounds"); do
  for c in hand hand_probed $cases; do take "$c"; done
done

# best CASE COLUMN: the least value of a column of CASE's times.
best() { awk -v k="$2" 'NR == 1 || $k < m { m = $k } END { printf "%.3f", m }' "$out/$1.times"; }
# median FILE COLUMN: the median of a column of $out/FILE.
median() { awk -v k="$2" '{ print $k }' "$out/$1" | sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; if (m == "-") print m; else printf "%.3f", m }'; }
hand=$(best hand 1)
printf '%-18s %9s %9s %9s %9s %9s %7s\n' case connect_s median_s exit_s start_s resource_s ratio
for c in hand hand_probed $cases; do
  s=- r=-
  if [ "${c#hand}" = "$c" ]; then s=$(best "$c" 3) r=$(best "$c" 4); fi
  printf '%-18s %9s %9s %9s %9s %9s %6.1fx\n' "$c" "$(best "$c" 1)" "$(median "$c.times" 1)" "$(best "$c" 2)" "$s" "$r" \
    "$(echo "$(best "$c" 1) / $hand" | bc -l)"
done
echo "on the wire (medians, seconds from the command's start; tcpdump on the bridge):"
printf '  %-18s %9s %9s %9s %9s\n' case probe last_probe announce syn_ack
for c in hand hand_probed $cases; do
  printf '  %-18s %9s %9s %9s %9s\n' "$c" "$(median "$c.trace" 1)" "$(median "$c.trace" 2)" "$(median "$c.trace" 3)" "$(median "$c.trace" 4)"
done
echo "  (drover's probe: 3 ARP probes 10 ms apart, then 100 ms for answers, by design: 120 ms from the first to the announcement)"
echo "connect: start of the command to the client's first answered connect; exit: to the command's exit"
echo "start: drover's start to the resource's apply_start event (CLI, plugin, refresh, plan); resource: apply_start to apply_complete"
echo "ip_address / hand_probed: $(printf '%.2f' "$(echo "$(best ip_address 1) / $(best hand_probed 1)" | bc -l)")x (both probe first)"
echo "targets: connect ratio <= 1.5x and connect < 0.200 s"
