"""sesam benchmarks: scripts that print numbers (never timed tests)."""
