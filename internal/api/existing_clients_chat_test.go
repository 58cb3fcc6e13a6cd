package api

import (
	"testing"
)

// TestChatAndNotProvidedRoutes: chat answers as the original does without a
// chat service; interactions and AI are 501 in the error envelope.
func TestChatAndNotProvidedRoutes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		f := newFixture(t, h, newMatrixUsers(h))
		tok := h.request("GET", "/chat/token", f.viewer.Token, nil).expect(200).Map()
		if _, has := tok["token"]; !has || tok["token"] != nil || tok["configured"] != false || tok["userId"] != f.viewer.ID {
			t.Fatalf("chat token = %v", tok)
		}
		if st := h.request("GET", "/chat/status", f.viewer.Token, nil).expect(200).Map(); st["configured"] != false {
			t.Fatalf("chat status = %v", st)
		}
		if in := h.request("GET", "/chat/family/"+f.FamilyID+"/init", f.viewer.Token, nil).expect(200).Map(); in["success"] != false || in["configured"] != false {
			t.Fatalf("chat init = %v", in)
		}
		if l := h.request("GET", "/chat/channels", f.viewer.Token, nil).expect(200).List(); len(l) != 0 {
			t.Fatalf("channels = %v", l)
		}
		for _, c := range [][2]string{
			{"GET", "/care-recipients/" + f.CareRecipientID + "/medications/interactions"},
			{"GET", "/ai/summary/daily/" + f.CareRecipientID},
			{"POST", "/ai/ask"},
		} {
			m := h.request(c[0], c[1], f.admin.Token, map[string]any{"question": "How was the night?"}).errorEnvelope(501)
			if m["message"] == "" {
				t.Errorf("%s %s: no message", c[0], c[1])
			}
		}
		h.request("GET", "/ai/summary/daily/not-a-uuid", f.admin.Token, nil).errorEnvelope(400)
	})
}
