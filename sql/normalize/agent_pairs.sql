-- Distinct (service, agent) pairs of derived_agents; Python turns each into its stable uuid5.
SELECT DISTINCT service_name, agent_name FROM derived_agents ORDER BY ALL;
