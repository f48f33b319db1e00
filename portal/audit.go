package portal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/casegate/casegate"
)

// AuditReport is what a verification of the audit chain found.
type AuditReport struct {
	Events int                       // events that held, in order, before any break
	Last   int64                     // the sequence number of the last event that held
	Anchor *casegate.AuditCheckpoint // where the chain starts after a purge; nil before any
	Broken int64                     // the first event that does not hold; 0 when all do
	Why    string                    // why it does not
	// Checkpoints are the outcomes of the checkpoints given, in their order.
	Checkpoints []CheckpointCheck
}

// CheckpointCheck is how one checkpoint compared with the chain.
type CheckpointCheck struct {
	Checkpoint casegate.AuditCheckpoint
	OK         bool
	Why        string // when not OK, or when it could not be compared (before a purge's cut)
}

// Intact reports whether the chain and every checkpoint held.
func (r AuditReport) Intact() bool {
	if r.Broken != 0 {
		return false
	}
	for _, c := range r.Checkpoints {
		if !c.OK {
			return false
		}
	}
	return true
}

// VerifyAudit recomputes the whole chain with the instance's audit keys, from
// the genesis or from the anchor the last purge left, and compares it with
// checkpoints kept elsewhere: each must be signed by an audit key of this
// instance and name an event that is stored with the hash it names. So a
// rewrite needs the key, and a cut of the log's end shows against any
// checkpoint taken after the cut point.
func (p *Portal) VerifyAudit(ctx context.Context, checkpoints []casegate.AuditCheckpoint) (AuditReport, error) {
	var r AuditReport
	walk := casegate.ChainWalk{Keys: p.keys, Prev: casegate.GenesisHash}
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		a, err := tx.AuditAnchor(ctx)
		switch {
		case err == nil:
			r.Anchor = &a
			if !casegate.ValidCheckpoint(p.keys, a) {
				r.Broken, r.Why = a.Seq+1, fmt.Sprintf("the anchor left by a purge at event %d is not signed by this instance's audit key", a.Seq)
				return nil
			}
			walk.Prev, walk.Seq = a.Hash, a.Seq
		case !casegate.IsNotFound(err):
			return err
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("portal: verify audit: %w", err)
	}
	want := map[int64][]int{} // checkpoints by the seq they name
	r.Checkpoints = make([]CheckpointCheck, len(checkpoints))
	for i, c := range checkpoints {
		r.Checkpoints[i].Checkpoint = c
		switch {
		case !casegate.ValidCheckpoint(p.keys, c):
			r.Checkpoints[i].Why = "its signature does not verify with this instance's audit keys"
		case r.Anchor != nil && c.Seq < r.Anchor.Seq:
			r.Checkpoints[i].OK = true
			r.Checkpoints[i].Why = fmt.Sprintf("event %d was purged (the retained log starts after event %d): not compared", c.Seq, r.Anchor.Seq)
		case r.Anchor != nil && c.Seq == r.Anchor.Seq:
			r.Checkpoints[i].OK = c.Hash == r.Anchor.Hash
			if !r.Checkpoints[i].OK {
				r.Checkpoints[i].Why = fmt.Sprintf("event %d had another hash: the log before the purge was rewritten", c.Seq)
			}
		default:
			want[c.Seq] = append(want[c.Seq], i)
		}
	}
	for r.Broken == 0 {
		es, err := p.AuditEvents(ctx, walk.Seq, 1000)
		if err != nil {
			return r, fmt.Errorf("portal: verify audit: %w", err)
		}
		if len(es) == 0 {
			break
		}
		r.Broken, r.Why = walk.Next(es)
		for _, e := range es {
			if r.Broken != 0 && e.Seq >= r.Broken {
				break
			}
			for _, i := range want[e.Seq] {
				c := &r.Checkpoints[i]
				c.OK = c.Checkpoint.Hash == e.Hash
				if !c.OK {
					c.Why = fmt.Sprintf("event %d has another hash than when the checkpoint was taken: it was rewritten", e.Seq)
				}
			}
			delete(want, e.Seq)
		}
	}
	r.Events, r.Last = walk.Count, walk.Seq
	for seq, is := range want {
		for _, i := range is {
			c := &r.Checkpoints[i]
			if r.Broken != 0 && seq >= r.Broken {
				c.Why = fmt.Sprintf("event %d lies beyond the break at event %d", seq, r.Broken)
				continue
			}
			c.Why = fmt.Sprintf("event %d is missing: the log ends at event %d, so events were cut off its end", seq, r.Last)
		}
	}
	return r, nil
}

// AuditCheckpoint returns a signed checkpoint of the chain's head, for
// operators to keep away from the database.
func (p *Portal) AuditCheckpoint(ctx context.Context) (casegate.AuditCheckpoint, error) {
	var head casegate.AuditEvent
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		head, err = tx.AuditHead(ctx)
		if casegate.IsNotFound(err) {
			// Empty: the genesis, or the anchor when a purge took everything.
			head = casegate.AuditEvent{Hash: casegate.GenesisHash}
			if a, aerr := tx.AuditAnchor(ctx); aerr == nil {
				head.Seq, head.Hash = a.Seq, a.Hash
			} else if !casegate.IsNotFound(aerr) {
				return aerr
			}
			return nil
		}
		return err
	})
	if err != nil {
		return casegate.AuditCheckpoint{}, fmt.Errorf("portal: audit checkpoint: %w", err)
	}
	return casegate.SignCheckpoint(p.keys, casegate.AuditCheckpoint{Seq: head.Seq, Hash: head.Hash, At: p.clock()}), nil
}

// maxCheckpointLine bounds one line of a checkpoint file.
const maxCheckpointLine = 64 << 10

// ParseCheckpoints reads checkpoints, one JSON object a line, as `casegate
// audit checkpoint` prints them; a line of serve's JSON log that carries a
// checkpoint (its "checkpoint" member) is read as that checkpoint, so a
// copy of the log can be checked as it is. Other log lines, blank lines and
// lines starting with '#' are skipped. An error names the line.
func ParseCheckpoints(data []byte) ([]casegate.AuditCheckpoint, error) {
	var cps []casegate.AuditCheckpoint
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCheckpointLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var probe struct {
			Checkpoint *json.RawMessage `json:"checkpoint"`
			Msg        *string          `json:"msg"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return nil, fmt.Errorf("line %d: not a JSON object: %s", n, jsonProblem(err))
		}
		raw := json.RawMessage(line)
		switch {
		case probe.Checkpoint != nil:
			raw = *probe.Checkpoint
		case probe.Msg != nil:
			continue // another line of the log
		}
		c, err := parseCheckpoint(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		cps = append(cps, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line is longer than %d bytes: not a checkpoint file", maxCheckpointLine)
		}
		return nil, err
	}
	if len(cps) == 0 {
		return nil, errors.New("no checkpoint in it")
	}
	return cps, nil
}

// parseCheckpoint reads one checkpoint object, every member required.
func parseCheckpoint(raw []byte) (casegate.AuditCheckpoint, error) {
	var c struct {
		Seq   *int64  `json:"seq"`
		Hash  *string `json:"hash"`
		At    *string `json:"at"`
		KeyID *string `json:"key_id"`
		MAC   *string `json:"mac"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return casegate.AuditCheckpoint{}, fmt.Errorf("not a checkpoint: %s", jsonProblem(err))
	}
	var missing []string
	for name, v := range map[string]bool{"seq": c.Seq == nil, "hash": c.Hash == nil, "at": c.At == nil, "key_id": c.KeyID == nil, "mac": c.MAC == nil} {
		if v {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return casegate.AuditCheckpoint{}, fmt.Errorf("not a checkpoint: no %s", strings.Join(missing, ", "))
	}
	var cp casegate.AuditCheckpoint
	if err := cp.At.UnmarshalText([]byte(*c.At)); err != nil {
		return casegate.AuditCheckpoint{}, fmt.Errorf("not a checkpoint: at is not an RFC 3339 time")
	}
	if *c.Seq < 0 {
		return casegate.AuditCheckpoint{}, errors.New("not a checkpoint: seq is negative")
	}
	cp.Seq, cp.Hash, cp.KeyID, cp.MAC = *c.Seq, *c.Hash, *c.KeyID, *c.MAC
	return cp, nil
}

// jsonProblem says what is wrong with a line of JSON in the terms of the
// line, not of the Go types it is read into: "seq must be a number", not
// "cannot unmarshal string into Go struct field .seq of type int64".
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		want := "a string"
		switch typ.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "a list"
		case reflect.Bool:
			want = "true or false"
		}
		if typ.Field == "" {
			return "want " + want + ", not " + typ.Value
		}
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, want, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends early"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + name
	}
	return "not valid JSON"
}
