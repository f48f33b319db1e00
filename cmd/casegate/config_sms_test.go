package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/portal"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSMSConfiguration(t *testing.T) {
	t.Cleanup(func() { identity.SetPhoneRegion(identity.DefaultPhoneRegion) })
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, envOf(map[string]string{"CASEGATE_SMTP_URL": "smtp://localhost:25?tls=none"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PhoneRegion != "US" || !slices.Equal(c.Limits.SMS.Countries, []string{"US"}) || slices.Contains(c.channels(), casegate.ChannelSMS) {
		t.Errorf("defaults: region %q, countries %v, channels %v", c.PhoneRegion, c.Limits.SMS.Countries, c.channels())
	}
	c, err = loadConfig(newFlagSet("test", io.Discard), []string{"-sms-daily-budget", "50"}, envOf(map[string]string{
		"CASEGATE_SMTP_URL":          "smtp://localhost:25?tls=none",
		"CASEGATE_SMS_URL":           "kannel://casegate:pw@127.0.0.1:13013?from=%2B15551234567",
		"CASEGATE_PHONE_REGION":      "mx",
		"CASEGATE_SMS_PREFIX_DIGITS": "2",
		"CASEGATE_SMS_PREFIX_LIMIT":  "10/30m",
		"CASEGATE_SMS_DAILY_BUDGET":  "5000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := portal.SMSLimits{Countries: []string{"MX"}, PrefixDigits: 2, PerPrefix: portal.Rate{N: 10, Per: 30 * time.Minute}, DailyBudget: 50}
	if c.PhoneRegion != "MX" || !slices.Equal(c.Limits.SMS.Countries, want.Countries) || c.Limits.SMS.PrefixDigits != 2 ||
		c.Limits.SMS.PerPrefix != want.PerPrefix || c.Limits.SMS.DailyBudget != 50 || !slices.Contains(c.channels(), casegate.ChannelSMS) {
		t.Errorf("config %+v, channels %v", c.Limits.SMS, c.channels())
	}
	if got, err := identity.Phone("55 1234 5678"); err != nil || got != "+525512345678" || identity.PhoneRegion() != "MX" {
		t.Errorf("the phone region was not set for the process: %q, %v", got, err)
	}
	if c.Limits.SMS.AllowVoIP || c.Limits.SMS.PerDestination != portal.DefaultSMSLimits().PerDestination ||
		c.Limits.SMS.ContactPerPerson != portal.DefaultSMSLimits().ContactPerPerson || c.Limits.SMS.Shares != portal.DefaultBudgetShares() {
		t.Errorf("the new SMS settings' defaults: %+v", c.Limits.SMS)
	}
	c, err = loadConfig(newFlagSet("test", io.Discard), []string{"-sms-allow-voip", "TRUE"}, envOf(map[string]string{
		"CASEGATE_SMS_DESTINATION_LIMIT": "4/12h",
		"CASEGATE_SMS_CONTACT_LIMIT":     "1/24h",
		"CASEGATE_SMS_BUDGET_SHARES":     " notice=30, contact=5,code=15 ,first_code=50",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Limits.SMS.AllowVoIP || c.Limits.SMS.PerDestination != (portal.Rate{N: 4, Per: 12 * time.Hour}) ||
		c.Limits.SMS.ContactPerPerson != (portal.Rate{N: 1, Per: 24 * time.Hour}) ||
		c.Limits.SMS.Shares != (portal.BudgetShares{FirstCode: 50, Code: 15, Contact: 5, Notice: 30}) {
		t.Errorf("the new SMS settings: %+v", c.Limits.SMS)
	}
	c, err = loadConfig(newFlagSet("test", io.Discard), nil, envOf(map[string]string{"CASEGATE_SMS_COUNTRIES": " us, ca ,MX,us"}))
	if err != nil || !slices.Equal(c.Limits.SMS.Countries, []string{"US", "CA", "MX"}) {
		t.Errorf("countries: %v, %v", c.Limits.SMS.Countries, err)
	}
}

func TestBadSMSConfigurationNamesTheVariable(t *testing.T) {
	t.Cleanup(func() { identity.SetPhoneRegion(identity.DefaultPhoneRegion) })
	const token = "t0psecrettoken"
	bad := map[string]string{
		"CASEGATE_SMS_URL":               "twilio://AC0123456789abcdef0123456789abcdef:" + token + "@api.twilio.com",
		"CASEGATE_PHONE_REGION":          "XX",
		"CASEGATE_SMS_COUNTRIES":         "US,*",
		"CASEGATE_SMS_PREFIX_DIGITS":     "9",
		"CASEGATE_SMS_PREFIX_LIMIT":      "0/1h",
		"CASEGATE_SMS_DAILY_BUDGET":      "0",
		"CASEGATE_SMS_ALLOW_VOIP":        "sometimes",
		"CASEGATE_SMS_DESTINATION_LIMIT": "10 a day",
		"CASEGATE_SMS_CONTACT_LIMIT":     "0/24h",
		"CASEGATE_SMS_BUDGET_SHARES":     "first_code=100,code=10,contact=0,notice=0",
	}
	for name, value := range bad {
		_, err := loadConfig(newFlagSet("test", io.Discard), nil, envOf(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming the variable", name, value, err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}

	// A webhook whose secret file is missing fails at start, not at the first text.
	c, err := loadConfig(newFlagSet("test", io.Discard), nil, envOf(map[string]string{
		"CASEGATE_SMTP_URL": "smtp://localhost:25?tls=none",
		"CASEGATE_SMS_URL":  "webhook+https://hooks.example.org/sms?secret_file=" + filepath.Join(t.TempDir(), "missing"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := configuredSenders(env{stderr: io.Discard}, c); err == nil || !strings.Contains(err.Error(), "CASEGATE_SMS_URL") {
		t.Errorf("missing webhook secret: %v, want an error naming CASEGATE_SMS_URL", err)
	}
}

func TestParseCountries(t *testing.T) {
	for in, want := range map[string][]string{"": nil, "us": {"US"}, "US, mx ,US": {"US", "MX"}, "*": {"*"}, " * ,": {"*"}} {
		if got, err := parseCountries(in); err != nil || !slices.Equal(got, want) {
			t.Errorf("parseCountries(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"USA", "XX", "US;MX", "*,US", "U S"} {
		if got, err := parseCountries(in); err == nil {
			t.Errorf("parseCountries(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParseCountries(f *testing.F) {
	for _, s := range []string{"US", "us,mx", "*", "*,US", "", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseCountries(s)
		if err != nil {
			return
		}
		l := portal.DefaultSMSLimits()
		l.Countries = cs
		full := portal.DefaultLimits()
		full.SMS = l
		if err := full.Validate(); len(cs) > 0 && err != nil {
			t.Fatalf("parseCountries(%q) = %v, which the portal refuses: %v", s, cs, err)
		}
	})
}

func TestParseShares(t *testing.T) {
	good := map[string]portal.BudgetShares{
		"first_code=60,code=15,contact=10,notice=15":       portal.DefaultBudgetShares(),
		portal.DefaultBudgetShares().String():              portal.DefaultBudgetShares(),
		" first_code = 100 , code=0,contact=0 , notice=0 ": {FirstCode: 100},
		"notice=1,contact=1,code=1,first_code=97":          {FirstCode: 97, Code: 1, Contact: 1, Notice: 1},
	}
	for in, want := range good {
		if got, err := parseShares(in); err != nil || got != want {
			t.Errorf("parseShares(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", ",", "first_code=60", "first_code=60,code=15,contact=10",
		"first_code=60,code=15,contact=10,notice=14",        // 99
		"first_code=60,code=15,contact=10,notice=15,code=0", // twice
		"first_code=0,code=50,contact=10,notice=40",         // no reserve
		"first_code=160,code=-60,contact=0,notice=0",        // out of range
		"first_code=60,code=15,contact=10,status=15",        // no such share
		"first_code=60;code=15;contact=10;notice=15",        // other separators
		"first_code=60%,code=15%,contact=10%,notice=15%",    // not a bare number
		"first_code=6e1,code=15,contact=10,notice=15",
	} {
		if got, err := parseShares(in); err == nil {
			t.Errorf("parseShares(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseShares(f *testing.F) {
	for _, s := range []string{portal.DefaultBudgetShares().String(), "first_code=100,code=0,contact=0,notice=0", "", "first_code=,code=", "=,=,=,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		shares, err := parseShares(s)
		if err != nil {
			return
		}
		l := portal.DefaultLimits()
		l.SMS.Shares = shares
		if err := l.Validate(); err != nil {
			t.Fatalf("parseShares(%q) = %+v, which the portal refuses: %v", s, shares, err)
		}
		if again, err := parseShares(shares.String()); err != nil || again != shares {
			t.Fatalf("parseShares(%q) = %+v; its String %q reads as %+v, %v", s, shares, shares.String(), again, err)
		}
	})
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, " 1 ": true, "false": false, "False": false, "0": false} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yes", "no", "on", "2", "t"} {
		if _, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q): no error", in)
		}
	}
}

func FuzzParseBool(f *testing.F) {
	for _, s := range []string{"true", "false", "1", "0", "yes", " TRUE "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBool(s)
		if err != nil {
			return
		}
		if w := strings.ToLower(strings.TrimSpace(s)); !slices.Contains([]string{"true", "false", "1", "0"}, w) || b != (w == "true" || w == "1") {
			t.Fatalf("parseBool(%q) = %v", s, b)
		}
	})
}
