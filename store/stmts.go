package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// stmtCache keeps one prepared statement per query text for a pool, so a
// query is parsed once per connection instead of on every call: profiles
// showed SQLite's parser taking a fifth of the CPU of a sign-in without it.
//
// A statement is prepared on the pool only between transactions. Preparing
// on the pool takes a free connection, and inside a transaction on a pool of
// one (SQLite's writer) there is none: the first use of a query therefore
// runs unprepared and the statement is prepared after the transaction ends.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// lookup returns the prepared statement for query, if there is one.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// prepare prepares the queries not prepared yet. Failures are left for the
// unprepared path to report.
func (c *stmtCache) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		if c.lookup(q) != nil {
			continue
		}
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q] = st
		} else {
			st.Close()
		}
		c.mu.Unlock()
	}
}

// close closes every statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// stmt returns query as a statement of this transaction when the pool has it
// prepared, else nil after noting the query for preparing later.
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if st := t.txStmts[query]; st != nil {
		return st
	}
	if st := t.stmts.lookup(query); st != nil {
		// Binding a statement to the transaction costs allocations and a
		// lock: bind each once, for the many rows of an import.
		st = t.sqlTx.StmtContext(ctx, st)
		if t.txStmts == nil {
			t.txStmts = map[string]*sql.Stmt{}
		}
		t.txStmts[query] = st
		return st
	}
	if !slices.Contains(t.unprepared, query) {
		t.unprepared = append(t.unprepared, query)
	}
	return nil
}
