package api

// timelineRoutes registers the routes of timeline entries, vitals history and incidents.
func (s *Server) timelineRoutes() {}
