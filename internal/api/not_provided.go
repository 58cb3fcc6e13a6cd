package api

import (
	"net/http"
)

// Routes of the original API that CareCircle answers without providing the
// feature behind them: chat answers as the original does when its chat
// service is not configured, so clients show "chat unavailable"; the
// medication interaction checker (a hard-coded demonstration list in the
// original) and the AI routes (a paid model) answer 501 in the error
// envelope. Permissions are checked first, as a real route would.

// chatUnavailable is the message of every chat answer.
const chatUnavailable = "Chat is not available on this server"

func (s *Server) notProvidedRoutes() {
	s.authed("GET", "/chat/status", s.chatStatus)
	s.authed("GET", "/chat/token", s.chatToken)
	s.authed("GET", "/chat/channels", s.chatChannels)
	s.authed("GET", "/chat/family/{familyId}/init", s.chatFamilyInit)
	s.authed("POST", "/chat/family/{familyId}/channel", s.chatNotConfigured(writer))
	s.authed("POST", "/chat/family/{familyId}/topic", s.chatNotConfigured(writer))
	s.authed("POST", "/chat/family/{familyId}/member/{memberId}", s.chatNotConfigured(admin))

	const interactions = "/care-recipients/{careRecipientId}/medications/interactions"
	s.authed("GET", interactions, s.notImplementedFor(anyMember, "Medication interaction checking is not provided"))
	s.authed("POST", interactions+"/check-new", s.notImplementedFor(anyMember, "Medication interaction checking is not provided"))
	const ai = "AI features are not provided"
	s.authed("GET", "/ai/summary/daily/{careRecipientId}", s.notImplementedFor(anyMember, ai))
	s.authed("GET", "/ai/summary/weekly/{careRecipientId}", s.notImplementedFor(anyMember, ai))
	s.authed("POST", "/ai/smart-entry/parse", s.notImplemented(ai))
	s.authed("POST", "/ai/ask", s.notImplemented(ai))
}

// chatStatus answers that chat is not configured.
func (s *Server) chatStatus(w http.ResponseWriter, _ *http.Request, _ *Principal) error {
	writeJSON(w, http.StatusOK, map[string]any{"configured": false})
	return nil
}

// chatToken answers no token, as the original does without a chat service.
func (s *Server) chatToken(w http.ResponseWriter, _ *http.Request, p *Principal) error {
	writeJSON(w, http.StatusOK, map[string]any{"token": nil, "userId": p.User.ID, "configured": false, "message": chatUnavailable})
	return nil
}

// chatChannels lists no channels.
func (s *Server) chatChannels(w http.ResponseWriter, _ *http.Request, _ *Principal) error {
	writeJSON(w, http.StatusOK, []any{})
	return nil
}

// chatFamilyInit answers, to a member, that the family has no chat.
func (s *Server) chatFamilyInit(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if _, _, err := s.familyAccess(r, p, anyMember); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": false, "configured": false, "message": chatUnavailable})
	return nil
}

// chatNotConfigured answers 501 to a member with at least n: chat channels
// cannot be made.
func (s *Server) chatNotConfigured(n need) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		if _, _, err := s.familyAccess(r, p, n); err != nil {
			return err
		}
		if r.PathValue("memberId") != "" {
			if _, err := pathID(r, "memberId"); err != nil {
				return err
			}
		}
		return errorf(http.StatusNotImplemented, "%s", chatUnavailable)
	}
}

// notImplementedFor answers 501 to a member with at least n of the care
// recipient {careRecipientId}.
func (s *Server) notImplementedFor(n need, msg string) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		if _, err := s.careRecipientAccess(r, p, "careRecipientId", n); err != nil {
			return err
		}
		return errorf(http.StatusNotImplemented, "%s", msg)
	}
}

// notImplemented answers 501 to anyone signed in.
func (s *Server) notImplemented(msg string) authedFunc {
	return func(http.ResponseWriter, *http.Request, *Principal) error {
		return errorf(http.StatusNotImplemented, "%s", msg)
	}
}
