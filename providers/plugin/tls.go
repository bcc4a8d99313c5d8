package plugin

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Every plugin connection is mutual TLS with one-time Ed25519
// certificates, one for each end, each end trusting only the other's.
// go-plugin's own automatic mutual TLS does the same with P-521 keys,
// whose signatures and checks cost ~20 ms of every start on the path to
// the first call; Ed25519 costs well under one.
//
// Drover makes both certificates and hands the plugin its own (with its
// key) and Drover's through a pipe the plugin inherits, never through the
// environment or the command line, which other processes can read.

// tlsFDEnv names the inherited descriptor the plugin reads its
// certificates from.
const tlsFDEnv = "DROVER_PLUGIN_TLS_FD"

// tlsServerName is the name in both certificates.
const tlsServerName = "drover-plugin"

// secureCmd prepares cmd to receive a fresh pair of certificates and
// returns the client side's TLS configuration. Call done once cmd has
// started (or failed to), to close Drover's copy of the pipe.
func secureCmd(cmd *exec.Cmd) (cfg *tls.Config, done func(), err error) {
	secret, cfg, err := certificates()
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	// Far below a pipe's buffer: the write never waits for the reader.
	_, err = w.Write(secret)
	w.Close()
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Environ(), tlsFDEnv+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	return cfg, func() { r.Close() }, nil
}

// certificates makes a fresh pair of certificates: secret is what the
// plugin reads (its certificate and key, and Drover's certificate), cfg
// Drover's side of the connection.
func certificates() (secret []byte, cfg *tls.Config, err error) {
	client, clientKey, err := selfSigned()
	if err != nil {
		return nil, nil, err
	}
	server, serverKey, err := selfSigned()
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(serverKey)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range []*pem.Block{{Type: "CERTIFICATE", Bytes: server.Raw}, {Type: "PRIVATE KEY", Bytes: pkcs8}, {Type: "CERTIFICATE", Bytes: client.Raw}} {
		secret = append(secret, pem.EncodeToMemory(b)...)
	}
	roots := x509.NewCertPool()
	roots.AddCert(server)
	cfg = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{client.Raw}, PrivateKey: clientKey, Leaf: client}},
		RootCAs:      roots,
		ServerName:   tlsServerName,
		MinVersion:   tls.VersionTLS13,
	}
	return secret, cfg, nil
}

// serverTLS is the plugin side: the configuration made from the
// certificates Drover passed, or nil when the plugin was started without
// them.
func serverTLS() (*tls.Config, error) {
	fdText := os.Getenv(tlsFDEnv)
	if fdText == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not an inherited descriptor", tlsFDEnv, fdText)
	}
	f := os.NewFile(uintptr(fd), "drover-plugin-tls")
	defer f.Close()
	return readServerTLS(f)
}

// readServerTLS makes the plugin's configuration from what secureCmd
// wrote.
func readServerTLS(r io.Reader) (*tls.Config, error) {
	secret, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the plugin's certificates: %w", err)
	}
	var blocks []*pem.Block
	for len(blocks) < 3 {
		var b *pem.Block
		if b, secret = pem.Decode(secret); b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 3 || blocks[0].Type != "CERTIFICATE" || blocks[1].Type != "PRIVATE KEY" || blocks[2].Type != "CERTIFICATE" {
		return nil, errors.New("the plugin's certificates are incomplete")
	}
	server, err := x509.ParseCertificate(blocks[0].Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(blocks[1].Bytes)
	if err != nil {
		return nil, err
	}
	// A key of another certificate would only fail later, in the
	// handshake, with an error that names neither.
	signer, ok := key.(crypto.Signer)
	pub, ok2 := server.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !ok2 || !pub.Equal(signer.Public()) {
		return nil, errors.New("the plugin's private key does not belong to its certificate")
	}
	client, err := x509.ParseCertificate(blocks[2].Bytes)
	if err != nil {
		return nil, err
	}
	clients := x509.NewCertPool()
	clients.AddCert(client)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{server.Raw}, PrivateKey: key, Leaf: server}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// selfSigned makes a one-time certificate that can only stand for itself.
func selfSigned() (*x509.Certificate, ed25519.PrivateKey, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: tlsServerName},
		DNSNames:              []string{tlsServerName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.AddDate(30, 0, 0), // a replication daemon's plugin may run for years
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}
