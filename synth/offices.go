package synth

import "strconv"

// ImportOffice is one line of the office catalog import (docs/import.md).
type ImportOffice struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
	URL     string `json:"url,omitempty"`
}

// officeNames names every office the generator files cases at. The names
// follow the agency's; the addresses, numbers and web pages are fictional.
var officeNames = []struct{ code, name, city string }{
	{"CSC", "California Service Center", "Laguna Niguel, CA 92677"},
	{"MSC", "Missouri Service Center", "Lee's Summit, MO 64002"},
	{"NBC", "National Benefits Center", "Overland Park, KS 66210"},
	{"NSC", "Nebraska Service Center", "Lincoln, NE 68501"},
	{"POTOMAC", "Potomac Service Center", "Arlington, VA 22202"},
	{"TSC", "Texas Service Center", "Mesquite, TX 75185"},
	{"VSC", "Vermont Service Center", "St. Albans, VT 05479"},
	{"Atlanta", "Atlanta Field Office", "Atlanta, GA 30303"},
	{"Chicago", "Chicago Field Office", "Chicago, IL 60605"},
	{"Houston", "Houston Field Office", "Houston, TX 77002"},
	{"Los Angeles", "Los Angeles Field Office", "Los Angeles, CA 90012"},
	{"Miami", "Miami Field Office", "Miami, FL 33130"},
	{"New York City", "New York City Field Office", "New York, NY 10007"},
	{"Newark", "Newark Field Office", "Newark, NJ 07102"},
	{"San Francisco", "San Francisco Field Office", "San Francisco, CA 94102"},
}

// Offices returns the office catalog of every office the generator's cases
// name: a name, a fictional street address, a phone number in the 555-01xx
// range and a web page at example.org.
func Offices() []ImportOffice {
	out := make([]ImportOffice, 0, len(officeNames))
	for i, o := range officeNames {
		slug := make([]byte, 0, len(o.code))
		for _, c := range []byte(o.code) {
			switch {
			case c >= 'A' && c <= 'Z':
				slug = append(slug, c+'a'-'A')
			case c == ' ':
				slug = append(slug, '-')
			default:
				slug = append(slug, c)
			}
		}
		out = append(out, ImportOffice{
			Code: o.code, Name: o.name,
			Address: strconv.Itoa(100+i*10) + " Example Avenue, " + o.city,
			Phone:   "+1 800 555 01" + string(appendDigits(nil, uint64(i), 2)),
			URL:     "https://offices.example.org/" + string(slug),
		})
	}
	return out
}
