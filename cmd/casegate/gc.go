package main

import "runtime/debug"

// serveGCPercent is the garbage collector's setting while serving: the heap
// may grow to three times what is live. A server under load keeps a few tens
// of MiB live and allocates per request; at Go's default of 100 the
// collector took a fifth of its CPU per sign-in cycle (docs/BENCHMARKS.md).
const serveGCPercent = 200

// collectLessOften sets the garbage collector to percent and, when limit is
// positive, a soft limit on memory, unless the operator set GOGC or
// GOMEMLIMIT, whose settings win. It returns what restores the previous ones.
func collectLessOften(e env, percent int, limit int64) (restore func()) {
	if e.getenv("GOGC") != "" || e.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(percent)
	oldLimit := int64(-1)
	if limit > 0 {
		oldLimit = debug.SetMemoryLimit(limit)
	}
	return func() {
		debug.SetGCPercent(oldPercent)
		if oldLimit >= 0 {
			debug.SetMemoryLimit(oldLimit)
		}
	}
}
