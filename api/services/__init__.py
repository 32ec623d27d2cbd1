"""Services: load what the domain needs, call it, persist, commit once."""
