//go:build !linux

package ssh

import "net"

// ackAtOnce leaves nc as it is: TCP_QUICKACK (ack_linux.go) is Linux's.
func ackAtOnce(nc net.Conn) net.Conn { return nc }
