package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// check is one finding of `casegate doctor`.
type check struct {
	status string // OK, WARN or FAIL
	name   string
	detail string
	fix    string // what to do; empty for OK
}

func ok(name, format string, args ...any) check {
	return check{"OK", name, fmt.Sprintf(format, args...), ""}
}

func warn(name, fix, format string, args ...any) check {
	return check{"WARN", name, fmt.Sprintf(format, args...), fix}
}

func fail(name, fix, format string, args ...any) check {
	return check{"FAIL", name, fmt.Sprintf(format, args...), fix}
}

// cmdDoctor checks a deployment's configuration, the settings serve would
// run with, and says what to fix: the secret file, the public URL, the mail
// server (connected to, greeted, never sent mail), the DKIM key, the trusted proxies, the
// limits against NIST SP 800-63B, and the database and its schema. It exits
// with status 1 when any check fails.
func cmdDoctor(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("doctor", e.stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the mail server and the database")
	cfg, err := loadConfig(fs, args, e.getenv)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	var checks []check
	if err != nil {
		checks = append(checks, fail("configuration", "correct the setting named above; `casegate serve -h` lists them all", "%v", err))
	} else {
		publicURLSet := e.getenv("CASEGATE_PUBLIC_URL") != "" || fs.Lookup("public-url").Value.String() != ""
		checks = append(checks, checkSecretFile(cfg.SecretFile), checkPublicURL(cfg.PublicURL, publicURLSet),
			checkSMTP(ctx, cfg.SMTPURL, *timeout), checkDKIM(cfg), checkProxies(cfg.TrustedProxies))
		checks = append(checks, checkLimits(cfg.Limits)...)
		checks = append(checks, checkDatabase(ctx, cfg.DB, *timeout)...)
		checks = append(checks, checkSMSBudget(ctx, cfg, *timeout)...)
		checks = append(checks, checkBranding(cfg))
	}
	failed := printChecks(e.stdout, checks)
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

// printChecks writes one line per check, its fix below, and a summary; it
// returns how many failed.
func printChecks(w io.Writer, checks []check) int {
	n := map[string]int{}
	for _, c := range checks {
		n[c.status]++
		fmt.Fprintf(w, "%-5s %-18s %s\n", c.status, c.name, c.detail)
		if c.fix != "" {
			fmt.Fprintf(w, "%-24s fix: %s\n", "", c.fix)
		}
	}
	fmt.Fprintf(w, "\n%d checks: %d OK, %d WARN, %d FAIL\n", len(checks), n["OK"], n["WARN"], n["FAIL"])
	return n["FAIL"]
}

// checkSecretFile reads the instance secrets as serve would, without creating them.
func checkSecretFile(path string) check {
	const name = "secret file"
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return warn(name, "run `casegate migrate` once to create it, back it up, and give every instance the same file",
			"%s does not exist: the first start creates one with a new secret", path)
	case err != nil:
		return fail(name, "make the file readable by the user casegate runs as", "%v", err)
	case info.IsDir():
		return fail(name, "point CASEGATE_SECRET_FILE at a file, not a folder", "%s is a folder", path)
	case info.Mode().Perm()&0o077 != 0:
		return fail(name, "chmod 600 "+path, "%s has mode %04o: other users can read the keys that protect every code", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(name, "make the file readable by the user casegate runs as", "%v", err)
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return fail(name, "each line is \"<key id> <base64 secret>\"; see docs/keys.md", "%s: %v", path, err)
	}
	ids := make([]string, len(secrets))
	for i, s := range secrets {
		ids[i] = s.ID
	}
	return ok(name, "%s: %d key(s) (%s), the current one %s, mode 0600", path, len(secrets), strings.Join(ids, ", "), ids[len(ids)-1])
}

// checkDKIM loads the DKIM key as serve would and names the DNS record it
// must be published at; without a key, mail goes out unsigned.
func checkDKIM(cfg config) check {
	const name = "DKIM signing"
	if cfg.DKIMKeyFile == "" {
		return warn(name, "make a key, set CASEGATE_DKIM_KEY_FILE and publish `casegate dkim-record`; see docs/mail.md",
			"email is not signed: receivers that check DKIM and DMARC may junk or refuse it")
	}
	if info, err := os.Stat(cfg.DKIMKeyFile); err == nil && info.Mode().Perm()&0o077 != 0 {
		return fail(name, "chmod 600 "+cfg.DKIMKeyFile, "%s has mode %04o: other users can read the key that signs the agency's mail", cfg.DKIMKeyFile, info.Mode().Perm())
	}
	d, err := cfg.dkim()
	if err != nil {
		return fail(name, "see docs/mail.md", "%v", err)
	}
	record, _, err := d.DNSRecord()
	if err != nil {
		return fail(name, "use an RSA or Ed25519 key; see docs/mail.md", "%v", err)
	}
	return ok(name, "signs as d=%s s=%s; the public key must be in DNS at %s (`casegate dkim-record`)", d.Domain, d.Selector, record)
}

// checkPublicURL wants https, except for a loopback address used locally.
func checkPublicURL(u *url.URL, set bool) check {
	const name = "public URL"
	switch {
	case !set:
		return warn(name, "set CASEGATE_PUBLIC_URL to the https:// address people use",
			"not set: messages and pages will point to %s", u)
	case u.Scheme == "https":
		return ok(name, "%s: cookies are Secure and __Host- prefixed, HSTS is sent", u)
	case isLoopbackHost(u.Hostname()):
		return ok(name, "%s: plain http on a loopback address, for local use only", u)
	}
	return warn(name, "serve casegate behind TLS and set CASEGATE_PUBLIC_URL=https://"+u.Host+u.Path,
		"%s is plain http: codes typed in, session cookies and links in messages cross the network unencrypted", u)
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// checkSMTP connects to the mail server, reads its greeting, says EHLO and,
// when the URL asks for it, starts TLS; it sends no mail.
func checkSMTP(ctx context.Context, raw string, timeout time.Duration) check {
	const name = "mail server"
	if raw == "" {
		return fail(name, "set CASEGATE_SMTP_URL=smtp://user:password@host:587?tls=starttls", "CASEGATE_SMTP_URL is not set: serve refuses to start without it")
	}
	cfg, err := delivery.ParseSMTPURL(raw)
	if err != nil {
		return fail(name, "correct CASEGATE_SMTP_URL; see docs/delivery.md", "%v", err)
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	unreachable := "check CASEGATE_SMTP_URL's host and port, that the server is up, and that this host may connect to it"
	dialer := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	if cfg.TLS == delivery.TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fail(name, unreachable, "%s (%s): %v", addr, cfg.TLS, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return fail(name, unreachable, "%s: no SMTP greeting within %v: %v", addr, timeout, err)
	}
	defer c.Close()
	if err := c.Hello("casegate-doctor"); err != nil {
		return fail(name, unreachable, "%s: EHLO refused: %v", addr, err)
	}
	notes := []string{"EHLO answered"}
	if cfg.TLS == delivery.TLSStartTLS {
		if has, _ := c.Extension("STARTTLS"); !has {
			return fail(name, "enable STARTTLS on the server, or use tls=implicit on its TLS port; tls=none only for a relay on this host",
				"%s does not offer STARTTLS, which tls=starttls requires", addr)
		}
		if err := c.StartTLS(&tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fail(name, "give the server a certificate valid for "+cfg.Host+", or name the host its certificate is for",
				"%s: STARTTLS failed: %v", addr, err)
		}
		notes = append(notes, "STARTTLS and its certificate are good")
	}
	if cfg.Username != "" {
		if has, _ := c.Extension("AUTH"); !has {
			return warn(name, "remove the user name from CASEGATE_SMTP_URL, or enable AUTH on the server",
				"%s does not offer AUTH, but a user name is configured", addr)
		}
		notes = append(notes, "AUTH offered (credentials are not tried)")
	}
	c.Quit()
	if cfg.TLS == delivery.TLSNone && !isLoopbackHost(cfg.Host) {
		return warn(name, "use tls=starttls or tls=implicit; tls=none is for a relay on this host",
			"%s answers, but over plain text: codes cross the network unencrypted", addr)
	}
	return ok(name, "%s (%s): %s; no mail was sent", addr, cfg.TLS, strings.Join(notes, ", "))
}

// ownRanges are the address ranges a deployment's own proxies normally sit in.
var ownRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("::1/128"),
}

// checkProxies refuses a trusted-proxy list that lets any client name its
// own address, and warns about public ranges.
func checkProxies(proxies []netip.Prefix) check {
	const name = "trusted proxies"
	if len(proxies) == 0 {
		return ok(name, "none: client addresses come from the socket and X-Forwarded-For is ignored (behind a proxy, list it, or every client shares its address)")
	}
	var public []string
	for _, p := range proxies {
		if p.Bits() == 0 {
			return fail(name, "list only your load balancers' addresses in CASEGATE_TRUSTED_PROXIES",
				"%s trusts every client to name its own address in X-Forwarded-For: the per-IP limits stop working", p)
		}
		own := false
		for _, r := range ownRanges {
			own = own || r.Bits() <= p.Bits() && r.Contains(p.Addr())
		}
		if !own {
			public = append(public, p.String())
		}
	}
	if len(public) > 0 {
		return warn(name, "list only your own proxies, normally in private ranges",
			"%s: public addresses; anyone there can choose the client address casegate sees", strings.Join(public, ", "))
	}
	return ok(name, "%d range(s), all private or loopback", len(proxies))
}

// checkLimits holds the limits to NIST SP 800-63B (out-of-band codes valid
// at most 10 minutes; at most 100 consecutive failed attempts) and to sense.
func checkLimits(l portal.Limits) []check {
	var out []check
	switch ttl := l.CodeTTL; {
	case ttl > 15*time.Minute:
		out = append(out, fail("code lifetime", "set CASEGATE_CODE_TTL=10m", "%v: far past the 10 minutes NIST SP 800-63B allows an out-of-band code", ttl))
	case ttl > 10*time.Minute:
		out = append(out, warn("code lifetime", "set CASEGATE_CODE_TTL=10m", "%v: past the 10 minutes NIST SP 800-63B allows an out-of-band code", ttl))
	default:
		out = append(out, ok("code lifetime", "%v (NIST SP 800-63B: at most 10 minutes)", ttl))
	}
	if l.MaxAttempts > 10 {
		out = append(out, fail("attempts per code", "set CASEGATE_CODE_MAX_ATTEMPTS=5", "%d wrong codes per request: too many guesses at one code", l.MaxAttempts))
	} else {
		out = append(out, ok("attempts per code", "%d", l.MaxAttempts))
	}
	if l.MaxConsecutiveFailures > 100 {
		out = append(out, fail("lockout", "set CASEGATE_LOCK_AFTER_CONSECUTIVE_FAILURES=100 or fewer",
			"%d consecutive wrong codes before an operator must unlock: NIST SP 800-63B allows at most 100", l.MaxConsecutiveFailures))
	} else {
		out = append(out, ok("lockout", "%d wrong codes a day lock for %v, doubling; %d in a row until an operator unlocks", l.PartyFailures.N, l.LockBase, l.MaxConsecutiveFailures))
	}
	d := portal.DefaultLimits()
	rates := []struct {
		env      string
		got, def portal.Rate
	}{
		{"CASEGATE_LIMIT_REQUESTS_PER_IDENTIFIER", l.RequestsPerIdentifier, d.RequestsPerIdentifier},
		{"CASEGATE_LIMIT_REQUESTS_PER_IP", l.RequestsPerIP, d.RequestsPerIP},
		{"CASEGATE_LIMIT_REDEEMS_PER_IP", l.RedeemsPerIP, d.RedeemsPerIP},
		{"CASEGATE_LIMIT_CODES_PER_PARTY", l.CodesPerParty, d.CodesPerParty},
		{"CASEGATE_LIMIT_PARTY_FAILURES", l.PartyFailures, d.PartyFailures},
	}
	loose := false
	for _, r := range rates {
		// How many times the default rate, or the default burst, the limit allows.
		times := max(perSecond(r.got)/perSecond(r.def), float64(r.got.N)/float64(r.def.N))
		switch {
		case times > 100:
			out = append(out, fail("rate limits", "set "+r.env+"="+formatRate(r.def)+" (the default)",
				"%s=%s allows %.0f times the default: effectively no limit", r.env, formatRate(r.got), times))
			loose = true
		case times > 10:
			out = append(out, warn("rate limits", "set "+r.env+"="+formatRate(r.def)+" (the default) unless you mean it",
				"%s=%s allows %.0f times the default", r.env, formatRate(r.got), times))
			loose = true
		}
	}
	if !loose {
		out = append(out, ok("rate limits", "within 10 times the defaults"))
	}
	if l.SessionIdle > 30*time.Minute || l.SessionAbsolute > 12*time.Hour {
		out = append(out, warn("sessions", "set CASEGATE_SESSION_IDLE=15m and CASEGATE_SESSION_ABSOLUTE=12h",
			"signed out after %v idle, %v at most: NIST SP 800-63B asks for 30 minutes idle and 12 hours at most", l.SessionIdle, l.SessionAbsolute))
	} else {
		out = append(out, ok("sessions", "signed out after %v idle, %v at most", l.SessionIdle, l.SessionAbsolute))
	}
	return out
}

func perSecond(r portal.Rate) float64 { return float64(r.N) / r.Per.Seconds() }

// checkDatabase opens the database without creating, migrating or
// changing it (a SQLite file read-only), checks that a SQLite file and its
// -wal and -shm are private, and compares the schema version with this
// casegate's. What the database is and how far it is migrated, the store
// says.
func checkDatabase(ctx context.Context, dsn string, timeout time.Duration) []check {
	const name = "database"
	loc, err := store.Locate(dsn)
	if err != nil {
		return []check{fail(name, "correct CASEGATE_DB", "%v", err)}
	}
	var notes []check
	if loc.File != "" {
		if _, err := os.Stat(loc.File); errors.Is(err, fs.ErrNotExist) {
			return []check{warn(name, "run `casegate migrate` to create it, or let serve create it at start",
				"%s does not exist yet", loc.Shown)}
		}
		if c, bad := checkDatabaseFiles(loc.File); bad {
			notes = append(notes, c)
		}
		if c, found := checkBackupFiles(filepath.Dir(loc.File)); found {
			notes = append(notes, c)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := store.OpenToInspect(ctx, dsn)
	if err != nil {
		return append(notes, fail(name, "check CASEGATE_DB, and that the database is up and reachable from here", "%v", err))
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		return append(notes, fail(name, "check that the database is up and reachable from here", "%v", err))
	}
	schema, err := store.SchemaOf(ctx, st)
	if err != nil {
		return append(notes, fail(name, "check CASEGATE_DB points at casegate's database", "%s opens, but its schema version cannot be read: %v", loc.Shown, err))
	}
	switch have, want := schema.Version, schema.Latest; {
	case have > want:
		return append(notes, fail(name, "upgrade casegate to the release that migrated this database",
			"%s: schema version %d is newer than this casegate knows (%d)", loc.Shown, have, want))
	case len(schema.Pending) > 0:
		return append(notes, warn(name, "run `casegate migrate` (serve also migrates at start; with several instances, migrate first)",
			"%s opens; schema version %d, %d migration(s) to apply", loc.Shown, have, len(schema.Pending)))
	}
	return append(notes, ok(name, "%s opens; schema version %d is current", loc.Shown, schema.Version))
}

// checkDatabaseFiles fails a SQLite database, -wal or -shm that another
// user or the group may read or write: they hold every person's data, and
// casegate creates them 0600 and makes them so whenever it opens them.
func checkDatabaseFiles(db string) (check, bool) {
	var loose []string
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		info, err := os.Stat(f)
		if err == nil && info.Mode().Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s has mode %04o", f, info.Mode().Perm()))
		}
	}
	if len(loose) == 0 {
		return check{}, false
	}
	return fail("database file", fmt.Sprintf("chmod 600 %[1]s %[1]s-wal %[1]s-shm (casegate also makes them so the next time it starts)", db),
		"%s: other users can read the personal data in it", strings.Join(loose, "; ")), true
}

// checkBackupFiles looks at the backups `casegate backup` wrote into dir,
// the database's folder: the files each checksum file (*.sha256) there
// names, the backup and any copy of the secret. Each holds what the
// database or the secret file does, so each must be 0600 as they are. A
// backup elsewhere doctor does not know of; backup writes every file 0600
// wherever it goes. found is false when dir holds no backup.
func checkBackupFiles(dir string) (c check, found bool) {
	const name = "backup files"
	sumFiles, _ := filepath.Glob(filepath.Join(dir, "*"+checksumSuffix))
	var files, loose []string
	for _, sf := range sumFiles {
		data, err := os.ReadFile(sf)
		if err != nil || len(data) > maxChecksumFile {
			continue
		}
		sums, err := parseChecksums(data)
		if err != nil {
			continue // not one of casegate's
		}
		for _, n := range slices.Sorted(maps.Keys(sums)) {
			if n != filepath.Base(n) {
				continue // only files in this folder
			}
			f := filepath.Join(dir, n)
			info, err := os.Stat(f)
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			files = append(files, f)
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				loose = append(loose, fmt.Sprintf("%s has mode %04o", f, perm))
			}
		}
	}
	switch {
	case len(files) == 0:
		return check{}, false
	case len(loose) > 0:
		return fail(name, "chmod 600 each of them (casegate backup writes them 0600; a copy made another way may not be)",
			"%s: other users can read the personal data or the keys in them", strings.Join(loose, "; ")), true
	}
	return ok(name, "%d backup file(s) beside the database, all mode 0600", len(files)), true
}

// checkSMSBudget says how much of each share of the daily SMS budget is
// spent now, as the portal counts it. It reads the database and the
// secret file (the counters' keys are keyed hashes) and creates neither;
// when either cannot be read, the checks above say why and this says
// nothing.
func checkSMSBudget(ctx context.Context, cfg config, timeout time.Duration) []check {
	const name = "SMS budget"
	if cfg.SMSURL == "" {
		return []check{ok(name, "no text messages: CASEGATE_SMS_URL is not set")}
	}
	data, err := os.ReadFile(cfg.SecretFile)
	if err != nil {
		return nil
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return nil
	}
	keys, err := accesscode.NewKeyring(secrets)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := store.OpenToInspect(ctx, cfg.DB)
	if err != nil {
		return nil
	}
	defer st.Close()
	p, err := portal.New(portal.Deps{Store: st, Keys: keys, Limits: cfg.Limits})
	if err != nil {
		return nil
	}
	shares, err := p.SMSBudgetSpend(ctx)
	if err != nil {
		return nil
	}
	parts := make([]string, len(shares))
	var full []string
	for i, s := range shares {
		parts[i] = fmt.Sprintf("%s %d of %d", s.Share, s.Spent, s.Size)
		if s.Spent*100 >= 80*s.Size {
			parts[i] += fmt.Sprintf(" (%d%%)", s.Spent*100/max(s.Size, 1))
			full = append(full, s.Share)
		}
	}
	detail := "spent of the daily " + strconv.Itoa(cfg.Limits.SMS.DailyBudget) + " (texts not refilled yet): " + strings.Join(parts, ", ") +
		"; each share refills evenly over 24 hours"
	if len(full) > 0 {
		return []check{warn(name, "a share spent so early is an attack or a budget too small: read casegate_sms_refused_total and the sms.refused audit events, then raise CASEGATE_SMS_DAILY_BUDGET or move percent with CASEGATE_SMS_BUDGET_SHARES",
			"%s; %s at 80%% or more", detail, strings.Join(full, " and "))}
	}
	return []check{ok(name, "%s", detail)}
}

// checkBranding says what the pages and messages will show of the agency
// (loadConfig has checked every value), and warns when people who get no
// code would be told of nowhere to get help.
func checkBranding(cfg config) check {
	const name = "branding"
	a := cfg.Agency
	var parts []string
	if a.Name != "" {
		parts = append(parts, fmt.Sprintf("name %q", a.Name))
	}
	if cfg.Logo != nil {
		parts = append(parts, fmt.Sprintf("logo %s (%s, %d bytes)", cfg.Logo.Name, cfg.Logo.ContentType, len(cfg.Logo.Body)))
	}
	if len(a.Contact) > 0 {
		parts = append(parts, fmt.Sprintf("%d contact lines", len(a.Contact)))
	}
	if a.Help != "" {
		parts = append(parts, "help at "+a.Help)
	}
	var over []string
	for _, lang := range cfg.Catalog.Languages() {
		if n := cfg.Catalog.Overridden(lang); n > 0 {
			over = append(over, fmt.Sprintf("%s %d", lang, n))
		}
	}
	if len(over) > 0 {
		parts = append(parts, "texts overridden: "+strings.Join(over, ", "))
	}
	if len(parts) == 0 {
		return ok(name, "none set: pages and messages name only the service (docs/branding.md)")
	}
	if a.Help == "" {
		return warn(name, "set CASEGATE_HELP_ADDRESS to an email address or https:// page where people get help",
			"%s; no help address: a person who gets no code is told of nowhere to ask", strings.Join(parts, "; "))
	}
	return ok(name, "%s", strings.Join(parts, "; "))
}
