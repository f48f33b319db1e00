package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

func cmdCase(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate case event RECEIPT STATUS [-title TEXT] [-at RFC3339]"
	if len(args) < 1 || args[0] != "event" {
		return errors.New(use)
	}
	fs := newFlagSet("case event", e.stderr)
	title := fs.String("title", "", "title of a custom status")
	at := fs.String("at", "", "when it happened (RFC 3339); default now")
	// Flags may stand before or after the two positional arguments.
	rest := args[1:]
	var pos []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 2 {
		return errors.New(use)
	}
	in := portal.StatusEventInput{Status: pos[1], Title: *title}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("-at: want an RFC 3339 time such as 2026-03-02T15:04:05Z, got %q", *at)
		}
		in.At = t
	}
	a, _, err := openExisting(ctx, e, "case event", nil)
	if err != nil {
		return err
	}
	defer a.Close()
	ev, added, err := a.portal.PostStatusEvent(ctx, pos[0], in, "cli")
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintf(e.stdout, "%s: this event was already on file; nobody was notified again\n", pos[0])
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %s at %s added; subscribers are notified\n", pos[0], casegate.StatusTitle(ev.Status, ev.Title, "en"), ev.At.Format(time.RFC3339))
	return nil
}

func cmdStats(ctx context.Context, e env, args []string) error {
	if len(args) < 1 || args[0] != "recompute" {
		return errors.New("usage: casegate stats recompute")
	}
	a, _, err := openExisting(ctx, e, "stats recompute", args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	pts, err := a.portal.RecomputeProcessingTimes(ctx, "cli")
	if err != nil {
		return err
	}
	k := a.portal.ProcessingMinCases()
	fmt.Fprintf(e.stdout, "processing times recomputed in %v; published, each from at least %d finished cases (CASEGATE_PROCESSING_MIN_CASES):\n",
		time.Since(start).Round(time.Millisecond), k)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FORM\tCATEGORY\tOFFICE\tMEDIAN DAYS\t80TH PERCENTILE DAYS\tCASES")
	for _, p := range pts {
		category, office := p.Category, p.Office
		if p.WholeForm() {
			category, office = "(all)", "(all)"
		}
		if p.Withheld {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\tfewer than %d\n", p.FormType, category, office, k)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", p.FormType, category, office, p.MedianDays, p.P80Days, p.Cases)
	}
	return tw.Flush()
}

func cmdDeliveries(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("deliveries", e.stderr)
	status := fs.String("status", "failed", "pending, sent, failed or cancelled")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	a, _, err := openExistingWithFlags(ctx, e, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	ds, err := a.portal.Deliveries(ctx, casegate.DeliveryStatus(*status), *limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tCHANNEL\tTO\tTEMPLATE\tATTEMPTS\tLAST ERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.CreatedAt.Format(time.RFC3339), d.Channel,
			portal.MaskContact(d.Channel, d.Destination), d.Template, d.Attempts, d.LastError)
	}
	return tw.Flush()
}

// cmdAuditList prints audit events as JSON Lines.
func cmdAuditList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("audit list", e.stderr)
	after := fs.Int64("after", 0, "only events after this sequence number")
	limit := fs.Int("limit", 100, "at most this many (1–1000)")
	a, _, err := openExistingWithFlags(ctx, e, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	es, err := a.portal.AuditEvents(ctx, *after, *limit)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	for _, ev := range es {
		if err := enc.Encode(map[string]any{
			"seq": ev.Seq, "at": ev.At, "actor": ev.Actor, "action": ev.Action, "target": ev.Target,
			"outcome": ev.Outcome, "details": ev.Details, "key_id": ev.KeyID, "prev_hash": ev.PrevHash, "hash": ev.Hash,
		}); err != nil {
			return err
		}
	}
	return nil
}

// parseInt64 reads a positive id.
func parseInt64(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
