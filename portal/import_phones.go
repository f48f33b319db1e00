package portal

import (
	"github.com/casegate/casegate/caseimport"
	"github.com/casegate/casegate/identity"
)

// screenPhones drops from the parties of the chunk every phone that cannot
// be texted, with a warning on its line. A phone on file is there to be
// texted (codes, notices), and texts go only to mobile numbers
// (textableKind): a premium-rate number on file would be one an attacker
// put there to be paid for texts. The case and the party still load, so
// an import loses no case over a phone (docs/decisions.md).
func (c *importChunk) screenPhones(voip bool) {
	for i := range c.units {
		u := &c.units[i]
		for j := range u.pc.Parties {
			p := &u.pc.Parties[j]
			if p.Phone == "" || textableKind(p.PhoneKind, voip) {
				continue
			}
			line, field := u.line, caseimport.PartyField(j, "phone")
			if p.Row != 0 {
				line, field = p.Row, "phone"
			}
			msg := field + ": not stored (a phone already on file stays): " + kindPhrase(p.PhoneKind) + ", and texts go only to mobile numbers"
			if p.PhoneKind == identity.PhoneVoIP {
				msg += " (CASEGATE_SMS_ALLOW_VOIP=true keeps VoIP numbers)"
			}
			if p.Email == "" {
				msg += "; with no email on this line either, this person can be sent a code only at an email already on file"
			}
			c.warnings = append(c.warnings, Warning{Line: line, Warning: msg})
			p.Phone, p.PhoneKind = "", ""
		}
	}
}

// kindPhrase names a kind of number that cannot be texted, for operators.
func kindPhrase(k identity.PhoneKind) string {
	switch k {
	case identity.PhoneFixedLine:
		return "a landline"
	case identity.PhoneVoIP:
		return "a VoIP number"
	case identity.PhoneTollFree:
		return "a toll-free number"
	case identity.PhonePremiumRate:
		return "a premium-rate number"
	case identity.PhoneSharedCost:
		return "a shared-cost number"
	case identity.PhoneUAN:
		return "a universal access number (UAN)"
	case identity.PhoneVoicemail:
		return "a voicemail number"
	case identity.PhonePersonal:
		return "a personal (forwarding) number"
	case identity.PhonePager:
		return "a pager number"
	}
	return "a number in no range its country's numbering plan assigns"
}
