package loadtest

import (
	"math"
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

func TestMannWhitneyZ(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name string
		a, b []time.Duration
		want float64
	}{
		// U = 0 of 9; mean 4.5, sd sqrt(3·3·7/12) = 2.2913: z = −1.9640.
		{"a all smaller", ms(1, 2, 3), ms(4, 5, 6), -1.9640},
		{"a all larger", ms(4, 5, 6), ms(1, 2, 3), 1.9640},
		{"the same", ms(1, 2, 3), ms(1, 2, 3), 0},
		// Ties: ranks 1.5,1.5 | 3.5,3.5; U = 0; tie term 2·(8−2) = 12;
		// sd = sqrt(2·2/12·(5 − 12/12)) = 1.1547: z = −2/1.1547 = −1.7321.
		{"ties", ms(1, 1), ms(2, 2), -1.7321},
	}
	for _, tt := range tests {
		if got := mannWhitneyZ(tt.a, tt.b); math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("%s: z = %.4f, want %.4f", tt.name, got, tt.want)
		}
	}
	c := compare("x", ms(100, 101, 102, 103), ms(100, 101, 102, 103))
	if !c.Pass || c.MedianDiffPct != 0 || c.RealMedianUS != 101500 {
		t.Errorf("compare of equal samples: %+v", c)
	}
	if c := compare("x", ms(110, 111, 112, 113), ms(100, 101, 102, 103)); c.Pass || math.Abs(c.MedianDiffPct-9.85) > 0.01 {
		t.Errorf("compare of samples 10 ms apart: %+v", c)
	}
}
