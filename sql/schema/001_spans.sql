-- The normalized span store: one row per span, canonical columns beside the raw attributes.
-- Every other table and every heuristic reads from here. Raw OTel data is kept as JSON so that
-- nothing a convention we do not map carries is lost.
CREATE TABLE spans (
    trace_id            VARCHAR NOT NULL,   -- lower-case hex (base64 ids are decoded to hex)
    span_id             VARCHAR NOT NULL,   -- lower-case hex; HALO's 24-hex ids kept as they are
    parent_span_id      VARCHAR,            -- NULL for a root; may name a span not stored (orphan)
    name                VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,   -- unspecified|internal|server|client|producer|consumer
    start_ns            BIGINT NOT NULL,    -- unix epoch nanoseconds, exact
    end_ns              BIGINT,             -- NULL when the span never ended
    start_time          TIMESTAMP NOT NULL, -- UTC, microseconds (for windows and display)
    end_time            TIMESTAMP,
    duration_ms         DOUBLE,             -- (end_ns - start_ns) / 1e6; NULL when unfinished
    status_code         VARCHAR NOT NULL,   -- unset|ok|error
    status_message      VARCHAR,
    service_name        VARCHAR,
    agent_name          VARCHAR,            -- nearest agent ancestor, else trace root agent, else service
    agent_uuid          VARCHAR,            -- uuid5 of service + agent name: stable across loads and machines
    session_id          VARCHAR,
    span_type           VARCHAR NOT NULL,   -- llm|tool|agent|chain|retriever|embedding|other
    provider            VARCHAR,            -- genai-prices provider id where known (openai, anthropic, google, aws, ...)
    model               VARCHAR,            -- response model, else request model
    input_tokens        BIGINT,             -- includes cache reads (the OTel rule)
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    counts_usage        BOOLEAN NOT NULL DEFAULT TRUE, -- FALSE when this span's usage only aggregates its descendants'
    cost_usd            DECIMAL(18, 10),    -- NULL when there is no usage or the model cannot be priced; never 0 for unknown
    cost_source         VARCHAR,            -- span (given on the span) | computed (genai-prices) | unpriced | NULL (no usage)
    tool_name           VARCHAR,
    tool_arguments      VARCHAR,
    tool_result         VARCHAR,
    declared_tools      VARCHAR[],          -- tool names offered to the model on this (llm) span
    finish_reason       VARCHAR,
    error_type          VARCHAR,
    error_message       VARCHAR,
    input_text          VARCHAR,
    output_text         VARCHAR,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    attributes          JSON,               -- span attributes as one JSON object (AnyValue decoded to plain JSON)
    resource_attributes JSON,
    events              JSON,               -- [{name, timeUnixNano, attributes}]
    links               JSON,               -- [{traceId, spanId, attributes}]
    source_file         VARCHAR,            -- absolute path of the file the span was first loaded from
    source_line         BIGINT,             -- 1-based line in that file
    loaded_at           TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
    -- (trace_id, span_id) is unique: the loader stores only spans not stored yet, inside the
    -- single writer's transaction. No PRIMARY KEY: its index cannot spill to disk and made a load of
    -- 1M spans need several GB of memory.
);

-- Files already loaded, so that re-loading an unchanged file costs a stat and a hash.
CREATE TABLE loaded_files (
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    size_bytes   BIGINT NOT NULL,
    mtime_ns     BIGINT NOT NULL,
    format       VARCHAR NOT NULL,
    spans_read   BIGINT NOT NULL,
    spans_new    BIGINT NOT NULL,
    skipped      BIGINT NOT NULL,
    loaded_at    TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (path, sha256)
);
