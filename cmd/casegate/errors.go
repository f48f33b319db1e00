package main

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/casegate/casegate"
)

// told is an error as the command line prints it (explain), still
// unwrapping to what it tells, so that its exit status is found.
type told struct {
	text string
	err  error
}

func (t told) Error() string { return t.text }
func (t told) Unwrap() error { return t.err }

// tell is err as a person reads it: explain's text, the error kept beneath.
func tell(err error) error {
	if err == nil {
		return nil
	}
	return told{text: explain(err), err: err}
}

// explain says what went wrong in terms a person can act on. An error the
// portal or the store made for a person (not found, a conflict, a field in
// the wrong form) is its message alone, without the layers it came through
// ("store: update: portal: …: store: conflict: …") or its code; what a
// command added before it (a file's name) stays. Anything else, a database
// that failed say, is told as it is: the operator needs its detail.
func explain(err error) string {
	e, ok := casegate.AsError(err)
	if !ok || e.Code == casegate.EInternal {
		return err.Error()
	}
	text := plainError(e)
	var in inFile
	if errors.As(err, &in) {
		return in.name + ": " + text
	}
	return text
}

// plainError is e's message, with its fields' messages after it: "name:
// Give the token a name of 1–100 characters."
func plainError(e *casegate.Error) string {
	if len(e.Fields) == 0 {
		return e.Text()
	}
	parts := make([]string, 0, len(e.Fields))
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, k+": "+e.Fields[k].English())
	}
	return strings.Join(parts, "; ")
}

// inFile is an error about the file name, such as a line of an import
// that stopped it.
type inFile struct {
	name string
	err  error
}

func (f inFile) Error() string { return f.name + ": " + f.err.Error() }
func (f inFile) Unwrap() error { return f.err }

// withFieldNames is err with the fields of its field errors named as the
// command names them (the API's "at" is case event's -at).
func withFieldNames(err error, names map[string]string) error {
	e, ok := casegate.AsError(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	renamed := *e
	renamed.Fields = make(map[string]casegate.Msg, len(e.Fields))
	for k, m := range e.Fields {
		if n, ok := names[k]; ok {
			k = n
		}
		renamed.Fields[k] = m
	}
	return &renamed
}
