"""The report engine: definition -> SQL aggregation -> table; renderers (JSON, CSV, XLSX)."""
