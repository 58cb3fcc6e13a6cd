package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The app icon: a white ring (the circle of carers) around a warm dot on
// CareCircle's green, drawn here so that the PNG sizes browsers and phones
// ask for need no build step and always match icon.svg.
var (
	iconGreen = color.NRGBA{0x0b, 0x5d, 0x4b, 0xff}
	iconWhite = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	iconWarm  = color.NRGBA{0xf4, 0xb9, 0x42, 0xff}
)

// iconPNG draws the icon at size×size pixels. A maskable icon keeps its
// drawing inside the central 80 % safe zone and fills the whole square.
func iconPNG(size int, maskable bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	c := s / 2
	radius := s * 0.22 // corner radius of the tile
	scale := 1.0
	if maskable {
		radius, scale = 0, 0.8
	}
	ringOuter, ringInner, dot := s*0.34*scale, s*0.25*scale, s*0.12*scale
	for y := range size {
		for x := range size {
			px, py := float64(x)+0.5, float64(y)+0.5
			if !insideRounded(px, py, s, radius) {
				continue
			}
			d := math.Hypot(px-c, py-c)
			switch {
			case d <= dot:
				img.SetNRGBA(x, y, iconWarm)
			case d >= ringInner && d <= ringOuter:
				img.SetNRGBA(x, y, iconWhite)
			default:
				img.SetNRGBA(x, y, iconGreen)
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

// insideRounded reports whether (x, y) lies in the size×size square with
// corners rounded by r.
func insideRounded(x, y, size, r float64) bool {
	if r <= 0 {
		return true
	}
	cx := math.Min(math.Max(x, r), size-r)
	cy := math.Min(math.Max(y, r), size-r)
	return math.Hypot(x-cx, y-cy) <= r
}

// generatedIcons are the PNG icons the manifest and pages name.
func generatedIcons() map[string][]byte {
	return map[string][]byte{
		"icons/icon-192.png":     iconPNG(192, false),
		"icons/icon-512.png":     iconPNG(512, false),
		"icons/maskable-512.png": iconPNG(512, true),
		"icons/apple-180.png":    iconPNG(180, true),
		"icons/badge-72.png":     iconPNG(72, true),
	}
}
