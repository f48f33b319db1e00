package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// This file holds how Go values are stored in columns and read back; it is the
// same for every dialect.

// micros is the stored form of t: unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeScanner reads a column written by micros into a UTC time.
type timeScanner struct{ t *time.Time }

// scanTime returns a sql.Scanner that stores a micros column into *t.
func scanTime(t *time.Time) timeScanner { return timeScanner{t} }

func (s timeScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.t = time.Time{}
	case int64:
		*s.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("store: time column holds %T", v)
	}
	return nil
}

// dateLayout is how dates (a case's received date) are stored.
const dateLayout = "2006-01-02"

// date is the stored form of a date: YYYY-MM-DD as written in d's own location, or NULL.
func date(d time.Time) any {
	if d.IsZero() {
		return nil
	}
	return d.Format(dateLayout)
}

// dateScanner reads a column written by date into a time at 00:00 UTC.
type dateScanner struct{ t *time.Time }

func scanDate(t *time.Time) dateScanner { return dateScanner{t} }

func (s dateScanner) Scan(v any) error {
	var text string
	switch v := v.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("store: date column holds %T", v)
	}
	t, err := time.Parse(dateLayout, text)
	if err != nil {
		return fmt.Errorf("store: date column: %w", err)
	}
	*s.t = t
	return nil
}

// nullString stores "" as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullInt stores 0 as NULL; used for optional references such as a decoy's party.
func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// nullableString reads NULL as "".
type nullableString struct{ s *string }

func scanString(s *string) nullableString { return nullableString{s} }

func (n nullableString) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n.s = ""
	case string:
		*n.s = v
	case []byte:
		*n.s = string(v)
	default:
		return fmt.Errorf("store: text column holds %T", v)
	}
	return nil
}

// nullableInt reads NULL as 0.
type nullableInt struct{ n *int64 }

func scanInt(n *int64) nullableInt { return nullableInt{n} }

func (n nullableInt) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n.n = 0
	case int64:
		*n.n = v
	default:
		return fmt.Errorf("store: integer column holds %T", v)
	}
	return nil
}

// jsonObject stores a string map as JSON text, NULL when empty.
func jsonObject(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// jsonScanner reads a column written by jsonObject; NULL or {} gives nil.
type jsonScanner struct{ m *map[string]string }

func scanJSON(m *map[string]string) jsonScanner { return jsonScanner{m} }

func (s jsonScanner) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case nil:
		*s.m = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("store: JSON column holds %T", v)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("store: JSON column: %w", err)
	}
	if len(m) == 0 {
		m = nil
	}
	*s.m = m
	return nil
}
