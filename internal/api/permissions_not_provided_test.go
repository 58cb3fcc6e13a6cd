package api

import "testing"

// notProvidedMatrix covers the chat, interaction and AI routes: permissions
// first, then what the original answers without those services.
func notProvidedMatrix() []matrixCase {
	return []matrixCase{
		{"chat status", "GET", path("/chat/status"), signedIn(200)},
		{"chat token", "GET", path("/chat/token"), signedIn(200)},
		{"chat channels", "GET", path("/chat/channels"), signedIn(200)},
		{"chat family init", "GET", path("/chat/family/%s/init", familyID), member(200)},
		{"chat family channel", "POST", withBody(map[string]any{"familyName": "x"}, "/chat/family/%s/channel", familyID), nonViewer(501)},
		{"chat topic", "POST", withBody(map[string]any{"topic": "meds"}, "/chat/family/%s/topic", familyID), nonViewer(501)},
		{"chat add member", "POST", path("/chat/family/%s/member/%s", familyID, viewerMemberID), adminOnly(501)},
		{"interactions", "GET", path("/care-recipients/%s/medications/interactions", careRecipientID), member(501)},
		{"interactions check", "POST", withBody(map[string]any{"name": "x"}, "/care-recipients/%s/medications/interactions/check-new", careRecipientID), member(501)},
		{"ai daily", "GET", path("/ai/summary/daily/%s", careRecipientID), member(501)},
		{"ai weekly", "GET", path("/ai/summary/weekly/%s", careRecipientID), member(501)},
		{"ai parse", "POST", withBody(map[string]any{"text": "x"}, "/ai/smart-entry/parse"), signedIn(501)},
		{"ai ask", "POST", withBody(map[string]any{"question": "x"}, "/ai/ask"), signedIn(501)},
	}
}

func TestPermissionMatrixNotProvided(t *testing.T) {
	t.Parallel()
	runMatrix(t, notProvidedMatrix())
}
