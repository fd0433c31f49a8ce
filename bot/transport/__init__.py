"""How requests reach the app: HTTP routes, the servers, Socket Mode, OAuth, request limits."""
