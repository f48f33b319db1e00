package delivery

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SMSProvider names a text-message gateway.
type SMSProvider string

// The providers an SMS URL can name.
const (
	ProviderTwilio  SMSProvider = "twilio"  // Twilio's Messages REST API
	ProviderKannel  SMSProvider = "kannel"  // Kannel smsbox's HTTP sendsms
	ProviderWebhook SMSProvider = "webhook" // a signed JSON POST to a URL of the operator's
)

// Defaults of an SMS URL.
const (
	DefaultTwilioHost = "api.twilio.com"
	DefaultKannelPort = 13013
	DefaultKannelPath = "/cgi-bin/sendsms"
	DefaultSMSTimeout = 10 * time.Second
)

// SMSConfig says how to reach the text-message gateway; ParseSMSURL reads it
// from CASEGATE_SMS_URL.
type SMSConfig struct {
	Provider SMSProvider
	// Endpoint is where requests go: Twilio's API base (https://api.twilio.com),
	// Kannel's sendsms URL, or the webhook's URL with its own query.
	Endpoint *url.URL
	Username string // Twilio: account or API key SID; Kannel: sendsms-user
	Password string // Twilio: auth token or API key secret; Kannel: its password
	// AccountSID is the Twilio account messages are sent from; the
	// Username unless that is an API key.
	AccountSID       string
	From             string // sender: a number, short code or alphanumeric ID (Twilio, Kannel)
	MessagingService string // Twilio: a Messaging Service SID, instead of From
	SMSC             string // Kannel: the smsc-id to route through; empty lets Kannel choose
	SecretFile       string // webhook: the file holding the signing secret
	Timeout          time.Duration
}

// String describes the configuration without the password or the webhook's query.
func (c SMSConfig) String() string {
	if c.Endpoint == nil {
		return string(c.Provider) + "://"
	}
	u := url.URL{Scheme: string(c.Provider), Host: c.Endpoint.Host, Path: c.Endpoint.Path}
	if c.Provider == ProviderWebhook {
		u.Scheme = "webhook+" + c.Endpoint.Scheme
	} else if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String()
}

var (
	twilioSID     = regexp.MustCompile(`^(AC|SK|MG)[0-9a-fA-F]{32}$`)
	senderNumber  = regexp.MustCompile(`^\+?[1-9][0-9]{2,14}$`)
	senderName    = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	kannelSMSCID  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	hasLetter     = regexp.MustCompile(`[A-Za-z]`)
	smsURLExample = "twilio://SID:TOKEN@api.twilio.com?from=+15551234567, kannel://user:pass@host:13013?from=…, or webhook+https://host/path?secret_file=…"
)

// ParseSMSURL reads CASEGATE_SMS_URL:
//
//	twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15551234567
//	twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?messaging_service=MG…
//	twilio://API_KEY_SID:SECRET@api.twilio.com?account=AC…&from=…
//	kannel://user:pass@host:13013?from=…&smsc=…        (kannel+https:// for TLS)
//	webhook+https://host/path?secret_file=/run/secrets/sms-webhook
//
// Every form takes timeout= (default 10s). A Twilio or webhook URL may use
// plain http only to a loopback address: twilio://…@127.0.0.1:8080?…&insecure=1,
// webhook+http://127.0.0.1:8080/…. In query values + stays a plus sign.
// Errors never repeat the password, the token or a query value of the webhook.
func ParseSMSURL(raw string) (SMSConfig, error) {
	fail := func(format string, args ...any) (SMSConfig, error) {
		return SMSConfig{}, fmt.Errorf("SMS URL: "+format, args...)
	}
	if strings.TrimSpace(raw) == "" {
		return fail("empty; want %s", smsURLExample)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parser's message quotes pieces of the URL, perhaps of the token.
		return fail("not a valid URL; percent-encode special characters in the user name and password (/ as %%2F, @ as %%40, : as %%3A, %% as %%25)")
	}
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.Fragment, "@") || (u.User == nil && strings.Contains(raw, "@")) {
		// An unencoded / ? or # in the password ended the host early.
		return fail("not a valid URL; percent-encode special characters in the user name and password (/ as %%2F, ? as %%3F, # as %%23)")
	}
	if u.Opaque != "" {
		return fail("want %s://host, with two slashes", u.Scheme)
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return fail("unexpected fragment after #")
	}
	query, order, err := parseSMSQuery(u.RawQuery)
	if err != nil {
		return fail("%v", err)
	}
	cfg := SMSConfig{Timeout: DefaultSMSTimeout}
	if v, ok := query["timeout"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > time.Minute {
			return fail("timeout=%q is not a duration from 1s to 1m", v)
		}
		cfg.Timeout = d
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if hasControl(cfg.Username) || hasControl(cfg.Password) {
			return fail("the user name or password contains a control character")
		}
	}
	host := u.Hostname()
	if host != "" && !validHost(host, strings.HasPrefix(u.Host, "[")) {
		return fail("invalid host %q; want a DNS name, an IPv4 address or an IPv6 address in [brackets]", host)
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fail("port %q is not a number from 1 to 65535", port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fail("empty port after the host")
	}
	var known []string
	switch u.Scheme {
	case "twilio":
		cfg.Provider, known = ProviderTwilio, []string{"from", "messaging_service", "account", "insecure", "timeout"}
		if err := cfg.parseTwilio(u, query); err != nil {
			return fail("%v", err)
		}
	case "kannel", "kannel+https":
		cfg.Provider, known = ProviderKannel, []string{"from", "smsc", "timeout"}
		if err := cfg.parseKannel(u, query); err != nil {
			return fail("%v", err)
		}
	case "webhook+https", "webhook+http":
		cfg.Provider, known = ProviderWebhook, []string{"secret_file", "timeout"}
		if err := cfg.parseWebhook(u, query, order); err != nil {
			return fail("%v", err)
		}
	default:
		return fail("scheme %q is not supported; want %s", u.Scheme, smsURLExample)
	}
	if cfg.Provider != ProviderWebhook {
		for key := range query {
			if !contains(known, key) {
				return fail("unknown parameter %q for %s; the parameters are %s", key, cfg.Provider, strings.Join(known, ", "))
			}
		}
	}
	return cfg, nil
}

func (cfg *SMSConfig) parseTwilio(u *url.URL, q map[string]string) error {
	if cfg.Username == "" || cfg.Password == "" {
		return fmt.Errorf("twilio needs the account SID and auth token as user and password: twilio://AC…:TOKEN@api.twilio.com?from=…")
	}
	if !twilioSID.MatchString(cfg.Username) || strings.HasPrefix(cfg.Username, "MG") {
		return fmt.Errorf("the user name is not an account SID (AC and 32 hex digits) or an API key SID (SK and 32 hex digits)")
	}
	cfg.AccountSID = cfg.Username
	if account, ok := q["account"]; ok {
		if !strings.HasPrefix(account, "AC") || !twilioSID.MatchString(account) {
			return fmt.Errorf("account=%q is not an account SID (AC and 32 hex digits)", account)
		}
		cfg.AccountSID = account
	}
	if strings.HasPrefix(cfg.AccountSID, "SK") {
		return fmt.Errorf("with an API key SID as user name, give the account SID as account=AC…")
	}
	from, hasFrom := q["from"]
	service, hasService := q["messaging_service"]
	switch {
	case hasFrom == hasService:
		return fmt.Errorf("twilio needs exactly one of from= (a number or sender ID) and messaging_service= (MG…)")
	case hasFrom:
		if err := checkSender(from); err != nil {
			return err
		}
		cfg.From = from
	default:
		if !strings.HasPrefix(service, "MG") || !twilioSID.MatchString(service) {
			return fmt.Errorf("messaging_service=%q is not a Messaging Service SID (MG and 32 hex digits)", service)
		}
		cfg.MessagingService = service
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("unexpected path %q; a twilio URL has only a host", u.Path)
	}
	host := u.Host
	if host == "" {
		host = DefaultTwilioHost
	}
	scheme := "https"
	switch q["insecure"] {
	case "", "0":
	case "1":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("insecure=1 (plain http) is allowed only to a loopback address, for tests")
		}
		scheme = "http"
	default:
		return fmt.Errorf("insecure=%q; want 1 or leave it out", q["insecure"])
	}
	cfg.Endpoint = &url.URL{Scheme: scheme, Host: host}
	return nil
}

func (cfg *SMSConfig) parseKannel(u *url.URL, q map[string]string) error {
	if u.Hostname() == "" {
		return fmt.Errorf("kannel needs the smsbox host: kannel://user:pass@host:13013")
	}
	if cfg.Username == "" || cfg.Password == "" {
		return fmt.Errorf("kannel needs a sendsms-user name and password: kannel://user:pass@host:13013")
	}
	if from, ok := q["from"]; ok {
		if err := checkSender(from); err != nil {
			return err
		}
		cfg.From = from
	}
	if smsc, ok := q["smsc"]; ok {
		if !kannelSMSCID.MatchString(smsc) {
			return fmt.Errorf("smsc=%q is not an smsc-id (letters, digits, _ . -)", smsc)
		}
		cfg.SMSC = smsc
	}
	scheme := "http"
	if u.Scheme == "kannel+https" {
		scheme = "https"
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), strconv.Itoa(DefaultKannelPort))
	}
	path := u.Path
	if path == "" || path == "/" {
		path = DefaultKannelPath
	}
	cfg.Endpoint = &url.URL{Scheme: scheme, Host: host, Path: path}
	return nil
}

func (cfg *SMSConfig) parseWebhook(u *url.URL, q map[string]string, order []string) error {
	if u.Hostname() == "" {
		return fmt.Errorf("a webhook needs a host: webhook+https://host/path?secret_file=…")
	}
	if u.User != nil {
		return fmt.Errorf("a webhook URL carries no user or password; requests are signed with the secret in secret_file")
	}
	scheme := strings.TrimPrefix(u.Scheme, "webhook+")
	if scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("webhook+http is allowed only to a loopback address; use webhook+https")
	}
	cfg.SecretFile = q["secret_file"]
	if cfg.SecretFile == "" {
		return fmt.Errorf("a webhook needs secret_file=, the file holding the signing secret")
	}
	// The webhook's own parameters are the operator's; pass them on as written.
	var keep []string
	for _, pair := range order {
		key, _, _ := strings.Cut(pair, "=")
		if k, _ := url.PathUnescape(key); k != "secret_file" && k != "timeout" {
			keep = append(keep, pair)
		}
	}
	cfg.Endpoint = &url.URL{Scheme: scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: strings.Join(keep, "&")}
	return nil
}

// parseSMSQuery splits a raw query into values, keeping + as a plus sign
// (a sender number is written +1555…), and the raw pairs in order. A
// parameter given twice is an error; its value is not repeated.
func parseSMSQuery(raw string) (map[string]string, []string, error) {
	q := map[string]string{}
	var order []string
	if raw == "" {
		return q, nil, nil
	}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.PathUnescape(k)
		value, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil || key == "" {
			return nil, nil, fmt.Errorf("invalid query; percent-encode special characters in parameters")
		}
		if _, dup := q[key]; dup {
			return nil, nil, fmt.Errorf("parameter %q is given twice", key)
		}
		q[key] = value
		order = append(order, pair)
	}
	return q, order, nil
}

// checkSender accepts a phone number (with or without +), a short code, or
// an alphanumeric sender ID of up to 11 letters, digits and spaces.
func checkSender(from string) error {
	if senderNumber.MatchString(from) || senderName.MatchString(from) && hasLetter.MatchString(from) {
		return nil
	}
	return fmt.Errorf("from=%q is not a phone number like +15551234567, a short code, or a sender ID of up to 11 letters and digits", from)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
