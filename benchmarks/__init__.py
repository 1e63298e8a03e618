"""Benchmarks behind xpkern's dispatch rules: each script prints a table and writes JSON."""
