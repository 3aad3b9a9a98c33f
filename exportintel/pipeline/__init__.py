"""The scheduled ML pipeline: its step graph, quality gate and model versions, and the local
runner that walks the graph on the emulation."""
