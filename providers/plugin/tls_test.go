package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// session is one secureCmd: Drover's end and what the plugin read.
type session struct {
	client, server *tls.Config
	env            string
}

func newSession(t *testing.T) session {
	t.Helper()
	cmd := exec.Command("true")
	client, done, err := secureCmd(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	server, err := readServerTLS(cmd.ExtraFiles[len(cmd.ExtraFiles)-1])
	if err != nil {
		t.Fatal(err)
	}
	return session{client: client, server: server, env: cmd.Env[len(cmd.Env)-1]}
}

// tlsHandshake connects client to server over a socket and has the
// server answer once: a refusal surfaces on either end, since in TLS 1.3
// the server checks the client's certificate after the client is done.
func tlsHandshake(t *testing.T, client, server *tls.Config) (state tls.ConnectionState, clientErr, serverErr error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type result struct {
		err   error
		state tls.ConnectionState
	}
	done := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		srv := tls.Server(c, server)
		if err := srv.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		_, err = srv.Write([]byte("ok"))
		done <- result{err: err, state: srv.ConnectionState()}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := tls.Client(c, client)
	if clientErr = cl.Handshake(); clientErr == nil {
		_, clientErr = io.ReadFull(cl, make([]byte, 2))
	}
	cl.Close()
	r := <-done
	return r.state, clientErr, r.err
}

func TestMutualTLS(t *testing.T) {
	s, other := newSession(t), newSession(t)
	if s.env != tlsFDEnv+"=3" {
		t.Errorf("the plugin is told %q, want its certificates on descriptor 3", s.env)
	}
	for _, tc := range []struct {
		name           string
		client, server *tls.Config
		refused        bool
	}{
		{"the pair made together", s.client, s.server, false},
		{"a client the plugin was not told of", other.client, s.server, true},
		{"a plugin Drover did not make", s.client, other.server, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, clientErr, serverErr := tlsHandshake(t, tc.client, tc.server)
			if tc.refused {
				if serverErr == nil || !strings.Contains(serverErr.Error(), "certificate") {
					t.Fatalf("the plugin's end: %v, want a certificate refused (Drover's end: %v)", serverErr, clientErr)
				}
				return
			}
			if clientErr != nil || serverErr != nil {
				t.Fatalf("client: %v; server: %v", clientErr, serverErr)
			}
			if len(state.PeerCertificates) != 1 {
				t.Fatalf("the plugin saw %d client certificates", len(state.PeerCertificates))
			}
			if _, ok := state.PeerCertificates[0].PublicKey.(ed25519.PublicKey); !ok {
				t.Errorf("client key %T, want Ed25519", state.PeerCertificates[0].PublicKey)
			}
		})
	}
}

// TestReadServerTLSRefusesForeignKey: a certificate with the key of
// another is refused as it is read, not in the handshake.
func TestReadServerTLSRefusesForeignKey(t *testing.T) {
	mine, _, err := certificates()
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := certificates()
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := pem.Decode(mine)
	_, rest := pem.Decode(theirs)
	foreignKey, client := pem.Decode(rest)
	_, err = readServerTLS(bytes.NewReader(bytes.Join([][]byte{pem.EncodeToMemory(cert), pem.EncodeToMemory(foreignKey), client}, nil)))
	if err == nil || !strings.Contains(err.Error(), "does not belong to its certificate") {
		t.Fatalf("got %v", err)
	}
}

func TestReadServerTLSRefusesIncomplete(t *testing.T) {
	_, err := readServerTLS(strings.NewReader("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	if err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("got %v", err)
	}
}
