"""Trace ingest: files on disk → the normalized `spans` table.

Two stages meet at one contract, the TEMP table `raw_spans` of the loading connection:
`readers` turns one file (OTLP/JSON, JSON Lines of it, or HALO's flat span-per-line JSONL; OTLP
protobuf and zstd are first decoded to OTLP/JSON lines by `otlp_binary`) into `raw_spans`;
`normalize` maps `raw_spans` onto the canonical columns of `spans` and derives what needs the whole
trace (agent of each span, usage counted once, cost).

raw_spans columns (one row per span, every format decoded to this):
    source_line BIGINT        1-based line of the file the span came from (1 for a single document); in
                              a group of small files (`groups`), plus the file's index times
                              readers.FILE_LINE_STRIDE (normalize stores the line alone)
    trace_id VARCHAR          lower-case hex (base64 ids decoded)
    span_id VARCHAR           lower-case hex
    parent_span_id VARCHAR    NULL for a root (empty string and all-zero ids become NULL)
    trace_state VARCHAR
    name VARCHAR
    kind VARCHAR              unspecified|internal|server|client|producer|consumer
    start_ns BIGINT           unix epoch nanoseconds
    end_ns BIGINT             NULL when absent / zero
    status_code VARCHAR       unset|ok|error
    status_message VARCHAR
    resource_attributes JSON  object: key → plain JSON value (AnyValue decoded)
    attributes JSON           object: key → plain JSON value (AnyValue decoded; JSON null kept; a string
                              over HALO_ATTRIBUTE_VALUE_LIMIT cut, with KEY.halo_truncated_length and
                              KEY.halo_sha256 beside it, also in the other attribute objects)
    scope_name VARCHAR
    scope_version VARCHAR
    events JSON               [{"name", "timeUnixNano", "attributes": {...}}]
    links JSON                [{"traceId", "spanId", "traceState", "attributes": {...}}]
"""

from halo_local.ingest.loader import FileLoad, LoadSummary, describe_skipped, load_paths

__all__ = ["FileLoad", "LoadSummary", "describe_skipped", "load_paths"]
