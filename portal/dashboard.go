package portal

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/identity"
)

// PartyView is what a signed-in party sees of itself: contacts masked.
type PartyView struct {
	GivenName  string
	FamilyName string
	Email      string // masked, "" when none on file
	Phone      string // masked, "" when none on file
	Language   string
}

// CaseView is one case as its party sees it.
type CaseView struct {
	ReceiptNumber string
	FormType      string
	Category      string
	Office        string
	OfficeInfo    *casegate.Office // the office catalog's entry for Office; nil when it has none
	ReceivedOn    time.Time
	Role          casegate.Role
	Status        string // the newest event's status, "" when none
	StatusTitle   string
	UpdatedAt     time.Time
	History       []casegate.StatusEvent // newest first

	// How long such cases take: the figure for the case's form, category and
	// office, else for its whole form (WholeForm), which may be Withheld when
	// too few cases finished; nil when no processing time is published at all.
	ProcessingTime *casegate.ProcessingTime
	InquiryDate    time.Time // received + the 80th percentile; zero without a figure or with a withheld one
	Completed      bool      // a terminal status was reached
	OutsideNormal  bool      // not completed and past the inquiry date: the person may ask about it

	Subscription casegate.Subscription // how this party hears of changes to the case
}

// Dashboard is the signed-in home: the party and every case it is linked to.
type Dashboard struct {
	Party PartyView
	Cases []CaseView
}

// Dashboard returns what the party of s may see.
func (p *Portal) Dashboard(ctx context.Context, s casegate.Session) (Dashboard, error) {
	now := p.clock()
	if d, ok := p.reads.dashboard(s.PartyID, s.PartyRevision, now); ok {
		return d, nil
	}
	pts, err := p.processingTimes(ctx)
	if err != nil {
		return Dashboard{}, fmt.Errorf("portal: dashboard: %w", err)
	}
	var d Dashboard
	var revision int64
	err = p.store.View(ctx, func(tx casegate.Tx) error {
		party, err := tx.Party(ctx, s.PartyID)
		if err != nil {
			return err
		}
		d.Party, revision = viewParty(party), party.Revision
		cases, err := tx.CasesForParty(ctx, s.PartyID)
		if err != nil {
			return err
		}
		d.Cases = make([]CaseView, 0, len(cases))
		for _, c := range cases {
			role, err := roleOf(ctx, tx, c.ID, s.PartyID)
			if err != nil {
				return err
			}
			v := viewCase(c, role, pts, now)
			if v.Subscription, err = tx.Subscription(ctx, s.PartyID, c.ID); err != nil {
				return err
			}
			d.Cases = append(d.Cases, v)
		}
		return nil
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("portal: dashboard: %w", err)
	}
	p.reads.putDashboard(s.PartyID, revision, d, now)
	return d, nil
}

// Case returns one case linked to the party of s. A case that does not exist
// and a case linked to someone else get the same not-found answer.
func (p *Portal) Case(ctx context.Context, s casegate.Session, receipt string) (CaseView, error) {
	notFound := casegate.NewError(casegate.ENotFound, "case.not_on_account")
	canon, err := identity.ReceiptNumber(receipt)
	if err != nil {
		return CaseView{}, notFound
	}
	pts, err := p.processingTimes(ctx)
	if err != nil {
		return CaseView{}, fmt.Errorf("portal: case: %w", err)
	}
	var v CaseView
	err = p.store.View(ctx, func(tx casegate.Tx) error {
		c, err := tx.CaseByReceipt(ctx, canon)
		if err != nil {
			return err
		}
		role, err := roleOf(ctx, tx, c.ID, s.PartyID)
		if err != nil {
			return err
		}
		v = viewCase(c, role, pts, p.clock())
		offices, err := tx.Offices(ctx)
		if err != nil {
			return err
		}
		if o, ok := officesByCode(offices)[c.Office]; ok {
			v.OfficeInfo = &o
		}
		v.Subscription, err = tx.Subscription(ctx, s.PartyID, c.ID)
		return err
	})
	if casegate.IsNotFound(err) {
		return CaseView{}, notFound
	}
	if err != nil {
		return CaseView{}, fmt.Errorf("portal: case: %w", err)
	}
	return v, nil
}

// roleOf returns the party's role on a case, or ErrNotFound when it has none.
func roleOf(ctx context.Context, tx casegate.Cases, caseID, partyID int64) (casegate.Role, error) {
	links, err := tx.CaseLinks(ctx, caseID)
	if err != nil {
		return "", err
	}
	for _, l := range links {
		if l.PartyID == partyID {
			return l.Role, nil
		}
	}
	return "", casegate.ErrNotFound
}

func viewParty(p casegate.Party) PartyView {
	return PartyView{
		GivenName: p.GivenName, FamilyName: p.FamilyName,
		Email: MaskEmail(p.Email), Phone: MaskPhone(p.Phone), Language: Language(p.Language),
	}
}

func viewCase(c casegate.Case, role casegate.Role, pts []casegate.ProcessingTime, now time.Time) CaseView {
	v := CaseView{
		ReceiptNumber: c.ReceiptNumber, FormType: c.FormType, Category: c.Category, Office: c.Office,
		ReceivedOn: c.ReceivedOn, Role: role, History: c.History,
	}
	if len(c.History) > 0 {
		v.Status, v.StatusTitle, v.UpdatedAt = c.History[0].Status, c.History[0].Title, c.History[0].At
	}
	t := timingOf(c, pts, now)
	v.ProcessingTime, v.InquiryDate, v.Completed, v.OutsideNormal = t.ProcessingTime, t.InquiryDate, t.Completed, t.OutsideNormal
	return v
}

// MaskEmail keeps the first character of the local part and the domain: j•••@example.com.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return ""
	}
	first, _ := utf8.DecodeRuneInString(email)
	return string(first) + "•••" + email[at:]
}

// MaskPhone keeps the last four digits: •••• 0123.
func MaskPhone(phone string) string {
	if len(phone) < 4 {
		return ""
	}
	return "•••• " + phone[len(phone)-4:]
}
