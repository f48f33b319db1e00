package main

import (
	"runtime/debug"
	"testing"
)

func TestCollectLessOftenYieldsToTheOperator(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	for _, c := range []struct {
		name string
		vars map[string]string
		want int // GC percent while in force
	}{
		{"unset", map[string]string{}, 300},
		{"GOGC set", map[string]string{"GOGC": "50"}, 100},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			restore := collectLessOften(env{getenv: testEnv(c.vars)}, 300, 0)
			got := debug.SetGCPercent(-1) // read it (and put it back below)
			debug.SetGCPercent(got)
			restore()
			if got != c.want {
				t.Errorf("GC percent %d while in force, want %d", got, c.want)
			}
			if after := debug.SetGCPercent(100); after != 100 {
				t.Errorf("GC percent %d after restore, want 100", after)
			}
		})
	}
	limit := debug.SetMemoryLimit(-1)
	restore := collectLessOften(env{getenv: testEnv(map[string]string{})}, 300, 64<<20)
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("memory limit %d while in force, want 64 MiB", got)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit %d after restore, want %d", got, limit)
	}
}
