package delivery

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/casegate/casegate"
)

// twilioAPI is a local stand-in for Twilio's Messages resource that checks
// each request as Twilio documents it and answers with the reply it is given.
type twilioAPI struct {
	t       *testing.T
	account string // the account in the path
	user    string // basic auth
	pass    string

	mu     sync.Mutex
	forms  []url.Values
	status int
	reply  string
}

func (a *twilioAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := a.t
	if r.Method != http.MethodPost {
		t.Errorf("method %s, want POST", r.Method)
	}
	if want := "/2010-04-01/Accounts/" + a.account + "/Messages.json"; r.URL.Path != want {
		t.Errorf("path %s, want %s", r.URL.Path, want)
	}
	if r.URL.RawQuery != "" {
		t.Errorf("query %q; the fields go in the body", r.URL.RawQuery)
	}
	auth := r.Header.Get("Authorization")
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass))
	if auth != wantAuth {
		t.Errorf("Authorization %q, want basic auth of the SID and token", auth)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("body is not a form: %v", err)
	}
	a.mu.Lock()
	a.forms = append(a.forms, form)
	status, reply := a.status, a.reply
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, reply)
}

func (a *twilioAPI) answer(status int, reply string) {
	a.mu.Lock()
	a.status, a.reply = status, reply
	a.mu.Unlock()
}

func (a *twilioAPI) last() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.forms) == 0 {
		return nil
	}
	return a.forms[len(a.forms)-1]
}

func newTwilioTest(t *testing.T, user, query string) (*SMS, *twilioAPI) {
	t.Helper()
	api := &twilioAPI{t: t, account: testSID, user: user, pass: testToken, status: http.StatusCreated,
		reply: `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	raw := "twilio://" + user + ":" + testToken + "@" + strings.TrimPrefix(srv.URL, "http://") + "?insecure=1&" + query
	cfg, err := ParseSMSURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, api
}

func smsMessage(text string) casegate.Message {
	return casegate.Message{Channel: casegate.ChannelSMS, To: "+15555550123", Text: text}
}

func TestTwilioSend(t *testing.T) {
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	text := "K7M2Q-9XH4R is your access code.\n\n@portal.example.org #K7M2Q9XH4R"
	if err := s.Send(context.Background(), smsMessage(text)); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"To": {"+15555550123"}, "From": {"+15551234567"}, "Body": {text}}
	if got := api.last(); got.Encode() != want.Encode() {
		t.Errorf("form = %v, want exactly %v", got, want)
	}
}

func TestTwilioSendWithMessagingServiceAndAPIKey(t *testing.T) {
	s, api := newTwilioTest(t, testKeySID, "account="+testSID+"&messaging_service="+testService)
	if err := s.Send(context.Background(), smsMessage("Código: ñ")); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"To": {"+15555550123"}, "MessagingServiceSid": {testService}, "Body": {"Código: ñ"}}
	if got := api.last(); got.Encode() != want.Encode() {
		t.Errorf("form = %v, want exactly %v", got, want)
	}
}

func TestTwilioErrorClasses(t *testing.T) {
	s, api := newTwilioTest(t, testSID, "from=+15551234567")
	tests := []struct {
		status    int
		reply     string
		permanent bool
		mention   string
	}{
		{400, `{"code":21211,"message":"The 'To' number +15555550123 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, true, "error 21211"},
		{400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, true, "21610"},
		{403, `{"code":21408,"message":"Permission to send an SMS has not been enabled for the region indicated by the 'To' number","status":403}`, true, "21408"},
		{404, `not json`, true, "not json"},
		{401, `{"code":20003,"message":"Authenticate","status":401}`, false, "20003"},
		{429, `{"code":20429,"message":"Too Many Requests","status":429}`, false, "20429"},
		{400, `{"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages","status":400}`, false, "21611"},
		{500, `{"code":20500,"message":"Internal Server Error","status":500}`, false, "HTTP 500"},
		{503, ``, false, "HTTP 503"},
		{302, ``, false, "HTTP 302"},
	}
	for _, tt := range tests {
		api.answer(tt.status, tt.reply)
		err := s.Send(context.Background(), smsMessage("hello"))
		if err == nil {
			t.Errorf("%d %s: no error", tt.status, tt.reply)
			continue
		}
		if casegate.IsPermanent(err) != tt.permanent {
			t.Errorf("%d %s: permanent = %v, want %v (%v)", tt.status, tt.reply, casegate.IsPermanent(err), tt.permanent, err)
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%d: error %q does not mention %q", tt.status, err, tt.mention)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}
