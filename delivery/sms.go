package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/casegate/casegate"
)

// maxProviderReply bounds how much of a provider's answer is read.
const maxProviderReply = 64 << 10

// userAgent names casegate in requests to providers.
const userAgent = "casegate-sms/1"

// SMS sends text messages through one provider's HTTP API: Twilio, Kannel or
// a signed webhook. Each send is one HTTP request with a timeout. A reply
// that says the message itself cannot be sent (an invalid number, a refused
// destination) is a *casegate.PermanentError; a failure to connect, a
// timeout, rate limiting, a server error or rejected credentials are not,
// so the worker retries them. SMS is safe for concurrent use.
type SMS struct {
	cfg      SMSConfig
	client   *http.Client
	log      *slog.Logger
	provider smsProvider
}

// smsProvider is what differs between gateways: the request, and what a reply means.
type smsProvider interface {
	request(ctx context.Context, m casegate.Message, size SMSSize) (*http.Request, error)
	// judge returns nil when the provider accepted the message, else an
	// error, permanent when no retry can help. body is the reply, cut short.
	judge(status int, body []byte) error
}

var _ casegate.Sender = (*SMS)(nil)

// NewSMS checks cfg and returns a sender. For a webhook it reads the
// signing secret now, so a missing or short secret fails at start. It does
// not connect. logger may be nil.
func NewSMS(cfg SMSConfig, logger *slog.Logger) (*SMS, error) {
	if cfg.Endpoint == nil {
		return nil, errors.New("delivery: SMS configuration has no endpoint; build it with ParseSMSURL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMSTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &SMS{cfg: cfg, client: newSMSClient(cfg.Timeout), log: logger}
	switch cfg.Provider {
	case ProviderTwilio:
		s.provider = twilio{cfg: cfg}
	case ProviderKannel:
		s.provider = kannel{cfg: cfg}
	case ProviderWebhook:
		secret, err := readWebhookSecret(cfg.SecretFile)
		if err != nil {
			return nil, err
		}
		s.provider = webhook{cfg: cfg, secret: secret, now: time.Now}
	default:
		return nil, fmt.Errorf("delivery: unknown SMS provider %q", cfg.Provider)
	}
	return s, nil
}

// newSMSClient is a client that bounds every phase of a request and does
// not follow redirects: a gateway that redirects is misconfigured, and a
// redirected POST would lose its body.
func newSMSClient(timeout time.Duration) *http.Client {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   DefaultParallel,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// e164 is the shape of a destination the portal stores.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Send hands m to the provider. It logs the provider, the encoding, the
// number of segments and the HTTP status; never the destination or the text.
func (s *SMS) Send(ctx context.Context, m casegate.Message) error {
	switch {
	case m.Channel != casegate.ChannelSMS:
		return &casegate.PermanentError{Err: fmt.Errorf("sms: a %q message cannot go by text", m.Channel)}
	case !e164.MatchString(m.To):
		return &casegate.PermanentError{Err: errors.New("sms: the destination is not an E.164 phone number")}
	case m.Text == "":
		return &casegate.PermanentError{Err: errors.New("sms: the message is empty")}
	}
	size := MeasureSMS(m.Text)
	req, err := s.provider.request(ctx, m, size)
	if err != nil {
		return &casegate.PermanentError{Err: fmt.Errorf("sms %s: %w", s.cfg.Provider, err)}
	}
	start := time.Now()
	status, body, err := s.do(req)
	attrs := []slog.Attr{
		slog.String("provider", string(s.cfg.Provider)),
		slog.String("encoding", string(size.Encoding)),
		slog.Int("segments", size.Segments),
		slog.Int("status", status),
		slog.Float64("took_seconds", time.Since(start).Seconds()),
	}
	if err == nil {
		err = s.provider.judge(status, body)
	}
	switch {
	case err == nil:
		s.log.LogAttrs(ctx, slog.LevelInfo, "sms accepted by provider", attrs...)
		return nil
	case casegate.IsPermanent(err):
		attrs = append(attrs, slog.String("class", "permanent"))
	default:
		attrs = append(attrs, slog.String("class", "retryable"))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "sms refused or not delivered to provider", attrs...)
	return err
}

// do sends req and reads the start of the reply. Its errors never carry the
// request URL, which for Kannel holds the password, the number and the text.
func (s *SMS) do(req *http.Request) (int, []byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("sms %s: %s %s: %w", s.cfg.Provider, req.Method, s.cfg.Endpoint.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderReply))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return resp.StatusCode, nil, fmt.Errorf("sms %s: read reply: %w", s.cfg.Provider, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProviderReply)) // let the connection be reused
	return resp.StatusCode, body, nil
}

// Close releases idle connections.
func (s *SMS) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// providerError is a provider's refusal. Its text is the status, the
// provider's code, and the provider's message, which may name the
// destination: the worker redacts numbers before it logs or stores it.
func providerError(provider SMSProvider, status int, detail string, permanent bool) error {
	err := fmt.Errorf("sms %s: HTTP %d: %s", provider, status, detail)
	if permanent {
		return &casegate.PermanentError{Err: err}
	}
	return err
}

// replyText is a short, single-line form of a provider's reply for error text.
func replyText(body []byte) string {
	const max = 200
	s := []rune(string(body))
	if len(s) > max {
		s = append(s[:max], '…')
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
