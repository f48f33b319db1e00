package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Which settings a command takes as flags. Every command reads every
// setting from the environment (one environment serves all of them); only
// the settings it uses are flags, and only those show in its -h.
var (
	// storeFlags are the flags of a command that opens the database.
	storeFlags = []string{"db", "secret-file", "log-level"}
	// importFlags add what reading phone numbers depends on.
	importFlags = append(storeFlags[:len(storeFlags):len(storeFlags)], "phone-region", "sms-allow-voip")
	// secretFlags are the flags of a command that reads only the secret file.
	secretFlags = []string{"secret-file"}
)

// synopses are the argument lines of the commands' -h, after "casegate NAME".
var synopses = map[string]string{
	"import":             "FILE.jsonl|FILE.csv … [flags]",
	"import-offices":     "FILE.jsonl … [flags]",
	"audit verify":       "[-checkpoint FILE] [flags]",
	"audit list":         "[-after N] [-limit N] [-json] [flags]",
	"case event":         "RECEIPT STATUS [-title TEXT] [-at RFC3339] [flags]",
	"admin token create": "NAME [flags]",
	"admin token revoke": "NAME [flags]",
	"admin token list":   "[-json] [flags]",
	"party unlock":       "ID [flags]",
	"deliveries":         "[-status STATUS] [-limit N] [-json] [flags]",
	"stats recompute":    "[-json] [flags]",
	"keys rotate":        "[flags]",
	"keys retire":        "ID [flags]",
	"keys list":          "[-json] [flags]",
	"backup":             "DEST [-with-secret] [flags]",
	"restore":            "SRC [-checksum FILE] [flags]",
	"dkim-record":        "[flags]",
}

// helpError is -h asked for: the help text, which run prints to standard
// output before it exits 0. It is flag.ErrHelp to errors.Is.
type helpError struct{ text string }

func (h helpError) Error() string { return "help requested" }
func (h helpError) Unwrap() error { return flag.ErrHelp }

// parseArgs parses the flags of fs wherever they stand among args and
// returns the other arguments in order: `import a.jsonl -db X b.csv` is
// a.jsonl and b.csv into X. Go's flag package stops at the first argument
// that is not a flag; parseArgs takes that one and parses on from the next.
// After "--" every argument is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // errors and help are returned, not printed
	fs.Usage = func() {}
	var pos []string
	rest := args
	for {
		err := fs.Parse(rest)
		if errors.Is(err, flag.ErrHelp) {
			return nil, helpError{usageText(fs)}
		}
		if err != nil {
			return nil, fmt.Errorf("%s; `%s -h` lists its flags", flagProblem(err), fs.Name())
		}
		consumed := len(rest) - fs.NArg()
		if consumed > 0 && rest[consumed-1] == "--" && !isFlagValue(fs, rest, consumed-1) {
			return append(pos, fs.Args()...), nil
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// isFlagValue reports whether args[i] is the value of the flag before it
// ("-title --"), rather than the end of the flags.
func isFlagValue(fs *flag.FlagSet, args []string, i int) bool {
	if i == 0 {
		return false
	}
	name := strings.TrimLeft(args[i-1], "-")
	if !strings.HasPrefix(args[i-1], "-") || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// flagProblem rewords the flag package's errors for a person:
// "flag provided but not defined: -x" becomes "-x: no such flag".
func flagProblem(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return name + ": no such flag for this command"
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return name + ": give it a value"
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -n: parse error
		if v, flagPart, ok := strings.Cut(rest, " for flag "); ok {
			name, _, _ := strings.Cut(flagPart, ":")
			return fmt.Sprintf("%s: %s is not a valid value", name, v)
		}
	}
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if v, flagPart, ok := strings.Cut(rest, " for "); ok {
			name, _, _ := strings.Cut(flagPart, ":")
			return fmt.Sprintf("%s: want true or false, got %s", name, v)
		}
	}
	return msg
}

// usageText is the help of the command fs parses: its synopsis and its
// own flags, nothing else.
func usageText(fs *flag.FlagSet) string {
	var b strings.Builder
	name := strings.TrimPrefix(fs.Name(), "casegate ")
	syn, ok := synopses[name]
	if !ok {
		syn = "[flags]"
	}
	fmt.Fprintf(&b, "usage: casegate %s %s\n", name, syn)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return b.String()
}

// onlyFlags reports whether the flag name is among names; nil names are all.
func onlyFlags(names []string, name string) bool { return names == nil || slices.Contains(names, name) }

// noArgs fails with use when a command that takes flags only was given
// other arguments.
func noArgs(use string, rest []string) error {
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q; %s", rest[0], use)
	}
	return nil
}

// usageOrHelp answers a command with subcommands that was given none it
// knows: -h prints use and exits 0; anything else is an error saying use.
func usageOrHelp(e env, args []string, use string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		return helpError{use + "\n"}
	}
	return errors.New(use)
}
