package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

// openForCommand loads the configuration for a one-shot command and opens the app.
func openForCommand(ctx context.Context, e env, name string, args []string) (*app, []string, error) {
	return openWithFlags(ctx, e, newFlagSet(name, e.stderr), args)
}

// openWithFlags is openForCommand for a command with flags of its own on fs.
func openWithFlags(ctx context.Context, e env, fs *flag.FlagSet, args []string) (*app, []string, error) {
	cfg, err := loadConfig(fs, args, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	a, err := openApp(ctx, e, cfg, true, nil)
	if err != nil {
		return nil, nil, err
	}
	return a, fs.Args(), nil
}

func cmdMigrate(ctx context.Context, e env, args []string) error {
	a, _, err := openForCommand(ctx, e, "migrate", args)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(e.stdout, "casegate: the database schema is up to date")
	return nil
}

func cmdAudit(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return cmdAuditList(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: casegate audit verify | audit list [-after N] [-limit N]")
	}
	a, _, err := openForCommand(ctx, e, "audit verify", args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
	n, broken, err := a.portal.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if broken != 0 {
		return fmt.Errorf("audit chain broken at event %d (the %d events before it verify)", broken, n)
	}
	fmt.Fprintf(e.stdout, "audit chain intact: %d events\n", n)
	return nil
}

func cmdAdmin(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate admin token create NAME | token list | token revoke NAME"
	if len(args) < 2 || args[0] != "token" {
		return errors.New(use)
	}
	verb := args[1]
	a, rest, err := openForCommand(ctx, e, "admin token "+verb, args[2:])
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

func cmdParty(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate party unlock ID"
	if len(args) < 2 || args[0] != "unlock" {
		return errors.New(use)
	}
	id, ok := parseInt64(args[1])
	if !ok {
		return errors.New(use)
	}
	a, _, err := openForCommand(ctx, e, "party unlock", args[2:])
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.portal.UnlockParty(ctx, id, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "party %d unlocked\n", id)
	return nil
}
