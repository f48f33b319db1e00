package identity

import (
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is the region whose national numbers Phone reads until
// SetPhoneRegion names another.
const DefaultPhoneRegion = "US"

// ErrPhoneRegion says a region code is not one the numbering plans know.
var ErrPhoneRegion = &FormatError{Key: "identity.phone_region"}

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

// PhoneWithKind is Phone that also says what kind of line the number is,
// reading it only once.
func PhoneWithKind(s string) (string, PhoneKind, error) {
	out, n, err := phoneIn(s, PhoneRegion())
	if err != nil {
		return "", "", err
	}
	return out, kindOf(n), nil
}

// PhoneIn is Phone reading national numbers in region; with region "" only
// numbers written with a plus sign and a country code are accepted.
func PhoneIn(s, region string) (string, error) {
	out, _, err := phoneIn(s, region)
	return out, err
}

// phoneIn is PhoneIn, with the number as libphonenumber read it.
func phoneIn(s, region string) (string, *phonenumbers.PhoneNumber, error) {
	if len(s) > maxInput {
		return "", nil, ErrPhone
	}
	var b strings.Builder
	b.Grow(16)
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && b.Len() == 0, r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r), isDash(r), r == '.', r == '(', r == ')':
		default:
			return "", nil, ErrPhone
		}
	}
	digits := b.String()
	if len(strings.TrimPrefix(digits, "+")) < 3 {
		return "", nil, ErrPhone
	}
	if region != "" {
		var err error
		if region, err = PhoneRegionCode(region); err != nil {
			return "", nil, ErrPhone
		}
	} else if digits[0] != '+' {
		return "", nil, ErrPhone
	}
	n, err := phonenumbers.Parse(digits, region)
	if err != nil || n.GetExtension() != "" {
		return "", nil, ErrPhone
	}
	if phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE ||
		phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())) == phonenumbers.UNKNOWN_REGION {
		return "", nil, ErrPhone
	}
	out := phonenumbers.Format(n, phonenumbers.E164)
	if len(out) < 8 || len(out) > 16 || out[0] != '+' || out[1] == '0' || !allIn(out[1:], '0', '9') {
		return "", nil, ErrPhone
	}
	// Some inputs lose a trunk-prefix zero only on a second reading
	// ("+358 0…"); the stored form must read back as itself. An input that
	// already was that form was just read: reading it again would give the
	// same, at the cost of the first reading (a third of an import's CPU
	// was phone numbers).
	if out == digits {
		return out, n, nil
	}
	again, err := phonenumbers.Parse(out, "")
	if err != nil || phonenumbers.Format(again, phonenumbers.E164) != out {
		return "", nil, ErrPhone
	}
	return out, again, nil
}

// PhoneLine says where an E.164 number leads.
type PhoneLine struct {
	// Region is the ISO 3166-1 alpha-2 code of the number's country. Where
	// a calling code serves several countries (+1: the US, Canada, much of
	// the Caribbean) and the number lies in no range the library knows, it
	// is the calling code's main country. Non-geographic numbers (+800,
	// +882, …) have "001".
	Region      string
	CallingCode int       // the country calling code: 1, 52, 44
	National    string    // the national significant number: the digits after the calling code
	Kind        PhoneKind // what kind of line it is
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
	return PhoneLine{Region: region, CallingCode: cc, National: phonenumbers.GetNationalSignificantNumber(n), Kind: kindOf(n)}, nil
}

// PhoneKind is what kind of line a number is, as the numbering plans in
// libphonenumber's tables tell it. It is a fact about the number's range,
// not about its subscriber: a number moved to another network keeps the
// kind of the range it was taken from.
type PhoneKind string

// The kinds of line. Where a plan does not tell mobile numbers from fixed
// lines (North America), a number in an assigned range is
// PhoneFixedLineOrMobile.
const (
	PhoneMobile            PhoneKind = "mobile"
	PhoneFixedLineOrMobile PhoneKind = "fixed_line_or_mobile"
	PhoneFixedLine         PhoneKind = "fixed_line"
	PhoneVoIP              PhoneKind = "voip"
	PhoneTollFree          PhoneKind = "toll_free"
	PhonePremiumRate       PhoneKind = "premium_rate"
	PhoneSharedCost        PhoneKind = "shared_cost"
	PhoneUAN               PhoneKind = "uan"       // a universal access number: one number for a company's lines
	PhoneVoicemail         PhoneKind = "voicemail" // a number that reaches a voicemail box directly
	PhonePersonal          PhoneKind = "personal"  // a number that forwards to others
	PhonePager             PhoneKind = "pager"
	PhoneUnknown           PhoneKind = "unknown" // in no range the tables know
)

// PhoneKindOf tells the kind of the E.164 number e164 (as Phone returns
// it): PhoneUnknown for a number it cannot read.
func PhoneKindOf(e164 string) PhoneKind {
	if len(e164) < 4 || len(e164) > 16 || e164[0] != '+' || !allIn(e164[1:], '0', '9') {
		return PhoneUnknown
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return PhoneUnknown
	}
	return kindOf(n)
}

var phoneKinds = map[phonenumbers.PhoneNumberType]PhoneKind{
	phonenumbers.MOBILE:               PhoneMobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: PhoneFixedLineOrMobile,
	phonenumbers.FIXED_LINE:           PhoneFixedLine,
	phonenumbers.VOIP:                 PhoneVoIP,
	phonenumbers.TOLL_FREE:            PhoneTollFree,
	phonenumbers.PREMIUM_RATE:         PhonePremiumRate,
	phonenumbers.SHARED_COST:          PhoneSharedCost,
	phonenumbers.UAN:                  PhoneUAN,
	phonenumbers.VOICEMAIL:            PhoneVoicemail,
	phonenumbers.PERSONAL_NUMBER:      PhonePersonal,
	phonenumbers.PAGER:                PhonePager,
}

func kindOf(n *phonenumbers.PhoneNumber) PhoneKind {
	if k, ok := phoneKinds[phonenumbers.GetNumberType(n)]; ok {
		return k
	}
	return PhoneUnknown
}
