//go:build ignore

// delay_proxy forwards TCP connections from a local port to another,
// holding every chunk for a delay in each direction: a link with that
// latency on one machine, without changing its network settings.
//
//	go run bench/delay_proxy.go LISTEN TARGET DELAY   # 127.0.0.1:0 127.0.0.1:22 10ms
//
// It prints the address it listens on, then serves until killed.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

type chunk struct {
	due  time.Time
	data []byte
}

// forward copies src to dst, each chunk delay after it was read, in order.
func forward(dst, src net.Conn, delay time.Duration) {
	chunks := make(chan chunk, 1024)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	dst.(*net.TCPConn).CloseWrite()
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: delay_proxy LISTEN TARGET DELAY")
		os.Exit(2)
	}
	delay, err := time.ParseDuration(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			t, err := net.Dial("tcp", os.Args[2])
			if err != nil {
				return
			}
			defer t.Close()
			done := make(chan struct{})
			go func() { forward(t, c, delay); close(done) }()
			forward(c, t, delay)
			<-done
		}()
	}
}
