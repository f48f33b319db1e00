package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/casegate/casegate"
)

// twilio sends through Twilio's Messages resource:
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json with the form fields
// To, From (or MessagingServiceSid) and Body, authenticated with HTTP basic
// auth as account SID and auth token (or API key SID and secret).
type twilio struct{ cfg SMSConfig }

func (t twilio) request(ctx context.Context, m casegate.Message, _ SMSSize) (*http.Request, error) {
	form := url.Values{"To": {m.To}, "Body": {m.Text}}
	if t.cfg.MessagingService != "" {
		form.Set("MessagingServiceSid", t.cfg.MessagingService)
	} else {
		form.Set("From", t.cfg.From)
	}
	endpoint := t.cfg.Endpoint.JoinPath("2010-04-01", "Accounts", t.cfg.AccountSID, "Messages.json")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(t.cfg.Username, t.cfg.Password)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// twilioReply is the part of Twilio's error body that says what went wrong.
type twilioReply struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Twilio error codes that are not about the message and pass with time or
// an operator's fix.
var twilioRetryable = map[int]bool{
	20003: true, // authentication failed: the credentials are being fixed
	20429: true, // too many requests
	20500: true, // internal server error
	20503: true, // service unavailable
	21611: true, // the sender's queue of messages is full
}

// judge classes a reply: 2xx accepted; 429, 5xx, 401 and the codes above
// retryable; any other 4xx (21211 invalid To, 21408 region not enabled,
// 21610 the person replied STOP, 21614 not a mobile number, …) permanent.
func (t twilio) judge(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	var r twilioReply
	detail := replyText(body)
	if json.Unmarshal(body, &r) == nil && (r.Code != 0 || r.Message != "") {
		detail = fmt.Sprintf("error %d: %s", r.Code, replyText([]byte(r.Message)))
	}
	retry := status == http.StatusTooManyRequests || status == http.StatusUnauthorized || status >= 500 ||
		status < 400 || twilioRetryable[r.Code]
	return providerError(ProviderTwilio, status, detail, !retry)
}
