package caseimport

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/casegate/casegate"
)

func TestParseOfficeLine(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       casegate.Office
		err        string // a part of the reason; "" for none
	}{
		{"all fields", `{"code":"NBC","name":"National Benefits Center","address":"1 Main St, Lee's Summit, MO 64002","phone":"+1 (816) 555-0100","url":"https://offices.example.org/nbc"}`,
			casegate.Office{Code: "NBC", Name: "National Benefits Center", Address: "1 Main St, Lee's Summit, MO 64002", Phone: "+1 (816) 555-0100", URL: "https://offices.example.org/nbc"}, ""},
		{"code and name only, spaces collapsed as a case's office", `{"code":"  Los   Angeles ","name":" Los Angeles Field Office "}`,
			casegate.Office{Code: "Los Angeles", Name: "Los Angeles Field Office"}, ""},
		{"no code", `{"name":"Somewhere"}`, casegate.Office{}, "code: required"},
		{"no name", `{"code":"NBC"}`, casegate.Office{}, "name: required"},
		{"unknown field", `{"code":"NBC","name":"N","fax":"1"}`, casegate.Office{}, "fax: unknown field"},
		{"wrong type", `{"code":1,"name":"N"}`, casegate.Office{}, "code: must be a string, not a JSON number"},
		{"letters in the phone", `{"code":"NBC","name":"N","phone":"call us"}`, casegate.Office{}, "phone: must be digits"},
		{"a plus inside the phone", `{"code":"NBC","name":"N","phone":"1+800"}`, casegate.Office{}, "phone: must be digits"},
		{"a script address", `{"code":"NBC","name":"N","url":"javascript:alert(1)"}`, casegate.Office{}, "url: must be a web address"},
		{"an address without a host", `{"code":"NBC","name":"N","url":"https:///nbc"}`, casegate.Office{}, "url: must be a web address"},
		{"a control character", `{"code":"NBC","name":"N\u0007"}`, casegate.Office{}, "name: must be printable text"},
		{"two errors at once", `{"code":"","name":"","url":"ftp://x"}`, casegate.Office{}, "code: required; name: required; url:"},
		{"not an object", `["NBC"]`, casegate.Office{}, "one JSON object"},
		{"cut off", `{"code":"NBC","name":"N"`, casegate.Office{}, "cut off"},
		{"more after the object", `{"code":"NBC","name":"N"} {}`, casegate.Office{}, "one office per line"},
		{"not UTF-8", "{\"code\":\"\xff\",\"name\":\"N\"}", casegate.Office{}, "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOfficeLine([]byte(tc.line))
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var ce *casegate.Error
			if !errors.As(err, &ce) || ce.Code != casegate.EInvalid || !strings.Contains(ce.Message, tc.err) {
				t.Fatalf("error %v, want EInvalid with %q", err, tc.err)
			}
		})
	}
}

func TestReadOffices(t *testing.T) {
	in := "\ufeff" + `{"code":"NBC","name":"National Benefits Center"}` + "\r\n" +
		"\n" +
		`{"code":"TSC","name":""}` + "\n" +
		`{"code":"TSC","name":"Texas Service Center"}` + "\n" +
		`{"code":"NBC","name":"National Benefits Center","phone":"+1 816 555 0100"}` + "\n"
	offices, rejected, err := ReadOffices(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []casegate.Office{{Code: "NBC", Name: "National Benefits Center", Phone: "+1 816 555 0100"}, {Code: "TSC", Name: "Texas Service Center"}}
	if !reflect.DeepEqual(offices, want) {
		t.Errorf("offices %+v, want %+v (a code given twice keeps its last line)", offices, want)
	}
	if len(rejected) != 1 || rejected[0].Line != 3 || !strings.HasPrefix(rejected[0].Error, "name: required") {
		t.Errorf("rejected %+v, want line 3 for its name", rejected)
	}
}

func FuzzParseOfficeLine(f *testing.F) {
	for _, s := range []string{
		`{"code":"NBC","name":"National Benefits Center","address":"1 Main St","phone":"+1 816 555 0100","url":"https://offices.example.org/nbc"}`,
		`{"code":"Los Angeles","name":"Los Angeles Field Office"}`,
		`{"code":"NBC","name":"N","url":"javascript:alert(1)"}`,
		`{"code":1}`, `[]`, `{`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		o, err := ParseOfficeLine(line)
		if err != nil {
			var ce *casegate.Error
			if !errors.As(err, &ce) || ce.Code != casegate.EInvalid || ce.Message == "" {
				t.Fatalf("error %v is not an EInvalid with a reason", err)
			}
			return
		}
		if o.Code == "" || o.Name == "" {
			t.Fatalf("accepted an office without code or name: %+v", o)
		}
		for _, s := range []string{o.Code, o.Name, o.Address, o.Phone, o.URL} {
			if !utf8.ValidString(s) || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\n\r\t\x00") {
				t.Fatalf("accepted a value that is not trimmed printable text: %q", s)
			}
		}
		if o.URL != "" && !strings.HasPrefix(o.URL, "https://") && !strings.HasPrefix(o.URL, "http://") {
			t.Fatalf("accepted the address %q", o.URL)
		}
		again, err := ParseOfficeLine(mustMarshalOffice(t, o))
		if err != nil || again != o {
			t.Fatalf("the office read back as %+v, %v; want %+v", again, err, o)
		}
	})
}

// mustMarshalOffice writes o as a line of the catalog.
func mustMarshalOffice(t *testing.T, o casegate.Office) []byte {
	t.Helper()
	b, err := json.Marshal(officeInput{Code: o.Code, Name: o.Name, Address: o.Address, Phone: o.Phone, URL: o.URL})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
