-- Whether any line of the batch (halo_chunk) may hold an AnyValue array or kvlist: only then is the
-- batch staged in a table and decoded relationally (anyvalue_*.sql). A mention inside a string only
-- costs that slower path.
SELECT coalesce(bool_or(contains(TRY(decode(raw)), '"arrayValue"') OR contains(TRY(decode(raw)), '"kvlistValue"')), FALSE)
FROM halo_chunk;
