package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// openForCommand loads the configuration for a one-shot command and opens the app.
func openForCommand(ctx context.Context, e env, name string, args []string) (*app, []string, error) {
	return openWithFlags(ctx, e, newFlagSet(name, e.stderr), args)
}

// openWithFlags is openForCommand for a command with flags of its own on fs.
func openWithFlags(ctx context.Context, e env, fs *flag.FlagSet, args []string) (*app, []string, error) {
	return openFor(ctx, e, fs, args, false, storeFlags)
}

// openExisting is openForCommand for a command that reads or changes what
// is on file (the audit log, deliveries, tokens, a party): it refuses a
// SQLite database or a secret file that does not exist, rather than
// making an empty one and answering from it (exit status 2, naming the
// path).
func openExisting(ctx context.Context, e env, name string, args []string) (*app, []string, error) {
	return openExistingWithFlags(ctx, e, newFlagSet(name, e.stderr), args)
}

// openExistingWithFlags is openExisting for a command with flags of its own on fs.
func openExistingWithFlags(ctx context.Context, e env, fs *flag.FlagSet, args []string) (*app, []string, error) {
	return openFor(ctx, e, fs, args, true, storeFlags)
}

// openFor loads the configuration, with the settings named in only as
// flags beside fs's own, and opens the app; it returns the arguments that
// are not flags, wherever the flags stood among them.
func openFor(ctx context.Context, e env, fs *flag.FlagSet, args []string, mustExist bool, only []string) (*app, []string, error) {
	cfg, rest, err := loadConfigFor(fs, args, e.getenv, only)
	if err != nil {
		return nil, nil, err
	}
	if mustExist {
		if err := mustBeOnFile(cfg); err != nil {
			return nil, nil, err
		}
	}
	a, err := openApp(ctx, e, cfg, true, nil)
	if err != nil {
		return nil, nil, err
	}
	return a, rest, nil
}

// mustBeOnFile fails, with exit status 2, when cfg's SQLite database or
// secret file does not exist: a mistyped CASEGATE_DB must not be answered
// from a new, empty database ("audit chain intact: 0 events").
func mustBeOnFile(cfg config) error {
	loc, err := store.Locate(cfg.DB)
	if err != nil {
		return fmt.Errorf("CASEGATE_DB: %w", err)
	}
	if loc.File != "" {
		if _, err := os.Stat(loc.File); errors.Is(err, fs.ErrNotExist) {
			return failure{status: 2, msg: fmt.Sprintf("no database at %s (CASEGATE_DB): nothing to read; check the path, or run `casegate migrate` to create one", loc.File)}
		}
	}
	if _, err := os.Stat(cfg.SecretFile); errors.Is(err, fs.ErrNotExist) {
		return failure{status: 2, msg: fmt.Sprintf("no secret file at %s (CASEGATE_SECRET_FILE): the database's codes, tokens and audit chain need the secret it was made with", cfg.SecretFile)}
	}
	return nil
}

func cmdMigrate(ctx context.Context, e env, args []string) error {
	a, rest, err := openForCommand(ctx, e, "migrate", args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := noArgs("usage: casegate migrate [flags]", rest); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "casegate: the database schema is up to date")
	return nil
}

func cmdAudit(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate audit verify [-checkpoint FILE] | audit checkpoint | audit list [-after N] [-limit N]"
	if len(args) == 0 {
		return errors.New(use)
	}
	switch args[0] {
	case "list":
		return cmdAuditList(ctx, e, args[1:])
	case "verify":
		return cmdAuditVerify(ctx, e, args[1:])
	case "checkpoint":
		a, rest, err := openExisting(ctx, e, "audit checkpoint", args[1:])
		if err != nil {
			return err
		}
		defer a.Close()
		if err := noArgs(use, rest); err != nil {
			return err
		}
		cp, err := a.portal.AuditCheckpoint(ctx)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(cp)
	}
	return usageOrHelp(e, args, use)
}

// cmdAuditVerify recomputes the chain and compares it with the checkpoints
// in the file given; it fails naming the first broken event or checkpoint.
func cmdAuditVerify(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("audit verify", e.stderr)
	file := fs.String("checkpoint", "", "a `FILE` of checkpoints (from casegate audit checkpoint, or the audit checkpoint lines of serve's log) to compare with")
	a, rest, err := openExistingWithFlags(ctx, e, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := noArgs("usage: casegate audit verify [-checkpoint FILE]", rest); err != nil {
		return err
	}
	var cps []casegate.AuditCheckpoint
	if *file != "" {
		data, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("-checkpoint: %w", pathError(*file, err))
		}
		if cps, err = portal.ParseCheckpoints(data); err != nil {
			return fmt.Errorf("-checkpoint %s: %w", *file, err)
		}
	}
	r, err := a.portal.VerifyAudit(ctx, cps)
	if err != nil {
		return err
	}
	if r.Broken != 0 {
		return fmt.Errorf("audit chain broken at event %d (the %d events before it verify): %s", r.Broken, r.Events, r.Why)
	}
	for _, c := range r.Checkpoints {
		if !c.OK {
			return fmt.Errorf("audit chain does not match the checkpoint of event %d taken %s: %s",
				c.Checkpoint.Seq, c.Checkpoint.At.Format(time.RFC3339), c.Why)
		}
	}
	from := ""
	if r.Anchor != nil {
		from = fmt.Sprintf(" after event %d (purged earlier; the anchor verifies)", r.Anchor.Seq)
	}
	fmt.Fprintf(e.stdout, "audit chain intact: %d events%s, through event %d\n", r.Events, from, r.Last)
	for _, c := range r.Checkpoints {
		note := "matches"
		if c.Why != "" {
			note = c.Why
		}
		fmt.Fprintf(e.stdout, "checkpoint of event %d (%s): %s\n", c.Checkpoint.Seq, c.Checkpoint.At.Format(time.RFC3339), note)
	}
	return nil
}

func cmdAdmin(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate admin token create NAME | token list [-json] | token revoke NAME"
	if len(args) < 2 || args[0] != "token" {
		return usageOrHelp(e, args, use)
	}
	verb := args[1]
	open := openWithFlags // a first token may be made on a database just migrated
	if verb != "create" {
		open = openExistingWithFlags
	}
	fs := newFlagSet("admin token "+verb, e.stderr)
	var asJSON *bool
	switch verb {
	case "list":
		asJSON = fs.Bool("json", false, "print one JSON object per token, one a line (never the token itself)")
	case "create", "revoke":
	default:
		return usageOrHelp(e, args[1:], use)
	}
	a, rest, err := open(ctx, e, fs, args[2:])
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case verb == "create" && len(rest) == 1:
		token, err := a.portal.CreateAdminToken(ctx, rest[0], "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Admin token %q created. It is shown once; keep it secret:\n", rest[0])
		fmt.Fprintln(e.stdout, token)
		return nil
	case verb == "list" && len(rest) == 0:
		ts, err := a.portal.AdminTokens(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(e.stdout, ts, func(t casegate.AdminToken) any {
				v := tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
				if t.Revoked() {
					v.RevokedAt = &t.RevokedAt
				}
				return v
			})
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, t := range ts {
			revoked := "-"
			if t.Revoked() {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case verb == "revoke" && len(rest) == 1:
		if err := a.portal.RevokeAdminToken(ctx, rest[0], "cli"); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "admin token %s revoked\n", rest[0])
		return nil
	}
	return errors.New(use)
}

// tokenJSON is one line of `admin token list -json`: what the table shows,
// never the token or its hash.
type tokenJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"` // null while it is in force
}

func cmdParty(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate party unlock ID"
	if len(args) < 1 || args[0] != "unlock" {
		return usageOrHelp(e, args, use)
	}
	a, rest, err := openExisting(ctx, e, "party unlock", args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
	if len(rest) != 1 {
		return errors.New(use)
	}
	id, ok := parseInt64(rest[0])
	if !ok {
		return fmt.Errorf("%q is not a party id (a whole number above 0); %s", rest[0], use)
	}
	if err := a.portal.UnlockParty(ctx, id, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "party %d unlocked\n", id)
	return nil
}
