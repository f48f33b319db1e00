package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/casegate/casegate"
)

// TestOfficesShownByName: with an office catalog, the case page names the
// case's office and says how to reach it, and the processing times name
// their offices; a code the catalog lacks still shows as the code.
func TestOfficesShownByName(t *testing.T) {
	ps := newPageStack(t)
	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3) // groups at NBC and MSC
	ps.signInThroughPages(t, joseForm, 1)
	before := ps.get(t, "/cases/IOE0912345678")
	if got := before.doc.Find("#case-office .office-name").Text(); got != "NBC" {
		t.Errorf("without a catalog the office reads %q, want the code NBC", got)
	}

	nbc := casegate.Office{Code: "NBC", Name: "National Benefits Center", Address: "1 Main St, Lee's Summit, MO 64002",
		Phone: "+1 816 555 0100", URL: "https://offices.example.org/nbc"}
	if c, u, err := ps.portal.ImportOffices(context.Background(), []casegate.Office{nbc}, "test"); err != nil || c != 1 || u != 0 {
		t.Fatalf("import offices: created %d, updated %d, %v", c, u, err)
	}
	p := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, p, "en")
	office := p.doc.Find("#case-office")
	if office.Find(".office-name").Text() != nbc.Name || office.Find(".office-address").Text() != nbc.Address ||
		office.Find(".office-phone").Text() != nbc.Phone || office.Find(`a.office-url`).AttrOr("href", "") != nbc.URL {
		t.Errorf("#case-office %q, want the name, address, phone and web page of NBC", office.Text())
	}
	if strings.TrimSpace(office.Find("a.office-url").Text()) == "" {
		t.Errorf("the office's link has no text")
	}

	times := ps.get(t, "/processing-times?form=")
	var offices []string
	times.doc.Find("table#processing-times tbody tr:not(.whole-form)").Each(func(_ int, tr *goquery.Selection) {
		offices = append(offices, rowCells(tr)[2])
	})
	if strings.Join(offices, "|") != "National Benefits Center|MSC" {
		t.Errorf("the rows' offices %q, want NBC by name and MSC, not in the catalog, by code", offices)
	}
	if opt := times.doc.Find(`#office option[value="NBC"]`); opt.Text() != nbc.Name {
		t.Errorf("the choice of office NBC reads %q, want its name (the value stays the code)", opt.Text())
	}
	if n := ps.get(t, "/processing-times?office=NBC").doc.Find("table#processing-times tbody tr:not(.whole-form)").Length(); n != 1 {
		t.Errorf("choosing NBC by its code shows %d group rows, want 1", n)
	}
}
