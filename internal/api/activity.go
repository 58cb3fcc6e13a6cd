package api

// activityRoutes registers the routes of the family activity feed.
func (s *Server) activityRoutes() {}
