package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/portal"
	"github.com/casegate/casegate/store"
)

// app is what most subcommands share: the store, the keys, the portal.
type app struct {
	cfg    config
	store  casegate.Store
	keys   *accesscode.Keyring
	portal *portal.Portal
	log    *slog.Logger
}

// openApp opens the database (migrating it when migrate is set), loads or
// creates the secrets, and builds the portal.
func openApp(ctx context.Context, e env, cfg config, migrate bool, outbox portal.Outbox) (*app, error) {
	return openAppWithMetrics(ctx, e, cfg, migrate, outbox, nil)
}

// openAppWithMetrics is openApp with the portal counting into metrics.
func openAppWithMetrics(ctx context.Context, e env, cfg config, migrate bool, outbox portal.Outbox, metrics casegate.Metrics) (*app, error) {
	log := newLogger(e, cfg.LogLevel)
	keys, err := loadKeyring(cfg.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("CASEGATE_SECRET_FILE: %w", err)
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("CASEGATE_DB: %w", err)
	}
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	p, err := portal.New(portal.Deps{Store: st, Keys: keys, Limits: cfg.Limits, Outbox: outbox, Logger: log, Channels: cfg.channels(), Metrics: metrics, ReadCacheTTL: cfg.ReadCacheTTL, Retention: cfg.Retention})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &app{cfg: cfg, store: st, keys: keys, portal: p, log: log}, nil
}

func (a *app) Close() error { return a.store.Close() }

// newLogger logs JSON lines to stderr.
func newLogger(e env, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(casegate.RequestLogHandler(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: l})))
}

// loadKeyring reads the secret file, creating it with one fresh secret and
// mode 0600 when it does not exist.
func loadKeyring(path string) (*accesscode.Keyring, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s, err := accesscode.NewSecret("k1")
		if err != nil {
			return nil, err
		}
		data = accesscode.FormatSecretFile([]accesscode.Secret{s})
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	secrets, err := accesscode.ParseSecretFile(data)
	if err != nil {
		return nil, err
	}
	return accesscode.NewKeyring(secrets)
}
