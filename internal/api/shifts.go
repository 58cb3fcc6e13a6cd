package api

func (s *Server) shiftRoutes() {}
