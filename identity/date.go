package identity

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The years a date may fall in. Nobody alive was born earlier, and a later
// date is a typing mistake.
const (
	minYear = 1880
	maxYear = 2200
)

// Date returns the canonical form YYYY-MM-DD of a date typed as YYYY-MM-DD or
// MM/DD/YYYY (month and day may have one digit: 4/2/1990). Dates that do not
// exist (February 30, month 13, February 29 outside a leap year) and years
// before 1880 or after 2200 are refused.
func Date(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxInput {
		return "", ErrDate
	}
	var ys, ms, ds string
	if parts := strings.Split(s, "-"); len(parts) == 3 {
		ys, ms, ds = parts[0], parts[1], parts[2]
	} else if parts := strings.Split(s, "/"); len(parts) == 3 {
		ms, ds, ys = parts[0], parts[1], parts[2]
	} else {
		return "", ErrDate
	}
	y, okY := number(ys, 4, 4)
	m, okM := number(ms, 1, 2)
	d, okD := number(ds, 1, 2)
	if !okY || !okM || !okD || y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return "", ErrDate
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), nil
}

// number parses s as a run of minLen to maxLen ASCII digits.
func number(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen || !allIn(s, '0', '9') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// daysIn returns the number of days in month m of year y.
func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
