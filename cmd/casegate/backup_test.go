package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/store"
)

// backupSource makes a SQLite database with cases, an admin token and its
// secret file, and a backup of it written by `casegate backup -with-secret`;
// it returns the database's settings and the backup's path.
func backupSource(t *testing.T) (vars map[string]string, backup string) {
	t.Helper()
	dir := t.TempDir()
	vars = map[string]string{"CASEGATE_DB": filepath.Join(dir, "live", "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "live", "secret.key")}
	if out, _, err := runCmd(t, vars, "import", writeCases(t, 5)); err != nil {
		t.Fatalf("import: %v %s", err, out)
	}
	if out, _, err := runCmd(t, vars, "admin", "token", "create", "ops"); err != nil {
		t.Fatalf("admin token create: %v %s", err, out)
	}
	backup = filepath.Join(dir, "backups", "casegate-1.db")
	if err := os.Mkdir(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, vars, "backup", "-with-secret", backup); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	return vars, backup
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// copyTo copies the file src to dst.
func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(data))
}

// TestBackupAndRestoreRefuse runs backup and restore where each must
// refuse: each ends with exit status 2 and a message that says what is
// wrong and what to do, and changes nothing (an existing file keeps its
// content; a refused restore leaves no database, secret or temporary file).
func TestBackupAndRestoreRefuse(t *testing.T) {
	live, backup := backupSource(t)
	backups := filepath.Dir(backup)
	sumLine := func(path, name string) string { return sha256Hex(t, path) + "  " + name + "\n" }

	t.Run("backup", func(t *testing.T) {
		cases := []struct {
			name string
			// prepare returns the arguments after "backup" and the
			// settings to run with (nil: live's).
			prepare func(t *testing.T, dir string) ([]string, map[string]string)
			want    []string
		}{
			{"the backup file exists", func(t *testing.T, dir string) ([]string, map[string]string) {
				writeFile(t, filepath.Join(dir, "b.db"), "an older backup")
				return []string{filepath.Join(dir, "b.db")}, nil
			}, []string{"b.db exists", "never overwrites"}},
			{"its checksum file exists", func(t *testing.T, dir string) ([]string, map[string]string) {
				writeFile(t, filepath.Join(dir, "b.db.sha256"), "an older checksum")
				return []string{filepath.Join(dir, "b.db")}, nil
			}, []string{"b.db.sha256 exists", "never overwrites"}},
			{"the secret's copy exists, with -with-secret", func(t *testing.T, dir string) ([]string, map[string]string) {
				writeFile(t, filepath.Join(dir, "b.db.secret"), "an older secret")
				return []string{"-with-secret", filepath.Join(dir, "b.db")}, nil
			}, []string{"b.db.secret exists", "never overwrites"}},
			{"no folder for it", func(t *testing.T, dir string) ([]string, map[string]string) {
				return []string{filepath.Join(dir, "missing", "b.db")}, nil
			}, []string{"no folder", "missing"}},
			{"no database", func(t *testing.T, dir string) ([]string, map[string]string) {
				return []string{filepath.Join(dir, "b.db")}, map[string]string{"CASEGATE_DB": filepath.Join(dir, "typo.db"), "CASEGATE_SECRET_FILE": live["CASEGATE_SECRET_FILE"]}
			}, []string{"no database at", "typo.db"}},
			{"no secret file", func(t *testing.T, dir string) ([]string, map[string]string) {
				return []string{filepath.Join(dir, "b.db")}, map[string]string{"CASEGATE_DB": live["CASEGATE_DB"], "CASEGATE_SECRET_FILE": filepath.Join(dir, "typo.key")}
			}, []string{"no secret file at", "typo.key"}},
			{"PostgreSQL", func(t *testing.T, dir string) ([]string, map[string]string) {
				return []string{filepath.Join(dir, "b.db")}, map[string]string{"CASEGATE_DB": "postgres://casegate:hunter2@db.internal/casegate", "CASEGATE_SECRET_FILE": live["CASEGATE_SECRET_FILE"]}
			}, []string{"PostgreSQL", "pg_dump", "pg_basebackup", "docs/operations.md"}},
			{"no file named", func(t *testing.T, dir string) ([]string, map[string]string) {
				return nil, nil
			}, []string{"usage: casegate backup"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				dir := t.TempDir()
				args, vars := c.prepare(t, dir)
				if vars == nil {
					vars = live
				}
				before := listDir(t, dir)
				_, _, err := runCmd(t, vars, append([]string{"backup"}, args...)...)
				expectRefusal(t, err, c.want)
				if after := listDir(t, dir); after != before {
					t.Errorf("the folder changed from\n%s\nto\n%s", before, after)
				}
			})
		}
	})

	t.Run("restore", func(t *testing.T) {
		secretSum := sumLine(backup+".secret", "b.db.secret")
		cases := []struct {
			name string
			// prepare returns the file to restore, given the settings of
			// the empty location vars names, which it may change.
			prepare func(t *testing.T, dir string, vars map[string]string) []string
			want    []string
		}{
			{"the database file exists", func(t *testing.T, dir string, vars map[string]string) []string {
				writeFile(t, vars["CASEGATE_DB"], "")
				return []string{backup}
			}, []string{"casegate.db exists", "only restores into an empty location"}},
			{"its -wal exists", func(t *testing.T, dir string, vars map[string]string) []string {
				writeFile(t, vars["CASEGATE_DB"]+"-wal", "")
				return []string{backup}
			}, []string{"casegate.db-wal exists", "only restores into an empty location"}},
			{"its -shm exists", func(t *testing.T, dir string, vars map[string]string) []string {
				writeFile(t, vars["CASEGATE_DB"]+"-shm", "")
				return []string{backup}
			}, []string{"casegate.db-shm exists", "only restores into an empty location"}},
			{"no backup there", func(t *testing.T, dir string, vars map[string]string) []string {
				return []string{filepath.Join(dir, "nothing.db")}
			}, []string{"no backup at", "nothing.db"}},
			{"no checksum file", func(t *testing.T, dir string, vars map[string]string) []string {
				copyTo(t, backup, filepath.Join(dir, "in", "b.db"))
				return []string{filepath.Join(dir, "in", "b.db")}
			}, []string{"no checksum file", "b.db.sha256", "-checksum"}},
			{"a checksum that does not match", func(t *testing.T, dir string, vars map[string]string) []string {
				copyTo(t, backup, filepath.Join(dir, "in", "b.db"))
				writeFile(t, filepath.Join(dir, "in", "b.db.sha256"), strings.Repeat("ab", 32)+"  b.db\n")
				return []string{filepath.Join(dir, "in", "b.db")}
			}, []string{"does not match its checksum", "restore nothing"}},
			{"a backup changed after its checksum", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				copyTo(t, backup, b)
				writeFile(t, b+".sha256", sumLine(backup, "b.db"))
				f, err := os.OpenFile(b, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt([]byte{0x5a}, 5000)
				f.Close()
				return []string{b}
			}, []string{"does not match its checksum", "changed or was damaged"}},
			{"a checksum file not in sha256sum's format", func(t *testing.T, dir string, vars map[string]string) []string {
				copyTo(t, backup, filepath.Join(dir, "in", "b.db"))
				writeFile(t, filepath.Join(dir, "in", "b.db.sha256"), "b.db: OK\n")
				return []string{filepath.Join(dir, "in", "b.db")}
			}, []string{"checksum file", "line 1", "64 hexadecimal digits"}},
			{"a checksum file without the backup's name", func(t *testing.T, dir string, vars map[string]string) []string {
				copyTo(t, backup, filepath.Join(dir, "in", "b.db"))
				writeFile(t, filepath.Join(dir, "in", "b.db.sha256"), sumLine(backup, "other.db"))
				return []string{filepath.Join(dir, "in", "b.db")}
			}, []string{"has no line for b.db"}},
			{"not a SQLite file", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				writeFile(t, b, strings.Repeat("not a database, but a text file.\n", 200))
				writeFile(t, b+".sha256", sumLine(b, "b.db"))
				return []string{b}
			}, []string{"b.db is not a SQLite database"}},
			{"a SQLite file, not casegate's", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				os.MkdirAll(filepath.Dir(b), 0o700)
				db, err := sql.Open("sqlite", b)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello')`); err != nil {
					t.Fatal(err)
				}
				db.Close()
				writeFile(t, b+".sha256", sumLine(b, "b.db"))
				return []string{b}
			}, []string{"a SQLite database, but not casegate's"}},
			{"a damaged SQLite file", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				copyTo(t, backup, b)
				damage(t, b)
				writeFile(t, b+".sha256", sumLine(b, "b.db"))
				return []string{b}
			}, []string{"b.db is damaged", "restore an older backup"}},
			{"no secret file, none beside the backup", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				copyTo(t, backup, b)
				writeFile(t, b+".sha256", sumLine(backup, "b.db"))
				return []string{b}
			}, []string{"no secret file at", "put the secret file"}},
			{"the secret beside the backup changed", func(t *testing.T, dir string, vars map[string]string) []string {
				b := filepath.Join(dir, "in", "b.db")
				copyTo(t, backup, b)
				writeFile(t, b+".secret", string(newSecretFile(t)))
				writeFile(t, b+".sha256", sumLine(backup, "b.db")+secretSum)
				return []string{b}
			}, []string{"b.db.secret does not match its checksum"}},
			{"another instance's secret file", func(t *testing.T, dir string, vars map[string]string) []string {
				writeFile(t, vars["CASEGATE_SECRET_FILE"], string(newSecretFile(t)))
				return []string{backup}
			}, []string{"does not verify with the secret file", "not the secret file this database was made with"}},
			{"PostgreSQL", func(t *testing.T, dir string, vars map[string]string) []string {
				vars["CASEGATE_DB"] = "postgres://casegate:hunter2@db.internal/casegate"
				return []string{backup}
			}, []string{"PostgreSQL", "pg_restore", "docs/operations.md"}},
			{"no file named", func(t *testing.T, dir string, vars map[string]string) []string {
				return nil
			}, []string{"usage: casegate restore"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				dir := t.TempDir()
				target := filepath.Join(dir, "restored")
				vars := map[string]string{"CASEGATE_DB": filepath.Join(target, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(target, "secret.key")}
				args := c.prepare(t, dir, vars)
				before := listDir(t, target)
				backupsBefore := listDir(t, backups)
				_, _, err := runCmd(t, vars, append([]string{"restore"}, args...)...)
				expectRefusal(t, err, c.want)
				if after := listDir(t, target); after != before {
					t.Errorf("the target folder changed from\n%s\nto\n%s", before, after)
				}
				if after := listDir(t, backups); after != backupsBefore {
					t.Errorf("the backup folder changed from\n%s\nto\n%s", backupsBefore, after)
				}
			})
		}
	})
}

// expectRefusal fails t unless err ends the command with exit status 2
// and a message that says each of want, and never the test's password.
func expectRefusal(t *testing.T, err error, want []string) {
	t.Helper()
	if exitStatus(err) != 2 {
		t.Fatalf("exit status %d (%v), want 2", exitStatus(err), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message %q repeats the password", err)
	}
}

// listDir lists the names, sizes and modes in dir ("" when it does not exist).
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(e.Name() + " " + info.Mode().String() + " " + sha256Hex(t, filepath.Join(dir, e.Name())) + "\n")
	}
	return b.String()
}

// newSecretFile is a secret file with a fresh secret: another instance's.
func newSecretFile(t *testing.T) []byte {
	t.Helper()
	s, err := accesscode.NewSecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	return accesscode.FormatSecretFile([]accesscode.Secret{s})
}

// damage overwrites the second half of the page that holds the cases
// table's rows, so that the file still opens but its rows do not read.
func damage(t *testing.T, path string) {
	t.Helper()
	c, err := store.CheckSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	err = db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'cases'`).Scan(&root)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := []byte(strings.Repeat("\xff\x00", c.PageSize/4))
	if _, err := f.WriteAt(junk, (root-1)*int64(c.PageSize)+int64(c.PageSize/2)); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreTakesTheSecretBesideTheBackup restores a backup written with
// -with-secret where no secret file is: the secret comes from beside the
// backup, both files are 0600, and the audit chain verifies with it.
func TestRestoreTakesTheSecretBesideTheBackup(t *testing.T) {
	live, backup := backupSource(t)
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "r", "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "r", "secret.key")}
	out, _, err := runCmd(t, vars, "restore", backup)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out, "5 cases, 5 parties") || !strings.Contains(out, "the secret file was restored from "+backup+".secret") {
		t.Errorf("restore says:\n%s", out)
	}
	if sha256Hex(t, vars["CASEGATE_SECRET_FILE"]) != sha256Hex(t, live["CASEGATE_SECRET_FILE"]) {
		t.Error("the restored secret file is not the live one")
	}
	for _, f := range []string{vars["CASEGATE_DB"], vars["CASEGATE_SECRET_FILE"]} {
		if info, err := os.Stat(f); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, info.Mode())
		}
	}
	if got := listDir(t, filepath.Dir(vars["CASEGATE_DB"])); strings.Count(got, "\n") != 2 {
		t.Errorf("the restored folder holds more than the database and the secret:\n%s", got)
	}
	out, _, err = runCmd(t, vars, "audit", "verify")
	if err != nil || !strings.Contains(out, "audit chain intact: 2 events") {
		t.Errorf("audit verify on the restored copy: %v\n%s", err, out)
	}
	if out, _, err := runCmd(t, vars, "admin", "token", "list"); err != nil || !strings.Contains(out, "ops") {
		t.Errorf("admin token list on the restored copy: %v\n%s", err, out)
	}
}

func TestParseChecksums(t *testing.T) {
	const a, b = "3a8b08e5546bc8288693e6c9cab995dae2b7d1cfa984421afeb12bc78592ec1f", "23F355DC4294B2834338975902812589C7221BB38AD1C05CF88A5690D3BEDD33"
	cases := []struct {
		name, in string
		want     checksums
		err      string
	}{
		{"what backup writes", a + "  b.db\n" + strings.ToLower(b) + "  b.db.secret\n", checksums{"b.db": a, "b.db.secret": strings.ToLower(b)}, ""},
		{"binary mode, upper case, CRLF, blank lines", "\n" + b + " *b.db\r\n\n", checksums{"b.db": strings.ToLower(b)}, ""},
		{"a name with spaces", a + "  my backup.db\n", checksums{"my backup.db": a}, ""},
		{"no final line break", a + "  b.db", checksums{"b.db": a}, ""},
		{"empty", "", nil, "no checksums"},
		{"only blank lines", "\n\n", nil, "no checksums"},
		{"sha256sum -c output", "b.db: OK\n", nil, "line 1: want a SHA-256"},
		{"a short hash", a[:63] + "  b.db\n", nil, "line 1: want a SHA-256"},
		{"not hex", "g" + a[1:] + "  b.db\n", nil, "line 1: want a SHA-256"},
		{"one space", a + " b.db\n", nil, "line 1: want two spaces"},
		{"no name", a + "  \n", nil, "line 1: no file name"},
		{"no name, no spaces", a + "\n", nil, "line 1: want a SHA-256"},
		{"BSD style", "SHA256 (b.db) = " + a + "\n", nil, "line 1: want a SHA-256"},
		{"an escaped name", "\\" + a + "  b\\\\.db\n", nil, "line 1: an escaped file name"},
		{"a name twice", a + "  b.db\n" + b + "  b.db\n", nil, `line 2: "b.db" is named twice`},
		{"a bad second line", a + "  b.db\nrubbish\n", nil, "line 2:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseChecksums([]byte(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func FuzzParseChecksums(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 64) + "  b.db\n"))
	f.Add([]byte(strings.Repeat("A", 64) + " *b.db\r\n\n"))
	f.Add([]byte("\\" + strings.Repeat("0", 64) + "  a\\nb\n"))
	f.Add([]byte("b.db: OK\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sums, err := parseChecksums(data)
		if err != nil {
			if sums != nil {
				t.Fatal("checksums with an error")
			}
			return
		}
		if len(sums) == 0 {
			t.Fatal("no checksums and no error")
		}
		for name, sum := range sums {
			if name == "" || strings.ContainsAny(name, "\n") {
				t.Fatalf("name %q", name)
			}
			if len(sum) != 64 || !isHex(sum) || strings.ToLower(sum) != sum {
				t.Fatalf("sum %q", sum)
			}
		}
	})
}

// TestDoctorChecksBackupFiles has doctor look at backups beside the
// database: all 0600 is OK; one made readable by others (a copy made with
// cp, say) fails, naming it.
func TestDoctorChecksBackupFiles(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"CASEGATE_DB": filepath.Join(dir, "casegate.db"), "CASEGATE_SECRET_FILE": filepath.Join(dir, "secret.key"),
		"CASEGATE_SMTP_URL": smtptest.Start(t).URL(), "CASEGATE_PUBLIC_URL": "https://status.casegate.test"}
	if out, _, err := runCmd(t, vars, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, _, err := runCmd(t, vars, "backup", "-with-secret", filepath.Join(dir, "casegate-1.db")); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	out, _, err := runCmd(t, vars, "doctor", "-timeout", "1s")
	if got := doctorLines(t, out)["backup files"]; got != "OK" || !strings.Contains(out, "2 backup file(s) beside the database, all mode 0600") || err != nil {
		t.Fatalf("backup files %q (%v), want OK for two files:\n%s", got, err, out)
	}
	for _, f := range []string{"casegate-1.db", "casegate-1.db.secret"} {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(dir, f)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(path, 0o600)
			out, _, err := runCmd(t, vars, "doctor", "-timeout", "1s")
			if got := doctorLines(t, out)["backup files"]; got != "FAIL" || !strings.Contains(out, path+" has mode 0644") || exitStatus(err) != 1 {
				t.Fatalf("backup files %q (exit %d), want FAIL naming %s:\n%s", got, exitStatus(err), path, out)
			}
		})
	}
}
