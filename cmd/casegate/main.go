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
		var ee exitError
		if !errors.As(err, &ee) { // an exitError's command has said why
			fmt.Fprintln(os.Stderr, "casegate:", err)
		}
		os.Exit(exitStatus(err))
	}
}

// exitStatus is the exit status err asks for: an exitError's or a
// failure's own, 0 for nil, else 1.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	var f failure
	if errors.As(err, &f) {
		return f.status
	}
	return 1
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
		{"backup", "backup DEST: write a consistent copy of the SQLite database, while it serves, with its checksum", cmdBackup},
		{"restore", "restore SRC: restore a backup where CASEGATE_DB names, only if nothing is there", cmdRestore},
		{"keys", "keys rotate | retire ID | list: change the instance secret's keys (docs/keys.md)", cmdKeys},
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
			var help helpError
			if errors.As(err, &help) {
				fmt.Fprint(stdout, help.text) // -h asked for help: not a failure
				return nil
			}
			if errors.Is(err, flag.ErrHelp) {
				return nil // -h asked for the help the flag set printed: not a failure
			}
			return tell(err)
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

// buildRevision is the source revision for a build that has no VCS
// information to stamp, set with -ldflags=-X=main.buildRevision=…: the
// container recipe (deploy/Containerfile) builds without .git.
var buildRevision string

// build is what the Go toolchain stamped into the binary about its build.
type build struct {
	version   string // the module version; "(devel)" for a build from a checkout
	revision  string // the VCS commit, or ""
	modified  bool   // the checkout had changes
	goVersion string
}

// readBuild reads the build information; ok is false without any.
func readBuild() (b build, ok bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return build{}, false
	}
	b.version, b.goVersion = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	if b.version == "" {
		b.version = "(devel)"
	}
	if b.revision == "" {
		b.revision = buildRevision
	}
	return b, true
}

// versionLine is "casegate VERSION (REVISION[, modified], GOVERSION)".
func versionLine() string {
	b, ok := readBuild()
	if !ok {
		return "casegate (no build information)"
	}
	detail := b.goVersion
	if b.revision != "" {
		rev := b.revision
		if b.modified {
			rev += ", modified"
		}
		detail = rev + ", " + detail
	}
	return fmt.Sprintf("casegate %s (%s)", b.version, detail)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: casegate <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery setting is an environment variable (CASEGATE_…) and a flag of the commands it concerns; flags win.\n`casegate serve -h` lists them all; `casegate COMMAND -h` shows a command's own.")
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
