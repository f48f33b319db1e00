package web_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// dbBytes returns the size of the SQLite database as its pages count, the
// write-ahead log's committed pages included: what the data takes on disk.
func dbBytes(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages, size int64
	if err := db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		t.Fatal(err)
	}
	return pages * size
}

// TestRefusedFloodCostsConstantStorage sends 10,000 code requests and
// 10,000 code entries from one client: past the per-IP limits every one is
// refused, and the refusals must be counted, not stored one by one.
func TestRefusedFloodCostsConstantStorage(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	s := newStack(t)
	before := dbBytes(t, s.dbFile)
	refused := map[string]int{}
	for i := range n {
		who := map[string]string{}
		for k, v := range stranger {
			who[k] = v
		}
		who["receipt_number"] = fmt.Sprintf("IOE%010d", i) // a new identifier each time: the IP limit refuses
		resp, _ := s.do("POST", "/api/v1/access-codes", who, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			refused["code.request"]++
		}
		resp, _ = s.do("POST", "/api/v1/sessions", map[string]string{"request_id": fmt.Sprintf("%032x", i), "code": "K7M2Q-9XH4R"}, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			refused["code.redeem"]++
		}
	}
	limits := s.portal.Limits()
	if refused["code.request"] != n-limits.RequestsPerIP.N || refused["code.redeem"] != n-limits.RedeemsPerIP.N {
		t.Fatalf("refused %v of %d each; want all but the first %d requests and %d redeems",
			refused, n, limits.RequestsPerIP.N, limits.RedeemsPerIP.N)
	}
	grown := dbBytes(t, s.dbFile) - before
	t.Logf("%d refused requests and %d refused redeems grew the database by %d bytes", refused["code.request"], refused["code.redeem"], grown)
	if grown > 64<<10 {
		t.Errorf("the database grew by %d bytes for %d refused requests; want at most 64 KiB", grown, refused["code.request"]+refused["code.redeem"])
	}

	// Once the limits' windows end, each refusal is on record, as counts.
	s.clock.Advance(limits.RequestsPerIdentifier.Per + limits.RequestsPerIP.Per)
	if _, err := s.portal.FlushRefusals(t.Context()); err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	events := 0
	for _, e := range s.auditAll(t) {
		if e.Outcome == "rate_limited" {
			if e.Target == "request" {
				t.Fatalf("a refused request audited on its own: %+v", e)
			}
			k, err := strconv.Atoi(e.Details["refused"])
			if err != nil || e.IPHash == "" || e.Details["from"] == "" {
				t.Errorf("refusal event without a count, address tag or window: %+v", e)
			}
			counted[e.Action] += k
			events++
		}
	}
	if counted["code.request"] != refused["code.request"] || counted["code.redeem"] != refused["code.redeem"] {
		t.Errorf("the audit log counts %v refusals; %v were answered 429", counted, refused)
	}
	if events > 4 {
		t.Errorf("%d audit events for the refusals of one client within one window; want one per limit and window", events)
	}
}
