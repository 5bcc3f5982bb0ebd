"""Helpers every layer shares: timestamps, row and naming conventions, the package's own version."""
