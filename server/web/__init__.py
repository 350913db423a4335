"""The shared comparison web UI: server-rendered pages drawing Altair charts with vega-embed."""
