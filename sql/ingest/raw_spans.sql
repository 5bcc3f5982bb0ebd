-- The reader → normalize contract (documented in halo_local/ingest/__init__.py): one row per span.
CREATE OR REPLACE TEMP TABLE raw_spans (
    source_line         BIGINT,
    trace_id            VARCHAR,
    span_id             VARCHAR,
    parent_span_id      VARCHAR,
    trace_state         VARCHAR,
    name                VARCHAR,
    kind                VARCHAR,
    start_ns            BIGINT,
    end_ns              BIGINT,
    status_code         VARCHAR,
    status_message      VARCHAR,
    resource_attributes JSON,
    attributes          JSON,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    events              JSON,
    links               JSON
);
