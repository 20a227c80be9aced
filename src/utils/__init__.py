"""Small shared helpers: project paths, atomic file writes and hashing, logging, and the benchmark recorder."""
