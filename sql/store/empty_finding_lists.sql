-- Migration 11, one run: its findings kept with empty trace lists, once runs/insert_finding_traces.sql saved them.
UPDATE runs
SET findings = to_json(list_transform(CAST(findings AS JSON[]),
                                      lambda item: json_merge_patch(item, '{"affectedTraceIds": []}')))
WHERE run_id = $run_id AND json_array_length(findings) > 0
