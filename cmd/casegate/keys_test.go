package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate/accesscode"
)

// TestKeysRotateAndRetire: what the old key signed still verifies after a
// rotation, and what is signed next carries the new key's id; the old key
// cannot be retired while the audit chain needs it, and once it is (with
// -force) what it signed is refused. The current key is never retired.
func TestKeysRotateAndRetire(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.key")
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": secret}
	if _, _, err := runCmd(t, vars, "admin", "token", "create", "before"); err != nil { // an audit event chained with k1
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.jsonl")
	checkpoint(t, vars, old, "k1")
	// A code MAC'd and a message sealed with k1.
	k1 := keyring(t, secret)
	_, mac := k1.MAC("req", "ABCD1234")
	sealed := k1.Seal("ABCD1234")

	out, _, err := runCmd(t, vars, "keys", "rotate")
	if err != nil || !strings.Contains(out, "key k2 is now current") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	if info, err := os.Stat(secret); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the secret file after rotating: %v, mode %v", err, info.Mode())
	}
	k2 := keyring(t, secret)
	if k2.AuditKeyID() != "k2" || !k2.Verify("k1", mac, "req", "ABCD1234") {
		t.Errorf("after rotating: current %s; the code of k1 verifies: %v", k2.AuditKeyID(), k2.Verify("k1", mac, "req", "ABCD1234"))
	}
	if got, err := k2.Open(sealed); err != nil || got != "ABCD1234" {
		t.Errorf("after rotating, a message sealed with k1 opens to %q, %v", got, err)
	}
	if out, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", old); err != nil || !strings.Contains(out, "matches") {
		t.Errorf("the checkpoint signed with k1, after rotating: %v\n%s", err, out)
	}
	checkpoint(t, vars, filepath.Join(dir, "new.jsonl"), "k2")
	events, _, err := runCmd(t, vars, "audit", "list")
	if err != nil || !strings.Contains(events, `"action":"keys.rotate"`) || !strings.Contains(events, `"key_id":"k2"`) {
		t.Errorf("the audit log after rotating: %v\n%s", err, events)
	}
	listed, _, err := runCmd(t, vars, "keys", "list", "-json")
	if err != nil || !strings.Contains(listed, `{"id":"k1","current":false,"added":null}`) || !strings.Contains(listed, `"id":"k2","current":true,"added":"`) {
		t.Errorf("keys list -json: %v\n%s", err, listed)
	}

	// k1 chains the first events: refused without -force, the file as it was.
	before, _ := os.ReadFile(secret)
	_, _, err = runCmd(t, vars, "keys", "retire", "k1")
	if err == nil || !strings.Contains(err.Error(), "key k1 still chains the audit log") {
		t.Errorf("keys retire k1 while events are chained with it: %v", err)
	}
	if after, _ := os.ReadFile(secret); string(after) != string(before) {
		t.Error("a refused retire changed the secret file")
	}
	_, _, err = runCmd(t, vars, "keys", "retire", "k2")
	if err == nil || !strings.Contains(err.Error(), "k2 is the current key") {
		t.Errorf("keys retire of the current key: %v", err)
	}
	_, _, err = runCmd(t, vars, "keys", "retire", "k7")
	if err == nil || !strings.Contains(err.Error(), "its keys are k1, k2") {
		t.Errorf("keys retire of a key not on file: %v", err)
	}
	if out, _, err := runCmd(t, vars, "keys", "retire", "k1", "-force"); err != nil || !strings.Contains(out, "key k1 retired") {
		t.Fatalf("keys retire k1 -force: %v\n%s", err, out)
	}
	k := keyring(t, secret)
	if k.Verify("k1", mac, "req", "ABCD1234") {
		t.Error("after retiring k1, its code still verifies")
	}
	if _, err := k.Open(sealed); err == nil {
		t.Error("after retiring k1, its sealed message still opens")
	}
	if _, _, err := runCmd(t, vars, "audit", "verify", "-checkpoint", old); err == nil {
		t.Error("after retiring k1, audit verify of what it chained and signed passes")
	}
	if data, _ := os.ReadFile(secret); strings.Contains(string(data), "k1 ") || !strings.Contains(string(data), "# casegate instance secrets") {
		t.Errorf("the secret file after retiring k1 (its header kept, k1 gone):\n%s", strings.Join(ids(string(data)), "\n"))
	}
}

// TestKeysRetireWaitsForUnsubscribeLinks: an old key sealed the
// unsubscribe links mailed until its successor became current, and those
// work for 60 days; retiring it sooner is refused (exit status 2, the file
// as it was) unless -force says to, and allowed once the successor is older
// than that.
func TestKeysRetireWaitsForUnsubscribeLinks(t *testing.T) {
	rotated := func(t *testing.T) (map[string]string, string) {
		dir := t.TempDir()
		secret := filepath.Join(dir, "secret.key")
		vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": secret}
		if _, _, err := runCmd(t, vars, "migrate"); err != nil {
			t.Fatal(err)
		}
		if out, _, err := runCmd(t, vars, "keys", "rotate"); err != nil || !strings.Contains(out, "key k2 is now current") {
			t.Fatalf("keys rotate: %v\n%s", err, out)
		}
		return vars, secret
	}
	t.Run("right after the rotation", func(t *testing.T) {
		vars, secret := rotated(t)
		before, _ := os.ReadFile(secret)
		until := keysAdded(before)["k2"].Add(60 * 24 * time.Hour).Format(time.RFC3339)
		_, _, err := runCmd(t, vars, "keys", "retire", "k1")
		if exitStatus(err) != 2 || !strings.Contains(err.Error(), "unsubscribe links") || !strings.Contains(err.Error(), "retire k1 after "+until) {
			t.Errorf("keys retire k1 right after the rotation: %v (exit %d), want exit status 2 saying after %s", err, exitStatus(err), until)
		}
		if after, _ := os.ReadFile(secret); string(after) != string(before) {
			t.Error("a refused retire changed the secret file")
		}
		if out, _, err := runCmd(t, vars, "keys", "retire", "k1", "-force"); err != nil || !strings.Contains(out, "key k1 retired") {
			t.Errorf("keys retire k1 -force: %v\n%s", err, out)
		}
	})
	t.Run("61 days after the rotation", func(t *testing.T) {
		vars, secret := rotated(t)
		data, _ := os.ReadFile(secret)
		added := keysAdded(data)["k2"]
		old := strings.Replace(string(data), "# key k2 added "+added.Format(time.RFC3339),
			"# key k2 added "+added.Add(-61*24*time.Hour).Format(time.RFC3339), 1)
		if old == string(data) {
			t.Fatalf("no date comment above k2 to move back:\n%s", strings.Join(ids(string(data)), "\n"))
		}
		if err := os.WriteFile(secret, []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, _, err := runCmd(t, vars, "keys", "retire", "k1"); err != nil || !strings.Contains(out, "key k1 retired") {
			t.Errorf("keys retire k1 61 days after the rotation: %v\n%s", err, out)
		}
	})
}

// TestKeysRefuseAMissingSecretFile: rotating where the secret file is not
// makes none (exit status 2): a new key beside no old one would orphan
// everything the database holds.
func TestKeysRefuseAMissingSecretFile(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key")}
	if _, _, err := runCmd(t, vars, "migrate"); err != nil {
		t.Fatal(err)
	}
	vars["CASEGATE_SECRET_FILE"] = filepath.Join(dir, "typo.key")
	for _, args := range [][]string{{"keys", "rotate"}, {"keys", "retire", "k1"}, {"keys", "list"}} {
		_, _, err := runCmd(t, vars, args...)
		if exitStatus(err) != 2 || !strings.Contains(err.Error(), "typo.key") {
			t.Errorf("casegate %s without the secret file: %v, want exit status 2 naming it", strings.Join(args, " "), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused rotate made the secret file: %v", err)
	}
}

// TestWithoutKey: retiring takes out the key's line and the comment rotate
// wrote above it, and nothing else.
func TestWithoutKey(t *testing.T) {
	data := "# header\n\nk1 " + strings.Repeat("A", 43) + "\n# key k2 added 2026-12-06T10:00:00Z by casegate keys rotate\nk2 " + strings.Repeat("B", 43) + "\nk10 " + strings.Repeat("C", 43) + "\n"
	got := string(withoutKey([]byte(data), "k2"))
	want := "# header\n\nk1 " + strings.Repeat("A", 43) + "\nk10 " + strings.Repeat("C", 43) + "\n"
	if got != want {
		t.Errorf("withoutKey k2 =\n%s\nwant\n%s", got, want)
	}
	if got := string(withoutKey([]byte(data), "k")); got != data {
		t.Errorf("withoutKey of an id not on file changed the file:\n%s", got)
	}
	secrets, err := accesscode.ParseSecretFile([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if id := nextKeyID(secrets); id != "k11" {
		t.Errorf("nextKeyID after k1, k2, k10 = %s, want k11", id)
	}
	if added := keysAdded([]byte(data)); len(added) != 1 || added["k2"].Format("15:04") != "10:00" {
		t.Errorf("keysAdded = %v", added)
	}
}

// FuzzWithoutKey: whatever the file holds, retiring a key leaves every
// other key as it was and that key nowhere.
func FuzzWithoutKey(f *testing.F) {
	f.Add("k1 "+strings.Repeat("A", 43)+"\nk2 "+strings.Repeat("B", 43)+"\n", "k1")
	f.Add("# key k1 added x\nk1 "+strings.Repeat("A", 43)+"\r\n", "k1")
	f.Fuzz(func(t *testing.T, data, id string) {
		before, err := accesscode.ParseSecretFile([]byte(data))
		if err != nil {
			return
		}
		after, err := accesscode.ParseSecretFile(withoutKey([]byte(data), id))
		var kept []string
		for _, s := range before {
			if s.ID != id {
				kept = append(kept, s.ID+" "+string(s.Bytes))
			}
		}
		if len(kept) == 0 {
			return // nothing left: the file holds no secret, as it should not
		}
		if err != nil {
			t.Fatalf("withoutKey(%q, %q) no longer parses: %v", data, id, err)
		}
		var got []string
		for _, s := range after {
			got = append(got, s.ID+" "+string(s.Bytes))
		}
		if strings.Join(got, "\n") != strings.Join(kept, "\n") {
			t.Fatalf("withoutKey(%q, %q) kept %q, want %q", data, id, got, kept)
		}
	})
}

// checkpoint writes `audit checkpoint` to file and checks its key id.
func checkpoint(t *testing.T, vars map[string]string, file, keyID string) {
	t.Helper()
	out, _, err := runCmd(t, vars, "audit", "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		KeyID string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(out), &cp); err != nil || cp.KeyID != keyID {
		t.Fatalf("audit checkpoint %s: key %q, want %q (%v)", out, cp.KeyID, keyID, err)
	}
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

func keyring(t *testing.T, path string) *accesscode.Keyring {
	t.Helper()
	k, err := loadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ids are the key ids of a secret file's lines, never the secrets.
func ids(data string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			out = append(out, f[0])
		}
	}
	return out
}
