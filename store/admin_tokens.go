package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/casegate/casegate"
)

const adminTokenColumns = `id, name, token_hash, created_at, revoked_at`

func scanAdminToken(row scanner) (casegate.AdminToken, error) {
	var a casegate.AdminToken
	err := row.Scan(&a.ID, &a.Name, &a.TokenHash, scanTime(&a.CreatedAt), scanTime(&a.RevokedAt))
	return a, err
}

// InsertAdminToken stores a new admin token and sets a.ID. Names are unique.
func (t *tx) InsertAdminToken(ctx context.Context, a *casegate.AdminToken) error {
	err := t.queryRow(ctx,
		`INSERT INTO admin_tokens (name, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?) RETURNING id`,
		a.Name, a.TokenHash, micros(a.CreatedAt), micros(a.RevokedAt)).Scan(&a.ID)
	if t.d.isUniqueViolation(err) {
		return conflict("An admin token with this name already exists.")
	}
	if err != nil {
		return fmt.Errorf("store: insert admin token: %w", err)
	}
	return nil
}

// AdminTokenByHash returns the admin token whose SHA-256 is hash, revoked or not.
func (t *tx) AdminTokenByHash(ctx context.Context, hash []byte) (casegate.AdminToken, error) {
	a, err := scanAdminToken(t.queryRow(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return casegate.AdminToken{}, notFound("admin token")
	}
	if err != nil {
		return casegate.AdminToken{}, fmt.Errorf("store: admin token: %w", err)
	}
	return a, nil
}

// AdminTokens returns every admin token, revoked ones included, by id.
func (t *tx) AdminTokens(ctx context.Context) ([]casegate.AdminToken, error) {
	tokens, err := queryAll(ctx, t, scanAdminToken,
		`SELECT `+adminTokenColumns+` FROM admin_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: admin tokens: %w", err)
	}
	return tokens, nil
}

// RevokeAdminToken revokes the token at at; a token already revoked keeps its
// first revocation time.
func (t *tx) RevokeAdminToken(ctx context.Context, id int64, at time.Time) error {
	err := t.execOne(ctx, notFound("admin token %d", id),
		`UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, micros(at), id)
	if err != nil && !casegate.IsNotFound(err) {
		return fmt.Errorf("store: revoke admin token %d: %w", id, err)
	}
	return err
}
