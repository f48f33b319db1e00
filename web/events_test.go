package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/store/storetest"
)

// postedEvent is the answer to a status event post.
type postedEvent struct {
	Status string    `json:"status"`
	Title  string    `json:"title"`
	At     time.Time `json:"at"`
	Added  bool      `json:"added"`
}

// TestAdminStatusEventIsIdempotent posts, on SQLite and on PostgreSQL, one
// status event three times with its time, and another three times without
// one but with an Idempotency-Key, the clock moving between the tries as a
// retrying client's does: each is one event in the case's history and one
// message through the mail server, and every retry answers 200 with the
// event on file. The key used for another event is refused.
func TestAdminStatusEventIsIdempotent(t *testing.T) {
	dbs := []struct {
		name string
		open func(t *testing.T) (casegate.Store, string)
	}{
		{"SQLite", func(t *testing.T) (casegate.Store, string) { return testenv.SQLite(t) }},
		{"PostgreSQL", func(t *testing.T) (casegate.Store, string) {
			st, err := store.Open(context.Background(), storetest.PostgresSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st, ""
		}},
	}
	for _, db := range dbs {
		t.Run(db.name, func(t *testing.T) {
			st, file := db.open(t)
			s := newStackOn(t, st, file, relaxed)
			admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
			if err != nil {
				t.Fatal(err)
			}
			jt := s.signIn(jose, 1)
			if resp, body := s.do("PUT", "/api/v1/cases/IOE0912345678/subscription", map[string]bool{"email": true}, bearerH(jt)); resp.StatusCode != http.StatusOK {
				t.Fatalf("subscribe: %d %s", resp.StatusCode, body)
			}
			post := func(body map[string]string, header map[string]string, want int) postedEvent {
				t.Helper()
				h := bearerH(admin)
				for k, v := range header {
					h[k] = v
				}
				resp, data := s.do("POST", "/admin/v1/cases/IOE0912345678/events", body, h)
				if resp.StatusCode != want {
					t.Fatalf("post %v %v: %d %s, want %d", body, header, resp.StatusCode, data, want)
				}
				var e postedEvent
				if want < 300 {
					mustJSON(t, data, &e)
				}
				return e
			}

			// The same status at the same time, three times.
			timed := map[string]string{"status": "interview_scheduled", "at": s.clock.Now().Add(-time.Hour).Format(time.RFC3339)}
			first := post(timed, nil, http.StatusCreated)
			if !first.Added {
				t.Errorf("the first post: %+v, want added", first)
			}
			for range 2 {
				s.clock.Advance(time.Second)
				if again := post(timed, nil, http.StatusOK); again.Added || !again.At.Equal(first.At) || again.Status != first.Status {
					t.Errorf("the same event again: %+v, want %+v not added", again, first)
				}
			}

			// No time, so each try would be "now": the key makes the retries one event.
			key := map[string]string{"Idempotency-Key": `"8e03978e-40d5-43e8-bc93-6894a57f9324"`}
			untimed := map[string]string{"status": "approved"}
			keyed := post(untimed, key, http.StatusCreated)
			for range 2 {
				s.clock.Advance(3 * time.Second)
				if again := post(untimed, key, http.StatusOK); again.Added || !again.At.Equal(keyed.At) || again.Status != "approved" {
					t.Errorf("a retry with the key: %+v, want %+v not added", again, keyed)
				}
			}
			// The bare form of the same key is the same key.
			post(untimed, map[string]string{"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}, http.StatusOK)
			// The key for another event is a conflict, and adds nothing.
			post(map[string]string{"status": "denied"}, key, http.StatusConflict)
			// A malformed key is refused before anything is stored.
			post(untimed, map[string]string{"Idempotency-Key": "two words"}, http.StatusBadRequest)

			s.settle()
			var notices []string
			for _, m := range s.smtp.Messages()[1:] {
				if m.To[0] == "jose@example.com" && !codeInMail.MatchString(m.Text) {
					notices = append(notices, m.Subject)
				}
			}
			if len(notices) != 2 {
				t.Errorf("%d status notices, want 2 (one per event): %q", len(notices), notices)
			}
			var c struct {
				History []struct {
					Status string `json:"status"`
				} `json:"history"`
			}
			_, body := s.do("GET", "/api/v1/cases/IOE0912345678", nil, bearerH(jt))
			mustJSON(t, body, &c)
			var got []string
			for _, e := range c.History {
				got = append(got, e.Status)
			}
			if strings.Join(got, " ") != "approved interview_scheduled biometrics_scheduled received" {
				t.Errorf("history %v, want each posted event once", got)
			}
		})
	}
}

// TestAdminStatusEventTimeIsRFC3339: the time of a posted event is read as
// the spec's date-time and nothing looser (Go's time.Time took a one-digit
// hour), each bad one answered 400 naming "at", and no event added.
func TestAdminStatusEventTimeIsRFC3339(t *testing.T) {
	s := newStack(t, relaxed)
	admin, err := s.portal.CreateAdminToken(t.Context(), "ops", "test")
	if err != nil {
		t.Fatal(err)
	}
	before := s.clock.Now().Add(-time.Hour).UTC()
	for _, tc := range []struct {
		at   any
		want int
	}{
		{before.Format(time.RFC3339), http.StatusCreated},
		{before.Add(-time.Minute).Format("2006-01-02T15:04:05.999999999-07:00"), http.StatusCreated},
		{"2026-03-01T0:00:00Z", http.StatusBadRequest},
		{"2026-03-01T10:00:00", http.StatusBadRequest},
		{"2026-03-01 10:00:00Z", http.StatusBadRequest},
		{"2026-03-01", http.StatusBadRequest},
		{"yesterday", http.StatusBadRequest},
		{"", http.StatusBadRequest},
		{nil, http.StatusBadRequest}, // null: only an absent at means now
		{12, http.StatusBadRequest},
	} {
		resp, body := s.do("POST", "/admin/v1/cases/IOE0912345678/events", map[string]any{"status": "interview_scheduled", "at": tc.at}, bearerH(admin))
		if resp.StatusCode != tc.want {
			t.Errorf("at %v: %d %s, want %d", tc.at, resp.StatusCode, body, tc.want)
			continue
		}
		if tc.want == http.StatusBadRequest && !strings.Contains(string(body), `"at":`) {
			t.Errorf("at %v: %s does not name the field at", tc.at, body)
		}
	}
}
