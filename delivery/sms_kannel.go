package delivery

import (
	"bytes"
	"context"
	"net/http"
	"net/url"

	"github.com/casegate/casegate"
)

// kannel sends through Kannel smsbox's HTTP interface:
// GET /cgi-bin/sendsms?username=&password=&to=&from=&smsc=&text=&coding=&charset=
// The text goes as UTF-8; coding 0 lets Kannel convert it to GSM-7, coding 2
// to UCS-2, as MeasureSMS decided.
type kannel struct{ cfg SMSConfig }

func (k kannel) request(ctx context.Context, m casegate.Message, size SMSSize) (*http.Request, error) {
	q := url.Values{
		"username": {k.cfg.Username},
		"password": {k.cfg.Password},
		"to":       {m.To},
		"text":     {m.Text},
		"charset":  {"UTF-8"},
		"coding":   {"0"},
	}
	if size.Encoding == EncodingUCS2 {
		q.Set("coding", "2")
	}
	if k.cfg.From != "" {
		q.Set("from", k.cfg.From)
	}
	if k.cfg.SMSC != "" {
		q.Set("smsc", k.cfg.SMSC)
	}
	u := *k.cfg.Endpoint
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// judge classes smsbox's reply. 2xx ("0: Accepted for delivery", "3: Queued
// for later delivery") is accepted. "Not routable. Do not try again." is
// permanent whatever its status, as are other 4xx (a malformed or
// black-listed number); "Authorization failed" is a configuration problem
// and retried like 5xx (503: bearerbox is not there to take it).
func (k kannel) judge(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	detail := replyText(bytes.TrimSpace(body))
	switch {
	case bytes.Contains(body, []byte("Not routable")):
		return providerError(ProviderKannel, status, detail, true)
	case bytes.Contains(body, []byte("Authorization failed")), status == http.StatusUnauthorized,
		status == http.StatusTooManyRequests, status < 400, status >= 500:
		return providerError(ProviderKannel, status, detail, false)
	}
	return providerError(ProviderKannel, status, detail, true)
}
