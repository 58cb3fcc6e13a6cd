package api

func (s *Server) authRoutes() {}
