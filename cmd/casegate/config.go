package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/branding"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/identity"
	"github.com/casegate/casegate/portal"
)

// config is the whole configuration of an instance.
type config struct {
	DB             string
	Listen         string
	AdminListen    string
	PublicURL      *url.URL
	SecretFile     string
	SMTPURL        string
	MailFrom       string
	SMSURL         string
	PhoneRegion    string // national phone numbers are read in this country
	TrustedProxies []netip.Prefix
	LogLevel       string
	Limits         portal.Limits
	StatsInterval  time.Duration
	ReadCacheTTL   time.Duration
	Retention      portal.Retention
	// CheckpointEvery is how often serve logs a signed checkpoint of the audit chain.
	CheckpointEvery time.Duration
	Demo            bool // messages go to the built-in mailbox on every channel
	// Agency is shown on every page, email and text; Logo in the page header.
	Agency branding.Agency
	Logo   *branding.Logo
	// OverridesDir holds the agency's text overrides; Catalog is the
	// built-in catalog with them, checked at start.
	OverridesDir string
	Catalog      *catalog.Catalog
	// ProblemBaseURL starts the type URI of every problem document; "" for about:blank.
	ProblemBaseURL string
	// DKIM signing of email: the key file (none: unsigned), the selector,
	// and the signing domain ("" for the From address's domain).
	DKIMKeyFile, DKIMSelector, DKIMDomain string
	// TimeZone is where every time people read is shown: pages, emails, texts.
	TimeZone *time.Location
}

// channels are the channels messages can be sent on with this configuration.
func (c config) channels() []casegate.Channel {
	if c.Demo {
		return []casegate.Channel{casegate.ChannelEmail, casegate.ChannelSMS}
	}
	var out []casegate.Channel
	if c.SMTPURL != "" {
		out = append(out, casegate.ChannelEmail)
	}
	if c.SMSURL != "" {
		out = append(out, casegate.ChannelSMS)
	}
	return out
}

// setting is one configuration value: an environment variable, the flag that
// overrides it, its default, and how to apply it.
type setting struct {
	env, flag, def, usage string
	apply                 func(c *config, v string) error
}

func durationSetting(env, flg, usage string, dst func(*config) *time.Duration, def time.Duration) setting {
	return setting{env, flg, def.String(), usage, func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 10m or 1h30m, got %q", v)
		}
		*dst(c) = d
		return nil
	}}
}

// retentionSetting reads how long something is kept: a whole number of
// days ("90d") or a Go duration ("36h").
func retentionSetting(env, flg, usage string, dst func(*portal.Retention) *time.Duration, def time.Duration) setting {
	shown := def.String()
	if def%(24*time.Hour) == 0 {
		shown = strconv.Itoa(int(def/(24*time.Hour))) + "d"
	}
	return setting{env, flg, shown, usage, func(c *config, v string) error {
		d, err := parseRetention(v)
		if err != nil {
			return err
		}
		*dst(&c.Retention) = d
		return nil
	}}
}

// parseRetention reads "N" days as "Nd", or a positive Go duration, up to 100 years.
func parseRetention(v string) (time.Duration, error) {
	const day, most = 24 * time.Hour, 36525 * 24 * time.Hour
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 && days <= int(most/day) {
			return time.Duration(days) * day, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 && d <= most {
		return d, nil
	}
	return 0, fmt.Errorf("want a number of days such as 90d, or a duration such as 36h, got %q", v)
}

func intSetting(env, flg, usage string, dst func(*config) *int, def, lo, hi int) setting {
	return setting{env, flg, strconv.Itoa(def), usage, func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, v)
		}
		*dst(c) = n
		return nil
	}}
}

func rateSetting(env, flg, usage string, dst func(*config) *portal.Rate, def portal.Rate) setting {
	return setting{env, flg, formatRate(def), usage, func(c *config, v string) error {
		r, err := parseRate(v)
		if err != nil {
			return err
		}
		*dst(c) = r
		return nil
	}}
}

// parseRate reads "N/duration", e.g. "5/10m".
func parseRate(v string) (portal.Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(v), "/")
	count, err1 := strconv.Atoi(strings.TrimSpace(n))
	d, err2 := time.ParseDuration(strings.TrimSpace(per))
	if !ok || err1 != nil || err2 != nil || count < 1 || count > 1_000_000_000 || d <= 0 {
		return portal.Rate{}, fmt.Errorf("want a count per duration such as 5/10m, got %q", v)
	}
	if d/time.Duration(count) <= 0 {
		return portal.Rate{}, fmt.Errorf("the count is too large for the duration in %q", v)
	}
	return portal.Rate{N: count, Per: d}, nil
}

func formatRate(r portal.Rate) string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

func settings() []setting {
	lim := func(f func(*portal.Limits) *time.Duration) func(*config) *time.Duration {
		return func(c *config) *time.Duration { return f(&c.Limits) }
	}
	d := portal.DefaultLimits()
	rd := portal.DefaultRetention()
	return []setting{
		{"CASEGATE_DB", "db", "casegate-data/casegate.db", "SQLite file path, or a postgres:// URL", func(c *config, v string) error {
			c.DB = v
			return nil
		}},
		{"CASEGATE_LISTEN", "listen", "127.0.0.1:8080", "address to serve HTTP on", func(c *config, v string) error {
			return setListen(&c.Listen, v)
		}},
		{"CASEGATE_ADMIN_LISTEN", "admin-listen", "", "optional second address serving the same routes, for operators", func(c *config, v string) error {
			if v == "" {
				return nil
			}
			return setListen(&c.AdminListen, v)
		}},
		{"CASEGATE_PUBLIC_URL", "public-url", "", "the address people use, e.g. https://status.example.gov (default: http://LISTEN)", func(c *config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				return fmt.Errorf("want an http:// or https:// URL with a host and no query, got %q", v)
			}
			u.Path = strings.TrimSuffix(u.Path, "/")
			c.PublicURL = u
			return nil
		}},
		{"CASEGATE_SECRET_FILE", "secret-file", "casegate-data/secret.key", "instance secrets; created with mode 0600 if absent", func(c *config, v string) error {
			c.SecretFile = v
			return nil
		}},
		{"CASEGATE_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:port?tls=none|starttls|implicit", func(c *config, v string) error {
			c.SMTPURL = v
			return nil
		}},
		{"CASEGATE_MAIL_FROM", "mail-from", "casegate <no-reply@localhost>", "the From address of email", func(c *config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return fmt.Errorf("want an email address such as \"Case Status <no-reply@example.gov>\", got %q", v)
			}
			c.MailFrom = v
			return nil
		}},
		{"CASEGATE_SMS_URL", "sms-url", "", "text-message provider: twilio://SID:TOKEN@api.twilio.com?from=+1…, kannel://user:pass@host:13013?from=…, webhook+https://host/path?secret_file=… (see docs/sms.md)", func(c *config, v string) error {
			if v == "" {
				return nil
			}
			if _, err := delivery.ParseSMSURL(v); err != nil {
				return err
			}
			c.SMSURL = v
			return nil
		}},
		{"CASEGATE_PHONE_REGION", "phone-region", identity.DefaultPhoneRegion, "country whose national phone numbers are accepted without +country code (ISO 3166-1 alpha-2)", func(c *config, v string) error {
			r, err := identity.PhoneRegionCode(v)
			if err != nil {
				return fmt.Errorf("want a two-letter country code such as US or MX, got %q", v)
			}
			c.PhoneRegion = r
			return nil
		}},
		{"CASEGATE_SMS_COUNTRIES", "sms-countries", "", "comma-separated countries texts may go to, or * for all (default: CASEGATE_PHONE_REGION)", func(c *config, v string) error {
			cs, err := parseCountries(v)
			c.Limits.SMS.Countries = cs
			return err
		}},
		intSetting("CASEGATE_SMS_PREFIX_DIGITS", "sms-prefix-digits", "national digits after the country code that make a destination prefix", func(c *config) *int { return &c.Limits.SMS.PrefixDigits }, d.SMS.PrefixDigits, 0, 8),
		rateSetting("CASEGATE_SMS_PREFIX_LIMIT", "sms-prefix-limit", "texts to numbers sharing one prefix", func(c *config) *portal.Rate { return &c.Limits.SMS.PerPrefix }, d.SMS.PerPrefix),
		{"CASEGATE_SMS_ALLOW_VOIP", "sms-allow-voip", "false", "text VoIP numbers too (true or false); premium-rate, toll-free and other service numbers never", func(c *config, v string) error {
			b, err := parseBool(v)
			c.Limits.SMS.AllowVoIP = b
			return err
		}},
		rateSetting("CASEGATE_SMS_DESTINATION_LIMIT", "sms-destination-limit", "texts to one phone number, whoever has it on file", func(c *config) *portal.Rate { return &c.Limits.SMS.PerDestination }, d.SMS.PerDestination),
		rateSetting("CASEGATE_SMS_CONTACT_LIMIT", "sms-contact-limit", "new phone numbers one person may be sent a confirmation code at", func(c *config) *portal.Rate { return &c.Limits.SMS.ContactPerPerson }, d.SMS.ContactPerPerson),
		intSetting("CASEGATE_SMS_DAILY_BUDGET", "sms-daily-budget", "texts the deployment sends in any 24 hours", func(c *config) *int { return &c.Limits.SMS.DailyBudget }, d.SMS.DailyBudget, 1, 100_000_000),
		{"CASEGATE_SMS_BUDGET_SHARES", "sms-budget-shares", d.SMS.Shares.String(), "percent of the daily budget for first sign-in codes, other codes, contact changes and notices", func(c *config, v string) error {
			shares, err := parseShares(v)
			c.Limits.SMS.Shares = shares
			return err
		}},
		{"CASEGATE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDRs whose X-Forwarded-For is believed", func(c *config, v string) error {
			ps, err := parseProxies(v)
			c.TrustedProxies = ps
			return err
		}},
		{"CASEGATE_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want debug, info, warn or error, got %q", v)
		}},
		intSetting("CASEGATE_CODE_LENGTH", "code-length", "symbols in a code, check symbol included", func(c *config) *int { return &c.Limits.CodeLength }, d.CodeLength, 8, 16),
		durationSetting("CASEGATE_CODE_TTL", "code-ttl", "how long a code is valid", lim(func(l *portal.Limits) *time.Duration { return &l.CodeTTL }), d.CodeTTL),
		intSetting("CASEGATE_CODE_MAX_ATTEMPTS", "code-max-attempts", "wrong codes per challenge", func(c *config) *int { return &c.Limits.MaxAttempts }, d.MaxAttempts, 1, 100),
		durationSetting("CASEGATE_RESEND_COOLDOWN", "resend-cooldown", "first wait before a resend; doubles each send", lim(func(l *portal.Limits) *time.Duration { return &l.ResendBase }), d.ResendBase),
		intSetting("CASEGATE_RESEND_MAX", "resend-max", "codes sent per request, the first included", func(c *config) *int { return &c.Limits.MaxSends }, d.MaxSends, 1, 20),
		rateSetting("CASEGATE_LIMIT_REQUESTS_PER_IDENTIFIER", "limit-requests-per-identifier", "code requests per receipt number or A-Number", func(c *config) *portal.Rate { return &c.Limits.RequestsPerIdentifier }, d.RequestsPerIdentifier),
		rateSetting("CASEGATE_LIMIT_REQUESTS_PER_IP", "limit-requests-per-ip", "code requests and resends per client IP", func(c *config) *portal.Rate { return &c.Limits.RequestsPerIP }, d.RequestsPerIP),
		rateSetting("CASEGATE_LIMIT_REDEEMS_PER_IP", "limit-redeems-per-ip", "code entries per client IP", func(c *config) *portal.Rate { return &c.Limits.RedeemsPerIP }, d.RedeemsPerIP),
		rateSetting("CASEGATE_LIMIT_CODES_PER_PARTY", "limit-codes-per-party", "codes sent to one person, however asked for", func(c *config) *portal.Rate { return &c.Limits.CodesPerParty }, d.CodesPerParty),
		rateSetting("CASEGATE_LIMIT_PARTY_FAILURES", "limit-party-failures", "wrong codes per person before a timed lock", func(c *config) *portal.Rate { return &c.Limits.PartyFailures }, d.PartyFailures),
		durationSetting("CASEGATE_LOCK_DURATION", "lock-duration", "first timed lock; doubles each time", lim(func(l *portal.Limits) *time.Duration { return &l.LockBase }), d.LockBase),
		intSetting("CASEGATE_LOCK_AFTER_CONSECUTIVE_FAILURES", "lock-after-consecutive-failures", "wrong codes in a row before an operator must unlock", func(c *config) *int { return &c.Limits.MaxConsecutiveFailures }, d.MaxConsecutiveFailures, 1, 100000),
		durationSetting("CASEGATE_SESSION_IDLE", "session-idle", "sign out after this long without a request", lim(func(l *portal.Limits) *time.Duration { return &l.SessionIdle }), d.SessionIdle),
		durationSetting("CASEGATE_SESSION_ABSOLUTE", "session-absolute", "sign out after this long in any case", lim(func(l *portal.Limits) *time.Duration { return &l.SessionAbsolute }), d.SessionAbsolute),
		{"CASEGATE_STATS_INTERVAL", "stats-interval", "6h0m0s", "how often serve recomputes processing times", func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Minute {
				return fmt.Errorf("want a duration of at least 1m, such as 6h, got %q", v)
			}
			c.StatsInterval = d
			return nil
		}},
		intSetting("CASEGATE_PROCESSING_MIN_CASES", "processing-min-cases", "finished cases a processing-time figure must come from to be published; below, the whole form's figure or \"not enough recent cases\"", func(c *config) *int { return &c.Limits.ProcessingMinCases }, d.ProcessingMinCases, 1, 1_000_000),
		{"CASEGATE_READ_CACHE_TTL", "read-cache-ttl", "1s", "how long a dashboard or the processing times are reused (0s: never); statuses, subscriptions and imports made on other instances show after at most this (sessions are read every time)", func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > time.Minute {
				return fmt.Errorf("want a duration from 0s to 1m, such as 1s, got %q", v)
			}
			c.ReadCacheTTL = d
			return nil
		}},
		retentionSetting("CASEGATE_RETAIN_AUDIT", "retain-audit", "how long audit events are kept", func(r *portal.Retention) *time.Duration { return &r.Audit }, rd.Audit),
		retentionSetting("CASEGATE_RETAIN_DELIVERIES", "retain-deliveries", "how long the record of a sent or failed message is kept", func(r *portal.Retention) *time.Duration { return &r.Deliveries }, rd.Deliveries),
		retentionSetting("CASEGATE_RETAIN_DESTINATIONS", "retain-destinations", "how long a finished message keeps its address or number and provider error", func(r *portal.Retention) *time.Duration { return &r.Destinations }, rd.Destinations),
		retentionSetting("CASEGATE_RETAIN_CHALLENGES", "retain-challenges", "how long a code request is kept after it expired", func(r *portal.Retention) *time.Duration { return &r.Challenges }, rd.Challenges),
		retentionSetting("CASEGATE_RETAIN_SESSIONS", "retain-sessions", "how long a session is kept after it ended", func(r *portal.Retention) *time.Duration { return &r.Sessions }, rd.Sessions),
		{"CASEGATE_AUDIT_CHECKPOINT_INTERVAL", "audit-checkpoint-interval", "1h0m0s", "how often serve logs a signed checkpoint of the audit chain", func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Minute || d > 24*time.Hour {
				return fmt.Errorf("want a duration from 1m to 24h, such as 1h, got %q", v)
			}
			c.CheckpointEvery = d
			return nil
		}},
		{"CASEGATE_AGENCY_NAME", "agency-name", "", "the agency's name, shown as given in page titles, the header and footer, emails and texts", func(c *config, v string) error {
			n, err := branding.ParseName(v)
			c.Agency.Name = n
			return err
		}},
		{"CASEGATE_AGENCY_LOGO", "agency-logo", "", "an SVG or PNG file of at most 256 KiB shown in the page header; its alternative text is the agency's name", func(c *config, v string) error {
			if v == "" {
				return nil
			}
			l, err := branding.LoadLogo(v)
			c.Logo = l
			return err
		}},
		{"CASEGATE_AGENCY_CONTACT", "agency-contact", "", "contact lines (address, phone) shown in the page footer and in emails, separated by |", func(c *config, v string) error {
			lines, err := branding.ParseContact(v)
			c.Agency.Contact = lines
			return err
		}},
		{"CASEGATE_HELP_ADDRESS", "help-address", "", "an email address or https:// URL where people get help, shown on pages and in emails", func(c *config, v string) error {
			h, err := branding.ParseHelp(v)
			c.Agency.Help = h
			return err
		}},
		{"CASEGATE_OVERRIDES_DIR", "overrides-dir", "", "a folder of text overrides, locales/<lang>.json, laid over the built-in texts (see docs/branding.md)", func(c *config, v string) error {
			c.OverridesDir = v
			return nil
		}},
		{"CASEGATE_PROBLEM_BASE_URL", "problem-base-url", "about:blank", "an https:// address of your own under which each API error code has a page (the code is appended); about:blank: no pages", func(c *config, v string) error {
			base, err := parseProblemBase(v)
			c.ProblemBaseURL = base
			return err
		}},
		durationSetting("CASEGATE_REAUTH_WINDOW", "reauth-window", "contact changes only this soon after sign-in", lim(func(l *portal.Limits) *time.Duration { return &l.Reauth }), d.Reauth),
		{"CASEGATE_DKIM_KEY_FILE", "dkim-key-file", "", "PEM private key (RSA of 2048 bits or more, or Ed25519) that signs every email with DKIM; see docs/mail.md", func(c *config, v string) error {
			c.DKIMKeyFile = v
			return nil
		}},
		{"CASEGATE_DKIM_SELECTOR", "dkim-selector", "casegate", "DKIM selector: the public key is published at SELECTOR._domainkey.DOMAIN", func(c *config, v string) error {
			c.DKIMSelector = v
			return nil
		}},
		{"CASEGATE_DKIM_DOMAIN", "dkim-domain", "", "DKIM signing domain (default: the domain of CASEGATE_MAIL_FROM)", func(c *config, v string) error {
			c.DKIMDomain = v
			return nil
		}},
		{"CASEGATE_TIME_ZONE", "time-zone", "UTC", "IANA time zone in which pages, emails and texts show times, such as America/New_York", func(c *config, v string) error {
			loc, err := loadTimeZone(v)
			c.TimeZone = loc
			return err
		}},
	}
}

// parseProblemBase reads the base of problem type URIs: "about:blank" (or
// nothing) for none, else an absolute http(s) URL with a host and no query,
// fragment or user, returned ending in "/" so that the code appended is a
// path segment of its own.
func parseProblemBase(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "about:blank" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(v, " \t\r\n\"<>\\^`{|}#?") {
		return "", fmt.Errorf("want about:blank or an https:// address with a host and no query, such as https://status.example.gov/problems/, got %q", v)
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// loadTimeZone reads an IANA zone name from the zone database built into
// the binary (time/tzdata), so that it works where the host has none.
func loadTimeZone(v string) (*time.Location, error) {
	// time.LoadLocation also takes "Local", the host's zone: only a zone
	// name is meant here, the same on every instance.
	if v == "" || v == "Local" {
		return nil, fmt.Errorf("want an IANA time zone name such as America/New_York or UTC, got %q", v)
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, fmt.Errorf("want an IANA time zone name such as America/New_York or UTC, got %q", v)
	}
	return loc, nil
}

// dkim loads the DKIM key when one is configured; nil when none is.
func (c config) dkim() (*delivery.DKIM, error) {
	if c.DKIMKeyFile == "" {
		return nil, nil
	}
	domain := c.DKIMDomain
	if domain == "" {
		addr, err := mail.ParseAddress(c.MailFrom)
		if err != nil {
			return nil, fmt.Errorf("CASEGATE_MAIL_FROM: %w", err)
		}
		domain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	}
	d, err := delivery.LoadDKIM(c.DKIMKeyFile, c.DKIMSelector, domain)
	switch {
	case errors.Is(err, delivery.ErrDKIMSelector):
		return nil, fmt.Errorf("CASEGATE_DKIM_SELECTOR: %w", err)
	case errors.Is(err, delivery.ErrDKIMDomain) && c.DKIMDomain == "":
		return nil, fmt.Errorf("CASEGATE_DKIM_DOMAIN: %w (taken from CASEGATE_MAIL_FROM; set either)", err)
	case errors.Is(err, delivery.ErrDKIMDomain):
		return nil, fmt.Errorf("CASEGATE_DKIM_DOMAIN: %w", err)
	case err != nil:
		return nil, fmt.Errorf("CASEGATE_DKIM_KEY_FILE: %w", err)
	}
	return d, nil
}

func setListen(dst *string, v string) error {
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("want host:port such as 127.0.0.1:8080, got %q", v)
	}
	*dst = v
	return nil
}

// parseCountries reads a comma-separated list of ISO 3166-1 alpha-2 codes,
// or * alone. Empty means the default.
func parseCountries(v string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case part == portal.AnyCountry:
			out = append(out, part)
		default:
			r, err := identity.PhoneRegionCode(part)
			if err != nil {
				return nil, fmt.Errorf("want two-letter country codes separated by commas (US,CA,MX), or * for all, got %q", part)
			}
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	if slices.Contains(out, portal.AnyCountry) && len(out) > 1 {
		return nil, fmt.Errorf("* allows every country and stands alone, got %q", v)
	}
	return out, nil
}

// parseBool reads true or false (also 1 or 0), in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", v)
}

// parseShares reads the shares of the daily SMS budget,
// "first_code=60,code=15,contact=10,notice=15": every share once, whole
// percentages adding up to 100.
func parseShares(v string) (portal.BudgetShares, error) {
	form := fmt.Errorf("want every share named once with its percentage, adding up to 100, such as %s; got %q", portal.DefaultBudgetShares(), v)
	var s portal.BudgetShares
	seen := map[string]bool{}
	for part := range strings.SplitSeq(v, ",") {
		name, pct, ok := strings.Cut(strings.TrimSpace(part), "=")
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(pct))
		if !ok || err != nil || n < 0 || n > 100 || seen[name] {
			return portal.BudgetShares{}, form
		}
		seen[name] = true
		switch name {
		case portal.ShareFirstCode:
			s.FirstCode = n
		case portal.ShareCode:
			s.Code = n
		case portal.ShareContact:
			s.Contact = n
		case portal.ShareNotice:
			s.Notice = n
		default:
			return portal.BudgetShares{}, form
		}
	}
	if len(seen) != len(portal.SMSShares) {
		return portal.BudgetShares{}, form
	}
	if err := s.Validate(); err != nil {
		return portal.BudgetShares{}, err
	}
	return s, nil
}

// parseProxies reads a comma-separated list of addresses and CIDR prefixes.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("want IP addresses or CIDR prefixes separated by commas, got %q", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// loadConfig registers every setting as a flag on fs, parses args, and
// applies flag, else environment, else default. It is for the commands
// that take every setting (serve, worker, demo, doctor) and no other
// arguments. An error names the variable or flag.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (config, error) {
	c, rest, err := loadConfigFor(fs, args, getenv, nil)
	if err == nil && len(rest) > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: `%s` takes flags only; `%s -h` lists them", rest[0], fs.Name(), fs.Name())
	}
	return c, err
}

// loadConfigFor registers the settings named in only (nil: all) as flags
// on fs beside the command's own, parses args wherever the flags stand
// (parseArgs), and applies each setting: flag, else environment (the
// variable, its _FILE or a systemd credential for a secret; see
// lookupSetting), else default. It returns the arguments that are not
// flags.
func loadConfigFor(fs *flag.FlagSet, args []string, getenv func(string) string, only []string) (config, []string, error) {
	all := settings()
	flags := make([]*string, len(all))
	for i, s := range all {
		if onlyFlags(only, s.flag) {
			flags[i] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
		}
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return config{}, nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c := config{Limits: portal.DefaultLimits(), Retention: portal.DefaultRetention()}
	for i, s := range all {
		v, from := s.def, s.env
		if flags[i] != nil && set[s.flag] {
			v, from = *flags[i], "--"+s.flag
		} else if e, where, found, err := lookupSetting(s.env, getenv); err != nil {
			return config{}, nil, err
		} else if found {
			v, from = e, where
		}
		if err := s.apply(&c, v); err != nil {
			if isSecretSetting(s.env) {
				err = withoutValue(err, v)
			}
			return config{}, nil, fmt.Errorf("%s: %w", from, err)
		}
	}
	if c.PublicURL == nil {
		c.PublicURL = &url.URL{Scheme: "http", Host: c.Listen}
	}
	if len(c.Limits.SMS.Countries) == 0 {
		c.Limits.SMS.Countries = []string{c.PhoneRegion}
	}
	// Phone numbers are read in this region wherever they come in: imports
	// and contact changes. Set once, before anything reads one.
	if err := identity.SetPhoneRegion(c.PhoneRegion); err != nil {
		return config{}, nil, fmt.Errorf("CASEGATE_PHONE_REGION: %w", err)
	}
	if err := c.Limits.Validate(); err != nil {
		return config{}, nil, fmt.Errorf("limits: %w", err)
	}
	if err := c.Retention.Validate(); err != nil {
		return config{}, nil, fmt.Errorf("CASEGATE_RETAIN_*: %w", err)
	}
	if c.Logo != nil && c.Agency.Name == "" {
		return config{}, nil, errors.New("CASEGATE_AGENCY_LOGO: needs CASEGATE_AGENCY_NAME too, the logo's alternative text")
	}
	// Every text shown from now on — pages, emails, texts, status names —
	// comes from this catalog. Set once, before anything is shown.
	cat, err := catalog.LoadOverrides(c.OverridesDir)
	if err != nil {
		return config{}, nil, fmt.Errorf("CASEGATE_OVERRIDES_DIR: %w", err)
	}
	c.Catalog = cat
	catalog.SetDefault(cat)
	return c, rest, nil
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("casegate "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}
