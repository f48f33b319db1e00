package testenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/store"
)

// SQLite returns a migrated store on a fresh file in t's temp dir, closed when
// the test ends, and the file's path.
func SQLite(t testing.TB) (casegate.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "casegate.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, path
}

// Keyring returns a keyring holding one fresh secret.
func Keyring(t testing.TB) *accesscode.Keyring {
	t.Helper()
	secret, err := accesscode.NewSecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.NewKeyring([]accesscode.Secret{secret})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
