package web

import (
	"net/http"
)

// careRecipients lists everyone the viewer's families care for.
func (s *Server) careRecipients(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "People we care for"
	return "carerecipients", nil
}

// careRecipientPage shows one care recipient's profile, doctors and
// emergency contacts.
func (s *Server) careRecipientPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", err
	}
	if err := p.focus(id); err != nil {
		return "", err
	}
	p.Title = p.CR.FullName
	d, err := s.svc.CareRecipients.Get(r.Context(), *p.Viewer, id)
	if err != nil {
		return "", err
	}
	p.Data = map[string]any{"Doctors": d.Doctors, "Contacts": d.EmergencyContacts, "BloodTypes": bloodTypes}
	return "carerecipient", nil
}

var bloodTypes = []string{"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-", "Unknown"}
