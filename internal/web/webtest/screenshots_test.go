package webtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/demo"
	"github.com/carecircle/carecircle/internal/store"
)

// TestScreenshots writes the documentation's screenshots of the main pages,
// with the demo family, at phone and desktop width, into the directory
// CARECIRCLE_SCREENSHOTS names (docs/screenshots from the repository root).
// Without it the test is skipped.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("CARECIRCLE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set CARECIRCLE_SCREENSHOTS=dir to write the screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServerWith(t, func(ctx context.Context, st *store.Store) error {
		_, err := demo.Seed(ctx, st, time.Now())
		return err
	})
	pages := []struct{ name, path string }{
		{"login", "/login"}, {"dashboard", "/dashboard"}, {"medications", "/medications"}, {"calendar", "/calendar"},
		{"shifts", "/caregivers"}, {"timeline", "/timeline"}, {"emergency", "/emergency"}, {"family", "/family"},
		{"documents", "/documents"}, {"settings", "/settings"},
	}
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}} {
		tb := newTab(t, size.name)
		var opts []chromedp.EmulateViewportOption
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		tb.do(chromedp.EmulateViewport(size.width, size.height, opts...))
		for _, p := range pages {
			if p.name == "login" {
				tb.do(chromedp.Navigate(s.base + p.path))
				tb.waitFor(`document.body.dataset.ready !== undefined`, stepTimeout)
			} else {
				if p.name == "dashboard" {
					tb.do(fill("#email", demo.Users[0].Email), fill("#password", demo.Password))
					tb.click(`form[data-api] button[type=submit]`)
				} else {
					tb.do(chromedp.Navigate(s.base + p.path))
				}
				tb.waitFor(`location.pathname === '`+p.path+`' && document.body.dataset.realtime === 'live' && !document.querySelector('main').textContent.includes('Loading…')`, stepTimeout)
			}
			png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s %s: %v", size.name, p.name, err)
			}
			if !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatalf("%s %s: not a PNG", size.name, p.name)
			}
			if err := os.WriteFile(filepath.Join(dir, p.name+"-"+size.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
