package delivery

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/internal/testenv"
)

// kannelGateway is a real Kannel on loopback ports: bearerbox with a fake
// SMSC, smsbox serving sendsms, and fakesmsc playing the operator's network
// and printing what reaches it.
type kannelGateway struct {
	sendsms  string // host:port of smsbox's sendsms
	user     string
	password string
	smscLog  string // fakesmsc's output
	dir      string
}

func startKannel(t *testing.T) *kannelGateway {
	t.Helper()
	bins := testenv.Kannel(t)
	dir := t.TempDir()
	ports := freePorts(t, 4)
	g := &kannelGateway{
		sendsms: fmt.Sprintf("127.0.0.1:%d", ports[3]), user: "casegate", password: "k4nnel-test-pw",
		smscLog: filepath.Join(dir, "fakesmsc.log"), dir: dir,
	}
	conf := fmt.Sprintf(`group = core
admin-port = %[1]d
admin-password = casegate-admin
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = %[2]d
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-level = 0

group = smsc
smsc = fake
smsc-id = FAKE
port = %[3]d
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %[2]d
sendsms-port = %[4]d
sendsms-interface = 127.0.0.1
global-sender = 12345
log-level = 0

group = sendsms-user
username = %[5]s
password = %[6]s
max-messages = 4
black-list-regex = "^\+1999"
`, ports[0], ports[1], ports[2], ports[3], g.user, g.password)
	confPath := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	g.start(t, "bearerbox", bins.Bearerbox, "-v", "0", confPath)
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[2]), "bearerbox's fake SMSC port")
	// fakesmsc sends nothing (-m 0) and prints every message it is given.
	g.start(t, "fakesmsc", bins.Fakesmsc, "-H", "127.0.0.1", "-r", fmt.Sprint(ports[2]), "-i", "0", "-m", "0", "1 2 text x")
	g.start(t, "smsbox", bins.Smsbox, "-v", "0", confPath)
	waitListening(t, g.sendsms, "smsbox's sendsms port")
	return g
}

// start runs a Kannel program with its output in a file, until the test ends.
func (g *kannelGateway) start(t *testing.T, name, path string, args ...string) {
	t.Helper()
	logPath := filepath.Join(g.dir, name+".log")
	if name == "fakesmsc" {
		logPath = g.smscLog
	}
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = g.dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("%s output (last 2000 bytes):\n%s", name, tail(string(data), 2000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func waitListening(t *testing.T, addr, what string) {
	t.Helper()
	listening := testenv.Eventually(15*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if !listening {
		t.Fatalf("%s (%s) did not open within 15s", what, addr)
	}
}

// smscMessage is one message as it reached the fake SMSC.
type smscMessage struct {
	from, to, coding, text string
}

var (
	gotMessage  = regexp.MustCompile(`Got message \d+: <(.*)>$`)
	messageHead = regexp.MustCompile(`^(\S+) (\S+) (text|ucs-2|data|udh-text|udh-data) (.*)$`)
)

// received reads fakesmsc's output. Its protocol is one line per message,
// so a GSM text with line breaks arrives as several lines, the later ones
// without a head: they are joined back. UCS-2 arrives URL-encoded, whole.
func (g *kannelGateway) received(t *testing.T) []smscMessage {
	t.Helper()
	data, err := os.ReadFile(g.smscLog)
	if err != nil {
		t.Fatal(err)
	}
	var out []smscMessage
	for _, line := range strings.Split(string(data), "\n") {
		m := gotMessage.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		head := messageHead.FindStringSubmatch(m[1])
		if head == nil {
			if len(out) > 0 && out[len(out)-1].coding == "text" {
				out[len(out)-1].text += "\n" + m[1]
			}
			continue
		}
		msg := smscMessage{from: head[1], to: head[2], coding: head[3], text: head[4]}
		if msg.coding == "ucs-2" {
			raw, err := url.QueryUnescape(msg.text)
			if err != nil || len(raw)%2 != 0 {
				t.Fatalf("fakesmsc printed undecodable UCS-2 %q", msg.text)
			}
			units := make([]uint16, len(raw)/2)
			for i := range units {
				units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
			}
			msg.text = string(utf16.Decode(units))
		}
		out = append(out, msg)
	}
	return out
}

// waitReceived waits until fakesmsc has printed n messages.
func (g *kannelGateway) waitReceived(t *testing.T, n int) []smscMessage {
	t.Helper()
	var got []smscMessage
	testenv.Eventually(20*time.Second, func() bool {
		got = g.received(t)
		return len(got) >= n
	})
	return got
}

func (g *kannelGateway) sender(t *testing.T, password, query string) *SMS {
	t.Helper()
	cfg, err := ParseSMSURL("kannel://" + g.user + ":" + url.PathEscape(password) + "@" + g.sendsms + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestKannelDelivers sends rendered code messages through casegate's Kannel
// sender and a real Kannel, and reads them back from the fake SMSC.
func TestKannelDelivers(t *testing.T) {
	g := startKannel(t)
	s := g.sender(t, g.password, "from=%2B15551234567&smsc=FAKE")
	ctx := context.Background()

	var want []smscMessage
	for _, lang := range []string{"en", "es"} {
		code := testCode(t)
		d := codeDelivery(casegate.ChannelSMS, lang)
		d.Destination = "+15555550123"
		m, err := Render(d, code, "https://portal.example.org", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(m.Text, "\n@portal.example.org #"+code) {
			t.Fatalf("rendered %s SMS does not end with the origin-bound line: %q", lang, m.Text)
		}
		if err := s.Send(ctx, m); err != nil {
			t.Fatalf("send %s code: %v", lang, err)
		}
		want = append(want, smscMessage{from: "+15551234567", to: "+15555550123", coding: "text", text: m.Text})
	}
	// A text GSM-7 cannot carry goes as UCS-2.
	ucs2 := "Su solicitud cambió: vea los detalles en portal.example.org"
	if err := s.Send(ctx, casegate.Message{Channel: casegate.ChannelSMS, To: "+525512345678", Text: ucs2}); err != nil {
		t.Fatalf("send UCS-2: %v", err)
	}
	want = append(want, smscMessage{from: "+15551234567", to: "+525512345678", coding: "ucs-2", text: ucs2})

	got := g.waitReceived(t, len(want))
	if len(got) != len(want) {
		t.Fatalf("the fake SMSC got %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d reached the SMSC as\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}

	// Kannel refuses a black-listed number: no retry can help.
	err := s.Send(ctx, casegate.Message{Channel: casegate.ChannelSMS, To: "+19995550123", Text: "hello"})
	if err == nil || !casegate.IsPermanent(err) {
		t.Errorf("black-listed number: %v, want a permanent error", err)
	}
	// A wrong password is the operator's to fix: retried, and not shown.
	bad := g.sender(t, "wrong-password", "")
	err = bad.Send(ctx, casegate.Message{Channel: casegate.ChannelSMS, To: "+15555550123", Text: "hello"})
	if err == nil || casegate.IsPermanent(err) || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password: %v, want a retryable error without the password", err)
	}
	if n := len(g.received(t)); n != len(want) {
		t.Errorf("refused messages reached the SMSC: %d messages", n)
	}
}
