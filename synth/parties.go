package synth

import (
	"strings"
	"time"
)

// Shares of people by how they can be reached.
const (
	emailOnlyShare = 0.10
	phoneOnlyShare = 0.10
	representation = 0.30 // cases with a representative
)

// parties returns the people named on case i.
func (g *Generator) parties(r, br *rng, f *form, category string, i int, bundled bool) []ImportParty {
	ps := make([]ImportParty, 0, 3)
	slot := uint64(i) * 4
	switch {
	case bundled:
		i0 := i/10*10 + 7
		pr := g.rng(saltPerson, uint64(i0))
		p := g.person(&pr, pickCulture(&pr), false)
		p.Role = "applicant"
		p.ANumber = g.aNumber(uint64(i0) * 4)
		ps = append(ps, p)
		if f.code == "I-485" && strings.HasPrefix(category, "Family") && r.chance(0.3) {
			ps = append(ps, g.petitionerFor(r, p, slot+1))
		}
	case f.shape == petitionerBeneficiary:
		b := g.person(r, pickCulture(r), false)
		b.Role = "beneficiary"
		if r.chance(f.aNumber) {
			b.ANumber = g.aNumber(slot)
		}
		ps = append(ps, g.petitionerFor(r, b, slot+1), b)
	default:
		p := g.person(r, pickCulture(r), false)
		p.Role = "applicant"
		if f.shape == beneficiaryOnly {
			p.Role = "beneficiary"
		}
		if r.chance(f.aNumber) {
			p.ANumber = g.aNumber(slot)
		}
		ps = append(ps, p)
		if f.shape == applicantMaybePetition && strings.HasPrefix(category, "Family") && r.chance(0.3) {
			ps = append(ps, g.petitionerFor(r, p, slot+1))
		}
	}

	// A bundle shares its representative's decision, not the person: the
	// importer matches people without an A-Number only within a case.
	rr := r
	if bundled {
		rr = br
	}
	if rr.chance(representation) {
		rep := g.person(r, american, true)
		rep.Role = "representative"
		rep.Language = "en"
		ps = append(ps, rep)
	}
	return ps
}

// petitionerFor returns the citizen or resident who petitions for b: born in
// the United States, or naturalised from b's part of the world.
func (g *Generator) petitionerFor(r *rng, b ImportParty, slot uint64) ImportParty {
	var p ImportParty
	if r.chance(0.5) {
		p = g.person(r, american, false)
	} else {
		p = g.person(r, cultureOf(b.CountryOfBirth, r), false)
		if r.chance(0.7) {
			p.ANumber = g.aNumber(slot)
		}
	}
	p.Role = "petitioner"
	// Many petitioners share the beneficiary's family name.
	if r.chance(0.4) && p.CountryOfBirth != "US" {
		p.FamilyName = b.FamilyName
	}
	return p
}

// cultureOf returns a culture whose people are born in country.
func cultureOf(country string, r *rng) *culture {
	for _, c := range cultures {
		for _, cc := range c.countries {
			if cc == country {
				return c
			}
		}
	}
	return pickCulture(r)
}

func pickCulture(r *rng) *culture { return cultureTable[r.intn(len(cultureTable))] }

// person makes one person of culture c. Professionals (representatives) are
// born between 1950 and 1995, everyone else between 1940 and 2006.
func (g *Generator) person(r *rng, c *culture, professional bool) ImportParty {
	female := r.chance(0.5)
	var given, family, family1 string
	if c.cyrillicShare > 0 && r.chance(c.cyrillicShare) {
		given = pick(r, pickList(c.cyrillicMale, c.cyrillicFemale, female))
		family1 = gendered(pick(r, c.cyrillicFamily), female)
		family = family1
	} else {
		given = pick(r, pickList(c.male, c.female, female))
		family1 = gendered(pick(r, c.family), female)
		family = family1
		if c.twoFamilyShare > 0 && r.chance(c.twoFamilyShare) {
			if second := gendered(pick(r, c.family), female); second != family1 {
				family = family1 + " " + second
			}
		}
	}
	given1 := given
	if len(c.middle) > 0 && r.chance(c.middleShare) {
		given += " " + gendered(pick(r, c.middle), female)
	}

	var born time.Time
	if professional {
		born = time.Date(r.between(1950, 1995), 1, 1+r.intn(365), 0, 0, 0, 0, time.UTC)
	} else {
		// The sum of two uniform draws leans the ages toward the middle.
		year := 1940 + (r.intn(67)+r.intn(67)+1)/2
		born = time.Date(year, 1, 1+r.intn(365), 0, 0, 0, 0, time.UTC)
	}
	p := ImportParty{
		GivenName:      given,
		FamilyName:     family,
		DateOfBirth:    string(appendDate(nil, born)),
		CountryOfBirth: pick(r, c.countries),
		Language:       "en",
	}
	if c.spanishShare > 0 && r.chance(c.spanishShare) {
		p.Language = "es"
	}
	u := r.float()
	if u >= phoneOnlyShare {
		p.Email = email(r, given1, family1)
	}
	if u < phoneOnlyShare || u >= phoneOnlyShare+emailOnlyShare {
		p.Phone = phone(r, p.CountryOfBirth)
	}
	return p
}

func pickList(male, female []string, isFemale bool) []string {
	if isFemale {
		return female
	}
	return male
}

var emailDomains = []string{"example.com", "example.org", "example.net"}

// email makes an address from the name at one of the reserved example domains.
func email(r *rng, given, family string) string {
	g, f := fold(given), fold(family)
	if g == "" {
		g = "person"
	}
	if f == "" {
		f = "x"
	}
	b := make([]byte, 0, 48)
	switch r.intn(3) {
	case 0:
		b = append(b, g...)
		b = append(b, '.')
		b = append(b, f...)
		b = appendDigits(b, uint64(r.intn(100)), 2)
	case 1:
		b = append(b, g...)
		b = append(b, f[0])
		b = appendDigits(b, uint64(r.intn(10000)), 4)
	default:
		b = append(b, g[0])
		b = append(b, f...)
		b = appendDigits(b, uint64(r.intn(1000)), 3)
	}
	b = append(b, '@')
	b = append(b, pick(r, emailDomains)...)
	return string(b)
}

// phone makes a fictional number in E.164: +1 NPA 555-01xx, or for some
// people born in Mexico +52 55 5555 xxxx.
func phone(r *rng, country string) string {
	b := make([]byte, 0, 16)
	if country == "MX" && r.chance(0.3) {
		b = append(b, "+52555555"...)
		return string(appendDigits(b, uint64(r.intn(10000)), 4))
	}
	b = append(b, "+1"...)
	b = append(b, pick(r, areaCodes)...)
	b = append(b, "55501"...)
	return string(appendDigits(b, uint64(r.intn(100)), 2))
}
