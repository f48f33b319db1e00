package delivery

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/casegate/casegate/internal/testenv"
)

// The OpenDKIM check runs opendkim-testmsg, the reference implementation's
// verifier, on the messages as the SMTP server received them. It looks the
// key up in DNS, so this test binary runs itself again in network and mount
// namespaces of its own (opendkimHelperEnv set): there it answers DNS on
// 127.0.0.1:53 with the record DNSRecord gives, points /etc/resolv.conf (a
// bind mount the host never sees) at it, and runs the verifier on each file.
const opendkimHelperEnv = "CASEGATE_OPENDKIM_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(opendkimHelperEnv) == "1" {
		if err := opendkimHelper(); err != nil {
			fmt.Fprintln(os.Stderr, "opendkim helper:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestOpenDKIMVerifies(t *testing.T) {
	bin, err := exec.LookPath("opendkim-testmsg")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/opendkim-testmsg"); err != nil {
			testenv.Require(t, testenv.NameOpenDKIM, "opendkim-testmsg not found: apt-get install opendkim-tools")
		}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, k := range []struct {
		name string
		key  any
	}{{"rsa", rsaKey}, {"ed25519", edKey}} {
		t.Run(k.name, func(t *testing.T) {
			d, err := LoadDKIM(testenv.KeyFile(t, k.key, true), "casegate1", "portal.example.org")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var files []string
			for i, m := range sendSigned(t, d) {
				good := filepath.Join(dir, fmt.Sprintf("%d-as-received.eml", i))
				// The verifier is real: a changed body fails it.
				bad := filepath.Join(dir, fmt.Sprintf("%d-changed.eml", i))
				os.WriteFile(good, m.Raw, 0o600)
				os.WriteFile(bad, bytes.Replace(m.Raw, []byte("\r\n\r\n"), []byte("\r\n\r\nX"), 1), 0o600)
				files = append(files, good, bad)
			}
			results := runOpenDKIM(t, bin, d, files)
			for _, f := range files {
				r, ok := results[f]
				switch {
				case !ok:
					t.Errorf("%s: opendkim-testmsg did not run", filepath.Base(f))
				case strings.HasSuffix(f, "as-received.eml") && r != "":
					t.Errorf("%s: opendkim-testmsg refused it: %s", filepath.Base(f), r)
				case strings.HasSuffix(f, "changed.eml") && r == "":
					t.Errorf("%s: opendkim-testmsg accepted a changed message", filepath.Base(f))
				}
			}
			// And it checks against the published key: with another key's
			// record in DNS, nothing passes.
			other := *d
			if _, isRSA := k.key.(*rsa.PrivateKey); isRSA {
				other.Key, _ = rsa.GenerateKey(rand.Reader, 2048)
			} else {
				_, other.Key, _ = ed25519.GenerateKey(rand.Reader)
			}
			for f, r := range runOpenDKIM(t, bin, &other, files) {
				if r == "" {
					t.Errorf("%s: passed with another key published", filepath.Base(f))
				}
			}
		})
	}
}

// runOpenDKIM runs the helper over files and returns, per file, "" when the
// verifier passed it, else what it said.
func runOpenDKIM(t *testing.T, bin string, d *DKIM, files []string) map[string]string {
	t.Helper()
	name, value, err := d.DNSRecord()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), opendkimHelperEnv+"=1", "DKIM_BIN="+bin, "DKIM_NAME="+name, "DKIM_VALUE="+value,
		"DKIM_FILES="+strings.Join(files, "\n"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWNET}
	if os.Getuid() != 0 {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		testenv.Require(t, testenv.NameOpenDKIM, fmt.Sprintf("cannot run the verifier in namespaces of its own (%v): it needs a DNS of its own", err))
	}
	if err != nil {
		t.Fatalf("opendkim helper: %v\n%s", err, out)
	}
	results := map[string]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		if file, said, ok := strings.Cut(strings.TrimPrefix(line, "RESULT "), "\t"); ok && strings.HasPrefix(line, "RESULT ") {
			results[file] = said
		}
	}
	if len(results) != len(files) {
		t.Fatalf("the verifier ran on %d of %d messages:\n%s", len(results), len(files), out)
	}
	return results
}

// opendkimHelper is the helper's whole run, inside its namespaces.
func opendkimHelper() error {
	// Nothing mounted here may reach the host's mount namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	resolv := filepath.Join(os.TempDir(), fmt.Sprintf("casegate-resolv-%d.conf", os.Getpid()))
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(resolv)
	if err := unix.Mount(resolv, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind resolv.conf: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return err
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		return err
	}
	defer conn.Close()
	go serveTXT(conn, os.Getenv("DKIM_NAME"), os.Getenv("DKIM_VALUE"))
	for file := range strings.SplitSeq(os.Getenv("DKIM_FILES"), "\n") {
		in, err := os.Open(file)
		if err != nil {
			return err
		}
		cmd := exec.Command(os.Getenv("DKIM_BIN"))
		cmd.Stdin = in
		out, err := cmd.CombinedOutput()
		in.Close()
		said := strings.Join(strings.Fields(string(out)), " ")
		if err != nil && said == "" {
			said = err.Error()
		}
		if err == nil && said != "" {
			said = "exit 0 but said: " + said
		}
		fmt.Printf("RESULT %s\t%s\n", file, said)
	}
	return nil
}

// loopbackUp brings up lo, which a new network namespace has down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

// serveTXT answers DNS queries for name's TXT record with value, in strings
// of at most 255 bytes, and every other query with NXDOMAIN.
func serveTXT(conn net.PacketConn, name, value string) {
	var parts []string
	for len(value) > 255 {
		parts, value = append(parts, value[:255]), value[255:]
	}
	parts = append(parts, value)
	buf := make([]byte, 1500)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		resp := dnsmessage.Message{
			Header:    dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true},
			Questions: []dnsmessage.Question{q},
		}
		if q.Type == dnsmessage.TypeTXT && strings.EqualFold(strings.TrimSuffix(q.Name.String(), "."), name) {
			resp.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 60},
				Body:   &dnsmessage.TXTResource{TXT: parts},
			}}
		} else {
			resp.RCode = dnsmessage.RCodeNameError
		}
		if out, err := resp.Pack(); err == nil {
			conn.WriteTo(out, addr)
		}
	}
}
