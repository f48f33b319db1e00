package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

func cmdCase(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate case event RECEIPT STATUS [-title TEXT] [-at RFC3339]"
	if len(args) < 1 || args[0] != "event" {
		return usageOrHelp(e, args, use)
	}
	fs := newFlagSet("case event", e.stderr)
	title := fs.String("title", "", "title of a custom status")
	at := fs.String("at", "", "when it happened (RFC 3339); default now")
	a, pos, err := openExistingWithFlags(ctx, e, fs, args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
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
	ev, added, err := a.portal.PostStatusEvent(ctx, pos[0], in, "cli")
	if err != nil {
		return withFieldNames(err, map[string]string{"status": "STATUS", "title": "-title", "at": "-at"})
	}
	if !added {
		fmt.Fprintf(e.stdout, "%s: this event was already on file; nobody was notified again\n", pos[0])
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %s at %s added; subscribers are notified\n", pos[0], casegate.StatusTitle(ev.Status, ev.Title, "en"), ev.At.Format(time.RFC3339))
	return nil
}

func cmdStats(ctx context.Context, e env, args []string) error {
	const use = "usage: casegate stats recompute [-json]"
	if len(args) < 1 || args[0] != "recompute" {
		return usageOrHelp(e, args, use)
	}
	fs := newFlagSet("stats recompute", e.stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per figure, one a line")
	a, rest, err := openExistingWithFlags(ctx, e, fs, args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
	if err := noArgs(use, rest); err != nil {
		return err
	}
	start := time.Now()
	pts, err := a.portal.RecomputeProcessingTimes(ctx, "cli")
	if err != nil {
		return err
	}
	k := a.portal.ProcessingMinCases()
	if *asJSON {
		return writeJSONLines(e.stdout, pts, func(p casegate.ProcessingTime) any {
			return processingJSON{FormType: p.FormType, Category: p.Category, Office: p.Office, WholeForm: p.WholeForm(),
				Withheld: p.Withheld, MedianDays: p.MedianDays, P80Days: p.P80Days, Cases: p.Cases, MinCases: k}
		})
	}
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

// processingJSON is one figure of `stats recompute -json`. A withheld
// figure (from fewer than min_cases finished cases) has no days.
type processingJSON struct {
	FormType   string `json:"form_type"`
	Category   string `json:"category"`
	Office     string `json:"office"`
	WholeForm  bool   `json:"whole_form"`
	Withheld   bool   `json:"withheld"`
	MedianDays int    `json:"median_days,omitempty"`
	P80Days    int    `json:"p80_days,omitempty"`
	Cases      int    `json:"cases"`
	MinCases   int    `json:"min_cases"`
}

func cmdDeliveries(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("deliveries", e.stderr)
	status := fs.String("status", "failed", "pending, sent, failed or cancelled")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	asJSON := fs.Bool("json", false, "print one JSON object per delivery, one a line")
	a, rest, err := openExistingWithFlags(ctx, e, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := noArgs("usage: casegate deliveries [-status STATUS] [-limit N] [-json]", rest); err != nil {
		return err
	}
	switch st := casegate.DeliveryStatus(*status); st {
	case casegate.DeliveryPending, casegate.DeliverySent, casegate.DeliveryFailed, casegate.DeliveryCancelled:
	default:
		return fmt.Errorf("-status: want pending, sent, failed or cancelled, got %q", *status)
	}
	if *limit < 1 || *limit > 10000 {
		return fmt.Errorf("-limit: want 1 to 10000, got %d", *limit)
	}
	ds, err := a.portal.Deliveries(ctx, casegate.DeliveryStatus(*status), *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		// The address is masked as in the table; the message, and any code
		// sealed in it, is never printed.
		return writeJSONLines(e.stdout, ds, func(d casegate.Delivery) any {
			return deliveryJSON{ID: d.ID, CreatedAt: d.CreatedAt, Status: string(d.Status), Channel: string(d.Channel),
				To: portal.MaskContact(d.Channel, d.Destination), Template: d.Template, Attempts: d.Attempts, LastError: d.LastError}
		})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tCHANNEL\tTO\tTEMPLATE\tATTEMPTS\tLAST ERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.CreatedAt.Format(time.RFC3339), d.Channel,
			portal.MaskContact(d.Channel, d.Destination), d.Template, d.Attempts, d.LastError)
	}
	return tw.Flush()
}

// deliveryJSON is one line of `deliveries -json`.
type deliveryJSON struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	Channel   string    `json:"channel"`
	To        string    `json:"to"` // masked
	Template  string    `json:"template"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
}

// cmdAuditList prints audit events as JSON Lines, -json or not: the
// events' details are a map of their own per action.
func cmdAuditList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("audit list", e.stderr)
	after := fs.Int64("after", 0, "only events after this sequence number")
	limit := fs.Int("limit", 100, "at most this many (1–1000)")
	fs.Bool("json", true, "print one JSON object per event, one a line (the only form; accepted for the other list commands' sake)")
	a, rest, err := openExistingWithFlags(ctx, e, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := noArgs("usage: casegate audit list [-after N] [-limit N]", rest); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return fmt.Errorf("-limit: want 1 to 1000, got %d", *limit)
	}
	es, err := a.portal.AuditEvents(ctx, *after, *limit)
	if err != nil {
		return err
	}
	return writeJSONLines(e.stdout, es, func(ev casegate.AuditEvent) any {
		return map[string]any{
			"seq": ev.Seq, "at": ev.At, "actor": ev.Actor, "action": ev.Action, "target": ev.Target,
			"outcome": ev.Outcome, "details": ev.Details, "key_id": ev.KeyID, "prev_hash": ev.PrevHash, "hash": ev.Hash,
		}
	})
}

// writeJSONLines writes one JSON object per item, one a line (JSON Lines):
// what every -json of a list command prints.
func writeJSONLines[T any](w io.Writer, items []T, view func(T) any) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(view(it)); err != nil {
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
