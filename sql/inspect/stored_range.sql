-- What the database holds at all: span count and the first and last span times.
SELECT count(*), min(start_time), max(coalesce(end_time, start_time)) FROM spans
