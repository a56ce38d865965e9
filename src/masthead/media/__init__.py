"""The media pipeline: fetch (SSRF-guarded, capped), sniff, probe, store, serve."""
