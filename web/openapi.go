package web

import (
	_ "embed"
	"net/http"
)

// openAPISpec is the checked-in OpenAPI 3.1 description of the API; a test
// holds it and the routes to each other.
//
//go:embed api/openapi.yaml
var openAPISpec []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPISpec)
}

// metricsHandler serves /metrics behind an operator token, or 404 when no
// metrics registry is configured.
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		return notFound(w, r)
	}
	s.metrics.Handler().ServeHTTP(w, r)
	return nil
}
