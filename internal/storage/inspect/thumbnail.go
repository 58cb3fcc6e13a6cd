package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers the GIF decoder
	"image/jpeg"
	_ "image/png" // registers the PNG decoder
	"io"
)

// Thumbnail limits.
const (
	// ThumbnailSide is a thumbnail's longest side in pixels.
	ThumbnailSide = 256
	// ThumbnailMimeType is the format thumbnails are stored in.
	ThumbnailMimeType = "image/jpeg"
	// MaxThumbnailPixels bounds the images decoded for a thumbnail: a
	// decoded image takes up to 4 bytes a pixel, and a small file can
	// declare a huge canvas.
	MaxThumbnailPixels = 24_000_000
)

// ErrImageTooLarge: the image has more pixels than MaxThumbnailPixels.
var ErrImageTooLarge = errors.New("inspect: image too large for a thumbnail")

// Thumbnail decodes a JPEG, PNG or GIF image and returns it scaled down to
// fit ThumbnailSide×ThumbnailSide (never up), over white, as a JPEG. It
// reads the header first and refuses canvases over MaxThumbnailPixels
// before decoding anything.
func Thumbnail(r io.ReadSeeker) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("%w: image header: %v", ErrContentMismatch, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: image has no pixels", ErrContentMismatch)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxThumbnailPixels {
		return nil, ErrImageTooLarge
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("inspect: rewind image: %w", err)
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%w: image: %v", ErrContentMismatch, err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, downscale(img, ThumbnailSide), &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("inspect: encode thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}

// downscale fits src into side×side with a box filter that averages a grid
// of up to 4×4 samples from each destination pixel's box, flattening any
// transparency onto white.
func downscale(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw > side || sh > side {
		if sw >= sh {
			dw, dh = side, max(1, (sh*side+sw/2)/sw)
		} else {
			dw, dh = max(1, (sw*side+sh/2)/sh), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	const maxSamples = 4
	for y := 0; y < dh; y++ {
		y0, y1 := y*sh/dh, max((y+1)*sh/dh, y*sh/dh+1)
		ny := min(maxSamples, y1-y0)
		for x := 0; x < dw; x++ {
			x0, x1 := x*sw/dw, max((x+1)*sw/dw, x*sw/dw+1)
			nx := min(maxSamples, x1-x0)
			var r, g, bl, a uint64
			for j := 0; j < ny; j++ {
				sy := b.Min.Y + y0 + (2*j+1)*(y1-y0)/(2*ny)
				for i := 0; i < nx; i++ {
					sx := b.Min.X + x0 + (2*i+1)*(x1-x0)/(2*nx)
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca)
				}
			}
			n := uint64(nx * ny)
			r, g, bl, a = r/n, g/n, bl/n, a/n
			// Premultiplied colour over white: c + (1 - alpha) * white.
			white := 0xffff - a
			dst.SetRGBA(x, y, color.RGBA{
				R: uint8((r + white) >> 8), G: uint8((g + white) >> 8), B: uint8((bl + white) >> 8), A: 0xff,
			})
		}
	}
	return dst
}
