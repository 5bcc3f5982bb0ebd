-- bench/clickhouse.py: {spans:UInt64} synthetic agent spans generated inside chDB, in the exporter's
-- otel_traces: traces of 10 spans (an invoke_agent root of one of 5 agents, 5 model calls with
-- usage, 4 tool calls, one tool in 20 failing), spread over 7 days from {start_us:Int64}. Everything but
-- the ids, times and durations repeats every 20 traces, so bench/local_spans.sql can copy them locally by SQL.
INSERT INTO otel.otel_traces
SELECT
    fromUnixTimestamp64Micro({start_us:Int64} + intDiv(trace * 604800000000, greatest(1, intDiv({spans:UInt64}, 10))) + slot * 1000, 'UTC') AS Timestamp,
    lower(hex(toUInt128(trace + 1)))                                    AS TraceId,
    lower(hex(toUInt64(trace * 16 + slot + 1)))                          AS SpanId,
    if(slot = 0, '', lower(hex(toUInt64(trace * 16 + 1))))               AS ParentSpanId,
    ''                                                                   AS TraceState,
    multiIf(slot = 0, concat('invoke_agent agent_', toString(trace % 5)), slot % 2 = 1, 'chat gpt-4o',
            concat('execute_tool ', ['search', 'fetch', 'write'][slot % 3 + 1]))  AS SpanName,
    if(slot = 0, 'Server', 'Internal')                                   AS SpanKind,
    'bench-service'                                                      AS ServiceName,
    map('service.name', 'bench-service')                                 AS ResourceAttributes,
    'bench'                                                              AS ScopeName,
    '1.0'                                                                AS ScopeVersion,
    multiIf(slot = 0, map('gen_ai.operation.name', 'invoke_agent', 'gen_ai.agent.name', concat('agent_', toString(trace % 5))),
            slot % 2 = 1, map('gen_ai.operation.name', 'chat', 'gen_ai.request.model', 'gpt-4o',
                              'gen_ai.usage.input_tokens', toString(1000 + slot * 100),
                              'gen_ai.usage.output_tokens', toString(50 + slot)),
            map('gen_ai.operation.name', 'execute_tool', 'gen_ai.tool.name', ['search', 'fetch', 'write'][slot % 3 + 1],
                'gen_ai.tool.call.arguments', concat('{"q": "', toString(trace % 20), '"}')))   AS SpanAttributes,
    toUInt64((10 + (trace * 7 + slot * 13) % 900) * 1000000)            AS Duration,
    if(slot = 4 AND trace % 20 = 0, 'Error', 'Unset')                    AS StatusCode,
    if(slot = 4 AND trace % 20 = 0, 'tool failed', '')                   AS StatusMessage,
    [] AS `Events.Timestamp`, [] AS `Events.Name`, [] AS `Events.Attributes`,
    [] AS `Links.TraceId`, [] AS `Links.SpanId`, [] AS `Links.TraceState`, [] AS `Links.Attributes`
FROM (SELECT intDiv(number, 10) AS trace, number % 10 AS slot FROM numbers({spans:UInt64}))
