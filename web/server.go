// Package web is casegate's HTTP face: the JSON API, the pages, and the
// middleware around them. Handlers decode, call portal, encode; no business
// rule lives here.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/casegate/casegate"
	"github.com/casegate/casegate/accesscode"
	"github.com/casegate/casegate/branding"
	"github.com/casegate/casegate/catalog"
	"github.com/casegate/casegate/delivery"
	"github.com/casegate/casegate/metrics"
	"github.com/casegate/casegate/portal"
)

// Deps is what a Server needs.
type Deps struct {
	Portal         *portal.Portal
	Importer       *portal.Importer
	PublicURL      *url.URL
	TrustedProxies []netip.Prefix
	Mailbox        *delivery.Mailbox // demo mode only; nil elsewhere
	Ready          func(context.Context) error
	Logger         *slog.Logger

	// Keys signs the pages' flow cookie (Tag "flow-cookie"). When nil, a
	// random key for this process is used: fine for one instance and tests,
	// wrong behind a load balancer.
	Keys *accesscode.Keyring
	// Metrics, when set, counts requests and is served at /metrics to operators.
	Metrics *metrics.Registry
	// ProblemBaseURL, when set, is the start of the type URI of every
	// problem document, the error code appended ("https://status.example.gov/problems/"
	// gives ".../problems/code_expired"); when empty, the type is
	// "about:blank". The operator must own the address.
	ProblemBaseURL string
	// Location is the time zone in which pages show times; UTC when nil.
	Location *time.Location
	// Now is the clock of the pages (time left on a code); time.Now when nil.
	// Give the same clock as the portal's.
	Now func() time.Time

	// Agency is the agency's name, contact lines and help address, shown
	// on every page; the zero Agency shows none. Logo, when set, is shown
	// in the header and served from /static/ like the built-in files.
	Agency branding.Agency
	Logo   *branding.Logo
	// Catalog is where the pages' words come from: catalog.Default() when
	// nil (serve sets that to the catalog with the agency's overrides).
	Catalog *catalog.Catalog
}

// Server serves the API and pages.
type Server struct {
	portal   *portal.Portal
	importer *portal.Importer
	public   *url.URL
	proxies  []netip.Prefix
	mailbox  *delivery.Mailbox
	ready    func(context.Context) error
	log      *slog.Logger
	secure   bool // the public URL is https: Secure cookies, HSTS
	cookie   string
	handler  http.Handler
	patterns map[string]bool // every pattern of routes.go
	metrics  *metrics.Registry
	// problemBase starts the type URI of problems; "" for about:blank.
	problemBase string

	now      func() time.Time
	agency   branding.Agency
	loc      *time.Location
	cat      *texts
	pages    pageSet
	assets   assets
	signFlow flowSigner
}

// New checks deps and builds the routes.
func New(d Deps) (*Server, error) {
	if d.Portal == nil || d.PublicURL == nil || d.Ready == nil {
		return nil, errors.New("web: portal, public URL and readiness check are required")
	}
	s := &Server{
		portal: d.Portal, importer: d.Importer, public: d.PublicURL, proxies: d.TrustedProxies,
		mailbox: d.Mailbox, ready: d.Ready, log: d.Logger, metrics: d.Metrics,
		problemBase: d.ProblemBaseURL,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = slog.New(casegate.RequestLogHandler(s.log.Handler()))
	s.now = d.Now
	if s.now == nil {
		s.now = time.Now
	}
	s.signFlow = randomFlowSigner()
	if d.Keys != nil {
		s.signFlow = func(payload string) string { return d.Keys.Tag("flow-cookie", payload) }
	}
	s.loc = d.Location
	if s.loc == nil {
		s.loc = time.UTC
	}
	s.cat = newCatalog(d.Catalog)
	s.agency = d.Agency
	if d.Logo != nil && d.Agency.Name == "" {
		return nil, errors.New("web: a logo needs the agency's name, its alternative text")
	}
	var err error
	if s.assets, err = loadAssets(d.Logo); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(s.cat, s.assets, s.agency, s.loc); err != nil {
		return nil, err
	}
	s.secure = d.PublicURL.Scheme == "https"
	s.cookie = "casegate_session"
	if s.secure {
		s.cookie = "__Host-casegate_session"
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
