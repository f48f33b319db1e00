package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/metrics"
	"github.com/casegate/casegate/store"
	"github.com/casegate/casegate/web"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, err := loadConfig(newFlagSet("serve", e.stderr), args, e.getenv)
	if err != nil {
		return err
	}
	senders, closeSenders, err := configuredSenders(e, cfg)
	if err != nil {
		return err
	}
	defer closeSenders()
	return serve(ctx, e, cfg, senders, nil, nil)
}

// configuredSenders builds the providers named by the configuration: email
// always, text messages when CASEGATE_SMS_URL is set.
func configuredSenders(e env, cfg config) (map[casegate.Channel]casegate.Sender, func(), error) {
	if cfg.SMTPURL == "" {
		return nil, nil, errors.New("CASEGATE_SMTP_URL: required: codes are sent by email (for a local try-out, run `casegate demo`)")
	}
	sc, err := delivery.ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, nil, fmt.Errorf("CASEGATE_SMTP_URL: %w", err)
	}
	if sc.DKIM, err = cfg.dkim(); err != nil {
		return nil, nil, err
	}
	smtp, err := delivery.NewSMTP(sc, cfg.MailFrom)
	if err != nil {
		return nil, nil, fmt.Errorf("CASEGATE_SMTP_URL: %w", err)
	}
	senders := map[casegate.Channel]casegate.Sender{casegate.ChannelEmail: smtp}
	if cfg.SMSURL == "" {
		return senders, func() { smtp.Close() }, nil
	}
	smsCfg, err := delivery.ParseSMSURL(cfg.SMSURL)
	if err != nil {
		smtp.Close()
		return nil, nil, fmt.Errorf("CASEGATE_SMS_URL: %w", err)
	}
	// NewSMS reads a webhook's signing secret now, so a missing file stops the start.
	sms, err := delivery.NewSMS(smsCfg, newLogger(e, cfg.LogLevel))
	if err != nil {
		smtp.Close()
		return nil, nil, fmt.Errorf("CASEGATE_SMS_URL: %w", err)
	}
	senders[casegate.ChannelSMS] = sms
	return senders, func() { smtp.Close(); sms.Close() }, nil
}

// serve runs the web server and the delivery worker until ctx is done, then
// finishes in-flight requests and hands back the worker's leases.
// afterStart, when set, runs once the listener is up (demo uses it to print).
func serve(ctx context.Context, e env, cfg config, senders map[casegate.Channel]casegate.Sender, mailbox *delivery.Mailbox, afterStart func(a *app, addr string) error) error {
	defer collectLessOften(e, serveGCPercent, 0)()
	outbox := &laterWorker{}
	reg := metrics.New()
	b, _ := readBuild()
	reg.BuildInfo(b.version, b.revision, b.goVersion)
	a, err := openAppWithMetrics(ctx, e, cfg, true, outbox, reg)
	if err != nil {
		return err
	}
	defer a.Close()
	reg.WatchQueue(a.store)
	worker, err := newWorker(a, senders)
	if err != nil {
		return err
	}
	outbox.Worker = worker
	worker.Metrics = reg
	importer := a.portal.Importer()
	srv, err := web.New(web.Deps{
		Portal: a.portal, Importer: importer, PublicURL: cfg.PublicURL, TrustedProxies: cfg.TrustedProxies,
		Mailbox: mailbox, Ready: a.store.Ping, Logger: a.log, Keys: a.keys, Metrics: reg, Location: cfg.TimeZone,
		Agency: cfg.Agency, Logo: cfg.Logo, Catalog: cfg.Catalog,
		ProblemBaseURL: cfg.ProblemBaseURL,
	})
	if err != nil {
		return err
	}
	listeners := []string{cfg.Listen}
	if cfg.AdminListen != "" {
		listeners = append(listeners, cfg.AdminListen)
	}
	var servers []*http.Server
	var lns []net.Listener
	for _, addr := range listeners {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		lns = append(lns, ln)
		servers = append(servers, &http.Server{
			Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		})
	}

	// The start and stop lines are logged whatever CASEGATE_LOG_LEVEL says,
	// the start line first of all.
	lifecycle := newLogger(e, "info")
	addrs := make([]string, len(lns))
	for i, ln := range lns {
		addrs[i] = ln.Addr().String()
	}
	lifecycle.LogAttrs(ctx, slog.LevelInfo, startedMsg,
		slog.String("version", b.version), slog.String("revision", b.revision), slog.String("goversion", b.goVersion),
		slog.String("database", databaseKind(cfg.DB)), slog.Any("listeners", addrs), slog.String("public_url", cfg.PublicURL.String()))
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		housekeeping(workerCtx, a, reg, cfg.StatsInterval, cfg.CheckpointEvery)
	}()
	go func() {
		defer wg.Done()
		a.portal.RunLastSeenWriter(workerCtx)
	}()
	go func() {
		defer wg.Done()
		if err := worker.Run(workerCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("delivery worker stopped", "err", err)
		}
	}()
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(lns[i]) }()
	}
	var serveErr error
	if afterStart != nil {
		serveErr = afterStart(a, lns[0].Addr().String())
	}
	if serveErr == nil {
		select {
		case <-ctx.Done():
		case serveErr = <-errc:
		}
	}
	stopping := time.Now()
	reason := "stopped"
	switch {
	case serveErr != nil:
		reason = serveErr.Error()
	case context.Cause(ctx) != nil:
		reason = context.Cause(ctx).Error() // "terminated signal received", for one
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(shutdownCtx)
	}
	stopWorker()
	wg.Wait()
	lifecycle.LogAttrs(ctx, slog.LevelInfo, stoppedMsg, slog.String("reason", reason),
		slog.Float64("duration_seconds", time.Since(stopping).Seconds()), slog.Int("leases_handed_back", worker.HandedBack()))
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// The messages of the lines serve logs when it starts serving and when it has stopped.
const (
	startedMsg = "casegate serving"
	stoppedMsg = "casegate stopped"
)

// databaseKind names the kind of database dsn is, never more of it: a
// PostgreSQL URL may hold a password.
func databaseKind(dsn string) string {
	if store.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

// servingURL reads serve's start line: the http:// URL of its first
// listener, and whether line is that line.
func servingURL(line []byte) (string, bool) {
	var l struct {
		Msg       string   `json:"msg"`
		Listeners []string `json:"listeners"`
	}
	if json.Unmarshal(line, &l) != nil || l.Msg != startedMsg || len(l.Listeners) == 0 {
		return "", false
	}
	return "http://" + l.Listeners[0], true
}

// laterWorker is the portal's outbox: the worker, which is built after the
// portal (it needs the portal's store and keys) and set before either runs.
type laterWorker struct{ *delivery.Worker }

func newWorker(a *app, senders map[casegate.Channel]casegate.Sender) (*delivery.Worker, error) {
	w, err := delivery.NewWorker(a.store, a.keys, senders, a.cfg.PublicURL.String())
	if err != nil {
		return nil, err
	}
	w.Logger = a.log
	w.Location = a.cfg.TimeZone
	w.Recorder = a.portal // the portal records each outcome and its audit event
	w.Guard = a.portal    // a text to a number that cannot be texted is stopped at send time too
	w.Agency = a.cfg.Agency
	return w, nil
}

func cmdWorker(ctx context.Context, e env, args []string) error {
	cfg, err := loadConfig(newFlagSet("worker", e.stderr), args, e.getenv)
	if err != nil {
		return err
	}
	senders, closeSenders, err := configuredSenders(e, cfg)
	if err != nil {
		return err
	}
	defer closeSenders()
	outbox := &laterWorker{}
	a, err := openApp(ctx, e, cfg, true, outbox)
	if err != nil {
		return err
	}
	defer a.Close()
	worker, err := newWorker(a, senders)
	if err != nil {
		return err
	}
	outbox.Worker = worker
	lifecycle := newLogger(e, "info")
	b, _ := readBuild()
	lifecycle.LogAttrs(ctx, slog.LevelInfo, "casegate worker running", slog.String("version", b.version),
		slog.String("revision", b.revision), slog.String("database", databaseKind(cfg.DB)))
	err = worker.Run(ctx)
	lifecycle.LogAttrs(ctx, slog.LevelInfo, "casegate worker stopped", slog.Int("leases_handed_back", worker.HandedBack()))
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
