package synth

import (
	"strings"
	"time"
)

// CompletedStatuses end a case: a case whose history holds one is completed.
var CompletedStatuses = []string{"approved", "denied", "withdrawn"}

// completedShare is the chance that a case old enough to be decided is decided;
// it is a little above the target of 45 % because the newest cases cannot be.
const completedShare = 0.465

// step is a planned event: a status at a fraction of the way from receipt to decision.
type step struct {
	status string
	title  string
	frac   float64
}

// history plans the case's events from receipt to decision (or to a decision
// still in the future) and keeps those that happened before now.
func (g *Generator) history(r *rng, f *form, received time.Time, age int) []ImportEvent {
	completed := age > 33 && r.chance(completedShare)
	var days int // from receipt to the decision
	if completed {
		hi := min(f.maxDays, age-2)
		lo := max(min(f.minDays, hi), 30)
		days = r.between(lo, hi)
	} else {
		days = age + r.between(15, 300)
	}
	outcome := "approved"
	if u := r.float(); u < 0.12 {
		outcome = "denied"
	} else if u < 0.17 {
		outcome = "withdrawn"
	}

	steps := make([]step, 0, 12)
	add := func(status string, lo, hi float64) {
		steps = append(steps, step{status: status, frac: lo + r.float()*(hi-lo)})
	}
	if r.chance(0.85) {
		steps = append(steps, step{status: "fee_received", frac: float64(r.between(0, 2)) / float64(days)})
	}
	if r.chance(0.06) {
		add("transferred", 0.02, 0.05)
	}
	if r.chance(f.biometrics) {
		add("biometrics_scheduled", 0.06, 0.12)
		add("biometrics_completed", 0.15, 0.25)
	}
	rfe := 0.2
	if outcome == "denied" {
		rfe = 0.6
	}
	if r.chance(rfe) {
		add("evidence_requested", 0.35, 0.45)
		if outcome != "denied" || r.chance(0.5) {
			add("response_received", 0.5, 0.6)
		}
	}
	if r.chance(f.interview) {
		add("interview_scheduled", 0.7, 0.85)
	}
	if outcome == "withdrawn" {
		cut := 0.2 + r.float()*0.7
		for k, s := range steps {
			if s.frac > cut {
				steps = steps[:k]
				break
			}
		}
	}

	events := make([]ImportEvent, 0, len(steps)+4)
	var prev time.Time
	at := func(day int) time.Time {
		t := received.AddDate(0, 0, day).Add(time.Duration(r.between(8*60, 18*60)) * time.Minute)
		if !t.After(prev) {
			t = prev.Add(time.Duration(r.between(1, 120)) * time.Minute)
		}
		prev = t
		return t
	}
	emit := func(status, title string, t time.Time) bool {
		if t.After(g.now) {
			return false
		}
		events = append(events, ImportEvent{Status: status, Title: title, At: string(appendTime(nil, t))})
		return true
	}
	emit("received", "", at(0))
	for _, s := range steps {
		if !emit(s.status, s.title, at(int(s.frac*float64(days)))) {
			return events
		}
	}
	if !emit(outcome, "", at(days)) || outcome != "approved" {
		return events
	}
	if f.card {
		if emit("card_produced", "", at(days+r.between(2, 10))) {
			emit("card_mailed", "", at(days+r.between(12, 16)))
		}
	}
	if f.after != "" {
		status, title, _ := strings.Cut(f.after, "|")
		emit(status, title, at(days+r.between(5, 40)))
	}
	return events
}
