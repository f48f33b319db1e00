package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/store"
)

// TestBulkLoad checks that a bulk load enlarges the writer's page cache and
// spaces out checkpoints without touching durability, and that done puts
// every setting back and shrinks the WAL again.
func TestBulkLoad(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "casegate.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Settings(ctx)
	if before["temp_store"] != "2" {
		t.Errorf("writer temp_store = %q, want 2 (memory)", before["temp_store"])
	}
	done, err := s.BulkLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	during, _ := s.Settings(ctx)
	if during["cache_size"] != "-32768" || during["wal_autocheckpoint"] != "65536" {
		t.Errorf("during a bulk load: cache_size %s, wal_autocheckpoint %s", during["cache_size"], during["wal_autocheckpoint"])
	}
	if during["synchronous"] != before["synchronous"] || during["journal_mode"] != "wal" {
		t.Errorf("a bulk load changed durability: %v, before %v", during, before)
	}
	// Write twice the usual checkpoint interval (1000 pages, 4 MiB) into the
	// WAL, in many transactions: checkpoints as usual would keep reusing the
	// first 4 MiB of the file.
	for i := range 40 {
		cs := make([]casegate.Case, 3000)
		for k := range cs {
			cs[k] = casegate.Case{ReceiptNumber: receiptN(i*3000 + k), FormType: "I-130", Office: "NBC"}
		}
		if err := s.Update(ctx, func(tx casegate.Tx) error { return tx.InsertCases(ctx, cs) }); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() < 8<<20 {
		t.Errorf("WAL during a bulk load: %v, %v; want it to grow past 8 MiB without a checkpoint", st.Size(), err)
	}
	done()
	after, _ := s.Settings(ctx)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("after the bulk load %s = %q, want %q as before", k, after[k], v)
		}
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Errorf("WAL after the bulk load: %d bytes, want it truncated", st.Size())
	}
}

func receiptN(n int) string {
	const digits = "0123456789"
	b := []byte("IOE0000000000")
	for i := len(b) - 1; n > 0; i-- {
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b)
}
