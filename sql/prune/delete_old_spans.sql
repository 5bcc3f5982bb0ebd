DELETE FROM spans WHERE coalesce(end_time, start_time) < $cutoff;
