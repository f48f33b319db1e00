package casegate

import "github.com/casegate/casegate/catalog"

// StatusInfo describes a status code of the built-in list. Its name and
// description in each language are catalog messages, status.<code>.title
// and status.<code>.description (to the applicant) and
// status.<code>.description_watcher (to anyone else linked to the case).
type StatusInfo struct {
	Code     string
	Terminal bool // the case is finished: processing times count to the first terminal event
}

// Title names the status in lang.
func (s StatusInfo) Title(lang string) string {
	return catalog.Default().Text(lang, "status."+s.Code+".title", nil)
}

// Description says in lang what the status means for the applicant, in plain
// words: "We approved your case and mailed you…".
func (s StatusInfo) Description(lang string) string {
	return catalog.Default().Text(lang, "status."+s.Code+".description", nil)
}

// DescriptionFor says what the status means to a party with role: the
// applicant is told about their case; anyone else linked to it (a
// representative, a petitioner, a beneficiary) about the case, in words
// that do not take them for the applicant (status.<code>.description_watcher).
func (s StatusInfo) DescriptionFor(lang string, role Role) string {
	if role == RoleApplicant {
		return s.Description(lang)
	}
	return catalog.Default().Text(lang, "status."+s.Code+".description_watcher", nil)
}

// statusCatalog is the built-in list. Imports and events may use these
// codes or a custom code with its own title.
var statusCatalog = []StatusInfo{
	{"received", false},
	{"fee_received", false},
	{"biometrics_scheduled", false},
	{"biometrics_completed", false},
	{"interview_scheduled", false},
	{"evidence_requested", false},
	{"response_received", false},
	{"approved", true},
	{"card_produced", true},
	{"card_mailed", true},
	{"denied", true},
	{"withdrawn", true},
	{"transferred", false},
}

var statusByCode = func() map[string]StatusInfo {
	m := make(map[string]StatusInfo, len(statusCatalog))
	for _, s := range statusCatalog {
		m[s.Code] = s
	}
	return m
}()

// Status returns the catalog entry for code.
func Status(code string) (StatusInfo, bool) {
	s, ok := statusByCode[code]
	return s, ok
}

// Statuses returns the whole catalog, in the order a case usually goes.
func Statuses() []StatusInfo { return append([]StatusInfo(nil), statusCatalog...) }

// TerminalStatuses returns the codes that end a case.
func TerminalStatuses() []string {
	var out []string
	for _, s := range statusCatalog {
		if s.Terminal {
			out = append(out, s.Code)
		}
	}
	return out
}

// StatusTitle is how an event is named to a person in lang: the catalog title,
// else the event's custom title, else its code.
func StatusTitle(code, customTitle, lang string) string {
	if s, ok := statusByCode[code]; ok {
		return s.Title(lang)
	}
	if customTitle != "" {
		return customTitle
	}
	return code
}
