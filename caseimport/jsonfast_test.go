package caseimport

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeSlow decodes line as ParseJSONLine does without the fast path.
func decodeSlow(line []byte) (caseInput, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var in caseInput
	if err := dec.Decode(&in); err != nil {
		return caseInput{}, false
	}
	if _, err := dec.Token(); err == nil {
		return caseInput{}, false
	}
	return in, true
}

func TestDecodeCaseFast(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		fast bool // the fast path takes it
	}{
		{"design example", strings.ReplaceAll(designLine, "\n", ""), true},
		{"white space between tokens", "{ \"receipt_number\" :\t\"X\" ,\r\n \"history\" : [ ] , \"parties\":[ { } ] }", true},
		{"empty object", `{}`, true},
		{"empty lists", `{"history":[],"parties":[]}`, true},
		{"escape", `{"office":"N\"BC"}`, false},
		{"unicode escape", `{"office":"\u004eBC"}`, false},
		{"key in another case", `{"Receipt_Number":"X"}`, false},
		{"unknown key", `{"color":"blue"}`, false},
		{"key twice", `{"office":"A","office":"B"}`, false},
		{"history twice", `{"history":[{"status":"a","title":"t"}],"history":[{"status":"b"}]}`, false},
		{"null", `{"office":null}`, false},
		{"number", `{"office":1}`, false},
		{"list of null", `{"parties":[null]}`, false},
		{"more after the object", `{"office":"A"} {}`, false},
		{"cut off", `{"office":"A"`, false},
		{"trailing comma", `{"office":"A",}`, false},
		{"control character in a string", "{\"office\":\"A\tB\"}", false},
	} {
		got, ok := decodeCaseFast([]byte(tc.line))
		if ok != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.name, ok, tc.fast)
		}
		if !ok {
			continue
		}
		want, wok := decodeSlow([]byte(tc.line))
		if !wok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fast %+v, encoding/json %+v (ok %v)", tc.name, got, want, wok)
		}
	}
}

// FuzzDecodeCaseFast checks that every line the fast path takes decodes
// exactly as encoding/json decodes it.
func FuzzDecodeCaseFast(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(designLine, "\n", "")))
	f.Add([]byte(`{"history":[{"status":"x","at":"2025-01-01T00:00:00+14:00"},{}],"parties":[{"role":"a"}]}`))
	f.Add([]byte(`{"office":"A","office":"B"}`))
	f.Add([]byte(`{"RECEIPT_NUMBER":"x","parties":[{"ROLE":"a"}]}`))
	f.Add([]byte(`{"office":"\u00e9\ud83d\ude00"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' || !utf8.Valid(line) {
			return // ParseJSONLine stops such lines first
		}
		got, ok := decodeCaseFast(line)
		if !ok {
			return
		}
		want, wok := decodeSlow(line)
		if !wok {
			t.Fatalf("fast path took %q, which encoding/json refuses", line)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", line, got, want)
		}
	})
}
