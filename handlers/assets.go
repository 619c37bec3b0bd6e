package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// assetSet serves the embedded static files at content-hashed URLs
// (/static/<name>.<hash>.<ext>) with immutable caching and ETags.
type assetSet struct {
	byURL map[string]asset // "/static/app.3f2a1c9e.css" -> file
	urls  map[string]string
}

type asset struct {
	body  []byte
	ctype string
	etag  string
}

func newAssetSet(files fs.FS) (*assetSet, error) {
	a := &assetSet{byURL: map[string]asset{}, urls: map[string]string{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		// sw.js is served at /sw.js, never at a hashed URL (offline.go).
		if err != nil || d.IsDir() || strings.HasSuffix(name, ".go") || name == "sw.js" {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		url := "/static/" + strings.TrimSuffix(name, ext) + "." + hash + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a.byURL[url] = asset{body: b, ctype: ctype, etag: `"` + hash + `"`}
		a.urls[name] = url
		return nil
	})
	return a, err
}

// url returns the hashed URL of a file name ("app.css").
func (a *assetSet) url(name string) string {
	if u, ok := a.urls[name]; ok {
		return u
	}
	return "/static/missing/" + name
}

// serve answers /static/ requests.
func (a *assetSet) serve(c *fiber.Ctx) error {
	f, ok := a.byURL[c.Path()]
	if !ok {
		return fiber.ErrNotFound
	}
	return f.send(c)
}

// send answers with the file, cached for a year (its URL changes with it).
func (f asset) send(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, f.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.ctype)
	return c.Send(f.body)
}

// favicon answers /favicon.ico, which browsers ask for on a first visit
// whatever the page links: the page's icon (linked from every page's head
// at its hashed URL), cached like the other static files.
func (a *assetSet) favicon(c *fiber.Ctx) error {
	return a.byURL[a.url("favicon.ico")].send(c)
}
