package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/casegate/casegate"
)

// Webhook signing: X-Casegate-Timestamp is the Unix time in seconds;
// X-Casegate-Signature is the hex HMAC-SHA256, keyed with the secret, of the
// timestamp, a full stop and the body.
const (
	WebhookTimestampHeader = "X-Casegate-Timestamp"
	WebhookSignatureHeader = "X-Casegate-Signature"
	minWebhookSecret       = 16 // bytes
)

// WebhookMessage is the JSON body of a webhook request.
type WebhookMessage struct {
	To       string      `json:"to"`       // E.164
	Text     string      `json:"text"`     // the whole message, UTF-8
	Segments int         `json:"segments"` // how many SMS segments the text takes
	Encoding SMSEncoding `json:"encoding"` // "gsm7" or "ucs2"
	// MessageID is the same for every attempt at one message (it is a keyed
	// hash of the destination and the text), so a receiver can drop repeats.
	MessageID string `json:"message_id"`
}

// webhook POSTs a signed WebhookMessage to the operator's URL.
type webhook struct {
	cfg    SMSConfig
	secret []byte
	now    func() time.Time
}

func (w webhook) request(ctx context.Context, m casegate.Message, size SMSSize) (*http.Request, error) {
	id := hmac.New(sha256.New, w.secret)
	id.Write([]byte("casegate message id\x00" + m.To + "\x00" + m.Text))
	body, err := json.Marshal(WebhookMessage{
		To: m.To, Text: m.Text, Segments: size.Segments, Encoding: size.Encoding,
		MessageID: hex.EncodeToString(id.Sum(nil)[:16]),
	})
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.Endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, SignWebhook(w.secret, ts, body))
	return req, nil
}

// judge: 2xx accepted; 408, 429 and 5xx retryable (as are redirects, a
// configuration problem); any other 4xx permanent.
func (w webhook) judge(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	retry := status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status < 400 || status >= 500
	return providerError(ProviderWebhook, status, replyText(bytes.TrimSpace(body)), !retry)
}

// SignWebhook returns the signature of a webhook body sent at timestamp:
// hex(HMAC-SHA256(secret, timestamp + "." + body)).
func SignWebhook(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook request's signature, in constant time, and
// that its timestamp is within maxAge of now, so a captured request cannot
// be replayed later. Receivers written in Go may use it.
func VerifyWebhook(secret []byte, timestamp, signature string, body []byte, now time.Time, maxAge time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: the timestamp is not a Unix time")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return errors.New("webhook: the timestamp is too far from now")
	}
	got, err := hex.DecodeString(signature)
	if err != nil {
		return errors.New("webhook: the signature is not hex")
	}
	want, _ := hex.DecodeString(SignWebhook(secret, timestamp, body))
	if !hmac.Equal(got, want) {
		return errors.New("webhook: the signature does not match")
	}
	return nil
}

// readWebhookSecret reads the signing secret: the file's content without
// surrounding white space, at least 16 bytes.
func readWebhookSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("delivery: webhook secret_file: %w", err)
	}
	secret := bytes.TrimSpace(data)
	if len(secret) < minWebhookSecret {
		return nil, fmt.Errorf("delivery: webhook secret_file %s holds %d bytes; want at least %d (32 random bytes, hex, is good)", path, len(secret), minWebhookSecret)
	}
	return secret, nil
}
