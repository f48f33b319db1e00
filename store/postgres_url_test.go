package store

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestParsePostgresURL(t *testing.T) {
	tests := []struct {
		name, dsn      string
		pool           int
		connectTimeout time.Duration
		runtime        map[string]string // settings sent to the server that must be there
		wantErr        string
	}{
		{"defaults", "postgres://casegate:secret@db.internal:5432/casegate?sslmode=disable",
			defaultPoolSize, defaultConnectTimeout, map[string]string{"application_name": "casegate"}, ""},
		{"postgresql scheme and own settings", "postgresql://db/casegate?sslmode=disable&connect_timeout=9&application_name=portal-a&search_path=cg",
			defaultPoolSize, 9 * time.Second, map[string]string{"application_name": "portal-a", "search_path": "cg"}, ""},
		{"pool size", "postgres://db/casegate?sslmode=disable&pool_max_conns=40&statement_timeout=5000",
			40, defaultConnectTimeout, map[string]string{"statement_timeout": "5000"}, ""},
		{"pool size too small", "postgres://db/casegate?pool_max_conns=1", 0, 0, nil, "pool_max_conns"},
		{"pool size not a number", "postgres://db/casegate?pool_max_conns=lots", 0, 0, nil, "pool_max_conns"},
		{"bad URL", "postgres://casegate:secret@[db/casegate", 0, 0, nil, "parse"},
		{"bad URL with a pool size", "postgres://casegate:secret@[db/casegate?pool_max_conns=4", 0, 0, nil, "does not parse"},
		{"several hosts", "postgres://casegate:secret@h1:5432,h2:5433/casegate?sslmode=disable", defaultPoolSize, defaultConnectTimeout, nil, ""},
		{"failover: several hosts, the writable one, a pool size", "postgres://casegate:secret@h1:5432,h2:5433/casegate?sslmode=disable&target_session_attrs=read-write&connect_timeout=2&pool_max_conns=8",
			8, 2 * time.Second, nil, ""},
		{"bad sslmode", "postgres://casegate:secret@db/casegate?sslmode=maybe", 0, 0, nil, "sslmode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, pool, err := parsePostgresURL(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parsePostgresURL(%q) = %v, want an error containing %q", tt.dsn, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pool != tt.pool {
				t.Errorf("pool size = %d, want %d", pool, tt.pool)
			}
			if cfg.ConnectTimeout != tt.connectTimeout {
				t.Errorf("connect timeout = %v, want %v", cfg.ConnectTimeout, tt.connectTimeout)
			}
			for k, v := range tt.runtime {
				if cfg.RuntimeParams[k] != v {
					t.Errorf("server setting %s = %q, want %q", k, cfg.RuntimeParams[k], v)
				}
			}
			if strings.Contains(tt.dsn, ",h2:5433/") && !slices.ContainsFunc(cfg.Fallbacks, func(f *pgconn.FallbackConfig) bool { return f.Host == "h2" && f.Port == 5433 }) {
				t.Error("the second host is lost")
			}
			if strings.Contains(tt.dsn, "target_session_attrs=read-write") && cfg.ValidateConnect == nil {
				t.Error("target_session_attrs=read-write is lost: a standby would be taken")
			}
			if _, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
				t.Error("pool_max_conns would be sent to the server, which refuses unknown settings")
			}
		})
	}
}

// FuzzParsePostgresURL feeds CASEGATE_DB values to the parser: it must not
// panic, and an error must never repeat the password.
func FuzzParsePostgresURL(f *testing.F) {
	f.Add("postgres://casegate:hunter2@db:5432/casegate?sslmode=disable&pool_max_conns=8")
	f.Add("postgresql://casegate:hunter2@[::1]:5432/casegate")
	f.Add("postgres://casegate:hunter2@[db/x")
	f.Add("postgres://casegate:hunter2@db/x?sslmode=%zz")
	f.Add("postgres://casegate:hunter2@db/x?pool_max_conns=99999999999999999999")
	f.Add("postgres: x:hunter2@db")                   // not a URL: pgx reads key=value and repeats it
	f.Add("postgres://db/x?pool_max_conns=:hunter2@") // the pool size is what holds it
	f.Add("host=db user=casegate password=hunter2 sslmode=maybe")
	f.Fuzz(func(t *testing.T, dsn string) {
		_, _, err := parsePostgresURL(dsn)
		if err != nil && strings.Contains(dsn, ":hunter2@") && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parsePostgresURL(%q) error shows the password: %v", dsn, err)
		}
	})
}
