package accesscode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// fixedSecret returns a secret whose bytes are n copies of fill.
func fixedSecret(id string, fill byte, n int) Secret {
	return Secret{ID: id, Bytes: bytes.Repeat([]byte{fill}, n)}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret("k1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "k1" || len(a.Bytes) != 32 {
		t.Errorf("NewSecret = id %q, %d bytes; want k1, 32", a.ID, len(a.Bytes))
	}
	if bytes.Equal(a.Bytes, b.Bytes) {
		t.Error("two NewSecret calls gave the same bytes")
	}
	for _, id := range []string{"", "K1", "key-1", "k 1", "é", strings.Repeat("a", 17)} {
		if _, err := NewSecret(id); err == nil {
			t.Errorf("NewSecret(%q) accepted an invalid id", id)
		}
	}
	if _, err := NewSecret(strings.Repeat("a", 16)); err != nil {
		t.Errorf("NewSecret with a 16-character id: %v", err)
	}
}

func TestSecretDoesNotPrintBytes(t *testing.T) {
	s := fixedSecret("k1", 0xAB, 32)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%x", s),
		fmt.Sprintf("%v", []Secret{s}), logged.String(),
	} {
		if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, "171") || strings.Contains(out, "q6ur") {
			t.Errorf("printed secret shows its bytes: %s", out)
		}
		if !strings.Contains(out, "k1") && !strings.Contains(out, "6b31") {
			t.Errorf("printed secret does not name its id: %s", out)
		}
	}
}

func TestParseSecretFile(t *testing.T) {
	raw := bytes.Repeat([]byte{0xFB, 0xFF, 0x01}, 11) // 33 bytes: exercises + and / versus - and _
	url := base64.RawURLEncoding.EncodeToString(raw)
	urlPad := base64.URLEncoding.EncodeToString(raw)
	std := base64.StdEncoding.EncodeToString(raw)
	stdRaw := base64.RawStdEncoding.EncodeToString(raw)
	short := base64.RawURLEncoding.EncodeToString(raw[:31])
	tests := []struct {
		name    string
		in      string
		ids     []string
		wantErr string // substring of the error; empty for success
	}{
		{"one url", "k1 " + url + "\n", []string{"k1"}, ""},
		{"padded url", "k1 " + urlPad, []string{"k1"}, ""},
		{"std padded", "k1 " + std, []string{"k1"}, ""},
		{"std raw", "k1 " + stdRaw, []string{"k1"}, ""},
		{"comments, blanks, tabs, CRLF", "\uFEFF# header\r\n\r\n  # indented comment\r\nk1\t" + url + "\r\n\nk2   " + std + "  \r\n", []string{"k1", "k2"}, ""},
		{"order kept", "b " + url + "\na " + url + "\nc " + url, []string{"b", "a", "c"}, ""},
		{"empty", "", nil, "no secret"},
		{"only comments", "# nothing\n\n", nil, "no secret"},
		{"one field", "# c\n" + url, nil, "line 2: want"},
		{"three fields", "k1 " + url + " extra", nil, "line 1: want"},
		{"trailing comment", "k1 " + url + " # note", nil, "line 1: want"},
		{"upper-case id", "K1 " + url, nil, "line 1: the key id"},
		{"id too long", strings.Repeat("a", 17) + " " + url, nil, "line 1: the key id"},
		{"id with hyphen", "k-1 " + url, nil, "line 1: the key id"},
		{"duplicate id", "k1 " + url + "\n# c\nk1 " + std, nil, `line 3: key id "k1" is already used on line 1`},
		{"bad base64", "k1 " + url[:20] + "*" + url[21:], nil, "line 1: the secret is not valid base64"},
		{"too short", "k1 " + url + "\nk2 " + short, nil, "line 2: the secret is 31 bytes, need at least 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecretFile([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSecretFile: %v; want an error containing %q", err, tt.wantErr)
				}
				for _, f := range strings.Fields(tt.in) {
					if len(f) >= 20 && strings.Contains(err.Error(), f) {
						t.Errorf("error %q repeats the secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecretFile: %v", err)
			}
			if len(got) != len(tt.ids) {
				t.Fatalf("got %d secrets, want %d", len(got), len(tt.ids))
			}
			for i, s := range got {
				if s.ID != tt.ids[i] || !bytes.Equal(s.Bytes, raw) {
					t.Errorf("secret %d = %q %x, want %q %x", i, s.ID, s.Bytes, tt.ids[i], raw)
				}
			}
		})
	}
}

func TestFormatSecretFileRoundTrip(t *testing.T) {
	a, _ := NewSecret("k1")
	b, _ := NewSecret("2025rotation")
	c := fixedSecret("z", 0xFF, 64)
	in := []Secret{a, b, c}
	data := FormatSecretFile(in)
	if !bytes.Contains(data, []byte("The last line is the current key")) || !bytes.Contains(data, []byte("Keep old lines so old\n# codes still verify")) {
		t.Errorf("the header does not explain rotation:\n%s", data)
	}
	got, err := ParseSecretFile(data)
	if err != nil {
		t.Fatalf("ParseSecretFile(FormatSecretFile): %v", err)
	}
	if len(got) != len(in) {
		t.Fatalf("round trip gave %d secrets, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i].ID != in[i].ID || !bytes.Equal(got[i].Bytes, in[i].Bytes) {
			t.Errorf("secret %d changed in the round trip", i)
		}
	}
}

func FuzzParseSecretFile(f *testing.F) {
	s, _ := NewSecret("k1")
	f.Add(FormatSecretFile([]Secret{s}))
	f.Add([]byte("k1 " + base64.StdEncoding.EncodeToString(s.Bytes) + "\r\nk1 x\n"))
	f.Add([]byte("# only\n\n"))
	f.Add([]byte("K1 ===\nk2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		secrets, err := ParseSecretFile(data)
		if err != nil {
			if secrets != nil {
				t.Fatal("secrets returned with an error")
			}
			for _, field := range strings.Fields(string(data)) {
				if len(field) >= 20 && strings.Contains(err.Error(), field) {
					t.Fatalf("error %q repeats input %q", err, field)
				}
			}
			return
		}
		if len(secrets) == 0 {
			t.Fatal("no secrets and no error")
		}
		if _, err := NewKeyring(secrets); err != nil {
			t.Fatalf("NewKeyring rejects what ParseSecretFile accepted: %v", err)
		}
		again, err := ParseSecretFile(FormatSecretFile(secrets))
		if err != nil || len(again) != len(secrets) {
			t.Fatalf("format round trip: %d secrets, %v", len(again), err)
		}
		for i := range secrets {
			if again[i].ID != secrets[i].ID || !bytes.Equal(again[i].Bytes, secrets[i].Bytes) {
				t.Fatalf("secret %d changed in the format round trip", i)
			}
		}
	})
}
