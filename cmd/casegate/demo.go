package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/synth"
)

// demoSeed makes every demo start with the same people.
const demoSeed = 20261126

// demoCases is how many cases the demo loads unless told otherwise: enough
// that, with the default minimum of CASEGATE_PROCESSING_MIN_CASES, most forms
// publish figures for their busiest categories and offices, each from a
// spread of finished cases, and not only whole-form figures or "not enough
// recent cases".
const demoCases = 3000

func cmdDemo(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("demo", e.stderr)
	cases := fs.Int("cases", demoCases, "how many synthetic cases to load")
	dir := fs.String("dir", "casegate-data/demo", "folder for the demo database and secret; emptied at each start")
	cfg, err := loadConfig(fs, args, demoGetenv(e.getenv))
	if err != nil {
		return err
	}
	if *cases < 3 || *cases > 1_000_000 {
		return fmt.Errorf("--cases: want 3 to 1000000, got %d", *cases)
	}
	if err := os.RemoveAll(*dir); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg.Demo = true
	cfg.DB = filepath.Join(*dir, "casegate.db")
	cfg.SecretFile = filepath.Join(*dir, "secret.key")
	mailbox := &delivery.Mailbox{}
	senders := map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: mailbox, casegate.ChannelSMS: mailbox}
	return serve(ctx, e, cfg, senders, mailbox, func(a *app, addr string) error {
		// A person reads the demo: besides the log's JSON start line, a
		// sentence on stdout says where to go.
		fmt.Fprintf(e.stdout, "casegate demo: serving on http://%s (public URL %s)\n", addr, a.cfg.PublicURL)
		return loadDemo(ctx, e, a, *cases)
	})
}

// demoGetenv is the environment as the demo reads it: its own database and
// mailbox, texts to every country, and requests not logged unless asked
// (CASEGATE_LOG_LEVEL or -log-level), so that the identities it prints do
// not scroll away under a line per request.
func demoGetenv(getenv func(string) string) func(string) string {
	return func(k string) string {
		switch k {
		case "CASEGATE_DB", "CASEGATE_SECRET_FILE", "CASEGATE_SMTP_URL", "CASEGATE_SMS_URL":
			return "" // the demo keeps its own database and delivers to its mailbox
		case "CASEGATE_SMS_COUNTRIES":
			if getenv(k) == "" {
				return "*" // the synthetic people live in many countries; texts only reach the mailbox
			}
		case "CASEGATE_LOG_LEVEL":
			if getenv(k) == "" {
				return "warn"
			}
		}
		return getenv(k)
	}
}

// loadDemo imports n synthetic cases and prints the identities to try.
func loadDemo(ctx context.Context, e env, a *app, n int) error {
	opts := synth.Options{Seed: demoSeed}
	res, _, err := seedDemo(ctx, a, n, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "casegate demo: loaded %d synthetic cases (%d rejected).\n", res.Created, len(res.Rejected))
	fmt.Fprintf(e.stdout, "Messages go to the demo mailbox: %s/dev/mailbox\n\nIdentities to try:\n", a.cfg.PublicURL)
	g := synth.New(opts)
	for i, ident := range demoIdentities(g, n) {
		fmt.Fprintf(e.stdout, "  %d. %s\n", i+1, ident)
	}
	fmt.Fprintln(e.stdout, "\nPress Ctrl-C to stop.")
	return nil
}

// seedDemo imports the synthetic office catalog and n synthetic cases of
// opts, and publishes their processing times, which it returns.
func seedDemo(ctx context.Context, a *app, n int, opts synth.Options) (portal.ImportResult, []casegate.ProcessingTime, error) {
	var lines bytes.Buffer // the catalog as an operator would load it
	enc := json.NewEncoder(&lines)
	for _, o := range synth.Offices() {
		if err := enc.Encode(o); err != nil {
			return portal.ImportResult{}, nil, fmt.Errorf("demo: offices: %w", err)
		}
	}
	offices, bad, err := caseimport.ReadOffices(&lines)
	if err == nil && len(bad) > 0 {
		err = fmt.Errorf("line %d: %s", bad[0].Line, bad[0].Error)
	}
	if err == nil {
		_, _, err = a.portal.ImportOffices(ctx, offices, "system:demo")
	}
	if err != nil {
		return portal.ImportResult{}, nil, fmt.Errorf("demo: offices: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(synth.Write(pw, n, opts, nil)) }()
	res, err := a.portal.Importer().Import(ctx, pr, "jsonl", "system:demo", nil)
	if err != nil {
		return res, nil, fmt.Errorf("demo: load cases: %w", err)
	}
	pts, err := a.portal.RecomputeProcessingTimes(ctx, "system:demo")
	if err != nil {
		return res, nil, fmt.Errorf("demo: processing times: %w", err)
	}
	return res, pts, nil
}

// demoIdentities picks three people: one by receipt number, one by A-Number,
// and one attorney or other watcher of a case.
func demoIdentities(g *synth.Generator, n int) []string {
	var byReceipt, byANumber, watcher string
	for i := 0; i < n && (byReceipt == "" || byANumber == "" || watcher == ""); i++ {
		c := g.Case(i)
		for _, p := range c.Parties {
			who := fmt.Sprintf("given_name=%q family_name=%q date_of_birth=%s country_of_birth=%s",
				p.GivenName, p.FamilyName, p.DateOfBirth, p.CountryOfBirth)
			switch {
			case p.Role == string(casegate.RoleApplicant) && byReceipt == "" && p.Email != "":
				byReceipt = "receipt_number=" + c.ReceiptNumber + " " + who + " (code by email)"
			case p.Role == string(casegate.RoleApplicant) && byANumber == "" && p.ANumber != "" && i > 0:
				byANumber = "a_number=" + p.ANumber + " " + who + " (" + demoChannel(p) + ")"
			case p.Role != string(casegate.RoleApplicant) && watcher == "":
				watcher = "receipt_number=" + c.ReceiptNumber + " " + who + " (" + p.Role + ", " + demoChannel(p) + ")"
			}
		}
	}
	out := []string{byReceipt, byANumber, watcher}
	for i, s := range out {
		if s == "" {
			out[i] = "(none among the first " + strconv.Itoa(n) + " cases)"
		}
	}
	return out
}

// demoChannel says which channel to choose for p: email when it has one
// on file, else a text message.
func demoChannel(p synth.ImportParty) string {
	if p.Email != "" {
		return "code by email"
	}
	return "code by text message"
}
