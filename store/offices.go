package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/casegate/casegate"
)

// PutOffices upserts each office by code; an office equal to the stored one
// is neither created nor updated.
func (t *tx) PutOffices(ctx context.Context, offices []casegate.Office) (created, updated int, err error) {
	stored, err := t.Offices(ctx)
	if err != nil {
		return 0, 0, err
	}
	byCode := make(map[string]casegate.Office, len(stored))
	for _, o := range stored {
		byCode[o.Code] = o
	}
	for _, o := range offices {
		old, ok := byCode[o.Code]
		if ok && old == o {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO offices (code, name, address, phone, url) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, address = excluded.address, phone = excluded.phone, url = excluded.url`,
			o.Code, o.Name, o.Address, o.Phone, o.URL); err != nil {
			return created, updated, fmt.Errorf("store: put office %s: %w", o.Code, err)
		}
		if ok {
			updated++
		} else {
			created++
		}
		byCode[o.Code] = o
	}
	return created, updated, nil
}

// Offices returns the office catalog, ordered by code byte by byte.
func (t *tx) Offices(ctx context.Context) ([]casegate.Office, error) {
	offices, err := queryAll(ctx, t, func(row scanner) (casegate.Office, error) {
		var o casegate.Office
		err := row.Scan(&o.Code, &o.Name, &o.Address, &o.Phone, &o.URL)
		return o, err
	}, `SELECT code, name, address, phone, url FROM offices`)
	if err != nil {
		return nil, fmt.Errorf("store: offices: %w", err)
	}
	// Sorted here: the databases' collations order text differently.
	slices.SortFunc(offices, func(a, b casegate.Office) int { return strings.Compare(a.Code, b.Code) })
	return offices, nil
}
