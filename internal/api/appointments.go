package api

func (s *Server) appointmentRoutes() {}
