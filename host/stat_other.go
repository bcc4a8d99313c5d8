//go:build !unix

package host

func sysStat(any) (Stat, bool) { return Stat{}, false }
