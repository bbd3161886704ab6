"""Shared machinery of the agents: base agent, loops, buffers, policies, returns."""
