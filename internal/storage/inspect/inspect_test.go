package inspect

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"testing/iotest"
)

// Sample contents, as the first bytes of real files of each format.
var (
	pngBytes  = encodePNG(image.NewRGBA(image.Rect(0, 0, 4, 4)))
	jpegBytes = encodeJPEG(image.NewRGBA(image.Rect(0, 0, 4, 4)))
	pdfBytes  = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n" +
		"3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n" +
		"4 0 obj <</Type/Page/Parent 2 0 R>> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	ole2Bytes = append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 504)...)
	mp4Bytes  = []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
	movBytes  = []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")
	webmBytes = []byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm")
	mkvBytes  = []byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x88matroska")
	mp3ID3    = []byte("ID3\x04\x00\x00\x00\x00\x00\x00")
	mp3Frame  = []byte("\xFF\xFB\x90\x64\x00\x00\x00\x00")
	wavBytes  = []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	webpBytes = []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
	gifBytes  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	bmpBytes  = append([]byte("BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"), make([]byte, 40)...)
	htmlBytes = []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	exeBytes  = append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...)
)

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func encodeJPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func officePackage(parts ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, p := range parts {
		w, err := zw.Create(p)
		if err != nil {
			panic(err)
		}
		_, _ = w.Write([]byte("<xml/>"))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func head(b []byte) []byte { return b[:min(len(b), SniffLen)] }

func TestIdentify(t *testing.T) {
	t.Parallel()
	docx := officePackage("[Content_Types].xml", "word/document.xml")
	ok := []struct {
		name, declared string
		content        []byte
		want           string
	}{
		{"scan.png", "image/png", pngBytes, "image/png"},
		{"photo.JPG", "image/jpeg", jpegBytes, "image/jpeg"},
		{"photo.jpeg", "image/pjpeg", jpegBytes, "image/jpeg"},
		{"anim.gif", "", gifBytes, "image/gif"},
		{"pic.webp", "image/webp", webpBytes, "image/webp"},
		{"pic.bmp", "image/bmp", bmpBytes, "image/bmp"},
		{"card.pdf", "application/pdf", pdfBytes, "application/pdf"},
		{"card.pdf", "application/octet-stream", pdfBytes, "application/pdf"},
		{"letter.doc", "application/msword", ole2Bytes, "application/msword"},
		{"sheet.xls", "", ole2Bytes, "application/vnd.ms-excel"},
		{"letter.docx", "", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"notes.txt", "text/plain; charset=utf-8", []byte("Blood pressure 120/80, feeling well. Zoë visited."), "text/plain"},
		{"bmw.txt", "", []byte("BMW service notes: oil changed, tyres checked and rotated on Monday"), "text/plain"},
		{"doses.csv", "application/vnd.ms-excel", []byte("date,dose\n2026-03-01,5mg\n"), "text/csv"},
		{"clip.mp4", "video/mp4", mp4Bytes, "video/mp4"},
		{"clip.mov", "video/quicktime", movBytes, "video/quicktime"},
		{"clip.webm", "video/webm", webmBytes, "video/webm"},
		{"voice.weba", "audio/webm", webmBytes, "audio/webm"},
		{"voice.mp3", "audio/mpeg", mp3ID3, "audio/mpeg"},
		{"voice.mp3", "audio/mp3", mp3Frame, "audio/mpeg"},
		{"voice.wav", "audio/x-wav", wavBytes, "audio/wav"},
	}
	for _, tc := range ok {
		f, err := Identify(tc.name, tc.declared, head(tc.content))
		if err != nil || f.MimeType != tc.want {
			t.Errorf("Identify(%s, %q) = %s, %v; want %s", tc.name, tc.declared, f.MimeType, err, tc.want)
		}
	}
	bad := []struct {
		name, declared string
		content        []byte
		want           error
	}{
		{"scan.pdf", "application/pdf", pngBytes, ErrContentMismatch}, // a PNG named .pdf
		{"scan.pdf", "image/png", pngBytes, ErrDeclaredMismatch},      // and declared as one
		{"setup.exe", "application/octet-stream", exeBytes, ErrNotAllowed},
		{"page.html", "text/html", htmlBytes, ErrNotAllowed},
		{"page.txt", "text/plain", htmlBytes, ErrContentMismatch}, // HTML is not plain text
		{"image.svg", "image/svg+xml", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), ErrNotAllowed},
		{"noext", "", pdfBytes, ErrNotAllowed},
		{"clip.webm", "", mkvBytes, ErrContentMismatch},
		{"letter.docx", "", ole2Bytes, ErrContentMismatch},
		{"notes.txt", "", []byte("abc\x00def"), ErrContentMismatch},
		{"notes.txt", "", []byte("\xff\xfeh\x00i\x00"), ErrContentMismatch}, // UTF-16
		{"empty.pdf", "", nil, ErrContentMismatch},
		{"card.pdf", "not a type", pdfBytes, ErrDeclaredMismatch},
	}
	for _, tc := range bad {
		if _, err := Identify(tc.name, tc.declared, head(tc.content)); !errors.Is(err, tc.want) {
			t.Errorf("Identify(%s, %q) = %v, want %v", tc.name, tc.declared, err, tc.want)
		}
	}
}

func TestIdentifyAllowsARuneCutAtTheSniffLength(t *testing.T) {
	t.Parallel()
	text := []byte(strings.Repeat("a", SniffLen-1) + "é and more")
	if _, err := Identify("notes.txt", "", head(text)); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	pdf, _ := ByExtension("x.pdf")
	// One byte at a time: every match straddles a chunk boundary.
	for name, r := range map[string]*bytes.Reader{"whole": bytes.NewReader(pdfBytes), "bytewise": bytes.NewReader(pdfBytes)} {
		rd := any(r).(interface{ Read([]byte) (int, error) })
		if name == "bytewise" {
			rd = iotest.OneByteReader(r)
		}
		rep, err := Verify(pdf, rd)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdfBytes)
		if rep.SHA256 != hex.EncodeToString(sum[:]) || rep.Size != int64(len(pdfBytes)) || rep.PageCount != 2 {
			t.Errorf("%s: %+v", name, rep)
		}
	}

	txt, _ := ByExtension("x.txt")
	long := strings.Repeat("Fine day, good appetite. ", 1000)
	if _, err := Verify(txt, iotest.HalfReader(strings.NewReader(long+"Zoë"))); err != nil {
		t.Errorf("valid text: %v", err)
	}
	// Binary past the first bytes a sniffer reads is still caught.
	if _, err := Verify(txt, strings.NewReader(long+"\x00\x01\x02")); !errors.Is(err, ErrContentMismatch) {
		t.Errorf("binary tail: %v", err)
	}
	if _, err := Verify(txt, strings.NewReader(long+"\xc3")); !errors.Is(err, ErrContentMismatch) {
		t.Errorf("truncated rune at the end: %v", err)
	}
	png, _ := ByExtension("x.png")
	if _, err := Verify(png, bytes.NewReader(jpegBytes)); !errors.Is(err, ErrContentMismatch) {
		t.Errorf("JPEG stored as PNG: %v", err)
	}
}

func TestVerifyPackage(t *testing.T) {
	t.Parallel()
	docx, _ := ByExtension("a.docx")
	xlsx, _ := ByExtension("a.xlsx")
	word := officePackage("[Content_Types].xml", "word/document.xml")
	sheet := officePackage("[Content_Types].xml", "xl/workbook.xml")
	other := officePackage("readme.txt")
	check := func(f Format, b []byte) error { return VerifyPackage(f, bytes.NewReader(b), int64(len(b))) }
	if err := check(docx, word); err != nil {
		t.Error(err)
	}
	if err := check(xlsx, sheet); err != nil {
		t.Error(err)
	}
	for _, err := range []error{check(docx, sheet), check(xlsx, word), check(docx, other), check(docx, word[:len(word)/2])} {
		if !errors.Is(err, ErrContentMismatch) {
			t.Errorf("mismatched package: %v", err)
		}
	}
}

func TestThumbnail(t *testing.T) {
	t.Parallel()
	src := image.NewNRGBA(image.Rect(0, 0, 1000, 500))
	for y := 0; y < 500; y++ {
		for x := 0; x < 1000; x++ {
			if x < 500 {
				src.Set(x, y, color.NRGBA{R: 200, A: 255}) // red left half
			} // transparent right half
		}
	}
	thumb, err := Thumbnail(bytes.NewReader(encodePNG(src)))
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(thumb))
	if err != nil || format != "jpeg" {
		t.Fatalf("thumbnail is %s: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 128 {
		t.Fatalf("thumbnail is %v", b)
	}
	near := func(c color.Color, r, g, b uint8) bool {
		cr, cg, cb, _ := c.RGBA()
		d := func(v uint32, w uint8) bool { return int(v>>8)-int(w) < 12 && int(w)-int(v>>8) < 12 }
		return d(cr, r) && d(cg, g) && d(cb, b)
	}
	if c := img.At(60, 60); !near(c, 200, 0, 0) {
		t.Errorf("left half is %v, want red", c)
	}
	if c := img.At(200, 60); !near(c, 255, 255, 255) {
		t.Errorf("transparent half is %v, want white", c)
	}

	// Small images are not scaled up.
	small, err := Thumbnail(bytes.NewReader(jpegBytes))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _, _ := image.DecodeConfig(bytes.NewReader(small)); cfg.Width != 4 || cfg.Height != 4 {
		t.Errorf("small image became %dx%d", cfg.Width, cfg.Height)
	}

	if _, err := Thumbnail(bytes.NewReader(pdfBytes)); !errors.Is(err, ErrContentMismatch) {
		t.Errorf("not an image: %v", err)
	}
}

// TestThumbnailRefusesHugeCanvasesBeforeDecoding: a tiny PNG whose header
// claims 100000×100000 pixels would need 40 GB decoded.
func TestThumbnailRefusesHugeCanvasesBeforeDecoding(t *testing.T) {
	t.Parallel()
	b := encodePNG(image.NewGray(image.Rect(0, 0, 1, 1)))
	// IHDR data starts after the 8-byte signature and the chunk's length
	// and type; its CRC follows the 13 data bytes.
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if _, err := Thumbnail(bytes.NewReader(b)); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("huge canvas: %v", err)
	}
}
