package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/web"
)

// TestEveryPortalMessageHasSpanish drives the public use cases of portal into
// each refusal they have and checks that every message and field message
// they return, and every identity format error, is a catalog key that every
// language has.
func TestEveryPortalMessageHasSpanish(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	seen := map[string]bool{}
	collect := func(what string, err error) {
		t.Helper()
		e, ok := casegate.AsError(err)
		if !ok {
			t.Fatalf("%s: got %v, want a *casegate.Error", what, err)
		}
		if e.Msg.Key == "" {
			t.Errorf("%s: %v has no message key", what, err)
		}
		seen[e.Msg.Key] = true
		for f, m := range e.Fields {
			if m.Key == "" {
				t.Errorf("%s: field %s of %v has no message key", what, f, err)
			}
			seen[m.Key] = true
		}
	}

	valid := portal.CodeRequest{ReceiptNumber: "IOE0912345678", GivenName: "Jose", FamilyName: "Garcia Lopez",
		DateOfBirth: "1990-04-02", CountryOfBirth: "MX", Channel: "email", ClientIP: "192.0.2.1"}
	long := strings.Repeat("a", 201)
	for name, edit := range map[string]func(*portal.CodeRequest){
		"empty":           func(r *portal.CodeRequest) { *r = portal.CodeRequest{} },
		"both ids":        func(r *portal.CodeRequest) { r.ANumber = "A012345678" },
		"bad receipt":     func(r *portal.CodeRequest) { r.ReceiptNumber = "IOE1" },
		"bad A-Number":    func(r *portal.CodeRequest) { r.ReceiptNumber, r.ANumber = "", "A1" },
		"long names":      func(r *portal.CodeRequest) { r.GivenName, r.FamilyName = long, long },
		"no letters":      func(r *portal.CodeRequest) { r.GivenName, r.FamilyName = "--", "''" },
		"bad date":        func(r *portal.CodeRequest) { r.DateOfBirth = "02/30/1990" },
		"unknown country": func(r *portal.CodeRequest) { r.CountryOfBirth = "Atlantis" },
		"bad channel":     func(r *portal.CodeRequest) { r.Channel = "fax" },
	} {
		r := valid
		edit(&r)
		_, err := s.portal.RequestCode(ctx, r)
		collect(name, err)
	}

	// Request limit per identifier.
	limited := valid
	limited.ReceiptNumber, limited.ClientIP = "IOE0999999998", "192.0.2.2"
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = s.portal.RequestCode(ctx, limited)
	}
	collect("rate limited", err)

	// Redeem: each malformed shape, wrong, right, used, unknown.
	iss, err := s.portal.RequestCode(ctx, valid)
	if err != nil {
		t.Fatal(err)
	}
	_, code := s.waitCode(1)
	plain := strings.ReplaceAll(code, "-", "")
	typo := string(accesscode.Alphabet[(strings.IndexByte(accesscode.Alphabet, plain[0])+1)%32]) + plain[1:]
	for name, input := range map[string]string{"too short": "ABC", "bad symbol": "UUUUUUUUUU", "typo": typo, "wrong": wrongCode(t, code)} {
		_, err := s.portal.Redeem(ctx, iss.RequestID, input, "192.0.2.3")
		collect(name, err)
	}
	_, err = s.portal.Resend(ctx, iss.RequestID, "192.0.2.3")
	collect("resend too soon", err)
	in, err := s.portal.Redeem(ctx, iss.RequestID, code, "192.0.2.3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.portal.Redeem(ctx, iss.RequestID, code, "192.0.2.3")
	collect("used", err)
	_, err = s.portal.Resend(ctx, iss.RequestID, "192.0.2.3")
	collect("resend used", err)
	_, err = s.portal.Redeem(ctx, "no-such-request", validCode(t), "192.0.2.3")
	collect("unknown", err)
	_, err = s.portal.Authenticate(ctx, "")
	collect("no session", err)
	sess, err := s.portal.Authenticate(ctx, in.Token)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.portal.Case(ctx, sess, "EAC2190012345")
	collect("someone else's case", err)

	// New phone numbers that cannot be texted, and one new number too many in a day.
	for _, number := range []string{"+19005550123", "+442079460958", "+33912345678", "+15555550199",
		"+12015550151", "+12015550152", "+12015550153", "+12015550154"} {
		s.clock.Advance(2 * time.Minute) // within the request limit and the sign-in's 20 minutes
		if _, err := s.portal.StartContactChange(ctx, sess, "", number, "", "192.0.2.3"); err != nil {
			collect("contact change to "+number, err)
		}
	}

	// Too many wrong codes on one request, then a resend of it.
	decoy := valid
	decoy.ReceiptNumber, decoy.ClientIP = "IOE0999999997", "192.0.2.4"
	dead, err := s.portal.RequestCode(ctx, decoy)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		_, err = s.portal.Redeem(ctx, dead.RequestID, validCode(t), "192.0.2.4")
	}
	collect("too many attempts", err)
	_, err = s.portal.Resend(ctx, dead.RequestID, "192.0.2.4")
	collect("resend dead", err)

	// Every send used, then expiry.
	decoy.ReceiptNumber = "IOE0999999996"
	sends, err := s.portal.RequestCode(ctx, decoy)
	if err != nil {
		t.Fatal(err)
	}
	err = nil
	for i := 0; i < 6 && err == nil; i++ {
		s.clock.Advance(5 * time.Minute)
		_, err = s.portal.Resend(ctx, sends.RequestID, "192.0.2.5")
	}
	collect("all sends used", err)
	s.clock.Advance(11 * time.Minute)
	_, err = s.portal.Redeem(ctx, sends.RequestID, validCode(t), "192.0.2.5")
	collect("expired", err)

	for _, e := range []*identity.FormatError{identity.ErrReceiptNumber, identity.ErrANumber, identity.ErrDate, identity.ErrCountry,
		identity.ErrName, identity.ErrEmail, identity.ErrEmailInvisible, identity.ErrPhone} {
		seen[e.Key] = true
	}
	seen[casegate.ErrNotFound.Msg.Key] = true
	if len(seen) < 30 {
		t.Errorf("only %d distinct messages collected; the table misses refusals", len(seen))
	}
	for m := range seen {
		for _, lang := range casegate.Languages {
			if !web.HasTranslation(lang, m) {
				t.Errorf("no %s message %q", lang, m)
			}
		}
	}
}

func TestProblemsSpeakTheRequestedLanguage(t *testing.T) {
	s := newStack(t)
	body := `{"receipt_number":"IOE1","given_name":"Ana","family_name":"Li","date_of_birth":"1990-01-01","country_of_birth":"MX"}`
	cases := []struct {
		lang, detail, field string
	}{
		{"", "Some of the information is not in the right form.", "Enter the receipt number as 3 letters"},
		{"es-US,es;q=0.9,en;q=0.5", "Parte de la información no tiene el formato correcto.", "Escriba el número de recibo"},
		{"fr", "Certaines informations ne sont pas dans le bon format.", "Saisissez le numéro de reçu"},
		{"zh-CN", "部分信息的格式不正确。", "请按 3 个字母加 10 位数字的格式输入收据号码"},
		{"ar", "بعض المعلومات ليست بالصيغة الصحيحة.", "أدخل رقم الإيصال"},
		{"de", "Some of the information is not in the right form.", "Enter the receipt number"},
	}
	for _, c := range cases {
		h := map[string]string{"Content-Type": "application/json"}
		if c.lang != "" {
			h["Accept-Language"] = c.lang
		}
		resp, data := s.do("POST", "/api/v1/access-codes", body, h)
		var p problemBody
		mustJSON(t, data, &p)
		if resp.StatusCode != http.StatusBadRequest || p.Detail != c.detail || !strings.HasPrefix(p.Errors["receipt_number"], c.field) {
			t.Errorf("Accept-Language %q: %d %+v", c.lang, resp.StatusCode, p)
		}
	}
}
