-- Every named source, by name (`halo-local sources list`).
SELECT name, url FROM named_sources ORDER BY name;
