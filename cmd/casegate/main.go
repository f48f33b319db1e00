// Command casegate is the case-status portal: one binary with subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
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
		os.Exit(1)
	}
}

// exitError asks for a particular exit status.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

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
		{"loadtest", "drive full sign-in cycles against a server and report throughput and latency", cmdLoadtest},
	}
}

// run is the whole program; tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		usage(stdout)
		return nil
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
			return c.run(ctx, e, args[2:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[1])
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
