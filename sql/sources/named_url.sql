-- The URL a --source name stands for (no row: no such name).
SELECT url FROM named_sources WHERE name = $name;
