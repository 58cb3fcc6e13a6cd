package api

func (s *Server) careRecipientRoutes() {}
