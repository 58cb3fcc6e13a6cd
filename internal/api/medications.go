package api

func (s *Server) medicationRoutes() {}
