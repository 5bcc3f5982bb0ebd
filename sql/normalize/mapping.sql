-- THE attribute → canonical column mapping, in one place: the keys of the OpenTelemetry GenAI
-- semantic conventions, OpenInference, OpenLLMetry (Traceloop), Langfuse, pydantic-ai and BeeAI.
--
-- attribute_map: for each canonical field, the attribute keys that can fill it. Per span and field
-- the candidate with the lowest priority wins; a key that is absent, JSON null, an empty string or
-- that does not convert is no candidate. Indexed keys (`*` stands for one numeric segment, e.g.
-- llm.input_messages.3.message.content) and event attributes can give several candidates for one
-- field and priority: input_text and output_text join them in index order, other fields take the first.
--
-- Keys that are not span attributes:
--   @name                    the span name
--   @status_message          the status message, only on spans whose status is error
--   event:EVENT:ATTRIBUTE    attribute ATTRIBUTE of the span's events named EVENT (in event order)
--
-- transform (argument):
--   text            the value as text (JSON text for arrays/objects); input/output text candidates are
--                   joined with a blank line, or with nothing when `argument` is '' (streamed parts)
--   int / decimal   the value as BIGINT / DECIMAL (strings such as "190" or "2.5e-05" accepted)
--   first           the first element of an array (else the value)
--   json_text / json_int / json_decimal
--                   the JSON path `argument` inside the value (an object, or a string holding JSON)
--   regex           capture group 1 of the regular expression `argument`
--   span_type       the value (capture group 1 of `argument` when given) looked up, lower-cased,
--                   in span_type_values below
--   tool_names      the tool names in a tool list (names, objects with name / function.name /
--                   "tool.name", or JSON strings of those), after the JSON path `argument` if given
--   langfuse_total  Langfuse usage_details: key `argument` plus every `argument`_* detail key, and for
--                   input also cache_read_input_tokens / cache_creation_input_tokens (Langfuse and the
--                   Anthropic API leave cached and other detail tokens out of `input`/`output`; OTel
--                   counts them in)
--
-- Token rules per convention: input_tokens includes cache reads and writes (OTel GenAI,
-- OpenInference llm.token_count.prompt, OpenLLMetry prompt_tokens, Vercel inputTokens/promptTokens and
-- inference.* already do); Langfuse usage_details are added back up (langfuse_total).
-- Fields used only by the normalizer: provider_raw (mapped to a genai-prices id afterwards),
-- declared_agent (agent name a span states for itself, valid on any span) and agent_span_label
-- (names that only identify an agent on agent spans); tool_* fields are kept on tool spans only.
CREATE OR REPLACE TEMP TABLE attribute_map (
    field         VARCHAR NOT NULL,
    priority      INTEGER NOT NULL,
    attribute_key VARCHAR NOT NULL,
    transform     VARCHAR NOT NULL,
    argument      VARCHAR,
    convention    VARCHAR NOT NULL
);
INSERT INTO attribute_map VALUES
    -- span type (values in span_type_values)
    -- BeeAI emits a span per lifecycle event of a call (tool.search.wikipedia.start-12, .success-12,
    -- .finish-12), all of the call's kind: the start span is the call, the others only mark its end.
    ('span_type', 5,  '@name', 'span_type', '^(?:backend|tool|agent)\.\S+(\.(?:success|finish))-[0-9]+$', 'beeai'),
    -- A model-call marker is the strongest evidence: the span is a model call whatever generic kind
    -- (task, workflow, chain) a decorator also gives it, so these come before every kind attribute.
    ('span_type', 7,  'llm.request.type',                     'span_type', '(?i)^\s*(chat|completion)\s*$', 'openllmetry'),
    ('span_type', 8,  'gen_ai.operation.name',                'span_type',
     '(?i)^\s*(chat|generate_content|text_completion|completion)\s*$', 'otel-genai'),
    ('span_type', 10, 'openinference.span.kind',              'span_type', NULL,        'openinference'),
    ('span_type', 20, 'gen_ai.operation.name',                'span_type', NULL,        'otel-genai'),
    ('span_type', 30, 'traceloop.span.kind',                  'span_type', NULL,        'openllmetry'),
    ('span_type', 31, 'llm.request.type',                     'span_type', NULL,        'openllmetry'),
    ('span_type', 40, 'ai.operationId',                       'span_type', NULL,        'vercel-ai'),
    ('span_type', 41, 'operation.name',                       'span_type', '^(\S+)',    'vercel-ai'),
    ('span_type', 50, 'langsmith.span.kind',                  'span_type', NULL,        'langsmith'),
    ('span_type', 55, 'inference.observation_kind',           'span_type', NULL,        'inference.net'),
    ('span_type', 60, 'langfuse.observation.type',            'span_type', NULL,        'langfuse'),
    -- Langfuse's LangChain handler (v3) records tool calls as plain spans; only they carry LangChain's
    -- on_tool_start keyword `inputs` as a top-level metadata key
    ('span_type', 61, 'langfuse.observation.metadata',        'span_type', '(?:^\{|, )"(inputs)": ', 'langfuse (langchain)'),
    -- LangChain JS under Langfuse marks a tool run as a plain SPAN; its output is the ToolMessage itself.
    ('span_type', 62, 'langfuse.observation.output', 'span_type',
     '^\{\s*"lc"\s*:\s*1\s*,\s*"type"\s*:\s*"constructor"\s*,\s*"id"\s*:\s*\[\s*"langchain_core"\s*,\s*"messages"\s*,\s*"(ToolMessage)"', 'langfuse (langchain js)'),
    ('span_type', 70, 'agent_name',                           'span_type', NULL,        'pydantic-ai'),
    ('span_type', 80, '@name',                                'span_type', '^(\S+)',    'span name'),
    ('span_type', 85, 'gen_ai.tool.name',                     'span_type', NULL,        'otel-genai'),
    ('span_type', 86, 'tool.name',                            'span_type', NULL,        'openinference'),
    -- session
    ('session_id', 10, 'gen_ai.conversation.id',              'text', NULL, 'otel-genai'),
    ('session_id', 20, 'session.id',                          'text', NULL, 'openinference'),
    ('session_id', 30, 'inference.session_id',                'text', NULL, 'inference.net'),
    ('session_id', 40, 'langfuse.session.id',                 'text', NULL, 'langfuse'),
    ('session_id', 41, 'traceloop.association.properties.session_id', 'text', NULL, 'openllmetry'),
    ('session_id', 42, 'langsmith.metadata.session_id',       'text', NULL, 'langsmith'),
    ('session_id', 43, 'gcp.vertex.agent.session_id',         'text', NULL, 'google-adk'),
    ('session_id', 44, 'ai.telemetry.metadata.sessionId',     'text', NULL, 'vercel-ai'),
    -- provider (raw; mapped to genai-prices ids through provider_aliases and genai-prices itself)
    ('provider_raw', 10, 'gen_ai.provider.name',              'text', NULL, 'otel-genai'),
    ('provider_raw', 11, 'gen_ai.system',                     'text', NULL, 'otel-genai (deprecated)'),
    ('provider_raw', 20, 'llm.provider',                      'text', NULL, 'openinference'),
    ('provider_raw', 21, 'llm.system',                        'text', NULL, 'openinference'),
    ('provider_raw', 30, 'ai.model.provider',                 'text', NULL, 'vercel-ai'),
    ('provider_raw', 40, 'inference.llm.provider',            'text', NULL, 'inference.net'),
    ('provider_raw', 50, 'langsmith.metadata.ls_provider',    'text', NULL, 'langsmith'),
    -- model: response model, else request model
    ('model', 10, 'gen_ai.response.model',                    'text', NULL, 'otel-genai'),
    ('model', 11, 'ai.response.model',                        'text', NULL, 'vercel-ai'),
    ('model', 20, 'gen_ai.request.model',                     'text', NULL, 'otel-genai'),
    ('model', 21, 'llm.model_name',                           'text', NULL, 'openinference'),
    ('model', 22, 'ai.model.id',                              'text', NULL, 'vercel-ai'),
    ('model', 23, 'inference.llm.model_name',                 'text', NULL, 'inference.net'),
    ('model', 30, 'langfuse.observation.model.name',          'text', NULL, 'langfuse'),
    ('model', 31, 'langsmith.metadata.ls_model_name',         'text', NULL, 'langsmith'),
    ('model', 32, 'model_name',                               'text', NULL, 'pydantic-ai'),
    -- tokens
    ('input_tokens', 10, 'gen_ai.usage.input_tokens',         'int', NULL, 'otel-genai'),
    ('input_tokens', 11, 'gen_ai.usage.prompt_tokens',        'int', NULL, 'otel-genai (deprecated), openllmetry'),
    ('input_tokens', 12, 'llm.usage.prompt_tokens',           'int', NULL, 'openllmetry (older)'),
    ('input_tokens', 20, 'llm.token_count.prompt',            'int', NULL, 'openinference'),
    ('input_tokens', 30, 'ai.usage.inputTokens',              'int', NULL, 'vercel-ai'),
    ('input_tokens', 31, 'ai.usage.promptTokens',             'int', NULL, 'vercel-ai (v4)'),
    ('input_tokens', 32, 'ai.usage.tokens',                   'int', NULL, 'vercel-ai (embeddings)'),
    ('input_tokens', 40, 'inference.llm.input_tokens',        'int', NULL, 'inference.net'),
    ('input_tokens', 90, 'langfuse.observation.usage_details', 'langfuse_total', 'input', 'langfuse'),
    ('output_tokens', 10, 'gen_ai.usage.output_tokens',       'int', NULL, 'otel-genai'),
    ('output_tokens', 11, 'gen_ai.usage.completion_tokens',   'int', NULL, 'otel-genai (deprecated), openllmetry'),
    ('output_tokens', 12, 'llm.usage.completion_tokens',      'int', NULL, 'openllmetry (older)'),
    ('output_tokens', 20, 'llm.token_count.completion',       'int', NULL, 'openinference'),
    ('output_tokens', 30, 'ai.usage.outputTokens',            'int', NULL, 'vercel-ai'),
    ('output_tokens', 31, 'ai.usage.completionTokens',        'int', NULL, 'vercel-ai (v4)'),
    ('output_tokens', 40, 'inference.llm.output_tokens',      'int', NULL, 'inference.net'),
    ('output_tokens', 90, 'langfuse.observation.usage_details', 'langfuse_total', 'output', 'langfuse'),
    ('cache_read_tokens', 10, 'gen_ai.usage.cache_read.input_tokens', 'int', NULL, 'otel-genai'),
    ('cache_read_tokens', 11, 'gen_ai.usage.cache_read_input_tokens', 'int', NULL, 'openllmetry'),
    ('cache_read_tokens', 20, 'llm.token_count.prompt_details.cache_read', 'int', NULL, 'openinference'),
    ('cache_read_tokens', 30, 'ai.usage.cachedInputTokens',   'int', NULL, 'vercel-ai'),
    ('cache_read_tokens', 90, 'langfuse.observation.usage_details', 'json_int', '$.input_cache_read', 'langfuse'),
    ('cache_read_tokens', 91, 'langfuse.observation.usage_details', 'json_int', '$.input_cached_tokens', 'langfuse'),
    ('cache_read_tokens', 92, 'langfuse.observation.usage_details', 'json_int', '$.cache_read_input_tokens', 'langfuse (anthropic)'),
    ('cache_write_tokens', 10, 'gen_ai.usage.cache_creation.input_tokens', 'int', NULL, 'otel-genai'),
    ('cache_write_tokens', 11, 'gen_ai.usage.cache_creation_input_tokens', 'int', NULL, 'openllmetry'),
    ('cache_write_tokens', 20, 'llm.token_count.prompt_details.cache_write', 'int', NULL, 'openinference'),
    ('cache_write_tokens', 90, 'langfuse.observation.usage_details', 'json_int', '$.input_cache_creation', 'langfuse'),
    ('cache_write_tokens', 91, 'langfuse.observation.usage_details', 'json_int', '$.cache_creation_input_tokens', 'langfuse (anthropic)'),
    -- cost given on the span (USD)
    ('cost_usd', 10, 'operation.cost',                        'decimal', NULL, 'pydantic-ai / logfire'),
    ('cost_usd', 11, 'gen_ai.usage.cost',                     'decimal', NULL, 'openlit'),
    ('cost_usd', 20, 'llm.cost.total',                        'decimal', NULL, 'openinference'),
    ('cost_usd', 40, 'inference.llm.cost.total',              'decimal', NULL, 'inference.net'),
    ('cost_usd', 90, 'langfuse.observation.cost_details',     'json_decimal', '$.total', 'langfuse'),
    -- tools (kept on tool spans only)
    ('tool_name', 10, 'gen_ai.tool.name',                     'text', NULL, 'otel-genai'),
    ('tool_name', 20, 'tool.name',                            'text', NULL, 'openinference'),
    ('tool_name', 30, 'ai.toolCall.name',                     'text', NULL, 'vercel-ai'),
    ('tool_name', 40, 'traceloop.entity.name',                'text', NULL, 'openllmetry'),
    ('tool_name', 50, '@name',                                'regex', '^execute_tool (.+)$', 'otel-genai span name'),
    ('tool_name', 51, '@name',                                'regex', '^running tool: (.+)$', 'pydantic-ai span name'),
    ('tool_name', 99, '@name',                                'regex', '^(.+)$', 'span name'),
    ('tool_arguments', 10, 'gen_ai.tool.call.arguments',      'text', NULL, 'otel-genai'),
    ('tool_arguments', 20, 'tool_arguments',                  'text', NULL, 'pydantic-ai'),
    ('tool_arguments', 30, 'ai.toolCall.args',                'text', NULL, 'vercel-ai'),
    ('tool_arguments', 31, 'ai.toolCall.input',               'text', NULL, 'vercel-ai'),
    ('tool_arguments', 40, 'gcp.vertex.agent.tool_call_args', 'text', NULL, 'google-adk'),
    ('tool_arguments', 50, 'input.value',                     'text', NULL, 'openinference'),
    ('tool_arguments', 60, 'traceloop.entity.input',          'text', NULL, 'openllmetry'),
    ('tool_arguments', 90, 'langfuse.observation.input',      'text', NULL, 'langfuse'),
    ('tool_result', 10, 'gen_ai.tool.call.result',            'text', NULL, 'otel-genai'),
    ('tool_result', 20, 'tool_response',                      'text', NULL, 'pydantic-ai'),
    ('tool_result', 30, 'ai.toolCall.result',                 'text', NULL, 'vercel-ai'),
    ('tool_result', 31, 'ai.toolCall.output',                 'text', NULL, 'vercel-ai'),
    ('tool_result', 40, 'gcp.vertex.agent.tool_response',     'text', NULL, 'google-adk'),
    ('tool_result', 50, 'output.value',                       'text', NULL, 'openinference'),
    ('tool_result', 60, 'traceloop.entity.output',            'text', NULL, 'openllmetry'),
    ('tool_result', 90, 'langfuse.observation.output',        'text', NULL, 'langfuse'),
    -- tools offered to the model
    ('declared_tools', 10, 'gen_ai.tool.definitions',         'tool_names', NULL, 'otel-genai'),
    ('declared_tools', 20, 'llm.tools.*.tool.json_schema',    'tool_names', NULL, 'openinference'),
    ('declared_tools', 21, 'llm.tools',                       'tool_names', NULL, 'openinference (beeai)'),
    ('declared_tools', 30, 'ai.prompt.tools',                 'tool_names', NULL, 'vercel-ai'),
    ('declared_tools', 40, 'model_request_parameters',        'tool_names', '$.function_tools', 'pydantic-ai'),
    ('declared_tools', 50, 'agent.tools',                     'tool_names', NULL, 'openai-agents (HALO)'),
    -- finish reason (lower-cased afterwards)
    ('finish_reason', 10, 'gen_ai.response.finish_reasons',   'first', NULL, 'otel-genai'),
    ('finish_reason', 20, 'llm.finish_reason',                'first', NULL, 'openinference'),
    ('finish_reason', 21, 'llm.response.finish_reason',       'first', NULL, 'openllmetry'),
    ('finish_reason', 22, 'gen_ai.completion.*.finish_reason', 'first', NULL, 'openllmetry'),
    ('finish_reason', 30, 'ai.response.finishReason',         'first', NULL, 'vercel-ai'),
    ('finish_reason', 40, 'event:gen_ai.choice:finish_reason', 'first', NULL, 'otel-genai events'),
    ('finish_reason', 41, 'event:gen_ai.choice:body',         'json_text', '$.finish_reason', 'otel-genai events'),
    -- errors
    ('error_type', 10, 'error.type',                          'text', NULL, 'otel'),
    ('error_type', 20, 'event:exception:exception.type',      'first', NULL, 'otel exception event'),
    ('error_type', 30, 'exception.type',                      'text', NULL, 'otel'),
    ('error_message', 10, 'event:exception:exception.message', 'first', NULL, 'otel exception event'),
    ('error_message', 20, 'exception.message',                'text', NULL, 'otel'),
    ('error_message', 30, '@status_message',                  'text', NULL, 'otel status'),
    ('error_message', 40, 'langfuse.observation.status_message', 'text', NULL, 'langfuse'),
    -- input text
    ('input_text', 10, 'gen_ai.input.messages',               'text', NULL, 'otel-genai'),
    ('input_text', 20, 'llm.input_messages.*.message.content', 'text', NULL, 'openinference'),
    ('input_text', 21, 'llm.input_messages.*.message.contents.*.message_content.text', 'text', NULL, 'openinference'),
    ('input_text', 30, 'gen_ai.prompt.*.content',             'text', NULL, 'openllmetry'),
    ('input_text', 40, 'input.value',                         'text', NULL, 'openinference'),
    ('input_text', 50, 'ai.prompt.messages',                  'text', NULL, 'vercel-ai'),
    ('input_text', 51, 'ai.prompt',                           'text', NULL, 'vercel-ai'),
    ('input_text', 52, 'ai.values',                           'text', NULL, 'vercel-ai (embeddings)'),
    ('input_text', 53, 'ai.value',                            'text', NULL, 'vercel-ai (embeddings)'),
    ('input_text', 60, 'event:gen_ai.system.message:content', 'text', NULL, 'otel-genai events'),
    ('input_text', 60, 'event:gen_ai.user.message:content',   'text', NULL, 'otel-genai events'),
    ('input_text', 60, 'event:gen_ai.assistant.message:content', 'text', NULL, 'otel-genai events'),
    ('input_text', 60, 'event:gen_ai.tool.message:content',   'text', NULL, 'otel-genai events'),
    ('input_text', 61, 'event:gen_ai.system.message:body',    'json_text', '$.content', 'otel-genai events'),
    ('input_text', 61, 'event:gen_ai.user.message:body',      'json_text', '$.content', 'otel-genai events'),
    ('input_text', 61, 'event:gen_ai.assistant.message:body', 'json_text', '$.content', 'otel-genai events'),
    ('input_text', 61, 'event:gen_ai.tool.message:body',      'json_text', '$.content', 'otel-genai events'),
    ('input_text', 62, 'event:gen_ai.system.message:body',    'text', NULL, 'otel-genai events'),
    ('input_text', 62, 'event:gen_ai.user.message:body',      'text', NULL, 'otel-genai events'),
    ('input_text', 62, 'event:gen_ai.assistant.message:body', 'text', NULL, 'otel-genai events'),
    ('input_text', 62, 'event:gen_ai.tool.message:body',      'text', NULL, 'otel-genai events'),
    ('input_text', 65, 'event:gen_ai.content.prompt:gen_ai.prompt', 'text', NULL, 'openlit events'),
    ('input_text', 90, 'langfuse.observation.input',          'text', NULL, 'langfuse'),
    -- output text (streamed message parts are joined without a separator)
    ('output_text', 10, 'gen_ai.output.messages',             'text', NULL, 'otel-genai'),
    ('output_text', 20, 'llm.output_messages.*.message.content', 'text', '', 'openinference'),
    ('output_text', 21, 'llm.output_messages.*.message.contents.*.message_content.text', 'text', '', 'openinference'),
    ('output_text', 30, 'gen_ai.completion.*.content',        'text', NULL, 'openllmetry'),
    ('output_text', 40, 'output.value',                       'text', NULL, 'openinference'),
    ('output_text', 50, 'ai.response.text',                   'text', NULL, 'vercel-ai'),
    ('output_text', 51, 'ai.response.object',                 'text', NULL, 'vercel-ai'),
    ('output_text', 52, 'ai.response.toolCalls',              'text', NULL, 'vercel-ai'),
    ('output_text', 60, 'event:gen_ai.choice:message',        'json_text', '$.content', 'otel-genai events'),
    ('output_text', 61, 'event:gen_ai.choice:body',           'json_text', '$.content', 'otel-genai events'),
    ('output_text', 62, 'event:gen_ai.choice:body',           'json_text', '$.message.content', 'otel-genai events'),
    ('output_text', 63, 'event:gen_ai.choice:message',        'text', NULL, 'otel-genai events'),
    ('output_text', 63, 'event:gen_ai.choice:body',           'text', NULL, 'otel-genai events'),
    ('output_text', 65, 'event:gen_ai.content.completion:gen_ai.completion', 'text', NULL, 'openlit events'),
    ('output_text', 70, 'final_result',                       'text', NULL, 'pydantic-ai'),
    ('output_text', 90, 'langfuse.observation.output',        'text', NULL, 'langfuse'),
    -- agent names: declared_agent may sit on any span (it names the agent the span runs for);
    -- agent_span_label only names an agent on spans whose span_type is agent
    ('declared_agent', 10, 'gen_ai.agent.name',               'text', NULL, 'otel-genai'),
    ('declared_agent', 20, 'agent.name',                      'text', NULL, 'openinference'),
    ('declared_agent', 30, 'agent_name',                      'text', NULL, 'pydantic-ai'),
    ('declared_agent', 40, 'inference.agent_name',            'text', NULL, 'inference.net'),
    ('agent_span_label', 10, 'traceloop.entity.name',         'text', NULL, 'openllmetry'),
    ('agent_span_label', 20, 'graph.node.name',               'text', NULL, 'openinference'),
    ('agent_span_label', 21, 'graph.node.id',                 'text', NULL, 'openinference (openai-agents)'),
    ('agent_span_label', 30, 'gen_ai.agent.id',               'text', NULL, 'otel-genai'),
    ('agent_span_label', 40, '@name',                         'regex', '^invoke_agent (.+)$', 'otel-genai span name'),
    ('agent_span_label', 41, '@name',                         'regex', '^create_agent (.+)$', 'otel-genai span name'),
    ('agent_span_label', 42, '@name',                         'regex', '^agent_run \[(.+)\]$', 'openinference google-adk span name'),
    -- Langfuse level ERROR marks a span as failed (status_code becomes error)
    ('langfuse_level', 10, 'langfuse.observation.level',      'text', NULL, 'langfuse');

-- Values of span-type attributes (lower-cased) → span_type; '*' = any non-empty value.
CREATE OR REPLACE TEMP TABLE span_type_values (
    attribute_key VARCHAR NOT NULL,
    value         VARCHAR NOT NULL,
    span_type     VARCHAR NOT NULL
);
INSERT INTO span_type_values VALUES
    ('@name', '.success', 'chain'),
    ('@name', '.finish', 'chain'),
    ('openinference.span.kind', 'llm', 'llm'),
    ('openinference.span.kind', 'embedding', 'embedding'),
    ('openinference.span.kind', 'tool', 'tool'),
    ('openinference.span.kind', 'agent', 'agent'),
    ('openinference.span.kind', 'chain', 'chain'),
    ('openinference.span.kind', 'retriever', 'retriever'),
    ('openinference.span.kind', 'reranker', 'retriever'),
    ('openinference.span.kind', 'guardrail', 'chain'),
    ('openinference.span.kind', 'evaluator', 'chain'),
    ('openinference.span.kind', 'prompt', 'chain'),
    ('gen_ai.operation.name', 'chat', 'llm'),
    ('gen_ai.operation.name', 'text_completion', 'llm'),
    ('gen_ai.operation.name', 'generate_content', 'llm'),
    ('gen_ai.operation.name', 'completion', 'llm'),
    ('gen_ai.operation.name', 'embeddings', 'embedding'),
    ('gen_ai.operation.name', 'execute_tool', 'tool'),
    ('gen_ai.operation.name', 'invoke_agent', 'agent'),
    ('gen_ai.operation.name', 'create_agent', 'agent'),
    ('gen_ai.operation.name', 'invoke_workflow', 'chain'),
    ('gen_ai.operation.name', 'chain', 'chain'),
    ('traceloop.span.kind', 'workflow', 'chain'),
    ('traceloop.span.kind', 'task', 'chain'),
    ('traceloop.span.kind', 'agent', 'agent'),
    ('traceloop.span.kind', 'tool', 'tool'),
    ('llm.request.type', 'chat', 'llm'),
    ('llm.request.type', 'completion', 'llm'),
    ('llm.request.type', 'embedding', 'embedding'),
    ('llm.request.type', 'rerank', 'retriever'),
    -- Vercel AI SDK: the do* spans are the provider calls, the outer ones wrap steps and tool calls
    ('ai.operationId', 'ai.generatetext.dogenerate', 'llm'),
    ('ai.operationId', 'ai.streamtext.dostream', 'llm'),
    ('ai.operationId', 'ai.generateobject.dogenerate', 'llm'),
    ('ai.operationId', 'ai.streamobject.dostream', 'llm'),
    ('ai.operationId', 'ai.embed.doembed', 'embedding'),
    ('ai.operationId', 'ai.embedmany.doembed', 'embedding'),
    ('ai.operationId', 'ai.toolcall', 'tool'),
    ('ai.operationId', 'ai.generatetext', 'chain'),
    ('ai.operationId', 'ai.streamtext', 'chain'),
    ('ai.operationId', 'ai.generateobject', 'chain'),
    ('ai.operationId', 'ai.streamobject', 'chain'),
    ('ai.operationId', 'ai.embed', 'chain'),
    ('ai.operationId', 'ai.embedmany', 'chain'),
    ('operation.name', 'ai.generatetext.dogenerate', 'llm'),
    ('operation.name', 'ai.streamtext.dostream', 'llm'),
    ('operation.name', 'ai.generateobject.dogenerate', 'llm'),
    ('operation.name', 'ai.streamobject.dostream', 'llm'),
    ('operation.name', 'ai.embed.doembed', 'embedding'),
    ('operation.name', 'ai.embedmany.doembed', 'embedding'),
    ('operation.name', 'ai.toolcall', 'tool'),
    ('operation.name', 'ai.generatetext', 'chain'),
    ('operation.name', 'ai.streamtext', 'chain'),
    ('operation.name', 'ai.generateobject', 'chain'),
    ('operation.name', 'ai.streamobject', 'chain'),
    ('operation.name', 'ai.embed', 'chain'),
    ('operation.name', 'ai.embedmany', 'chain'),
    ('langsmith.span.kind', 'llm', 'llm'),
    ('langsmith.span.kind', 'embedding', 'embedding'),
    ('langsmith.span.kind', 'tool', 'tool'),
    ('langsmith.span.kind', 'chain', 'chain'),
    ('langsmith.span.kind', 'retriever', 'retriever'),
    ('langsmith.span.kind', 'prompt', 'chain'),
    ('langsmith.span.kind', 'parser', 'chain'),
    ('inference.observation_kind', 'llm', 'llm'),
    ('inference.observation_kind', 'embedding', 'embedding'),
    ('inference.observation_kind', 'tool', 'tool'),
    ('inference.observation_kind', 'agent', 'agent'),
    ('inference.observation_kind', 'chain', 'chain'),
    ('inference.observation_kind', 'retriever', 'retriever'),
    ('langfuse.observation.type', 'generation', 'llm'),
    ('langfuse.observation.type', 'embedding', 'embedding'),
    ('langfuse.observation.type', 'tool', 'tool'),
    ('langfuse.observation.output', 'toolmessage', 'tool'),
    ('langfuse.observation.type', 'agent', 'agent'),
    ('langfuse.observation.type', 'chain', 'chain'),
    ('langfuse.observation.type', 'retriever', 'retriever'),
    ('langfuse.observation.type', 'evaluator', 'chain'),
    ('langfuse.observation.type', 'guardrail', 'chain'),
    ('langfuse.observation.metadata', 'inputs', 'tool'),
    -- pydantic-ai `<agent> run` spans are the only ones carrying agent_name
    ('agent_name', '*', 'agent'),
    -- span names (first word) of OTel GenAI and agent frameworks
    ('@name', 'execute_tool', 'tool'),
    ('@name', 'invoke_agent', 'agent'),
    ('@name', 'create_agent', 'agent'),
    ('@name', 'agent_run', 'agent'),
    ('@name', 'invoke_workflow', 'chain'),
    ('@name', 'chat', 'llm'),
    ('@name', 'generate_content', 'llm'),
    ('@name', 'text_completion', 'llm'),
    ('@name', 'embeddings', 'embedding'),
    -- Google ADK's call_llm wraps the generate_content span that is the model call
    ('@name', 'call_llm', 'chain'),
    ('gen_ai.tool.name', '*', 'tool'),
    ('tool.name', '*', 'tool');

-- Wrapper spans whose usage, by their convention, aggregates that of their inner provider-call spans:
-- a wrapper does not count usage when its trace holds such an inner span (parent links or not), or
-- when one of the same service starts within the wrapper's time in another trace (captures that lost
-- the trace context). Matched on the span name, which the Vercel AI SDK sets to the operation id.
CREATE OR REPLACE TEMP TABLE usage_wrappers (
    wrapper_name VARCHAR NOT NULL,
    inner_name   VARCHAR NOT NULL,
    convention   VARCHAR NOT NULL
);
INSERT INTO usage_wrappers VALUES
    ('ai.generateText',   'ai.generateText.doGenerate',   'vercel-ai'),
    ('ai.streamText',     'ai.streamText.doStream',       'vercel-ai'),
    ('ai.generateObject', 'ai.generateObject.doGenerate', 'vercel-ai'),
    ('ai.streamObject',   'ai.streamObject.doStream',     'vercel-ai'),
    ('ai.embed',          'ai.embed.doEmbed',             'vercel-ai'),
    ('ai.embedMany',      'ai.embedMany.doEmbed',         'vercel-ai');

-- OTel provider names genai-prices does not resolve itself (or resolves differently); other names
-- go through genai-prices' own provider matching, and names it does not know are kept lower-cased.
CREATE OR REPLACE TEMP TABLE provider_aliases (
    raw_name VARCHAR NOT NULL,
    provider VARCHAR NOT NULL
);
INSERT INTO provider_aliases VALUES
    ('aws.bedrock', 'aws'),
    ('gcp.vertex_ai', 'google'),
    ('gcp.gemini', 'google'),
    ('gcp.gen_ai', 'google'),
    ('gcp.vertex.agent', 'google'),
    ('azure.ai.openai', 'azure'),
    ('azure.ai.inference', 'azure'),
    ('az.ai.openai', 'azure'),
    ('az.ai.inference', 'azure'),
    ('x_ai', 'x-ai'),
    ('mistral_ai', 'mistral');
