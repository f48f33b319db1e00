package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/portal"
)

// finishedCases returns JSON Lines of cases of one form, category and office
// approved at done after days[i] days each, with receipt numbers prefix
// followed by 1, 2, …
func finishedCases(prefix, form, category, office string, done time.Time, days ...int) string {
	var b strings.Builder
	for i, d := range days {
		received := done.AddDate(0, 0, -d)
		fmt.Fprintf(&b, `{"receipt_number":"%s%010d","form_type":%q,"category":%q,"office":%q,"received_on":%q,`+
			`"history":[{"status":"received","at":%q},{"status":"approved","at":%q}],`+
			`"parties":[{"role":"applicant","given_name":"Done","family_name":"Case %s %d","date_of_birth":"1980-01-01","country_of_birth":"US","email":"done%s%d@example.com"}]}`+"\n",
			prefix, i+1, form, category, office, received.Format(time.DateOnly),
			received.Format(time.RFC3339), done.Format(time.RFC3339), prefix, i+1, strings.ToLower(prefix), i+1)
	}
	return b.String()
}

// publishTimes imports finished cases and recomputes the processing times.
func publishTimes(t testing.TB, st casegate.Store, p *portal.Portal, now func() time.Time, jsonl string) []casegate.ProcessingTime {
	t.Helper()
	ctx := context.Background()
	im := &portal.Importer{Store: st, Keys: p.Keys(), Now: now}
	res, err := im.Import(ctx, strings.NewReader(jsonl), "jsonl", "test", nil)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("import finished cases: %+v, %v", res, err)
	}
	pts, err := p.RecomputeProcessingTimes(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// joseReceived is the day the fixture's first case was received.
var joseReceived = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)

// finishedDay is when the finished cases of these tests were decided: ten
// days before now, at noon.
func finishedDay(now func() time.Time) time.Time {
	return now().UTC().AddDate(0, 0, -10).Truncate(24 * time.Hour).Add(12 * time.Hour)
}

// timesForJose publishes processing times for the form, category and office
// of Jose's case, from 10 cases (the fewest a figure is published from),
// whose median is 1 day and whose 80th percentile is slack days past Jose's
// case's age: Jose's inquiry date is slack days away. It also publishes a
// second group of 10 cases without a category (median 120, 80th percentile
// 150). Each form has one group, so its whole-form figure is the group's.
func timesForJose(t testing.TB, st casegate.Store, p *portal.Portal, now func() time.Time, slack int) []casegate.ProcessingTime {
	t.Helper()
	age := int(now().UTC().Sub(joseReceived) / (24 * time.Hour))
	done := finishedDay(now)
	jsonl := finishedCases("LIN", "I-485", "Family-based", "NBC", done, age-100, age-90, age-80, age-70, age+1,
		age+slack, age+slack, age+slack, age+slack, age+slack) +
		finishedCases("SRC", "I-765", "", "MSC", done, 90, 100, 110, 115, 120, 125, 140, 150, 155, 160)
	return publishTimes(t, st, p, now, jsonl)
}

// rowCells returns the text of a table row's cells.
func rowCells(tr *goquery.Selection) []string {
	var out []string
	tr.Find("th, td").Each(func(_ int, c *goquery.Selection) { out = append(out, strings.TrimSpace(c.Text())) })
	return out
}

func TestProcessingTimesPage(t *testing.T) {
	ps := newPageStack(t)
	now := ps.clock.Now()
	age := int(now.Sub(joseReceived) / (24 * time.Hour))
	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3)

	p := ps.get(t, "/processing-times?form=")
	checkLayout(t, p, "en")
	if p.doc.Find("#no-data").Length() != 0 {
		t.Errorf("#no-data shows with processing times published")
	}
	caption := p.doc.Find("table#processing-times caption").Text()
	if want := now.Format("January 2, 2006"); !strings.Contains(caption, want) {
		t.Errorf("caption %q lacks the data-as-of date %q", caption, want)
	}
	var heads []string
	p.doc.Find("table#processing-times thead th").Each(func(_ int, th *goquery.Selection) { heads = append(heads, th.Text()) })
	if len(heads) != 6 || heads[1] != "Category" {
		t.Errorf("columns %q, want form, category, office, median, 80th percentile, cases", heads)
	}
	rows := p.doc.Find("table#processing-times tbody tr")
	if rows.Length() != 4 {
		t.Fatalf("%d rows, want 4", rows.Length())
	}
	for i, want := range [][]string{
		{"I-485", "All categories", "All offices", fmt.Sprint(age + 1), fmt.Sprint(age + 3), "10"},
		{"I-485", "Family-based", "NBC", fmt.Sprint(age + 1), fmt.Sprint(age + 3), "10"},
		{"I-765", "All categories", "All offices", "120", "150", "10"},
		{"I-765", "–None", "MSC", "120", "150", "10"}, // no category reads as none
	} {
		if got := rowCells(rows.Eq(i)); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %d %q, want %q", i+1, got, want)
		}
	}
	if n := p.doc.Find("table#processing-times tbody tr.whole-form").Length(); n != 2 {
		t.Errorf("%d rows marked whole-form, want 2", n)
	}
	if m := strings.ToLower(p.doc.Find("main").Text()); !strings.Contains(m, "last 6 months") || !strings.Contains(m, "inquiry date") {
		t.Errorf("the page does not explain the method")
	}
	for _, sel := range []string{`#form option[value="I-485"]`, `#form option[value="I-765"]`, `#office option[value="MSC"]`, `#office option[value="NBC"]`} {
		if p.doc.Find(sel).Length() != 1 {
			t.Errorf("no choice %s", sel)
		}
	}

	one := ps.get(t, "/processing-times?form=I-765&office=")
	if n := one.doc.Find("table#processing-times tbody tr").Length(); n != 2 || one.doc.Find(`#form option[value="I-765"][selected]`).Length() != 1 {
		t.Errorf("filtered by form: %d rows, want 2", n)
	}
	if n := ps.get(t, "/processing-times?office=NOWHERE").doc.Find("table#processing-times tbody tr").Length(); n != 4 {
		t.Errorf("an unknown office shows %d rows, want all 4", n)
	}
	// An office keeps the whole-form rows, which cover it too.
	msc := ps.get(t, "/processing-times?office=MSC").doc.Find("table#processing-times tbody tr")
	if msc.Length() != 3 || msc.Filter(".whole-form").Length() != 2 {
		t.Errorf("office MSC: %d rows, %d whole-form; want 3 and 2", msc.Length(), msc.Filter(".whole-form").Length())
	}

	ps.setLang(t, "es")
	es := ps.get(t, "/processing-times?form=")
	checkLayout(t, es, "es")
	if c := es.doc.Find("table#processing-times caption").Text(); !strings.Contains(c, "de noviembre de") && !strings.Contains(c, fmt.Sprint(now.Year())) {
		t.Errorf("Spanish caption %q", c)
	}
	if h := es.doc.Find("table#processing-times thead th").Last().Text(); h != "Casos contados" {
		t.Errorf("Spanish column %q", h)
	}
}

// TestProcessingTimesAsksForTheFormFirst: the page opens with the choice of
// form and office and no rows, which come once the choice is sent (a GET
// form, so it works without JavaScript), and only those chosen.
func TestProcessingTimesAsksForTheFormFirst(t *testing.T) {
	ps := newPageStack(t)
	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3)

	p := ps.get(t, "/processing-times")
	checkLayout(t, p, "en")
	if p.doc.Find("table#processing-times, #no-data").Length() != 0 {
		t.Errorf("the page shows rows (or #no-data) before a form is chosen")
	}
	if txt := p.doc.Find("#choose-form").Text(); !strings.Contains(txt, "Choose a form") {
		t.Errorf("#choose-form %q, want the page to ask for a form", txt)
	}
	f := p.doc.Find(`form#processing-times-form[method="get"][action="/processing-times"]`)
	if f.Find(`select#form[name="form"] option[value="I-765"]`).Length() != 1 || f.Find(`select#office[name="office"]`).Length() != 1 ||
		f.Find(`button[type="submit"]`).Length() != 1 {
		t.Errorf("the form lacks its selects or its submit button")
	}
	if p.doc.Find("#min-cases").Length() != 1 {
		t.Errorf("the method is not explained before a form is chosen")
	}

	// What the form sends when I-765 and all offices are chosen.
	one := ps.get(t, "/processing-times?form=I-765&office=")
	if one.doc.Find("#choose-form").Length() != 0 {
		t.Errorf("#choose-form shows after a form was chosen")
	}
	rows := one.doc.Find("table#processing-times tbody tr")
	if rows.Length() != 2 || rows.Filter(`:has(th:contains("I-485"))`).Length() != 0 {
		t.Errorf("form I-765 chosen: %d rows, want its 2 and none of I-485", rows.Length())
	}

	ps.setLang(t, "es")
	if txt := ps.get(t, "/processing-times").doc.Find("#choose-form").Text(); !strings.Contains(txt, "Elija un formulario") {
		t.Errorf("Spanish #choose-form %q", txt)
	}
}

func TestCasePageTiming(t *testing.T) {
	ps := newPageStack(t)
	dash := ps.signInThroughPages(t, joseForm, 1)
	if dash.doc.Find(".case-outside-normal").Length() != 0 {
		t.Errorf("the dashboard marks a case outside normal processing time before any is published")
	}
	none := ps.get(t, "/cases/IOE0912345678")
	if none.doc.Find("#inquiry-date, #outside-normal").Length() != 0 ||
		none.doc.Find(`#case-processing-time a[href="/processing-times"]`).Length() != 1 {
		t.Errorf("without processing times the case page should say so and link to them")
	}

	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3)
	p := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, p, "en")
	inquiry := joseReceived.AddDate(0, 0, int(ps.clock.Now().Sub(joseReceived)/(24*time.Hour))+3)
	tm := p.doc.Find("#inquiry-date time")
	if at, err := time.Parse(time.RFC3339, tm.AttrOr("datetime", "")); err != nil || !at.Equal(inquiry) {
		t.Errorf("#inquiry-date time datetime %q, want %s", tm.AttrOr("datetime", ""), inquiry.Format(time.DateOnly))
	}
	if tm.Text() != inquiry.Format("January 2, 2006") {
		t.Errorf("#inquiry-date reads %q", tm.Text())
	}
	if p.doc.Find("#outside-normal").Length() != 0 {
		t.Errorf("#outside-normal shows before the inquiry date")
	}
	how := p.doc.Find("#case-processing-time").Text()
	age := int(ps.clock.Now().Sub(joseReceived) / (24 * time.Hour))
	for _, want := range []string{fmt.Sprintf("%d days", age+1), fmt.Sprintf("%d days", age+3), ps.clock.Now().Format("January 2, 2006")} {
		if !strings.Contains(how, want) {
			t.Errorf("How long this takes %q lacks %q", how, want)
		}
	}

	// Five days on, past the inquiry date: the case is outside normal
	// processing time. The session has idled out by then; sign in again.
	ps.clock.Advance(5 * 24 * time.Hour)
	dash = ps.signInThroughPages(t, joseForm, 2)
	if m := dash.doc.Find("li.case .case-outside-normal"); m.Length() != 1 || !strings.Contains(m.Text(), "Outside normal processing time") {
		t.Errorf("dashboard marker %q", m.Text())
	}
	p = ps.get(t, "/cases/IOE0912345678")
	out := p.doc.Find("#outside-normal")
	if out.Length() != 1 || !strings.Contains(out.Text(), "IOE0912345678") || !strings.Contains(strings.ToLower(out.Text()), "contact us") {
		t.Errorf("#outside-normal %q: want the notice with what to do and the receipt number", out.Text())
	}
	ps.setLang(t, "es")
	es := ps.get(t, "/cases/IOE0912345678")
	if txt := es.doc.Find("#outside-normal").Text(); !strings.Contains(txt, "fuera de nuestro tiempo normal") {
		t.Errorf("Spanish #outside-normal %q", txt)
	}
	ps.setLang(t, "en")

	// A decision: no inquiry date, no notice, and the page says so.
	if _, _, err := ps.portal.PostStatusEvent(context.Background(), "IOE0912345678", portal.StatusEventInput{Status: "approved"}, "test"); err != nil {
		t.Fatal(err)
	}
	p = ps.get(t, "/cases/IOE0912345678")
	if p.doc.Find("#case-completed").Length() != 1 || p.doc.Find("#inquiry-date, #outside-normal").Length() != 0 {
		t.Errorf("a decided case: #case-completed %d, #inquiry-date/#outside-normal %d", p.doc.Find("#case-completed").Length(),
			p.doc.Find("#inquiry-date, #outside-normal").Length())
	}
	if ps.get(t, "/dashboard").doc.Find(".case-outside-normal").Length() != 0 {
		t.Errorf("a decided case is still marked outside normal processing time")
	}
}

// TestProcessingTimesPageWithholdsSmallGroups publishes Jose's group and
// I-765's (10 cases each) beside a group of one (I-485 Employment-based at
// TSC) and a form of two (N-400): the group of one is nowhere on the page,
// not even as an office to choose; its case counts in I-485's whole-form row;
// N-400 reads "not enough recent cases" without a figure.
func TestProcessingTimesPageWithholdsSmallGroups(t *testing.T) {
	ps := newPageStack(t)
	age := int(ps.clock.Now().Sub(joseReceived) / (24 * time.Hour))
	done := finishedDay(ps.clock.Now)
	publishTimes(t, ps.store, ps.portal, ps.clock.Now, finishedCases("WAC", "I-485", "Employment-based", "TSC", done, 900)+
		finishedCases("MSC", "N-400", "", "NBC", done, 200, 210))
	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3)

	p := ps.get(t, "/processing-times?form=")
	checkLayout(t, p, "en")
	rows := p.doc.Find("table#processing-times tbody tr")
	for i, want := range [][]string{
		// 11 cases: age-100 … age-70, age+1, 5 × age+3 and 900 days.
		{"I-485", "All categories", "All offices", fmt.Sprint(age + 3), fmt.Sprint(age + 3), "11"},
		{"I-485", "Family-based", "NBC", fmt.Sprint(age + 1), fmt.Sprint(age + 3), "10"},
		{"I-765", "All categories", "All offices", "120", "150", "10"},
		{"I-765", "–None", "MSC", "120", "150", "10"},
		{"N-400", "All categories", "All offices", "Not enough recent cases"},
	} {
		if got := rowCells(rows.Eq(i)); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %d %q, want %q", i+1, got, want)
		}
	}
	if rows.Length() != 5 {
		t.Errorf("%d rows, want 5", rows.Length())
	}
	n400 := rows.Filter("tr.whole-form").FilterFunction(func(_ int, tr *goquery.Selection) bool { return tr.Find("th").Text() == "N-400" })
	if n400.Find(`td.not-enough[colspan="3"]`).Length() != 1 || n400.Find("td.num").Length() != 0 {
		t.Errorf("N-400's row should read not enough recent cases across the figures, with none")
	}
	if txt := p.doc.Find("table#processing-times").Text(); strings.Contains(txt, "Employment-based") || strings.Contains(txt, "TSC") || strings.Contains(txt, "900") {
		t.Errorf("the group of one shows in the table: %q", txt)
	}
	if p.doc.Find(`#office option[value="TSC"]`).Length() != 0 {
		t.Errorf("an office whose only group is withheld is offered as a choice")
	}
	if m := p.doc.Find("#min-cases").Text(); !strings.Contains(m, "at least 10 cases") || !strings.Contains(m, "Not enough recent cases") {
		t.Errorf("#min-cases %q does not explain the rule", m)
	}

	ps.setLang(t, "es")
	es := ps.get(t, "/processing-times?form=")
	checkLayout(t, es, "es")
	last := es.doc.Find("table#processing-times tbody tr").Last()
	if got := strings.Join(rowCells(last), "|"); got != "N-400|Todas las categorías|Todas las oficinas|No hay suficientes casos recientes" {
		t.Errorf("Spanish N-400 row %q", got)
	}
	if m := es.doc.Find("#min-cases").Text(); !strings.Contains(m, "al menos 10 casos") {
		t.Errorf("Spanish #min-cases %q", m)
	}
}

// caseTiming reads what the API says of Jose's case's processing time.
type caseTiming struct {
	ProcessingTime *struct {
		Scope       string `json:"scope"`
		Office      string `json:"office"`
		EnoughCases bool   `json:"enough_cases"`
		P80Days     *int   `json:"p80_days"`
		Cases       *int   `json:"cases"`
	} `json:"processing_time"`
	InquiryDate   string `json:"inquiry_date"`
	OutsideNormal bool   `json:"outside_normal_processing_time"`
}

func (ps *pageStack) joseTiming(t *testing.T) caseTiming {
	t.Helper()
	resp, body := ps.do("GET", "/api/v1/cases/IOE0912345678", nil, map[string]string{"Cookie": ps.sessionCookie(t)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case API: %d %s", resp.StatusCode, body)
	}
	var ct caseTiming
	mustJSON(t, body, &ct)
	return ct
}

// TestCasePageFallsBackToTheWholeForm gives Jose's group 3 finished cases
// and I-485 10 more at another office: the case page and the API give the
// whole form's figure, say so, and take the inquiry date from it.
func TestCasePageFallsBackToTheWholeForm(t *testing.T) {
	ps := newPageStack(t)
	age := int(ps.clock.Now().Sub(joseReceived) / (24 * time.Hour))
	done := finishedDay(ps.clock.Now)
	// 13 cases: 3 of Jose's group (age+500 days, far past) and 10 at TSC, of
	// age-5, age-4, … age+4 days: the 80th percentile, the 11th, is age+500.
	publishTimes(t, ps.store, ps.portal, ps.clock.Now, finishedCases("LIN", "I-485", "Family-based", "NBC", done, age+500, age+500, age+500)+
		finishedCases("WAC", "I-485", "Employment-based", "TSC", done, age-5, age-4, age-3, age-2, age-1, age, age+1, age+2, age+3, age+4))
	ps.signInThroughPages(t, joseForm, 1)

	p := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, p, "en")
	whole := p.doc.Find("#case-processing-time #processing-time-whole-form")
	if whole.Length() != 1 || !strings.Contains(whole.Text(), "as a whole, at all offices and in all categories") ||
		!strings.Contains(whole.Text(), fmt.Sprintf("%d days", age+500)) {
		t.Errorf("#processing-time-whole-form %q: want I-485's whole-form figure, said to be so", whole.Text())
	}
	if p.doc.Find("#processing-time-group, #not-enough-cases").Length() != 0 {
		t.Errorf("the page shows a group's figure, or none, besides the whole form's")
	}
	inquiry := joseReceived.AddDate(0, 0, age+500)
	if at, err := time.Parse(time.RFC3339, p.doc.Find("#inquiry-date time").AttrOr("datetime", "")); err != nil || !at.Equal(inquiry) {
		t.Errorf("#inquiry-date %q, want %s", p.doc.Find("#inquiry-date time").AttrOr("datetime", ""), inquiry.Format(time.DateOnly))
	}
	ct := ps.joseTiming(t)
	if pt := ct.ProcessingTime; pt == nil || pt.Scope != "form" || pt.Office != "" || !pt.EnoughCases || pt.Cases == nil || *pt.Cases != 13 ||
		ct.InquiryDate != inquiry.Format(time.DateOnly) {
		t.Errorf("API: %+v (%+v), want the whole form's figure of 13 cases and its inquiry date", ct, ct.ProcessingTime)
	}
	ps.setLang(t, "es")
	if txt := ps.get(t, "/cases/IOE0912345678").doc.Find("#processing-time-whole-form").Text(); !strings.Contains(txt, "en todas las oficinas y categorías") {
		t.Errorf("Spanish #processing-time-whole-form %q", txt)
	}
}

// TestCasePageWithTooFewCases gives I-485 only 3 finished cases, all far
// past Jose's case's age: no figure, no inquiry date and no "outside normal
// processing time", on the case page, the dashboard and the API alike; the
// page says there are not enough recent cases.
func TestCasePageWithTooFewCases(t *testing.T) {
	ps := newPageStack(t)
	done := finishedDay(ps.clock.Now)
	publishTimes(t, ps.store, ps.portal, ps.clock.Now, finishedCases("LIN", "I-485", "Family-based", "NBC", done, 30, 40, 50))
	dash := ps.signInThroughPages(t, joseForm, 1)
	if dash.doc.Find("li.case .case-outside-normal").Length() != 0 {
		t.Errorf("the dashboard marks Jose's case outside normal processing time from 3 cases")
	}
	jose := dash.doc.Find(`li.case:has(a.case-link[href="/cases/IOE0912345678"])`)
	if txt := jose.Find(".case-processing-time").Text(); !strings.Contains(txt, "too few recent cases") || jose.Find(".case-inquiry-date").Length() != 0 {
		t.Errorf("the dashboard from 3 cases: .case-processing-time %q, %d inquiry dates; want too few and none", txt, jose.Find(".case-inquiry-date").Length())
	}
	p := ps.get(t, "/cases/IOE0912345678")
	checkLayout(t, p, "en")
	note := p.doc.Find("#case-processing-time #not-enough-cases")
	if note.Length() != 1 || !strings.Contains(note.Text(), "Not enough recent cases") || !strings.Contains(note.Text(), "fewer than 10 cases of form I-485") {
		t.Errorf("#not-enough-cases %q", note.Text())
	}
	if n := p.doc.Find("#inquiry-date, #outside-normal, #processing-time-group, #processing-time-whole-form").Length(); n != 0 {
		t.Errorf("%d figures, inquiry dates or notices shown from 3 cases", n)
	}
	if txt := p.doc.Find("#case-processing-time").Text(); strings.Contains(txt, "50 days") || strings.Contains(txt, "40 days") {
		t.Errorf("a figure from 3 cases shows: %q", txt)
	}
	ct := ps.joseTiming(t)
	if pt := ct.ProcessingTime; pt == nil || pt.Scope != "form" || pt.EnoughCases || pt.P80Days != nil || pt.Cases != nil || ct.InquiryDate != "" || ct.OutsideNormal {
		t.Errorf("API: %+v (%+v), want a withheld whole-form figure, no inquiry date", ct, ct.ProcessingTime)
	}
	ps.setLang(t, "es")
	if txt := ps.get(t, "/cases/IOE0912345678").doc.Find("#not-enough-cases").Text(); !strings.Contains(txt, "No hay suficientes casos recientes") {
		t.Errorf("Spanish #not-enough-cases %q", txt)
	}
}

func TestTimelineDescribesEachEvent(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	st, _ := casegate.Status("biometrics_scheduled")
	for _, lang := range []string{"en", "es"} {
		ps.setLang(t, lang)
		p := ps.get(t, "/cases/IOE0912345678")
		first := p.doc.Find("ol#timeline > li.event").First()
		if got := first.Find(".event-title").Text(); got != st.Title(lang) {
			t.Errorf("%s: title %q, want %q", lang, got, st.Title(lang))
		}
		if got := first.Find(".event-description").Text(); got != st.Description(lang) {
			t.Errorf("%s: description %q, want %q", lang, got, st.Description(lang))
		}
		if got := p.doc.Find(".case-status-description").Text(); got != st.Description(lang) {
			t.Errorf("%s: the current status is not described: %q", lang, got)
		}
	}
}

func TestCustomStatusTitleIsText(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	const title = `Oath <script>alert("x")</script><img src=x onerror=alert(1)> & "more"`
	if _, _, err := ps.portal.PostStatusEvent(context.Background(), "IOE0912345678",
		portal.StatusEventInput{Status: "oath_scheduled", Title: title}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/cases/IOE0912345678", "/dashboard"} {
		p := ps.get(t, path)
		if p.doc.Find("main script, main img").Length() != 0 || strings.Contains(string(p.body), "<script>alert") {
			t.Errorf("%s: the custom title became markup", path)
		}
		sel := "ol#timeline > li.event .event-title"
		if path == "/dashboard" {
			sel = "li.case .case-status"
		}
		if got := p.doc.Find(sel).First().Text(); !strings.Contains(got, title) {
			t.Errorf("%s: %s reads %q, want the title as text", path, sel, got)
		}
	}
	// A custom status has no catalog description.
	if d := ps.get(t, "/cases/IOE0912345678").doc.Find("ol#timeline > li.event").First().Find(".event-description"); d.Length() != 0 {
		t.Errorf("a custom status has a description %q", d.Text())
	}
}

func TestSubscriptionThroughPages(t *testing.T) {
	ps := newPageStack(t)
	ps.signInThroughPages(t, joseForm, 1)
	p := ps.get(t, "/cases/IOE0912345678")
	form := p.doc.Find(`form#subscription-form[method="post"][action="/cases/IOE0912345678/subscription"]`)
	if form.Length() != 1 || form.Find("button#subscription-submit").Length() != 1 {
		t.Fatalf("no subscription form")
	}
	for _, sel := range []string{`input#subscribe-email[type="checkbox"][name="email"]`, `input#subscribe-sms[type="checkbox"][name="sms"]`} {
		in := form.Find(sel)
		if in.Length() != 1 || in.Is("[checked], [disabled]") || p.doc.Find(`label[for="`+in.AttrOr("id", "")+`"]`).Length() != 1 {
			t.Errorf("%s: want one, labelled, unticked and enabled", sel)
		}
	}
	if p.doc.Find("#subscription-notice").Length() != 0 {
		t.Errorf("#subscription-notice shows unasked")
	}

	steps := []struct {
		form       url.Values
		email, sms bool
	}{
		{url.Values{"email": {"1"}}, true, false},
		{url.Values{"email": {"1"}, "sms": {"1"}}, true, true},
		{url.Values{"sms": {"1"}}, false, true},
		{url.Values{}, false, false},
	}
	for _, st := range steps {
		wantRedirect(t, ps.post(t, "/cases/IOE0912345678/subscription", st.form), "/cases/IOE0912345678?subscribed=1")
		p := ps.get(t, "/cases/IOE0912345678?subscribed=1")
		if p.doc.Find(`#subscription-notice[role="status"]`).Length() != 1 {
			t.Errorf("%v: no #subscription-notice", st.form)
		}
		if e, s := p.doc.Find("#subscribe-email").Is("[checked]"), p.doc.Find("#subscribe-sms").Is("[checked]"); e != st.email || s != st.sms {
			t.Errorf("after %v: email %v sms %v, want %v %v", st.form, e, s, st.email, st.sms)
		}
		if p.doc.Find(`form.language-switch input[name="next"]`).AttrOr("value", "") != "/cases/IOE0912345678" {
			t.Errorf("the language switch brings the notice back")
		}
	}

	// Ticked for email, a new status reaches the address on file.
	wantRedirect(t, ps.post(t, "/cases/IOE0912345678/subscription", url.Values{"email": {"1"}}), "/cases/IOE0912345678?subscribed=1")
	before := len(ps.smtp.Messages())
	if _, _, err := ps.portal.PostStatusEvent(context.Background(), "IOE0912345678", portal.StatusEventInput{Status: "interview_scheduled"}, "test"); err != nil {
		t.Fatal(err)
	}
	msgs, err := ps.smtp.WaitFor(before+1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m := msgs[before]; len(m.To) != 1 || m.To[0] != "jose@example.com" || !strings.Contains(m.Text, "IOE0912345678") {
		t.Errorf("status message to %v: %q", m.To, m.Text)
	}

	// Someone else's case.
	if p := ps.post(t, "/cases/EAC2190012345/subscription", url.Values{"email": {"1"}}); p.status() != http.StatusNotFound {
		t.Errorf("subscribing to someone else's case: %d, want 404", p.status())
	}
}

func TestSubscriptionWithoutAPhoneOnFile(t *testing.T) {
	ps := newPageStack(t)
	wei := url.Values{"receipt_number": {"EAC2190012345"}, "given_name": {"Wei"}, "family_name": {"Li"},
		"dob_month": {"12"}, "dob_day": {"31"}, "dob_year": {"1988"}, "country_of_birth": {"CN"}, "channel": {"email"}}
	ps.signInThroughPages(t, wei, 1)
	p := ps.get(t, "/cases/EAC2190012345")
	if sms := p.doc.Find("#subscribe-sms"); !sms.Is("[disabled]") || sms.AttrOr("aria-describedby", "") != "subscribe-sms-note" ||
		p.doc.Find("#subscribe-sms-note").Length() != 1 {
		t.Errorf("with no phone on file the SMS box should be disabled and explained")
	}
	if p.doc.Find("#subscribe-email").Is("[disabled]") {
		t.Errorf("the email box is disabled with an email on file")
	}
	// A tampered form asks for text messages anyway.
	bad := ps.post(t, "/cases/EAC2190012345/subscription", url.Values{"email": {"1"}, "sms": {"1"}})
	if bad.status() != http.StatusBadRequest {
		t.Errorf("SMS without a phone: %d, want 400", bad.status())
	}
	checkLayout(t, bad, "en")
	checkFieldErrors(t, bad, "subscribe-sms")
	if !bad.doc.Find("#subscribe-email").Is("[checked]") {
		t.Errorf("the re-rendered form lost the ticked email box")
	}
	if p := ps.get(t, "/cases/EAC2190012345"); p.doc.Find("#subscribe-email").Is("[checked]") {
		t.Errorf("the refused form was saved")
	}
	ps.setLang(t, "es")
	es := ps.post(t, "/cases/EAC2190012345/subscription", url.Values{"sms": {"1"}})
	checkFieldErrors(t, es, "subscribe-sms")
	if msg, en := es.doc.Find("#subscribe-sms-error").Text(), bad.doc.Find("#subscribe-sms-error").Text(); msg == en {
		t.Errorf("the message is not in Spanish: %q", msg)
	}
}

// TestDashboardShowsProcessingTimeAndInquiryDate: each case on the dashboard
// gives how long such cases take and, while undecided, its inquiry date
// (received + the 80th percentile), as DESIGN §4.4 lists.
func TestDashboardShowsProcessingTimeAndInquiryDate(t *testing.T) {
	ps := newPageStack(t)
	dash := ps.signInThroughPages(t, joseForm, 1)
	jose := dash.doc.Find(`li.case:has(a.case-link[href="/cases/IOE0912345678"])`)
	if jose.Length() != 1 {
		t.Fatalf("no case IOE0912345678 on the dashboard")
	}
	if txt := jose.Find(".case-processing-time").Text(); !strings.Contains(txt, "not published") {
		t.Errorf("before any is published .case-processing-time reads %q", txt)
	}
	if jose.Find(".case-inquiry-date").Length() != 0 {
		t.Errorf("an inquiry date shows before processing times are published")
	}

	timesForJose(t, ps.store, ps.portal, ps.clock.Now, 3)
	age := int(ps.clock.Now().Sub(joseReceived) / (24 * time.Hour))
	jose = ps.get(t, "/dashboard").doc.Find(`li.case:has(a.case-link[href="/cases/IOE0912345678"])`)
	how := jose.Find(".case-processing-time").Text()
	for _, want := range []string{fmt.Sprintf("%d days", age+1), fmt.Sprintf("%d days", age+3)} {
		if !strings.Contains(how, want) {
			t.Errorf(".case-processing-time %q lacks %q", how, want)
		}
	}
	inquiry := joseReceived.AddDate(0, 0, age+3)
	tm := jose.Find(".case-inquiry-date time")
	if at, err := time.Parse(time.RFC3339, tm.AttrOr("datetime", "")); err != nil || !at.Equal(inquiry) {
		t.Errorf(".case-inquiry-date time datetime %q, want %s", tm.AttrOr("datetime", ""), inquiry.Format(time.DateOnly))
	}
	if tm.Text() != inquiry.Format("January 2, 2006") {
		t.Errorf(".case-inquiry-date reads %q", tm.Text())
	}
	ps.setLang(t, "es")
	es := ps.get(t, "/dashboard").doc.Find(`li.case:has(a.case-link[href="/cases/IOE0912345678"])`)
	if txt := es.Find(".case-processing-time").Text(); !strings.Contains(txt, fmt.Sprintf("%d días", age+3)) {
		t.Errorf("Spanish .case-processing-time %q", txt)
	}
	if txt := es.Find(".case-inquiry-date").Text(); !strings.Contains(txt, "Fecha de consulta") {
		t.Errorf("Spanish .case-inquiry-date %q", txt)
	}
	ps.setLang(t, "en")

	// A decided case has no inquiry date any more; the figure stays.
	if _, _, err := ps.portal.PostStatusEvent(context.Background(), "IOE0912345678", portal.StatusEventInput{Status: "approved"}, "test"); err != nil {
		t.Fatal(err)
	}
	jose = ps.get(t, "/dashboard").doc.Find(`li.case:has(a.case-link[href="/cases/IOE0912345678"])`)
	if jose.Find(".case-inquiry-date").Length() != 0 {
		t.Errorf("a decided case still shows an inquiry date")
	}
	if jose.Find(".case-processing-time").Length() != 1 {
		t.Errorf("a decided case lost its processing time")
	}
}
