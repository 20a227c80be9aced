"""Small shared helpers: project paths, atomic file writes, hashing and logging."""
