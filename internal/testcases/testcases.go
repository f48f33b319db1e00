// Package testcases is the small set of cases the end-to-end tests import,
// ask codes for and sign in with, and the wait for a mailed code.
package testcases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/casegate/casegate/internal/smtptest"
	"github.com/casegate/casegate/internal/testenv"
)

// Receipt is the receipt number of case i of a file written with prefix:
// prefix followed by i in two digits, e.g. Receipt("IOE08000000", 3) is
// IOE0800000003.
func Receipt(prefix string, i int) string { return fmt.Sprintf("%s%02d", prefix, i) }

// Email is the email address of case i's person: personNN@example.com.
func Email(i int) string { return fmt.Sprintf("person%02d@example.com", i) }

// WriteJSONL writes n cases as JSON Lines in a temporary folder of t and
// returns the file's path. Case i has receipt Receipt(prefix, i) and one
// person, "Ana Prueba", born 1990-04-02 in Mexico, with the email Email(i).
func WriteJSONL(t testing.TB, prefix string, n int) string {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		line := map[string]any{
			"receipt_number": Receipt(prefix, i), "form_type": "I-485", "office": "NBC", "received_on": "2025-03-14",
			"history": []map[string]string{{"status": "received", "at": "2025-03-14T10:00:00Z"}},
			"parties": []map[string]string{{
				"role": "applicant", "given_name": "Ana", "family_name": "Prueba", "date_of_birth": "1990-04-02",
				"country_of_birth": "MX", "email": Email(i), "language": "en",
			}},
		}
		if err := json.NewEncoder(&b).Encode(line); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// CodeRequest is the body of POST /api/v1/access-codes asking a code by
// email for the person of the case with receipt.
func CodeRequest(receipt string) map[string]string {
	return map[string]string{
		"receipt_number": receipt, "given_name": "Ana", "family_name": "Prueba",
		"date_of_birth": "1990-04-02", "country_of_birth": "MX", "channel": "email", "language": "en",
	}
}

// Code matches an access code in a message: two groups of five.
var Code = regexp.MustCompile(`\b[0-9A-Z]{5}-[0-9A-Z]{5}\b`)

// WaitCode waits up to 15 seconds for the first message to to and returns
// the code in it, failing t when none comes.
func WaitCode(t testing.TB, mail *smtptest.Server, to string) string {
	t.Helper()
	var code string
	if !testenv.Eventually(15*time.Second, func() bool {
		for _, m := range mail.Messages() {
			if len(m.To) == 1 && m.To[0] == to {
				code = Code.FindString(m.Text)
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no message to %s within 15s", to)
	}
	return code
}
