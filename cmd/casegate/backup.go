package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// Backups of a SQLite database: `casegate backup DEST` writes DEST (a
// consistent snapshot, mode 0600) and DEST.sha256 (its checksum, in the
// format `sha256sum -c` reads), and with -with-secret DEST.secret (a copy
// of the secret file, mode 0600, in the checksum file too). `casegate
// restore SRC` puts such a backup where CASEGATE_DB names, only there is
// nothing there yet. PostgreSQL has its own tools (docs/operations.md).

// Suffixes of the files beside a backup.
const (
	checksumSuffix = ".sha256"
	secretSuffix   = ".secret"
)

func cmdBackup(ctx context.Context, e env, args []string) error {
	flags := newFlagSet("backup", e.stderr)
	withSecret := flags.Bool("with-secret", false, "also copy the secret file to DEST"+secretSuffix+" (mode 0600); by default it is left for you to keep apart (docs/operations.md)")
	cfg, dest, err := configAndFile(e, flags, args, "usage: casegate backup [-with-secret] DEST: DEST is the new file to write the backup to")
	if err != nil {
		return err
	}
	file, err := sqliteFileOf(cfg, "casegate backup copies a SQLite file; back PostgreSQL up with pg_dump (e.g. pg_dump -Fc -f casegate.pgdump) or pg_basebackup",
		"there is nothing on disk to back up")
	if err != nil {
		return err
	}
	if err := mustBeOnFile(cfg); err != nil {
		return err
	}
	if err := checkBackupName(dest); err != nil {
		return err
	}
	outputs := []string{dest, dest + checksumSuffix}
	if *withSecret {
		outputs = append(outputs, dest+secretSuffix)
	}
	for _, f := range outputs {
		if err := refuseExisting(f, "casegate backup never overwrites a file: choose a new name (one with the date, say), or move the old backup away"); err != nil {
			return err
		}
	}
	dir := filepath.Dir(dest)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return failure{status: 2, msg: fmt.Sprintf("no folder %s to write the backup in: create it (mode 0700) first", dir)}
	}
	keys, err := readSecretIDs(cfg.SecretFile)
	if err != nil {
		return fmt.Errorf("CASEGATE_SECRET_FILE: %w", err)
	}

	tmp, err := tempName(dest)
	if err != nil {
		return err
	}
	if _, err := store.BackupSQLite(ctx, file, tmp); err != nil {
		return fmt.Errorf("backup of %s: %w", file, err)
	}
	placed := []string{tmp}
	defer func() {
		for _, f := range placed {
			os.Remove(f)
		}
	}()
	check, err := store.CheckSQLite(ctx, tmp)
	if err != nil {
		return fmt.Errorf("the backup does not check out, so none was written: %w", err)
	}
	sum, size, err := hashFile(tmp)
	if err != nil {
		return err
	}
	sums := checksumLine(sum, filepath.Base(dest))
	var tmpSecret string
	if *withSecret {
		if tmpSecret, err = tempName(dest + secretSuffix); err != nil {
			return err
		}
		placed = append(placed, tmpSecret)
		secretSum, err := copyPrivate(cfg.SecretFile, tmpSecret)
		if err != nil {
			return fmt.Errorf("copy the secret file: %w", err)
		}
		sums += checksumLine(secretSum, filepath.Base(dest)+secretSuffix)
	}
	tmpSum, err := tempName(dest + checksumSuffix)
	if err != nil {
		return err
	}
	placed = append(placed, tmpSum)
	if err := writePrivate(tmpSum, []byte(sums)); err != nil {
		return err
	}
	// The checksum file last: where it is, the backup beside it is whole.
	moves := [][2]string{{tmp, dest}}
	if *withSecret {
		moves = append(moves, [2]string{tmpSecret, dest + secretSuffix})
	}
	moves = append(moves, [2]string{tmpSum, dest + checksumSuffix})
	for _, m := range moves {
		if err := placeNew(m[0], m[1]); err != nil {
			return err
		}
		placed = append(placed, m[1]) // removed again should a later step fail
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	placed = nil

	fmt.Fprintf(e.stdout, "backup of %s written to %s: %d bytes, %s\n", file, dest, size, describeCounts(check))
	fmt.Fprintf(e.stdout, "sha256 %s, in %s (check with: sha256sum -c %s)\n", sum, dest+checksumSuffix, filepath.Base(dest)+checksumSuffix)
	if *withSecret {
		fmt.Fprintf(e.stdout, "the secret file %s (keys %s) is copied to %s: keep this backup as closely as the secret itself\n",
			cfg.SecretFile, strings.Join(keys, ", "), dest+secretSuffix)
	} else {
		fmt.Fprintf(e.stdout, "the secret file is NOT in this backup: restore needs %s (keys %s) with it, or the audit chain cannot be verified, queued messages cannot be opened and codes not yet used cannot be checked; keep a copy of it apart from the database backups (it changes only when keys are rotated)\n",
			cfg.SecretFile, strings.Join(keys, ", "))
	}
	return nil
}

func cmdRestore(ctx context.Context, e env, args []string) error {
	flags := newFlagSet("restore", e.stderr)
	sumFile := flags.String("checksum", "", "the checksum file of the backup (default SRC"+checksumSuffix+")")
	cfg, src, err := configAndFile(e, flags, args, "usage: casegate restore [-checksum FILE] SRC: SRC is a file `casegate backup` wrote; it is restored where CASEGATE_DB names")
	if err != nil {
		return err
	}
	if *sumFile == "" {
		*sumFile = src + checksumSuffix
	}
	target, err := sqliteFileOf(cfg, "casegate restore restores a SQLite backup; restore a pg_dump with pg_restore (or psql for a plain dump) into a new database",
		"restore needs a file to restore into")
	if err != nil {
		return err
	}
	for _, f := range []string{target, target + "-wal", target + "-shm", target + "-journal"} {
		if err := refuseExisting(f, "casegate restore only restores into an empty location: stop casegate and move the database and its -wal and -shm away, or set CASEGATE_DB to a new path"); err != nil {
			return err
		}
	}
	if _, err := os.Stat(src); err != nil {
		return failure{status: 2, msg: fmt.Sprintf("no backup at %s: %v", src, errors.Unwrap(err))}
	}
	sums, err := readChecksums(*sumFile)
	if err != nil {
		return err
	}
	want, ok := sums.lookup(filepath.Base(src))
	if !ok {
		return failure{status: 2, msg: fmt.Sprintf("the checksum file %s has no line for %s: name the backup's own checksum file with -checksum", *sumFile, filepath.Base(src))}
	}

	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	tmp, err := tempName(target)
	if err != nil {
		return err
	}
	placed := []string{tmp}
	defer func() {
		for _, f := range placed {
			os.Remove(f)
		}
	}()
	got, err := copyPrivate(src, tmp)
	if err != nil {
		return fmt.Errorf("copy the backup: %w", err)
	}
	if got != want {
		return failure{status: 2, msg: fmt.Sprintf("%s does not match its checksum in %s (sha256 %s, the checksum says %s): it changed or was damaged since the backup; restore nothing from it", src, *sumFile, got, want)}
	}
	check, err := store.CheckSQLite(ctx, tmp)
	switch {
	case errors.Is(err, store.ErrNotSQLite):
		return failure{status: 2, msg: fmt.Sprintf("%s is not a SQLite database: restore takes a file `casegate backup` wrote", src)}
	case err != nil:
		return failure{status: 2, msg: fmt.Sprintf("%s is damaged: %v; restore an older backup", src, err)}
	}
	// Opened as serve opens it (the copy, in a rollback journal, becomes a
	// WAL database again), not read-only: a read-only open cannot make
	// that change, and the store insists on WAL.
	st, err := store.Open(ctx, tmp)
	if err != nil {
		return fmt.Errorf("open the restored copy: %w", err)
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	if err := checkSchema(ctx, src, st); err != nil {
		return err
	}
	// The secret: the one in place, else the copy beside the backup.
	secretFile, installSecret := cfg.SecretFile, false
	if _, err := os.Stat(cfg.SecretFile); errors.Is(err, fs.ErrNotExist) {
		beside := src + secretSuffix
		if _, err := os.Stat(beside); err != nil {
			return failure{status: 2, msg: fmt.Sprintf("no secret file at %s (CASEGATE_SECRET_FILE): the database is of no use without the secret it was made with; put the secret file you kept with the backups there (mode 0600) and run restore again", cfg.SecretFile)}
		}
		secretWant, ok := sums.lookup(filepath.Base(beside))
		if !ok {
			return failure{status: 2, msg: fmt.Sprintf("the checksum file %s has no line for %s, so the secret beside the backup cannot be trusted; put the secret file at %s yourself", *sumFile, filepath.Base(beside), cfg.SecretFile)}
		}
		got, _, err := hashFile(beside)
		if err != nil {
			return err
		}
		if got != secretWant {
			return failure{status: 2, msg: fmt.Sprintf("%s does not match its checksum in %s: it changed or was damaged since the backup; restore nothing from it", beside, *sumFile)}
		}
		secretFile, installSecret = beside, true
	}
	secrets, err := loadSecrets(secretFile)
	if err != nil {
		return fmt.Errorf("secret file %s: %w", secretFile, err)
	}

	events, last, err := verifyChain(ctx, src, st, secretFile, secrets)
	if err != nil {
		return err
	}
	err = closeCopy(st, tmp)
	st = nil
	if err != nil {
		return fmt.Errorf("close the restored copy: %w", err)
	}
	if installSecret {
		tmpSecret, err := tempName(cfg.SecretFile)
		if err != nil {
			return err
		}
		placed = append(placed, tmpSecret)
		if _, err := copyPrivate(secretFile, tmpSecret); err != nil {
			return fmt.Errorf("install the secret file: %w", err)
		}
		if err := placeNew(tmpSecret, cfg.SecretFile); err != nil {
			return err
		}
		placed = append(placed, cfg.SecretFile)
	}
	if err := placeNew(tmp, target); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return err
	}
	placed = nil

	fmt.Fprintf(e.stdout, "restored %s to %s (mode 0600): %s; the audit chain is intact through event %d (%d events) with the secret file %s\n",
		src, target, describeCounts(check), last, events, cfg.SecretFile)
	if installSecret {
		fmt.Fprintf(e.stdout, "the secret file was restored from %s\n", secretFile)
	}
	fmt.Fprintln(e.stdout, "casegate serve can start on it now")
	return nil
}

// configAndFile reads the configuration and the one file name a command
// takes; without exactly one, it fails with use (exit status 2).
func configAndFile(e env, flags *flag.FlagSet, args []string, use string) (config, string, error) {
	cfg, rest, err := loadConfigFor(flags, args, e.getenv, storeFlags)
	if err != nil {
		return config{}, "", err
	}
	if len(rest) != 1 {
		return config{}, "", failure{status: 2, msg: use}
	}
	return cfg, rest[0], nil
}

// sqliteFileOf is the SQLite file cfg's database is in; for PostgreSQL
// it fails (exit status 2) saying what to do instead, onPostgres, and for
// a database in memory why not, inMemory.
func sqliteFileOf(cfg config, onPostgres, inMemory string) (string, error) {
	loc, err := store.Locate(cfg.DB)
	switch {
	case err != nil:
		return "", fmt.Errorf("CASEGATE_DB: %w", err)
	case loc.Postgres:
		return "", failure{status: 2, msg: fmt.Sprintf("CASEGATE_DB is a PostgreSQL database (%s): %s, as docs/operations.md shows", loc.Shown, onPostgres)}
	case loc.File == "":
		return "", failure{status: 2, msg: "CASEGATE_DB is a SQLite database in memory: " + inMemory}
	}
	return loc.File, nil
}

// checkSchema fails unless st, on the copy of the backup src, is a
// casegate database this casegate can run.
func checkSchema(ctx context.Context, src string, st casegate.Store) error {
	schema, err := store.SchemaOf(ctx, st)
	switch {
	case err != nil:
		return fmt.Errorf("read the schema of %s: %w", src, err)
	case schema.Version == 0:
		return failure{status: 2, msg: fmt.Sprintf("%s is a SQLite database, but not casegate's: restore takes a file `casegate backup` wrote", src)}
	case schema.Version > schema.Latest:
		return failure{status: 2, msg: fmt.Sprintf("%s is at schema version %d, newer than this casegate knows (%d): restore it with the casegate release that wrote it", src, schema.Version, schema.Latest)}
	}
	return nil
}

// verifyChain verifies the audit chain in st, the copy of the backup src,
// with secrets, which proves the secret file is the one the database was
// made with; it returns the events verified and the last one's number.
func verifyChain(ctx context.Context, src string, st casegate.Store, secretFile string, secrets *accesscode.Keyring) (events, last int64, err error) {
	p, err := portal.New(portal.Deps{Store: st, Keys: secrets, Limits: portal.DefaultLimits()})
	if err != nil {
		return 0, 0, err
	}
	r, err := p.VerifyAudit(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("verify the audit chain of %s: %w", src, err)
	}
	if r.Broken != 0 {
		return 0, 0, failure{status: 2, msg: fmt.Sprintf("the audit chain of %s does not verify with the secret file %s (at event %d: %s): either that is not the secret file this database was made with, or the database was altered; restore nothing from it",
			src, secretFile, r.Broken, r.Why)}
	}
	return int64(r.Events), r.Last, nil
}

// closeCopy closes the store on the copy at path, which leaves the whole
// database in the file, and removes the -wal and -shm that closing empties
// (or would leave, were another connection open: there is none).
func closeCopy(st io.Closer, path string) error {
	if err := st.Close(); err != nil {
		return err
	}
	if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > 0 {
		return fmt.Errorf("%s-wal still holds %d bytes after closing", path, info.Size())
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// describeCounts says what a database holds, in a few words.
func describeCounts(c store.FileCheck) string {
	return fmt.Sprintf("%d cases, %d parties, %d sessions, %d audit events", c.Cases, c.Parties, c.Sessions, c.AuditEvents)
}

// checkBackupName refuses a backup file name the checksum file could not
// carry plainly: sha256sum escapes a name with a line break or backslash.
func checkBackupName(dest string) error {
	base := filepath.Base(dest)
	if strings.ContainsAny(base, "\\\n\r") || base == "." || base == string(filepath.Separator) || strings.HasSuffix(dest, string(filepath.Separator)) {
		return failure{status: 2, msg: fmt.Sprintf("%q: name a new file for the backup, without line breaks or backslashes", dest)}
	}
	return nil
}

// refuseExisting fails with exit status 2 when something is at path.
func refuseExisting(path, fix string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return failure{status: 2, msg: fmt.Sprintf("%s exists: %s", path, fix)}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// tempName is a new, unused name beside path for a file on its way there.
func tempName(path string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:])), nil
}

// placeNew moves the file tmp to path, refusing (exit status 2) when path
// exists. A hard link cannot replace a file, so no one's file made there
// meanwhile is lost; where links are not supported, a rename after a check.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return failure{status: 2, msg: fmt.Sprintf("%s appeared while this ran: nothing was overwritten; choose another name", path)}
	}
	if err := refuseExisting(path, "nothing was overwritten; choose another name"); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// createPrivate creates path, which must not exist, with mode 0600
// whatever the umask.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// writePrivate writes data to the new file path, mode 0600, and syncs it.
func writePrivate(path string, data []byte) error {
	f, err := createPrivate(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyPrivate copies src to the new file dst, mode 0600, synced, and
// returns the SHA-256 of what it wrote, in hex.
func copyPrivate(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := createPrivate(dst)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile returns the SHA-256 of the file at path, in hex, and its size.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir flushes a folder's entries (a file renamed or linked into it) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSecretIDs reads the secret file and returns its key ids, oldest first.
func readSecretIDs(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(secrets))
	for i, s := range secrets {
		ids[i] = s.ID
	}
	return ids, nil
}

// loadSecrets reads a secret file that must exist, creating nothing.
func loadSecrets(path string) (*accesscode.Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return nil, err
	}
	return accesscode.NewKeyring(secrets)
}

// checksums are the lines of a checksum file: file name to SHA-256 in hex.
type checksums map[string]string

func (c checksums) lookup(name string) (string, bool) {
	sum, ok := c[name]
	return sum, ok
}

// checksumLine is one line of a checksum file as sha256sum writes it.
func checksumLine(sum, name string) string { return sum + "  " + name + "\n" }

// maxChecksumFile is the most of a checksum file that is read.
const maxChecksumFile = 64 << 10

// readChecksums reads a checksum file; its errors end with exit status 2.
func readChecksums(path string) (checksums, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, failure{status: 2, msg: fmt.Sprintf("no checksum file %s: restore checks the backup against the checksum `casegate backup` wrote beside it; name it with -checksum FILE", path)}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChecksumFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxChecksumFile {
		return nil, failure{status: 2, msg: fmt.Sprintf("%s is larger than a checksum file (%d KiB at most): name the backup's own checksum file with -checksum", path, maxChecksumFile>>10)}
	}
	sums, err := parseChecksums(data)
	if err != nil {
		return nil, failure{status: 2, msg: fmt.Sprintf("checksum file %s: %v", path, err)}
	}
	return sums, nil
}

// parseChecksums reads lines as `sha256sum` writes them, "HEX  NAME" (two
// spaces, or a space and "*" for binary mode), 64 hexadecimal digits each;
// blank lines are skipped. It refuses the escaped names sha256sum writes
// for names with a line break or backslash (casegate writes none), a name
// given twice, and anything else, naming the line.
func parseChecksums(data []byte) (checksums, error) {
	out := checksums{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxChecksumFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "\\") {
			return nil, fmt.Errorf("line %d: an escaped file name, which casegate does not write", n)
		}
		sum, name, ok := strings.Cut(line, " ")
		if !ok || len(sum) != sha256.Size*2 || !isHex(sum) {
			return nil, fmt.Errorf("line %d: want a SHA-256 (64 hexadecimal digits), two spaces and a file name, as sha256sum writes", n)
		}
		if !strings.HasPrefix(name, " ") && !strings.HasPrefix(name, "*") {
			return nil, fmt.Errorf("line %d: want two spaces (or a space and *) between the SHA-256 and the file name", n)
		}
		name = name[1:]
		if name == "" {
			return nil, fmt.Errorf("line %d: no file name after the SHA-256", n)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: %q is named twice", n, name)
		}
		out[name] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no checksums in it")
	}
	return out, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
