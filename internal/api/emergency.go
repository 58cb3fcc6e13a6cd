package api

// emergencyRoutes registers the routes of the emergency information card and emergency alerts.
func (s *Server) emergencyRoutes() {}
