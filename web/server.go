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

	"github.com/casegate/casegate/delivery"
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
}

// New checks deps and builds the routes.
func New(d Deps) (*Server, error) {
	if d.Portal == nil || d.PublicURL == nil || d.Ready == nil {
		return nil, errors.New("web: portal, public URL and readiness check are required")
	}
	s := &Server{
		portal: d.Portal, importer: d.Importer, public: d.PublicURL, proxies: d.TrustedProxies,
		mailbox: d.Mailbox, ready: d.Ready, log: d.Logger,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
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
