package testenv

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// KeyFile writes key as a PEM private key file in a fresh directory of t and
// returns its path: PKCS#1 ("RSA PRIVATE KEY") when pkcs1 is set and key is
// RSA, else PKCS#8 ("PRIVATE KEY"), the two forms `openssl genrsa` and
// `openssl genpkey` write.
func KeyFile(t testing.TB, key any, pkcs1 bool) string {
	t.Helper()
	block := &pem.Block{Type: "PRIVATE KEY"}
	if rk, ok := key.(*rsa.PrivateKey); ok && pkcs1 {
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block.Bytes = der
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
