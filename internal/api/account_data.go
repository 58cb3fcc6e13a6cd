package api

// accountDataRoutes registers the routes of a user's data export and account deletion.
func (s *Server) accountDataRoutes() {}
