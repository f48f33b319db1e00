package portal

import (
	"strings"
	"testing"
	"time"
)

const goodCheckpoint = `{"seq":5,"hash":"ab","at":"2026-03-02T09:00:00Z","key_id":"k1","mac":"cd"}`

func TestParseCheckpoints(t *testing.T) {
	tests := []struct {
		name, in string
		want     []int64 // seqs
		err      string
	}{
		{"one", goodCheckpoint, []int64{5}, ""},
		{"several, comments and blanks", "# kept off-box\n" + goodCheckpoint + "\n\n" + strings.Replace(goodCheckpoint, `"seq":5`, `"seq":9`, 1) + "\n", []int64{5, 9}, ""},
		{"serve's log", `{"time":"2026-03-02T09:00:00Z","level":"INFO","msg":"serving"}` + "\n" +
			`{"time":"2026-03-02T09:00:00Z","level":"INFO","msg":"audit checkpoint","checkpoint":` + goodCheckpoint + "}\n", []int64{5}, ""},
		{"empty", "", nil, "no checkpoint"},
		{"only other log lines", `{"msg":"serving"}`, nil, "no checkpoint"},
		{"not JSON", "seq=5", nil, "line 1: not a JSON object: not valid JSON at byte 1"},
		{"missing members", `{"seq":5,"hash":"ab"}`, nil, "no at, key_id, mac"},
		{"unknown member", strings.Replace(goodCheckpoint, `"mac"`, `"extra":1,"mac"`, 1), nil, "unknown field"},
		{"bad time", strings.Replace(goodCheckpoint, "2026-03-02T09:00:00Z", "yesterday", 1), nil, "RFC 3339"},
		{"negative seq", strings.Replace(goodCheckpoint, `"seq":5`, `"seq":-5`, 1), nil, "negative"},
		{"seq not a number", strings.Replace(goodCheckpoint, `"seq":5`, `"seq":"5"`, 1), nil, "line 1: not a checkpoint: seq must be a number, not string"},
		{"hash not a string", strings.Replace(goodCheckpoint, `"hash":"ab"`, `"hash":[1]`, 1), nil, "hash must be a string, not array"},
		{"bad second line", goodCheckpoint + "\n{", nil, "line 2"},
		{"checkpoint member of another shape", `{"msg":"x","checkpoint":7}`, nil, "line 1: not a checkpoint: want an object, not number"},
		{"huge line", strings.Repeat("x", maxCheckpointLine+1), nil, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cps, err := ParseCheckpoints([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "json:") {
					t.Errorf("err = %v tells of Go's types, not of the line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, c := range cps {
				seqs = append(seqs, c.Seq)
			}
			if len(seqs) != len(tt.want) || (len(seqs) > 0 && seqs[0] != tt.want[0]) || seqs[len(seqs)-1] != tt.want[len(tt.want)-1] {
				t.Errorf("seqs %v, want %v", seqs, tt.want)
			}
			if want := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC); !cps[0].At.Equal(want) || cps[0].KeyID != "k1" || cps[0].MAC != "cd" {
				t.Errorf("checkpoint %+v", cps[0])
			}
		})
	}
}

func FuzzParseCheckpoints(f *testing.F) {
	f.Add([]byte(goodCheckpoint))
	f.Add([]byte(`{"msg":"audit checkpoint","checkpoint":` + goodCheckpoint + "}\n# x\n"))
	f.Add([]byte("{\"seq\":1e400}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cps, err := ParseCheckpoints(data)
		if err == nil && len(cps) == 0 {
			t.Fatal("no error and no checkpoint")
		}
		for _, c := range cps {
			if c.Seq < 0 {
				t.Fatalf("negative seq accepted: %+v", c)
			}
		}
	})
}
