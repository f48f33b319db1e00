package testenv

import (
	"fmt"
	"os/exec"
	"testing"
)

// NameKannel is Kannel in CASEGATE_TEST_REQUIRE.
const NameKannel = "kannel"

// KannelBinaries are the programs of an SMS gateway test: Kannel's bearerbox
// and smsbox (Debian's kannel package) and its fake SMSC, fakesmsc
// (kannel-extras).
type KannelBinaries struct {
	Bearerbox string
	Smsbox    string
	Fakesmsc  string
}

// Where Debian's packages put them.
const (
	BearerboxPath = "/usr/sbin/bearerbox"
	SmsboxPath    = "/usr/sbin/smsbox"
	FakesmscPath  = "/usr/lib/kannel/test/fakesmsc"
)

// Kannel returns the paths of bearerbox, smsbox and fakesmsc: Debian's
// locations, else the names on PATH. Without them, it ends t through Require.
func Kannel(t testing.TB) KannelBinaries {
	t.Helper()
	bins, err := findKannel()
	if err != nil {
		Require(t, NameKannel, err.Error())
	}
	return bins
}

func findKannel() (KannelBinaries, error) {
	var bins KannelBinaries
	for _, b := range []struct {
		dst        *string
		path, name string
		pkg        string
	}{
		{&bins.Bearerbox, BearerboxPath, "bearerbox", "kannel"},
		{&bins.Smsbox, SmsboxPath, "smsbox", "kannel"},
		{&bins.Fakesmsc, FakesmscPath, "fakesmsc", "kannel-extras"},
	} {
		if isExecutable(b.path) {
			*b.dst = b.path
			continue
		}
		p, err := exec.LookPath(b.name)
		if err != nil {
			return KannelBinaries{}, fmt.Errorf("Kannel's %s not found at %s or on PATH; install the %s package (apt-get install kannel kannel-extras) or run .ci/run", b.name, b.path, b.pkg)
		}
		*b.dst = p
	}
	return bins, nil
}
