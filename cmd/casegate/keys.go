package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/portal"
)

const keysUse = "usage: casegate keys rotate [-id ID] | keys retire ID [-force] | keys list [-json]"

// cmdKeys rotates and retires the instance secrets of CASEGATE_SECRET_FILE
// (docs/keys.md): rotate adds a new current key, retire takes an old one
// out, list names them.
func cmdKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return errors.New(keysUse)
	}
	switch args[0] {
	case "rotate":
		return cmdKeysRotate(ctx, e, args[1:])
	case "retire":
		return cmdKeysRetire(ctx, e, args[1:])
	case "list":
		return cmdKeysList(e, args[1:])
	}
	return usageOrHelp(e, args, keysUse)
}

// keyAddedComment is the comment rotate writes above a key it adds, which
// list reads back: when the key became current.
const keyAddedComment = "# key %s added %s by casegate keys rotate"

// cmdKeysRotate appends a new secret to the secret file, which makes it
// current: new codes, sealed messages, tags, audit events and checkpoints
// use it; everything made with the older keys still verifies while their
// lines stay. The rotation is recorded on the audit log, chained with the
// new key. Both the database and the secret file must be on file.
func cmdKeysRotate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("keys rotate", e.stderr)
	id := fs.String("id", "", "the new key's id, 1–16 characters a–z and 0–9 (default: the next of k1, k2, …)")
	cfg, rest, err := loadConfigFor(fs, args, e.getenv, storeFlags)
	if err != nil {
		return err
	}
	if err := noArgs(keysUse, rest); err != nil {
		return err
	}
	if err := mustBeOnFile(cfg); err != nil {
		return err
	}
	data, secrets, err := readSecrets(cfg.SecretFile)
	if err != nil {
		return err
	}
	newID := *id
	if newID == "" {
		newID = nextKeyID(secrets)
	}
	if slices.ContainsFunc(secrets, func(s accesscode.Secret) bool { return s.ID == newID }) {
		return fmt.Errorf("-id: %s already has a key %s; choose another id", cfg.SecretFile, newID)
	}
	s, err := accesscode.NewSecret(newID)
	if err != nil {
		return fmt.Errorf("-id: %q: the key id must be 1–16 characters from a–z and 0–9", newID)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = fmt.Appendf(data, keyAddedComment+"\n%s %s\n", s.ID, time.Now().UTC().Format(time.RFC3339), s.ID,
		base64.RawURLEncoding.EncodeToString(s.Bytes))
	if _, err := accesscode.ParseSecretFile(data); err != nil {
		return fmt.Errorf("CASEGATE_SECRET_FILE %s: %w", cfg.SecretFile, err)
	}
	if err := replaceFile(cfg.SecretFile, data); err != nil {
		return fmt.Errorf("CASEGATE_SECRET_FILE: %w", err)
	}
	// The file first, then the audit event chained with the key it holds:
	// the other way round, a failed write would leave an event no key
	// verifies.
	a, err := openApp(ctx, e, cfg, true, nil)
	if err != nil {
		return fmt.Errorf("key %s is current in %s, but the rotation is not on the audit log: %w", s.ID, cfg.SecretFile, err)
	}
	defer a.Close()
	if err := a.portal.AuditKeyChange(ctx, "keys.rotate", s.ID, "cli"); err != nil {
		return fmt.Errorf("key %s is current in %s, but the rotation is not on the audit log: %w", s.ID, cfg.SecretFile, err)
	}
	fmt.Fprintf(e.stdout, "key %s is now current in %s; the older keys still verify. Copy the file to every instance and restart them.\n", s.ID, cfg.SecretFile)
	return nil
}

// cmdKeysRetire takes a key that is not current out of the secret file:
// what it made no longer verifies or opens. It refuses while audit events
// on file are chained with it (audit verify would no longer hold), or while
// unsubscribe links sealed with it may still work, unless -force says to.
func cmdKeysRetire(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("keys retire", e.stderr)
	force := fs.Bool("force", false, "retire the key even though audit events still kept are chained with it, or unsubscribe links mailed with it still work; they will no longer verify")
	cfg, rest, err := loadConfigFor(fs, args, e.getenv, storeFlags)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: casegate keys retire ID [-force]")
	}
	id := rest[0]
	if err := mustBeOnFile(cfg); err != nil {
		return err
	}
	data, secrets, err := readSecrets(cfg.SecretFile)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(secrets, func(s accesscode.Secret) bool { return s.ID == id })
	switch {
	case i < 0:
		return fmt.Errorf("%s has no key %q; its keys are %s", cfg.SecretFile, id, strings.Join(keyIDs(secrets), ", "))
	case i == len(secrets)-1:
		return fmt.Errorf("%s is the current key; run `casegate keys rotate` first, then retire it once nothing made with it is needed", id)
	}
	a, err := openApp(ctx, e, cfg, true, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if !*force {
		if err := stillChains(ctx, a, slices.Delete(slices.Clone(secrets), i, i+1), id); err != nil {
			return err
		}
		if err := linksStillWork(data, id, secrets[i+1].ID, time.Now()); err != nil {
			return err
		}
	}
	if err := replaceFile(cfg.SecretFile, withoutKey(data, id)); err != nil {
		return fmt.Errorf("CASEGATE_SECRET_FILE: %w", err)
	}
	if err := a.portal.AuditKeyChange(ctx, "keys.retire", id, "cli"); err != nil {
		return fmt.Errorf("key %s is retired from %s, but not on the audit log: %w", id, cfg.SecretFile, err)
	}
	fmt.Fprintf(e.stdout, "key %s retired from %s. Copy the file to every instance and restart them.\n", id, cfg.SecretFile)
	return nil
}

// stillChains fails when the audit log, which verifies with the keys on
// file, would not verify with the keys left: events or a purge's anchor are
// chained with the key id.
func stillChains(ctx context.Context, a *app, left []accesscode.Secret, id string) error {
	ring, err := accesscode.NewKeyring(left)
	if err != nil {
		return err
	}
	without, err := portal.New(portal.Deps{Store: a.store, Keys: ring, Limits: a.cfg.Limits, Logger: a.log,
		Channels: a.cfg.channels(), Retention: a.cfg.Retention})
	if err != nil {
		return err
	}
	now, err := a.portal.VerifyAudit(ctx, nil)
	if err != nil {
		return err
	}
	after, err := without.VerifyAudit(ctx, nil)
	if err != nil {
		return err
	}
	if after.Broken != 0 && (now.Broken == 0 || after.Broken < now.Broken) {
		return failure{status: 1, msg: fmt.Sprintf(
			"key %s still chains the audit log: without it `casegate audit verify` fails at event %d (%s). "+
				"Keep it for as long as those events are kept (CASEGATE_RETAIN_AUDIT), or retire it with -force and give up verifying them",
			id, after.Broken, after.Why)}
	}
	return nil
}

// linksStillWork fails while unsubscribe links sealed with key id may still
// be in mail and working: a notice mailed just before key next replaced it
// carries a link that works for delivery.DefaultUnsubscribeTTL from then.
// A key added by hand has no date on file, so nothing is known to wait for.
func linksStillWork(data []byte, id, next string, now time.Time) error {
	added, ok := keysAdded(data)[next]
	if !ok {
		return nil
	}
	until := added.Add(delivery.DefaultUnsubscribeTTL)
	if !now.Before(until) {
		return nil
	}
	return failure{status: 2, msg: fmt.Sprintf(
		"key %s sealed the unsubscribe links of the notices mailed until key %s replaced it at %s, and a link works for %d days: "+
			"retire %s after %s, or now with -force and those links stop working",
		id, next, added.Format(time.RFC3339), int(delivery.DefaultUnsubscribeTTL.Hours()/24), id, until.Format(time.RFC3339))}
}

// cmdKeysList names the keys of the secret file, the current one last,
// with when `keys rotate` added each; never a secret.
func cmdKeysList(e env, args []string) error {
	fs := newFlagSet("keys list", e.stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per key, one a line (never the secret)")
	cfg, rest, err := loadConfigFor(fs, args, e.getenv, secretFlags)
	if err != nil {
		return err
	}
	if err := noArgs(keysUse, rest); err != nil {
		return err
	}
	data, secrets, err := readSecrets(cfg.SecretFile)
	if err != nil {
		return err
	}
	added := keysAdded(data)
	type keyJSON struct {
		ID      string     `json:"id"`
		Current bool       `json:"current"`
		Added   *time.Time `json:"added"` // null for a key not added by keys rotate
	}
	keys := make([]keyJSON, len(secrets))
	for i, s := range secrets {
		keys[i] = keyJSON{ID: s.ID, Current: i == len(secrets)-1}
		if t, ok := added[s.ID]; ok {
			keys[i].Added = &t
		}
	}
	if *asJSON {
		return writeJSONLines(e.stdout, keys, func(k keyJSON) any { return k })
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCURRENT\tADDED")
	for _, k := range keys {
		current, when := "-", "-"
		if k.Current {
			current = "current"
		}
		if k.Added != nil {
			when = k.Added.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, current, when)
	}
	return tw.Flush()
}

// readSecrets reads the secret file, which must exist: a key is rotated
// or retired in the file the database was made with, never in a new one.
func readSecrets(path string) ([]byte, []accesscode.Secret, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, failure{status: 2, msg: fmt.Sprintf("no secret file at %s (CASEGATE_SECRET_FILE): there are no keys to change", path)}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("CASEGATE_SECRET_FILE: %w", pathError(path, err))
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return nil, nil, fmt.Errorf("CASEGATE_SECRET_FILE %s: %w", path, err)
	}
	return data, secrets, nil
}

// nextKeyID is k and one more than the highest number of the ids kN.
func nextKeyID(secrets []accesscode.Secret) string {
	highest := 0
	for _, s := range secrets {
		if n, err := strconv.Atoi(strings.TrimPrefix(s.ID, "k")); err == nil && strings.HasPrefix(s.ID, "k") && n > highest {
			highest = n
		}
	}
	return "k" + strconv.Itoa(highest+1)
}

func keyIDs(secrets []accesscode.Secret) []string {
	ids := make([]string, len(secrets))
	for i, s := range secrets {
		ids[i] = s.ID
	}
	return ids
}

// withoutKey is the secret file data without the line of key id, nor the
// comment rotate wrote above it; every other line stays as it was.
func withoutKey(data []byte, id string) []byte {
	var out []string
	added := fmt.Sprintf("# key %s added ", id)
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if f := strings.Fields(trimmed); (len(f) == 2 && f[0] == id) || strings.HasPrefix(trimmed, added) {
			continue
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, ""))
}

// keysAdded reads the times rotate wrote above the keys it added.
func keysAdded(data []byte) map[string]time.Time {
	out := map[string]time.Time{}
	for _, line := range strings.Split(string(data), "\n") {
		var id, at string
		if n, _ := fmt.Sscanf(strings.TrimSpace(line), "# key %s added %s", &id, &at); n == 2 {
			if t, err := time.Parse(time.RFC3339, at); err == nil {
				out[id] = t
			}
		}
	}
	return out
}

// replaceFile writes data to path in one step, mode 0600: a temporary file
// beside it, synced, then renamed over it, so that a crash leaves the old
// file or the new one, never half of one.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return pathError(filepath.Dir(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename itself is durable once the folder is synced
		d.Close()
	}
	return nil
}
