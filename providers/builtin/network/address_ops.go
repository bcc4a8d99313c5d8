package network

import (
	"context"
	"errors"
	"net/netip"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/network/ipaddr"
	"github.com/zclconf/go-cty/cty"
)

// What ip_address does on the machine that takes or gives up an address
// is host ops: netlink and packet sockets act on the kernel of the machine
// they run on, so they run there, in this process for a local host and
// through the transport's agent for a remote one.
//
// A refusal (no such interface, outside the subnets, held by another
// machine) comes back in the response, not as the op's error, so that its
// kind and fields cross the wire: a transport carries an op's error as
// text only.
const (
	opAddressCheck  = "network.address_check"
	opAddressFind   = "network.address_find"
	opAddressAdd    = "network.address_add"
	opAddressRemove = "network.address_remove"
)

// addressReq is an address on an interface of the machine, in its network
// namespace Netns ("" the machine's own: only a local host names one).
type addressReq struct {
	Netns     string
	Interface string
	Prefix    netip.Prefix
	// Force and Announce are ipaddr.AddOptions (check takes Force).
	Force, Announce bool
}

type addressResp struct {
	// Held says the interface holds the address already (check), or at
	// all, with the prefix Prefix (find).
	Held    bool
	Prefix  netip.Prefix
	Refusal refusal
}

// refusal is why the machine refused an address, one field set; the zero
// refusal is none.
type refusal struct {
	NoInterface *ipaddr.NoInterfaceError
	Outside     *ipaddr.OutsideError
	Held        *ipaddr.HeldError
	Duplicate   *ipaddr.DuplicateError
}

// refusalOf takes a refusal out of err; what is left is any other error.
func refusalOf(err error) (refusal, error) {
	var r refusal
	if errors.As(err, &r.NoInterface) || errors.As(err, &r.Outside) || errors.As(err, &r.Held) || errors.As(err, &r.Duplicate) {
		return r, nil
	}
	return r, err
}

func (r refusal) err() error {
	switch {
	case r.NoInterface != nil:
		return r.NoInterface
	case r.Outside != nil:
		return r.Outside
	case r.Held != nil:
		return r.Held
	case r.Duplicate != nil:
		return r.Duplicate
	}
	return nil
}

// hostError is the host's network not reached: the host or its network
// namespace could not be opened. Nothing is said of the address.
type hostError struct{ error }

func (e hostError) Unwrap() error { return e.error }

// addressOp registers an op acting on the namespace its request names.
func addressOp(name string, f func(ctx context.Context, ns *ipaddr.Namespace, req addressReq) (addressResp, error)) {
	host.RegisterOp(name, func(ctx context.Context, _ host.Host, req addressReq) (addressResp, error) {
		ns, err := ipaddr.Open(req.Netns)
		if err != nil {
			return addressResp{}, hostError{err}
		}
		defer ns.Close()
		resp, err := f(ctx, ns, req)
		resp.Refusal, err = refusalOf(err)
		return resp, err
	})
}

func init() {
	addressOp(opAddressCheck, func(ctx context.Context, ns *ipaddr.Namespace, req addressReq) (addressResp, error) {
		held, err := ns.Check(req.Interface, req.Prefix, req.Force)
		return addressResp{Held: held}, err
	})
	addressOp(opAddressFind, func(ctx context.Context, ns *ipaddr.Namespace, req addressReq) (addressResp, error) {
		p, ok, err := ns.Find(req.Interface, req.Prefix.Addr())
		return addressResp{Held: ok, Prefix: p}, err
	})
	addressOp(opAddressAdd, func(ctx context.Context, ns *ipaddr.Namespace, req addressReq) (addressResp, error) {
		return addressResp{}, ns.Add(ctx, req.Interface, req.Prefix, ipaddr.AddOptions{Force: req.Force, Announce: req.Announce})
	})
	addressOp(opAddressRemove, func(ctx context.Context, ns *ipaddr.Namespace, req addressReq) (addressResp, error) {
		return addressResp{}, ns.Remove(req.Interface, req.Prefix)
	})
}

// callAddress runs the address op called name on the machine of v's host
// (an ip_address value), for v's interface and address; a refusal comes
// back as the error it was.
func callAddress(ctx context.Context, v cty.Value, name string) (addressResp, error) {
	c, err := host.ConfigFromValue(v.GetAttr("host"))
	if err != nil {
		return addressResp{}, err
	}
	p, err := parseAddress(v.GetAttr("address").AsString())
	if err != nil {
		return addressResp{}, err
	}
	h, err := c.OpenContext(ctx)
	if err != nil {
		return addressResp{}, hostError{err}
	}
	defer h.Close()
	req := addressReq{Netns: c.Netns, Interface: v.GetAttr("interface").AsString(), Prefix: p, Force: forced(v)}
	if a := v.GetAttr("announce"); !a.IsNull() {
		req.Announce = a.True()
	}
	resp, err := host.Call[addressReq, addressResp](ctx, h, name, req)
	if err != nil {
		return resp, err
	}
	return resp, resp.Refusal.err()
}
