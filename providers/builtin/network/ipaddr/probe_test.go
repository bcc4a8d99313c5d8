package ipaddr

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"golang.org/x/sys/unix"
)

// pair is two machines, holder and taker, played by network namespaces
// whose eth0 are the two ends of one veth (192.0.2.1/24 and .2/24).
func pair(t *testing.T) (holder, taker *Namespace) {
	t.Helper()
	testenv.Root(t)
	ip := testenv.Command(t, "ip", "iproute2")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	b := make([]byte, 3)
	rand.Read(b)
	names := [2]string{"drover-t-holder-" + hex.EncodeToString(b), "drover-t-taker-" + hex.EncodeToString(b)}
	for _, n := range names {
		run("netns", "add", n)
		t.Cleanup(func() { run("netns", "del", n) })
	}
	run("-n", names[0], "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", names[1])
	for i, n := range names {
		run("-n", n, "addr", "add", fmt.Sprintf("192.0.2.%d/24", i+1), "dev", "eth0")
		run("-n", n, "link", "set", "eth0", "up")
	}
	var ns [2]*Namespace
	for i, n := range names {
		var err error
		if ns[i], err = Open(n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns[i].Close() })
	}
	return ns[0], ns[1]
}

// answerLate plays a holder of ip on n's eth0 that answers slowly and over
// a lossy link: it ignores the first `lost` probes and answers each later
// one after delay, until the test ends.
func answerLate(t *testing.T, n *Namespace, ip netip.Addr, lost int, delay time.Duration) {
	t.Helper()
	link, err := n.link("eth0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.openARP(link)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		c.Close()
	})
	mac := link.Attrs().HardwareAddr
	wg.Go(func() {
		buf := make([]byte, 1500)
		seen := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			unix.Poll([]unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}, 10)
			nr, _, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
			if err != nil {
				continue
			}
			p, ok := parseARP(buf[:nr])
			if !ok || p.Op != arpRequest || p.TargetIP != ip || p.SenderIP != netip.IPv4Unspecified() {
				continue
			}
			if seen++; seen <= lost {
				continue
			}
			answer := arpPacket{Op: arpReply, SenderMAC: mac, SenderIP: ip, TargetMAC: p.SenderMAC, TargetIP: netip.IPv4Unspecified()}.marshal()
			wg.Go(func() {
				select {
				case <-stop:
				case <-time.After(delay):
					c.send(answer)
				}
			})
		}
	})
}

// TestProbeSeesSlowHolder: a holder is seen, and the address refused,
// however its answer comes within the probe: at once, or only to the last
// probe (the others lost) and late.
func TestProbeSeesSlowHolder(t *testing.T) {
	addr := netip.MustParsePrefix("192.0.2.10/24")
	for _, tc := range []struct {
		name  string
		lost  int
		delay time.Duration
	}{
		{"answers at once", 0, 0},
		{"answers the last probe late", probes - 1, probeWait / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			holder, taker := pair(t)
			answerLate(t, holder, addr.Addr(), tc.lost, tc.delay)
			err := taker.Add(t.Context(), "eth0", addr, AddOptions{Announce: true})
			var held *HeldError
			if !errors.As(err, &held) {
				t.Fatalf("Add = %v, want the address refused as held", err)
			}
			link, _ := holder.link("eth0")
			if held.MAC.String() != link.Attrs().HardwareAddr.String() {
				t.Errorf("held by %s, want the holder's %s", held.MAC, link.Attrs().HardwareAddr)
			}
			if got, ok, err := taker.Find("eth0", addr.Addr()); err != nil || ok {
				t.Errorf("the taker holds %s (%v, %v)", got, ok, err)
			}
		})
	}
}
