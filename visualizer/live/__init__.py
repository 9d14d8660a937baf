"""Live mode: a developer's own app, observed while it serves real requests.

It owns the agent (the observed app's process under `trace`), the wire between the two
processes, the live feed of recent requests with their summaries and badges, the live page,
and `watch(app)`, which mounts the visualizer inside an app started its own way.
It may import the contract, capture, the lesson, execution and the web.
"""
