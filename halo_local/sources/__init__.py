"""Where spans live besides the local store: a ClickHouse table named by a URL.

`url` parses and redacts source URLs (and keeps named shortcuts); `clickhouse` reads an
OpenTelemetry Collector `otel_traces` table read-only; `dialect` turns the attribute mapping
(sql/normalize/mapping.sql) into ClickHouse expressions.
"""
