package portal

import (
	"context"
	"fmt"
	"strconv"

	"github.com/casegate/casegate"
)

// ImportOffices stores the office catalog's offices (upserted by code; an
// office not given stays) and audits it, with counts only. It returns how
// many offices were new and how many changed.
func (p *Portal) ImportOffices(ctx context.Context, offices []casegate.Office, actor string) (created, updated int, err error) {
	now := p.clock()
	err = p.store.Update(ctx, func(tx casegate.Tx) error {
		var err error
		if created, updated, err = tx.PutOffices(ctx, offices); err != nil {
			return err
		}
		return p.audit(ctx, tx, now, "", casegate.AuditEvent{
			Actor: actor, Action: "offices.import", Target: "offices", Outcome: "ok",
			Details: map[string]string{"created": strconv.Itoa(created), "updated": strconv.Itoa(updated)},
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("portal: import offices: %w", err)
	}
	return created, updated, nil
}

// Offices returns the office catalog by code. A code cases use that the
// catalog lacks is shown as the code itself.
func (p *Portal) Offices(ctx context.Context) (map[string]casegate.Office, error) {
	var list []casegate.Office
	err := p.store.View(ctx, func(tx casegate.Tx) error {
		var err error
		list, err = tx.Offices(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("portal: offices: %w", err)
	}
	return officesByCode(list), nil
}

func officesByCode(list []casegate.Office) map[string]casegate.Office {
	m := make(map[string]casegate.Office, len(list))
	for _, o := range list {
		m[o.Code] = o
	}
	return m
}
