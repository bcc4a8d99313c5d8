package warmup

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
)

func init() {
	go ecdsa.GenerateKey(elliptic.P521(), rand.Reader) //nolint:errcheck // only the tables it builds matter
}
