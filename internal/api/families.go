package api

func (s *Server) familyRoutes() {}
