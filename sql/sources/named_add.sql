-- Remember a source URL (password-free, redacted form) under a name, replacing an earlier one.
INSERT OR REPLACE INTO named_sources (name, url) VALUES ($name, $url);
