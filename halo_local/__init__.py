"""halo-local: a local analyzer of LLM-agent OpenTelemetry traces (CLI, Python API and MCP server).

The CLI (`cli/`) and the MCP server (`mcp_server.py`) are thin layers over the modules here;
README.md maps which module does what.
"""
