package caseimport

import (
	"testing"
	"time"

	"github.com/casegate/casegate/synth"
)

// benchLines returns n lines of a generated import, as casegate generate
// writes them.
func benchLines(n int) [][]byte {
	g := synth.New(synth.Options{Seed: 1, Now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)})
	lines := make([][]byte, n)
	for i := range lines {
		c := g.Case(i)
		lines[i] = synth.AppendJSON(nil, &c)
	}
	return lines
}

// BenchmarkParseJSONLine parses lines of a generated file: decoding and
// every check, the work of the parse workers of an import.
func BenchmarkParseJSONLine(b *testing.B) {
	lines := benchLines(1000)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := ParseJSONLine(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeCase decodes the same lines without the checks, with the
// fast decoder and with encoding/json as ParseJSONLine calls it.
func BenchmarkDecodeCase(b *testing.B) {
	lines := benchLines(1000)
	for _, d := range []struct {
		name   string
		decode func([]byte) (caseInput, bool)
	}{{"fast", decodeCaseFast}, {"encoding-json", decodeSlow}} {
		b.Run(d.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, ok := d.decode(lines[i%len(lines)]); !ok {
					b.Fatal("not decoded")
				}
				i++
			}
		})
	}
}
