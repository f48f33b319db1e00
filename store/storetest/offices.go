package storetest

import (
	"reflect"
	"testing"

	"github.com/casegate/casegate"
)

var officeTests = []test{
	{"OfficesAreUpsertedByCode", func(t *testing.T, h *harness) {
		nbc := casegate.Office{Code: "NBC", Name: "National Benefits Center", Address: "1 Main St, Lee's Summit, MO 64002",
			Phone: "+1 816 555 0100", URL: "https://offices.example.org/nbc"}
		la := casegate.Office{Code: "Los Angeles", Name: "Los Angeles Field Office"}
		put := func(os ...casegate.Office) (int, int) {
			t.Helper()
			var c, u int
			h.update(func(tx casegate.Tx) error {
				var err error
				c, u, err = tx.PutOffices(h.ctx, os)
				return err
			})
			return c, u
		}
		list := func() []casegate.Office {
			t.Helper()
			var got []casegate.Office
			h.view(func(tx casegate.Tx) error {
				var err error
				got, err = tx.Offices(h.ctx)
				return err
			})
			return got
		}
		if got := list(); len(got) != 0 {
			t.Fatalf("a fresh store has offices %+v", got)
		}
		if c, u := put(nbc, la); c != 2 || u != 0 {
			t.Errorf("first put: created %d, updated %d; want 2, 0", c, u)
		}
		if got := list(); !reflect.DeepEqual(got, []casegate.Office{la, nbc}) {
			t.Errorf("offices %+v, want Los Angeles then NBC, as put", got)
		}
		if c, u := put(nbc); c != 0 || u != 0 {
			t.Errorf("the same office again: created %d, updated %d; want 0, 0", c, u)
		}
		moved := nbc
		moved.Address, moved.URL = "2 Side St, Lee's Summit, MO 64002", ""
		if c, u := put(moved); c != 0 || u != 1 {
			t.Errorf("a changed office: created %d, updated %d; want 0, 1", c, u)
		}
		if got := list(); !reflect.DeepEqual(got, []casegate.Office{la, moved}) {
			t.Errorf("after the change %+v; want Los Angeles kept and NBC changed", got)
		}
	}},
}
