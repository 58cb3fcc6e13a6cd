package inspect

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"unicode/utf8"
)

// Report is what one full read of a file found.
type Report struct {
	SHA256 string
	Size   int64
	// PageCount is a PDF's number of pages, or 0 when it could not be
	// counted cheaply (pages kept in compressed object streams).
	PageCount int
}

// Verify reads the whole content once: it hashes it, checks its leading
// bytes again, checks that text is UTF-8 text throughout, and counts a PDF's
// page objects. Content that is not of format f fails with an error that
// wraps ErrContentMismatch; other errors come from r.
func Verify(f Format, r io.Reader) (Report, error) {
	h := sha256.New()
	head := make([]byte, 0, SniffLen)
	var text textChecker
	var pages pageCounter
	var size int64
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		size += int64(n)
		h.Write(chunk)
		if len(head) < SniffLen {
			head = append(head, chunk[:min(n, SniffLen-len(head))]...)
		}
		if f.isText() && !text.write(chunk) {
			return Report{}, fmt.Errorf("%w: %s file is not UTF-8 text throughout", ErrContentMismatch, f.Name)
		}
		if f.IsPDF() {
			pages.write(chunk)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("inspect: read: %w", err)
		}
	}
	if got := sniff(head); got != f.content {
		return Report{}, fmt.Errorf("%w: %s content in a %s file", ErrContentMismatch, describe(got), f.Name)
	}
	if f.isText() && !text.close() {
		return Report{}, fmt.Errorf("%w: %s file ends inside a character", ErrContentMismatch, f.Name)
	}
	rep := Report{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size}
	if f.IsPDF() {
		rep.PageCount = pages.close()
	}
	return rep, nil
}

// packageParts are the parts an Office Open XML file of each format holds.
var packageParts = map[string][]string{
	"docx": {"[Content_Types].xml", "word/document.xml"},
	"xlsx": {"[Content_Types].xml", "xl/workbook.xml"},
}

// VerifyPackage checks that a ZIP-based office file is the document it
// claims to be (a Word file is not a spreadsheet, nor any other archive),
// reading only the archive's directory. Other formats pass.
func VerifyPackage(f Format, ra io.ReaderAt, size int64) error {
	want, ok := packageParts[f.Name]
	if !ok {
		return nil
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("%w: %s file is not a readable archive", ErrContentMismatch, f.Name)
	}
	have := map[string]bool{}
	for _, zf := range zr.File {
		have[zf.Name] = true
	}
	for _, part := range want {
		if !have[part] {
			return fmt.Errorf("%w: %s file lacks %s", ErrContentMismatch, f.Name, part)
		}
	}
	return nil
}

// textChecker validates UTF-8 text written to it in arbitrary chunks.
type textChecker struct {
	pending []byte // an incomplete rune carried over from the last chunk
}

func (t *textChecker) write(chunk []byte) bool {
	b := chunk
	if len(t.pending) > 0 {
		b = append(t.pending, chunk...)
	}
	whole := trimPartialRune(b)
	t.pending = append([]byte(nil), b[len(whole):]...)
	return validText(whole)
}

func (t *textChecker) close() bool { return len(t.pending) == 0 || utf8.Valid(t.pending) }

// pageCounter counts "/Type /Page" objects (not "/Type /Pages") in PDF
// content written to it in arbitrary chunks.
type pageCounter struct {
	carry []byte
	count int
}

// pageOverlap is carried between chunks: longer than any match.
const pageOverlap = 64

func (p *pageCounter) write(chunk []byte) {
	data := append(p.carry, chunk...)
	cut := len(data) - pageOverlap
	if cut <= 0 {
		p.carry = data
		return
	}
	p.count += countPages(data, cut)
	p.carry = append([]byte(nil), data[cut:]...)
}

func (p *pageCounter) close() int {
	return p.count + countPages(p.carry, len(p.carry))
}

// countPages counts the page objects whose "/Type" starts before limit.
func countPages(data []byte, limit int) int {
	n := 0
	for i := 0; i < limit; i++ {
		if data[i] != '/' || !hasAt(data, i, "/Type") {
			continue
		}
		j := i + len("/Type")
		for k := 0; j < len(data) && k < 32 && isPDFSpace(data[j]); k++ {
			j++
		}
		if !hasAt(data, j, "/Page") {
			continue
		}
		j += len("/Page")
		if j < len(data) && isPDFNameChar(data[j]) {
			continue // "/Pages", or another name that starts the same
		}
		n++
	}
	return n
}

func hasAt(b []byte, i int, s string) bool {
	return len(b) >= i+len(s) && string(b[i:i+len(s)]) == s
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// isPDFNameChar reports whether c continues a PDF name (anything but
// white space and delimiters).
func isPDFNameChar(c byte) bool {
	if isPDFSpace(c) {
		return false
	}
	switch c {
	case '/', '<', '>', '[', ']', '(', ')', '{', '}', '%':
		return false
	}
	return true
}
