package identity

import (
	"errors"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is the region whose national numbers Phone reads until
// SetPhoneRegion names another.
const DefaultPhoneRegion = "US"

// ErrPhoneRegion says a region code is not one the numbering plans know.
var ErrPhoneRegion = errors.New("Enter a country as its ISO 3166-1 two-letter code, like US or MX.")

// phoneRegion is the deployment's region, set once at start. It is the only
// state of the package that is not a read-only table.
var phoneRegion atomic.Pointer[string]

// SetPhoneRegion sets the region (ISO 3166-1 alpha-2, "US", "MX") in which
// Phone reads numbers written without a country code, for the whole process.
// Call it once at start, before any number is read.
func SetPhoneRegion(region string) error {
	r, err := PhoneRegionCode(region)
	if err != nil {
		return err
	}
	phoneRegion.Store(&r)
	return nil
}

// PhoneRegion returns the region Phone reads national numbers in.
func PhoneRegion() string {
	if r := phoneRegion.Load(); r != nil {
		return *r
	}
	return DefaultPhoneRegion
}

// PhoneRegionCode returns the canonical (upper-case) form of a region code
// that has a country calling code, or ErrPhoneRegion.
func PhoneRegionCode(s string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(s))
	if len(r) != 2 || !phonenumbers.GetSupportedRegions()[r] {
		return "", ErrPhoneRegion
	}
	return r, nil
}

// Phone returns the E.164 form of the phone number in s ("+15555550123"). A
// number written with a plus sign and its country code is read as such; one
// without is read as a national number of PhoneRegion ("(201) 555-0123" in
// the US). Spaces, dashes, dots and parentheses are ignored; letters,
// extensions and anything else are refused.
//
// The number must have a length its country's numbering plan allows
// (libphonenumber's "possible" test), not lie in a range known to be
// assigned ("valid"): plans gain new ranges faster than the library learns
// them, and a real person's number refused here could never get a text.
// Numbers that do not exist are refused by the SMS provider instead.
func Phone(s string) (string, error) { return PhoneIn(s, PhoneRegion()) }

// PhoneIn is Phone reading national numbers in region; with region "" only
// numbers written with a plus sign and a country code are accepted.
func PhoneIn(s, region string) (string, error) {
	if len(s) > maxInput {
		return "", ErrPhone
	}
	var b strings.Builder
	b.Grow(16)
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && b.Len() == 0, r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r), isDash(r), r == '.', r == '(', r == ')':
		default:
			return "", ErrPhone
		}
	}
	digits := b.String()
	if len(strings.TrimPrefix(digits, "+")) < 3 {
		return "", ErrPhone
	}
	if region != "" {
		var err error
		if region, err = PhoneRegionCode(region); err != nil {
			return "", ErrPhone
		}
	} else if digits[0] != '+' {
		return "", ErrPhone
	}
	n, err := phonenumbers.Parse(digits, region)
	if err != nil || n.GetExtension() != "" {
		return "", ErrPhone
	}
	if phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE ||
		phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())) == phonenumbers.UNKNOWN_REGION {
		return "", ErrPhone
	}
	out := phonenumbers.Format(n, phonenumbers.E164)
	if len(out) < 8 || len(out) > 16 || out[0] != '+' || out[1] == '0' || !allIn(out[1:], '0', '9') {
		return "", ErrPhone
	}
	// Some inputs lose a trunk-prefix zero only on a second reading
	// ("+358 0…"); the stored form must read back as itself. An input that
	// already was that form was just read: reading it again would give the
	// same, at the cost of the first reading (a third of an import's CPU
	// was phone numbers).
	if out == digits {
		return out, nil
	}
	if again, err := phonenumbers.Parse(out, ""); err != nil || phonenumbers.Format(again, phonenumbers.E164) != out {
		return "", ErrPhone
	}
	return out, nil
}

// PhoneLine says where an E.164 number leads.
type PhoneLine struct {
	// Region is the ISO 3166-1 alpha-2 code of the number's country. Where
	// a calling code serves several countries (+1: the US, Canada, much of
	// the Caribbean) and the number lies in no range the library knows, it
	// is the calling code's main country. Non-geographic numbers (+800,
	// +882, …) have "001".
	Region      string
	CallingCode int    // the country calling code: 1, 52, 44
	National    string // the national significant number: the digits after the calling code
}

// PhoneParts tells where the E.164 number e164 (as Phone returns it) leads.
func PhoneParts(e164 string) (PhoneLine, error) {
	if len(e164) < 4 || len(e164) > 16 || e164[0] != '+' || !allIn(e164[1:], '0', '9') {
		return PhoneLine{}, ErrPhone
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil || phonenumbers.Format(n, phonenumbers.E164) != e164 {
		return PhoneLine{}, ErrPhone
	}
	cc := int(n.GetCountryCode())
	region := phonenumbers.GetRegionCodeForNumber(n)
	if region == "" || region == phonenumbers.UNKNOWN_REGION {
		region = phonenumbers.GetRegionCodeForCountryCode(cc)
	}
	if region == phonenumbers.UNKNOWN_REGION {
		return PhoneLine{}, ErrPhone
	}
	return PhoneLine{Region: region, CallingCode: cc, National: phonenumbers.GetNationalSignificantNumber(n)}, nil
}
