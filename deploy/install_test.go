package deploy

import (
	"bufio"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// TestInstallDebian runs deploy/install-debian.sh, the ten commands of
// docs/deployment.md, as far as this machine allows: every file is written
// under a temporary ROOT, and apt-get and systemctl only record what they
// were asked (DRY_RUN=1): this machine runs no systemd and may not bind 443.
// Then it checks what the commands left: the binary and the units as
// shipped; the credentials folder and files for root only; an instance
// secret casegate reads; a 2048-bit RSA DKIM key whose public half is the
// DNS record printed; a Caddyfile for the domain that Caddy accepts; and it
// runs the installed binary as casegate.service would (its Environment=,
// EnvironmentFile= and LoadCredential= files, %S and %d resolved under ROOT)
// until it answers /readyz. The doc's command block must be the script's.
func TestInstallDebian(t *testing.T) {
	caddy := testenv.Tool(t, testenv.NameCaddy, "caddy")
	for _, tool := range []string{"sh", "openssl", "basenc", "sed", "install"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s, which the install commands use and every Debian has, is missing: %v", tool, err)
		}
	}
	bin := casegateBinary(t)
	mail := smtptest.Start(t)

	// The script runs from a copy of the repository with the binary beside it.
	work, root := t.TempDir(), t.TempDir()
	deployDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"deploy": deployDir, "casegate": bin} {
		if err := os.Symlink(target, filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "sh", filepath.Join(deployDir, "install-debian.sh"))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ROOT="+root, "DRY_RUN=1",
		"DOMAIN=status.example.gov", "ACME_EMAIL=ops@example.gov",
		"MAIL_FROM=Case Status <no-reply@example.gov>", "MAIL_DOMAIN=example.gov", "SMTP_URL="+mail.URL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install-debian.sh: %v\n%s", err, out)
	}

	if got, want := readFile(t, filepath.Join(root, "dry-run.log")),
		"apt-get install -y caddy openssl\nsystemctl daemon-reload\nsystemctl enable --now casegate.service casegate-backup.timer\nsystemctl reload caddy.service\n"; got != want {
		t.Errorf("apt-get and systemctl were asked:\n%s\nwant:\n%s", got, want)
	}
	for _, u := range append([]string{}, units...) {
		if readFile(t, filepath.Join(root, "etc/systemd/system", u)) != readFile(t, u) {
			t.Errorf("installed %s differs from deploy/%s", u, u)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "usr/local/bin/casegate")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("/usr/local/bin/casegate: %v %v, want mode 0755", fi, err)
	}
	creds := filepath.Join(root, "etc/casegate/credentials")
	modes := map[string]os.FileMode{creds: 0o700 | os.ModeDir}
	for _, name := range []string{"secret.key", "smtp_url", "dkim.key"} {
		modes[filepath.Join(creds, name)] = 0o600
	}
	for path, want := range modes {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v, want mode %v", path, err, want)
		}
	}
	if secrets, err := accesscode.ParseSecretFile([]byte(readFile(t, filepath.Join(creds, "secret.key")))); err != nil || len(secrets) != 1 || len(secrets[0].Bytes) < 32 {
		t.Errorf("secret.key: %d secrets, %v; want one of 32 bytes", len(secrets), err)
	}
	if got := readFile(t, filepath.Join(creds, "smtp_url")); got != mail.URL()+"\n" {
		t.Errorf("smtp_url holds %q, want the SMTP URL", got)
	}
	checkDKIM(t, filepath.Join(creds, "dkim.key"), string(out))

	caddyfile := readFile(t, filepath.Join(root, "etc/caddy/Caddyfile"))
	if !strings.Contains(caddyfile, "\nstatus.example.gov {") || !strings.Contains(caddyfile, "email ops@example.gov") {
		t.Errorf("the installed Caddyfile names neither the site nor the ACME address:\n%s", caddyfile)
	}
	v := exec.CommandContext(t.Context(), caddy, "validate", "--adapter", "caddyfile", "--config", filepath.Join(root, "etc/caddy/Caddyfile"))
	v.Env = append(os.Environ(), "HOME="+work, "XDG_DATA_HOME="+filepath.Join(work, "data"), "XDG_CONFIG_HOME="+filepath.Join(work, "config"))
	if vout, err := v.CombinedOutput(); err != nil {
		t.Errorf("caddy validate on the installed Caddyfile: %v\n%s", err, vout)
	}

	t.Run("DocIsTheScript", checkDocMatchesScript)
	t.Run("ServeAsTheUnit", func(t *testing.T) { serveAsUnit(t, root) })
}

// checkDKIM: the key is a 2048-bit RSA key and the printed record carries
// its public half.
func checkDKIM(t *testing.T, keyFile, output string) {
	t.Helper()
	block, _ := pem.Decode([]byte(readFile(t, keyFile)))
	if block == nil {
		t.Fatalf("%s holds no PEM", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	rk, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok || rk.N.BitLen() != 2048 {
		t.Fatalf("dkim.key: %T %v, want a 2048-bit RSA key", k, err)
	}
	m := regexp.MustCompile(`publish in DNS: casegate\._domainkey\.example\.gov TXT "v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)"`).FindStringSubmatch(output)
	if m == nil {
		t.Fatalf("the commands printed no DKIM record for casegate._domainkey.example.gov:\n%s", output)
	}
	der, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil || !rk.PublicKey.Equal(pub) {
		t.Errorf("the DNS record's key is not dkim.key's public key: %v", err)
	}
}

// serveAsUnit starts the installed casegate as the installed
// casegate.service would, on a free port, and waits for /readyz: with the
// unit's Environment= and EnvironmentFile= settings, its LoadCredential=
// files copied into a credentials folder only the service's user can read
// ($CREDENTIALS_DIRECTORY, %d), its state directory (%S) made 0700 for that
// user. When the test runs as root it also does what it can of the unit's
// sandbox without systemd: the process runs as an unprivileged user id of
// systemd's dynamic range (DynamicUser=), with no capabilities
// (CapabilityBoundingSet=) and no way to gain any (NoNewPrivileges=), via
// util-linux's setpriv.
func serveAsUnit(t *testing.T, root string) {
	state, creds := filepath.Join(root, "var/lib"), filepath.Join(root, "run/credentials/casegate.service")
	u := loadUnit(t, root, "casegate.service", state, creds)
	env, exec0 := u.env, u.execStart
	if exec0 != "/usr/local/bin/casegate serve" {
		t.Fatalf("ExecStart=%s, want /usr/local/bin/casegate serve", exec0)
	}
	if err := os.MkdirAll(filepath.Join(state, "casegate"), 0o700); err != nil { // StateDirectory=casegate
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	env = append(env, fmt.Sprintf("CASEGATE_LISTEN=127.0.0.1:%d", port)) // 8080 may be taken here
	uid := -1
	if canDrop() {
		uid = 61184 + os.Getpid()%4000 // systemd's dynamic users are 61184–65519
		dropTo(t, uid, root, filepath.Join(state, "casegate"), creds)
	} else {
		t.Log("not root, or no setpriv: casegate runs as this user, with its privileges")
	}
	bin, args := asUser(uid, filepath.Join(root, "usr/local/bin/casegate"), "serve")
	p := startProcess(t, env, bin, args...)
	ready := testenv.Eventually(30*time.Second, func() bool {
		select {
		case <-p.done:
			return true
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	select {
	case <-p.done:
		t.Fatalf("casegate serve as the unit starts it exited:\n%s", p.logs.String())
	default:
	}
	if !ready {
		t.Fatalf("casegate serve as the unit starts it did not answer /readyz within 30s:\n%s", p.logs.String())
	}
	fi, err := os.Stat(filepath.Join(state, "casegate", "casegate.db"))
	if err != nil {
		t.Fatalf("the database is not in the state directory: %v", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); uid >= 0 && (!ok || int(st.Uid) != uid) {
		t.Errorf("the database is not owned by the service's user %d", uid)
	}
	t.Run("BackupAsTheUnit", func(t *testing.T) { backupAsUnit(t, root, state, uid) })
}

// backupAsUnit runs casegate-backup.service's ExecStart= and
// ExecStartPost= as systemd would (specifiers resolved, the same user, its
// own credentials copy and second state directory) while casegate serves,
// and checks that a backup and its checksum file were written.
func backupAsUnit(t *testing.T, root, state string, uid int) {
	creds := filepath.Join(root, "run/credentials/casegate-backup.service")
	u := loadUnit(t, root, "casegate-backup.service", state, creds)
	backups := filepath.Join(state, "casegate-backup")
	if err := os.MkdirAll(backups, 0o700); err != nil { // StateDirectory=casegate casegate-backup
		t.Fatal(err)
	}
	if uid >= 0 {
		dropTo(t, uid, root, backups, creds)
	}
	script, ok := strings.CutPrefix(u.execStart, "/bin/sh -c '")
	if script, ok = strings.CutSuffix(script, "'"); !ok {
		t.Fatalf("ExecStart=%s, want /bin/sh -c '…'", u.execStart)
	}
	bin, args := asUser(uid, "/bin/sh", "-c", strings.ReplaceAll(script, "/usr/local/bin/casegate", filepath.Join(root, "usr/local/bin/casegate")))
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = u.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("casegate-backup.service ExecStart: %v\n%s", err, out)
	}
	made, err := filepath.Glob(filepath.Join(backups, "casegate-*.db"))
	if err != nil || len(made) != 1 {
		t.Fatalf("backups written: %q %v, want one casegate-<time>.db\n%s", made, err, out)
	}
	if !regexp.MustCompile(`/casegate-[0-9]{8}T[0-9]{6}Z\.db$`).MatchString(made[0]) {
		t.Errorf("backup %s is not named by its UTC time", made[0])
	}
	if _, err := os.Stat(made[0] + ".sha256"); err != nil {
		t.Errorf("no checksum file beside the backup: %v", err)
	}
	post := strings.Fields(u.execStartPost)
	bin, args = asUser(uid, post[0], post[1:]...)
	if out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput(); err != nil {
		t.Errorf("casegate-backup.service ExecStartPost: %v\n%s", err, out)
	}
	if _, err := os.Stat(made[0]); err != nil {
		t.Errorf("the clean-up removed today's backup: %v", err)
	}
}

// unit is what a test needs of a service unit to start its program as
// systemd would.
type unit struct {
	env                      []string // Environment=, EnvironmentFile= and what systemd sets
	execStart, execStartPost string   // with specifiers resolved
}

// loadUnit reads the installed unit name under root, resolving %S as
// state and %d as creds, into which it copies the LoadCredential= files.
func loadUnit(t *testing.T, root, name, state, creds string) unit {
	t.Helper()
	text := readFile(t, filepath.Join(root, "etc/systemd/system", name))
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	spec := strings.NewReplacer("%S", state, "%d", creds, "%%", "%", "$$", "$")
	u := unit{env: []string{"PATH=/usr/bin:/bin", "CREDENTIALS_DIRECTORY=" + creds}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		switch {
		case !ok:
		case key == "Environment":
			u.env = append(u.env, spec.Replace(value))
		case key == "EnvironmentFile":
			u.env = append(u.env, envFile(t, filepath.Join(root, value))...)
		case key == "LoadCredential":
			id, path, _ := strings.Cut(value, ":")
			if err := os.WriteFile(filepath.Join(creds, id), []byte(readFile(t, filepath.Join(root, path))), 0o400); err != nil {
				t.Fatal(err)
			}
		case key == "ExecStart":
			u.execStart = spec.Replace(value)
		case key == "ExecStartPost":
			u.execStartPost = spec.Replace(value)
		}
	}
	return u
}

// canDrop reports whether the test may start programs as another user
// without privileges: as root, with util-linux's setpriv.
func canDrop() bool {
	_, err := exec.LookPath("setpriv")
	return err == nil && os.Geteuid() == 0
}

// asUser is the command line that runs bin with args as uid (and gid uid)
// with no capabilities and no_new_privs, through setpriv; for a negative
// uid, bin and args as they are.
func asUser(uid int, bin string, args ...string) (string, []string) {
	if uid < 0 {
		return bin, args
	}
	setpriv, _ := exec.LookPath("setpriv")
	return setpriv, append([]string{"--reuid=" + itoa(uid), "--regid=" + itoa(uid), "--clear-groups", "--no-new-privs",
		"--bounding-set=-all", "--inh-caps=-all", "--", bin}, args...)
}

// dropTo makes the test's folders from the temporary folder down to root
// passable (not readable) by everyone, and hands each of own, recursively,
// to uid, as systemd hands the state and credentials directories to a
// dynamic user.
func dropTo(t *testing.T, uid int, root string, own ...string) {
	t.Helper()
	tmp := filepath.Clean(os.TempDir())
	if !strings.HasPrefix(root, tmp+string(filepath.Separator)) {
		t.Fatalf("%s is not under the temporary folder %s", root, tmp)
	}
	for d := root; d != tmp; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o111); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, top := range own {
		for d := filepath.Dir(top); strings.HasPrefix(d, root); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		err := filepath.Walk(top, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, uid)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// envFile reads an EnvironmentFile= of KEY=VALUE lines (the install writes
// no quotes or escapes), skipping blank lines and comments.
func envFile(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for line := range strings.SplitSeq(readFile(t, path), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") || strings.ContainsAny(line, `"'\`) {
			t.Fatalf("%s: line %q is not a plain KEY=VALUE", path, line)
		}
		out = append(out, line)
	}
	return out
}

// checkDocMatchesScript: the command block of docs/deployment.md is the
// script's commands without ${ROOT}, line for line.
func checkDocMatchesScript(t *testing.T) {
	script := readFile(t, "install-debian.sh")
	_, cmds, ok := strings.Cut(script, "# --- the commands (docs/deployment.md shows them without ${ROOT}) ---\n")
	if !ok {
		t.Fatal("install-debian.sh lost its commands marker")
	}
	want := strings.TrimSpace(strings.ReplaceAll(cmds, "${ROOT}", ""))
	doc := readFile(t, "../docs/deployment.md")
	_, after, ok := strings.Cut(doc, "<!-- the commands of deploy/install-debian.sh -->\n```sh\n")
	if !ok {
		t.Fatal("docs/deployment.md lost the command block of deploy/install-debian.sh")
	}
	block, _, _ := strings.Cut(after, "```")
	var lines []string
	for line := range strings.SplitSeq(block, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	if got := strings.Join(lines, "\n"); got != want {
		t.Errorf("docs/deployment.md's commands:\n%s\nwant the script's:\n%s", got, want)
	}
	if n := len(lines); n > 10 {
		t.Errorf("docs/deployment.md takes %d commands, want at most 10", n)
	}
}
