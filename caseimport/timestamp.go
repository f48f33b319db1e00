package caseimport

import (
	"errors"
	"regexp"
	"time"
)

// rfc3339 is RFC 3339's date-time, section 5.6, exactly: two digits for
// every field of the time (time.Parse also takes "T9:00:00Z"), a fraction
// of at most nine digits, and Z or a numeric offset. T and Z are upper
// case, as every RFC 3339 writer makes them (the RFC allows lower case,
// which time.Parse has never read).
var rfc3339 = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// ErrTimestamp is the error of ParseTimestamp.
var ErrTimestamp = errors.New("not a time in RFC 3339 form, like 2025-03-14T10:00:00Z")

// ParseTimestamp reads an RFC 3339 date-time as the contract (and the
// OpenAPI format date-time) defines it, and nothing looser, for every time
// that comes from outside: imports and the operator API alike.
func ParseTimestamp(s string) (time.Time, error) {
	if !rfc3339.MatchString(s) {
		return time.Time{}, ErrTimestamp
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, ErrTimestamp
	}
	return t, nil
}
