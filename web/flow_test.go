package web_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
	"github.com/casegate/casegate/portal"
)

func TestMatchedRequestDeliversOneCodeThatSignsIn(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	mail, code := s.waitCode(1)
	if len(mail.To) != 1 || mail.To[0] != "jose@example.com" {
		t.Fatalf("mail went to %v, want the address on file", mail.To)
	}
	if !strings.Contains(mail.Text, "We will never ask you for this code by phone, email or text. Enter it only at https://status.casegate.test") {
		t.Errorf("the never-share warning is missing:\n%s", mail.Text)
	}
	if !strings.Contains(mail.HTML, code) {
		t.Errorf("the HTML part lacks the code")
	}
	status, body := s.redeem(iss.RequestID, strings.ToLower(code))
	if status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", status, body)
	}
	var sess struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	mustJSON(t, body, &sess)
	if len(sess.Token) < 43 {
		t.Fatalf("token %q is too short", sess.Token)
	}
	resp, body := s.do("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + sess.Token})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %s", resp.StatusCode, body)
	}
	var me struct {
		Party struct {
			GivenName string `json:"given_name"`
			Email     string `json:"email"`
			Phone     string `json:"phone"`
		} `json:"party"`
		Cases []struct {
			ReceiptNumber string `json:"receipt_number"`
			Status        string `json:"status"`
			History       []struct {
				Status string `json:"status"`
			} `json:"history"`
		} `json:"cases"`
	}
	mustJSON(t, body, &me)
	if me.Party.GivenName != "José" || me.Party.Email != "j•••@example.com" || me.Party.Phone != "•••• 0123" {
		t.Errorf("party = %+v, want masked contacts", me.Party)
	}
	if len(me.Cases) != 1 || me.Cases[0].ReceiptNumber != "IOE0912345678" || me.Cases[0].Status != "biometrics_scheduled" ||
		len(me.Cases[0].History) != 2 || me.Cases[0].History[0].Status != "biometrics_scheduled" {
		t.Errorf("cases = %+v, want the one case with history newest first", me.Cases)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q on a signed-in answer", cc)
	}
	if n := len(s.smtp.Messages()); n != 1 {
		t.Errorf("%d messages sent, want exactly 1", n)
	}
}

func TestUnmatchedRequestSendsNothingAndAnswersTheSame(t *testing.T) {
	s := newStack(t)
	respA, bodyA := s.do("POST", "/api/v1/access-codes", jose, nil)
	respB, bodyB := s.do("POST", "/api/v1/access-codes", stranger, nil)
	if respA.StatusCode != http.StatusAccepted || respB.StatusCode != respA.StatusCode {
		t.Fatalf("statuses %d and %d, want both 202", respA.StatusCode, respB.StatusCode)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy", "Retry-After", "Set-Cookie"} {
		if respA.Header.Get(h) != respB.Header.Get(h) {
			t.Errorf("header %s differs: %q vs %q", h, respA.Header.Get(h), respB.Header.Get(h))
		}
	}
	if len(respA.Header) != len(respB.Header) {
		t.Errorf("header sets differ: %v vs %v", respA.Header, respB.Header)
	}
	var a, b map[string]any
	mustJSON(t, bodyA, &a)
	mustJSON(t, bodyB, &b)
	if len(a) != 3 || len(b) != 3 || len(bodyA) != len(bodyB) {
		t.Errorf("bodies differ in shape: %s vs %s", bodyA, bodyB)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			t.Errorf("field %s missing from the unmatched answer", k)
		}
	}
	s.waitCode(1)
	s.settle() // a wrongly queued second message has arrived by now
	if n := len(s.smtp.Messages()); n != 1 {
		t.Fatalf("%d messages sent, want only the matched one", n)
	}
	// The decoy answers a code like a real challenge and never signs in.
	var iss issued
	mustJSON(t, bodyB, &iss)
	status, body := s.redeem(iss.RequestID, wrongCode(t, ""))
	if status != http.StatusUnauthorized || !strings.Contains(string(body), `"attempts_remaining":4`) {
		t.Fatalf("decoy redeem: %d %s", status, body)
	}
}

func TestResendReplacesTheOldCode(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	_, first := s.waitCode(1)
	resp, body := s.do("POST", "/api/v1/access-codes/"+iss.RequestID+"/resend", nil, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "resend_too_soon") {
		t.Fatalf("immediate resend: %d %s, want 429 resend_too_soon with Retry-After", resp.StatusCode, body)
	}
	s.clock.Advance(31 * time.Second)
	resp, body = s.do("POST", "/api/v1/access-codes/"+iss.RequestID+"/resend", nil, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("resend: %d %s", resp.StatusCode, body)
	}
	var again issued
	mustJSON(t, body, &again)
	if again.RequestID != iss.RequestID || !again.ExpiresAt.After(iss.ExpiresAt) || again.ResendAfter.Sub(s.clock.Now()) != time.Minute {
		t.Errorf("resend answer %+v: want same id, later expiry, a 60 s cooldown", again)
	}
	_, second := s.waitCode(2)
	if first == second {
		t.Fatal("the resent code equals the first")
	}
	if status, body := s.redeem(iss.RequestID, first); status != http.StatusUnauthorized {
		t.Fatalf("old code: %d %s, want 401 code_incorrect", status, body)
	}
	if status, body := s.redeem(iss.RequestID, second); status != http.StatusCreated {
		t.Fatalf("new code: %d %s", status, body)
	}
}

func TestExpiredCodeIsRefused(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	s.clock.Advance(10*time.Minute + time.Second)
	status, body := s.redeem(iss.RequestID, code)
	if status != http.StatusGone || !strings.Contains(string(body), `"code":"code_expired"`) {
		t.Fatalf("expired code: %d %s, want 410 code_expired", status, body)
	}
}

func TestFiveWrongAttemptsEndTheChallenge(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	for i := 1; i <= 4; i++ {
		status, body := s.redeem(iss.RequestID, wrongCode(t, code))
		var p problemBody
		mustJSON(t, body, &p)
		if status != http.StatusUnauthorized || p.Code != "code_incorrect" || p.AttemptsRemaining == nil || *p.AttemptsRemaining != 5-i {
			t.Fatalf("wrong code %d: %d %s", i, status, body)
		}
	}
	if status, body := s.redeem(iss.RequestID, wrongCode(t, code)); status != http.StatusTooManyRequests || !strings.Contains(string(body), "too_many_attempts") {
		t.Fatalf("fifth wrong code: %d %s, want 429 too_many_attempts", status, body)
	}
	if status, body := s.redeem(iss.RequestID, code); status != http.StatusTooManyRequests {
		t.Fatalf("right code after five wrong: %d %s, want the challenge dead", status, body)
	}
}

func TestTypoUsesNoAttempt(t *testing.T) {
	s := newStack(t)
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	typo := []byte(strings.ReplaceAll(code, "-", ""))
	if typo[3] == 'X' {
		typo[3] = 'Y'
	} else {
		typo[3] = 'X'
	}
	for range 10 {
		status, body := s.redeem(iss.RequestID, string(typo))
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "code_malformed") {
			t.Fatalf("typo: %d %s, want 422 code_malformed", status, body)
		}
	}
	status, body := s.redeem(iss.RequestID, wrongCode(t, code))
	var p problemBody
	mustJSON(t, body, &p)
	if status != http.StatusUnauthorized || p.AttemptsRemaining == nil || *p.AttemptsRemaining != 4 {
		t.Fatalf("after 10 typos a wrong code has %v attempts left, want 4 (%s)", p.AttemptsRemaining, body)
	}
}

func TestConcurrentCorrectRedeemsGiveOneSession(t *testing.T) {
	s := newStack(t, relaxed)
	iss := s.requestCode(jose)
	_, code := s.waitCode(1)
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := s.redeem(iss.RequestID, code)
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	won, used := 0, 0
	for st := range statuses {
		switch st {
		case http.StatusCreated:
			won++
		case http.StatusGone:
			used++
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	if won != 1 || used != 49 {
		t.Fatalf("%d sessions and %d code_used, want exactly 1 and 49", won, used)
	}
}

func TestPartyLockoutAndNotice(t *testing.T) {
	s := newStack(t, relaxed)
	sent := 0 // messages so far
	wrongTimes := func(n int) issued {
		t.Helper()
		var last issued
		for i := 0; i < n; i++ {
			last = s.requestCode(jose)
			sent++
			_, code := s.waitCode(sent)
			if status, body := s.redeem(last.RequestID, wrongCode(t, code)); status != http.StatusUnauthorized {
				t.Fatalf("wrong code %d: %d %s", i, status, body)
			}
			s.clock.Advance(time.Second)
		}
		return last
	}
	// Ten wrong codes across requests lock the party; the owner is told.
	last := wrongTimes(10)
	sent++
	msgs, err := s.smtp.WaitFor(sent, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	notice := msgs[10]
	if notice.To[0] != "jose@example.com" || codeInMail.MatchString(notice.Text) || !strings.Contains(notice.Text, "pausó") {
		t.Fatalf("lockout notice to %v must go to the address on file, say sign-in was paused, and carry no code:\n%s", notice.To, notice.Text)
	}
	// While locked, a live challenge answers exactly as a decoy does, even to the right code.
	decoy := s.requestCode(stranger)
	for i := 0; i < 3; i++ {
		code := validCode(t)
		ls, lb := s.redeem(last.RequestID, code)
		ds, db := s.redeem(decoy.RequestID, code)
		var lp, dp problemBody
		mustJSON(t, lb, &lp)
		mustJSON(t, db, &dp)
		// The locked challenge had one wrong attempt before; the decoy none.
		if ls != ds || lp.Code != dp.Code || lp.AttemptsRemaining == nil || *lp.AttemptsRemaining != *dp.AttemptsRemaining-1 {
			t.Fatalf("locked vs decoy: %d %s / %d %s", ls, lb, ds, db)
		}
	}
	// A new request while locked answers the same 202 and sends nothing.
	s.requestCode(jose)
	s.settle()
	if n := len(s.smtp.Messages()); n != 11 {
		t.Fatalf("%d messages, want no code while locked", n)
	}
	// After the hour, one more wrong code within the 24 hours locks again, for two hours.
	s.clock.Advance(time.Hour + time.Minute)
	wrongTimes(1)
	sent++
	if _, err := s.smtp.WaitFor(sent, 10*time.Second); err != nil {
		evs, _ := s.portal.AuditEvents(t.Context(), 0, 1000)
		for _, e := range evs[len(evs)-12:] {
			t.Logf("%s %s %s %v", e.At.Format("15:04:05"), e.Action, e.Outcome, e.Details)
		}
		t.Fatalf("second lockout notice: %v", err)
	}
	s.clock.Advance(time.Hour + time.Minute)
	s.requestCode(jose)
	s.settle()
	if n := len(s.smtp.Messages()); n != 13 {
		t.Fatalf("%d messages an hour into a two-hour lock, want 13", n)
	}
	// After the second lock ends, the right code signs in and the counts reset.
	s.clock.Advance(time.Hour)
	iss := s.requestCode(jose)
	_, code := s.waitCode(14)
	if status, body := s.redeem(iss.RequestID, code); status != http.StatusCreated {
		t.Fatalf("after the locks: %d %s", status, body)
	}
}

func TestConsecutiveFailuresNeedAnOperator(t *testing.T) {
	s := newStack(t, relaxed, func(l *portal.Limits) {
		l.MaxConsecutiveFailures = 12
		l.PartyFailures = portal.Rate{N: 1000, Per: time.Hour} // only the consecutive rule applies here
	})
	for i := 0; i < 12; i++ {
		iss := s.requestCode(jose)
		_, code := s.waitCode(i + 1)
		s.redeem(iss.RequestID, wrongCode(t, code))
	}
	s.clock.Advance(30 * 24 * time.Hour)
	s.requestCode(jose)
	s.settle()
	before := len(s.smtp.Messages())
	if before != 13 { // 12 codes and the lockout notice, no new code
		t.Fatalf("%d messages a month later, want 13: the lock lasts until an operator lifts it", before)
	}
	var partyID int64
	s.store.View(t.Context(), func(tx casegate.Tx) error {
		ps, err := tx.PartiesByANumber(t.Context(), "A012345678")
		if len(ps) == 1 {
			partyID = ps[0].ID
		}
		return err
	})
	if err := s.portal.UnlockParty(t.Context(), partyID, "admin:test"); err != nil {
		t.Fatal(err)
	}
	iss := s.requestCode(jose)
	_, code := s.waitCode(14)
	if status, body := s.redeem(iss.RequestID, code); status != http.StatusCreated {
		t.Fatalf("after unlock: %d %s", status, body)
	}
}

func TestSMTPDownThenUpStillDelivers(t *testing.T) {
	s := newStack(t)
	s.smtp.Stop()
	iss := s.requestCode(jose)
	// Wait until the worker has tried and recorded a retry.
	if !testenv.Eventually(10*time.Second, func() bool { return s.hasAudit("delivery.retry") }) {
		t.Fatal("no failed attempt was recorded while the SMTP server was down")
	}
	if n := len(s.smtp.Messages()); n != 0 {
		t.Fatalf("%d messages with the server down", n)
	}
	s.smtp.Restart()
	// The clock moves to each retry as it falls due (waitCode below fails if none arrives).
	testenv.Eventually(10*time.Second, func() bool {
		if len(s.smtp.Messages()) > 0 {
			return true
		}
		s.passBackoff()
		return false
	})
	_, code := s.waitCode(1)
	if status, body := s.redeem(iss.RequestID, code); status != http.StatusCreated {
		t.Fatalf("redeem after retry: %d %s", status, body)
	}
	if n := len(s.smtp.Messages()); n != 1 {
		t.Fatalf("%d messages, want exactly 1", n)
	}
}

func TestResendCooldownDoublesAndStopsAfterFiveSends(t *testing.T) {
	s := newStack(t)
	real, decoy := s.requestCode(jose), s.requestCode(stranger)
	s.waitCode(1) // before the clock jumps past the first code's lease
	resend := func(id string) (*http.Response, issued, []byte) {
		resp, body := s.do("POST", "/api/v1/access-codes/"+id+"/resend", nil, nil)
		var out issued
		if resp.StatusCode == http.StatusAccepted {
			mustJSON(t, body, &out)
		}
		return resp, out, body
	}
	wait := 30 * time.Second
	for send := 2; send <= 5; send++ {
		s.clock.Advance(wait + time.Second)
		wait *= 2
		for _, id := range []string{real.RequestID, decoy.RequestID} {
			resp, out, body := resend(id)
			if resp.StatusCode != http.StatusAccepted || out.ResendAfter.Sub(s.clock.Now()) != wait {
				t.Fatalf("send %d of %s: %d %s, want 202 and a %v cooldown", send, id, resp.StatusCode, body, wait)
			}
		}
		s.waitCode(send) // else the next resend rightly cancels this code before it goes out
	}
	s.clock.Advance(wait + time.Second)
	ra, _, ba := resend(real.RequestID)
	rb, _, bb := resend(decoy.RequestID)
	if ra.StatusCode != http.StatusTooManyRequests || rb.StatusCode != ra.StatusCode || ra.Header.Get("Retry-After") != "" ||
		!strings.Contains(string(ba), "too_many_attempts") || anyRequestID(ba) != anyRequestID(bb) {
		t.Fatalf("sixth send: %d %s / %d %s, want the same 429 too_many_attempts without Retry-After", ra.StatusCode, ba, rb.StatusCode, bb)
	}
	s.settle()
	if n := len(s.smtp.Messages()); n != 5 {
		t.Fatalf("%d codes sent, want 5", n)
	}
}
