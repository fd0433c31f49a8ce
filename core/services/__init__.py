"""Use cases, one module per area; each function takes a unit of work and an actor."""
