//go:build ignore

// race times how soon a client reaches a service at an address that
// moves, for bench/network.sh and bench/vm.sh:
//
//	go run bench/race.go serve ADDR NAME
//	go run bench/race.go warm ADDR
//	go run bench/race.go race ADDR NAME -- CMD ARGS...
//	go run bench/race.go marker FILE TEXT -- CMD ARGS...
//
// serve listens on ADDR and answers each connection with NAME, until it is
// killed. warm connects to ADDR once, a refusal included, so that the
// neighbour cache holds the MAC that answers for it now. race starts CMD
// and, from that moment, starts a connect to ADDR every 2 ms (each given
// 100 ms), until one is answered with NAME; marker instead reads FILE
// every 2 ms until it holds TEXT. Both print three numbers: when CMD was
// started (Unix seconds), and the seconds after that at which the client
// was answered (or the marker appeared) and CMD exited. CMD's output goes
// to the standard error. Both give up after RACE_TIMEOUT (a Go duration,
// default 2m). The sockets belong to the namespace this process
// runs in: run it under `ip netns exec`.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: race serve|warm|race|marker ...")
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2], os.Args[3])
	case "warm":
		c, err := net.DialTimeout("tcp", os.Args[2], time.Second)
		if err == nil {
			c.Close()
		}
	case "race", "marker":
		if len(os.Args) < 6 || os.Args[4] != "--" {
			fail("usage: race " + os.Args[1] + " ADDR|FILE NAME|TEXT -- CMD ARGS...")
		}
		poll := reached(os.Args[2], os.Args[3])
		if os.Args[1] == "marker" {
			poll = marked(os.Args[2], os.Args[3])
		}
		run(poll, os.Args[5:])
	default:
		fail("unknown command " + os.Args[1])
	}
}

func serve(addr, name string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err.Error())
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fail(err.Error())
		}
		io.WriteString(c, name)
		c.Close()
	}
}

// reached is a poll that starts one connect to addr and says whether it
// was answered by name. It returns at once: each connect runs on its own,
// so that one whose SYN went to the old holder's MAC does not hold up the
// next, which the neighbour cache may send to the new one.
func reached(addr, name string) func() bool {
	answered := make(chan struct{}, 1)
	return func() bool {
		select {
		case <-answered:
			return true
		default:
		}
		go func() {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Second))
			if b, _ := io.ReadAll(c); string(b) == name {
				select {
				case answered <- struct{}{}:
				default:
				}
			}
		}()
		return false
	}
}

func marked(file, text string) func() bool {
	return func() bool {
		b, _ := os.ReadFile(file)
		return bytes.Contains(b, []byte(text))
	}
}

// run starts argv and polls every 2 ms until poll passes and argv exits,
// for at most RACE_TIMEOUT.
func run(poll func() bool, argv []string) {
	timeout := 2 * time.Minute
	if s := os.Getenv("RACE_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fail("RACE_TIMEOUT: " + err.Error())
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var hit, exit time.Duration
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for hit == 0 || exit == 0 {
		select {
		case err := <-done:
			exit = time.Since(start)
			if err != nil {
				fail(fmt.Sprintf("%s: %v", argv[0], err))
			}
			done = nil
		case <-tick.C:
		case <-ctx.Done():
			fail(fmt.Sprintf("not reached within %s", timeout))
		}
		if hit == 0 && poll() {
			hit = time.Since(start)
		}
	}
	fmt.Printf("%.6f %.4f %.4f\n", float64(start.UnixNano())/1e9, hit.Seconds(), exit.Seconds())
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "race:", msg)
	os.Exit(1)
}
