package synth

// partyShape says who is named on a form.
type partyShape int

const (
	applicantOnly          partyShape = iota // the person who files for themselves
	petitionerBeneficiary                    // a citizen or resident files for a relative or fiancé(e)
	beneficiaryOnly                          // an employer files; the worker is the person on file
	applicantMaybePetition                   // the applicant, and for family cases sometimes the petitioner
)

// form describes one form type: how often it is filed, where, how long it
// takes and which steps its history goes through.
type form struct {
	code       string
	weight     int
	categories []string
	offices    []string
	online     bool // may be filed online (IOE receipt)
	minDays    int  // fastest completion
	maxDays    int  // slowest completion
	biometrics float64
	interview  float64
	card       bool   // approval is followed by a card being produced and mailed
	after      string // a custom event after approval, "code|Title"
	shape      partyShape
	aNumber    float64 // chance the applicant or beneficiary has an A-Number
}

// fieldOffices interview and naturalise.
var fieldOffices = []string{"Los Angeles", "New York City", "Houston", "Miami", "Chicago", "Newark", "San Francisco", "Atlanta"}

var forms = []*form{
	{
		code: "I-485", weight: 12, online: true, minDays: 180, maxDays: 540,
		categories: []string{"Family-based", "Family-based", "Employment-based", "Asylum-based", "Refugee-based", "Diversity visa"},
		offices:    []string{"NBC", "NBC", "MSC", "TSC", "NSC"},
		biometrics: 1, interview: 0.6, card: true, shape: applicantMaybePetition, aNumber: 0.6,
	},
	{
		code: "I-130", weight: 16, online: true, minDays: 240, maxDays: 540,
		categories: []string{"Spouse of U.S. citizen", "Spouse of U.S. citizen", "Parent of U.S. citizen",
			"Unmarried son or daughter of U.S. citizen", "Sibling of U.S. citizen", "Spouse of permanent resident"},
		offices: []string{"NBC", "CSC", "VSC", "TSC", "NSC", "POTOMAC"},
		shape:   petitionerBeneficiary, aNumber: 0.35,
	},
	{
		code: "I-765", weight: 17, online: true, minDays: 30, maxDays: 240,
		categories: []string{"(c)(9) Pending adjustment of status", "(c)(8) Pending asylum application",
			"(a)(12) Temporary protected status", "(c)(3)(B) Post-completion OPT", "(a)(17) Spouse of E or L worker"},
		offices:    []string{"NBC", "POTOMAC", "TSC", "VSC", "CSC"},
		biometrics: 0.5, card: true, shape: applicantOnly, aNumber: 0.5,
	},
	{
		code: "I-131", weight: 7, online: true, minDays: 90, maxDays: 400,
		categories: []string{"Advance parole", "Advance parole", "Reentry permit", "Refugee travel document"},
		offices:    []string{"NBC", "TSC", "NSC", "POTOMAC"},
		biometrics: 0.7, after: "document_mailed|Travel document was mailed", shape: applicantOnly, aNumber: 0.7,
	},
	{
		code: "N-400", weight: 14, online: true, minDays: 150, maxDays: 450,
		categories: []string{"General (5 years)", "General (5 years)", "Spouse of U.S. citizen (3 years)", "Military service"},
		offices:    fieldOffices,
		biometrics: 1, interview: 1, after: "oath_ceremony_scheduled|Oath ceremony scheduled", shape: applicantOnly, aNumber: 1,
	},
	{
		code: "I-140", weight: 5, minDays: 30, maxDays: 365,
		categories: []string{"EB-1 Extraordinary ability", "EB-2 Advanced degree", "EB-2 National interest waiver", "EB-3 Skilled worker"},
		offices:    []string{"NSC", "TSC"},
		shape:      beneficiaryOnly, aNumber: 0.3,
	},
	{
		code: "I-129F", weight: 3, minDays: 180, maxDays: 540,
		categories: []string{"K-1 Fiancé(e)"},
		offices:    []string{"CSC", "VSC", "TSC"},
		shape:      petitionerBeneficiary, aNumber: 0.05,
	},
	{
		code: "I-751", weight: 6, minDays: 300, maxDays: 540,
		categories: []string{"Joint filing", "Joint filing", "Waiver of joint filing"},
		offices:    []string{"CSC", "VSC", "TSC", "NSC", "POTOMAC"},
		biometrics: 1, interview: 0.15, card: true, shape: applicantOnly, aNumber: 1,
	},
	{
		code: "I-90", weight: 8, online: true, minDays: 60, maxDays: 365,
		categories: []string{"Renewal", "Renewal", "Replacement of lost, stolen or destroyed card"},
		offices:    []string{"NBC", "NBC", "POTOMAC"},
		biometrics: 1, card: true, shape: applicantOnly, aNumber: 1,
	},
	{
		code: "I-539", weight: 8, online: true, minDays: 90, maxDays: 400,
		categories: []string{"B-1/B-2 extension of stay", "Change to F-1 student", "H-4 extension of stay"},
		offices:    []string{"VSC", "CSC", "NSC", "TSC", "POTOMAC"},
		biometrics: 0.4, shape: applicantOnly, aNumber: 0.1,
	},
}

// formTable holds each form weight times, to pick by weight.
var formTable = func() []*form {
	var t []*form
	for _, f := range forms {
		for range f.weight {
			t = append(t, f)
		}
	}
	return t
}()

// formByCode finds a form of the table.
func formByCode(code string) *form {
	for _, f := range forms {
		if f.code == code {
			return f
		}
	}
	panic("synth: no form " + code)
}

// paperPrefixes are the receipt prefixes of paper filings, by the office
// that decides them; field offices receive through the lockbox (NBC, MSC).
var paperPrefixes = map[string][]string{
	"NBC":     {"NBC", "MSC"},
	"MSC":     {"MSC"},
	"TSC":     {"SRC"},
	"VSC":     {"EAC"},
	"CSC":     {"WAC"},
	"NSC":     {"LIN"},
	"POTOMAC": {"YSC"},
}

// Prefixes lists every receipt prefix the generator uses.
var Prefixes = []string{"IOE", "EAC", "WAC", "LIN", "SRC", "MSC", "NBC", "YSC"}

// areaCodes are US area codes for fictional 555-01xx numbers.
var areaCodes = []string{"212", "213", "305", "312", "404", "617", "702", "713", "206", "915", "718", "210"}
