package web

import (
	"net/http"
	"slices"

	"github.com/carecircle/carecircle/internal/care"
)

// settings shows the profile, password, notification preferences, push,
// export and account deletion.
func (s *Server) settings(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title = "Settings"
	prefs := care.ReadNotificationPreferences(p.Viewer.User.Preferences)
	if prefs.QuietHours == nil {
		prefs.QuietHours = &care.QuietHours{Start: "22:00", End: "07:00"}
	}
	p.Data = map[string]any{"Prefs": prefs, "Zones": commonZones(p.Viewer.User.Timezone)}
	return "settings", nil
}

// commonZones offers the zones families most often live in, with the
// user's own first.
func commonZones(mine string) []string {
	zones := []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
		"Pacific/Honolulu", "America/Toronto", "America/Mexico_City", "America/Sao_Paulo", "Europe/London", "Europe/Dublin",
		"Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw", "Europe/Athens", "Africa/Lagos",
		"Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
		"Australia/Sydney", "Pacific/Auckland", "UTC"}
	if mine != "" && !slices.Contains(zones, mine) {
		zones = append([]string{mine}, zones...)
	}
	return zones
}
