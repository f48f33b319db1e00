// Command casegate is the case-status portal: one binary with subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // CASEGATE_TIME_ZONE works where the host has no zone database (a scratch container)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "casegate:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		var f failure
		if errors.As(err, &f) {
			os.Exit(f.status)
		}
		os.Exit(1)
	}
}

// exitError asks for a particular exit status.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// failure is an error a person can act on, with its own exit status.
type failure struct {
	status int
	msg    string
}

func (f failure) Error() string { return f.msg }

// env is what every subcommand gets.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the web server and the delivery worker", cmdServe},
		{"demo", "run on a fresh demo database with synthetic cases and a built-in mailbox", cmdDemo},
		{"worker", "run only the delivery worker", cmdWorker},
		{"migrate", "bring the database schema up to date", cmdMigrate},
		{"import", "import cases from JSON Lines or CSV files", cmdImport},
		{"import-offices", "import the office catalog (names and contacts by office code) from JSON Lines files", cmdImportOffices},
		{"generate", "write synthetic cases as JSON Lines", cmdGenerate},
		{"audit", "audit verify | audit list [-after N]: check or read the audit log", cmdAudit},
		{"case", "case event RECEIPT STATUS: post a status event; subscribers are notified", cmdCase},
		{"stats", "stats recompute: recompute processing times now", cmdStats},
		{"deliveries", "list deliveries in a status (default failed)", cmdDeliveries},
		{"admin", "admin token create NAME | list | revoke NAME", cmdAdmin},
		{"party", "party unlock ID", cmdParty},
		{"doctor", "check a deployment's configuration and say what to fix", cmdDoctor},
		{"dkim-record", "print the DNS TXT record that publishes the DKIM key of CASEGATE_DKIM_KEY_FILE", cmdDKIMRecord},
		{"loadtest", "drive full sign-in cycles against a server and report throughput and latency", cmdLoadtest},
		{"version", "print the version and the source revision this binary was built from", cmdVersion},
	}
}

// run is the whole program; tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		usage(stdout)
		return nil
	}
	if args[1] == "--version" || args[1] == "-version" {
		return cmdVersion(ctx, e, nil)
	}
	for _, c := range commands() {
		if c.name == args[1] {
			if path := getenv("CASEGATE_CPU_PROFILE"); path != "" {
				stop, err := startCPUProfile(path)
				if err != nil {
					return err
				}
				defer stop()
			}
			err := c.run(ctx, e, args[2:])
			if errors.Is(err, flag.ErrHelp) {
				return nil // -h asked for the help the flag set printed: not a failure
			}
			return err
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[1])
}

// cmdVersion prints the module version and the source revision from the
// build information the Go toolchain stamps into the binary: "(devel)" and
// the commit for a build from a checkout, the tag for `go install …@vX`.
func cmdVersion(_ context.Context, e env, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments")
	}
	fmt.Fprintln(e.stdout, versionLine())
	return nil
}

// versionLine is "casegate VERSION (REVISION[, modified], GOVERSION)".
func versionLine() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "casegate (no build information)"
	}
	version, rev, modified := bi.Main.Version, "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if version == "" {
		version = "(devel)"
	}
	detail := bi.GoVersion
	if rev != "" {
		if modified {
			rev += ", modified"
		}
		detail = rev + ", " + detail
	}
	return fmt.Sprintf("casegate %s (%s)", version, detail)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: casegate <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery setting is an environment variable (CASEGATE_…) and a flag; flags win. Run `casegate serve -h` for the list.")
}

// startCPUProfile writes a pprof CPU profile of the whole command to path,
// when CASEGATE_CPU_PROFILE names one (`casegate loadtest -server-cpuprofile`
// sets it for the server it starts). It is not a configuration setting: it is
// for whoever measures, and it records nothing but function names.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("CASEGATE_CPU_PROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("CASEGATE_CPU_PROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
