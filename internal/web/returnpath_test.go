package web

import "testing"

func TestSafeNextKeepsPathsOnThisSite(t *testing.T) {
	t.Parallel()
	kept := []string{
		"/dashboard",
		"/medications",
		"/calendar?appointment=7b0c8f0e-4f5e-4a43-9a57-0d6a8d1f3c11",
		"/care-recipients/7b0c8f0e-4f5e-4a43-9a57-0d6a8d1f3c11",
		"/accept-invite/AbC_dEf-123",
		"/timeline#today",
		"/calendar?view=week&from=2026-03-02",
	}
	refused := []string{
		"",
		"dashboard",
		"https://evil.example/phish",
		"http:/evil.example",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"//evil.example/phish",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"/\t/evil.example/phish",
		"/%09/evil.example/phish", // the reported bypass: a TAB browsers strip
		"\t//evil.example",
		"/\r\n/evil.example",
		"/%0d%0a/evil.example",
		"/%0a/evil.example",
		"/ /evil.example",
		"/%20/evil.example",
		"/dashboard\x00",
		"/%00",
		"/%2F/evil.example",
		"/%2f/evil.example",
		"%2F%2Fevil.example",
		"/%5Cevil.example",
		"/%5cevil.example",
		"/%252F/evil.example", // encoded twice
		"/%25252F%25252Fevil.example",
		"/\u00a0/evil.example",      // no-break space
		"/\u200b/evil.example",      // zero-width space (a format character)
		"/\u2028/evil.example",      // line separator
		"/%E2%80%A8/evil.example",   // the same, encoded
		"/%zz",                      // not percent-encoding
		"/documents?q=labs%20march", // whitespace once decoded, even in the query
	}
	for _, p := range kept {
		if got := safeNext(p); got != p {
			t.Errorf("safeNext(%q) = %q, want it kept", p, got)
		}
	}
	for _, p := range refused {
		if got := safeNext(p); got != defaultReturnPath {
			t.Errorf("safeNext(%q) = %q, want %q", p, got, defaultReturnPath)
		}
	}
}
