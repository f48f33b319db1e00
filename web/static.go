package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/casegate/casegate/branding"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with the hash of its content.
type asset struct {
	body        []byte
	contentType string
	hash        string // 16 hex characters of SHA-256
}

// assets are the static files by name.
type assets map[string]*asset

// loadAssets reads and hashes every file under static/, and the agency's
// logo when there is one (already checked: see branding.LoadLogo).
func loadAssets(logo *branding.Logo) (assets, error) {
	a := assets{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a[path.Base(p)] = &asset{body: body, contentType: ct, hash: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	if logo != nil {
		if _, clash := a[logo.Name]; clash || path.Base(logo.Name) != logo.Name {
			return nil, fmt.Errorf("web: the logo's name %q is taken", logo.Name)
		}
		sum := sha256.Sum256(logo.Body)
		a[logo.Name] = &asset{body: logo.Body, contentType: logo.ContentType, hash: hex.EncodeToString(sum[:8])}
	}
	return a, nil
}

// url is where pages link to the asset: its path with the content hash, so
// that the link changes whenever the file does.
func (a assets) url(name string) (string, error) {
	f, ok := a[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

// serveStatic serves an embedded file. Asked for by its current hash, it may
// be cached for a year; otherwise the client revalidates with the ETag.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) error {
	f, ok := s.assets[r.PathValue("name")]
	if !ok {
		return notFound(w, r)
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	return nil
}
