package funcs

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// network is an address prefix held as a big integer so that IPv4 and IPv6
// arithmetic share one code path.
type network struct {
	base   *big.Int
	prefix int
	bits   int
}

func parseNetwork(s string) (network, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return network{}, fmt.Errorf("invalid CIDR expression: %s", err)
	}
	p = p.Masked()
	return network{base: new(big.Int).SetBytes(p.Addr().AsSlice()), prefix: p.Bits(), bits: p.Addr().BitLen()}, nil
}

// size is the number of addresses in a prefix of length prefix.
func (n network) size(prefix int) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(n.bits-prefix))
}

func (n network) addr(v *big.Int) netip.Addr {
	b := v.FillBytes(make([]byte, n.bits/8))
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (n network) prefixString(base *big.Int, prefix int) string {
	return netip.PrefixFrom(n.addr(base), prefix).String()
}

func (n network) contains(v *big.Int) bool {
	end := new(big.Int).Add(n.base, n.size(n.prefix))
	return v.Cmp(n.base) >= 0 && v.Cmp(end) < 0
}

func bigArg(v cty.Value, argIdx int) (*big.Int, error) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return nil, function.NewArgErrorf(argIdx, "must be a whole number")
	}
	i, _ := bf.Int(nil)
	return i, nil
}

func intArg(v cty.Value, argIdx int) (int, error) {
	i, err := bigArg(v, argIdx)
	if err != nil {
		return 0, err
	}
	if !i.IsInt64() || i.Int64() < -1<<31 || i.Int64() > 1<<31 {
		return 0, function.NewArgErrorf(argIdx, "number is out of range")
	}
	return int(i.Int64()), nil
}

// CIDRHostFunc computes the address of host number hostnum in a prefix;
// a negative hostnum counts back from the end.
var CIDRHostFunc = function.New(&function.Spec{
	Description: "Returns the address of host number hostnum within prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "hostnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, err := parseNetwork(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		host, err := bigArg(args[1], 1)
		if err != nil {
			return cty.NilVal, err
		}
		size := n.size(n.prefix)
		off := new(big.Int).Set(host)
		if off.Sign() < 0 {
			off.Add(off, size)
		}
		if off.Sign() < 0 || off.Cmp(size) >= 0 {
			return cty.NilVal, function.NewArgErrorf(1, "prefix of %d bits cannot accommodate a host numbered %s", n.prefix, host)
		}
		return cty.StringVal(n.addr(off.Add(off, n.base)).String()), nil
	},
})

// CIDRNetmaskFunc writes an IPv4 prefix length as a dotted netmask.
var CIDRNetmaskFunc = function.New(&function.Spec{
	Description: "Returns the dotted netmask of an IPv4 prefix.",
	Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, err := parseNetwork(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		if n.bits != 32 {
			return cty.NilVal, function.NewArgErrorf(0, "only IPv4 networks have a netmask")
		}
		mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 32), n.size(n.prefix))
		return cty.StringVal(n.addr(mask).String()), nil
	},
})

// CIDRSubnetFunc computes subnet number netnum of newbits more bits.
var CIDRSubnetFunc = function.New(&function.Spec{
	Description: "Returns subnet number netnum of prefix extended by newbits bits.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "newbits", Type: cty.Number},
		{Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, err := parseNetwork(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		newbits, err := intArg(args[1], 1)
		if err != nil {
			return cty.NilVal, err
		}
		netnum, err := bigArg(args[2], 2)
		if err != nil {
			return cty.NilVal, err
		}
		length := n.prefix + newbits
		if newbits < 0 || length > n.bits {
			return cty.NilVal, function.NewArgErrorf(1, "insufficient address space to extend prefix of %d by %d", n.prefix, newbits)
		}
		limit := new(big.Int).Lsh(big.NewInt(1), uint(newbits))
		if netnum.Sign() < 0 || netnum.Cmp(limit) >= 0 {
			return cty.NilVal, function.NewArgErrorf(2, "prefix extension of %d does not accommodate a subnet numbered %s", newbits, netnum)
		}
		base := new(big.Int).Mul(netnum, n.size(length))
		base.Add(base, n.base)
		return cty.StringVal(n.prefixString(base, length)), nil
	},
})

// CIDRSubnetsFunc allocates consecutive subnets of the given sizes, each
// aligned to its own size, as cidrsubnet would number them.
var CIDRSubnetsFunc = function.New(&function.Spec{
	Description: "Allocates consecutive subnets of prefix, one per newbits argument.",
	Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
	VarParam:    &function.Parameter{Name: "newbits", Type: cty.Number},
	Type:        function.StaticReturnType(cty.List(cty.String)),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, err := parseNetwork(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		if len(args) == 1 {
			return cty.ListValEmpty(cty.String), nil
		}
		next := new(big.Int).Set(n.base)
		out := make([]cty.Value, 0, len(args)-1)
		for i, a := range args[1:] {
			newbits, err := intArg(a, i+1)
			if err != nil {
				return cty.NilVal, err
			}
			if newbits < 1 {
				return cty.NilVal, function.NewArgErrorf(i+1, "must extend the prefix by at least one bit")
			}
			length := n.prefix + newbits
			if length > n.bits {
				return cty.NilVal, function.NewArgErrorf(i+1, "would extend prefix to %d bits, which is too long for an IPv%d address", length, map[int]int{32: 4, 128: 6}[n.bits])
			}
			size := n.size(length)
			// Round up to the next boundary of this subnet's size.
			rem := new(big.Int).Mod(next, size)
			if rem.Sign() != 0 {
				next.Add(next, new(big.Int).Sub(size, rem))
			}
			last := new(big.Int).Add(next, size)
			last.Sub(last, big.NewInt(1))
			if !n.contains(next) || !n.contains(last) {
				return cty.NilVal, function.NewArgErrorf(i+1, "not enough remaining address space for a subnet with a prefix of %d bits after %s", length, n.prefixString(n.base, n.prefix))
			}
			out = append(out, cty.StringVal(n.prefixString(next, length)))
			next = last.Add(last, big.NewInt(1))
		}
		return cty.ListVal(out), nil
	},
})
