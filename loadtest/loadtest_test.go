package loadtest

import (
	"net/smtp"
	"os"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarize(ds)
	if s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("summary %+v, want 50/95/99/100", s)
	}
	if (summarize(nil) != Summary{}) {
		t.Fatal("an empty summary is not zero")
	}
}

func TestProcessCPUAndRSS(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for x, deadline := 0, time.Now().Add(50*time.Millisecond); time.Now().Before(deadline); x++ {
		_ = x * x
	}
	after, _ := processCPU(os.Getpid())
	if after < before {
		t.Fatalf("CPU went backwards: %v then %v", before, after)
	}
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("peak RSS %d, %v", rss, err)
	}
	if _, err := processCPU(0); err == nil {
		t.Fatal("pid 0 gave a CPU time")
	}
}

func TestSinkHandsTheCodeToItsWaiter(t *testing.T) {
	s, err := StartSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := s.expect("Ana@Example.com")
	msg := "Subject: Your code\r\nMIME-Version: 1.0\r\n\r\nYour access code is:\r\n\r\n    K7M2Q-9XH4R\r\n"
	if err := smtp.SendMail(s.ln.Addr().String(), nil, "from@example.com", []string{"ana@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-ch:
		if a.code != "K7M2Q-9XH4R" {
			t.Fatalf("code %q", a.code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no code arrived")
	}
}
