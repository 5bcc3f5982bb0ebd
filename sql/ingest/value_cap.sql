-- The attribute value cap of the readers' macros (halo_is_overlong in macros.sql), in characters.
SET VARIABLE halo_value_cap = $cap;
